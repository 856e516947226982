package storedform

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// scanArgs stands in for a database: it stores args and reads them back
// into dest as database/sql would, so that a test sees whether the order
// of Args and Dest agree.
func scanArgs(args []any) func(dest ...any) error {
	return func(dest ...any) error {
		if len(dest) != len(args) {
			return errors.New("column count differs")
		}
		for i, d := range dest {
			if s, ok := d.(sql.Scanner); ok {
				if err := s.Scan(args[i]); err != nil {
					return err
				}
				continue
			}
			v := reflect.ValueOf(d).Elem()
			a := reflect.ValueOf(args[i])
			if !a.Type().AssignableTo(v.Type()) {
				return fmt.Errorf("column %d: %s into %s", i, a.Type(), v.Type())
			}
			v.Set(a)
		}
		return nil
	}
}

func monitor() *hookline.Monitor {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	return &hookline.Monitor{
		ID: "0123456789ABCDEF", Name: "Errors", Description: "d", Query: "error | count",
		Interval: 5 * time.Minute, Window: 15 * time.Minute,
		Triggers: []hookline.MonitorTrigger{
			{TriggerType: hookline.TriggerCritical, Threshold: 10.5, ThresholdType: hookline.ThresholdGT, Field: "_count"},
			{TriggerType: hookline.TriggerMissingData},
		},
		Notifications: []hookline.MonitorNotification{{
			ConnectionID: "C1", RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical},
			PayloadOverride: `{"a":1}`, ResolutionPayloadOverride: "r",
		}},
		GroupFields: []string{"host"},
		Muted:       true,
		CreatedAt:   t0, CreatedBy: "alice", ModifiedAt: t0.Add(time.Hour), ModifiedBy: "bob",
	}
}

// The JSON columns are what existing databases hold: these strings must
// not change without a migration.
func TestMonitorJSONColumns(t *testing.T) {
	tests := []struct {
		name                            string
		edit                            func(*hookline.Monitor)
		triggers, notifications, groups string
	}{
		{"full", func(*hookline.Monitor) {},
			`[{"triggerType":"Critical","threshold":10.5,"thresholdType":"gt","field":"_count"},{"triggerType":"MissingData","threshold":0}]`,
			`[{"connectionId":"C1","runForTriggerTypes":["Critical","ResolvedCritical"],"payloadOverride":"{\"a\":1}","resolutionPayloadOverride":"r"}]`,
			`["host"]`},
		{"empty", func(m *hookline.Monitor) { m.Triggers, m.Notifications, m.GroupFields = nil, nil, nil },
			`[]`, `[]`, `[]`},
		{"no trigger types", func(m *hookline.Monitor) {
			m.Triggers = m.Triggers[1:]
			m.Notifications[0] = hookline.MonitorNotification{ConnectionID: "C2"}
			m.GroupFields = []string{}
		}, `[{"triggerType":"MissingData","threshold":0}]`, `[{"connectionId":"C2","runForTriggerTypes":null}]`, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := monitor()
			tt.edit(m)
			tr, n, g, err := encodeMonitorJSON(m)
			if err != nil {
				t.Fatal(err)
			}
			if tr != tt.triggers || n != tt.notifications || g != tt.groups {
				t.Errorf("encoded\n%s\n%s\n%s\nwant\n%s\n%s\n%s", tr, n, g, tt.triggers, tt.notifications, tt.groups)
			}
		})
	}
}

// What MonitorArgs writes, MonitorRow reads back the same, column by
// column in MonitorColumns order.
func TestMonitorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		edit func(*hookline.Monitor)
	}{
		{"full", func(*hookline.Monitor) {}},
		{"empty lists", func(m *hookline.Monitor) {
			m.Triggers, m.Notifications, m.GroupFields = []hookline.MonitorTrigger{}, []hookline.MonitorNotification{}, []string{}
		}},
		{"disabled", func(m *hookline.Monitor) { m.Muted, m.Disabled = false, true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := monitor()
			tt.edit(want)
			args, err := MonitorArgs(want, want.Muted, want.Disabled, want.CreatedAt, want.ModifiedAt)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(strings.Split(MonitorColumns, ",")); len(args) != n {
				t.Fatalf("%d args for %d columns", len(args), n)
			}
			var (
				got hookline.Monitor
				row MonitorRow
			)
			if err := scanArgs(args)(row.Dest(&got, &got.Muted, &got.Disabled, &got.CreatedAt, &got.ModifiedAt)...); err != nil {
				t.Fatal(err)
			}
			if err := row.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("read back\n%+v\nwant\n%+v", got, *want)
			}
		})
	}
}

func TestMonitorArgsNonFinite(t *testing.T) {
	m := monitor()
	m.Triggers[0].Threshold = inf()
	if _, err := MonitorArgs(m, false, false, nil, nil); err == nil || !strings.Contains(err.Error(), "encode monitor") {
		t.Errorf("err = %v; want encode monitor: ...", err)
	}
}

