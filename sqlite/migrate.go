package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// The migration runner is deliberately engine-neutral in shape: it needs
// only database/sql, transactional DDL and the four statements below, so the
// PostgreSQL store can run its own migrations/ directory with the same code
// by swapping these statements (its placeholders are $1, $2, ...).
var migrationSQL = struct {
	createTable, maxVersion, isApplied, record string
}{
	createTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`,
	maxVersion: `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`,
	isApplied:  `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`,
	record:     `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
}

// migration is one schema change, read from a file named NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationFile = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads the migrations at the root of fsys in version order.
// Any other file there is an error rather than ignored: a misnamed migration
// that silently never runs is worse than a failed start.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() {
			return nil, fmt.Errorf("migrations hold a directory %q; they must be files named NNNN_name.sql", e.Name())
		}
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql (four digits, lower-case name)", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if v == 0 {
			return nil, fmt.Errorf("migration file %q: versions start at 0001", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration files %q and %q have the same version %04d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, path.Clean(e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: m[2], sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the migrations in fsys that db has not recorded yet, each
// in its own transaction together with its schema_migrations row, so that a
// failed migration leaves neither half a change nor a false record. It
// refuses a database whose schema is newer than the newest migration known.
// Running it twice, or from two processes at once, applies each migration
// once: the applied check runs inside the migration's write transaction.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, now func() time.Time) (applied int, err error) {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, migrationSQL.createTable); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	var current int
	if err := db.QueryRowContext(ctx, migrationSQL.maxVersion).Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if current > latest {
		return 0, fmt.Errorf("the database schema is at version %04d, newer than version %04d that this hookline knows: "+
			"it was used by a newer hookline; run that version or later (or restore a backup taken before the upgrade)", current, latest)
	}
	for _, m := range ms {
		done, err := applyMigration(ctx, db, m, now)
		if err != nil {
			return applied, fmt.Errorf("apply migration %04d_%s: %w", m.version, m.name, err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, now func() time.Time) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, rollback(tx))
		}
	}()
	var n int
	if err := tx.QueryRowContext(ctx, migrationSQL.isApplied, m.version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, migrationSQL.record, m.version, m.name, formatTime(now())); err != nil {
		return false, fmt.Errorf("record: %w", err)
	}
	return true, tx.Commit()
}

// rollback rolls tx back, ignoring the error of a transaction that has
// already ended.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("roll back: %w", err)
	}
	return nil
}
