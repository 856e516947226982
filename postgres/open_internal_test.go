package postgres

import (
	"bytes"
	"testing"
	"time"

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

func TestConnConfigTimeout(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want time.Duration
	}{
		{"postgres://hookline@127.0.0.1:5432/hookline", defaultConnectTimeout},
		{"postgres://hookline@127.0.0.1:5432/hookline?connect_timeout=3", 3 * time.Second},
	} {
		cfg, err := connConfig(tt.url)
		if err != nil {
			t.Fatalf("connConfig(%q): %v", tt.url, err)
		}
		if cfg.ConnectTimeout != tt.want {
			t.Errorf("connConfig(%q).ConnectTimeout = %s; want %s", tt.url, cfg.ConnectTimeout, tt.want)
		}
	}
	if _, err := connConfig("postgres://hookline@127.0.0.1:port/hookline"); err == nil {
		t.Error("connConfig of a URL with a bad port: no error")
	}
}
