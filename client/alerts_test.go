package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
)

// canned is an answer the fake API gives to one route.
type canned struct {
	status int
	body   string
}

// seenRequest is a request the fake API received.
type seenRequest struct {
	method, path, rawPath string
	query                 map[string][]string
	auth                  string
	body                  string
}

// fakeAPI serves canned JSON by "METHOD /path" (the decoded path) and
// records what it was sent; any other route is a test failure and a 404.
type fakeAPI struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string]canned
	// answer, when set, is asked first, with mu held.
	answer func(r *http.Request) (canned, bool)
	seen   []seenRequest
}

func newFakeAPI(t *testing.T, routes map[string]canned) (*fakeAPI, *client.Client) {
	t.Helper()
	f := &fakeAPI{t: t, routes: routes}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, client.New(srv.URL, testToken)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.Query(), r.Header.Get("Authorization"), string(body)})
	a, ok := canned{}, false
	if f.answer != nil {
		a, ok = f.answer(r)
	}
	if !ok {
		a, ok = f.routes[r.Method+" "+r.URL.Path]
	}
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		a = canned{404, `{"status":404,"code":"not_found","message":"no such route"}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (f *fakeAPI) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// jsonDiff compares two JSON texts as values.
func jsonDiff(t *testing.T, want, got string) string {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	return cmp.Diff(w, g)
}

const acceptAnswer = `{"alerts": [
	{"id": "A1", "duplicate": false, "deliveries": [
		{"id": "D1", "connectionId": "C1", "state": "pending"},
		{"id": "D2", "connectionId": "C2", "state": "pending"}]},
	{"id": "A0", "duplicate": true, "deliveries": [{"id": "D0", "connectionId": "C1", "state": "delivered"}]}]}`

func TestSendAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, c := newFakeAPI(t, map[string]canned{"POST /api/v1/alerts": {202, acceptAnswer}})
	trigger := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	alerts := []client.AlertRequest{
		{
			AlertEvent: client.AlertEvent{
				Name: "Suspicious IP", Description: "too many logins", TriggerType: client.TriggerCritical,
				TriggerTime: trigger,
				Results:     []client.Row{{"client_ip": "203.0.113.7", "_count": json.Number("12345678901234567890")}},
				Variables:   map[string]string{"Playbook": "block it"},
				TimeZone:    "Europe/Berlin",
			},
			IdempotencyKey: "k-1",
			Notifications: []client.Notification{
				{ConnectionID: "C1"},
				{ConnectionName: "chat", PayloadOverride: `{"text": "{{Name}}"}`},
			},
		},
		{
			AlertEvent:    client.AlertEvent{Name: "again", TriggerType: client.TriggerResolvedCritical},
			Source:        "cron",
			Notifications: []client.Notification{{ConnectionID: "C1", ResolutionPayloadOverride: `{"ok": true}`}},
		},
	}
	got, err := c.SendAlerts(ctx, alerts)
	if err != nil {
		t.Fatal(err)
	}
	want := client.AcceptResult{Alerts: []client.AcceptedAlert{
		{ID: "A1", Deliveries: []client.DeliveryRef{{ID: "D1", ConnectionID: "C1", State: "pending"}, {ID: "D2", ConnectionID: "C2", State: "pending"}}},
		{ID: "A0", Duplicate: true, Deliveries: []client.DeliveryRef{{ID: "D0", ConnectionID: "C1", State: "delivered"}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	reqs := fake.requests()
	if len(reqs) != 1 || reqs[0].auth != "Bearer "+testToken {
		t.Fatalf("requests = %+v", reqs)
	}
	// The batch form, with only the fields that were set; the big number
	// goes as written.
	wantBody := `{"alerts": [
		{"name": "Suspicious IP", "description": "too many logins", "triggerType": "Critical",
		 "triggerTime": "2026-11-26T12:00:00Z",
		 "results": [{"client_ip": "203.0.113.7", "_count": 12345678901234567890}],
		 "variables": {"Playbook": "block it"}, "timeZone": "Europe/Berlin",
		 "idempotencyKey": "k-1",
		 "notifications": [{"connectionId": "C1"}, {"connectionName": "chat", "payloadOverride": "{\"text\": \"{{Name}}\"}"}]},
		{"name": "again", "triggerType": "ResolvedCritical", "source": "cron",
		 "notifications": [{"connectionId": "C1", "resolutionPayloadOverride": "{\"ok\": true}"}]}]}`
	if diff := jsonDiff(t, wantBody, reqs[0].body); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
	if !strings.Contains(reqs[0].body, "12345678901234567890") {
		t.Errorf("the big number lost digits: %s", reqs[0].body)
	}
}

func TestSendAlertsErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, c := newFakeAPI(t, map[string]canned{"POST /api/v1/alerts": {400, `{"status":400,"code":"invalid","message":"invalid input",
		"errors":[{"code":"invalid","field":"alerts[0].triggerType","message":"must be one of Critical, ..."},
		          {"code":"invalid","field":"alerts[0].notifications[0].connectionName","message":"no connection is named \"x\""}]}`}})

	if _, err := c.SendAlerts(ctx, nil); err == nil || !strings.Contains(err.Error(), "no alerts to send") {
		t.Errorf("SendAlerts(nil) = %v", err)
	}
	if n := len(fake.requests()); n != 0 {
		t.Errorf("an empty batch sent %d requests", n)
	}

	_, err := c.SendAlerts(ctx, []client.AlertRequest{{AlertEvent: client.AlertEvent{Name: "x", TriggerType: "Bad"}}})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("err = %v, want a 400 *APIError", err)
	}
	var fields []string
	for _, f := range ae.FieldErrors() {
		fields = append(fields, f.Field)
	}
	if want := []string{"alerts[0].triggerType", "alerts[0].notifications[0].connectionName"}; !cmp.Equal(want, fields) {
		t.Errorf("fields = %v, want %v", fields, want)
	}
	if !strings.HasPrefix(err.Error(), "send alerts: 400 invalid: alerts[0].triggerType: ") {
		t.Errorf("err = %q", err)
	}
}

const alertAnswer = `{"id": "A/1", "source": "api", "idempotencyKey": "k-1", "receivedAt": "2026-11-26T12:00:01.5Z",
	"name": "Suspicious IP", "description": "too many logins", "monitorType": "Logs", "query": "_sourceCategory=auth",
	"queryUrl": "https://logs.example.com/q", "results": [{"client_ip": "203.0.113.7", "_count": 12345678901234567890, "ok": true}],
	"numQueryResults": 3, "sourceId": "M1", "detectionMethod": "LogsStaticCondition", "triggerType": "Critical",
	"triggerCondition": "> 10", "triggerValue": "12", "triggerTime": "2026-11-26T12:00:00Z",
	"triggerTimeStart": "2026-11-26T11:45:00Z", "triggerTimeEnd": "2026-11-26T12:00:00Z",
	"sourceUrl": "https://logs.example.com/m/1", "alertResponseUrl": "https://logs.example.com/r/1",
	"variables": {"Playbook": "block it"}, "timeZone": "Europe/Berlin",
	"deliveries": [{"id": "D1", "alertId": "A/1", "connectionId": "C1", "triggerType": "Critical", "state": "pending",
		"attempts": 1, "nextAttemptAt": "2026-11-26T12:00:11Z", "createdAt": "2026-11-26T12:00:01Z",
		"updatedAt": "2026-11-26T12:00:01.2Z", "lastStatus": 503, "lastError": "503 Service Unavailable"}]}`

func TestGetAlert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, c := newFakeAPI(t, map[string]canned{"GET /api/v1/alerts/A/1": {200, alertAnswer}})
	got, err := c.GetAlert(ctx, "A/1")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	want := client.Alert{
		ID: "A/1", Source: "api", IdempotencyKey: "k-1", ReceivedAt: at("2026-11-26T12:00:01.5Z"),
		AlertEvent: client.AlertEvent{
			Name: "Suspicious IP", Description: "too many logins", MonitorType: "Logs", Query: "_sourceCategory=auth",
			QueryURL:        "https://logs.example.com/q",
			Results:         []client.Row{{"client_ip": "203.0.113.7", "_count": json.Number("12345678901234567890"), "ok": true}},
			NumQueryResults: 3, SourceID: "M1", DetectionMethod: "LogsStaticCondition", TriggerType: "Critical",
			TriggerCondition: "> 10", TriggerValue: "12", TriggerTime: at("2026-11-26T12:00:00Z"),
			TriggerTimeStart: at("2026-11-26T11:45:00Z"), TriggerTimeEnd: at("2026-11-26T12:00:00Z"),
			SourceURL: "https://logs.example.com/m/1", AlertResponseURL: "https://logs.example.com/r/1",
			Variables: map[string]string{"Playbook": "block it"}, TimeZone: "Europe/Berlin",
		},
		Deliveries: []client.Delivery{{
			ID: "D1", AlertID: "A/1", ConnectionID: "C1", TriggerType: "Critical", State: "pending", Attempts: 1,
			NextAttemptAt: at("2026-11-26T12:00:11Z"), CreatedAt: at("2026-11-26T12:00:01Z"),
			UpdatedAt: at("2026-11-26T12:00:01.2Z"), LastStatus: 503, LastError: "503 Service Unavailable",
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alert (-want +got):\n%s", diff)
	}
	// Encoded again, it is the server's answer: -o json prints it whole.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := jsonDiff(t, alertAnswer, string(b)); diff != "" {
		t.Errorf("re-encoded alert (-server +client):\n%s", diff)
	}
	if p := fake.requests()[0].rawPath; p != "/api/v1/alerts/A%2F1" {
		t.Errorf("path = %s, want the ID escaped", p)
	}

	if _, err := c.GetAlert(ctx, ""); err == nil || !strings.Contains(err.Error(), "alert ID is empty") {
		t.Errorf("GetAlert(\"\") = %v", err)
	}
	if n := len(fake.requests()); n != 1 {
		t.Errorf("an empty ID sent a request")
	}
}

// Send an alert to two connections, by name, and print its deliveries.
func ExampleClient_SendAlerts() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("HOOKLINE_TOKEN"))

	res, err := c.SendAlerts(ctx, []client.AlertRequest{{
		AlertEvent: client.AlertEvent{
			Name:        "Suspicious IP",
			TriggerType: client.TriggerCritical,
			Results:     []client.Row{{"client_ip": "203.0.113.7", "_count": 1542}},
			Variables:   map[string]string{"Playbook": "Block the IP"},
		},
		// Sending it again with this key does nothing.
		IdempotencyKey: "login-spike-2026-11-26",
		Notifications: []client.Notification{
			{ConnectionName: "block-ip"},
			{ConnectionName: "team chat", PayloadOverride: `{"text": "{{Name}}: {{ResultsJson.client_ip}}"}`},
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range res.Alerts[0].Deliveries {
		fmt.Println(d.ID, d.ConnectionID, d.State)
	}
}

func TestListAlerts(t *testing.T) {
	ctx := context.Background()
	url, db, connID := storeServer(t)
	c := client.New(url, testToken)
	accept := func(source string, trigger hookline.TriggerType, n int) []string {
		t.Helper()
		alerts := make([]*hookline.AcceptedAlert, n)
		for i := range alerts {
			alerts[i] = &hookline.AcceptedAlert{Source: source, Alert: hookline.Alert{
				Name: fmt.Sprintf("%s %d", source, i), TriggerType: trigger, NumQueryResults: 2,
				Results: []hookline.Row{{"ip": "203.0.113.7"}, {"ip": "203.0.113.8"}}},
				Deliveries: []*hookline.Delivery{{ConnectionID: connID, TriggerType: trigger}}}
		}
		if err := db.AcceptAlerts(ctx, "", alerts); err != nil {
			t.Fatal(err)
		}
		ids := make([]string, n)
		for i, a := range alerts {
			ids[i] = a.ID
		}
		return ids
	}
	early := accept("monitor:M1", hookline.TriggerCritical, 3)
	time.Sleep(20 * time.Millisecond)
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	late := accept("search:S1", hookline.TriggerWarning, 2)

	page, err := c.ListAlerts(ctx, client.AlertFilter{})
	if err != nil || len(page.Data) != 5 || page.Next != "" {
		t.Fatalf("ListAlerts: %+v, %v", page, err)
	}
	a := page.Data[0]
	if a.Source != "search:S1" || a.TriggerType != "Warning" || a.NumQueryResults != 2 || a.Results != nil || a.ReceivedAt.IsZero() ||
		len(a.Deliveries) != 1 || a.Deliveries[0].ConnectionID != connID || a.Deliveries[0].State != client.StatePending {
		t.Errorf("newest alert: %+v", a)
	}

	ids := func(l *client.AlertList) []string {
		out := make([]string, len(l.Data))
		for i, a := range l.Data {
			out[i] = a.ID
		}
		return slices.Sorted(slices.Values(out))
	}
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }
	for _, tt := range []struct {
		name string
		f    client.AlertFilter
		want []string
	}{
		{"source", client.AlertFilter{Source: "monitor:M1"}, early},
		{"trigger type", client.AlertFilter{TriggerType: client.TriggerWarning}, late},
		{"both", client.AlertFilter{Source: "monitor:M1", TriggerType: client.TriggerWarning}, nil},
		{"since", client.AlertFilter{Since: mid}, late},
		{"until", client.AlertFilter{Until: mid}, early},
	} {
		got, err := c.ListAlerts(ctx, tt.f)
		if err != nil || !slices.Equal(ids(got), sorted(tt.want)) {
			t.Errorf("%s: %v, %v; want %v", tt.name, ids(got), err, tt.want)
		}
	}

	var paged []string
	f := client.AlertFilter{Limit: 2}
	for range 5 {
		page, err := c.ListAlerts(ctx, f)
		if err != nil || len(page.Data) > 2 {
			t.Fatalf("page: %+v, %v", page, err)
		}
		for _, a := range page.Data {
			paged = append(paged, a.ID)
		}
		if page.Next == "" {
			break
		}
		f.Token = page.Next
	}
	if !slices.Equal(sorted(paged), sorted(append(append([]string{}, early...), late...))) {
		t.Errorf("pages hold %v", paged)
	}

	_, err = c.ListAlerts(ctx, client.AlertFilter{TriggerType: "Bad"})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.FieldErrors()) != 1 || ae.FieldErrors()[0].Field != "triggerType" {
		t.Errorf("bad trigger type: %v", err)
	}
}
