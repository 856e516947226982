package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// TestAccessStore checks that a hookline.AccessStore keeps the interface's
// contract and these rules that the interface leaves to the engines:
//
//   - User and role IDs are 16 upper-case hex digits chosen by the store;
//     an access key keeps the access ID its caller drew. Times are set by
//     the store, in UTC; updates keep CreatedAt.
//   - Emails of users and names of roles are unique case-insensitively:
//     ECONFLICT naming "email" or "name". Users are listed by lower-cased
//     email, then ID; access keys newest first; the limit and token rules
//     are those of connections (EINVALID naming "limit" or "token").
//   - The store validates (User.Validate, Role.Validate): EINVALID, and a
//     role ID that no role has is EINVALID naming "roleIds[i]". Nothing is
//     stored on any error, and no audit event is recorded.
//   - A role's capabilities are stored without repeats, in
//     hookline.Capabilities order, and copied back into the role given.
//   - The built-in Administrator role (hookline.AdministratorRoleID) exists
//     in a new store, has every capability and cannot be changed or deleted
//     (EFORBIDDEN). Deleting another role removes it from its users.
//   - There is always an enabled administrator once there is one: removing
//     the role from, disabling or deleting the last enabled user holding
//     it is ECONFLICT. CreateFirstUser wants an enabled administrator and
//     is ECONFLICT once any user exists, also when called concurrently.
//   - Changing a user's password hash or disabling them ends their
//     sessions; deleting them removes their access keys and sessions.
//   - A user holds at most hookline.MaxAccessKeysUser access keys
//     (ECONFLICT); a key for a missing user is EINVALID naming "userId", a
//     taken access ID ECONFLICT naming "id". TouchAccessKey records a use at
//     most once a minute, never moves LastUsedAt back, and ignores a
//     missing key.
//   - Session returns ENOTFOUND for a missing or expired session (by the
//     store's clock); DeleteSession of a missing session is no error.
//   - Every change, and every session created ("signIn", targeting the
//     user), is one audit event made by hookline.ActorFrom(ctx), with the
//     audit views as Before and After and no hash anywhere; events are
//     listed newest first and filtered by target and actor. A role's view
//     is hookline.RoleAudit. An update that changes nothing is recorded all the same.
//   - Nothing returned aliases what was passed in or what another call
//     returned.
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store that t's cleanup closes.
func TestAccessStore(t *testing.T, open func(t *testing.T) hookline.AccessStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s hookline.AccessStore)
	}{
		{"CreateUserAndGet", testCreateUserAndGet},
		{"CreateUserIgnoresGivenIDAndTimes", testCreateUserIgnoresGivenIDAndTimes},
		{"UserNoAliasing", testUserNoAliasing},
		{"UserValidation", testUserValidation},
		{"UserEmailConflict", testUserEmailConflict},
		{"UserNotFound", testUserNotFound},
		{"CreateFirstUser", testCreateFirstUser},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserEndsSessions", testUpdateUserEndsSessions},
		{"LastAdministrator", testLastAdministrator},
		{"DeleteUser", testDeleteUser},
		{"UsersOrder", testUsersOrder},
		{"UsersPaging", testUsersPaging},
		{"BuiltInRole", testBuiltInRole},
		{"CreateRoleAndGet", testCreateRoleAndGet},
		{"RoleValidation", testRoleValidation},
		{"RoleNameConflict", testRoleNameConflict},
		{"UpdateRole", testUpdateRole},
		{"DeleteRole", testDeleteRole},
		{"RolesOrder", testRolesOrder},
		{"AccessKeys", testAccessKeys},
		{"AccessKeyValidation", testAccessKeyValidation},
		{"AccessKeyLimit", testAccessKeyLimit},
		{"AccessKeysList", testAccessKeysList},
		{"TouchAccessKey", testTouchAccessKey},
		{"Sessions", testSessions},
		{"AuditChanges", testAuditChanges},
		{"AuditFailedChanges", testAuditFailedChanges},
		{"AuditFilters", testAuditFilters},
		{"AuditPaging", testAuditPaging},
		{"ListLimits", testAccessListLimits},
		{"ListBadOptions", testAccessListBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// newUser returns a valid user with the email, a password hash that names
// the email (so that a leak of it is found) and the roles.
func newUser(email string, roleIDs ...string) *hookline.User {
	return &hookline.User{
		Email:        email,
		Name:         "Name of " + email,
		RoleIDs:      roleIDs,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$PASSWORDHASH-" + email,
	}
}

func newRole(name string, caps ...hookline.Capability) *hookline.Role {
	return &hookline.Role{Name: name, Description: "The " + name + " role.", Capabilities: caps}
}

// newKey returns an access key for user with an access ID made from n.
func newKey(userID string, n int) *hookline.AccessKey {
	return &hookline.AccessKey{
		ID:      fmt.Sprintf("hk%014d", n),
		Label:   fmt.Sprintf("key %d", n),
		UserID:  userID,
		KeyHash: fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$KEYHASH-%d", n),
	}
}

// tokenHash returns a distinct hex SHA-256-shaped token hash for n.
func tokenHash(n int) string { return fmt.Sprintf("%064x", 0xC0FFEE0000+n) }

func createUser(t *testing.T, s hookline.AccessStore, u *hookline.User) *hookline.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Email, err)
	}
	return u
}

