// Package dispatch delivers accepted alerts: it stores them durably before
// answering (committing many callers' alerts in one transaction), holds the
// deliveries due soon in memory, attempts them through notify.Sender under
// per-connection limits and circuit breakers, schedules retries, and
// records every attempt. The store is the truth: whatever is pending there
// and held by no running process is claimed again, so a crash loses
// nothing accepted. Any number of dispatchers may share one store: each
// holds its deliveries under a lease it renews (lease.go).
package dispatch

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
	"github.com/hookline/hookline/notify"
)

// Config tunes a Dispatcher. Zero values mean the defaults below.
type Config struct {
	// Owner marks the deliveries this process holds; random when empty. A
	// new start must use a new owner, so that what the last one held is
	// claimed again.
	Owner string

	Retry notify.RetryPolicy

	Workers       int // attempts in flight in all (512)
	PerConnection int // attempts in flight to one connection (32)

	MaxHeld              int           // deliveries held in memory (100,000)
	MaxHeldPerConnection int           // of them, for one connection (20,000)
	Horizon              time.Duration // retries due within it stay in memory (2 min)
	PollInterval         time.Duration // how often the store is asked for due work (1 s)
	ClaimBatch           int           // deliveries claimed per poll at most (2,000)
	// Lease is how long the deliveries this process holds stay its own
	// if it stops renewing (it renews every third of it): after a crash,
	// the other replicas wait this long before they take them over (30 s).
	Lease time.Duration

	BreakerThreshold   int           // consecutive retryable failures that pause a connection (5)
	BreakerCooldown    time.Duration // the first pause (30 s), doubled on each failed probe
	BreakerMaxCooldown time.Duration // the longest pause (10 min)

	ConnectionTTL time.Duration // how long a connection definition is reused (5 s)
	ResultQueue   int           // attempt results waiting to be recorded, at most (4,096)
	ResponseLimit int           // bytes of a target's answer kept in the log (1024)

	Clock   clock.Clock // nil: the real clock
	Logger  *slog.Logger
	Metrics *Metrics // nil: none
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		c.Owner = hex.EncodeToString(b)
	}
	if c.Retry.Schedule == nil && c.Retry.Jitter == 0 {
		c.Retry.Jitter = notify.DefaultJitter
	}
	def(&c.Workers, 512)
	def(&c.PerConnection, 32)
	def(&c.MaxHeld, 100_000)
	def(&c.MaxHeldPerConnection, 20_000)
	defDur(&c.Horizon, 2*time.Minute)
	defDur(&c.PollInterval, time.Second)
	def(&c.ClaimBatch, 2000)
	defDur(&c.Lease, 30*time.Second)
	def(&c.BreakerThreshold, 5)
	defDur(&c.BreakerCooldown, 30*time.Second)
	defDur(&c.BreakerMaxCooldown, 10*time.Minute)
	defDur(&c.ConnectionTTL, 5*time.Second)
	def(&c.ResponseLimit, 1024)
	def(&c.ResultQueue, 4096)
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Dispatcher runs deliveries. Create it with New, then Start; Stop ends it.
type Dispatcher struct {
	cfg    Config
	store  hookline.DeliveryStore
	conns  hookline.ConnectionStore
	sender *notify.Sender
	log    *slog.Logger

	accepts    chan *acceptRequest
	acceptDone chan struct{} // closed when the accept loop ends
	results    chan hookline.AttemptResult

	ctx    context.Context // canceled by Stop once work in flight is done
	cancel context.CancelFunc
	// giveUp ends the result loop's tries when Stop's deadline passes.
	giveUp       context.Context
	giveUpCancel context.CancelFunc
	loops        sync.WaitGroup // the accept, result and poll loops
	inflight     sync.WaitGroup // attempts being made
	stopping     chan struct{}  // closed when Stop begins
	stopOnce     sync.Once

	mu        sync.Mutex
	closed    bool                  // Stop began: start no attempt
	conn      map[string]*connState // by connection ID
	ready     []*connState          // connections with deliveries ready and room to run, round robin
	busy      int                   // attempts in flight
	pollTimer clock.Timer
	wakeCh    chan struct{} // the poll loop's, once it runs

	// items are the deliveries held in memory, by ID: how many there are,
	// and which to check after a lapsed lease (lease.go).
	items map[string]*item
	// leaseInDoubt pauses attempts and claims: the lease was not renewed
	// for so long that it may lapse before an attempt started now ends.
	leaseInDoubt bool
	doubtTimer   *time.Timer
	// recheck says the lease lapsed and the held deliveries were not yet
	// checked against the store; only the lease loop reads or writes it.
	recheck bool

	cache *connCache
	tmpls *templateCache
}

// item is a delivery held in memory, with the alert it carries.
type item struct {
	d     *hookline.Delivery
	alert *hookline.Alert
	// lost says another process claimed the delivery while this one's
	// lease had lapsed: it is dropped from memory, not attempted.
	lost bool
}

