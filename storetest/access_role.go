package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

func testBuiltInRole(t *testing.T, s hookline.AccessStore) {
	all := slices.Clone(hookline.Capabilities)
	admin := getRole(t, s, hookline.AdministratorRoleID)
	if admin.ID != hookline.AdministratorRoleID || admin.Name != "Administrator" || !admin.BuiltIn {
		t.Errorf("Administrator role = %+v; want ID %s, name Administrator, built in", admin, hookline.AdministratorRoleID)
	}
	if !slices.Equal(admin.Capabilities, all) {
		t.Errorf("Administrator capabilities = %q; want every capability %q", admin.Capabilities, all)
	}
	roles, err := s.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*hookline.Role{admin}, roles, equal); diff != "" {
		t.Errorf("Roles of a new store (-want +got):\n%s", diff)
	}

	for _, edit := range []func(r *hookline.Role){
		func(r *hookline.Role) { r.Name = "Admins" },
		func(r *hookline.Role) { r.Capabilities = []hookline.Capability{hookline.ViewAlerts} },
		func(r *hookline.Role) {},
		func(r *hookline.Role) { r.Name = "" }, // invalid too: forbidden first
	} {
		r := *admin
		r.Capabilities = slices.Clone(admin.Capabilities)
		edit(&r)
		err := s.UpdateRole(t.Context(), &r)
		wantCode(t, err, hookline.EFORBIDDEN, "UpdateRole(Administrator)")
		if !strings.Contains(hookline.ErrorMessage(err), "built in") {
			t.Errorf("UpdateRole(Administrator): message %q does not say it is built in", hookline.ErrorMessage(err))
		}
	}
	err = s.DeleteRole(t.Context(), hookline.AdministratorRoleID)
	wantCode(t, err, hookline.EFORBIDDEN, "DeleteRole(Administrator)")
	if !strings.Contains(hookline.ErrorMessage(err), "built in") {
		t.Errorf("DeleteRole(Administrator): message %q does not say it is built in", hookline.ErrorMessage(err))
	}
	wantConflict(t, s.CreateRole(t.Context(), newRole("administrator")), "name", "CreateRole(administrator)")

	// Changing what was returned changes neither the store nor the list
	// of capabilities.
	admin.Capabilities[0] = "changed"
	roles[0].Capabilities[1] = "changed"
	if !slices.Equal(hookline.Capabilities, all) {
		t.Fatalf("hookline.Capabilities changed through a returned role: %q", hookline.Capabilities)
	}
	if got := getRole(t, s, hookline.AdministratorRoleID); !slices.Equal(got.Capabilities, all) || got.Name != "Administrator" {
		t.Errorf("Administrator after refused changes = %+v", got)
	}
}

func testCreateRoleAndGet(t *testing.T, s hookline.AccessStore) {
	r := newRole("Operators", hookline.SendAlerts, hookline.ViewAlerts, hookline.ManageConnections, hookline.ViewAlerts)
	before := time.Now()
	createRole(t, s, r)
	after := time.Now()
	if !idForm.MatchString(r.ID) {
		t.Errorf("ID = %q; want 16 upper-case hex digits", r.ID)
	}
	checkStoreTime(t, "CreatedAt", r.CreatedAt, before, after)
	if !r.ModifiedAt.Equal(r.CreatedAt) {
		t.Errorf("new role: ModifiedAt %v differs from CreatedAt %v", r.ModifiedAt, r.CreatedAt)
	}
	// Without repeats, in hookline.Capabilities order; implied ones are
	// not added.
	want := []hookline.Capability{hookline.ManageConnections, hookline.ViewAlerts, hookline.SendAlerts}
	if !slices.Equal(r.Capabilities, want) {
		t.Errorf("capabilities after create = %q; want %q", r.Capabilities, want)
	}
	if diff := cmp.Diff(r, getRole(t, s, r.ID), equal); diff != "" {
		t.Errorf("Role(%s) differs from what was created (-want +got):\n%s", r.ID, diff)
	}

	empty := createRole(t, s, &hookline.Role{Name: "Nobody"})
	if got := getRole(t, s, empty.ID); len(got.Capabilities) != 0 || got.Description != "" || got.BuiltIn {
		t.Errorf("role without capabilities = %+v", got)
	}
	if empty.ID == r.ID {
		t.Errorf("two roles share ID %s", r.ID)
	}
}

