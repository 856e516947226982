package monitor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/payload"
	"github.com/hookline/hookline/query"
)

// Defaults of a Scheduler's settings.
const (
	DefaultPoll         = 10 * time.Second
	DefaultWorkers      = 4
	DefaultQueryTimeout = time.Minute
	// DefaultLease outlasts a query's deadline, the accept and the save, so
	// that a lease expires only when its owner is gone or stuck.
	DefaultLease = 5 * time.Minute
	// brokenRetry is how long a monitor that no longer compiles waits
	// before it is tried again; an edit brings it forward
	// (MonitorStore.UpdateMonitor).
	brokenRetry = time.Hour
	// storeTimeout bounds a claim, an accept and a save.
	storeTimeout = 30 * time.Second
)

// Scheduler evaluates monitors every interval: it claims due monitors from
// the store under a lease, so that each is evaluated once per interval
// however many processes share the store, runs each one's query over its
// window, accepts the alerts of the events Evaluate raises and saves the
// new state.
//
// Window ends fall on multiples of the monitor's interval, so that an
// evaluation repeated after a crash or an expired lease reads the same
// window from the same state and raises the same idempotency keys: the
// store answers with the first acceptance instead of notifying twice. For
// the same reason alerts are accepted before the state is saved: a crash
// between the two repeats the evaluation rather than losing its alerts.
//
// Claimed monitors are evaluated concurrently, at most Workers at a time,
// each query under QueryTimeout, so a slow query holds up only its own
// monitor. A query that fails or times out is not an evaluation: the state
// is kept and the monitor is tried again at its next interval.
type Scheduler struct {
	Monitors hookline.MonitorStore
	Logs     hookline.LogStore
	// Accept stores alerts durably (dispatch.Dispatcher.Accept).
	Accept func(context.Context, []*hookline.AcceptedAlert) error

	Clock clock.Clock // nil: the real clock
	// Owner names this process in the monitors' leases; random when empty.
	Owner string
	// Poll is how often due monitors are claimed (DefaultPoll when zero).
	Poll time.Duration
	// Lease is how long a claimed monitor is held before another owner may
	// take it (DefaultLease when zero). Keep it above QueryTimeout.
	Lease time.Duration
	// Workers bounds the evaluations in flight (DefaultWorkers when zero).
	Workers int
	// QueryTimeout bounds one evaluation's query (DefaultQueryTimeout when
	// zero).
	QueryTimeout time.Duration
	Logger       *slog.Logger // nil: discard

	mu       sync.Mutex
	started  bool
	stopped  bool
	ctx      context.Context
	cancel   context.CancelFunc
	wake     chan struct{}
	timer    clock.Timer
	busy     int  // evaluations in flight
	more     bool // the last claim filled every free worker: more may be due
	loopDone chan struct{}
	evals    sync.WaitGroup
}

// Start fills in the defaults and starts claiming: at once, then every
// Poll, and whenever a worker frees up after a claim that filled them all.
// Stop ends it.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	if s.Clock == nil {
		s.Clock = clock.Real{}
	}
	if s.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b) // never fails (crypto/rand documents it)
		s.Owner = "monitors-" + hex.EncodeToString(b)
	}
	if s.Poll <= 0 {
		s.Poll = DefaultPoll
	}
	if s.Lease <= 0 {
		s.Lease = DefaultLease
	}
	if s.Workers <= 0 {
		s.Workers = DefaultWorkers
	}
	if s.QueryTimeout <= 0 {
		s.QueryTimeout = DefaultQueryTimeout
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wake = make(chan struct{}, 1)
	s.wake <- struct{}{}
	s.loopDone = make(chan struct{})
	s.timer = s.Clock.AfterFunc(s.Poll, s.tick)
	go s.loop()
}

