package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/storetest"
)

var alertOpts = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
}

// Everything AcceptAlerts and RecordAttempts returned from is in the file
// after it is closed and opened again.
func TestDeliveriesSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	db, err := sqlite.Open(t.Context(), path, testKeyring(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	var alerts []*hookline.AcceptedAlert
	for b := range 5 {
		var batch []*hookline.AcceptedAlert
		for i := range 20 {
			a := storetest.Alert(fmt.Sprint(b, "/", i), storetest.Base.Add(time.Duration(i)*time.Second), "0000000000000001", "0000000000000002")
			if i%2 == 0 {
				a.IdempotencyKey = fmt.Sprint("key ", b, i)
			}
			batch = append(batch, a)
		}
		if err := db.AcceptAlerts(t.Context(), "p1", batch); err != nil {
			t.Fatal(err)
		}
		alerts = append(alerts, batch...)
	}
	var results []hookline.AttemptResult
	for i, a := range alerts[:30] {
		results = append(results, hookline.AttemptResult{
			Attempt: hookline.DeliveryAttempt{DeliveryID: a.Deliveries[0].ID, N: 1, StartedAt: storetest.Base, Latency: time.Millisecond, StatusCode: 200 + i},
			State:   hookline.DeliveryDelivered,
		})
	}
	if err := db.RecordAttempts(t.Context(), "p1", results); err != nil {
		t.Fatal(err)
	}
	type snapshot struct {
		d        *hookline.Delivery
		attempts []hookline.DeliveryAttempt
	}
	before := map[string]snapshot{}
	for _, a := range alerts {
		for _, d := range a.Deliveries {
			got, attempts, err := db.Delivery(t.Context(), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			before[d.ID] = snapshot{got, attempts}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, path, testKeyring(t, 1))
	for _, a := range alerts {
		got, err := db.AcceptedAlert(t.Context(), a.ID)
		if err != nil {
			t.Fatalf("after reopening: %v", err)
		}
		for i, d := range got.Deliveries {
			want := before[d.ID]
			if want.d == nil || d.ID != a.Deliveries[i].ID {
				t.Fatalf("alert %s: delivery %d is %s; want %s", a.ID, i, d.ID, a.Deliveries[i].ID)
			}
			_, attempts, err := db.Delivery(t.Context(), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, snapshot{d, attempts}, cmp.AllowUnexported(snapshot{}), alertOpts); diff != "" {
				t.Errorf("delivery %s after reopening (-want +got):\n%s", d.ID, diff)
			}
		}
		got.Deliveries = a.Deliveries // compared above, with their current state
		if diff := cmp.Diff(a, got, alertOpts); diff != "" {
			t.Errorf("alert %s after reopening (-want +got):\n%s", a.ID, diff)
		}
	}
	// A new process (a new owner) takes over every pending delivery.
	claimed, err := db.ClaimDue(t.Context(), "p2", storetest.Base.Add(time.Hour), 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(alerts)*2 - len(results); len(claimed) != want {
		t.Errorf("after reopening a new owner claimed %d deliveries; want the %d pending", len(claimed), want)
	}
}

// A cancelled or failed batch stores nothing and fills nothing in.
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
	path := filepath.Join(t.TempDir(), "hookline.db")
	db := mustOpen(t, path, testKeyring(t, 1))
	bad := storetest.Alert("Bad", storetest.Base, "0000000000000001", "0000000000000002")
	good := storetest.Alert("Good", storetest.Base.Add(time.Second), "0000000000000001")
	if err := db.AcceptAlerts(t.Context(), "", []*hookline.AcceptedAlert{bad, good}); err != nil {
		t.Fatal(err)
	}
	rawExec(t, path, `UPDATE alerts SET body = '{"name": "Bad", "timeZone": "Mars/Olympus"}' WHERE id = ?`, bad.ID)

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
		if got.State != hookline.DeliveryFailed || !strings.Contains(got.LastError, "cannot read the stored alert") || !strings.Contains(got.LastError, "Mars/Olympus") {
			t.Errorf("delivery of the unreadable alert: %s, %q; want failed, saying why", got.State, got.LastError)
		}
	}
	if s, err := db.QueueStats(t.Context()); err != nil || s.Pending != 1 {
		t.Errorf("QueueStats = %+v, %v; want the good delivery pending", s, err)
	}
	// Reading it or replaying it is an internal error, not the caller's.
	_, err = db.AcceptedAlert(t.Context(), bad.ID)
	if hookline.ErrorCode(err) != hookline.EINTERNAL {
		t.Errorf("AcceptedAlert of an unreadable alert: %v; want an internal error", err)
	}
	_, err = db.ReplayDelivery(t.Context(), "p1", bad.Deliveries[0].ID, storetest.Base)
	if hookline.ErrorCode(err) != hookline.EINTERNAL {
		t.Errorf("ReplayDelivery of an unreadable alert's delivery: %v; want an internal error", err)
	}
	if got, _, _ := db.Delivery(t.Context(), bad.Deliveries[0].ID); got.State != hookline.DeliveryFailed {
		t.Errorf("a failed replay left the delivery %s; want it still failed", got.State)
	}
}

// Concurrent claims of one owner, from goroutines on two handles of the
// file as from two processes, never return a delivery twice: each claim
// reads and marks in one transaction.
func TestConcurrentClaims(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	dbs := []*sqlite.DB{mustOpen(t, path, testKeyring(t, 1)), mustOpen(t, path, testKeyring(t, 1))}
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

// Two owners racing (two processes, which SQLite's deployment does not
// have, but a crashed owner's successor meets its leftovers): an owner may
// take what the other holds, but each attempt is logged once and every
// delivery ends final.
func TestConcurrentOwners(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookline.db")
	dbs := []*sqlite.DB{mustOpen(t, path, testKeyring(t, 1)), mustOpen(t, path, testKeyring(t, 1))}
	const n = 300
	var batch []*hookline.AcceptedAlert
	for i := range n {
		batch = append(batch, storetest.Alert(fmt.Sprint(i), storetest.Base, fmt.Sprintf("%016d", i%3)))
	}
	if err := dbs[0].AcceptAlerts(t.Context(), "", batch); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		owner := fmt.Sprint("p", g%2)
		db := dbs[g%2]
		wg.Go(func() {
			for {
				cds, err := db.ClaimDue(t.Context(), owner, storetest.Base, 5, nil)
				if err != nil || len(cds) == 0 {
					if err != nil {
						t.Error(err)
					}
					return
				}
				var results []hookline.AttemptResult
				for _, cd := range cds {
					results = append(results, hookline.AttemptResult{
						Attempt: hookline.DeliveryAttempt{DeliveryID: cd.Delivery.ID, N: cd.Delivery.Attempts + 1, StartedAt: storetest.Base, Response: owner},
						State:   hookline.DeliveryDelivered,
					})
				}
				if err := db.RecordAttempts(t.Context(), owner, results); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, a := range batch {
		d, attempts, err := dbs[1].Delivery(t.Context(), a.Deliveries[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != hookline.DeliveryDelivered || d.Attempts != 1 || len(attempts) != 1 {
			t.Errorf("delivery %s: %s after %d attempts, %d logged; want delivered after one", d.ID, d.State, d.Attempts, len(attempts))
		}
	}
}

// benchAlerts returns n alerts with one delivery each, due now.
func benchAlerts(n int, conn string) []*hookline.AcceptedAlert {
	out := make([]*hookline.AcceptedAlert, n)
	for i := range out {
		out[i] = storetest.Alert(fmt.Sprint("Bench ", i), storetest.Base, conn)
	}
	return out
}

// BenchmarkAcceptAlerts stores batches as the dispatcher's group commit
// hands them over: one transaction and one fsync per batch.
func BenchmarkAcceptAlerts(b *testing.B) {
	for _, size := range []int{1, 100, 500} {
		b.Run(fmt.Sprint("batch=", size), func(b *testing.B) {
			db := MustOpenDB(b)
			ctx := context.Background()
			alerts := benchAlerts(size, "0000000000000001")
			b.ReportAllocs()
			for b.Loop() {
				for _, a := range alerts {
					a.ID = ""
				}
				if err := db.AcceptAlerts(ctx, "p1", alerts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// BenchmarkClaimDue claims 500 due deliveries per call from a queue of
// 20,000, two owners taking them from each other; with skip, the oldest
// 10,000 belong to a skipped connection, which the claim must pass over.
func BenchmarkClaimDue(b *testing.B) {
	for _, skipped := range []int{0, 10000} {
		b.Run(fmt.Sprint("skipped=", skipped), func(b *testing.B) {
			db := MustOpenDB(b)
			ctx := context.Background()
			var skip []string
			if skipped > 0 {
				skip = []string{"00000000000000FF"}
				for range skipped / 500 {
					if err := db.AcceptAlerts(ctx, "", benchAlerts(500, skip[0])); err != nil {
						b.Fatal(err)
					}
				}
			}
			for range 20000 / 500 {
				alerts := benchAlerts(500, "0000000000000001")
				for _, a := range alerts {
					a.ReceivedAt = a.ReceivedAt.Add(time.Second)
				}
				if err := db.AcceptAlerts(ctx, "", alerts); err != nil {
					b.Fatal(err)
				}
			}
			owners := []string{"p1", "p2"}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				cds, err := db.ClaimDue(ctx, owners[i%2], storetest.Base.Add(time.Hour), 500, skip)
				i++
				if err != nil || len(cds) != 500 {
					b.Fatalf("claimed %d: %v", len(cds), err)
				}
			}
			b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkRecordAttempts records batches of 500 attempts, each a retry
// scheduled for later, as the dispatcher's result loop hands them over.
func BenchmarkRecordAttempts(b *testing.B) {
	db := MustOpenDB(b)
	ctx := context.Background()
	const size, batches = 500, 10
	var ids []string
	for range batches {
		alerts := benchAlerts(size, "0000000000000001")
		if err := db.AcceptAlerts(ctx, "p1", alerts); err != nil {
			b.Fatal(err)
		}
		for _, a := range alerts {
			ids = append(ids, a.Deliveries[0].ID)
		}
	}
	results := make([]hookline.AttemptResult, size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n, part := i/batches+1, i%batches
		i++
		at := storetest.Base.Add(time.Duration(n) * time.Minute)
		for j := range results {
			results[j] = hookline.AttemptResult{
				Attempt: hookline.DeliveryAttempt{DeliveryID: ids[part*size+j], N: n, StartedAt: at, Latency: 12 * time.Millisecond,
					StatusCode: 503, Error: "503 Service Unavailable", Response: `{"message":"Service Unavailable"}`, RetryAt: at.Add(time.Minute)},
				State: hookline.DeliveryPending, NextAttemptAt: at.Add(time.Minute), Keep: j%2 == 0,
			}
		}
		if err := db.RecordAttempts(ctx, "p1", results); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "attempts/s")
}

// EndLeases frees at once what processes held under leases that have not
// lapsed: hookline serve calls it holding the data directory's lock, when
// every earlier process has stopped.
func TestEndLeases(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookline.db"), testKeyring(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.RenewOwner(t.Context(), "stopped", time.Hour); err != nil {
		t.Fatal(err)
	}
	a := storetest.Alert("held", storetest.Base, "0000000000000001")
	if err := db.AcceptAlerts(t.Context(), "stopped", []*hookline.AcceptedAlert{a}); err != nil {
		t.Fatal(err)
	}
	due := storetest.Base.Add(time.Minute)
	claim := func() int {
		got, err := db.ClaimDue(t.Context(), "next", due, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := claim(); n != 0 {
		t.Fatalf("claimed %d deliveries under a live lease", n)
	}
	if err := db.EndLeases(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := claim(); n != 1 {
		t.Fatalf("after EndLeases claimed %d deliveries; want the 1 held", n)
	}
}
