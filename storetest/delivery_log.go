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

// acceptBatches accepts n batches, letting the clock move between them so
// that each batch has its own CreatedAt. It returns the stored deliveries
// of each batch.
func (e *env) acceptBatches(n int, alerts func(batch int) []*hookline.AcceptedAlert) [][]*hookline.Delivery {
	e.t.Helper()
	var out [][]*hookline.Delivery
	var last time.Time
	for b := range n {
		batch := alerts(b)
		e.accept("", batch...)
		var ds []*hookline.Delivery
		for _, a := range batch {
			ds = append(ds, a.Deliveries...)
		}
		if b > 0 && !ds[0].CreatedAt.After(last) {
			e.t.Fatalf("batch %d was created at %v, not after the previous batch's %v", b, ds[0].CreatedAt, last)
		}
		last = ds[0].CreatedAt
		out = append(out, ds)
		time.Sleep(2 * time.Millisecond)
	}
	return out
}

func testDeliveriesPaging(t *testing.T, e *env) {
	batches := e.acceptBatches(3, func(b int) []*hookline.AcceptedAlert {
		return []*hookline.AcceptedAlert{
			Alert(fmt.Sprint(b, "x"), Base, e.conns[0], e.conns[1]),
			Alert(fmt.Sprint(b, "y"), Base, e.conns[2], e.conns[0]),
		}
	})
	var all []*hookline.Delivery
	for _, b := range batches {
		all = append(all, b...)
	}
	want := newestFirst(all)
	for _, limit := range []int{0, 1, 2, 3, 5, 12, 13} {
		got := e.list(hookline.DeliveryFilter{Limit: limit})
		if diff := cmp.Diff(want, got, deliveryOpts); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
		}
	}
	// Page sizes and tokens.
	list, next, err := e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Limit: 5})
	if err != nil || len(list) != 5 || next == "" {
		t.Fatalf("first page of 5: %d deliveries, token %q, %v", len(list), next, err)
	}
	list, next, err = e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Limit: 7, Token: next})
	if err != nil || len(list) != 7 || next != "" {
		t.Errorf("last page of 7: %d deliveries, token %q, %v; want 7 and no token", len(list), next, err)
	}
}

func testDeliveriesPagingStable(t *testing.T, e *env) {
	batches := e.acceptBatches(2, func(b int) []*hookline.AcceptedAlert {
		return []*hookline.AcceptedAlert{Alert(fmt.Sprint(b), Base, e.conns...)}
	})
	want := newestFirst(append(slices.Clone(batches[0]), batches[1]...))
	first, next, err := e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Limit: 2})
	if err != nil || next == "" {
		t.Fatalf("first page: %v, token %q", err, next)
	}
	// Newer deliveries and changes of state between pages neither repeat
	// nor hide any.
	e.accept("", Alert("later", Base, e.conns...))
	e.record("", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: want[2].ID, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	})
	rest := e.list(hookline.DeliveryFilter{Limit: 2, Token: next})
	if got := append(deliveryIDs(first), deliveryIDs(rest)...); !slices.Equal(got, deliveryIDs(want)) {
		t.Errorf("pages = %q; want %q", got, deliveryIDs(want))
	}
}