// Stop stops claiming, cancels the queries in flight and waits up to ctx
// for the evaluations to end. An evaluation whose query was canceled
// releases its monitor, unchanged and due, for the next owner to take at
// once; one whose query had finished still accepts its alerts and saves.
// Stop it before the dispatcher whose Accept it calls.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() {
		<-s.loopDone
		s.evals.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop monitor scheduler: evaluations still running: %w", ctx.Err())
	}
}

func (s *Scheduler) loop() {
	defer close(s.loopDone)
	for {
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			return
		}
		s.claim()
	}
}

// tick wakes the loop every Poll. It re-arms itself rather than the loop
// arming it after each claim, so that the rhythm does not depend on how
// long claims take.
func (s *Scheduler) tick() {
	s.wakeUp()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.timer = s.Clock.AfterFunc(s.Poll, s.tick)
	}
}

// wakeUp asks the loop to claim now.
func (s *Scheduler) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// claim takes as many due monitors as there are free workers and starts
// evaluating each in its own goroutine.
func (s *Scheduler) claim() {
	s.mu.Lock()
	free := s.Workers - s.busy
	s.mu.Unlock()
	if free <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, storeTimeout)
	defer cancel()
	claimed, err := s.Monitors.ClaimDueMonitors(ctx, s.Owner, s.Clock.Now(), s.Lease, free)
	if err != nil {
		if s.ctx.Err() == nil {
			s.Logger.Error("claim due monitors", "err", err)
		}
		return
	}
	s.mu.Lock()
	s.busy += len(claimed)
	s.more = len(claimed) == free
	s.mu.Unlock()
	for _, c := range claimed {
		s.evals.Add(1)
		go func() {
			defer s.evals.Done()
			s.evaluate(c)
			s.mu.Lock()
			s.busy--
			more := s.more && !s.stopped
			s.mu.Unlock()
			if more {
				s.wakeUp()
			}
		}()
	}
}

// evaluate runs one claimed monitor's evaluation and saves its outcome,
// which releases the lease.
func (s *Scheduler) evaluate(c *hookline.ClaimedMonitor) {
	m, rec := c.Monitor, c.Record
	log := s.Logger.With("monitor_id", m.ID, "monitor", m.Name)
	now := s.Clock.Now()
	// keep saves the previous evaluation's state again with a new due
	// time: nothing was evaluated.
	keep := func(next time.Time) { s.save(log, m.ID, rec.WindowEnd, rec.State, next) }

	q, err := Compile(m)
	if err != nil {
		retry := now.Add(max(m.Interval, brokenRetry))
		log.Error("monitor does not compile; it is put off until it is edited", "err", err, "retry_at", retry)
		keep(retry)
		return
	}
	end := now.Truncate(m.Interval)
	next := end.Add(m.Interval)
	if !end.After(rec.WindowEnd) {
		// This window was evaluated already: the monitor came due again
		// within its interval (an edit, a clock behind another replica's).
		keep(next)
		return
	}
	var prev State
	if len(rec.State) > 0 {
		if err := json.Unmarshal(rec.State, &prev); err != nil {
			// Starting over beats never evaluating it again.
			log.Error("monitor state is not readable; starting from no active alerts", "err", err)
			prev = State{}
		}
	}
	w := WindowEnding(m, end)

	qctx, cancel := context.WithTimeout(s.ctx, s.QueryTimeout)
	start := time.Now()
	res, err := s.run(qctx, q, w)
	cancel()
	switch {
	case err != nil && s.ctx.Err() != nil:
		keep(rec.NextEvalAt) // stopping: due again for whoever runs next
		return
	case errors.Is(err, context.DeadlineExceeded):
		log.Warn("monitor query timed out; the state is kept and it is tried again next interval",
			"timeout", s.QueryTimeout, "window_end", end, "retry_at", next)
		keep(next)
		return
	case err != nil:
		log.Error("monitor query failed; the state is kept and it is tried again next interval",
			"err", err, "window_end", end, "retry_at", next)
		keep(next)
		return
	}
	if res.Truncated {
		log.Warn("monitor query reached its group limit; some groups were not counted", "uncounted", res.Uncounted)
	}

	state, events := Evaluate(m, res, w, prev)
	if len(events) > 0 {
		alerts := make([]*hookline.AcceptedAlert, len(events))
		for i, e := range events {
			alerts[i] = e.Accepted(m)
		}
		// Not canceled by Stop: an accept cut short may still be stored,
		// and the process that evaluates the window again may see a later
		// window, whose keys differ.
		actx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), storeTimeout)
		err := s.Accept(actx, alerts)
		cancel()
		if err != nil {
			// Evaluated again soon, from the same state: within the
			// interval that is the same window, with the same keys.
			retry := now.Add(s.Poll)
			if next.Before(retry) {
				retry = next
			}
			log.Error("accept monitor alerts; the state is kept", "err", err, "window_end", end, "retry_at", retry)
			keep(retry)
			return
		}
		for _, e := range events {
			log.Info("monitor alert", "trigger_type", e.TriggerType, "group", e.GroupKey, "muted", e.Muted, "window_end", end)
		}
	}
	body, err := json.Marshal(state)
	if err != nil {
		log.Error("encode monitor state", "err", err) // plain data: cannot happen
		keep(next)
		return
	}
	s.save(log, m.ID, end, body, next)
	log.Debug("evaluated monitor", "window_end", end, "scanned", res.Scanned, "matched", res.Matched,
		"events", len(events), "took", time.Since(start).Round(time.Millisecond))
}

