package dispatch

import (
	"context"
	"time"

	"github.com/hookline/hookline"
)

// maxRecord bounds how many attempts one transaction records.
const maxRecord = 2000

// resultLoop records attempts in batches: whatever finished during one
// write goes into the next. It ends when Stop closes the channel, after
// recording what is left.
func (d *Dispatcher) resultLoop() {
	defer d.loops.Done()
	for res := range d.results {
		batch := []hookline.AttemptResult{res}
	drain:
		for len(batch) < maxRecord {
			select {
			case r, ok := <-d.results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		d.record(batch)
	}
}

// record writes a batch, trying again for as long as the store fails:
// while it does, attempts wait for room in the result queue. Only Stop's
// deadline ends the tries; a result not recorded leaves its delivery
// pending, so it is attempted again after a restart, with the same
// Idempotency-Key for the target to drop the repeat.
func (d *Dispatcher) record(batch []hookline.AttemptResult) {
	backoff := 50 * time.Millisecond
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(d.giveUp, 30*time.Second)
		err := d.store.RecordAttempts(ctx, d.cfg.Owner, batch)
		cancel()
		if err == nil {
			if try > 1 {
				d.log.Info("recorded delivery attempts after the store recovered", "attempts", len(batch), "tries", try)
			}
			return
		}
		d.log.Error("record delivery attempts", "attempts", len(batch), "try", try, "err", err)
		select {
		case <-time.After(backoff):
		case <-d.giveUp.Done():
			d.log.Error("stopped before the store recovered: attempts not recorded; their deliveries stay pending and will be attempted again", "attempts", len(batch))
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
