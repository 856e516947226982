package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/storetest"
)

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

// MustOpenDB opens a new database in a temporary directory, closed when the
// test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return mustOpen(tb, filepath.Join(tb.TempDir(), "hookline.db"), testKeyring(tb, 1))
}

func mustOpen(tb testing.TB, path string, kr *keyring.Keyring) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, kr)
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

// rawExec runs SQL on the database file directly, as an attacker or a
// corrupted disk might change it.
func rawExec(t *testing.T, path, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestSecretsNeverReachTheDisk(t *testing.T) {
	const (
		secret      = "hookline-test-secret-7f3a9c2e51d84b06"
		otherSecret = "hookline-updated-secret-0b9e4d7c3a"
	)
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "hookline.db"), testKeyring(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.Connection("Distinctive name 4e8d1f")
	c.Description = "Distinctive description 93c0aa"
	c.URL = "https://distinctive-host-5b7e.example.com/hook"
	c.Settings = map[string]string{"region": "distinctive-setting-2d6f"}
	c.Secrets = map[string]string{"secretAccessKey": secret, "password": secret}
	if err := db.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	u := *c
	u.Secrets = map[string]string{"secretAccessKey": otherSecret}
	if err := db.UpdateConnection(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Connection(t.Context(), c.ID); err != nil || got.Secrets["secretAccessKey"] != otherSecret {
		t.Fatalf("the secret does not come back: %v", err)
	}
	visible := []string{c.Name, c.Description, c.URL, "distinctive-setting-2d6f"}
	hidden := func(s string) map[string]string {
		return map[string]string{
			"plain":            s,
			"base64":           base64.StdEncoding.EncodeToString([]byte(s)),
			"base64 unpadded":  base64.RawStdEncoding.EncodeToString([]byte(s)),
			"base64url":        base64.URLEncoding.EncodeToString([]byte(s)),
			"base64url raw":    base64.RawURLEncoding.EncodeToString([]byte(s)),
			"hex":              hex.EncodeToString([]byte(s)),
			"HEX":              strings.ToUpper(hex.EncodeToString([]byte(s))),
			"prefix (partial)": s[:20],
		}
	}

	check := func(when string, wantFiles ...string) {
		t.Helper()
		files := map[string][]byte{}
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			files[filepath.Base(path)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range wantFiles {
			if len(files[name]) == 0 {
				t.Fatalf("%s: expected a non-empty %s among %d files", when, name, len(files))
			}
		}
		all := bytes.Join(func() [][]byte {
			var bs [][]byte
			for _, b := range files {
				bs = append(bs, b)
			}
			return bs
		}(), []byte{0})
		// The test must be able to see data, or it proves nothing.
		for _, v := range visible {
			if !bytes.Contains(all, []byte(v)) {
				t.Errorf("%s: non-secret %q is in none of the files: the test cannot see stored data", when, v)
			}
		}
		for _, s := range []string{secret, otherSecret} {
			for form, enc := range hidden(s) {
				for name, b := range files {
					if bytes.Contains(b, []byte(enc)) {
						t.Errorf("%s: %s holds a secret (%s)", when, name, form)
					}
				}
			}
		}
	}
	// While open the new rows are in the WAL; after Close they are in the
	// database file.
	check("while open", "hookline.db", "hookline.db-wal", "hookline.db-shm")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	check("after close", "hookline.db")
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	db, err := sqlite.Open(t.Context(), path, testKeyring(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.Connection("Persistent")
	if err := db.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(t.Context(), "admin.tokenHash", "argon2id$x"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("same key", func(t *testing.T) {
		db := mustOpen(t, path, testKeyring(t, 1))
		got, err := db.Connection(t.Context(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("after reopening (-want +got):\n%s", diff)
		}
		if v, ok, err := db.Setting(t.Context(), "admin.tokenHash"); err != nil || !ok || v != "argon2id$x" {
			t.Errorf("setting after reopening = %q, %v, %v", v, ok, err)
		}
	})
	t.Run("rotated key", func(t *testing.T) {
		kr, err := keyring.New(bytes.Repeat([]byte{2}, keyring.KeySize), bytes.Repeat([]byte{1}, keyring.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		db := mustOpen(t, path, kr)
		got, err := db.Connection(t.Context(), c.ID)
		if err != nil || got.Secrets["secretAccessKey"] != c.Secrets["secretAccessKey"] {
			t.Fatalf("with the old key kept: %v", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		// Caught when the database opens, not as failed reads later.
		db, err := sqlite.Open(t.Context(), path, testKeyring(t, 3))
		if err == nil {
			db.Close()
			t.Fatal("Open with the wrong key succeeded")
		}
		if !errors.Is(err, sqlite.ErrWrongKey) {
			t.Errorf("Open with the wrong key: %v; want an error wrapping sqlite.ErrWrongKey", err)
		}
	})
}

func TestOpenTwiceMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	// Two at once, as two processes starting together would, then a third.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			db, err := sqlite.Open(t.Context(), path, testKeyring(t, 1))
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	mustOpen(t, path, testKeyring(t, 1))

	files, err := fs.Glob(sqlite.Migrations(), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v, %v", files, err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n, distinct int
	if err := raw.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(files) || distinct != len(files) {
		t.Errorf("schema_migrations holds %d rows (%d versions); want one per migration file, %d", n, distinct, len(files))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	db := mustOpen(t, path, testKeyring(t, 1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rawExec(t, path, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', '2099-01-01T00:00:00Z')`)
	_, err := sqlite.Open(t.Context(), path, testKeyring(t, 1))
	if err == nil || !strings.Contains(err.Error(), "version 9999, newer than") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer schema: %v; want an error naming the file and version 9999", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		kr   *keyring.Keyring
		want string
	}{
		{"no keyring", filepath.Join(dir, "a.db"), nil, "no keyring"},
		{"empty path", "", testKeyring(t, 1), "not a file path"},
		{"memory", ":memory:", testKeyring(t, 1), "not a file path"},
		{"URI", "file:x.db?mode=memory", testKeyring(t, 1), "not a file path"},
		{"missing directory", filepath.Join(dir, "missing", "a.db"), testKeyring(t, 1), "no such file or directory"},
		{"directory", dir, testKeyring(t, 1), dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlite.Open(t.Context(), tt.path, tt.kr)
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestOddPath(t *testing.T) {
	// Characters that mean something in a URI must not cut the path short.
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%20chars")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hook line.db")
	db := mustOpen(t, path, testKeyring(t, 1))
	if err := db.CreateConnection(t.Context(), storetest.Connection("x")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("database is not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("files appeared outside the database's directory: %v", entries)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	dir := t.TempDir()
	db := mustOpen(t, filepath.Join(dir, "hookline.db"), testKeyring(t, 1))
	if err := db.CreateConnection(t.Context(), storetest.Connection("x")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hookline.db", "hookline.db-wal", "hookline.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %04o; want 0600", name, perm)
		}
	}
}

func TestCorruptStoredValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	db := mustOpen(t, path, testKeyring(t, 1))
	a := storetest.Connection("A")
	b := storetest.Connection("B")
	b.Secrets = map[string]string{"secretAccessKey": "the secret of B"}
	for _, c := range []*hookline.Connection{a, b} {
		if err := db.CreateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		update string
		want   error // in the chain, when not nil
	}{
		{"sealed value of another connection", `UPDATE connections SET secrets = (SELECT secrets FROM connections WHERE name = 'B') WHERE name = 'A'`, keyring.ErrDecrypt},
		{"secret moved to another name", `UPDATE connections SET secrets = json_object('password', json_extract(secrets, '$.secretAccessKey')) WHERE name = 'A'`, keyring.ErrDecrypt},
		{"tampered", `UPDATE connections SET secrets = json_object('secretAccessKey', substr(json_extract(secrets, '$.secretAccessKey'), 1, 30) || 'AAAA' || substr(json_extract(secrets, '$.secretAccessKey'), 35)) WHERE name = 'A'`, keyring.ErrDecrypt},
		{"plaintext", `UPDATE connections SET secrets = '{"secretAccessKey": "the secret of B"}' WHERE name = 'A'`, keyring.ErrMalformed},
		{"unknown key", `UPDATE connections SET secrets = '{"secretAccessKey": "hk1.deadbeef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}' WHERE name = 'A'`, keyring.ErrUnknownKey},
		{"not an object", `UPDATE connections SET secrets = '["x"]' WHERE name = 'A'`, nil},
		{"not strings", `UPDATE connections SET secrets = '{"secretAccessKey": 1}' WHERE name = 'A'`, nil},
		{"bad settings", `UPDATE connections SET settings = '{"region": ["x"]}' WHERE name = 'A'`, nil},
		{"bad headers", `UPDATE connections SET custom_headers = '{"name": "x"}' WHERE name = 'A'`, nil},
		{"bad time", `UPDATE connections SET created_at = 'yesterday' WHERE name = 'A'`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case starts from A's good row.
			before := snapshotRow(t, path, a.ID)
			t.Cleanup(func() { restoreRow(t, path, a.ID, before) })
			rawExec(t, path, tt.update)

			_, err := db.Connection(t.Context(), a.ID)
			checkCorruptErr(t, err, tt.want)
			_, _, err = db.Connections(t.Context(), hookline.ListOptions{})
			checkCorruptErr(t, err, tt.want)
		})
	}
	// B itself was never harmed.
	if got, err := db.Connection(t.Context(), b.ID); err != nil || got.Secrets["secretAccessKey"] != "the secret of B" {
		t.Errorf("B after the corruption of A: %v", err)
	}
}

func checkCorruptErr(t *testing.T, err error, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("reading a corrupt row succeeded")
	}
	if hookline.ErrorCode(err) != hookline.EINTERNAL {
		t.Errorf("error %v has code %q; want %q", err, hookline.ErrorCode(err), hookline.EINTERNAL)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error %v does not wrap %v", err, want)
	}
	if strings.Contains(err.Error(), "the secret of B") {
		t.Errorf("error %q holds a secret", err)
	}
}

type rowSnapshot struct{ secrets, settings, headers, createdAt string }

func snapshotRow(t *testing.T, path, id string) rowSnapshot {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s rowSnapshot
	err = db.QueryRow(`SELECT secrets, settings, custom_headers, created_at FROM connections WHERE id = ?`, id).
		Scan(&s.secrets, &s.settings, &s.headers, &s.createdAt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func restoreRow(t *testing.T, path, id string, s rowSnapshot) {
	rawExec(t, path, `UPDATE connections SET secrets = ?, settings = ?, custom_headers = ?, created_at = ? WHERE id = ?`,
		s.secrets, s.settings, s.headers, s.createdAt, id)
}

func TestConcurrentCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	// Two handles on one file stand for two processes: the second one's
	// writers must wait for the lock (busy_timeout), not fail.
	dbs := []*sqlite.DB{mustOpen(t, path, testKeyring(t, 1)), mustOpen(t, path, testKeyring(t, 1))}
	const goroutines, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		db := dbs[g%len(dbs)]
		wg.Go(func() {
			for i := range each {
				c := storetest.Connection(fmt.Sprintf("g%d-%d", g, i))
				if err := db.CreateConnection(t.Context(), c); err != nil {
					errs <- err
					continue
				}
				// Read back through the same handle while others write.
				if _, err := db.Connection(t.Context(), c.ID); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent create: %v", err)
	}
	for i, db := range dbs {
		list, _, err := db.Connections(t.Context(), hookline.ListOptions{Limit: hookline.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, c := range list {
			ids[c.ID] = true
		}
		if len(list) != goroutines*each || len(ids) != len(list) {
			t.Errorf("handle %d sees %d connections with %d distinct IDs; want %d", i, len(list), len(ids), goroutines*each)
		}
	}
}

func TestNameConflictUnderConcurrency(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	dbs := []*sqlite.DB{mustOpen(t, path, testKeyring(t, 1)), mustOpen(t, path, testKeyring(t, 1))}
	var wg sync.WaitGroup
	results := make([]error, 10)
	for i := range results {
		wg.Go(func() {
			results[i] = dbs[i%2].CreateConnection(t.Context(), storetest.Connection([]string{"Same", "SAME"}[i%2]))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch hookline.ErrorCode(err) {
		case "":
			ok++
		case hookline.ECONFLICT:
		default:
			t.Errorf("create: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d creates of one name succeeded; want exactly 1", ok, len(results))
	}
}

func TestStoreSpecifics(t *testing.T) {
	db := MustOpenDB(t)
	// Nanoseconds survive the round trip, and times come back in UTC.
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
	db.Now = func() time.Time { return at }

	c := storetest.Connection("Clocked")
	c.ModifiedBy = ""
	if err := db.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if c.ModifiedBy != c.CreatedBy {
		t.Errorf("ModifiedBy = %q; want CreatedBy %q when not given", c.ModifiedBy, c.CreatedBy)
	}
	got, err := db.Connection(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond() != 123456789 {
		t.Errorf("CreatedAt = %v; want %v in UTC", got.CreatedAt, at.UTC())
	}

	// A clock stepped back does not make ModifiedAt precede CreatedAt.
	db.Now = func() time.Time { return at.Add(-time.Hour) }
	if err := db.UpdateConnection(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if !got.ModifiedAt.Equal(at) {
		t.Errorf("ModifiedAt after the clock went back = %v; want CreatedAt %v", got.ModifiedAt, at)
	}

	// A cancelled write leaves nothing behind.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.CreateConnection(ctx, storetest.Connection("Cancelled")); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateConnection with a cancelled context: %v; want context.Canceled", err)
	}
	list, _, err := db.Connections(t.Context(), hookline.ListOptions{})
	if err != nil || len(list) != 1 {
		t.Errorf("after a cancelled create the store holds %d connections, %v; want 1", len(list), err)
	}
}

func TestSettings(t *testing.T) {
	db := MustOpenDB(t)
	if v, ok, err := db.Setting(t.Context(), "admin.tokenHash"); err != nil || ok || v != "" {
		t.Errorf("unset setting = %q, %v, %v; want \"\", false, nil", v, ok, err)
	}
	for _, v := range []string{"first", "second ✓", ""} {
		if err := db.PutSetting(t.Context(), "admin.tokenHash", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := db.Setting(t.Context(), "admin.tokenHash"); err != nil || !ok || got != v {
			t.Errorf("after PutSetting(%q): %q, %v, %v", v, got, ok, err)
		}
	}
	if err := db.PutSetting(t.Context(), "other", "x"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.Setting(t.Context(), "admin.tokenHash"); got != "" {
		t.Errorf("setting another key changed this one to %q", got)
	}
	if err := db.PutSetting(t.Context(), "", "x"); hookline.ErrorCode(err) != hookline.EINVALID {
		t.Errorf("PutSetting with no key: %v; want EINVALID", err)
	}
}

func BenchmarkCreateConnection(b *testing.B) {
	db := MustOpenDB(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := storetest.Connection(fmt.Sprint("bench ", i))
		i++
		if err := db.CreateConnection(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetConnection(b *testing.B) {
	db := MustOpenDB(b)
	ctx := context.Background()
	c := storetest.Connection("bench")
	if err := db.CreateConnection(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Connection(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDeliveryStore(t *testing.T) {
	storetest.TestDeliveryStore(t, func(t *testing.T) (hookline.DeliveryStore, hookline.ConnectionStore) {
		db := MustOpenDB(t)
		return db, db
	})
}
