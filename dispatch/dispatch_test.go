package dispatch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/dispatch"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// target is a real HTTP server on 127.0.0.1 whose answers a test scripts.
type target struct {
	*httptest.Server
	clock *clock.Fake

	mu       sync.Mutex
	answer   func(n int, r *http.Request, w http.ResponseWriter) // nil: 200
	received []received
}

type received struct {
	at   time.Time // on the fake clock
	key  string    // Idempotency-Key
	body string
}

func newTarget(t *testing.T, c *clock.Fake) *target {
	tg := &target{clock: c}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.received = append(tg.received, received{at: c.Now(), key: r.Header.Get("Idempotency-Key"), body: string(body)})
		n := len(tg.received)
		answer := tg.answer
		tg.mu.Unlock()
		if answer != nil {
			answer(n, r, w)
		}
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) got() []received {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]received(nil), tg.received...)
}

func (tg *target) setAnswer(f func(n int, r *http.Request, w http.ResponseWriter)) {
	tg.mu.Lock()
	tg.answer = f
	tg.mu.Unlock()
}

type bundle struct {
	t     *testing.T
	db    *sqlite.DB
	clock *clock.Fake
	d     *dispatch.Dispatcher
	reg   *prometheus.Registry
}

// setup opens a real SQLite store and starts a dispatcher on a fake clock.
func setup(t *testing.T, mutate func(*dispatch.Config)) *bundle {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bundle{t: t, db: db, clock: clock.NewFake(t0), reg: prometheus.NewRegistry()}
	b.start(mutate)
	return b
}

func (b *bundle) start(mutate func(*dispatch.Config)) {
	reg := notify.NewRegistry(awslambda.Kind{}, webhook.Kind{})
	cfg := dispatch.Config{
		Clock:   b.clock,
		Retry:   notify.RetryPolicy{Schedule: []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute}},
		Metrics: dispatch.NewMetrics(b.reg, b.db.QueueStats),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	b.d = dispatch.New(cfg, b.db, b.db, &notify.Sender{Registry: reg, Timeout: 500 * time.Millisecond})
	if err := b.d.Start(context.Background()); err != nil {
		b.t.Fatal(err)
	}
	d := b.d
	b.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Stop(ctx)
	})
}

// restartOn replaces b's dispatcher with one on store (b.db, wrapped)
// and cfg, on b's clock, sending with sender.
func (b *bundle) restartOn(store hookline.DeliveryStore, cfg dispatch.Config, sender *notify.Sender) {
	b.t.Helper()
	b.d.Stop(context.Background())
	cfg.Clock = b.clock
	d := dispatch.New(cfg, store, b.db, sender)
	if err := d.Start(context.Background()); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { d.Stop(context.Background()) })
	b.d = d
}

func (b *bundle) connection(name, url string) string {
	b.t.Helper()
	c := &hookline.Connection{
		Name: name, WebhookType: "Webhook", URL: url,
		DefaultPayload:    `{"name": "{{Name}}", "type": "{{TriggerType}}", "ip": "{{ResultsJson.client_ip}}"}`,
		ResolutionPayload: `{"resolved": "{{Name}}"}`,
		Settings:          map[string]string{}, Secrets: map[string]string{},
	}
	if err := b.db.CreateConnection(context.Background(), c); err != nil {
		b.t.Fatal(err)
	}
	return c.ID
}

func (b *bundle) accept(name string, trigger hookline.TriggerType, connIDs ...string) *hookline.AcceptedAlert {
	b.t.Helper()
	a := &hookline.AcceptedAlert{
		Source: "test",
		Alert:  hookline.Alert{Name: name, TriggerType: trigger, Results: []hookline.Row{{"client_ip": "203.0.113.7"}}},
	}
	for _, id := range connIDs {
		a.Deliveries = append(a.Deliveries, &hookline.Delivery{ConnectionID: id, TriggerType: trigger})
	}
	if err := b.d.Accept(context.Background(), []*hookline.AcceptedAlert{a}); err != nil {
		b.t.Fatalf("Accept: %v", err)
	}
	return a
}

