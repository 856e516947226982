package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/keycheck"
	"github.com/hookline/hookline/keyring"
)

// ErrRotationUncertain means that the commit of a rotation failed in a way
// that does not tell whether it took effect: the database may be sealed with
// either key, so both must be kept. A keyring holding both opens it, and
// sqlite.Open then re-seals it under that keyring's primary key. It is
// keycheck.ErrRotationUncertain, the same for both engines.
var ErrRotationUncertain = keycheck.ErrRotationUncertain

// Rotation is what Rotate re-sealed (keycheck.Rotation).
type Rotation = keycheck.Rotation

// Rotate re-seals every sealed value of the database at path under next's
// primary key, in one transaction: the secrets of every connection and the
// key check (keycheck.Checker.Rotate). Open runs first with current, so the
// database must open with current (see Open); the caller must make sure no
// other process uses the database.
//
// Every value must open with current. One that does not (sealed with a key
// current lacks, or damaged) fails the rotation and nothing changes:
// re-sealing the rest would leave it behind under a key that is about to be
// dropped. An error wrapping ErrRotationUncertain means the commit failed
// and may have taken effect; any other error means nothing changed.
func Rotate(ctx context.Context, path string, current, next *keyring.Keyring) (Rotation, error) {
	if next == nil {
		return Rotation{}, errors.New("rotate: no new keyring")
	}
	db, err := Open(ctx, path, current)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate: %w", err)
	}
	defer db.Close()
	if next.KeyID() == db.kr.KeyID() {
		return Rotation{}, fmt.Errorf("rotate: the new key is the current key (key id %s)", next.KeyID())
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate: begin: %w", err)
	}
	c := keycheck.Checker{Keyring: db.kr, SecretAAD: connrow.SecretAAD}
	rot, err := c.Rotate(ctx, keyStore{tx: tx, db: db}, next)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate: %w", errors.Join(err, rollback(tx)))
	}
	if err := tx.Commit(); err != nil {
		return Rotation{}, fmt.Errorf("rotate: commit: %w: %w", ErrRotationUncertain, err)
	}
	// The commit is durable (synchronous=FULL): the deferred Close only
	// checkpoints the WAL, and its failure would change nothing.
	return rot, nil
}
