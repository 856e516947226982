package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

func testCreateUserAndGet(t *testing.T, s hookline.AccessStore) {
	if n, err := s.CountUsers(t.Context()); err != nil || n != 0 {
		t.Fatalf("CountUsers of a new store = %d, %v; want 0", n, err)
	}
	u := newUser("Alice@Example.com", hookline.AdministratorRoleID)
	want := *u
	before := time.Now()
	createUser(t, s, u)
	after := time.Now()

	if !idForm.MatchString(u.ID) {
		t.Errorf("ID = %q; want 16 upper-case hex digits", u.ID)
	}
	checkStoreTime(t, "CreatedAt", u.CreatedAt, before, after)
	if !u.ModifiedAt.Equal(u.CreatedAt) {
		t.Errorf("new user: ModifiedAt %v differs from CreatedAt %v", u.ModifiedAt, u.CreatedAt)
	}
	want.ID, want.CreatedAt, want.ModifiedAt = u.ID, u.CreatedAt, u.ModifiedAt
	if diff := cmp.Diff(&want, u, equal); diff != "" {
		t.Errorf("CreateUser changed more than ID and times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(u, getUser(t, s, u.ID), equal); diff != "" {
		t.Errorf("User(%s) differs from what was created (-want +got):\n%s", u.ID, diff)
	}
	for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
		got, err := s.UserByEmail(t.Context(), email)
		if err != nil {
			t.Fatalf("UserByEmail(%q): %v", email, err)
		}
		if diff := cmp.Diff(u, got, equal); diff != "" {
			t.Errorf("UserByEmail(%q) (-want +got):\n%s", email, diff)
		}
	}

	// A user without password or roles, disabled.
	v := &hookline.User{Email: "bot@example.com", Disabled: true}
	createUser(t, s, v)
	if v.ID == u.ID {
		t.Errorf("two users share ID %s", u.ID)
	}
	got := getUser(t, s, v.ID)
	if got.PasswordHash != "" || !got.Disabled || len(got.RoleIDs) != 0 || got.Name != "" {
		t.Errorf("User(%s) = %+v; want no password, disabled, no roles, no name", v.ID, got)
	}
	if n, err := s.CountUsers(t.Context()); err != nil || n != 2 {
		t.Errorf("CountUsers = %d, %v; want 2", n, err)
	}
	list, next, err := s.Users(t.Context(), hookline.ListOptions{})
	if err != nil || next != "" {
		t.Fatalf("Users = next %q, %v", next, err)
	}
	if diff := cmp.Diff([]*hookline.User{u, v}, list, equal); diff != "" {
		t.Errorf("Users differs from what was created (-want +got):\n%s", diff)
	}
}

func testCreateUserIgnoresGivenIDAndTimes(t *testing.T, s hookline.AccessStore) {
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	u := newUser("preset@example.com")
	u.ID, u.CreatedAt, u.ModifiedAt = "00000000000468D5", old, old
	before := time.Now()
	createUser(t, s, u)
	checkStoreTime(t, "CreatedAt", u.CreatedAt, before, time.Now())
	checkStoreTime(t, "ModifiedAt", u.ModifiedAt, before, time.Now())

	v := newUser("preset2@example.com")
	v.ID = "00000000000468D5"
	createUser(t, s, v)
	if u.ID == v.ID {
		t.Errorf("the store used the caller's ID %s twice", u.ID)
	}

	r := newRole("Preset")
	r.ID, r.CreatedAt, r.BuiltIn = hookline.AdministratorRoleID, old, true
	createRole(t, s, r)
	if r.ID == hookline.AdministratorRoleID || !idForm.MatchString(r.ID) || r.BuiltIn {
		t.Errorf("created role ID %q, BuiltIn %v; want a new ID and not built in", r.ID, r.BuiltIn)
	}
	checkStoreTime(t, "role CreatedAt", r.CreatedAt, before, time.Now())
	if got := getRole(t, s, hookline.AdministratorRoleID); got.Name != "Administrator" {
		t.Errorf("the Administrator role is now named %q", got.Name)
	}
}

