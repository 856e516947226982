package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookline/hookline"

	_ "time/tzdata" // alerts travel with their time zone by name; tests must not depend on the host's zoneinfo
)

// TestDeliveryStore checks that a hookline.DeliveryStore keeps the
// interface's contract and these rules that the interface leaves to the
// engines:
//
//   - IDs of alerts and deliveries are 16 upper-case hex digits, chosen by
//     the store. Times come back in UTC, exact to the microsecond at least;
//     CreatedAt and UpdatedAt are the store's clock.
//   - A new delivery is pending with no attempts, due at its alert's
//     ReceivedAt (the store's clock when zero); an empty TriggerType becomes
//     the alert's. An alert's deliveries come back in the order accepted.
//   - A batch is stored whole or not at all; an invalid one (a nil alert, a
//     delivery without a connection) is EINVALID.
//   - A duplicate idempotency key of the same source, stored before or
//     earlier in the same batch, answers with the stored alert's ID,
//     ReceivedAt and deliveries. Keys are scoped by source: the same key
//     from another source is a new alert.
//   - ClaimDue returns deliveries due at or before due, ordered by
//     NextAttemptAt then ID; it passes over those the claimer holds and
//     those of owners with a live lease, claims those of an owner without
//     one (never renewed, released, or lapsed: a process that stopped) and
//     those nobody holds, never final ones. A limit of 0 claims nothing; a
//     negative limit or an empty owner is EINVALID.
//   - RenewOwner's leases run on the store's clock, which the suite takes
//     to be the real one: a lease of 1 ms has lapsed 20 ms later.
//   - RecordAttempts refuses (EINVALID) a batch with a result lacking a
//     known state, a NextAttemptAt while pending, an attempt number of 1 or
//     more or a StartedAt. It skips a result whose delivery is unknown or
//     has counted that attempt already, and still applies the rest of the
//     batch. A pending result with Keep stays held by owner; any other is
//     released.
//   - ReplayDelivery replays failed and dead deliveries only, keeping the
//     ID, Attempts, LastStatus and LastError; a pending or delivered one is
//     ECONFLICT and left as it was.
//   - Deliveries lists newest first by (CreatedAt, ID); Since is inclusive
//     and Until exclusive; the limit and token rules are those of
//     connections (EINVALID naming "limit" or "token"), and an unknown
//     state is EINVALID naming "state".
//   - Deleting a connection keeps its deliveries and their attempts.
//   - DeliveryCounts returns the buckets from since to the store's now
//     (which the suite takes to be its own clock), bucket i starting at
//     since+i·bucket in UTC, empty ones included. A delivery counts in the
//     bucket its CreatedAt falls in, a bucket's start included and its end
//     not, under its state at the time of the call. A zero since, one
//     after now, a bucket that is not positive or more than
//     hookline.MaxDeliveryBuckets buckets is EINVALID naming "since" or
//     "bucket"; exactly the maximum is allowed.
//   - LatestDeliveries returns, for each connection that exists and has a
//     delivery, the one that comes first in the log's order (CreatedAt,
//     then ID, newest first), as Delivery returns it; the list is in the
//     same order. A deleted connection's deliveries are not in it.
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store whose two interfaces share one database, which
// t's cleanup closes.
func TestDeliveryStore(t *testing.T, open func(t *testing.T) (hookline.DeliveryStore, hookline.ConnectionStore)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Accept", testAccept},
		{"AcceptDefaults", testAcceptDefaults},
		{"AcceptBatch", testAcceptBatch},
		{"AcceptInvalid", testAcceptInvalid},
		{"Idempotency", testIdempotency},
		{"IdempotencyWithinBatch", testIdempotencyWithinBatch},
		{"IdempotencyPerSource", testIdempotencyPerSource},
		{"ClaimOrder", testClaimOrder},
		{"ClaimLimit", testClaimLimit},
		{"ClaimOwners", testClaimOwners},
		{"ClaimLeases", testClaimLeases},
		{"HeldBy", testHeldBy},
		{"ClaimSkip", testClaimSkip},
		{"ClaimBadArguments", testClaimBadArguments},
		{"RecordAttempts", testRecordAttempts},
		{"RecordKeepAndRelease", testRecordKeepAndRelease},
		{"RecordSkipsUnknownAndRepeated", testRecordSkips},
		{"RecordInvalid", testRecordInvalid},
		{"Replay", testReplay},
		{"DeliveriesOrderAndPaging", testDeliveriesPaging},
		{"DeliveriesPagingStable", testDeliveriesPagingStable},
		{"DeliveriesFilters", testDeliveriesFilters},
		{"DeliveriesLimits", testDeliveriesLimits},
		{"DeliveriesBadOptions", testDeliveriesBadOptions},
		{"QueueStats", testQueueStats},
		{"ConnectionDeleted", testConnectionDeleted},
		{"DeliveryNotFound", testDeliveryNotFound},
		{"CountsEmpty", testCountsEmpty},
		{"Counts", testCounts},
		{"CountsBadArguments", testCountsBadArguments},
		{"LatestDeliveries", testLatestDeliveries},
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

// Base is the time the suite's alerts are received around: in the past, so
// that they are due, and whole microseconds, which every engine keeps.
var Base = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Alert returns an alert received at receivedAt that uses every field, with
// one delivery to each connection. Its name and time make it distinct.
func Alert(name string, receivedAt time.Time, connectionIDs ...string) *hookline.AcceptedAlert {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err) // time/tzdata is embedded
	}
	a := &hookline.AcceptedAlert{
		Source:     "api",
		ReceivedAt: receivedAt,
		Alert: hookline.Alert{
			Name:        name,
			Description: "Errors in " + name + " ✓",
			MonitorType: "Logs",
			Query:       `_sourceCategory=prod/api error | count by client_ip`,
			QueryURL:    "https://service.example.com/ui/#/search/abc",
			Results: []hookline.Row{
				{"client_ip": "10.0.0.1", "_count": json.Number("42"), "ratio": json.Number("0.125")},
				{"client_ip": "10.0.0.2", "_count": json.Number("12345678901234567890"),
					"nested": map[string]any{"a": []any{json.Number("1"), "two", true, nil}}},
			},
			NumQueryResults:  7,
			SourceID:         "0000000000ABCDEF",
			DetectionMethod:  "LogsStaticCondition",
			TriggerType:      hookline.TriggerCritical,
			TriggerCondition: "count > 5",
			TriggerValue:     "42",
			TriggerTime:      receivedAt.Add(-time.Minute),
			TriggerTimeStart: receivedAt.Add(-16 * time.Minute),
			TriggerTimeEnd:   receivedAt.Add(-time.Minute),
			SourceURL:        "https://service.example.com/ui/#/alerts/1",
			AlertResponseURL: "https://service.example.com/ui/#/alert/1",
			Variables:        map[string]string{"RoutingKey": "team-ops", "Playbook": "Restart it.\n\"Then\" page."},
			Location:         chicago,
		},
	}
	for _, id := range connectionIDs {
		a.Deliveries = append(a.Deliveries, &hookline.Delivery{ConnectionID: id, TriggerType: hookline.TriggerCritical})
	}
	return a
}

