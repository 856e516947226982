package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

func testAccept(t *testing.T, e *env) {
	a := Alert("Accept", Base, e.conns[0], e.conns[1])
	a.IdempotencyKey = "accept-1"
	a.Source = "alertmanager"
	a.Deliveries[1].Payload = `{"override": "{{Name}}"}`
	want := cloneAlert(a)
	before := time.Now()
	e.accept("", a)
	after := time.Now()

	if !idForm.MatchString(a.ID) {
		t.Errorf("alert ID = %q; want 16 upper-case hex digits", a.ID)
	}
	if a.Duplicate {
		t.Errorf("a new alert is marked Duplicate")
	}
	if !a.ReceivedAt.Equal(Base) || a.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt = %v; want the given %v in UTC", a.ReceivedAt, Base)
	}
	seen := map[string]bool{a.ID: true}
	for i, d := range a.Deliveries {
		if !idForm.MatchString(d.ID) || seen[d.ID] {
			t.Errorf("delivery %d: ID %q is not 16 upper-case hex digits or not unique", i, d.ID)
		}
		seen[d.ID] = true
		checkStoreTime(t, fmt.Sprintf("delivery %d: CreatedAt", i), d.CreatedAt, before, after)
		if !d.UpdatedAt.Equal(d.CreatedAt) {
			t.Errorf("delivery %d: UpdatedAt %v differs from CreatedAt %v", i, d.UpdatedAt, d.CreatedAt)
		}
		w := want.Deliveries[i]
		w.ID, w.AlertID, w.State, w.NextAttemptAt, w.CreatedAt, w.UpdatedAt = d.ID, a.ID, hookline.DeliveryPending, Base, d.CreatedAt, d.UpdatedAt
	}
	want.ID = a.ID
	if diff := cmp.Diff(want, a, deliveryOpts); diff != "" {
		t.Errorf("AcceptAlerts changed more than IDs, state and times (-want +got):\n%s", diff)
	}

	got, err := e.s.AcceptedAlert(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got, deliveryOpts); diff != "" {
		t.Errorf("AcceptedAlert differs from what was accepted (-want +got):\n%s", diff)
	}
	if got.Alert.Location == nil || got.Alert.Location.String() != "America/Chicago" {
		t.Errorf("alert time zone = %v; want America/Chicago", got.Alert.Location)
	}
	if n := got.Alert.Results[1]["_count"]; n != json.Number("12345678901234567890") {
		t.Errorf("a large number in the results came back as %#v; want its exact text", n)
	}
	for _, d := range a.Deliveries {
		gd, attempts := e.delivery(d.ID)
		if diff := cmp.Diff(d, gd, deliveryOpts); diff != "" {
			t.Errorf("Delivery(%s) differs from what was accepted (-want +got):\n%s", d.ID, diff)
		}
		if len(attempts) != 0 {
			t.Errorf("Delivery(%s) of a new delivery has attempts %+v", d.ID, attempts)
		}
	}
	// Changing what was returned changes nothing stored.
	got.Deliveries[0].State = hookline.DeliveryDead
	got.Alert.Results[0]["client_ip"] = "changed"
	again, err := e.s.AcceptedAlert(t.Context(), a.ID)
	if err != nil || cmp.Diff(a, again, deliveryOpts) != "" {
		t.Errorf("stored alert changed through a returned value: %v", err)
	}
}

