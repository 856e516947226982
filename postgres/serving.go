package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The serving lock keeps a key rotation and running servers apart. Every
// serving process holds it shared, for as long as it runs, on a connection
// of its own: any number of replicas at once. Rotate takes it exclusively
// for its transaction, and is refused while any server holds it, because
// a server running through a rotation would go on sealing new secrets with
// the key the rotation retires. A crashed server's hold goes with its
// connection.

// ErrServing is Rotate's answer while a server runs on the database.
var ErrServing = errors.New("a hookline server is running on this database")

// ErrRotating is HoldServing's answer while a rotation runs.
var ErrRotating = errors.New("a key rotation is running on this database")

// HoldServing takes the serving lock, shared, until Close.
func (db *DB) HoldServing(ctx context.Context) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("hold database %s: %w", db.name, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock_shared($1)`, lockServing).Scan(&ok); err != nil {
		conn.Close()
		return fmt.Errorf("hold database %s: %w", db.name, err)
	}
	if !ok {
		conn.Close()
		return fmt.Errorf("hold database %s: %w; start the server again once it has finished", db.name, ErrRotating)
	}
	db.serving = conn
	return nil
}

// releaseServing gives up HoldServing's lock. It is released by name
// first: the server ends a closed connection's session a moment later, and
// a rotation right after the last server stopped must find it free.
func (db *DB) releaseServing() error {
	if db.serving == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, uerr := db.serving.ExecContext(ctx, `SELECT pg_advisory_unlock_shared($1)`, lockServing)
	cerr := db.serving.Close()
	db.serving = nil
	if errors.Is(cerr, sql.ErrConnDone) {
		cerr = nil
	}
	return errors.Join(uerr, cerr)
}

// lockOutServers takes the serving lock exclusively for tx, or fails with
// ErrServing while a server holds it.
func lockOutServers(ctx context.Context, tx *sql.Tx) error {
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, lockServing).Scan(&ok); err != nil {
		return fmt.Errorf("lock out servers: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w; stop every server on it (on every machine) first", ErrServing)
	}
	return nil
}

// CheckNoServers fails with ErrServing while a server holds the serving
// lock: what Rotate would find, asked before a rotation starts.
func (db *DB) CheckNoServers(ctx context.Context) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("check for servers on %s: %w", db.name, err)
	}
	defer conn.Close()
	var free bool
	err = conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, lockServing).Scan(&free)
	if err == nil && free {
		_, err = conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, lockServing)
	}
	if err != nil {
		return fmt.Errorf("check for servers on %s: %w", db.name, err)
	}
	if !free {
		return fmt.Errorf("%w; stop every server on it (on every machine) first", ErrServing)
	}
	return nil
}
