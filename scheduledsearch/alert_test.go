package scheduledsearch_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/query"
	"github.com/hookline/hookline/scheduledsearch"
)

var at = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func aggregate(n int) *query.Result {
	res := &query.Result{Aggregate: true, Columns: []string{"ip", "_count"}, Matched: n * 2}
	for i := range n {
		res.Rows = append(res.Rows, map[string]any{"ip": fmt.Sprintf("10.0.0.%d", i), "_count": int64(2)})
	}
	return res
}

// messages is a result of matched messages of which the first kept are
// kept, as query.Run keeps them.
func messages(matched, kept int) *query.Result {
	res := &query.Result{Matched: matched}
	for i := range kept {
		res.Messages = append(res.Messages, query.Record{
			Time: at.Add(-time.Duration(i+1) * time.Second), Message: fmt.Sprintf("error %d", i),
			Fields: map[string]string{"_sourceCategory": "app"},
		})
	}
	return res
}

func search(mutate func(*hookline.ScheduledSearch)) *hookline.ScheduledSearch {
	s := &hookline.ScheduledSearch{
		ID: "S1", Name: "Top talkers", Description: "who talks most",
		Query:        `_sourceCategory=nginx | parse "from *" as ip | count by ip`,
		ScheduleType: hookline.Schedule15Minutes, TimeRange: 15 * time.Minute,
		Threshold:    &hookline.SearchThreshold{Operator: hookline.ThresholdGT, Count: 0},
		Notification: hookline.SearchNotification{ConnectionID: "C1"},
	}
	if mutate != nil {
		mutate(s)
	}
	s.Normalize()
	return s
}

func TestAlerts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		search func(*hookline.ScheduledSearch)
		res    *query.Result
		// want is each alert's number of Results rows; nil for none.
		want      []int
		wantCount int
		wantFirst hookline.Row // the first alert's first row, when set
	}{
		{name: "condition met", res: aggregate(3), want: []int{3}, wantCount: 3,
			wantFirst: hookline.Row{"ip": "10.0.0.0", "_count": int64(2)}},
		{name: "condition not met", res: aggregate(0)},
		{name: "messages counted, not rows kept", res: messages(700, 600), want: []int{hookline.MaxSearchResults}, wantCount: 700},
		{name: "aggregate rows beyond the limit", res: aggregate(600), want: []int{hookline.MaxSearchResults}, wantCount: 600},
		{name: "no threshold, no results", search: func(s *hookline.ScheduledSearch) { s.Threshold = nil },
			res: messages(0, 0), want: []int{0}},
		{name: "eq 0 met", search: func(s *hookline.ScheduledSearch) {
			s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdEQ, Count: 0}
		}, res: aggregate(0), want: []int{0}},
		{name: "eq 0 not met", search: func(s *hookline.ScheduledSearch) {
			s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdEQ, Count: 0}
		}, res: aggregate(1)},
		{name: "lt 5 met by messages", search: func(s *hookline.ScheduledSearch) {
			s.Query = "_sourceCategory=app error"
			s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdLT, Count: 5}
		}, res: messages(4, 4), want: []int{4}, wantCount: 4},
		{name: "itemized", search: func(s *hookline.ScheduledSearch) { s.Notification.ItemizeAlerts = true },
			res: aggregate(3), want: []int{1, 1, 1}, wantCount: 3,
			wantFirst: hookline.Row{"ip": "10.0.0.0", "_count": int64(2)}},
		{name: "itemized up to max", search: func(s *hookline.ScheduledSearch) {
			s.Notification.ItemizeAlerts, s.Notification.MaxItemizedAlerts = true, 2
		}, res: aggregate(5), want: []int{1, 1}, wantCount: 5},
		{name: "itemized messages", search: func(s *hookline.ScheduledSearch) { s.Notification.ItemizeAlerts = true },
			res: messages(150, 120), want: slices.Repeat([]int{1}, hookline.MaxItemizedAlerts), wantCount: 150,
			wantFirst: hookline.Row{"Message": "error 0", "Time": at.Add(-time.Second).UnixMilli(), "_sourceCategory": "app"}},
		{name: "itemized eq 0", search: func(s *hookline.ScheduledSearch) {
			s.Notification.ItemizeAlerts = true
			s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdEQ, Count: 0}
		}, res: aggregate(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := search(tc.search)
			got := scheduledsearch.Alerts(s, tc.res, at)
			var rows []int
			for _, a := range got {
				rows = append(rows, len(a.Alert.Results))
			}
			if !slices.Equal(rows, tc.want) {
				t.Fatalf("alerts' rows %v, want %v", rows, tc.want)
			}
			keys := map[string]bool{}
			for i, a := range got {
				al := a.Alert
				want := hookline.Alert{
					Name: s.Name, Description: s.Description, MonitorType: "Logs", Query: s.Query,
					NumQueryResults: tc.wantCount, SourceID: s.ID, TriggerType: hookline.TriggerNormal,
					TriggerCondition: s.Threshold.Condition(), TriggerValue: fmt.Sprint(tc.wantCount),
					TriggerTime: at, TriggerTimeStart: at.Add(-15 * time.Minute), TriggerTimeEnd: at,
				}
				al.Results = nil
				if fmt.Sprint(al) != fmt.Sprint(want) {
					t.Errorf("alert %d:\n%+v\nwant\n%+v", i, al, want)
				}
				if a.Source != "search:S1" {
					t.Errorf("alert %d: source %q", i, a.Source)
				}
				if len(a.Deliveries) != 1 || a.Deliveries[0].ConnectionID != "C1" || a.Deliveries[0].Payload != "" ||
					a.Deliveries[0].TriggerType != hookline.TriggerNormal {
					t.Errorf("alert %d: deliveries %+v, want one Normal to C1 with the connection's payload", i, a.Deliveries)
				}
				if a.IdempotencyKey == "" || keys[a.IdempotencyKey] {
					t.Errorf("alert %d: key %q empty or repeated", i, a.IdempotencyKey)
				}
				keys[a.IdempotencyKey] = true
			}
			if tc.wantFirst != nil && fmt.Sprint(got[0].Alert.Results[0]) != fmt.Sprint(tc.wantFirst) {
				t.Errorf("first row %v, want %v", got[0].Alert.Results[0], tc.wantFirst)
			}
			if len(got) > 1 && fmt.Sprint(got[0].Alert.Results[0]) == fmt.Sprint(got[1].Alert.Results[0]) {
				t.Errorf("itemized alerts share their row %v", got[0].Alert.Results[0])
			}
		})
	}
}

