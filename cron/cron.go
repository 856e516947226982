// Package cron owns cron schedules: parsing standard five-field expressions
// (minute hour day-of-month month day-of-week) and the @hourly-style
// descriptors, and computing the next time a schedule fires in a given
// time zone.
//
// The time zone is not part of the expression; Next works in the Location
// of the time it is given. Across daylight-saving changes a local time that
// does not exist is skipped and a local time that happens twice fires once,
// at its first occurrence.
//
// When both day-of-month and day-of-week are restricted, a day matches if
// either matches (the traditional Vixie cron rule). A field counts as
// unrestricted only when it is written "*" or "*/step".
package cron

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron expression. The zero value is not useful; use Parse.
type Schedule struct {
	fields [5]field
}

// field is one of the five positions: the set of allowed values as bits, and
// whether it was written as "*" or "*/step", which the day-of-month and
// day-of-week OR rule depends on.
type field struct {
	set  uint64
	star bool
	step int // step of a "*/step" field; 1 for "*"
}

type spec struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
}

var specs = [5]spec{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	// 7 is accepted as Sunday and folded into 0 after parsing.
	{name: "day-of-week", min: 0, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

const (
	fMinute = iota
	fHour
	fDom
	fMonth
	fDow
)

var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// ParseError describes why an expression was rejected. Field is the name of
// the offending field ("minute", "day-of-week", ...) or empty when the
// expression as a whole is malformed; Column is the 1-based column of the
// offending text, or 0 when there is none.
type ParseError struct {
	Field  string
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Column > 0 {
		fmt.Fprintf(&b, " (at column %d)", e.Column)
	}
	return b.String()
}

// Parse parses a five-field cron expression or a descriptor such as @daily.
// Errors are *ParseError.
func Parse(expr string) (*Schedule, error) {
	toks := tokens(expr)
	if len(toks) == 0 {
		return nil, &ParseError{Msg: "expression is empty"}
	}
	if strings.HasPrefix(toks[0].text, "@") {
		if len(toks) != 1 {
			return nil, &ParseError{Column: toks[1].col, Msg: fmt.Sprintf("unexpected %q after descriptor %s", toks[1].text, toks[0].text)}
		}
		exp, ok := descriptors[strings.ToLower(toks[0].text)]
		if !ok {
			return nil, &ParseError{Column: toks[0].col, Msg: fmt.Sprintf("unknown descriptor %q", toks[0].text)}
		}
		return Parse(exp)
	}
	if len(toks) != 5 {
		return nil, &ParseError{Msg: fmt.Sprintf("expected 5 fields (minute hour day-of-month month day-of-week), got %d", len(toks))}
	}
	var s Schedule
	for i, t := range toks {
		f, err := parseField(specs[i], t.text, t.col)
		if err != nil {
			return nil, err
		}
		if i != fDom && i != fDow {
			// Only the day fields' OR rule cares how a field was written.
			f.star, f.step = false, 0
		}
		s.fields[i] = f
	}
	if s.fields[fDow].set&(1<<7) != 0 {
		s.fields[fDow].set = s.fields[fDow].set&^(1<<7) | 1
	}
	return &s, nil
}

type token struct {
	text string
	col  int // 1-based, in runes
}

func tokens(s string) []token {
	var toks []token
	col, start, startCol := 0, -1, 0
	for i, r := range s {
		col++
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			if start >= 0 {
				toks = append(toks, token{s[start:i], startCol})
				start = -1
			}
			continue
		}
		if start < 0 {
			start, startCol = i, col
		}
	}
	if start >= 0 {
		toks = append(toks, token{s[start:], startCol})
	}
	return toks
}

func parseField(sp spec, text string, col int) (field, error) {
	fail := func(c int, format string, args ...any) (field, error) {
		return field{}, &ParseError{Field: sp.name, Column: c, Msg: fmt.Sprintf(format, args...)}
	}
	var f field
	if text == "*" {
		return field{set: rangeBits(sp.min, sp.max, 1), star: true, step: 1}, nil
	}
	if rest, ok := strings.CutPrefix(text, "*/"); ok && !strings.Contains(rest, ",") {
		n, err := parseStep(rest)
		if err != nil {
			return fail(col+2, "%s", err)
		}
		last := sp.max
		if sp.name == "day-of-week" {
			last = 6 // "*/n" must not reach 7, which would add a second Sunday
		}
		return field{set: rangeBits(sp.min, last, n), star: true, step: n}, nil
	}
	off := 0
	for item := range strings.SplitSeq(text, ",") {
		c := col + len([]rune(text[:off]))
		off += len(item) + 1
		if item == "" {
			return fail(c, "empty list item")
		}
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := parseStep(stepText)
			if err != nil {
				return fail(c+len([]rune(rng))+1, "%s", err)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = sp.min, sp.max
			if sp.name == "day-of-week" {
				hi = 6
			}
		default:
			loText, hiText, isRange := strings.Cut(rng, "-")
			v, err := parseValue(sp, loText)
			if err != nil {
				return fail(c, "%s", err)
			}
			lo, hi = v, v
			if isRange {
				v, err := parseValue(sp, hiText)
				if err != nil {
					return fail(c+len([]rune(loText))+1, "%s", err)
				}
				hi = v
				if hi < lo {
					return fail(c, "%s is an empty range", rng)
				}
			} else if hasStep {
				// "a/n" means a through the end, every n; the end of the week
				// is Saturday so that 7 does not add Sunday.
				hi = sp.max
				if sp.name == "day-of-week" {
					hi = max(lo, 6) // "7/n" is still Sunday
				}
			}
		}
		f.set |= rangeBits(lo, hi, step)
	}
	return f, nil
}

func parseStep(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || !isDigits(s) {
		return 0, fmt.Errorf("step %q is not a number", s)
	}
	if n < 1 {
		return 0, fmt.Errorf("step %d must be at least 1", n)
	}
	return n, nil
}

func parseValue(sp spec, s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing value")
	}
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n < sp.min || n > sp.max {
			return 0, fmt.Errorf("%s is out of range %d-%d", s, sp.min, sp.max)
		}
		return n, nil
	}
	for i, name := range sp.names {
		if strings.EqualFold(s, name) {
			return sp.min + i, nil
		}
	}
	if sp.names != nil {
		return 0, fmt.Errorf("%q is not a number or a name like %s", s, sp.names[0])
	}
	return 0, fmt.Errorf("%q is not a number", s)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func rangeBits(lo, hi, step int) uint64 {
	var b uint64
	for v := lo; v <= hi; v += step {
		b |= 1 << v
	}
	return b
}

