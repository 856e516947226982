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

func testClaimOrder(t *testing.T, e *env) {
	a1 := Alert("a1", Base.Add(3*time.Second), e.conns[0])
	a2 := Alert("a2", Base.Add(1*time.Second), e.conns[1])
	a3 := Alert("a3", Base.Add(2*time.Second), e.conns[0], e.conns[1], e.conns[2]) // one due time, three IDs
	a4 := Alert("a4", Base.Add(10*time.Second), e.conns[2])
	e.accept("", a1, a2, a3, a4)

	tied := deliveryIDs(a3.Deliveries)
	slices.Sort(tied)
	want := append(append(deliveryIDs(a2.Deliveries), tied...), deliveryIDs(a1.Deliveries)...)
	got := e.claim("p1", Base.Add(5*time.Second), 100)
	if !slices.Equal(claimedIDs(got), want) {
		t.Errorf("claimed %q; want %q: due ones, by NextAttemptAt then ID", claimedIDs(got), want)
	}
	byID := map[string]*hookline.AcceptedAlert{}
	for _, a := range []*hookline.AcceptedAlert{a1, a2, a3, a4} {
		for _, d := range a.Deliveries {
			byID[d.ID] = a
		}
	}
	for _, cd := range got {
		a := byID[cd.Delivery.ID]
		if diff := cmp.Diff(&a.Alert, cd.Alert, deliveryOpts); diff != "" {
			t.Errorf("claimed %s: alert (-want +got):\n%s", cd.Delivery.ID, diff)
		}
		stored, _ := e.delivery(cd.Delivery.ID)
		if diff := cmp.Diff(stored, cd.Delivery, deliveryOpts); diff != "" {
			t.Errorf("claimed %s differs from the stored delivery (-want +got):\n%s", cd.Delivery.ID, diff)
		}
	}
	if got := e.claim("p1", Base.Add(5*time.Second), 100); len(got) != 0 {
		t.Errorf("claiming again claimed %q, which p1 holds", claimedIDs(got))
	}
	// Due is inclusive.
	if got := e.claim("p1", Base.Add(10*time.Second), 100); !slices.Equal(claimedIDs(got), deliveryIDs(a4.Deliveries)) {
		t.Errorf("claim at a4's due time: %q; want a4's delivery", claimedIDs(got))
	}
}

func testClaimLimit(t *testing.T, e *env) {
	var alerts []*hookline.AcceptedAlert
	for i := range 5 {
		alerts = append(alerts, Alert(fmt.Sprint(i), Base.Add(time.Duration(i)*time.Millisecond), e.conns[i%3]))
	}
	tie := Alert("tie", Base.Add(time.Second), e.conns...) // due together: by ID
	alerts = append(alerts, tie)
	e.accept("", alerts...)
	ids := allDeliveryIDs(alerts...)
	slices.Sort(ids[5:])
	for _, step := range []struct {
		limit int
		want  []string
	}{{0, nil}, {2, ids[0:2]}, {2, ids[2:4]}, {2, ids[4:6]}, {1, ids[6:7]}, {10, ids[7:8]}, {10, nil}} {
		if got := claimedIDs(e.claim("p1", Base.Add(time.Minute), step.limit)); !slices.Equal(got, step.want) {
			t.Errorf("claim of %d: %q; want %q", step.limit, got, step.want)
		}
	}
}

func testClaimOwners(t *testing.T, e *env) {
	held := Alert("held", Base, e.conns[0])
	free := Alert("free", Base.Add(time.Second), e.conns[1])
	e.accept("p1", held)
	e.accept("", free)
	due := Base.Add(time.Minute)

	if got := claimedIDs(e.claim("p1", due, 10)); !slices.Equal(got, deliveryIDs(free.Deliveries)) {
		t.Errorf("p1 claimed %q; want only the delivery nobody held", got)
	}
	// Another owner takes over what p1 holds: a restarted process claims
	// what the stopped one held.
	if got := claimedIDs(e.claim("p2", due, 10)); !slices.Equal(got, allDeliveryIDs(held, free)) {
		t.Errorf("p2 claimed %q; want both deliveries p1 held", got)
	}
	if got := e.claim("p2", due, 10); len(got) != 0 {
		t.Errorf("p2 claimed %q again", claimedIDs(got))
	}
	// Final deliveries are claimed by no one.
	e.record("p2", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: held.Deliveries[0].ID, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	})
	for _, owner := range []string{"p1", "p3"} {
		if got := claimedIDs(e.claim(owner, due, 10)); !slices.Equal(got, deliveryIDs(free.Deliveries)) {
			t.Errorf("%s claimed %q; want only the pending delivery", owner, got)
		}
	}
}

