package dispatch

import (
	"context"
	"time"

	"github.com/hookline/hookline"
)

// acceptRequest is one Accept call waiting for its group commit.
type acceptRequest struct {
	alerts []*hookline.AcceptedAlert
	done   chan error
}

// maxCommit bounds how many alerts one transaction stores.
const maxCommit = 2000

// Accept stores alerts and their deliveries durably and returns once they
// are committed, with IDs filled in. Deliveries are attempted afterwards.
// Alerts already accepted under the same idempotency key come back marked
// Duplicate and are not delivered again.
//
// Many concurrent calls share one transaction: a caller waits at most for
// the commit in progress and its own. If ctx ends while waiting, the alerts
// may still be stored; sending them again with an idempotency key is safe.
func (d *Dispatcher) Accept(ctx context.Context, alerts []*hookline.AcceptedAlert) error {
	now := d.cfg.Clock.Now()
	for _, a := range alerts {
		if a.ReceivedAt.IsZero() {
			a.ReceivedAt = now
		}
		for _, dl := range a.Deliveries {
			dl.State = hookline.DeliveryPending
			dl.NextAttemptAt = a.ReceivedAt
		}
	}
	if d.stoppingNow() {
		return errStopping
	}
	r := &acceptRequest{alerts: alerts, done: make(chan error, 1)}
	select {
	case d.accepts <- r:
	case <-d.stopping:
		return errStopping
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-d.acceptDone:
		// The loop ended; it answered what it took, so r was not taken.
		select {
		case err := <-r.done:
			return err
		default:
			return errStopping
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acceptLoop commits waiting Accept calls together: whatever arrived
// during one commit goes into the next.
func (d *Dispatcher) acceptLoop() {
	defer d.loops.Done()
	defer close(d.acceptDone)
	for {
		select {
		case r := <-d.accepts:
			batch := []*acceptRequest{r}
			n := len(r.alerts)
		drain:
			for n < maxCommit {
				select {
				case r := <-d.accepts:
					batch = append(batch, r)
					n += len(r.alerts)
				default:
					break drain
				}
			}
			d.commit(batch)
		case <-d.stopping:
			for {
				select {
				case r := <-d.accepts:
					r.done <- errStopping
				default:
					return
				}
			}
		}
	}
}

func (d *Dispatcher) commit(batch []*acceptRequest) {
	var alerts []*hookline.AcceptedAlert
	perConn := map[string]int{}
	deliveries := 0
	for _, r := range batch {
		alerts = append(alerts, r.alerts...)
		for _, a := range r.alerts {
			for _, dl := range a.Deliveries {
				perConn[dl.ConnectionID]++
				deliveries++
			}
		}
	}
	// Hold the batch in memory when there is room; otherwise leave it in
	// the store for the poller, which claims it as room frees up.
	d.mu.Lock()
	owner := d.cfg.Owner
	if len(d.items)+deliveries > d.cfg.MaxHeld {
		owner = ""
	}
	for id, n := range perConn {
		if cs, ok := d.conn[id]; ok && cs.held+n > d.cfg.MaxHeldPerConnection {
			owner = ""
		}
	}
	d.mu.Unlock()

	start := time.Now()
	ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
	err := d.store.AcceptAlerts(ctx, owner, alerts)
	cancel()
	d.cfg.Metrics.commit(time.Since(start), len(alerts))
	for _, r := range batch {
		r.done <- err
	}
	if err != nil {
		d.log.Error("store accepted alerts", "alerts", len(alerts), "err", err)
		return
	}
	for _, a := range alerts {
		if !a.Duplicate {
			d.cfg.Metrics.accepted(a.Source)
		}
	}
	if owner == "" {
		d.wakePoll()
		return
	}
	// Hold copies: the caller goes on reading what it passed in to answer
	// its client, while attempts change the held deliveries.
	d.mu.Lock()
	for _, a := range alerts {
		if a.Duplicate {
			continue
		}
		alert := a.Alert
		for _, dl := range a.Deliveries {
			held := *dl
			d.hold(&item{d: &held, alert: &alert})
		}
	}
	d.mu.Unlock()
}
