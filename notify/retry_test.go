package notify

import (
	"net/http"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	for status, want := range map[int]Verdict{
		0: Retry, 200: Delivered, 202: Delivered, 204: Delivered, 301: Refused, 302: Refused,
		400: Refused, 401: Refused, 403: Refused, 404: Refused, 408: Retry, 409: Refused, 413: Refused,
		422: Refused, 429: Retry, 500: Retry, 502: Retry, 503: Retry, 504: Retry,
	} {
		if got := Judge(&Attempt{StatusCode: status}); got != want {
			t.Errorf("Judge(%d) = %s, want %s", status, got, want)
		}
	}
}

// A target that answers 2xx but reports a failure (a Lambda function's
// error) is not delivered; its kind says whether to try again.
func TestJudgeReportedFailure(t *testing.T) {
	for _, tc := range []struct {
		a    Attempt
		want Verdict
		ok   bool
	}{
		{Attempt{StatusCode: 200}, Delivered, true},
		{Attempt{StatusCode: 200, Failed: true}, Refused, false},
		{Attempt{StatusCode: 202, Failed: true, RetryFailure: true}, Retry, false},
		{Attempt{StatusCode: 200, Failed: true, RetryFailure: true, Forbidden: true}, Refused, false},
	} {
		if got := Judge(&tc.a); got != tc.want || tc.a.OK() != tc.ok {
			t.Errorf("Judge(%+v) = %s, OK %v; want %s, %v", tc.a, got, tc.a.OK(), tc.want, tc.ok)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	p := RetryPolicy{}
	if p.MaxAttempts() != 10 {
		t.Errorf("default MaxAttempts = %d, want 10", p.MaxAttempts())
	}
	var total time.Duration
	for n := 1; n < 10; n++ {
		d, ok := p.Next(n, 0)
		if !ok || d != DefaultSchedule[n-1] {
			t.Fatalf("Next(%d) = %v, %v", n, d, ok)
		}
		total += d
	}
	if total < 23*time.Hour || total > 25*time.Hour {
		t.Errorf("default schedule spans %v, want about a day", total)
	}
	if _, ok := p.Next(10, 0); ok {
		t.Error("a tenth failure must be the last")
	}
	if _, ok := p.Next(0, 0); ok {
		t.Error("Next(0) must refuse")
	}
	// Retry-After raises a delay, never lowers it.
	if d, _ := p.Next(1, time.Hour); d != time.Hour {
		t.Errorf("Retry-After 1h over 10s: %v", d)
	}
	if d, _ := p.Next(3, time.Second); d != 5*time.Minute {
		t.Errorf("Retry-After 1s under 5m: %v", d)
	}
	// Jitter stays within its fraction, and uses both sides.
	for _, r := range []float64{0, 0.25, 0.5, 0.999} {
		j := RetryPolicy{Schedule: []time.Duration{100 * time.Second}, Jitter: 0.1, Rand: func() float64 { return r }}
		d, _ := j.Next(1, 0)
		if d < 90*time.Second || d > 110*time.Second {
			t.Errorf("jitter with rand %v: %v outside 90–110 s", r, d)
		}
	}
	lo, _ := RetryPolicy{Schedule: []time.Duration{100 * time.Second}, Jitter: 0.1, Rand: func() float64 { return 0 }}.Next(1, 0)
	hi, _ := RetryPolicy{Schedule: []time.Duration{100 * time.Second}, Jitter: 0.1, Rand: func() float64 { return 0.999 }}.Next(1, 0)
	if lo != 90*time.Second || hi <= 109*time.Second {
		t.Errorf("jitter extremes %v and %v", lo, hi)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"120", 2 * time.Minute}, {" 5 ", 5 * time.Second}, {"0", 0}, {"-3", 0}, {"soon", 0},
		{"999999999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