func testDeliveriesFilters(t *testing.T, e *env) {
	var alerts []*hookline.AcceptedAlert
	batches := e.acceptBatches(3, func(b int) []*hookline.AcceptedAlert {
		x := Alert(fmt.Sprint(b, "x"), Base, e.conns[0], e.conns[1])
		y := Alert(fmt.Sprint(b, "y"), Base, e.conns[1], e.conns[2])
		alerts = append(alerts, x, y)
		return []*hookline.AcceptedAlert{x, y}
	})
	var all []*hookline.Delivery
	for _, b := range batches {
		all = append(all, b...)
	}
	// Some deliveries leave pending.
	states := map[string]hookline.DeliveryState{}
	var results []hookline.AttemptResult
	for i, d := range all {
		s := []hookline.DeliveryState{hookline.DeliveryPending, hookline.DeliveryDelivered, hookline.DeliveryFailed, hookline.DeliveryDead}[i%4]
		states[d.ID] = s
		if s == hookline.DeliveryPending {
			continue
		}
		results = append(results, hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: d.ID, N: 1, StartedAt: Base, StatusCode: 200},
			State:   s,
		})
	}
	e.record("", results...)
	stored := map[string]*hookline.Delivery{}
	for _, d := range all {
		stored[d.ID], _ = e.delivery(d.ID)
	}
	split := batches[1][0].CreatedAt
	tests := []struct {
		name   string
		filter hookline.DeliveryFilter
		keep   func(d *hookline.Delivery) bool
	}{
		{"all", hookline.DeliveryFilter{}, func(d *hookline.Delivery) bool { return true }},
		{"connection", hookline.DeliveryFilter{ConnectionID: e.conns[1]}, func(d *hookline.Delivery) bool { return d.ConnectionID == e.conns[1] }},
		{"unknown connection", hookline.DeliveryFilter{ConnectionID: "0000000000000000"}, func(d *hookline.Delivery) bool { return false }},
		{"alert", hookline.DeliveryFilter{AlertID: alerts[2].ID}, func(d *hookline.Delivery) bool { return d.AlertID == alerts[2].ID }},
		{"state", hookline.DeliveryFilter{State: hookline.DeliveryFailed}, func(d *hookline.Delivery) bool { return states[d.ID] == hookline.DeliveryFailed }},
		{"pending", hookline.DeliveryFilter{State: hookline.DeliveryPending}, func(d *hookline.Delivery) bool { return states[d.ID] == hookline.DeliveryPending }},
		{"since", hookline.DeliveryFilter{Since: split}, func(d *hookline.Delivery) bool { return !d.CreatedAt.Before(split) }},
		{"until", hookline.DeliveryFilter{Until: split}, func(d *hookline.Delivery) bool { return d.CreatedAt.Before(split) }},
		{"since and until", hookline.DeliveryFilter{Since: split, Until: split.Add(time.Nanosecond)}, func(d *hookline.Delivery) bool { return d.CreatedAt.Equal(split) }},
		{"connection and state", hookline.DeliveryFilter{ConnectionID: e.conns[1], State: hookline.DeliveryDelivered}, func(d *hookline.Delivery) bool {
			return d.ConnectionID == e.conns[1] && states[d.ID] == hookline.DeliveryDelivered
		}},
		{"everything", hookline.DeliveryFilter{ConnectionID: e.conns[1], AlertID: alerts[3].ID, State: states[batches[1][2].ID], Since: split, Until: split.Add(time.Nanosecond)},
			func(d *hookline.Delivery) bool {
				return d.ConnectionID == e.conns[1] && d.AlertID == alerts[3].ID && states[d.ID] == states[batches[1][2].ID]
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []*hookline.Delivery
			for _, d := range all {
				if tt.keep(d) {
					want = append(want, stored[d.ID])
				}
			}
			want = newestFirst(want)
			if tt.name != "unknown connection" && len(want) == 0 {
				t.Fatalf("the test selects nothing")
			}
			for _, limit := range []int{1, 2, 100} {
				f := tt.filter
				f.Limit = limit
				if diff := cmp.Diff(want, e.list(f), deliveryOpts); diff != "" {
					t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
				}
			}
		})
	}
}

func testDeliveriesLimits(t *testing.T, e *env) {
	n := hookline.MaxListLimit + 1
	var batch []*hookline.AcceptedAlert
	for i := 0; i < n; i += hookline.MaxNotifications {
		var conns []string
		for j := 0; j < hookline.MaxNotifications && i+j < n; j++ {
			conns = append(conns, e.conns[j%3])
		}
		batch = append(batch, Alert(fmt.Sprint(i), Base, conns...))
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
		list, next, err := e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Limit: tt.limit})
		if err != nil {
			t.Fatalf("limit %d: %v", tt.limit, err)
		}
		if len(list) != tt.want || next == "" {
			t.Errorf("limit %d: %d deliveries, next token %q; want %d and a next token", tt.limit, len(list), next, tt.want)
		}
	}
	if s, err := e.s.QueueStats(t.Context()); err != nil || s.Pending != n {
		t.Errorf("QueueStats = %+v, %v; want %d pending", s, err, n)
	}
}

