package postgres_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/postgres/pgtest"
	"github.com/hookline/hookline/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testKeyring returns a keyring with a fixed key, so that a database can be
// reopened with the same one.
func testKeyring(tb testing.TB, seed byte) *keyring.Keyring {
	tb.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{seed}, keyring.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// MustOpenDB opens a new, empty database, closed when the test ends.
func MustOpenDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	return mustOpen(tb, pgtest.NewDatabase(tb), testKeyring(tb, 1))
}

func mustOpen(tb testing.TB, url string, kr *keyring.Keyring) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url, kr)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConnectionStore(t *testing.T) {
	storetest.TestConnectionStore(t, func(t *testing.T) hookline.ConnectionStore {
		return MustOpenDB(t)
	})
}
