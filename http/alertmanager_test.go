package http_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

var update = flag.Bool("update", false, "rewrite the testdata/**/*.golden files from the current output")

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs; got:\n%s", path, got)
	}
}

// render writes what the dispatcher was given, with connection names in
// place of their random IDs.
func (a *alertAPI) render(alerts []*hookline.AcceptedAlert) []byte {
	a.t.Helper()
	names := map[string]string{}
	for name, id := range a.conns {
		names[id] = name
	}
	type delivery struct {
		Connection  string               `json:"connection"`
		TriggerType hookline.TriggerType `json:"triggerType"`
		Payload     string               `json:"payload"`
	}
	type accepted struct {
		Source         string         `json:"source"`
		IdempotencyKey string         `json:"idempotencyKey"`
		Alert          hookline.Alert `json:"alert"`
		Deliveries     []delivery     `json:"deliveries"`
	}
	var out []accepted
	for _, x := range alerts {
		acc := accepted{Source: x.Source, IdempotencyKey: targetsKeyed(a.t, x), Alert: x.Alert}
		for _, d := range x.Deliveries {
			acc.Deliveries = append(acc.Deliveries, delivery{names[d.ConnectionID], d.TriggerType, d.Payload})
		}
		out = append(out, acc)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		a.t.Fatal(err)
	}
	return append(b, '\n')
}

// targetsKeyed returns an Alertmanager alert's idempotency key with its
// last part, the hash of the target connections' random IDs, checked and
// written as {targets}, so that golden files do not change with the IDs.
func targetsKeyed(t *testing.T, x *hookline.AcceptedAlert) string {
	t.Helper()
	if !strings.HasPrefix(x.IdempotencyKey, "am:") {
		return x.IdempotencyKey
	}
	var ids []string
	for _, d := range x.Deliveries {
		ids = append(ids, d.ConnectionID)
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
	want := ":" + hex.EncodeToString(sum[:8])
	head, ok := strings.CutSuffix(x.IdempotencyKey, want)
	if !ok {
		t.Errorf("key %q does not end in %s, the hash of its targets' sorted IDs", x.IdempotencyKey, want)
		return x.IdempotencyKey
	}
	return head + ":{targets}"
}

const receiver = "/api/v1/receivers/alertmanager?connections="

// TestAlertmanagerMapping feeds notifications captured from Alertmanager
// 0.25 (firing, then one alert resolved), a Grafana contact point's, and
// one without fingerprints or alertname, and compares the alerts they
// raise with golden files.
func TestAlertmanagerMapping(t *testing.T) {
	files, err := filepath.Glob("testdata/alertmanager/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("test inputs: %v %v", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			a := newAlertAPI(t, false)
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			code, resp := a.post(receiver+"Blocker,pager", string(body))
			if code != http.StatusAccepted {
				t.Fatalf("status %d: %v", code, resp)
			}
			got := a.disp.accepted()
			var msg struct{ Alerts []any }
			json.Unmarshal(body, &msg)
			if n := len(resp["alerts"].([]any)); n != len(msg.Alerts) || len(got) != n {
				t.Fatalf("answer lists %d alerts, dispatcher got %d; the notification has %d", n, len(got), len(msg.Alerts))
			}
			for _, x := range got {
				if err := x.Alert.Validate(); err != nil {
					t.Errorf("raised an invalid alert: %v", err)
				}
			}
			golden(t, strings.TrimSuffix(file, ".json")+".golden", a.render(got))
		})
	}
}

