package postgres_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/postgres/pgtest"
	"github.com/hookline/hookline/storetest"
)

func TestReopen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db, err := postgres.Open(t.Context(), url, testKeyring(t, 1))
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
	if err := db.PutSetting(t.Context(), "admin.tokenHash", "argon2id$y"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, url, testKeyring(t, 1))
	got, err := db.Connection(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("after reopening (-want +got):\n%s", diff)
	}
	if v, ok, err := db.Setting(t.Context(), "admin.tokenHash"); err != nil || !ok || v != "argon2id$y" {
		t.Errorf("setting after reopening = %q, %v, %v; want the last value", v, ok, err)
	}
	if v, ok, err := db.Setting(t.Context(), "missing"); err != nil || ok || v != "" {
		t.Errorf("missing setting = %q, %v, %v; want not ok", v, ok, err)
	}
	if err := db.PutSetting(t.Context(), "", "x"); hookline.ErrorCode(err) != hookline.EINVALID {
		t.Errorf("PutSetting without a key: %v; want EINVALID", err)
	}
}

// Replicas starting at once on a new database: every migration is applied
// once (the advisory lock), and none of them fails.
func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), url, testKeyring(t, 1))
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
	mustOpen(t, url, testKeyring(t, 1))

	files, err := fs.Glob(postgres.Migrations(), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v, %v", files, err)
	}
	var n, distinct int
	if err := rawDB(t, url).QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(files) || distinct != len(files) {
		t.Errorf("schema_migrations holds %d rows (%d versions); want one per migration file, %d", n, distinct, len(files))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := pgtest.NewDatabase(t)
	mustOpen(t, url, testKeyring(t, 1)).Close()
	rawExec(t, url, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', now())`)
	db, err := postgres.Open(t.Context(), url, testKeyring(t, 1))
	if err == nil {
		db.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "version 9999, newer than") {
		t.Fatalf("Open of a newer schema: %v; want an error naming version 9999", err)
	}
}

func TestOpenErrors(t *testing.T) {
	url := pgtest.NewDatabase(t)
	tests := []struct {
		name string
		url  string
		kr   bool
		want string
	}{
		{"no keyring", url, false, "no keyring"},
		{"not a URL", "postgres://%zz", true, "open database PostgreSQL"},
		{"no such database", strings.Replace(url, "/t_", "/missing_", 1), true, "missing_"},
		// The password is not repeated in the error.
		{"password", strings.Replace(url, "hookline@", "hookline:s3cr3t-pw@", 1) + "&connect_timeout=1", true, "xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr := testKeyring(t, 1)
			if !tt.kr {
				kr = nil
			}
			db, err := postgres.Open(t.Context(), tt.url, kr)
			if err == nil {
				defer db.Close()
				if tt.name == "password" {
					return // trust authentication ignores it; nothing to check
				}
				t.Fatalf("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cr3t-pw") {
				t.Errorf("error %q does not contain %q, or holds the password", err, tt.want)
			}
		})
	}
}

// What the database holds is read back with SQL: no secret in any form a
// careless encoding might leave it in.
func TestSecretsNeverReachTheDatabase(t *testing.T) {
	const secret = "hookline-test-secret-7f3a9c2e51d84b06"
	url := pgtest.NewDatabase(t)
	db := mustOpen(t, url, testKeyring(t, 1))
	c := storetest.Connection("Distinctive name 4e8d1f")
	c.Secrets = map[string]string{"secretAccessKey": secret, "password": secret}
	if err := db.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	u := *c
	u.Description = "Distinctive description 93c0aa"
	if err := db.UpdateConnection(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	// Every column of every table, as text.
	for _, probe := range []struct {
		value string
		want  bool
	}{
		{c.Name, true}, {u.Description, true}, // the test sees stored data
		{secret, false}, {secret[:20], false},
	} {
		cols := valuesContaining(t, url, probe.value)
		if (len(cols) > 0) != probe.want {
			t.Errorf("%q found in %v; want found: %v", probe.value, cols, probe.want)
		}
	}
}

// valuesContaining returns "table.column" for every column whose text
// holds s.
func valuesContaining(t *testing.T, url, s string) []string {
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
	var found []string
	for _, c := range cols {
		var n int
		q := `SELECT count(*) FROM "` + c[0] + `" WHERE strpos(CAST("` + c[1] + `" AS text), $1) > 0`
		if err := raw.QueryRow(q, s).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n > 0 {
			found = append(found, c[0]+"."+c[1])
		}
	}
	return found
}

// Two processes creating connections of one name at once: the check in
// the transaction cannot see the other's uncommitted row, so the unique
// index decides, and its violation must come back as the same ECONFLICT
// on "name" that the check gives, with nothing left behind.
func TestConcurrentCreatesOfOneName(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := []*postgres.DB{mustOpen(t, url, testKeyring(t, 1)), mustOpen(t, url, testKeyring(t, 1))}
	const rounds, each = 10, 4
	for round := range rounds {
		name := fmt.Sprintf("Same %d", round)
		var wg sync.WaitGroup
		errs := make([]error, each)
		for i := range each {
			wg.Go(func() {
				errs[i] = dbs[i%2].CreateConnection(t.Context(), storetest.Connection(name))
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			var he *hookline.Error
			switch {
			case err == nil:
				ok++
			case errors.As(err, &he) && he.Code == hookline.ECONFLICT && len(he.Fields) == 1 && he.Fields[0].Field == "name":
			default:
				t.Fatalf("round %d: %v; want success or ECONFLICT on name", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d creates succeeded; want 1", round, ok, each)
		}
	}
	var n, events int
	if err := rawDB(t, url).QueryRow(`SELECT (SELECT COUNT(*) FROM connections), (SELECT COUNT(*) FROM audit_events)`).Scan(&n, &events); err != nil {
		t.Fatal(err)
	}
	if n != rounds || events != rounds {
		t.Errorf("%d connections, %d audit events; want %d of each", n, events, rounds)
	}
}

// Two processes, each disabling or deleting the other of the only two
// enabled administrators at once: one must fail, or Hookline is left
// without an administrator. Under read committed each would see the other
// still enabled; lockAccess makes them take turns.
func TestLastAdministratorAcrossProcesses(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := []*postgres.DB{mustOpen(t, url, testKeyring(t, 1)), mustOpen(t, url, testKeyring(t, 1))}
	raw := rawDB(t, url)
	for round := range 20 {
		var users []*hookline.User
		for _, name := range []string{"a", "b"} {
			u := &hookline.User{Email: fmt.Sprintf("%s%d@example.com", name, round), RoleIDs: []string{hookline.AdministratorRoleID}}
			if err := dbs[0].CreateUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			users = append(users, u)
		}
		a, b := users[0], users[1]
		// Only a and b are enabled administrators this round.
		if _, err := raw.Exec(`UPDATE users SET disabled = true WHERE id NOT IN ($1, $2)`, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		// Both changes wait behind a lock on both rows, taken here, and
		// start together when it is released: the window between one's
		// check and its commit then overlaps the other's.
		hold, err := raw.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hold.Exec(`SELECT 1 FROM users WHERE id IN ($1, $2) FOR KEY SHARE`, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, target := range []*hookline.User{b, a} {
			wg.Go(func() {
				u := *target
				u.Disabled = true
				if round%2 == 1 && i == 1 {
					errs[i] = dbs[i].DeleteUser(t.Context(), u.ID)
				} else {
					errs[i] = dbs[i].UpdateUser(t.Context(), &u)
				}
			})
		}
		waitForLockWaiters(t, url, 2)
		if err := hold.Commit(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch hookline.ErrorCode(err) {
			case "":
				ok++
			case hookline.ECONFLICT:
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 2 concurrent demotions succeeded (%v); want exactly 1", round, ok, errs)
		}
		var admins int
		err = raw.QueryRow(`SELECT COUNT(*) FROM user_roles r JOIN users u ON u.id = r.user_id
			WHERE r.role_id = $1 AND NOT u.disabled`, hookline.AdministratorRoleID).Scan(&admins)
		if err != nil {
			t.Fatal(err)
		}
		if admins != 1 {
			t.Fatalf("round %d: %d enabled administrators left; want 1", round, admins)
		}
	}
}

// waitForLockWaiters waits until n sessions of the database at url wait
// for a lock.
func waitForLockWaiters(t *testing.T, url string, n int) {
	t.Helper()
	raw := rawDB(t, url)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := raw.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions wait for a lock after 10 s; want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A user's access keys created at once from two processes stop at the
// limit: the count holds until the commit (the user's row lock).
func TestConcurrentAccessKeyLimit(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := []*postgres.DB{mustOpen(t, url, testKeyring(t, 1)), mustOpen(t, url, testKeyring(t, 1))}
	u := &hookline.User{Email: "u@example.com"}
	if err := dbs[0].CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	n := hookline.MaxAccessKeysUser + 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = dbs[i%2].CreateAccessKey(t.Context(), &hookline.AccessKey{ID: fmt.Sprintf("hk%014d", i), UserID: u.ID, KeyHash: "h"})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch hookline.ErrorCode(err) {
		case "":
			ok++
		case hookline.ECONFLICT:
		default:
			t.Fatal(err)
		}
	}
	if ok != hookline.MaxAccessKeysUser {
		t.Errorf("%d of %d concurrent creates succeeded; want the limit, %d", ok, n, hookline.MaxAccessKeysUser)
	}
}

// Times come from DB.Now, in UTC, truncated to PostgreSQL's microseconds
// so that what a create hands back is what a read returns; sessions
// expire by it.
func TestStoreClock(t *testing.T) {
	db := MustOpenDB(t)
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
	now := at
	var mu sync.Mutex
	db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	want := at.UTC().Truncate(time.Microsecond)

	c := storetest.Connection("Clocked")
	if err := db.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	u := &hookline.User{Email: "u@example.com"}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	got, err := db.Connection(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotU, err := db.User(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]time.Time{"connection": c.CreatedAt, "stored connection": got.CreatedAt,
		"user": u.CreatedAt, "stored user": gotU.CreatedAt} {
		if !v.Equal(want) || v.Location() != time.UTC {
			t.Errorf("%s CreatedAt = %v; want %v in UTC", name, v, want)
		}
	}

	s := &hookline.Session{TokenHash: "h", UserID: u.ID, ExpiresAt: want.Add(time.Hour)}
	if err := db.CreateSession(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		after time.Duration
		found bool
	}{{0, true}, {time.Hour - time.Microsecond, true}, {time.Hour, false}} {
		set(want.Add(tt.after))
		_, err := db.Session(t.Context(), "h")
		if tt.found != (err == nil) || (err != nil && hookline.ErrorCode(err) != hookline.ENOTFOUND) {
			t.Errorf("at +%v: Session: %v; want found: %v", tt.after, err, tt.found)
		}
	}

	// A clock stepped back does not make anything modified before it was
	// created.
	set(at.Add(-time.Hour))
	if err := db.UpdateConnection(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if !got.ModifiedAt.Equal(want) {
		t.Errorf("ModifiedAt after the clock went back = %v; want CreatedAt %v", got.ModifiedAt, want)
	}
}
