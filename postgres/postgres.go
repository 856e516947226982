// Package postgres implements Hookline's stores on PostgreSQL, through
// database/sql and the pgx driver, with the same methods as package
// sqlite's DB: the ConnectionStore (with the server settings, the keyring
// check and secret rotation), the AccessStore (users, roles, access keys,
// sessions and the audit log), the DeliveryStore (accepted alerts, the
// delivery queue and log, the alerts list), the LogStore (HTTP sources and
// log records), the MonitorStore and the ScheduledSearchStore. The schema
// is created and upgraded by the numbered migrations embedded from
// migrations/, applied by package schema as SQLite's are. Secrets are
// sealed with a keyring before they are written: the database holds
// ciphertext only.
//
// Several processes may share one database. Where the SQLite store relied
// on its single writer for a rule that spans rows (a name taken, the last
// enabled administrator, a user's number of access keys, the first user,
// a delivery or a monitor claimed once), this package holds it with a
// unique index, row locks taken in the write transaction or an advisory
// lock; each place says which and why. Until the delivery queue has
// leases, though, only one process at a time may run the dispatcher (see
// delivery.go); monitors and scheduled searches are leased already.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"
	"github.com/hookline/hookline/schema"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded schema migrations, NNNN_name.sql files at
// the root of the returned file system.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// Advisory lock keys (pg_advisory_xact_lock), one per purpose, so that
// processes starting at once take turns. The values are arbitrary; they
// only must not collide with another application's on the same database.
const (
	lockMigrate  int64 = 0x686F6F6B_00000001 // "hook" 1: schema migrations
	lockKeyCheck int64 = 0x686F6F6B_00000002 // "hook" 2: keyring check and reseal, rotation
	lockAccess   int64 = 0x686F6F6B_00000003 // "hook" 3: changes of users and roles (access.go)
	// Held, not per transaction: shared by every serving process for its
	// life, exclusive by a rotation (serving.go).
	lockServing int64 = 0x686F6F6B_00000004 // "hook" 4
)

