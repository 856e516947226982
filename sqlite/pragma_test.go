package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/hookline/hookline/keyring"
)

// The settings the package comment promises must be in force on both pools.
func TestPragmas(t *testing.T) {
	kr, err := keyring.New(make([]byte, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tests := []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"write", db.write, "journal_mode", "wal"},
		{"write", db.write, "synchronous", "2"}, // FULL
		{"write", db.write, "foreign_keys", "1"},
		{"write", db.write, "busy_timeout", "10000"},
		{"write", db.write, "query_only", "0"},
		{"read", db.read, "journal_mode", "wal"},
		{"read", db.read, "foreign_keys", "1"},
		{"read", db.read, "busy_timeout", "10000"},
		{"read", db.read, "query_only", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := tt.db.QueryRowContext(context.Background(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("%s pool: PRAGMA %s: %v", tt.pool, tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("%s pool: %s = %s; want %s", tt.pool, tt.pragma, got, tt.want)
		}
	}
	if _, err := db.read.Exec(`DELETE FROM settings`); err == nil {
		t.Errorf("the read pool accepted a write")
	}
}
