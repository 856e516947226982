package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// get returns the raw answer, for checks the decoded form would hide.
func (a *alertAPI) get(path string) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func ids(list []any) []string {
	var out []string
	for _, x := range list {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

// TestDeliveryLog accepts alerts into the real store, records attempts as
// the dispatcher would, and reads them back through the API.
func TestDeliveryLog(t *testing.T) {
	a := newAlertAPI(t, true)
	body := mustJSON(map[string]any{"alerts": []any{
		alertObj(map[string]any{
			"results":        []any{map[string]any{"bytes": json.Number("12345678901234567890")}},
			"idempotencyKey": "evt-9", "source": "billing",
			"notifications": []any{map[string]any{"connectionName": "Blocker"}, map[string]any{"connectionName": "pager"}},
		}),
		alertObj(map[string]any{"triggerType": "ResolvedCritical", "notifications": []any{map[string]any{"connectionName": "pager"}}}),
	}})
	code, resp := a.post("/api/v1/alerts", body)
	if code != http.StatusAccepted {
		t.Fatalf("accept: %d %v", code, resp)
	}
	accepted := resp["alerts"].([]any)
	alertID := accepted[0].(map[string]any)["id"].(string)
	toBlocker := ids(accepted[0].(map[string]any)["deliveries"].([]any))[0]
	toPager := ids(accepted[0].(map[string]any)["deliveries"].([]any))[1]
	recovery := ids(accepted[1].(map[string]any)["deliveries"].([]any))[0]

	// The alert as stored, with its deliveries; a big number keeps its digits.
	code, raw := a.get("/api/v1/alerts/" + alertID)
	if code != http.StatusOK || !strings.Contains(raw, `"bytes": 12345678901234567890`) {
		t.Fatalf("get alert: %d %s", code, raw)
	}
	code, got := a.do("GET", "/api/v1/alerts/"+alertID, "")
	if code != http.StatusOK || got["id"] != alertID || got["source"] != "billing" || got["idempotencyKey"] != "evt-9" ||
		got["name"] != "Suspicious IP" || got["triggerType"] != "Critical" || got["receivedAt"] == nil {
		t.Errorf("get alert: %d %v", code, got)
	}
	ds := got["deliveries"].([]any)
	if !slices.Equal(ids(ds), []string{toBlocker, toPager}) {
		t.Errorf("alert's deliveries %v, want %v", ids(ds), []string{toBlocker, toPager})
	}
	if d := ds[0].(map[string]any); d["state"] != "pending" || d["nextAttemptAt"] == nil || d["alertId"] != alertID || d["connectionId"] != a.conns["Blocker"] {
		t.Errorf("pending delivery: %v", d)
	}

	// Attempts, as the dispatcher records them.
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	record := func(id string, n, status int, state hookline.DeliveryState, errText string) {
		t.Helper()
		res := hookline.AttemptResult{State: state, Attempt: hookline.DeliveryAttempt{
			DeliveryID: id, N: n, StartedAt: t0.Add(time.Duration(n) * time.Minute), Latency: 1500 * time.Microsecond,
			StatusCode: status, Error: errText, Response: `{"ok": false}`,
		}}
		if state == hookline.DeliveryPending {
			res.NextAttemptAt = t0.Add(time.Hour)
			res.Attempt.RetryAt = res.NextAttemptAt
		}
		if err := a.db.RecordAttempts(context.Background(), "", []hookline.AttemptResult{res}); err != nil {
			t.Fatal(err)
		}
	}
	record(toBlocker, 1, 503, hookline.DeliveryPending, "503 Service Unavailable")
	record(toBlocker, 2, 200, hookline.DeliveryDelivered, "")
	record(toPager, 1, 400, hookline.DeliveryFailed, "400 Bad Request")

	code, got = a.do("GET", "/api/v1/deliveries/"+toBlocker, "")
	if code != http.StatusOK {
		t.Fatalf("get delivery: %d %v", code, got)
	}
	if _, ok := got["nextAttemptAt"]; ok || got["state"] != "delivered" || got["lastStatus"] != 200.0 || got["triggerType"] != "Critical" {
		t.Errorf("delivered delivery: %v", got)
	}
	attempts, _ := got["attempts"].([]any)
	if len(attempts) != 2 {
		t.Fatalf("attempts %v, want a list of 2", got["attempts"])
	}
	first := attempts[0].(map[string]any)
	want := map[string]any{"n": 1.0, "startedAt": "2026-11-26T12:01:00Z", "latencyMs": 1.5, "statusCode": 503.0,
		"error": "503 Service Unavailable", "response": `{"ok": false}`, "retryAt": "2026-11-26T13:00:00Z"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("attempt 1 %s = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := attempts[1].(map[string]any)["retryAt"]; ok {
		t.Errorf("the last attempt shows a retry: %v", attempts[1])
	}

	// The log, filtered and paged, newest first.
	list := func(query string) ([]string, any) {
		t.Helper()
		code, resp := a.do("GET", "/api/v1/deliveries?"+query, "")
		if code != http.StatusOK {
			t.Fatalf("list %s: %d %v", query, code, resp)
		}
		return ids(resp["data"].([]any)), resp["next"]
	}
	all, next := list("")
	if len(all) != 3 || next != nil {
		t.Fatalf("all: %v next %v", all, next)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"state=failed", []string{toPager}},
		{"state=pending", []string{recovery}},
		{"connectionId=" + a.conns["pager"], []string{toPager, recovery}},
		{"alertId=" + alertID + "&state=delivered", []string{toBlocker}},
		{"since=2100-01-01T00:00:00Z", nil},
		{"until=2000-01-01T00:00:00Z", nil},
	} {
		got, _ := list(tc.query)
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	var paged []string
	query := "limit=2"
	for range 3 {
		page, next := list(query)
		paged = append(paged, page...)
		if next == nil {
			break
		}
		query = "limit=2&token=" + url.QueryEscape(next.(string))
	}
	if !slices.Equal(paged, all) {
		t.Errorf("pages %v, want %v", paged, all)
	}

	// A replay keeps the ID; a pending delivery cannot be replayed.
	code, got = a.do("POST", "/api/v1/deliveries/"+toPager+"/retry", "")
	if code != http.StatusAccepted || got["id"] != toPager || got["state"] != "pending" || got["attempts"] != 1.0 || got["nextAttemptAt"] == nil {
		t.Errorf("retry: %d %v", code, got)
	}
	if code, got := a.do("POST", "/api/v1/deliveries/"+toPager+"/retry", ""); code != http.StatusConflict {
		t.Errorf("retry of a pending delivery: %d %v, want 409", code, got)
	}
	// A delivered one is not sent again: its target already acted on it.
	code, got = a.do("POST", "/api/v1/deliveries/"+toBlocker+"/retry", "")
	if msg, _ := got["message"].(string); code != http.StatusConflict || got["code"] != "conflict" || !strings.Contains(msg, "already delivered") {
		t.Errorf("retry of a delivered delivery: %d %v, want 409 saying it was already delivered", code, got)
	}
	if code, got := a.do("GET", "/api/v1/deliveries/"+toBlocker, ""); code != http.StatusOK || got["state"] != "delivered" {
		t.Errorf("after a refused retry: %d %v, want it still delivered", code, got)
	}
	for _, path := range []string{"/api/v1/alerts/nope", "/api/v1/deliveries/nope"} {
		if code, got := a.do("GET", path, ""); code != http.StatusNotFound {
			t.Errorf("GET %s: %d %v, want 404", path, code, got)
		}
	}
	if code, got := a.do("POST", "/api/v1/deliveries/nope/retry", ""); code != http.StatusNotFound {
		t.Errorf("retry of an unknown delivery: %d %v, want 404", code, got)
	}
}

func TestDeliveryListValidation(t *testing.T) {
	a := newAlertAPI(t, true)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"state=lost", []string{"state"}},
		{"limit=0", []string{"limit"}},
		{"limit=1001", []string{"limit"}},
		{"limit=ten", []string{"limit"}},
		{"since=yesterday&until=2026-11-26", []string{"since", "until"}},
		{"since=2026-11-26T12:00:00Z&until=2026-11-26T11:00:00Z", []string{"until"}},
		{"state=lost&limit=-1&since=x", []string{"state", "since", "limit"}},
		{"token=forged", []string{"token"}},
		// Unknown parameters are refused, not ignored: a misspelt filter
		// would list (and a script replay) every delivery.
		{"state=dead&connection=zzz", []string{"connection"}},
		{"status=dead", []string{"status"}},
		{"State=dead&limit=ten", []string{"State", "limit"}},
		{"state=dead&state=failed", []string{"state"}},
		{"connectionId=zzz", []string{"connectionId"}},
		{"connectionId=0a1b2c3d4e5f6071&alertId=4AC0B8012BA4770", []string{"connectionId", "alertId"}},
		{"alertId=" + url.QueryEscape("4AC0B8012BA47700 "), []string{"alertId"}},
		{"state=dead;limit=5", []string{"query"}},
	} {
		code, resp := a.do("GET", "/api/v1/deliveries?"+tc.query, "")
		if code != http.StatusBadRequest || !slices.Equal(fieldsOf(resp), tc.want) {
			t.Errorf("%s: %d fields %q, want 400 naming %q", tc.query, code, fieldsOf(resp), tc.want)
		}
	}
}

// TestNoUnknownParameters checks that the alert and delivery routes refuse
// a query parameter they do not take, naming it, rather than ignore it.
func TestNoUnknownParameters(t *testing.T) {
	a := newAlertAPI(t, true)
	okAlert := mustJSON(alertObj(nil))
	amBody := `{"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "A"}, "startsAt": "2026-11-26T12:00:00Z"}]}`
	for _, tc := range []struct {
		method, path, body string
		want               []string
	}{
		{"POST", "/api/v1/alerts?dryRun=true", okAlert, []string{"dryRun"}},
		{"POST", "/api/v1/receivers/alertmanager?connections=pager&connection=Blocker", amBody, []string{"connection"}},
		{"POST", "/api/v1/receivers/alertmanager?connection=pager", amBody, []string{"connection"}},
		{"GET", "/api/v1/alerts/0000000000000001?verbose=1", "", []string{"verbose"}},
		{"GET", "/api/v1/deliveries/0000000000000001?x=1&a=2", "", []string{"a", "x"}},
		{"POST", "/api/v1/deliveries/0000000000000001/retry?force=true", "", []string{"force"}},
	} {
		code, resp := a.do(tc.method, tc.path, tc.body)
		if code != http.StatusBadRequest || !slices.Equal(fieldsOf(resp), tc.want) {
			t.Errorf("%s %s: %d fields %q, want 400 naming %q (%v)", tc.method, tc.path, code, fieldsOf(resp), tc.want, resp)
		}
	}
	if n := len(a.disp.accepted()); n != 0 {
		t.Errorf("refused requests stored %d alerts", n)
	}
	if len(a.disp.replayed) != 0 {
		t.Errorf("a refused retry replayed %q", a.disp.replayed)
	}
}
