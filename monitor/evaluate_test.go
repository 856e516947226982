package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/monitor"
	"github.com/hookline/hookline/query"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Client addresses of the tests (documentation ranges).
const (
	ipA = "203.0.113.7"
	ipB = "198.51.100.23"
	ipC = "192.0.2.44"
)

// hit is n requests from one address.
type hit struct {
	ip string
	n  int
}

// requests returns access log lines: each hit's requests, interleaved
// the way concurrent clients' requests arrive.
func requests(hits ...hit) []string {
	var lines []string
	left := slices.Clone(hits)
	for more := true; more; {
		more = false
		for i := range left {
			if left[i].n == 0 {
				continue
			}
			left[i].n--
			more = true
			status := 200
			if len(lines)%7 == 3 {
				status = 401
			}
			lines = append(lines, fmt.Sprintf("GET /login from %s status=%d ms=%d", left[i].ip, status, 20+len(lines)%50))
		}
	}
	return lines
}

// errorLines returns n server errors among some successful requests.
func errorLines(n int) []string {
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("GET /api/orders/%d from %s status=500 ms=3000", i, ipB))
		lines = append(lines, fmt.Sprintf("GET /api/orders/%d from %s status=200 ms=35", i, ipC))
	}
	return append(lines, "GET /health from 127.0.0.1 status=200 ms=1")
}

// latencies returns requests that took each of ms milliseconds.
func latencies(ms ...int) []string {
	var lines []string
	for i, d := range ms {
		lines = append(lines, fmt.Sprintf("GET /search?q=%d from %s status=200 ms=%d", i, ipC, d))
	}
	return lines
}

// records places lines in window w, newest first as a store reads them,
// with a web server's metadata, and one line of another source that no
// query here selects.
func records(w monitor.Window, lines []string) []query.Record {
	web := map[string]string{"_sourceCategory": "prod/web", "_sourceHost": "web-1", "_sourceName": "/var/log/nginx/access.log"}
	recs := []query.Record{{Time: w.End.Add(-time.Millisecond), Message: "backup finished", Fields: map[string]string{"_sourceCategory": "prod/db"}}}
	span := w.End.Sub(w.Start)
	for i, line := range lines {
		at := w.End.Add(-time.Duration(i+2) * span / time.Duration(len(lines)+3))
		recs = append(recs, query.Record{Time: at, Message: line, Fields: web})
	}
	return recs
}

// runQuery runs m's compiled query over lines placed in w.
func runQuery(t *testing.T, m *hookline.Monitor, w monitor.Window, lines []string) *query.Result {
	t.Helper()
	q, err := monitor.Compile(m)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	res, err := q.Run(context.Background(), query.Records(records(w, lines)))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// describe writes an event as "Critical ip=203.0.113.7 muted".
func describe(e monitor.Event) string {
	s := string(e.TriggerType)
	for _, k := range slices.Sorted(maps.Keys(e.Group)) {
		s += " " + k + "=" + e.Group[k]
	}
	if e.Muted {
		s += " muted"
	}
	return s
}

// describeState writes the active alerts, by group key.
func describeState(st monitor.State) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(st.Alerts)) {
		a := st.Alerts[k]
		out = append(out, describe(monitor.Event{TriggerType: a.TriggerType, Group: a.Group}))
	}
	return strings.Join(out, ", ")
}

// step is one evaluation: the window's log lines and what it must raise.
type step struct {
	lines  []string
	mute   bool
	want   []string // the events, described
	active string   // the state after it, described
}

// play evaluates m once per step, each over the next window, and checks
// the events and the state.
func play(t *testing.T, m *hookline.Monitor, steps []step) monitor.State {
	t.Helper()
	var st monitor.State
	for i, s := range steps {
		mm := *m
		mm.Muted = s.mute
		w := monitor.WindowEnding(&mm, t0.Add(time.Duration(i+1)*m.Interval))
		res := runQuery(t, &mm, w, s.lines)
		var events []monitor.Event
		st, events = monitor.Evaluate(&mm, res, w, st)
		var got []string
		for _, e := range events {
			got = append(got, describe(e))
			if e.TriggerTimeStart != w.Start || e.TriggerTimeEnd != w.End {
				t.Errorf("step %d: %s: window %v–%v, want %v–%v", i, describe(e), e.TriggerTimeStart, e.TriggerTimeEnd, w.Start, w.End)
			}
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("step %d: events %q, want %q", i, got, s.want)
		}
		if d := describeState(st); d != s.active {
			t.Errorf("step %d: active %q, want %q", i, d, s.active)
		}
	}
	return st
}

