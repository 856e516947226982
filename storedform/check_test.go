package storedform

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// fields returns err's code and its field problems as "field: message".
func fields(t *testing.T, err error) (string, []string) {
	t.Helper()
	if err == nil {
		return "", nil
	}
	var e *hookline.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v is not a *hookline.Error", err)
	}
	var list []string
	for _, f := range e.Fields {
		list = append(list, f.Field+": "+f.Message)
	}
	return e.Code, list
}

func TestKindErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    string
		message string
		fields  []string
	}{
		{"monitor not found", Monitors.NotFound("M1"), hookline.ENOTFOUND, "monitor M1 not found", nil},
		{"search not found", Searches.NotFound("S1"), hookline.ENOTFOUND, "scheduled search S1 not found", nil},
		{"monitor name", Monitors.NameTaken("Errors"), hookline.ECONFLICT, `a monitor named "Errors" already exists`,
			[]string{"name: is already used by another monitor (names are compared ignoring case)"}},
		{"search name", Searches.NameTaken("Daily"), hookline.ECONFLICT, `a scheduled search named "Daily" already exists`,
			[]string{"name: is already used by another scheduled search (names are compared ignoring case)"}},
		{"no state", Monitors.CheckHolder("M1", "p1", "", false), hookline.ENOTFOUND, "monitor M1 not found", nil},
		{"not held", Searches.CheckHolder("S1", "p1", "", true), hookline.ECONFLICT,
			"scheduled search S1 is not held by p1: it was not claimed, or another claimed it after the lease expired", nil},
		{"held by another", Monitors.CheckHolder("M1", "p1", "p2", true), hookline.ECONFLICT,
			"monitor M1 is not held by p1: it was not claimed, or another claimed it after the lease expired", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *hookline.Error
			if !errors.As(tt.err, &e) {
				t.Fatalf("err %v is not a *hookline.Error", tt.err)
			}
			code, fs := fields(t, tt.err)
			if code != tt.code || e.Message != tt.message || !reflect.DeepEqual(fs, tt.fields) {
				t.Errorf("got %s %q %q; want %s %q %q", code, e.Message, fs, tt.code, tt.message, tt.fields)
			}
		})
	}
	if err := Monitors.CheckHolder("M1", "p1", "p1", true); err != nil {
		t.Errorf("the holder's own check: %v", err)
	}
}

var utf8Only = TextRule{OK: utf8.ValidString, Problem: "must be UTF-8"}

func TestCheckClaim(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		owner  string
		now    time.Time
		lease  time.Duration
		limit  int
		rule   TextRule
		fields []string
	}{
		{"fine", "p1", now, time.Minute, 10, AnyText, nil},
		{"limit 0", "p1", now, time.Minute, 0, utf8Only, nil},
		{"all wrong", "", time.Time{}, 0, -1, utf8Only, []string{"owner: is required", "now: is required",
			"lease: must be positive, not 0s", "limit: must not be negative"}},
		{"owner against the rule", "p\xff", now, -time.Second, 1, utf8Only, []string{"owner: must be UTF-8", "lease: must be positive, not -1s"}},
		{"any text", "p\xff", now, time.Second, 1, AnyText, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, fs := fields(t, CheckClaim(tt.owner, tt.now, tt.lease, tt.limit, tt.rule))
			if !reflect.DeepEqual(fs, tt.fields) || (fs != nil) != (code == hookline.EINVALID) {
				t.Errorf("got %s %q; want EINVALID %q", code, fs, tt.fields)
			}
		})
	}
}

func TestCheckEvaluation(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	far := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		owner     string
		windowEnd time.Time
		state     string
		next      time.Time
		rule      TextRule
		fields    []string
	}{
		{"fine", "p1", at, `{"a":1}`, at, utf8Only, nil},
		{"no state, no window", "p1", time.Time{}, "", at, utf8Only, nil},
		{"all wrong", "", far, `{`, time.Time{}, utf8Only, []string{"owner: is required", "state: is not valid JSON",
			"windowEnd: must fall between the years 1678 and 2262", "nextEvalAt: is required"}},
		{"state against the rule", "p1", at, "\"\xff\"", far, utf8Only,
			[]string{"state: must be UTF-8", "nextEvalAt: must fall between the years 1678 and 2262"}},
		{"any text", "p1", at, "\"\xff\"", at, AnyText, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs := fields(t, CheckEvaluation(tt.owner, tt.windowEnd, json.RawMessage(tt.state), tt.next, tt.rule))
			if !reflect.DeepEqual(fs, tt.fields) {
				t.Errorf("got %q; want %q", fs, tt.fields)
			}
		})
	}
}

func TestCheckSearchRun(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	far := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		owner  string
		run    hookline.SearchRun
		next   time.Time
		fields []string
	}{
		{"fine", "p1", hookline.SearchRun{ScheduledAt: at}, at, nil},
		{"given up", "p1", hookline.SearchRun{}, at, nil},
		{"all wrong", "", hookline.SearchRun{ScheduledAt: far}, time.Time{}, []string{"owner: is required",
			"run.scheduledAt: must fall between the years 1678 and 2262", "next: is required"}},
		{"next too far", "p1", hookline.SearchRun{}, far, []string{"next: must fall between the years 1678 and 2262"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs := fields(t, CheckSearchRun(tt.owner, tt.run, tt.next))
			if !reflect.DeepEqual(fs, tt.fields) {
				t.Errorf("got %q; want %q", fs, tt.fields)
			}
		})
	}
}

