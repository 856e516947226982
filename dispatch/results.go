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

// record writes a batch, trying again while the store fails: a result not
// recorded leaves its delivery pending, so it would be attempted again
// after a restart (the Idempotency-Key lets the target drop the repeat).
func (d *Dispatcher) record(batch []hookline.AttemptResult) {
	backoff := 50 * time.Millisecond
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := d.store.RecordAttempts(ctx, d.cfg.Owner, batch)
		cancel()
		if err == nil {
			return
		}
		d.log.Error("record delivery attempts", "attempts", len(batch), "try", try, "err", err)
		if try == 10 {
			d.log.Error("gave up recording delivery attempts; their deliveries stay pending and will be attempted again", "attempts", len(batch))
			return
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
}