func testUserNoAliasing(t *testing.T, s hookline.AccessStore) {
	r := createRole(t, s, newRole("Viewers", hookline.ViewAlerts))
	u := createUser(t, s, newUser("alias@example.com", r.ID, hookline.AdministratorRoleID))
	want := *getUser(t, s, u.ID)

	u.RoleIDs[0] = "changed"
	got := getUser(t, s, u.ID)
	got.RoleIDs[0] = "changed"
	byEmail, err := s.UserByEmail(t.Context(), u.Email)
	if err != nil {
		t.Fatal(err)
	}
	byEmail.RoleIDs[1] = "changed"
	list, _, err := s.Users(t.Context(), hookline.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list[0].RoleIDs[0] = "changed"
	if diff := cmp.Diff(&want, getUser(t, s, u.ID), equal); diff != "" {
		t.Errorf("stored user changed through an alias (-want +got):\n%s", diff)
	}

	// Updates do not keep the slice either.
	upd := want
	upd.RoleIDs = []string{r.ID, hookline.AdministratorRoleID}
	if err := s.UpdateUser(t.Context(), &upd); err != nil {
		t.Fatal(err)
	}
	upd.RoleIDs[0] = "changed"
	if got := getUser(t, s, u.ID).RoleIDs; !slices.Equal(got, []string{r.ID, hookline.AdministratorRoleID}) {
		t.Errorf("roles after update = %q; changed through the slice passed in", got)
	}

	rr := getRole(t, s, r.ID)
	rr.Capabilities[0] = "changed"
	r.Capabilities[0] = "changed"
	if got := getRole(t, s, r.ID).Capabilities; !slices.Equal(got, []hookline.Capability{hookline.ViewAlerts}) {
		t.Errorf("role capabilities = %q; changed through an alias", got)
	}
}

func testUserValidation(t *testing.T, s hookline.AccessStore) {
	r := createRole(t, s, newRole("Viewers", hookline.ViewAlerts))
	existing := createUser(t, s, newUser("valid@example.com", r.ID))
	tests := []struct {
		name  string
		edit  func(u *hookline.User)
		field string
	}{
		{"no email", func(u *hookline.User) { u.Email = "" }, "email"},
		{"blank email", func(u *hookline.User) { u.Email = "   " }, "email"},
		{"no at", func(u *hookline.User) { u.Email = "alice.example.com" }, "email"},
		{"nothing after at", func(u *hookline.User) { u.Email = "alice@" }, "email"},
		{"space in email", func(u *hookline.User) { u.Email = "al ice@example.com" }, "email"},
		{"long email", func(u *hookline.User) { u.Email = strings.Repeat("a", hookline.MaxEmailLen) + "@x" }, "email"},
		{"long name", func(u *hookline.User) { u.Name = strings.Repeat("n", hookline.MaxUserNameLen+1) }, "name"},
		{"control in name", func(u *hookline.User) { u.Name = "a\x00b" }, "name"},
		{"role twice", func(u *hookline.User) { u.RoleIDs = []string{r.ID, r.ID} }, "roleIds[1]"},
		{"unknown role", func(u *hookline.User) { u.RoleIDs = []string{"00000000000468D5"} }, "roleIds[0]"},
		{"second role unknown", func(u *hookline.User) { u.RoleIDs = []string{r.ID, "00000000000468D5"} }, "roleIds[1]"},
		{"role ID not an ID", func(u *hookline.User) { u.RoleIDs = []string{"viewers"} }, "roleIds[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser("invalid@example.com")
			tt.edit(u)
			wantField(t, s.CreateUser(t.Context(), u), tt.field, "CreateUser")
			first := newUser("invalid@example.com", hookline.AdministratorRoleID)
			tt.edit(first)
			// The field may differ: without the Administrator role, the
			// first user is refused for that.
			wantCode(t, s.CreateFirstUser(t.Context(), first), hookline.EINVALID, "CreateFirstUser")

			upd := *existing
			upd.RoleIDs = slices.Clone(existing.RoleIDs)
			tt.edit(&upd)
			wantField(t, s.UpdateUser(t.Context(), &upd), tt.field, "UpdateUser")
		})
	}
	wantCode(t, s.CreateUser(t.Context(), nil), hookline.EINVALID, "CreateUser(nil)")
	wantCode(t, s.CreateFirstUser(t.Context(), nil), hookline.EINVALID, "CreateFirstUser(nil)")
	wantCode(t, s.UpdateUser(t.Context(), nil), hookline.EINVALID, "UpdateUser(nil)")
	if got := listUsers(t, s, 0); len(got) != 1 || cmp.Diff(existing, got[0], equal) != "" {
		t.Errorf("after invalid creates and updates the store holds %q; want only the valid user unchanged", emails(got))
	}
}