// waitFor polls cond until it holds or two seconds pass: attempts run in
// their own goroutines over real HTTP, even when the clock is fake.
func (b *bundle) waitFor(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (b *bundle) delivery(id string) (*hookline.Delivery, []hookline.DeliveryAttempt) {
	b.t.Helper()
	d, attempts, err := b.db.Delivery(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return d, attempts
}

// waitState waits until the stored delivery reaches state with n attempts.
func (b *bundle) waitState(id string, state hookline.DeliveryState, n int) (*hookline.Delivery, []hookline.DeliveryAttempt) {
	b.t.Helper()
	var d *hookline.Delivery
	var attempts []hookline.DeliveryAttempt
	b.waitFor(fmt.Sprintf("delivery %s %s after %d attempts", id, state, n), func() bool {
		d, attempts = b.delivery(id)
		return d.State == state && len(attempts) == n
	})
	return d, attempts
}

func TestDeliversOnceWithIdempotencyKey(t *testing.T) {
	b := setup(t, nil)
	tg := newTarget(t, b.clock)
	conn := b.connection("hook", tg.URL)
	a := b.accept("High request rate", hookline.TriggerCritical, conn)
	if a.ID == "" || len(a.Deliveries) != 1 || a.Deliveries[0].ID == "" {
		t.Fatalf("accepted %+v", a)
	}
	id := a.Deliveries[0].ID
	d, attempts := b.waitState(id, hookline.DeliveryDelivered, 1)
	got := tg.got()
	if len(got) != 1 || got[0].key != id {
		t.Fatalf("target received %+v, want one request with Idempotency-Key %s", got, id)
	}
	if want := `{"name": "High request rate", "type": "Critical", "ip": "203.0.113.7"}`; got[0].body != want {
		t.Errorf("body %s, want %s", got[0].body, want)
	}
	if d.LastStatus != 200 || attempts[0].StatusCode != 200 || attempts[0].N != 1 || !attempts[0].RetryAt.IsZero() {
		t.Errorf("delivery %+v attempts %+v", d, attempts)
	}
	// Recovery uses the recovery payload.
	r := b.accept("High request rate", hookline.TriggerResolvedCritical, conn)
	b.waitState(r.Deliveries[0].ID, hookline.DeliveryDelivered, 1)
	if got := tg.got(); len(got) != 2 || got[1].body != `{"resolved": "High request rate"}` {
		t.Errorf("recovery body: %+v", got)
	}
	if v := metricSum(t, b.reg, "hookline_deliveries_total"); v != 2 {
		t.Errorf("hookline_deliveries_total = %v, want 2", v)
	}
}

// metricSum sums a metric family's samples, checking it is registered.
func metricSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	found := false
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		found = true
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if !found {
		t.Fatalf("metric %s is not registered", name)
	}
	return sum
}

func TestRetriesOnScheduleThenDelivers(t *testing.T) {
	b := setup(t, nil)
	tg := newTarget(t, b.clock)
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) {
		if n <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	})
	id := b.accept("a", hookline.TriggerCritical, b.connection("hook", tg.URL)).Deliveries[0].ID

	b.waitState(id, hookline.DeliveryPending, 1)
	b.clock.Advance(9 * time.Second)
	time.Sleep(20 * time.Millisecond)
	if n := len(tg.got()); n != 1 {
		t.Fatalf("attempted %d times before the first delay passed", n)
	}
	b.clock.Advance(time.Second)
	b.waitState(id, hookline.DeliveryPending, 2)
	b.clock.Advance(time.Minute)
	d, attempts := b.waitState(id, hookline.DeliveryDelivered, 3)

	got := tg.got()
	wantAt := []time.Duration{0, 10 * time.Second, 70 * time.Second}
	for i, r := range got {
		if at := r.at.Sub(t0); at != wantAt[i] {
			t.Errorf("attempt %d at +%v, want +%v", i+1, at, wantAt[i])
		}
		if r.key != id {
			t.Errorf("attempt %d Idempotency-Key %q, want %q", i+1, r.key, id)
		}
	}
	if attempts[0].StatusCode != 503 || attempts[0].Response != "busy\n" || attempts[0].RetryAt != t0.Add(10*time.Second) {
		t.Errorf("first attempt logged as %+v", attempts[0])
	}
	if d.Attempts != 3 || d.LastStatus != 200 {
		t.Errorf("delivery %+v", d)
	}
}

