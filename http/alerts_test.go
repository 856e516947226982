package http_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hookline/hookline"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

// fakeDispatcher records what the handlers hand over, and answers as the
// dispatcher does: IDs filled in, deliveries pending, a repeated
// idempotency key answered with the first acceptance.
type fakeDispatcher struct {
	mu       sync.Mutex
	calls    [][]*hookline.AcceptedAlert
	byKey    map[string]*hookline.AcceptedAlert
	n        int
	err      error // returned by Accept and Replay when set
	replayed []string
	changed  []string // connections updated or deleted
	// store, when set, stores accepted alerts and replays deliveries as
	// the dispatcher does, without sending anything.
	store hookline.DeliveryStore
	// hold, when set, makes Accept report on it and then wait for the
	// request's context to end, as the dispatcher does for a client that
	// goes away while its alerts wait for a commit.
	hold chan struct{}
}

func (f *fakeDispatcher) Accept(ctx context.Context, alerts []*hookline.AcceptedAlert) error {
	if f.hold != nil {
		f.hold <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.store != nil {
		if err := f.store.AcceptAlerts(context.Background(), "", alerts); err != nil {
			return err
		}
		f.calls = append(f.calls, alerts)
		return nil
	}
	if f.byKey == nil {
		f.byKey = map[string]*hookline.AcceptedAlert{}
	}
	var copies []*hookline.AcceptedAlert
	for _, a := range alerts {
		// Keys are scoped by source, as the store scopes them.
		key := a.Source + "\x00" + a.IdempotencyKey
		if first, ok := f.byKey[key]; ok && a.IdempotencyKey != "" {
			a.ID, a.Deliveries, a.Duplicate = first.ID, first.Deliveries, true
			continue
		}
		f.n++
		a.ID = fmt.Sprintf("alert%d", f.n)
		a.ReceivedAt = time.Date(2026, 11, 26, 12, 0, f.n, 0, time.UTC)
		for i, d := range a.Deliveries {
			d.ID = fmt.Sprintf("%s-d%d", a.ID, i)
			d.AlertID = a.ID
			d.State = hookline.DeliveryPending
		}
		if a.IdempotencyKey != "" {
			f.byKey[key] = a
		}
		c := *a
		copies = append(copies, &c)
	}
	f.calls = append(f.calls, copies)
	return nil
}

func (f *fakeDispatcher) Replay(_ context.Context, id string) (*hookline.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.replayed = append(f.replayed, id)
	if f.store != nil {
		cd, err := f.store.ReplayDelivery(context.Background(), "", id, time.Time{})
		if err != nil {
			return nil, err
		}
		return cd.Delivery, nil
	}
	return &hookline.Delivery{ID: id, AlertID: "alert1", ConnectionID: "c1", TriggerType: hookline.TriggerCritical,
		State: hookline.DeliveryPending, Attempts: 3, NextAttemptAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}, nil
}

func (f *fakeDispatcher) ConnectionChanged(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changed = append(f.changed, id)
}

// accepted is every alert stored so far, in order.
func (f *fakeDispatcher) accepted() []*hookline.AcceptedAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*hookline.AcceptedAlert
	for _, c := range f.calls {
		out = append(out, c...)
	}
	return out
}

type alertAPI struct {
	*api
	db    *sqlite.DB
	disp  *fakeDispatcher
	conns map[string]string // name → ID
	logs  *logRecorder
}

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

// find returns the records with message msg.
func (h *logRecorder) find(msg string) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.records {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

// atLeast returns the records at level or above.
func (h *logRecorder) atLeast(level slog.Level) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.records {
		if r.Level >= level {
			out = append(out, r)
		}
	}
	return out
}

