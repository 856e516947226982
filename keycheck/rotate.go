package keycheck

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline/keyring"
)

// ErrRotationUncertain means that the commit of a rotation failed in a way
// that does not tell whether it took effect: the database may be sealed with
// either key, so both must be kept. A keyring holding both opens it, and
// opening the database with it (the engine's Open) then reseals it under
// that keyring's primary key.
var ErrRotationUncertain = errors.New("the rotation may or may not have been committed")

// Rotation is what a rotation resealed.
type Rotation struct {
	KeyID       string // the key that seals every value now
	Connections int    // connections whose secrets were resealed
	Secrets     int    // secret values resealed, the key check not counted
}

// Rotate opens every sealed value of s with c.Keyring and writes it back
// sealed with next's primary key: the secrets of every connection, then
// the check value. The caller runs it in one write transaction, with the
// locks its engine needs, after Check has run with c.Keyring (so that
// there is a check value to replace), and commits only when it succeeds.
//
// Every value must open with c.Keyring. One that does not (sealed with a
// key the keyring lacks, or damaged), or a connection whose secrets do not
// decode, fails the rotation before it is committed: resealing the rest
// would leave that one behind under a key that is about to be dropped.
func (c Checker) Rotate(ctx context.Context, s Store, next *keyring.Keyring) (Rotation, error) {
	rot := Rotation{KeyID: next.KeyID()}
	list, err := s.Secrets(ctx)
	if err != nil {
		return Rotation{}, err
	}
	for _, r := range list {
		if r.Undecodable {
			// Not the JSON error: it quotes the text around the fault.
			return Rotation{}, fmt.Errorf("connection %s: the secrets column is not a JSON object of strings; "+
				"delete the connection (or fix the row) and rotate again", r.ID)
		}
	}
	for _, r := range list {
		for name, v := range r.Secrets {
			aad := c.SecretAAD(r.ID, name)
			plain, err := c.Keyring.Open(v, aad)
			if err != nil {
				return Rotation{}, fmt.Errorf("connection %s: secret %q does not open (%w); give the key that sealed it in "+
					"HOOKLINE_MASTER_KEY_OLD, or delete the connection, and rotate again", r.ID, name, err)
			}
			if r.Secrets[name], err = next.Seal(plain, aad); err != nil {
				return Rotation{}, fmt.Errorf("connection %s: seal secret %q: %w", r.ID, name, err)
			}
			rot.Secrets++
		}
		if err := s.WriteSecrets(ctx, r); err != nil {
			return Rotation{}, fmt.Errorf("connection %s: write secrets: %w", r.ID, err)
		}
		rot.Connections++
	}
	check, err := next.Seal([]byte(Value), AAD)
	if err != nil {
		return Rotation{}, fmt.Errorf("seal key check: %w", err)
	}
	if err := s.WriteCheck(ctx, check); err != nil {
		return Rotation{}, fmt.Errorf("write key check: %w", err)
	}
	return rot, nil
}
