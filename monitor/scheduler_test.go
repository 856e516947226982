package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/monitor"
	"github.com/hookline/hookline/sqlite"
)

// st0 is just after a minute boundary, so the first window ends at 12:00.
var st0 = time.Date(2026, 11, 26, 12, 0, 5, 0, time.UTC)

const poll = 10 * time.Second

// bundle is one test's database, clock and recording of accepted alerts.
type bundle struct {
	t     *testing.T
	db    *sqlite.DB
	clock *clock.Fake
	conn  string // a connection the monitors notify

	mu       sync.Mutex
	accepted []*hookline.AcceptedAlert // new ones, not duplicates, in order
	keys     []string                  // every idempotency key accepted, duplicates too
}

func setup(t *testing.T) *bundle {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{5}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bundle{t: t, db: db, clock: clock.NewFake(st0)}
	db.Now = b.clock.Now
	c := &hookline.Connection{
		Name: "lambda", WebhookType: "Webhook", URL: "https://example.com/hook",
		DefaultPayload: `{"type": "{{TriggerType}}"}`, Settings: map[string]string{}, Secrets: map[string]string{},
	}
	if err := db.CreateConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	b.conn = c.ID
	return b
}

// accept stores the alerts as the dispatcher does, and records the new
// ones: a repeated idempotency key comes back Duplicate.
func (b *bundle) accept(ctx context.Context, alerts []*hookline.AcceptedAlert) error {
	if err := b.db.AcceptAlerts(ctx, "test", alerts); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range alerts {
		b.keys = append(b.keys, a.IdempotencyKey)
		if !a.Duplicate {
			b.accepted = append(b.accepted, a)
		}
	}
	return nil
}

func (b *bundle) alerts() []*hookline.AcceptedAlert {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.accepted)
}

// start starts a scheduler on b's store and clock, stopped at cleanup.
func (b *bundle) start(owner string, logs hookline.LogStore, mutate func(*monitor.Scheduler)) *monitor.Scheduler {
	b.t.Helper()
	if logs == nil {
		logs = b.db
	}
	s := &monitor.Scheduler{
		Monitors: b.db, Logs: logs, Accept: b.accept, Clock: b.clock, Owner: owner,
		Poll: poll, Lease: 5 * time.Minute, Workers: 2, QueryTimeout: 10 * time.Second,
	}
	if mutate != nil {
		mutate(s)
	}
	s.Start()
	b.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			b.t.Error(err)
		}
	})
	return s
}

func (b *bundle) monitor(m *hookline.Monitor) *hookline.Monitor {
	b.t.Helper()
	if m.Interval == 0 {
		m.Interval = time.Minute
	}
	if m.Window == 0 {
		m.Window = m.Interval
	}
	if m.Triggers == nil {
		m.Triggers = []hookline.MonitorTrigger{{TriggerType: hookline.TriggerCritical, ThresholdType: hookline.ThresholdGT, Threshold: 0}}
	}
	if err := b.db.CreateMonitor(context.Background(), m); err != nil {
		b.t.Fatal(err)
	}
	return m
}

