package scheduledsearch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/cron"
	"github.com/hookline/hookline/schedule"
)

// Defaults of a Scheduler's settings: those of monitors.
const (
	DefaultPoll         = schedule.DefaultPoll
	DefaultWorkers      = schedule.DefaultWorkers
	DefaultQueryTimeout = schedule.DefaultQueryTimeout
	DefaultLease        = schedule.DefaultLease
	// brokenRetry is how long a search whose schedule cannot be read
	// waits before it is tried again; an edit sets a new next run.
	brokenRetry = time.Hour
	// maxCatchUp bounds the missed scheduled times counted one by one
	// after a long stop, before the catch-up jumps to the latest.
	maxCatchUp = 10_000
)

// Scheduler runs scheduled searches on their schedules: it claims due
// searches from the store under a lease, so that each scheduled time is
// run once however many processes share the store, runs each query over
// the time range that ends at the scheduled time, accepts the alerts the
// result makes (Alerts) and saves the run with the next scheduled time.
//
// A run scheduled at T reads [T-TimeRange, T) and happens at T+Delay, so
// that records that arrive late are counted. After a stop that spanned
// several scheduled times only the latest one due is run: the others are
// skipped, and logged, as the reference does not catch up either.
//
// Alerts are accepted before the run is saved, with idempotency keys that
// name the search and scheduled time: a run repeated after a crash or an
// expired lease reads the same range and is answered with the first
// acceptance instead of notifying twice. A query that fails or times out
// sends nothing; its run is saved with the error and the search waits for
// its next scheduled time, as does a search whose query no longer
// compiles.
type Scheduler struct {
	Searches hookline.ScheduledSearchStore
	Logs     hookline.LogStore
	// Accept stores alerts durably (dispatch.Dispatcher.Accept).
	Accept func(context.Context, []*hookline.AcceptedAlert) error

	Clock clock.Clock // nil: the real clock
	// Owner names this process in the searches' leases; random when empty.
	Owner string
	// Poll is how often due searches are claimed (DefaultPoll when zero).
	Poll time.Duration
	// Lease is how long a claimed search is held before another owner may
	// take it (DefaultLease when zero). Keep it above QueryTimeout.
	Lease time.Duration
	// QueryTimeout bounds one run's query (DefaultQueryTimeout when zero).
	QueryTimeout time.Duration
	// Delay is how long after its scheduled time a run happens. Replicas
	// sharing a store should agree on it.
	Delay time.Duration
	// Workers bounds the runs in flight (DefaultWorkers when zero).
	Workers int
	Logger  *slog.Logger // nil: discard

	mu   sync.Mutex
	loop *schedule.Loop[*hookline.ClaimedSearch]
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
		s.Owner = "searches-" + hex.EncodeToString(b)
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
	s.loop = &schedule.Loop[*hookline.ClaimedSearch]{
		Clock: s.Clock, Poll: s.Poll, Workers: s.Workers, Logger: s.Logger,
		Claim: s.claim, Run: s.run,
	}
	s.loop.Start()
}

// Stop stops claiming, cancels the queries in flight and waits up to ctx
// for the runs to end. A run whose query was canceled releases its search,
// due as it was, for the next owner; one whose query had finished still
// accepts its alerts and saves. Stop it before the dispatcher whose Accept
// it calls.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	l := s.loop
	s.mu.Unlock()
	if l == nil {
		return nil
	}
	if err := l.Stop(ctx); err != nil {
		return fmt.Errorf("stop search scheduler: %w", err)
	}
	return nil
}

// claim takes the searches whose scheduled time is Delay or more ago. The
// store compares NextRunAt (a scheduled time) and leases with the now it
// is given, so every owner gives it now-Delay: a lease then lasts Lease of
// real time, as long as the owners agree on Delay.
func (s *Scheduler) claim(ctx context.Context, now time.Time, limit int) ([]*hookline.ClaimedSearch, error) {
	ctx, cancel := context.WithTimeout(ctx, schedule.StoreTimeout)
	defer cancel()
	return s.Searches.ClaimDueSearches(ctx, s.Owner, now.Add(-s.Delay), s.Lease, limit)
}

