package unixnano_test

import (
	"database/sql"
	"math"
	"testing"
	"time"

	"github.com/hookline/hookline/unixnano"
)

func TestBounds(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 5, time.UTC)
	if got := unixnano.Clamp(at); got != at.UnixNano() {
		t.Errorf("Clamp(%s) = %d", at, got)
	}
	if got := unixnano.Clamp(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); got != math.MaxInt64 {
		t.Errorf("Clamp(year 3000) = %d, want MaxInt64", got)
	}
	if got := unixnano.Clamp(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)); got != math.MinInt64 {
		t.Errorf("Clamp(year 1000) = %d, want MinInt64", got)
	}
	if unixnano.InRange(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) || !unixnano.InRange(at) {
		t.Error("InRange is wrong about year 3000 or 2026")
	}
	if got := unixnano.Add(math.MaxInt64-1, time.Hour); got != math.MaxInt64 {
		t.Errorf("Add past the top = %d", got)
	}
	if got := unixnano.Add(math.MinInt64+1, -time.Hour); got != math.MinInt64 {
		t.Errorf("Add past the bottom = %d", got)
	}
	if got := unixnano.Add(10, 5); got != 15 {
		t.Errorf("Add(10, 5) = %d", got)
	}
	if got := unixnano.FromNull(sql.NullInt64{Int64: at.UnixNano(), Valid: true}); !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("FromNull = %s", got)
	}
	if !unixnano.FromNull(sql.NullInt64{}).IsZero() || unixnano.Null(time.Time{}) != nil || unixnano.Null(at) != at.UnixNano() {
		t.Error("NULL is not the zero time both ways")
	}
}
