package http_test

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	hookhttp "github.com/hookline/hookline/http"
)

// TestSessionCSRF signs in with a password and checks the cookie's flags
// and that a session's unsafe requests need the CSRF token and the same
// origin, while its reads and access keys' requests do not.
func TestSessionCSRF(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	s := e.signIn(e.admin.email, testPassword)
	if !s.cookie.HttpOnly || s.cookie.SameSite != http.SameSiteStrictMode || s.cookie.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/", s.cookie)
	}
	if s.csrf == "" || strings.Contains(s.cookie.Value, s.csrf) || s.csrf == s.cookie.Value {
		t.Fatalf("csrf token %q: want one that is not the session token", s.csrf)
	}

	post := func(mutate func(*http.Request)) answer {
		req := e.request("POST", "/api/v1/connections", e.webhookDef(e.unique("csrf")))
		s.sign(req)
		mutate(req)
		return e.send(req)
	}
	if a := post(func(*http.Request) {}); a.code != http.StatusOK {
		t.Fatalf("with cookie and token: %d %s", a.code, a.raw)
	}
	for name, mutate := range map[string]func(*http.Request){
		"no token":    func(r *http.Request) { r.Header.Del("X-CSRF-Token") },
		"wrong token": func(r *http.Request) { r.Header.Set("X-CSRF-Token", s.csrf[:len(s.csrf)-1]+"x") },
		"cross-site":  func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"other origin": func(r *http.Request) {
			r.Header.Set("Origin", "https://evil.example")
		},
	} {
		if a := post(mutate); a.code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403: %s", name, a.code, a.raw)
		}
	}
	// Reads need no token.
	req := e.request("GET", "/api/v1/connections", "")
	req.AddCookie(s.cookie)
	if a := e.send(req); a.code != http.StatusOK {
		t.Errorf("GET with the cookie alone: %d %s", a.code, a.raw)
	}
	// Who am I, then sign out: the cookie stops working at once.
	req = e.request("GET", "/api/v1/session", "")
	req.AddCookie(s.cookie)
	if a := e.send(req); a.code != http.StatusOK || a.body["via"] != "session" || a.body["csrfToken"] != s.csrf {
		t.Errorf("GET /session: %d %s", a.code, a.raw)
	}
	req = e.request("DELETE", "/api/v1/session", "")
	s.sign(req)
	if a := e.send(req); a.code != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", a.code, a.raw)
	}
	req = e.request("GET", "/api/v1/connections", "")
	req.AddCookie(s.cookie)
	if a := e.send(req); a.code != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d, want 401", a.code)
	}
}

// TestSignInFailures checks wrong passwords, unknown emails and disabled
// users get one and the same 401, and that guessing is cut off with 429.
func TestSignInFailures(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	u := e.user("disabled-later", hookline.ViewConnections)
	signIn := func(email, pw string) answer {
		return e.send(e.request("POST", "/api/v1/session", mustJSON(map[string]string{"email": email, "password": pw})))
	}
	wrong := signIn(e.admin.email, "not the password")
	unknown := signIn("nobody@example.com", testPassword)
	for name, a := range map[string]answer{"wrong password": wrong, "unknown email": unknown} {
		if a.code != http.StatusUnauthorized || a.body["message"] != "The email or password is wrong." {
			t.Errorf("%s: %d %s", name, a.code, a.raw)
		}
		if a.header.Get("Set-Cookie") != "" {
			t.Errorf("%s set a cookie", name)
		}
	}
	stored, _ := e.db.User(context.Background(), u.userID)
	stored.Disabled = true
	if err := e.db.UpdateUser(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	if a := signIn(u.email, testPassword); a.code != http.StatusUnauthorized {
		t.Errorf("disabled user signed in: %d %s", a.code, a.raw)
	}
	if a := e.as(u, "GET", "/api/v1/connections", ""); a.code != http.StatusUnauthorized || !strings.Contains(a.raw, "disabled") {
		t.Errorf("disabled user's access key: %d %s", a.code, a.raw)
	}
	// A browser's own request gets no Basic challenge (its password
	// dialog would cover the sign-in page); a program's does.
	req := e.request("GET", "/api/v1/session", "")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	if a := e.send(req); a.code != http.StatusUnauthorized || strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("browser fetch: %d, WWW-Authenticate %q", a.code, a.header.Get("WWW-Authenticate"))
	}
	req.SetBasicAuth("hk23456789ABCDEF", "wrong")
	if a := e.send(req); !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("fetch with Basic credentials: WWW-Authenticate %q, want the Basic challenge", a.header.Get("WWW-Authenticate"))
	}
	// Missing fields are named.
	if a := signIn("", ""); a.code != http.StatusBadRequest || !strings.Contains(a.raw, `"field": "email"`) || !strings.Contains(a.raw, `"field": "password"`) {
		t.Errorf("empty sign-in: %d %s", a.code, a.raw)
	}
	// Ten failures in all (one above), then 429 with Retry-After, even
	// with the right password.
	for range 9 {
		signIn(e.admin.email, "guess")
	}
	a := signIn(e.admin.email, testPassword)
	if a.code != http.StatusTooManyRequests {
		t.Fatalf("after 10 failures: %d %s", a.code, a.raw)
	}
	if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || secs < 1 || secs > 30 {
		t.Errorf("Retry-After %q: want 1..30 seconds", a.header.Get("Retry-After"))
	}
	// Another account is not affected.
	if a := signIn(u.email, "guess"); a.code != http.StatusUnauthorized {
		t.Errorf("other email: %d", a.code)
	}
}