func testUserEmailConflict(t *testing.T, s hookline.AccessStore) {
	a := createUser(t, s, newUser("Alice@Example.com"))
	b := createUser(t, s, newUser("Ärger@example.com"))
	for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM", "ärger@example.com", "ÄRGER@EXAMPLE.COM"} {
		err := s.CreateUser(t.Context(), newUser(email))
		wantConflict(t, err, "email", fmt.Sprintf("CreateUser(%q)", email))

		u := *b
		u.Email = email
		if strings.EqualFold(email, b.Email) {
			continue // b may change the case of its own email; checked below
		}
		wantConflict(t, s.UpdateUser(t.Context(), &u), "email", fmt.Sprintf("rename %q to %q", b.Email, email))
	}
	if diff := cmp.Diff(b, getUser(t, s, b.ID), equal); diff != "" {
		t.Errorf("a failed update changed the user (-want +got):\n%s", diff)
	}
	for _, email := range []string{"alice2@example.com", "alice@example.org", "Arger@example.com"} {
		createUser(t, s, newUser(email))
	}
	// A user may change the case of their own email; the old email is then
	// free again.
	u := *a
	u.Email = "ALICE@example.com"
	if err := s.UpdateUser(t.Context(), &u); err != nil {
		t.Fatalf("change the case of an email: %v", err)
	}
	u.Email = "alice.new@example.com"
	if err := s.UpdateUser(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	createUser(t, s, newUser("alice@example.com"))
	if n, err := s.CountUsers(t.Context()); err != nil || n != 6 {
		t.Errorf("CountUsers = %d, %v; want 6 (no user from a failed create)", n, err)
	}
}

func testUserNotFound(t *testing.T, s hookline.AccessStore) {
	createUser(t, s, newUser("existing@example.com"))
	for _, id := range []string{"00000000000468D5", "", "not-an-id", "'; DROP TABLE users; --"} {
		_, err := s.User(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("User(%q)", id))
		if want := fmt.Sprintf("user %s not found", id); hookline.ErrorMessage(err) != want {
			t.Errorf("User(%q): message %q; want %q", id, hookline.ErrorMessage(err), want)
		}
		u := newUser("updated@example.com")
		u.ID = id
		wantCode(t, s.UpdateUser(t.Context(), u), hookline.ENOTFOUND, fmt.Sprintf("UpdateUser(%q)", id))
		wantCode(t, s.DeleteUser(t.Context(), id), hookline.ENOTFOUND, fmt.Sprintf("DeleteUser(%q)", id))
	}
	for _, email := range []string{"missing@example.com", "", "existing@example.co"} {
		_, err := s.UserByEmail(t.Context(), email)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("UserByEmail(%q)", email))
	}
	if got := emails(listUsers(t, s, 0)); !slices.Equal(got, []string{"existing@example.com"}) {
		t.Errorf("after failed updates and deletes the store holds %q", got)
	}
}

