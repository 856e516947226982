package client_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/credential"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "correct horse battery staple"
	setupToken    = "setup-token-0123456789abcdef"
)

// accessServer is a real API with access control over SQLite: the admin
// token testToken and, unless noAdmin, a first administrator adminEmail
// whose password is adminPassword. Without one, setupToken sets it up.
type accessServer struct {
	url   string
	db    *sqlite.DB
	admin *client.Client // the admin token
}

func newAccessServer(t *testing.T, noAdmin bool) *accessServer {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kr, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	registry := notify.NewRegistry(webhook.Kind{})
	s := &hookhttp.Server{
		Addr: "127.0.0.1:0", Store: db, Registry: registry, Sender: &notify.Sender{Registry: registry},
		Access: db, TokenHash: sha256.Sum256([]byte(testToken)),
	}
	if noAdmin {
		s.SetupTokenHash = sha256.Sum256([]byte(setupToken))
	} else {
		u := &hookline.User{Email: adminEmail, Name: "Admin", RoleIDs: []string{hookline.AdministratorRoleID},
			PasswordHash: credential.Hash(adminPassword)}
		if err := db.CreateFirstUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return &accessServer{url: s.URL(), db: db, admin: client.New(s.URL(), testToken)}
}

// wantAPIError fails unless err holds an *APIError with the status, and,
// when field is not "", a problem naming it.
func wantAPIError(t *testing.T, what string, err error, status int, field string) *client.APIError {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: err = %v (%T), want an *APIError %d", what, err, err, status)
	}
	if ae.Status != status {
		t.Errorf("%s: status %d (%v), want %d", what, ae.Status, ae, status)
	}
	if field != "" && !slices.ContainsFunc(ae.FieldErrors(), func(e client.ErrorEntry) bool { return e.Field == field }) {
		t.Errorf("%s: %v names no field %q", what, ae, field)
	}
	return ae
}

// recorder keeps a copy of the headers of every request sent through it.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

func TestSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newAccessServer(t, true)
	anon := client.New(srv.url, "")

	_, err := anon.Setup(ctx, "not-the-setup-token", "first@example.com", "First", adminPassword)
	wantAPIError(t, "wrong setup token", err, http.StatusBadRequest, "token")
	_, err = anon.Setup(ctx, setupToken, "first@example.com", "First", "short")
	wantAPIError(t, "short password", err, http.StatusBadRequest, "password")

	u, err := anon.Setup(ctx, setupToken, "first@example.com", "First", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.Email != "first@example.com" || u.Name != "First" || !u.HasPassword ||
		!slices.Equal(u.RoleIDs, []string{hookline.AdministratorRoleID}) || u.CreatedAt.IsZero() {
		t.Errorf("set up user = %+v", u)
	}
	_, err = anon.Setup(ctx, setupToken, "second@example.com", "Second", adminPassword)
	wantAPIError(t, "second setup", err, http.StatusConflict, "")

	sess, err := anon.SignIn(ctx, "first@example.com", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if sess.User == nil || sess.User.ID != u.ID || !sess.Can("manageUsersAndRoles") {
		t.Errorf("session of the first administrator = %+v", sess)
	}
}

func TestSignInSessionAndCSRF(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newAccessServer(t, false)
	rec := &recorder{}
	c := client.New(srv.url, "", client.WithHTTPClient(&http.Client{Transport: rec}))

	_, err := c.Session(ctx)
	wantAPIError(t, "no credentials", err, http.StatusUnauthorized, "")
	_, err = c.SignIn(ctx, adminEmail, "wrong password 0123")
	ae := wantAPIError(t, "wrong password", err, http.StatusUnauthorized, "")
	if strings.Contains(err.Error(), "wrong password 0123") || strings.Contains(ae.Message, "wrong password 0123") {
		t.Errorf("the error shows the password: %v", err)
	}

	sess, err := c.SignIn(ctx, adminEmail, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Via != client.ViaSession || sess.CSRFToken == "" || sess.User == nil || sess.User.Email != adminEmail ||
		len(sess.Capabilities) != len(hookline.Capabilities) {
		t.Errorf("sign-in answer = %+v", sess)
	}
	who, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if who.Via != client.ViaSession || who.User == nil || who.User.ID != sess.User.ID || who.AccessID != "" {
		t.Errorf("session = %+v", who)
	}

	// A change works signed in: the client sends the cookie and the token.
	role, err := c.CreateRole(ctx, client.RoleInput{Name: "viewers", Capabilities: []string{"viewConnections"}})
	if err != nil {
		t.Fatal(err)
	}
	sent := rec.last()
	cookie := sent.Header.Get("Cookie")
	if cookie == "" || sent.Header.Get("X-CSRF-Token") != sess.CSRFToken || sent.Header.Get("Authorization") != "" {
		t.Fatalf("request after sign-in: Cookie %q, X-CSRF-Token %q, Authorization %q",
			cookie, sent.Header.Get("X-CSRF-Token"), sent.Header.Get("Authorization"))
	}

	// The same change with the cookie alone, or a wrong token, is refused.
	for _, csrf := range []string{"", "wrong-csrf-token"} {
		req, err := http.NewRequest(http.MethodPut, srv.url+"/api/v1/roles/"+role.ID,
			strings.NewReader(`{"name": "viewers", "capabilities": []}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("PUT with X-CSRF-Token %q: status %d, want 403", csrf, resp.StatusCode)
		}
	}
	if got, err := c.Role(ctx, role.ID); err != nil || !slices.Equal(got.Capabilities, []string{"viewConnections"}) {
		t.Errorf("role after refused changes = %+v, %v", got, err)
	}

	// Changing the password ends the session; the new one signs in.
	err = c.ChangePassword(ctx, "not the current password", "a new password 0123")
	wantAPIError(t, "wrong current password", err, http.StatusBadRequest, "currentPassword")
	err = c.ChangePassword(ctx, adminPassword, "short")
	wantAPIError(t, "short new password", err, http.StatusBadRequest, "newPassword")
	if err := c.ChangePassword(ctx, adminPassword, "a new password 0123"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Session(ctx)
	wantAPIError(t, "session after a password change", err, http.StatusUnauthorized, "")
	if _, err := c.SignIn(ctx, adminEmail, adminPassword); err == nil {
		t.Error("the old password still signs in")
	}
	if _, err := c.SignIn(ctx, adminEmail, "a new password 0123"); err != nil {
		t.Fatal(err)
	}

	// Signing out ends the session; the client has no credentials left.
	if err := c.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.Session(ctx)
	wantAPIError(t, "after sign-out", err, http.StatusUnauthorized, "")
	if got := rec.last().Header.Get("Cookie"); got != "" {
		t.Errorf("request after sign-out still sends Cookie %q", got)
	}
}

func TestSignOutNeedsASession(t *testing.T) {
	t.Parallel()
	srv := newAccessServer(t, false)
	err := srv.admin.SignOut(context.Background())
	wantAPIError(t, "sign out with the admin token", err, http.StatusBadRequest, "")
}

func TestUsersAndRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newAccessServer(t, false)
	c := srv.admin

	roles, err := c.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 1 || roles[0].ID != hookline.AdministratorRoleID || !roles[0].BuiltIn || len(roles[0].Capabilities) != len(hookline.Capabilities) {
		t.Fatalf("roles of a new server = %+v", roles)
	}

	ops, err := c.CreateRole(ctx, client.RoleInput{Name: "Operators", Description: "run connections",
		Capabilities: []string{"manageConnections", "viewAlerts"}})
	if err != nil {
		t.Fatal(err)
	}
	if ops.ID == "" || ops.BuiltIn || ops.Description != "run connections" || ops.CreatedAt.IsZero() {
		t.Errorf("created role = %+v", ops)
	}
	in := ops.Input()
	in.Capabilities = append(in.Capabilities, "sendAlerts")
	ops, err = c.UpdateRole(ctx, ops.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Role(ctx, ops.ID); err != nil || !slices.Contains(got.Capabilities, "sendAlerts") || got.Name != "Operators" {
		t.Errorf("role after update = %+v, %v", got, err)
	}

	u, err := c.CreateUser(ctx, client.UserInput{Email: "op@example.com", Name: "Op", RoleIDs: []string{ops.ID}, Password: adminPassword})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || !u.HasPassword || u.Disabled || !slices.Equal(u.RoleIDs, []string{ops.ID}) {
		t.Errorf("created user = %+v", u)
	}
	bot, err := c.CreateUser(ctx, client.UserInput{Email: "bot@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if bot.HasPassword || len(bot.RoleIDs) != 0 {
		t.Errorf("user without password or roles = %+v", bot)
	}

	// An update that leaves the password out keeps it.
	edit := u.Input()
	edit.Name = "Operator"
	if u, err = c.UpdateUser(ctx, u.ID, edit); err != nil {
		t.Fatal(err)
	}
	if u.Name != "Operator" || !u.HasPassword {
		t.Errorf("updated user = %+v", u)
	}
	if _, err := client.New(srv.url, "").SignIn(ctx, "op@example.com", adminPassword); err != nil {
		t.Errorf("the kept password does not sign in: %v", err)
	}

	// Pages: bot, op and admin by email, one a page.
	page, err := c.Users(ctx, client.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].Email != adminEmail || page.Next == "" {
		t.Errorf("first page = %+v", page)
	}
	page, err = c.Users(ctx, client.ListOptions{Limit: 1, Token: page.Next})
	if err != nil || len(page.Data) != 1 || page.Data[0].Email != "bot@example.com" {
		t.Errorf("second page = %+v, %v", page, err)
	}
	all, err := c.AllUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, x := range all {
		emails = append(emails, x.Email)
	}
	if !slices.Equal(emails, []string{adminEmail, "bot@example.com", "op@example.com"}) {
		t.Errorf("all users = %v", emails)
	}
	if got, err := c.User(ctx, bot.ID); err != nil || got.Email != "bot@example.com" {
		t.Errorf("get user = %+v, %v", got, err)
	}

	// The server's refusals come back as *APIError naming the field.
	refusals := []struct {
		name   string
		call   func() error
		status int
		field  string
	}{
		{"taken email", func() error {
			_, err := c.CreateUser(ctx, client.UserInput{Email: "OP@example.com"})
			return err
		}, http.StatusConflict, "email"},
		{"no such role", func() error {
			_, err := c.CreateUser(ctx, client.UserInput{Email: "x@example.com", RoleIDs: []string{"FFFFFFFFFFFFFFFF"}})
			return err
		}, http.StatusBadRequest, "roleIds[0]"},
		{"short password", func() error {
			_, err := c.CreateUser(ctx, client.UserInput{Email: "y@example.com", Password: "short"})
			return err
		}, http.StatusBadRequest, "password"},
		{"unknown capability", func() error {
			_, err := c.CreateRole(ctx, client.RoleInput{Name: "odd", Capabilities: []string{"flyPlanes"}})
			return err
		}, http.StatusBadRequest, "capabilities[0]"},
		{"taken role name", func() error {
			_, err := c.CreateRole(ctx, client.RoleInput{Name: "operators"})
			return err
		}, http.StatusConflict, "name"},
		{"built-in role", func() error {
			_, err := c.UpdateRole(ctx, hookline.AdministratorRoleID, client.RoleInput{Name: "Boss"})
			return err
		}, http.StatusForbidden, ""},
		{"missing user", func() error {
			_, err := c.User(ctx, "FFFFFFFFFFFFFFFF")
			return err
		}, http.StatusNotFound, ""},
	}
	for _, tt := range refusals {
		wantAPIError(t, tt.name, tt.call(), tt.status, tt.field)
	}
	admins, err := c.Users(ctx, client.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, "deleting the last administrator", c.DeleteUser(ctx, admins.Data[0].ID), http.StatusConflict, "")

	// Empty IDs fail before any request.
	for name, err := range map[string]error{
		"User":       func() error { _, err := c.User(ctx, ""); return err }(),
		"UpdateUser": func() error { _, err := c.UpdateUser(ctx, "", client.UserInput{}); return err }(),
		"DeleteUser": c.DeleteUser(ctx, ""),
		"Role":       func() error { _, err := c.Role(ctx, ""); return err }(),
		"UpdateRole": func() error { _, err := c.UpdateRole(ctx, "", client.RoleInput{}); return err }(),
		"DeleteRole": c.DeleteRole(ctx, ""),
		"DeleteKey":  c.DeleteAccessKey(ctx, ""),
	} {
		var ae *client.APIError
		if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "is empty") {
			t.Errorf("%s with an empty ID: %v", name, err)
		}
	}

	// Deleting a role takes it from its users.
	if err := c.DeleteRole(ctx, ops.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Role(ctx, ops.ID)
	wantAPIError(t, "deleted role", err, http.StatusNotFound, "")
	if got, err := c.User(ctx, u.ID); err != nil || len(got.RoleIDs) != 0 {
		t.Errorf("user of a deleted role = %+v, %v", got, err)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.User(ctx, u.ID)
	wantAPIError(t, "deleted user", err, http.StatusNotFound, "")
}

func TestAccessKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newAccessServer(t, false)
	admin := srv.admin

	viewers, err := admin.CreateRole(ctx, client.RoleInput{Name: "viewers", Capabilities: []string{"viewConnections"}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := admin.CreateUser(ctx, client.UserInput{Email: "viewer@example.com", RoleIDs: []string{viewers.ID}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.CreateAccessKey(ctx, "ci", "")
	wantAPIError(t, "a key for the admin token itself", err, http.StatusBadRequest, "")
	_, err = admin.CreateAccessKey(ctx, " ", u.ID)
	wantAPIError(t, "a key without a label", err, http.StatusBadRequest, "label")

	k, err := admin.CreateAccessKey(ctx, "ci", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !credential.ValidAccessID(k.ID) || len(k.Key) < 32 || k.UserID != u.ID || k.Label != "ci" || k.CreatedAt.IsZero() {
		t.Fatalf("created key = %s (key %d characters)", k, len(k.Key))
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, *k); strings.Contains(s, k.Key) {
			t.Errorf("%s of a key shows its secret: %s", format, s)
		}
	}

	// The key signs requests as its user, with the user's capabilities, and
	// wins over a bearer token given too.
	c := client.New(srv.url, testToken, client.WithAccessKey(k.ID, k.Key))
	who, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if who.Via != client.ViaAccessKey || who.AccessID != k.ID || who.User == nil || who.User.ID != u.ID ||
		!slices.Equal(who.Capabilities, []string{"viewConnections"}) || who.CSRFToken != "" {
		t.Errorf("session with the key = %+v", who)
	}
	if _, err := c.AllConnections(ctx); err != nil {
		t.Errorf("list connections with viewConnections: %v", err)
	}
	_, err = c.CreateConnection(ctx, client.Definition{Name: "x", WebhookType: "Webhook", URL: "https://example.com/", DefaultPayload: "{}"})
	ae := wantAPIError(t, "create connection without manageConnections", err, http.StatusForbidden, "")
	if !strings.Contains(ae.Message, "manageConnections") {
		t.Errorf("403 message does not name the capability: %q", ae.Message)
	}
	_, err = c.Users(ctx, client.ListOptions{})
	wantAPIError(t, "list users without manageUsersAndRoles", err, http.StatusForbidden, "")

	// Users make and list their own keys, not others'.
	own, err := c.CreateAccessKey(ctx, "laptop", "")
	if err != nil {
		t.Fatal(err)
	}
	if own.UserID != u.ID || own.Key == "" {
		t.Errorf("own key = %s", own)
	}
	_, err = c.AccessKeys(ctx, "FFFFFFFFFFFFFFFF", client.ListOptions{})
	wantAPIError(t, "list another user's keys", err, http.StatusForbidden, "")
	mine, err := c.AllAccessKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 || mine[0].ID != own.ID || mine[1].ID != k.ID {
		t.Errorf("own keys, newest first = %v", mine)
	}
	for _, x := range mine {
		if x.Key != "" {
			t.Errorf("listed key %s carries its secret", x.ID)
		}
	}
	page, err := admin.AccessKeys(ctx, u.ID, client.ListOptions{Limit: 1})
	if err != nil || len(page.Data) != 1 || page.Next == "" {
		t.Errorf("admin's first page of the user's keys = %+v, %v", page, err)
	}

	// A wrong key is a 401; a revoked one too, at once.
	_, err = client.New(srv.url, "", client.WithAccessKey(k.ID, k.Key+"x")).Session(ctx)
	ae = wantAPIError(t, "wrong key", err, http.StatusUnauthorized, "")
	if strings.Contains(ae.Error(), k.Key) {
		t.Errorf("the error shows the key: %v", ae)
	}
	if err := admin.DeleteAccessKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Session(ctx)
	wantAPIError(t, "revoked key", err, http.StatusUnauthorized, "")
	err = admin.DeleteAccessKey(ctx, k.ID)
	wantAPIError(t, "revoke twice", err, http.StatusNotFound, "")
}

func TestAuditEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newAccessServer(t, false)
	c := srv.admin

	role, err := c.CreateRole(ctx, client.RoleInput{Name: "auditors", Capabilities: []string{"viewAuditLog"}})
	if err != nil {
		t.Fatal(err)
	}
	in := role.Input()
	in.Description = "read the log"
	if _, err := c.UpdateRole(ctx, role.ID, in); err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(ctx, client.UserInput{Email: "auditor@example.com", RoleIDs: []string{role.ID}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, "audit", u.ID)
	if err != nil {
		t.Fatal(err)
	}

	list, err := c.AuditEvents(ctx, client.AuditFilter{TargetType: "role", TargetID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range list.Data {
		actions = append(actions, e.Action)
		if e.Actor.Kind != "adminToken" || e.Actor.String() != "adminToken" || e.TargetName != "auditors" || e.Time.IsZero() {
			t.Errorf("role event = %+v", e)
		}
	}
	if !slices.Equal(actions, []string{"update", "create"}) || list.Next != "" {
		t.Errorf("role events, newest first = %v (next %q)", actions, list.Next)
	}
	if e := list.Data[0]; !strings.Contains(string(e.Before), `"capabilities"`) || !strings.Contains(string(e.After), "read the log") {
		t.Errorf("update event before %s, after %s", e.Before, e.After)
	}

	// The auditor reads the log with their key; it never shows the key.
	auditor := client.New(srv.url, "", client.WithAccessKey(k.ID, k.Key))
	all, err := auditor.AllAuditEvents(ctx, client.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, e := range all {
		types[e.TargetType] = true
		if strings.Contains(string(e.Before)+string(e.After), k.Key) {
			t.Errorf("audit event %s shows the access key", e.ID)
		}
	}
	if len(all) < 5 || !types["role"] || !types["user"] || !types["accessKey"] {
		t.Errorf("all events (%d): types %v", len(all), types)
	}
	keyEvents, err := auditor.AuditEvents(ctx, client.AuditFilter{TargetType: "accessKey", TargetID: k.ID})
	if err != nil || len(keyEvents.Data) != 1 || keyEvents.Data[0].Action != "create" {
		t.Errorf("access key events = %+v, %v", keyEvents, err)
	}

	_, err = c.AuditEvents(ctx, client.AuditFilter{TargetType: "planet"})
	wantAPIError(t, "unknown target type", err, http.StatusBadRequest, "targetType")
	_, err = client.New(srv.url, "", client.WithAccessKey(k.ID, k.Key)).Users(ctx, client.ListOptions{})
	wantAPIError(t, "auditor lists users", err, http.StatusForbidden, "")
}

// Call the API as a user, with an access key from the environment.
func ExampleWithAccessKey() {
	c := client.New("http://127.0.0.1:8080", "",
		client.WithAccessKey(os.Getenv("HOOKLINE_ACCESS_ID"), os.Getenv("HOOKLINE_ACCESS_KEY")))
	who, err := c.Session(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(who.User.Email, "may", who.Capabilities)
}

// Sign in with a password, make an access key for a program, and sign out.
func ExampleClient_SignIn() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", "")
	if _, err := c.SignIn(ctx, "admin@example.com", os.Getenv("HOOKLINE_PASSWORD")); err != nil {
		log.Fatal(err)
	}
	defer c.SignOut(ctx)
	k, err := c.CreateAccessKey(ctx, "ci", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("HOOKLINE_ACCESS_ID=%s HOOKLINE_ACCESS_KEY=%s\n", k.ID, k.Key)
}