// testClaimLeases checks that a live lease keeps an owner's deliveries
// from other claims, and that a released or lapsed one does not.
func testClaimLeases(t *testing.T, e *env) {
	renew := func(owner string, ttl time.Duration) bool {
		t.Helper()
		renewed, err := e.s.RenewOwner(t.Context(), owner, ttl)
		if err != nil {
			t.Fatalf("RenewOwner(%s, %s): %v", owner, ttl, err)
		}
		return renewed
	}
	if renew("p1", time.Hour) {
		t.Error("the first RenewOwner of p1 said it renewed a live lease")
	}
	if !renew("p1", time.Hour) {
		t.Error("the second RenewOwner of p1 said its lease had lapsed")
	}
	renew("p2", time.Hour)
	renew("p3", time.Hour)
	held := Alert("held", Base, e.conns[0])
	free := Alert("free", Base.Add(time.Second), e.conns[1])
	e.accept("p1", held)
	e.accept("", free)
	due := Base.Add(time.Minute)

	if got := claimedIDs(e.claim("p2", due, 10)); !slices.Equal(got, deliveryIDs(free.Deliveries)) {
		t.Errorf("p2 claimed %q; want only the delivery nobody held, not the one leased to p1", got)
	}
	if got := e.claim("p1", due, 10); len(got) != 0 {
		t.Errorf("p1 claimed %q; want none: it holds one, and p2's lease holds the other", claimedIDs(got))
	}
	// A held delivery recorded with Keep stays leased to its holder.
	e.record("p1", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: held.Deliveries[0].ID, N: 1, StartedAt: Base, StatusCode: 503},
		State:   hookline.DeliveryPending, NextAttemptAt: Base.Add(time.Second), Keep: true,
	})
	if got := e.claim("p3", due, 10); len(got) != 0 {
		t.Errorf("p3 claimed %q while p1 and p2 hold live leases", claimedIDs(got))
	}
	// Released, p1's delivery is anyone's at once.
	if err := e.s.ReleaseOwner(t.Context(), "p1"); err != nil {
		t.Fatalf("ReleaseOwner: %v", err)
	}
	if got := claimedIDs(e.claim("p3", due, 10)); !slices.Equal(got, deliveryIDs(held.Deliveries)) {
		t.Errorf("after p1 released its lease, p3 claimed %q; want p1's delivery", got)
	}
	if renew("p1", time.Hour) {
		t.Error("RenewOwner after ReleaseOwner said the lease was still live")
	}

	// A lease that lapses frees the deliveries as a release does.
	renew("p4", time.Millisecond)
	lapsing := Alert("lapsing", Base.Add(2*time.Second), e.conns[2])
	e.accept("p4", lapsing)
	time.Sleep(20 * time.Millisecond)
	if got := claimedIDs(e.claim("p2", due, 10)); !slices.Equal(got, deliveryIDs(lapsing.Deliveries)) {
		t.Errorf("after p4's lease lapsed, p2 claimed %q; want p4's delivery", got)
	}
	if renew("p4", time.Hour) {
		t.Error("RenewOwner after a lapse said the lease was still live")
	}

	for _, tt := range []struct {
		owner string
		ttl   time.Duration
		field string
	}{
		{"", time.Minute, "owner"},
		{"p1", 0, "ttl"},
		{"p1", -time.Second, "ttl"},
		{"p1", hookline.MaxOwnerLease + time.Second, "ttl"},
	} {
		_, err := e.s.RenewOwner(t.Context(), tt.owner, tt.ttl)
		wantField(t, err, tt.field, fmt.Sprintf("RenewOwner(%q, %s)", tt.owner, tt.ttl))
	}
}