func TestHonoursRetryAfter(t *testing.T) {
	b := setup(t, nil)
	tg := newTarget(t, b.clock)
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	id := b.accept("a", hookline.TriggerCritical, b.connection("hook", tg.URL)).Deliveries[0].ID
	_, attempts := b.waitState(id, hookline.DeliveryPending, 1)
	if attempts[0].RetryAt != t0.Add(120*time.Second) {
		t.Fatalf("retry at +%v, want +120s (Retry-After over the 10 s schedule)", attempts[0].RetryAt.Sub(t0))
	}
	b.clock.Advance(119 * time.Second)
	time.Sleep(20 * time.Millisecond)
	if n := len(tg.got()); n != 1 {
		t.Fatalf("retried before Retry-After: %d attempts", n)
	}
	b.clock.Advance(time.Second)
	b.waitState(id, hookline.DeliveryDelivered, 2)
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(n int, r *http.Request, w http.ResponseWriter)
		state    hookline.DeliveryState
		attempts int
		errText  string
	}{
		{"4xx is not retried", func(n int, r *http.Request, w http.ResponseWriter) {
			http.Error(w, "bad payload", http.StatusBadRequest)
		}, hookline.DeliveryFailed, 1, ""},
		{"always 500 ends dead", func(n int, r *http.Request, w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
		}, hookline.DeliveryDead, 4, ""},
		{"408 is retried", func(n int, r *http.Request, w http.ResponseWriter) {
			if n == 1 {
				w.WriteHeader(http.StatusRequestTimeout)
			}
		}, hookline.DeliveryDelivered, 2, ""},
		{"a hang times out and is retried", func(n int, r *http.Request, w http.ResponseWriter) {
			if n == 1 {
				io.ReadAll(r.Body)
				<-r.Context().Done()
			}
		}, hookline.DeliveryDelivered, 2, "timeout"},
		{"a reset is retried", func(n int, r *http.Request, w http.ResponseWriter) {
			if n == 1 {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		}, hookline.DeliveryDelivered, 2, "without answering"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, nil)
			tg := newTarget(t, b.clock)
			tg.setAnswer(tc.answer)
			id := b.accept("a", hookline.TriggerCritical, b.connection("hook", tg.URL)).Deliveries[0].ID
			var d *hookline.Delivery
			var attempts []hookline.DeliveryAttempt
			b.waitFor("the final state", func() bool {
				d, attempts = b.delivery(id)
				if d.State == hookline.DeliveryPending && len(attempts) == d.Attempts && d.Attempts > 0 {
					b.clock.Advance(d.NextAttemptAt.Sub(b.clock.Now()))
				}
				return d.State.Final() && len(attempts) == d.Attempts
			})
			if d.State != tc.state || len(attempts) != tc.attempts {
				t.Fatalf("state %s after %d attempts, want %s after %d: %+v", d.State, len(attempts), tc.state, tc.attempts, attempts)
			}
			if tc.errText != "" && !bytes.Contains([]byte(attempts[0].Error), []byte(tc.errText)) {
				t.Errorf("first attempt error %q, want %q", attempts[0].Error, tc.errText)
			}
		})
	}
}

