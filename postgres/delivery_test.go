package postgres_test

import (
	"context"
	"errors"
	"fmt"
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
