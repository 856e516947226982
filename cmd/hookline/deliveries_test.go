package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/devlambda"
)

// apiRequest is a request the fake API received.
type apiRequest struct {
	method, path string
	query        url.Values
	body         string
}

// fakeAPI answers "METHOD /path" with canned JSON ("" for the path alone
// matches any query) and records each request; any other route fails the
// test. It stands in for the server where only the CLI is under test.
type fakeAPI struct {
	t      *testing.T
	url    string
	mu     sync.Mutex
	routes map[string]fakeAnswer
	seen   []apiRequest
}

type fakeAnswer struct {
	status int
	body   string
}

func newFakeAPI(t *testing.T, routes map[string]fakeAnswer) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, routes: routes}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seen = append(f.seen, apiRequest{r.Method, r.URL.Path, r.URL.Query(), string(body)})
		a, ok := f.routes[r.Method+" "+r.URL.Path]
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+cliToken {
			a, ok = fakeAnswer{401, `{"status":401,"code":"unauthorized","message":"the admin token is missing or wrong"}`}, true
		}
		if !ok {
			t.Errorf("fake API: unexpected %s %s", r.Method, r.URL)
			a = fakeAnswer{404, `{"status":404,"code":"not_found","message":"no such route"}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeAPI) requests() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.seen...)
}

// run runs hookline with the fake's URL and the token after the command
// group (args[0]).
func (f *fakeAPI) run(stdin string, args ...string) cliResult {
	f.t.Helper()
	full := append([]string{args[0], "--server", f.url, "--token", cliToken}, args[1:]...)
	return runCLI(f.t, stdin, full...)
}

// fakeConnections is GET /api/v1/connections with two connections.
const fakeConnections = `{"data": [
	{"id": "C0000000000000A1", "name": "block-ip", "webhookType": "AWSLambda", "url": "https://a.lambda-url.us-east-1.on.aws/"},
	{"id": "C0000000000000B2", "name": "Team Chat", "webhookType": "Webhook", "url": "https://chat.example.com/"}], "next": null}`

var (
	goldenT0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	goldenT1 = goldenT0.Add(10 * time.Second)
	goldenT2 = goldenT0.Add(70 * time.Second)
)

var goldenNames = map[string]string{"C0000000000000A1": "block-ip", "C0000000000000B2": "Team Chat"}

func goldenDeliveries() []client.Delivery {
	return []client.Delivery{
		{ID: "D0000000000000003", AlertID: "A1", ConnectionID: "C0000000000000A1", TriggerType: "Critical", State: "pending",
			Attempts: 1, NextAttemptAt: goldenT2, CreatedAt: goldenT0, UpdatedAt: goldenT1, LastStatus: 503, LastError: "503 Service Unavailable"},
		{ID: "D0000000000000002", AlertID: "A1", ConnectionID: "C0000000000000B2", TriggerType: "Critical", State: "delivered",
			Attempts: 1, CreatedAt: goldenT0, UpdatedAt: goldenT0, LastStatus: 200},
		{ID: "D0000000000000001", AlertID: "A0", ConnectionID: "C00000000000DEAD", TriggerType: "ResolvedCritical", State: "dead",
			Attempts: 10, CreatedAt: goldenT0, UpdatedAt: goldenT2, LastError: "dial tcp 127.0.0.1:9: connection refused"},
		{ID: "D0000000000000000", AlertID: "A0", ConnectionID: "C0000000000000A1", TriggerType: "Warning", State: "pending",
			CreatedAt: goldenT0, UpdatedAt: goldenT0, NextAttemptAt: goldenT0},
	}
}

func goldenDetails() client.DeliveryDetails {
	return client.DeliveryDetails{
		Delivery: client.Delivery{ID: "D0000000000000001", AlertID: "A0", ConnectionID: "C0000000000000A1", TriggerType: "Critical",
			State: "failed", Attempts: 3, CreatedAt: goldenT0, UpdatedAt: goldenT2, LastStatus: 403,
			LastError: "403 Forbidden: the target refused the request"},
		Log: []client.DeliveryAttempt{
			{N: 1, StartedAt: goldenT0, LatencyMs: 15000.2, Error: "no answer within 15s (timeout)", RetryAt: goldenT1},
			{N: 2, StartedAt: goldenT1, LatencyMs: 3.456, StatusCode: 503, Response: "upstream\tbusy\nretry later", RetryAt: goldenT2},
			{N: 3, StartedAt: goldenT2, LatencyMs: 12.5, StatusCode: 403,
				Response: `{"Message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}`},
		},
	}
}