func TestCheckConnections(t *testing.T) {
	known := func(id string) (bool, error) { return id == "C1", nil }
	broken := func(string) (bool, error) { return false, errors.New("disk on fire") }
	ns := []hookline.MonitorNotification{{ConnectionID: "C1"}, {ConnectionID: "C2"}, {ConnectionID: "C3"}}

	_, fs := fields(t, CheckMonitorConnections(ns, known))
	want := []string{"notifications[1].connectionId: names connection C2, which does not exist",
		"notifications[2].connectionId: names connection C3, which does not exist"}
	if !reflect.DeepEqual(fs, want) {
		t.Errorf("monitor: %q; want %q", fs, want)
	}
	if err := CheckMonitorConnections(ns[:1], known); err != nil {
		t.Errorf("monitor with known connections: %v", err)
	}
	if err := CheckMonitorConnections(ns, broken); err == nil || err.Error() != "check connections: disk on fire" {
		t.Errorf("monitor, failing lookup: %v", err)
	}

	_, fs = fields(t, CheckSearchConnection("C2", known))
	if want := []string{"notification.connectionId: names connection C2, which does not exist"}; !reflect.DeepEqual(fs, want) {
		t.Errorf("search: %q; want %q", fs, want)
	}
	if err := CheckSearchConnection("C1", known); err != nil {
		t.Errorf("search with a known connection: %v", err)
	}
	if err := CheckSearchConnection("C1", broken); err == nil || err.Error() != "check connection: disk on fire" {
		t.Errorf("search, failing lookup: %v", err)
	}
}

func TestPrepareSearch(t *testing.T) {
	next := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		edit   func(*hookline.ScheduledSearch)
		next   time.Time
		due    any
		fields []string
	}{
		{"enabled", func(*hookline.ScheduledSearch) {}, next, next.UnixNano(), nil},
		{"disabled needs no next", func(s *hookline.ScheduledSearch) { s.Disabled = true }, time.Time{}, nil, nil},
		{"never fires", func(*hookline.ScheduledSearch) {}, time.Time{}, nil,
			[]string{"cronExpression: never fires: the schedule has no next time"}},
		{"next out of range", func(*hookline.ScheduledSearch) {}, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), nil,
			[]string{"next: must fall between the years 1678 and 2262"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := search()
			tt.edit(s)
			before := *s
			row, due, err := PrepareSearch(s, tt.next)
			_, fs := fields(t, err)
			if !reflect.DeepEqual(fs, tt.fields) || due != tt.due {
				t.Errorf("got %q, due %v; want %q, due %v", fs, due, tt.fields, tt.due)
			}
			if !reflect.DeepEqual(*s, before) {
				t.Errorf("PrepareSearch changed its argument")
			}
			if row.Threshold == s.Threshold {
				t.Errorf("the prepared copy shares the threshold with the argument")
			}
		})
	}
	// An expression Validate refused has no next time: one problem with
	// it, not "never fires" or a next time out of range besides.
	s := search()
	s.CronExpression = ""
	_, _, err := PrepareSearch(s, time.Time{})
	_, fs := fields(t, err)
	want := []string{"cronExpression: is required for scheduleType Custom"}
	if !reflect.DeepEqual(fs, want) {
		t.Errorf("no expression: %q; want %q", fs, want)
	}
}

func TestClaimed(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := []*hookline.Monitor{{ID: "A"}, {ID: "B"}, {ID: "C"}}
	rs := []*hookline.MonitorStateRecord{{MonitorID: "C", NextEvalAt: at}, {MonitorID: "B", NextEvalAt: at.Add(time.Second)},
		{MonitorID: "A", NextEvalAt: at}}
	claimed, err := ClaimedMonitors(rs, ms)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range claimed {
		if c.Monitor.ID != c.Record.MonitorID {
			t.Errorf("record %s paired with monitor %s", c.Record.MonitorID, c.Monitor.ID)
		}
		order = append(order, c.Monitor.ID)
	}
	if want := []string{"A", "C", "B"}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %q; want %q (most overdue, then by ID)", order, want)
	}
	if _, err := ClaimedMonitors(rs, ms[:2]); err == nil || err.Error() != "monitor C has a state but no definition" {
		t.Errorf("a state without its monitor: %v", err)
	}
	if c, err := ClaimedMonitors(nil, nil); err != nil || c == nil || len(c) != 0 {
		t.Errorf("no claims: %v, %v; want an empty list", c, err)
	}

	ss := []*hookline.ScheduledSearch{{ID: "X"}, {ID: "Y"}}
	srs := []*hookline.SearchStateRecord{{SearchID: "Y", NextRunAt: at}, {SearchID: "X", NextRunAt: at.Add(time.Minute)}}
	sc, err := ClaimedSearches(srs, ss)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc) != 2 || sc[0].Search.ID != "Y" || sc[1].Search.ID != "X" || sc[1].Record.SearchID != "X" {
		t.Errorf("searches claimed %+v; want Y then X", sc)
	}
	if _, err := ClaimedSearches(srs, ss[1:]); err == nil || err.Error() != "scheduled search X has a state but no definition" {
		t.Errorf("a state without its search: %v", err)
	}
	if c, err := ClaimedSearches(nil, nil); err != nil || c == nil || len(c) != 0 {
		t.Errorf("no claims: %v, %v; want an empty list", c, err)
	}
}
