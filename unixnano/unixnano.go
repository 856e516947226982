// Package unixnano converts times to and from the Unix nanoseconds the
// storage engines keep them as (an int64 column compares fast in an index
// and keeps every digit). An int64 shows the years 1678 to 2262; outside
// them a time is held at the bound rather than wrapped around.
package unixnano

import (
	"database/sql"
	"math"
	"time"
)

// Min and Max are the first and last times an int64 of nanoseconds shows.
var (
	Min = time.Unix(0, math.MinInt64)
	Max = time.Unix(0, math.MaxInt64)
)

// InRange reports whether t is from Min to Max.
func InRange(t time.Time) bool { return !t.Before(Min) && !t.After(Max) }

// Clamp is t in Unix nanoseconds, held at the bounds.
func Clamp(t time.Time) int64 {
	switch {
	case t.Before(Min):
		return math.MinInt64
	case t.After(Max):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Add returns n plus d, held at the int64 bounds rather than wrapping.
func Add(n int64, d time.Duration) int64 {
	switch {
	case d > 0 && n > math.MaxInt64-int64(d):
		return math.MaxInt64
	case d < 0 && n < math.MinInt64-int64(d):
		return math.MinInt64
	}
	return n + int64(d)
}

// Time is n as a UTC time.
func Time(n int64) time.Time { return time.Unix(0, n).UTC() }

// FromNull is n as a UTC time, or the zero time for NULL.
func FromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return Time(n.Int64)
}

// Null is t in Unix nanoseconds, or NULL (nil) for the zero time.
func Null(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}