func testAcceptDefaults(t *testing.T, e *env) {
	a := Alert("Defaults", time.Time{}, e.conns[0])
	a.Deliveries[0].TriggerType = ""
	a.Alert.TriggerType = hookline.TriggerResolvedWarning
	a.Alert.Location = nil
	// What the store fills in is not taken from the caller.
	a.Deliveries[0].ID = "00000000000468D5"
	a.Deliveries[0].State = hookline.DeliveryDead
	a.Deliveries[0].Attempts = 4
	a.Deliveries[0].LastStatus = 500
	before := time.Now()
	e.accept("", a)
	after := time.Now()
	checkStoreTime(t, "ReceivedAt", a.ReceivedAt, before, after)
	d := a.Deliveries[0]
	if d.ID == "00000000000468D5" || d.State != hookline.DeliveryPending || d.Attempts != 0 || d.LastStatus != 0 {
		t.Errorf("accepted delivery = %+v; want a new ID, pending, no attempts", d)
	}
	if d.TriggerType != hookline.TriggerResolvedWarning {
		t.Errorf("delivery TriggerType = %q; want the alert's %q", d.TriggerType, hookline.TriggerResolvedWarning)
	}
	if !d.NextAttemptAt.Equal(a.ReceivedAt) {
		t.Errorf("NextAttemptAt = %v; want ReceivedAt %v", d.NextAttemptAt, a.ReceivedAt)
	}
	got, err := e.s.AcceptedAlert(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got, deliveryOpts); diff != "" {
		t.Errorf("AcceptedAlert (-want +got):\n%s", diff)
	}
	// An alert with no deliveries is kept, with none.
	empty := Alert("No deliveries", Base)
	e.accept("", empty)
	if got, err := e.s.AcceptedAlert(t.Context(), empty.ID); err != nil || len(got.Deliveries) != 0 {
		t.Errorf("AcceptedAlert of an alert without deliveries: %v, %v", got, err)
	}
}

func testAcceptBatch(t *testing.T, e *env) {
	var batch []*hookline.AcceptedAlert
	for i := range 30 {
		// Every connection, in a different order each time.
		c := slices.Clone(e.conns)
		slices.Reverse(c[:i%3+1])
		batch = append(batch, Alert(fmt.Sprint("Batch ", i), Base.Add(time.Duration(i)*time.Second), c...))
	}
	e.accept("", batch...)
	seen := map[string]bool{}
	for i, a := range batch {
		if seen[a.ID] {
			t.Errorf("alert %d: ID %s used twice", i, a.ID)
		}
		seen[a.ID] = true
		got, err := e.s.AcceptedAlert(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, got, deliveryOpts); diff != "" {
			t.Errorf("alert %d: AcceptedAlert (-want +got):\n%s", i, diff)
		}
	}
	all := e.list(hookline.DeliveryFilter{Limit: hookline.MaxListLimit})
	if got, want := len(all), 90; got != want {
		t.Errorf("the store holds %d deliveries; want %d", got, want)
	}
}

func testAcceptInvalid(t *testing.T, e *env) {
	tests := []struct {
		name  string
		batch func() []*hookline.AcceptedAlert
	}{
		{"nil alert", func() []*hookline.AcceptedAlert {
			return []*hookline.AcceptedAlert{Alert("Valid", Base, e.conns[0]), nil}
		}},
		{"no connection", func() []*hookline.AcceptedAlert {
			bad := Alert("Bad", Base, e.conns[0], "")
			return []*hookline.AcceptedAlert{Alert("Valid", Base, e.conns[0]), bad}
		}},
		{"nil delivery", func() []*hookline.AcceptedAlert {
			bad := Alert("Bad", Base, e.conns[0])
			bad.Deliveries = append(bad.Deliveries, nil)
			return []*hookline.AcceptedAlert{bad}
		}},
		{"long idempotency key", func() []*hookline.AcceptedAlert {
			bad := Alert("Bad", Base, e.conns[0])
			bad.IdempotencyKey = strings.Repeat("k", hookline.MaxIdempotencyKeyLen+1)
			return []*hookline.AcceptedAlert{Alert("Valid", Base, e.conns[0]), bad}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := tt.batch()
			wantCode(t, e.s.AcceptAlerts(t.Context(), "", batch), hookline.EINVALID, "AcceptAlerts")
			if batch[0] != nil && batch[0].ID != "" {
				t.Errorf("a refused batch got IDs filled in")
			}
		})
	}
	if got := e.list(hookline.DeliveryFilter{}); len(got) != 0 {
		t.Errorf("after refused batches the store holds %d deliveries; want none", len(got))
	}
	if err := e.s.AcceptAlerts(t.Context(), "", nil); err != nil {
		t.Errorf("AcceptAlerts of no alerts: %v", err)
	}
}

