package http_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/credential"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

const testPassword = "correct horse battery staple"

// caller is one way of calling the API in the access tests.
type caller struct {
	name     string
	email    string // "" for the admin token and for no one
	userID   string
	accessID string
	key      string
	bearer   string
	caps     map[hookline.Capability]bool
}

func (c *caller) sign(req *http.Request) {
	switch {
	case c.accessID != "":
		req.SetBasicAuth(c.accessID, c.key)
	case c.bearer != "":
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
}

// accessEnv is a server with users, roles and access keys on real SQLite.
type accessEnv struct {
	t      testing.TB
	srv    *hookhttp.Server
	db     *sqlite.DB
	url    string
	admin  *caller
	disp   *replayDispatcher
	target string // a 200-answering target on 127.0.0.1
	n      atomic.Int64
}

// replayDispatcher stores alerts as the dispatcher does and replays any
// delivery, so that the retry route can answer 202 without a failure.
type replayDispatcher struct{ fakeDispatcher }

func (d *replayDispatcher) Replay(_ context.Context, id string) (*hookline.Delivery, error) {
	return &hookline.Delivery{ID: id, State: hookline.DeliveryPending}, nil
}

func newAccessEnv(t testing.TB, limits hookhttp.Limits) *accessEnv {
	t.Helper()
	db := openDB(t)
	reg := notify.NewRegistry(awslambda.Kind{}, webhook.Kind{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(target.Close)
	e := &accessEnv{t: t, db: db, target: target.URL, disp: &replayDispatcher{fakeDispatcher{store: db}}}
	e.srv = &hookhttp.Server{
		Addr: "127.0.0.1:0", Store: db, Registry: reg, Sender: &notify.Sender{Registry: reg},
		Access: db, TokenHash: sha256.Sum256([]byte(token)), Limits: limits,
		// A stand-in for package web: the routes are what is tested here.
		UI:         http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ui") }),
		Deliveries: db, Dispatcher: e.disp, Logs: db, Monitors: db, ScheduledSearches: db,
	}
	if err := e.srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close(context.Background()) })
	e.url = e.srv.URL()
	admin := &hookline.User{Email: "admin@example.com", Name: "Admin", RoleIDs: []string{hookline.AdministratorRoleID}, PasswordHash: credential.Hash(testPassword)}
	if err := db.CreateFirstUser(context.Background(), admin); err != nil {
		t.Fatal(err)
	}
	e.admin = e.keyFor(admin, "admin")
	return e
}

// user creates a user with one role of the given capabilities, and an
// access key for them.
func (e *accessEnv) user(name string, caps ...hookline.Capability) *caller {
	e.t.Helper()
	ctx := context.Background()
	u := &hookline.User{Email: name + "@example.com", RoleIDs: []string{}, PasswordHash: credential.Hash(testPassword)}
	if caps != nil {
		role := &hookline.Role{Name: "role " + name, Capabilities: caps}
		if err := e.db.CreateRole(ctx, role); err != nil {
			e.t.Fatal(err)
		}
		u.RoleIDs = []string{role.ID}
	}
	if err := e.db.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return e.keyFor(u, name)
}

func (e *accessEnv) keyFor(u *hookline.User, name string) *caller {
	e.t.Helper()
	secret := credential.NewSecret()
	k := &hookline.AccessKey{ID: credential.NewAccessID(), Label: "test", UserID: u.ID, KeyHash: credential.Hash(secret)}
	if err := e.db.CreateAccessKey(context.Background(), k); err != nil {
		e.t.Fatal(err)
	}
	c := &caller{name: name, email: u.Email, userID: u.ID, accessID: k.ID, key: secret, caps: map[hookline.Capability]bool{}}
	roles, err := e.db.Roles(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range roles {
		for _, id := range u.RoleIDs {
			if r.ID == id {
				for _, cp := range r.Capabilities {
					c.caps[cp] = true
					if im := cp.Implied(); im != "" {
						c.caps[im] = true
					}
				}
			}
		}
	}
	return c
}

type answer struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

// noRedirects shows a redirect as the answer it is.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *accessEnv) send(req *http.Request) answer {
	e.t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a
}

func (e *accessEnv) request(method, path, body string) *http.Request {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// as sends a request signed by c.
func (e *accessEnv) as(c *caller, method, path, body string) answer {
	e.t.Helper()
	req := e.request(method, path, body)
	c.sign(req)
	return e.send(req)
}

func (e *accessEnv) unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, e.n.Add(1))
}

