package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

// TestAlertList checks DeliveryStore.Alerts, the alerts list, against the
// interface's contract and these rules that it leaves to the engines:
//
//   - Alerts come newest first by ReceivedAt, then by ID (greatest first)
//     among alerts received at the same instant, each as AcceptedAlert
//     returns it: the alert whole, its deliveries in the order accepted,
//     in their state at the time of the call.
//   - Source and TriggerType keep the alerts whose own are equal; Since is
//     inclusive and Until exclusive, on ReceivedAt. Filters combine.
//   - Paging is by key: a page continues after the last alert of the
//     previous one, whatever was accepted since, and the last page has no
//     next token. The limit rules are those of connections (EINVALID
//     naming "limit"); a token this list did not issue — another list's
//     included — is EINVALID naming "token".
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store whose two interfaces share one database, which
// t's cleanup closes.
func TestAlertList(t *testing.T, open func(t *testing.T) (hookline.DeliveryStore, hookline.ConnectionStore)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Empty", testAlertListEmpty},
		{"OrderAndPaging", testAlertListOrder},
		{"PagingStable", testAlertListPagingStable},
		{"Deliveries", testAlertListDeliveries},
		{"Filters", testAlertListFilters},
		{"Limits", testAlertListLimits},
		{"BadOptions", testAlertListBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := open(t)
			e := &env{t: t, s: s, c: c}
			for _, name := range []string{"Conn A", "Conn B", "Conn C"} {
				e.conns = append(e.conns, create(t, c, Connection(name)).ID)
			}
			tt.fn(t, e)
		})
	}
}

// alerts pages through every alert f selects, with f's limit, from the
// first page.
func (e *env) alerts(f hookline.AlertFilter) []*hookline.AcceptedAlert {
	e.t.Helper()
	return pageAll(e.t, "Alerts", func(token string) ([]*hookline.AcceptedAlert, string, error) {
		f.Token = token
		return e.s.Alerts(e.t.Context(), f)
	})
}

// stored returns the alerts as AcceptedAlert reads them now, newest first
// as the list orders them.
func (e *env) stored(alerts ...*hookline.AcceptedAlert) []*hookline.AcceptedAlert {
	e.t.Helper()
	out := make([]*hookline.AcceptedAlert, len(alerts))
	for i, a := range alerts {
		got, err := e.s.AcceptedAlert(e.t.Context(), a.ID)
		if err != nil {
			e.t.Fatalf("AcceptedAlert(%s): %v", a.ID, err)
		}
		out[i] = got
	}
	slices.SortFunc(out, func(a, b *hookline.AcceptedAlert) int {
		if c := b.ReceivedAt.Compare(a.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

func alertIDs(as []*hookline.AcceptedAlert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// sourcedAlert is Alert with a source and trigger type of its own.
func sourcedAlert(name, source string, trigger hookline.TriggerType, receivedAt time.Time, connectionIDs ...string) *hookline.AcceptedAlert {
	a := Alert(name, receivedAt, connectionIDs...)
	a.Source, a.Alert.TriggerType = source, trigger
	for _, d := range a.Deliveries {
		d.TriggerType = trigger
	}
	return a
}

func testAlertListEmpty(t *testing.T, e *env) {
	for _, f := range []hookline.AlertFilter{{}, {Limit: 1}, {Source: "api", TriggerType: hookline.TriggerCritical, Since: Base, Until: Base.Add(time.Hour)}} {
		list, next, err := e.s.Alerts(t.Context(), f)
		if err != nil || len(list) != 0 || next != "" {
			t.Errorf("Alerts(%+v) of an empty store = %d alerts, %q, %v; want none", f, len(list), next, err)
		}
	}
}

func testAlertListOrder(t *testing.T, e *env) {
	// Received out of order, several at the same instant, in batches and
	// one by one; the IDs the store draws do not follow ReceivedAt.
	var all []*hookline.AcceptedAlert
	for i, at := range []time.Duration{3, 1, 3, 0, 2, 3, 1, 5, 3} {
		a := Alert(fmt.Sprint("alert ", i), Base.Add(at*time.Second), e.conns[i%3])
		all = append(all, a)
		if i%2 == 0 {
			e.accept("", a)
		}
	}
	var batch []*hookline.AcceptedAlert
	for i, a := range all {
		if i%2 == 1 {
			batch = append(batch, a)
		}
	}
	slices.Reverse(batch)
	e.accept("", batch...)
	want := e.stored(all...)

	for _, limit := range []int{0, 1, 2, 3, 4, 9, 10} {
		if diff := cmp.Diff(want, e.alerts(hookline.AlertFilter{Limit: limit}), deliveryOpts); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
		}
	}
	// Page sizes and tokens: a page that ends at the last alert has no
	// next token.
	list, next, err := e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: 4})
	if err != nil || len(list) != 4 || next == "" {
		t.Fatalf("first page of 4: %d alerts, token %q, %v", len(list), next, err)
	}
	list, next, err = e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: 5, Token: next})
	if err != nil || len(list) != 5 || next != "" {
		t.Errorf("last page of 5: %d alerts, token %q, %v; want 5 and no token", len(list), next, err)
	}
	if diff := cmp.Diff(want[4:], list, deliveryOpts); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
}

