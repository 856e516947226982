package query

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	// maxQueryLen bounds the query text; monitors' queries are a few lines.
	maxQueryLen = 64 << 10
	// maxDepth bounds nesting of parentheses and NOTs, so a hostile query
	// cannot exhaust the stack of the recursive-descent parser.
	maxDepth = 100
	// maxLimit bounds limit N.
	maxLimit = 1_000_000_000
)

// operators are the operators Parse knows, in the order messages list them.
var operators = []string{"json", "parse", "where", "count", "sum", "avg", "min", "max", "sort", "limit", "fields"}

var aggFuncs = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}

// unsupported are Sumo Logic operators a user may try; naming them says the
// operator exists elsewhere but not here, rather than that it is misspelt.
var unsupported = map[string]bool{
	"timeslice": true, "top": true, "dedup": true, "count_distinct": true, "count_frequent": true,
	"pct": true, "stddev": true, "first": true, "last": true, "lookup": true, "outlier": true,
	"transpose": true, "fillmissing": true, "keyvalue": true, "kv": true, "split": true, "if": true,
	"concat": true, "compare": true, "logreduce": true, "total": true, "accum": true, "diff": true,
	"formatdate": true, "tolowercase": true, "touppercase": true, "number": true,
}

// reserved words cannot name a field after the first "|": they would make
// "count by by" or "sort by asc" ambiguous.
var reserved = map[string]bool{
	"and": true, "or": true, "not": true, "matches": true, "by": true, "as": true,
	"nodrop": true, "asc": true, "desc": true,
}

// Parse parses and checks a query. A query that cannot run is rejected with a
// *SyntaxError giving the position of the problem in src.
func Parse(src string) (q *Query, err error) {
	p := &parser{src: src, q: &Query{}, slotOf: map[string]int{}}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			q, err = nil, b.err
		}
	}()
	p.parse()
	return p.q, nil
}

type parser struct {
	src    string
	pos    int
	q      *Query
	depth  int
	slotOf map[string]int // lower-case field name → slot
	sch    schema
	// sorted is set once the messages have been sorted: after that only
	// limit and fields may follow.
	sorted bool
}

// schema is what the parser knows of the fields at a point of the query, to
// refuse names that cannot exist and to work out the result's columns.
type schema struct {
	rows   bool // after an aggregate: rows, not messages
	closed bool // only cols exist; otherwise any field may (messages)
	// cols are the fields that exist (closed) or the fields operators have
	// extracted, in order (open).
	cols    []column
	removed map[string]bool // open: lower-case names "fields -" removed
	why     string          // closed: the operator that closed it, for messages
}

func (p *parser) fail(off int, format string, args ...any) {
	panic(bailout{newSyntaxError(p.src, off, fmt.Sprintf(format, args...))})
}

// failAt reports a problem with token t, which the error names as Found.
func (p *parser) failAt(t token, format string, args ...any) {
	e := newSyntaxError(p.src, t.pos, fmt.Sprintf(format, args...))
	e.Found = t.text
	panic(bailout{e})
}

// unexpected reports token t where one of expected should be; after says
// what came before, for the message.
func (p *parser) unexpected(t token, after string, expected ...string) {
	if t.kind == tBad {
		e := newSyntaxError(p.src, t.pos, t.msg)
		e.Expected, e.Found = expected, t.text
		panic(bailout{e})
	}
	msg := "expected " + orList(expected)
	if after != "" {
		msg += " after " + after
	}
	e := newSyntaxError(p.src, t.pos, msg+", found "+describe(t))
	e.Expected, e.Found = expected, t.text
	panic(bailout{e})
}

// place names an earlier position for a message: "column 7", or with its
// line when the query has several.
func (p *parser) place(off int) string {
	e := newSyntaxError(p.src, off, "")
	if strings.Contains(p.src, "\n") {
		return fmt.Sprintf("line %d, column %d", e.Line, e.Column)
	}
	return fmt.Sprintf("column %d", e.Column)
}