// dialect is the migration runner's SQL for PostgreSQL. CreateTable takes
// the migration lock too: two processes running CREATE TABLE IF NOT EXISTS
// at once can otherwise both pass the check and one fail on the catalog's
// unique index. A DO block is one statement, so the lock is held until it
// commits.
var dialect = schema.Dialect{
	CreateTable: fmt.Sprintf(`DO $$ BEGIN
		PERFORM pg_advisory_xact_lock(%d);
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer NOT NULL PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		);
	END $$`, lockMigrate),
	MaxVersion: `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`,
	IsApplied:  `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`,
	Record:     `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
	Lock:       fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, lockMigrate),
	Time:       func(t time.Time) any { return t.UTC() },
}

// DB is a Hookline database on PostgreSQL. It implements
// hookline.ConnectionStore, hookline.AccessStore, hookline.DeliveryStore,
// hookline.LogStore, hookline.MonitorStore and
// hookline.ScheduledSearchStore and is safe for concurrent use, also by
// several processes on one database (but see the delivery store's note on
// replicas).
type DB struct {
	// Now returns the current time; tests replace it. Times are stored in
	// UTC, to the microsecond.
	Now func() time.Time

	db   *sql.DB
	kr   *keyring.Keyring
	name string    // the database URL without its password, for errors
	ids  rowid.Gen // IDs of audit events

	serving *sql.Conn // holds the serving lock (HoldServing); nil when not taken
}

var (
	_ hookline.ConnectionStore = (*DB)(nil)
	_ hookline.AccessStore     = (*DB)(nil)
)

// maxConns bounds the pool: PostgreSQL gives each connection a process,
// and its default max_connections (100) is shared by every replica.
const maxConns = 16

// Open connects to the database at databaseURL (postgres://…, or any
// connection string pgx accepts) and applies the migrations it has not had
// yet. kr seals and opens the secrets it stores.
//
// Open fails with an error wrapping ErrWrongKey when kr cannot open the
// database's secrets. When kr holds old keys (see keyring.New), Open
// reseals with kr's primary key every secret an old key sealed.
func Open(ctx context.Context, databaseURL string, kr *keyring.Keyring) (*DB, error) {
	if kr == nil {
		return nil, errors.New("open database: no keyring")
	}
	db := &DB{Now: time.Now, kr: kr, name: Redact(databaseURL)}
	if err := db.open(ctx, databaseURL); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", db.name, err)
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, databaseURL string) error {
	cfg, err := connConfig(databaseURL)
	if err != nil {
		return err
	}
	db.db = stdlib.OpenDB(*cfg)
	db.db.SetMaxOpenConns(maxConns)
	db.db.SetMaxIdleConns(maxConns)
	db.db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.db.PingContext(ctx); err != nil {
		return err
	}
	if _, err := schema.Migrate(ctx, db.db, Migrations(), dialect, db.now); err != nil {
		return err
	}
	return db.checkKey(ctx)
}

// defaultConnectTimeout bounds each connection attempt when the URL sets
// no connect_timeout: a server that does not answer at all would
// otherwise hold a start (or a request needing a new connection) for as
// long as the system's TCP timeout, minutes, instead of saying so.
const defaultConnectTimeout = 10 * time.Second

// connConfig parses databaseURL, with defaultConnectTimeout unless the URL
// sets connect_timeout.
func connConfig(databaseURL string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	return cfg, nil
}

// Redact returns a URL without its password (or sslpassword), and anything else (a
// key=value connection string, which may hold one) as "PostgreSQL".
func Redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.Scheme == "" {
		return "PostgreSQL"
	}
	q := u.Query()
	for _, name := range []string{"password", "sslpassword"} {
		if q.Has(name) {
			q.Set(name, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// Close closes the database's connections.
func (db *DB) Close() error {
	if db.db == nil {
		return nil
	}
	if err := errors.Join(db.releaseServing(), db.db.Close()); err != nil {
		return fmt.Errorf("close database %s: %w", db.name, err)
	}
	return nil
}

// now is the store's clock in UTC, truncated to PostgreSQL's microseconds
// so that a time handed back equals the time read later.
func (db *DB) now() time.Time {
	now := time.Now
	if db.Now != nil {
		now = db.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

// inTx runs fn in a read-committed write transaction, committing when it
// returns nil and rolling back otherwise. Read committed is named rather
// than left to the server's default because the locking in this package
// is written for it: a statement that runs after a lock was granted sees
// what the lock's previous holder committed.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, rollback(tx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback rolls tx back, ignoring the error of a transaction that has
// already ended.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("roll back: %w", err)
	}
	return nil
}

// advisoryLock takes the transaction-scoped advisory lock key in tx.
func advisoryLock(ctx context.Context, tx *sql.Tx, key int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// Setting returns the value of a server setting; ok is false when it is not
// set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read setting %q: %w", key, err)
	}
	return value, true, nil
}

// PutSetting sets a server setting, replacing any previous value.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("write setting: %w", hookline.Errorf(hookline.EINVALID, "a setting needs a key"))
	}
	if err := putSetting(ctx, db.db, key, value, db.now()); err != nil {
		return fmt.Errorf("write setting %q: %w", key, err)
	}
	return nil
}

// DeleteSetting removes a server setting; one that is not set is no error.
func (db *DB) DeleteSetting(ctx context.Context, key string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM settings WHERE key = $1`, key); err != nil {
		return fmt.Errorf("delete setting %q: %w", key, err)
	}
	return nil
}

func putSetting(ctx context.Context, q execer, key, value string, now time.Time) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO settings (key, value, modified_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at`,
		key, value, now)
	return err
}

// Helpers the stores of this package share.

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// scanner is a *sql.Row or *sql.Rows: listpage.Scanner, so that the row
// readers of the engine-neutral packages serve this package's queries.
type scanner = listpage.Scanner

// queryAll runs query through q and reads every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// unusedIDIn draws IDs until one is free in table. With 64 random bits a
// second draw all but never happens, but a collision must not surface as
// an error. (A concurrent insert of the same ID fails on the primary key:
// that is left to surface, as it would take two equal draws at once.)
func unusedIDIn(ctx context.Context, tx *sql.Tx, table string) (string, error) {
	for range 5 {
		id, err := rowid.New()
		if err != nil {
			return "", err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = $1`, id).Scan(&n); err != nil {
			return "", fmt.Errorf("check ID: %w", err)
		}
		if n == 0 {
			return id, nil
		}
	}
	return "", errors.New("generate ID: five random IDs were all taken")
}

// uniqueViolation reports whether err is a violation of the unique index
// or constraint named constraint (SQLSTATE 23505). Naming it, rather than
// taking any unique violation for the one expected, keeps a new unique
// index from being reported as the wrong field.
func uniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}