func testRoleValidation(t *testing.T, s hookline.AccessStore) {
	existing := createRole(t, s, newRole("Valid", hookline.ViewAlerts))
	tests := []struct {
		name  string
		edit  func(r *hookline.Role)
		field string
	}{
		{"no name", func(r *hookline.Role) { r.Name = "" }, "name"},
		{"blank name", func(r *hookline.Role) { r.Name = "  " }, "name"},
		{"padded name", func(r *hookline.Role) { r.Name = " Ops" }, "name"},
		{"long name", func(r *hookline.Role) { r.Name = strings.Repeat("n", hookline.MaxRoleNameLen+1) }, "name"},
		{"long description", func(r *hookline.Role) { r.Description = strings.Repeat("d", hookline.MaxDescriptionLen+1) }, "description"},
		{"unknown capability", func(r *hookline.Role) {
			r.Capabilities = []hookline.Capability{hookline.ViewAlerts, "launchRockets"}
		}, "capabilities[1]"},
		{"capability case", func(r *hookline.Role) { r.Capabilities = []hookline.Capability{"ViewAlerts"} }, "capabilities[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRole("Invalid " + tt.name)
			tt.edit(r)
			wantField(t, s.CreateRole(t.Context(), r), tt.field, "CreateRole")
			u := *existing
			u.Capabilities = slices.Clone(existing.Capabilities)
			tt.edit(&u)
			wantField(t, s.UpdateRole(t.Context(), &u), tt.field, "UpdateRole")
		})
	}
	wantCode(t, s.CreateRole(t.Context(), nil), hookline.EINVALID, "CreateRole(nil)")
	wantCode(t, s.UpdateRole(t.Context(), nil), hookline.EINVALID, "UpdateRole(nil)")
	for _, id := range []string{"00000000000468D5", "", "nope"} {
		_, err := s.Role(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("Role(%q)", id))
		if want := fmt.Sprintf("role %s not found", id); hookline.ErrorMessage(err) != want {
			t.Errorf("Role(%q): message %q; want %q", id, hookline.ErrorMessage(err), want)
		}
		r := newRole("Missing")
		r.ID = id
		wantCode(t, s.UpdateRole(t.Context(), r), hookline.ENOTFOUND, fmt.Sprintf("UpdateRole(%q)", id))
		wantCode(t, s.DeleteRole(t.Context(), id), hookline.ENOTFOUND, fmt.Sprintf("DeleteRole(%q)", id))
	}
	roles, err := s.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := roleNames(roles); !slices.Equal(got, []string{"Administrator", "Valid"}) {
		t.Errorf("after invalid changes the roles are %q", got)
	}
	if diff := cmp.Diff(existing, getRole(t, s, existing.ID), equal); diff != "" {
		t.Errorf("an invalid update changed the role (-want +got):\n%s", diff)
	}
}