// newAlertAPI starts the API over a real SQLite file with a recording
// dispatcher, and creates the connections "Blocker" (AWSLambda) and
// "pager" (Webhook). With stored, alerts are kept in the SQLite store,
// which also serves the read routes.
func newAlertAPI(t *testing.T, stored bool) *alertAPI {
	t.Helper()
	db := openDB(t)
	reg := notify.NewRegistry(awslambda.Kind{}, webhook.Kind{})
	disp := &fakeDispatcher{}
	logs := &logRecorder{}
	var deliveries hookline.DeliveryStore
	if stored {
		disp.store, deliveries = db, db
	}
	s := &hookhttp.Server{
		Addr: "127.0.0.1:0", Store: db, Registry: reg,
		Sender:     &notify.Sender{Registry: reg},
		TokenHash:  sha256.Sum256([]byte(token)),
		Dispatcher: disp,
		Deliveries: deliveries,
		Logger:     slog.New(logs),
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	a := &alertAPI{api: &api{t: t, url: s.URL()}, db: db, disp: disp, conns: map[string]string{}, logs: logs}
	pager := mustJSON(map[string]any{"webhookType": "Webhook", "name": "pager", "url": "https://pager.example.com/hook", "defaultPayload": `{"n": "{{Name}}"}`})
	for _, def := range []string{lambdaDef("name", "Blocker"), pager} {
		code, c := a.do("POST", "/api/v1/connections", def)
		if code != http.StatusOK {
			t.Fatalf("create connection: %d %v", code, c)
		}
		a.conns[c["name"].(string)] = c["id"].(string)
	}
	return a
}

// post sends body with extra headers and decodes the answer.
func (a *alertAPI) post(path, body string, header ...string) (int, map[string]any) {
	a.t.Helper()
	req, err := http.NewRequest("POST", a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("POST %s: answer is not JSON: %q", path, raw)
	}
	return resp.StatusCode, out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// alertObj is a valid single alert with fields replaced (nil deletes).
func alertObj(set map[string]any) map[string]any {
	a := map[string]any{
		"name":          "Suspicious IP",
		"triggerType":   "Critical",
		"results":       []any{map[string]any{"client_ip": "203.0.113.9", "_count": 17}},
		"notifications": []any{map[string]any{"connectionName": "blocker"}},
	}
	for k, v := range set {
		if v == nil {
			delete(a, k)
		} else {
			a[k] = v
		}
	}
	return a
}

func TestPostSingleAlert(t *testing.T) {
	a := newAlertAPI(t, false)
	body := mustJSON(alertObj(map[string]any{
		"description": "17 requests", "triggerTime": "2026-11-26T11:59:00Z", "timeZone": "America/Chicago",
		"variables": map[string]string{"Playbook": "block"},
		"notifications": []any{
			map[string]any{"connectionName": " BLOCKER "},
			map[string]any{"connectionId": a.conns["pager"], "payloadOverride": `{"text": "{{Name}}"}`, "resolutionPayloadOverride": `{"ok": true}`},
		},
	}))
	code, resp := a.post("/api/v1/alerts", body, "Idempotency-Key", "evt-1")
	if code != http.StatusAccepted {
		t.Fatalf("status %d: %v", code, resp)
	}
	want := map[string]any{"alerts": []any{map[string]any{
		"id": "alert1", "duplicate": false,
		"deliveries": []any{
			map[string]any{"id": "alert1-d0", "connectionId": a.conns["Blocker"], "state": "pending"},
			map[string]any{"id": "alert1-d1", "connectionId": a.conns["pager"], "state": "pending"},
		},
	}}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	got := a.disp.accepted()
	if len(got) != 1 {
		t.Fatalf("dispatcher got %d alerts, want 1", len(got))
	}
	g := got[0]
	chicago, _ := time.LoadLocation("America/Chicago")
	wantAlert := hookline.Alert{
		Name: "Suspicious IP", Description: "17 requests", TriggerType: hookline.TriggerCritical,
		Results: []hookline.Row{{"client_ip": "203.0.113.9", "_count": json.Number("17")}},
		// Without numQueryResults, the rows sent are the count.
		NumQueryResults: 1,
		TriggerTime:     time.Date(2026, 11, 26, 11, 59, 0, 0, time.UTC),
		Variables:       map[string]string{"Playbook": "block"}, Location: chicago,
	}
	if diff := cmp.Diff(wantAlert, g.Alert, cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() })); diff != "" {
		t.Errorf("alert (-want +got):\n%s", diff)
	}
	if g.Source != "api" || g.IdempotencyKey != "evt-1" {
		t.Errorf("source %q, key %q; want api, evt-1 (from the header)", g.Source, g.IdempotencyKey)
	}
	wantDeliveries := []hookline.Delivery{
		{ConnectionID: a.conns["Blocker"], TriggerType: hookline.TriggerCritical},
		{ConnectionID: a.conns["pager"], TriggerType: hookline.TriggerCritical, Payload: `{"text": "{{Name}}"}`},
	}
	var gotDeliveries []hookline.Delivery
	for _, d := range g.Deliveries {
		gotDeliveries = append(gotDeliveries, hookline.Delivery{ConnectionID: d.ConnectionID, TriggerType: d.TriggerType, Payload: d.Payload})
	}
	if diff := cmp.Diff(wantDeliveries, gotDeliveries); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}

	// The same key again is answered with the first acceptance.
	code, resp = a.post("/api/v1/alerts", body, "Idempotency-Key", "evt-1")
	if code != http.StatusAccepted || resp["alerts"].([]any)[0].(map[string]any)["duplicate"] != true {
		t.Errorf("repeat: %d %v, want 202 with duplicate", code, resp)
	}
}