func testDeliveriesBadOptions(t *testing.T, e *env) {
	e.accept("", Alert("a", Base, e.conns...))
	_, token, err := e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Limit: 1})
	if err != nil || token == "" {
		t.Fatalf("first page: token %q, %v", token, err)
	}
	_, _, err = e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Limit: -1})
	wantField(t, err, "limit", "Deliveries(limit -1)")
	_, _, err = e.s.Deliveries(t.Context(), hookline.DeliveryFilter{State: "lost"})
	wantField(t, err, "state", "Deliveries(state lost)")
	for _, bad := range []string{
		"!!!", "not a token", "%zz", "\x00", token + "!", token[:len(token)/2], "A", strings.Repeat("A", 10000),
	} {
		list, next, err := e.s.Deliveries(t.Context(), hookline.DeliveryFilter{Token: bad})
		wantField(t, err, "token", fmt.Sprintf("Deliveries(token %.20q)", bad))
		if list != nil || next != "" {
			t.Errorf("token %.20q: returned %d deliveries and %q with the error", bad, len(list), next)
		}
	}
}

func testQueueStats(t *testing.T, e *env) {
	stats := func() hookline.QueueStats {
		t.Helper()
		s, err := e.s.QueueStats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stats(); s.Pending != 0 || !s.OldestPending.IsZero() {
		t.Errorf("empty store: %+v; want nothing pending", s)
	}
	batches := e.acceptBatches(2, func(b int) []*hookline.AcceptedAlert {
		return []*hookline.AcceptedAlert{Alert(fmt.Sprint(b), Base.Add(time.Hour), e.conns[0], e.conns[1])}
	})
	if s := stats(); s.Pending != 4 || !s.OldestPending.Equal(batches[0][0].CreatedAt) {
		t.Errorf("QueueStats = %+v; want 4 pending, the oldest created at %v", s, batches[0][0].CreatedAt)
	}
	// Claims change nothing; retries stay pending; final ones leave.
	e.claim("p1", Base.Add(time.Hour), 10)
	e.record("p1",
		hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: batches[0][0].ID, N: 1, StartedAt: Base}, State: hookline.DeliveryDelivered},
		hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: batches[0][1].ID, N: 1, StartedAt: Base}, State: hookline.DeliveryDead},
		hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: batches[1][0].ID, N: 1, StartedAt: Base}, State: hookline.DeliveryPending,
			NextAttemptAt: Base.Add(2 * time.Hour)},
	)
	if s := stats(); s.Pending != 2 || !s.OldestPending.Equal(batches[1][0].CreatedAt) || s.OldestPending.Location() != time.UTC {
		t.Errorf("QueueStats = %+v; want 2 pending, the oldest created at %v (UTC)", s, batches[1][0].CreatedAt)
	}
	// Replicas are the owners with a live lease.
	for _, owner := range []string{"p1", "p2", "p3"} {
		if _, err := e.s.RenewOwner(t.Context(), owner, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.ReleaseOwner(t.Context(), "p3"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RenewOwner(t.Context(), "p4", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if s := stats(); s.Replicas != 2 {
		t.Errorf("QueueStats.Replicas = %d; want 2: p3 released its lease, p4's lapsed", s.Replicas)
	}
}

func testConnectionDeleted(t *testing.T, e *env) {
	a := Alert("Orphan", Base, e.conns[0], e.conns[1])
	e.accept("", a)
	e.record("", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: a.Deliveries[0].ID, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	})
	wantD, wantAttempts := e.delivery(a.Deliveries[0].ID)
	if err := e.c.DeleteConnection(t.Context(), e.conns[0]); err != nil {
		t.Fatal(err)
	}
	gotD, gotAttempts := e.delivery(a.Deliveries[0].ID)
	if diff := cmp.Diff(wantD, gotD, deliveryOpts); diff != "" {
		t.Errorf("delivery after its connection was deleted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantAttempts, gotAttempts, deliveryOpts); diff != "" {
		t.Errorf("attempts after the connection was deleted (-want +got):\n%s", diff)
	}
	if got := e.list(hookline.DeliveryFilter{ConnectionID: e.conns[0]}); !slices.Equal(deliveryIDs(got), []string{wantD.ID}) {
		t.Errorf("the log of the deleted connection: %q; want %s", deliveryIDs(got), wantD.ID)
	}
	// A pending delivery of a deleted connection is still claimed: the
	// dispatcher fails it, which the log then shows.
	if got := claimedIDs(e.claim("p1", Base, 10)); !slices.Equal(got, []string{a.Deliveries[1].ID}) {
		t.Errorf("claimed %q; want %s", got, a.Deliveries[1].ID)
	}
	if err := e.c.DeleteConnection(t.Context(), e.conns[1]); err != nil {
		t.Fatal(err)
	}
	e.record("p1", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: a.Deliveries[1].ID, N: 1, StartedAt: Base, Error: "the connection was deleted"},
		State:   hookline.DeliveryFailed,
	})
	if got, _ := e.delivery(a.Deliveries[1].ID); got.State != hookline.DeliveryFailed {
		t.Errorf("delivery of a deleted connection: %s; want failed", got.State)
	}
}

func testDeliveryNotFound(t *testing.T, e *env) {
	a := Alert("Existing", Base, e.conns[0])
	e.accept("", a)
	for _, id := range []string{"00000000000468D5", "", "not-an-id", "'; DROP TABLE deliveries; --", a.ID} {
		_, _, err := e.s.Delivery(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("Delivery(%q)", id))
		_, err = e.s.ReplayDelivery(t.Context(), "p1", id, Base)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("ReplayDelivery(%q)", id))
	}
	for _, id := range []string{"00000000000468D5", "", "not-an-id", a.Deliveries[0].ID} {
		_, err := e.s.AcceptedAlert(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("AcceptedAlert(%q)", id))
	}
	if got := e.list(hookline.DeliveryFilter{}); len(got) != 1 {
		t.Errorf("the store holds %d deliveries; want 1", len(got))
	}
}