func testRoleNameConflict(t *testing.T, s hookline.AccessStore) {
	a := createRole(t, s, newRole("Operators"))
	b := createRole(t, s, newRole("Ärger"))
	for _, name := range []string{"Operators", "operators", "OPERATORS", "ärger", "ÄRGER", "Administrator", "ADMINISTRATOR"} {
		err := s.CreateRole(t.Context(), newRole(name))
		wantConflict(t, err, "name", fmt.Sprintf("CreateRole(%q)", name))
		if strings.EqualFold(name, b.Name) {
			continue
		}
		u := *b
		u.Name = name
		wantConflict(t, s.UpdateRole(t.Context(), &u), "name", fmt.Sprintf("rename %q to %q", b.Name, name))
	}
	if diff := cmp.Diff(b, getRole(t, s, b.ID), equal); diff != "" {
		t.Errorf("a failed update changed the role (-want +got):\n%s", diff)
	}
	// A role may change the case of its name; its old name is then free.
	u := *a
	u.Name = "OPERATORS"
	if err := s.UpdateRole(t.Context(), &u); err != nil {
		t.Fatalf("change the case of a name: %v", err)
	}
	u.Name = "Ops"
	if err := s.UpdateRole(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	createRole(t, s, newRole("operators"))
	createRole(t, s, newRole("Arger"))
	roles, err := s.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := roleNames(roles), []string{"Administrator", "Arger", "operators", "Ops", "Ärger"}; !slices.Equal(got, want) {
		t.Errorf("roles = %q; want %q (none from a failed create)", got, want)
	}
}

func testUpdateRole(t *testing.T, s hookline.AccessStore) {
	r := createRole(t, s, newRole("Before", hookline.ViewAlerts))
	u := createUser(t, s, newUser("holder@example.com", r.ID))
	created := *r

	time.Sleep(2 * time.Millisecond)
	upd := &hookline.Role{
		ID:           r.ID,
		Name:         "After",
		Description:  "changed",
		Capabilities: []hookline.Capability{hookline.ViewAuditLog, hookline.ManageMonitors, hookline.ViewAuditLog},
		BuiltIn:      true, // ignored
		CreatedAt:    time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
	}
	before := time.Now()
	if err := s.UpdateRole(t.Context(), upd); err != nil {
		t.Fatalf("UpdateRole: %v", err)
	}
	want := &hookline.Role{
		ID: r.ID, Name: "After", Description: "changed",
		Capabilities: []hookline.Capability{hookline.ManageMonitors, hookline.ViewAuditLog},
		CreatedAt:    created.CreatedAt, ModifiedAt: upd.ModifiedAt,
	}
	checkStoreTime(t, "ModifiedAt", upd.ModifiedAt, before, time.Now())
	if !upd.ModifiedAt.After(created.ModifiedAt) {
		t.Errorf("ModifiedAt = %v; want after the creation's %v", upd.ModifiedAt, created.ModifiedAt)
	}
	if diff := cmp.Diff(want, upd, equal); diff != "" {
		t.Errorf("role after UpdateRole (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, getRole(t, s, r.ID), equal); diff != "" {
		t.Errorf("Role after update (-want +got):\n%s", diff)
	}
	if got := getUser(t, s, u.ID).RoleIDs; !slices.Equal(got, []string{r.ID}) {
		t.Errorf("the holder's roles after the update = %q", got)
	}
}

func testDeleteRole(t *testing.T, s hookline.AccessStore) {
	admin := createAdmin(t, s, "admin@example.com")
	doomed := createRole(t, s, newRole("Doomed", hookline.ViewAlerts))
	kept := createRole(t, s, newRole("Kept", hookline.SendAlerts))
	u := createUser(t, s, newUser("u@example.com", doomed.ID, kept.ID))
	v := createUser(t, s, newUser("v@example.com", kept.ID, doomed.ID, hookline.AdministratorRoleID))
	w := createUser(t, s, newUser("w@example.com", doomed.ID))

	if err := s.DeleteRole(t.Context(), doomed.ID); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	_, err := s.Role(t.Context(), doomed.ID)
	wantCode(t, err, hookline.ENOTFOUND, "Role after delete")
	wantCode(t, s.DeleteRole(t.Context(), doomed.ID), hookline.ENOTFOUND, "second DeleteRole")
	r := *doomed
	wantCode(t, s.UpdateRole(t.Context(), &r), hookline.ENOTFOUND, "UpdateRole after delete")
	for _, tt := range []struct {
		u    *hookline.User
		want []string
	}{
		{u, []string{kept.ID}},
		{v, []string{kept.ID, hookline.AdministratorRoleID}},
		{w, nil},
		{admin, []string{hookline.AdministratorRoleID}},
	} {
		if got := getUser(t, s, tt.u.ID).RoleIDs; !slices.Equal(got, tt.want) {
			t.Errorf("%s's roles after deleting %s = %q; want %q", tt.u.Email, doomed.ID, got, tt.want)
		}
	}
	roles, err := s.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := roleNames(roles); !slices.Equal(got, []string{"Administrator", "Kept"}) {
		t.Errorf("roles after delete = %q", got)
	}
	// The name may be used again, with a new ID; no user holds the new role.
	again := createRole(t, s, newRole("doomed"))
	if again.ID == doomed.ID {
		t.Errorf("a new role reused the deleted ID %s", doomed.ID)
	}
	for _, user := range listUsers(t, s, 0) {
		if slices.Contains(user.RoleIDs, again.ID) {
			t.Errorf("%s holds the new role %s", user.Email, again.ID)
		}
	}
}

func testRolesOrder(t *testing.T, s hookline.AccessStore) {
	for _, name := range []string{"gamma", "Ärger", "Alpha", "beta", "_x", "Zulu", "alpha 2", "Admins"} {
		createRole(t, s, newRole(name))
	}
	roles, err := s.Roles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Administrator", "_x", "Admins", "Alpha", "alpha 2", "beta", "gamma", "Zulu", "Ärger"}
	if got := roleNames(roles); !slices.Equal(got, want) {
		t.Errorf("Roles = %q; want %q: the Administrator first, then by lower-cased name", got, want)
	}
}
