package monitor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/payload"
	"github.com/hookline/hookline/schedule"
)

// Defaults of a Scheduler's settings.
const (
	DefaultPoll         = schedule.DefaultPoll
	DefaultWorkers      = schedule.DefaultWorkers
	DefaultQueryTimeout = schedule.DefaultQueryTimeout
	DefaultLease        = schedule.DefaultLease
	// brokenRetry is how long a monitor that no longer compiles waits
	// before it is tried again; an edit brings it forward
	// (MonitorStore.UpdateMonitor).
	brokenRetry = time.Hour
	// storeTimeout bounds a claim, an accept and a save.
	storeTimeout = schedule.StoreTimeout
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
// A window is evaluated Delay after it ends, so that records that arrive
// late (a JSON line's own "timestamp" a little in the past) are counted.
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
	// Delay is how long after a window ends it is evaluated: the window
	// ending at a multiple of the interval is read once now >= end+Delay.
	// Zero evaluates at once; replicas sharing a store should agree on it.
	Delay  time.Duration
	Logger *slog.Logger // nil: discard

	mu   sync.Mutex
	loop *schedule.Loop[*hookline.ClaimedMonitor]
}

// Start fills in the defaults and starts claiming: at once, then every
// Poll, and whenever a worker frees up after a claim that filled them all.
// Stop ends it.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loop != nil {
		return
	}
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
	if s.Delay < 0 {
		s.Delay = 0
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.loop = &schedule.Loop[*hookline.ClaimedMonitor]{
		Clock: s.Clock, Poll: s.Poll, Workers: s.Workers, Logger: s.Logger,
		Claim: func(ctx context.Context, now time.Time, limit int) ([]*hookline.ClaimedMonitor, error) {
			ctx, cancel := context.WithTimeout(ctx, storeTimeout)
			defer cancel()
			return s.Monitors.ClaimDueMonitors(ctx, s.Owner, now, s.Lease, limit)
		},
		Run: s.evaluate,
	}
	s.loop.Start()
}

// Stop stops claiming, cancels the queries in flight and waits up to ctx
// for the evaluations to end. An evaluation whose query was canceled
// releases its monitor, unchanged and due, for the next owner to take at
// once; one whose query had finished still accepts its alerts and saves.
// Stop it before the dispatcher whose Accept it calls.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	l := s.loop
	s.mu.Unlock()
	if l == nil {
		return nil
	}
	if err := l.Stop(ctx); err != nil {
		return fmt.Errorf("stop monitor scheduler: %w", err)
	}
	return nil
}

// evaluate runs one claimed monitor's evaluation and saves its outcome,
// which releases the lease.
// ctx ends when the scheduler stops.
func (s *Scheduler) evaluate(ctx context.Context, c *hookline.ClaimedMonitor) {
	m, rec := c.Monitor, c.Record
	log := s.Logger.With("monitor_id", m.ID, "monitor", m.Name)
	now := s.Clock.Now()
	// keep saves the previous evaluation's state again with a new due
	// time: nothing was evaluated.
	keep := func(next time.Time) { s.save(ctx, log, m.ID, rec.WindowEnd, rec.State, next) }

	q, err := Compile(m)
	if err != nil {
		retry := now.Add(max(m.Interval, brokenRetry))
		log.Error("monitor does not compile; it is put off until it is edited", "err", err, "retry_at", retry)
		keep(retry)
		return
	}
	end := now.Add(-s.Delay).Truncate(m.Interval)
	next := end.Add(m.Interval + s.Delay)
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

	qctx, cancel := context.WithTimeout(ctx, s.QueryTimeout)
	start := time.Now()
	res, err := schedule.Query(qctx, s.Logs, q, w.Start, w.End, payload.MaxRawRows)
	cancel()
	switch {
	case err != nil && ctx.Err() != nil:
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
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
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
	s.save(ctx, log, m.ID, end, body, next)
	log.Debug("evaluated monitor", "window_end", end, "scanned", res.Scanned, "matched", res.Matched,
		"events", len(events), "took", time.Since(start).Round(time.Millisecond))
}

// save stores an evaluation's outcome and releases the lease. It runs even
// while the scheduler stops, so that the monitor is not left leased.
func (s *Scheduler) save(ctx context.Context, log *slog.Logger, id string, windowEnd time.Time, state json.RawMessage, next time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
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
