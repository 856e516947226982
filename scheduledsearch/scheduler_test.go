package scheduledsearch_test

import (
	"bytes"
	"context"
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
	"github.com/hookline/hookline/scheduledsearch"
	"github.com/hookline/hookline/sqlite"
)

// ss0 is when the tests' searches are stored: their first 15-minute run is
// scheduled at 12:15.
var ss0 = time.Date(2026, 11, 26, 12, 5, 0, 0, time.UTC)

const poll = 10 * time.Second

// bundle is one test's database, clock and recording of accepted alerts.
type bundle struct {
	t     *testing.T
	db    *sqlite.DB
	clock *clock.Fake
	conn  string
	delay time.Duration // the schedulers' Delay, for settled

	mu       sync.Mutex
	accepted []*hookline.AcceptedAlert // new ones, not duplicates, in order
	keys     []string                  // every idempotency key accepted
}

func setup(t *testing.T, start time.Time) *bundle {
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
	b := &bundle{t: t, db: db, clock: clock.NewFake(start)}
	db.Now = b.clock.Now
	c := &hookline.Connection{
		Name: "hook", WebhookType: "Webhook", URL: "https://example.com/hook",
		DefaultPayload: `{"n": {{NumQueryResults}}}`, Settings: map[string]string{}, Secrets: map[string]string{},
	}
	if err := db.CreateConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	b.conn = c.ID
	return b
}

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
func (b *bundle) start(owner string, logs hookline.LogStore, mutate func(*scheduledsearch.Scheduler)) *scheduledsearch.Scheduler {
	b.t.Helper()
	if logs == nil {
		logs = b.db
	}
	s := &scheduledsearch.Scheduler{
		Searches: b.db, Logs: logs, Accept: b.accept, Clock: b.clock, Owner: owner,
		Poll: poll, Lease: 5 * time.Minute, Workers: 2, QueryTimeout: 10 * time.Second, Delay: b.delay,
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

// search stores a search, 15-minutely over 15 minutes alerting on any
// result unless mutate says otherwise, due at its schedule's first time.
func (b *bundle) search(name, q string, mutate func(*hookline.ScheduledSearch)) *hookline.ScheduledSearch {
	b.t.Helper()
	s := &hookline.ScheduledSearch{
		Name: name, Query: q, ScheduleType: hookline.Schedule15Minutes, TimeRange: 15 * time.Minute,
		Threshold:    &hookline.SearchThreshold{Operator: hookline.ThresholdGT, Count: 0},
		Notification: hookline.SearchNotification{ConnectionID: b.conn},
	}
	if mutate != nil {
		mutate(s)
	}
	if err := scheduledsearch.Validate(s); err != nil {
		b.t.Fatal(err)
	}
	next, err := scheduledsearch.Next(s, b.clock.Now())
	if err != nil {
		b.t.Fatal(err)
	}
	if err := b.db.CreateScheduledSearch(context.Background(), s, next); err != nil {
		b.t.Fatal(err)
	}
	return s
}

func (b *bundle) logs(category string, at time.Time, messages ...string) {
	b.t.Helper()
	records := make([]hookline.LogRecord, len(messages))
	for i, msg := range messages {
		records[i] = hookline.LogRecord{SourceID: "src", Time: at, ReceivedAt: b.clock.Now(), Category: category, Message: msg}
	}
	if err := b.db.AppendLogs(context.Background(), records); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bundle) state(id string) *hookline.SearchStateRecord {
	b.t.Helper()
	r, err := b.db.SearchState(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return r
}

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

// settled reports whether the search is not held and not due: every run
// due by now is done.
func (b *bundle) settled(id string) bool {
	r := b.state(id)
	return r.LeaseOwner == "" && r.NextRunAt.After(b.clock.Now().Add(-b.delay))
}

// advance moves the clock poll by poll, letting the searches settle after
// each step.
func (b *bundle) advance(d time.Duration, ids ...string) {
	b.t.Helper()
	for range d / poll {
		b.clock.Advance(poll)
		for _, id := range ids {
			b.waitFor("search "+id+" runs by "+b.clock.Now().Format(time.TimeOnly), func() bool { return b.settled(id) })
		}
	}
}

// scanLog records each scan's categories and time range; a scan of the
// category "slow" waits until release is closed or its context ends.
type scanLog struct {
	hookline.LogStore
	release chan struct{}

	mu    sync.Mutex
	scans []string // "category 15:04-15:04"
}

func (l *scanLog) ScanLogs(ctx context.Context, scan hookline.LogScan, fn func(hookline.LogRecord) error) error {
	l.mu.Lock()
	for _, c := range scan.Categories {
		l.scans = append(l.scans, c+" "+scan.From.Format("15:04")+"-"+scan.To.Format("15:04"))
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

func times(as []*hookline.AcceptedAlert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Alert.TriggerTime.Format("15:04"))
	}
	return out
}

// Each scheduled time runs once, over the range that ends there, Delay
// after it; a run whose condition is not met sends nothing, and a record
// that arrives late is counted when the delay waits for it.
func TestSchedulerRunsOncePerScheduledTime(t *testing.T) {
	for _, tc := range []struct {
		name       string
		delay      time.Duration
		wantAlerts []string // the alerts' trigger times
		wantRuns   []hookline.SearchRun
	}{
		{name: "no delay", wantAlerts: []string{"12:15", "12:45"}, wantRuns: []hookline.SearchRun{
			{ScheduledAt: ss0.Add(10 * time.Minute), Results: 1, Alerts: 1},
			{ScheduledAt: ss0.Add(25 * time.Minute), Results: 0},
			{ScheduledAt: ss0.Add(40 * time.Minute), Results: 2, Alerts: 1},
		}},
		{name: "2m delay counts the late record", delay: 2 * time.Minute, wantAlerts: []string{"12:15", "12:45"},
			wantRuns: []hookline.SearchRun{
				{ScheduledAt: ss0.Add(10 * time.Minute), Results: 2, Alerts: 1},
				{ScheduledAt: ss0.Add(25 * time.Minute), Results: 0},
				{ScheduledAt: ss0.Add(40 * time.Minute), Results: 2, Alerts: 1},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, ss0)
			b.delay = tc.delay
			logs := &scanLog{LogStore: b.db}
			s := b.search("errors", "_sourceCategory=app error", nil)
			b.logs("app", ss0.Add(5*time.Minute), "error: one")  // 12:10, for 12:15
			b.logs("app", ss0.Add(35*time.Minute), "error: two") // 12:40, for 12:45
			b.logs("app", ss0.Add(36*time.Minute), "error: three")
			b.logs("other", ss0.Add(6*time.Minute), "error: elsewhere")
			b.start("a", logs, nil)

			var runs []hookline.SearchRun
			last := time.Time{}
			for range 6 * 50 * time.Minute / (6 * poll) {
				b.advance(poll, s.ID)
				if b.clock.Now().Equal(ss0.Add(11 * time.Minute)) {
					// A record stamped 12:14:30 arrives at 12:16.
					b.logs("app", ss0.Add(9*time.Minute+30*time.Second), "error: late")
				}
				if r := b.state(s.ID).LastRun; !r.ScheduledAt.Equal(last) {
					runs = append(runs, r)
					last = r.ScheduledAt
				}
			}
			if fmt.Sprint(runs) != fmt.Sprint(tc.wantRuns) {
				t.Errorf("runs\n%+v\nwant\n%+v", runs, tc.wantRuns)
			}
			if got := times(b.alerts()); !slices.Equal(got, tc.wantAlerts) {
				t.Errorf("alerts at %q, want %q", got, tc.wantAlerts)
			}
			if want := []string{"app 12:00-12:15", "app 12:15-12:30", "app 12:30-12:45"}; !slices.Equal(logs.seen(), want) {
				t.Errorf("scans %q, want %q", logs.seen(), want)
			}
			if r := b.state(s.ID); !r.NextRunAt.Equal(ss0.Add(55 * time.Minute)) {
				t.Errorf("next run %s, want 13:00", r.NextRunAt)
			}
			a := b.alerts()[0]
			if a.Source != scheduledsearch.Source(s.ID) || len(a.Deliveries) != 1 || a.Deliveries[0].ConnectionID != b.conn ||
				a.Alert.Name != "errors" || !a.Alert.TriggerTimeStart.Equal(ss0.Add(-5*time.Minute)) {
				t.Errorf("first alert %+v, want the search's, to its connection, over 12:00 to 12:15", a)
			}
		})
	}
}

// An itemized search alerts once per result row, up to its maximum.
func TestSchedulerItemized(t *testing.T) {
	b := setup(t, ss0)
	s := b.search("talkers", `_sourceCategory=web | parse "from *" as ip | count by ip | sort by _count`, func(s *hookline.ScheduledSearch) {
		s.Notification = hookline.SearchNotification{ConnectionID: b.conn, ItemizeAlerts: true, MaxItemizedAlerts: 2,
			Payload: `{"ip": "{{ResultsJson.ip}}"}`}
	})
	for i, n := range []int{3, 2, 1} {
		for range n {
			b.logs("web", ss0.Add(time.Minute), fmt.Sprintf("GET / from 10.0.0.%d", i))
		}
	}
	b.start("a", nil, nil)
	b.advance(10*time.Minute, s.ID)
	got := b.alerts()
	var ips []any
	for _, a := range got {
		if len(a.Alert.Results) != 1 || a.Alert.NumQueryResults != 3 || a.Deliveries[0].Payload != s.Notification.Payload {
			t.Errorf("alert %+v, want one row of 3 results with the search's payload", a.Alert)
			continue
		}
		ips = append(ips, a.Alert.Results[0]["ip"])
	}
	if fmt.Sprint(ips) != "[10.0.0.0 10.0.0.1]" {
		t.Errorf("alerted rows %v, want the top two addresses", ips)
	}
	if r := b.state(s.ID).LastRun; r.Results != 3 || r.Alerts != 2 {
		t.Errorf("run %+v, want 3 results and 2 alerts", r)
	}
}

// Two schedulers on one database run each scheduled time of each search
// once between them.
func TestSchedulerOwnersShareTheWork(t *testing.T) {
	b := setup(t, ss0)
	logs := &scanLog{LogStore: b.db}
	var ids []string
	for i := range 5 {
		s := b.search(fmt.Sprintf("s%d", i), fmt.Sprintf("_sourceCategory=s%d", i), nil)
		ids = append(ids, s.ID)
	}
	one := func(s *scheduledsearch.Scheduler) { s.Workers = 1 }
	b.start("a", logs, one)
	b.start("b", logs, one)
	b.advance(40*time.Minute, ids...)
	var want []string
	for i := range ids {
		want = append(want, fmt.Sprintf("s%d 12:00-12:15", i), fmt.Sprintf("s%d 12:15-12:30", i), fmt.Sprintf("s%d 12:30-12:45", i))
	}
	got := logs.seen()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ranges run:\n%q\nwant each once:\n%q", got, want)
	}
}

// A query that hangs holds up its own search only; one that times out
// records the error, sends nothing and waits for the next time.
func TestSchedulerSlowQuery(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		wantSlow hookline.SearchRun // the slow search's last run by 12:35
		// wantScans are the slow search's scans by 12:35.
		wantScans []string
	}{
		{name: "hanging", timeout: 10 * time.Second, wantScans: []string{"slow 12:00-12:15"}},
		{name: "timed out", timeout: 20 * time.Millisecond,
			wantSlow:  hookline.SearchRun{ScheduledAt: ss0.Add(25 * time.Minute), Error: "the query timed out after 20ms"},
			wantScans: []string{"slow 12:00-12:15", "slow 12:15-12:30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, ss0)
			logs := &scanLog{LogStore: b.db, release: make(chan struct{})}
			slow := b.search("slow", "_sourceCategory=slow", nil)
			fast := b.search("fast", "_sourceCategory=fast", nil)
			b.logs("fast", ss0.Add(time.Minute), "hello")
			b.logs("fast", ss0.Add(20*time.Minute), "hello")
			// The fake clock outruns the real query: a lease that expired
			// meanwhile would hand the slow search out again.
			b.start("a", logs, func(s *scheduledsearch.Scheduler) { s.QueryTimeout, s.Lease = tc.timeout, time.Hour })
			ids := []string{fast.ID}
			if tc.wantSlow.Error != "" {
				ids = append(ids, slow.ID)
			}
			b.advance(30*time.Minute, ids...)
			if got := times(b.alerts()); !slices.Equal(got, []string{"12:15", "12:30"}) {
				t.Errorf("alerts at %q, want the fast search's at 12:15 and 12:30", got)
			}
			if r := b.state(slow.ID); r.LastRun != tc.wantSlow {
				t.Errorf("slow search's last run %+v, want %+v", r.LastRun, tc.wantSlow)
			}
			var scans []string
			for _, s := range logs.seen() {
				if strings.HasPrefix(s, "slow ") {
					scans = append(scans, s)
				}
			}
			if !slices.Equal(scans, tc.wantScans) {
				t.Errorf("slow search's scans %q, want %q", scans, tc.wantScans)
			}
			// Released, a hanging run ends the scheduled time it was
			// claimed for; 12:30 runs next.
			close(logs.release)
			b.waitFor("the slow search is released", func() bool {
				r := b.state(slow.ID)
				return r.LeaseOwner == "" || r.LastRun.ScheduledAt.Equal(ss0.Add(25*time.Minute))
			})
			b.advance(poll, slow.ID)
			if r := b.state(slow.ID); tc.wantSlow.Error == "" && !r.LastRun.ScheduledAt.Equal(ss0.Add(25*time.Minute)) {
				t.Errorf("slow search's last run %+v, want 12:30's", r.LastRun)
			}
			scans = nil
			for _, s := range logs.seen() {
				if strings.HasPrefix(s, "slow ") {
					scans = append(scans, s)
				}
			}
			if want := append(tc.wantScans, "slow 12:15-12:30")[:2]; !slices.Equal(scans, want) {
				t.Errorf("slow search's scans after the release %q, want %q", scans, want)
			}
		})
	}
}