func TestPostAlertBatch(t *testing.T) {
	a := newAlertAPI(t, false)
	override := map[string]any{"connectionName": "pager", "payloadOverride": `{"alert": 1}`, "resolutionPayloadOverride": `{"recovery": 1}`}
	body := mustJSON(map[string]any{"alerts": []any{
		alertObj(map[string]any{"notifications": []any{override}, "idempotencyKey": "k1", "source": "my-monitor"}),
		alertObj(map[string]any{"notifications": []any{override}, "triggerType": "ResolvedCritical"}),
		alertObj(map[string]any{"notifications": []any{map[string]any{"connectionName": "pager", "payloadOverride": `{"alert": 1}`}}, "triggerType": "ResolvedWarning"}),
	}})
	code, resp := a.post("/api/v1/alerts", body)
	if code != http.StatusAccepted {
		t.Fatalf("status %d: %v", code, resp)
	}
	if n := len(resp["alerts"].([]any)); n != 3 {
		t.Fatalf("answer lists %d alerts, want 3: %v", n, resp)
	}
	got := a.disp.accepted()
	if len(a.disp.calls) != 1 || len(got) != 3 {
		t.Fatalf("dispatcher got %d calls with %d alerts; want one call with 3", len(a.disp.calls), len(got))
	}
	// A resolution takes the recovery override, or none: the
	// connection's recovery payload, never the alert override.
	for i, want := range []struct {
		payload, source, key string
		trigger              hookline.TriggerType
	}{
		{`{"alert": 1}`, "my-monitor", "k1", hookline.TriggerCritical},
		{`{"recovery": 1}`, "api", "", hookline.TriggerResolvedCritical},
		{"", "api", "", hookline.TriggerResolvedWarning},
	} {
		d := got[i].Deliveries[0]
		if d.Payload != want.payload || d.TriggerType != want.trigger || got[i].Source != want.source || got[i].IdempotencyKey != want.key {
			t.Errorf("alert %d: payload %q trigger %s source %q key %q; want %+v", i, d.Payload, d.TriggerType, got[i].Source, got[i].IdempotencyKey, want)
		}
	}
}