// TestRateLimit checks the per-credential API budget answers 429 with
// Retry-After, per key, and that alert posts have their own budget.
func TestRateLimit(t *testing.T) {
	e := newAccessEnv(t, hookhttp.NewLimits(2, 1)) // bursts of 4 API calls, 2 alert posts
	other := e.user("other", hookline.ViewConnections)
	codes := func(c *caller, method, path, body string, n int) []int {
		var out []int
		for range n {
			out = append(out, e.as(c, method, path, body).code)
		}
		return out
	}
	got := codes(e.admin, "GET", "/api/v1/connections", "", 6)
	if got[0] != 200 || got[3] != 200 || got[4] != 429 || got[5] != 429 {
		t.Fatalf("six quick calls: %v; want four 200s, then 429s", got)
	}
	a := e.as(e.admin, "GET", "/api/v1/connections", "")
	if a.code != 429 || a.header.Get("Retry-After") == "" || a.body["code"] != hookline.ETOOMANY {
		t.Errorf("429 answer: %d %v %s", a.code, a.header, a.raw)
	}
	if got := codes(other, "GET", "/api/v1/connections", "", 1); got[0] != 200 {
		t.Errorf("another key is limited too: %v", got)
	}
	conn := e.connection()
	alert := mustJSON(alertObj(map[string]any{"notifications": []any{map[string]any{"connectionId": conn.ID}}}))
	if got := codes(e.admin, "POST", "/api/v1/alerts", alert, 3); got[0] != 202 || got[1] != 202 || got[2] != 429 {
		t.Errorf("alert posts: %v; want 202, 202, 429 (own budget)", got)
	}
	time.Sleep(600 * time.Millisecond) // the API bucket refills one token per 0.5 s
	if got := codes(e.admin, "GET", "/api/v1/connections", "", 1); got[0] != 200 {
		t.Errorf("after waiting: %v", got)
	}
}

// TestAccessKeyLifecycle creates a key through the API, uses it, sees its
// last use recorded, revokes it and sees it refused at once.
func TestAccessKeyLifecycle(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	viewer := e.user("viewer", hookline.ViewConnections)
	a := e.as(viewer, "POST", "/api/v1/accessKeys", `{"label": "grafana"}`)
	if a.code != http.StatusCreated {
		t.Fatalf("create key: %d %s", a.code, a.raw)
	}
	key := &caller{name: "new key", accessID: a.body["id"].(string), key: a.body["key"].(string)}
	if a.header.Get("Cache-Control") != "no-store" || a.body["userId"] != viewer.userID || a.body["lastUsedAt"] != nil {
		t.Errorf("create answer: %v %s", a.header, a.raw)
	}
	if b := e.as(key, "GET", "/api/v1/connections", ""); b.code != http.StatusOK {
		t.Fatalf("use the new key: %d %s", b.code, b.raw)
	}
	list := e.as(viewer, "GET", "/api/v1/accessKeys", "")
	var found map[string]any
	for _, k := range list.body["data"].([]any) {
		if k.(map[string]any)["id"] == key.accessID {
			found = k.(map[string]any)
		}
	}
	if found == nil || found["lastUsedAt"] == nil || found["key"] != nil || strings.Contains(list.raw, key.key) {
		t.Errorf("list: %s; want the key with lastUsedAt set and no secret", list.raw)
	}
	// Someone else's key is not theirs to list or revoke.
	if b := e.as(viewer, "GET", "/api/v1/accessKeys?userId="+e.admin.userID, ""); b.code != http.StatusForbidden {
		t.Errorf("list another's keys: %d", b.code)
	}
	if b := e.as(viewer, "DELETE", "/api/v1/accessKeys/"+e.admin.accessID, ""); b.code != http.StatusNotFound {
		t.Errorf("revoke another's key: %d", b.code)
	}
	// A wrong secret for a real ID is refused even with a good key cached.
	if b := e.as(&caller{accessID: key.accessID, key: key.key + "x"}, "GET", "/api/v1/connections", ""); b.code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", b.code)
	}
	if b := e.as(viewer, "DELETE", "/api/v1/accessKeys/"+key.accessID, ""); b.code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", b.code, b.raw)
	}
	if b := e.as(key, "GET", "/api/v1/connections", ""); b.code != http.StatusUnauthorized {
		t.Errorf("revoked key still works: %d", b.code)
	}
	// A malformed Authorization header is a 401 naming the problem.
	req := e.request("GET", "/api/v1/connections", "")
	req.Header.Set("Authorization", "Basic !!!")
	if b := e.send(req); b.code != http.StatusUnauthorized || !strings.Contains(b.raw, "base64") {
		t.Errorf("bad Basic: %d %s", b.code, b.raw)
	}
	req.Header.Set("Authorization", "Digest x")
	if b := e.send(req); b.code != http.StatusUnauthorized || !strings.Contains(b.raw, "Digest") {
		t.Errorf("Digest: %d %s", b.code, b.raw)
	}
}