// connection stores a connection for a route to read, change or delete.
func (e *accessEnv) connection() *hookline.Connection {
	e.t.Helper()
	c := &hookline.Connection{Name: e.unique("conn"), WebhookType: "Webhook", URL: e.target + "/hook",
		DefaultPayload: `{"n": "{{Name}}"}`, Settings: map[string]string{}, Secrets: map[string]string{}}
	if err := e.db.CreateConnection(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *accessEnv) webhookDef(name string) string {
	return mustJSON(map[string]any{"type": "WebhookDefinition", "webhookType": "Webhook", "name": name,
		"url": e.target + "/hook", "defaultPayload": `{"n": "{{Name}}"}`})
}

// alert accepts an alert to a new connection; it returns the alert's and
// its delivery's IDs.
func (e *accessEnv) alert() (string, string) {
	e.t.Helper()
	c := e.connection()
	a := e.as(e.admin, "POST", "/api/v1/alerts", mustJSON(alertObj(map[string]any{
		"notifications": []any{map[string]any{"connectionId": c.ID}}})))
	if a.code != http.StatusAccepted {
		e.t.Fatalf("post alert: %d %s", a.code, a.raw)
	}
	alerts := a.body["alerts"].([]any)
	x := alerts[0].(map[string]any)
	d := x["deliveries"].([]any)[0].(map[string]any)
	return x["id"].(string), d["id"].(string)
}

// fixture builds a request that succeeds for a caller allowed the route.
type fixture func(e *accessEnv, c *caller) *http.Request

func plain(method, path, body string) fixture {
	return func(e *accessEnv, c *caller) *http.Request {
		req := e.request(method, path, body)
		c.sign(req)
		return req
	}
}

func build(f func(e *accessEnv, c *caller) (method, path, body string)) fixture {
	return func(e *accessEnv, c *caller) *http.Request {
		m, p, b := f(e, c)
		req := e.request(m, p, b)
		c.sign(req)
		return req
	}
}

// routeFixtures has a request for every route Server.Routes lists; the
// test fails for a route without one, so a new route cannot go unchecked.
var routeFixtures = map[string]fixture{
	"GET /api/v1/connections": plain("GET", "/api/v1/connections", ""),
	"POST /api/v1/connections": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/connections", e.webhookDef(e.unique("new"))
	}),
	"POST /api/v1/connections/test": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/connections/test", e.webhookDef("probe")
	}),
	"GET /api/v1/connections/types": plain("GET", "/api/v1/connections/types", ""),
	"GET /api/v1/connections/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "GET", "/api/v1/connections/" + e.connection().ID, ""
	}),
	"PUT /api/v1/connections/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		c := e.connection()
		return "PUT", "/api/v1/connections/" + c.ID, e.webhookDef(c.Name + " renamed")
	}),
	"DELETE /api/v1/connections/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "DELETE", "/api/v1/connections/" + e.connection().ID, ""
	}),
	"POST /api/v1/connections/{id}/test": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/connections/" + e.connection().ID + "/test", ""
	}),
	"POST /api/v1/alerts": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/alerts", mustJSON(alertObj(map[string]any{
			"notifications": []any{map[string]any{"connectionId": e.connection().ID}}}))
	}),
	"GET /api/v1/alerts": build(func(e *accessEnv, _ *caller) (string, string, string) {
		e.alert()
		return "GET", "/api/v1/alerts?limit=5", ""
	}),
	"GET /api/v1/alerts/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		id, _ := e.alert()
		return "GET", "/api/v1/alerts/" + id, ""
	}),
	"GET /api/v1/deliveries":        plain("GET", "/api/v1/deliveries", ""),
	"GET /api/v1/deliveries/stats":  plain("GET", "/api/v1/deliveries/stats", ""),
	"GET /api/v1/deliveries/latest": plain("GET", "/api/v1/deliveries/latest", ""),
	"GET /api/v1/payload/variables": plain("GET", "/api/v1/payload/variables", ""),
	"POST /api/v1/payload/preview":  plain("POST", "/api/v1/payload/preview", `{"template": "{\"name\": \"{{Name}}\"}"}`),
	"GET /ui/":                      plain("GET", "/ui/connections", ""),
	"GET /{$}":                      plain("GET", "/", ""),
	"GET /api/v1/deliveries/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		_, id := e.alert()
		return "GET", "/api/v1/deliveries/" + id, ""
	}),
	"POST /api/v1/deliveries/{id}/retry": build(func(e *accessEnv, _ *caller) (string, string, string) {
		_, id := e.alert()
		return "POST", "/api/v1/deliveries/" + id + "/retry", ""
	}),
	"POST /api/v1/receivers/alertmanager": func(e *accessEnv, c *caller) *http.Request {
		body, err := os.ReadFile("testdata/alertmanager/am-0.25-firing.json")
		if err != nil {
			e.t.Fatal(err)
		}
		req := e.request("POST", "/api/v1/receivers/alertmanager?connections="+e.connection().Name, string(body))
		c.sign(req)
		return req
	},
	"POST /api/v1/session": build(func(e *accessEnv, c *caller) (string, string, string) {
		email := c.email
		if email == "" {
			email = e.admin.email
		}
		return "POST", "/api/v1/session", mustJSON(map[string]string{"email": email, "password": testPassword})
	}),
	"GET /api/v1/session": plain("GET", "/api/v1/session", ""),
	// Only a session signs out: sign in as the caller, then sign out with
	// the cookie and CSRF token (the access key shows it is the caller).
	"DELETE /api/v1/session": func(e *accessEnv, c *caller) *http.Request {
		req := e.request("DELETE", "/api/v1/session", "")
		if c.email == "" {
			c.sign(req)
			return req
		}
		s := e.signIn(c.email, testPassword)
		s.sign(req)
		return req
	},
	"PUT /api/v1/session/password": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "PUT", "/api/v1/session/password", mustJSON(map[string]string{"currentPassword": testPassword, "newPassword": testPassword})
	}),
	// Set up already: public, and 409/404 for everyone.
	"POST /api/v1/setup":      plain("POST", "/api/v1/setup", `{"token": "x", "email": "a@example.com", "password": "long enough password"}`),
	"GET /setup":              plain("GET", "/setup?token=x", ""),
	"POST /setup":             plain("POST", "/setup", ""),
	"GET /api/v1/accessKeys":  plain("GET", "/api/v1/accessKeys", ""),
	"POST /api/v1/accessKeys": plain("POST", "/api/v1/accessKeys", `{"label": "ci"}`),
	"DELETE /api/v1/accessKeys/{id}": build(func(e *accessEnv, c *caller) (string, string, string) {
		id := c.userID
		if id == "" {
			id = e.admin.userID // the admin token revokes the administrator's key
		}
		u, err := e.db.User(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		return "DELETE", "/api/v1/accessKeys/" + e.keyFor(u, "spare").accessID, ""
	}),
	"GET /api/v1/users": plain("GET", "/api/v1/users", ""),
	"POST /api/v1/users": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/users", mustJSON(map[string]any{"email": e.unique("new") + "@example.com"})
	}),
	"GET /api/v1/users/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "GET", "/api/v1/users/" + e.user(e.unique("read")).userID, ""
	}),
	"PUT /api/v1/users/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		u := e.user(e.unique("edit"))
		return "PUT", "/api/v1/users/" + u.userID, mustJSON(map[string]any{"email": u.email, "name": "Edited"})
	}),
	"DELETE /api/v1/users/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "DELETE", "/api/v1/users/" + e.user(e.unique("gone")).userID, ""
	}),
	"GET /api/v1/roles": plain("GET", "/api/v1/roles", ""),
	"POST /api/v1/roles": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/roles", mustJSON(map[string]any{"name": e.unique("role"), "capabilities": []string{"viewConnections"}})
	}),
	"GET /api/v1/roles/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "GET", "/api/v1/roles/" + e.role().ID, ""
	}),
	"PUT /api/v1/roles/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		r := e.role()
		return "PUT", "/api/v1/roles/" + r.ID, mustJSON(map[string]any{"name": r.Name, "capabilities": []string{"viewAlerts"}})
	}),
	"DELETE /api/v1/roles/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "DELETE", "/api/v1/roles/" + e.role().ID, ""
	}),
	"GET /api/v1/audit": plain("GET", "/api/v1/audit", ""),
	// Public: the token in the path authenticates, whoever else signs.
	"POST /receiver/v1/http/{token}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		_, token := e.source()
		return "POST", "/receiver/v1/http/" + token, "one line\n{\"timestamp\": 1700000000000, \"msg\": \"two\"}\n"
	}),
	"GET /api/v1/sources": plain("GET", "/api/v1/sources", ""),
	"POST /api/v1/sources": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/sources", mustJSON(map[string]any{"name": e.unique("source"), "category": "prod/web"})
	}),
	"GET /api/v1/sources/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		src, _ := e.source()
		return "GET", "/api/v1/sources/" + src.ID, ""
	}),
	"PUT /api/v1/sources/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		src, _ := e.source()
		return "PUT", "/api/v1/sources/" + src.ID, mustJSON(map[string]any{"name": src.Name + " renamed", "category": "prod/db"})
	}),
	"DELETE /api/v1/sources/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		src, _ := e.source()
		return "DELETE", "/api/v1/sources/" + src.ID, ""
	}),
	"POST /api/v1/sources/{id}/token": build(func(e *accessEnv, _ *caller) (string, string, string) {
		src, _ := e.source()
		return "POST", "/api/v1/sources/" + src.ID + "/token", ""
	}),
	"POST /api/v1/search":  plain("POST", "/api/v1/search", `{"query": "_sourceCategory=prod/* error | count by _sourceHost"}`),
	"GET /api/v1/monitors": plain("GET", "/api/v1/monitors", ""),
	"POST /api/v1/monitors": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/monitors", e.monitorBody(e.unique("monitor"))
	}),
	"GET /api/v1/monitors/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "GET", "/api/v1/monitors/" + e.monitor().ID, ""
	}),
	"PUT /api/v1/monitors/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		m := e.monitor()
		return "PUT", "/api/v1/monitors/" + m.ID, e.monitorBody(m.Name + " renamed")
	}),
	"DELETE /api/v1/monitors/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "DELETE", "/api/v1/monitors/" + e.monitor().ID, ""
	}),
	"GET /api/v1/scheduledSearches": plain("GET", "/api/v1/scheduledSearches", ""),
	"POST /api/v1/scheduledSearches": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "POST", "/api/v1/scheduledSearches", mustJSON(e.scheduledSearchDef(e.unique("search")))
	}),
	"GET /api/v1/scheduledSearches/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "GET", "/api/v1/scheduledSearches/" + e.scheduledSearch().ID, ""
	}),
	"PUT /api/v1/scheduledSearches/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		s := e.scheduledSearch()
		return "PUT", "/api/v1/scheduledSearches/" + s.ID, mustJSON(e.scheduledSearchDef(s.Name + " renamed"))
	}),
	"DELETE /api/v1/scheduledSearches/{id}": build(func(e *accessEnv, _ *caller) (string, string, string) {
		return "DELETE", "/api/v1/scheduledSearches/" + e.scheduledSearch().ID, ""
	}),
}