// Keys are the same when the same scheduled time is run again, and differ
// between times and searches.
func TestAlertsIdempotencyKeys(t *testing.T) {
	itemized := search(func(s *hookline.ScheduledSearch) { s.Notification.ItemizeAlerts = true })
	keys := func(s *hookline.ScheduledSearch, at time.Time) []string {
		var out []string
		for _, a := range scheduledsearch.Alerts(s, aggregate(2), at) {
			out = append(out, a.IdempotencyKey)
		}
		return out
	}
	first := keys(itemized, at)
	if again := keys(itemized, at); !slices.Equal(first, again) {
		t.Errorf("run again: keys %q, want %q", again, first)
	}
	other := search(func(s *hookline.ScheduledSearch) { s.ID, s.Notification.ItemizeAlerts = "S2", true })
	for _, k := range append(keys(itemized, at.Add(15*time.Minute)), keys(other, at)...) {
		if slices.Contains(first, k) {
			t.Errorf("key %q of another run repeats one of %q", k, first)
		}
	}
}

// The notification's payload overrides the connection's; blank keeps it.
// Times are shown in the search's time zone.
func TestAlertsPayloadAndZone(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{`{"n": {{NumQueryResults}}}`, `{"n": {{NumQueryResults}}}`},
		{"  \n", ""},
	} {
		s := search(func(s *hookline.ScheduledSearch) { s.Notification.Payload = tc.payload; s.TimeZone = "Europe/Berlin" })
		got := scheduledsearch.Alerts(s, aggregate(1), at)
		if len(got) != 1 || got[0].Deliveries[0].Payload != tc.want {
			t.Fatalf("payload %q: deliveries %+v, want payload %q", tc.payload, got[0].Deliveries, tc.want)
		}
		if loc := got[0].Alert.Location; loc == nil || loc.String() != "Europe/Berlin" {
			t.Errorf("location %v, want Europe/Berlin", loc)
		}
	}
}