// TestAlertmanagerRepeats checks the idempotency keys against what
// Alertmanager really sends: its repeat of a firing alert, and a
// notification holding one resolved and one still firing alert, raise
// only the resolution anew.
func TestAlertmanagerRepeats(t *testing.T) {
	a := newAlertAPI(t, false)
	firing, _ := os.ReadFile("testdata/alertmanager/am-0.25-firing.json")
	resolved, _ := os.ReadFile("testdata/alertmanager/am-0.25-resolved.json")
	var dups []bool
	for _, body := range [][]byte{firing, firing, resolved, resolved} {
		code, resp := a.post(receiver+"pager", string(body))
		if code != http.StatusAccepted {
			t.Fatalf("status %d: %v", code, resp)
		}
		for _, x := range resp["alerts"].([]any) {
			dups = append(dups, x.(map[string]any)["duplicate"].(bool))
		}
	}
	want := []bool{false, false, true, true, false, true, true, true}
	if !slices.Equal(dups, want) {
		t.Errorf("duplicate flags %v, want %v", dups, want)
	}
	if n := len(a.disp.accepted()); n != 3 {
		t.Errorf("%d alerts stored, want 3 (two firing, one resolution)", n)
	}
}

func TestAlertmanagerConnections(t *testing.T) {
	a := newAlertAPI(t, false)
	comma := mustJSON(map[string]any{"webhookType": "Webhook", "name": "ops, night shift", "url": "https://ops.example.com/", "defaultPayload": `{}`})
	code, c := a.do("POST", "/api/v1/connections", comma)
	if code != http.StatusOK {
		t.Fatalf("create: %d %v", code, c)
	}
	a.conns["ops, night shift"] = c["id"].(string)
	body, _ := os.ReadFile("testdata/alertmanager/grafana-firing.json")

	tests := []struct {
		query string
		want  []string // connection names, or the problem's field
		bad   bool
	}{
		{"connections=pager", []string{"pager"}, false},
		{"connections=PAGER,+blocker+", []string{"pager", "Blocker"}, false},
		{"connections=pager&connections=Blocker&connections=pager", []string{"pager", "Blocker"}, false},
		{"connections=" + a.conns["Blocker"], []string{"Blocker"}, false},
		{"connections=" + url.QueryEscape("ops, night shift"), []string{"ops, night shift"}, false},
		{"connections=" + url.QueryEscape("ops, night shift,pager"), nil, true},
		{"", nil, true},
		{"connections=", nil, true},
		{"connections=pager,nope", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			a.disp.mu.Lock()
			a.disp.byKey = nil // the same notification each time
			a.disp.mu.Unlock()
			before := len(a.disp.accepted())
			code, resp := a.post("/api/v1/receivers/alertmanager?"+tc.query, string(body))
			if tc.bad {
				fields := fieldsOf(resp)
				if code != http.StatusBadRequest || len(fields) == 0 || slices.ContainsFunc(fields, func(f string) bool { return f != "connections" }) {
					t.Errorf("status %d %v; want 400 naming connections", code, resp)
				}
				if len(a.disp.accepted()) != before {
					t.Errorf("a refused notification stored alerts")
				}
				return
			}
			if code != http.StatusAccepted {
				t.Fatalf("status %d: %v", code, resp)
			}
			var got []string
			for _, d := range resp["alerts"].([]any)[0].(map[string]any)["deliveries"].([]any) {
				for name, id := range a.conns {
					if d.(map[string]any)["connectionId"] == id {
						got = append(got, name)
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("delivered to %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAlertmanagerValidation(t *testing.T) {
	a := newAlertAPI(t, false)
	msg := func(alerts ...string) string {
		return `{"version": "4", "status": "firing", "alerts": [` + strings.Join(alerts, ",") + `]}`
	}
	const ok = `{"status": "firing", "labels": {"alertname": "A"}, "startsAt": "2026-11-26T12:00:00Z"}`
	tests := []struct {
		name, body string
		want       []string
		text       string
	}{
		{"not JSON", `{"alerts": [`, nil, "not valid JSON"},
		{"not an object", `[]`, nil, "JSON object"},
		{"no alerts", msg(), []string{"alerts"}, "at least one"},
		{"bad status", msg(ok, `{"status": "pending", "labels": {"alertname": "B"}}`), []string{"alerts[1].status"}, "firing or resolved"},
		{"two bad alerts", msg(`{"status": "x"}`, ok, `{"status": "resolved", "fingerprint": "`+strings.Repeat("f", 65)+`"}`), []string{"alerts[0].status", "alerts[2].fingerprint"}, ""},
		{"end before start", msg(`{"status": "resolved", "labels": {"alertname": "A"}, "startsAt": "2026-11-26T12:00:00Z", "endsAt": "2026-11-26T11:00:00Z"}`), []string{"alerts[0].endsAt"}, "before"},
		{"label not a string", msg(`{"status": "firing", "labels": {"alertname": 5}}`), []string{"alerts.labels"}, "number"},
		{"bad time", msg(`{"status": "firing", "labels": {"alertname": "A"}, "startsAt": "noon"}`), []string{"alerts"}, "RFC 3339"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, resp := a.post(receiver+"pager", tc.body)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d: %v", code, resp)
			}
			if got := fieldsOf(resp); tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("fields %q, want %q (%v)", got, tc.want, resp)
			}
			if m, _ := resp["message"].(string); !strings.Contains(m, tc.text) {
				t.Errorf("message %q does not say %q", m, tc.text)
			}
		})
	}
	if n := len(a.disp.accepted()); n != 0 {
		t.Errorf("refused notifications stored %d alerts", n)
	}
}

// TestAlertmanagerLongValues checks that an alert with texts longer than
// an alert keeps is shortened, not refused: Alertmanager does not retry a
// 4xx answer, so a refusal would lose the alert.
func TestAlertmanagerLongValues(t *testing.T) {
	a := newAlertAPI(t, false)
	labels := map[string]string{"alertname": strings.Repeat("ä", 2000)}
	for i := range 150 {
		labels[fmt.Sprintf("l%03d", i)] = "v"
	}
	long := map[string]any{"status": "firing", "labels": labels,
		"annotations":  map[string]string{"description": strings.Repeat("é", 5000), "runbook": strings.Repeat("r", 20000)},
		"generatorURL": "http://prometheus:9090/graph?g0.expr=" + strings.Repeat("x", 3000),
		"startsAt":     "2026-11-26T12:00:00Z", "fingerprint": "0123456789abcdef"}
	code, resp := a.post(receiver+"pager", mustJSON(map[string]any{"version": "4", "alerts": []any{long}}))
	if code != http.StatusAccepted {
		t.Fatalf("status %d: %v", code, resp)
	}
	got := a.disp.accepted()[0].Alert
	if err := got.Validate(); err != nil {
		t.Fatalf("raised an invalid alert: %v", err)
	}
	if n := utf8.RuneCountInString(got.Name); n != 1024 || !strings.HasSuffix(got.Name, "…") {
		t.Errorf("name has %d characters, want 1024 ending in …", n)
	}
	if n := utf8.RuneCountInString(got.Description); n != 4096 || !strings.HasSuffix(got.Description, "…") {
		t.Errorf("description has %d characters, want 4096 ending in …", n)
	}
	if got.QueryURL != "" {
		t.Errorf("over-long generatorURL kept: %d bytes", len(got.QueryURL))
	}
	if n := len(got.Variables); n != 100 {
		t.Errorf("%d variables, want 100", n)
	}
	// The results row keeps every label and annotation whole.
	row := got.Results[0]
	if len(row) != 153 || row["runbook"] != strings.Repeat("r", 20000) {
		t.Errorf("row has %d fields, runbook %d bytes", len(row), len(row["runbook"].(string)))
	}
}

// TestAlertmanagerReceiversKeepTheirAlerts checks that the idempotency key
// of an Alertmanager alert is scoped by its targets and by source: one
// notification sent to two receivers (two webhook_configs, or a route
// with continue: true) is delivered through both, each receiver's repeats
// are duplicates, and an API alert that happens to use the same key does
// not take the receiver's alert.
func TestAlertmanagerReceiversKeepTheirAlerts(t *testing.T) {
	a := newAlertAPI(t, true)
	firing, err := os.ReadFile("testdata/alertmanager/am-0.25-firing.json")
	if err != nil {
		t.Fatal(err)
	}
	// post sends the notification to the connections named and returns,
	// per alert, its ID, whether it was a duplicate and its targets' names.
	type result struct {
		id        string
		duplicate bool
		targets   []string
	}
	names := map[string]string{}
	for name, id := range a.conns {
		names[id] = name
	}
	post := func(connections string) []result {
		t.Helper()
		code, resp := a.post(receiver+connections, string(firing))
		if code != http.StatusAccepted {
			t.Fatalf("%s: status %d: %v", connections, code, resp)
		}
		var out []result
		for _, x := range resp["alerts"].([]any) {
			m := x.(map[string]any)
			r := result{id: m["id"].(string), duplicate: m["duplicate"].(bool)}
			for _, d := range m["deliveries"].([]any) {
				r.targets = append(r.targets, names[d.(map[string]any)["connectionId"].(string)])
			}
			out = append(out, r)
		}
		return out
	}

	// An API caller uses, first, the very key the receiver derives for the
	// first alert to Blocker alone.
	sum := sha256.Sum256([]byte(a.conns["Blocker"]))
	key := "am:855e9c9e25c8593c:firing:2026-11-26T02:00:00.123456789Z:" + hex.EncodeToString(sum[:8])
	code, resp := a.post("/api/v1/alerts", mustJSON(alertObj(map[string]any{"idempotencyKey": key})))
	if code != http.StatusAccepted {
		t.Fatalf("API alert: %d %v", code, resp)
	}
	apiID := resp["alerts"].([]any)[0].(map[string]any)["id"].(string)

	toBlocker := post("Blocker")
	toPager := post("pager")
	for i := range toBlocker {
		if toBlocker[i].duplicate || !slices.Equal(toBlocker[i].targets, []string{"Blocker"}) || toBlocker[i].id == apiID {
			t.Errorf("alert %d to Blocker: %+v; want a new alert to Blocker, not the API alert %s", i, toBlocker[i], apiID)
		}
		if toPager[i].duplicate || !slices.Equal(toPager[i].targets, []string{"pager"}) || toPager[i].id == toBlocker[i].id {
			t.Errorf("alert %d to pager: %+v; want a new alert to pager (the Blocker one is %s)", i, toPager[i], toBlocker[i].id)
		}
	}
	// The receiver's first alert holds the key the API alert used.
	if code, got := a.do("GET", "/api/v1/alerts/"+toBlocker[0].id, ""); code != http.StatusOK || got["idempotencyKey"] != key || got["source"] != "alertmanager" {
		t.Errorf("receiver's alert: %d source %v key %v; want alertmanager, %s", code, got["source"], got["idempotencyKey"], key)
	}

	// Repeats, in any order of the names, are duplicates of the first.
	both := post("pager,Blocker")
	for _, tc := range []struct {
		connections string
		first       []result
	}{{"Blocker", toBlocker}, {"pager", toPager}, {"Blocker,pager", both}, {"blocker&connections=PAGER", both}} {
		again := post(tc.connections)
		for i := range again {
			if !again[i].duplicate || again[i].id != tc.first[i].id {
				t.Errorf("repeat to %s, alert %d: %+v; want a duplicate of %s", tc.connections, i, again[i], tc.first[i].id)
			}
		}
	}
	if both[0].duplicate || both[0].id == toBlocker[0].id || both[0].id == toPager[0].id {
		t.Errorf("to pager and Blocker together: %+v; want a new alert, not one of the single receivers'", both[0])
	}
	// Stored: the API alert's one delivery, and the two alerts' deliveries
	// to Blocker, to pager and to both.
	code, got := a.do("GET", "/api/v1/deliveries?limit=1000", "")
	if n := len(got["data"].([]any)); code != http.StatusOK || n != 1+2+2+2*2 {
		t.Errorf("the store holds %d deliveries (%d); want 9", n, code)
	}
}
