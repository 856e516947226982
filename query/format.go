package query

import (
	"strings"
	"unicode/utf8"
)

// String returns the query in canonical form: one space between terms,
// operators in lower case, AND implicit, parentheses only where needed,
// quotes only where needed. Parsing the canonical form gives the same query.
func (q *Query) String() string {
	var b strings.Builder
	if q.search == nil {
		b.WriteString("*")
	} else {
		formatSearch(&b, q.search, 0)
	}
	for _, s := range q.stages {
		b.WriteString(" | ")
		formatStage(&b, s)
	}
	return b.String()
}

// Precedence, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precValue
)

func formatSearch(b *strings.Builder, n snode, prec int) {
	switch n := n.(type) {
	case *sOr:
		parens(b, prec > precOr, func() {
			for i, x := range n.xs {
				if i > 0 {
					b.WriteString(" OR ")
				}
				formatSearch(b, x, precAnd)
			}
		})
	case *sAnd:
		parens(b, prec > precAnd, func() {
			for i, x := range n.xs {
				if i > 0 {
					b.WriteByte(' ')
				}
				formatSearch(b, x, precNot)
			}
		})
	case *sNot:
		b.WriteString("NOT ")
		formatSearch(b, n.x, precNot)
	case *sKeyword:
		if bare(n.g.lits, false) {
			b.WriteString(strings.Join(n.g.lits, "*"))
		} else {
			quote(b, n.g.lits, true)
		}
	case *sField:
		b.WriteString(n.name)
		b.WriteByte('=')
		if bare(n.g.lits, true) {
			b.WriteString(strings.Join(n.g.lits, "*"))
		} else {
			quote(b, n.g.lits, true)
		}
	}
}

func parens(b *strings.Builder, need bool, f func()) {
	if need {
		b.WriteByte('(')
	}
	f()
	if need {
		b.WriteByte(')')
	}
}

// bare reports whether a keyword (or a field's value) can be written without
// quotes and read back the same.
func bare(lits []string, value bool) bool {
	s := strings.Join(lits, "*")
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	if !value && (s[0] == '!' || strings.EqualFold(s, "and") || strings.EqualFold(s, "or") || strings.EqualFold(s, "not")) {
		return false
	}
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			c := l[i]
			if isSpace(c) || c < 0x20 || c == 0x7f || strings.IndexByte(`()|"\*`, c) >= 0 || !value && c == '=' {
				return false
			}
		}
	}
	return true
}

func formatStage(b *strings.Builder, s stage) {
	switch s := s.(type) {
	case *jsonStage:
		b.WriteString("json")
		if s.field {
			b.WriteString(" field=" + s.from.name)
		}
		for i, k := range s.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
			quote(b, []string{k.key}, false)
		}
		if s.named {
			b.WriteString(" as ")
			for i, k := range s.keys {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(k.out.name)
			}
		}
		if s.nodrop {
			b.WriteString(" nodrop")
		}
	case *parseStage:
		b.WriteString("parse ")
		if s.field {
			b.WriteString("field=" + s.from.name + " ")
		}
		quote(b, s.lits, true)
		b.WriteString(" as ")
		writeColumns(b, s.outs)
		if s.nodrop {
			b.WriteString(" nodrop")
		}
	case *whereStage:
		b.WriteString("where ")
		formatExpr(b, s.cond, 0)
	case *aggStage:
		for i, f := range s.funcs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.fn)
			if f.fn != "count" {
				b.WriteString("(" + f.field.name + ")")
			}
			if f.alias {
				b.WriteString(" as " + f.out.name)
			}
		}
		if len(s.by) > 0 {
			b.WriteString(" by ")
			writeColumns(b, s.by)
		}
	case *sortStage:
		b.WriteString("sort by ")
		for i, k := range s.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.field.name)
			if k.asc {
				b.WriteString(" asc")
			} else {
				b.WriteString(" desc")
			}
		}
	case *limitStage:
		b.WriteString("limit ")
		b.WriteString(formatNumber(float64(s.n)))
	case *fieldsStage:
		b.WriteString("fields ")
		if s.minus {
			b.WriteString("- ")
		}
		writeColumns(b, s.names)
	}
}

func writeColumns(b *strings.Builder, cs []column) {
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name)
	}
}

func formatExpr(b *strings.Builder, e expr, prec int) {
	switch e := e.(type) {
	case *logicExpr:
		op, mine := " and ", precAnd
		if e.or {
			op, mine = " or ", precOr
		}
		parens(b, prec > mine, func() {
			for i, x := range e.xs {
				if i > 0 {
					b.WriteString(op)
				}
				formatExpr(b, x, mine+1)
			}
		})
	case *notExpr:
		b.WriteString("not ")
		formatExpr(b, e.x, precNot)
	case *cmpExpr:
		formatExpr(b, e.l, precValue)
		b.WriteString(" " + e.op + " ")
		formatExpr(b, e.r, precValue)
	case *matchesExpr:
		formatExpr(b, e.x, precValue)
		b.WriteString(" matches ")
		quote(b, e.g.lits, true)
	case *testExpr:
		b.WriteString(e.fn + "(")
		formatExpr(b, e.arg, 0)
		b.WriteByte(')')
	case *funcExpr:
		b.WriteString(e.fn + "(")
		formatExpr(b, e.arg, 0)
		b.WriteByte(')')
	case *fieldExpr:
		b.WriteString(e.name)
	case *numExpr:
		b.WriteString(e.text)
	case *strExpr:
		quote(b, []string{e.s}, false)
	}
}