// New returns a dispatcher that stores through store, reads connections
// from conns and sends with sender.
func New(cfg Config, store hookline.DeliveryStore, conns hookline.ConnectionStore, sender *notify.Sender) *Dispatcher {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	giveUp, giveUpCancel := context.WithCancel(context.Background())
	return &Dispatcher{
		giveUp: giveUp, giveUpCancel: giveUpCancel,
		cfg: cfg, store: store, conns: conns, sender: sender, log: cfg.Logger,
		accepts:    make(chan *acceptRequest, 4096),
		acceptDone: make(chan struct{}),
		results:    make(chan hookline.AttemptResult, cfg.ResultQueue),
		ctx:        ctx,
		cancel:     cancel,
		stopping:   make(chan struct{}),
		conn:       map[string]*connState{},
		items:      map[string]*item{},
		cache:      newConnCache(conns, cfg.ConnectionTTL, cfg.Clock),
		tmpls:      newTemplateCache(),
	}
}

// Owner is the mark of the deliveries this dispatcher holds.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// Start takes the lease on the deliveries this dispatcher will hold and
// runs the loops; what was pending in the store and held by no live
// process is claimed on the first poll, at once. It fails, starting
// nothing, when the lease cannot be taken.
func (d *Dispatcher) Start(ctx context.Context) error {
	if err := d.renewLease(ctx, true); err != nil {
		return fmt.Errorf("start dispatcher: %w", err)
	}
	d.loops.Add(4)
	go d.acceptLoop()
	go d.resultLoop()
	go d.pollLoop()
	go d.leaseLoop()
	return nil
}

// Stop stops taking alerts, waits up to ctx for attempts in flight, stores
// their results, ends the loops and releases the lease. Deliveries held
// but not attempted stay pending in the store, for another replica to
// claim at once or for the next start.
func (d *Dispatcher) Stop(ctx context.Context) error {
	var err error
	d.stopOnce.Do(func() {
		close(d.stopping)
		d.mu.Lock()
		d.closed = true
		if d.pollTimer != nil {
			d.pollTimer.Stop()
		}
		if d.doubtTimer != nil {
			d.doubtTimer.Stop()
		}
		d.mu.Unlock()
		done := make(chan struct{})
		go func() { d.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = fmt.Errorf("stop dispatcher: attempts still in flight: %w", ctx.Err())
		}
		d.cancel() // ends the attempts still in flight
		<-done
		close(d.results) // every attempt has sent its result; the result loop drains them
		stopped := make(chan struct{})
		go func() {
			select {
			case <-ctx.Done():
				d.giveUpCancel()
			case <-stopped:
			}
		}()
		d.loops.Wait()
		close(stopped)
		d.giveUpCancel()
		err = errors.Join(err, d.releaseLease(ctx))
	})
	return err
}

var errStopping = hookline.Errorf(hookline.EUNAVAILABLE, "Hookline is shutting down and takes no alerts; try again shortly.")

// ConnectionChanged forgets the cached definition of a connection after
// it was updated or deleted, so the next attempt reads it anew.
func (d *Dispatcher) ConnectionChanged(id string) { d.cache.forget(id) }

// Replay makes a failed or dead delivery pending again, with the same ID
// and so the same Idempotency-Key, and attempts it at once.
func (d *Dispatcher) Replay(ctx context.Context, id string) (*hookline.Delivery, error) {
	select {
	case <-d.stopping:
		return nil, errStopping
	default:
	}
	cd, err := d.store.ReplayDelivery(ctx, d.cfg.Owner, id, d.cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	copied := *cd.Delivery
	d.mu.Lock()
	d.hold(&item{d: cd.Delivery, alert: cd.Alert})
	d.mu.Unlock()
	d.log.Info("delivery replayed", "delivery", id, "connection", copied.ConnectionID)
	return &copied, nil
}

// hold takes a delivery into memory: ready now, or on a timer. d.mu is held.
func (d *Dispatcher) hold(it *item) {
	d.items[it.d.ID] = it
	cs := d.connState(it.d.ConnectionID)
	cs.held++
	d.cfg.Metrics.held(len(d.items))
	if wait := it.d.NextAttemptAt.Sub(d.cfg.Clock.Now()); wait > 0 {
		d.cfg.Clock.AfterFunc(wait, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.enqueue(it)
		})
		return
	}
	d.enqueue(it)
}

// release forgets a held delivery, and the connection's state once it
// holds nothing and its breaker is closed. d.mu is held.
func (d *Dispatcher) release(cs *connState, it *item) {
	delete(d.items, it.d.ID)
	cs.held--
	d.cfg.Metrics.held(len(d.items))
	if cs.held == 0 && cs.inflight == 0 && len(cs.queue) == 0 && cs.openUntil.IsZero() && cs.failures == 0 && !cs.inReady {
		delete(d.conn, cs.id)
	}
}

func (d *Dispatcher) connState(id string) *connState {
	cs, ok := d.conn[id]
	if !ok {
		cs = &connState{id: id}
		d.conn[id] = cs
	}
	return cs
}