// TestSlowTargetDoesNotDelayOthers fills one connection's attempt slots
// with a target that never answers; another connection is still served.
func TestSlowTargetDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	b := setup(t, func(c *dispatch.Config) { c.PerConnection = 2 })
	slow := newTarget(t, b.clock)
	slow.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) { <-release })
	t.Cleanup(func() { close(release) })
	fast := newTarget(t, b.clock)
	slowID := b.connection("slow", slow.URL)
	fastID := b.connection("fast", fast.URL)
	for i := range 6 {
		b.accept(fmt.Sprint("slow ", i), hookline.TriggerCritical, slowID)
	}
	var fastIDs []string
	for i := range 20 {
		fastIDs = append(fastIDs, b.accept(fmt.Sprint("fast ", i), hookline.TriggerCritical, fastID).Deliveries[0].ID)
	}
	for _, id := range fastIDs {
		b.waitState(id, hookline.DeliveryDelivered, 1)
	}
	if n := len(slow.got()); n != 2 {
		t.Errorf("slow target has %d requests in flight, want the per-connection limit 2", n)
	}
}

func TestCircuitBreaker(t *testing.T) {
	b := setup(t, func(c *dispatch.Config) {
		c.BreakerThreshold = 3
		c.BreakerCooldown = time.Minute
		c.Retry = notify.RetryPolicy{Schedule: []time.Duration{time.Hour, time.Hour}}
	})
	tg := newTarget(t, b.clock)
	var healthy bool
	var mu sync.Mutex
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if !healthy {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	conn := b.connection("flaky", tg.URL)
	// Three failures open the breaker; the next deliveries wait unattempted.
	var ids []string
	for i := range 3 {
		id := b.accept(fmt.Sprint("a", i), hookline.TriggerCritical, conn).Deliveries[0].ID
		b.waitState(id, hookline.DeliveryPending, 1)
		ids = append(ids, id)
	}
	waiting := b.accept("waits", hookline.TriggerCritical, conn).Deliveries[0].ID
	time.Sleep(30 * time.Millisecond)
	if n := len(tg.got()); n != 3 {
		t.Fatalf("%d attempts while paused, want 3", n)
	}
	// After the pause one probe goes; it fails, and the pause doubles.
	b.clock.Advance(time.Minute)
	b.waitState(waiting, hookline.DeliveryPending, 1)
	b.clock.Advance(time.Minute)
	time.Sleep(30 * time.Millisecond)
	if n := len(tg.got()); n != 4 {
		t.Fatalf("%d attempts one minute into a two-minute pause, want 4", n)
	}
	// The target recovers: the next probe succeeds and the connection resumes.
	mu.Lock()
	healthy = true
	mu.Unlock()
	late := b.accept("late", hookline.TriggerCritical, conn).Deliveries[0].ID
	b.clock.Advance(time.Minute)
	b.waitState(late, hookline.DeliveryDelivered, 1)
	b.clock.Advance(time.Hour) // the first three come due again
	for _, id := range ids {
		b.waitState(id, hookline.DeliveryDelivered, 2)
	}
}

// TestClaimsWhatAnotherProcessLeft covers a restart: deliveries stored and
// held by a process that is gone are claimed and delivered by the next.
func TestClaimsWhatAnotherProcessLeft(t *testing.T) {
	b := setup(t, nil)
	tg := newTarget(t, b.clock)
	conn := b.connection("hook", tg.URL)
	left := &hookline.AcceptedAlert{Source: "test", ReceivedAt: t0, Alert: hookline.Alert{Name: "left", TriggerType: hookline.TriggerCritical},
		Deliveries: []*hookline.Delivery{{ConnectionID: conn, TriggerType: hookline.TriggerCritical, State: hookline.DeliveryPending, NextAttemptAt: t0}}}
	if err := b.db.AcceptAlerts(context.Background(), "crashed-process", []*hookline.AcceptedAlert{left}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Second) // the next poll
	b.waitState(left.Deliveries[0].ID, hookline.DeliveryDelivered, 1)
}

// TestLeaseKeepsHeldDeliveries: while a dispatcher runs, its lease keeps
// the deliveries it holds from another replica's claims, well past the
// lease's length; once it stops, they are claimed at once.
func TestLeaseKeepsHeldDeliveries(t *testing.T) {
	const lease = 300 * time.Millisecond
	b := setup(t, func(c *dispatch.Config) { c.Lease = lease })
	tg := newTarget(t, b.clock)
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	id := b.accept("held", hookline.TriggerCritical, b.connection("hook", tg.URL)).Deliveries[0].ID
	b.waitState(id, hookline.DeliveryPending, 1) // held for its retry, 10 s later on the fake clock

	far := t0.Add(time.Hour)
	for deadline := time.Now().Add(4 * lease); time.Now().Before(deadline); time.Sleep(lease / 4) {
		got, err := b.db.ClaimDue(t.Context(), "other-replica", far, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("another replica claimed %s while the dispatcher holding it ran", got[0].Delivery.ID)
		}
	}
	if err := b.d.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := b.db.ClaimDue(t.Context(), "other-replica", far, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Delivery.ID != id {
		t.Fatalf("after Stop, another replica claimed %d deliveries; want %s at once", len(got), id)
	}
}

func TestReplayKeepsTheKey(t *testing.T) {
	b := setup(t, nil)
	tg := newTarget(t, b.clock)
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusForbidden)
		}
	})
	id := b.accept("a", hookline.TriggerCritical, b.connection("hook", tg.URL)).Deliveries[0].ID
	b.waitState(id, hookline.DeliveryFailed, 1)
	if _, err := b.d.Replay(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	b.waitState(id, hookline.DeliveryDelivered, 2)
	if _, err := b.d.Replay(context.Background(), "0000000000000000"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Errorf("replay unknown: %v", err)
	}
	if got := tg.got(); len(got) != 2 || got[0].key != id || got[1].key != id {
		t.Errorf("keys %+v, want both %s", got, id)
	}
}

