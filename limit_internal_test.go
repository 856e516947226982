package hookline

import (
	"testing"
	"time"
)

func TestLimitText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute:      "1m",
		10 * time.Minute: "10m",
		time.Hour:        "1h",
		90 * time.Minute: "1h30m (90 minutes)",
		24 * time.Hour:   "24h (1440 minutes)",
		168 * time.Hour:  "168h (10080 minutes)",
	} {
		if got := limitText(d); got != want {
			t.Errorf("limitText(%s) = %q, want %q", d, got, want)
		}
	}
}