func TestDeliveriesOutputGolden(t *testing.T) {
	t.Parallel()
	pending := client.DeliveryDetails{Delivery: goldenDeliveries()[3]}
	tests := []struct {
		file  string
		print func(w io.Writer) error
	}{
		{"list.golden", func(w io.Writer) error { return printDeliveryTable(w, goldenDeliveries(), goldenNames) }},
		{"list-without-names.golden", func(w io.Writer) error { return printDeliveryTable(w, goldenDeliveries(), nil) }},
		{"details.golden", func(w io.Writer) error { return printDeliveryDetails(w, goldenDetails(), goldenNames) }},
		{"details-no-attempts.golden", func(w io.Writer) error { return printDeliveryDetails(w, pending, nil) }},
		{"details.json.golden", func(w io.Writer) error { return printObject(w, outputJSON, goldenDetails()) }},
		{"details.yaml.golden", func(w io.Writer) error { return printObject(w, outputYAML, goldenDetails()) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.print(&b); err != nil {
				t.Fatal(err)
			}
			goldenIn(t, "deliveries", tt.file, b.String())
		})
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"1h", now.Add(-time.Hour), false},
		{" 90m ", now.Add(-90 * time.Minute), false},
		{"2d", now.Add(-48 * time.Hour), false},
		{"1.5d", now.Add(-36 * time.Hour), false},
		{"2026-11-25T08:00:00Z", time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), false},
		{"2026-11-25T08:00:00.25+01:00", time.Date(2026, 11, 25, 7, 0, 0, 250e6, time.UTC), false},
		{"-1h", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"d", time.Time{}, true},
		{"2026-11-25", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseSince("--since", tt.in, now)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseSince(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "--since") {
			t.Errorf("error %q does not name the flag", err)
		}
		if !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func deliveriesJSON(t *testing.T, list []client.Delivery, next string) string {
	t.Helper()
	page := map[string]any{"data": list, "next": nil}
	if next != "" {
		page["next"] = next
	}
	b, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeliveriesListCLI(t *testing.T) {
	t.Parallel()
	all := goldenDeliveries()
	tests := []struct {
		name       string
		args       []string
		page       string
		wantQuery  url.Values
		wantOut    []string // in stdout
		wantErrOut string   // in stderr
		noConns    bool     // the connections are not listed
	}{
		{
			name:      "no filters",
			args:      []string{"list"},
			page:      deliveriesJSON(t, all, ""),
			wantQuery: url.Values{},
			wantOut:   []string{"ID                  CONNECTION         TRIGGER", "D0000000000000002   Team Chat          Critical           delivered   1          200"},
		},
		{
			name:      "a connection by name, any case",
			args:      []string{"list", "--connection", "team chat", "--state", "failed", "--limit", "2"},
			page:      deliveriesJSON(t, all[:2], "next-page"),
			wantQuery: url.Values{"connectionId": {"C0000000000000B2"}, "state": {"failed"}, "limit": {"2"}},
			wantOut:   []string{"D0000000000000003"}, wantErrOut: "More deliveries match: --all lists every one.",
		},
		{
			name:      "a deleted connection by ID",
			args:      []string{"list", "--connection", "C00000000000DEAD", "--alert", "A0", "--until", "2026-11-27T00:00:00Z"},
			page:      deliveriesJSON(t, all[2:3], ""),
			wantQuery: url.Values{"connectionId": {"C00000000000DEAD"}, "alertId": {"A0"}, "until": {"2026-11-27T00:00:00Z"}},
			wantOut:   []string{"D0000000000000001   C00000000000DEAD   ResolvedCritical   dead    10         error"}, wantErrOut: `Warning: no connection has the ID or name "C00000000000DEAD"`,
		},
		{
			name:      "none match",
			args:      []string{"list", "--state", "dead"},
			page:      deliveriesJSON(t, nil, ""),
			wantQuery: url.Values{"state": {"dead"}},
			noConns:   true, wantErrOut: "No deliveries match.",
		},
		{
			name:      "JSON",
			args:      []string{"list", "-o", "json"},
			page:      deliveriesJSON(t, nil, ""),
			wantQuery: url.Values{}, wantOut: []string{"[]\n"}, noConns: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, map[string]fakeAnswer{
				"GET /api/v1/connections": {200, fakeConnections},
				"GET /api/v1/deliveries":  {200, tt.page},
			})
			r := mustSucceed(t, api.run("", append([]string{"deliveries"}, tt.args...)...))
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.wantErrOut) {
				t.Errorf("stderr = %q, want %q", r.stderr, tt.wantErrOut)
			}
			var got url.Values
			conns := 0
			for _, req := range api.requests() {
				switch req.path {
				case "/api/v1/deliveries":
					got = req.query
				case "/api/v1/connections":
					conns++
				}
			}
			if diff := cmp.Diff(tt.wantQuery, got); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if want := map[bool]int{true: 0, false: 1}[tt.noConns]; conns != want {
				t.Errorf("listed connections %d times, want %d", conns, want)
			}
		})
	}
}