func TestDuplicateAlertIsNotDeliveredTwice(t *testing.T) {
	b := setup(t, nil)
	tg := newTarget(t, b.clock)
	conn := b.connection("hook", tg.URL)
	send := func() *hookline.AcceptedAlert {
		a := &hookline.AcceptedAlert{Source: "test", IdempotencyKey: "am:abc:firing",
			Alert:      hookline.Alert{Name: "dup", TriggerType: hookline.TriggerCritical},
			Deliveries: []*hookline.Delivery{{ConnectionID: conn, TriggerType: hookline.TriggerCritical}}}
		if err := b.d.Accept(context.Background(), []*hookline.AcceptedAlert{a}); err != nil {
			t.Fatal(err)
		}
		return a
	}
	first := send()
	b.waitState(first.Deliveries[0].ID, hookline.DeliveryDelivered, 1)
	second := send()
	if !second.Duplicate || second.ID != first.ID || second.Deliveries[0].ID != first.Deliveries[0].ID {
		t.Fatalf("second acceptance: %+v", second)
	}
	time.Sleep(30 * time.Millisecond)
	if n := len(tg.got()); n != 1 {
		t.Errorf("target received %d requests, want 1", n)
	}
}

func TestDeletedConnectionFails(t *testing.T) {
	b := setup(t, nil)
	tg := newTarget(t, b.clock)
	release := make(chan struct{})
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) { <-release })
	conn := b.connection("gone", tg.URL)
	if err := b.db.DeleteConnection(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	b.d.ConnectionChanged(conn)
	close(release)
	id := b.accept("a", hookline.TriggerCritical, conn).Deliveries[0].ID
	_, attempts := b.waitState(id, hookline.DeliveryFailed, 1)
	if attempts[0].Error != "the connection was deleted" {
		t.Errorf("error %q", attempts[0].Error)
	}
}

func TestStopRefusesNewAlerts(t *testing.T) {
	b := setup(t, nil)
	if err := b.d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := b.d.Accept(context.Background(), []*hookline.AcceptedAlert{{Alert: hookline.Alert{Name: "late", TriggerType: hookline.TriggerCritical}}})
	if hookline.ErrorCode(err) != hookline.EUNAVAILABLE {
		t.Errorf("Accept after Stop: %v", err)
	}
}

