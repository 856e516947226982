package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auditlog"
	"github.com/hookline/hookline/rowrule"
	"github.com/hookline/hookline/sourcerule"
)

// HTTP sources. Beyond hookline.LogStore's contract: IDs are 16 upper-case
// hex digits chosen by the store; names are unique case-insensitively
// (Unicode-aware, as connections'); each change is one audit event whose
// views never hold the token hash; the Received counters change only by
// AppendLogs and are not audited. A name or token hash taken by another
// transaction after the check is caught by its unique index.

var _ hookline.LogStore = (*DB)(nil)

const sourceColumns = `id, name, description, category, host_name, token_hash, received, last_received_at, created_at, modified_at`

// actionRotateToken is the audit action of RotateSourceToken.
const actionRotateToken = auditlog.RotateToken

// mapSourceConstraint turns a violation of the unique indexes into the
// conflict the check before it gives.
func mapSourceConstraint(err error, name string) error {
	switch {
	case uniqueViolation(err, "sources_name_key"):
		return sourcerule.NameTaken(name)
	case uniqueViolation(err, "sources_token_hash"):
		return sourcerule.TokenTaken()
	}
	return err
}

func scanSource(s scanner) (*hookline.Source, error) {
	var (
		src          hookline.Source
		lastReceived sql.NullTime
	)
	err := s.Scan(&src.ID, &src.Name, &src.Description, &src.Category, &src.HostName, &src.TokenHash,
		&src.Received, &lastReceived, &src.CreatedAt, &src.ModifiedAt)
	if err != nil {
		return nil, err
	}
	src.CreatedAt, src.ModifiedAt = src.CreatedAt.UTC(), src.ModifiedAt.UTC()
	if lastReceived.Valid {
		src.LastReceivedAt = lastReceived.Time.UTC()
	}
	return &src, nil
}

// readSource reads source id through q, with lock (" FOR UPDATE" or "")
// appended; ENOTFOUND when missing.
func readSource(ctx context.Context, q querier, id, lock string) (*hookline.Source, error) {
	s, err := scanSource(q.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sourcerule.NotFound(id)
	}
	return s, err
}

// checkSourceKeys returns ECONFLICT when a source other than id has the
// name (case-insensitively) or the token hash.
func checkSourceKeys(ctx context.Context, tx *sql.Tx, name, tokenHash, id string) error {
	var nameTaken, hashTaken bool
	err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM sources WHERE name_key = $1 AND id <> $3),
		EXISTS (SELECT 1 FROM sources WHERE token_hash = $2 AND id <> $3)`,
		rowrule.NameKey(name), tokenHash, id).Scan(&nameTaken, &hashTaken)
	if err != nil {
		return fmt.Errorf("check name and token: %w", err)
	}
	return sourcerule.Conflict(name, nameTaken, hashTaken)
}

// CreateSource validates and stores s, filling in its ID and times;
// Received and LastReceivedAt start at zero.
func (db *DB) CreateSource(ctx context.Context, s *hookline.Source) error {
	if s == nil {
		return fmt.Errorf("create source: %w", hookline.Errorf(hookline.EINVALID, "no source given"))
	}
	row, err := sourcerule.Created(s, db.now())
	if err != nil {
		return fmt.Errorf("create source %q: %w", s.Name, err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkSourceKeys(ctx, tx, row.Name, row.TokenHash, ""); err != nil {
			return err
		}
		var err error
		if row.ID, err = unusedIDIn(ctx, tx, "sources"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sources (id, name, name_key, description, category, host_name, token_hash, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			row.ID, row.Name, rowrule.NameKey(row.Name), row.Description, row.Category, row.HostName, row.TokenHash,
			row.CreatedAt, row.ModifiedAt)
		if err != nil {
			return mapSourceConstraint(err, row.Name)
		}
		return db.audit(ctx, tx, change{action: actionCreate, targetType: hookline.AuditSource,
			targetID: row.ID, targetName: row.Name, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("create source %q: %w", s.Name, err)
	}
	s.ID, s.CreatedAt, s.ModifiedAt, s.Received, s.LastReceivedAt = row.ID, row.CreatedAt, row.ModifiedAt, 0, time.Time{}
	return nil
}

// Source returns the source with the ID, or ENOTFOUND.
func (db *DB) Source(ctx context.Context, id string) (*hookline.Source, error) {
	s, err := readSource(ctx, db.db, id, "")
	if err != nil {
		return nil, fmt.Errorf("read source %s: %w", id, err)
	}
	return s, nil
}

// SourceByTokenHash returns the source whose token hashes to tokenHash, or
// ENOTFOUND. Neither the error nor its message holds the hash.
func (db *DB) SourceByTokenHash(ctx context.Context, tokenHash string) (*hookline.Source, error) {
	notFound := fmt.Errorf("read source by token: %w", hookline.Errorf(hookline.ENOTFOUND, "no source has this token"))
	if !storableText(tokenHash) {
		return nil, notFound
	}
	s, err := scanSource(db.db.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE token_hash = $1`, tokenHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFound
	case err != nil:
		return nil, fmt.Errorf("read source by token: %w", err)
	}
	return s, nil
}