// testHeldBy checks which deliveries HeldBy says an owner holds: pending
// ones claimed or accepted by it, not others', final ones or unknown IDs.
func testHeldBy(t *testing.T, e *env) {
	mine := Alert("mine", Base, e.conns[0], e.conns[1])
	theirs := Alert("theirs", Base.Add(time.Second), e.conns[0])
	e.accept("p1", mine)
	e.accept("p2", theirs)
	e.record("p1", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: mine.Deliveries[1].ID, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	})
	ids := append(allDeliveryIDs(mine, theirs), "0000000000000000")
	got, err := e.s.HeldBy(t.Context(), "p1", ids)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{mine.Deliveries[0].ID}; !slices.Equal(got, want) {
		t.Errorf("HeldBy(p1) = %q; want %q: its pending delivery only", got, want)
	}
	if got, err := e.s.HeldBy(t.Context(), "p1", nil); err != nil || len(got) != 0 {
		t.Errorf("HeldBy(p1, none) = %q, %v", got, err)
	}
}

func testClaimSkip(t *testing.T, e *env) {
	var alerts []*hookline.AcceptedAlert
	for i := range 6 {
		alerts = append(alerts, Alert(fmt.Sprint(i), Base.Add(time.Duration(i)*time.Second), e.conns[i%3]))
	}
	e.accept("", alerts...)
	due := Base.Add(time.Minute)
	got := claimedIDs(e.claim("p1", due, 10, e.conns[0], e.conns[2], "0000000000000000"))
	if want := allDeliveryIDs(alerts[1], alerts[4]); !slices.Equal(got, want) {
		t.Errorf("claim skipping connections A and C: %q; want B's %q", got, want)
	}
	got = claimedIDs(e.claim("p1", due, 10, e.conns[1]))
	if want := allDeliveryIDs(alerts[0], alerts[2], alerts[3], alerts[5]); !slices.Equal(got, want) {
		t.Errorf("claim skipping B, which p1 holds already: %q; want A's and C's %q", got, want)
	}
}

func testClaimBadArguments(t *testing.T, e *env) {
	e.accept("", Alert("a", Base, e.conns[0]))
	_, err := e.s.ClaimDue(t.Context(), "p1", Base, -1, nil)
	wantField(t, err, "limit", "ClaimDue(limit -1)")
	_, err = e.s.ClaimDue(t.Context(), "", Base, 10, nil)
	wantField(t, err, "owner", "ClaimDue(owner \"\")")
	if got := e.claim("p1", Base.Add(-time.Nanosecond), 10); len(got) != 0 {
		t.Errorf("claimed %q before it was due", claimedIDs(got))
	}
}