// run runs one claimed search and saves its run, which releases the
// lease. ctx ends when the scheduler stops.
func (s *Scheduler) run(ctx context.Context, c *hookline.ClaimedSearch) {
	ss, rec := c.Search, c.Record
	log := s.Logger.With("search_id", ss.ID, "search", ss.Name)
	due := s.Clock.Now().Add(-s.Delay) // the latest scheduled time that may run now

	sched, loc, err := parseSchedule(ss)
	if err != nil {
		retry := due.Add(brokenRetry)
		log.Error("scheduled search's schedule is not readable; it is put off until it is edited", "err", err, "retry_at", retry)
		s.save(ctx, log, ss.ID, hookline.SearchRun{ScheduledAt: rec.NextRunAt, Error: "the schedule is not readable: " + err.Error()}, retry)
		return
	}
	nextAfter := func(t time.Time) time.Time {
		n := sched.Next(t.In(loc)).UTC()
		if n.IsZero() {
			n = due.Add(brokenRetry)
			log.Error("scheduled search's schedule does not fire within five years", "retry_at", n)
		}
		return n
	}
	at := rec.NextRunAt
	switch {
	case at.IsZero(): // not scheduled: cannot happen for a search the store let us claim
		s.save(ctx, log, ss.ID, hookline.SearchRun{}, nextAfter(due))
		return
	case !at.After(rec.LastRun.ScheduledAt):
		// This time was run already (a clock behind another replica's).
		s.save(ctx, log, ss.ID, hookline.SearchRun{}, nextAfter(rec.LastRun.ScheduledAt))
		return
	}
	at, skipped := latest(sched, loc, at, due)
	if skipped != 0 {
		log.Warn("scheduled search missed scheduled times while no one ran it; only the latest is run",
			"skipped", skipped, "scheduled_at", at) // -1: more than maxCatchUp
	}
	run := hookline.SearchRun{ScheduledAt: at}
	next := nextAfter(at)

	q, err := compile(ss)
	if err != nil {
		log.Error("scheduled search does not compile", "err", err, "scheduled_at", at)
		run.Error = "the search does not compile: " + err.Error()
		s.save(ctx, log, ss.ID, run, next)
		return
	}
	qctx, cancel := context.WithTimeout(ctx, s.QueryTimeout)
	start := time.Now()
	res, err := schedule.Query(qctx, s.Logs, q, at.Add(-ss.TimeRange), at, hookline.MaxSearchResults)
	cancel()
	switch {
	case err != nil && ctx.Err() != nil:
		s.save(ctx, log, ss.ID, hookline.SearchRun{}, rec.NextRunAt) // stopping: due again for whoever runs next
		return
	case errors.Is(err, context.DeadlineExceeded):
		log.Warn("scheduled search's query timed out; nothing is sent", "timeout", s.QueryTimeout, "scheduled_at", at, "next_run_at", next)
		run.Error = fmt.Sprintf("the query timed out after %s", s.QueryTimeout)
		s.save(ctx, log, ss.ID, run, next)
		return
	case err != nil:
		log.Error("scheduled search's query failed; nothing is sent", "err", err, "scheduled_at", at, "next_run_at", next)
		run.Error = "the query failed: " + err.Error()
		s.save(ctx, log, ss.ID, run, next)
		return
	}
	if res.Truncated {
		log.Warn("scheduled search reached its group limit; some groups were not counted", "uncounted", res.Uncounted)
	}
	run.Results = schedule.Count(res)
	alerts := Alerts(ss, res, at)
	if len(alerts) > 0 {
		// Not canceled by Stop: an accept cut short may still be stored.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), schedule.StoreTimeout)
		err := s.Accept(actx, alerts)
		cancel()
		if err != nil {
			// Due again at once for the same scheduled time, whose keys
			// are the same: the next claim tries again.
			log.Error("accept scheduled search alerts; the run is tried again", "err", err, "scheduled_at", at)
			s.save(ctx, log, ss.ID, hookline.SearchRun{}, at)
			return
		}
		run.Alerts = len(alerts)
		log.Info("scheduled search alerted", "scheduled_at", at, "results", run.Results, "alerts", run.Alerts)
	}
	s.save(ctx, log, ss.ID, run, next)
	log.Debug("ran scheduled search", "scheduled_at", at, "scanned", res.Scanned, "results", run.Results,
		"took", time.Since(start).Round(time.Millisecond))
}

// save stores a run and the next scheduled time and releases the lease.
// It runs even while the scheduler stops, so that the search is not left
// leased.
func (s *Scheduler) save(ctx context.Context, log *slog.Logger, id string, run hookline.SearchRun, next time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), schedule.StoreTimeout)
	defer cancel()
	err := s.Searches.SaveSearchRun(ctx, s.Owner, id, run, next)
	switch {
	case err == nil:
	case hookline.ErrorCode(err) == hookline.ENOTFOUND:
		log.Debug("scheduled search deleted during its run")
	case hookline.ErrorCode(err) == hookline.ECONFLICT:
		// Another owner took it after the lease expired; it runs the same
		// scheduled time, and the idempotency keys keep the alerts single.
		log.Warn("scheduled search run outlived its lease; another owner has it", "err", err, "lease", s.Lease)
	default:
		log.Error("save scheduled search run", "err", err)
	}
}

// latest returns the last scheduled time at or before until, starting
// from at (which is), and how many scheduled times it passed over: -1 when
// more than maxCatchUp, which are not counted one by one.
func latest(sched *cron.Schedule, loc *time.Location, at, until time.Time) (time.Time, int) {
	next := func(t time.Time) time.Time { return sched.Next(t.In(loc)).UTC() }
	skipped := 0
	for {
		n := next(at)
		if n.IsZero() || n.After(until) {
			return at, skipped
		}
		at = n
		if skipped++; skipped < maxCatchUp {
			continue
		}
		// Far behind: find a scheduled time close before until by looking
		// back ever further, then step forward from it.
		for back := time.Minute; back < 10*365*24*time.Hour; back *= 2 {
			if c := next(until.Add(-back)); !c.IsZero() && !c.After(until) && c.After(at) {
				at = c
				break
			}
		}
		for n := next(at); !n.IsZero() && !n.After(until); n = next(at) {
			at = n
		}
		return at, -1
	}
}
