package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	hookhttp "github.com/hookline/hookline/http"
)

// monitorDef is a valid monitor definition to change one field of.
func monitorDef(e *accessEnv, name string) map[string]any {
	return map[string]any{
		"name":        name,
		"description": "too many requests from one address",
		"query":       `_sourceCategory=prod/web | parse "* from *" as req, ip | count by ip | where _count > 100`,
		"interval":    "1m", "window": "5m",
		"triggers": []any{map[string]any{"triggerType": "Critical", "thresholdType": "gt", "threshold": 0}},
		"notifications": []any{map[string]any{"connectionId": e.connection().ID,
			"runForTriggerTypes": []string{"Critical", "ResolvedCritical"},
			"payloadOverride":    `{"action": "block", "ip": "{{ResultsJson.ip}}"}`}},
		"notificationGroupFields": []string{"ip"},
	}
}

// fieldMessages maps the fields an error answer names to their messages.
func fieldMessages(a answer) map[string]string {
	out := map[string]string{}
	errs, _ := a.body["errors"].([]any)
	for _, x := range errs {
		m := x.(map[string]any)
		f, _ := m["field"].(string)
		out[f], _ = m["message"].(string)
	}
	return out
}

func TestMonitorsCreateInvalid(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	tests := []struct {
		name   string
		change func(d map[string]any)
		field  string // the field the 400 must name
		want   string // in its message
	}{
		{"query syntax", func(d map[string]any) { d["query"] = "_sourceCategory=prod/web\n| count by" }, "query", "line 2"},
		{"no query", func(d map[string]any) { d["query"] = " " }, "query", "is required"},
		{"interval not a duration", func(d map[string]any) { d["interval"] = "often" }, "interval", "duration"},
		{"interval not whole minutes", func(d map[string]any) { d["interval"] = "90s" }, "interval", "whole number of minutes"},
		{"window shorter than interval", func(d map[string]any) { d["interval"], d["window"] = "10m", "5m" }, "window", "shorter than the interval"},
		{"unknown connection", func(d map[string]any) {
			d["notifications"] = []any{map[string]any{"connectionId": "no-such-connection", "runForTriggerTypes": []string{"Critical"}}}
		}, "notifications[0].connectionId", "does not exist"},
		{"group field not a column", func(d map[string]any) { d["notificationGroupFields"] = []string{"host"} }, "notificationGroupFields[0]", "not a column"},
		{"bad threshold type", func(d map[string]any) {
			d["triggers"] = []any{map[string]any{"triggerType": "Critical", "thresholdType": "above", "threshold": 1}}
		}, "triggers[0].thresholdType", "must be one of"},
		{"unknown field", func(d map[string]any) { d["schedule"] = "* * * * *" }, "schedule", "not a field"},
	}
	// A bad query and unknown connections are named in one answer.
	d := monitorDef(e, e.unique("invalid"))
	d["query"] = "_sourceCategory=prod/web\n| count by"
	d["notifications"] = []any{
		map[string]any{"connectionId": e.connection().ID, "runForTriggerTypes": []string{"Critical"}},
		map[string]any{"connectionId": "0123456789ABCDEF", "runForTriggerTypes": []string{"Critical"}},
	}
	a := e.as(e.admin, "POST", "/api/v1/monitors", mustJSON(d))
	if got := fieldMessages(a); a.code != http.StatusBadRequest || !strings.Contains(got["query"], "line 2") ||
		!strings.Contains(got["notifications[1].connectionId"], "does not exist") || len(got) != 2 {
		t.Errorf("a bad query and an unknown connection: %d %v; want both named", a.code, got)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := monitorDef(e, e.unique("invalid"))
			tt.change(d)
			a := e.as(e.admin, "POST", "/api/v1/monitors", mustJSON(d))
			if a.code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", a.code, a.raw)
			}
			msg, ok := fieldMessages(a)[tt.field]
			if !ok || !strings.Contains(msg, tt.want) {
				t.Errorf("errors %v, want %s saying %q", fieldMessages(a), tt.field, tt.want)
			}
		})
	}
	list := e.as(e.admin, "GET", "/api/v1/monitors", "")
	if n := len(list.body["data"].([]any)); n != 0 {
		t.Errorf("%d monitors stored after invalid creations, want 0: %s", n, list.raw)
	}
}