// TestRoleChangeTakesEffect checks that giving a role a capability opens
// routes to its users on the next request, despite the credential cache.
func TestRoleChangeTakesEffect(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	u := e.user("grows", hookline.ViewAlerts)
	if a := e.as(u, "GET", "/api/v1/connections", ""); a.code != http.StatusForbidden {
		t.Fatalf("before: %d", a.code)
	}
	stored, _ := e.db.User(context.Background(), u.userID)
	a := e.as(e.admin, "PUT", "/api/v1/roles/"+stored.RoleIDs[0], `{"name": "role grows", "capabilities": ["viewAlerts", "manageConnections"]}`)
	if a.code != http.StatusOK {
		t.Fatalf("update role: %d %s", a.code, a.raw)
	}
	if a := e.as(u, "GET", "/api/v1/connections", ""); a.code != http.StatusOK {
		t.Errorf("after the role gained manageConnections (implying viewConnections): %d %s", a.code, a.raw)
	}
	// The built-in role cannot be changed, and the last administrator
	// cannot be removed.
	if a := e.as(e.admin, "DELETE", "/api/v1/roles/"+hookline.AdministratorRoleID, ""); a.code != http.StatusForbidden {
		t.Errorf("delete Administrator role: %d %s", a.code, a.raw)
	}
	if a := e.as(e.admin, "DELETE", "/api/v1/users/"+e.admin.userID, ""); a.code != http.StatusConflict {
		t.Errorf("delete the last administrator: %d %s", a.code, a.raw)
	}
}

// TestValidationNamesFields sends bad bodies to the access routes.
func TestAccessValidation(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	for _, tc := range []struct {
		method, path, body string
		fields             []string
	}{
		{"POST", "/api/v1/users", `{"email": "not-an-email", "password": "short"}`, []string{"email", "password"}},
		{"POST", "/api/v1/users", `{"email": "a@example.com", "roleIds": ["FFFFFFFFFFFFFFFF"]}`, []string{"roleIds[0]"}},
		{"POST", "/api/v1/users", `{"email": "a@example.com", "admin": true}`, []string{"admin"}},
		{"POST", "/api/v1/users", `{"email": 7}`, []string{"email"}},
		{"POST", "/api/v1/roles", `{"name": "", "capabilities": ["viewConnections", "root"]}`, []string{"name", "capabilities[1]"}},
		{"POST", "/api/v1/accessKeys", `{"label": ""}`, []string{"label"}},
		{"GET", "/api/v1/audit?targetType=planet", "", []string{"targetType"}},
		{"GET", "/api/v1/audit?limit=0", "", []string{"limit"}},
	} {
		a := e.as(e.admin, tc.method, tc.path, tc.body)
		if a.code != http.StatusBadRequest {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, a.code, a.raw)
			continue
		}
		for _, f := range tc.fields {
			if !strings.Contains(a.raw, `"field": "`+f+`"`) {
				t.Errorf("%s %s %s: answer does not name %s: %s", tc.method, tc.path, tc.body, f, a.raw)
			}
		}
	}
}

