package postgres_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/postgres"
)

// sealedCount is the number of connections with secrets and of secrets in
// the database, read directly.
func sealedCount(t *testing.T, url string) (conns, secrets int) {
	t.Helper()
	err := rawDB(t, url).QueryRow(`SELECT count(DISTINCT c.id), count(*) FROM connections c, jsonb_each(c.secrets)`).
		Scan(&conns, &secrets)
	if err != nil {
		t.Fatal(err)
	}
	return conns, secrets
}

// valuesSealedWith returns "table.column" for every value anywhere in the
// database (every column of every table, as text) that holds a value
// sealed with key id: whatever column a later change seals, a rotation
// that forgets it fails here.
func valuesSealedWith(t *testing.T, url, id string) []string {
	t.Helper()
	raw := rawDB(t, url)
	rows, err := raw.Query(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 10 {
		t.Fatalf("found only %d columns: %v", len(cols), cols)
	}
	var found []string
	for _, c := range cols {
		var n int
		q := `SELECT count(*) FROM "` + c[0] + `" WHERE strpos(CAST("` + c[1] + `" AS text), $1) > 0`
		if err := raw.QueryRow(q, "hk1."+id+".").Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n > 0 {
			found = append(found, c[0]+"."+c[1])
		}
	}
	return found
}

func TestRotate(t *testing.T) {
	tests := []struct {
		name    string
		current *keyring.Keyring
	}{
		{"current key", keyringOf(t, 1)},
		// HOOKLINE_MASTER_KEY changed to key 2 with key 1 given as old: Open
		// re-seals under 2 first, then everything goes to 3.
		{"current key and an old one", keyringOf(t, 2, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, id := newDB(t)
			wantConns, wantSecrets := sealedCount(t, url)
			rot, err := postgres.Rotate(t.Context(), url, tt.current, keyringOf(t, 3))
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			if want := (postgres.Rotation{KeyID: keyID(t, 3), Connections: wantConns, Secrets: wantSecrets}); rot != want {
				t.Errorf("Rotate = %+v; want %+v", rot, want)
			}
			if c, s := sealedKeyIDs(t, url); c != keyID(t, 3) || !slices.Equal(s, []string{keyID(t, 3)}) {
				t.Errorf("after rotating, key IDs = %q, %q; want all %q", c, s, keyID(t, 3))
			}
			for _, seed := range []byte{1, 2} {
				if cols := valuesSealedWith(t, url, keyID(t, seed)); len(cols) > 0 {
					t.Errorf("values sealed with replaced key %d remain in %v", seed, cols)
				}
				if db, err := postgres.Open(t.Context(), url, keyringOf(t, seed)); !errors.Is(err, postgres.ErrWrongKey) {
					if err == nil {
						db.Close()
					}
					t.Errorf("Open with replaced key %d: %v; want postgres.ErrWrongKey", seed, err)
				}
			}
			canRead(t, url, id, keyringOf(t, 3))
		})
	}
}

func TestRotateRefuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, url string)
		current *keyring.Keyring
		next    *keyring.Keyring
		want    []string
		wrong   bool // the error wraps postgres.ErrWrongKey
	}{
		{
			name:    "wrong current key",
			current: keyringOf(t, 4), next: keyringOf(t, 3),
			want: []string{"does not open this database's secrets"}, wrong: true,
		},
		{
			name:    "new key is the current key",
			current: keyringOf(t, 1), next: keyringOf(t, 1),
			want: []string{"the new key is the current key"},
		},
		{
			// A secret sealed with a key nobody gave: it would stay behind.
			name: "a secret sealed with an unknown key",
			prepare: func(t *testing.T, url string) {
				rawExec(t, url, `UPDATE connections SET secrets = jsonb_set(secrets, '{password}', to_jsonb($1::text)) WHERE name = 'B'`,
					mustSeal(t, keyringOf(t, 9), "another", "connection/X/password"))
			},
			current: keyringOf(t, 1), next: keyringOf(t, 3),
			want: []string{`secret "password" does not open`, "HOOKLINE_MASTER_KEY_OLD", "key ID " + keyID(t, 9)},
		},
		{
			name: "a damaged secrets column",
			prepare: func(t *testing.T, url string) {
				rawExec(t, url, `ALTER TABLE connections DROP CONSTRAINT connections_secrets_check`)
				rawExec(t, url, `UPDATE connections SET secrets = '["x"]' WHERE name = 'B'`)
			},
			current: keyringOf(t, 1), next: keyringOf(t, 3),
			want: []string{"the secrets column is not a JSON object"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := newDB(t)
			if tt.prepare != nil {
				tt.prepare(t, url)
			}
			before := sealedColumns(t, url)
			rot, err := postgres.Rotate(t.Context(), url, tt.current, tt.next)
			if err == nil {
				t.Fatalf("Rotate = %+v; want an error", rot)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if errors.Is(err, postgres.ErrWrongKey) != tt.wrong {
				t.Errorf("errors.Is(%v, ErrWrongKey) = %v; want %v", err, !tt.wrong, tt.wrong)
			}
			if errors.Is(err, postgres.ErrRotationUncertain) {
				t.Errorf("error %v claims the rotation may have been committed", err)
			}
			if after := sealedColumns(t, url); after != before {
				t.Errorf("a refused rotation changed the sealed values:\n%s\nwant\n%s", after, before)
			}
		})
	}
}

// sealedColumns returns every sealed column of the database as text.
func sealedColumns(t *testing.T, url string) string {
	t.Helper()
	var s string
	err := rawDB(t, url).QueryRow(`SELECT (SELECT string_agg(id || '=' || secrets::text, ';' ORDER BY id) FROM connections)
		|| ';check=' || (SELECT value FROM settings WHERE key = 'keyring_check')`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A rotation is refused while a server holds the serving lock, changing
// nothing, and runs once the last one has closed.
func TestRotateWhileServing(t *testing.T) {
	url, id := newDB(t)
	var servers []*postgres.DB
	for range 2 {
		db, err := postgres.Open(t.Context(), url, keyringOf(t, 1))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.HoldServing(t.Context()); err != nil {
			t.Fatalf("HoldServing beside another server: %v", err)
		}
		servers = append(servers, db)
	}
	for i, s := range servers {
		if _, err := postgres.Rotate(t.Context(), url, keyringOf(t, 1), keyringOf(t, 2)); !errors.Is(err, postgres.ErrServing) {
			t.Fatalf("Rotate with %d servers running: %v; want ErrServing", len(servers)-i, err)
		}
		canRead(t, url, id, keyringOf(t, 1))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := postgres.Rotate(t.Context(), url, keyringOf(t, 1), keyringOf(t, 2)); err != nil {
		t.Fatalf("Rotate after the servers stopped: %v", err)
	}
	canRead(t, url, id, keyringOf(t, 2))
}
