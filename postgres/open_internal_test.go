package postgres

import (
	"bytes"
	"testing"

	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/postgres/pgtest"
)

// openInternal opens the database at url (a new one when url is "") for
// the package's internal tests, closed when t ends.
func openInternal(t *testing.T, url string) *DB {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{1}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if url == "" {
		url = pgtest.NewDatabase(t)
	}
	db, err := Open(t.Context(), url, kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
