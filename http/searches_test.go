package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	hookhttp "github.com/hookline/hookline/http"
)

// scheduledSearchDef is a valid scheduled search, sending to a new
// connection, to change one field of.
func (e *accessEnv) scheduledSearchDef(name string) map[string]any {
	return map[string]any{
		"name":         name,
		"description":  "addresses with the most requests",
		"query":        `_sourceCategory=prod/web | parse "from *" as ip | count by ip`,
		"scheduleType": "15Minutes",
		"timeRange":    "15m",
		"threshold":    map[string]any{"operator": "gt", "count": 0},
		"notification": map[string]any{"connectionId": e.connection().ID, "payload": `{"ips": {{ResultsJson}}}`},
	}
}

// scheduledSearch stores a scheduled search for a route to read, change or
// delete.
func (e *accessEnv) scheduledSearch() *hookline.ScheduledSearch {
	e.t.Helper()
	s := &hookline.ScheduledSearch{Name: e.unique("search"), Query: "_sourceCategory=prod/web | count",
		ScheduleType: hookline.Schedule1Hour, TimeRange: time.Hour,
		Notification: hookline.SearchNotification{ConnectionID: e.connection().ID}}
	next := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	if err := e.db.CreateScheduledSearch(context.Background(), s, next); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestScheduledSearchesCRUD(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	ctx := context.Background()
	before := time.Now().UTC()
	def := e.scheduledSearchDef("Top talkers")
	def["threshold"] = map[string]any{"operator": "GreaterThan", "count": 2}
	created := e.as(e.admin, "POST", "/api/v1/scheduledSearches", mustJSON(def))
	if created.code != http.StatusCreated {
		t.Fatalf("create: %d %s", created.code, created.raw)
	}
	id, _ := created.body["id"].(string)
	th, _ := created.body["threshold"].(map[string]any)
	if id == "" || created.body["cronExpression"] != "*/15 * * * *" || created.body["timeZone"] != "UTC" ||
		created.body["timeRange"] != "15m" || created.body["createdBy"] == "" || created.body["createdAt"] == nil ||
		th["operator"] != "gt" || th["count"] != 2.0 || created.body["state"] != nil {
		t.Errorf("created %s", created.raw)
	}
	if dup := e.as(e.admin, "POST", "/api/v1/scheduledSearches", mustJSON(e.scheduledSearchDef("TOP TALKERS"))); dup.code != http.StatusConflict ||
		fieldMessages(dup)["name"] == "" {
		t.Errorf("same name: %d %s, want 409 naming name", dup.code, dup.raw)
	}

	got := e.as(e.admin, "GET", "/api/v1/scheduledSearches/"+id, "")
	if got.code != http.StatusOK {
		t.Fatalf("get: %d %s", got.code, got.raw)
	}
	state := got.body["state"].(map[string]any)
	nextText, _ := state["nextRunAt"].(string)
	next, err := time.Parse(time.RFC3339Nano, nextText)
	// The first quarter hour after the search was stored (a minute more,
	// should the test cross one).
	if err != nil || !next.After(before) || next.After(before.Add(16*time.Minute)) || next.Minute()%15 != 0 ||
		next.Second() != 0 || state["lastRun"] != nil {
		t.Errorf("state before any run: %v (%v)", state, err)
	}

	// A run leaves its counts.
	claimed, err := e.db.ClaimDueSearches(ctx, "test", next, time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d claimed", err, len(claimed))
	}
	run := hookline.SearchRun{ScheduledAt: next, Results: 3, Alerts: 1}
	if err := e.db.SaveSearchRun(ctx, "test", id, run, next.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got = e.as(e.admin, "GET", "/api/v1/scheduledSearches/"+id, "")
	state = got.body["state"].(map[string]any)
	last, _ := state["lastRun"].(map[string]any)
	if last["scheduledAt"] != next.Format(time.RFC3339) || last["results"] != 3.0 || last["alerts"] != 1.0 || last["error"] != "" ||
		state["nextRunAt"] != next.Add(15*time.Minute).Format(time.RFC3339) {
		t.Errorf("state after a run: %v", state)
	}
	list := e.as(e.admin, "GET", "/api/v1/scheduledSearches", "")
	if data := list.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["state"].(map[string]any)["lastRun"] == nil {
		t.Errorf("list: %s", list.raw)
	}

	// The answer of a GET, edited, is a valid PUT; a schedule left as it
	// was keeps its next time.
	edit := got.body
	edit["description"] = "edited"
	put := e.as(e.admin, "PUT", "/api/v1/scheduledSearches/"+id, mustJSON(edit))
	if put.code != http.StatusOK || put.body["description"] != "edited" || put.body["createdAt"] != created.body["createdAt"] {
		t.Fatalf("update: %d %s", put.code, put.raw)
	}
	if rec, err := e.db.SearchState(ctx, id); err != nil || !rec.NextRunAt.Equal(next.Add(15*time.Minute)) || rec.LastRun.Results != 3 {
		t.Errorf("state after an edit of the description: %+v, %v", rec, err)
	}

	// A new schedule: 03:00 in Berlin, itemized, every time it completes.
	edit = put.body
	edit["scheduleType"], edit["cronExpression"], edit["timeZone"] = "Custom", "0 3 * * *", "Europe/Berlin"
	edit["threshold"] = nil
	edit["notification"].(map[string]any)["itemizeAlerts"] = true
	put = e.as(e.admin, "PUT", "/api/v1/scheduledSearches/"+id, mustJSON(edit))
	n, _ := put.body["notification"].(map[string]any)
	if put.code != http.StatusOK || put.body["threshold"] != nil || n["maxItemizedAlerts"] != float64(hookline.MaxItemizedAlerts) {
		t.Fatalf("update: %d %s", put.code, put.raw)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.db.SearchState(ctx, id)
	if at := rec.NextRunAt.In(berlin); err != nil || at.Hour() != 3 || at.Minute() != 0 || !at.After(time.Now()) ||
		at.After(time.Now().Add(25*time.Hour)) {
		t.Errorf("next run after the schedule changed: %v (%v), want the next 03:00 in Berlin", at, err)
	}

	// Disabled: never due.
	edit = put.body
	edit["isDisabled"] = true
	if put = e.as(e.admin, "PUT", "/api/v1/scheduledSearches/"+id, mustJSON(edit)); put.code != http.StatusOK {
		t.Fatalf("disable: %d %s", put.code, put.raw)
	}
	got = e.as(e.admin, "GET", "/api/v1/scheduledSearches/"+id, "")
	if st := got.body["state"].(map[string]any); got.body["isDisabled"] != true || st["nextRunAt"] != nil || st["lastRun"] == nil {
		t.Errorf("disabled: %s", got.raw)
	}

	second := e.as(e.admin, "POST", "/api/v1/scheduledSearches", mustJSON(e.scheduledSearchDef("another")))
	page := e.as(e.admin, "GET", "/api/v1/scheduledSearches?limit=1", "")
	if data := page.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["name"] != "another" || page.body["next"] == nil {
		t.Fatalf("first page: %s", page.raw)
	}
	page = e.as(e.admin, "GET", "/api/v1/scheduledSearches?limit=1&token="+page.body["next"].(string), "")
	if data := page.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != id || page.body["next"] != nil {
		t.Errorf("second page: %s", page.raw)
	}
	if a := e.as(e.admin, "GET", "/api/v1/scheduledSearches?limit=0", ""); a.code != http.StatusBadRequest || fieldMessages(a)["limit"] == "" {
		t.Errorf("limit 0: %d %s", a.code, a.raw)
	}

	for _, del := range []string{id, second.body["id"].(string)} {
		if a := e.as(e.admin, "DELETE", "/api/v1/scheduledSearches/"+del, ""); a.code != http.StatusNoContent {
			t.Errorf("delete: %d %s", a.code, a.raw)
		}
	}
	for _, method := range []string{"GET", "DELETE"} {
		if a := e.as(e.admin, method, "/api/v1/scheduledSearches/"+id, ""); a.code != http.StatusNotFound {
			t.Errorf("%s after delete: %d %s, want 404", method, a.code, a.raw)
		}
	}
	if a := e.as(e.admin, "PUT", "/api/v1/scheduledSearches/"+id, mustJSON(e.scheduledSearchDef("gone"))); a.code != http.StatusNotFound {
		t.Errorf("PUT after delete: %d %s, want 404", a.code, a.raw)
	}
	audit, _, err := e.db.AuditEvents(ctx, hookline.AuditFilter{TargetType: hookline.AuditScheduledSearch, TargetID: id})
	if err != nil || len(audit) != 5 {
		t.Errorf("audit events for the search: %d, %v; want create, three updates, delete", len(audit), err)
	}
}

func TestScheduledSearchesInvalid(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	tests := []struct {
		name   string
		change func(d map[string]any)
		want   map[string]string // field → in its message; every field named
	}{
		{"bad cron", func(d map[string]any) { d["scheduleType"], d["cronExpression"] = "Custom", "61 * * * *" },
			map[string]string{"cronExpression": ""}},
		{"custom without cron", func(d map[string]any) { d["scheduleType"] = "Custom" },
			map[string]string{"cronExpression": "required"}},
		{"cron of another type", func(d map[string]any) { d["cronExpression"] = "0 * * * *" },
			map[string]string{"cronExpression": "Custom"}},
		{"unknown schedule type", func(d map[string]any) { d["scheduleType"] = "Hourly" },
			map[string]string{"scheduleType": "must be one of"}},
		{"bad time zone", func(d map[string]any) { d["timeZone"] = "Mars/Olympus" },
			map[string]string{"timeZone": "IANA"}},
		{"no connection", func(d map[string]any) { d["notification"] = map[string]any{} },
			map[string]string{"notification.connectionId": "required"}},
		{"unknown connection", func(d map[string]any) { d["notification"] = map[string]any{"connectionId": "0123456789ABCDEF"} },
			map[string]string{"notification.connectionId": ""}},
		{"max items without itemizing", func(d map[string]any) {
			d["notification"].(map[string]any)["maxItemizedAlerts"] = 5
		}, map[string]string{"notification.maxItemizedAlerts": "itemizeAlerts"}},
		{"too many items", func(d map[string]any) {
			n := d["notification"].(map[string]any)
			n["itemizeAlerts"], n["maxItemizedAlerts"] = true, hookline.MaxItemizedAlerts+1
		}, map[string]string{"notification.maxItemizedAlerts": "between 1 and 100"}},
		{"payload does not parse", func(d map[string]any) { d["notification"].(map[string]any)["payload"] = `{"a": {{Name}` },
			map[string]string{"notification.payload": ""}},
		{"query syntax", func(d map[string]any) { d["query"] = "_sourceCategory=prod/web\n| count by" },
			map[string]string{"query": "line 2"}},
		{"time range not a duration", func(d map[string]any) { d["timeRange"] = "often" },
			map[string]string{"timeRange": "duration"}},
		{"time range not whole minutes", func(d map[string]any) { d["timeRange"] = "90s" },
			map[string]string{"timeRange": "whole number of minutes"}},
		{"time range too long", func(d map[string]any) { d["timeRange"] = "169h" },
			map[string]string{"timeRange": "at most"}},
		{"bad operator", func(d map[string]any) { d["threshold"] = map[string]any{"operator": "above", "count": 1} },
			map[string]string{"threshold.operator": "must be one of"}},
		{"negative count", func(d map[string]any) { d["threshold"] = map[string]any{"operator": "gt", "count": -1} },
			map[string]string{"threshold.count": "negative"}},
		{"unknown field", func(d map[string]any) { d["interval"] = "5m" },
			map[string]string{"interval": "not a field"}},
		{"wrong type", func(d map[string]any) { d["notification"].(map[string]any)["maxItemizedAlerts"] = "five" },
			map[string]string{"notification.maxItemizedAlerts": "must be a number"}},
		{"never fires", func(d map[string]any) { d["scheduleType"], d["cronExpression"] = "Custom", "0 0 31 2 *" },
			map[string]string{"cronExpression": ""}},
		{"all at once", func(d map[string]any) {
			d["scheduleType"], d["cronExpression"], d["timeZone"], d["timeRange"] = "Custom", "every day", "Nowhere/Else", "soon"
			d["notification"] = map[string]any{"maxItemizedAlerts": 3}
		}, map[string]string{"cronExpression": "", "timeZone": "", "timeRange": "duration",
			"notification.connectionId": "required", "notification.maxItemizedAlerts": "itemizeAlerts"}},
		{"never fires and an unknown connection", func(d map[string]any) {
			d["scheduleType"], d["cronExpression"] = "Custom", "0 0 31 2 *"
			d["notification"] = map[string]any{"connectionId": "0123456789ABCDEF"}
		}, map[string]string{"cronExpression": "never fires", "notification.connectionId": "does not exist"}},
		{"a bad query and an unknown connection", func(d map[string]any) {
			d["query"] = "_sourceCategory=prod/web\n| count by"
			d["notification"] = map[string]any{"connectionId": "0123456789ABCDEF"}
		}, map[string]string{"query": "line 2", "notification.connectionId": "does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.scheduledSearchDef(e.unique("invalid"))
			tt.change(d)
			a := e.as(e.admin, "POST", "/api/v1/scheduledSearches", mustJSON(d))
			if a.code != http.StatusBadRequest || a.body["code"] != "invalid" {
				t.Fatalf("status %d, want 400 invalid: %s", a.code, a.raw)
			}
			got := fieldMessages(a)
			for field, want := range tt.want {
				msg, ok := got[field]
				if !ok || !strings.Contains(msg, want) {
					t.Errorf("errors %v, want %s saying %q", got, field, want)
				}
			}
			if len(tt.want) == 1 && len(got) != 1 {
				t.Errorf("errors %v, want only %v", got, tt.want)
			}
		})
	}
	list := e.as(e.admin, "GET", "/api/v1/scheduledSearches", "")
	if n := len(list.body["data"].([]any)); n != 0 {
		t.Errorf("%d searches stored after invalid creations, want 0: %s", n, list.raw)
	}

	// An update is checked the same way, and changes nothing.
	s := e.scheduledSearch()
	d := e.scheduledSearchDef(s.Name)
	d["timeZone"] = "Mars/Olympus"
	if a := e.as(e.admin, "PUT", "/api/v1/scheduledSearches/"+s.ID, mustJSON(d)); a.code != http.StatusBadRequest || fieldMessages(a)["timeZone"] == "" {
		t.Errorf("invalid update: %d %s", a.code, a.raw)
	}
	if stored, err := e.db.ScheduledSearch(context.Background(), s.ID); err != nil || stored.TimeZone != "UTC" {
		t.Errorf("stored after an invalid update: %+v, %v", stored, err)
	}
}

// TestScheduledSearchesNeedManageMonitors: View Monitors reads searches but
// does not change them.
func TestScheduledSearchesNeedManageMonitors(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	viewer := e.user("viewer", hookline.ViewMonitors)
	s := e.scheduledSearch()
	for _, tt := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/scheduledSearches", "", http.StatusOK},
		{"GET", "/api/v1/scheduledSearches/" + s.ID, "", http.StatusOK},
		{"POST", "/api/v1/scheduledSearches", mustJSON(e.scheduledSearchDef("new")), http.StatusForbidden},
		{"PUT", "/api/v1/scheduledSearches/" + s.ID, mustJSON(e.scheduledSearchDef(s.Name)), http.StatusForbidden},
		{"DELETE", "/api/v1/scheduledSearches/" + s.ID, "", http.StatusForbidden},
	} {
		a := e.as(viewer, tt.method, tt.path, tt.body)
		if a.code != tt.want || (tt.want == http.StatusForbidden && !strings.Contains(a.raw, string(hookline.ManageMonitors))) {
			t.Errorf("%s %s as a viewer: %d %s, want %d", tt.method, tt.path, a.code, a.raw, tt.want)
		}
	}
	if _, err := e.db.ScheduledSearch(context.Background(), s.ID); err != nil {
		t.Errorf("the search after the viewer's attempts: %v", err)
	}
}

// TestScheduledSearchDocs keeps docs/scheduled-searches.md true: its
// example is a search the API takes, as written.
func TestScheduledSearchDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/scheduled-searches.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "```json\n")
	example, _, _ := strings.Cut(after, "```")
	if !ok {
		t.Fatal("docs/scheduled-searches.md has no JSON example")
	}
	e := newAccessEnv(t, hookhttp.Limits{})
	example = strings.Replace(example, "886799E527915E64", e.connection().ID, 1)
	a := e.as(e.admin, "POST", "/api/v1/scheduledSearches", example)
	if a.code != http.StatusCreated {
		t.Fatalf("the example: %d %s", a.code, a.raw)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(example), &sent); err != nil {
		t.Fatal(err)
	}
	for k, v := range sent {
		if got := mustJSON(a.body[k]); got != mustJSON(v) {
			t.Errorf("%s: answered %s, sent %s", k, got, mustJSON(v))
		}
	}
}
