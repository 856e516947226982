package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/keycheck"
)

// ErrWrongKey means the keyring given to Open cannot open the secrets this
// database holds: the master key is not the one the database was first
// opened with, and the old one was not given as an old key. Open fails
// with it at once, rather than every read of a secret failing later. It is
// keycheck.ErrWrongKey, the same for both engines.
var ErrWrongKey = keycheck.ErrWrongKey

// Settings rows the key check owns (see package keycheck); the same as
// SQLite's.
const (
	settingKeyCheck = keycheck.Setting
	keyCheckAAD     = keycheck.AAD
	keyCheckValue   = keycheck.Value
)

// checkKey makes sure that db.kr opens the database's secrets, resealing
// what an old key sealed (keycheck.Checker.Check). It runs in one write
// transaction under the key-check advisory lock, so that processes opening
// the database at once check and reseal in turn, each seeing what the one
// before committed.
func (db *DB) checkKey(ctx context.Context) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := advisoryLock(ctx, tx, lockKeyCheck); err != nil {
			return err
		}
		c := keycheck.Checker{Keyring: db.kr, SecretAAD: connrow.SecretAAD, Home: "database"}
		return c.Check(ctx, keyStore{tx: tx, db: db})
	})
}

// keyStore is the database as the key check sees it, in tx.
type keyStore struct {
	tx *sql.Tx
	db *DB
}

func (s keyStore) Check(ctx context.Context) (string, bool, error) {
	var check string
	err := s.tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, settingKeyCheck).Scan(&check)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return check, err == nil, err
}

// Secrets locks the rows it returns until tx ends, so that no update in
// between is overwritten.
func (s keyStore) Secrets(ctx context.Context) ([]keycheck.Sealed, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT id, secrets FROM connections WHERE secrets <> '{}' ORDER BY id FOR UPDATE`)
	if err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	defer rows.Close()
	var list []keycheck.Sealed
	for rows.Next() {
		var id, secrets string
		if err := rows.Scan(&id, &secrets); err != nil {
			return nil, fmt.Errorf("read secrets: %w", err)
		}
		list = append(list, keycheck.Decode(id, secrets))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	return list, nil
}

func (s keyStore) WriteSecrets(ctx context.Context, r keycheck.Sealed) error {
	secrets, err := connrow.MarshalMap(r.Secrets)
	if err != nil {
		return err
	}
	_, err = s.tx.ExecContext(ctx, `UPDATE connections SET secrets = $1 WHERE id = $2`, secrets, r.ID)
	return err
}

func (s keyStore) WriteCheck(ctx context.Context, value string) error {
	return putSetting(ctx, s.tx, settingKeyCheck, value, s.db.now())
}