// wantAccess is who may call each route, written down apart from the
// server's own table, so that a route given the wrong capability fails.
// "public" needs no sign-in; "" needs any signed-in caller.
var wantAccess = map[string]hookline.Capability{
	"GET /api/v1/connections":               hookline.ViewConnections,
	"POST /api/v1/connections":              hookline.ManageConnections,
	"POST /api/v1/connections/test":         hookline.ManageConnections,
	"GET /api/v1/connections/types":         hookline.ViewConnections,
	"GET /api/v1/connections/{id}":          hookline.ViewConnections,
	"PUT /api/v1/connections/{id}":          hookline.ManageConnections,
	"DELETE /api/v1/connections/{id}":       hookline.ManageConnections,
	"POST /api/v1/connections/{id}/test":    hookline.ManageConnections,
	"POST /api/v1/alerts":                   hookline.SendAlerts,
	"GET /api/v1/alerts":                    hookline.ViewAlerts,
	"GET /api/v1/alerts/{id}":               hookline.ViewAlerts,
	"GET /api/v1/deliveries":                hookline.ViewAlerts,
	"GET /api/v1/deliveries/stats":          hookline.ViewAlerts,
	"GET /api/v1/deliveries/latest":         hookline.ViewAlerts,
	"GET /api/v1/payload/variables":         "",
	"POST /api/v1/payload/preview":          "",
	"GET /ui/":                              "public",
	"GET /{$}":                              "public",
	"GET /api/v1/deliveries/{id}":           hookline.ViewAlerts,
	"POST /api/v1/deliveries/{id}/retry":    hookline.ManageConnections,
	"POST /api/v1/receivers/alertmanager":   hookline.SendAlerts,
	"POST /api/v1/session":                  "public",
	"GET /api/v1/session":                   "",
	"DELETE /api/v1/session":                "",
	"PUT /api/v1/session/password":          "",
	"POST /api/v1/setup":                    "public",
	"GET /setup":                            "public",
	"POST /setup":                           "public",
	"GET /api/v1/accessKeys":                "",
	"POST /api/v1/accessKeys":               "",
	"DELETE /api/v1/accessKeys/{id}":        "",
	"GET /api/v1/users":                     hookline.ManageUsersAndRoles,
	"POST /api/v1/users":                    hookline.ManageUsersAndRoles,
	"GET /api/v1/users/{id}":                hookline.ManageUsersAndRoles,
	"PUT /api/v1/users/{id}":                hookline.ManageUsersAndRoles,
	"DELETE /api/v1/users/{id}":             hookline.ManageUsersAndRoles,
	"GET /api/v1/roles":                     "",
	"POST /api/v1/roles":                    hookline.ManageUsersAndRoles,
	"GET /api/v1/roles/{id}":                "",
	"PUT /api/v1/roles/{id}":                hookline.ManageUsersAndRoles,
	"DELETE /api/v1/roles/{id}":             hookline.ManageUsersAndRoles,
	"GET /api/v1/audit":                     hookline.ViewAuditLog,
	"POST /receiver/v1/http/{token}":        "public",
	"GET /api/v1/sources":                   hookline.ManageCollectors,
	"POST /api/v1/sources":                  hookline.ManageCollectors,
	"GET /api/v1/sources/{id}":              hookline.ManageCollectors,
	"PUT /api/v1/sources/{id}":              hookline.ManageCollectors,
	"DELETE /api/v1/sources/{id}":           hookline.ManageCollectors,
	"POST /api/v1/sources/{id}/token":       hookline.ManageCollectors,
	"POST /api/v1/search":                   hookline.ViewMonitors,
	"GET /api/v1/monitors":                  hookline.ViewMonitors,
	"POST /api/v1/monitors":                 hookline.ManageMonitors,
	"GET /api/v1/monitors/{id}":             hookline.ViewMonitors,
	"PUT /api/v1/monitors/{id}":             hookline.ManageMonitors,
	"DELETE /api/v1/monitors/{id}":          hookline.ManageMonitors,
	"GET /api/v1/scheduledSearches":         hookline.ViewMonitors,
	"POST /api/v1/scheduledSearches":        hookline.ManageMonitors,
	"GET /api/v1/scheduledSearches/{id}":    hookline.ViewMonitors,
	"PUT /api/v1/scheduledSearches/{id}":    hookline.ManageMonitors,
	"DELETE /api/v1/scheduledSearches/{id}": hookline.ManageMonitors,
}

