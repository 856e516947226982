package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/keyring"
)

// The leak test's secrets. Each is distinctive, long enough to be redacted,
// and made of characters that JSON or URL escaping changes (/ + < > & =
// and a space), so that their escaped forms differ from the plain ones.
var (
	leakKeyID         = "AKIDLEAKTEST0001"
	leakLambdaSecret  = "leakLambdaSecret/Zq8+Wm3Np5Rt7Vx9Bc1Df"
	leakLambdaSession = "leakLambdaSession+FwoGZXIvYXdzEJr//////////wEaDLeak"
	leakWrongSecret   = "leakWrongSecret/Ab1+Cd2Ef3Gh4Ij5Kl6Mn7Op"
	leakHookOK        = "Bearer leakHookOK<&>Token.7f3e9a1c"
	leakHook403       = "Token leakHook403Secret/5d2b8e+4c"
	leakHook500       = "Basic bGVha0hvb2s1MDA6cGFzc3dvcmQ="
	leakHookSlow      = "Bearer leakHookSlow=Token-0a9b8c7d"
	leakHookWrong     = "Bearer leakHookWrong/Token&112233"
	leakAdminToken    = "leak-admin-token-7Hq2Lx9Pz4Rw"
	leakAdminPassword = "leak admin password/7+Kq<2>&x"
	leakUserPassword  = "leak user password/Vb3+Np9=Qz"
	leakUserPassword2 = "leak second password/Hg4+Tr&8"
	leakWrongPassword = "leak wrong password/Lm5+Xc=1<"
)

// leakRun is one run of the scenario: the server, its targets and
// everything captured.
type leakRun struct {
	t   *testing.T
	m   *Main
	url string

	mu       sync.Mutex
	captured []leakCapture
}

// leakCapture is one text that must hold no secret, and where it came from.
type leakCapture struct{ where, text string }

func (r *leakRun) capture(where, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.captured = append(r.captured, leakCapture{where, text})
}

// api sends a request with the admin token, records the answer, and
// returns its status and body.
func (r *leakRun) api(method, path string, body any) (int, []byte) {
	r.t.Helper()
	return r.send(method, path, jsonBody(r.t, body), "Bearer "+leakAdminToken)
}

func (r *leakRun) send(method, path string, body io.Reader, auth string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	var hdr strings.Builder
	resp.Header.Write(&hdr)
	r.capture(fmt.Sprintf("API %s %s → %d", method, path, resp.StatusCode), hdr.String()+"\n"+string(raw))
	return resp.StatusCode, raw
}

