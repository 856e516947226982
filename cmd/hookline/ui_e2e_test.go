package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookline/hookline"
)

// The web UI's end-to-end tests drive a real Chromium against the whole
// program (startServer) and the SigV4-checking devlambda. They are skipped
// where Chromium is missing, except in CI, where they must run.
//
//	go test ./cmd/hookline -run TestUI
//	go test ./cmd/hookline -run TestUIScreenshots -screenshots   # rewrites docs/screenshots/*.png

var writeScreenshots = flag.Bool("screenshots", false, "write the UI screenshots to docs/screenshots/ (TestUIScreenshots)")

const (
	uiPassword = "correct horse battery staple"
	// uiTestLimit bounds each browser test as a whole, so that a hung
	// browser fails the test instead of hanging it.
	uiTestLimit = 3 * time.Minute
	uiWaitLimit = 20 * time.Second
)

// chromiumBinary finds Chromium: $HOOKLINE_CHROMIUM, Debian's
// /usr/bin/chromium, or chromium on the PATH.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser"}
	if bin := os.Getenv("HOOKLINE_CHROMIUM"); bin != "" {
		candidates = []string{bin}
	}
	for _, c := range candidates {
		if bin, err := exec.LookPath(c); err == nil {
			return bin
		}
	}
	msg := fmt.Sprintf("Chromium is not installed (looked for %s); on Debian: apt-get install chromium, or set HOOKLINE_CHROMIUM", strings.Join(candidates, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium with one tab, and what went wrong in
// its pages: uncaught exceptions, console errors, refused resources (a
// Content-Security-Policy violation among them).
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumBinary(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("lang", "en-US"),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root; elsewhere it stays on.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTime := context.WithTimeout(ctx, uiTestLimit)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, base: base}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	entries := chromedp.Events(ctx, log.EntryAdded)
	challenges := chromedp.Events(ctx, fetch.AuthRequired)
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			text := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil && ev.ExceptionDetails.Exception.Description != "" {
				text += " " + ev.ExceptionDetails.Exception.Description
			}
			b.problem("uncaught exception: %s (%s:%d)", text, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber)
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problem("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		}
	}()
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			// Answers of 4xx and 5xx are logged by the network source; the
			// pages expect some (a 401 before signing in). Anything the
			// browser refused or a script failed on is a defect.
			if ev.Entry.Level == log.EntryLevelError && ev.Entry.Source != log.EntrySourceNetwork {
				b.problem("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
	}()
	go func() {
		// A 401 with an HTTP authentication challenge makes a browser ask
		// for a user name and password in its own dialog, over the page;
		// the UI's requests must never get one. Refusing it here lets the
		// page see the 401 the dialog would otherwise hold.
		for ev, err := range challenges {
			if err != nil {
				return
			}
			b.problem("the browser was asked for credentials (WWW-Authenticate: %s) by %s %s: a person would see its password dialog",
				ev.AuthChallenge.Scheme, ev.Request.Method, ev.Request.URL)
			_, _ = chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{
				RequestID:             ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth},
			})
		}
	}()
	go func() {
		// The browser reports challenges only of requests it intercepts;
		// they go on unchanged.
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log: %v", err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns:           []*fetch.RequestPattern{{URLPattern: "*/api/*"}},
		HandleAuthRequests: new(true),
	}); err != nil {
		t.Fatalf("watch for authentication challenges: %v", err)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Errorf("browser: %s", p)
		}
	})
	return b
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
	b.mu.Unlock()
}

// do runs steps, failing the test with what the page shows if one fails.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, uiWaitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.pageText())
	}
}

// eval evaluates a JavaScript expression that gives a JSON value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, uiWaitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is true. It polls from Go rather than in the
// page, so that it outlives a navigation.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(uiWaitLimit)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.t.Fatalf("waited %s for %s (last error: %v)\n%s", uiWaitLimit, what, err, b.pageText())
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%s to show %q", sel, want), fmt.Sprintf(
		`(() => { const el = document.querySelector(%s); return !!el && el.textContent.includes(%s); })()`, js(sel), js(want)))
}

func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.waitJS(sel+" to be shown", fmt.Sprintf(
		`(() => { const el = document.querySelector(%s); return !!el && el.getClientRects().length > 0; })()`, js(sel)))
}

func (b *browser) waitGone(sel string) {
	b.t.Helper()
	b.waitJS(sel+" to be hidden", fmt.Sprintf(
		`(() => { const el = document.querySelector(%s); return !el || el.getClientRects().length === 0; })()`, js(sel)))
}

func (b *browser) waitPath(path string) {
	b.t.Helper()
	b.waitJS("the page "+path, fmt.Sprintf(`location.pathname === %s && document.readyState === 'complete'`, js(path)))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {}).textContent || ''`, js(sel)))
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {}).value || ''`, js(sel)))
}

// fill sets a field's value at once, as pasting does, and tells the page.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.do("fill "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		el.focus();
		el.value = %s;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
	})()`, js(sel), js(value))))
}

// typeText types into a field key by key.
func (b *browser) typeText(sel, text string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	if err != nil {
		return "(page text unavailable: " + err.Error() + ")"
	}
	if len(s) > 4000 {
		s = s[:4000] + "…"
	}
	return "page:\n" + s
}

func (b *browser) screenshot() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, uiWaitLimit)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// signIn opens the UI, which sends a browser without a session to the
// sign-in page, and signs in there.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.do("open the UI", chromedp.Navigate(b.base+"/"))
	b.waitPath("/ui/login")
	b.typeText("#email", email)
	b.typeText("#password", password)
	b.click("#signin-submit")
	b.waitPath("/ui/connections")
	b.waitJS("the signed-in header", `document.querySelector('#account-name').textContent !== ''`)
}

// createUser makes a user with a password and the given roles, through the
// API with the admin token.
func createUser(t *testing.T, srv *testServer, email string, roleIDs ...string) {
	t.Helper()
	var u map[string]any
	if code := srv.do("POST", "/api/v1/users", map[string]any{
		"email": email, "name": strings.Split(email, "@")[0], "roleIds": roleIDs, "password": uiPassword,
	}, &u); code != http.StatusCreated {
		t.Fatalf("create user %s: %d %v", email, code, u)
	}
}

func createRole(t *testing.T, srv *testServer, name string, caps ...hookline.Capability) string {
	t.Helper()
	var r map[string]any
	if code := srv.do("POST", "/api/v1/roles", map[string]any{"name": name, "capabilities": caps}, &r); code != http.StatusCreated {
		t.Fatalf("create role %s: %d %v", name, code, r)
	}
	return r["id"].(string)
}

// lambdaConnection creates an AWSLambda connection to the devlambda at url
// through the API; secret may be wrong on purpose.
func lambdaConnection(t *testing.T, srv *testServer, name, url, secret string) string {
	t.Helper()
	var c map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "AWSLambda", "name": name, "url": url + "/", "region": "us-east-1", "serviceName": "lambda",
		"accessKeyId": testKeyID, "secretAccessKey": secret, "defaultPayload": alertPayload, "resolutionPayload": recoveryPayload,
	}, &c); code != http.StatusOK {
		t.Fatalf("create connection %s: %d %v", name, code, c)
	}
	return c["id"].(string)
}

// sendAlert posts one alert to the connections and returns its deliveries' IDs.
func sendAlert(t *testing.T, srv *testServer, name string, trigger hookline.TriggerType, connIDs ...string) []string {
	t.Helper()
	var notes []map[string]any
	for _, id := range connIDs {
		notes = append(notes, map[string]any{"connectionId": id})
	}
	var accepted struct {
		Alerts []struct {
			Deliveries []struct{ ID string }
		}
	}
	if code := srv.do("POST", "/api/v1/alerts", map[string]any{"name": name, "triggerType": trigger, "notifications": notes}, &accepted); code != http.StatusAccepted {
		t.Fatalf("post alert: %d", code)
	}
	var ids []string
	for _, d := range accepted.Alerts[0].Deliveries {
		ids = append(ids, d.ID)
	}
	return ids
}

// waitDelivery waits until the delivery's state is final and returns it.
func waitDelivery(t *testing.T, srv *testServer, id string) string {
	t.Helper()
	var state string
	waitFor(t, 30*time.Second, "delivery "+id+" to finish", func() bool {
		var d struct{ State string }
		srv.do("GET", "/api/v1/deliveries/"+id, nil, &d)
		state = d.State
		return state != "" && state != "pending"
	})
	return state
}

// TestUIConnectionLifecycle walks the reference's way through the product
// in a browser: sign in, Add → AWS Lambda, paste URLs and see region and
// service filled in, Test Alert against the SigV4-checking endpoint (200
// OK), Save, see it listed, edit it (the secret shown as set, never its
// value; Test Recovery borrows the stored one), see an invalid payload's
// line and column and a 400's problem next to its field, and delete it
// after confirming.
func TestUIConnectionLifecycle(t *testing.T) {
	start := time.Now()
	srv := startServer(t)
	dl, lambdaURL := startLambda(t, "lambda")
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.waitText("#list-empty", "No connections yet")

	// Add → AWS Lambda opens the Create Connection dialog.
	b.click("#add-button")
	b.click(`#add-menu [data-type="AWSLambda"]`)
	b.waitVisible("#editor")
	b.waitText("#editor-title", "Create Connection")
	b.waitText("#editor-subtitle", "AWS Lambda")
	if got := eval[string](b, `location.pathname + location.search`); got != "/ui/connections/new?type=AWSLambda" {
		t.Errorf("the dialog's address is %s", got)
	}
	if got := eval[string](b, `document.activeElement.id`); got != "f-name" {
		t.Errorf("focus is on %q when the dialog opens, want the name", got)
	}
	if n := eval[int](b, `document.querySelectorAll('#f-region option').length`); n < 30 {
		t.Errorf("the region list has %d entries", n)
	}

	// A pasted Function URL or API Gateway URL fills in region and service.
	for _, tc := range []struct{ url, region, service string }{
		{"https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/", "eu-west-1", "lambda"},
		{"https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/prod/alerts", "ap-southeast-2", "execute-api"},
	} {
		b.fill("#f-url", tc.url)
		if r, s := b.value("#f-region"), b.value("#f-serviceName"); r != tc.region || s != tc.service {
			t.Errorf("pasting %s: region %q service %q, want %q %q", tc.url, r, s, tc.region, tc.service)
		}
		b.waitText("#f-url-note", "filled in from the URL")
	}
	// The local endpoint names no region: it stays as chosen.
	b.fill("#f-url", "")
	b.typeText("#f-url", lambdaURL+"/")
	b.fill("#f-region", "us-east-1")
	b.fill("#f-serviceName", "lambda")
	b.typeText("#f-name", "block-suspicious-ip")
	b.typeText("#f-description", "Blocks an IP at the WAF")
	b.typeText("#f-accessKeyId", testKeyID)
	b.typeText("#f-secretAccessKey", testSecret)
	b.click("#add-header")
	b.typeText("#f-h0-name", "X-Team")
	b.typeText("#f-h0-value", "secops")
	b.fill("#f-defaultPayload", alertPayload)
	b.waitText("#f-defaultPayload-check", "Valid JSON template")
	b.waitText("#f-defaultPayload-preview", `"name": "Hookline test alert"`)
	// A variable chosen from the list goes in at the cursor; a field form
	// leaves "fieldName" selected, to be typed over.
	recovery := strings.TrimSuffix(recoveryPayload, "}") + `, "ip": ""}`
	b.fill("#f-resolutionPayload", recovery)
	b.do("put the cursor in the quotes", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const ta = document.querySelector('#f-resolutionPayload'); ta.focus(); ta.setSelectionRange(%[1]d, %[1]d); })()`,
		len(recovery)-2)))
	b.click(`#var-list button[aria-describedby="var-ResultsJson-fieldName"]`)
	b.do("type the field name", chromedp.KeyEvent("client_ip"))
	if got, want := b.value("#f-resolutionPayload"), strings.TrimSuffix(recovery, `""}`)+`"{{ResultsJson.client_ip}}"}`; got != want {
		t.Errorf("after inserting a variable the recovery payload is\n%s\nwant\n%s", got, want)
	}
	b.waitText("#f-resolutionPayload-preview", `"ip": "203.0.113.7"`)

	// Test Alert: the endpoint checks the signature and answers 200.
	b.click("#test-alert")
	b.waitText("#test-result", "Test Alert: 200 OK")
	result := b.text("#test-result")
	for _, want := range []string{"The target accepted the request", "ms", "Request as sent", "Signature=REDACTED", "X-Team: secops"} {
		if !strings.Contains(result, want) {
			t.Errorf("the test result lacks %q:\n%s", want, result)
		}
	}
	if strings.Contains(result, testSecret) {
		t.Error("the test result shows the secret")
	}
	reqs := dl.Requests()
	if len(reqs) != 1 || !reqs[0].Verified || !strings.Contains(string(reqs[0].Body), `"type": "Critical"`) {
		t.Fatalf("the endpoint received %+v", reqs)
	}

	// Save: the dialog closes and the list shows the connection.
	b.click("#save")
	b.waitGone("#editor")
	b.waitText("#rows", "block-suspicious-ip")
	b.waitText("#status", "Created “block-suspicious-ip”")
	var list struct{ Data []map[string]any }
	srv.do("GET", "/api/v1/connections", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("%d connections stored, want 1", len(list.Data))
	}
	conn := list.Data[0]
	id := conn["id"].(string)
	if conn["hasSecretAccessKey"] != true || conn["region"] != "us-east-1" || conn["defaultPayload"] != alertPayload ||
		fmt.Sprint(conn["customHeaders"]) != "[map[name:X-Team value:secops]]" || conn["description"] != "Blocks an IP at the WAF" {
		t.Errorf("stored connection: %v", conn)
	}
	row := b.text(fmt.Sprintf(`#rows tr[data-id="%s"]`, id))
	host := strings.TrimPrefix(lambdaURL, "http://")
	for _, want := range []string{"block-suspicious-ip", "AWS Lambda", host, "none yet"} {
		if !strings.Contains(row, want) {
			t.Errorf("the row lacks %q: %s", want, row)
		}
	}

	// Edit: the secret is set, never shown; Test Recovery borrows it.
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Edit"]`, id))
	b.waitVisible("#editor")
	b.waitJS("the connection in the dialog", `document.querySelector('#f-name').value === 'block-suspicious-ip'`)
	if p := eval[string](b, `document.querySelector('#f-secretAccessKey').placeholder`); p != "set — leave empty to keep" {
		t.Errorf("the secret's placeholder is %q", p)
	}
	if v := b.value("#f-secretAccessKey"); v != "" {
		t.Errorf("the secret field holds %q", v)
	}
	if html := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, testSecret) {
		t.Error("the page holds the secret")
	}
	if got := b.value("#f-h0-value"); got != "secops" {
		t.Errorf("the custom header's value is %q", got)
	}
	b.click("#test-recovery")
	b.waitText("#test-result", "Test Recovery: 200 OK")
	reqs = dl.Requests()
	if len(reqs) != 2 || !reqs[1].Verified || !strings.Contains(string(reqs[1].Body), `"resolved": true`) {
		t.Fatalf("the endpoint received %d requests; the last: %+v", len(reqs), reqs[len(reqs)-1])
	}

	// An invalid payload shows its line and column as it is typed.
	b.fill("#f-defaultPayload", "{\"name\": \"{{Name}}\",\n \"count\": 1,}")
	b.waitText("#f-defaultPayload-err", "line 2, column 12")
	if got := eval[string](b, `document.querySelector('#f-defaultPayload').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("the invalid payload's aria-invalid is %q", got)
	}
	// A 400 on Save shows each problem next to its field.
	b.fill("#f-defaultPayload", alertPayload)
	b.fill("#f-name", "")
	b.fill("#f-region", "eu-west-2") // contradicts nothing: the URL names no region
	b.fill("#f-accessKeyId", "not a key")
	b.click("#save")
	b.waitText("#f-name-err", "Name is required")
	b.waitText("#f-accessKeyId-err", "Access Key ID has 9 characters")
	b.waitText("#editor-error", "Some fields need attention")
	if got := eval[string](b, `document.activeElement.id`); got != "f-name" {
		t.Errorf("after a refused save focus is on %q, want the first field with a problem", got)
	}
	// Escape closes the dialog without saving, and focus returns.
	b.do("press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitGone("#editor")
	b.waitPath("/ui/connections")
	var stored map[string]any
	srv.do("GET", "/api/v1/connections/"+id, nil, &stored)
	if stored["name"] != "block-suspicious-ip" || stored["region"] != "us-east-1" {
		t.Errorf("closing with Escape changed the connection: %v", stored)
	}

	// Delete asks first; Cancel keeps it, Delete removes it.
	deleteButton := fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Delete"]`, id)
	b.click(deleteButton)
	b.waitVisible("#confirm")
	b.waitText("#confirm-title", "Delete “block-suspicious-ip”?")
	if got := eval[string](b, `document.activeElement.id`); got != "confirm-cancel" {
		t.Errorf("the confirmation focuses %q, want Cancel", got)
	}
	b.click("#confirm-cancel")
	b.waitGone("#confirm")
	if code := srv.do("GET", "/api/v1/connections/"+id, nil, nil); code != http.StatusOK {
		t.Fatalf("Cancel deleted the connection: %d", code)
	}
	b.click(deleteButton)
	b.click("#confirm-delete")
	b.waitGone("#confirm")
	b.waitText("#status", "Deleted “block-suspicious-ip”")
	b.waitVisible("#list-empty")
	if code := srv.do("GET", "/api/v1/connections/"+id, nil, nil); code != http.StatusNotFound {
		t.Errorf("after Delete, GET answers %d", code)
	}
	t.Logf("browser scenario took %s", time.Since(start).Round(time.Millisecond))
}

// TestUITestErrors: what went wrong in a test is said in words: the
// target's refusal with its message, a port nobody listens on, and a field
// to fix before anything is sent.
func TestUITestErrors(t *testing.T) {
	srv := startServer(t)
	_, lambdaURL := startLambda(t, "lambda")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.click("#add-button")
	b.click(`#add-menu [data-type="AWSLambda"]`)
	b.waitVisible("#editor")
	b.typeText("#f-name", "lambda")
	b.typeText("#f-url", lambdaURL+"/")
	b.fill("#f-region", "us-east-1")
	b.fill("#f-serviceName", "lambda")
	b.typeText("#f-secretAccessKey", "wrongSecretKey/0000000000000000000000000")

	// Nothing is sent while a field is wrong.
	b.click("#test-alert")
	b.waitText("#test-result", "Test Alert was not sent: first fix the fields marked above.")
	b.waitText("#f-accessKeyId-err", "Access Key ID is required")

	b.typeText("#f-accessKeyId", testKeyID)
	b.click("#test-alert")
	b.waitText("#test-result", "Test Alert: 403 Forbidden")
	result := b.text("#test-result")
	for _, want := range []string{
		"The target refused the request. Check the Access Key ID, the Secret Access Key",
		"The target says: The request signature we calculated does not match",
	} {
		if !strings.Contains(result, want) {
			t.Errorf("the 403 result lacks %q:\n%s", want, result)
		}
	}

	b.fill("#f-url", closed)
	b.click("#test-recovery")
	b.waitText("#test-result", "Test Recovery: no answer")
	b.waitText("#test-result", "Nothing accepted the connection (connection refused)")
	if got := eval[string](b, `document.querySelector('#test-result').getAttribute('aria-live')`); got != "polite" {
		t.Errorf("the test result is not announced: aria-live %q", got)
	}
}

// TestUIKeyboard: the Add menu, the dialog and its focus trap work from
// the keyboard alone, and focus comes back to where it was.
func TestUIKeyboard(t *testing.T) {
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.waitVisible("#add-button")
	focused := func() string {
		t.Helper()
		return eval[string](b, `(() => { const el = document.activeElement; return el.id || el.dataset.type || el.getAttribute('aria-label') || el.tagName; })()`)
	}
	key := func(k string, opts ...chromedp.KeyOption) {
		t.Helper()
		b.do(fmt.Sprintf("press %q", k), chromedp.KeyEvent(k, opts...))
	}

	b.do("focus Add", chromedp.Focus(chromedp.CSS("#add-button")))
	key(kb.ArrowDown)
	if got := focused(); got != "AWSLambda" {
		t.Errorf("ArrowDown on Add focuses %q, want the first type", got)
	}
	key(kb.Escape)
	b.waitGone("#add-menu")
	if got := focused(); got != "add-button" {
		t.Errorf("Escape in the menu leaves focus on %q", got)
	}
	key(kb.Enter)
	b.waitVisible("#add-menu")
	key(kb.ArrowDown)
	if got := focused(); got != "Webhook" {
		t.Fatalf("the second item is %q, want Webhook", got)
	}
	key(kb.Enter)
	b.waitVisible("#editor")
	b.waitText("#editor-subtitle", "Webhook")
	if got := focused(); got != "f-name" {
		t.Errorf("the dialog opens with focus on %q", got)
	}
	if b.text("#type-fields") == "" || !strings.Contains(b.text("#type-fields"), "Authorization Header") {
		t.Errorf("the Webhook dialog's own fields: %q", b.text("#type-fields"))
	}
	// Tab from the last control goes round to the first, and back.
	b.do("focus Save", chromedp.Focus(chromedp.CSS("#save")))
	key(kb.Tab)
	if got := focused(); got != "Close" {
		t.Errorf("Tab from Save goes to %q, want the dialog's first control (Close)", got)
	}
	key(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	if got := focused(); got != "save" {
		t.Errorf("Shift+Tab from the first control goes to %q, want Save", got)
	}
	key(kb.Escape)
	b.waitGone("#editor")
	b.waitJS("focus back on Add", `document.activeElement.id === 'add-button'`)
}

// TestUIReadOnlyRole: a user who may view connections and deliveries but
// not manage them is offered no Add, Edit, Delete, Test or Retry, and sees
// a connection's settings read-only.
func TestUIReadOnlyRole(t *testing.T) {
	srv := startServer(t)
	_, lambdaURL := startLambda(t, "lambda")
	viewers := createRole(t, srv, "Viewers", hookline.ViewConnections, hookline.ViewAlerts)
	createUser(t, srv, "viewer@example.com", viewers)
	ok := lambdaConnection(t, srv, "lambda-ok", lambdaURL, testSecret)
	bad := lambdaConnection(t, srv, "lambda-wrong-secret", lambdaURL, "wrongSecretKey/0000000000000000000000000")
	ids := sendAlert(t, srv, "CPU high", hookline.TriggerCritical, ok, bad)
	if s := waitDelivery(t, srv, ids[1]); s != "failed" {
		t.Fatalf("the delivery with the wrong secret is %s, want failed", s)
	}
	waitDelivery(t, srv, ids[0])

	b := newBrowser(t, srv.url)
	b.signIn("viewer@example.com", uiPassword)
	b.waitText("#rows", "lambda-wrong-secret")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"] .last`, bad), "failed")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"] .last`, ok), "delivered")
	if n := eval[int](b, `[...document.querySelectorAll('main button')].filter((el) => el.getClientRects().length > 0 && /Add|Edit|Delete/.test(el.textContent)).length`); n != 0 {
		t.Errorf("%d Add/Edit/Delete buttons are offered to a viewer", n)
	}
	b.waitGone("#add-wrap")

	// The name opens the settings read-only: nothing to type, test or save.
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] a.conn-name`, ok))
	b.waitVisible("#editor")
	b.waitJS("the connection in the dialog", `document.querySelector('#f-name').value === 'lambda-ok'`)
	if n := eval[int](b, `[...document.querySelectorAll('#editor input, #editor textarea, #editor select')].filter((el) => !el.disabled).length`); n != 0 {
		t.Errorf("%d fields of the read-only dialog can be changed", n)
	}
	b.waitGone("#save")
	b.waitGone("#test-alert")
	b.do("press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitGone("#editor")

	// Deliveries: listed, but no Retry.
	b.click(`nav a[href="/ui/deliveries"]`)
	b.waitPath("/ui/deliveries")
	b.waitText("#rows", "lambda-wrong-secret")
	b.waitText("#rows", "403 Forbidden")
	if n := eval[int](b, `document.querySelectorAll('#rows button[aria-label^="Retry"]').length`); n != 0 {
		t.Errorf("%d Retry buttons are offered to a viewer", n)
	}
}

// TestUIDeliveries: the delivery log lists deliveries with their state and
// result, filters by outcome and connection, retries a failed one and draws
// the chart of outcomes over time.
func TestUIDeliveries(t *testing.T) {
	srv := startServer(t)
	dl, lambdaURL := startLambda(t, "lambda")
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	ok := lambdaConnection(t, srv, "lambda-ok", lambdaURL, testSecret)
	bad := lambdaConnection(t, srv, "lambda-wrong-secret", lambdaURL, "wrongSecretKey/0000000000000000000000000")
	ids := sendAlert(t, srv, "CPU high", hookline.TriggerCritical, ok, bad)
	waitDelivery(t, srv, ids[0])
	waitDelivery(t, srv, ids[1])

	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.click(`nav a[href="/ui/deliveries"]`)
	b.waitPath("/ui/deliveries")
	b.waitJS("two deliveries", `document.querySelectorAll('#rows tr[data-id]').length === 2`)
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"]`, ids[0]), "delivered")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"]`, ids[1]), "failed")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"]`, ids[1]), "403 Forbidden")

	// The chart: one delivered and one failed in the current hour.
	b.waitText("#chart-summary", "2 deliveries in the last 24 hours: 1 delivered, 0 pending, 1 failed, 0 dead")
	if n := eval[int](b, `document.querySelectorAll('#chart rect.seg.delivered').length`); n != 1 {
		t.Errorf("the chart has %d delivered bars, want 1", n)
	}
	if n := eval[int](b, `document.querySelectorAll('#chart rect.seg.failed').length`); n != 1 {
		t.Errorf("the chart has %d failed bars, want 1", n)
	}

	// Attempts of a delivery, with the target's answer.
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-controls]`, ids[1]))
	b.waitText("#detail-"+ids[1], "Attempt 1")
	b.waitText("#detail-"+ids[1], "signature we calculated does not match")

	// Filters: by outcome, then by connection; the address keeps them.
	b.fill("#filter-state", "failed")
	b.waitJS("only the failed delivery", `document.querySelectorAll('#rows tr[data-id]').length === 1`)
	b.waitText("#rows", "lambda-wrong-secret")
	if got := eval[string](b, `location.search`); got != "?state=failed" {
		t.Errorf("the address keeps the filter as %q", got)
	}
	b.fill("#filter-state", "")
	b.fill("#filter-connection", ok)
	b.waitJS("only the delivery of lambda-ok", `document.querySelectorAll('#rows tr[data-id]').length === 1`)
	b.waitText("#rows", "delivered")
	b.fill("#filter-connection", "")
	b.waitJS("both deliveries", `document.querySelectorAll('#rows tr[data-id]').length === 2`)

	// Retry: only the failed one offers it; it goes out again.
	if n := eval[int](b, `document.querySelectorAll('#rows button[aria-label^="Retry"]').length`); n != 1 {
		t.Fatalf("%d Retry buttons, want 1 (the failed delivery)\n%s", n, b.pageText())
	}
	before := len(dl.Requests())
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Retry"]`, ids[1]))
	b.waitText("#status", "is pending again")
	waitFor(t, 20*time.Second, "the retried request", func() bool { return len(dl.Requests()) > before })
	waitDelivery(t, srv, ids[1])
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"]`, ids[1]), "failed")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"] td[data-label="Attempts"]`, ids[1]), "2")
}

// TestUISignInAndOut: a wrong password is refused in words; signing out
// ends the session, after which the pages send the browser to sign in.
func TestUISignInAndOut(t *testing.T) {
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	b := newBrowser(t, srv.url)
	b.do("open the UI", chromedp.Navigate(srv.url+"/ui/deliveries?state=failed"))
	b.waitPath("/ui/login")
	b.typeText("#email", "ada@example.com")
	b.typeText("#password", "not the password at all")
	b.click("#signin-submit")
	b.waitText("#signin-error", "The email or password is wrong.")
	b.fill("#password", uiPassword)
	b.click("#signin-submit")
	// Back where the browser was going, filter and all.
	b.waitPath("/ui/deliveries")
	if got := eval[string](b, `location.search`); got != "?state=failed" {
		t.Errorf("after signing in the address is …%s", got)
	}
	b.waitText("#account-name", "ada")
	b.click("#sign-out")
	b.waitPath("/ui/login")
	b.do("open the connections", chromedp.Navigate(srv.url+"/ui/connections"))
	b.waitPath("/ui/login")
}

// screenshotPayload is laid out as a person would write it.
const screenshotPayload = `{
  "name": "{{Name}}",
  "type": "{{TriggerType}}",
  "time": "{{TriggerTime}}",
  "queryUrl": "{{QueryURL}}",
  "numResults": {{NumQueryResults}},
  "results": "{{ResultsJson}}"
}`

// TestUIScreenshots takes the screenshots docs/ui.md shows, and checks that
// the pages fit a phone's width (375 pixels) without scrolling sideways.
// With -screenshots it writes them to docs/screenshots/.
func TestUIScreenshots(t *testing.T) {
	srv := startServer(t)
	_, lambdaURL := startLambda(t, "lambda")
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message": "busy"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(busy.Close)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	var conn map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "AWSLambda", "name": "block-suspicious-ip", "description": "Blocks the client IPs at the WAF",
		"url": lambdaURL + "/", "region": "us-east-1", "serviceName": "lambda", "accessKeyId": testKeyID, "secretAccessKey": testSecret,
		"customHeaders":  []map[string]string{{"name": "X-Team", "value": "secops"}},
		"defaultPayload": screenshotPayload, "resolutionPayload": recoveryPayload,
	}, &conn); code != http.StatusOK {
		t.Fatalf("create connection: %d %v", code, conn)
	}
	ok := conn["id"].(string)
	bad := lambdaConnection(t, srv, "page-security-team", lambdaURL, "wrongSecretKey/0000000000000000000000000")
	var hook map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "Webhook", "name": "ops-chat", "description": "Posts to the operations channel", "url": busy.URL + "/hooks/ops",
		"defaultPayload": `{"text": "{{TriggerType}}: {{Name}}"}`,
	}, &hook); code != http.StatusOK {
		t.Fatalf("create webhook: %d %v", code, hook)
	}
	var last []string
	for i := range 6 {
		last = sendAlert(t, srv, fmt.Sprintf("Too many 401 responses #%d", i+1), hookline.TriggerCritical, ok, bad)
	}
	waitDelivery(t, srv, last[0])
	waitDelivery(t, srv, last[1])
	sendAlert(t, srv, "Queue backlog", hookline.TriggerWarning, hook["id"].(string))

	dir := filepath.Join("..", "..", "docs", "screenshots")
	if !*writeScreenshots {
		dir = t.TempDir()
	}
	write := func(name string, shot []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), recompress(t, shot), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fitsPhone := func(b *browser, what string) {
		t.Helper()
		if w := eval[int](b, `document.documentElement.scrollWidth`); w > 375 {
			t.Errorf("%s is %d pixels wide at a phone's 375", what, w)
		}
	}

	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.do("desktop size", chromedp.EmulateViewport(1200, 800))
	b.waitText("#rows", "ops-chat")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"] .last`, ok), "delivered")
	write("connections.png", b.screenshot())

	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Edit"]`, ok))
	b.waitJS("the connection in the dialog", `document.querySelector('#f-name').value === 'block-suspicious-ip'`)
	b.waitText("#f-defaultPayload-check", "Valid JSON template")
	b.click("#test-alert")
	b.waitText("#test-result", "200 OK")
	b.do("show the result", chromedp.Evaluate[chromedp.Void](`document.querySelector('#test-section').scrollIntoView({block: 'end'})`))
	write("dialog-test-result.png", b.screenshot())
	b.do("show the type's fields", chromedp.Evaluate[chromedp.Void](`document.querySelector('#type-fields').scrollIntoView({block: 'start'})`))
	write("dialog.png", b.screenshot())
	b.do("show the payload editors", chromedp.Evaluate[chromedp.Void](`document.querySelector('.payloads').scrollIntoView({block: 'start'})`))
	write("dialog-payload.png", b.screenshot())
	b.do("press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitGone("#editor")

	b.click(`nav a[href="/ui/deliveries"]`)
	b.waitPath("/ui/deliveries")
	b.waitText("#chart-summary", "failed")
	b.waitText("#rows", "ops-chat")
	write("deliveries.png", b.screenshot())

	b.do("phone size", chromedp.EmulateViewport(375, 760, chromedp.EmulateScale(1), chromedp.EmulateMobile))
	b.do("reload", chromedp.Navigate(srv.url+"/ui/deliveries"))
	b.waitText("#rows", "ops-chat")
	b.waitText("#chart-summary", "failed")
	fitsPhone(b, "the deliveries page")
	b.do("connections", chromedp.Navigate(srv.url+"/ui/connections"))
	b.waitText("#rows", "ops-chat")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"] .last`, ok), "delivered")
	fitsPhone(b, "the connections page")
	write("connections-phone.png", b.screenshot())
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Edit"]`, ok))
	b.waitJS("the connection in the dialog", `document.querySelector('#f-name').value === 'block-suspicious-ip'`)
	if w := eval[int](b, `document.querySelector('#editor').scrollWidth`); w > 375 {
		t.Errorf("the dialog is %d pixels wide at a phone's 375", w)
	}
}

// recompress makes a screenshot small enough to keep in the repository:
// the 256 colours it uses most (a page has few; the rest are edges of
// letters, which take the nearest), at the best compression.
func recompress(t *testing.T, shot []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	b := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	common := make([]color.RGBA, 0, len(counts))
	for c := range counts {
		common = append(common, c)
	}
	slices.SortFunc(common, func(a, b color.RGBA) int { return counts[b] - counts[a] })
	if len(common) > 256 {
		common = common[:256]
	}
	pal := make(color.Palette, len(common))
	for i, c := range common {
		pal[i] = c
	}
	out := image.NewPaletted(b, pal)
	nearest := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := nearest[c]
			if !ok {
				i = uint8(pal.Index(c))
				nearest[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
