// Package schedule owns what the alert sources that run on a schedule —
// monitors and scheduled searches — share: the claim-and-run loop (Loop),
// which takes due work from a store under leases and runs each item in its
// own goroutine under a bound on the items in flight, and running a query
// over a time range of stored logs (Query) with the result's rows as
// alerts carry them (Rows).
//
// What is due, what a lease means and what a run does are the callers':
// the loop only decides when to claim and how many.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline/clock"
)

// Defaults shared by the schedulers that run on a Loop.
const (
	DefaultPoll         = 10 * time.Second
	DefaultWorkers      = 4
	DefaultQueryTimeout = time.Minute
	// DefaultLease outlasts a query's deadline, the accept and the save, so
	// that a lease expires only when its owner is gone or stuck.
	DefaultLease = 5 * time.Minute
	// StoreTimeout bounds one claim, accept or save.
	StoreTimeout = 30 * time.Second
)

// Loop claims due items and runs them: at Start, then every Poll, and
// whenever a run ends after a claim that filled every free worker (more
// may be due). At most Workers runs are in flight; each claim asks for as
// many items as there are free workers, so a slow run holds up only its
// own worker.
type Loop[T any] struct {
	Clock   clock.Clock // nil: the real clock
	Poll    time.Duration
	Workers int
	// Claim takes up to limit due items at now. ctx ends when the loop
	// stops. A failed claim is logged and tried again at the next wake.
	Claim func(ctx context.Context, now time.Time, limit int) ([]T, error)
	// Run runs one claimed item. ctx is canceled by Stop: a run should
	// give up its query then, but still release what it claimed.
	Run    func(ctx context.Context, item T)
	Logger *slog.Logger // nil: discard

	mu       sync.Mutex
	started  bool
	stopped  bool
	ctx      context.Context
	cancel   context.CancelFunc
	wake     chan struct{}
	timer    clock.Timer
	busy     int  // runs in flight
	more     bool // the last claim filled every free worker: more may be due
	loopDone chan struct{}
	runs     sync.WaitGroup
}

// Start starts claiming; Poll and Workers must be positive, Claim and Run
// set. Stop ends it. A second Start does nothing.
func (l *Loop[T]) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return
	}
	if l.Poll <= 0 || l.Workers <= 0 || l.Claim == nil || l.Run == nil {
		panic("schedule: Loop started without Poll, Workers, Claim or Run")
	}
	l.started = true
	if l.Clock == nil {
		l.Clock = clock.Real{}
	}
	if l.Logger == nil {
		l.Logger = slog.New(slog.DiscardHandler)
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wake = make(chan struct{}, 1)
	l.wake <- struct{}{}
	l.loopDone = make(chan struct{})
	l.timer = l.Clock.AfterFunc(l.Poll, l.tick)
	go l.loop()
}

// Stop stops claiming, cancels the runs' context and waits up to ctx for
// the runs in flight to end. Stopping a loop not started, or stopped, does
// nothing.
func (l *Loop[T]) Stop(ctx context.Context) error {
	l.mu.Lock()
	if !l.started || l.stopped {
		l.mu.Unlock()
		return nil
	}
	l.stopped = true
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	l.cancel()
	done := make(chan struct{})
	go func() {
		<-l.loopDone
		l.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runs still in flight: %w", ctx.Err())
	}
}

func (l *Loop[T]) loop() {
	defer close(l.loopDone)
	for {
		select {
		case <-l.wake:
		case <-l.ctx.Done():
			return
		}
		l.claim()
	}
}

// tick wakes the loop every Poll. It re-arms itself rather than the loop
// arming it after each claim, so that the rhythm does not depend on how
// long claims take.
func (l *Loop[T]) tick() {
	l.wakeUp()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.timer = l.Clock.AfterFunc(l.Poll, l.tick)
	}
}

// wakeUp asks the loop to claim now.
func (l *Loop[T]) wakeUp() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// claim takes as many due items as there are free workers and runs each
// in its own goroutine.
func (l *Loop[T]) claim() {
	l.mu.Lock()
	free := l.Workers - l.busy
	l.mu.Unlock()
	if free <= 0 {
		return
	}
	items, err := l.Claim(l.ctx, l.Clock.Now(), free)
	if err != nil {
		if l.ctx.Err() == nil {
			l.Logger.Error("claim due work", "err", err)
		}
		return
	}
	l.mu.Lock()
	l.busy += len(items)
	l.more = len(items) == free
	l.mu.Unlock()
	for _, it := range items {
		l.runs.Add(1)
		go func() {
			defer l.runs.Done()
			l.Run(l.ctx, it)
			l.mu.Lock()
			l.busy--
			more := l.more && !l.stopped
			l.mu.Unlock()
			if more {
				l.wakeUp()
			}
		}()
	}
}
