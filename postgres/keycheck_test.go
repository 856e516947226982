package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/postgres/pgtest"
	"github.com/hookline/hookline/storetest"
)

// keyringOf returns a keyring whose primary key is made of seed bytes and
// whose old keys are made of olds.
func keyringOf(t *testing.T, seed byte, olds ...byte) *keyring.Keyring {
	t.Helper()
	return storetest.KeyringOf(t, seed, olds...)
}

func keyID(t *testing.T, seed byte) string { return keyringOf(t, seed).KeyID() }

// rawDB connects to the database at url directly, bypassing the store, as
// an operator with psql (or a damaged backup) might change it.
func rawDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func rawExec(t *testing.T, url, query string, args ...any) {
	t.Helper()
	if _, err := rawDB(t, url).Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// sealedKeyIDs returns the key IDs that sealed the database's key check and
// its secrets, read from the tables directly: "check" for the former (""
// when there is none) and the sorted, distinct IDs of the latter.
func sealedKeyIDs(t *testing.T, url string) (check string, secrets []string) {
	t.Helper()
	raw := rawDB(t, url)
	var v string
	switch err := raw.QueryRow(`SELECT value FROM settings WHERE key = 'keyring_check'`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		t.Fatal(err)
	default:
		if check, err = keyring.KeyIDOf(v); err != nil {
			t.Fatalf("key check: %v", err)
		}
	}
	rows, err := raw.Query(`SELECT s.value FROM connections, jsonb_each_text(connections.secrets) AS s`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		id, err := keyring.KeyIDOf(v)
		if err != nil {
			t.Fatalf("stored secret: %v", err)
		}
		if !slices.Contains(secrets, id) {
			secrets = append(secrets, id)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(secrets)
	return check, secrets
}

// keyCheckEngine is this engine as storetest.TestKeyCheck sees it.
var keyCheckEngine = storetest.KeyCheckEngine{
	NewDatabase: func(t *testing.T) string { return pgtest.NewDatabase(t) },
	Open: func(ctx context.Context, url string, kr *keyring.Keyring) (storetest.KeyCheckStore, error) {
		return postgres.Open(ctx, url, kr)
	},
	SealedKeyIDs: sealedKeyIDs,
	SetKeyCheck: func(t *testing.T, url, value string) {
		if value == "" {
			rawExec(t, url, `DELETE FROM settings WHERE key = 'keyring_check'`)
			return
		}
		rawExec(t, url, `UPDATE settings SET value = $1 WHERE key = 'keyring_check'`, value)
	},
}

func TestKeyCheck(t *testing.T) { storetest.TestKeyCheck(t, keyCheckEngine) }

// newDB creates a database sealed with key 1 (storetest.NewKeyedDatabase)
// and returns its url and the ID of connection A.
func newDB(t *testing.T) (string, string) { return storetest.NewKeyedDatabase(t, keyCheckEngine) }

// canRead checks that kr opens the database at url and reads A's secret.
func canRead(t *testing.T, url, id string, kr *keyring.Keyring) {
	t.Helper()
	storetest.CanReadWith(t, keyCheckEngine, url, id, kr)
}

// The database's error names it as what the key was created with.
func TestOpenWrongKeyNamesDatabase(t *testing.T) {
	url, _ := newDB(t)
	db, err := postgres.Open(t.Context(), url, keyringOf(t, 3))
	if err == nil {
		db.Close()
		t.Fatal("Open with another key succeeded")
	}
	const want = "set HOOKLINE_MASTER_KEY to the key this database was created with"
	if !errors.Is(err, postgres.ErrWrongKey) || !strings.Contains(err.Error(), want) {
		t.Errorf("Open with another key: %v; want postgres.ErrWrongKey saying %q", err, want)
	}
}

func mustSeal(t *testing.T, kr *keyring.Keyring, plain, aad string) string {
	t.Helper()
	s, err := kr.Seal([]byte(plain), aad)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