// counts calls DeliveryCounts and checks the buckets' number and starts
// against the clock read before and after the call.
func (e *env) counts(since time.Time, bucket time.Duration) []hookline.DeliveryBucket {
	e.t.Helper()
	before := time.Now()
	got, err := e.s.DeliveryCounts(e.t.Context(), since, bucket)
	after := time.Now()
	if err != nil {
		e.t.Fatalf("DeliveryCounts(%v, %v): %v", since, bucket, err)
	}
	least, most := int(before.Sub(since)/bucket)+1, int(after.Sub(since)/bucket)+1
	if len(got) < least || len(got) > most {
		e.t.Fatalf("DeliveryCounts(%v, %v): %d buckets; want %d to %d, up to the one holding now", since, bucket, len(got), least, most)
	}
	for i, b := range got {
		if want := since.Add(time.Duration(i) * bucket); !b.Start.Equal(want) || b.Start.Location() != time.UTC {
			e.t.Fatalf("bucket %d starts at %v; want %v in UTC", i, b.Start, want)
		}
	}
	return got
}

func testCountsEmpty(t *testing.T, e *env) {
	for _, bucket := range []time.Duration{time.Minute, 10 * time.Minute, time.Hour, 24 * time.Hour} {
		since := time.Now().Add(-time.Hour)
		for i, b := range e.counts(since, bucket) {
			if b.Pending+b.Delivered+b.Failed+b.Dead != 0 {
				t.Errorf("bucket %d of %v in an empty store: %+v", i, bucket, b)
			}
		}
	}
	// Deliveries before since are not counted.
	e.accept("", Alert("Old", Base, e.conns...))
	time.Sleep(2 * time.Millisecond)
	for _, b := range e.counts(time.Now(), time.Hour) {
		if b.Pending+b.Delivered+b.Failed+b.Dead != 0 {
			t.Errorf("counts since now: %+v; want none", b)
		}
	}
}