// A daily search runs at midnight in its time zone.
func TestSchedulerTimeZone(t *testing.T) {
	start := time.Date(2026, 11, 26, 22, 50, 0, 0, time.UTC) // 23:50 in Berlin
	b := setup(t, start)
	logs := &scanLog{LogStore: b.db}
	s := b.search("daily", "_sourceCategory=app", func(s *hookline.ScheduledSearch) {
		s.ScheduleType, s.TimeZone, s.TimeRange, s.Threshold = hookline.Schedule1Day, "Europe/Berlin", 24*time.Hour, nil
	})
	b.start("a", logs, nil)
	b.advance(20*time.Minute, s.ID)
	midnight := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	r := b.state(s.ID)
	if !r.LastRun.ScheduledAt.Equal(midnight) || !r.NextRunAt.Equal(midnight.Add(24*time.Hour)) {
		t.Errorf("last run at %s, next at %s; want Berlin's midnights %s and a day later", r.LastRun.ScheduledAt, r.NextRunAt, midnight)
	}
	if want := []string{"app 23:00-23:00"}; !slices.Equal(logs.seen(), want) {
		t.Errorf("scans %q, want %q (a day to midnight)", logs.seen(), want)
	}
	got := b.alerts()
	if len(got) != 1 || !got[0].Alert.TriggerTime.Equal(midnight) || !got[0].Alert.TriggerTimeStart.Equal(midnight.Add(-24*time.Hour)) ||
		got[0].Alert.Location.String() != "Europe/Berlin" {
		t.Errorf("alerts %+v, want one at Berlin's midnight over the day before, shown in Berlin's time", got)
	}
}

