package notify

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// Verdict is what an attempt's outcome means for its delivery.
type Verdict int

const (
	// Delivered: the target took it (2xx, and no failure reported in it).
	Delivered Verdict = iota
	// Retry: the target could not take it now (no answer, timeout, 408,
	// 429, 5xx, credentials that could not be fetched); try again later.
	Retry
	// Refused: the target will never take it as it is (any other answer),
	// or the Guard forbids its address; trying again would only repeat the
	// refusal.
	Refused
)

func (v Verdict) String() string {
	switch v {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	}
	return "refused"
}

// Judge is the one place that decides which outcomes are retried.
func Judge(a *Attempt) Verdict {
	switch code := a.StatusCode; {
	case a.Forbidden:
		return Refused // the guard refused the address: a retry meets the same rule
	case a.Failed && a.RetryFailure:
		return Retry
	case a.Failed:
		return Refused // the target said no in a 2xx answer; its kind judged a retry futile
	case code == 0:
		return Retry // no answer: network error, reset, timeout
	case code >= 200 && code < 300:
		return Delivered
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return Retry
	}
	return Refused
}

// DefaultSchedule spaces the ten attempts of a delivery over about a day:
// the delay before attempt 2, 3, ... 10.
var DefaultSchedule = []time.Duration{
	10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 14 * time.Hour,
}

// RetryPolicy decides when a failed delivery is tried again.
type RetryPolicy struct {
	// Schedule holds the delay before each further attempt; a delivery gets
	// len(Schedule)+1 attempts. Nil means DefaultSchedule.
	Schedule []time.Duration
	// Jitter spreads each delay by up to ± this fraction, so deliveries that
	// failed together do not all come back together. 0 means none.
	Jitter float64
	// Rand returns a number in [0, 1); nil means math/rand/v2.
	Rand func() float64
}

// DefaultJitter is the spread used unless configured otherwise.
const DefaultJitter = 0.1

// MaxAttempts is how many attempts a delivery gets in all.
func (p RetryPolicy) MaxAttempts() int { return len(p.schedule()) + 1 }

func (p RetryPolicy) schedule() []time.Duration {
	if p.Schedule == nil {
		return DefaultSchedule
	}
	return p.Schedule
}

// Next returns the delay before the attempt after attempt n (1-based)
// failed, and false when n was the last. A target's Retry-After raises the
// delay, never lowers it.
func (p RetryPolicy) Next(n int, retryAfter time.Duration) (time.Duration, bool) {
	s := p.schedule()
	if n < 1 || n > len(s) {
		return 0, false
	}
	d := s[n-1]
	if p.Jitter > 0 {
		r := p.Rand
		if r == nil {
			r = rand.Float64
		}
		d += time.Duration((2*r() - 1) * p.Jitter * float64(d))
	}
	return max(d, retryAfter), true
}