type env struct {
	t     *testing.T
	s     hookline.DeliveryStore
	c     hookline.ConnectionStore
	conns []string // three connection IDs
}

// deliveryOpts compare deliveries and alerts: time zones by name (nil is
// UTC), times by instant, nil and empty alike.
var deliveryOpts = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b *time.Location) bool { return locName(a) == locName(b) }),
}

func locName(l *time.Location) string {
	if l == nil {
		return "UTC"
	}
	return l.String()
}

func (e *env) accept(owner string, alerts ...*hookline.AcceptedAlert) []*hookline.AcceptedAlert {
	e.t.Helper()
	if err := e.s.AcceptAlerts(e.t.Context(), owner, alerts); err != nil {
		e.t.Fatalf("AcceptAlerts: %v", err)
	}
	return alerts
}

func (e *env) claim(owner string, due time.Time, limit int, skip ...string) []*hookline.ClaimedDelivery {
	e.t.Helper()
	cds, err := e.s.ClaimDue(e.t.Context(), owner, due, limit, skip)
	if err != nil {
		e.t.Fatalf("ClaimDue(%s, %v, %d, %q): %v", owner, due, limit, skip, err)
	}
	return cds
}

func (e *env) record(owner string, results ...hookline.AttemptResult) {
	e.t.Helper()
	if err := e.s.RecordAttempts(e.t.Context(), owner, results); err != nil {
		e.t.Fatalf("RecordAttempts: %v", err)
	}
}

func (e *env) delivery(id string) (*hookline.Delivery, []hookline.DeliveryAttempt) {
	e.t.Helper()
	d, attempts, err := e.s.Delivery(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("Delivery(%s): %v", id, err)
	}
	return d, attempts
}

// list pages through every delivery f selects, with f's limit.
func (e *env) list(f hookline.DeliveryFilter) []*hookline.Delivery {
	e.t.Helper()
	var all []*hookline.Delivery
	for page := 0; ; page++ {
		list, next, err := e.s.Deliveries(e.t.Context(), f)
		if err != nil {
			e.t.Fatalf("Deliveries(%+v, page %d): %v", f, page, err)
		}
		all = append(all, list...)
		if next == "" {
			return all
		}
		if len(list) == 0 || page > 10000 {
			e.t.Fatalf("Deliveries(%+v, page %d): no deliveries but a next token, or no end", f, page)
		}
		f.Token = next
	}
}

func claimedIDs(cds []*hookline.ClaimedDelivery) []string {
	out := make([]string, len(cds))
	for i, cd := range cds {
		out[i] = cd.Delivery.ID
	}
	return out
}

func deliveryIDs(ds []*hookline.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// allDeliveryIDs lists the IDs of the alerts' deliveries in order.
func allDeliveryIDs(alerts ...*hookline.AcceptedAlert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, deliveryIDs(a.Deliveries)...)
	}
	return out
}

// newestFirst sorts deliveries as the log lists them.
func newestFirst(ds []*hookline.Delivery) []*hookline.Delivery {
	ds = slices.Clone(ds)
	slices.SortFunc(ds, func(a, b *hookline.Delivery) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return ds
}

// cloneAlert copies an accepted alert deeply enough to keep it as a
// want while the store fills in the original.
func cloneAlert(a *hookline.AcceptedAlert) *hookline.AcceptedAlert {
	c := *a
	c.Deliveries = nil
	for _, d := range a.Deliveries {
		dc := *d
		c.Deliveries = append(c.Deliveries, &dc)
	}
	return &c
}

// checkStoreTime checks a time the store set during [before, after].
func checkStoreTime(t *testing.T, name string, v, before, after time.Time) {
	t.Helper()
	switch {
	case v.IsZero():
		t.Errorf("%s is not set", name)
	case v.Location() != time.UTC:
		t.Errorf("%s = %v is not in UTC", name, v)
	case v.Before(before.Add(-time.Minute)) || v.After(after.Add(time.Minute)):
		t.Errorf("%s = %v; want a time between %v and %v", name, v, before, after)
	}
}
