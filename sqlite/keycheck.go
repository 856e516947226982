package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline/connrow"
	"github.com/hookline/hookline/keycheck"
)

// ErrWrongKey means the keyring given to Open cannot open the secrets this
// database holds: the master key is not the one the data directory was
// created with, and the old one was not given as an old key. Open fails
// with it at once, rather than every read of a secret failing later. It is
// keycheck.ErrWrongKey, the same for both engines.
var ErrWrongKey = keycheck.ErrWrongKey

// Settings rows the key check owns (see package keycheck).
const (
	settingKeyCheck = keycheck.Setting
	keyCheckAAD     = keycheck.AAD
	keyCheckValue   = keycheck.Value
)

// checkKey makes sure that db.kr opens the database's secrets, resealing
// what an old key sealed (keycheck.Checker.Check). It runs in one write
// transaction, so that processes opening the database at once check and
// reseal in turn.
func (db *DB) checkKey(ctx context.Context) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		c := keycheck.Checker{Keyring: db.kr, SecretAAD: connrow.SecretAAD, Home: "data directory"}
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
	err := s.tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingKeyCheck).Scan(&check)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return check, err == nil, err
}

func (s keyStore) Secrets(ctx context.Context) ([]keycheck.Sealed, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT id, secrets FROM connections WHERE secrets <> '{}' ORDER BY id`)
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
	_, err = s.tx.ExecContext(ctx, `UPDATE connections SET secrets = ? WHERE id = ?`, secrets, r.ID)
	return err
}

func (s keyStore) WriteCheck(ctx context.Context, value string) error {
	_, err := s.tx.ExecContext(ctx, `
		INSERT INTO settings (key, value, modified_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, modified_at = excluded.modified_at`,
		settingKeyCheck, value, formatTime(s.db.now()))
	return err
}
