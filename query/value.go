package query

import (
	"math"
	"strconv"
	"strings"
)

// kind is what a value holds. Field values are text: a comparison reads them
// as numbers when both sides read as numbers, the way Sumo Logic compares.
type kind uint8

const (
	kNull kind = iota // the field does not exist
	kText             // a field's text; a number when it reads as one
	kStr              // a quoted literal in the query: always text
	kNum              // a number literal or an aggregate's result
)

type value struct {
	k kind
	s string  // kText, kStr; kNum: the literal as written, or ""
	n float64 // kNum
}

func textValue(s string) value { return value{k: kText, s: s} }

func numValue(n float64) value { return value{k: kNum, n: n} }

// number returns v as a number, if it is one.
func (v value) number() (float64, bool) {
	switch v.k {
	case kNum:
		return v.n, true
	case kText:
		return parseNumber(v.s)
	}
	return 0, false
}

// text returns v as text; null is "".
func (v value) text() string {
	if v.k == kNum && v.s == "" {
		return formatNumber(v.n)
	}
	return v.s
}

// export converts v for Result.Rows: text as string, whole numbers as int64
// (counts print as 42, not 42.0) and other numbers as float64.
func (v value) export() any {
	switch v.k {
	case kNull:
		return nil
	case kNum:
		if n, ok := wholeNumber(v.n); ok {
			return n
		}
		return v.n
	}
	return v.s
}

func wholeNumber(f float64) (int64, bool) {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), true
	}
	return 0, false
}

func formatNumber(f float64) string {
	if n, ok := wholeNumber(f); ok {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// parseNumber reads s as a decimal number: an optional sign, digits with an
// optional fraction, an optional exponent. Unlike strconv.ParseFloat alone it
// refuses "NaN", "Inf", hexadecimal and underscores, which no log means as
// numbers.
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || !isDigit(s[i]) {
			return 0, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// compareValues compares a and b for where: as numbers when both are numbers,
// else as text. ok is false when either is null: a missing field compares
// neither equal nor unequal to anything.
func compareValues(a, b value) (c int, ok bool) {
	if a.k == kNull || b.k == kNull {
		return 0, false
	}
	if x, okx := a.number(); okx {
		if y, oky := b.number(); oky {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	}
	return strings.Compare(a.text(), b.text()), true
}

// orderValues is the total order sort uses: numbers first, in numeric order,
// then text in byte order, then null.
func orderValues(a, b value) int {
	rank := func(v value) (int, float64) {
		if v.k == kNull {
			return 2, 0
		}
		if f, ok := v.number(); ok {
			return 0, f
		}
		return 1, 0
	}
	ra, fa := rank(a)
	rb, fb := rank(b)
	switch {
	case ra != rb:
		return ra - rb
	case ra == 0 && fa < fb:
		return -1
	case ra == 0 && fa > fb:
		return 1
	case ra == 1:
		return strings.Compare(a.s, b.s)
	}
	return 0
}