func TestDeliveriesListSinceAge(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, map[string]fakeAnswer{"GET /api/v1/deliveries": {200, deliveriesJSON(t, nil, "")}})
	before := time.Now()
	mustSucceed(t, api.run("", "deliveries", "list", "--since", "1h"))
	after := time.Now()
	since, err := time.Parse(time.RFC3339Nano, api.requests()[0].query.Get("since"))
	if err != nil {
		t.Fatal(err)
	}
	if since.Before(before.Add(-time.Hour)) || since.After(after.Add(-time.Hour)) {
		t.Errorf("since = %v, want an hour before %v", since, before)
	}
}

func TestDeliveriesListAll(t *testing.T) {
	t.Parallel()
	all := goldenDeliveries()
	// The fake answers the same page twice; --all must stop rather than loop.
	api := newFakeAPI(t, map[string]fakeAnswer{
		"GET /api/v1/connections": {200, fakeConnections},
		"GET /api/v1/deliveries":  {200, deliveriesJSON(t, all[:1], "t1")},
	})
	r := api.run("", "deliveries", "list", "--all")
	if r.code != 1 || !strings.Contains(r.stderr, `page token "t1" twice`) {
		t.Errorf("--all over a looping server: %+v", r)
	}
	if n := len(api.requests()); n > 4 {
		t.Errorf("%d requests", n)
	}
}

func TestDeliveriesGetCLI(t *testing.T) {
	t.Parallel()
	details, err := json.Marshal(goldenDetails())
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t, map[string]fakeAnswer{
		"GET /api/v1/connections":                  {200, fakeConnections},
		"GET /api/v1/deliveries/D0000000000000001": {200, string(details)},
		"GET /api/v1/deliveries/D00000000000000FF": {404, `{"status":404,"code":"not_found","message":"delivery D00000000000000FF not found"}`},
	})
	r := mustSucceed(t, api.run("", "deliveries", "get", "D0000000000000001"))
	var want bytes.Buffer
	if err := printDeliveryDetails(&want, goldenDetails(), goldenNames); err != nil {
		t.Fatal(err)
	}
	if r.stdout != want.String() {
		t.Errorf("get = %q, want %q", r.stdout, want.String())
	}

	r = mustSucceed(t, api.run("", "deliveries", "get", "D0000000000000001", "-o", "json"))
	var got client.DeliveryDetails
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(goldenDetails(), got); diff != "" {
		t.Errorf("get -o json (-want +got):\n%s", diff)
	}

	r = api.run("", "deliveries", "get", "D00000000000000FF")
	if r.code != 1 || !strings.Contains(r.stderr, "Error: get delivery: 404 not_found: delivery D00000000000000FF not found") {
		t.Errorf("unknown ID: %+v", r)
	}
}