// String returns the canonical form of the schedule: five fields, "*" for an
// unrestricted field, otherwise a comma-separated list of values and ranges.
// Parsing the result yields an equal schedule.
func (s *Schedule) String() string {
	parts := make([]string, 5)
	for i, f := range s.fields {
		parts[i] = formatField(specs[i], i, f)
	}
	return strings.Join(parts, " ")
}

func formatField(sp spec, i int, f field) string {
	last := sp.max
	if i == fDow {
		last = 6
	}
	if f.star {
		if f.step == 1 {
			return "*"
		}
		return "*/" + strconv.Itoa(f.step)
	}
	// Outside the day fields "*" and "0-59" mean the same, so prefer the
	// short form; in them "*" would change the OR rule.
	if i != fDom && i != fDow {
		for n := 1; n <= last; n++ {
			if f.set == rangeBits(sp.min, last, n) && (n == 1 || bits.OnesCount64(f.set) > 2) {
				if n == 1 {
					return "*"
				}
				return "*/" + strconv.Itoa(n)
			}
		}
	}
	var items []string
	for v := sp.min; v <= last; v++ {
		if f.set&(1<<v) == 0 {
			continue
		}
		end := v
		for end+1 <= last && f.set&(1<<(end+1)) != 0 {
			end++
		}
		switch {
		case end == v:
			items = append(items, strconv.Itoa(v))
		case end == v+1:
			items = append(items, strconv.Itoa(v), strconv.Itoa(end))
		default:
			items = append(items, strconv.Itoa(v)+"-"+strconv.Itoa(end))
		}
		v = end
	}
	return strings.Join(items, ",")
}

func (f field) has(v int) bool { return f.set&(1<<v) != 0 }

// dayMatches applies the day-of-month / day-of-week OR rule.
func (s *Schedule) dayMatches(y int, m time.Month, d int) bool {
	if !s.fields[fMonth].has(int(m)) {
		return false
	}
	dom, dow := s.fields[fDom], s.fields[fDow]
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())
	if dom.star || dow.star {
		return dom.has(d) && dow.has(wd)
	}
	return dom.has(d) || dow.has(wd)
}

// matches reports whether the local wall-clock time of t fits the schedule.
func (s *Schedule) matches(t time.Time) bool {
	y, m, d := t.Date()
	return s.fields[fMinute].has(t.Minute()) && s.fields[fHour].has(t.Hour()) && s.dayMatches(y, m, d)
}

// horizon bounds the search so impossible schedules such as Feb 30 end.
const horizon = 5

// Next returns the first time strictly after after, in after's Location, at
// which the schedule fires, or the zero Time if it does not fire within five
// years.
func (s *Schedule) Next(after time.Time) time.Time {
	loc := after.Location()
	local := after.In(loc)
	y, m, d := local.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	end := day.AddDate(horizon, 0, 0)
	// Wall-clock minutes well before after's cannot have a first occurrence
	// after it; the margin covers the largest real DST shift.
	skipBefore := local.Hour()*60 + local.Minute() - 3*60
	for first := true; !day.After(end); first = false {
		y, m, d := day.Date()
		if !s.fields[fMonth].has(int(m)) {
			day = time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if s.dayMatches(y, m, d) {
			for h := 0; h < 24; h++ {
				if !s.fields[fHour].has(h) {
					continue
				}
				for mi := 0; mi < 60; mi++ {
					if !s.fields[fMinute].has(mi) || first && h*60+mi < skipBefore {
						continue
					}
					t, ok := firstOccurrence(y, m, d, h, mi, loc)
					if ok && t.After(after) {
						return t
					}
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}
}

// firstOccurrence returns the earliest instant whose wall clock in loc is the
// given minute, and false if DST skips that minute.
func firstOccurrence(y int, m time.Month, d, h, mi int, loc *time.Location) (time.Time, bool) {
	wall := time.Date(y, m, d, h, mi, 0, 0, time.UTC).Unix()
	guess := time.Date(y, m, d, h, mi, 0, 0, loc)
	var best time.Time
	found := false
	// Transitions are at least days apart, so the offsets a day either side
	// cover every offset in force at this wall time.
	for _, probe := range []time.Time{guess.Add(-24 * time.Hour), guess, guess.Add(24 * time.Hour)} {
		_, off := probe.Zone()
		c := time.Unix(wall-int64(off), 0).In(loc)
		cy, cm, cd := c.Date()
		if cy != y || cm != m || cd != d || c.Hour() != h || c.Minute() != mi || c.Second() != 0 {
			continue
		}
		if !found || c.Before(best) {
			best, found = c, true
		}
	}
	return best, found
}
