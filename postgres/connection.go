package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/rowrule"
)

// The connection store. Its rules are hookline.ConnectionStore's and
// storetest.TestConnectionStore's; a taken name is found by a check in the
// write transaction, and, when another transaction takes the name between
// that check and the write, by the unique index connections_name_key.

const connectionColumns = connrow.ColumnList

// CreateConnection validates and stores c, filling in its ID, CreatedAt,
// ModifiedAt and, when empty, ModifiedBy (from CreatedBy). Like every
// change to a connection, it is recorded in the audit log as made by
// hookline.ActorFrom(ctx), with the secrets named but not shown.
func (db *DB) CreateConnection(ctx context.Context, c *hookline.Connection) error {
	if c == nil {
		return fmt.Errorf("create connection: %w", hookline.Errorf(hookline.EINVALID, "no connection given"))
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("create connection %q: %w", c.Name, err)
	}
	now := db.now()
	row := *c
	row.CreatedAt, row.ModifiedAt = now, now
	if row.ModifiedBy == "" {
		row.ModifiedBy = row.CreatedBy
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkName(ctx, tx, row.Name, ""); err != nil {
			return err
		}
		var err error
		if row.ID, err = unusedIDIn(ctx, tx, "connections"); err != nil {
			return err
		}
		args, err := db.rowArgs(&row)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO connections (`+connectionColumns+`, name_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, args...)
		if err != nil {
			return mapConstraint(err, row.Name)
		}
		return db.audit(ctx, tx, change{action: actionCreate, targetType: hookline.AuditConnection,
			targetID: row.ID, targetName: row.Name, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("create connection %q: %w", c.Name, err)
	}
	c.ID, c.CreatedAt, c.ModifiedAt, c.ModifiedBy = row.ID, row.CreatedAt, row.ModifiedAt, row.ModifiedBy
	return nil
}

// checkName returns ECONFLICT when a connection other than id has name,
// compared case-insensitively. The answer holds for what is committed;
// mapConstraint catches a name taken meanwhile.
func checkName(ctx context.Context, tx *sql.Tx, name, id string) error {
	var other string
	err := tx.QueryRowContext(ctx, `SELECT name FROM connections WHERE name_key = $1 AND id <> $2`, rowrule.NameKey(name), id).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check name: %w", err)
	}
	return connrow.NameTaken(name)
}

// mapConstraint turns a violation of the unique name index, by a
// transaction that took the name after checkName, into ECONFLICT.
func mapConstraint(err error, name string) error {
	if uniqueViolation(err, "connections_name_key") {
		return connrow.NameTaken(name)
	}
	return err
}

// rowArgs returns the column values of c in connectionColumns order and then
// name_key, with its secrets sealed.
func (db *DB) rowArgs(c *hookline.Connection) ([]any, error) {
	j, err := connrow.Encode(db.kr, c)
	if err != nil {
		return nil, err
	}
	return connrow.Args(c, j, rowrule.NameKey(c.Name), func(t time.Time) any { return t }), nil
}

// scanConnection reads a row of connectionColumns, opening its secrets. A
// secret that does not open is an error: handing a connection on without it
// would send unauthenticated requests.
func (db *DB) scanConnection(s scanner) (*hookline.Connection, error) {
	var (
		c hookline.Connection
		j connrow.JSON
	)
	err := s.Scan(&c.ID, &c.Name, &c.Description, &c.WebhookType, &c.URL, &j.Headers, &c.DefaultPayload,
		&c.ResolutionPayload, &j.Settings, &j.Secrets, &c.CreatedAt, &c.CreatedBy, &c.ModifiedAt, &c.ModifiedBy)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.ModifiedAt = c.CreatedAt.UTC(), c.ModifiedAt.UTC()
	if err := connrow.Decode(db.kr, &c, j); err != nil {
		return nil, err
	}
	return &c, nil
}

// Connection returns the connection with the given ID, or ENOTFOUND.
func (db *DB) Connection(ctx context.Context, id string) (*hookline.Connection, error) {
	row := db.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, id)
	c, err := db.scanConnection(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read connection: %w", connrow.NotFound(id))
	case err != nil:
		return nil, fmt.Errorf("read connection %s: %w", id, err)
	}
	return c, nil
}