func TestDeliveriesRetryCLI(t *testing.T) {
	t.Parallel()
	replayed := `{"id": "D1", "alertId": "A1", "connectionId": "C0000000000000A1", "triggerType": "Critical", "state": "pending",
		"attempts": 10, "nextAttemptAt": "2026-11-26T12:00:00Z", "createdAt": "2026-11-25T12:00:00Z", "updatedAt": "2026-11-26T12:00:00Z",
		"lastStatus": 500, "lastError": "500 Internal Server Error"}`
	api := newFakeAPI(t, map[string]fakeAnswer{
		"POST /api/v1/deliveries/D1/retry": {202, replayed},
		"POST /api/v1/deliveries/D2/retry": {409, `{"status":409,"code":"conflict","message":"delivery D2 is still pending"}`},
	})
	r := api.run("", "deliveries", "retry", "D1", "D2")
	if r.code != 1 {
		t.Errorf("exit status %d, want 1", r.code)
	}
	want := "ID   STATE     ATTEMPTS   LAST STATUS   NEXT ATTEMPT\nD1   pending   10         500           2026-11-26T12:00:00Z\n"
	if r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "Error: retry delivery D2: 409 conflict: delivery D2 is still pending") {
		t.Errorf("stderr = %q", r.stderr)
	}

	r = mustSucceed(t, api.run("", "deliveries", "retry", "D1", "-o", "yaml"))
	if !strings.HasPrefix(r.stdout, "- alertId: A1\n") || !strings.Contains(r.stdout, "  state: pending\n") {
		t.Errorf("retry -o yaml = %q", r.stdout)
	}
	if r = api.run("", "deliveries", "retry"); r.code != 1 || !strings.Contains(r.stderr, "requires at least 1 arg") {
		t.Errorf("retry without IDs: %+v", r)
	}
}

