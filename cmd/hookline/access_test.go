package main

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
)

const (
	cliAdminPassword  = "admin password 0123456789"
	cliViewerPassword = "viewer password 0123456789"
)

// clearCredentials empties every variable the CLI reads credentials from,
// so that the caller's environment does not leak into a test.
func clearCredentials(t *testing.T) {
	t.Helper()
	for _, name := range []string{"HOOKLINE_TOKEN", "HOOKLINE_ACCESS_ID", "HOOKLINE_ACCESS_KEY", "HOOKLINE_PASSWORD"} {
		t.Setenv(name, "")
		t.Setenv(name+"_FILE", "")
	}
}

// admin runs a command against server with the admin token flag, which
// wins over any access key in the environment.
func admin(t *testing.T, server, stdin string, args ...string) cliResult {
	t.Helper()
	return runCLI(t, stdin, append(args, "--server", server, "--token", cliToken)...)
}

func decodeJSON[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return v
}

// exports reads the two lines keys create prints.
func exports(t *testing.T, out string) (id, key string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("keys create printed %d lines, want 2:\n%s", len(lines), out)
	}
	id, ok1 := strings.CutPrefix(lines[0], "export HOOKLINE_ACCESS_ID=")
	key, ok2 := strings.CutPrefix(lines[1], "export HOOKLINE_ACCESS_KEY=")
	if !ok1 || !ok2 || id == "" || key == "" {
		t.Fatalf("keys create printed:\n%s", out)
	}
	return id, key
}