func testCounts(t *testing.T, e *env) {
	batches := e.acceptBatches(4, func(b int) []*hookline.AcceptedAlert {
		switch b {
		case 1:
			return []*hookline.AcceptedAlert{Alert("1", Base, e.conns[0])}
		case 2:
			return []*hookline.AcceptedAlert{Alert("2x", Base, e.conns...), Alert("2y", Base, e.conns[1])}
		}
		return []*hookline.AcceptedAlert{Alert(fmt.Sprint(b), Base, e.conns[0], e.conns[2])}
	})
	var all []*hookline.Delivery
	for _, b := range batches {
		all = append(all, b...)
	}
	// Every state, pending ones among them (one with a retry scheduled).
	var results []hookline.AttemptResult
	for i, d := range all {
		r := hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: d.ID, N: 1, StartedAt: Base, StatusCode: 503}}
		switch i % 5 {
		case 0:
			continue
		case 1:
			r.State, r.NextAttemptAt = hookline.DeliveryPending, Base.Add(time.Hour)
		case 2:
			r.State = hookline.DeliveryDelivered
		case 3:
			r.State = hookline.DeliveryFailed
		case 4:
			r.State = hookline.DeliveryDead
		}
		results = append(results, r)
	}
	e.record("", results...)
	var stored []*hookline.Delivery
	for _, d := range all {
		got, _ := e.delivery(d.ID)
		stored = append(stored, got)
	}

	first, third := batches[0][0].CreatedAt, batches[2][0].CreatedAt
	// Buckets of a millisecond, so that the batches land apart with empty
	// buckets between them; longer on a slow machine, so that the buckets
	// since the first batch stay well below the maximum.
	small := time.Millisecond
	for time.Since(first)/small > hookline.MaxDeliveryBuckets/2 {
		small *= 2
	}
	tests := []struct {
		name   string
		since  time.Time
		bucket time.Duration
	}{
		{"small buckets", first.Add(-3 * small), small},
		{"since a delivery's creation", first, small},
		{"since just after it", first.Add(time.Microsecond), small},
		{"a bucket starts at the third batch", third.Add(-5 * small), small},
		{"the third batch just before a bucket ends", third.Add(-5*small + time.Microsecond), small},
		{"one bucket", first.Add(-time.Second), time.Hour},
		{"the third batch and later", third, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.counts(tt.since, tt.bucket)
			want := make([]hookline.DeliveryBucket, len(got))
			for i := range want {
				want[i].Start = got[i].Start
			}
			for _, d := range stored {
				if d.CreatedAt.Before(tt.since) {
					continue
				}
				i := int(d.CreatedAt.Sub(tt.since) / tt.bucket)
				if i >= len(want) {
					t.Fatalf("delivery %s created at %v is after the last bucket", d.ID, d.CreatedAt)
				}
				switch d.State {
				case hookline.DeliveryPending:
					want[i].Pending++
				case hookline.DeliveryDelivered:
					want[i].Delivered++
				case hookline.DeliveryFailed:
					want[i].Failed++
				case hookline.DeliveryDead:
					want[i].Dead++
				}
			}
			if diff := cmp.Diff(want, got, deliveryOpts); diff != "" {
				t.Errorf("counts since %v by %v (-want +got):\n%s", tt.since, tt.bucket, diff)
			}
		})
	}
}

