package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keycheck"
	"github.com/hookline/hookline/keyring"
)

// KeyCheckEngine is what TestKeyCheck needs of an engine: databases it can
// create, open with a keyring, and read and change behind the store's back,
// as an operator (or a damaged backup) might.
type KeyCheckEngine struct {
	// NewDatabase returns the address (a path, a URL) of a new database that
	// does not exist yet or is empty, removed by t's cleanup.
	NewDatabase func(t *testing.T) string
	// Open opens the database at addr with kr, as the engine's Open does.
	Open func(ctx context.Context, addr string, kr *keyring.Keyring) (KeyCheckStore, error)
	// SealedKeyIDs returns the key IDs that sealed the key check ("" when
	// there is none) and the database's secrets (sorted, distinct), read
	// from the tables directly.
	SealedKeyIDs func(t *testing.T, addr string) (check string, secrets []string)
	// SetKeyCheck writes value into the key check's settings row directly;
	// "" deletes the row.
	SetKeyCheck func(t *testing.T, addr, value string)
}

// KeyCheckStore is an open database of KeyCheckEngine.
type KeyCheckStore interface {
	hookline.ConnectionStore
	Close() error
}

// TestKeyCheck checks what opening a database does with its keyring
// (package keycheck): a keyring that does not open the database's secrets
// fails Open with an error wrapping keycheck.ErrWrongKey and
// keyring.ErrUnknownKey that names key IDs, never keys, and changes
// nothing; a new database is sealed to its first key; a damaged check is
// reported as such, not as a wrong key; and opening with a new primary key
// and the old one reseals every value with the new one, in turn when
// processes open at once.
func TestKeyCheck(t *testing.T, e KeyCheckEngine) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e KeyCheckEngine)
	}{
		{"WrongKey", testKeyCheckWrongKey},
		{"NewDatabase", testKeyCheckNewDatabase},
		{"Damaged", testKeyCheckDamaged},
		{"OldKeys", testKeyCheckOldKeys},
		{"OldKeysConcurrently", testKeyCheckOldKeysConcurrently},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, e) })
	}
}