func TestPostAlertsValidation(t *testing.T) {
	a := newAlertAPI(t, false)
	notes := func(n ...any) map[string]any { return map[string]any{"notifications": append([]any{}, n...)} }
	many := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = alertObj(nil)
		}
		return out
	}
	tests := []struct {
		name   string
		body   string
		header []string
		want   []string // the fields named, in order
		text   string   // in the message
	}{
		{"triggerType missing", mustJSON(alertObj(map[string]any{"triggerType": nil})), nil, []string{"triggerType"}, "must be one of"},
		{"name missing", mustJSON(alertObj(map[string]any{"name": nil})), nil, []string{"name"}, "required"},
		{"unknown field", mustJSON(alertObj(map[string]any{"severity": "high"})), nil, []string{"severity"}, "not a field"},
		{"bad time", mustJSON(alertObj(map[string]any{"triggerTime": "yesterday"})), nil, []string{"triggerTime"}, "RFC 3339"},
		{"bad type and missing trigger", mustJSON(alertObj(map[string]any{"numQueryResults": "x", "triggerType": nil})), nil, []string{"numQueryResults", "triggerType"}, ""},
		{"bad time zone", mustJSON(alertObj(map[string]any{"timeZone": "Mars/Olympus"})), nil, []string{"timeZone"}, "IANA"},
		{"source too long", mustJSON(alertObj(map[string]any{"source": strings.Repeat("s", 128)})), nil, []string{"source"}, "at most 127"},
		{"source not string", mustJSON(alertObj(map[string]any{"source": 5})), nil, []string{"source"}, "string"},
		{"key too long", mustJSON(alertObj(map[string]any{"idempotencyKey": strings.Repeat("k", 201)})), nil, []string{"idempotencyKey"}, "at most 200"},
		{"header too long", mustJSON(alertObj(nil)), []string{"Idempotency-Key", strings.Repeat("k", 201)}, []string{"Idempotency-Key"}, "at most 200"},
		{"header differs", mustJSON(alertObj(map[string]any{"idempotencyKey": "a"})), []string{"Idempotency-Key", "b"}, []string{"idempotencyKey"}, "differs"},
		{"notifications missing", mustJSON(alertObj(map[string]any{"notifications": nil})), nil, []string{"notifications"}, "required"},
		{"notifications empty", mustJSON(alertObj(notes())), nil, []string{"notifications"}, "at least one"},
		{"notifications not a list", mustJSON(alertObj(map[string]any{"notifications": "blocker"})), nil, []string{"notifications"}, "list"},
		{"too many notifications", mustJSON(alertObj(map[string]any{"notifications": slices.Repeat([]any{map[string]any{"connectionName": "pager"}}, 51)})), nil, []string{"notifications"}, "at most 50"},
		{"unknown connection name", mustJSON(alertObj(notes(map[string]any{"connectionName": "nope"}))), nil, []string{"notifications[0].connectionName"}, `"nope"`},
		{"unknown connection id", mustJSON(alertObj(notes(map[string]any{"connectionName": "pager"}, map[string]any{"connectionId": "0123456789abcdef"}))), nil, []string{"notifications[1].connectionId"}, "0123456789abcdef"},
		{"id and name", mustJSON(alertObj(notes(map[string]any{"connectionName": "pager", "connectionId": "x"}))), nil, []string{"notifications[0]"}, "both"},
		{"neither id nor name", mustJSON(alertObj(notes(map[string]any{"payloadOverride": "{}"}))), nil, []string{"notifications[0]"}, "connectionId or connectionName"},
		{"same connection twice", mustJSON(alertObj(notes(map[string]any{"connectionName": "pager"}, map[string]any{"connectionName": "PAGER"}))), nil, []string{"notifications[1]"}, "again"},
		{"notification unknown field", mustJSON(alertObj(notes(map[string]any{"connectionName": "pager", "payload": "{}"}))), nil, []string{"notifications[0].payload"}, "not a field"},
		{"notification not an object", mustJSON(alertObj(notes("pager"))), nil, []string{"notifications[0]"}, "object"},
		{"override does not parse", mustJSON(alertObj(notes(map[string]any{"connectionName": "pager", "payloadOverride": "{\n  \"a\": {{Name}\n}"}))), nil, []string{"notifications[0].payloadOverride"}, "line 2, column"},
		{"recovery override does not parse", mustJSON(alertObj(notes(map[string]any{"connectionName": "pager", "resolutionPayloadOverride": `{"a": }`}))), nil, []string{"notifications[0].resolutionPayloadOverride"}, "line 1, column"},
		{"override too long", mustJSON(alertObj(notes(map[string]any{"connectionName": "pager", "payloadOverride": `"` + strings.Repeat("x", hookline.MaxDefaultPayloadLen) + `"`}))), nil, []string{"notifications[0].payloadOverride"}, "at most 65536"},
		{"not JSON", `{"name": `, nil, nil, "not valid JSON"},
		{"array body", `[{"name": "x"}]`, nil, nil, "JSON object"},
		{"batch empty", `{"alerts": []}`, nil, []string{"alerts"}, "at least one"},
		{"batch not a list", `{"alerts": {}}`, nil, []string{"alerts"}, "list"},
		{"batch too big", mustJSON(map[string]any{"alerts": many(1001)}), nil, []string{"alerts"}, "at most 1000"},
		{"batch element not object", `{"alerts": [5]}`, nil, []string{"alerts[0]"}, "object"},
		{"batch with header", mustJSON(map[string]any{"alerts": many(1)}), []string{"Idempotency-Key", "k"}, []string{"Idempotency-Key"}, "single alert"},
		{"batch with outer field", mustJSON(map[string]any{"alerts": many(1), "source": "x"}), nil, []string{"source"}, "batch"},
		{
			// Every problem of every alert at once, named by position;
			// the valid alert between them is not stored either.
			"batch problems", mustJSON(map[string]any{"alerts": []any{
				alertObj(map[string]any{"triggerType": "Bad"}),
				alertObj(nil),
				alertObj(notes(map[string]any{"connectionName": "pager", "payloadOverride": "{{Name}"}, map[string]any{"connectionName": "gone"})),
				alertObj(map[string]any{"name": nil, "triggerTimeStart": "2026-11-26T12:00:00Z", "triggerTimeEnd": "2026-11-26T11:00:00Z"}),
			}}), nil,
			[]string{"alerts[0].triggerType", "alerts[2].notifications[0].payloadOverride", "alerts[2].notifications[1].connectionName", "alerts[3].name", "alerts[3].triggerTimeEnd"}, "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, resp := a.post("/api/v1/alerts", tc.body, tc.header...)
			if code != http.StatusBadRequest || resp["code"] != "invalid" {
				t.Fatalf("status %d: %v; want 400 invalid", code, resp)
			}
			if got := fieldsOf(resp); !slices.Equal(got, tc.want) && tc.want != nil {
				t.Errorf("fields %q, want %q; answer %v", got, tc.want, resp)
			}
			if msg, _ := resp["message"].(string); !strings.Contains(msg, tc.text) {
				t.Errorf("message %q does not say %q", msg, tc.text)
			}
		})
	}
	if got := a.disp.accepted(); len(got) != 0 {
		t.Errorf("invalid requests stored %d alerts", len(got))
	}
}

