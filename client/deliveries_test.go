package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/client"
)

func delivery(id, state string) string {
	return `{"id": "` + id + `", "alertId": "A1", "connectionId": "C1", "triggerType": "Critical", "state": "` + state + `",
		"attempts": 2, "createdAt": "2026-11-26T12:00:00Z", "updatedAt": "2026-11-26T12:01:00Z", "lastStatus": 500, "lastError": "500 Internal Server Error"}`
}

func TestListDeliveriesQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	since := time.Date(2026, 11, 26, 13, 0, 0, 500, time.FixedZone("CET", 3600))
	until := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		filter client.DeliveryFilter
		want   url.Values
	}{
		{"everything", client.DeliveryFilter{}, url.Values{}},
		{
			name:   "every filter, times in UTC",
			filter: client.DeliveryFilter{ConnectionID: "C 1", AlertID: "A1", State: client.StateDead, Since: since, Until: until, Limit: 5, Token: "t/2"},
			want: url.Values{
				"connectionId": {"C 1"}, "alertId": {"A1"}, "state": {"dead"},
				"since": {"2026-11-26T12:00:00.0000005Z"}, "until": {"2026-11-27T00:00:00Z"},
				"limit": {"5"}, "token": {"t/2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFakeAPI(t, map[string]canned{"GET /api/v1/deliveries": {200, `{"data": [` + delivery("D2", "dead") + `], "next": null}`}})
			page, err := c.ListDeliveries(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Data) != 1 || page.Data[0].ID != "D2" || page.Next != "" {
				t.Errorf("page = %+v", page)
			}
			if diff := cmp.Diff(map[string][]string(tt.want), fake.requests()[0].query); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// The fake answers by token: "" → page 1, "p2" → page 2 (the last).
	pages := map[string]string{
		"":   `{"data": [` + delivery("D3", "pending") + `,` + delivery("D2", "failed") + `], "next": "p2"}`,
		"p2": `{"data": [` + delivery("D1", "delivered") + `], "next": null}`,
	}
	fake, c := newFakeAPI(t, nil)
	fake.answer = func(r *http.Request) (canned, bool) {
		body, ok := pages[r.URL.Query().Get("token")]
		return canned{200, body}, ok && r.URL.Path == "/api/v1/deliveries"
	}

	all, err := c.AllDeliveries(ctx, client.DeliveryFilter{State: client.StateFailed, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range all {
		ids = append(ids, d.ID)
	}
	if want := []string{"D3", "D2", "D1"}; !cmp.Equal(want, ids) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	reqs := fake.requests()
	if len(reqs) != 2 || reqs[1].query["token"][0] != "p2" || reqs[1].query["state"][0] != "failed" || reqs[1].query["limit"][0] != "2" {
		t.Errorf("requests = %+v, want the filter kept on every page", reqs)
	}

	// A server that hands out the same token again would loop forever.
	fake.mu.Lock()
	pages["p2"] = `{"data": [], "next": "p2"}`
	fake.mu.Unlock()
	if _, err := c.AllDeliveries(ctx, client.DeliveryFilter{}); err == nil || !strings.Contains(err.Error(), `page token "p2" twice`) {
		t.Errorf("repeated token: %v", err)
	}
}

const detailsAnswer = `{"id": "D1", "alertId": "A1", "connectionId": "C1", "triggerType": "ResolvedCritical", "state": "dead",
	"createdAt": "2026-11-26T12:00:00Z", "updatedAt": "2026-11-27T12:00:00Z", "lastStatus": 0, "lastError": "no answer within 15s (timeout)",
	"attempts": [
		{"n": 1, "startedAt": "2026-11-26T12:00:00.1Z", "latencyMs": 12.5, "statusCode": 503, "error": "", "response": "busy", "retryAt": "2026-11-26T12:00:10Z"},
		{"n": 2, "startedAt": "2026-11-26T12:00:10Z", "latencyMs": 15000, "statusCode": 0, "error": "no answer within 15s (timeout)", "response": "", "retryAt": null}]}`

func TestGetDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, c := newFakeAPI(t, map[string]canned{"GET /api/v1/deliveries/D1": {200, detailsAnswer}})
	got, err := c.GetDelivery(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	want := client.DeliveryDetails{
		Delivery: client.Delivery{
			ID: "D1", AlertID: "A1", ConnectionID: "C1", TriggerType: "ResolvedCritical", State: "dead", Attempts: 2,
			CreatedAt: at("2026-11-26T12:00:00Z"), UpdatedAt: at("2026-11-27T12:00:00Z"), LastError: "no answer within 15s (timeout)",
		},
		Log: []client.DeliveryAttempt{
			{N: 1, StartedAt: at("2026-11-26T12:00:00.1Z"), LatencyMs: 12.5, StatusCode: 503, Response: "busy", RetryAt: at("2026-11-26T12:00:10Z")},
			{N: 2, StartedAt: at("2026-11-26T12:00:10Z"), LatencyMs: 15000, Error: "no answer within 15s (timeout)"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivery (-want +got):\n%s", diff)
	}
	if !got.Final() {
		t.Error("a dead delivery is final")
	}

	// Encoded again it is the server's answer, but for the null it leaves out.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := jsonDiff(t, strings.Replace(detailsAnswer, `, "retryAt": null`, "", 1), string(b)); diff != "" {
		t.Errorf("re-encoded (-server +client):\n%s", diff)
	}
	if n := len(fake.requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
}

func TestDeliveryDetailsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		attempts int
		log      int
		wantErr  string
	}{
		{"a log", `{"id": "D", "attempts": [{"n": 1}, {"n": 2}]}`, 2, 2, ""},
		{"a count and no log", `{"id": "D", "attempts": 3}`, 3, 0, ""},
		{"an empty log", `{"id": "D", "attempts": []}`, 0, 0, ""},
		{"neither", `{"id": "D"}`, 0, 0, ""},
		{"a bad log", `{"id": "D", "attempts": [{"n": "one"}]}`, 0, 0, `field "attempts"`},
		{"not an object", `[1]`, 0, 0, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d client.DeliveryDetails
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != "D" || d.Attempts != tt.attempts || len(d.Log) != tt.log {
				t.Errorf("got %+v, want %d attempts, %d in the log", d, tt.attempts, tt.log)
			}
		})
	}
}

func TestRetryDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, c := newFakeAPI(t, map[string]canned{
		"POST /api/v1/deliveries/D1/retry": {202, `{"id": "D1", "alertId": "A1", "connectionId": "C1", "triggerType": "Critical", "state": "pending",
			"attempts": 10, "nextAttemptAt": "2026-11-27T12:00:00Z", "createdAt": "2026-11-26T12:00:00Z", "updatedAt": "2026-11-27T12:00:00Z", "lastStatus": 500, "lastError": ""}`},
		"POST /api/v1/deliveries/D2/retry": {409, `{"status": 409, "code": "conflict", "message": "delivery D2 is still pending"}`},
		"POST /api/v1/deliveries/D3/retry": {404, `{"status": 404, "code": "not_found", "message": "delivery D3 not found"}`},
	})
	d, err := c.RetryDelivery(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != client.StatePending || d.Final() || d.Attempts != 10 || d.NextAttemptAt.IsZero() {
		t.Errorf("retried = %+v", d)
	}
	for _, tt := range []struct {
		id     string
		status int
		code   string
	}{{"D2", 409, "conflict"}, {"D3", 404, "not_found"}} {
		_, err := c.RetryDelivery(ctx, tt.id)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != tt.status || ae.Code != tt.code {
			t.Errorf("RetryDelivery(%s) = %v, want %d %s", tt.id, err, tt.status, tt.code)
		}
		if !strings.HasPrefix(err.Error(), "retry delivery "+tt.id+": ") {
			t.Errorf("err = %q, want it to name the delivery", err)
		}
	}
	for _, call := range []func() error{
		func() error { _, err := c.RetryDelivery(ctx, ""); return err },
		func() error { _, err := c.GetDelivery(ctx, ""); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "delivery ID is empty") {
			t.Errorf("empty ID: %v", err)
		}
	}
	if n := len(fake.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (none for empty IDs)", n)
	}
}

// Replay every delivery that died in the last day.
func ExampleClient_AllDeliveries() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("HOOKLINE_TOKEN"))

	dead, err := c.AllDeliveries(ctx, client.DeliveryFilter{State: client.StateDead, Since: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range dead {
		if _, err := c.RetryDelivery(ctx, d.ID); err != nil {
			log.Print(err) // a 409 *APIError if it is pending again already
		}
	}
}