// createAdmin creates an enabled administrator.
func createAdmin(t *testing.T, s hookline.AccessStore, email string) *hookline.User {
	t.Helper()
	return createUser(t, s, newUser(email, hookline.AdministratorRoleID))
}

func getUser(t *testing.T, s hookline.AccessStore, id string) *hookline.User {
	t.Helper()
	u, err := s.User(t.Context(), id)
	if err != nil {
		t.Fatalf("User(%s): %v", id, err)
	}
	return u
}

func createRole(t *testing.T, s hookline.AccessStore, r *hookline.Role) *hookline.Role {
	t.Helper()
	if err := s.CreateRole(t.Context(), r); err != nil {
		t.Fatalf("CreateRole(%q): %v", r.Name, err)
	}
	return r
}

func getRole(t *testing.T, s hookline.AccessStore, id string) *hookline.Role {
	t.Helper()
	r, err := s.Role(t.Context(), id)
	if err != nil {
		t.Fatalf("Role(%s): %v", id, err)
	}
	return r
}

func createKey(t *testing.T, s hookline.AccessStore, k *hookline.AccessKey) *hookline.AccessKey {
	t.Helper()
	if err := s.CreateAccessKey(t.Context(), k); err != nil {
		t.Fatalf("CreateAccessKey(%s): %v", k.ID, err)
	}
	return k
}

func createSession(t *testing.T, s hookline.AccessStore, userID string, n int) *hookline.Session {
	t.Helper()
	sess := &hookline.Session{TokenHash: tokenHash(n), UserID: userID, ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession(user %s): %v", userID, err)
	}
	return sess
}

// hasSession reports whether the session with token hash n is found; any
// error but ENOTFOUND fails the test.
func hasSession(t *testing.T, s hookline.AccessStore, n int) bool {
	t.Helper()
	_, err := s.Session(t.Context(), tokenHash(n))
	switch hookline.ErrorCode(err) {
	case "":
		return true
	case hookline.ENOTFOUND:
		return false
	}
	t.Fatalf("Session(%d): %v", n, err)
	return false
}

// listUsers pages through every user with the given page size.
func listUsers(t *testing.T, s hookline.AccessStore, limit int) []*hookline.User {
	t.Helper()
	return pageAll(t, "Users", func(token string) ([]*hookline.User, string, error) {
		return s.Users(t.Context(), hookline.ListOptions{Limit: limit, Token: token})
	})
}

func listKeys(t *testing.T, s hookline.AccessStore, userID string, limit int) []*hookline.AccessKey {
	t.Helper()
	return pageAll(t, "AccessKeys", func(token string) ([]*hookline.AccessKey, string, error) {
		return s.AccessKeys(t.Context(), userID, hookline.ListOptions{Limit: limit, Token: token})
	})
}

// pageAll follows next tokens from the first page to the last.
func pageAll[T any](t *testing.T, what string, list func(token string) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	token := ""
	for page := 0; ; page++ {
		items, next, err := list(token)
		if err != nil {
			t.Fatalf("%s(page %d): %v", what, page, err)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		if len(items) == 0 {
			t.Fatalf("%s(page %d) returned nothing but a next token", what, page)
		}
		if page > 10000 {
			t.Fatalf("%s: paging does not end", what)
		}
		token = next
	}
}

func emails(us []*hookline.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Email
	}
	return out
}

func roleNames(rs []*hookline.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

func keyIDs(ks []*hookline.AccessKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return out
}
