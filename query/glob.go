package query

import (
	"regexp"
	"strings"
)

// glob is a pattern in which * stands for any run of characters: keywords,
// field=value filters and the matches operator use it. lits holds the literal
// text around the wildcards, so "a*b" is {"a", "b"} and "*" is {"", ""}.
type glob struct {
	lits     []string
	fold     bool           // ignore case
	anchored bool           // the whole value must match, not just a part of it
	lower    []string       // fold: lits lower-cased, matched by the ASCII fast path
	re       *regexp.Regexp // fold with non-ASCII letters: regexp does Unicode case folding
}

func newGlob(lits []string, fold, anchored bool) glob {
	g := glob{lits: lits, fold: fold, anchored: anchored}
	if !fold {
		return g
	}
	ascii := true
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			if l[i] >= 0x80 {
				ascii = false
			}
		}
	}
	if !ascii {
		parts := make([]string, len(lits))
		for i, l := range lits {
			parts[i] = regexp.QuoteMeta(l)
		}
		expr := "(?is)" + strings.Join(parts, ".*")
		if anchored {
			expr = `(?is)\A` + strings.Join(parts, ".*") + `\z`
		}
		g.re = regexp.MustCompile(expr)
		return g
	}
	g.lower = make([]string, len(lits))
	for i, l := range lits {
		g.lower[i] = lowerASCII(l)
	}
	return g
}

// wildcard reports whether the pattern has a *.
func (g *glob) wildcard() bool { return len(g.lits) > 1 }

func (g *glob) match(s string) bool {
	if g.re != nil {
		return g.re.MatchString(s)
	}
	lits, index, equal := g.lits, strings.Index, func(a, b string) bool { return a == b }
	if g.fold {
		lits, index, equal = g.lower, indexFoldASCII, equalFoldASCII
	}
	if !g.anchored {
		for _, l := range lits {
			if l == "" {
				continue
			}
			j := index(s, l)
			if j < 0 {
				return false
			}
			s = s[j+len(l):]
		}
		return true
	}
	n := len(lits)
	if n == 1 {
		return len(s) == len(lits[0]) && equal(s, lits[0])
	}
	first, last := lits[0], lits[n-1]
	if len(first)+len(last) > len(s) ||
		!equal(s[:len(first)], first) || !equal(s[len(s)-len(last):], last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	for _, l := range lits[1 : n-1] {
		if l == "" {
			continue
		}
		j := index(mid, l)
		if j < 0 {
			return false
		}
		mid = mid[j+len(l):]
	}
	return true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalFoldASCII reports whether s equals lower, a lower-case ASCII string,
// ignoring the case of ASCII letters in s. len(s) must equal len(lower).
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// indexFoldASCII is strings.Index ignoring ASCII case; needle is lower-case.
// It finds candidates for the first byte with strings.IndexByte (vectorised)
// in both cases, so a keyword search costs little more than a plain one.
func indexFoldASCII(s, needle string) int {
	n := len(needle)
	if n == 0 {
		return 0
	}
	if n > len(s) {
		return -1
	}
	lo, up := needle[0], needle[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - ('a' - 'A')
	}
	last := len(s) - n // the last possible start
	if lo == up {
		for i := 0; i <= last; {
			j := strings.IndexByte(s[i:last+1], lo)
			if j < 0 {
				return -1
			}
			i += j
			if equalFoldASCII(s[i+1:i+n], needle[1:]) {
				return i
			}
			i++
		}
		return -1
	}
	// nextLo and nextUp are the next positions of each case at or after i:
	// -1 when there is none, -2 when not yet looked for.
	nextLo, nextUp := -2, -2
	for i := 0; i <= last; {
		if nextLo != -1 && nextLo < i {
			nextLo = indexByteFrom(s[:last+1], lo, i)
		}
		if nextUp != -1 && nextUp < i {
			nextUp = indexByteFrom(s[:last+1], up, i)
		}
		var k int
		switch {
		case nextLo == -1 && nextUp == -1:
			return -1
		case nextLo == -1:
			k = nextUp
		case nextUp == -1:
			k = nextLo
		default:
			k = min(nextLo, nextUp)
		}
		if equalFoldASCII(s[k+1:k+n], needle[1:]) {
			return k
		}
		i = k + 1
	}
	return -1
}

func indexByteFrom(s string, c byte, from int) int {
	j := strings.IndexByte(s[from:], c)
	if j < 0 {
		return -1
	}
	return from + j
}

// unquote undoes the escapes of a string's raw text: \" is ", \\ is \ and
// \* is *. Any other backslash stays, so "C:\temp" needs no doubling.
func unquote(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) && (raw[i+1] == '"' || raw[i+1] == '\\' || raw[i+1] == '*') {
			i++
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// splitWildcards splits raw pattern text at each * that is not escaped as \*
// and undoes the escapes of each piece. Bare words have no escapes.
func splitWildcards(raw string, escapes bool) []string {
	var lits []string
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '*':
			lits = append(lits, b.String())
			b.Reset()
			continue
		case escapes && c == '\\' && i+1 < len(raw) && (raw[i+1] == '"' || raw[i+1] == '\\' || raw[i+1] == '*'):
			i++
			c = raw[i]
		}
		b.WriteByte(c)
	}
	return append(lits, b.String())
}

// quote writes s as a string literal; with wild, the strings between lits
// are wildcards and a literal * is escaped.
func quote(b *strings.Builder, lits []string, wild bool) {
	b.WriteByte('"')
	for i, l := range lits {
		if i > 0 {
			b.WriteByte('*')
		}
		for j := 0; j < len(l); j++ {
			switch c := l[j]; {
			case c == '"' || c == '\\' || wild && c == '*':
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}