func TestPostAlertsBodyLimit(t *testing.T) {
	a := newAlertAPI(t, false)
	// Larger than the 1 MiB of other routes, within the 10 MiB of batches.
	big := make([]any, 500)
	for i := range big {
		big[i] = alertObj(map[string]any{"description": strings.Repeat("d", 4000)})
	}
	body := mustJSON(map[string]any{"alerts": big})
	if len(body) <= hookhttp.MaxBodyBytes {
		t.Fatalf("test body is only %d bytes", len(body))
	}
	if code, resp := a.post("/api/v1/alerts", body); code != http.StatusAccepted {
		t.Fatalf("%d-byte batch: %d %v", len(body), code, resp)
	}
	huge := `{"alerts": [{"name": "` + strings.Repeat("x", hookhttp.MaxBatchBodyBytes) + `"}]}`
	if code, resp := a.post("/api/v1/alerts", huge); code != http.StatusRequestEntityTooLarge || resp["code"] != "too_large" {
		t.Fatalf("over-limit batch: %d %v, want 413", code, resp)
	}
}

func TestDispatcherErrors(t *testing.T) {
	a := newAlertAPI(t, false)
	for _, tc := range []struct {
		err  error
		want int
	}{
		{hookline.Errorf(hookline.ECONFLICT, "taken"), http.StatusConflict},
		{hookline.Errorf(hookline.ENOTFOUND, "no such delivery"), http.StatusNotFound},
		{fmt.Errorf("disk on fire"), http.StatusInternalServerError},
	} {
		a.disp.mu.Lock()
		a.disp.err = tc.err
		a.disp.mu.Unlock()
		if code, resp := a.post("/api/v1/alerts", mustJSON(alertObj(nil))); code != tc.want {
			t.Errorf("accept failing with %v: %d %v, want %d", tc.err, code, resp, tc.want)
		}
		if code, resp := a.post("/api/v1/deliveries/d1/retry", ""); code != tc.want {
			t.Errorf("replay failing with %v: %d %v, want %d", tc.err, code, resp, tc.want)
		}
	}
	a.disp.err = nil
	code, resp := a.post("/api/v1/deliveries/d1/retry", "")
	want := map[string]any{"id": "d1", "alertId": "alert1", "connectionId": "c1", "triggerType": "Critical", "state": "pending",
		"attempts": 3.0, "nextAttemptAt": "2026-11-26T12:00:00Z", "createdAt": "0001-01-01T00:00:00Z",
		"updatedAt": "0001-01-01T00:00:00Z", "lastStatus": 0.0, "lastError": ""}
	if diff := cmp.Diff(want, resp); code != http.StatusAccepted || diff != "" {
		t.Errorf("replay: %d (-want +got):\n%s", code, diff)
	}
}