func testIdempotency(t *testing.T, e *env) {
	first := Alert("First", Base, e.conns[0], e.conns[1])
	first.IdempotencyKey = "am:abc:firing:2026-11-26T12:00:00Z"
	e.accept("", first)

	// Changes after the first acceptance show in the duplicate's answer.
	e.record("", hookline.AttemptResult{
		Attempt: hookline.DeliveryAttempt{DeliveryID: first.Deliveries[0].ID, N: 1, StartedAt: Base, StatusCode: 200},
		State:   hookline.DeliveryDelivered,
	})
	stored, err := e.s.AcceptedAlert(t.Context(), first.ID)
	if err != nil {
		t.Fatal(err)
	}

	again := Alert("Changed", Base.Add(time.Hour), e.conns[2])
	again.IdempotencyKey = first.IdempotencyKey
	e.accept("owner-1", again)
	if !again.Duplicate || again.ID != first.ID || !again.ReceivedAt.Equal(first.ReceivedAt) {
		t.Errorf("duplicate: Duplicate %v, ID %s, ReceivedAt %v; want true, %s, %v",
			again.Duplicate, again.ID, again.ReceivedAt, first.ID, first.ReceivedAt)
	}
	if diff := cmp.Diff(stored.Deliveries, again.Deliveries, deliveryOpts); diff != "" {
		t.Errorf("duplicate's deliveries differ from the stored ones (-want +got):\n%s", diff)
	}
	if got := e.list(hookline.DeliveryFilter{}); len(got) != 2 {
		t.Errorf("after a duplicate the store holds %d deliveries; want the first alert's 2", len(got))
	}
	if got, err := e.s.AcceptedAlert(t.Context(), first.ID); err != nil || got.Alert.Name != "First" {
		t.Errorf("the stored alert after a duplicate: %v, %v; want it unchanged", got, err)
	}

	// Other keys and no key are new alerts, every time.
	other := Alert("Other", Base, e.conns[2])
	other.IdempotencyKey = strings.ToUpper(first.IdempotencyKey)
	none1, none2 := Alert("None", Base, e.conns[2]), Alert("None", Base, e.conns[2])
	e.accept("", other, none1, none2)
	for _, a := range []*hookline.AcceptedAlert{other, none1, none2} {
		if a.Duplicate || a.ID == first.ID {
			t.Errorf("alert %q (key %q) was taken for a duplicate", a.Alert.Name, a.IdempotencyKey)
		}
	}
	if none1.ID == none2.ID {
		t.Errorf("two alerts without a key share ID %s", none1.ID)
	}
	if got := e.list(hookline.DeliveryFilter{}); len(got) != 5 {
		t.Errorf("the store holds %d deliveries; want 5", len(got))
	}
}