// TestRetryBeyondHorizonGoesThroughTheStore: a retry due later than the
// horizon is released to the store and claimed again by a poll.
func TestRetryBeyondHorizonGoesThroughTheStore(t *testing.T) {
	b := setup(t, func(c *dispatch.Config) { c.Horizon = time.Second })
	tg := newTarget(t, b.clock)
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	id := b.accept("a", hookline.TriggerCritical, b.connection("hook", tg.URL)).Deliveries[0].ID
	b.waitState(id, hookline.DeliveryPending, 1)
	if v := metricSum(t, b.reg, "hookline_deliveries_held"); v != 0 {
		t.Fatalf("held %v deliveries; a retry beyond the horizon must be left to the store", v)
	}
	b.clock.Advance(10 * time.Second) // due, and the poll that claims it
	b.waitState(id, hookline.DeliveryDelivered, 2)
}

// TestMemoryFullLeavesWorkInTheStore: with room for one delivery in
// memory, the rest are accepted into the store and claimed as room frees.
func TestMemoryFullLeavesWorkInTheStore(t *testing.T) {
	b := setup(t, func(c *dispatch.Config) { c.MaxHeld = 1 })
	tg := newTarget(t, b.clock)
	conn := b.connection("hook", tg.URL)
	var ids []string
	for i := range 5 {
		ids = append(ids, b.accept(fmt.Sprint(i), hookline.TriggerCritical, conn).Deliveries[0].ID)
	}
	for _, id := range ids {
		b.waitFor("delivery "+id, func() bool {
			d, _ := b.delivery(id)
			if d.State == hookline.DeliveryPending {
				b.clock.Advance(time.Second) // the next poll
			}
			return d.State == hookline.DeliveryDelivered
		})
	}
	if n := len(tg.got()); n != 5 {
		t.Errorf("target received %d requests, want 5", n)
	}
}

// flakyStore fails RecordAttempts while failing is set.
type flakyStore struct {
	*sqlite.DB
	mu      sync.Mutex
	failing bool
}

func (s *flakyStore) RecordAttempts(ctx context.Context, owner string, rs []hookline.AttemptResult) error {
	s.mu.Lock()
	failing := s.failing
	s.mu.Unlock()
	if failing {
		return fmt.Errorf("disk full")
	}
	return s.DB.RecordAttempts(ctx, owner, rs)
}

func (s *flakyStore) set(v bool) { s.mu.Lock(); s.failing = v; s.mu.Unlock() }

// TestStoreFailureHoldsBackAttempts: while results cannot be recorded,
// attempts stop once the result queue is full (so what a crash would
// repeat stays bounded), and nothing is dropped when the store recovers.
func TestStoreFailureHoldsBackAttempts(t *testing.T) {
	b := setup(t, nil)
	flaky := &flakyStore{DB: b.db, failing: true}
	b.restartOn(flaky, dispatch.Config{Workers: 2, ResultQueue: 4}, &notify.Sender{Registry: notify.NewRegistry(webhook.Kind{})})
	tg := newTarget(t, b.clock)
	conn := b.connection("hook", tg.URL)
	var ids []string
	for i := range 40 {
		ids = append(ids, b.accept(fmt.Sprint(i), hookline.TriggerCritical, conn).Deliveries[0].ID)
	}
	time.Sleep(200 * time.Millisecond)
	// Workers (2) + queued results (4) + one batch being retried (≤ 4) + the
	// attempts blocked on the full queue (2).
	if n := len(tg.got()); n > 12 {
		t.Fatalf("%d attempts made while no result could be recorded; want at most 12", n)
	}
	flaky.set(false)
	for _, id := range ids {
		b.waitState(id, hookline.DeliveryDelivered, 1)
	}
	if n := len(tg.got()); n != 40 {
		t.Errorf("target received %d requests, want 40 (none repeated, none dropped)", n)
	}
}

