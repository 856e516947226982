package cron

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the DST cases must not depend on the host's zoneinfo
)

func mustLoad(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load location %s: %v", name, err)
	}
	return loc
}

func TestParseString(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"* * * * *", "* * * * *"},
		{"*/15 * * * *", "*/15 * * * *"},
		{"0,15,30,45 * * * *", "*/15 * * * *"},
		{"0-59 0-23 * 1-12 *", "* * * * *"},
		{"1-30/5 * * * *", "1,6,11,16,21,26 * * * *"},
		{"5 4 * * sun", "5 4 * * 0"},
		{"5 4 * * 7", "5 4 * * 0"},
		{"0 9 * * MON-FRI", "0 9 * * 1-5"},
		{"0 9 * jan,Mar,DEC *", "0 9 * 1,3,12 *"},
		{"0 0 1-31 * 0-6", "0 0 1-31 * 0-6"},
		{"0 0 */2 * *", "0 0 */2 * *"},
		{"0 0 * * 5-7", "0 0 * * 0,5,6"},
		{"0 0 * * 1/2", "0 0 * * 1,3,5"},
		{"0 0 * * 7/1", "0 0 * * 0"},
		{"  0\t12  *  * * ", "0 12 * * *"},
		{"@hourly", "0 * * * *"},
		{"@daily", "0 0 * * *"},
		{"@weekly", "0 0 * * 0"},
		{"@monthly", "0 0 1 * *"},
		{"@yearly", "0 0 1 1 *"},
		{"@ANNUALLY", "0 0 1 1 *"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			if got := s.String(); got != tt.want {
				t.Fatalf("Parse(%q).String() = %q, want %q", tt.expr, got, tt.want)
			}
			again, err := Parse(s.String())
			if err != nil {
				t.Fatalf("reparse %q: %v", s.String(), err)
			}
			if *again != *s {
				t.Fatalf("reparse %q gave a different schedule", s.String())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr, want, field string
	}{
		{"61 * * * *", "minute: 61 is out of range 0-59 (at column 1)", "minute"},
		{"* 24 * * *", "hour: 24 is out of range 0-23 (at column 3)", "hour"},
		{"* * 0 * *", "day-of-month: 0 is out of range 1-31 (at column 5)", "day-of-month"},
		{"* * * 1,13 *", "month: 13 is out of range 1-12 (at column 9)", "month"},
		{"* * * * 8", "day-of-week: 8 is out of range 0-7 (at column 9)", "day-of-week"},
		{"* * * FOO *", `month: "FOO" is not a number or a name like JAN (at column 7)`, "month"},
		{"* * * * MON-FOO", `day-of-week: "FOO" is not a number or a name like SUN (at column 13)`, "day-of-week"},
		{"MON * * * *", `minute: "MON" is not a number (at column 1)`, "minute"},
		{"*/0 * * * *", "minute: step 0 must be at least 1 (at column 3)", "minute"},
		{"1-5/x * * * *", `minute: step "x" is not a number (at column 5)`, "minute"},
		{"5-2 * * * *", "minute: 5-2 is an empty range (at column 1)", "minute"},
		{"1,,2 * * * *", "minute: empty list item (at column 3)", "minute"},
		{"-5 * * * *", "minute: missing value (at column 1)", "minute"},
		{"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4", ""},
		{"* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6", ""},
		{"", "expression is empty", ""},
		{"@often", `unknown descriptor "@often" (at column 1)`, ""},
		{"@daily *", `unexpected "*" after descriptor @daily (at column 8)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want %q", tt.expr, tt.want)
			}
			if err.Error() != tt.want {
				t.Fatalf("Parse(%q) error = %q, want %q", tt.expr, err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Field != tt.field {
				t.Fatalf("Parse(%q) error field = %+v, want %q", tt.expr, pe, tt.field)
			}
		})
	}
}

func TestNext(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	utc := time.UTC
	at := func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		expr  string
		after time.Time
		want  time.Time // zero means no run within the horizon
	}{
		{"strictly after", "* * * * *", at(utc, "2026-01-01 10:00:00"), at(utc, "2026-01-01 10:01:00")},
		{"seconds truncate", "* * * * *", at(utc, "2026-01-01 10:00:30"), at(utc, "2026-01-01 10:01:00")},
		{"step", "*/15 * * * *", at(utc, "2026-01-01 10:16:00"), at(utc, "2026-01-01 10:30:00")},
		{"range step", "1-30/5 * * * *", at(utc, "2026-01-01 10:27:00"), at(utc, "2026-01-01 11:01:00")},
		{"next day", "30 8 * * *", at(utc, "2026-01-01 09:00:00"), at(utc, "2026-01-02 08:30:00")},
		{"year rollover", "0 0 1 1 *", at(utc, "2026-12-31 23:59:00"), at(utc, "2027-01-01 00:00:00")},
		{"weekday names", "0 9 * * MON-FRI", at(utc, "2026-11-27 10:00:00"), at(utc, "2026-11-30 09:00:00")}, // Fri -> Mon
		{"sunday as 7", "0 0 * * 7", at(utc, "2026-11-26 00:00:00"), at(utc, "2026-11-29 00:00:00")},
		{"dom or dow", "0 0 13 * 5", at(utc, "2026-11-01 00:00:00"), at(utc, "2026-11-06 00:00:00")}, // Friday before the 13th
		{"dom or dow 13th", "0 0 13 * 5", at(utc, "2026-11-07 00:00:00"), at(utc, "2026-11-13 00:00:00")},
		{"dom and star dow", "0 0 13 * *", at(utc, "2026-11-01 00:00:00"), at(utc, "2026-11-13 00:00:00")},
		{"dom and dow step is star", "0 0 13 * */2", at(utc, "2026-11-01 00:00:00"), at(utc, "2026-12-13 00:00:00")}, // needs a Sun/Tue/Thu/Sat 13th; Nov 13 is a Friday
		{"leap day", "0 0 29 2 *", at(utc, "2026-03-01 00:00:00"), at(utc, "2028-02-29 00:00:00")},
		{"feb 30 never", "0 0 30 2 *", at(utc, "2026-01-01 00:00:00"), time.Time{}},
		{"nov 31 never", "0 0 31 11 *", at(utc, "2026-01-01 00:00:00"), time.Time{}},
		{"monthly", "@monthly", at(utc, "2026-01-31 12:00:00"), at(utc, "2026-02-01 00:00:00")},

		// 2026-03-08: New York clocks jump from 02:00 EST to 03:00 EDT.
		{"spring gap skipped", "30 2 * * *", at(ny, "2026-03-08 00:00:00"), at(ny, "2026-03-09 02:30:00")},
		{"spring hourly", "0 * * * *", at(ny, "2026-03-08 01:30:00"), at(ny, "2026-03-08 03:00:00")},
		{"spring every minute", "* * * * *", at(ny, "2026-03-08 01:59:00"), at(ny, "2026-03-08 03:00:00")},
		{"spring daily after gap", "0 3 * * *", at(ny, "2026-03-08 01:00:00"), time.Date(2026, 3, 8, 7, 0, 0, 0, utc)},
		// 2026-11-01: New York clocks fall back from 02:00 EDT to 01:00 EST, so 01:xx happens twice.
		{"fall ambiguous first", "30 1 * * *", at(ny, "2026-11-01 00:00:00"), time.Date(2026, 11, 1, 5, 30, 0, 0, utc)},
		{"fall ambiguous once", "30 1 * * *", time.Date(2026, 11, 1, 5, 30, 0, 0, utc).In(ny), at(ny, "2026-11-02 01:30:00")},
		{"fall hourly skips repeat", "0 * * * *", time.Date(2026, 11, 1, 5, 0, 0, 0, utc).In(ny), time.Date(2026, 11, 1, 7, 0, 0, 0, utc)},
		{"fall every 15 in repeat", "*/15 * * * *", time.Date(2026, 11, 1, 6, 5, 0, 0, utc).In(ny), time.Date(2026, 11, 1, 7, 0, 0, 0, utc)},
		{"fall daily keeps wall", "0 9 * * *", at(ny, "2026-10-31 09:00:00"), time.Date(2026, 11, 1, 14, 0, 0, 0, utc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			got := s.Next(tt.after)
			if !got.Equal(tt.want) {
				t.Fatalf("Next(%s) = %s, want %s", tt.after, got, tt.want)
			}
			if !got.IsZero() && got.Location() != tt.after.Location() {
				t.Fatalf("Next returned location %s, want %s", got.Location(), tt.after.Location())
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that String round-trips, and
// that Next returns a later time that fits the schedule with no earlier fit
// in between.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "*/15 * * * *", "1-30/5 0 1,15 * *", "0 9 * JAN-MAR MON-FRI", "0 0 13 * 5",
		"@daily", "@weekly", "0 0 30 2 *", "30 2 * * 7", "5/7 */3 */2 * 1/2", "61 * * * *", "*/0 * * * *",
	} {
		f.Add(seed, int64(1_772_000_000))
	}
	locs := []*time.Location{time.UTC, mustLoad(f, "America/New_York"), mustLoad(f, "Australia/Lord_Howe")}
	f.Fuzz(func(t *testing.T, expr string, sec int64) {
		s, err := Parse(expr)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T is not *ParseError", expr, err)
			}
			return
		}
		canon := s.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", canon, expr, err)
		}
		if *again != *s || again.String() != canon {
			t.Fatalf("String of %q = %q does not round-trip", expr, canon)
		}
		// Keep the start within 1970-2100 so the brute-force check stays meaningful.
		sec = sec % (130 * 365 * 86400)
		if sec < 0 {
			sec = -sec
		}
		for _, loc := range locs {
			after := time.Unix(sec, 0).In(loc)
			next := s.Next(after)
			if next.IsZero() {
				continue
			}
			if !next.After(after) {
				t.Fatalf("%q: Next(%s) = %s, not after", expr, after, next)
			}
			if !s.matches(next) || next.Second() != 0 {
				t.Fatalf("%q: Next(%s) = %s does not match", expr, after, next)
			}
			if again := s.Next(next.Add(-time.Nanosecond)); !again.Equal(next) {
				t.Fatalf("%q: Next(%s) = %s, but Next just before it = %s", expr, after, next, again)
			}
			// No earlier instant may be a first occurrence of a matching minute.
			if next.Sub(after) <= 36*time.Hour {
				seen := map[string]bool{}
				for c := after.Truncate(time.Minute).Add(-3 * time.Hour); c.Before(next); c = c.Add(time.Minute) {
					w := c.In(loc)
					key := w.Format("2006-01-02 15:04")
					first := !seen[key]
					seen[key] = true
					if c.After(after) && first && s.matches(w) {
						t.Fatalf("%q: Next(%s) = %s skips %s", expr, after, next, w)
					}
				}
			}
		}
	})
}