// Connections returns a page of connections ordered by lower-cased name and
// ID. opt.Limit defaults to hookline.DefaultListLimit and is capped at
// hookline.MaxListLimit; opt.Token is the next token of the previous page.
func (db *DB) Connections(ctx context.Context, opt hookline.ListOptions) ([]*hookline.Connection, string, error) {
	return byName[*hookline.Connection]{
		what: "connections", table: "connections", columns: connectionColumns, keyColumn: "name_key", scan: db.scanConnection,
		key: func(c *hookline.Connection) pageKey { return pageKey{NameKey: rowrule.NameKey(c.Name), ID: c.ID} },
	}.list(ctx, db.db, opt)
}

// UpdateConnection validates c and replaces the stored connection c.ID with
// it, secrets included: a secret missing from c.Secrets is deleted. CreatedAt
// and CreatedBy keep their stored values, which are copied into c, and
// ModifiedAt is set.
func (db *DB) UpdateConnection(ctx context.Context, c *hookline.Connection) error {
	if c == nil {
		return fmt.Errorf("update connection: %w", hookline.Errorf(hookline.EINVALID, "no connection given"))
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("update connection %s: %w", c.ID, err)
	}
	row := *c
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readStoredConnection(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		row.CreatedAt, row.CreatedBy = old.createdAt, old.createdBy
		row.ModifiedAt = rowrule.NotBefore(db.now(), row.CreatedAt)
		if err := checkName(ctx, tx, row.Name, row.ID); err != nil {
			return err
		}
		args, err := db.rowArgs(&row)
		if err != nil {
			return err
		}
		// args is in connectionColumns order; the ID moves to the end.
		_, err = tx.ExecContext(ctx, `UPDATE connections SET name = $1, description = $2, webhook_type = $3, url = $4,
			custom_headers = $5, default_payload = $6, resolution_payload = $7, settings = $8, secrets = $9,
			created_at = $10, created_by = $11, modified_at = $12, modified_by = $13, name_key = $14
			WHERE id = $15`, append(args[1:], row.ID)...)
		if err != nil {
			return mapConstraint(err, row.Name)
		}
		return db.audit(ctx, tx, change{action: actionUpdate, targetType: hookline.AuditConnection,
			targetID: row.ID, targetName: row.Name, before: old.view, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("update connection %s: %w", c.ID, err)
	}
	c.CreatedAt, c.CreatedBy, c.ModifiedAt = row.CreatedAt, row.CreatedBy, row.ModifiedAt
	return nil
}

// DeleteConnection removes the connection with the given ID, or returns
// ENOTFOUND.
func (db *DB) DeleteConnection(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readStoredConnection(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE id = $1`, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditConnection,
			targetID: id, targetName: old.view.Name, before: old.view})
	})
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		return fmt.Errorf("delete connection: %w", err)
	}
	if err != nil {
		return fmt.Errorf("delete connection %s: %w", id, err)
	}
	return nil
}

// storedConnection is what updating or deleting a connection needs of the
// stored row: its audit view and its creation. Its secrets are read by name
// only and never opened, so that a row whose secret no longer opens can
// still be replaced or deleted.
type storedConnection struct {
	view      hookline.ConnectionAudit
	createdAt time.Time
	createdBy string
}

// readStoredConnection reads connection id in tx, locking its row until tx
// ends, so that concurrent changes of one connection take turns and each
// audit event's before is what the change replaced; ENOTFOUND when
// missing.
func readStoredConnection(ctx context.Context, tx *sql.Tx, id string) (*storedConnection, error) {
	var (
		c hookline.Connection
		j connrow.JSON
		s storedConnection
	)
	err := tx.QueryRowContext(ctx, `SELECT name, description, webhook_type, url, custom_headers, default_payload,
		resolution_payload, settings, secrets, created_at, created_by FROM connections WHERE id = $1 FOR UPDATE`, id).
		Scan(&c.Name, &c.Description, &c.WebhookType, &c.URL, &j.Headers, &c.DefaultPayload,
			&c.ResolutionPayload, &j.Settings, &j.Secrets, &s.createdAt, &s.createdBy)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, connrow.NotFound(id)
	case err != nil:
		return nil, fmt.Errorf("read connection: %w", err)
	}
	s.createdAt = s.createdAt.UTC()
	if s.view, err = connrow.AuditView(id, &c, j); err != nil {
		return nil, err
	}
	return &s, nil
}
