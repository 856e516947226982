// Package schema applies a storage engine's numbered SQL migrations:
// NNNN_name.sql files, each applied once, in version order, in its own
// transaction together with its row in schema_migrations. SQLite and
// PostgreSQL run the same code with their own Dialect, so both engines
// upgrade the same way and refuse a schema newer than they know.
package schema

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

// Dialect holds the statements the runner needs in an engine's SQL.
type Dialect struct {
	// CreateTable creates schema_migrations (version, name, applied_at) if
	// it is missing.
	CreateTable string
	// MaxVersion reads the highest version applied, 0 for none.
	MaxVersion string
	// IsApplied counts the rows of version $1.
	IsApplied string
	// Record inserts (version, name, applied_at).
	Record string
	// Lock, when set, runs first in every migration's transaction and holds
	// it to the end, so that processes starting at once apply each
	// migration once: PostgreSQL's pg_advisory_xact_lock. SQLite needs none:
	// its write transactions already run one at a time.
	Lock string
	// Time formats applied_at.
	Time func(time.Time) any
}

// Migration is one schema change, read from a file named NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationFile = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// Load reads the migrations at the root of fsys in version order. Any
// other file there is an error rather than ignored: a misnamed migration
// that silently never runs is worse than a failed start.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
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
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Migrate applies the migrations in fsys that db has not recorded yet,
// each in its own transaction together with its schema_migrations row, so
// that a failed migration leaves neither half a change nor a false record,
// and returns how many it applied. It refuses a database whose schema is
// newer than the newest migration known. Running it twice, or from two
// processes at once, applies each migration once: the applied check runs
// inside the migration's transaction, after the dialect's Lock.
func Migrate(ctx context.Context, db *sql.DB, fsys fs.FS, d Dialect, now func() time.Time) (applied int, err error) {
	ms, err := Load(fsys)
	if err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, d.CreateTable); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	var current int
	if err := db.QueryRowContext(ctx, d.MaxVersion).Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if current > latest {
		return 0, fmt.Errorf("the database schema is at version %04d, newer than version %04d that this hookline knows: "+
			"it was used by a newer hookline; run that version or later (or restore a backup taken before the upgrade)", current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		done, err := apply(ctx, db, d, m, now)
		if err != nil {
			return applied, fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

func apply(ctx context.Context, db *sql.DB, d Dialect, m Migration, now func() time.Time) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("roll back: %w", rerr))
			}
		}
	}()
	if d.Lock != "" {
		if _, err := tx.ExecContext(ctx, d.Lock); err != nil {
			return false, fmt.Errorf("lock: %w", err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, d.IsApplied, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, d.Record, m.Version, m.Name, d.Time(now())); err != nil {
		return false, fmt.Errorf("record: %w", err)
	}
	return true, tx.Commit()
}