// apiJSON is api with the answer decoded; want is the status expected.
func (r *leakRun) apiJSON(method, path string, body any, want int) map[string]any {
	r.t.Helper()
	code, raw := r.api(method, path, body)
	if code != want {
		r.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			r.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}

// cli runs hookline with args against the server (the token comes from
// HOOKLINE_TOKEN) and records what it printed.
func (r *leakRun) cli(wantCode int, args ...string) string {
	r.t.Helper()
	return r.cliIn("", wantCode, args...)
}

// cliIn is cli with stdin as the command's standard input.
func (r *leakRun) cliIn(stdin string, wantCode int, args ...string) string {
	r.t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(strings.NewReader(stdin), &stdout, &stderr)
	full := append(append([]string{}, args...), "--server", r.url)
	root.SetArgs(full)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := 0
	if err := root.ExecuteContext(ctx); err != nil {
		if ee, ok := err.(exitError); ok {
			code = int(ee)
		} else {
			fmt.Fprintln(&stderr, "Error:", err)
			code = 1
		}
	}
	r.capture("CLI hookline "+strings.Join(args, " "), stdout.String()+"\n"+stderr.String())
	if code != wantCode {
		r.t.Fatalf("hookline %s: exit status %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// leakTargets starts the targets: a SigV4-checking Lambda stand-in that
// echoes what it received, and a webhook server whose paths echo the
// request's headers in every form a careless target might (plain, JSON,
// JSON with escaped slashes, URL-escaped) with 200, 403 or 500, or never
// answer.
func leakTargets(t *testing.T) (lambdaURL, hookURL string) {
	t.Helper()
	lambda := httptest.NewServer(devlambda.New(devlambda.Config{
		Keys: map[string]string{leakKeyID: leakLambdaSecret},
		Respond: func(r devlambda.Request) (int, []byte) {
			b, _ := json.Marshal(map[string]any{"received": r.Header, "body": string(r.Body)})
			return http.StatusOK, b
		},
	}))
	t.Cleanup(lambda.Close)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		echo, _ := json.Marshal(map[string]any{"headers": r.Header, "body": string(body)})
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Content-Type", "application/json")
			w.Write(echo)
		case "/forbidden":
			http.Error(w, "invalid credentials "+auth+" (query form: "+url.QueryEscape(auth)+")", http.StatusForbidden)
		case "/error":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(strings.ReplaceAll(string(echo), "/", `\/`)))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(hook.Close)
	return lambda.URL + "/", hook.URL
}

// TestNoSecretLeaks runs a realistic session through the real server and
// CLI, capturing every log line (debug level, as JSON and as text), every
// API answer (headers and body), every CLI output and /metrics, and then
// the data directory's files, and fails if any secret shows in any of them
// in any form a secret may take (plain, JSON- or URL-escaped, base64, hex).
func TestNoSecretLeaks(t *testing.T) {
	// Every log line: the server's, as JSON and as text, and anything
	// written through the standard log package or slog's default logger.
	jsonLog, textLog, stderr, stdLog := &syncBuffer{}, &syncBuffer{}, &syncBuffer{}, &syncBuffer{}
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(stdLog)
	t.Cleanup(func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) })
	logger := slog.New(slog.NewMultiHandler(
		slog.NewJSONHandler(jsonLog, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(textLog, &slog.HandlerOptions{Level: slog.LevelDebug}),
	))

	lambdaURL, hookURL := leakTargets(t)
	dir := t.TempDir()
	m := &Main{
		Config: Config{DataDir: dir, Addr: "127.0.0.1:0", AdminToken: leakAdminToken, LogFormat: "json", LogLevel: slog.LevelDebug,
			AdminEmail: "leak-admin@example.com", AdminPassword: leakAdminPassword,
			RequestTimeout: 300 * time.Millisecond, RetrySchedule: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond},
			AllowPrivateTargets: true},
		Stderr: stderr,
		Logger: logger,
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	closed := false
	stop := func() {
		if closed {
			return
		}
		closed = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	}
	t.Cleanup(stop)
	r := &leakRun{t: t, m: m, url: m.Server.URL()}
	t.Setenv("HOOKLINE_TOKEN", leakAdminToken)

	// Connections, one created through the CLI.
	lambdaDef := map[string]any{
		"webhookType": "AWSLambda", "name": "leak-lambda", "url": lambdaURL, "region": "us-east-1", "serviceName": "lambda",
		"accessKeyId": leakKeyID, "secretAccessKey": leakLambdaSecret, "sessionToken": leakLambdaSession,
		"customHeaders":  []map[string]string{{"name": "X-Team", "value": "secops"}},
		"defaultPayload": `{"name": "{{Name}}", "type": "{{TriggerType}}", "rows": {{ResultsJson}}}`, "resolutionPayload": `{"resolved": "{{Name}}"}`,
	}
	lambdaID := r.apiJSON("POST", "/api/v1/connections", lambdaDef, http.StatusOK)["id"].(string)
	t.Setenv("LEAK_HOOK_OK", leakHookOK)
	r.cli(0, "connections", "create", "--type", "Webhook", "--name", "leak-hook-ok", "--url", hookURL+"/ok",
		"--authorization-header-env", "LEAK_HOOK_OK", "--alert-payload", `{"text": "{{TriggerType}}: {{Name}}"}`)
	hooks := map[string]string{"ok": "", "forbidden": leakHook403, "error": leakHook500, "slow": leakHookSlow}
	ids := map[string]string{"lambda": lambdaID}
	for path, secret := range hooks {
		if path == "ok" {
			continue
		}
		ids[path] = r.apiJSON("POST", "/api/v1/connections", map[string]any{
			"webhookType": "Webhook", "name": "leak-hook-" + path, "url": hookURL + "/" + path,
			"authorizationHeader": secret, "defaultPayload": `{"text": "{{TriggerType}}: {{Name}}"}`,
		}, http.StatusOK)["id"].(string)
	}
	list := r.apiJSON("GET", "/api/v1/connections", nil, http.StatusOK)
	for _, c := range list["data"].([]any) {
		c := c.(map[string]any)
		if c["name"] == "leak-hook-ok" {
			ids["ok"] = c["id"].(string)
		}
	}
	if len(ids) != 5 {
		t.Fatalf("connections: %v", ids)
	}
	for _, id := range ids {
		r.apiJSON("GET", "/api/v1/connections/"+id, nil, http.StatusOK)
	}
	r.apiJSON("GET", "/api/v1/connections/types", nil, http.StatusOK)

	// Test Alert and Test Recovery: right secrets, and targets that refuse,
	// fail or never answer, each echoing the credentials it was sent.
	for what, want := range map[string]float64{"lambda": 200, "ok": 200, "forbidden": 403, "error": 500, "slow": 0} {
		res := r.apiJSON("POST", "/api/v1/connections/"+ids[what]+"/test?functionalities=alert,resolution", nil, http.StatusOK)
		if res["alertStatusCode"] != want {
			t.Errorf("Test Alert of %s: %v", what, res)
		}
		// The targets echoed the credentials: what shows was redacted,
		// so the scan below does not pass for want of secrets to find.
		if what != "slow" && !strings.Contains(fmt.Sprint(res["alertResponseContent"]), "REDACTED") {
			t.Errorf("Test Alert of %s: the target's echo shows no redaction: %v", what, res["alertResponseContent"])
		}
	}
	// Wrong secrets, in unsaved definitions: the targets refuse them and
	// say why (devlambda quotes the canonical request, as AWS does).
	wrong := maps(lambdaDef, map[string]any{"secretAccessKey": leakWrongSecret})
	if res := r.apiJSON("POST", "/api/v1/connections/test?functionalities=alert", wrong, http.StatusOK); res["alertStatusCode"] != 403.0 {
		t.Errorf("Test Alert with a wrong secret: %v", res)
	}
	if res := r.apiJSON("POST", "/api/v1/connections/test", map[string]any{"webhookType": "Webhook", "name": "wrong", "url": hookURL + "/forbidden",
		"authorizationHeader": leakHookWrong, "defaultPayload": `{"a": 1}`}, http.StatusOK); res["alertStatusCode"] != 403.0 {
		t.Errorf("Test Alert of a webhook with a wrong token: %v", res)
	}
	// An unsaved edit that borrows the stored secret, and one that may not.
	borrowing := maps(lambdaDef, nil)
	delete(borrowing, "secretAccessKey")
	delete(borrowing, "sessionToken")
	if res := r.apiJSON("POST", "/api/v1/connections/test?connectionId="+lambdaID, borrowing, http.StatusOK); res["alertStatusCode"] != 200.0 {
		t.Errorf("Test Alert borrowing the stored secret: %v", res)
	}
	elsewhere := maps(borrowing, map[string]any{"url": "https://elsewhere.example.com/"})
	r.apiJSON("POST", "/api/v1/connections/test?connectionId="+lambdaID, elsewhere, http.StatusBadRequest)
	r.apiJSON("PUT", "/api/v1/connections/"+lambdaID, elsewhere, http.StatusBadRequest)
	r.apiJSON("PUT", "/api/v1/connections/"+lambdaID, lambdaDef, http.StatusOK)

	// Invalid requests with a secret in the wrong field: the answers say
	// what is wrong without repeating it.
	hookDef := func(extra map[string]any) map[string]any {
		return maps(map[string]any{"webhookType": "Webhook", "name": "bad", "url": "https://hooks.example.com/", "defaultPayload": `{"a": 1}`}, extra)
	}
	for _, bad := range []any{
		maps(lambdaDef, map[string]any{"name": "bad", "accessKeyId": leakLambdaSecret, "secretAccessKey": nil}),
		maps(lambdaDef, map[string]any{"name": "bad", "accessKeyId": leakLambdaSecret, "secretAccessKey": leakKeyID}),
		maps(lambdaDef, map[string]any{"name": "bad", "region": leakLambdaSecret}),
		hookDef(map[string]any{"url": "https://hooks.example.com:" + strings.TrimPrefix(leakHookOK, "Bearer ") + "/"}),
		hookDef(map[string]any{"customHeaders": []map[string]string{{"name": "Authorization: " + leakHookOK, "value": "x"}}}),
		hookDef(map[string]any{"url": leakLambdaSecret}),
		hookDef(map[string]any{"url": strings.TrimPrefix(leakHookOK, "Bearer ")}),
		hookDef(map[string]any{"url": "https://user:" + url.PathEscape(leakLambdaSecret) + "@hooks.example.com/"}),
		hookDef(map[string]any{"url": "https://hooks.example.com/?key= " + leakLambdaSecret}),
		hookDef(map[string]any{"customHeaders": []map[string]string{{"name": "X-Api-Key", "value": leakLambdaSecret + "\r\n"}}}),
		hookDef(map[string]any{"customHeaders": []map[string]string{{"name": "X-Api-Key", "value": " " + leakLambdaSecret}}}),
		hookDef(map[string]any{"customHeaders": []map[string]string{{"name": "Authorization", "value": leakHookOK}}}),
		hookDef(map[string]any{"authorizationHeader": leakHookOK + "\r\nX-Injected: 1"}),
		hookDef(map[string]any{"authorizationHeader": leakHookOK, "url": "ftp://hooks.example.com/"}),
		hookDef(map[string]any{"secretAccessKey": leakLambdaSecret}),                         // a field of another type
		hookDef(map[string]any{"authorisationHeader": leakHookOK}),                           // misspelt
		hookDef(map[string]any{"authorizationHeader": []string{leakHookOK}}),                 // wrong type
		`{"webhookType": "Webhook", "authorizationHeader": "` + leakHookSlow + `", "name": `, // cut short
		`{"webhookType": "Webhook", "authorizationHeader": "` + leakHookSlow + `"} trailing`,
	} {
		r.apiJSON("POST", "/api/v1/connections", bad, http.StatusBadRequest)
	}
	// A secret sent as the API token is refused without being repeated.
	for _, auth := range []string{"Bearer " + leakLambdaSecret, leakHookOK, "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+leakLambdaSecret))} {
		if code, _ := r.send("GET", "/api/v1/connections", nil, auth); code != http.StatusUnauthorized {
			t.Errorf("Authorization %.12s…: status %d", auth, code)
		}
	}

	// Alerts and their deliveries: delivered, refused (403), failing (500)
	// and unanswered, retried until they are given up.
	var notes []map[string]any
	for _, id := range ids {
		notes = append(notes, map[string]any{"connectionId": id})
	}
	accepted := r.apiJSON("POST", "/api/v1/alerts", map[string]any{"name": "leak test alert", "triggerType": "Critical",
		"results": []map[string]any{{"client_ip": "203.0.113.7"}}, "notifications": notes}, http.StatusAccepted)
	alertID := accepted["alerts"].([]any)[0].(map[string]any)["id"].(string)
	r.apiJSON("POST", "/api/v1/alerts", map[string]any{"name": "leak test alert", "triggerType": "ResolvedCritical",
		"notifications": []map[string]any{{"connectionId": lambdaID}}}, http.StatusAccepted)
	deliveries := r.waitFinal(alertID, 5)
	for _, d := range deliveries {
		r.apiJSON("GET", "/api/v1/deliveries/"+d["id"].(string), nil, http.StatusOK)
	}
	states := map[string]string{}
	for _, d := range deliveries {
		for what, id := range ids {
			if d["connectionId"] == id {
				states[what] = d["state"].(string)
			}
		}
	}
	wantStates := map[string]string{"lambda": "delivered", "ok": "delivered", "forbidden": "failed", "error": "dead", "slow": "dead"}
	if fmt.Sprint(states) != fmt.Sprint(wantStates) {
		t.Errorf("delivery states %v; want %v", states, wantStates)
	}
	for _, d := range deliveries {
		if d["connectionId"] == ids["forbidden"] {
			r.apiJSON("POST", "/api/v1/deliveries/"+d["id"].(string)+"/retry", nil, http.StatusAccepted)
		}
	}
	r.waitFinal(alertID, 5)
	r.apiJSON("GET", "/api/v1/deliveries", nil, http.StatusOK)
	r.apiJSON("GET", "/api/v1/deliveries?state=dead", nil, http.StatusOK)
	r.apiJSON("GET", "/api/v1/alerts/"+alertID, nil, http.StatusOK)

	// The CLI, as a user would run it.
	r.cli(0, "connections", "list")
	r.cli(0, "connections", "list", "-o", "json")
	r.cli(0, "connections", "get", lambdaID, "-o", "yaml")
	r.cli(0, "connections", "get", ids["ok"])
	r.cli(0, "connections", "test", lambdaID, "--alert", "--recovery", "-v")
	r.cli(0, "connections", "test", ids["ok"], "-v", "-o", "json")
	r.cli(1, "connections", "test", ids["forbidden"], "-v")
	r.cli(1, "connections", "test", ids["error"], "-v")
	t.Setenv("LEAK_WRONG", leakWrongSecret)
	r.cli(1, "connections", "update", lambdaID, "--url", "https://elsewhere.example.com/")
	r.cli(1, "connections", "create", "--type", "AWSLambda", "--name", "bad", "--url", lambdaURL,
		"--access-key-id", leakLambdaSecret, "--secret-access-key-env", "LEAK_WRONG", "--alert-payload", `{"a": 1}`)
	for i, content := range []string{
		"name: bad\nwebhookType: AWSLambda\nsecretAccessKey: " + leakLambdaSecret + "\n  accessKeyId: x: y\n",
		"name: bad\nsecretAccessKey: [" + leakLambdaSecret + "\n",
		"name: bad\n\tsecretAccessKey: " + leakLambdaSecret + "\n",
		"secretAccessKey: {" + leakLambdaSecret + ": 1}\n",
		`{"name": "bad", "secretAccessKey": "` + leakLambdaSecret + `", }`,
		`{"name": "bad", "secretAccessKey": ` + leakLambdaSecret + `}`,
		"- " + leakLambdaSecret + "\n",
		leakLambdaSecret + "\n",
	} {
		r.cli(1, "connections", "create", "-f", writeFile(t, fmt.Sprintf("bad%d.yaml", i), content))
	}
	r.cli(0, "alerts", "send", "--connection", "leak-hook-ok", "--connection", "leak-lambda", "--name", "from the CLI",
		"--trigger", "Warning", "--wait", "10s")
	r.cli(1, "alerts", "send", "--connection", "leak-hook-forbidden", "--name", "from the CLI", "--trigger", "Warning", "--wait", "10s")
	r.cli(0, "alerts", "get", alertID)
	r.cli(0, "deliveries", "list")
	r.cli(0, "deliveries", "list", "-o", "yaml")
	for _, d := range deliveries {
		r.cli(0, "deliveries", "get", d["id"].(string))
		r.cli(0, "deliveries", "get", d["id"].(string), "-o", "json")
	}

	// Users, passwords, sessions and access keys: each secret is shown
	// once where it must be (the session cookie when signing in, a new key
	// when it is created) and nowhere else.
	oneTime := map[string]string{} // secret name → the one capture that may show it
	userID := r.apiJSON("POST", "/api/v1/users", map[string]any{"email": "leak-user@example.com", "password": leakUserPassword,
		"roleIds": []string{"0000000000000001"}}, http.StatusCreated)["id"].(string)
	r.apiJSON("PUT", "/api/v1/users/"+userID, map[string]any{"email": "leak-user@example.com", "password": leakUserPassword2,
		"roleIds": []string{"0000000000000001"}}, http.StatusOK)
	r.apiJSON("POST", "/api/v1/users", map[string]any{"email": "leak-bad@example.com", "password": leakWrongPassword[:8]}, http.StatusBadRequest)
	for _, pw := range []string{leakWrongPassword, leakUserPassword} {
		if code, _ := r.send("POST", "/api/v1/session", jsonBody(t, map[string]string{"email": "leak-user@example.com", "password": pw}), ""); code != http.StatusUnauthorized {
			t.Errorf("sign in with an old or wrong password: %d", code)
		}
	}
	code, raw := r.send("POST", "/api/v1/session", jsonBody(t, map[string]string{"email": "leak-admin@example.com", "password": leakAdminPassword}), "")
	if code != http.StatusOK {
		t.Fatalf("sign in: %d %s", code, raw)
	}
	cookie := r.captured[len(r.captured)-1]
	sessionToken := between(cookie.text, "hookline_session=", ";")
	if sessionToken == "" {
		t.Fatalf("no session cookie in %s", cookie.text)
	}
	oneTime[sessionToken] = cookie.where
	newKey := r.apiJSON("POST", "/api/v1/accessKeys", map[string]any{"label": "leak", "userId": userID}, http.StatusCreated)
	accessID, accessKey := newKey["id"].(string), newKey["key"].(string)
	oneTime[accessKey] = r.captured[len(r.captured)-1].where
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(accessID+":"+accessKey))
	if code, _ := r.send("GET", "/api/v1/connections", nil, basic); code != http.StatusOK {
		t.Errorf("the new access key: %d", code)
	}
	wrongKey := "Basic " + base64.StdEncoding.EncodeToString([]byte(accessID+":"+leakWrongPassword))
	if code, _ := r.send("GET", "/api/v1/connections", nil, wrongKey); code != http.StatusUnauthorized {
		t.Errorf("a wrong access key: %d", code)
	}
	r.apiJSON("GET", "/api/v1/accessKeys?userId="+userID, nil, http.StatusOK)
	r.apiJSON("GET", "/api/v1/users", nil, http.StatusOK)
	r.apiJSON("GET", "/api/v1/audit", nil, http.StatusOK)
	r.apiJSON("GET", "/api/v1/audit?targetType=connection", nil, http.StatusOK)
	// The same through the CLI: a user made with a password from standard
	// input, a key made by signing in with it (printed once), used, listed
	// and revoked; wrong passwords refused.
	r.cliIn(leakUserPassword+"\n", 0, "users", "create", "--email", "leak-cli@example.com", "--role", "Administrator", "--password-stdin")
	r.cliIn(leakWrongPassword+"\n", 1, "keys", "create", "--email", "leak-cli@example.com", "--label", "cli", "--password-stdin")
	out := r.cliIn(leakUserPassword+"\n", 0, "keys", "create", "--email", "leak-cli@example.com", "--label", "cli", "--password-stdin")
	cliID, cliKey := between(out, "HOOKLINE_ACCESS_ID=", "\n"), between(out, "HOOKLINE_ACCESS_KEY=", "\n")
	if cliID == "" || cliKey == "" {
		t.Fatalf("keys create printed no key:\n%s", out)
	}
	oneTime[cliKey] = r.captured[len(r.captured)-1].where
	t.Setenv("HOOKLINE_ACCESS_ID", cliID)
	t.Setenv("HOOKLINE_ACCESS_KEY", cliKey)
	r.cli(0, "whoami")
	r.cli(0, "keys", "list")
	r.cli(0, "users", "list", "-o", "json")
	r.cli(0, "audit", "-o", "yaml")
	r.cli(0, "keys", "revoke", cliID)
	r.cli(1, "whoami")
	t.Setenv("HOOKLINE_ACCESS_ID", "")
	t.Setenv("HOOKLINE_ACCESS_KEY", "")
	r.apiJSON("DELETE", "/api/v1/accessKeys/"+accessID, nil, http.StatusNoContent)
	if code, _ := r.send("GET", "/api/v1/connections", nil, basic); code != http.StatusUnauthorized {
		t.Errorf("a revoked access key: %d", code)
	}

	// HTTP sources: a token is shown once, where it is handed out (the
	// answer of a creation or rotation, the CLI's export lines), and sent
	// in the receiver's URL; never in logs, lists, the audit log or files.
	src := r.apiJSON("POST", "/api/v1/sources", map[string]any{"name": "leak-source", "category": "prod/leak"}, http.StatusCreated)
	srcID, srcToken := src["id"].(string), src["token"].(string)
	oneTime[srcToken] = r.captured[len(r.captured)-1].where
	if code, raw := r.send("POST", "/receiver/v1/http/"+srcToken, strings.NewReader("leak line\n{\"timestamp\": 1764151200000}\n"), ""); code != http.StatusOK {
		t.Errorf("send to the source: %d %s", code, raw)
	}
	rotated := r.apiJSON("POST", "/api/v1/sources/"+srcID+"/token", nil, http.StatusOK)["token"].(string)
	oneTime[rotated] = r.captured[len(r.captured)-1].where
	for _, tok := range []string{srcToken, "hls_" + leakWrongPassword} {
		if code, _ := r.send("POST", "/receiver/v1/http/"+url.PathEscape(tok), strings.NewReader("refused\n"), ""); code != http.StatusUnauthorized {
			t.Errorf("send with a rotated or wrong token: %d", code)
		}
	}
	r.apiJSON("GET", "/api/v1/sources", nil, http.StatusOK)
	r.apiJSON("GET", "/api/v1/sources/"+srcID, nil, http.StatusOK)
	r.apiJSON("GET", "/api/v1/audit?targetType=source", nil, http.StatusOK)
	out = r.cli(0, "sources", "create", "--name", "leak-cli-source")
	cliToken := between(out, "HOOKLINE_SOURCE_TOKEN=", "\n")
	if cliToken == "" {
		t.Fatalf("sources create printed no token:\n%s", out)
	}
	oneTime[cliToken] = r.captured[len(r.captured)-1].where
	r.cliIn("from the CLI\n", 0, "logs", "send", "--token", cliToken, "--gzip")
	r.cliIn("refused\n", 1, "logs", "send", "--token", srcToken)
	r.cli(0, "sources", "list")
	r.cli(0, "sources", "get", "leak-source", "-o", "json")
	r.cli(0, "sources", "rotate-token", "leak-cli-source", "-o", "yaml")
	oneTime[between(r.captured[len(r.captured)-1].text, "token: ", "\n")] = r.captured[len(r.captured)-1].where
	r.cli(0, "audit")

	// /metrics, scraped as Prometheus does.
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "hookline_deliveries_total") {
		t.Fatalf("/metrics lacks the delivery counts:\n%.500s", metrics)
	}
	r.capture("GET /metrics", string(metrics))

	// The data directory while the server runs (WAL included) and after it
	// stopped and checkpointed.
	masterKey := readKey(t, filepath.Join(dir, keyring.KeyFile))
	r.captureFiles(dir, "running")
	stop()
	r.captureFiles(dir, "stopped")
	for name, b := range map[string]*syncBuffer{"JSON log": jsonLog, "text log": textLog, "stderr": stderr, "standard log": stdLog} {
		r.capture(name, b.String())
	}
	if !strings.Contains(textLog.String(), "level=DEBUG") || !strings.Contains(jsonLog.String(), `"level":"WARN"`) ||
		!strings.Contains(jsonLog.String(), `"msg":"delivery attempt"`) {
		t.Errorf("the logs lack debug lines, warnings or delivery attempts:\n%.2000s", textLog.String())
	}

	secrets := map[string]string{
		"Lambda secret access key": leakLambdaSecret, "Lambda session token": leakLambdaSession,
		"wrong secret access key": leakWrongSecret, "webhook token (200)": leakHookOK, "webhook token (403)": leakHook403,
		"webhook token (500)": leakHook500, "webhook token (timeout)": leakHookSlow, "wrong webhook token": leakHookWrong,
		"admin token": leakAdminToken, "admin password": leakAdminPassword, "user password": leakUserPassword,
		"second user password": leakUserPassword2, "wrong password": leakWrongPassword,
	}
	n := 0
	for _, c := range r.captured {
		n += len(c.text)
		for name, s := range secrets {
			checkNoLeak(t, c, name, s)
		}
		for secret, where := range oneTime {
			if c.where != where {
				checkNoLeak(t, c, "session token, access key or source token", secret)
			}
		}
		// The master key may be in its own files only.
		if !strings.Contains(c.where, keyring.KeyFile) {
			checkNoLeak(t, c, "master key", string(masterKey))
		}
	}
	if len(r.captured) < 80 || n < 100_000 {
		t.Errorf("captured only %d texts, %d bytes: the scenario did not run", len(r.captured), n)
	}
}