func (b *bundle) logs(category string, at time.Time, messages ...string) {
	b.t.Helper()
	records := make([]hookline.LogRecord, len(messages))
	for i, msg := range messages {
		records[i] = hookline.LogRecord{SourceID: "src", Time: at, ReceivedAt: at, Category: category, Message: msg}
	}
	if err := b.db.AppendLogs(context.Background(), records); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bundle) state(id string) *hookline.MonitorStateRecord {
	b.t.Helper()
	r, err := b.db.MonitorState(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

// waitFor waits until cond holds, or fails saying what.
func (b *bundle) waitFor(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settled reports whether the monitor is not held and not due: every
// evaluation due by now is done.
func (b *bundle) settled(id string) bool {
	r := b.state(id)
	return r.LeaseOwner == "" && r.NextEvalAt.After(b.clock.Now())
}

// advance moves the clock poll by poll, letting the monitors settle after
// each step.
func (b *bundle) advance(d time.Duration, ids ...string) {
	b.t.Helper()
	for range d / poll {
		b.clock.Advance(poll)
		for _, id := range ids {
			b.waitFor("monitor "+id+" is evaluated at "+b.clock.Now().Format(time.TimeOnly), func() bool { return b.settled(id) })
		}
	}
}

func triggerTypes(as []*hookline.AcceptedAlert) []hookline.TriggerType {
	var out []hookline.TriggerType
	for _, a := range as {
		out = append(out, a.Alert.TriggerType)
	}
	return out
}

// The example: many requests from one address raise one Critical
// alert for it, which stays quiet while the traffic goes on and recovers
// once when it stops.
func TestSchedulerSuspiciousIP(t *testing.T) {
	b := setup(t)
	m := b.monitor(&hookline.Monitor{
		Name:     "Suspicious IP",
		Query:    `_sourceCategory=prod/web | parse "from * " as ip | count by ip | sort by _count`,
		Interval: time.Minute, Window: 5 * time.Minute,
		Triggers: []hookline.MonitorTrigger{
			{TriggerType: hookline.TriggerCritical, Field: "_count", ThresholdType: hookline.ThresholdGT, Threshold: 100},
		},
		GroupFields: []string{"ip"},
		Notifications: []hookline.MonitorNotification{{
			ConnectionID:              b.conn,
			RunForTriggerTypes:        []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical},
			PayloadOverride:           `{"action": "block", "ip": "{{ResultsJson.ip}}"}`,
			ResolutionPayloadOverride: `{"action": "unblock", "ip": "{{ResultsJson.ip}}"}`,
		}},
	})
	burst := func(at time.Time, n int) {
		msgs := make([]string, n)
		for i := range msgs {
			msgs[i] = "GET /login from 203.0.113.7 status=401"
		}
		b.logs("prod/web", at, msgs...)
		b.logs("prod/web", at, "GET / from 198.51.100.23 status=200", "GET / from 198.51.100.23 status=200")
		b.logs("prod/db", at, "query from 203.0.113.7 ") // another category: not counted
	}
	// 150 requests in the minute before 12:00, and 60 a minute in the
	// three minutes after: above 100 in every window up to 12:05.
	burst(st0.Add(-50*time.Second), 150)
	for i := range 3 {
		burst(st0.Add(time.Duration(i)*time.Minute+10*time.Second), 60)
	}

	b.start("a", nil, nil)
	b.waitFor("the first evaluation", func() bool { return b.settled(m.ID) })
	end := st0.Truncate(time.Minute)
	if got := b.state(m.ID).WindowEnd; !got.Equal(end) {
		t.Fatalf("window end %s, want %s", got, end)
	}
	got := b.alerts()
	if !slices.Equal(triggerTypes(got), []hookline.TriggerType{hookline.TriggerCritical}) {
		t.Fatalf("after the first evaluation: %v, want one Critical", triggerTypes(got))
	}
	crit := got[0]
	if len(crit.Alert.Results) != 1 || crit.Alert.Results[0]["ip"] != "203.0.113.7" || crit.Alert.Results[0]["_count"] != int64(150) {
		t.Errorf("Critical's ResultsJson %v, want the one address with its 150 requests", crit.Alert.Results)
	}
	if len(crit.Deliveries) != 1 || crit.Deliveries[0].ConnectionID != b.conn || crit.Deliveries[0].Payload != m.Notifications[0].PayloadOverride {
		t.Errorf("Critical's deliveries %+v, want one to the connection with the payload override", crit.Deliveries)
	}
	if crit.Source != monitor.Source(m.ID) || !crit.Alert.TriggerTimeEnd.Equal(end) || !crit.Alert.TriggerTimeStart.Equal(end.Add(-5*time.Minute)) {
		t.Errorf("Critical: source %q, window %s to %s", crit.Source, crit.Alert.TriggerTimeStart, crit.Alert.TriggerTimeEnd)
	}

	// Four more evaluations over windows that still hold more than 100:
	// nothing new.
	b.advance(4*time.Minute, m.ID)
	if got := b.alerts(); len(got) != 1 {
		t.Fatalf("while the address stays above 100: %v, want only the first Critical", triggerTypes(got))
	}
	if got := b.state(m.ID).WindowEnd; !got.Equal(end.Add(4 * time.Minute)) {
		t.Fatalf("window end %s, want %s: one evaluation a minute", got, end.Add(4*time.Minute))
	}

	// The traffic stopped at 12:02: the window ending 12:06 holds 120,
	// the one ending 12:07 only 60.
	b.advance(3*time.Minute, m.ID)
	got = b.alerts()
	if !slices.Equal(triggerTypes(got), []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical}) {
		t.Fatalf("after the traffic stopped: %v, want Critical then ResolvedCritical", triggerTypes(got))
	}
	res := got[1]
	if !res.Alert.TriggerTimeEnd.Equal(end.Add(7*time.Minute)) || len(res.Alert.Results) != 1 || res.Alert.Results[0]["ip"] != "203.0.113.7" {
		t.Errorf("ResolvedCritical at %s with %v, want 12:07 with the address", res.Alert.TriggerTimeEnd, res.Alert.Results)
	}
	if len(res.Deliveries) != 1 || res.Deliveries[0].Payload != m.Notifications[0].ResolutionPayloadOverride {
		t.Errorf("ResolvedCritical's deliveries %+v, want one with the resolution override", res.Deliveries)
	}
	if a := b.state(m.ID); string(a.State) != `{}` {
		t.Errorf("state after recovery %s, want no active alert", a.State)
	}
}

// scanLog records each scan's categories and window end; a scan of the
// category "slow" waits until release is closed or its context ends.
type scanLog struct {
	hookline.LogStore
	release chan struct{}

	mu    sync.Mutex
	scans []string // "category@15:04"
}

func (l *scanLog) ScanLogs(ctx context.Context, scan hookline.LogScan, fn func(hookline.LogRecord) error) error {
	l.mu.Lock()
	for _, c := range scan.Categories {
		l.scans = append(l.scans, c+"@"+scan.To.Format("15:04"))
	}
	l.mu.Unlock()
	if slices.Contains(scan.Categories, "slow") {
		select {
		case <-l.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return l.LogStore.ScanLogs(ctx, scan, fn)
}

func (l *scanLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.scans)
}

// Two schedulers on one database evaluate each window of each monitor
// once between them.
func TestSchedulerOwnersShareTheWork(t *testing.T) {
	b := setup(t)
	logs := &scanLog{LogStore: b.db}
	var ids []string
	for i := range 5 {
		m := b.monitor(&hookline.Monitor{Name: fmt.Sprintf("m%d", i), Query: fmt.Sprintf("_sourceCategory=m%d", i)})
		ids = append(ids, m.ID)
	}
	one := func(s *monitor.Scheduler) { s.Workers = 1 }
	b.start("a", logs, one)
	b.start("b", logs, one)
	for _, id := range ids {
		b.waitFor("the first evaluations", func() bool { return b.settled(id) })
	}
	b.advance(3*time.Minute, ids...)

	var want []string
	for i := range ids {
		for _, end := range []string{"12:00", "12:01", "12:02", "12:03"} {
			want = append(want, fmt.Sprintf("m%d@%s", i, end))
		}
	}
	got := logs.seen()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("windows evaluated:\n%q\nwant each once:\n%q", got, want)
	}
}

// A query that hangs holds up its own monitor only.
func TestSchedulerSlowQuery(t *testing.T) {
	b := setup(t)
	logs := &scanLog{LogStore: b.db, release: make(chan struct{})}
	slow := b.monitor(&hookline.Monitor{Name: "slow", Query: "_sourceCategory=slow"})
	fast := b.monitor(&hookline.Monitor{Name: "fast", Query: "_sourceCategory=fast"})
	b.logs("fast", st0.Add(-30*time.Second), "hello")
	b.start("a", logs, nil)

	b.waitFor("the fast monitor is evaluated", func() bool { return b.settled(fast.ID) })
	b.advance(2*time.Minute, fast.ID)
	if got, want := b.state(fast.ID).WindowEnd, st0.Truncate(time.Minute).Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("fast monitor's window end %s, want %s", got, want)
	}
	if r := b.state(slow.ID); r.LeaseOwner != "a" || !r.WindowEnd.IsZero() {
		t.Fatalf("slow monitor: lease %q, window end %s; want still held by a, never evaluated", r.LeaseOwner, r.WindowEnd)
	}
	if got := b.alerts(); len(got) == 0 || got[0].Source != monitor.Source(fast.ID) {
		t.Errorf("alerts %v, want the fast monitor's", triggerTypes(got))
	}

	// Released, the slow query finishes the window it was claimed for.
	// A worker that frees up may take the monitor again at once for the
	// window due since, so only the scans tell which windows it read.
	close(logs.release)
	b.waitFor("the slow monitor is evaluated", func() bool {
		r := b.state(slow.ID)
		return !r.WindowEnd.IsZero() && r.LeaseOwner == ""
	})
	var scans []string
	for _, sc := range logs.seen() {
		if strings.HasPrefix(sc, "slow@") {
			scans = append(scans, sc)
		}
	}
	if len(scans) == 0 || scans[0] != "slow@12:00" || len(scans) > 2 || len(scans) == 2 && scans[1] != "slow@12:02" {
		t.Errorf("slow monitor's scans %q, want 12:00 (the window it was claimed for), then perhaps 12:02", scans)
	}
}