// KeyringOf returns a keyring whose primary key is made of seed bytes and
// whose old keys are made of olds.
func KeyringOf(t testing.TB, seed byte, olds ...byte) *keyring.Keyring {
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

func keyIDOf(t *testing.T, seed byte) string { return KeyringOf(t, seed).KeyID() }

// NewKeyedDatabase creates a database of e sealed with KeyringOf(t, 1)
// that holds three connections, Connection("A") and "B" with secrets and
// "None" without, and returns its address and A's ID.
func NewKeyedDatabase(t *testing.T, e KeyCheckEngine) (string, string) {
	t.Helper()
	addr := e.NewDatabase(t)
	db, err := e.Open(t.Context(), addr, KeyringOf(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, b, none := Connection("A"), Connection("B"), Connection("None")
	b.Secrets = map[string]string{"secretAccessKey": "the secret of B", "password": "another"}
	none.Secrets = nil
	for _, c := range []*hookline.Connection{a, b, none} {
		if err := db.CreateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	return addr, a.ID
}

// CanReadWith checks that kr opens the database of e at addr, as made by
// NewKeyedDatabase, and reads the secrets of connection id, A.
func CanReadWith(t *testing.T, e KeyCheckEngine, addr, id string, kr *keyring.Keyring) {
	t.Helper()
	db, err := e.Open(t.Context(), addr, kr)
	if err != nil {
		t.Fatalf("open with %v: %v", kr, err)
	}
	defer db.Close()
	c, err := db.Connection(t.Context(), id)
	want := Connection("A").Secrets
	if err != nil || !maps.Equal(c.Secrets, want) {
		t.Fatalf("read with %v: %v, %v; want secrets %v", kr, c, err, want)
	}
	if _, _, err := db.Connections(t.Context(), hookline.ListOptions{}); err != nil {
		t.Fatalf("list with %v: %v", kr, err)
	}
}

func testKeyCheckWrongKey(t *testing.T, e KeyCheckEngine) {
	tests := []struct {
		name string
		// prepare changes the database (sealed with key 1) before Open.
		prepare func(t *testing.T, addr string)
		kr      *keyring.Keyring
		want    []string // in the message
	}{
		{
			name: "another key",
			kr:   KeyringOf(t, 3),
			want: []string{"the master key (key id " + keyIDOf(t, 3) + ") does not open this database's secrets",
				"sealed with key id " + keyIDOf(t, 1), "set HOOKLINE_MASTER_KEY to the key this "},
		},
		{
			name: "other keys, old ones too",
			kr:   KeyringOf(t, 3, 4, 5),
			want: []string{"neither the master key (key id " + keyIDOf(t, 3) + ") nor the old keys (key ids ",
				keyIDOf(t, 4), keyIDOf(t, 5), "sealed with key id " + keyIDOf(t, 1)},
		},
		{
			// A database from before the check, or whose check row was
			// deleted, is checked against its secrets.
			name:    "no key check, another key",
			prepare: func(t *testing.T, addr string) { e.SetKeyCheck(t, addr, "") },
			kr:      KeyringOf(t, 3),
			want:    []string{"key id " + keyIDOf(t, 3), "sealed with key id " + keyIDOf(t, 1), "HOOKLINE_MASTER_KEY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, id := NewKeyedDatabase(t, e)
			if tt.prepare != nil {
				tt.prepare(t, addr)
			}
			check, secrets := e.SealedKeyIDs(t, addr)
			db, err := e.Open(t.Context(), addr, tt.kr)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, keycheck.ErrWrongKey) || !errors.Is(err, keyring.ErrUnknownKey) {
				t.Errorf("error %v does not wrap keycheck.ErrWrongKey and keyring.ErrUnknownKey", err)
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
			if c, s := e.SealedKeyIDs(t, addr); c != check || !slices.Equal(s, secrets) {
				t.Errorf("after a failed Open, key IDs = %q, %q; want %q, %q unchanged", c, s, check, secrets)
			}
			CanReadWith(t, e, addr, id, KeyringOf(t, 1))
			if c, _ := e.SealedKeyIDs(t, addr); c != keyIDOf(t, 1) {
				t.Errorf("key check after opening with the right key is sealed with %q; want %q", c, keyIDOf(t, 1))
			}
		})
	}
}

func testKeyCheckNewDatabase(t *testing.T, e KeyCheckEngine) {
	addr := e.NewDatabase(t)
	db, err := e.Open(t.Context(), addr, KeyringOf(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if c, _ := e.SealedKeyIDs(t, addr); c != keyIDOf(t, 1) {
		t.Fatalf("key check of a new database is sealed with %q; want the key's ID %q", c, keyIDOf(t, 1))
	}
	// An empty database is sealed to its first key too.
	db, err = e.Open(t.Context(), addr, KeyringOf(t, 2))
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, keycheck.ErrWrongKey) {
		t.Errorf("Open of a new, empty database with another key: %v; want keycheck.ErrWrongKey", err)
	}
}

func testKeyCheckDamaged(t *testing.T, e KeyCheckEngine) {
	// Sealed with key 1 but for another place: it does not open.
	misplaced, err := KeyringOf(t, 1).Seal([]byte(keycheck.Value), "settings/other")
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range []string{"garbage", misplaced} {
		addr, _ := NewKeyedDatabase(t, e)
		e.SetKeyCheck(t, addr, value)
		db, err := e.Open(t.Context(), addr, KeyringOf(t, 1))
		if err == nil {
			db.Close()
			t.Fatal("Open with a damaged key check succeeded")
		}
		if errors.Is(err, keycheck.ErrWrongKey) {
			t.Errorf("damaged key check reported as the wrong key: %v", err)
		}
		if !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), keycheck.Setting) {
			t.Errorf("error %q does not say which row is damaged", err)
		}
	}
}

func testKeyCheckOldKeys(t *testing.T, e KeyCheckEngine) {
	addr, id := NewKeyedDatabase(t, e)
	one, two := keyIDOf(t, 1), keyIDOf(t, 2)

	// An old key among others is used to open; nothing is resealed with a
	// key that is already the primary key.
	CanReadWith(t, e, addr, id, KeyringOf(t, 1, 2))
	if c, s := e.SealedKeyIDs(t, addr); c != one || !slices.Equal(s, []string{one}) {
		t.Fatalf("after opening with the primary key and an old one, key IDs = %q, %q; want all %q", c, s, one)
	}

	// A new master key with the old one kept: every value is resealed with
	// the new key, so that the old one can then be dropped.
	CanReadWith(t, e, addr, id, KeyringOf(t, 2, 1))
	if c, s := e.SealedKeyIDs(t, addr); c != two || !slices.Equal(s, []string{two}) {
		t.Fatalf("after rotating to key 2, key IDs = %q, %q; want all %q", c, s, two)
	}
	CanReadWith(t, e, addr, id, KeyringOf(t, 2))
	db, err := e.Open(t.Context(), addr, KeyringOf(t, 1))
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, keycheck.ErrWrongKey) || !strings.Contains(fmtErr(err), "sealed with key id "+two) {
		t.Errorf("Open with the replaced key alone: %v; want keycheck.ErrWrongKey naming key %s", err, two)
	}

	// The keys given the other way round, as when a rotation is undone,
	// open it and reseal it back.
	CanReadWith(t, e, addr, id, KeyringOf(t, 1, 2))
	if c, s := e.SealedKeyIDs(t, addr); c != one || !slices.Equal(s, []string{one}) {
		t.Fatalf("after rotating back to key 1, key IDs = %q, %q; want all %q", c, s, one)
	}
}

// Processes starting at once with a new master key reseal in turn, each
// seeing the previous one's work.
func testKeyCheckOldKeysConcurrently(t *testing.T, e KeyCheckEngine) {
	addr, id := NewKeyedDatabase(t, e)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			db, err := e.Open(t.Context(), addr, KeyringOf(t, 2, 1))
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
	if c, s := e.SealedKeyIDs(t, addr); c != keyIDOf(t, 2) || !slices.Equal(s, []string{keyIDOf(t, 2)}) {
		t.Errorf("key IDs = %q, %q; want all %q", c, s, keyIDOf(t, 2))
	}
	CanReadWith(t, e, addr, id, KeyringOf(t, 2))
}

// fmtErr is err's message, "" for nil.
func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