// After a stop over several scheduled times only the latest due runs.
func TestSchedulerSkipsMissedTimes(t *testing.T) {
	b := setup(t, ss0)
	logs := &scanLog{LogStore: b.db}
	s := b.search("errors", "_sourceCategory=app", func(s *hookline.ScheduledSearch) { s.Threshold = nil })
	b.clock.Advance(time.Hour) // 13:05: 12:15, 12:30, 12:45 and 13:00 passed
	b.start("a", logs, nil)
	b.waitFor("the search runs", func() bool { return b.settled(s.ID) })
	if want := []string{"app 12:45-13:00"}; !slices.Equal(logs.seen(), want) {
		t.Errorf("scans %q, want only the latest, %q", logs.seen(), want)
	}
	if got := times(b.alerts()); !slices.Equal(got, []string{"13:00"}) {
		t.Errorf("alerts at %q, want 13:00 only", got)
	}
	if r := b.state(s.ID); !r.NextRunAt.Equal(ss0.Add(70 * time.Minute)) {
		t.Errorf("next run %s, want 13:15", r.NextRunAt)
	}
}

// A search whose query no longer compiles records why and waits for its
// next time; nothing is sent.
func TestSchedulerBrokenQuery(t *testing.T) {
	b := setup(t, ss0)
	// The store checks the search's own fields, not its query's syntax:
	// a search stored before a language change looks like this.
	s := &hookline.ScheduledSearch{Name: "broken", Query: "_sourceCategory=x | count by", ScheduleType: hookline.Schedule15Minutes,
		TimeRange: 15 * time.Minute, Notification: hookline.SearchNotification{ConnectionID: b.conn}}
	if err := b.db.CreateScheduledSearch(context.Background(), s, ss0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	b.start("a", nil, nil)
	b.advance(10*time.Minute, s.ID)
	r := b.state(s.ID)
	if !r.LastRun.ScheduledAt.Equal(ss0.Add(10*time.Minute)) || !strings.HasPrefix(r.LastRun.Error, "the search does not compile: query: line 1") ||
		!r.NextRunAt.Equal(ss0.Add(25*time.Minute)) {
		t.Errorf("after the run: %+v, want the 12:15 run's compile error and 12:30 next", r)
	}
	if got := b.alerts(); len(got) != 0 {
		t.Errorf("alerts %q, want none", times(got))
	}
}

// failSave is a store whose first save fails, as a crash between accepting
// a run's alerts and saving it would.
type failSave struct {
	*sqlite.DB
	mu     sync.Mutex
	failed bool
}

func (f *failSave) SaveSearchRun(ctx context.Context, owner, id string, run hookline.SearchRun, next time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failed {
		f.failed = true
		return errors.New("disk on fire")
	}
	return f.DB.SaveSearchRun(ctx, owner, id, run, next)
}

// A run that was not saved is repeated once its lease expires, for the
// same scheduled time and with the same keys: its alert is sent once.
func TestSchedulerRepeatsWithTheSameKeys(t *testing.T) {
	b := setup(t, ss0)
	s := b.search("errors", "_sourceCategory=app", nil)
	b.logs("app", ss0.Add(time.Minute), "error")
	store := &failSave{DB: b.db}
	b.start("a", nil, func(sc *scheduledsearch.Scheduler) {
		sc.Searches = store
		sc.Lease = 2 * poll
	})
	b.clock.Advance(10 * time.Minute)
	b.waitFor("the first run's accept", func() bool { return len(b.alerts()) == 1 })
	if r := b.state(s.ID); r.LeaseOwner != "a" || !r.LastRun.ScheduledAt.IsZero() {
		t.Fatalf("after the failed save: %+v, want held, unsaved", r)
	}
	b.clock.Advance(poll)
	b.clock.Advance(poll) // the lease expires; the search is claimed again
	b.waitFor("the repeated run", func() bool { return b.settled(s.ID) })
	if r := b.state(s.ID).LastRun; !r.ScheduledAt.Equal(ss0.Add(10*time.Minute)) || r.Alerts != 1 {
		t.Errorf("last run %+v, want 12:15's with its alert", r)
	}
	b.mu.Lock()
	keys := slices.Clone(b.keys)
	b.mu.Unlock()
	if len(keys) != 2 || keys[0] != keys[1] {
		t.Errorf("keys accepted %q, want the same key twice", keys)
	}
	if got := b.alerts(); len(got) != 1 {
		t.Errorf("stored alerts %q, want one", times(got))
	}
}

// Stop cancels a hanging query at once and hands its search back, due.
func TestSchedulerStop(t *testing.T) {
	b := setup(t, ss0)
	logs := &scanLog{LogStore: b.db, release: make(chan struct{})}
	s := b.search("slow", "_sourceCategory=slow", nil)
	sc := b.start("a", logs, func(s *scheduledsearch.Scheduler) { s.QueryTimeout = time.Minute })
	b.clock.Advance(10 * time.Minute)
	b.waitFor("the query starts", func() bool { return len(logs.seen()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r := b.state(s.ID)
	if r.LeaseOwner != "" || !r.NextRunAt.Equal(ss0.Add(10*time.Minute)) || !r.LastRun.ScheduledAt.IsZero() {
		t.Errorf("after Stop: %+v, want released, due at 12:15 as before, no run", r)
	}
	if err := sc.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}