func testAlertListPagingStable(t *testing.T, e *env) {
	var older []*hookline.AcceptedAlert
	for i := range 4 {
		older = append(older, Alert(fmt.Sprint("old ", i), Base.Add(time.Duration(i)*time.Second), e.conns[0]))
	}
	e.accept("", older...)
	want := e.stored(older...)
	first, next, err := e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: 2})
	if err != nil || next == "" {
		t.Fatalf("first page: %v, token %q", err, next)
	}
	// Newer alerts, one at the same instant as the last one seen, and
	// deliveries changing state between pages neither repeat nor hide any.
	e.accept("", Alert("newer", Base.Add(time.Hour), e.conns...), Alert("same instant", first[1].ReceivedAt, e.conns[1]))
	e.record("", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: want[2].Deliveries[0].ID, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	})
	rest := pageAll(t, "Alerts", func(token string) ([]*hookline.AcceptedAlert, string, error) {
		if token == "" {
			token = next
		}
		return e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: 1, Token: token})
	})
	sameInstant := func(as []*hookline.AcceptedAlert) []*hookline.AcceptedAlert {
		return slices.DeleteFunc(slices.Clone(as), func(a *hookline.AcceptedAlert) bool { return a.Alert.Name == "same instant" })
	}
	// The alert received at the same instant as the page's last one comes
	// after it only if its ID is smaller; either way nothing else changes.
	if got := append(alertIDs(first), alertIDs(sameInstant(rest))...); !slices.Equal(got, alertIDs(want)) {
		t.Errorf("pages = %q; want %q", got, alertIDs(want))
	}
	if rest[0].ID == want[2].ID && rest[0].Deliveries[0].State != hookline.DeliveryDelivered {
		t.Errorf("the delivery delivered between pages is listed as %s", rest[0].Deliveries[0].State)
	}
}

func testAlertListDeliveries(t *testing.T, e *env) {
	none := Alert("no deliveries", Base)
	one := Alert("one delivery", Base.Add(time.Second), e.conns[2])
	many := Alert("three deliveries", Base.Add(2*time.Second), e.conns[1], e.conns[0], e.conns[2])
	e.accept("owner", none, one, many)
	// Each delivery of many in another state; one stays pending.
	e.record("owner",
		hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: many.Deliveries[0].ID, N: 1, StartedAt: Base, StatusCode: 200},
			State:   hookline.DeliveryDelivered,
		},
		hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: many.Deliveries[1].ID, N: 1, StartedAt: Base, StatusCode: 404, Error: "not found"},
			State:   hookline.DeliveryFailed,
		},
		hookline.AttemptResult{
			Attempt:       hookline.DeliveryAttempt{DeliveryID: many.Deliveries[2].ID, N: 1, StartedAt: Base, StatusCode: 503},
			State:         hookline.DeliveryPending,
			NextAttemptAt: Base.Add(time.Minute),
		},
	)
	want := e.stored(none, one, many)
	got := e.alerts(hookline.AlertFilter{})
	if diff := cmp.Diff(want, got, deliveryOpts); diff != "" {
		t.Errorf("Alerts (-want +got):\n%s", diff)
	}
	if len(got) != 3 || len(got[0].Deliveries) != 3 || len(got[1].Deliveries) != 1 || len(got[2].Deliveries) != 0 {
		t.Fatalf("Alerts = %d alerts; want 3 with 3, 1 and 0 deliveries", len(got))
	}
	type state struct {
		conn     string
		state    hookline.DeliveryState
		attempts int
		status   int
	}
	var states []state
	for _, d := range got[0].Deliveries {
		states = append(states, state{d.ConnectionID, d.State, d.Attempts, d.LastStatus})
	}
	wantStates := []state{
		{e.conns[1], hookline.DeliveryDelivered, 1, 200},
		{e.conns[0], hookline.DeliveryFailed, 1, 404},
		{e.conns[2], hookline.DeliveryPending, 1, 503},
	}
	if diff := cmp.Diff(wantStates, states, cmp.AllowUnexported(state{})); diff != "" {
		t.Errorf("deliveries of %q in the list (-want +got):\n%s", many.Alert.Name, diff)
	}
	// The whole alert comes back, its results included.
	if len(got[0].Alert.Results) != 2 || got[0].Alert.Variables["RoutingKey"] != "team-ops" {
		t.Errorf("listed alert %+v lacks its results or variables", got[0].Alert)
	}
}

