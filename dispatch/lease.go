package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/notify"
)

// The deliveries a dispatcher holds are leased to its owner in the store
// (hookline.DeliveryStore.RenewOwner): other replicas on the same database
// claim them only once the lease lapses, when this process has stopped
// renewing it. Renewals run on the real clock, whatever Config.Clock is,
// because the store's leases do.
//
// A process that cannot renew (it lost the database, or stalled) stops
// starting attempts once its lease might lapse before an attempt started
// then would end: from then on, another replica may take its deliveries
// and send them. When a renewal succeeds again, and finds that the lease
// did lapse, the held deliveries are checked against the store (HeldBy):
// those another process claimed meanwhile are dropped, the others are
// attempted as before. Only attempts already in flight when the lease
// lapsed can be made twice, and their repeats carry the same
// Idempotency-Key.

// doubtAfter is how long after a renewal began attempts may still start:
// the lease, less the longest an attempt may take (at most half the
// lease, so that doubt comes only after a renewal was missed).
func (d *Dispatcher) doubtAfter() time.Duration {
	attempt := d.sender.Timeout
	if attempt <= 0 {
		attempt = notify.DefaultTimeout
	}
	return d.cfg.Lease - min(attempt, d.cfg.Lease/2)
}

// renewLease extends the lease by Config.Lease. It runs on the lease loop
// (or in Start, before it), the only place recheck is used.
func (d *Dispatcher) renewLease(ctx context.Context, first bool) error {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Lease/3)
	defer cancel()
	renewed, err := d.store.RenewOwner(ctx, d.cfg.Owner, d.cfg.Lease)
	if err != nil {
		return fmt.Errorf("renew the lease on held deliveries: %w", err)
	}
	d.mu.Lock()
	if d.doubtTimer != nil {
		d.doubtTimer.Stop()
	}
	if !d.closed {
		d.doubtTimer = time.AfterFunc(d.doubtAfter()-time.Since(began), d.doubt)
	}
	d.mu.Unlock()
	if !renewed && !first {
		d.cfg.Metrics.leaseLapsed()
		d.log.Warn("the lease on held deliveries had lapsed; checking which of them other replicas took over",
			"owner", d.cfg.Owner, "lease", d.cfg.Lease)
		d.recheck = true
	}
	if d.recheck {
		if err := d.dropLost(ctx); err != nil {
			return err // still in doubt: the next renewal checks again
		}
		d.recheck = false
	}
	d.mu.Lock()
	if d.leaseInDoubt {
		d.leaseInDoubt = false
		d.log.Info("the lease on held deliveries is renewed; attempts go on", "owner", d.cfg.Owner)
		d.pump()
	}
	d.mu.Unlock()
	return nil
}

// doubt pauses attempts: the lease was not renewed in time.
func (d *Dispatcher) doubt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.leaseInDoubt {
		return
	}
	d.leaseInDoubt = true
	d.log.Warn("the lease on held deliveries was not renewed in time; attempts pause until it is, so that no other replica sends them as well",
		"owner", d.cfg.Owner, "lease", d.cfg.Lease)
}

// dropLost marks the held deliveries that the store no longer says this
// process holds: another claimed them while the lease had lapsed.
func (d *Dispatcher) dropLost(ctx context.Context) error {
	d.mu.Lock()
	ids := make([]string, 0, len(d.items))
	for id := range d.items {
		ids = append(ids, id)
	}
	d.mu.Unlock()
	held, err := d.store.HeldBy(ctx, d.cfg.Owner, ids)
	if err != nil {
		return fmt.Errorf("check held deliveries after a lapsed lease: %w", err)
	}
	still := make(map[string]bool, len(held))
	for _, id := range held {
		still[id] = true
	}
	lost := 0
	d.mu.Lock()
	for _, id := range ids {
		if it, ok := d.items[id]; ok && !still[id] {
			it.lost = true
			lost++
		}
	}
	d.mu.Unlock()
	if lost > 0 {
		d.log.Warn("deliveries other replicas took over while the lease had lapsed are dropped here", "count", lost)
	}
	return nil
}

// leaseLoop renews the lease every third of Config.Lease until Stop, so
// that a renewal that fails once, or is slow, does not let it lapse.
func (d *Dispatcher) leaseLoop() {
	defer d.loops.Done()
	tick := time.NewTicker(d.cfg.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-d.stopping:
			return
		}
		if err := d.renewLease(d.ctx, false); err != nil && d.ctx.Err() == nil {
			d.log.Error("renew lease", "owner", d.cfg.Owner, "err", err)
		}
	}
}

// releaseLease ends the lease once the dispatcher holds nothing more, so
// that other replicas claim what it left pending at once.
func (d *Dispatcher) releaseLease(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.store.ReleaseOwner(ctx, d.cfg.Owner); err != nil {
		return fmt.Errorf("release the lease on held deliveries: %w", err)
	}
	return nil
}