// TestAccessKeyWalkthrough is a new user's path: an administrator makes a
// role and a user with the CLI, the user gets a key with their password,
// uses it through the environment, meets a capability they lack, and the
// key is revoked. It sets environment variables, so it is not parallel.
func TestAccessKeyWalkthrough(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)

	r := mustSucceed(t, admin(t, server, "", "roles", "create", "--name", "Viewers", "--capability", "ViewConnections", "-o", "json"))
	role := decodeJSON[client.Role](t, r.stdout)
	if role.Name != "Viewers" || !slices.Equal(role.Capabilities, []string{"viewConnections"}) {
		t.Fatalf("created role = %+v", role)
	}
	r = mustSucceed(t, admin(t, server, cliViewerPassword+"\n", "users", "create", "--email", "viewer@example.com",
		"--name", "Vera", "--role", "viewers", "--password-stdin", "-o", "json"))
	user := decodeJSON[client.User](t, r.stdout)
	if !slices.Equal(user.RoleIDs, []string{role.ID}) || !user.HasPassword || user.Name != "Vera" {
		t.Fatalf("created user = %+v", user)
	}

	// The user signs in with the password and gets a key, shown once.
	r = mustSucceed(t, runCLI(t, cliViewerPassword+"\n", "keys", "create", "--server", server,
		"--email", "viewer@example.com", "--password-stdin", "--label", "laptop"))
	id, key := exports(t, r.stdout)
	if strings.Count(r.stdout+r.stderr, key) != 1 || !strings.Contains(r.stderr, "shown this once") ||
		!strings.Contains(r.stderr, id) || !strings.Contains(r.stderr, "viewer@example.com") {
		t.Errorf("keys create output:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, cliViewerPassword) {
		t.Error("keys create printed the password")
	}

	t.Setenv("HOOKLINE_ACCESS_ID", id)
	t.Setenv("HOOKLINE_ACCESS_KEY", key)
	t.Setenv("HOOKLINE_SERVER", server)
	r = mustSucceed(t, runCLI(t, "", "connections", "list"))
	if !strings.Contains(r.stderr, "No connections yet") {
		t.Errorf("connections list with the key: %+v", r)
	}
	r = mustSucceed(t, runCLI(t, "", "whoami"))
	for _, want := range []string{"access key " + id, "viewer@example.com", "Vera", "Viewers", "viewConnections"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("whoami lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "manageConnections") {
		t.Errorf("whoami shows a capability the user lacks:\n%s", r.stdout)
	}
	who := decodeJSON[client.Session](t, mustSucceed(t, runCLI(t, "", "whoami", "-o", "json")).stdout)
	if who.Via != client.ViaAccessKey || who.AccessID != id || who.User == nil || who.User.ID != user.ID {
		t.Errorf("whoami -o json = %+v", who)
	}

	// A capability the user's roles lack: the message names it.
	r = runCLI(t, "", "connections", "create", "--type", "Webhook", "--name", "x", "--url", "https://example.com/", "--alert-payload", "{}")
	if r.code != 1 || !strings.Contains(r.stderr, "403 forbidden") || !strings.Contains(r.stderr, "manageConnections") {
		t.Errorf("create connection without manageConnections: %+v", r)
	}
	r = runCLI(t, "", "users", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "manageUsersAndRoles") {
		t.Errorf("users list without manageUsersAndRoles: %+v", r)
	}

	// The user sees their own key, not its secret.
	r = mustSucceed(t, runCLI(t, "", "keys", "list"))
	rows := tableRows(r.stdout)
	if len(rows) != 2 || !cmp.Equal(rows[0], []string{"ACCESS ID", "LABEL", "USER", "CREATED", "LAST USED"}) ||
		rows[1][0] != id || rows[1][1] != "laptop" || rows[1][2] != "viewer@example.com" || strings.Contains(r.stdout, key) {
		t.Errorf("keys list:\n%s", r.stdout)
	}

	// Revoked, the key is refused with a hint; the flag's token still works.
	r = mustSucceed(t, admin(t, server, "", "keys", "revoke", id))
	if r.stdout != "Revoked access key "+id+".\n" {
		t.Errorf("keys revoke printed %q", r.stdout)
	}
	r = runCLI(t, "", "whoami")
	if r.code != 1 || !strings.Contains(r.stderr, "401 unauthorized") ||
		!strings.Contains(r.stderr, "Check --access-id and --access-key, or HOOKLINE_ACCESS_ID and HOOKLINE_ACCESS_KEY") ||
		!strings.Contains(r.stderr, "revoked") {
		t.Errorf("whoami with a revoked key: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Errorf("an error shows the key: %s", r.stderr)
	}
	r = admin(t, server, "", "keys", "revoke", id)
	if r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Errorf("revoking twice: %+v", r)
	}
}

// TestCredentialSources covers where credentials come from and the errors
// when they are missing or malformed. It sets environment variables.
func TestCredentialSources(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)
	t.Setenv("HOOKLINE_SERVER", server)
	mustSucceed(t, admin(t, server, "", "roles", "create", "--name", "All", "--capability", strings.Join(capabilityStrings(), ",")))
	mustSucceed(t, admin(t, server, cliAdminPassword+"\n", "users", "create", "--email", "boss@example.com", "--role", "All", "--password-stdin"))
	id, key := exports(t, mustSucceed(t, admin(t, server, "", "keys", "create", "--label", "ci", "--user", "boss@example.com")).stdout)

	r := runCLI(t, "", "whoami")
	for _, want := range []string{"no API credentials", "HOOKLINE_ACCESS_ID", "--access-id", "keys create --email", "--token", "HOOKLINE_TOKEN"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("without credentials, stderr lacks %q: %+v", want, r)
		}
	}

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    string // in stdout, on success
		wantErr string // in stderr, on failure
	}{
		{"access key flags", nil, []string{"--access-id", id, "--access-key", key}, "access key " + id, ""},
		{"access key variables", map[string]string{"HOOKLINE_ACCESS_ID": id, "HOOKLINE_ACCESS_KEY": key}, nil, "access key " + id, ""},
		{"the key from a file", map[string]string{"HOOKLINE_ACCESS_ID": id, "HOOKLINE_ACCESS_KEY_FILE": writeFile(t, "key", key+"\n")}, nil, "access key " + id, ""},
		{"the ID flag with the key variable", map[string]string{"HOOKLINE_ACCESS_KEY": key}, []string{"--access-id", id}, "access key " + id, ""},
		{"the key wins over HOOKLINE_TOKEN", map[string]string{"HOOKLINE_ACCESS_ID": id, "HOOKLINE_ACCESS_KEY": key, "HOOKLINE_TOKEN": "wrong-token-0123456789"}, nil, "access key " + id, ""},
		{"the token flag wins over the key variables", map[string]string{"HOOKLINE_ACCESS_ID": id, "HOOKLINE_ACCESS_KEY": "wrong"}, []string{"--token", cliToken}, "the admin token", ""},
		{"HOOKLINE_TOKEN", map[string]string{"HOOKLINE_TOKEN": cliToken}, nil, "the admin token", ""},
		{"an ID without a key", map[string]string{"HOOKLINE_ACCESS_ID": id}, nil, "", "access ID " + id + " has no key: pass --access-key"},
		{"a key without an ID", nil, []string{"--access-key", key}, "", "an access key needs its access ID"},
		{"the key given as the ID", nil, []string{"--access-id", key, "--access-key", key}, "", "is it the key?"},
		{"a wrong key", nil, []string{"--access-id", id, "--access-key", key + "x"}, "", "Check --access-id and --access-key"},
		{"a wrong token", nil, []string{"--token", "not-the-token-000"}, "", "Check --token or HOOKLINE_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearCredentials(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := runCLI(t, "", append([]string{"whoami"}, tt.args...)...)
			if tt.wantErr == "" {
				mustSucceed(t, r)
				if !strings.Contains(r.stdout, tt.want) {
					t.Errorf("stdout lacks %q:\n%s", tt.want, r.stdout)
				}
				return
			}
			if r.code != 1 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("want exit 1 and %q: %+v", tt.wantErr, r)
			}
			if strings.Contains(r.stderr, key) {
				t.Errorf("the error shows the key: %s", r.stderr)
			}
		})
	}

	// Signing in: the password from stdin, HOOKLINE_PASSWORD, or nowhere.
	clearCredentials(t)
	r = runCLI(t, "wrong password 000000\n", "keys", "create", "--email", "boss@example.com", "--password-stdin", "--label", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "The email or password is wrong") ||
		!strings.Contains(r.stderr, "Check --email and the password") || strings.Contains(r.stderr, "wrong password 000000") {
		t.Errorf("keys create with a wrong password: %+v", r)
	}
	r = runCLI(t, "", "keys", "create", "--email", "boss@example.com", "--label", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "no password for --email") {
		t.Errorf("keys create --email without a password: %+v", r)
	}
	t.Setenv("HOOKLINE_PASSWORD", cliAdminPassword)
	r = mustSucceed(t, runCLI(t, "", "keys", "create", "--email", "boss@example.com", "--label", "from-env", "-o", "json"))
	k := decodeJSON[client.AccessKey](t, r.stdout)
	if k.Label != "from-env" || k.Key == "" || k.ID == "" {
		t.Errorf("keys create -o json = %s", r.stdout)
	}
	mustSucceed(t, runCLI(t, "", "whoami", "--access-id", k.ID, "--access-key", k.Key))
}