func testAlertListFilters(t *testing.T, e *env) {
	sources := []string{"api", "alertmanager", "monitor:00000000000000A1", "search:00000000000000B2", "search:00000000000000B3"}
	triggers := []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerWarning, hookline.TriggerResolvedCritical, hookline.TriggerMissingData}
	var all []*hookline.AcceptedAlert
	for i := range 30 {
		at := Base.Add(time.Duration(i/3) * time.Minute) // three alerts a minute
		a := sourcedAlert(fmt.Sprint("alert ", i), sources[i%len(sources)], triggers[i%len(triggers)], at, e.conns[i%3])
		all = append(all, a)
	}
	e.accept("", all...)
	stored := e.stored(all...)
	split := Base.Add(4 * time.Minute)
	tests := []struct {
		name   string
		filter hookline.AlertFilter
		keep   func(a *hookline.AcceptedAlert) bool
	}{
		{"all", hookline.AlertFilter{}, func(a *hookline.AcceptedAlert) bool { return true }},
		{"api", hookline.AlertFilter{Source: "api"}, func(a *hookline.AcceptedAlert) bool { return a.Source == "api" }},
		{"a search", hookline.AlertFilter{Source: sources[3]}, func(a *hookline.AcceptedAlert) bool { return a.Source == sources[3] }},
		{"unknown source", hookline.AlertFilter{Source: "search:"}, func(a *hookline.AcceptedAlert) bool { return false }},
		{"trigger type", hookline.AlertFilter{TriggerType: hookline.TriggerWarning}, func(a *hookline.AcceptedAlert) bool {
			return a.Alert.TriggerType == hookline.TriggerWarning
		}},
		{"since", hookline.AlertFilter{Since: split}, func(a *hookline.AcceptedAlert) bool { return !a.ReceivedAt.Before(split) }},
		{"until", hookline.AlertFilter{Until: split}, func(a *hookline.AcceptedAlert) bool { return a.ReceivedAt.Before(split) }},
		{"since and until", hookline.AlertFilter{Since: split, Until: split.Add(time.Nanosecond)}, func(a *hookline.AcceptedAlert) bool {
			return a.ReceivedAt.Equal(split)
		}},
		{"source and trigger type", hookline.AlertFilter{Source: "alertmanager", TriggerType: hookline.TriggerCritical}, func(a *hookline.AcceptedAlert) bool {
			return a.Source == "alertmanager" && a.Alert.TriggerType == hookline.TriggerCritical
		}},
		{"everything", hookline.AlertFilter{Source: "api", TriggerType: hookline.TriggerResolvedCritical, Since: Base.Add(time.Minute), Until: split.Add(5 * time.Minute)},
			func(a *hookline.AcceptedAlert) bool {
				return a.Source == "api" && a.Alert.TriggerType == hookline.TriggerResolvedCritical &&
					!a.ReceivedAt.Before(Base.Add(time.Minute)) && a.ReceivedAt.Before(split.Add(5*time.Minute))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []*hookline.AcceptedAlert
			for _, a := range stored {
				if tt.keep(a) {
					want = append(want, a)
				}
			}
			if tt.name != "unknown source" && (len(want) == 0 || len(want) == len(all) && tt.name != "all") {
				t.Fatalf("the test selects %d of %d alerts", len(want), len(all))
			}
			for _, limit := range []int{1, 2, 100} {
				f := tt.filter
				f.Limit = limit
				if diff := cmp.Diff(want, e.alerts(f), deliveryOpts); diff != "" {
					t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
				}
			}
		})
	}

	// A filter may change between pages: the page continues after the
	// last alert seen, within the new filter.
	first, next, err := e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: 4})
	if err != nil || next == "" {
		t.Fatalf("first page: %v, token %q", err, next)
	}
	for _, f := range []hookline.AlertFilter{
		{Until: split, Limit: 2, Token: next},                                    // before the page's last alert
		{Until: first[3].ReceivedAt.Add(time.Nanosecond), Limit: 2, Token: next}, // just after it
		{Source: "api", Limit: 2, Token: next},
	} {
		var want []*hookline.AcceptedAlert
		for _, a := range stored[4:] {
			if (f.Until.IsZero() || a.ReceivedAt.Before(f.Until)) && (f.Source == "" || a.Source == f.Source) {
				want = append(want, a)
			}
		}
		got := pageAll(t, "Alerts", func(token string) ([]*hookline.AcceptedAlert, string, error) {
			g := f
			if token != "" {
				g.Token = token
			}
			return e.s.Alerts(t.Context(), g)
		})
		if diff := cmp.Diff(want, got, deliveryOpts); diff != "" {
			t.Errorf("pages after the first with %+v (-want +got):\n%s", f, diff)
		}
	}
}