// A query that times out is not an evaluation: the state stays, and the
// monitor is tried again next interval.
func TestSchedulerQueryTimeout(t *testing.T) {
	b := setup(t)
	logs := &scanLog{LogStore: b.db, release: make(chan struct{})}
	m := b.monitor(&hookline.Monitor{Name: "slow", Query: "_sourceCategory=slow"})
	b.start("a", logs, func(s *monitor.Scheduler) { s.QueryTimeout = 20 * time.Millisecond })

	b.waitFor("the query times out", func() bool { return b.settled(m.ID) })
	r := b.state(m.ID)
	if !r.WindowEnd.IsZero() || r.State != nil || !r.NextEvalAt.Equal(st0.Truncate(time.Minute).Add(time.Minute)) {
		t.Errorf("after a timeout: window end %s, state %s, next %s; want nothing saved and due at 12:01",
			r.WindowEnd, r.State, r.NextEvalAt)
	}
	if got := b.alerts(); len(got) != 0 {
		t.Errorf("alerts %v, want none", triggerTypes(got))
	}
}

// A monitor whose query no longer parses is put off, not crashed on; the
// others go on.
func TestSchedulerBrokenMonitor(t *testing.T) {
	b := setup(t)
	broken := b.monitor(&hookline.Monitor{Name: "broken", Query: "_sourceCategory=x | count by"})
	ok := b.monitor(&hookline.Monitor{Name: "ok", Query: "_sourceCategory=ok"})
	b.start("a", nil, nil)
	for _, id := range []string{broken.ID, ok.ID} {
		b.waitFor("both are claimed and saved", func() bool { return b.settled(id) })
	}
	if r := b.state(broken.ID); !r.NextEvalAt.Equal(st0.Add(time.Hour)) || !r.WindowEnd.IsZero() {
		t.Errorf("broken monitor: next %s, window end %s; want put off an hour, unevaluated", r.NextEvalAt, r.WindowEnd)
	}
	if r := b.state(ok.ID); !r.WindowEnd.Equal(st0.Truncate(time.Minute)) {
		t.Errorf("the other monitor's window end %s, want 12:00", r.WindowEnd)
	}
}