// TestAuditThroughAPI changes a connection with a secret and reads the
// audit log: who, what, before and after, never the secret.
func TestAuditThroughAPI(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	a := e.as(e.admin, "POST", "/api/v1/connections", lambdaDef("", nil))
	if a.code != http.StatusOK {
		t.Fatalf("create: %d %s", a.code, a.raw)
	}
	id := a.body["id"].(string)
	if a.body["createdBy"] != e.admin.email {
		t.Errorf("createdBy %v, want %s", a.body["createdBy"], e.admin.email)
	}
	if b := e.as(e.admin, "PUT", "/api/v1/connections/"+id, lambdaDef("name", "renamed")); b.code != http.StatusOK {
		t.Fatalf("update: %d %s", b.code, b.raw)
	}
	auditor := e.user("auditor", hookline.ViewAuditLog)
	log := e.as(auditor, "GET", "/api/v1/audit?targetType=connection&targetId="+id, "")
	if log.code != http.StatusOK {
		t.Fatalf("audit: %d %s", log.code, log.raw)
	}
	if strings.Contains(log.raw, secret) {
		t.Fatalf("the audit log shows the secret: %s", log.raw)
	}
	events := log.body["data"].([]any)
	if len(events) != 2 {
		t.Fatalf("%d events, want 2: %s", len(events), log.raw)
	}
	upd, crt := events[0].(map[string]any), events[1].(map[string]any)
	actor := upd["actor"].(map[string]any)
	if upd["action"] != "update" || crt["action"] != "create" || actor["id"] != e.admin.userID || actor["accessId"] != e.admin.accessID {
		t.Errorf("events: %s", log.raw)
	}
	before, after := upd["before"].(map[string]any), upd["after"].(map[string]any)
	if before["name"] != "blocker" || after["name"] != "renamed" || crt["before"] != nil {
		t.Errorf("before/after: %v / %v", before, after)
	}
	if !strings.Contains(log.raw, "secretAccessKey") {
		t.Errorf("the audit view should list which secrets are set: %s", log.raw)
	}
	if b := e.as(e.user("nosy", hookline.ViewConnections), "GET", "/api/v1/audit", ""); b.code != http.StatusForbidden {
		t.Errorf("audit without viewAuditLog: %d", b.code)
	}
}

// TestSetup creates the first administrator through the one-time link:
// the HTML form, then the token is spent.
func TestSetup(t *testing.T) {
	db := openDB(t)
	const setupToken = "setup-token-0123456789"
	s := &hookhttp.Server{Addr: "127.0.0.1:0", Store: db, Access: db, SetupTokenHash: sha256.Sum256([]byte(setupToken))}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	page, err := http.Get(s.URL() + "/setup?token=" + setupToken)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") || page.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET /setup: %d %v", page.StatusCode, page.Header)
	}
	submit := func(form url.Values) (int, string) {
		resp, err := http.PostForm(s.URL()+"/setup", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	code, body := submit(url.Values{"token": {"wrong"}, "email": {"root@example.com"}, "password": {testPassword}})
	if code != 400 || !strings.Contains(body, "setup token") {
		t.Errorf("wrong token: %d %s", code, body)
	}
	code, body = submit(url.Values{"token": {setupToken}, "email": {"root@example.com"}, "password": {"short"}})
	if code != 400 || !strings.Contains(body, "at least 12 characters") || !strings.Contains(body, `value="root@example.com"`) {
		t.Errorf("short password: %d %s", code, body)
	}
	code, body = submit(url.Values{"token": {setupToken}, "email": {"root@example.com"}, "name": {"Root"}, "password": {testPassword}})
	if code != 201 || !strings.Contains(body, "hookline keys create --email root@example.com") {
		t.Fatalf("setup: %d %s", code, body)
	}
	u, err := db.UserByEmail(context.Background(), "root@example.com")
	if err != nil || len(u.RoleIDs) != 1 || u.RoleIDs[0] != hookline.AdministratorRoleID {
		t.Fatalf("first user: %+v %v", u, err)
	}
	code, _ = submit(url.Values{"token": {setupToken}, "email": {"second@example.com"}, "password": {testPassword}})
	if code != http.StatusConflict {
		t.Errorf("second setup: %d, want 409", code)
	}
	resp, err := http.Get(s.URL() + "/setup?token=" + setupToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /setup after setup: %d", resp.StatusCode)
	}
}

// TestWrongKeysLimited checks that guessing an access ID's key is cut off
// before any hash is computed: ten wrong keys, then 429 with Retry-After,
// even for the right key, until the bucket refills.
func TestWrongKeysLimited(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	u := e.user("target", hookline.ViewConnections)
	wrong := &caller{accessID: u.accessID, key: "not-the-key"}
	for i := range 10 {
		if a := e.as(wrong, "GET", "/api/v1/connections", ""); a.code != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: %d %s", i+1, a.code, a.raw)
		}
	}
	a := e.as(u, "GET", "/api/v1/connections", "")
	if a.code != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || !strings.Contains(a.raw, u.accessID) {
		t.Fatalf("right key after 10 wrong ones: %d %v %s", a.code, a.header, a.raw)
	}
	// Another access ID is not affected.
	if a := e.as(e.admin, "GET", "/api/v1/connections", ""); a.code != http.StatusOK {
		t.Errorf("another key: %d", a.code)
	}
}