func testCreateFirstUser(t *testing.T, s hookline.AccessStore) {
	// The first user must be an enabled administrator.
	u := newUser("first@example.com")
	wantField(t, s.CreateFirstUser(t.Context(), u), "roleIds", "CreateFirstUser without the Administrator role")
	u = newUser("first@example.com", hookline.AdministratorRoleID)
	u.Disabled = true
	wantField(t, s.CreateFirstUser(t.Context(), u), "disabled", "CreateFirstUser of a disabled user")
	if n, err := s.CountUsers(t.Context()); err != nil || n != 0 {
		t.Fatalf("CountUsers after refused first users = %d, %v; want 0", n, err)
	}

	// Of several at once, one wins.
	results := make([]error, 8)
	users := make([]*hookline.User, len(results))
	var wg sync.WaitGroup
	for i := range results {
		users[i] = newUser(fmt.Sprintf("first%d@example.com", i), hookline.AdministratorRoleID)
		wg.Go(func() { results[i] = s.CreateFirstUser(t.Context(), users[i]) })
	}
	wg.Wait()
	var won *hookline.User
	for i, err := range results {
		switch hookline.ErrorCode(err) {
		case "":
			if won != nil {
				t.Errorf("CreateFirstUser succeeded for both %s and %s", won.Email, users[i].Email)
			}
			won = users[i]
		case hookline.ECONFLICT:
		default:
			t.Errorf("CreateFirstUser(%s): %v; want success or ECONFLICT", users[i].Email, err)
		}
	}
	if won == nil {
		t.Fatal("no concurrent CreateFirstUser succeeded")
	}
	if !idForm.MatchString(won.ID) || won.CreatedAt.IsZero() {
		t.Errorf("first user ID %q, CreatedAt %v; want them filled in", won.ID, won.CreatedAt)
	}
	if diff := cmp.Diff(won, getUser(t, s, won.ID), equal); diff != "" {
		t.Errorf("first user (-want +got):\n%s", diff)
	}

	// Once any user exists.
	err := s.CreateFirstUser(t.Context(), newUser("late@example.com", hookline.AdministratorRoleID))
	wantCode(t, err, hookline.ECONFLICT, "CreateFirstUser with a user present")
	if n, err := s.CountUsers(t.Context()); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
}

func testUpdateUser(t *testing.T, s hookline.AccessStore) {
	createAdmin(t, s, "admin@example.com")
	ops := createRole(t, s, newRole("Operators", hookline.ManageConnections))
	viewers := createRole(t, s, newRole("Viewers", hookline.ViewAlerts))
	u := createUser(t, s, newUser("before@example.com", ops.ID))
	created := *u

	time.Sleep(2 * time.Millisecond) // so that ModifiedAt visibly moves on
	upd := &hookline.User{
		ID:           u.ID,
		Email:        "After@Example.com",
		Name:         "After",
		RoleIDs:      []string{viewers.ID, hookline.AdministratorRoleID, ops.ID},
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$PASSWORDHASH-new",
		Disabled:     true,
		CreatedAt:    time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), // the store keeps its own
	}
	want := *upd
	before := time.Now()
	if err := s.UpdateUser(t.Context(), upd); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if !upd.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("after update CreatedAt = %v; want the stored %v", upd.CreatedAt, created.CreatedAt)
	}
	checkStoreTime(t, "ModifiedAt", upd.ModifiedAt, before, time.Now())
	if !upd.ModifiedAt.After(created.ModifiedAt) {
		t.Errorf("ModifiedAt = %v; want a time after the creation's %v", upd.ModifiedAt, created.ModifiedAt)
	}
	want.CreatedAt, want.ModifiedAt = created.CreatedAt, upd.ModifiedAt
	if diff := cmp.Diff(&want, upd, equal); diff != "" {
		t.Errorf("UpdateUser changed more than the times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(upd, getUser(t, s, u.ID), equal); diff != "" {
		t.Errorf("User after update (-want +got):\n%s", diff)
	}
	if _, err := s.UserByEmail(t.Context(), "before@example.com"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Errorf("UserByEmail(old email): %v; want ENOTFOUND", err)
	}

	// Removing the password and every role.
	upd.PasswordHash, upd.RoleIDs, upd.Disabled = "", nil, false
	if err := s.UpdateUser(t.Context(), upd); err != nil {
		t.Fatal(err)
	}
	got := getUser(t, s, u.ID)
	if got.PasswordHash != "" || len(got.RoleIDs) != 0 || got.Disabled {
		t.Errorf("after removing password and roles: %+v", got)
	}
}

