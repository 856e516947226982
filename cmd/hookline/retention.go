package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/clock"
)

// Log retention: hookline serve deletes log records older than
// --log-retention, by their time, at start and every few minutes after.

// DefaultLogRetention is how long log records are kept unless
// --log-retention says otherwise.
const DefaultLogRetention = 7 * 24 * time.Hour

// DefaultPruneInterval is how often records past the retention are
// deleted: often enough that the table does not grow far past it, rarely
// enough that the deletions come in sizeable batches.
const DefaultPruneInterval = 5 * time.Minute

// logPruner is what the pruner needs of the store.
type logPruner interface {
	PruneLogs(ctx context.Context, before time.Time) (int64, error)
}

// pruner deletes records older than Retention, once at Start and then
// every Interval, until Stop. Each round runs on the clock's timer in its
// own goroutine; Stop cancels a round in progress and waits for it.
type pruner struct {
	store     logPruner
	retention time.Duration
	interval  time.Duration
	clock     clock.Clock
	logger    *slog.Logger

	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	timer   clock.Timer
	stopped bool
	running sync.WaitGroup
}

func newPruner(store logPruner, retention, interval time.Duration, clk clock.Clock, logger *slog.Logger) *pruner {
	if interval <= 0 {
		interval = DefaultPruneInterval
	}
	if clk == nil {
		clk = clock.Real{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &pruner{store: store, retention: retention, interval: interval, clock: clk, logger: logger, ctx: ctx, cancel: cancel}
}

// Start schedules the first round at once.
func (p *pruner) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = p.clock.AfterFunc(0, p.round)
}

// Stop ends the rounds: none starts after it returns, and one in progress
// is canceled and waited for.
func (p *pruner) Stop() {
	p.mu.Lock()
	p.stopped = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	p.cancel()
	p.running.Wait()
}

func (p *pruner) round() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.running.Add(1)
	p.mu.Unlock()
	defer p.running.Done()

	p.pruneOnce(p.ctx)

	p.mu.Lock()
	if !p.stopped {
		p.timer = p.clock.AfterFunc(p.interval, p.round)
	}
	p.mu.Unlock()
}

// pruneOnce deletes what is past the retention now and logs what it did.
func (p *pruner) pruneOnce(ctx context.Context) {
	start := time.Now()
	cut := p.clock.Now().Add(-p.retention)
	n, err := p.store.PruneLogs(ctx, cut)
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		p.logger.Info("log pruning stopped by shutdown", "deleted", n)
	case err != nil:
		// The next round tries again; what is left is only kept longer.
		p.logger.Error("prune log records", "err", err, "deleted", n, "before", cut)
	case n > 0:
		p.logger.Info("pruned log records", "deleted", n, "before", cut.UTC().Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond))
	default:
		p.logger.Debug("no log records to prune", "before", cut.UTC().Format(time.RFC3339))
	}
}

// parseRetention reads a retention: a Go duration ("36h", "90m"), days
// ("7d"), days and a duration ("1d12h"), or "0" to keep records forever.
func parseRetention(in string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a retention: write days as 7d, a duration such as 36h, or 0 to keep logs forever", in)
	s := strings.TrimSpace(in)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, bad
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return days + d, nil
}

// formatRetention writes a retention as parseRetention reads it, in days
// when it is whole days.
func formatRetention(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d == 0:
		return "0"
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	case d > day:
		return fmt.Sprintf("%dd%s", d/day, d%day)
	}
	return d.String()
}

// retentionFlag is --log-retention: a pflag.Value over a duration.
type retentionFlag struct{ d *time.Duration }

func (f retentionFlag) String() string { return formatRetention(*f.d) }
func (f retentionFlag) Type() string   { return "retention" }
func (f retentionFlag) Set(s string) error {
	d, err := parseRetention(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}
