package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/storetest"
)

// keyringOf returns a keyring whose primary key is made of seed bytes and
// whose old keys are made of olds.
func keyringOf(t *testing.T, seed byte, olds ...byte) *keyring.Keyring {
	t.Helper()
	return storetest.KeyringOf(t, seed, olds...)
}

func keyID(t *testing.T, seed byte) string { return keyringOf(t, seed).KeyID() }

// sealedKeyIDs returns the key IDs that sealed the database's key check and
// its secrets, read from the file directly: "check" for the former (""
// when there is none) and the sorted, distinct IDs of the latter.
func sealedKeyIDs(t *testing.T, path string) (check string, secrets []string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
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
	rows, err := raw.Query(`SELECT value FROM connections, json_each(connections.secrets)`)
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
	NewDatabase: func(t *testing.T) string { return filepath.Join(t.TempDir(), "hookline.db") },
	Open: func(ctx context.Context, path string, kr *keyring.Keyring) (storetest.KeyCheckStore, error) {
		return sqlite.Open(ctx, path, kr)
	},
	SealedKeyIDs: sealedKeyIDs,
	SetKeyCheck: func(t *testing.T, path, value string) {
		if value == "" {
			rawExec(t, path, `DELETE FROM settings WHERE key = 'keyring_check'`)
			return
		}
		rawExec(t, path, `UPDATE settings SET value = ? WHERE key = 'keyring_check'`, value)
	},
}

func TestKeyCheck(t *testing.T) { storetest.TestKeyCheck(t, keyCheckEngine) }

// newDB creates a database sealed with key 1 (storetest.NewKeyedDatabase)
// and returns its path and the ID of connection A.
func newDB(t *testing.T) (string, string) { return storetest.NewKeyedDatabase(t, keyCheckEngine) }

// canRead checks that kr opens the database at path and reads A's secret.
func canRead(t *testing.T, path, id string, kr *keyring.Keyring) {
	t.Helper()
	storetest.CanReadWith(t, keyCheckEngine, path, id, kr)
}

// The data directory's error names it as what the key was created with.
func TestOpenWrongKeyNamesDataDirectory(t *testing.T) {
	path, _ := newDB(t)
	db, err := sqlite.Open(t.Context(), path, keyringOf(t, 3))
	if err == nil {
		db.Close()
		t.Fatal("Open with another key succeeded")
	}
	const want = "set HOOKLINE_MASTER_KEY to the key this data directory was created with"
	if !errors.Is(err, sqlite.ErrWrongKey) || !strings.Contains(err.Error(), want) {
		t.Errorf("Open with another key: %v; want sqlite.ErrWrongKey saying %q", err, want)
	}
}