func testRecordAttempts(t *testing.T, e *env) {
	a := Alert("Record", Base, e.conns[0], e.conns[1], e.conns[2])
	e.accept("p1", a)
	d1, d2, d3 := a.Deliveries[0], a.Deliveries[1], a.Deliveries[2]
	retryAt := Base.Add(time.Minute)
	results := []hookline.AttemptResult{
		{
			Attempt: hookline.DeliveryAttempt{DeliveryID: d1.ID, N: 1, StartedAt: Base.Add(time.Millisecond),
				Latency: 1234 * time.Microsecond, StatusCode: 503, Error: "503 Service Unavailable",
				Response: `{"message": "try later"}`, RetryAt: retryAt},
			State: hookline.DeliveryPending, NextAttemptAt: retryAt, Keep: true,
		},
		{
			Attempt: hookline.DeliveryAttempt{DeliveryID: d2.ID, N: 1, StartedAt: Base.Add(2 * time.Millisecond),
				Latency: 15 * time.Second, StatusCode: 200, Response: "ok ✓"},
			State: hookline.DeliveryDelivered, Keep: true, // Keep means nothing for a final state
		},
		{
			Attempt: hookline.DeliveryAttempt{DeliveryID: d3.ID, N: 1, StartedAt: Base.Add(3 * time.Millisecond),
				Latency: 0, Error: "dial tcp 127.0.0.1:1: connect: connection refused"},
			State: hookline.DeliveryFailed,
		},
	}
	before := time.Now()
	e.record("p1", results...)
	after := time.Now()

	for i, r := range results {
		orig := a.Deliveries[i]
		got, attempts := e.delivery(orig.ID)
		want := *orig
		want.State, want.Attempts, want.LastStatus, want.LastError = r.State, 1, r.Attempt.StatusCode, r.Attempt.Error
		want.NextAttemptAt = r.NextAttemptAt
		want.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(&want, got, deliveryOpts); diff != "" {
			t.Errorf("delivery %d after an attempt (-want +got):\n%s", i, diff)
		}
		checkStoreTime(t, "UpdatedAt", got.UpdatedAt, before, after)
		if got.UpdatedAt.Before(got.CreatedAt) {
			t.Errorf("UpdatedAt %v is before CreatedAt %v", got.UpdatedAt, got.CreatedAt)
		}
		if diff := cmp.Diff([]hookline.DeliveryAttempt{r.Attempt}, attempts, deliveryOpts); diff != "" {
			t.Errorf("delivery %d: attempts (-want +got):\n%s", i, diff)
		}
		for _, at := range attempts {
			if at.StartedAt.Location() != time.UTC || (!at.RetryAt.IsZero() && at.RetryAt.Location() != time.UTC) {
				t.Errorf("attempt times %v, %v are not in UTC", at.StartedAt, at.RetryAt)
			}
		}
	}

	// Two more attempts of d1; the log keeps them in order.
	e.record("p1", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: d1.ID, N: 2, StartedAt: retryAt, StatusCode: 429, Error: "429", RetryAt: retryAt.Add(time.Hour)},
		State:   hookline.DeliveryPending, NextAttemptAt: retryAt.Add(time.Hour), Keep: true,
	})
	e.record("p1", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: d1.ID, N: 3, StartedAt: retryAt.Add(time.Hour), StatusCode: 500, Error: "500"},
		State:   hookline.DeliveryDead,
	})
	got, attempts := e.delivery(d1.ID)
	if got.State != hookline.DeliveryDead || got.Attempts != 3 || got.LastStatus != 500 || !got.NextAttemptAt.IsZero() {
		t.Errorf("after the last attempt: %+v; want dead, 3 attempts, status 500, no next attempt", got)
	}
	var ns []int
	for _, at := range attempts {
		ns = append(ns, at.N)
	}
	if !slices.Equal(ns, []int{1, 2, 3}) {
		t.Errorf("attempts numbered %v; want [1 2 3]", ns)
	}
	if s, err := e.s.QueueStats(t.Context()); err != nil || s.Pending != 0 {
		t.Errorf("QueueStats = %+v, %v; want nothing pending", s, err)
	}
	if err := e.s.RecordAttempts(t.Context(), "p1", nil); err != nil {
		t.Errorf("RecordAttempts of nothing: %v", err)
	}
}

func testRecordKeepAndRelease(t *testing.T, e *env) {
	a := Alert("Keep", Base, e.conns[0])
	e.accept("p1", a)
	id := a.Deliveries[0].ID
	retry := func(n int, at time.Time, keep bool) hookline.AttemptResult {
		return hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: id, N: n, StartedAt: Base, StatusCode: 502, Error: "502", RetryAt: at},
			State:   hookline.DeliveryPending, NextAttemptAt: at, Keep: keep,
		}
	}
	e.record("p1", retry(1, Base.Add(time.Minute), true))
	if got := e.claim("p1", Base.Add(time.Hour), 10); len(got) != 0 {
		t.Errorf("p1 claimed %q, which it kept", claimedIDs(got))
	}
	if got := claimedIDs(e.claim("p2", Base.Add(time.Minute-time.Nanosecond), 10)); len(got) != 0 {
		t.Errorf("p2 claimed %q before its retry was due", got)
	}
	e.record("p1", retry(2, Base.Add(2*time.Minute), false))
	if got := claimedIDs(e.claim("p1", Base.Add(2*time.Minute), 10)); !slices.Equal(got, []string{id}) {
		t.Errorf("p1 claimed %q after releasing it; want %s", got, id)
	}
	// A pending result kept by an owner other than the claimer moves it.
	e.record("p3", retry(3, Base.Add(3*time.Minute), true))
	if got := e.claim("p3", Base.Add(time.Hour), 10); len(got) != 0 {
		t.Errorf("p3 claimed %q, which it kept", claimedIDs(got))
	}
	if got := claimedIDs(e.claim("p1", Base.Add(time.Hour), 10)); !slices.Equal(got, []string{id}) {
		t.Errorf("p1 claimed %q; want %s, which p3 holds", got, id)
	}
}

