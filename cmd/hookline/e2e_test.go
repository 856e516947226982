package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/payload"
)

const (
	testToken     = "test-admin-token-0123456789"
	testKeyID     = "AKIDE2ETEST00001"
	testSecret    = "e2eSecretKey/7Ab+Q9zXyWvUtSrQpOnMlKjIhGf"
	testSessionTk = "e2eSessionToken+FwoGZXIvYXdzEJr//////////wEaDOWQ"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	t    testing.TB
	main *Main
	url  string
	logs *syncBuffer
}

// startServer runs the whole program, as hookline serve does, on port 0
// with a fresh data directory.
func startServer(t testing.TB) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	m := &Main{
		Config: Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", AdminToken: testToken, LogFormat: "json", LogLevel: slog.LevelDebug,
			AllowTargets: allowLoopback},
		Stderr: logs,
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &testServer{t: t, main: m, url: m.Server.URL(), logs: logs}
}

// do sends a JSON request with the admin token and decodes the answer.
func (s *testServer) do(method, path string, body any, out any) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, jsonBody(s.t, body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func startLambda(t *testing.T, service string) (*devlambda.Server, string) {
	t.Helper()
	dl := devlambda.New(devlambda.Config{
		Region:  "us-east-1",
		Service: service,
		Keys:    map[string]string{testKeyID: testSecret},
	})
	ts := httptest.NewServer(dl)
	t.Cleanup(ts.Close)
	return dl, ts.URL
}

const (
	alertPayload    = `{"name": "{{Name}}", "type": "{{TriggerType}}", "rows": {{ResultsJson}}, "ip": "{{ResultsJson.client_ip}}", "count": {{NumQueryResults}}}`
	recoveryPayload = `{"name": "{{Name}}", "type": "{{TriggerType}}", "resolved": true}`
)

// TestLambdaConnectionEndToEnd walks the seed feature: create an AWS
// Lambda connection through the API, Test Alert and Test Recovery against a
// SigV4-checking endpoint, and see the endpoint's refusal for a wrong secret.
//
// It runs for a Lambda Function URL and for an API Gateway stage with a
// path and a query string, the two targets the AWSLambda type serves.
func TestLambdaConnectionEndToEnd(t *testing.T) {
	for _, tc := range []struct{ service, path string }{
		{"lambda", "/"},
		{"execute-api", "/prod/alerts/block-ip?source=hookline"},
	} {
		t.Run(tc.service, func(t *testing.T) { testLambdaEndToEnd(t, tc.service, tc.path) })
	}
}

func testLambdaEndToEnd(t *testing.T, service, path string) {
	srv := startServer(t)
	dl, lambdaURL := startLambda(t, service)

	def := map[string]any{
		"type":              "WebhookDefinition",
		"webhookType":       "AWSLambda",
		"name":              "block-suspicious-ip",
		"description":       "Blocks an IP at the WAF and tells the security team",
		"url":               lambdaURL + path,
		"accessKeyId":       testKeyID,
		"secretAccessKey":   testSecret,
		"sessionToken":      testSessionTk,
		"region":            "us-east-1",
		"serviceName":       service,
		"customHeaders":     []map[string]string{{"name": "X-Team", "value": "secops"}},
		"defaultPayload":    alertPayload,
		"resolutionPayload": recoveryPayload,
	}
	var created map[string]any
	if code := srv.do("POST", "/api/v1/connections", def, &created); code != http.StatusOK {
		t.Fatalf("create: status %d: %v", code, created)
	}
	id, _ := created["id"].(string)
	if id == "" || created["type"] != "WebhookConnection" || created["hasSecretAccessKey"] != true || created["hasSessionToken"] != true {
		t.Fatalf("create answered %v", created)
	}
	if _, ok := created["secretAccessKey"]; ok {
		t.Fatalf("create answer carries the secret: %v", created)
	}

	var test map[string]any
	if code := srv.do("POST", "/api/v1/connections/"+id+"/test?functionalities=alert,resolution", nil, &test); code != http.StatusOK {
		t.Fatalf("test: status %d: %v", code, test)
	}
	if test["alertStatusCode"] != 200.0 || test["resolutionStatusCode"] != 200.0 || test["statusCode"] != 200.0 {
		t.Fatalf("test answered %v; endpoint saw %+v", test, dl.Requests())
	}

	reqs := dl.Requests()
	if len(reqs) != 2 {
		t.Fatalf("endpoint received %d requests, want 2", len(reqs))
	}
	// What arrived is exactly the connection's templates rendered with the
	// sample alert: same JSON, valid, with rows as a real array.
	for i, want := range []struct {
		tmpl    string
		trigger hookline.TriggerType
	}{{alertPayload, hookline.TriggerCritical}, {recoveryPayload, hookline.TriggerResolvedCritical}} {
		r := reqs[i]
		if !r.Verified || r.Method != http.MethodPost {
			t.Errorf("request %d: verified=%v method=%s err=%s", i, r.Verified, r.Method, r.Err)
		}
		if got := r.Path + map[bool]string{true: "?" + r.RawQuery}[r.RawQuery != ""]; got != path {
			t.Errorf("request %d went to %s, want %s", i, got, path)
		}
		if got := r.Header.Get("X-Team"); got != "secops" {
			t.Errorf("request %d: X-Team = %q", i, got)
		}
		if got := r.Header.Get("X-Amz-Security-Token"); got != testSessionTk {
			t.Errorf("request %d: session token header = %q", i, got)
		}
		var got map[string]any
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatalf("request %d body is not JSON: %v\n%s", i, err, r.Body)
		}
		if got["type"] != string(want.trigger) {
			t.Errorf("request %d: type = %v, want %s", i, got["type"], want.trigger)
		}
		tmpl, err := payload.Parse(want.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		sample := payload.Sample(want.trigger, time.Now())
		var expect map[string]any
		if err := json.Unmarshal(tmpl.Render(sample), &expect); err != nil {
			t.Fatal(err)
		}
		// Sample times differ by the time between the two renders; compare
		// only fields that do not depend on the clock.
		for _, k := range []string{"name", "type", "rows", "ip", "count", "resolved"} {
			if !jsonEqual(got[k], expect[k]) {
				t.Errorf("request %d field %q = %v, want %v", i, k, got[k], expect[k])
			}
		}
	}
	var alertBody map[string]any
	_ = json.Unmarshal(reqs[0].Body, &alertBody)
	if _, isArray := alertBody["rows"].([]any); !isArray {
		t.Errorf("bare {{ResultsJson}} arrived as %T, want a JSON array", alertBody["rows"])
	}

	// The request as sent is shown with the signature and secrets redacted.
	alert, _ := test["alert"].(map[string]any)
	shown, _ := json.Marshal(alert["request"])
	if !strings.Contains(string(shown), "Signature=REDACTED") || strings.Contains(string(shown), testSessionTk) {
		t.Errorf("request as sent is not redacted: %s", shown)
	}
	if lat, _ := alert["latencyMs"].(float64); lat <= 0 {
		t.Errorf("latencyMs = %v", alert["latencyMs"])
	}

	// A wrong secret: the user sees the endpoint's 403 and its message.
	var upd map[string]any
	def["secretAccessKey"] = "wrongSecretKey/0000000000000000000000000"
	if code := srv.do("PUT", "/api/v1/connections/"+id, def, &upd); code != http.StatusOK {
		t.Fatalf("update: status %d: %v", code, upd)
	}
	if code := srv.do("POST", "/api/v1/connections/"+id+"/test", nil, &test); code != http.StatusOK {
		t.Fatalf("test: status %d", code)
	}
	if test["alertStatusCode"] != 403.0 || !strings.Contains(fmt.Sprint(test["alertResponseContent"]), "signature we calculated does not match") {
		t.Errorf("wrong secret: test answered %v", test)
	}

	// An unsaved definition tested with connectionId borrows the stored
	// secret it leaves out (the dialog never shows it back).
	def["secretAccessKey"] = testSecret
	if code := srv.do("PUT", "/api/v1/connections/"+id, def, &upd); code != http.StatusOK {
		t.Fatalf("restore secret: status %d: %v", code, upd)
	}
	delete(def, "secretAccessKey")
	if code := srv.do("POST", "/api/v1/connections/test?functionalities=resolution&connectionId="+id, def, &test); code != http.StatusOK || test["resolutionStatusCode"] != 200.0 {
		t.Errorf("test of unsaved definition: status %d, %v", code, test)
	}

	// The secret never shows: not in answers, not in logs, not in the
	// database files.
	var got map[string]any
	srv.do("GET", "/api/v1/connections/"+id, nil, &got)
	all, _ := json.Marshal([]any{created, got, test, upd})
	for _, secret := range []string{testSecret, testSessionTk} {
		if strings.Contains(string(all), secret) {
			t.Errorf("an API answer contains a secret")
		}
		if strings.Contains(srv.logs.String(), secret) {
			t.Errorf("the log contains a secret")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.main.Close(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(srv.main.Config.DataDir, "*"))
	var seen int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		seen += len(b)
		for _, secret := range []string{testSecret, testSessionTk} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains a secret in clear", filepath.Base(f))
			}
		}
	}
	if seen == 0 {
		t.Fatal("read no database bytes")
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestAPIRequiresToken(t *testing.T) {
	srv := startServer(t)
	for _, auth := range []string{"", "Bearer wrong-token-value-000000", "Basic YWRtaW46YWRtaW4="} {
		req, _ := http.NewRequest("GET", srv.url+"/api/v1/connections", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: status %d, WWW-Authenticate %q", auth, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// TestFirstStartSetupLink checks the first start without HOOKLINE_ADMIN_*:
// no default credential, a setup link printed once that creates the
// administrator, and no link after that.
func TestFirstStartSetupLink(t *testing.T) {
	dir := t.TempDir()
	start := func() (*Main, string) {
		var out syncBuffer
		m := &Main{Config: Config{DataDir: dir, Addr: "127.0.0.1:0", LogFormat: "text"}, Stderr: &out}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return m, out.String()
	}
	m, out := start()
	_, after, ok := strings.Cut(out, m.Server.URL()+"/setup?token=")
	if !ok {
		t.Fatalf("first start printed no setup link:\n%s", out)
	}
	token := strings.Fields(after)[0]
	if got := listStatus(t, m, token); got != http.StatusUnauthorized {
		t.Errorf("the setup token works as an API token: status %d", got)
	}
	resp, err := http.Get(m.Server.URL() + "/setup?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open the setup link: %d", resp.StatusCode)
	}
	body := jsonBody(t, map[string]string{"token": token, "email": "root@example.com", "password": "a long enough password"})
	resp, err = http.Post(m.Server.URL()+"/api/v1/setup", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	m.Close(context.Background())

	m2, out2 := start()
	defer m2.Close(context.Background())
	if strings.Contains(out2, "/setup?token=") {
		t.Errorf("second start printed a setup link again:\n%s", out2)
	}
	if n, _ := m2.DB.CountUsers(context.Background()); n != 1 {
		t.Errorf("%d users, want the one administrator", n)
	}
}

// TestFirstAdminFromEnvironment checks HOOKLINE_ADMIN_EMAIL and _PASSWORD
// create the first administrator, who can sign in, and are ignored once
// users exist; the two must come together and the password be long enough.
func TestFirstAdminFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	run := func(email, password string) (*Main, string, error) {
		var out syncBuffer
		m := &Main{Config: Config{DataDir: dir, Addr: "127.0.0.1:0", LogFormat: "text", AdminEmail: email, AdminPassword: password, AdminName: "Ops"}, Stderr: &out}
		return m, out.String(), m.Run(context.Background())
	}
	for _, tc := range []struct{ email, password, want string }{
		{"root@example.com", "", "go together"},
		{"", "a long enough password", "go together"},
		{"root@example.com", "short", "at least 12 characters"},
	} {
		if _, _, err := run(tc.email, tc.password); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("email %q password %q: %v, want %q", tc.email, tc.password, err, tc.want)
		}
	}
	m, out, err := run("root@example.com", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "/setup?token=") {
		t.Errorf("printed a setup link although HOOKLINE_ADMIN_EMAIL was set:\n%s", out)
	}
	signIn := func(m *Main, email, password string) int {
		resp, err := http.Post(m.Server.URL()+"/api/v1/session", "application/json", jsonBody(t, map[string]string{"email": email, "password": password}))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := signIn(m, "root@example.com", "a long enough password"); got != http.StatusOK {
		t.Errorf("sign in as the administrator: %d", got)
	}
	m.Close(context.Background())
	m, _, err = run("other@example.com", "another long password")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if got := signIn(m, "other@example.com", "another long password"); got != http.StatusUnauthorized {
		t.Errorf("a second HOOKLINE_ADMIN_EMAIL made a user: %d", got)
	}
}

// TestAdminTokenFromEnvironment checks that HOOKLINE_ADMIN_TOKEN works only
// while it is set (it is not stored), and that one with white space is
// refused rather than never matching.
func TestAdminTokenFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	run := func(token string) (*Main, error) {
		m := &Main{Config: Config{DataDir: dir, Addr: "127.0.0.1:0", LogFormat: "text", AdminToken: token}, Stderr: io.Discard}
		return m, m.Run(context.Background())
	}
	m, err := run("first-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if got := listStatus(t, m, "first-token-0123456789"); got != http.StatusOK {
		t.Errorf("the token given: status %d", got)
	}
	m.Close(context.Background())
	m, err = run("")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if got := listStatus(t, m, "first-token-0123456789"); got != http.StatusUnauthorized {
		t.Errorf("started without the variable, the old token still works: status %d", got)
	}
	if _, err := run("has white space 0123456789"); err == nil || !strings.Contains(err.Error(), "white space") {
		t.Errorf("token with spaces: %v", err)
	}
}

// TestWrongMasterKey checks that a data directory opened with another
// master key stops the server at start with a message that says so, and
// that giving the first key as an old key re-seals the secrets under the
// new one.
func TestWrongMasterKey(t *testing.T) {
	dir := t.TempDir()
	keyA := strings.Repeat("a", 64)
	keyB := strings.Repeat("b", 64)
	run := func(key string, old ...string) (*Main, error) {
		m := &Main{Config: Config{DataDir: dir, Addr: "127.0.0.1:0", LogFormat: "text", AdminToken: testToken, MasterKey: key, OldKeys: old}, Stderr: io.Discard}
		return m, m.Run(context.Background())
	}
	m, err := run(keyA)
	if err != nil {
		t.Fatal(err)
	}
	srv := &testServer{t: t, main: m, url: m.Server.URL()}
	var c map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "Webhook", "name": "w", "url": "https://hooks.example.com/",
		"authorizationHeader": "Bearer sealed-with-key-a-000", "defaultPayload": `{"a": 1}`,
	}, &c); code != http.StatusOK {
		t.Fatalf("create: %d %v", code, c)
	}
	m.Close(context.Background())

	if _, err := run(keyB); err == nil || !strings.Contains(err.Error(), "does not open this database") {
		t.Fatalf("wrong key: Run() = %v", err)
	}
	m, err = run(keyB, keyA)
	if err != nil {
		t.Fatalf("new key with the old one: %v", err)
	}
	m.Close(context.Background())
	m, err = run(keyB)
	if err != nil {
		t.Fatalf("new key alone after re-sealing: %v", err)
	}
	defer m.Close(context.Background())
	srv = &testServer{t: t, main: m, url: m.Server.URL()}
	if code := srv.do("GET", "/api/v1/connections/"+c["id"].(string), nil, &c); code != http.StatusOK || c["hasAuthorizationHeader"] != true {
		t.Errorf("after rotation: %d %v", code, c)
	}
}

// listStatus is the status of listing connections with a bearer token.
func listStatus(t *testing.T, m *Main, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", m.Server.URL()+"/api/v1/connections", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestOneServerPerDataDir: a second server on the same data directory is
// refused, since it would claim and resend what the first holds.
func TestOneServerPerDataDir(t *testing.T) {
	first := startServer(t)
	second := &Main{Config: Config{DataDir: first.main.Config.DataDir, Addr: "127.0.0.1:0", LogFormat: "text", AdminToken: testToken}, Stderr: io.Discard}
	err := second.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another hookline is running") {
		t.Fatalf("second server on the same directory: %v", err)
	}
	// Once the first stops, the directory is free again.
	if err := first.main.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	third := &Main{Config: second.Config, Stderr: io.Discard}
	if err := third.Run(context.Background()); err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	third.Close(context.Background())
}

// TestMetricsEndpoint: after a delivery, /metrics (scraped without a
// token) counts it by connection and outcome and shows the queue.
func TestMetricsEndpoint(t *testing.T) {
	srv := startServer(t)
	dl, lambdaURL := startLambda(t, "lambda")
	var conn map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "AWSLambda", "name": "m", "url": lambdaURL + "/", "region": "us-east-1", "serviceName": "lambda",
		"accessKeyId": testKeyID, "secretAccessKey": testSecret, "defaultPayload": `{"n": "{{Name}}"}`,
	}, &conn); code != http.StatusOK {
		t.Fatalf("create: %d %v", code, conn)
	}
	var accepted map[string]any
	if code := srv.do("POST", "/api/v1/alerts", map[string]any{"name": "x", "triggerType": "Critical",
		"notifications": []map[string]any{{"connectionId": conn["id"]}}}, &accepted); code != http.StatusAccepted {
		t.Fatalf("alert: %d %v", code, accepted)
	}
	waitUntil(t, "the delivery", func() bool { return len(dl.Requests()) == 1 })
	want := fmt.Sprintf(`hookline_deliveries_total{connection=%q,outcome="delivered"} 1`, conn["id"])
	var text string
	waitUntil(t, "the metric", func() bool {
		resp, err := http.Get(srv.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(b)
		// The count moves when the attempt ends, the queue when its result
		// is written, a moment later.
		return resp.StatusCode == http.StatusOK && strings.Contains(text, want) &&
			strings.Contains(text, "hookline_queue_pending_deliveries 0")
	})
	for _, name := range []string{"hookline_alerts_accepted_total{source=\"api\"} 1",
		"hookline_queue_oldest_pending_age_seconds", "hookline_delivery_attempt_duration_seconds_bucket", "go_goroutines",
		"hookline_delivery_replicas 1"} {
		if !strings.Contains(text, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if strings.Contains(text, testSecret) || strings.Contains(text, testKeyID) {
		t.Error("/metrics shows credentials")
	}
}

// jsonBody is a request body: none for nil, a string as it is, anything
// else as JSON.
func jsonBody(t testing.TB, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(j)
	}
}