func testCountsBadArguments(t *testing.T, e *env) {
	e.accept("", Alert("a", Base, e.conns...))
	now := time.Now()
	tests := []struct {
		name   string
		since  time.Time
		bucket time.Duration
		field  string // "" for no error
	}{
		{"zero since", time.Time{}, time.Hour, "since"},
		{"since after now", now.Add(time.Hour), time.Hour, "since"},
		{"zero bucket", now.Add(-time.Hour), 0, "bucket"},
		{"negative bucket", now.Add(-time.Hour), -time.Hour, "bucket"},
		{"too many buckets", now.Add(-time.Hour), time.Second, "bucket"},
		{"one more than the most", now.Add(-hookline.MaxDeliveryBuckets*time.Hour - time.Minute), time.Hour, "bucket"},
		{"the most", now.Add(-(hookline.MaxDeliveryBuckets-1)*time.Hour - time.Minute), time.Hour, ""},
	}
	for _, tt := range tests {
		got, err := e.s.DeliveryCounts(t.Context(), tt.since, tt.bucket)
		if tt.field == "" {
			if err != nil || len(got) != hookline.MaxDeliveryBuckets {
				t.Errorf("%s: %d buckets, %v; want %d", tt.name, len(got), err, hookline.MaxDeliveryBuckets)
			}
			continue
		}
		wantField(t, err, tt.field, fmt.Sprintf("DeliveryCounts(%s)", tt.name))
		if got != nil {
			t.Errorf("%s: returned %d buckets with the error", tt.name, len(got))
		}
	}
}

func testLatestDeliveries(t *testing.T, e *env) {
	latest := func() []*hookline.Delivery {
		t.Helper()
		got, err := e.s.LatestDeliveries(t.Context())
		if err != nil {
			t.Fatalf("LatestDeliveries: %v", err)
		}
		return got
	}
	// wantLatest is the first delivery of each live connection in the log.
	wantLatest := func(live ...string) []*hookline.Delivery {
		t.Helper()
		var want []*hookline.Delivery
		seen := map[string]bool{}
		for _, d := range e.list(hookline.DeliveryFilter{}) {
			if !seen[d.ConnectionID] && slices.Contains(live, d.ConnectionID) {
				seen[d.ConnectionID] = true
				want = append(want, d)
			}
		}
		return want
	}
	check := func(what string, live ...string) {
		t.Helper()
		want := wantLatest(live...)
		if diff := cmp.Diff(want, latest(), deliveryOpts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}
	if got := latest(); len(got) != 0 {
		t.Errorf("empty store: %q; want none", deliveryIDs(got))
	}

	// Conn C has none; two alerts to Conn A in one batch are told apart
	// by ID.
	batches := e.acceptBatches(3, func(b int) []*hookline.AcceptedAlert {
		switch b {
		case 0:
			return []*hookline.AcceptedAlert{Alert("0", Base, e.conns[0], e.conns[1])}
		case 1:
			return []*hookline.AcceptedAlert{Alert("1", Base, e.conns[1])}
		}
		return []*hookline.AcceptedAlert{Alert("2x", Base, e.conns[0]), Alert("2y", Base, e.conns[0])}
	})
	want := wantLatest(e.conns...)
	if len(want) != 2 || want[0].ConnectionID != e.conns[0] || want[1].ID != batches[1][0].ID {
		t.Fatalf("the test's log: latest %q; want Conn A's from batch 2, then Conn B's from batch 1", deliveryIDs(want))
	}
	check("two connections with deliveries", e.conns...)

	// The state is the one stored now.
	e.record("", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: want[0].ID, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	})
	if got := latest(); len(got) == 0 || got[0].State != hookline.DeliveryDelivered || got[0].Attempts != 1 {
		t.Errorf("after an attempt: %+v; want Conn A's delivery delivered", got)
	}
	check("after an attempt", e.conns...)

	// A deleted connection's deliveries stay in the log but leave this list.
	if err := e.c.DeleteConnection(t.Context(), e.conns[0]); err != nil {
		t.Fatal(err)
	}
	check("after Conn A was deleted", e.conns[1], e.conns[2])
	if got := e.list(hookline.DeliveryFilter{ConnectionID: e.conns[0]}); len(got) != 3 {
		t.Errorf("the deleted connection's log has %d deliveries; want 3", len(got))
	}

	time.Sleep(2 * time.Millisecond)
	e.accept("", Alert("later", Base, e.conns[2]))
	check("after Conn C's first", e.conns[1], e.conns[2])
	if got := latest(); len(got) != 2 || got[0].ConnectionID != e.conns[2] {
		t.Errorf("latest %q; want Conn C's newest first", deliveryIDs(got))
	}
}