func testAlertListLimits(t *testing.T, e *env) {
	n := hookline.MaxListLimit + 1
	batch := make([]*hookline.AcceptedAlert, n)
	for i := range batch {
		batch[i] = Alert(fmt.Sprint(i), Base.Add(time.Duration(i%7)*time.Second))
	}
	e.accept("", batch...)
	tests := []struct{ limit, want int }{
		{0, hookline.DefaultListLimit},
		{1, 1},
		{hookline.DefaultListLimit + 1, hookline.DefaultListLimit + 1},
		{hookline.MaxListLimit + 1, hookline.MaxListLimit},
		{1 << 30, hookline.MaxListLimit},
	}
	for _, tt := range tests {
		list, next, err := e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: tt.limit})
		if err != nil {
			t.Fatalf("limit %d: %v", tt.limit, err)
		}
		if len(list) != tt.want || next == "" {
			t.Errorf("limit %d: %d alerts, next token %q; want %d and a next token", tt.limit, len(list), next, tt.want)
		}
	}
	if got := len(e.alerts(hookline.AlertFilter{Limit: hookline.MaxListLimit})); got != n {
		t.Errorf("pages of the maximum hold %d alerts; want %d", got, n)
	}
}

func testAlertListBadOptions(t *testing.T, e *env) {
	e.accept("", Alert("a", Base, e.conns...), Alert("b", Base.Add(time.Second), e.conns...))
	_, token, err := e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: 1})
	if err != nil || token == "" {
		t.Fatalf("first page: token %q, %v", token, err)
	}
	// Another list's token is not this list's.
	_, deliveryToken, err := e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Limit: 1})
	if err != nil || deliveryToken == "" {
		t.Fatalf("first page of deliveries: token %q, %v", deliveryToken, err)
	}
	_, _, err = e.s.Alerts(t.Context(), hookline.AlertFilter{Limit: -1})
	wantField(t, err, "limit", "Alerts(limit -1)")
	for _, bad := range []string{"!!!", "not a token", "\x00", token + "!", token[:len(token)/2], strings.Repeat("A", 10000), deliveryToken} {
		list, next, err := e.s.Alerts(t.Context(), hookline.AlertFilter{Token: bad})
		wantField(t, err, "token", fmt.Sprintf("Alerts(token %.20q)", bad))
		if list != nil || next != "" {
			t.Errorf("token %.20q: returned %d alerts and %q with the error", bad, len(list), next)
		}
	}
}
