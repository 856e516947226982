package monitor_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/monitor"
	"github.com/hookline/hookline/payload"
)

// render renders a delivery's payload for an alert: its override, or the
// connection's payload when it has none.
func render(t *testing.T, d *hookline.Delivery, connectionPayload string, a *hookline.Alert) map[string]any {
	t.Helper()
	src := d.Payload
	if src == "" {
		src = connectionPayload
	}
	tpl, err := payload.Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	var out map[string]any
	if err := json.Unmarshal(tpl.Render(a), &out); err != nil {
		t.Fatalf("rendered payload is not JSON: %v", err)
	}
	return out
}

// TestSuspiciousIPExample is the reference's example: a monitor that calls
// a Lambda function when too many requests come from one IP address. It
// fires once, with that address in the payload, stays quiet while the
// address goes on, and recovers once when its traffic stops.
func TestSuspiciousIPExample(t *testing.T) {
	m := suspiciousIPs()
	m.Notifications = []hookline.MonitorNotification{
		{
			ConnectionID:              "lambda",
			RunForTriggerTypes:        []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical},
			PayloadOverride:           `{"action": "block", "ip": "{{ResultsJson.ip}}", "requests": {{ResultsJson._count}}, "type": "{{TriggerType}}", "results": {{ResultsJson}}, "condition": "{{TriggerCondition}}", "value": "{{TriggerValue}}", "from": {{TriggerTimeStart}}}`,
			ResolutionPayloadOverride: `{"action": "unblock", "ip": "{{ResultsJson.ip}}", "type": "{{TriggerType}}"}`,
		},
		{ConnectionID: "chat", RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerCritical}},
	}
	const chatPayload = `{"text": "{{Name}}: {{TriggerType}} {{NumQueryResults}} {{Query}}"}`
	if err := monitor.Validate(m); err != nil {
		t.Fatal(err)
	}
	var background []hit
	for i := range 40 {
		background = append(background, hit{fmt.Sprintf("10.2.0.%d", i), 3 + i%5})
	}
	attack := append([]hit{{ipA, 600}}, background...)

	var st monitor.State
	var alerted []*hookline.AcceptedAlert
	for minute, hits := range [][]hit{background, attack, attack, attack, background, background} {
		w := monitor.WindowEnding(m, t0.Add(time.Duration(minute)*time.Minute))
		var events []monitor.Event
		st, events = monitor.Evaluate(m, runQuery(t, m, w, requests(hits...)), w, st)
		for _, e := range events {
			a := e.Accepted(m)
			if err := a.Alert.Validate(); err != nil {
				t.Fatalf("minute %d: alert: %v", minute, err)
			}
			alerted = append(alerted, a)
		}
	}
	if len(alerted) != 2 {
		t.Fatalf("%d alerts, want one Critical and one recovery", len(alerted))
	}

	fired, recovered := alerted[0], alerted[1]
	if fired.Alert.TriggerType != hookline.TriggerCritical || fired.Source != "monitor:mon1" || fired.Alert.SourceID != "mon1" ||
		fired.Alert.Name != "Suspicious IP" || fired.Alert.DetectionMethod != "LogsStaticCondition" || fired.Alert.MonitorType != "Logs" {
		t.Errorf("alert = %+v", fired)
	}
	if len(fired.Deliveries) != 2 || fired.Deliveries[0].ConnectionID != "lambda" || fired.Deliveries[1].ConnectionID != "chat" ||
		fired.Deliveries[1].Payload != "" || fired.Deliveries[0].TriggerType != hookline.TriggerCritical {
		t.Fatalf("deliveries = %+v %+v", fired.Deliveries[0], fired.Deliveries[len(fired.Deliveries)-1])
	}
	got := render(t, fired.Deliveries[0], "", &fired.Alert)
	want := map[string]any{
		"action": "block", "ip": ipA, "requests": 600.0, "type": "Critical",
		"results":   []any{map[string]any{"ip": ipA, "_count": 600.0}},
		"condition": "_count is Greater than 100.0 in the last 1 minute", "value": "600",
		"from": float64(t0.UnixMilli()), // the window of minute 1: t0 to t0+1m
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lambda payload\n got %v\nwant %v", got, want)
	}
	chat := render(t, fired.Deliveries[1], chatPayload, &fired.Alert)
	if chat["text"] != "Suspicious IP: Critical 1 "+m.Query {
		t.Errorf("chat payload = %v", chat)
	}

	if recovered.Alert.TriggerType != hookline.TriggerResolvedCritical || len(recovered.Deliveries) != 1 {
		t.Fatalf("recovery = %+v with %d deliveries, want ResolvedCritical to the Lambda only", recovered.Alert, len(recovered.Deliveries))
	}
	got = render(t, recovered.Deliveries[0], "", &recovered.Alert)
	if !reflect.DeepEqual(got, map[string]any{"action": "unblock", "ip": ipA, "type": "ResolvedCritical"}) {
		t.Errorf("recovery payload = %v", got)
	}
	if recovered.IdempotencyKey == fired.IdempotencyKey || len(fired.IdempotencyKey) > hookline.MaxIdempotencyKeyLen {
		t.Errorf("idempotency keys %q and %q", fired.IdempotencyKey, recovered.IdempotencyKey)
	}
}