// between returns the text after start up to end, or "".
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

// maps returns a copy of base with extra's entries set (nil deletes).
func maps(base, extra map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// waitFinal waits until the alert's n deliveries are all delivered,
// failed or dead, and returns them.
func (r *leakRun) waitFinal(alertID string, n int) []map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, raw := r.api("GET", "/api/v1/alerts/"+alertID, nil)
		var a struct{ Deliveries []map[string]any }
		if err := json.Unmarshal(raw, &a); err != nil {
			r.t.Fatal(err)
		}
		done := len(a.Deliveries) == n
		for _, d := range a.Deliveries {
			done = done && d["state"] != "pending"
		}
		if done {
			return a.Deliveries
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("deliveries of alert %s not final after 15s: %s", alertID, raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// captureFiles records every file of the data directory.
func (r *leakRun) captureFiles(dir, when string) {
	r.t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			r.t.Fatal(err)
		}
		r.capture(fmt.Sprintf("file %s (%s)", e.Name(), when), string(b))
	}
}

// secretForms returns the forms in which a secret may show: as given,
// JSON-escaped (as Go and as PHP write it), URL-escaped, hex, and base64 in
// either alphabet. A base64 form is taken at each of the three alignments a
// secret may have inside longer encoded data, without the characters that
// depend on its neighbours. A credential after a scheme ("Bearer x") is
// looked for alone too.
func secretForms(secret string) map[string]string {
	values := []string{secret}
	// Only an auth scheme's credential is looked for alone: the master key
	// is random bytes, and a space among them would leave a fragment short
	// enough to turn up anywhere.
	if scheme, cred, ok := strings.Cut(secret, " "); ok && len(cred) >= 8 &&
		scheme != "" && !strings.ContainsFunc(scheme, func(r rune) bool { return !unicode.IsLetter(r) }) {
		values = append(values, cred)
	}
	forms := map[string]string{}
	for i, v := range values {
		p := ""
		if i > 0 {
			p = "credential, "
		}
		forms[p+"plain"] = v
		j, _ := json.Marshal(v)
		forms[p+"JSON"] = string(j[1 : len(j)-1])
		forms[p+`JSON with \/`] = strings.ReplaceAll(string(j[1:len(j)-1]), "/", `\/`)
		forms[p+"query-escaped"] = url.QueryEscape(v)
		forms[p+"path-escaped"] = url.PathEscape(v)
		forms[p+"hex"] = hex.EncodeToString([]byte(v))
		for _, enc := range []struct {
			name string
			e    *base64.Encoding
		}{{"base64", base64.RawStdEncoding}, {"base64url", base64.RawURLEncoding}} {
			for off := range 3 {
				s := enc.e.EncodeToString(append(make([]byte, off), v...))
				start := (8*off + 5) / 6      // first character made of the secret's bits only
				end := 8 * (off + len(v)) / 6 // past the last such character
				forms[fmt.Sprintf("%s%s at offset %d", p, enc.name, off)] = s[start:end]
			}
		}
	}
	return forms
}

// findLeaks returns the forms of secret that text holds, each with the
// index where it starts.
func findLeaks(text, secret string) map[string]int {
	found := map[string]int{}
	for form, f := range secretForms(secret) {
		if i := strings.Index(text, f); i >= 0 {
			found[form] = i
		}
	}
	return found
}

func checkNoLeak(t *testing.T, c leakCapture, name, secret string) {
	t.Helper()
	forms := secretForms(secret)
	for form, i := range findLeaks(c.text, secret) {
		f := forms[form]
		context := c.text[max(0, i-120):min(len(c.text), i+len(f)+60)]
		t.Errorf("%s: the %s shows (%s):\n…%s…", c.where, name, form,
			strings.ReplaceAll(context, f, "<<"+strings.ToUpper(name)+">>"))
	}
}

// TestFindLeaks checks the scanner itself: every form a secret may take
// is found inside surrounding text, and unrelated text is not flagged.
func TestFindLeaks(t *testing.T) {
	secret := "Bearer leak/Scanner+Token<&>=0123"
	cred := strings.TrimPrefix(secret, "Bearer ")
	j, _ := json.Marshal(map[string]string{"auth": secret})
	tests := []struct {
		name, text string
	}{
		{"plain", "header: " + secret + "."},
		{"credential alone", "token " + cred + " refused"},
		{"Go JSON", string(j)},
		{"PHP JSON", strings.ReplaceAll(string(j), "/", `\/`)},
		{"query", "https://x.example/?a=" + url.QueryEscape(secret) + "&b=1"},
		{"path", "https://x.example/" + url.PathEscape(cred) + "/y"},
		{"hex", "dump " + hex.EncodeToString([]byte("!"+secret+"?"))},
	}
	for off := range 3 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for _, v := range []string{secret, cred} {
				tests = append(tests, struct{ name, text string }{fmt.Sprintf("base64 after %d bytes", off),
					"data " + enc.EncodeToString([]byte(strings.Repeat("~", off)+v+"tail"))})
			}
		}
	}
	for _, tt := range tests {
		if len(findLeaks(tt.text, secret)) == 0 {
			t.Errorf("%s: %q not found in %q", tt.name, secret, tt.text)
		}
	}
	for _, text := range []string{"", "Bearer REDACTED", "leak/Scanner+Token", base64.StdEncoding.EncodeToString([]byte("leak/Scanner"))} {
		if found := findLeaks(text, secret); len(found) > 0 {
			t.Errorf("%q flagged as holding the secret: %v", text, found)
		}
	}
}
