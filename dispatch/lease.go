package dispatch

import (
	"context"
	"fmt"
	"time"
)

// The deliveries a dispatcher holds are leased to its owner in the store
// (hookline.DeliveryStore.RenewOwner): other replicas on the same database
// claim them only once the lease lapses, when this process has stopped
// renewing it. Renewals run on the real clock, whatever Config.Clock is,
// because the store's leases do.

// renewLease extends the lease by Config.Lease. A lease found lapsed means
// another replica may have claimed deliveries still held here, and may
// send them too: the repeats carry the same Idempotency-Key.
func (d *Dispatcher) renewLease(ctx context.Context, first bool) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Lease/3)
	defer cancel()
	renewed, err := d.store.RenewOwner(ctx, d.cfg.Owner, d.cfg.Lease)
	if err != nil {
		return fmt.Errorf("renew the lease on held deliveries: %w", err)
	}
	if !renewed && !first {
		d.cfg.Metrics.leaseLapsed()
		d.log.Warn("the lease on held deliveries had lapsed; other replicas may have claimed some of them, and their repeats carry the same Idempotency-Key",
			"owner", d.cfg.Owner, "lease", d.cfg.Lease)
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
