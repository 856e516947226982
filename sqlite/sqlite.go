// Package sqlite implements Hookline's stores on an embedded SQLite database
// (modernc.org/sqlite: pure Go, no cgo). The schema is created and upgraded
// by the numbered migrations embedded from migrations/. Secrets are sealed
// with a keyring before they are written: the database file, its WAL and
// its backups hold ciphertext only. Open checks that the keyring opens them,
// against a value sealed into the settings table on the first open.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"

	sqlitedriver "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
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

// busyTimeout is how long a statement waits for another process's write lock
// before failing with SQLITE_BUSY. Writers in this process queue in the Go
// pool instead (see Open); this only matters when a second process, such as
// a CLI command, writes to the same file.
const busyTimeout = 10 * time.Second

// DB is a Hookline database in one SQLite file. It implements
// hookline.ConnectionStore, hookline.DeliveryStore, hookline.AccessStore,
// hookline.LogStore and hookline.MonitorStore and is safe for concurrent
// use.
type DB struct {
	// Now returns the current time; tests replace it. Times are stored in UTC.
	Now func() time.Time

	// SQLite allows one writer at a time. All writes go through write, a pool
	// of exactly one connection whose transactions begin IMMEDIATE (taking
	// the write lock up front, so a transaction that reads then writes can't
	// fail half-way with SQLITE_BUSY). Reads go through read, a pool of
	// query-only connections that in WAL mode run alongside the writer.
	write *sql.DB
	read  *sql.DB
	kr    *keyring.Keyring
	path  string
	stmts *deliveryStmts // the delivery queue's statements, prepared on write
	ids   rowid.Gen      // IDs of alerts and deliveries
	logs  logAppender    // merges concurrent AppendLogs into shared commits
}

var _ hookline.ConnectionStore = (*DB)(nil)

// Open opens the database at path, creating the file (mode 0600) when it
// does not exist, and applies any migrations it has not had yet. kr seals
// and opens the secrets it stores.
//
// Open fails with an error wrapping ErrWrongKey when kr cannot open the
// database's secrets. When kr holds old keys (see keyring.New), Open
// reseals with kr's primary key every secret an old key sealed, so that
// the old keys are no longer needed once it returns.
func Open(ctx context.Context, path string, kr *keyring.Keyring) (*DB, error) {
	if kr == nil {
		return nil, errors.New("open database: no keyring")
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		// Both pools must reach the same data, which an in-memory database
		// cannot give them; a URI would bypass the settings below.
		return nil, fmt.Errorf("open database: %q is not a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{Now: time.Now, kr: kr, path: abs}
	if err := db.open(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// createFile creates the database file with mode 0600 if it is missing.
// SQLite would create it with 0644; the -wal and -shm files it makes later
// copy the database file's mode, so this keeps all three private.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

func (db *DB) open(ctx context.Context) error {
	var err error
	// synchronous=FULL: in WAL mode NORMAL does not sync the WAL at each
	// commit, so a power cut can lose transactions that were reported as
	// committed. A connection, setting or alert the API has accepted must
	// survive that; the cost is one fsync per write transaction, which the
	// dispatcher shares among many alerts or attempts by batching them.
	db.write, err = sql.Open("sqlite", dsn(db.path, url.Values{
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
	}))
	if err != nil {
		return err
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.write.SetConnMaxLifetime(0)

	var mode string
	if err := db.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not WAL: is the file on a file system without shared memory?", mode)
	}
	if _, err := migrate(ctx, db.write, Migrations(), db.now); err != nil {
		return err
	}
	if err := db.checkKey(ctx); err != nil {
		return err
	}
	if db.stmts, err = prepareDeliveryStmts(ctx, db.write); err != nil {
		return err
	}

	// query_only turns a write attempted through the read pool into an error
	// instead of a second writer contending for the lock.
	db.read, err = sql.Open("sqlite", dsn(db.path, url.Values{"_query_only": {"1"}}))
	if err != nil {
		return err
	}
	n := min(max(runtime.GOMAXPROCS(0), 2), 8)
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	return db.read.PingContext(ctx)
}

// dsn returns the driver's data source name for the file at path with the
// settings every connection shares plus extra.
func dsn(path string, extra url.Values) string {
	q := url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
		"_foreign_keys": {"1"},
	}
	for k, v := range extra {
		q[k] = v
	}
	// A file: URI, so that a path holding '?' or '#' is not mistaken for
	// the query; SQLite decodes the %-escapes.
	u := url.URL{Path: filepath.ToSlash(path)}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows path, C:/...
	}
	return "file:" + p + "?" + q.Encode()
}

// Close closes the database. The writer closes last, so that SQLite, as the
// last connection, checkpoints the WAL into the database file.
func (db *DB) Close() error {
	var errs []error
	if db.stmts != nil {
		errs = append(errs, db.stmts.close())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database %s: %w", db.path, err)
	}
	return nil
}

func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now().UTC()
	}
	return db.Now().UTC()
}

