package postgres_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/postgres/pgtest"
	"github.com/hookline/hookline/storetest"
)

// keyringOf returns a keyring whose primary key is made of seed bytes and
// whose old keys are made of olds.
func keyringOf(t *testing.T, seed byte, olds ...byte) *keyring.Keyring {
	t.Helper()
	var oldKeys [][]byte
	for _, o := range olds {
		oldKeys = append(oldKeys, bytes.Repeat([]byte{o}, keyring.KeySize))
	}
	kr, err := keyring.New(bytes.Repeat([]byte{seed}, keyring.KeySize), oldKeys...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
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

// newDB creates a database sealed with key 1 that holds two connections with
// secrets and one without, and returns its URL and the first connection.
func newDB(t *testing.T) (string, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	db, err := postgres.Open(t.Context(), url, keyringOf(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, b, none := storetest.Connection("A"), storetest.Connection("B"), storetest.Connection("None")
	b.Secrets = map[string]string{"secretAccessKey": "the secret of B", "password": "another"}
	none.Secrets = nil
	for _, c := range []*hookline.Connection{a, b, none} {
		if err := db.CreateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	return url, a.ID
}

// canRead checks that kr opens the database at url and reads A's secret.
func canRead(t *testing.T, url, id string, kr *keyring.Keyring) {
	t.Helper()
	db := mustOpen(t, url, kr)
	c, err := db.Connection(t.Context(), id)
	want := storetest.Connection("A").Secrets
	if err != nil || !maps.Equal(c.Secrets, want) {
		t.Fatalf("read with %v: %v, %v; want secrets %v", kr, c, err, want)
	}
	if _, _, err := db.Connections(t.Context(), hookline.ListOptions{}); err != nil {
		t.Fatalf("list with %v: %v", kr, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenChecksKey(t *testing.T) {
	tests := []struct {
		name string
		// prepare changes the database (sealed with key 1) before Open.
		prepare func(t *testing.T, url string)
		kr      *keyring.Keyring
		want    []string // in the message
	}{
		{
			name: "another key",
			kr:   keyringOf(t, 3),
			want: []string{"the master key (key id " + keyID(t, 3) + ") does not open this database's secrets",
				"sealed with key id " + keyID(t, 1), "set HOOKLINE_MASTER_KEY"},
		},
		{
			name: "other keys, old ones too",
			kr:   keyringOf(t, 3, 4, 5),
			want: []string{"neither the master key (key id " + keyID(t, 3) + ") nor the old keys (key ids ",
				keyID(t, 4), keyID(t, 5), "sealed with key id " + keyID(t, 1)},
		},
		{
			// A database whose check row was deleted is checked against its
			// secrets.
			name:    "no key check, another key",
			prepare: func(t *testing.T, url string) { rawExec(t, url, `DELETE FROM settings WHERE key = 'keyring_check'`) },
			kr:      keyringOf(t, 3),
			want:    []string{"key id " + keyID(t, 3), "sealed with key id " + keyID(t, 1), "HOOKLINE_MASTER_KEY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, id := newDB(t)
			if tt.prepare != nil {
				tt.prepare(t, url)
			}
			check, secrets := sealedKeyIDs(t, url)
			db, err := postgres.Open(t.Context(), url, tt.kr)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, postgres.ErrWrongKey) || !errors.Is(err, keyring.ErrUnknownKey) {
				t.Errorf("error %v does not wrap postgres.ErrWrongKey and keyring.ErrUnknownKey", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, seed := range []byte{1, 3, 4, 5} {
				key := bytes.Repeat([]byte{seed}, keyring.KeySize)
				for _, enc := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)} {
					if strings.Contains(err.Error(), enc) {
						t.Errorf("error %q holds a key", err)
					}
				}
			}
			// A failed Open changes nothing, and the right key still works.
			if c, s := sealedKeyIDs(t, url); c != check || !slices.Equal(s, secrets) {
				t.Errorf("after a failed Open, key IDs = %q, %q; want %q, %q unchanged", c, s, check, secrets)
			}
			canRead(t, url, id, keyringOf(t, 1))
			if c, _ := sealedKeyIDs(t, url); c != keyID(t, 1) {
				t.Errorf("key check after opening with the right key is sealed with %q; want %q", c, keyID(t, 1))
			}
		})
	}
}

func TestOpenWritesKeyCheck(t *testing.T) {
	url := pgtest.NewDatabase(t)
	mustOpen(t, url, keyringOf(t, 1)).Close()
	if c, _ := sealedKeyIDs(t, url); c != keyID(t, 1) {
		t.Fatalf("key check of a new database is sealed with %q; want the key's ID %q", c, keyID(t, 1))
	}
	// An empty database is sealed to its first key too.
	db, err := postgres.Open(t.Context(), url, keyringOf(t, 2))
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, postgres.ErrWrongKey) {
		t.Errorf("Open of a new, empty database with another key: %v; want postgres.ErrWrongKey", err)
	}
}

func TestOpenDamagedKeyCheck(t *testing.T) {
	for _, value := range []string{
		"garbage",
		// Sealed with key 1 but for another place: it does not open.
		mustSeal(t, keyringOf(t, 1), "hookline keyring check v1", "settings/other"),
	} {
		url, _ := newDB(t)
		rawExec(t, url, `UPDATE settings SET value = $1 WHERE key = 'keyring_check'`, value)
		db, err := postgres.Open(t.Context(), url, keyringOf(t, 1))
		if err == nil {
			db.Close()
			t.Fatal("Open with a damaged key check succeeded")
		}
		if errors.Is(err, postgres.ErrWrongKey) {
			t.Errorf("damaged key check reported as the wrong key: %v", err)
		}
		if !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "keyring_check") {
			t.Errorf("error %q does not say which row is damaged", err)
		}
	}
}

func TestOpenWithOldKeys(t *testing.T) {
	url, id := newDB(t)
	one, two := keyID(t, 1), keyID(t, 2)

	// An old key among others is used to open; nothing is resealed with a
	// key that is already the primary key.
	canRead(t, url, id, keyringOf(t, 1, 2))
	if c, s := sealedKeyIDs(t, url); c != one || !slices.Equal(s, []string{one}) {
		t.Fatalf("after opening with the primary key and an old one, key IDs = %q, %q; want all %q", c, s, one)
	}
	// A new master key with the old one kept: every value is resealed with
	// the new key, so that the old one can then be dropped.
	canRead(t, url, id, keyringOf(t, 2, 1))
	if c, s := sealedKeyIDs(t, url); c != two || !slices.Equal(s, []string{two}) {
		t.Fatalf("after rotating to key 2, key IDs = %q, %q; want all %q", c, s, two)
	}
	canRead(t, url, id, keyringOf(t, 2))
	if _, err := postgres.Open(t.Context(), url, keyringOf(t, 1)); !errors.Is(err, postgres.ErrWrongKey) ||
		!strings.Contains(err.Error(), "sealed with key id "+two) {
		t.Errorf("Open with the replaced key alone: %v; want postgres.ErrWrongKey naming key %s", err, two)
	}
	// The keys given the other way round, as when a rotation is undone,
	// open it and reseal it back.
	canRead(t, url, id, keyringOf(t, 1, 2))
	if c, s := sealedKeyIDs(t, url); c != one || !slices.Equal(s, []string{one}) {
		t.Fatalf("after rotating back to key 1, key IDs = %q, %q; want all %q", c, s, one)
	}
}

// Replicas starting at once with a new master key reseal in turn (the
// key-check lock), each seeing the previous one's work.
func TestOpenWithOldKeysConcurrently(t *testing.T) {
	url, id := newDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), url, keyringOf(t, 2, 1))
			if err == nil {
				_, err = db.Connection(t.Context(), id)
				err = errors.Join(err, db.Close())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Open with an old key: %v", err)
	}
	if c, s := sealedKeyIDs(t, url); c != keyID(t, 2) || !slices.Equal(s, []string{keyID(t, 2)}) {
		t.Errorf("key IDs = %q, %q; want all %q", c, s, keyID(t, 2))
	}
	canRead(t, url, id, keyringOf(t, 2))
}

func mustSeal(t *testing.T, kr *keyring.Keyring, plain, aad string) string {
	t.Helper()
	s, err := kr.Seal([]byte(plain), aad)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
