package sqlite

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
// AppendLogs and are not audited.

var _ hookline.LogStore = (*DB)(nil)

const sourceColumns = `id, name, description, category, host_name, token_hash, received, last_received_at, created_at, modified_at`

// actionRotateToken is the audit action of RotateSourceToken.
const actionRotateToken = auditlog.RotateToken

func scanSource(s scanner) (*hookline.Source, error) {
	var (
		src                   hookline.Source
		lastReceived          sql.NullString
		createdAt, modifiedAt string
	)
	err := s.Scan(&src.ID, &src.Name, &src.Description, &src.Category, &src.HostName, &src.TokenHash,
		&src.Received, &lastReceived, &createdAt, &modifiedAt)
	if err != nil {
		return nil, err
	}
	if src.CreatedAt, src.ModifiedAt, err = parseStamps("source "+src.ID, createdAt, modifiedAt); err != nil {
		return nil, err
	}
	if lastReceived.Valid {
		if src.LastReceivedAt, err = parseTime(lastReceived.String); err != nil {
			return nil, fmt.Errorf("source %s: last_received_at: %w", src.ID, err)
		}
	}
	return &src, nil
}

func readSource(ctx context.Context, q querier, id string) (*hookline.Source, error) {
	s, err := scanSource(q.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sourcerule.NotFound(id)
	}
	return s, err
}

// checkSourceKeys returns ECONFLICT when a source other than id has the
// name (case-insensitively) or the token hash. It runs in the write
// transaction, which holds SQLite's write lock, so the unique indexes
// cannot be hit afterwards.
func checkSourceKeys(ctx context.Context, tx *sql.Tx, name, tokenHash, id string) error {
	var nameTaken, hashTaken bool
	err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM sources WHERE name_key = ? AND id <> ?),
		EXISTS (SELECT 1 FROM sources WHERE token_hash = ? AND id <> ?)`,
		rowrule.NameKey(name), id, tokenHash, id).Scan(&nameTaken, &hashTaken)
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
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			row.ID, row.Name, rowrule.NameKey(row.Name), row.Description, row.Category, row.HostName, row.TokenHash,
			formatTime(row.CreatedAt), formatTime(row.ModifiedAt))
		if err != nil {
			return err
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
	s, err := readSource(ctx, db.read, id)
	if err != nil {
		return nil, fmt.Errorf("read source %s: %w", id, err)
	}
	return s, nil
}

// SourceByTokenHash returns the source whose token hashes to tokenHash, or
// ENOTFOUND. Neither the error nor its message holds the hash.
func (db *DB) SourceByTokenHash(ctx context.Context, tokenHash string) (*hookline.Source, error) {
	s, err := scanSource(db.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE token_hash = ?`, tokenHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read source by token: %w", hookline.Errorf(hookline.ENOTFOUND, "no source has this token"))
	case err != nil:
		return nil, fmt.Errorf("read source by token: %w", err)
	}
	return s, nil
}

// Sources returns a page of sources ordered by lower-cased name and ID,
// with the limit and token rules of Connections.
func (db *DB) Sources(ctx context.Context, opt hookline.ListOptions) ([]*hookline.Source, string, error) {
	return sourcesByName.list(ctx, db.read, opt)
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
		old, err := readSource(ctx, tx, s.ID)
		if err != nil {
			return err
		}
		if row, err = sourcerule.Updated(old, s, db.now()); err != nil {
			return err
		}
		if err := checkSourceKeys(ctx, tx, row.Name, row.TokenHash, row.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sources SET name = ?, name_key = ?, description = ?, category = ?, host_name = ?, modified_at = ?
			WHERE id = ?`, row.Name, rowrule.NameKey(row.Name), row.Description, row.Category, row.HostName, formatTime(row.ModifiedAt), row.ID)
		if err != nil {
			return err
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
		old, err := readSource(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = ?`, id); err != nil {
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
		old, err := readSource(ctx, tx, id)
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
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET token_hash = ?, modified_at = ? WHERE id = ?`,
			next.TokenHash, formatTime(next.ModifiedAt), id); err != nil {
			return err
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
