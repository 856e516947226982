package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

// wantEvent is an audit event expected. before and after are audit views
// (hookline.UserAudit, hookline.RoleAudit, ...), nil for none; the event's JSON must
// decode into the same type with no field left over.
type wantEvent struct {
	actor                                    hookline.Actor
	action, targetType, targetID, targetName string
	before, after                            any
}

// ctxAs returns a context whose changes are made by a.
func ctxAs(t *testing.T, a hookline.Actor) context.Context {
	return hookline.WithActor(t.Context(), a)
}

// allEvents lists every audit event matching f, newest first, page by page.
func allEvents(t *testing.T, s hookline.AccessStore, f hookline.AuditFilter) []*hookline.AuditEvent {
	t.Helper()
	return pageAll(t, "AuditEvents", func(token string) ([]*hookline.AuditEvent, string, error) {
		f.Token = token
		return s.AuditEvents(t.Context(), f)
	})
}

func countEvents(t *testing.T, s hookline.AccessStore) int {
	t.Helper()
	return len(allEvents(t, s, hookline.AuditFilter{ListOptions: hookline.ListOptions{Limit: hookline.MaxListLimit}}))
}

func eventIDs(es []*hookline.AuditEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// checkEvents compares events, newest first, with want, oldest first, and
// checks that no event holds any of secrets.
func checkEvents(t *testing.T, got []*hookline.AuditEvent, want []wantEvent, start, end time.Time, secrets []string) {
	t.Helper()
	if len(got) != len(want) {
		for _, e := range got {
			t.Logf("event %s %s %s %s %q", e.ID, e.Action, e.TargetType, e.TargetID, e.TargetName)
		}
		t.Fatalf("%d audit events; want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, w := range want {
		e := got[len(got)-1-i]
		what := fmt.Sprintf("event %d (%s %s %q)", i, w.action, w.targetType, w.targetName)
		if !idForm.MatchString(e.ID) || seen[e.ID] {
			t.Errorf("%s: ID %q; want 16 upper-case hex digits, not seen before", what, e.ID)
		}
		seen[e.ID] = true
		checkStoreTime(t, what+" Time", e.Time, start, end)
		if e.Actor != w.actor {
			t.Errorf("%s: actor %+v; want %+v", what, e.Actor, w.actor)
		}
		if e.Action != w.action || e.TargetType != w.targetType || e.TargetID != w.targetID || e.TargetName != w.targetName {
			t.Errorf("%s: got %s %s %s %q; want %s %s %s %q", what, e.Action, e.TargetType, e.TargetID, e.TargetName,
				w.action, w.targetType, w.targetID, w.targetName)
		}
		checkView(t, what+" Before", e.Before, w.before)
		checkView(t, what+" After", e.After, w.after)
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range secrets {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the secret %q: %s", what, secret, b)
			}
		}
	}
}

// checkView decodes raw strictly into want's type and compares.
func checkView(t *testing.T, what string, raw json.RawMessage, want any) {
	t.Helper()
	if want == nil {
		if len(raw) != 0 {
			t.Errorf("%s = %s; want none", what, raw)
		}
		return
	}
	if len(raw) == 0 {
		t.Errorf("%s is missing", what)
		return
	}
	got := reflect.New(reflect.TypeOf(want))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(got.Interface()); err != nil {
		t.Errorf("%s = %s: does not decode as %T: %v", what, raw, want, err)
		return
	}
	if diff := cmp.Diff(want, got.Elem().Interface(), equal); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func testAuditChanges(t *testing.T, s hookline.AccessStore) {
	start := time.Now()
	sys := hookline.Actor{Kind: hookline.ActorSystem}
	admin := newUser("admin@example.com", hookline.AdministratorRoleID)
	if err := s.CreateFirstUser(t.Context(), admin); err != nil { // no actor in the context: the system
		t.Fatal(err)
	}
	alice := hookline.Actor{Kind: hookline.ActorUser, ID: admin.ID, Name: admin.Email}
	aliceKey := alice
	aliceKey.AccessID = "hk00000000000042"
	token := hookline.Actor{Kind: hookline.ActorAdminToken}
	want := []wantEvent{{sys, "create", hookline.AuditUser, admin.ID, admin.Email, nil, admin.AuditView()}}

	r := newRole("Operators", hookline.SendAlerts, hookline.ViewAlerts, hookline.ViewAlerts)
	if err := s.CreateRole(ctxAs(t, alice), r); err != nil {
		t.Fatal(err)
	}
	createdRole := r.AuditView()
	if !slices.Equal(createdRole.Capabilities, []hookline.Capability{hookline.ViewAlerts, hookline.SendAlerts}) {
		t.Fatalf("role capabilities %q", createdRole.Capabilities)
	}
	want = append(want, wantEvent{alice, "create", hookline.AuditRole, r.ID, "Operators", nil, createdRole})

	u := newUser("u@example.com", r.ID)
	if err := s.CreateUser(ctxAs(t, aliceKey), u); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{aliceKey, "create", hookline.AuditUser, u.ID, u.Email, nil, u.AuditView()})

	beforeU := u.AuditView()
	u2 := *u
	u2.Name, u2.PasswordHash, u2.RoleIDs, u2.Email = "Renamed", "", []string{r.ID, hookline.AdministratorRoleID}, "U2@example.com"
	if err := s.UpdateUser(ctxAs(t, token), &u2); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{token, "update", hookline.AuditUser, u.ID, u2.Email, beforeU, u2.AuditView()})

	r2 := *r
	r2.Name, r2.Description, r2.Capabilities = "Auditors", "Read the log.", []hookline.Capability{hookline.ViewAuditLog}
	if err := s.UpdateRole(ctxAs(t, alice), &r2); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{alice, "update", hookline.AuditRole, r.ID, "Auditors", createdRole, r2.AuditView()})

	k := newKey(u.ID, 1)
	if err := s.CreateAccessKey(ctxAs(t, alice), k); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{alice, "create", hookline.AuditAccessKey, k.ID, k.Label, nil, k.AuditView()})

	uActor := hookline.Actor{Kind: hookline.ActorUser, ID: u.ID, Name: u2.Email}
	sess := &hookline.Session{TokenHash: tokenHash(1), UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateSession(ctxAs(t, uActor), sess); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{uActor, "signIn", hookline.AuditUser, u.ID, u2.Email, nil, nil})

	if err := s.DeleteAccessKey(ctxAs(t, alice), k.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{alice, "delete", hookline.AuditAccessKey, k.ID, k.Label, k.AuditView(), nil})

	// Deleting a role records each holder's update, then the deletion.
	if err := s.DeleteRole(ctxAs(t, alice), r.ID); err != nil {
		t.Fatal(err)
	}
	u3 := u2
	u3.RoleIDs = []string{hookline.AdministratorRoleID}
	want = append(want,
		wantEvent{alice, "update", hookline.AuditUser, u.ID, u2.Email, u2.AuditView(), u3.AuditView()},
		wantEvent{alice, "delete", hookline.AuditRole, r.ID, "Auditors", r2.AuditView(), nil})

	// Deleting a user records the deletion of each key, then the user's.
	k2 := newKey(u.ID, 2)
	if err := s.CreateAccessKey(ctxAs(t, uActor), k2); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{uActor, "create", hookline.AuditAccessKey, k2.ID, k2.Label, nil, k2.AuditView()})
	if err := s.DeleteUser(ctxAs(t, alice), u.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want,
		wantEvent{alice, "delete", hookline.AuditAccessKey, k2.ID, k2.Label, k2.AuditView(), nil},
		wantEvent{alice, "delete", hookline.AuditUser, u.ID, u2.Email, u3.AuditView(), nil})

	// Not recorded: reads, touches, sign-outs.
	if err := s.TouchAccessKey(ctxAs(t, alice), k2.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctxAs(t, alice), sess.TokenHash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.User(ctxAs(t, alice), admin.ID); err != nil {
		t.Fatal(err)
	}

	secrets := []string{"PASSWORDHASH", "KEYHASH", "$argon2id", tokenHash(1), admin.PasswordHash, u.PasswordHash, k.KeyHash, k2.KeyHash}
	list, next, err := s.AuditEvents(t.Context(), hookline.AuditFilter{})
	if err != nil || next != "" {
		t.Fatalf("AuditEvents = next %q, %v", next, err)
	}
	checkEvents(t, list, want, start, time.Now(), secrets)

	// Returned events are copies.
	if len(list) > 0 && len(list[0].Before) > 0 {
		list[0].Before[0] = 'X'
		list[0].Actor.Name = "changed"
		again, _, err := s.AuditEvents(t.Context(), hookline.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		checkEvents(t, again, want, start, time.Now(), secrets)
	}
}

func testAuditFailedChanges(t *testing.T, s hookline.AccessStore) {
	admin := newUser("admin@example.com", hookline.AdministratorRoleID)
	if err := s.CreateFirstUser(t.Context(), admin); err != nil {
		t.Fatal(err)
	}
	r := createRole(t, s, newRole("Operators"))
	u := createUser(t, s, newUser("u@example.com"))
	for i := range hookline.MaxAccessKeysUser {
		createKey(t, s, newKey(u.ID, i))
	}
	before := allEvents(t, s, hookline.AuditFilter{})

	adminRole := getRole(t, s, hookline.AdministratorRoleID)
	demoted := *admin
	demoted.RoleIDs = nil
	disabled := *admin
	disabled.Disabled = true
	renamed := *r
	renamed.Name = "administrator"
	badRoles := *u
	badRoles.RoleIDs = []string{"00000000000468D5"}
	missing := newUser("missing@example.com")
	missing.ID = "00000000000468D5"
	failures := []struct {
		name string
		err  error
	}{
		{"CreateFirstUser again", s.CreateFirstUser(t.Context(), newUser("second@example.com", hookline.AdministratorRoleID))},
		{"CreateUser invalid", s.CreateUser(t.Context(), newUser("not an email"))},
		{"CreateUser taken", s.CreateUser(t.Context(), newUser("U@example.com"))},
		{"CreateUser unknown role", s.CreateUser(t.Context(), newUser("x@example.com", "00000000000468D5"))},
		{"UpdateUser unknown role", s.UpdateUser(t.Context(), &badRoles)},
		{"UpdateUser missing", s.UpdateUser(t.Context(), missing)},
		{"demote last admin", s.UpdateUser(t.Context(), &demoted)},
		{"disable last admin", s.UpdateUser(t.Context(), &disabled)},
		{"delete last admin", s.DeleteUser(t.Context(), admin.ID)},
		{"DeleteUser missing", s.DeleteUser(t.Context(), "00000000000468D5")},
		{"CreateRole taken", s.CreateRole(t.Context(), newRole("OPERATORS"))},
		{"UpdateRole taken", s.UpdateRole(t.Context(), &renamed)},
		{"UpdateRole built in", s.UpdateRole(t.Context(), adminRole)},
		{"DeleteRole built in", s.DeleteRole(t.Context(), hookline.AdministratorRoleID)},
		{"DeleteRole missing", s.DeleteRole(t.Context(), "00000000000468D5")},
		{"CreateAccessKey over the limit", s.CreateAccessKey(t.Context(), newKey(u.ID, 99))},
		{"CreateAccessKey unknown user", s.CreateAccessKey(t.Context(), newKey("00000000000468D5", 98))},
		{"CreateAccessKey taken ID", s.CreateAccessKey(t.Context(), newKey(admin.ID, 0))},
		{"DeleteAccessKey missing", s.DeleteAccessKey(t.Context(), "hk00000000000097")},
		{"CreateSession unknown user", s.CreateSession(t.Context(), &hookline.Session{
			TokenHash: tokenHash(1), UserID: "00000000000468D5", ExpiresAt: time.Now().Add(time.Hour)})},
	}
	for _, f := range failures {
		if f.err == nil {
			t.Errorf("%s succeeded", f.name)
		}
	}
	after := allEvents(t, s, hookline.AuditFilter{})
	if diff := cmp.Diff(eventIDs(before), eventIDs(after)); diff != "" {
		for _, e := range after[:len(after)-len(before)] {
			t.Logf("recorded: %s %s %s %q", e.Action, e.TargetType, e.TargetID, e.TargetName)
		}
		t.Errorf("failed changes recorded audit events (-before +after):\n%s", diff)
	}
}

func testAuditFilters(t *testing.T, s hookline.AccessStore) {
	alice := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000A1", Name: "alice@example.com"}
	bob := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000B0", Name: "bob@example.com"}
	token := hookline.Actor{Kind: hookline.ActorAdminToken}
	u := newUser("u@example.com")
	if err := s.CreateUser(ctxAs(t, alice), u); err != nil {
		t.Fatal(err)
	}
	v := newUser("v@example.com")
	if err := s.CreateUser(ctxAs(t, bob), v); err != nil {
		t.Fatal(err)
	}
	r := newRole("Ops")
	if err := s.CreateRole(ctxAs(t, bob), r); err != nil {
		t.Fatal(err)
	}
	u.RoleIDs = []string{r.ID}
	if err := s.UpdateUser(ctxAs(t, bob), u); err != nil {
		t.Fatal(err)
	}
	k := newKey(u.ID, 1)
	if err := s.CreateAccessKey(ctxAs(t, token), k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctxAs(t, alice), &hookline.Session{TokenHash: tokenHash(1), UserID: v.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctxAs(t, alice), u.ID); err != nil {
		t.Fatal(err)
	}

	all := allEvents(t, s, hookline.AuditFilter{})
	if len(all) != 8 {
		t.Fatalf("%d events; want 8", len(all))
	}
	match := func(f hookline.AuditFilter) []string {
		var ids []string
		for _, e := range all {
			if (f.TargetType == "" || e.TargetType == f.TargetType) && (f.TargetID == "" || e.TargetID == f.TargetID) &&
				(f.ActorID == "" || e.Actor.ID == f.ActorID) {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	tests := []struct {
		f    hookline.AuditFilter
		want int
	}{
		{hookline.AuditFilter{}, 8},
		{hookline.AuditFilter{TargetType: hookline.AuditUser}, 5},
		{hookline.AuditFilter{TargetType: hookline.AuditUser, TargetID: u.ID}, 3},
		{hookline.AuditFilter{TargetType: hookline.AuditUser, TargetID: v.ID}, 2},
		{hookline.AuditFilter{TargetType: hookline.AuditAccessKey, TargetID: k.ID}, 2},
		{hookline.AuditFilter{TargetType: hookline.AuditRole}, 1},
		{hookline.AuditFilter{TargetType: hookline.AuditConnection}, 0},
		{hookline.AuditFilter{TargetID: u.ID}, 3},
		{hookline.AuditFilter{ActorID: alice.ID}, 4},
		{hookline.AuditFilter{ActorID: bob.ID}, 3},
		{hookline.AuditFilter{ActorID: bob.ID, TargetType: hookline.AuditUser}, 2},
		{hookline.AuditFilter{ActorID: bob.ID, TargetType: hookline.AuditUser, TargetID: u.ID}, 1},
		{hookline.AuditFilter{ActorID: "00000000000468D5"}, 0},
		{hookline.AuditFilter{TargetType: "user ", TargetID: u.ID}, 0},
	}
	for _, tt := range tests {
		want := match(tt.f)
		if len(want) != tt.want {
			t.Fatalf("filter %+v: the test expects %d events, the full list has %d", tt.f, tt.want, len(want))
		}
		for _, limit := range []int{0, 1, 2} {
			f := tt.f
			f.Limit = limit
			if got := eventIDs(allEvents(t, s, f)); !slices.Equal(got, want) {
				t.Errorf("AuditEvents(%+v) = %q; want %q", f, got, want)
			}
		}
	}
}

func testAuditPaging(t *testing.T, s hookline.AccessStore) {
	for i := range 7 {
		createRole(t, s, newRole(fmt.Sprintf("role %d", i)))
	}
	all := allEvents(t, s, hookline.AuditFilter{})
	if len(all) != 7 {
		t.Fatalf("%d events; want 7", len(all))
	}
	// Newest first: the last role created comes first.
	for i, e := range all {
		if want := fmt.Sprintf("role %d", 6-i); e.TargetName != want {
			t.Errorf("event %d is of %q; want %q (newest first)", i, e.TargetName, want)
		}
	}
	for _, limit := range []int{1, 3, 6, 7, 8} {
		var pages [][]string
		token := ""
		for {
			list, next, err := s.AuditEvents(t.Context(), hookline.AuditFilter{ListOptions: hookline.ListOptions{Limit: limit, Token: token}})
			if err != nil {
				t.Fatalf("limit %d: %v", limit, err)
			}
			pages = append(pages, eventIDs(list))
			if next == "" {
				break
			}
			if len(pages) > 100 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			token = next
		}
		if got := slices.Concat(pages...); !slices.Equal(got, eventIDs(all)) {
			t.Errorf("limit %d: pages hold %q; want %q", limit, got, eventIDs(all))
		}
		for i, p := range pages[:len(pages)-1] {
			if len(p) != limit {
				t.Errorf("limit %d: page %d holds %d events", limit, i, len(p))
			}
		}
	}

	// Events recorded between pages are newer: they do not show on later
	// pages, which go on where the last left off.
	list, next, err := s.AuditEvents(t.Context(), hookline.AuditFilter{ListOptions: hookline.ListOptions{Limit: 3}})
	if err != nil || next == "" {
		t.Fatalf("first page: %d, %q, %v", len(list), next, err)
	}
	createRole(t, s, newRole("newer"))
	var rest []*hookline.AuditEvent
	for pages := 0; next != ""; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		list, next, err = s.AuditEvents(t.Context(), hookline.AuditFilter{ListOptions: hookline.ListOptions{Limit: 3, Token: next}})
		if err != nil {
			t.Fatalf("next page: %v", err)
		}
		rest = append(rest, list...)
	}
	if got := eventIDs(rest); !slices.Equal(got, eventIDs(all[3:])) {
		t.Errorf("pages after the first = %q; want %q", got, eventIDs(all[3:]))
	}
}

// pagedList is one of an access store's paged lists, reduced to what the
// limit and token checks look at: how many items a page held.
type pagedList struct {
	name string
	list func(opt hookline.ListOptions) (n int, next string, err error)
}

// pagedLists are the paged lists of s, unfiltered.
func pagedLists(t *testing.T, s hookline.AccessStore) []pagedList {
	return []pagedList{
		{"Users", func(opt hookline.ListOptions) (int, string, error) {
			return pageLen(s.Users(t.Context(), opt))
		}},
		{"AccessKeys", func(opt hookline.ListOptions) (int, string, error) {
			return pageLen(s.AccessKeys(t.Context(), "", opt))
		}},
		{"AuditEvents", func(opt hookline.ListOptions) (int, string, error) {
			return pageLen(s.AuditEvents(t.Context(), hookline.AuditFilter{ListOptions: opt}))
		}},
	}
}

// pageLen reduces a page to its length.
func pageLen[T any](page []T, next string, err error) (int, string, error) {
	return len(page), next, err
}

func testAccessListLimits(t *testing.T, s hookline.AccessStore) {
	// Enough users, keys and events to see the default and the maximum.
	n := hookline.MaxListLimit + 1
	var users []*hookline.User
	for i := range n {
		users = append(users, createUser(t, s, newUser(fmt.Sprintf("user%04d@example.com", i))))
	}
	for i := range n {
		createKey(t, s, newKey(users[i/hookline.MaxAccessKeysUser].ID, i))
	}
	lists := pagedLists(t, s)
	tests := []struct {
		limit, want int
	}{
		{0, hookline.DefaultListLimit},
		{1, 1},
		{hookline.DefaultListLimit + 1, hookline.DefaultListLimit + 1},
		{hookline.MaxListLimit + 1, hookline.MaxListLimit},
		{1 << 30, hookline.MaxListLimit},
	}
	for _, l := range lists {
		for _, tt := range tests {
			got, next, err := l.list(hookline.ListOptions{Limit: tt.limit})
			if err != nil {
				t.Fatalf("%s(limit %d): %v", l.name, tt.limit, err)
			}
			if got != tt.want || next == "" {
				t.Errorf("%s(limit %d): %d items, next token %q; want %d and a next token", l.name, tt.limit, got, next, tt.want)
			}
		}
	}
}

func testAccessListBadOptions(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("a@example.com"))
	createUser(t, s, newUser("b@example.com"))
	createKey(t, s, newKey(u.ID, 1))
	createKey(t, s, newKey(u.ID, 2))
	lists := append(pagedLists(t, s),
		pagedList{"AccessKeys of a user", func(opt hookline.ListOptions) (int, string, error) {
			return pageLen(s.AccessKeys(t.Context(), u.ID, opt))
		}},
		pagedList{"AuditEvents of access keys", func(opt hookline.ListOptions) (int, string, error) {
			return pageLen(s.AuditEvents(t.Context(), hookline.AuditFilter{TargetType: hookline.AuditAccessKey, ListOptions: opt}))
		}},
	)
	for _, l := range lists {
		_, token, err := l.list(hookline.ListOptions{Limit: 1})
		if err != nil || token == "" {
			t.Fatalf("%s: first page: token %q, %v", l.name, token, err)
		}
		_, _, err = l.list(hookline.ListOptions{Limit: -1})
		wantField(t, err, "limit", l.name+"(limit -1)")
		for _, bad := range []string{
			"!!!", "not a token", "%zz", "\x00", token + "!", token[:len(token)/2], "A", strings.Repeat("A", 10000),
		} {
			n, next, err := l.list(hookline.ListOptions{Token: bad})
			wantField(t, err, "token", fmt.Sprintf("%s(token %.20q)", l.name, bad))
			if n != 0 || next != "" {
				t.Errorf("%s(token %.20q): returned %d items and %q with the error", l.name, bad, n, next)
			}
		}
	}
}