func TestDeliveries(t *testing.T) {
	m := suspiciousIPs()
	m.Triggers = append(m.Triggers, trigger(hookline.TriggerWarning, "_count", hookline.ThresholdGT, 50), missingData)
	m.Notifications = []hookline.MonitorNotification{
		{ConnectionID: "alerts-only", RunForTriggerTypes: []hookline.TriggerType{"Critical", "Warning", "MissingData"}, PayloadOverride: `{"a": 1}`, ResolutionPayloadOverride: `{"r": 1}`},
		{ConnectionID: "recoveries-only", RunForTriggerTypes: []hookline.TriggerType{"ResolvedCritical", "ResolvedWarning", "ResolvedMissingData"}, PayloadOverride: `{"a": 2}`, ResolutionPayloadOverride: " "},
		{ConnectionID: "critical", RunForTriggerTypes: []hookline.TriggerType{"Critical", "ResolvedCritical"}, ResolutionPayloadOverride: `{"r": 3}`},
	}
	tests := []struct {
		trigger hookline.TriggerType
		muted   bool
		want    string // connection:payload, in the notifications' order
	}{
		{hookline.TriggerCritical, false, `[alerts-only:{"a": 1} critical:]`},
		{hookline.TriggerWarning, false, `[alerts-only:{"a": 1}]`},
		{hookline.TriggerMissingData, false, `[alerts-only:{"a": 1}]`},
		{hookline.TriggerResolvedCritical, false, `[recoveries-only: critical:{"r": 3}]`},
		{hookline.TriggerResolvedWarning, false, `[recoveries-only:]`},
		{hookline.TriggerResolvedMissingData, false, `[recoveries-only:]`},
		{hookline.TriggerCritical, true, `[]`},
		{hookline.TriggerResolvedCritical, true, `[]`},
	}
	for _, tt := range tests {
		e := monitor.Event{TriggerType: tt.trigger, Muted: tt.muted}
		var got []string
		for _, d := range e.Deliveries(m) {
			if d.TriggerType != tt.trigger {
				t.Errorf("%s: delivery for %s", tt.trigger, d.TriggerType)
			}
			got = append(got, d.ConnectionID+":"+d.Payload)
		}
		if fmt.Sprint(got) != tt.want {
			t.Errorf("%s muted=%v: deliveries %v, want %s", tt.trigger, tt.muted, got, tt.want)
		}
		if a := e.Accepted(m); len(a.Deliveries) != len(got) || a.Alert.TriggerType != tt.trigger {
			t.Errorf("%s: Accepted = %+v", tt.trigger, a)
		}
	}
	if got := (monitor.Event{TriggerType: hookline.TriggerResolvedMissingData}).Alert(m).DetectionMethod; got != "LogsMissingDataCondition" {
		t.Errorf("DetectionMethod = %q", got)
	}
}

// TestIdempotencyKey checks that evaluating the same window again from the
// same state (after a crash, say) names the same events, and that the
// events of one alert's life and of the next are all told apart.
func TestIdempotencyKey(t *testing.T) {
	m := suspiciousIPs()
	keys := map[string]string{}
	var st monitor.State
	for minute, hits := range [][]hit{{{ipA, 150}, {ipB, 150}}, {{ipB, 150}}, {{ipA, 150}, {ipB, 150}}, nil} {
		w := monitor.WindowEnding(m, t0.Add(time.Duration(minute)*time.Minute))
		res := runQuery(t, m, w, requests(hits...))
		next, events := monitor.Evaluate(m, res, w, st)
		_, again := monitor.Evaluate(m, res, w, st)
		for i, e := range events {
			k := e.IdempotencyKey(m.ID)
			if k2 := again[i].IdempotencyKey(m.ID); k2 != k {
				t.Errorf("minute %d: %s has key %q, then %q", minute, describe(e), k, k2)
			}
			if other, dup := keys[k]; dup {
				t.Errorf("minute %d: %s has the key of %s", minute, describe(e), other)
			}
			keys[k] = fmt.Sprintf("%s at minute %d", describe(e), minute)
			if other := e.IdempotencyKey("mon2"); other == k {
				t.Errorf("two monitors share key %q", k)
			}
		}
		st = next
	}
	// A starts, B starts; A recovers; A starts again; A and B recover.
	if len(keys) != 6 {
		t.Errorf("%d distinct events, want 6: %v", len(keys), keys)
	}
}

// A recovery's {{NumQueryResults}} counts the group's rows now: none for a
// group that left the result, even though its recovery carries one row of
// its values so that {{ResultsJson.ip}} still names it.
func TestRecoveryNumQueryResults(t *testing.T) {
	const tpl = `{"n": {{NumQueryResults}}, "ip": "{{ResultsJson.ip}}", "value": "{{TriggerValue}}"}`
	for _, tc := range []struct {
		name  string
		after []hit // the requests of the window after the alert
		want  map[string]any
	}{
		{name: "group left the result", after: []hit{{ipB, 5}},
			want: map[string]any{"n": 0.0, "ip": ipA, "value": ""}},
		{name: "group below the threshold", after: []hit{{ipA, 50}, {ipB, 5}},
			want: map[string]any{"n": 1.0, "ip": ipA, "value": "50"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := suspiciousIPs()
			var st monitor.State
			var events []monitor.Event
			for i, hits := range [][]hit{{{ipA, 600}}, tc.after} {
				w := monitor.WindowEnding(m, t0.Add(time.Duration(i)*time.Minute))
				st, events = monitor.Evaluate(m, runQuery(t, m, w, requests(hits...)), w, st)
			}
			if len(events) != 1 || events[0].TriggerType != hookline.TriggerResolvedCritical {
				t.Fatalf("events %v, want one ResolvedCritical", events)
			}
			a := events[0].Accepted(m)
			if got := render(t, &hookline.Delivery{Payload: tpl}, "", &a.Alert); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("recovery payload %v, want %v", got, tc.want)
			}
		})
	}
}