func TestMonitorsCRUD(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	def := monitorDef(e, "Suspicious IP")
	def["triggers"] = []any{map[string]any{"triggerType": "Critical", "thresholdType": "GreaterThan", "threshold": 0}}
	created := e.as(e.admin, "POST", "/api/v1/monitors", mustJSON(def))
	if created.code != http.StatusCreated {
		t.Fatalf("create: %d %s", created.code, created.raw)
	}
	id, _ := created.body["id"].(string)
	if id == "" || created.body["interval"] != "1m" || created.body["window"] != "5m" || created.body["createdBy"] == "" {
		t.Errorf("created %s", created.raw)
	}
	tr := created.body["triggers"].([]any)[0].(map[string]any)
	if tr["thresholdType"] != "gt" {
		t.Errorf("thresholdType %v, want GreaterThan read as gt", tr["thresholdType"])
	}
	if dup := e.as(e.admin, "POST", "/api/v1/monitors", mustJSON(monitorDef(e, "suspicious ip"))); dup.code != http.StatusConflict {
		t.Errorf("same name: %d %s, want 409", dup.code, dup.raw)
	}

	got := e.as(e.admin, "GET", "/api/v1/monitors/"+id, "")
	if got.code != http.StatusOK {
		t.Fatalf("get: %d %s", got.code, got.raw)
	}
	state := got.body["state"].(map[string]any)
	if n := len(state["activeAlerts"].([]any)); n != 0 || state["lastWindowEnd"] != nil || state["nextEvaluationAt"] == nil {
		t.Errorf("state before any evaluation: %v", state)
	}

	// An evaluation leaves an active alert for one address.
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	claimed, err := e.db.ClaimDueMonitors(ctx, "test", now.Add(time.Minute), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d claimed", err, len(claimed))
	}
	st := `{"alerts":{"[\"203.0.113.7\"]":{"triggerType":"Critical","group":{"ip":"203.0.113.7"},"since":"` +
		now.Format(time.RFC3339) + `","condition":"gt 0.0","notified":true}}}`
	if err := e.db.SaveEvaluation(ctx, "test", id, now, json.RawMessage(st), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got = e.as(e.admin, "GET", "/api/v1/monitors/"+id, "")
	state = got.body["state"].(map[string]any)
	active := state["activeAlerts"].([]any)
	if len(active) != 1 || active[0].(map[string]any)["group"].(map[string]any)["ip"] != "203.0.113.7" ||
		state["lastWindowEnd"] != now.Format(time.RFC3339) {
		t.Errorf("state after an evaluation: %v", state)
	}

	// The list shows each monitor's state as GET does.
	list := e.as(e.admin, "GET", "/api/v1/monitors", "")
	if data := list.body["data"].([]any); len(data) != 1 || !reflect.DeepEqual(data[0].(map[string]any)["state"], got.body["state"]) {
		t.Errorf("list: %s; want the monitor with the state GET shows: %v", list.raw, got.body["state"])
	}

	// The answer of a GET, edited, is a valid PUT.
	edit := got.body
	edit["muted"] = true
	edit["interval"], edit["window"] = "2m", "1h"
	put := e.as(e.admin, "PUT", "/api/v1/monitors/"+id, mustJSON(edit))
	if put.code != http.StatusOK || put.body["muted"] != true || put.body["window"] != "1h" || put.body["createdAt"] != created.body["createdAt"] {
		t.Errorf("update: %d %s", put.code, put.raw)
	}
	stored, err := e.db.Monitor(ctx, id)
	if err != nil || !stored.Muted || stored.Interval != 2*time.Minute {
		t.Errorf("stored after update: %+v, %v", stored, err)
	}

	second := e.as(e.admin, "POST", "/api/v1/monitors", mustJSON(monitorDef(e, "another")))
	page := e.as(e.admin, "GET", "/api/v1/monitors?limit=1", "")
	if data := page.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["name"] != "another" || page.body["next"] == nil {
		t.Errorf("first page: %s", page.raw)
	}
	page = e.as(e.admin, "GET", "/api/v1/monitors?limit=1&token="+page.body["next"].(string), "")
	if data := page.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != id || page.body["next"] != nil {
		t.Errorf("second page: %s", page.raw)
	}

	for _, del := range []string{id, second.body["id"].(string)} {
		if a := e.as(e.admin, "DELETE", "/api/v1/monitors/"+del, ""); a.code != http.StatusNoContent {
			t.Errorf("delete: %d %s", a.code, a.raw)
		}
	}
	for _, method := range []string{"GET", "DELETE"} {
		if a := e.as(e.admin, method, "/api/v1/monitors/"+id, ""); a.code != http.StatusNotFound {
			t.Errorf("%s after delete: %d %s, want 404", method, a.code, a.raw)
		}
	}
	if a := e.as(e.admin, "PUT", "/api/v1/monitors/"+id, mustJSON(monitorDef(e, "gone"))); a.code != http.StatusNotFound {
		t.Errorf("PUT after delete: %d %s, want 404", a.code, a.raw)
	}
	audit, _, err := e.db.AuditEvents(ctx, hookline.AuditFilter{TargetType: hookline.AuditMonitor, TargetID: id})
	if err != nil || len(audit) != 3 {
		t.Errorf("audit events for the monitor: %d, %v; want create, update, delete", len(audit), err)
	}
}