// save stores an evaluation's outcome and releases the lease. It runs even
// while the scheduler stops, so that the monitor is not left leased.
func (s *Scheduler) save(log *slog.Logger, id string, windowEnd time.Time, state json.RawMessage, next time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), storeTimeout)
	defer cancel()
	err := s.Monitors.SaveEvaluation(ctx, s.Owner, id, windowEnd, state, next)
	switch {
	case err == nil:
	case hookline.ErrorCode(err) == hookline.ENOTFOUND:
		log.Debug("monitor deleted during its evaluation")
	case hookline.ErrorCode(err) == hookline.ECONFLICT:
		// Another owner took it after the lease expired; it evaluates the
		// same window, and the idempotency keys keep the alerts single.
		log.Warn("monitor evaluation outlived its lease; another owner has it", "err", err, "lease", s.Lease)
	default:
		log.Error("save monitor evaluation", "err", err)
	}
}

// run runs q over the window's records, newest first, with the query's
// _sourceCategory condition pushed down to the store.
func (s *Scheduler) run(ctx context.Context, q *query.Query, w Window) (*query.Result, error) {
	scan := hookline.LogScan{From: w.Start, To: w.End, Categories: q.Terms().Patterns("_sourceCategory")}
	next, stop := iter.Pull2(s.records(ctx, scan))
	defer stop()
	return q.RunWith(ctx, query.Options{MaxMessages: payload.MaxRawRows}, func() (query.Record, bool, error) {
		rec, err, ok := next()
		return rec, ok && err == nil, err
	})
}

var errStopScan = errors.New("stop scan")

// records reads the scan's records as query records; a failed scan yields
// its error last.
func (s *Scheduler) records(ctx context.Context, scan hookline.LogScan) iter.Seq2[query.Record, error] {
	return func(yield func(query.Record, error) bool) {
		// Run keeps no reference to a record's Fields once it asks for the
		// next, so one map serves every record.
		fields := make(map[string]string, 3)
		err := s.Logs.ScanLogs(ctx, scan, func(lr hookline.LogRecord) error {
			fields["_sourceCategory"], fields["_sourceHost"], fields["_sourceName"] = lr.Category, lr.Host, lr.Name
			if !yield(query.Record{Time: lr.Time, Message: lr.Message, Fields: fields}, nil) {
				return errStopScan
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			yield(query.Record{}, fmt.Errorf("scan logs: %w", err))
		}
	}
}