// Stop cancels a hanging query at once and hands its monitor back, due.
func TestSchedulerStop(t *testing.T) {
	b := setup(t)
	logs := &scanLog{LogStore: b.db, release: make(chan struct{})}
	m := b.monitor(&hookline.Monitor{Name: "slow", Query: "_sourceCategory=slow"})
	s := b.start("a", logs, func(s *monitor.Scheduler) { s.QueryTimeout = time.Minute })
	b.waitFor("the query starts", func() bool { return len(logs.seen()) == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Stop took %s", took)
	}
	r := b.state(m.ID)
	if r.LeaseOwner != "" || !r.NextEvalAt.Equal(st0) || !r.WindowEnd.IsZero() {
		t.Errorf("after Stop: lease %q, next %s, window end %s; want released, due as before, unevaluated",
			r.LeaseOwner, r.NextEvalAt, r.WindowEnd)
	}
	if err := s.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	b.clock.Advance(time.Minute)
	if got := logs.seen(); len(got) != 1 {
		t.Errorf("scans after Stop: %q", got)
	}
}

// failSave is a store whose first save fails, as a crash between accepting
// an evaluation's alerts and saving its state would.
type failSave struct {
	*sqlite.DB
	mu     sync.Mutex
	failed bool
}

func (f *failSave) SaveEvaluation(ctx context.Context, owner, id string, windowEnd time.Time, state json.RawMessage, next time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failed {
		f.failed = true
		return errors.New("disk on fire")
	}
	return f.DB.SaveEvaluation(ctx, owner, id, windowEnd, state, next)
}

// An evaluation whose state was not saved is repeated once its lease
// expires, over the same window and with the same idempotency keys: the
// alert is stored, and sent, once.
func TestSchedulerRepeatsWithTheSameKeys(t *testing.T) {
	b := setup(t)
	m := b.monitor(&hookline.Monitor{Name: "errors", Query: "_sourceCategory=app error",
		Notifications: []hookline.MonitorNotification{{ConnectionID: b.conn, RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerCritical}}}})
	b.logs("app", st0.Add(-30*time.Second), "error: out of memory")
	store := &failSave{DB: b.db}
	b.start("a", nil, func(s *monitor.Scheduler) {
		s.Monitors = store
		s.Lease = 2 * poll
	})
	b.waitFor("the first evaluation's accept", func() bool { return len(b.alerts()) == 1 })
	if r := b.state(m.ID); r.LeaseOwner != "a" || !r.WindowEnd.IsZero() {
		t.Fatalf("after the failed save: lease %q, window end %s; want held, unsaved", r.LeaseOwner, r.WindowEnd)
	}
	b.clock.Advance(poll)
	b.clock.Advance(poll) // the lease expires; the monitor is claimed again
	b.waitFor("the repeated evaluation", func() bool { return b.settled(m.ID) })
	if r := b.state(m.ID); !r.WindowEnd.Equal(st0.Truncate(time.Minute)) {
		t.Errorf("window end %s, want 12:00 evaluated again", r.WindowEnd)
	}
	b.mu.Lock()
	keys := slices.Clone(b.keys)
	b.mu.Unlock()
	if len(keys) != 2 || keys[0] != keys[1] {
		t.Errorf("keys accepted %q, want the same key twice", keys)
	}
	if got := b.alerts(); len(got) != 1 || len(got[0].Deliveries) != 1 {
		t.Errorf("stored alerts %v, want one Critical with its delivery", triggerTypes(got))
	}
}