// publicAnswers are what the public routes answer on a server that is set
// up: what matters is that none asks for credentials.
var publicAnswers = map[string]int{
	"GET /ui/":                       http.StatusOK,
	"GET /{$}":                       http.StatusFound,
	"POST /api/v1/session":           http.StatusOK,
	"POST /api/v1/setup":             http.StatusConflict,
	"GET /setup":                     http.StatusNotFound,
	"POST /setup":                    http.StatusConflict,
	"POST /receiver/v1/http/{token}": http.StatusOK,
}

// source stores an HTTP source for a route to read, change, delete or
// send to, and returns it with its token.
func (e *accessEnv) source() (*hookline.Source, string) {
	e.t.Helper()
	token := e.unique("token-for-test-only")
	src := &hookline.Source{Name: e.unique("source"), Category: "prod/web", TokenHash: hookline.SourceTokenHash(token)}
	if err := e.db.CreateSource(context.Background(), src); err != nil {
		e.t.Fatal(err)
	}
	return src, token
}

// monitor stores a monitor for a route to read, change or delete.
func (e *accessEnv) monitor() *hookline.Monitor {
	e.t.Helper()
	m := &hookline.Monitor{Name: e.unique("monitor"), Query: "_sourceCategory=prod/web | count",
		Interval: time.Minute, Window: 5 * time.Minute,
		Triggers: []hookline.MonitorTrigger{{TriggerType: hookline.TriggerCritical, ThresholdType: hookline.ThresholdGT, Threshold: 100, Field: "_count"}}}
	if err := e.db.CreateMonitor(context.Background(), m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// monitorBody is a monitor's JSON, sending to a new connection.
func (e *accessEnv) monitorBody(name string) string {
	return mustJSON(map[string]any{"name": name, "query": "_sourceCategory=prod/web | count",
		"interval": "1m", "window": "5m",
		"triggers":      []any{map[string]any{"triggerType": "Critical", "field": "_count", "thresholdType": "gt", "threshold": 100}},
		"notifications": []any{map[string]any{"connectionId": e.connection().ID, "runForTriggerTypes": []string{"Critical", "ResolvedCritical"}}}})
}

func (e *accessEnv) role() *hookline.Role {
	e.t.Helper()
	r := &hookline.Role{Name: e.unique("role"), Capabilities: []hookline.Capability{hookline.ViewAlerts}}
	if err := e.db.CreateRole(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// session is a signed-in browser: its cookie and CSRF token.
type session struct {
	cookie *http.Cookie
	csrf   string
}

func (s *session) sign(req *http.Request) {
	req.AddCookie(s.cookie)
	req.Header.Set("X-CSRF-Token", s.csrf)
}

func (e *accessEnv) signIn(email, password string) *session {
	e.t.Helper()
	req := e.request("POST", "/api/v1/session", mustJSON(map[string]string{"email": email, "password": password}))
	a := e.send(req)
	if a.code != http.StatusOK {
		e.t.Fatalf("sign in as %s: %d %s", email, a.code, a.raw)
	}
	var s session
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "hookline_session" {
			s.cookie = c
		}
	}
	if s.cookie == nil {
		e.t.Fatalf("sign in set no hookline_session cookie: %v", a.header)
	}
	s.csrf, _ = a.body["csrfToken"].(string)
	return &s
}

// tokenAnswers are what the admin token, which is no user, gets from the
// routes about the caller's own user: a 400 saying why.
var tokenAnswers = map[string]int{
	"DELETE /api/v1/session":       http.StatusBadRequest,
	"PUT /api/v1/session/password": http.StatusBadRequest,
	"POST /api/v1/accessKeys":      http.StatusBadRequest,
}

// TestRouteRoleMatrix calls every route as no one, as a user of each
// single-capability role, as a user with no role, as an administrator and
// with the admin token: 401 without credentials, 403 without the route's
// capability, 2xx with it.
func TestRouteRoleMatrix(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	callers := []*caller{{name: "anonymous"}}
	for _, c := range hookline.Capabilities {
		callers = append(callers, e.user("only-"+string(c), c))
	}
	callers = append(callers, e.user("no-role"), e.admin,
		&caller{name: "admin token", bearer: token, caps: allCapabilities()})

	routes := e.srv.Routes()
	if len(routes) < 30 {
		t.Fatalf("Routes() lists %d routes; the access routes are missing", len(routes))
	}
	for _, rt := range routes {
		fix, ok := routeFixtures[rt.Pattern]
		need, known := wantAccess[rt.Pattern]
		if !ok || !known {
			t.Errorf("route %s has no fixture in routeFixtures or no entry in wantAccess: add them", rt.Pattern)
			continue
		}
		public := need == "public"
		for _, c := range callers {
			t.Run(rt.Pattern+"/"+c.name, func(t *testing.T) {
				got := e.send(fix(e, c))
				switch {
				case public:
					if want := publicAnswers[rt.Pattern]; got.code != want {
						t.Errorf("public route: status %d, want %d: %s", got.code, want, got.raw)
					}
				case c.name == "anonymous":
					if got.code != http.StatusUnauthorized || !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Basic") {
						t.Errorf("status %d (WWW-Authenticate %q), want 401 with a Basic challenge: %s", got.code, got.header.Get("WWW-Authenticate"), got.raw)
					}
				case c.bearer != "" && tokenAnswers[rt.Pattern] != 0:
					if got.code != tokenAnswers[rt.Pattern] {
						t.Errorf("status %d, want %d: %s", got.code, tokenAnswers[rt.Pattern], got.raw)
					}
				case need != "" && !c.caps[need]:
					if got.code != http.StatusForbidden || !strings.Contains(got.raw, string(need)) {
						t.Errorf("status %d, want 403 naming %s: %s", got.code, need, got.raw)
					}
				default:
					if got.code < 200 || got.code > 299 {
						t.Errorf("status %d, want 2xx: %s", got.code, got.raw)
					}
				}
			})
		}
	}
	for pattern := range routeFixtures {
		found := false
		for _, rt := range routes {
			found = found || rt.Pattern == pattern
		}
		if !found {
			t.Errorf("routeFixtures has %s, which Routes() does not list", pattern)
		}
	}
}

func allCapabilities() map[hookline.Capability]bool {
	m := map[hookline.Capability]bool{}
	for _, c := range hookline.Capabilities {
		m[c] = true
	}
	return m
}