func TestAlertRoutesNeedToken(t *testing.T) {
	a := newAlertAPI(t, false)
	for _, route := range []struct{ method, path string }{
		{"POST", "/api/v1/alerts"}, {"GET", "/api/v1/alerts/x"}, {"GET", "/api/v1/deliveries"},
		{"GET", "/api/v1/deliveries/x"}, {"POST", "/api/v1/deliveries/x/retry"},
		{"POST", "/api/v1/receivers/alertmanager?connections=pager"},
	} {
		req, _ := http.NewRequest(route.method, a.url+route.path, strings.NewReader(mustJSON(alertObj(nil))))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", route.method, route.path, resp.StatusCode)
		}
	}
	if n := len(a.disp.accepted()); n != 0 {
		t.Errorf("unauthenticated requests stored %d alerts", n)
	}
}

// TestConnectionChangesReachTheDispatcher checks that an edited or deleted
// connection is not delivered to from a stale copy.
func TestConnectionChangesReachTheDispatcher(t *testing.T) {
	a := newAlertAPI(t, false)
	id := a.conns["pager"]
	edited := mustJSON(map[string]any{"webhookType": "Webhook", "name": "pager", "url": "https://pager.example.com/v2", "defaultPayload": `{}`})
	if code, resp := a.do("PUT", "/api/v1/connections/"+id, edited); code != http.StatusOK {
		t.Fatalf("update: %d %v", code, resp)
	}
	if code, resp := a.do("DELETE", "/api/v1/connections/"+id, ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d %v", code, resp)
	}
	if code, _ := a.do("PUT", "/api/v1/connections/"+id, edited); code != http.StatusNotFound {
		t.Fatalf("update of a deleted connection: %d", code)
	}
	a.disp.mu.Lock()
	defer a.disp.mu.Unlock()
	if !slices.Equal(a.disp.changed, []string{id, id}) {
		t.Errorf("dispatcher told of changes to %q, want the update and the delete of %s", a.disp.changed, id)
	}
}

