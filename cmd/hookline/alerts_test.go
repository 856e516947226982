package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/client"
)

const fakeAccepted = `{"alerts": [{"id": "A0000000000000001", "duplicate": false, "deliveries": [
	{"id": "D0000000000000001", "connectionId": "C0000000000000A1", "state": "pending"},
	{"id": "D0000000000000002", "connectionId": "C0000000000000B2", "state": "pending"}]}]}`

// sentAlerts decodes the body of the one POST /alerts the fake received.
func sentAlerts(t *testing.T, api *fakeAPI) []map[string]any {
	t.Helper()
	var body struct {
		Alerts []map[string]any `json:"alerts"`
	}
	n := 0
	for _, r := range api.requests() {
		if r.method == "POST" && r.path == "/api/v1/alerts" {
			n++
			dec := json.NewDecoder(strings.NewReader(r.body))
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d POST /alerts, want 1", n)
	}
	return body.Alerts
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAlertsSendCLI(t *testing.T) {
	t.Parallel()
	yamlFile := writeFile(t, "alert.yaml", `
name: from a file
triggerType: Warning
description: the file's
triggerTime: "2026-11-26T12:00:00Z"
results:
  - client_ip: 203.0.113.7
    _count: 12345678901234567890
variables:
  Playbook: from the file
notifications:
  - connectionName: Team Chat
    payloadOverride:
      text: "{{Name}}"
`)
	batchFile := writeFile(t, "batch.json", `{"alerts": [
		{"name": "one", "triggerType": "Critical", "idempotencyKey": "k1"},
		{"name": "two", "triggerType": "ResolvedCritical", "notifications": [{"connectionId": "C0000000000000B2", "resolutionPayloadOverride": "{}"}]}]}`)

	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string // the alerts sent, as JSON
	}{
		{
			name: "flags",
			args: []string{"--connection", "block-ip", "--connection", "C0000000000000B2", "--name", "Suspicious IP",
				"--trigger", "Critical", "--description", "too many logins",
				"--result-json", `{"client_ip": "203.0.113.7", "_count": 1542}`, "--result-json", `{"client_ip": "198.51.100.23"}`,
				"--var", "Playbook=block=it", "--var", "RoutingKey=", "--idempotency-key", "k-1", "--source", "cli"},
			want: `[{"name": "Suspicious IP", "triggerType": "Critical", "description": "too many logins",
				"results": [{"client_ip": "203.0.113.7", "_count": 1542}, {"client_ip": "198.51.100.23"}],
				"variables": {"Playbook": "block=it", "RoutingKey": ""}, "idempotencyKey": "k-1", "source": "cli",
				"notifications": [{"connectionId": "C0000000000000A1"}, {"connectionId": "C0000000000000B2"}]}]`,
		},
		{
			name: "a YAML file, flags override and add",
			args: []string{"-f", yamlFile, "--name", "overridden", "--var", "Extra=1", "--connection", "BLOCK-IP"},
			want: `[{"name": "overridden", "triggerType": "Warning", "description": "the file's", "triggerTime": "2026-11-26T12:00:00Z",
				"results": [{"client_ip": "203.0.113.7", "_count": 12345678901234567890}],
				"variables": {"Playbook": "from the file", "Extra": "1"},
				"notifications": [{"connectionName": "Team Chat", "payloadOverride": "{\"text\":\"{{Name}}\"}"}, {"connectionId": "C0000000000000A1"}]}]`,
		},
		{
			name: "a batch from standard input",
			args: []string{"-f", "-", "--connection", "block-ip"}, stdin: "- {name: one, triggerType: Critical}\n- {name: two, triggerType: Warning}\n",
			want: `[{"name": "one", "triggerType": "Critical", "notifications": [{"connectionId": "C0000000000000A1"}]},
				{"name": "two", "triggerType": "Warning", "notifications": [{"connectionId": "C0000000000000A1"}]}]`,
		},
		{
			name: "a batch file",
			args: []string{"-f", batchFile, "--connection", "block-ip"},
			want: `[{"name": "one", "triggerType": "Critical", "idempotencyKey": "k1", "notifications": [{"connectionId": "C0000000000000A1"}]},
				{"name": "two", "triggerType": "ResolvedCritical", "notifications": [{"connectionId": "C0000000000000B2", "resolutionPayloadOverride": "{}"}, {"connectionId": "C0000000000000A1"}]}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, map[string]fakeAnswer{
				"GET /api/v1/connections": {200, fakeConnections},
				"POST /api/v1/alerts":     {202, fakeAccepted},
			})
			r := mustSucceed(t, api.run(tt.stdin, append([]string{"alerts", "send"}, tt.args...)...))
			var want []map[string]any
			dec := json.NewDecoder(strings.NewReader(tt.want))
			dec.UseNumber()
			if err := dec.Decode(&want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, sentAlerts(t, api)); diff != "" {
				t.Errorf("alerts sent (-want +got):\n%s", diff)
			}
			wantOut := "Alert A0000000000000001\n" +
				"DELIVERY            CONNECTION   STATE\n" +
				"D0000000000000001   block-ip     pending\n" +
				"D0000000000000002   Team Chat    pending\n"
			if r.stdout != wantOut {
				t.Errorf("stdout = %q, want %q", r.stdout, wantOut)
			}
		})
	}
}

func TestAlertsSendOutput(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, map[string]fakeAnswer{
		"GET /api/v1/connections": {200, fakeConnections},
		"POST /api/v1/alerts":     {202, fakeAccepted},
	})
	r := mustSucceed(t, api.run("", "alerts", "send", "--connection", "block-ip", "--name", "n", "--trigger", "Critical", "-o", "json"))
	var got client.AcceptResult
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Alerts) != 1 || len(got.Alerts[0].Deliveries) != 2 {
		t.Errorf("-o json = %s (%v)", r.stdout, err)
	}
}

// TestAlertsSendErrors covers mistakes found before sending and the
// server's refusals, shown under the flags that set the fields.
func TestAlertsSendErrors(t *testing.T) {
	t.Parallel()
	refusal := `{"status":400,"code":"invalid","message":"invalid input","errors":[
		{"code":"invalid","field":"alerts[0].triggerType","message":"must be one of Critical, Warning, MissingData, ResolvedCritical, ResolvedWarning, ResolvedMissingData or Normal, not \"Bad\""},
		{"code":"invalid","field":"alerts[0].notifications[0].payloadOverride","message":"line 1, column 2: bad"},
		{"code":"invalid","field":"alerts[0].timeZone","message":"is not an IANA time zone"}]}`
	batchRefusal := `{"status":400,"code":"invalid","message":"invalid input","errors":[{"code":"invalid","field":"alerts[1].name","message":"is required"}]}`
	twoAlerts := writeFile(t, "two.yaml", "- {name: a, triggerType: Critical}\n- {triggerType: Critical}\n")
	typo := writeFile(t, "typo.yaml", "name: x\ntrigerType: Critical\n")
	badTime := writeFile(t, "time.json", `{"name": "x", "triggerTime": 5}`)

	tests := []struct {
		name   string
		answer string // the server's answer to POST /alerts, "" for none expected
		args   []string
		want   []string
	}{
		{
			name:   "the server's field errors under their flags",
			answer: refusal,
			args:   []string{"--connection", "block-ip", "--name", "x", "--trigger", "Bad"},
			want: []string{
				"Error: send alert: 400 invalid:\n",
				"\n  triggerType (--trigger): must be one of Critical,",
				"\n  notifications[0].payloadOverride (--connection): line 1, column 2: bad",
				"\n  timeZone: is not an IANA time zone",
			},
		},
		{
			name:   "a batch keeps the alerts' indexes",
			answer: batchRefusal,
			args:   []string{"-f", twoAlerts, "--connection", "block-ip"},
			want:   []string{"\n  alerts[1].name: is required"},
		},
		{name: "unknown connection", args: []string{"--connection", "nope", "--name", "x", "--trigger", "Critical"},
			want: []string{`--connection "nope": no connection has this ID or name; see "hookline connections list"`}},
		{name: "no connection", args: []string{"--name", "x", "--trigger", "Critical"}, want: []string{"no connection to notify: give --connection"}},
		{name: "a row that is not an object", args: []string{"--connection", "block-ip", "--result-json", `{"a": 1}`, "--result-json", "[1]"},
			want: []string{`--result-json #2 "[1]": want one JSON object`}},
		{name: "a variable without =", args: []string{"--var", "Playbook"}, want: []string{`--var "Playbook": want NAME=VALUE`}},
		{name: "a field flag with a batch", args: []string{"-f", twoAlerts, "--name", "x"}, want: []string{"--name sets a field of one alert, but " + twoAlerts + " holds 2"}},
		{name: "a misspelt field in the file", args: []string{"-f", typo}, want: []string{typo + `: unknown field "trigerType"`}},
		{name: "a time that is a number", args: []string{"-f", badTime}, want: []string{badTime + ": triggerTime: must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not 5"}},
		{name: "wait negative", args: []string{"--wait", "-2s"}, want: []string{"--wait must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			routes := map[string]fakeAnswer{"GET /api/v1/connections": {200, fakeConnections}}
			if tt.answer != "" {
				routes["POST /api/v1/alerts"] = fakeAnswer{400, tt.answer}
			}
			api := newFakeAPI(t, routes)
			r := api.run("", append([]string{"alerts", "send"}, tt.args...)...)
			if r.code != 1 || r.stdout != "" {
				t.Errorf("exit status %d, stdout %q; want 1 and nothing", r.code, r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestParseAlertFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		names   []string
		wantErr string
	}{
		{name: "one JSON alert", in: `{"name": "a", "triggerType": "Critical"}`, names: []string{"a"}},
		{name: "a JSON list", in: `[{"name": "a"}, {"name": "b"}]`, names: []string{"a", "b"}},
		{name: "a batch object", in: "alerts:\n  - name: a\n  - name: b\n", names: []string{"a", "b"}},
		{name: "YAML with a payload override as an object", in: "name: a\nnotifications:\n  - connectionId: X\n    payloadOverride: {b: [1, 2]}\n", names: []string{"a"}},
		{name: "empty", in: " \n", wantErr: "the file is empty"},
		{name: "no alerts", in: "[]", wantErr: "holds no alerts"},
		{name: "a batch with more", in: `{"alerts": [], "source": "x"}`, wantErr: `must hold nothing else`},
		{name: "alerts not a list", in: `{"alerts": {"name": "a"}}`, wantErr: `"alerts" must be a list`},
		{name: "a scalar", in: "42", wantErr: "must hold an alert object"},
		{name: "a list of scalars", in: "[1]", wantErr: "alerts[0]: must be an alert object"},
		{name: "JSON syntax", in: "{\n  \"name\": \"x\",\n  oops\n}", wantErr: "not valid JSON: line 3, column 3"},
		{name: "two values", in: `{"name": "a"} {"name": "b"}`, wantErr: "more than one JSON value"},
		{name: "duplicate YAML key", in: "name: a\nname: b\n", wantErr: "not valid YAML"},
		{name: "unknown field in a batch", in: `[{"name": "a"}, {"nmae": "b"}]`, wantErr: `alerts[1]: unknown field "nmae"`},
		{name: "a row that is not an object", in: `{"results": [1]}`, wantErr: "results"},
		{name: "variables not strings", in: `{"variables": {"a": 1}}`, wantErr: "variables: must be a string, not number"},
		{name: "a time that is not RFC 3339", in: `{"triggerTimeEnd": "yesterday"}`, wantErr: `triggerTimeEnd: must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not "yesterday"`},
		{name: "a null time", in: `{"name": "a", "triggerTime": null}`, names: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAlertFile([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range got {
				names = append(names, a.Name)
			}
			if !cmp.Equal(tt.names, names) {
				t.Errorf("names = %v, want %v", names, tt.names)
			}
		})
	}
	got, err := parseAlertFile([]byte("name: a\nnotifications:\n  - connectionId: X\n    payloadOverride: {b: [1, 2]}\n    resolutionPayloadOverride: '{\"r\": 1}'\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []client.Notification{{ConnectionID: "X", PayloadOverride: `{"b":[1,2]}`, ResolutionPayloadOverride: `{"r": 1}`}}
	if diff := cmp.Diff(want, got[0].Notifications); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
}

// FuzzParseAlertFile checks that any file either fails cleanly or gives
// at least one alert that encodes to JSON, overrides as strings.
func FuzzParseAlertFile(f *testing.F) {
	f.Add("name: x\ntriggerType: Critical\nresults:\n  - {a: 1}\n")
	f.Add(`{"alerts": [{"name": "x", "notifications": [{"connectionId": "C", "payloadOverride": {"a": [1]}}]}]}`)
	f.Add(`[{"name": "a", "variables": {"k": "v"}, "triggerTime": "2026-11-26T12:00:00Z"}]`)
	f.Add("{\n  \"name\": \"x\",\n  oops\n}")
	f.Add("a: &x 1\nb: *x\n")
	f.Fuzz(func(t *testing.T, in string) {
		alerts, err := parseAlertFile([]byte(in))
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if len(alerts) == 0 {
			t.Fatal("no alerts and no error")
		}
		if _, err := json.Marshal(alerts); err != nil {
			t.Errorf("parsed alerts do not encode: %v", err)
		}
	})
}

func TestAlertsOutputGolden(t *testing.T) {
	t.Parallel()
	at := goldenT0
	full := client.Alert{
		ID: "A0000000000000001", Source: "api", IdempotencyKey: "login-spike-1", ReceivedAt: at.Add(time.Second),
		AlertEvent: client.AlertEvent{
			Name: "Suspicious IP", Description: "Too many failed logins\nfrom one address", MonitorType: "Logs",
			Query: "_sourceCategory=auth | count by client_ip", QueryURL: "https://logs.example.com/q/1",
			Results:         []client.Row{{"client_ip": "203.0.113.7", "_count": json.Number("12345678901234567890")}, {"client_ip": "198.51.100.23", "_count": json.Number("87")}},
			NumQueryResults: 2, SourceID: "M1", DetectionMethod: "LogsStaticCondition", TriggerType: "Critical",
			TriggerCondition: "> 100", TriggerValue: "1542", TriggerTime: at, TriggerTimeStart: at.Add(-15 * time.Minute), TriggerTimeEnd: at,
			SourceURL: "https://logs.example.com/m/1", AlertResponseURL: "https://logs.example.com/r/1",
			Variables: map[string]string{"Playbook": "Block the IP", "RoutingKey": "ops"}, TimeZone: "Europe/Berlin",
		},
		Deliveries: goldenDeliveries()[:2],
	}
	bare := client.Alert{ID: "A0000000000000002", Source: "alertmanager", ReceivedAt: at, AlertEvent: client.AlertEvent{Name: "bare", TriggerType: "ResolvedWarning"}}
	accepted := client.AcceptResult{Alerts: []client.AcceptedAlert{
		{ID: "A0000000000000001", Deliveries: []client.DeliveryRef{{ID: "D0000000000000001", ConnectionID: "C0000000000000A1", State: "pending"}, {ID: "D0000000000000002", ConnectionID: "C0000000000000GONE", State: "pending"}}},
		{ID: "A0000000000000000", Duplicate: true, Deliveries: []client.DeliveryRef{{ID: "D0000000000000000", ConnectionID: "C0000000000000B2", State: "delivered"}}},
	}}
	waited := []client.Delivery{
		{ID: "D0000000000000001", State: "delivered", Attempts: 1, LastStatus: 200},
		{ID: "D0000000000000002", State: "failed", Attempts: 1, LastStatus: 403},
		{ID: "D0000000000000000", State: "delivered", Attempts: 2, LastStatus: 200},
	}
	tests := []struct {
		file  string
		print func(w io.Writer) error
	}{
		{"details.golden", func(w io.Writer) error { return printAlertDetails(w, full, goldenNames) }},
		{"details-bare.golden", func(w io.Writer) error { return printAlertDetails(w, bare, nil) }},
		{"alert.json.golden", func(w io.Writer) error { return printObject(w, outputJSON, full) }},
		{"accepted.golden", func(w io.Writer) error { return printAccepted(w, accepted, nil, goldenNames) }},
		{"accepted-waited.golden", func(w io.Writer) error { return printAccepted(w, accepted, waited, goldenNames) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.print(&b); err != nil {
				t.Fatal(err)
			}
			goldenIn(t, "alerts", tt.file, b.String())
		})
	}
}

func TestAlertsHelpHasExamples(t *testing.T) {
	t.Parallel()
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	for _, group := range []string{"alerts", "deliveries"} {
		cmd, _, err := root.Find([]string{group})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range append(cmd.Commands(), cmd) {
			if c.Name() == "help" || c.Name() == "completion" {
				continue
			}
			if strings.TrimSpace(c.Example) == "" {
				t.Errorf("%q has no Example", c.CommandPath())
			}
			for _, f := range []string{"server", "token", "output"} {
				if c.Flags().Lookup(f) == nil && c.InheritedFlags().Lookup(f) == nil && c.PersistentFlags().Lookup(f) == nil {
					t.Errorf("%q lacks --%s", c.CommandPath(), f)
				}
			}
		}
	}
}

// TestAlertsListCLI lists alerts sent through the CLI to the whole
// program, by source, trigger type, age and page.
func TestAlertsListCLI(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)
	mustSucceed(t, admin(t, server, "", "connections", "create", "--type", "Webhook",
		"--name", "waf", "--url", "http://127.0.0.1:9/hook", "--alert-payload", `{"n": "{{Name}}"}`))
	send := func(name, trigger, source string) string {
		t.Helper()
		res := decodeJSON[client.AcceptResult](t, mustSucceed(t, admin(t, server, "", "alerts", "send", "--connection", "waf",
			"--name", name, "--trigger", trigger, "--source", source, "-o", "json")).stdout)
		return res.Alerts[0].ID
	}
	first := send("Suspicious IP", "Critical", "monitor:M1")
	second := send("Top talkers", "Warning", "search:S1")
	third := send("Top talkers", "Warning", "search:S1")

	r := mustSucceed(t, admin(t, server, "", "alerts", "list"))
	rows := tableRows(r.stdout)
	if len(rows) != 4 || strings.Join(rows[0], " ") != "ID RECEIVED SOURCE TRIGGER NAME DELIVERIES" {
		t.Fatalf("list:\n%s", r.stdout)
	}
	if len(rows[3]) != 6 || rows[3][0] != first || rows[3][2] != "monitor:M1" || rows[3][3] != "Critical" || rows[3][4] != "Suspicious IP" ||
		!strings.HasPrefix(rows[3][5], "1 ") {
		t.Errorf("oldest row %q, want the first alert with its one delivery", rows[3])
	}

	listed := decodeJSON[[]client.Alert](t, mustSucceed(t, admin(t, server, "", "alerts", "list", "--source", "search:S1", "-o", "json")).stdout)
	if len(listed) != 2 || listed[0].ID != third || listed[1].ID != second || listed[0].Results != nil || len(listed[0].Deliveries) != 1 {
		t.Errorf("--source search:S1: %+v", listed)
	}
	listed = decodeJSON[[]client.Alert](t, mustSucceed(t, admin(t, server, "", "alerts", "list", "--trigger-type", "Critical", "--since", "1h", "-o", "json")).stdout)
	if len(listed) != 1 || listed[0].ID != first {
		t.Errorf("--trigger-type Critical --since 1h: %+v", listed)
	}
	r = mustSucceed(t, admin(t, server, "", "alerts", "list", "--until", "1h"))
	if r.stdout != "" || !strings.Contains(r.stderr, "No alerts match") {
		t.Errorf("--until 1h:\n%s\n%s", r.stdout, r.stderr)
	}
	r = mustSucceed(t, admin(t, server, "", "alerts", "list", "--limit", "1"))
	if rows := tableRows(r.stdout); len(rows) != 2 || rows[1][0] != third || !strings.Contains(r.stderr, "More alerts match") {
		t.Errorf("--limit 1:\n%s\n%s", r.stdout, r.stderr)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--trigger-type", "Bad"}, "--trigger-type must be one of"},
		{[]string{"--limit", "2000"}, "--limit must be from 1 to 1000"},
		{[]string{"--since", "yesterday"}, "--since"},
		{[]string{"--source", strings.Repeat("s", 200)}, "source"},
	} {
		r := admin(t, server, "", append([]string{"alerts", "list"}, tt.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("alerts list %v: exit %d\n%s\nwant an error saying %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