// TestDeliveriesErrors covers what is refused before any request.
func TestDeliveriesErrors(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, map[string]fakeAnswer{})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "--state", "lost"}, `--state must be one of pending, delivered, failed, dead, not "lost"`},
		{[]string{"list", "--since", "last week"}, `--since "last week": want an RFC 3339 time`},
		{[]string{"list", "--limit", "5000"}, "--limit must be from 1 to 1000"},
		{[]string{"list", "-o", "xml"}, "-o/--output must be table, json or yaml"},
		{[]string{"retry", "D1", "--wait", "-1s"}, "--wait must not be negative"},
	} {
		r := api.run("", append([]string{"deliveries"}, tt.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: %+v, want %q", tt.args, r, tt.want)
		}
	}
	if n := len(api.requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

// TestDeliveriesEndToEnd walks a user's session against the real server
// and a SigV4-checking target: an alert sent to a good and a misconfigured
// connection, delivered and failed; the log shows both with their
// attempts; after the secret is fixed, a replay delivers the failed one
// under the same Idempotency-Key.
func TestDeliveriesEndToEnd(t *testing.T) {
	t.Parallel()
	server := cliServer(t)
	target := devlambda.New(devlambda.Config{
		Keys:    map[string]string{cliKeyID: cliSecret},
		Respond: func(devlambda.Request) (int, []byte) { return http.StatusOK, []byte(`{"ok":true}`) },
	})
	ts := httptest.NewServer(target)
	t.Cleanup(ts.Close)
	run := func(args ...string) cliResult {
		t.Helper()
		return runCLI(t, "", append([]string{args[0], "--server", server, "--token", cliToken}, args[1:]...)...)
	}
	create := func(name, secret string) string {
		t.Helper()
		r := mustSucceed(t, run("connections", "create", "-o", "json", "--type", "AWSLambda", "--name", name, "--url", ts.URL+"/",
			"--access-key-id", cliKeyID, "--secret-access-key", secret, "--region", "us-east-1", "--service-name", "lambda",
			"--alert-payload", `{"name": "{{Name}}", "type": "{{TriggerType}}", "ip": "{{ResultsJson.client_ip}}", "playbook": "{{Playbook}}"}`))
		return decodeConn(t, r.stdout).ID
	}
	goodID := create("good lambda", cliSecret)
	badID := create("bad lambda", cliWrongSecret)

	// Sent to both, by name and by ID: one delivered, one refused for good.
	r := run("alerts", "send", "--connection", "good lambda", "--connection", badID, "--name", "Suspicious IP",
		"--trigger", "Critical", "--result-json", `{"client_ip": "203.0.113.7"}`, "--var", "Playbook=block it",
		"--idempotency-key", "e2e-1", "--wait", "20s")
	if r.code != 1 {
		t.Fatalf("send: exit status %d, want 1 (one delivery failed)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rows := tableRows(r.stdout)
	if len(rows) != 4 || !strings.HasPrefix(rows[0][0], "Alert ") {
		t.Fatalf("send printed:\n%s", r.stdout)
	}
	alertID := strings.TrimPrefix(rows[0][0], "Alert ")
	byConn := map[string][]string{}
	for _, row := range rows[2:] {
		byConn[row[1]] = row
	}
	good, bad := byConn["good lambda"], byConn["bad lambda"]
	if len(good) != 5 || good[2] != "delivered" || good[4] != "200" || len(bad) != 5 || bad[2] != "failed" || bad[4] != "403" {
		t.Fatalf("send table:\n%s", r.stdout)
	}
	goodDelivery, badDelivery := good[0], bad[0]
	if !strings.Contains(r.stderr, "Delivery "+badDelivery+" is failed: ") {
		t.Errorf("stderr = %q", r.stderr)
	}

	reqs := target.Requests()
	if len(reqs) != 2 {
		t.Fatalf("target received %d requests, want 2", len(reqs))
	}
	for _, req := range reqs {
		switch key := req.Header.Get("Idempotency-Key"); {
		case req.Verified && key == goodDelivery:
			var body map[string]any
			if err := json.Unmarshal(req.Body, &body); err != nil {
				t.Fatalf("body %q: %v", req.Body, err)
			}
			if want := map[string]any{"name": "Suspicious IP", "type": "Critical", "ip": "203.0.113.7", "playbook": "block it"}; !cmp.Equal(want, body) {
				t.Errorf("delivered body = %v, want %v", body, want)
			}
		case !req.Verified && key == badDelivery && req.Status == http.StatusForbidden:
		default:
			t.Errorf("unexpected request: verified=%v status=%d Idempotency-Key=%q", req.Verified, req.Status, key)
		}
	}

	t.Run("list", func(t *testing.T) {
		r := mustSucceed(t, run("deliveries", "list", "--alert", alertID))
		rows := tableRows(r.stdout)
		if len(rows) != 3 || !cmp.Equal(rows[0], []string{"ID", "CONNECTION", "TRIGGER", "STATE", "ATTEMPTS", "LAST STATUS", "UPDATED"}) {
			t.Fatalf("list:\n%s", r.stdout)
		}
		states := map[string]string{}
		for _, row := range rows[1:] {
			states[row[0]] = strings.Join(row[1:6], " ")
		}
		want := map[string]string{goodDelivery: "good lambda Critical delivered 1 200", badDelivery: "bad lambda Critical failed 1 403"}
		if diff := cmp.Diff(want, states); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}

		r = mustSucceed(t, run("deliveries", "list", "--connection", "BAD LAMBDA", "--state", "failed", "--since", "1h", "-o", "json"))
		var list []client.Delivery
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].ID != badDelivery || list[0].ConnectionID != badID {
			t.Errorf("list --connection --state -o json = %s (%v)", r.stdout, err)
		}
		r = mustSucceed(t, run("deliveries", "list", "--connection", goodID, "--state", "failed"))
		if r.stdout != "" || !strings.Contains(r.stderr, "No deliveries match.") {
			t.Errorf("no failed deliveries to the good connection: %+v", r)
		}
		r = mustSucceed(t, run("deliveries", "list", "--since", "2099-01-01T00:00:00Z"))
		if r.stdout != "" {
			t.Errorf("nothing is created after 2099: %q", r.stdout)
		}
	})

	t.Run("get", func(t *testing.T) {
		r := mustSucceed(t, run("deliveries", "get", badDelivery))
		for _, want := range []string{"State:        failed\n", "Connection:   bad lambda (" + badID + ")\n", "Alert:        " + alertID + "\n",
			"\nAttempts:\nN   STARTED", "   403      ", `{"Message":"The request signature we calculated`} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("get lacks %q:\n%s", want, r.stdout)
			}
		}
		r = mustSucceed(t, run("alerts", "get", alertID))
		for _, want := range []string{"Name:             Suspicious IP\n", "Idempotency key:  e2e-1\n", "Variables:        Playbook=block it\n",
			`{"client_ip":"203.0.113.7"}`, "\nDeliveries:\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("alerts get lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		r := mustSucceed(t, run("alerts", "send", "--connection", "good lambda", "--connection", badID, "--name", "Suspicious IP",
			"--trigger", "Critical", "--idempotency-key", "e2e-1", "-o", "json"))
		var res client.AcceptResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Alerts) != 1 || !res.Alerts[0].Duplicate || res.Alerts[0].ID != alertID {
			t.Errorf("resend = %s (%v), want the first alert marked duplicate", r.stdout, err)
		}
	})

	t.Run("retry after fixing the secret", func(t *testing.T) {
		mustSucceed(t, run("connections", "update", badID, "--secret-access-key", cliSecret))
		r := mustSucceed(t, run("deliveries", "retry", badDelivery, "--wait", "20s"))
		rows := tableRows(r.stdout)
		if len(rows) != 2 || rows[1][0] != badDelivery || rows[1][1] != "delivered" || rows[1][2] != "2" || rows[1][3] != "200" {
			t.Errorf("retry --wait:\n%s\n%s", r.stdout, r.stderr)
		}
		r = mustSucceed(t, run("deliveries", "get", badDelivery, "-o", "json"))
		var d client.DeliveryDetails
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
			t.Fatal(err)
		}
		if d.State != client.StateDelivered || len(d.Log) != 2 || d.Log[0].StatusCode != 403 || d.Log[1].StatusCode != 200 || d.Log[1].N != 2 {
			t.Errorf("after the replay: %s", r.stdout)
		}
		var replays int
		for _, req := range target.Requests() {
			if req.Verified && req.Header.Get("Idempotency-Key") == badDelivery {
				replays++
			}
		}
		if replays != 1 {
			t.Errorf("the target got %d verified requests with the failed delivery's Idempotency-Key, want 1", replays)
		}
		if n := len(target.Requests()); n != 3 {
			t.Errorf("the target got %d requests in all, want 3 (the duplicate sent nothing)", n)
		}
	})

	t.Run("retry unknown", func(t *testing.T) {
		r := run("deliveries", "retry", "NO-SUCH-DELIVERY")
		if r.code != 1 || !strings.Contains(r.stderr, "Error: retry delivery NO-SUCH-DELIVERY: 404 not_found") {
			t.Errorf("retry of an unknown ID: %+v", r)
		}
	})
}