func testUpdateUserEndsSessions(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("u@example.com"))
	v := createUser(t, s, newUser("v@example.com"))
	createSession(t, s, u.ID, 1)
	createSession(t, s, u.ID, 2)
	createSession(t, s, v.ID, 3)
	k := createKey(t, s, newKey(u.ID, 1))

	steps := []struct {
		name  string
		edit  func(u *hookline.User)
		ended bool
	}{
		{"name and email", func(u *hookline.User) { u.Name, u.Email = "New name", "U2@example.com" }, false},
		{"nothing", func(u *hookline.User) {}, false},
		{"password", func(u *hookline.User) { u.PasswordHash += "-changed" }, true},
		{"password removed", func(u *hookline.User) { u.PasswordHash = "" }, true},
		{"password set", func(u *hookline.User) { u.PasswordHash = "$argon2id$PASSWORDHASH-again" }, true},
		{"disabled", func(u *hookline.User) { u.Disabled = true }, true},
		{"still disabled", func(u *hookline.User) { u.Name = "Still disabled" }, false},
		{"enabled", func(u *hookline.User) { u.Disabled = false }, false},
	}
	n := 10
	for _, step := range steps {
		createSession(t, s, u.ID, n)
		cur := getUser(t, s, u.ID)
		step.edit(cur)
		if err := s.UpdateUser(t.Context(), cur); err != nil {
			t.Fatalf("%s: UpdateUser: %v", step.name, err)
		}
		if got := hasSession(t, s, n); got == step.ended {
			t.Errorf("%s: session found = %v; want %v", step.name, got, !step.ended)
		}
		if step.ended && (hasSession(t, s, 1) || hasSession(t, s, 2)) {
			t.Errorf("%s: older sessions survived", step.name)
		}
		if !hasSession(t, s, 3) {
			t.Fatalf("%s: another user's session ended", step.name)
		}
		n++
	}
	// Access keys stay through all of it.
	if _, err := s.AccessKey(t.Context(), k.ID); err != nil {
		t.Errorf("AccessKey after the updates: %v", err)
	}
}

