package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline/keyring"
)

// ErrRotationUncertain means that the commit of a rotation failed in a way
// that does not tell whether it took effect: the database may be sealed with
// either key, so both must be kept. A keyring holding both opens it, and
// Open then re-seals it under that keyring's primary key.
var ErrRotationUncertain = errors.New("the rotation may or may not have been committed")

// Rotation is what Rotate re-sealed.
type Rotation struct {
	KeyID       string // the key that seals every value now
	Connections int    // connections whose secrets were re-sealed
	Secrets     int    // secret values re-sealed, the key check not counted
}

// Rotate re-seals every sealed value of the database at databaseURL under
// next's primary key, in one transaction: the secrets of every connection
// and the key check. Open runs first with current, so the database must
// open with current (see Open).
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
	rot := Rotation{KeyID: next.KeyID()}
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate: begin: %w", err)
	}
	if err := lockOutServers(ctx, tx); err != nil {
		return Rotation{}, fmt.Errorf("rotate: %w", errors.Join(err, rollback(tx)))
	}
	if err := db.resealAll(ctx, tx, next, &rot); err != nil {
		return Rotation{}, fmt.Errorf("rotate: %w", errors.Join(err, rollback(tx)))
	}
	if err := tx.Commit(); err != nil {
		return Rotation{}, fmt.Errorf("rotate: commit: %w: %w", ErrRotationUncertain, err)
	}
	return rot, nil
}

// resealAll opens every sealed value with db's keyring and writes it back
// sealed with next, counting into rot.
func (db *DB) resealAll(ctx context.Context, tx *sql.Tx, next *keyring.Keyring, rot *Rotation) error {
	if err := advisoryLock(ctx, tx, lockKeyCheck); err != nil {
		return err
	}
	list, err := storedSecrets(ctx, tx, true)
	if err != nil {
		return err
	}
	for _, r := range list {
		for name, v := range r.secrets {
			aad := secretAAD(r.id, name)
			plain, err := db.kr.Open(v, aad)
			if err != nil {
				return fmt.Errorf("connection %s: secret %q does not open (%w); give the key that sealed it in "+
					"HOOKLINE_MASTER_KEY_OLD, or delete the connection, and rotate again", r.id, name, err)
			}
			if r.secrets[name], err = next.Seal(plain, aad); err != nil {
				return fmt.Errorf("connection %s: seal secret %q: %w", r.id, name, err)
			}
			rot.Secrets++
		}
		if err := writeSecrets(ctx, tx, r); err != nil {
			return fmt.Errorf("connection %s: write secrets: %w", r.id, err)
		}
		rot.Connections++
	}

	// Open wrote the key check (sealed with current's primary key) if it
	// was missing, so there is one to replace.
	check, err := next.Seal([]byte(keyCheckValue), keyCheckAAD)
	if err != nil {
		return fmt.Errorf("seal key check: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE settings SET value = $1, modified_at = $2 WHERE key = $3`,
		check, db.now(), settingKeyCheck)
	if err != nil {
		return fmt.Errorf("write key check: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("write key check: %d rows changed (%v); want 1", n, err)
	}
	return nil
}