func trigger(t hookline.TriggerType, field string, op hookline.ThresholdType, threshold float64) hookline.MonitorTrigger {
	return hookline.MonitorTrigger{TriggerType: t, Field: field, ThresholdType: op, Threshold: threshold}
}

var (
	missingData = hookline.MonitorTrigger{TriggerType: hookline.TriggerMissingData}
	ipCritical  = "Critical ip=" + ipA
)

func TestEvaluateSequences(t *testing.T) {
	serverErrors := &hookline.Monitor{
		Name: "server errors", Query: `_sourceCategory=prod/web "status=500"`,
		Interval: time.Minute, Window: time.Minute,
		Triggers: []hookline.MonitorTrigger{trigger(hookline.TriggerCritical, "", hookline.ThresholdGT, 5)},
	}
	requestVolume := &hookline.Monitor{
		Name: "request volume", Query: `_sourceCategory=prod/web | count`,
		Interval: time.Minute, Window: time.Minute,
		Triggers: []hookline.MonitorTrigger{
			trigger(hookline.TriggerCritical, "_count", hookline.ThresholdGT, 100),
			trigger(hookline.TriggerWarning, "_count", hookline.ThresholdGT, 50),
		},
	}
	withMissingData := *requestVolume
	withMissingData.Triggers = []hookline.MonitorTrigger{trigger(hookline.TriggerCritical, "_count", hookline.ThresholdGT, 100), missingData}

	perIP := suspiciousIPs()
	perIPRows := suspiciousIPs()
	perIPRows.Query = `_sourceCategory=prod/web | parse "from * " as ip | count by ip | where _count > 100`
	perIPRows.Triggers = []hookline.MonitorTrigger{trigger(hookline.TriggerCritical, "", hookline.ThresholdGT, 0)}
	perIPLevels := suspiciousIPs()
	perIPLevels.Triggers = append(perIPLevels.Triggers, trigger(hookline.TriggerWarning, "_count", hookline.ThresholdGT, 50))
	perIPMissing := suspiciousIPs()
	perIPMissing.Triggers = append(perIPMissing.Triggers, missingData)

	noTraffic := &hookline.Monitor{
		Name: "no traffic", Query: `_sourceCategory=prod/web`,
		Interval: time.Minute, Window: time.Minute,
		Triggers: []hookline.MonitorTrigger{trigger(hookline.TriggerCritical, "", hookline.ThresholdLT, 1)},
	}
	slow := &hookline.Monitor{
		Name: "slow searches", Query: `_sourceCategory=prod/web "/search" | parse "ms=*" as ms | avg(ms) as latency`,
		Interval: time.Minute, Window: time.Minute,
		Triggers: []hookline.MonitorTrigger{
			trigger(hookline.TriggerCritical, "latency", hookline.ThresholdGE, 500),
			trigger(hookline.TriggerWarning, "latency", hookline.ThresholdGE, 250),
		},
	}
	exactlyOneHost := &hookline.Monitor{
		Name: "one host left", Query: `_sourceCategory=prod/web | count by _sourceHost`,
		Interval: time.Minute, Window: time.Minute,
		Triggers: []hookline.MonitorTrigger{trigger(hookline.TriggerWarning, "", hookline.ThresholdEQ, 1)},
	}

	tests := []struct {
		name  string
		m     *hookline.Monitor
		steps []step
	}{
		{"a count of messages fires once, stays quiet, recovers once", serverErrors, []step{
			{lines: errorLines(3)},
			{lines: errorLines(10), want: []string{"Critical"}, active: "Critical"},
			{lines: errorLines(12), active: "Critical"},
			{lines: errorLines(6), active: "Critical"},
			{lines: errorLines(2), want: []string{"ResolvedCritical"}},
			{lines: nil},
			{lines: errorLines(6), want: []string{"Critical"}, active: "Critical"},
		}},
		{"one alert per IP as groups appear and leave", perIP, []step{
			{lines: requests(hit{ipA, 150}, hit{ipB, 20}), want: []string{ipCritical}, active: ipCritical},
			{lines: requests(hit{ipA, 200}, hit{ipB, 150}), want: []string{"Critical ip=" + ipB},
				active: "Critical ip=" + ipB + ", " + ipCritical},
			{lines: requests(hit{ipA, 10}, hit{ipB, 160}), want: []string{"ResolvedCritical ip=" + ipA}, active: "Critical ip=" + ipB},
			{lines: requests(hit{ipC, 300}), want: []string{"Critical ip=" + ipC, "ResolvedCritical ip=" + ipB}, active: "Critical ip=" + ipC},
			{lines: nil, want: []string{"ResolvedCritical ip=" + ipC}},
		}},
		{"one alert per IP from a count of rows", perIPRows, []step{
			{lines: requests(hit{ipA, 150}, hit{ipB, 20}), want: []string{ipCritical}, active: ipCritical},
			{lines: requests(hit{ipA, 200}, hit{ipB, 150}), want: []string{"Critical ip=" + ipB},
				active: "Critical ip=" + ipB + ", " + ipCritical},
			{lines: requests(hit{ipA, 10}, hit{ipB, 160}), want: []string{"ResolvedCritical ip=" + ipA}, active: "Critical ip=" + ipB},
			{lines: nil, want: []string{"ResolvedCritical ip=" + ipB}},
		}},
		{"Warning, Critical, Warning, recovered", requestVolume, []step{
			{lines: requests(hit{ipA, 60}), want: []string{"Warning"}, active: "Warning"},
			{lines: requests(hit{ipA, 70}), active: "Warning"},
			{lines: requests(hit{ipA, 150}), want: []string{"ResolvedWarning", "Critical"}, active: "Critical"},
			{lines: requests(hit{ipA, 120}), active: "Critical"},
			{lines: requests(hit{ipA, 60}), want: []string{"ResolvedCritical", "Warning"}, active: "Warning"},
			{lines: requests(hit{ipA, 10}), want: []string{"ResolvedWarning"}},
			{lines: requests(hit{ipA, 500}), want: []string{"Critical"}, active: "Critical"}, // both met: Critical wins
			{lines: nil, want: []string{"ResolvedCritical"}},                                 // no MissingData trigger: _count is 0
		}},
		{"each group changes level on its own", perIPLevels, []step{
			{lines: requests(hit{ipA, 60}, hit{ipB, 150}), want: []string{"Critical ip=" + ipB, "Warning ip=" + ipA},
				active: "Critical ip=" + ipB + ", Warning ip=" + ipA},
			{lines: requests(hit{ipA, 150}, hit{ipB, 60}),
				want:   []string{"ResolvedWarning ip=" + ipA, ipCritical, "ResolvedCritical ip=" + ipB, "Warning ip=" + ipB},
				active: "Warning ip=" + ipB + ", " + ipCritical},
			{lines: requests(hit{ipA, 150}, hit{ipB, 40}), want: []string{"ResolvedWarning ip=" + ipB}, active: ipCritical},
		}},
		{"MissingData and its recovery", &withMissingData, []step{
			{lines: requests(hit{ipA, 10})},
			{lines: nil, want: []string{"MissingData"}, active: "MissingData"},
			{lines: nil, active: "MissingData"},
			{lines: requests(hit{ipA, 200}), want: []string{"ResolvedMissingData", "Critical"}, active: "Critical"},
			{lines: nil, want: []string{"ResolvedCritical", "MissingData"}, active: "MissingData"},
			{lines: requests(hit{ipA, 5}), want: []string{"ResolvedMissingData"}},
		}},
		{"MissingData ends every group's alert", perIPMissing, []step{
			{lines: requests(hit{ipA, 150}, hit{ipB, 150}), want: []string{ipCritical, "Critical ip=" + ipB},
				active: "Critical ip=" + ipB + ", " + ipCritical},
			{lines: nil, want: []string{"ResolvedCritical ip=" + ipB, "ResolvedCritical ip=" + ipA, "MissingData"}, active: "MissingData"},
			{lines: requests(hit{ipA, 150}), want: []string{"ResolvedMissingData", ipCritical}, active: ipCritical},
		}},
		{"muted: the state advances, nothing is sent", serverErrors, []step{
			{lines: errorLines(10), mute: true, want: []string{"Critical muted"}, active: "Critical"},
			{lines: errorLines(10), active: "Critical"},
			{lines: nil, want: []string{"ResolvedCritical muted"}}, // no one heard it start
			{lines: errorLines(10), want: []string{"Critical"}, active: "Critical"},
			{lines: nil, mute: true, want: []string{"ResolvedCritical muted"}},
		}},
		{"less than on the result count: no traffic", noTraffic, []step{
			{lines: requests(hit{ipA, 5})},
			{lines: nil, want: []string{"Critical"}, active: "Critical"},
			{lines: nil, active: "Critical"},
			{lines: requests(hit{ipA, 1}), want: []string{"ResolvedCritical"}},
		}},
		{"greater or equal on a field", slow, []step{
			{lines: latencies(100, 200)},
			{lines: latencies(100, 400), want: []string{"Warning"}, active: "Warning"},
			{lines: latencies(600, 400), want: []string{"ResolvedWarning", "Critical"}, active: "Critical"},
			{lines: latencies(499), want: []string{"ResolvedCritical", "Warning"}, active: "Warning"},
			{lines: nil, want: []string{"ResolvedWarning"}}, // avg of nothing has no value: not met
		}},
		{"equal on the result count", exactlyOneHost, []step{
			{lines: requests(hit{ipA, 3}), want: []string{"Warning"}, active: "Warning"},
			{lines: nil, want: []string{"ResolvedWarning"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { play(t, tt.m, tt.steps) })
	}
}

func TestEvaluateEventContent(t *testing.T) {
	m := suspiciousIPs()
	m.Query = `_sourceCategory=prod/web | parse "from * " as ip | count by ip | sort by _count`
	m.GroupFields = nil
	m.Window = 15 * time.Minute
	w := monitor.WindowEnding(m, t0)
	res := runQuery(t, m, w, requests(hit{ipB, 120}, hit{ipA, 300}, hit{ipC, 7}))
	st, events := monitor.Evaluate(m, res, w, monitor.State{})
	if len(events) != 1 {
		t.Fatalf("events = %v, want one", events)
	}
	e := events[0]
	want := monitor.Event{
		TriggerType: hookline.TriggerCritical,
		Since:       t0,
		// A field trigger's alert carries the rows that met it, in the
		// result's order: the busiest first.
		Results: []hookline.Row{
			{"ip": ipA, "_count": int64(300)},
			{"ip": ipB, "_count": int64(120)},
		},
		NumQueryResults:  3,
		TriggerValue:     "300",
		TriggerCondition: "_count is Greater than 100.0 in the last 15 minutes",
		TriggerTimeStart: t0.Add(-15 * time.Minute),
		TriggerTimeEnd:   t0,
		Query:            m.Query,
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("event\n got %+v\nwant %+v", e, want)
	}
	if a := st.Alerts[""]; a.TriggerType != hookline.TriggerCritical || !a.Since.Equal(t0) || a.Condition != want.TriggerCondition || !a.Notified {
		t.Errorf("state = %+v", st)
	}

	// The recovery repeats the condition it ends and carries the rows now.
	w2 := monitor.WindowEnding(m, t0.Add(time.Minute))
	res = runQuery(t, m, w2, requests(hit{ipC, 9}))
	st, events = monitor.Evaluate(m, res, w2, st)
	if len(events) != 1 || len(st.Alerts) != 0 {
		t.Fatalf("events = %v, state %v; want one recovery and no alert", events, st)
	}
	e = events[0]
	if e.TriggerType != hookline.TriggerResolvedCritical || !e.Since.Equal(t0) || e.TriggerValue != "9" ||
		e.TriggerCondition != want.TriggerCondition || e.NumQueryResults != 1 || len(e.Results) != 1 || e.Results[0]["ip"] != ipC {
		t.Errorf("recovery = %+v", e)
	}
}

func TestEvaluateCaps(t *testing.T) {
	var many []hit
	for i := range 300 {
		many = append(many, hit{fmt.Sprintf("10.0.%d.%d", i/256, i%256), 1})
	}
	tests := []struct {
		name        string
		query       string
		lines       []string
		field       string
		wantResults int
		wantNum     int
		wantValue   string
	}{
		{"200 aggregate rows", `_sourceCategory=prod/web | parse "from * " as ip | count by ip`, requests(many...), "", 200, 300, "300"},
		{"all rows when fewer", `_sourceCategory=prod/web | parse "from * " as ip | count by ip`, requests(many[:150]...), "", 150, 150, "150"},
		{"10 raw messages, counting all", `_sourceCategory=prod/web "status=500"`, errorLines(25), "", 10, 25, "25"},
		{"beyond the messages kept", `_sourceCategory=prod/web`, requests(hit{ipA, 250}), "", 10, 250, "250"},
		{"rows that met a field trigger", `_sourceCategory=prod/web | parse "from * " as ip | count by ip`, requests(many...), "_count", 200, 300, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &hookline.Monitor{
				Name: "caps", Query: tt.query, Interval: time.Minute, Window: time.Minute,
				Triggers: []hookline.MonitorTrigger{trigger(hookline.TriggerCritical, tt.field, hookline.ThresholdGE, 1)},
			}
			w := monitor.WindowEnding(m, t0)
			res := runQuery(t, m, w, tt.lines)
			_, events := monitor.Evaluate(m, res, w, monitor.State{})
			if len(events) != 1 {
				t.Fatalf("events = %d, want 1", len(events))
			}
			e := events[0]
			if len(e.Results) != tt.wantResults || e.NumQueryResults != tt.wantNum || e.TriggerValue != tt.wantValue {
				t.Errorf("results %d, NumQueryResults %d, TriggerValue %q; want %d, %d, %q",
					len(e.Results), e.NumQueryResults, e.TriggerValue, tt.wantResults, tt.wantNum, tt.wantValue)
			}
			if !res.Aggregate {
				// Raw messages look like the reference's: Message and Time
				// beside the record's fields, newest first.
				r := e.Results[0]
				if r["Message"] != res.Messages[0].Message || r["Time"] != res.Messages[0].Time.UnixMilli() || r["_sourceHost"] != "web-1" {
					t.Errorf("first message row = %v", r)
				}
			}
			if err := e.Alert(m).Validate(); err != nil {
				t.Errorf("alert: %v", err)
			}
		})
	}
}

func TestEvaluateAlertGroupLimit(t *testing.T) {
	m := suspiciousIPs()
	m.Query = `_sourceCategory=prod/web | parse "from * " as ip | count by ip`
	m.Triggers = []hookline.MonitorTrigger{trigger(hookline.TriggerCritical, "", hookline.ThresholdGT, 0)}
	ips := func(from, to int) []hit {
		var hs []hit
		for i := from; i < to; i++ {
			hs = append(hs, hit{fmt.Sprintf("10.1.%d.%d", i/256, i%256), 1})
		}
		return hs
	}
	count := func(events []monitor.Event, t hookline.TriggerType) int {
		n := 0
		for _, e := range events {
			if e.TriggerType == t {
				n++
			}
		}
		return n
	}
	var st monitor.State
	evaluate := func(i int, hits []hit) []monitor.Event {
		w := monitor.WindowEnding(m, t0.Add(time.Duration(i)*time.Minute))
		var events []monitor.Event
		st, events = monitor.Evaluate(m, runQuery(t, m, w, requests(hits...)), w, st)
		return events
	}

	events := evaluate(1, ips(0, 1005))
	if n := count(events, hookline.TriggerCritical); n != monitor.MaxAlertGroups || len(events) != n {
		t.Fatalf("first: %d events, %d Critical; want %d Critical", len(events), n, monitor.MaxAlertGroups)
	}
	if events[0].Group["ip"] != "10.1.0.0" || events[999].Group["ip"] != "10.1.3.231" {
		t.Errorf("alerting groups are not the first in the result: %v … %v", events[0].Group, events[999].Group)
	}
	if events := evaluate(2, ips(0, 1005)); len(events) != 0 {
		t.Errorf("second: %d events, want none", len(events))
	}
	// Five alerting groups leave; the five that waited take their places.
	events = evaluate(3, ips(5, 1005))
	if r, c := count(events, hookline.TriggerResolvedCritical), count(events, hookline.TriggerCritical); r != 5 || c != 5 {
		t.Errorf("third: %d recovered, %d started; want 5 and 5", r, c)
	}
	if len(st.Alerts) != monitor.MaxAlertGroups {
		t.Errorf("%d active alerts, want %d", len(st.Alerts), monitor.MaxAlertGroups)
	}
}

func TestEvaluateLeavesStateAlone(t *testing.T) {
	m := suspiciousIPs()
	w := monitor.WindowEnding(m, t0)
	st, _ := monitor.Evaluate(m, runQuery(t, m, w, requests(hit{ipA, 150})), w, monitor.State{})
	before, _ := json.Marshal(st)

	w2 := monitor.WindowEnding(m, t0.Add(time.Minute))
	res := runQuery(t, m, w2, nil)
	next, events := monitor.Evaluate(m, res, w2, st)
	if after, _ := json.Marshal(st); string(after) != string(before) {
		t.Errorf("Evaluate changed prev: %s, was %s", after, before)
	}
	if len(events) != 1 || len(next.Alerts) != 0 {
		t.Errorf("events %v, state %v", events, next)
	}

	disabled := *m
	disabled.Disabled = true
	if got, events := monitor.Evaluate(&disabled, res, w2, st); len(events) != 0 || !reflect.DeepEqual(got, st) {
		t.Errorf("a disabled monitor changed: %v, %v", got, events)
	}
	if got, events := monitor.Evaluate(m, nil, w2, st); len(events) != 0 || !reflect.DeepEqual(got, st) {
		t.Errorf("a failed query changed the state: %v, %v", got, events)
	}
}

// TestStateSurvivesJSON stores the state between evaluations as a store
// would, and checks that the monitor goes on as if it had not.
func TestStateSurvivesJSON(t *testing.T) {
	m := suspiciousIPs()
	m.Triggers = append(m.Triggers, missingData)
	windows := [][]string{
		requests(hit{ipA, 150}, hit{ipB, 150}),
		requests(hit{ipA, 150}),
		nil,
		requests(hit{ipB, 500}),
		requests(hit{ipB, 500}),
	}
	var kept, stored monitor.State
	for i, lines := range windows {
		w := monitor.WindowEnding(m, t0.Add(time.Duration(i)*time.Minute))
		res := runQuery(t, m, w, lines)
		var want, got []monitor.Event
		kept, want = monitor.Evaluate(m, res, w, kept)
		stored, got = monitor.Evaluate(m, res, w, stored)
		b, err := json.Marshal(stored)
		if err != nil {
			t.Fatal(err)
		}
		stored = monitor.State{}
		if err := json.Unmarshal(b, &stored); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("window %d: events %v, want %v", i, got, want)
		}
	}
	if describeState(stored) != "Critical ip="+ipB {
		t.Errorf("state = %q", describeState(stored))
	}
}

func TestTriggerValue(t *testing.T) {
	statuses := []string{
		"GET / from 192.0.2.1 status=200 ms=20", "GET / from 192.0.2.1 status=503 ms=20",
		"GET / from 192.0.2.1 status=404 ms=20", "GET / from 192.0.2.1 status=500 ms=20",
		"GET / from 192.0.2.1 status=503 ms=20", "GET / from 192.0.2.1 status=oops ms=20",
	}
	tests := []struct {
		name    string
		query   string
		lines   []string
		trigger hookline.MonitorTrigger
		value   string // "" means no alert
		results int
	}{
		{"a fractional average", `_sourceCategory=prod/web | parse "ms=*" as ms | avg(ms) as latency`, latencies(100, 401),
			trigger(hookline.TriggerWarning, "latency", hookline.ThresholdGT, 250), "250.5", 1},
		{"a whole average", `_sourceCategory=prod/web | parse "ms=*" as ms | avg(ms) as latency`, latencies(100, 400),
			trigger(hookline.TriggerWarning, "latency", hookline.ThresholdGT, 250), "", 0},
		{"text that reads as a number", `_sourceCategory=prod/web | parse "status=* " as status | count by status`, statuses,
			trigger(hookline.TriggerCritical, "status", hookline.ThresholdGE, 500), "503", 2},
		{"text that does not", `_sourceCategory=prod/web | parse "status=* " as status | count by status | where status = "oops"`, statuses,
			trigger(hookline.TriggerCritical, "status", hookline.ThresholdLT, 1e9), "", 0},
		{"field named in another case", `_sourceCategory=prod/web | count by _sourceHost`, statuses,
			trigger(hookline.TriggerCritical, "_COUNT", hookline.ThresholdEQ, 6), "6", 1},
		{"no value", `_sourceCategory=prod/web | parse "ms=*" as ms | max(ms) as slowest`, nil,
			trigger(hookline.TriggerCritical, "slowest", hookline.ThresholdLT, 1e9), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &hookline.Monitor{Name: "values", Query: tt.query, Interval: time.Minute, Window: time.Minute,
				Triggers: []hookline.MonitorTrigger{tt.trigger}}
			w := monitor.WindowEnding(m, t0)
			_, events := monitor.Evaluate(m, runQuery(t, m, w, tt.lines), w, monitor.State{})
			switch {
			case tt.value == "" && len(events) != 0:
				t.Errorf("events %v, want none", events)
			case tt.value == "":
			case len(events) != 1:
				t.Errorf("%d events, want 1", len(events))
			case events[0].TriggerValue != tt.value || len(events[0].Results) != tt.results:
				t.Errorf("TriggerValue %q with %d rows, want %q with %d", events[0].TriggerValue, len(events[0].Results), tt.value, tt.results)
			}
		})
	}
}