// TestClientGoneIsNotAnError checks that a sender that goes away while its
// alerts wait to be stored is not answered or logged as an internal error:
// nothing is wrong with the server, and error lines per impatient client
// would hide the real ones.
func TestClientGoneIsNotAnError(t *testing.T) {
	a := newAlertAPI(t, false)
	a.disp.hold = make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, "POST", a.url+"/api/v1/alerts", strings.NewReader(mustJSON(alertObj(nil))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	sent := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		sent <- err
	}()
	select {
	case <-a.disp.hold: // the handler waits in Accept
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached Accept")
	}
	cancel()
	if err := <-sent; err == nil {
		t.Fatal("the canceled request got an answer")
	}
	// The request log line comes once the handler has answered.
	status := func() (int64, bool) {
		for _, r := range a.logs.find("http request") {
			var path string
			var code int64
			r.Attrs(func(at slog.Attr) bool {
				switch at.Key {
				case "path":
					path = at.Value.String()
				case "status":
					code = at.Value.Int64()
				}
				return true
			})
			if path == "/api/v1/alerts" {
				return code, true
			}
		}
		return 0, false
	}
	deadline := time.Now().Add(10 * time.Second)
	code, logged := status()
	for ; !logged; code, logged = status() {
		if time.Now().After(deadline) {
			t.Fatal("the canceled request was never logged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code != http.StatusBadRequest {
		t.Errorf("the canceled request was answered %d; want 400", code)
	}
	for _, r := range a.logs.atLeast(slog.LevelWarn) {
		t.Errorf("a client that went away was logged at %s: %q", r.Level, r.Message)
	}
}

// TestConnectionIndexFindsNewConnections: the index of connections reused
// between requests still finds a connection created behind the server's
// back (on another replica, say), and forgets one deleted through it.
func TestConnectionIndexFindsNewConnections(t *testing.T) {
	a := newAlertAPI(t, false)
	store := a.db
	post := func(name string) int {
		code, _ := a.post("/api/v1/alerts", fmt.Sprintf(`{"name": "x", "triggerType": "Critical", "notifications": [{"connectionName": %q}]}`, name))
		return code
	}
	created := func(name string) {
		c := &hookline.Connection{Name: name, WebhookType: "Webhook", URL: "https://hooks.example.com/", DefaultPayload: `{"a": 1}`,
			Settings: map[string]string{}, Secrets: map[string]string{}}
		if err := store.CreateConnection(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	created("first")
	if code := post("first"); code != http.StatusAccepted {
		t.Fatalf("first: %d", code)
	}
	created("second") // not through the API: the reused index does not know it
	if code := post("second"); code != http.StatusAccepted {
		t.Fatalf("a connection created a moment ago: %d, want 202", code)
	}
	if code := post("third"); code != http.StatusBadRequest {
		t.Fatalf("an unknown connection: %d, want 400", code)
	}
}

// TestResolutionOverrideLimit: a recovery override is held to the limit
// of the recovery payload it replaces, as connections are.
func TestResolutionOverrideLimit(t *testing.T) {
	a := newAlertAPI(t, false)
	override := func(n int) string { return `{"a": "` + strings.Repeat("x", n-len(`{"a": ""}`)) + `"}` }
	for _, tt := range []struct {
		field string
		size  int
		want  int
	}{
		{"resolutionPayloadOverride", hookline.MaxResolutionPayloadLen, http.StatusAccepted},
		{"resolutionPayloadOverride", hookline.MaxResolutionPayloadLen + 1, http.StatusBadRequest},
		// The alert payload's own limit is larger.
		{"payloadOverride", hookline.MaxResolutionPayloadLen + 1, http.StatusAccepted},
	} {
		src := override(tt.size)
		if len(src) != tt.size {
			t.Fatalf("override of %d bytes, want %d", len(src), tt.size)
		}
		body := mustJSON(alertObj(map[string]any{"triggerType": "ResolvedCritical",
			"notifications": []any{map[string]any{"connectionName": "pager", tt.field: src}}}))
		code, resp := a.post("/api/v1/alerts", body)
		if code != tt.want {
			t.Errorf("%s of %d bytes: %d %v, want %d", tt.field, tt.size, code, resp, tt.want)
		}
		if code == http.StatusBadRequest {
			msg, _ := resp["message"].(string)
			if got := fieldsOf(resp); !slices.Equal(got, []string{"notifications[0]." + tt.field}) || !strings.Contains(msg, "at most 4096") {
				t.Errorf("fields %q, message %q; want %s at most 4096", got, msg, tt.field)
			}
		}
	}
}

// listedAlerts is a page of GET /api/v1/alerts.
type listedAlerts struct {
	Data []map[string]any `json:"data"`
	Next *string          `json:"next"`
}

func (a *alertAPI) listAlerts(query string) (int, listedAlerts, map[string]any) {
	a.t.Helper()
	code, raw := a.do("GET", "/api/v1/alerts"+query, "")
	var page listedAlerts
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &page); err != nil {
		a.t.Fatal(err)
	}
	return code, page, raw
}

func idsOf(page listedAlerts) []string {
	ids := make([]string, len(page.Data))
	for i, x := range page.Data {
		ids[i], _ = x["id"].(string)
	}
	return ids
}

func TestListAlerts(t *testing.T) {
	a := newAlertAPI(t, true)
	send := func(source, trigger string, n int) []string {
		t.Helper()
		alerts := make([]any, n)
		for i := range alerts {
			alerts[i] = alertObj(map[string]any{"source": source, "triggerType": trigger, "numQueryResults": 3,
				"triggerTime": "2026-11-26T11:59:00Z", "name": fmt.Sprintf("%s alert %d", trigger, i)})
		}
		code, resp := a.post("/api/v1/alerts", mustJSON(map[string]any{"alerts": alerts}))
		if code != http.StatusAccepted {
			t.Fatalf("post: %d %v", code, resp)
		}
		var ids []string
		for _, x := range resp["alerts"].([]any) {
			ids = append(ids, x.(map[string]any)["id"].(string))
		}
		return ids
	}
	monitor := send("monitor:M1", "Critical", 3)
	time.Sleep(20 * time.Millisecond)
	mid := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	search := send("search:S1", "Warning", 2)
	api := send("", "ResolvedCritical", 1)

	code, all, raw := a.listAlerts("")
	if code != http.StatusOK || len(all.Data) != 6 || all.Next != nil {
		t.Fatalf("list: %d %v", code, raw)
	}
	first := all.Data[0]
	ds, _ := first["deliveries"].([]any)
	d, _ := ds[0].(map[string]any)
	if first["id"] != api[0] || first["source"] != "api" || first["name"] != "ResolvedCritical alert 0" || first["triggerType"] != "ResolvedCritical" ||
		first["numQueryResults"] != 3.0 || first["triggerTime"] != "2026-11-26T11:59:00Z" || first["receivedAt"] == nil ||
		len(ds) != 1 || d["connectionId"] != a.conns["Blocker"] || d["state"] != "pending" || d["attempts"] != 0.0 {
		t.Errorf("newest alert: %v", first)
	}
	for _, x := range all.Data {
		if _, ok := x["results"]; ok {
			t.Errorf("a listed alert has its results: %v", x)
		}
	}
	// Newest first: each batch is stored in one transaction, so only the
	// batches' order is certain.
	if got := idsOf(all); !sameSet(got[:1], api) || !sameSet(got[1:3], search) || !sameSet(got[3:], monitor) {
		t.Errorf("order %v; want %v, then %v, then %v", got, api, search, monitor)
	}

	tests := []struct {
		query string
		want  []string
	}{
		{"?source=monitor:M1", monitor},
		{"?source=search:S1", search},
		{"?source=api", api},
		{"?source=search:S2", nil},
		{"?triggerType=Warning", search},
		{"?triggerType=Critical&source=monitor:M1", monitor},
		{"?triggerType=Critical&source=search:S1", nil},
		{"?since=" + mid.Format(time.RFC3339Nano), append(append([]string{}, search...), api...)},
		{"?until=" + mid.Format(time.RFC3339Nano), monitor},
		{"?since=" + mid.Add(-time.Hour).Format(time.RFC3339) + "&until=" + mid.Format(time.RFC3339Nano) + "&source=monitor:M1", monitor},
	}
	for _, tt := range tests {
		code, page, raw := a.listAlerts(tt.query)
		if code != http.StatusOK || !sameSet(idsOf(page), tt.want) {
			t.Errorf("%s: %d %v, want %v", tt.query, code, raw, tt.want)
		}
	}

	// Pages of two follow each other to the whole list.
	var paged []string
	query := "?limit=2"
	for range 10 {
		code, page, raw := a.listAlerts(query)
		if code != http.StatusOK || len(page.Data) > 2 {
			t.Fatalf("%s: %d %v", query, code, raw)
		}
		paged = append(paged, idsOf(page)...)
		if page.Next == nil {
			break
		}
		query = "?limit=2&token=" + *page.Next
	}
	if !slices.Equal(paged, idsOf(all)) {
		t.Errorf("paged %v, want %v", paged, idsOf(all))
	}
	// A filter holds across pages.
	code, page, _ := a.listAlerts("?source=monitor:M1&limit=2")
	if code != http.StatusOK || len(page.Data) != 2 || page.Next == nil {
		t.Fatalf("first filtered page: %d %v", code, page)
	}
	_, rest, _ := a.listAlerts("?source=monitor:M1&limit=2&token=" + *page.Next)
	if got := append(idsOf(page), idsOf(rest)...); !sameSet(got, monitor) || rest.Next != nil {
		t.Errorf("filtered pages %v, want %v", got, monitor)
	}
}

// sameSet reports whether a and b hold the same IDs in any order.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func TestListAlertsInvalid(t *testing.T) {
	a := newAlertAPI(t, true)
	tests := []struct {
		query string
		field string
	}{
		{"?limit=0", "limit"},
		{"?limit=1001", "limit"},
		{"?limit=many", "limit"},
		{"?triggerType=Bad", "triggerType"},
		{"?since=yesterday", "since"},
		{"?until=2026-11-26", "until"},
		{"?since=2026-11-26T12:00:00Z&until=2026-11-26T11:00:00Z", "until"},
		{"?state=failed", "state"},
		{"?source=a&source=b", "source"},
		{"?token=not-a-token", "token"},
	}
	for _, tt := range tests {
		code, resp := a.do("GET", "/api/v1/alerts"+tt.query, "")
		if code != http.StatusBadRequest || !slices.Equal(fieldsOf(resp), []string{tt.field}) {
			t.Errorf("%s: %d %v, want 400 naming %s", tt.query, code, resp, tt.field)
		}
	}
}
