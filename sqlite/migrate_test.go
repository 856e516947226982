package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"
	"github.com/hookline/hookline/schema"
)

// rawDB opens a plain connection to a new SQLite file, as the write pool
// would, for testing the migration runner on its own.
func rawDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db"), map[string][]string{"_txlock": {"immediate"}}))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func fixedNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }

func tableNames(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

func appliedVersions(t *testing.T, db *sql.DB) string {
	t.Helper()
	var s sql.NullString
	err := db.QueryRowContext(t.Context(), `SELECT group_concat(version || ':' || name, ',') FROM (SELECT * FROM schema_migrations ORDER BY version)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s.String
}

func TestMigrateAppliesInOrderOnce(t *testing.T) {
	db := rawDB(t)
	// Listed out of order, and 0002 and 0010 depend on earlier ones: run
	// in file order rather than version order, they would fail.
	fsys := fstest.MapFS{
		"0010_c.sql": file(`CREATE INDEX c_b ON c (b_id);`),
		"0002_b.sql": file(`CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
			CREATE TABLE c (b_id INTEGER REFERENCES b (id));`),
		"0001_a.sql": file(`CREATE TABLE a (id INTEGER PRIMARY KEY);`),
	}
	n, err := migrate(t.Context(), db, fsys, fixedNow)
	if err != nil || n != 3 {
		t.Fatalf("migrate = %d, %v; want 3 applied", n, err)
	}
	if got, want := appliedVersions(t, db), "1:a,2:b,10:c"; got != want {
		t.Errorf("schema_migrations = %s; want %s", got, want)
	}
	if got, want := strings.Join(tableNames(t, db), ","), "a,b,c,schema_migrations"; got != want {
		t.Errorf("tables = %s; want %s", got, want)
	}
	var at string
	if err := db.QueryRow(`SELECT applied_at FROM schema_migrations WHERE version = 1`).Scan(&at); err != nil || at != formatTime(fixedNow()) {
		t.Errorf("applied_at = %q, %v; want %q", at, err, formatTime(fixedNow()))
	}

	// Again: nothing to do. Then with one more migration: only it runs.
	if n, err := migrate(t.Context(), db, fsys, fixedNow); err != nil || n != 0 {
		t.Errorf("second migrate = %d, %v; want 0 applied", n, err)
	}
	fsys["0011_d.sql"] = file(`CREATE TABLE d (x TEXT);`)
	if n, err := migrate(t.Context(), db, fsys, fixedNow); err != nil || n != 1 {
		t.Errorf("migrate with a new file = %d, %v; want 1 applied", n, err)
	}
}

func TestMigrateFailureLeavesNothingHalfDone(t *testing.T) {
	db := rawDB(t)
	fsys := fstest.MapFS{
		"0001_good.sql": file(`CREATE TABLE good (id INTEGER);`),
		// The first statement works, the second does not: the first must
		// be rolled back with it.
		"0002_bad.sql":   file(`CREATE TABLE half (id INTEGER); INSERT INTO missing VALUES (1);`),
		"0003_after.sql": file(`CREATE TABLE after (id INTEGER);`),
	}
	n, err := migrate(t.Context(), db, fsys, fixedNow)
	if err == nil {
		t.Fatalf("migrate succeeded with a broken migration")
	}
	if n != 1 || !strings.Contains(err.Error(), "0002_bad") || !strings.Contains(err.Error(), "missing") {
		t.Errorf("migrate = %d, %v; want 1 applied and an error naming 0002_bad and its cause", n, err)
	}
	if got, want := strings.Join(tableNames(t, db), ","), "good,schema_migrations"; got != want {
		t.Errorf("tables = %s; want %s (no table from the failed or later migrations)", got, want)
	}
	if got := appliedVersions(t, db); got != "1:good" {
		t.Errorf("schema_migrations = %s; want only 1:good", got)
	}

	// Fixed, it applies on the next run.
	fsys["0002_bad.sql"] = file(`CREATE TABLE half (id INTEGER);`)
	if n, err := migrate(t.Context(), db, fsys, fixedNow); err != nil || n != 2 {
		t.Errorf("migrate after the fix = %d, %v; want 2 applied", n, err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	db := rawDB(t)
	fsys := fstest.MapFS{"0001_a.sql": file(`CREATE TABLE a (id INTEGER);`)}
	if _, err := migrate(t.Context(), db, fsys, fixedNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (7, 'future', 'x')`); err != nil {
		t.Fatal(err)
	}
	_, err := migrate(t.Context(), db, fsys, fixedNow)
	if err == nil || !strings.Contains(err.Error(), "version 0007, newer than version 0001") || !strings.Contains(err.Error(), "newer hookline") {
		t.Fatalf("migrate on a newer schema: %v; want an error naming both versions", err)
	}
}

func TestLoadMigrationsRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"no number", fstest.MapFS{"init.sql": file("")}, `"init.sql" is not named NNNN_name.sql`},
		{"three digits", fstest.MapFS{"001_a.sql": file("")}, "is not named"},
		{"upper case", fstest.MapFS{"0001_Init.sql": file("")}, "is not named"},
		{"not sql", fstest.MapFS{"0001_a.sql": file(""), "README.md": file("")}, `"README.md" is not named`},
		{"version zero", fstest.MapFS{"0000_a.sql": file("")}, "versions start at 0001"},
		{"duplicate version", fstest.MapFS{"0001_a.sql": file(""), "0001_b.sql": file("")}, "have the same version 0001"},
		{"directory", fstest.MapFS{"0001_a.sql/x": file("")}, `directory "0001_a.sql"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := schema.Load(tt.fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("schema.Load = %v, %v; want error containing %q", ms, err, tt.want)
			}
		})
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	ms, err := schema.Load(Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "connections" {
		t.Fatalf("embedded migrations = %+v; want 0001_connections first", ms)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("embedded migration %d has version %04d; keep them numbered 1, 2, 3, ...", i, m.Version)
		}
	}
}

// The listing query must walk the name index rather than sort the table.
func TestListUsesIndex(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT id FROM connections ORDER BY name_key, id LIMIT 10`,
		`SELECT id FROM connections WHERE (name_key, id) > ('a', 'B') ORDER BY name_key, id LIMIT 10`,
	} {
		rows, err := db.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "connections_name_key") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("plan for %s: %s; want a walk of connections_name_key without a sort", q, p)
		}
	}
}

func FuzzDecodeToken(f *testing.F) {
	f.Add(listpage.Encode(pageKey{NameKey: "ops lambda", ID: "00000000000468D5"}))
	f.Add(listpage.Encode(pageKey{NameKey: "ärger", ID: "0123456789ABCDEF"}))
	f.Add("")
	f.Add("e30")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, token string) {
		k, err := decodeToken(token)
		if err != nil {
			if k != nil {
				t.Fatalf("decodeToken(%q) returned a key with its error", token)
			}
			return
		}
		if k == nil {
			if token != "" {
				t.Fatalf("decodeToken(%q) = nil, nil", token)
			}
			return
		}
		if !rowid.Valid(k.ID) {
			t.Fatalf("decodeToken(%q) accepted ID %q", token, k.ID)
		}
		back, err := decodeToken(listpage.Encode(*k))
		if err != nil || *back != *k {
			t.Fatalf("re-encoded token of %+v decodes to %+v, %v", k, back, err)
		}
	})
}
