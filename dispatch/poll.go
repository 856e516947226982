package dispatch

import (
	"context"
	"time"
)

// pollLoop claims due deliveries from the store: at start (what a crashed
// or stopped process left), every PollInterval (retries that were left in
// the store, alerts accepted while memory was full), and when woken.
func (d *Dispatcher) pollLoop() {
	defer d.loops.Done()
	wake := make(chan struct{}, 1)
	d.mu.Lock()
	d.wakeCh = wake
	d.mu.Unlock()
	wake <- struct{}{}
	for {
		select {
		case <-wake:
		case <-d.stopping:
			return
		}
		more := d.poll()
		d.mu.Lock()
		if d.pollTimer != nil {
			d.pollTimer.Stop()
		}
		if !d.closed {
			delay := d.cfg.PollInterval
			if more {
				delay = 0
			}
			d.pollTimer = d.cfg.Clock.AfterFunc(delay, d.wakePoll)
		}
		d.mu.Unlock()
	}
}

// wakePoll asks the poll loop to look for work now.
func (d *Dispatcher) wakePoll() {
	d.mu.Lock()
	ch := d.wakeCh
	d.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// poll claims what fits in memory; it reports whether more may be waiting.
func (d *Dispatcher) poll() (more bool) {
	d.mu.Lock()
	if d.leaseInDoubt {
		d.mu.Unlock()
		return false // claimed now, it could not be attempted
	}
	room := min(d.cfg.MaxHeld-len(d.items), d.cfg.ClaimBatch)
	var skip []string
	for id, cs := range d.conn {
		if cs.held >= d.cfg.MaxHeldPerConnection {
			skip = append(skip, id)
		}
	}
	d.mu.Unlock()
	if room <= 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
	defer cancel()
	claimed, err := d.store.ClaimDue(ctx, d.cfg.Owner, d.cfg.Clock.Now().Add(d.cfg.Horizon), room, skip)
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Error("claim due deliveries", "err", err)
		}
		return false
	}
	if len(claimed) == 0 {
		return false
	}
	d.mu.Lock()
	for _, c := range claimed {
		d.hold(&item{d: c.Delivery, alert: c.Alert})
	}
	d.mu.Unlock()
	d.log.Debug("claimed due deliveries", "count", len(claimed))
	return len(claimed) == room
}