func testIdempotencyWithinBatch(t *testing.T, e *env) {
	x := Alert("X", Base, e.conns[0], e.conns[1])
	x.IdempotencyKey = "k"
	y := Alert("Y", Base, e.conns[2])
	y.IdempotencyKey = "l"
	z := Alert("Z", Base.Add(time.Second), e.conns[2])
	z.IdempotencyKey = "k"
	e.accept("", x, y, z)
	if x.Duplicate || y.Duplicate || !z.Duplicate {
		t.Fatalf("Duplicate = %v, %v, %v; want false, false, true", x.Duplicate, y.Duplicate, z.Duplicate)
	}
	if z.ID != x.ID || !z.ReceivedAt.Equal(x.ReceivedAt) {
		t.Errorf("the duplicate has ID %s, ReceivedAt %v; want the first's %s, %v", z.ID, z.ReceivedAt, x.ID, x.ReceivedAt)
	}
	if diff := cmp.Diff(x.Deliveries, z.Deliveries, deliveryOpts); diff != "" {
		t.Errorf("the duplicate's deliveries (-first +duplicate):\n%s", diff)
	}
	if x.Deliveries[0] == z.Deliveries[0] {
		t.Errorf("the duplicate shares *Delivery values with the first alert")
	}
	// Both again, in one batch: both duplicates.
	x2, z2 := Alert("X2", Base, e.conns[0]), Alert("Z2", Base, e.conns[0])
	x2.IdempotencyKey, z2.IdempotencyKey = "k", "k"
	e.accept("", x2, z2)
	if !x2.Duplicate || !z2.Duplicate || x2.ID != x.ID || z2.ID != x.ID {
		t.Errorf("repeated key in a later batch: %v %s, %v %s; want duplicates of %s", x2.Duplicate, x2.ID, z2.Duplicate, z2.ID, x.ID)
	}
	if got := e.list(hookline.DeliveryFilter{}); len(got) != 3 {
		t.Errorf("the store holds %d deliveries; want 3", len(got))
	}
}

// testIdempotencyPerSource checks that a key is scoped by its source: an
// API caller that happens to use the key a receiver derives must not take
// that receiver's alert for a duplicate, nor the other way round.
func testIdempotencyPerSource(t *testing.T, e *env) {
	const key = "am:abc:firing:2026-11-26T12:00:00Z:0123456789abcdef"
	api := Alert("API", Base, e.conns[0])
	api.IdempotencyKey = key
	e.accept("", api)

	am := Alert("Alertmanager", Base, e.conns[1])
	am.Source, am.IdempotencyKey = "alertmanager", key
	// In one batch, the same key of a third source, then a repeat of the
	// second's: the first is new, the second a duplicate.
	other := Alert("Other", Base, e.conns[2])
	other.Source, other.IdempotencyKey = "monitor-7", key
	amAgain := Alert("Alertmanager again", Base, e.conns[2])
	amAgain.Source, amAgain.IdempotencyKey = "alertmanager", key
	e.accept("", am, other, amAgain)

	for _, tc := range []struct {
		a         *hookline.AcceptedAlert
		duplicate bool
		sameAs    *hookline.AcceptedAlert
	}{{api, false, nil}, {am, false, nil}, {other, false, nil}, {amAgain, true, am}} {
		if tc.a.Duplicate != tc.duplicate {
			t.Errorf("%s (source %q): Duplicate = %v; want %v", tc.a.Alert.Name, tc.a.Source, tc.a.Duplicate, tc.duplicate)
		}
		if tc.sameAs != nil && tc.a.ID != tc.sameAs.ID {
			t.Errorf("%s: ID %s; want the first acceptance's %s", tc.a.Alert.Name, tc.a.ID, tc.sameAs.ID)
		}
	}
	if ids := []string{api.ID, am.ID, other.ID}; api.ID == am.ID || am.ID == other.ID || api.ID == other.ID {
		t.Errorf("alerts of three sources share IDs %q", ids)
	}
	if diff := cmp.Diff(am.Deliveries, amAgain.Deliveries, deliveryOpts); diff != "" {
		t.Errorf("the duplicate's deliveries (-first +duplicate):\n%s", diff)
	}
	if got := e.list(hookline.DeliveryFilter{}); len(got) != 3 {
		t.Errorf("the store holds %d deliveries; want one per source, 3", len(got))
	}
	for _, a := range []*hookline.AcceptedAlert{api, am, other} {
		stored, err := e.s.AcceptedAlert(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Source != a.Source || stored.IdempotencyKey != key || stored.Alert.Name != a.Alert.Name {
			t.Errorf("stored alert %s: source %q, key %q, name %q; want %q, %q, %q",
				a.ID, stored.Source, stored.IdempotencyKey, stored.Alert.Name, a.Source, key, a.Alert.Name)
		}
	}
}
