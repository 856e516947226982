package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// connState is one connection's share of the work: its ready queue, its
// attempts in flight, and its circuit breaker.
type connState struct {
	id       string
	queue    []*item // ready to attempt, oldest first
	inflight int
	held     int
	inReady  bool // listed in Dispatcher.ready

	// The breaker: after BreakerThreshold retryable failures in a row the
	// connection is paused until openUntil; then one attempt probes it.
	failures  int
	openUntil time.Time
	cooldown  time.Duration
	probing   bool
	waking    bool // a timer will list the connection when the pause ends
}

// enqueue makes a held delivery ready. d.mu is held.
func (d *Dispatcher) enqueue(it *item) {
	cs := d.connState(it.d.ConnectionID)
	cs.queue = append(cs.queue, it)
	d.markReady(cs)
	d.pump()
}

// markReady lists cs for the pump when it has work it may start now.
// d.mu is held.
func (d *Dispatcher) markReady(cs *connState) {
	if cs.inReady || len(cs.queue) == 0 || cs.inflight >= d.cfg.PerConnection {
		return
	}
	if !cs.openUntil.IsZero() {
		if wait := cs.openUntil.Sub(d.cfg.Clock.Now()); wait > 0 {
			if !cs.waking {
				cs.waking = true
				d.cfg.Clock.AfterFunc(wait, func() {
					d.mu.Lock()
					defer d.mu.Unlock()
					cs.waking = false
					d.markReady(cs)
					d.pump()
				})
			}
			return
		}
		if cs.probing {
			return // one probe at a time while half-open
		}
	}
	cs.inReady = true
	d.ready = append(d.ready, cs)
}

// pump starts attempts while workers are free, one connection at a time
// in turn, so a busy connection does not starve the others. d.mu is held.
func (d *Dispatcher) pump() {
	for !d.closed && !d.leaseInDoubt && d.busy < d.cfg.Workers && len(d.ready) > 0 {
		cs := d.ready[0]
		d.ready[0] = nil
		d.ready = d.ready[1:]
		cs.inReady = false
		if len(cs.queue) == 0 || cs.inflight >= d.cfg.PerConnection {
			continue
		}
		probe := false
		if !cs.openUntil.IsZero() {
			if cs.probing || d.cfg.Clock.Now().Before(cs.openUntil) {
				d.markReady(cs) // arms the wake-up timer
				continue
			}
			cs.probing, probe = true, true
		}
		it := cs.queue[0]
		cs.queue[0] = nil
		cs.queue = cs.queue[1:]
		if it.lost {
			if probe {
				cs.probing = false
			}
			d.release(cs, it)
			d.markReady(cs)
			continue
		}
		cs.inflight++
		d.busy++
		d.cfg.Metrics.inflight(d.busy)
		d.inflight.Add(1)
		go d.attempt(cs, it, probe)
		d.markReady(cs)
	}
}

// attempt makes one attempt of a delivery and reports it to finish.
func (d *Dispatcher) attempt(cs *connState, it *item, probe bool) {
	defer d.inflight.Done()
	start := d.cfg.Clock.Now()
	n := it.d.Attempts + 1
	res := hookline.AttemptResult{Attempt: hookline.DeliveryAttempt{DeliveryID: it.d.ID, N: n, StartedAt: start}}
	verdict, retryAfter, targetFault := d.try(it, &res.Attempt)
	if d.ctx.Err() != nil && res.Attempt.StatusCode == 0 {
		// Stop cut the attempt short: it neither uses up the schedule nor
		// counts against the target. The delivery stays pending in the
		// store, and the next start sends it again with the same key.
		d.abandon(cs, it, probe)
		return
	}
	d.finish(cs, it, res, verdict, retryAfter, targetFault, probe)
}

// abandon frees the slot of an attempt that Stop cut short.
func (d *Dispatcher) abandon(cs *connState, it *item, probe bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs.inflight--
	d.busy--
	if probe {
		cs.probing = false
	}
	d.release(cs, it)
}

// try sends the delivery and says what came of it. targetFault reports
// that the target itself failed (no answer, 5xx, 429), which is what the
// breaker counts; Hookline's own problems do not count against a target.
func (d *Dispatcher) try(it *item, a *hookline.DeliveryAttempt) (v notify.Verdict, retryAfter time.Duration, targetFault bool) {
	conn, err := d.cache.get(d.ctx, it.d.ConnectionID)
	switch {
	case hookline.ErrorCode(err) == hookline.ENOTFOUND:
		a.Error = "the connection was deleted"
		return notify.Refused, 0, false
	case err != nil:
		d.log.Error("read connection for a delivery", "delivery", it.d.ID, "connection", it.d.ConnectionID, "err", err)
		a.Error = "Hookline could not read the connection; the attempt will be repeated"
		return notify.Retry, 0, false
	}
	src := it.d.Payload
	if src == "" {
		src = conn.PayloadFor(it.d.TriggerType)
	}
	tmpl, err := d.tmpls.get(src)
	if err != nil {
		a.Error = "the payload template does not render: " + err.Error()
		return notify.Refused, 0, false
	}
	sent, err := d.sender.Deliver(d.ctx, conn, tmpl.Render(it.alert), it.d.ID)
	if err != nil {
		a.Error = "the request could not be built: " + hookline.ErrorMessage(err)
		if !errors.As(err, new(*hookline.Error)) {
			d.log.Error("build delivery request", "delivery", it.d.ID, "err", err)
		}
		return notify.Refused, 0, false
	}
	a.StatusCode = sent.StatusCode
	a.Latency = sent.Latency
	a.Error = sent.Error
	a.Response = excerpt(sent.ResponseContent, d.cfg.ResponseLimit)
	d.cfg.Metrics.attempt(it.d.ConnectionID, sent)
	v = notify.Judge(sent)
	return v, sent.RetryAfter, v == notify.Retry
}

