package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hookline/hookline/keyring"
)

// ErrWrongKey means the keyring given to Open cannot open the secrets this
// database holds: the master key is not the one the database was first
// opened with, and the old one was not given as an old key. Open fails
// with it at once, rather than every read of a secret failing later.
var ErrWrongKey = errors.New("the master key does not open this database's secrets")

// Settings rows the key check owns; the same as SQLite's.
const (
	// settingKeyCheck holds keyCheckValue sealed with the keyring's primary
	// key: whether the keyring opens it tells at Open whether it opens the
	// database's secrets, which are sealed with the same key.
	settingKeyCheck = "keyring_check"
	keyCheckAAD     = "settings/" + settingKeyCheck
	keyCheckValue   = "hookline keyring check v1"
)

// wrongKeyError says which keys were tried and which key the database
// needs; key IDs are one-way fingerprints, safe to print.
type wrongKeyError struct {
	tried      []string // key IDs the keyring holds, the primary key's first
	sealedWith string   // key ID the database's values were sealed with
	cause      error
}

func (e *wrongKeyError) Error() string {
	keys := fmt.Sprintf("the master key (key id %s) does not", e.tried[0])
	if len(e.tried) > 1 {
		keys = fmt.Sprintf("neither the master key (key id %s) nor the old keys (key ids %s)",
			e.tried[0], strings.Join(e.tried[1:], ", "))
	}
	return fmt.Sprintf("%s open this database's secrets (they were sealed with key id %s); "+
		"set HOOKLINE_MASTER_KEY to the key this database was created with", keys, e.sealedWith)
}

func (e *wrongKeyError) Unwrap() []error { return []error{ErrWrongKey, e.cause} }

// checkKey makes sure that db.kr opens the database's secrets, and leaves
// every value sealed with an old key of the keyring resealed with its
// primary key. It runs in one write transaction under the key-check
// advisory lock, so that processes opening the database at once check and
// reseal in turn, each seeing what the one before committed.
//
// The check value is written on the first open. A database that has none
// (the row was deleted) is checked against the secrets it stores instead,
// so that a wrong key is never sealed into it as the check value.
//
// Resealing with the primary key keeps the check truthful: once the check
// value opens with the primary key alone, so do the secrets, and the old key
// can be dropped. A secret that does not open for another reason (a damaged
// row) is left for reads to report.
func (db *DB) checkKey(ctx context.Context) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := advisoryLock(ctx, tx, lockKeyCheck); err != nil {
			return err
		}
		var check string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, settingKeyCheck).Scan(&check)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read key check: %w", err)
		}
		if found {
			v, err := db.kr.Open(check, keyCheckAAD)
			switch {
			case errors.Is(err, keyring.ErrUnknownKey):
				id, _ := keyring.KeyIDOf(check) // Open has parsed it
				return &wrongKeyError{tried: db.kr.KeyIDs(), sealedWith: id, cause: err}
			case err != nil || string(v) != keyCheckValue:
				if err == nil {
					err = errors.New("unexpected value")
				}
				return fmt.Errorf("the key check (settings row %q) is damaged: %w; if the master key is right, "+
					"delete that row and start again, and Hookline checks the key against the stored secrets instead",
					settingKeyCheck, err)
			}
		}
		rows, err := storedSecrets(ctx, tx, false)
		if err != nil {
			return err
		}
		if !found {
			for _, r := range rows {
				for name, v := range r.secrets {
					if _, err := db.kr.Open(v, secretAAD(r.id, name)); errors.Is(err, keyring.ErrUnknownKey) {
						id, _ := keyring.KeyIDOf(v)
						return &wrongKeyError{tried: db.kr.KeyIDs(), sealedWith: id, cause: err}
					}
				}
			}
		}
		if err := db.reseal(ctx, tx, rows); err != nil {
			return err
		}
		if id, _ := keyring.KeyIDOf(check); found && id == db.kr.KeyID() {
			return nil // checked, and already sealed with the primary key
		}
		check, err = db.kr.Seal([]byte(keyCheckValue), keyCheckAAD)
		if err != nil {
			return fmt.Errorf("seal key check: %w", err)
		}
		if err := putSetting(ctx, tx, settingKeyCheck, check, db.now()); err != nil {
			return fmt.Errorf("write key check: %w", err)
		}
		return nil
	})
}

// secretsRow is the sealed secrets of one connection.
type secretsRow struct {
	id      string
	secrets map[string]string
}

// storedSecrets returns the sealed secrets of every connection that has
// some, locking their rows until tx ends so that no update in between is
// overwritten. A row whose secrets do not decode is skipped (reads report
// it), or with strict an error.
func storedSecrets(ctx context.Context, tx *sql.Tx, strict bool) ([]secretsRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, secrets FROM connections WHERE secrets <> '{}' ORDER BY id FOR UPDATE`)
	if err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	defer rows.Close()
	var list []secretsRow
	for rows.Next() {
		var r secretsRow
		var secrets string
		if err := rows.Scan(&r.id, &secrets); err != nil {
			return nil, fmt.Errorf("read secrets: %w", err)
		}
		if json.Unmarshal([]byte(secrets), &r.secrets) != nil {
			if strict {
				// Not the JSON error: it quotes the text around the fault.
				return nil, fmt.Errorf("connection %s: the secrets column is not a JSON object of strings; "+
					"delete the connection (or fix the row) and rotate again", r.id)
			}
			continue
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	return list, nil
}

// reseal seals again with the primary key every secret in rows that an old
// key of the keyring sealed, and writes back each row it changed.
func (db *DB) reseal(ctx context.Context, tx *sql.Tx, rows []secretsRow) error {
	for _, r := range rows {
		changed := false
		for name, v := range r.secrets {
			if id, err := keyring.KeyIDOf(v); err != nil || id == db.kr.KeyID() {
				continue
			}
			aad := secretAAD(r.id, name)
			plain, err := db.kr.Open(v, aad)
			if err != nil {
				continue
			}
			if r.secrets[name], err = db.kr.Seal(plain, aad); err != nil {
				return fmt.Errorf("reseal secret %q of connection %s: %w", name, r.id, err)
			}
			changed = true
		}
		if !changed {
			continue
		}
		if err := writeSecrets(ctx, tx, r); err != nil {
			return fmt.Errorf("reseal secrets of connection %s: %w", r.id, err)
		}
	}
	return nil
}

func writeSecrets(ctx context.Context, tx *sql.Tx, r secretsRow) error {
	secrets, err := marshalMap(r.secrets)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE connections SET secrets = $1 WHERE id = $2`, secrets, r.id)
	return err
}