func testRecordSkips(t *testing.T, e *env) {
	a := Alert("Skips", Base, e.conns[0], e.conns[1])
	e.accept("", a)
	d1, d2 := a.Deliveries[0], a.Deliveries[1]
	delivered := func(id string, n, status int) hookline.AttemptResult {
		return hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: id, N: n, StartedAt: Base, StatusCode: status},
			State:   hookline.DeliveryDelivered,
		}
	}
	e.record("", delivered("00000000000468D5", 1, 200), delivered(d1.ID, 1, 200), delivered("not-an-id", 1, 200))
	if got, attempts := e.delivery(d1.ID); got.State != hookline.DeliveryDelivered || len(attempts) != 1 {
		t.Errorf("the known delivery in a batch with unknown ones: %s with %d attempts; want delivered with 1", got.State, len(attempts))
	}
	// An attempt counted already does not count again.
	e.record("", delivered(d1.ID, 1, 201), delivered(d2.ID, 1, 202))
	got, attempts := e.delivery(d1.ID)
	if got.LastStatus != 200 || len(attempts) != 1 || attempts[0].StatusCode != 200 {
		t.Errorf("a repeated attempt changed the delivery: status %d, %d attempts; want 200, 1", got.LastStatus, len(attempts))
	}
	if got, _ := e.delivery(d2.ID); got.LastStatus != 202 {
		t.Errorf("the rest of a batch with a repeated attempt: status %d; want 202", got.LastStatus)
	}

	// One batch naming a delivery more than once applies its results in
	// order, as if recorded one by one: the repeat of attempt 1 is skipped,
	// attempt 2 follows it.
	b := Alert("Skips again", Base, e.conns[2])
	e.accept("", b)
	d3 := b.Deliveries[0].ID
	retry := hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: d3, N: 1, StartedAt: Base, StatusCode: 503},
		State:   hookline.DeliveryPending, NextAttemptAt: Base.Add(time.Minute),
	}
	e.record("", retry, delivered(d3, 1, 203), delivered(d3, 2, 204))
	got, attempts = e.delivery(d3)
	var statuses []int
	for _, at := range attempts {
		statuses = append(statuses, at.StatusCode)
	}
	if got.State != hookline.DeliveryDelivered || got.Attempts != 2 || got.LastStatus != 204 || !slices.Equal(statuses, []int{503, 204}) {
		t.Errorf("a batch naming one delivery thrice: %s, %d attempts, status %d, attempts' statuses %v; want delivered, 2, 204, [503 204]",
			got.State, got.Attempts, got.LastStatus, statuses)
	}
}

func testRecordInvalid(t *testing.T, e *env) {
	a := Alert("Invalid", Base, e.conns[0])
	e.accept("", a)
	id := a.Deliveries[0].ID
	ok := hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: id, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	}
	tests := []struct {
		name string
		edit func(r *hookline.AttemptResult)
	}{
		{"unknown state", func(r *hookline.AttemptResult) { r.State = "lost" }},
		{"no state", func(r *hookline.AttemptResult) { r.State = "" }},
		{"pending without next attempt", func(r *hookline.AttemptResult) { r.State = hookline.DeliveryPending }},
		{"attempt 0", func(r *hookline.AttemptResult) { r.Attempt.N = 0 }},
		{"no delivery", func(r *hookline.AttemptResult) { r.Attempt.DeliveryID = "" }},
		{"no start time", func(r *hookline.AttemptResult) { r.Attempt.StartedAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := ok
			bad.Attempt.DeliveryID = "00000000000468D5"
			tt.edit(&bad)
			err := e.s.RecordAttempts(t.Context(), "", []hookline.AttemptResult{ok, bad})
			wantCode(t, err, hookline.EINVALID, "RecordAttempts")
			if got, attempts := e.delivery(id); got.State != hookline.DeliveryPending || len(attempts) != 0 {
				t.Errorf("a refused batch changed a delivery: %s, %d attempts", got.State, len(attempts))
			}
		})
	}
}