func testLastAdministrator(t *testing.T, s hookline.AccessStore) {
	a := newUser("a@example.com", hookline.AdministratorRoleID)
	if err := s.CreateFirstUser(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	other := createRole(t, s, newRole("Other", hookline.ViewAlerts))
	// b is an administrator, but disabled: it does not count.
	b := newUser("b@example.com", other.ID, hookline.AdministratorRoleID)
	b.Disabled = true
	createUser(t, s, b)
	c := createUser(t, s, newUser("c@example.com", other.ID))

	refused := func(who *hookline.User) {
		t.Helper()
		stored := getUser(t, s, who.ID)
		u := *stored
		u.RoleIDs = []string{other.ID}
		err := s.UpdateUser(t.Context(), &u)
		wantConflict(t, err, "roleIds", "removing the last administrator's role")
		if !strings.Contains(hookline.ErrorMessage(err), "last enabled administrator") {
			t.Errorf("message %q does not say why", hookline.ErrorMessage(err))
		}
		u = *stored
		u.RoleIDs = nil
		wantConflict(t, s.UpdateUser(t.Context(), &u), "roleIds", "removing every role of the last administrator")
		u = *stored
		u.Disabled = true
		wantConflict(t, s.UpdateUser(t.Context(), &u), "disabled", "disabling the last administrator")
		err = s.DeleteUser(t.Context(), who.ID)
		wantCode(t, err, hookline.ECONFLICT, "deleting the last administrator")
		if !strings.Contains(hookline.ErrorMessage(err), "last enabled administrator") {
			t.Errorf("message %q does not say why", hookline.ErrorMessage(err))
		}
		if diff := cmp.Diff(stored, getUser(t, s, who.ID), equal); diff != "" {
			t.Errorf("a refused change changed the user (-want +got):\n%s", diff)
		}
	}
	refused(a)

	// Other changes to the last administrator are fine, as are changes to
	// anyone else.
	u := *getUser(t, s, a.ID)
	u.Name, u.RoleIDs = "Renamed", []string{other.ID, hookline.AdministratorRoleID}
	if err := s.UpdateUser(t.Context(), &u); err != nil {
		t.Errorf("rename the last administrator and add a role: %v", err)
	}
	u = *getUser(t, s, c.ID)
	u.Disabled = true
	if err := s.UpdateUser(t.Context(), &u); err != nil {
		t.Errorf("disable a non-administrator: %v", err)
	}
	if err := s.DeleteUser(t.Context(), c.ID); err != nil {
		t.Errorf("delete a non-administrator: %v", err)
	}

	// With b enabled, a may go; then b is the last.
	u = *getUser(t, s, b.ID)
	u.Disabled = false
	if err := s.UpdateUser(t.Context(), &u); err != nil {
		t.Fatalf("enable b: %v", err)
	}
	u = *getUser(t, s, a.ID)
	u.Disabled = true
	if err := s.UpdateUser(t.Context(), &u); err != nil {
		t.Fatalf("disable a with b enabled: %v", err)
	}
	refused(b)
	// A disabled administrator may be deleted.
	if err := s.DeleteUser(t.Context(), a.ID); err != nil {
		t.Errorf("delete the disabled administrator: %v", err)
	}
	refused(b)
	// A second enabled administrator frees b.
	createAdmin(t, s, "d@example.com")
	if err := s.DeleteUser(t.Context(), b.ID); err != nil {
		t.Errorf("delete b with d enabled: %v", err)
	}
}

func testDeleteUser(t *testing.T, s hookline.AccessStore) {
	createAdmin(t, s, "admin@example.com")
	r := createRole(t, s, newRole("Viewers", hookline.ViewAlerts))
	u := createUser(t, s, newUser("doomed@example.com", r.ID))
	v := createUser(t, s, newUser("survivor@example.com", r.ID))
	createKey(t, s, newKey(u.ID, 1))
	createKey(t, s, newKey(u.ID, 2))
	kv := createKey(t, s, newKey(v.ID, 3))
	createSession(t, s, u.ID, 1)
	createSession(t, s, u.ID, 2)
	createSession(t, s, v.ID, 3)

	if err := s.DeleteUser(t.Context(), u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.User(t.Context(), u.ID)
	wantCode(t, err, hookline.ENOTFOUND, "User after delete")
	_, err = s.UserByEmail(t.Context(), u.Email)
	wantCode(t, err, hookline.ENOTFOUND, "UserByEmail after delete")
	wantCode(t, s.DeleteUser(t.Context(), u.ID), hookline.ENOTFOUND, "second DeleteUser")
	upd := *u
	wantCode(t, s.UpdateUser(t.Context(), &upd), hookline.ENOTFOUND, "UpdateUser after delete")
	for _, id := range []string{newKey("", 1).ID, newKey("", 2).ID} {
		_, err := s.AccessKey(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, "AccessKey of a deleted user")
	}
	if got := listKeys(t, s, u.ID, 0); len(got) != 0 {
		t.Errorf("AccessKeys of a deleted user = %q; want none", keyIDs(got))
	}
	if got := keyIDs(listKeys(t, s, "", 0)); !slices.Equal(got, []string{kv.ID}) {
		t.Errorf("AccessKeys after delete = %q; want only the other user's", got)
	}
	if hasSession(t, s, 1) || hasSession(t, s, 2) {
		t.Errorf("a deleted user's session is still found")
	}
	if !hasSession(t, s, 3) {
		t.Errorf("another user's session ended")
	}
	// The other user keeps the role; the email may be used again.
	if got := getUser(t, s, v.ID); !slices.Equal(got.RoleIDs, []string{r.ID}) {
		t.Errorf("the other user's roles = %q", got.RoleIDs)
	}
	w := createUser(t, s, newUser("DOOMED@example.com"))
	if w.ID == u.ID {
		t.Errorf("a new user reused the deleted ID %s", u.ID)
	}
	if n, err := s.CountUsers(t.Context()); err != nil || n != 3 {
		t.Errorf("CountUsers = %d, %v; want 3", n, err)
	}
}

func testUsersOrder(t *testing.T, s hookline.AccessStore) {
	for _, email := range []string{"gamma@x.io", "Ärger@x.io", "Alpha@x.io", "beta@x.io", "_x@x.io", "Zulu@x.io", "alpha.2@x.io", "ärgerlich@x.io"} {
		createUser(t, s, newUser(email))
	}
	want := []string{"_x@x.io", "alpha.2@x.io", "Alpha@x.io", "beta@x.io", "gamma@x.io", "Zulu@x.io", "Ärger@x.io", "ärgerlich@x.io"}
	for _, limit := range []int{0, 1, 3, 8, 9} {
		if got := emails(listUsers(t, s, limit)); !slices.Equal(got, want) {
			t.Errorf("pages of %d: order %q; want %q", limit, got, want)
		}
	}
}

func testUsersPaging(t *testing.T, s hookline.AccessStore) {
	var want []string
	for i := range 7 {
		want = append(want, fmt.Sprintf("user%d@example.com", i))
	}
	byEmail := map[string]*hookline.User{}
	for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
		byEmail[want[i]] = createUser(t, s, newUser(want[i]))
	}
	for _, limit := range []int{1, 3, 6, 7, 8} {
		token := ""
		var got []string
		for page := 0; ; page++ {
			list, next, err := s.Users(t.Context(), hookline.ListOptions{Limit: limit, Token: token})
			if err != nil {
				t.Fatalf("limit %d page %d: %v", limit, page, err)
			}
			if len(list) > limit || (next != "" && len(list) != limit) {
				t.Errorf("limit %d page %d: %d users, next %q", limit, page, len(list), next)
			}
			got = append(got, emails(list)...)
			if next == "" {
				break
			}
			if page > 100 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			token = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: pages hold %q; want %q", limit, got, want)
		}
	}

	// Deleting the last user seen, and adding one before the cursor,
	// between pages: paging continues after the last email seen.
	list, next, err := s.Users(t.Context(), hookline.ListOptions{Limit: 2})
	if err != nil || next == "" {
		t.Fatalf("first page: %q, %q, %v", emails(list), next, err)
	}
	if err := s.DeleteUser(t.Context(), byEmail[want[1]].ID); err != nil {
		t.Fatal(err)
	}
	createUser(t, s, newUser("user0a@example.com"))
	rest := emails(pageAll(t, "Users", func(token string) ([]*hookline.User, string, error) {
		if token == "" {
			token = next
		}
		return s.Users(t.Context(), hookline.ListOptions{Limit: 2, Token: token})
	}))
	if !slices.Equal(rest, want[2:]) {
		t.Errorf("pages after the first = %q; want %q", rest, want[2:])
	}
}
