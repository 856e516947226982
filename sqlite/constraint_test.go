package sqlite

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func openInternal(t *testing.T) *DB {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{1}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOnlyNameIsUnique guards mapConstraint's assumption that any
// SQLITE_CONSTRAINT_UNIQUE from connections is the name's.
func TestOnlyNameIsUnique(t *testing.T) {
	db := openInternal(t)
	rows, err := db.read.QueryContext(t.Context(), `SELECT name, origin FROM pragma_index_list('connections') WHERE "unique"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var unique []string
	for rows.Next() {
		var name, origin string
		if err := rows.Scan(&name, &origin); err != nil {
			t.Fatal(err)
		}
		if origin != "pk" {
			unique = append(unique, name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(unique, []string{"connections_name_key"}) {
		t.Errorf("unique indexes on connections besides the primary key: %q; want only connections_name_key, "+
			"or mapConstraint must learn to tell them apart", unique)
	}
}

// TestMapConstraint feeds mapConstraint the driver's real errors, which
// checkName keeps the store's own writes from raising.
func TestMapConstraint(t *testing.T) {
	db := openInternal(t)
	insert := func(id, nameKey string) error {
		_, err := db.write.ExecContext(t.Context(), `INSERT INTO connections
			(id, name, name_key, webhook_type, url, default_payload, created_at, modified_at)
			VALUES (?, 'n', ?, 'Webhook', 'http://127.0.0.1/', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
			id, nameKey)
		return err
	}
	if err := insert("0000000000000001", "taken"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		err      error
		code     int
		conflict bool
	}{
		{"same name", insert("0000000000000002", "taken"), sqlite3.SQLITE_CONSTRAINT_UNIQUE, true},
		{"same ID", insert("0000000000000001", "other"), sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, false},
		{"check", insert("short", "short"), sqlite3.SQLITE_CONSTRAINT_CHECK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var se *sqlitedriver.Error
			if !errors.As(tt.err, &se) || se.Code() != tt.code {
				t.Fatalf("insert: %v; want a driver error with code %d", tt.err, tt.code)
			}
			err := mapConstraint(tt.err, "Taken")
			if !tt.conflict {
				if err != tt.err {
					t.Errorf("mapConstraint(%v) = %v; want the error unchanged", tt.err, err)
				}
				return
			}
			var e *hookline.Error
			if !errors.As(err, &e) || e.Code != hookline.ECONFLICT || e.Message != `a connection named "Taken" already exists` {
				t.Fatalf("mapConstraint = %#v; want ECONFLICT naming the connection", err)
			}
			if len(e.Fields) != 1 || e.Fields[0].Field != "name" || e.Fields[0].Message == "" {
				t.Errorf("conflict fields = %v; want one naming \"name\"", e.Fields)
			}
		})
	}
}
