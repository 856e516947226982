package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// serverLockKey is the session advisory lock one serving process holds.
const serverLockKey = 0x686f6f6b6c696e65 // "hookline"

// ErrServerRunning is LockServer's answer when another process holds the
// lock.
var ErrServerRunning = errors.New("another hookline is serving this database")

// LockServer takes a session advisory lock on a connection of its own,
// held until Close, so that one `hookline serve` at a time works on the
// database. The dispatcher takes over the deliveries any other process
// held, which is right after that process stopped and wrong while it
// runs: until deliveries are leased, a second live server would send
// them twice. A crashed holder's lock goes with its connection.
func (db *DB) LockServer(ctx context.Context) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock database %s: %w", db.name, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(serverLockKey)).Scan(&ok); err != nil {
		conn.Close()
		return fmt.Errorf("lock database %s: %w", db.name, err)
	}
	if !ok {
		conn.Close()
		return fmt.Errorf("lock database %s: %w; stop it first (several servers on one database are not supported yet)", db.name, ErrServerRunning)
	}
	db.lockConn = conn
	return nil
}

// unlock releases LockServer's lock and closes its connection. The lock
// is released by name first: the server ends a closed connection's session
// a moment later, and a successor starting at once must find it free.
func (db *DB) unlock() error {
	if db.lockConn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, uerr := db.lockConn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, int64(serverLockKey))
	cerr := db.lockConn.Close()
	db.lockConn = nil
	if errors.Is(cerr, sql.ErrConnDone) {
		cerr = nil
	}
	if err := errors.Join(uerr, cerr); err != nil {
		return fmt.Errorf("unlock database %s: %w", db.name, err)
	}
	return nil
}