func (p *parser) enter(off int) {
	p.depth++
	if p.depth > maxDepth {
		p.fail(off, "nested more than %d deep", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) take(t token) { p.pos = t.end }

func (p *parser) peekS() token { return lexSearch(p.src, p.pos) }

func (p *parser) peekO() token { return lexOp(p.src, p.pos) }

func isWord(t token, w string) bool  { return t.kind == tWord && strings.EqualFold(t.text, w) }
func isIdent(t token, w string) bool { return t.kind == tIdent && strings.EqualFold(t.text, w) }
func isPunct(t token, s string) bool { return t.kind == tPunct && t.text == s }

func (p *parser) parse() {
	if len(p.src) > maxQueryLen {
		p.fail(0, "the query is %d bytes long; the limit is %d", len(p.src), maxQueryLen)
	}
	for i, r := range p.src {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(p.src[i:]); size == 1 {
				p.fail(i, "the query is not valid UTF-8")
			}
		}
	}
	p.q.search = p.searchOr()
	switch t := p.peekS(); t.kind {
	case tEOF, tPipe:
	case tRParen:
		p.failAt(t, `unmatched ")": there is no "(" to close`)
	case tEq:
		p.failAt(t, equalsAlone)
	default:
		p.unexpected(t, "the search expression", `"|"`, "end of query")
	}
	for {
		t := p.peekO()
		if t.kind == tEOF {
			break
		}
		p.take(t) // the "|": the previous stage checked that it is one
		more := p.stage()
		if t := p.peekO(); t.kind != tPipe && t.kind != tEOF {
			p.unexpected(t, "", append(more, `"|"`, "end of query")...)
		}
	}
	p.finish()
}

// Search expression.

func (p *parser) searchOr() snode {
	x := p.searchAnd()
	if x == nil {
		return nil
	}
	xs := flatten[*sOr](nil, x)
	for {
		t := p.peekS()
		if !isWord(t, "OR") {
			break
		}
		p.take(t)
		y := p.searchAnd()
		if y == nil {
			p.unexpected(p.peekS(), quoteFound(t.text), "a search term")
		}
		xs = flatten[*sOr](xs, y)
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return &sOr{xs}
}

func (p *parser) searchAnd() snode {
	x := p.searchNot()
	if x == nil {
		return nil
	}
	xs := flatten[*sAnd](nil, x)
	for {
		t := p.peekS()
		if isWord(t, "AND") {
			p.take(t)
			y := p.searchNot()
			if y == nil {
				p.unexpected(p.peekS(), quoteFound(t.text), "a search term")
			}
			xs = flatten[*sAnd](xs, y)
			continue
		}
		if !startsTerm(t) {
			break
		}
		xs = flatten[*sAnd](xs, p.searchNot())
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return &sAnd{xs}
}

// flatten appends x to xs, or x's operands when x is the same operator, so
// "(a b) c" and "a b c" are one AND of three terms and print the same.
func flatten[T interface{ *sAnd | *sOr }](xs []snode, x snode) []snode {
	switch x := x.(type) {
	case *sAnd:
		if _, ok := any(T(nil)).(*sAnd); ok {
			return append(xs, x.xs...)
		}
	case *sOr:
		if _, ok := any(T(nil)).(*sOr); ok {
			return append(xs, x.xs...)
		}
	}
	return append(xs, x)
}

func startsTerm(t token) bool {
	switch t.kind {
	case tString, tLParen, tBang:
		return true
	case tWord:
		return !isWord(t, "OR") && !isWord(t, "AND")
	}
	return false
}

func (p *parser) searchNot() snode {
	t := p.peekS()
	switch {
	case t.kind == tBang || isWord(t, "NOT"):
		p.take(t)
		p.enter(t.pos)
		x := p.searchNot()
		p.leave()
		if x == nil {
			p.unexpected(p.peekS(), quoteFound(t.text), "a search term")
		}
		return &sNot{x}
	case t.kind == tLParen:
		p.take(t)
		p.enter(t.pos)
		x := p.searchOr()
		if x == nil {
			p.unexpected(p.peekS(), `"("`, "a search term")
		}
		c := p.peekS()
		if c.kind != tRParen {
			p.unexpected(c, "", `")" to close the "(" at `+p.place(t.pos))
		}
		p.take(c)
		p.leave()
		return x
	case t.kind == tString:
		p.take(t)
		return &sKeyword{newGlob(splitWildcards(t.val, true), true, false)}
	case t.kind == tWord:
		if isWord(t, "AND") || isWord(t, "OR") {
			return nil
		}
		if eq := lexSearch(p.src, t.end); eq.kind == tEq {
			return p.searchField(t, eq)
		}
		p.take(t)
		return &sKeyword{newGlob(splitWildcards(t.text, false), true, false)}
	case t.kind == tEq:
		p.failAt(t, equalsAlone)
	case t.kind == tBad:
		p.unexpected(t, "", "a search term")
	}
	return nil
}

const equalsAlone = `"=" needs a field name before it, as in _sourceCategory=prod/web; put text containing "=" in quotes to search for it`

// searchField reads name=value (or name!=value) from the word name and the "=" eq.
func (p *parser) searchField(name, eq token) snode {
	field, neg := name.text, false
	if len(field) > 1 && strings.HasSuffix(field, "!") {
		field, neg = field[:len(field)-1], true
	}
	if !isFieldName(field) || strings.EqualFold(field, "AND") || strings.EqualFold(field, "OR") || strings.EqualFold(field, "NOT") {
		e := newSyntaxError(p.src, name.pos, fmt.Sprintf(
			`expected a field name before "=", found %s; put text containing "=" in quotes to search for it`, quoteFound(name.text)))
		e.Expected, e.Found = []string{"a field name"}, name.text
		panic(bailout{e})
	}
	v := lexValue(p.src, eq.end)
	var lits []string
	switch v.kind {
	case tString:
		lits = splitWildcards(v.val, true)
	case tWord:
		lits = splitWildcards(v.text, false)
	default:
		p.unexpected(v, quoteFound(name.text+"="), "a value")
	}
	p.pos = v.end
	var n snode = &sField{name: canonicalName(field), g: newGlob(lits, true, true)}
	if neg {
		n = &sNot{n}
	}
	return n
}

// finish works out the plan and the result's shape.
func (p *parser) finish() {
	q := p.q
	q.split = len(q.stages)
	for i, s := range q.stages {
		switch s.(type) {
		case *aggStage:
			q.aggregate = true
		case *sortStage:
		default:
			continue
		}
		q.split = min(q.split, i)
	}
	q.columns = slices.Clone(p.sch.cols)
	q.open = !p.sch.closed
	for name := range p.sch.removed {
		q.removed = append(q.removed, name)
	}
	slices.Sort(q.removed)
	q.terms = terms(q.search)
}