// TestStopAbandonsAttemptsInFlight: an attempt Stop cuts short does not
// use up the delivery's schedule; it stays pending, unattempted.
func TestStopAbandonsAttemptsInFlight(t *testing.T) {
	b := setup(t, func(c *dispatch.Config) {
		c.Retry = notify.RetryPolicy{Schedule: []time.Duration{}} // one attempt only: a counted attempt would be dead
	})
	tg := newTarget(t, b.clock)
	tg.setAnswer(func(n int, r *http.Request, w http.ResponseWriter) { io.ReadAll(r.Body); <-r.Context().Done() })
	id := b.accept("a", hookline.TriggerCritical, b.connection("hook", tg.URL)).Deliveries[0].ID
	b.waitFor("the attempt to start", func() bool { return len(tg.got()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := b.d.Stop(ctx); err == nil {
		t.Error("Stop returned nil with an attempt still in flight at its deadline")
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("Stop took %v past a 100 ms deadline", waited)
	}
	d, attempts := b.delivery(id)
	if d.State != hookline.DeliveryPending || len(attempts) != 0 {
		t.Errorf("after Stop: state %s with %d attempts, want pending with none", d.State, len(attempts))
	}
}

// leaseStore fails every lease renewal while failing is set, as a database
// out of reach would.
type leaseStore struct {
	*sqlite.DB
	mu      sync.Mutex
	failing bool
}

func (s *leaseStore) RenewOwner(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	failing := s.failing
	s.mu.Unlock()
	if failing {
		return false, errors.New("the database is out of reach")
	}
	return s.DB.RenewOwner(ctx, owner, ttl)
}

func (s *leaseStore) set(v bool) { s.mu.Lock(); s.failing = v; s.mu.Unlock() }

// TestLapsedLeasePausesAndDropsTakenWork: a dispatcher that cannot renew
// its lease stops attempting before the lease can lapse; once it lapsed,
// another replica claims a delivery it held; when renewals work again,
// that delivery is dropped here, never sent twice, and the rest is sent.
func TestLapsedLeasePausesAndDropsTakenWork(t *testing.T) {
	b := setup(t, nil)
	store := &leaseStore{DB: b.db}
	const lease = 900 * time.Millisecond // attempts pause 450 ms after a renewal
	metrics := prometheus.NewRegistry()
	b.restartOn(store, dispatch.Config{Lease: lease, Metrics: dispatch.NewMetrics(metrics, b.db.QueueStats)},
		&notify.Sender{Registry: notify.NewRegistry(webhook.Kind{}), Timeout: 500 * time.Millisecond})
	tg := newTarget(t, b.clock)
	conn := b.connection("hook", tg.URL)
	first := b.accept("first", hookline.TriggerCritical, conn).Deliveries[0].ID
	b.waitState(first, hookline.DeliveryDelivered, 1)

	store.set(true)
	time.Sleep(lease + 300*time.Millisecond) // past doubt, and past the lease
	taken := b.accept("taken", hookline.TriggerCritical, conn).Deliveries[0].ID
	time.Sleep(200 * time.Millisecond)
	if n := len(tg.got()); n != 1 {
		t.Fatalf("the target got %d requests while the lease was in doubt; want only the first", n)
	}
	if _, err := b.db.RenewOwner(t.Context(), "other-replica", time.Minute); err != nil {
		t.Fatal(err)
	}
	claimed, err := b.db.ClaimDue(t.Context(), "other-replica", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 1 || claimed[0].Delivery.ID != taken {
		t.Fatalf("the other replica claimed %d deliveries; want %s, held under the lapsed lease", len(claimed), taken)
	}
	kept := b.accept("kept", hookline.TriggerCritical, conn).Deliveries[0].ID

	store.set(false)
	b.waitState(kept, hookline.DeliveryDelivered, 1)
	b.waitFor("nothing held", func() bool { return metricSum(t, metrics, "hookline_deliveries_held") == 0 })
	for _, r := range tg.got() {
		if r.key == taken {
			t.Errorf("the delivery another replica took over was sent here too")
		}
	}
	if n := len(tg.got()); n != 2 {
		t.Errorf("the target got %d requests; want the first and the kept one", n)
	}
	if v := metricSum(t, metrics, "hookline_delivery_lease_lapses_total"); v != 1 {
		t.Errorf("lease lapses counted: %v; want 1", v)
	}
}
