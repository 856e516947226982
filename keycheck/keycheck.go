// Package keycheck owns checking, when a database opens, that a keyring
// opens the secrets the database holds: the check value sealed into the
// settings row "keyring_check", the error that names the keys tried and
// the key needed (ErrWrongKey), the resealing under the keyring's primary
// key of every value an old key sealed, and the rotation of every sealed
// value to a new keyring (Checker.Rotate, Rotation, ErrRotationUncertain).
// The storage engines keep the transaction, its locks and the SQL, behind
// Store; the algorithm is here, once.
package keycheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hookline/hookline/keyring"
)

// ErrWrongKey means the keyring cannot open the secrets a database holds:
// the master key is not the one the database was created with, and the old
// one was not given as an old key. Open fails with it at once, rather than
// every read of a secret failing later.
var ErrWrongKey = errors.New("the master key does not open this database's secrets")

// The settings row the check owns, and what is sealed into it. Both
// engines store it alike; changing any of these changes the stored format.
const (
	// Setting is the key of the settings row that holds Value sealed with
	// the keyring's primary key: whether the keyring opens it tells whether
	// it opens the database's secrets, which are sealed with the same key.
	Setting = "keyring_check"
	AAD     = "settings/" + Setting
	Value   = "hookline keyring check v1"
)

// Sealed is the sealed secrets of one connection, by field name.
type Sealed struct {
	ID      string // the connection's
	Secrets map[string]string
	// Undecodable is set, and Secrets nil, when the row's secrets column
	// is not a JSON object of strings. Check leaves such a row for reads
	// to report; Rotate refuses it, as it would be left behind under a key
	// about to be dropped.
	Undecodable bool
}

// Store is a database as the check sees it, inside the one write
// transaction the check runs in.
type Store interface {
	// Check returns the stored check value; found is false when there is
	// none.
	Check(ctx context.Context) (value string, found bool, err error)
	// Secrets returns the sealed secrets of every connection that has
	// some, ordered by ID; a row whose secrets do not decode comes marked
	// Undecodable.
	Secrets(ctx context.Context) ([]Sealed, error)
	// WriteSecrets replaces the sealed secrets of connection s.ID.
	WriteSecrets(ctx context.Context, s Sealed) error
	// WriteCheck stores value as the check value, replacing any.
	WriteCheck(ctx context.Context, value string) error
}

// Checker checks one engine's databases.
type Checker struct {
	Keyring *keyring.Keyring
	// SecretAAD is the additional data a connection's secret was sealed
	// with.
	SecretAAD func(connectionID, name string) string
	// Home is what the master key was created with, as the wrong-key error
	// names it: "data directory", "database".
	Home string
}

// Check makes sure that c.Keyring opens the secrets of s, and leaves every
// value sealed with an old key of the keyring resealed with its primary
// key. The caller runs it in one write transaction, so that processes
// opening the database at once check and reseal in turn.
//
// The check value is written on the first open. A database that has none
// (it predates the check, or the row was deleted) is checked against the
// secrets it stores instead, so that a wrong key is never sealed into it as
// the check value.
//
// Resealing with the primary key keeps the check truthful: once the check
// value opens with the primary key alone, so do the secrets, and the old key
// can be dropped. A secret that does not open for another reason (a damaged
// row) is left for reads to report.
func (c Checker) Check(ctx context.Context, s Store) error {
	check, found, err := s.Check(ctx)
	if err != nil {
		return fmt.Errorf("read key check: %w", err)
	}
	if found {
		v, err := c.Keyring.Open(check, AAD)
		switch {
		case errors.Is(err, keyring.ErrUnknownKey):
			return c.wrongKey(check, err)
		case err != nil || string(v) != Value:
			if err == nil {
				err = errors.New("unexpected value")
			}
			return fmt.Errorf("the key check (settings row %q) is damaged: %w; if the master key is right, "+
				"delete that row and start again, and Hookline checks the key against the stored secrets instead",
				Setting, err)
		}
	}
	rows, err := s.Secrets(ctx)
	if err != nil {
		return err
	}
	if !found {
		for _, r := range rows {
			for name, v := range r.Secrets {
				if _, err := c.Keyring.Open(v, c.SecretAAD(r.ID, name)); errors.Is(err, keyring.ErrUnknownKey) {
					return c.wrongKey(v, err)
				}
			}
		}
	}
	if err := c.reseal(ctx, s, rows); err != nil {
		return err
	}
	if id, _ := keyring.KeyIDOf(check); found && id == c.Keyring.KeyID() {
		return nil // checked, and already sealed with the primary key
	}
	check, err = c.Keyring.Seal([]byte(Value), AAD)
	if err != nil {
		return fmt.Errorf("seal key check: %w", err)
	}
	if err := s.WriteCheck(ctx, check); err != nil {
		return fmt.Errorf("write key check: %w", err)
	}
	return nil
}

// reseal seals again with the primary key every secret in rows that an old
// key of the keyring sealed, and writes back each row it changed.
func (c Checker) reseal(ctx context.Context, s Store, rows []Sealed) error {
	for _, r := range rows {
		changed := false
		for name, v := range r.Secrets {
			if id, err := keyring.KeyIDOf(v); err != nil || id == c.Keyring.KeyID() {
				continue
			}
			aad := c.SecretAAD(r.ID, name)
			plain, err := c.Keyring.Open(v, aad)
			if err != nil {
				continue
			}
			if r.Secrets[name], err = c.Keyring.Seal(plain, aad); err != nil {
				return fmt.Errorf("reseal secret %q of connection %s: %w", name, r.ID, err)
			}
			changed = true
		}
		if !changed {
			continue
		}
		if err := s.WriteSecrets(ctx, r); err != nil {
			return fmt.Errorf("reseal secrets of connection %s: %w", r.ID, err)
		}
	}
	return nil
}

// wrongKey is the error of a sealed value that no key of the keyring opens.
func (c Checker) wrongKey(sealed string, cause error) error {
	id, _ := keyring.KeyIDOf(sealed) // Open has parsed it
	return &wrongKeyError{tried: c.Keyring.KeyIDs(), sealedWith: id, home: c.Home, cause: cause}
}

// wrongKeyError says which keys were tried and which key the database
// needs; key IDs are one-way fingerprints, safe to print.
type wrongKeyError struct {
	tried      []string // key IDs the keyring holds, the primary key's first
	sealedWith string   // key ID the database's values were sealed with
	home       string   // Checker.Home
	cause      error
}

func (e *wrongKeyError) Error() string {
	keys := fmt.Sprintf("the master key (key id %s) does not", e.tried[0])
	if len(e.tried) > 1 {
		keys = fmt.Sprintf("neither the master key (key id %s) nor the old keys (key ids %s)",
			e.tried[0], strings.Join(e.tried[1:], ", "))
	}
	return fmt.Sprintf("%s open this database's secrets (they were sealed with key id %s); "+
		"set HOOKLINE_MASTER_KEY to the key this %s was created with", keys, e.sealedWith, e.home)
}

func (e *wrongKeyError) Unwrap() []error { return []error{ErrWrongKey, e.cause} }

// Decode reads the secrets column of connection id as Secrets returns it:
// marked Undecodable when the column is not a JSON object of strings.
func Decode(id, secrets string) Sealed {
	r := Sealed{ID: id}
	if json.Unmarshal([]byte(secrets), &r.Secrets) != nil {
		r.Secrets, r.Undecodable = nil, true
	}
	return r
}