// A window is evaluated Delay after it ends, so a record that arrives late
// with its own earlier time is counted in the window it belongs to.
func TestSchedulerDelay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
		// wantEnds are the window ends evaluated by 12:00:05, 12:00:35 and
		// 12:01:35.
		wantEnds   []string
		wantAlerts []hookline.TriggerType
	}{
		{name: "none", delay: 0, wantEnds: []string{"12:00", "12:00", "12:01"}},
		{name: "30s", delay: 30 * time.Second, wantEnds: []string{"11:59", "12:00", "12:01"},
			wantAlerts: []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			m := b.monitor(&hookline.Monitor{Name: "late", Query: "_sourceCategory=app error"})
			b.start("a", nil, func(s *monitor.Scheduler) { s.Delay = tc.delay })
			b.waitFor("the first evaluation", func() bool { return b.settled(m.ID) })
			var ends []string
			ends = append(ends, b.state(m.ID).WindowEnd.Format("15:04"))

			// At 12:00:15 a record stamped 11:59:50 arrives.
			b.advance(poll, m.ID)
			b.logs("app", st0.Add(-15*time.Second), "error: late")
			b.advance(2*poll, m.ID)
			ends = append(ends, b.state(m.ID).WindowEnd.Format("15:04"))
			b.advance(6*poll, m.ID)
			ends = append(ends, b.state(m.ID).WindowEnd.Format("15:04"))

			if !slices.Equal(ends, tc.wantEnds) {
				t.Errorf("window ends evaluated %q, want %q", ends, tc.wantEnds)
			}
			if got := triggerTypes(b.alerts()); !slices.Equal(got, tc.wantAlerts) {
				t.Errorf("alerts %v, want %v", got, tc.wantAlerts)
			}
			if r := b.state(m.ID); !r.NextEvalAt.Equal(r.WindowEnd.Add(time.Minute + tc.delay)) {
				t.Errorf("next evaluation %s after window end %s, want a minute and the delay later", r.NextEvalAt, r.WindowEnd)
			}
		})
	}
}