// excerpt cuts s to at most limit bytes on a rune boundary.
func excerpt(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + "…"
}

// finish applies an attempt's outcome: the delivery's next state, the
// breaker, the retry timer, and the record.
func (d *Dispatcher) finish(cs *connState, it *item, res hookline.AttemptResult, v notify.Verdict, retryAfter time.Duration, targetFault, probe bool) {
	now := d.cfg.Clock.Now()
	n := res.Attempt.N
	var delay time.Duration
	switch v {
	case notify.Delivered:
		res.State = hookline.DeliveryDelivered
	case notify.Refused:
		res.State = hookline.DeliveryFailed
	case notify.Retry:
		var again bool
		if delay, again = d.cfg.Retry.Next(n, retryAfter); again {
			res.State = hookline.DeliveryPending
			res.NextAttemptAt = now.Add(delay)
			res.Attempt.RetryAt = res.NextAttemptAt
			res.Keep = delay <= d.cfg.Horizon && !d.stoppingNow()
		} else {
			res.State = hookline.DeliveryDead
		}
	}
	it.d.Attempts = n
	it.d.State = res.State
	it.d.NextAttemptAt = res.NextAttemptAt
	it.d.LastStatus = res.Attempt.StatusCode
	it.d.LastError = res.Attempt.Error

	// The result is queued before the slot is freed: when the store falls
	// behind, attempts wait here, so what was sent but not recorded stays
	// bounded by the workers and the result queue.
	d.results <- res

	d.mu.Lock()
	cs.inflight--
	d.busy--
	d.cfg.Metrics.inflight(d.busy)
	d.breaker(cs, v, targetFault, probe, now)
	if res.Keep {
		d.cfg.Clock.AfterFunc(delay, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.enqueue(it)
		})
	} else {
		d.release(cs, it)
	}
	d.markReady(cs)
	d.pump()
	d.mu.Unlock()

	d.cfg.Metrics.outcome(it.d.ConnectionID, res.State)
	// Delivered is the common case: debug, so that thousands a second do not
	// flood the log; a retry is worth a line; a delivery given up, a warning.
	level := slog.LevelDebug
	switch res.State {
	case hookline.DeliveryPending:
		level = slog.LevelInfo
	case hookline.DeliveryFailed, hookline.DeliveryDead:
		level = slog.LevelWarn
	}
	d.log.Log(context.Background(), level, "delivery attempt", "delivery", it.d.ID, "connection", it.d.ConnectionID,
		"attempt", n, "status", res.Attempt.StatusCode, "state", res.State, "latency", res.Attempt.Latency,
		"error", res.Attempt.Error, "retry_at", fmtTime(res.NextAttemptAt))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (d *Dispatcher) stoppingNow() bool {
	select {
	case <-d.stopping:
		return true
	default:
		return false
	}
}

// breaker counts target failures and pauses the connection. d.mu is held.
func (d *Dispatcher) breaker(cs *connState, v notify.Verdict, targetFault, probe bool, now time.Time) {
	if probe {
		cs.probing = false
	}
	switch {
	case targetFault:
		cs.failures++
		if probe || (cs.openUntil.IsZero() && cs.failures >= d.cfg.BreakerThreshold) {
			if probe {
				cs.cooldown = max(min(2*cs.cooldown, d.cfg.BreakerMaxCooldown), d.cfg.BreakerCooldown)
			} else {
				cs.cooldown = d.cfg.BreakerCooldown
			}
			cs.openUntil = now.Add(cs.cooldown)
			d.cfg.Metrics.breakerOpen(cs.id, true)
			d.log.Warn("connection paused after repeated failures", "connection", cs.id,
				"failures", cs.failures, "until", fmtTime(cs.openUntil))
		}
	case v == notify.Delivered || v == notify.Refused:
		// The target answered: it is up, whatever it thought of the
		// request. While paused, only the probe decides: an answer to an
		// attempt sent before the pause says nothing of the target now.
		if !cs.openUntil.IsZero() && !probe {
			return
		}
		if !cs.openUntil.IsZero() {
			d.log.Info("connection resumed", "connection", cs.id)
			d.cfg.Metrics.breakerOpen(cs.id, false)
		}
		cs.failures, cs.openUntil, cs.cooldown = 0, time.Time{}, 0
	}
}
