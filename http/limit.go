package http

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookline/hookline"
)

// Limits are the per-credential request rates the API allows. A zero rate
// is no limit. Alert routes have their own, higher budget: a sender posting
// a burst of alerts should meet the dispatcher's backpressure (503), not a
// limit meant for people and scripts managing connections.
type Limits struct {
	API   limitSpec // every route but those posting alerts
	Alert limitSpec // POST /api/v1/alerts and the receivers
}

// limitSpec is a token bucket: Rate requests a second, Burst at once.
type limitSpec struct {
	Rate  float64
	Burst int
}

// NewLimits returns Limits of apiRate and alertRate requests a second per
// credential, each with a burst of twice the rate (at least 1). Zero turns
// a limit off.
func NewLimits(apiRate, alertRate float64) Limits {
	spec := func(r float64) limitSpec {
		return limitSpec{Rate: r, Burst: max(1, int(math.Ceil(2*r)))}
	}
	return Limits{API: spec(apiRate), Alert: spec(alertRate)}
}

// DefaultLimits: 20 API requests a second per credential (the reference
// product allows 4; a web UI page makes several at once), 2,000 alert posts.
var DefaultLimits = NewLimits(20, 2000)

// limiters holds one token bucket per key. Buckets that have refilled are
// dropped when the map grows, so keys an attacker makes up cost nothing
// lasting.
type limiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

const maxLimiters = 10_000

func (l *limiters) get(key string, spec limitSpec, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if ok {
		return lim
	}
	if l.m == nil {
		l.m = map[string]*rate.Limiter{}
	}
	if len(l.m) >= maxLimiters {
		for k, old := range l.m {
			if old.TokensAt(now) >= float64(old.Burst()) {
				delete(l.m, k)
			}
		}
		if len(l.m) >= maxLimiters {
			clear(l.m) // all busy: forgetting some debts beats growing without bound
		}
	}
	lim = rate.NewLimiter(rate.Limit(spec.Rate), spec.Burst)
	l.m[key] = lim
	return lim
}

// take spends one token of key's bucket. When there is none it returns how
// long until there is, and false.
func (l *limiters) take(key string, spec limitSpec, now time.Time) (time.Duration, bool) {
	if spec.Rate <= 0 {
		return 0, true
	}
	lim := l.get(key, spec, now)
	if lim.AllowN(now, 1) {
		return 0, true
	}
	return wait(lim, spec, now), false
}

// peek reports whether key's bucket holds a token, without spending it.
func (l *limiters) peek(key string, spec limitSpec, now time.Time) (time.Duration, bool) {
	lim := l.get(key, spec, now)
	if lim.TokensAt(now) >= 1 {
		return 0, true
	}
	return wait(lim, spec, now), false
}

func wait(lim *rate.Limiter, spec limitSpec, now time.Time) time.Duration {
	missing := 1 - lim.TokensAt(now)
	return time.Duration(math.Ceil(missing / spec.Rate * float64(time.Second)))
}

// rateLimited is a 429 with the time after which to try again.
type rateLimited struct {
	err        *hookline.Error
	retryAfter time.Duration
}

func (e *rateLimited) Error() string { return e.err.Error() }
func (e *rateLimited) Unwrap() error { return e.err }

func tooMany(retryAfter time.Duration, format string, args ...any) error {
	return &rateLimited{err: hookline.Errorf(hookline.ETOOMANY, format, args...), retryAfter: retryAfter}
}

// retryText is a wait as people read it, rounded up to whole seconds.
func retryText(d time.Duration) string {
	return fmt.Sprintf("%ds", retrySeconds(d))
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