func testReplay(t *testing.T, e *env) {
	a := Alert("Replay", Base, e.conns[0], e.conns[1], e.conns[2], e.conns[0])
	e.accept("", a)
	final := []hookline.DeliveryState{hookline.DeliveryDelivered, hookline.DeliveryFailed, hookline.DeliveryDead}
	var results []hookline.AttemptResult
	for i, s := range final {
		results = append(results, hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: a.Deliveries[i].ID, N: 1, StartedAt: Base, StatusCode: 400 + i, Error: fmt.Sprint("error ", i)},
			State:   s,
		})
	}
	e.record("", results...)
	at := Base.Add(time.Hour)

	// A delivered delivery is not sent again: its target acted on it.
	delivered := a.Deliveries[0].ID
	before, _ := e.delivery(delivered)
	_, err := e.s.ReplayDelivery(t.Context(), "p1", delivered, at)
	wantCode(t, err, hookline.ECONFLICT, "ReplayDelivery of a delivered delivery")
	if err != nil && !strings.Contains(err.Error(), "already delivered") {
		t.Errorf("ReplayDelivery of a delivered delivery: %v; want it to say it was already delivered", err)
	}
	if got, _ := e.delivery(delivered); cmp.Diff(before, got, deliveryOpts) != "" {
		t.Errorf("a refused replay changed the delivery (-before +after):\n%s", cmp.Diff(before, got, deliveryOpts))
	}

	for i, s := range final[1:] {
		id := a.Deliveries[i+1].ID
		t.Run(string(s), func(t *testing.T) {
			before, _ := e.delivery(id)
			start := time.Now()
			cd, err := e.s.ReplayDelivery(t.Context(), "p1", id, at)
			if err != nil {
				t.Fatalf("ReplayDelivery: %v", err)
			}
			want := *before
			want.State, want.NextAttemptAt, want.UpdatedAt = hookline.DeliveryPending, at, cd.Delivery.UpdatedAt
			if diff := cmp.Diff(&want, cd.Delivery, deliveryOpts); diff != "" {
				t.Errorf("replayed delivery (-want +got):\n%s", diff)
			}
			checkStoreTime(t, "UpdatedAt", cd.Delivery.UpdatedAt, start, time.Now())
			if diff := cmp.Diff(&a.Alert, cd.Alert, deliveryOpts); diff != "" {
				t.Errorf("replayed delivery's alert (-want +got):\n%s", diff)
			}
			if got, _ := e.delivery(id); cmp.Diff(cd.Delivery, got, deliveryOpts) != "" {
				t.Errorf("stored delivery differs from the one ReplayDelivery returned")
			}
			_, err = e.s.ReplayDelivery(t.Context(), "p1", id, at)
			wantCode(t, err, hookline.ECONFLICT, "ReplayDelivery of a pending delivery")
		})
	}
	// The fourth delivery never left pending.
	never := a.Deliveries[3].ID
	_, err = e.s.ReplayDelivery(t.Context(), "p1", never, at)
	wantCode(t, err, hookline.ECONFLICT, "ReplayDelivery of a never-attempted delivery")
	// p1 holds what it replayed; others may take it.
	if got := claimedIDs(e.claim("p1", at, 10)); !slices.Equal(got, []string{never}) {
		t.Errorf("p1 claimed %q; want only the never-attempted %s, not those it replayed", got, never)
	}
	replayed := deliveryIDs(a.Deliveries[1:3])
	slices.Sort(replayed)
	if got := claimedIDs(e.claim("p2", at, 10)); !slices.Equal(got, append([]string{never}, replayed...)) {
		t.Errorf("p2 claimed %q; want %s (due first), then the replayed ones %q", got, never, replayed)
	}
	// Replayed without an owner, anyone claims it.
	again := a.Deliveries[1].ID
	e.record("p2", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: again, N: 2, StartedAt: at, StatusCode: 410},
		State:   hookline.DeliveryFailed,
	})
	if _, err := e.s.ReplayDelivery(t.Context(), "", again, at); err != nil {
		t.Fatal(err)
	}
	if got := claimedIDs(e.claim("p2", at, 10)); !slices.Equal(got, []string{again}) {
		t.Errorf("after a replay without owner, p2 claimed %q; want %s", got, again)
	}
	if got, _ := e.delivery(again); got.Attempts != 2 {
		t.Errorf("replay changed the attempt count to %d; want 2", got.Attempts)
	}
}