func capabilityStrings() []string {
	out := make([]string, len(hookline.Capabilities))
	for i, c := range hookline.Capabilities {
		out[i] = string(c)
	}
	return out
}

// TestUsersRolesAuditCLI manages users and roles with the admin token and
// reads what the audit log recorded.
func TestUsersRolesAuditCLI(t *testing.T) {
	t.Parallel()
	server := cliServer(t)

	r := mustSucceed(t, admin(t, server, "", "roles", "create", "--name", "Operators", "--description", "run connections",
		"--capability", "manageConnections", "--capability", "viewAlerts"))
	if !strings.Contains(r.stdout, "Name:          Operators") || !strings.Contains(r.stdout, "manageConnections") {
		t.Errorf("roles create:\n%s", r.stdout)
	}
	r = admin(t, server, "", "roles", "create", "--name", "Odd", "--capability", "flyPlanes")
	if r.code != 1 || !strings.Contains(r.stderr, `--capability "flyPlanes" is not a capability`) || !strings.Contains(r.stderr, "viewAuditLog") {
		t.Errorf("an unknown capability: %+v", r)
	}
	r = admin(t, server, "", "roles", "create", "--name", "operators")
	if r.code != 1 || !strings.Contains(r.stderr, "409") || !strings.Contains(r.stderr, "name:") {
		t.Errorf("a taken role name: %+v", r)
	}
	mustSucceed(t, admin(t, server, "", "roles", "create", "--name", "Auditors", "--capability", "viewAuditLog"))

	r = mustSucceed(t, admin(t, server, "", "roles", "list"))
	rows := tableRows(r.stdout)
	if len(rows) != 4 || rows[1][1] != "Administrator (built-in)" || rows[2][1] != "Auditors" || rows[3][1] != "Operators" {
		t.Errorf("roles list:\n%s", r.stdout)
	}

	// create; then update changes only the given fields.
	r = mustSucceed(t, admin(t, server, cliAdminPassword+"\n", "users", "create", "--email", "op@example.com", "--name", "Op",
		"--role", "Operators", "--role", "auditors", "--password-stdin", "-o", "json"))
	op := decodeJSON[client.User](t, r.stdout)
	if len(op.RoleIDs) != 2 || !op.HasPassword {
		t.Fatalf("created user = %+v", op)
	}
	r = admin(t, server, "", "users", "create", "--email", "x@example.com", "--role", "Nobody")
	if r.code != 1 || !strings.Contains(r.stderr, `--role "Nobody": no role has this ID or name`) || !strings.Contains(r.stderr, "Operators") {
		t.Errorf("an unknown role: %+v", r)
	}
	r = mustSucceed(t, admin(t, server, "", "users", "update", "OP@example.com", "--name", "Operator", "-o", "json"))
	if got := decodeJSON[client.User](t, r.stdout); got.Name != "Operator" || !slices.Equal(got.RoleIDs, op.RoleIDs) || !got.HasPassword || got.Email != "op@example.com" {
		t.Errorf("after update --name: %+v", got)
	}
	r = mustSucceed(t, admin(t, server, "", "users", "update", op.ID, "--role", "Auditors", "--disabled"))
	for _, want := range []string{"Name:      Operator", "Auditors (", "Status:    disabled", "Password:  set"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("after update --role --disabled, lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Operators") {
		t.Errorf("--role did not replace the roles:\n%s", r.stdout)
	}
	r = admin(t, server, "", "users", "update", op.ID)
	if r.code != 1 || !strings.Contains(r.stderr, "nothing to change") {
		t.Errorf("update without flags: %+v", r)
	}
	r = mustSucceed(t, admin(t, server, "", "users", "list"))
	rows = tableRows(r.stdout)
	if len(rows) != 2 || !cmp.Equal(rows[0], []string{"ID", "EMAIL", "NAME", "ROLES", "STATUS"}) ||
		!cmp.Equal(rows[1], []string{op.ID, "op@example.com", "Operator", "Auditors", "disabled"}) {
		t.Errorf("users list:\n%s", r.stdout)
	}
	mustSucceed(t, admin(t, server, "", "users", "update", "op@example.com", "--disabled=false", "--role", ""))
	r = mustSucceed(t, admin(t, server, "", "users", "get", "op@example.com"))
	if !strings.Contains(r.stdout, "Roles:     (none)") || !strings.Contains(r.stdout, "Status:    enabled") {
		t.Errorf("users get after --role \"\":\n%s", r.stdout)
	}

	// An administrator makes a key for another user, by email.
	r = mustSucceed(t, admin(t, server, "", "keys", "create", "--label", "bot", "--user", "op@example.com", "-o", "json"))
	k := decodeJSON[client.AccessKey](t, r.stdout)
	if k.UserID != op.ID || k.Key == "" {
		t.Errorf("key for another user = %+v", k)
	}
	r = mustSucceed(t, admin(t, server, "", "keys", "list", "--user", "op@example.com", "-o", "json"))
	if keys := decodeJSON[[]client.AccessKey](t, r.stdout); len(keys) != 1 || keys[0].ID != k.ID || keys[0].Key != "" {
		t.Errorf("keys list --user = %s", r.stdout)
	}
	r = admin(t, server, "", "keys", "create", "--user", "op@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "--label is required") {
		t.Errorf("keys create without --label: %+v", r)
	}

	// Roles by name: update replaces capabilities, delete asks unless --yes.
	r = mustSucceed(t, admin(t, server, "", "roles", "update", "operators", "--capability", "sendAlerts,viewAlerts", "-o", "json"))
	if got := decodeJSON[client.Role](t, r.stdout); !slices.Equal(got.Capabilities, []string{"viewAlerts", "sendAlerts"}) || got.Description != "run connections" {
		t.Errorf("roles update = %+v", got)
	}
	r = admin(t, server, "", "roles", "update", "Administrator", "--description", "x")
	if r.code != 1 || !strings.Contains(r.stderr, "403") {
		t.Errorf("changing the built-in role: %+v", r)
	}
	r = admin(t, server, "", "roles", "delete", "Operators")
	if r.code != 1 || !strings.Contains(r.stderr, "pass --yes") {
		t.Errorf("roles delete without --yes: %+v", r)
	}
	r = mustSucceed(t, admin(t, server, "", "roles", "delete", "Operators", "--yes"))
	if !strings.Contains(r.stdout, `Deleted role "Operators"`) {
		t.Errorf("roles delete: %q", r.stdout)
	}
	r = admin(t, server, "", "roles", "get", "Operators")
	if r.code != 1 || !strings.Contains(r.stderr, "no role has this ID or name") {
		t.Errorf("get a deleted role: %+v", r)
	}

	// The audit log shows every change, newest first, by the admin token.
	r = mustSucceed(t, admin(t, server, "", "audit", "--target-type", "user", "--target-id", op.ID))
	rows = tableRows(r.stdout)
	var actions []string
	for _, row := range rows[1:] {
		actions = append(actions, row[2])
		if row[1] != "adminToken" || row[3] != "user" || row[4] != "op@example.com" {
			t.Errorf("audit row %q", row)
		}
	}
	// Deleting Operators took it from the user: one more update.
	if !cmp.Equal(rows[0], []string{"TIME", "ACTOR", "ACTION", "TARGET TYPE", "TARGET"}) ||
		len(actions) < 4 || actions[len(actions)-1] != "create" || actions[0] != "update" {
		t.Errorf("audit of the user:\n%s", r.stdout)
	}
	r = mustSucceed(t, admin(t, server, "", "audit", "--limit", "1", "-o", "json"))
	events := decodeJSON[[]client.AuditEvent](t, r.stdout)
	if len(events) != 1 || events[0].TargetType != "role" || events[0].Action != "delete" {
		t.Errorf("audit --limit 1 -o json = %s", r.stdout)
	}
	r = mustSucceed(t, admin(t, server, "", "audit", "--limit", "1"))
	if len(tableRows(r.stdout)) != 2 || !strings.Contains(r.stderr, "More events match: --all lists every one.") {
		t.Errorf("audit --limit 1 does not say more match: %+v", r)
	}
	r = mustSucceed(t, admin(t, server, "", "audit", "--all", "--limit", "2", "-o", "json"))
	if all := decodeJSON[[]client.AuditEvent](t, r.stdout); len(all) < 8 || strings.Contains(r.stdout, k.Key) || strings.Contains(r.stdout, cliAdminPassword) {
		t.Errorf("audit --all: %d events, or a secret shown", len(all))
	}
	r = admin(t, server, "", "audit", "--target-type", "planet")
	if r.code != 1 || !strings.Contains(r.stderr, "--target-type must be one of connection, user, role, accessKey,") {
		t.Errorf("audit --target-type planet: %+v", r)
	}

	r = mustSucceed(t, admin(t, server, "", "users", "delete", "op@example.com", "--yes"))
	if !strings.Contains(r.stdout, "Deleted user op@example.com") {
		t.Errorf("users delete: %q", r.stdout)
	}
	r = admin(t, server, "", "users", "get", op.ID)
	if r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Errorf("get a deleted user: %+v", r)
	}
	r = admin(t, server, "", "users", "get", "nobody@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, `user "nobody@example.com": no user has this email`) {
		t.Errorf("get an unknown email: %+v", r)
	}
}

