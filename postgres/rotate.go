package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/keycheck"
	"github.com/hookline/hookline/keyring"
)

// ErrRotationUncertain means that the commit of a rotation failed in a way
// that does not tell whether it took effect: the database may be sealed with
// either key, so both must be kept. A keyring holding both opens it, and
// Open then re-seals it under that keyring's primary key. It is
// keycheck.ErrRotationUncertain, the same for both engines.
var ErrRotationUncertain = keycheck.ErrRotationUncertain

// Rotation is what Rotate re-sealed (keycheck.Rotation).
type Rotation = keycheck.Rotation

// Rotate re-seals every sealed value of the database at databaseURL under
// next's primary key, in one transaction: the secrets of every connection
// and the key check (keycheck.Checker.Rotate). Open runs first with
// current, so the database must open with current (see Open).
//
// The transaction takes the key-check lock and locks every connection row
// it re-seals, so it is consistent against other processes. A server still
// running with current would seal new secrets with current's key, which is
// about to be dropped: Rotate fails with ErrServing, changing nothing,
// while any server holds the serving lock (HoldServing).
//
// Every value must open with current. One that does not (sealed with a key
// current lacks, or damaged) fails the rotation and nothing changes. An
// error wrapping ErrRotationUncertain means the commit failed and may have
// taken effect; any other error means nothing changed.
func Rotate(ctx context.Context, databaseURL string, current, next *keyring.Keyring) (Rotation, error) {
	if next == nil {
		return Rotation{}, errors.New("rotate: no new keyring")
	}
	db, err := Open(ctx, databaseURL, current)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate: %w", err)
	}
	defer db.Close()
	if next.KeyID() == db.kr.KeyID() {
		return Rotation{}, fmt.Errorf("rotate: the new key is the current key (key id %s)", next.KeyID())
	}
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate: begin: %w", err)
	}
	rot, err := db.resealAll(ctx, tx, next)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate: %w", errors.Join(err, rollback(tx)))
	}
	if err := tx.Commit(); err != nil {
		return Rotation{}, fmt.Errorf("rotate: commit: %w: %w", ErrRotationUncertain, err)
	}
	return rot, nil
}

// resealAll shuts out the servers, takes the key-check lock and reseals
// every value under next in tx.
func (db *DB) resealAll(ctx context.Context, tx *sql.Tx, next *keyring.Keyring) (Rotation, error) {
	if err := lockOutServers(ctx, tx); err != nil {
		return Rotation{}, err
	}
	if err := advisoryLock(ctx, tx, lockKeyCheck); err != nil {
		return Rotation{}, err
	}
	c := keycheck.Checker{Keyring: db.kr, SecretAAD: connrow.SecretAAD}
	return c.Rotate(ctx, keyStore{tx: tx, db: db}, next)
}
