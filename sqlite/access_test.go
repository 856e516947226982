package sqlite

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/storetest"
)

func TestAccessStore(t *testing.T) {
	storetest.TestAccessStore(t, func(t *testing.T) hookline.AccessStore {
		return openInternal(t)
	})
}

func TestConnectionAudit(t *testing.T) {
	storetest.TestConnectionAudit(t, func(t *testing.T) interface {
		hookline.ConnectionStore
		hookline.AccessStore
	} {
		return openInternal(t)
	})
}

// clock is a settable DB.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func clocked(t *testing.T) (*DB, *clock) {
	t.Helper()
	db := openInternal(t)
	c := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))}
	db.Now = c.now
	return db, c
}

func mustCreateUser(t *testing.T, db *DB, email string, roleIDs ...string) *hookline.User {
	t.Helper()
	u := &hookline.User{Email: email, RoleIDs: roleIDs, PasswordHash: "$argon2id$hash"}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func countRows(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Sessions expire by the store's clock, at ExpiresAt exactly, and a new
// sign-in clears the user's expired sessions from the table.
func TestSessionExpiry(t *testing.T) {
	db, clk := clocked(t)
	start := clk.now()
	u := mustCreateUser(t, db, "u@example.com")
	v := mustCreateUser(t, db, "v@example.com")
	create := func(hash, userID string, ttl time.Duration) {
		t.Helper()
		s := &hookline.Session{TokenHash: hash, UserID: userID, ExpiresAt: clk.now().Add(ttl)}
		if err := db.CreateSession(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		if !s.CreatedAt.Equal(clk.now()) || s.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v; want the store's clock %v in UTC", s.CreatedAt, clk.now())
		}
	}
	create("u-short", u.ID, time.Hour)
	create("u-long", u.ID, 24*time.Hour)
	create("v-short", v.ID, time.Hour)

	tests := []struct {
		at    time.Duration
		found map[string]bool
	}{
		{0, map[string]bool{"u-short": true, "u-long": true, "v-short": true}},
		{time.Hour - time.Nanosecond, map[string]bool{"u-short": true, "u-long": true, "v-short": true}},
		{time.Hour, map[string]bool{"u-long": true}},
		{24*time.Hour - time.Second, map[string]bool{"u-long": true}},
		{24 * time.Hour, map[string]bool{}},
	}
	for _, tt := range tests {
		clk.set(start.Add(tt.at))
		for _, hash := range []string{"u-short", "u-long", "v-short"} {
			s, err := db.Session(t.Context(), hash)
			switch {
			case tt.found[hash] && err != nil:
				t.Errorf("at +%v: Session(%s): %v; want it found", tt.at, hash, err)
			case !tt.found[hash] && hookline.ErrorCode(err) != hookline.ENOTFOUND:
				t.Errorf("at +%v: Session(%s) = %+v, %v; want ENOTFOUND", tt.at, hash, s, err)
			}
		}
	}
	// Expired rows stay in the table until their user signs in again.
	if n := countRows(t, db, `SELECT COUNT(*) FROM sessions`); n != 3 {
		t.Fatalf("%d session rows; want the 3 expired ones still there", n)
	}
	create("u-new", u.ID, time.Hour)
	if got := countRows(t, db, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, u.ID); got != 1 {
		t.Errorf("u holds %d session rows after signing in again; want only the new one", got)
	}
	if got := countRows(t, db, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, v.ID); got != 1 {
		t.Errorf("v holds %d session rows; another user's sign-in must leave them", got)
	}
}

// Times come from DB.Now, in UTC with nanoseconds; a clock stepped back
// does not make anything modified before it was created.
func TestAccessClock(t *testing.T) {
	db, clk := clocked(t)
	at := clk.now()
	u := mustCreateUser(t, db, "u@example.com")
	r := &hookline.Role{Name: "Ops"}
	if err := db.CreateRole(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	k := &hookline.AccessKey{ID: "hk1", UserID: u.ID, KeyHash: "h"}
	if err := db.CreateAccessKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	gotU, err := db.User(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotR, err := db.Role(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotK, err := db.AccessKey(t.Context(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]time.Time{"user": gotU.CreatedAt, "role": gotR.CreatedAt, "key": gotK.CreatedAt} {
		if !v.Equal(at) || v.Location() != time.UTC || v.Nanosecond() != 123456789 {
			t.Errorf("%s CreatedAt = %v; want %v in UTC", name, v, at.UTC())
		}
	}
	events, _, err := db.AuditEvents(t.Context(), hookline.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if !e.Time.Equal(at) {
			t.Errorf("event %s %s at %v; want the store's clock %v", e.Action, e.TargetType, e.Time, at)
		}
	}

	clk.set(at.Add(-time.Hour))
	if err := db.UpdateUser(t.Context(), gotU); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateRole(t.Context(), gotR); err != nil {
		t.Fatal(err)
	}
	if !gotU.ModifiedAt.Equal(at) || !gotR.ModifiedAt.Equal(at) {
		t.Errorf("ModifiedAt after the clock went back: user %v, role %v; want CreatedAt %v", gotU.ModifiedAt, gotR.ModifiedAt, at)
	}
	// Events keep the order they were recorded in, whatever the clock says.
	events, _, err = db.AuditEvents(t.Context(), hookline.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 || events[0].TargetType != hookline.AuditRole || events[1].TargetType != hookline.AuditUser ||
		!events[0].Time.Equal(at.Add(-time.Hour)) {
		t.Errorf("events after the clock went back: %d, first %s at %v", len(events), events[0].TargetType, events[0].Time)
	}
}

// The Administrator's capabilities come from the code, not its row, so a
// capability added later is the Administrator's without a migration.
func TestBuiltInRoleCapabilitiesFromCode(t *testing.T) {
	db := openInternal(t)
	if _, err := db.write.ExecContext(t.Context(), `UPDATE roles SET capabilities = '["viewAlerts"]' WHERE id = ?`,
		hookline.AdministratorRoleID); err != nil {
		t.Fatal(err)
	}
	r, err := db.Role(t.Context(), hookline.AdministratorRoleID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Capabilities, hookline.Capabilities) {
		t.Errorf("Administrator capabilities = %q; want %q", r.Capabilities, hookline.Capabilities)
	}
	// The migration stored them all, for whoever reads the file.
	var stored string
	fresh := openInternal(t)
	if err := fresh.read.QueryRowContext(t.Context(), `SELECT capabilities FROM roles WHERE id = ?`, hookline.AdministratorRoleID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, c := range hookline.Capabilities {
		if !strings.Contains(stored, `"`+string(c)+`"`) {
			t.Errorf("the migration's Administrator row lacks %s: %s", c, stored)
		}
	}
}

// TestAccessUniqueIndexes guards mapUserConstraint's and
// mapRoleConstraint's assumption that a UNIQUE violation on users or roles
// is the email's or the name's.
func TestAccessUniqueIndexes(t *testing.T) {
	db := openInternal(t)
	for table, want := range map[string]string{"users": "users_email_key", "roles": "roles_name_key"} {
		rows, err := db.read.QueryContext(t.Context(), `SELECT name FROM pragma_index_list(?) WHERE "unique" AND origin <> 'pk'`, table)
		if err != nil {
			t.Fatal(err)
		}
		var unique []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			unique = append(unique, name)
		}
		rows.Close()
		if !slices.Equal(unique, []string{want}) {
			t.Errorf("unique indexes on %s besides the primary key: %q; want only %s", table, unique, want)
		}
	}
	// And the mapping itself, fed the driver's real error.
	u := mustCreateUser(t, db, "taken@example.com")
	_, err := db.write.ExecContext(t.Context(), `INSERT INTO users (id, email, email_key, created_at, modified_at)
		VALUES ('00000000000468D5', 'TAKEN@example.com', 'taken@example.com', '', '')`)
	if e := mapUserConstraint(err, "TAKEN@example.com"); hookline.ErrorCode(e) != hookline.ECONFLICT {
		t.Errorf("mapUserConstraint(%v) = %v; want ECONFLICT", err, e)
	}
	_, err = db.write.ExecContext(t.Context(), `INSERT INTO users (id, email, email_key, created_at, modified_at)
		VALUES (?, 'x@example.com', 'x@example.com', '', '')`, u.ID)
	if e := mapUserConstraint(err, "x@example.com"); e != err || err == nil {
		t.Errorf("mapUserConstraint(%v) = %v; want a primary key violation unchanged", err, e)
	}
}

// The access store's lists and its last-administrator check walk indexes
// rather than scan or sort their tables.
func TestAccessQueryPlans(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	audit := func(f hookline.AuditFilter, after *auditKey) string {
		q, _ := auditEventsQuery(f, after, 10)
		return q
	}
	keys := func(userID string, after *accessKeyKey) string {
		q, _ := accessKeysQuery(userID, after, 10)
		return q
	}
	users := func(after *pageKey) string {
		q, _ := usersByEmail.query(after, 10)
		return q
	}
	page := &auditKey{ID: "0000000000000000"}
	keyPage := &accessKeyKey{CreatedAt: "2026", ID: "hk"}
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"audit", audit(hookline.AuditFilter{}, nil), "SCAN audit_events USING INDEX sqlite_autoindex_audit_events_1"},
		{"audit page", audit(hookline.AuditFilter{}, page), "SEARCH audit_events USING INDEX sqlite_autoindex_audit_events_1 (id<?)"},
		{"audit target", audit(hookline.AuditFilter{TargetType: "user", TargetID: "x"}, page),
			"SEARCH audit_events USING INDEX audit_events_target (target_type=? AND target_id=? AND id<?)"},
		{"audit actor", audit(hookline.AuditFilter{ActorID: "x"}, page), "SEARCH audit_events USING INDEX audit_events_actor (actor_id=? AND id<?)"},
		{"keys", keys("", keyPage), "SEARCH access_keys USING INDEX access_keys_created ((created_at,id)<(?,?))"},
		{"user's keys", keys("x", keyPage), "SEARCH access_keys USING INDEX access_keys_user (user_id=? AND (created_at,id)<(?,?))"},
		{"users", users(nil), "SCAN users USING INDEX users_email_key"},
		{"users page", users(&pageKey{NameKey: "a", ID: "0000000000000000"}), "SEARCH users USING INDEX users_email_key (email_key>?)"},
		{"other administrator", otherAdminSQL, "SEARCH r USING COVERING INDEX user_roles_role (role_id=?)"},
		{"user's sessions", `DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?`, "SEARCH sessions USING INDEX sessions_user (user_id=? AND expires_at<?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := queryPlan(t, db, tt.query)
			// The only sort allowed is of each user's few roles by position.
			rest := strings.ReplaceAll(p, "USE TEMP B-TREE FOR json_group_array(ORDER BY)", "")
			if !strings.Contains(p, tt.want) || strings.Contains(rest, "TEMP B-TREE") || strings.Contains(rest, "SCAN user_roles") {
				t.Errorf("plan: %s\nwant %q without a sort", p, tt.want)
			}
		})
	}
}

// TestMigrateAccess upgrades a database of the previous schema: the old
// admin token's hash goes, other settings stay, and the Administrator role
// is there.
func TestMigrateAccess(t *testing.T) {
	db := rawDB(t)
	all := Migrations()
	before := fstest.MapFS{}
	entries, err := fs.ReadDir(all, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() < "0004" {
			body, err := fs.ReadFile(all, e.Name())
			if err != nil {
				t.Fatal(err)
			}
			before[e.Name()] = &fstest.MapFile{Data: body}
		}
	}
	if _, err := migrate(t.Context(), db, before, fixedNow); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"admin_token_sha256", "keycheck"} {
		if _, err := db.Exec(`INSERT INTO settings (key, value, modified_at) VALUES (?, 'v', '')`, key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := migrate(t.Context(), db, all, fixedNow); err != nil {
		t.Fatal(err)
	}
	var keys string
	if err := db.QueryRow(`SELECT group_concat(key) FROM settings`).Scan(&keys); err != nil || keys != "keycheck" {
		t.Errorf("settings after the migration: %q, %v; want only keycheck", keys, err)
	}
	var name string
	var builtIn int
	if err := db.QueryRow(`SELECT name, built_in FROM roles WHERE id = ?`, hookline.AdministratorRoleID).Scan(&name, &builtIn); err != nil ||
		name != "Administrator" || builtIn != 1 {
		t.Errorf("Administrator role: %q, %d, %v", name, builtIn, err)
	}
	var created string
	if err := db.QueryRow(`SELECT created_at FROM roles`).Scan(&created); err != nil {
		t.Fatal(err)
	}
	if _, err := parseTime(created); err != nil || len(created) != len(formatTime(time.Now())) {
		t.Errorf("the Administrator's created_at %q is not in the store's time format: %v", created, err)
	}
}

// Two processes on one file, each disabling the other administrator at
// once: one must fail, or Hookline is left without an administrator.
func TestLastAdministratorAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	open := func() *DB {
		kr, err := keyring.New(bytes.Repeat([]byte{1}, keyring.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		db, err := Open(t.Context(), path, kr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbs := []*DB{open(), open()}
	for round := range 10 {
		a := mustCreateUser(t, dbs[0], fmt.Sprintf("a%d@example.com", round), hookline.AdministratorRoleID)
		b := mustCreateUser(t, dbs[0], fmt.Sprintf("b%d@example.com", round), hookline.AdministratorRoleID)
		// Only a and b may be enabled administrators this round.
		if round > 0 {
			if _, err := dbs[0].write.ExecContext(t.Context(), `UPDATE users SET disabled = 1 WHERE id NOT IN (?, ?)`, a.ID, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, target := range []*hookline.User{b, a} {
			wg.Go(func() {
				u := *target
				u.Disabled = true
				if i == 1 {
					errs[i] = dbs[i].DeleteUser(t.Context(), u.ID)
				} else {
					errs[i] = dbs[i].UpdateUser(t.Context(), &u)
				}
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
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 2 concurrent demotions succeeded (%v); want exactly 1", round, ok, errs)
		}
		if n := countRows(t, dbs[1], otherAdminSQL, hookline.AdministratorRoleID, ""); n != 1 {
			t.Fatalf("round %d: no enabled administrator left", round)
		}
	}
}

// An access key's row never holds the key, and the audit log never holds
// a hash: what the file keeps is checked by reading it.
func TestAuditRowsHoldNoHashes(t *testing.T) {
	db := openInternal(t)
	const pw, key = "$argon2id$v=19$PWHASH-5d1e", "$argon2id$v=19$KEYHASH-9a7c"
	u := &hookline.User{Email: "u@example.com", PasswordHash: pw, RoleIDs: []string{hookline.AdministratorRoleID}}
	if err := db.CreateFirstUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAccessKey(t.Context(), &hookline.AccessKey{ID: "hk1", UserID: u.ID, KeyHash: key}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(t.Context(), &hookline.Session{TokenHash: "TOKENHASH-77", UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = pw + "-new"
	if err := db.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccessKey(t.Context(), "hk1"); err != nil {
		t.Fatal(err)
	}
	n := countRows(t, db, `SELECT COUNT(*) FROM audit_events`)
	leaks := countRows(t, db, `SELECT COUNT(*) FROM audit_events
		WHERE instr(coalesce(before, '') || coalesce(after, '') || target_name, 'HASH') > 0`)
	if n != 5 || leaks != 0 {
		t.Errorf("%d audit rows, %d holding a hash; want 5 and none", n, leaks)
	}
}