// timeFormat is RFC 3339 with a fixed nine-digit fraction, so that stored
// times also sort correctly as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// inTx runs fn in a write transaction, committing when it returns nil and
// rolling back otherwise, so that a failure never leaves half a change.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
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

// Setting returns the value of a server setting; ok is false when it is not
// set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read setting %q: %w", key, err)
	}
	return value, true, nil
}

// DeleteSetting removes a server setting; one that is not set is no error.
func (db *DB) DeleteSetting(ctx context.Context, key string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
		return fmt.Errorf("delete setting %q: %w", key, err)
	}
	return nil
}

// PutSetting sets a server setting, replacing any previous value.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("write setting: %w", hookline.Errorf(hookline.EINVALID, "a setting needs a key"))
	}
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO settings (key, value, modified_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at`,
		key, value, formatTime(db.now()))
	if err != nil {
		return fmt.Errorf("write setting %q: %w", key, err)
	}
	return nil
}

// Helpers the stores of this package share.

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

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

// parseStamps parses a row's created_at and modified_at; row names it in
// errors ("user 0192F1C2A1B2C3D4").
func parseStamps(row, createdAt, modifiedAt string) (created, modified time.Time, err error) {
	if created, err = parseTime(createdAt); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%s: created_at: %w", row, err)
	}
	if modified, err = parseTime(modifiedAt); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%s: modified_at: %w", row, err)
	}
	return created, modified, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isUniqueConflict reports whether err is a UNIQUE index violation (not
// the primary key's, which reports SQLITE_CONSTRAINT_PRIMARYKEY).
func isUniqueConflict(err error) bool {
	var se *sqlitedriver.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// unusedIDIn draws IDs until one is free in table. With 64 random bits a
// second draw all but never happens, but a collision must not surface as
// an error.
func unusedIDIn(ctx context.Context, tx *sql.Tx, table string) (string, error) {
	for range 5 {
		id, err := rowid.New()
		if err != nil {
			return "", err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, id).Scan(&n); err != nil {
			return "", fmt.Errorf("check ID: %w", err)
		}
		if n == 0 {
			return id, nil
		}
	}
	return "", errors.New("generate ID: five random IDs were all taken")
}

// byName is the keyset paging that connections, users, sources and
// monitors share: rows of table ordered by (keyColumn, id), keyColumn
// holding the lower-cased name, with the limit and token rules of
// Connections. Keyset paging keeps pages stable while rows are added or
// removed between requests.
type byName[T any] struct {
	what      string // "connections": the plural in errors
	table     string
	columns   string
	keyColumn string // name_key, email_key
	scan      func(scanner) (T, error)
	key       func(T) pageKey // the last row's position, for the next token
}

// query selects one row more than limit, to show whether another page
// follows; it walks the unique index on (keyColumn) and id.
func (b byName[T]) query(after *pageKey, limit int) (string, []any) {
	query := `SELECT ` + b.columns + ` FROM ` + b.table + ` `
	var args []any
	if after != nil {
		query += `WHERE (` + b.keyColumn + `, id) > (?, ?) `
		args = append(args, after.NameKey, after.ID)
	}
	return query + `ORDER BY ` + b.keyColumn + `, id LIMIT ?`, append(args, limit+1)
}

// list returns one page and the token of the next ("" after the last).
func (b byName[T]) list(ctx context.Context, q querier, opt hookline.ListOptions) ([]T, string, error) {
	var p hookline.Problems
	limit := listpage.Limit(&p, opt.Limit)
	after, err := decodeToken(opt.Token)
	if err != nil {
		p.AddError("token", err)
	}
	if err := p.Err(); err != nil {
		return nil, "", fmt.Errorf("list %s: %w", b.what, err)
	}
	query, args := b.query(after, limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", b.what, err)
	}
	list, more, err := listpage.Scan(rows, limit, b.scan)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", b.what, err)
	}
	next := ""
	if more {
		next = listpage.Encode(b.key(list[len(list)-1]))
	}
	return list, next, nil
}