func TestPasswordFromStdin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"secret\n", "secret", true},
		{"secret", "secret", true},
		{"secret\r\n", "secret", true},
		{" with spaces \nsecond line\n", " with spaces ", true},
		{"", "", false},
		{"\n", "", false},
		{strings.Repeat("x", hookline.MaxPasswordLen+10), strings.Repeat("x", hookline.MaxPasswordLen+3), true},
	} {
		got, err := passwordFromStdin(strings.NewReader(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("passwordFromStdin(%.20q) = %.20q, %v", tt.in, got, err)
		}
	}
}

func TestParseCapabilities(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{nil, []string{}, ""},
		{[]string{"viewAlerts"}, []string{"viewAlerts"}, ""},
		{[]string{"MANAGECONNECTIONS", " viewAuditLog ", "manageConnections", ""}, []string{"manageConnections", "viewAuditLog"}, ""},
		{[]string{"viewAlerts", "admin"}, nil, `--capability "admin" is not a capability; use one of:`},
	} {
		got, err := parseCapabilities(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "manageUsersAndRoles") {
				t.Errorf("parseCapabilities(%q) error = %v", tt.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("parseCapabilities(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	// The help names every capability the server knows.
	help := capabilityHelp()
	for _, c := range hookline.Capabilities {
		if !strings.Contains(help, string(c)+" ") || capabilityText[c] == "" {
			t.Errorf("capability help lacks %s", c)
		}
	}
}

func TestAccessOutputGolden(t *testing.T) {
	t.Parallel()
	created := goldenCreated
	used := created.Add(90 * time.Minute)
	roleNames := map[string]string{hookline.AdministratorRoleID: "Administrator", "0192F1C2A1B2C3E1": "Operators"}
	alice := client.User{ID: "0192F1C2A1B2C3D1", Email: "alice@example.com", Name: "Alice",
		RoleIDs: []string{hookline.AdministratorRoleID, "0192F1C2A1B2C3E1"}, HasPassword: true, CreatedAt: created, ModifiedAt: goldenModified}
	bot := client.User{ID: "0192F1C2A1B2C3D2", Email: "bot@example.com", RoleIDs: []string{"0192F1C2A1B2C3E9"}, Disabled: true, CreatedAt: created, ModifiedAt: created}
	roles := []client.Role{
		{ID: hookline.AdministratorRoleID, Name: "Administrator", Capabilities: capabilityStrings(), BuiltIn: true, CreatedAt: created, ModifiedAt: created},
		{ID: "0192F1C2A1B2C3E1", Name: "Operators", Description: "run connections", Capabilities: []string{"manageConnections", "viewAlerts"}, CreatedAt: created, ModifiedAt: goldenModified},
		{ID: "0192F1C2A1B2C3E2", Name: "Empty", CreatedAt: created, ModifiedAt: created},
	}
	keys := []client.AccessKey{
		{ID: "hk7QK3M9XZ2PRT4W", Label: "cli", UserID: alice.ID, CreatedAt: created, LastUsedAt: used},
		{ID: "hkHQAQM3ZQNJXMUG", Label: "alertmanager\tprod", UserID: "0192F1C2A1B2C3FF", CreatedAt: created},
	}
	events := []client.AuditEvent{
		{ID: "E3", Time: used, Actor: client.Actor{Kind: "user", ID: alice.ID, Name: alice.Email, AccessID: "hk7QK3M9XZ2PRT4W"}, Action: "delete", TargetType: "accessKey", TargetID: "hkHQAQM3ZQNJXMUG", TargetName: "old"},
		{ID: "E2", Time: created, Actor: client.Actor{Kind: "adminToken"}, Action: "update", TargetType: "role", TargetID: "0192F1C2A1B2C3E1", TargetName: "Operators",
			Before: json.RawMessage(`{"name":"Ops"}`), After: json.RawMessage(`{"name":"Operators"}`)},
		{ID: "E1", Time: created, Actor: client.Actor{Kind: "system", Name: "setup"}, Action: "create", TargetType: "user", TargetID: "0192F1C2A1B2C3D1", TargetName: "alice@example.com"},
		{ID: "E0", Time: created, Actor: client.Actor{Kind: "system"}, Action: "create", TargetType: "connection", TargetID: "0192F1C2A1B2C3C1"},
	}
	tests := []struct {
		file  string
		print func(w io.Writer) error
	}{
		{"users.golden", func(w io.Writer) error { return printUserTable(w, []client.User{alice, bot}, roleNames) }},
		{"user.golden", func(w io.Writer) error { return printUserDetails(w, &alice, roleNames) }},
		{"user-without-roles.golden", func(w io.Writer) error {
			u := bot
			u.RoleIDs = nil
			return printUserDetails(w, &u, roleNames)
		}},
		{"user.json.golden", func(w io.Writer) error { return printObject(w, outputJSON, alice) }},
		{"roles.golden", func(w io.Writer) error { return printRoleTable(w, roles) }},
		{"role.golden", func(w io.Writer) error { return printRoleDetails(w, &roles[1]) }},
		{"role-builtin.golden", func(w io.Writer) error { return printRoleDetails(w, &roles[0]) }},
		{"role-empty.golden", func(w io.Writer) error { return printRoleDetails(w, &roles[2]) }},
		{"keys.golden", func(w io.Writer) error {
			return printKeyTable(w, keys, map[string]string{alice.ID: alice.Email})
		}},
		{"key-created.golden", func(w io.Writer) error {
			k := keys[0]
			k.Key = "EXAMPLEKEYb4sX2zL0aQ8wJm7rN5pT1vY9cU3hF6gD0"
			return printKeyExports(w, &k)
		}},
		{"audit.golden", func(w io.Writer) error { return printAuditTable(w, events) }},
		{"audit.yaml.golden", func(w io.Writer) error { return printObject(w, outputYAML, events) }},
		{"whoami-key.golden", func(w io.Writer) error {
			return printWhoami(w, &client.Session{Via: client.ViaAccessKey, AccessID: "hk7QK3M9XZ2PRT4W", User: &alice,
				Capabilities: []string{"viewConnections", "manageConnections"}}, roleNames)
		}},
		{"whoami-token.golden", func(w io.Writer) error {
			return printWhoami(w, &client.Session{Via: client.ViaAdminToken, Capabilities: capabilityStrings()}, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.print(&b); err != nil {
				t.Fatal(err)
			}
			goldenIn(t, "access", tt.file, b.String())
		})
	}
}

func TestAccessHelpHasExamples(t *testing.T) {
	t.Parallel()
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	for _, name := range []string{"keys", "users", "roles", "audit", "whoami"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Fatalf("no %q command: %v", name, err)
		}
		for _, c := range append(cmd.Commands(), cmd) {
			if c.Name() == "help" || c.Name() == "completion" {
				continue
			}
			if strings.TrimSpace(c.Example) == "" {
				t.Errorf("%q has no Example", c.CommandPath())
			}
			for _, flag := range []string{"server", "access-id", "access-key", "token", "output"} {
				if c.Flag(flag) == nil {
					t.Errorf("%q has no --%s", c.CommandPath(), flag)
				}
			}
		}
	}
}