// Sources returns a page of sources ordered by lower-cased name and ID,
// with the limit and token rules of Connections.
func (db *DB) Sources(ctx context.Context, opt hookline.ListOptions) ([]*hookline.Source, string, error) {
	return sourcesByName.list(ctx, db.db, opt)
}

// sourcesByName walks sources_name_key.
var sourcesByName = byName[*hookline.Source]{
	what: "sources", table: "sources", columns: sourceColumns, keyColumn: "name_key", scan: scanSource,
	key: func(s *hookline.Source) pageKey { return pageKey{NameKey: rowrule.NameKey(s.Name), ID: s.ID} },
}

// UpdateSource validates s and replaces the stored source's name,
// description, category and host name. The token hash, counters and
// CreatedAt keep their stored values, which are copied into s with the new
// ModifiedAt.
func (db *DB) UpdateSource(ctx context.Context, s *hookline.Source) error {
	if s == nil {
		return fmt.Errorf("update source: %w", hookline.Errorf(hookline.EINVALID, "no source given"))
	}
	var row *hookline.Source
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readSource(ctx, tx, s.ID, " FOR UPDATE")
		if err != nil {
			return err
		}
		if row, err = sourcerule.Updated(old, s, db.now()); err != nil {
			return err
		}
		if err := checkSourceKeys(ctx, tx, row.Name, row.TokenHash, row.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sources SET name = $1, name_key = $2, description = $3, category = $4, host_name = $5,
			modified_at = $6 WHERE id = $7`, row.Name, rowrule.NameKey(row.Name), row.Description, row.Category, row.HostName, row.ModifiedAt, row.ID)
		if err != nil {
			return mapSourceConstraint(err, row.Name)
		}
		return db.audit(ctx, tx, change{action: actionUpdate, targetType: hookline.AuditSource,
			targetID: row.ID, targetName: row.Name, before: old.AuditView(), after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("update source %s: %w", s.ID, err)
	}
	s.TokenHash, s.Received, s.LastReceivedAt, s.CreatedAt, s.ModifiedAt = row.TokenHash, row.Received, row.LastReceivedAt, row.CreatedAt, row.ModifiedAt
	return nil
}

// DeleteSource removes the source, or returns ENOTFOUND. Its records stay.
func (db *DB) DeleteSource(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readSource(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = $1`, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditSource,
			targetID: id, targetName: old.Name, before: old.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("delete source %s: %w", id, err)
	}
	return nil
}

// RotateSourceToken replaces the source's token hash and ModifiedAt, and
// returns the source as stored. The audit event's before and after are the
// same view: the token is never in it.
func (db *DB) RotateSourceToken(ctx context.Context, id, tokenHash string) (*hookline.Source, error) {
	var row *hookline.Source
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readSource(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		next, err := sourcerule.Rotated(old, tokenHash, db.now())
		if err != nil {
			return err
		}
		if err := checkSourceKeys(ctx, tx, next.Name, next.TokenHash, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET token_hash = $1, modified_at = $2 WHERE id = $3`,
			next.TokenHash, next.ModifiedAt, id); err != nil {
			return mapSourceConstraint(err, next.Name)
		}
		row = next
		return db.audit(ctx, tx, change{action: actionRotateToken, targetType: hookline.AuditSource,
			targetID: id, targetName: old.Name, before: old.AuditView(), after: next.AuditView()})
	})
	if err != nil {
		return nil, fmt.Errorf("rotate token of source %s: %w", id, err)
	}
	return row, nil
}