func inf() float64 { var zero float64; return 1 / zero }

func TestMonitorDecodeErrors(t *testing.T) {
	tests := []struct {
		name                            string
		triggers, notifications, groups string
		want                            string
	}{
		{"triggers", `{`, `[]`, `[]`, "monitor M: decode triggers"},
		{"notifications", `[]`, `[{"connectionId":1}]`, `[]`, "monitor M: decode notifications"},
		{"group fields", `[]`, `[]`, `"host"`, "monitor M: decode group fields"},
		{"threshold out of range", `[{"threshold":1e999}]`, `[]`, `[]`, "monitor M: decode triggers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := MonitorRow{triggers: tt.triggers, notifications: tt.notifications, groups: tt.groups}
			err := row.Decode(&hookline.Monitor{ID: "M"})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v; want %s: ...", err, tt.want)
			}
		})
	}
}

func search() *hookline.ScheduledSearch {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	return &hookline.ScheduledSearch{
		ID: "0123456789ABCDEF", Name: "Daily", Description: "d", Query: "error",
		ScheduleType: hookline.ScheduleCustom, CronExpression: "0 9 * * *", TimeZone: "Europe/Paris",
		TimeRange: time.Hour,
		Threshold: &hookline.SearchThreshold{Operator: hookline.ThresholdGT, Count: 3},
		Notification: hookline.SearchNotification{
			ConnectionID: "C1", Payload: "p", ItemizeAlerts: true, MaxItemizedAlerts: 7,
		},
		CreatedAt: t0, CreatedBy: "alice", ModifiedAt: t0.Add(time.Hour), ModifiedBy: "bob",
	}
}

func TestSearchRoundTrip(t *testing.T) {
	tests := []struct {
		name           string
		edit           func(*hookline.ScheduledSearch)
		op, count, max any // the threshold and max_itemized_alerts columns
	}{
		{"threshold", func(*hookline.ScheduledSearch) {}, "gt", int64(3), int64(7)},
		{"no threshold", func(s *hookline.ScheduledSearch) {
			s.Threshold = nil
			s.Notification.ItemizeAlerts, s.Notification.MaxItemizedAlerts = false, 0
			s.Disabled = true
		}, nil, nil, int64(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := search()
			tt.edit(want)
			args := SearchArgs(want, want.Notification.ItemizeAlerts, want.Disabled, want.CreatedAt, want.ModifiedAt)
			if n := len(strings.Split(SearchColumns, ",")); len(args) != n {
				t.Fatalf("%d args for %d columns", len(args), n)
			}
			if args[8] != tt.op || args[9] != tt.count || args[13] != tt.max {
				t.Errorf("threshold_operator, threshold_count, max_itemized_alerts = %#v, %#v, %#v; want %#v, %#v, %#v",
					args[8], args[9], args[13], tt.op, tt.count, tt.max)
			}
			var (
				got hookline.ScheduledSearch
				row SearchRow
			)
			err := scanArgs(args)(row.Dest(&got, &got.Notification.ItemizeAlerts, &got.Disabled, &got.CreatedAt, &got.ModifiedAt)...)
			if err != nil {
				t.Fatal(err)
			}
			row.Decode(&got)
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("read back\n%+v\nwant\n%+v", got, *want)
			}
		})
	}
}

func TestScanStates(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	m, err := ScanMonitorState(scanArgs([]any{"M", "{}", at.UnixNano(), at.UnixNano() + 1, "p1", at.UnixNano() + 2}))
	if err != nil {
		t.Fatal(err)
	}
	wantM := &hookline.MonitorStateRecord{MonitorID: "M", State: json.RawMessage("{}"), WindowEnd: at,
		NextEvalAt: at.Add(1), LeaseOwner: "p1", LeaseExpiresAt: at.Add(2)}
	if !reflect.DeepEqual(m, wantM) {
		t.Errorf("monitor state %+v; want %+v", m, wantM)
	}
	m, err = ScanMonitorState(scanArgs([]any{"M", nil, nil, nil, nil, nil}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, &hookline.MonitorStateRecord{MonitorID: "M"}) {
		t.Errorf("monitor state of NULLs %+v; want only the ID", m)
	}

	s, err := ScanSearchState(scanArgs([]any{"S", at.UnixNano(), "p1", at.UnixNano() + 1, at.UnixNano() + 2, int64(4), int64(2), "e"}))
	if err != nil {
		t.Fatal(err)
	}
	wantS := &hookline.SearchStateRecord{SearchID: "S", NextRunAt: at, LeaseOwner: "p1", LeaseExpiresAt: at.Add(1),
		LastRun: hookline.SearchRun{ScheduledAt: at.Add(2), Results: 4, Alerts: 2, Error: "e"}}
	if !reflect.DeepEqual(s, wantS) {
		t.Errorf("search state %+v; want %+v", s, wantS)
	}
	if _, err := ScanSearchState(func(...any) error { return sql.ErrNoRows }); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("scan error %v; want it returned", err)
	}
}
