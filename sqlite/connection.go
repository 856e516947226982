package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"
	"github.com/hookline/hookline/rowrule"
)

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
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
// compared case-insensitively. It runs inside the write transaction, which
// holds SQLite's write lock, so no one can take the name before the write.
func checkName(ctx context.Context, tx *sql.Tx, name, id string) error {
	var other string
	err := tx.QueryRowContext(ctx, `SELECT name FROM connections WHERE name_key = ? AND id <> ?`, rowrule.NameKey(name), id).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check name: %w", err)
	}
	return connrow.NameTaken(name)
}

// mapConstraint turns a unique-name violation that slipped past checkName
// into ECONFLICT. The extended code alone identifies it: the name index is
// the only UNIQUE constraint on connections (the primary key reports
// SQLITE_CONSTRAINT_PRIMARYKEY), as TestOnlyNameIsUnique checks, so that a
// new unique index cannot be mistaken for it unnoticed.
func mapConstraint(err error, name string) error {
	if isUniqueConflict(err) {
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
	return connrow.Args(c, j, rowrule.NameKey(c.Name), func(t time.Time) any { return formatTime(t) }), nil
}

// scanner is a *sql.Row or *sql.Rows: listpage.Scanner, so that the row
// readers of the engine-neutral packages serve this package's queries.
type scanner = listpage.Scanner

// scanConnection reads a row of connectionColumns, opening its secrets. A
// secret that does not open is an error: handing a connection on without it
// would send unauthenticated requests.
func (db *DB) scanConnection(s scanner) (*hookline.Connection, error) {
	var (
		c                     hookline.Connection
		j                     connrow.JSON
		createdAt, modifiedAt string
	)
	err := s.Scan(&c.ID, &c.Name, &c.Description, &c.WebhookType, &c.URL, &j.Headers, &c.DefaultPayload,
		&c.ResolutionPayload, &j.Settings, &j.Secrets, &createdAt, &c.CreatedBy, &modifiedAt, &c.ModifiedBy)
	if err != nil {
		return nil, err
	}
	if err := connrow.Decode(db.kr, &c, j); err != nil {
		return nil, err
	}
	if c.CreatedAt, err = parseTime(createdAt); err != nil {
		return nil, fmt.Errorf("connection %s: created_at: %w", c.ID, err)
	}
	if c.ModifiedAt, err = parseTime(modifiedAt); err != nil {
		return nil, fmt.Errorf("connection %s: modified_at: %w", c.ID, err)
	}
	return &c, nil
}

// Connection returns the connection with the given ID, or ENOTFOUND.
func (db *DB) Connection(ctx context.Context, id string) (*hookline.Connection, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = ?`, id)
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
	}.list(ctx, db.read, opt)
}

// pageKey is the sort key of the last row of a page listed by name (see
// byName); the next page starts after it.
type pageKey struct {
	NameKey string `json:"n"`
	ID      string `json:"i"`
}

// decodeToken parses a page token; "" means the first page (nil).
func decodeToken(token string) (*pageKey, error) {
	return listpage.Decode(token, func(k pageKey) bool { return rowid.Valid(k.ID) && k.NameKey != "" })
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
		_, err = tx.ExecContext(ctx, `UPDATE connections SET name = ?, description = ?, webhook_type = ?, url = ?,
			custom_headers = ?, default_payload = ?, resolution_payload = ?, settings = ?, secrets = ?,
			created_at = ?, created_by = ?, modified_at = ?, modified_by = ?, name_key = ?
			WHERE id = ?`, append(args[1:], row.ID)...)
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE id = ?`, id); err != nil {
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
