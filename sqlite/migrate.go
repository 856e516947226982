package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/hookline/hookline/schema"
)

// dialect is the migration runner's SQL for SQLite. It needs no lock:
// SQLite runs one write transaction at a time.
var dialect = schema.Dialect{
	CreateTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`,
	MaxVersion: `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`,
	IsApplied:  `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`,
	Record:     `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
	Time:       func(t time.Time) any { return formatTime(t) },
}

// migrate applies the embedded (or given) migrations db has not had yet;
// see schema.Migrate.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, now func() time.Time) (int, error) {
	return schema.Migrate(ctx, db, fsys, dialect, now)
}

// rollback rolls tx back, ignoring the error of a transaction that has
// already ended.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("roll back: %w", err)
	}
	return nil
}
