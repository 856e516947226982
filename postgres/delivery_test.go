package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/postgres/pgtest"
	"github.com/hookline/hookline/storetest"
)

func TestDeliveryStore(t *testing.T) {
	storetest.TestDeliveryStore(t, func(t *testing.T) (hookline.DeliveryStore, hookline.ConnectionStore) {
		db := MustOpenDB(t)
		return db, db
	})
}

func TestAlertList(t *testing.T) {
	storetest.TestAlertList(t, func(t *testing.T) (hookline.DeliveryStore, hookline.ConnectionStore) {
		db := MustOpenDB(t)
		return db, db
	})
}

func TestAcceptCancelled(t *testing.T) {
	db := MustOpenDB(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	a := storetest.Alert("Cancelled", storetest.Base, "0000000000000001")
	if err := db.AcceptAlerts(ctx, "", []*hookline.AcceptedAlert{a}); !errors.Is(err, context.Canceled) {
		t.Errorf("AcceptAlerts with a cancelled context: %v; want context.Canceled", err)
	}
	if a.ID != "" || a.Deliveries[0].ID != "" {
		t.Errorf("a failed AcceptAlerts filled in IDs %q, %q", a.ID, a.Deliveries[0].ID)
	}
	if s, err := db.QueueStats(t.Context()); err != nil || s.Pending != 0 {
		t.Errorf("after a cancelled accept: %+v, %v; want nothing stored", s, err)
	}
}

// A stored alert that no longer decodes fails its deliveries instead of
// failing every claim: the queue behind it keeps moving.
func TestClaimFailsUnreadableAlert(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := mustOpen(t, url, testKeyring(t, 1))
	bad := storetest.Alert("Bad", storetest.Base, "0000000000000001", "0000000000000002")
	good := storetest.Alert("Good", storetest.Base.Add(time.Second), "0000000000000001")
	if err := db.AcceptAlerts(t.Context(), "", []*hookline.AcceptedAlert{bad, good}); err != nil {
		t.Fatal(err)
	}
	rawExec(t, url, `UPDATE alerts SET body = '{"name": "Bad", "timeZone": "Mars/Olympus"}' WHERE id = $1`, bad.ID)

	claimed, err := db.ClaimDue(t.Context(), "p1", storetest.Base.Add(time.Minute), 10, nil)
	if err != nil {
		t.Fatalf("ClaimDue with an unreadable alert in the queue: %v", err)
	}
	if len(claimed) != 1 || claimed[0].Delivery.ID != good.Deliveries[0].ID || claimed[0].Alert.Name != "Good" {
		t.Fatalf("claimed %d deliveries; want only the good alert's", len(claimed))
	}
	for _, d := range bad.Deliveries {
		got, _, err := db.Delivery(t.Context(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != hookline.DeliveryFailed || !strings.Contains(got.LastError, "cannot read the stored alert") ||
			!strings.Contains(got.LastError, "Mars/Olympus") {
			t.Errorf("delivery of the unreadable alert: %s, %q; want failed, saying why", got.State, got.LastError)
		}
	}
	if _, err := db.AcceptedAlert(t.Context(), bad.ID); hookline.ErrorCode(err) != hookline.EINTERNAL {
		t.Errorf("AcceptedAlert of an unreadable alert: %v; want an internal error", err)
	}
	if _, err := db.ReplayDelivery(t.Context(), "p1", bad.Deliveries[0].ID, storetest.Base); hookline.ErrorCode(err) != hookline.EINTERNAL {
		t.Errorf("ReplayDelivery of an unreadable alert's delivery: %v; want an internal error", err)
	}
	if got, _, _ := db.Delivery(t.Context(), bad.Deliveries[0].ID); got.State != hookline.DeliveryFailed {
		t.Errorf("a failed replay left the delivery %s; want it still failed", got.State)
	}
}

// Concurrent claims from goroutines on two handles, as from two processes,
// never return a delivery twice (FOR UPDATE SKIP LOCKED), and together
// take them all.
func TestConcurrentClaims(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := []*postgres.DB{mustOpen(t, url, testKeyring(t, 1)), mustOpen(t, url, testKeyring(t, 1))}
	const n = 600
	var batch []*hookline.AcceptedAlert
	for i := range n {
		batch = append(batch, storetest.Alert(fmt.Sprint(i), storetest.Base.Add(time.Duration(i%50)*time.Millisecond), fmt.Sprintf("%016d", i%4)))
	}
	if err := dbs[0].AcceptAlerts(t.Context(), "", batch); err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		got = map[string]int{}
		wg  sync.WaitGroup
	)
	for g := range 6 {
		wg.Go(func() {
			for {
				cds, err := dbs[g%2].ClaimDue(t.Context(), "p1", storetest.Base.Add(time.Second), 7, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if len(cds) == 0 {
					return
				}
				mu.Lock()
				for _, cd := range cds {
					got[cd.Delivery.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id, k := range got {
		if k != 1 {
			t.Errorf("delivery %s was claimed %d times", id, k)
		}
	}
	if len(got) != n {
		t.Errorf("claimed %d deliveries; want all %d", len(got), n)
	}
}

// One idempotency key accepted by two processes at once is stored once;
// the other acceptance answers with the first one's IDs.
func TestConcurrentIdempotentAccepts(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := []*postgres.DB{mustOpen(t, url, testKeyring(t, 1)), mustOpen(t, url, testKeyring(t, 1))}
	for round := range 10 {
		alerts := make([]*hookline.AcceptedAlert, 4)
		var wg sync.WaitGroup
		errs := make([]error, len(alerts))
		for i := range alerts {
			a := storetest.Alert(fmt.Sprint("Same ", round), storetest.Base, "0000000000000001")
			a.IdempotencyKey = fmt.Sprint("key-", round)
			alerts[i] = a
			wg.Go(func() { errs[i] = dbs[i%2].AcceptAlerts(t.Context(), "", []*hookline.AcceptedAlert{a}) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		firsts := 0
		for _, a := range alerts {
			if !a.Duplicate {
				firsts++
			}
			if a.ID != alerts[0].ID || a.Deliveries[0].ID != alerts[0].Deliveries[0].ID {
				t.Errorf("round %d: acceptances answered %s/%s and %s/%s; want the same alert and delivery",
					round, a.ID, a.Deliveries[0].ID, alerts[0].ID, alerts[0].Deliveries[0].ID)
			}
		}
		if firsts != 1 {
			t.Errorf("round %d: %d acceptances were not duplicates; want 1", round, firsts)
		}
	}
	if s, err := dbs[0].QueueStats(t.Context()); err != nil || s.Pending != 10 {
		t.Errorf("QueueStats = %+v, %v; want one delivery per round", s, err)
	}
}

// What PostgreSQL's text cannot hold: a response excerpt comes back byte
// for byte (bytea), an error message with U+FFFD in place of what text
// refuses, and keys with NUL are refused up front rather than failing the
// batch in the database.
func TestUnstorableText(t *testing.T) {
	db := MustOpenDB(t)
	a := storetest.Alert("Bytes", storetest.Base, "0000000000000001")
	if err := db.AcceptAlerts(t.Context(), "", []*hookline.AcceptedAlert{a}); err != nil {
		t.Fatal(err)
	}
	id := a.Deliveries[0].ID
	const response = "binary \x00\xff\xfe answer"
	err := db.RecordAttempts(t.Context(), "p1", []hookline.AttemptResult{{
		Attempt: hookline.DeliveryAttempt{DeliveryID: id, N: 1, StartedAt: storetest.Base, StatusCode: 500,
			Error: "bad \x00 byte \xff", Response: response},
		State: hookline.DeliveryFailed,
	}})
	if err != nil {
		t.Fatal(err)
	}
	d, attempts, err := db.Delivery(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || attempts[0].Response != response {
		t.Errorf("attempts %+v; want the response byte for byte", attempts)
	}
	if want := "bad \uFFFD byte \uFFFD"; d.LastError != want || attempts[0].Error != want {
		t.Errorf("error stored as %q, %q; want %q", d.LastError, attempts[0].Error, want)
	}

	bad := storetest.Alert("NUL", storetest.Base, "0000000000000001")
	bad.IdempotencyKey = "key\x00"
	err = db.AcceptAlerts(t.Context(), "", []*hookline.AcceptedAlert{bad})
	var he *hookline.Error
	if !errors.As(err, &he) || he.Code != hookline.EINVALID || len(he.Fields) != 1 || he.Fields[0].Field != "alerts[0].idempotencyKey" {
		t.Errorf("AcceptAlerts with a NUL in the key: %v; want EINVALID naming alerts[0].idempotencyKey", err)
	}
	for _, id := range []string{"\x00", "\xff"} {
		if _, _, err := db.Delivery(t.Context(), id); hookline.ErrorCode(err) != hookline.ENOTFOUND {
			t.Errorf("Delivery(%q): %v; want ENOTFOUND", id, err)
		}
	}
}

// RecordAttempts applies a batch with statements over arrays; a delivery
// named more than once in one batch must come out as if its results were
// recorded one by one, in order, and must not hold back the rest.
func TestRecordAttemptsRepeatedInBatch(t *testing.T) {
	result := func(id string, n, status int, state hookline.DeliveryState) hookline.AttemptResult {
		r := hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: id, N: n, StartedAt: storetest.Base.Add(time.Duration(n) * time.Second),
				StatusCode: status, Response: fmt.Sprint(status)},
			State: state,
		}
		if state == hookline.DeliveryPending {
			r.NextAttemptAt, r.Keep = storetest.Base.Add(time.Minute), true
		}
		return r
	}
	for _, tc := range []struct {
		name       string
		results    func(id string) []hookline.AttemptResult
		state      hookline.DeliveryState
		status     int
		attemptsNs []int
		owner      bool // held by the recorder
	}{
		{"in order", func(id string) []hookline.AttemptResult {
			return []hookline.AttemptResult{result(id, 1, 503, hookline.DeliveryPending), result(id, 2, 200, hookline.DeliveryDelivered)}
		}, hookline.DeliveryDelivered, 200, []int{1, 2}, false},
		{"repeated", func(id string) []hookline.AttemptResult {
			return []hookline.AttemptResult{result(id, 1, 200, hookline.DeliveryDelivered), result(id, 1, 201, hookline.DeliveryDelivered)}
		}, hookline.DeliveryDelivered, 200, []int{1}, false},
		{"later first", func(id string) []hookline.AttemptResult {
			return []hookline.AttemptResult{result(id, 2, 503, hookline.DeliveryPending), result(id, 1, 500, hookline.DeliveryDead)}
		}, hookline.DeliveryPending, 503, []int{2}, true},
		{"three", func(id string) []hookline.AttemptResult {
			return []hookline.AttemptResult{result(id, 1, 503, hookline.DeliveryPending), result(id, 2, 429, hookline.DeliveryPending),
				result(id, 3, 500, hookline.DeliveryFailed)}
		}, hookline.DeliveryFailed, 500, []int{1, 2, 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			a := storetest.Alert("Repeats", storetest.Base, "0000000000000001", "0000000000000002")
			if err := db.AcceptAlerts(t.Context(), "p1", []*hookline.AcceptedAlert{a}); err != nil {
				t.Fatal(err)
			}
			id, other := a.Deliveries[0].ID, a.Deliveries[1].ID
			// The other delivery's result comes between, and applies.
			results := tc.results(id)
			results = slices.Insert(results, 1, result(other, 1, 204, hookline.DeliveryDelivered))
			if err := db.RecordAttempts(t.Context(), "p1", results); err != nil {
				t.Fatal(err)
			}
			d, attempts, err := db.Delivery(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			var ns []int
			for _, at := range attempts {
				ns = append(ns, at.N)
				if at.Response != fmt.Sprint(at.StatusCode) {
					t.Errorf("attempt %d logged status %d with response %q", at.N, at.StatusCode, at.Response)
				}
			}
			if d.State != tc.state || d.LastStatus != tc.status || d.Attempts != slices.Max(tc.attemptsNs) || !slices.Equal(ns, tc.attemptsNs) {
				t.Errorf("delivery %s, status %d, %d attempts, logged %v; want %s, %d, %d, %v",
					d.State, d.LastStatus, d.Attempts, ns, tc.state, tc.status, slices.Max(tc.attemptsNs), tc.attemptsNs)
			}
			// Held by the recorder: a claim by another owner passes it over
			// only while it is held.
			claimed, err := db.ClaimDue(t.Context(), "p1", storetest.Base.Add(time.Hour), 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			if held := len(claimed) == 0 && tc.state == hookline.DeliveryPending; held != tc.owner {
				t.Errorf("held by p1 = %v; want %v", held, tc.owner)
			}
			if d, _, err := db.Delivery(t.Context(), other); err != nil || d.State != hookline.DeliveryDelivered || d.LastStatus != 204 {
				t.Errorf("the other delivery of the batch: %+v, %v; want delivered with 204", d, err)
			}
		})
	}
}

// A large batch mixing new alerts, repeats of a key within the batch and
// keys stored before is stored in one transaction with a few statements;
// every alert's deliveries keep their order, IDs grow in the batch's order,
// and each duplicate answers with its first acceptance.
func TestAcceptLargeBatch(t *testing.T) {
	db := MustOpenDB(t)
	conns := []string{"0000000000000001", "0000000000000002", "0000000000000003"}
	stored := storetest.Alert("Stored", storetest.Base, conns[0])
	stored.IdempotencyKey = "stored"
	if err := db.AcceptAlerts(t.Context(), "", []*hookline.AcceptedAlert{stored}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	batch := make([]*hookline.AcceptedAlert, n)
	firstOf := map[int]*hookline.AcceptedAlert{} // duplicates by index → the alert they repeat
	for i := range batch {
		a := storetest.Alert(fmt.Sprint("Alert ", i), storetest.Base.Add(time.Duration(i)*time.Millisecond), conns...)
		switch {
		case i%10 == 3:
			a.IdempotencyKey = fmt.Sprint("key-", i)
		case i%10 == 7:
			a.IdempotencyKey = fmt.Sprint("key-", i-4) // the alert 4 before
			firstOf[i] = batch[i-4]
		case i%50 == 9:
			a.IdempotencyKey = "stored"
			firstOf[i] = stored
		}
		batch[i] = a
	}
	if err := db.AcceptAlerts(t.Context(), "p1", batch); err != nil {
		t.Fatal(err)
	}
	last := stored.Deliveries[0].ID
	for i, a := range batch {
		if first, dup := firstOf[i]; dup {
			if !a.Duplicate || a.ID != first.ID || !a.ReceivedAt.Equal(first.ReceivedAt) || len(a.Deliveries) != len(first.Deliveries) {
				t.Fatalf("alert %d: duplicate %v, ID %s, %d deliveries; want a duplicate of %s with %d", i, a.Duplicate, a.ID,
					len(a.Deliveries), first.ID, len(first.Deliveries))
			}
			for j, d := range a.Deliveries {
				if d.ID != first.Deliveries[j].ID || d == first.Deliveries[j] {
					t.Fatalf("alert %d: delivery %d is %s (shared %v); want a copy of %s", i, j, d.ID, d == first.Deliveries[j], first.Deliveries[j].ID)
				}
			}
			continue
		}
		if a.Duplicate || len(a.Deliveries) != len(conns) {
			t.Fatalf("alert %d: duplicate %v with %d deliveries; want new with %d", i, a.Duplicate, len(a.Deliveries), len(conns))
		}
		got, err := db.AcceptedAlert(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Alert.Name != a.Alert.Name || !got.ReceivedAt.Equal(a.ReceivedAt) {
			t.Fatalf("alert %d stored as %q received %v; want %q, %v", i, got.Alert.Name, got.ReceivedAt, a.Alert.Name, a.ReceivedAt)
		}
		for j, d := range a.Deliveries {
			if d.ID <= last || d.AlertID != a.ID || d.ConnectionID != conns[j] || got.Deliveries[j].ID != d.ID ||
				!d.NextAttemptAt.Equal(a.ReceivedAt) || d.State != hookline.DeliveryPending {
				t.Fatalf("alert %d, delivery %d: %+v, stored %s after %s; want in order, to %s, due at %v", i, j, d,
					got.Deliveries[j].ID, last, conns[j], a.ReceivedAt)
			}
			last = d.ID
		}
	}
	newAlerts := n - len(firstOf)
	if s, err := db.QueueStats(t.Context()); err != nil || s.Pending != 1+newAlerts*len(conns) {
		t.Errorf("QueueStats = %+v, %v; want %d pending", s, err, 1+newAlerts*len(conns))
	}
	// p1 holds the batch's deliveries: its claim takes only the stored
	// alert's, which nobody holds.
	if claimed, err := db.ClaimDue(t.Context(), "p1", storetest.Base.Add(time.Hour), n*len(conns), nil); err != nil || len(claimed) != 1 {
		t.Errorf("p1 claimed %d, %v; want only the unheld stored alert's delivery", len(claimed), err)
	}
}
