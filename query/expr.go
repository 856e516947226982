package query

import "strings"

// Expressions of the where operator. The parser checks types, so a value
// never stands where a condition is needed and the evaluator need not ask.

type expr interface {
	at() int // byte offset in the query, for messages
}

// Values.
type (
	fieldExpr struct {
		pos  int
		name string // as written
		slot int
	}
	numExpr struct {
		pos  int
		text string // as written
		n    float64
	}
	strExpr struct {
		pos int
		s   string
	}
	// funcExpr is toLowerCase(x) or toUpperCase(x).
	funcExpr struct {
		pos int
		fn  string
		arg expr
	}
)

// Conditions.
type (
	cmpExpr struct {
		pos  int
		op   string // = != < <= > >=
		l, r expr
	}
	matchesExpr struct {
		pos int
		x   expr
		g   glob
	}
	// testExpr is isNull(x), isEmpty(x) or isBlank(x).
	testExpr struct {
		pos int
		fn  string
		arg expr
	}
	logicExpr struct {
		pos int
		or  bool
		xs  []expr
	}
	notExpr struct {
		pos int
		x   expr
	}
)

func (e *fieldExpr) at() int   { return e.pos }
func (e *numExpr) at() int     { return e.pos }
func (e *strExpr) at() int     { return e.pos }
func (e *funcExpr) at() int    { return e.pos }
func (e *cmpExpr) at() int     { return e.pos }
func (e *matchesExpr) at() int { return e.pos }
func (e *testExpr) at() int    { return e.pos }
func (e *logicExpr) at() int   { return e.pos }
func (e *notExpr) at() int     { return e.pos }

func isCondition(e expr) bool {
	switch e.(type) {
	case *cmpExpr, *matchesExpr, *testExpr, *logicExpr, *notExpr:
		return true
	}
	return false
}

// valueFuncs and testFuncs are the functions where knows, by lower-case name.
var (
	valueFuncs = map[string]string{"tolowercase": "toLowerCase", "touppercase": "toUpperCase"}
	testFuncs  = map[string]string{"isnull": "isNull", "isempty": "isEmpty", "isblank": "isBlank"}
)

func (r *row) eval(e expr) value {
	switch e := e.(type) {
	case *fieldExpr:
		return r.get(e.slot)
	case *numExpr:
		return value{k: kNum, s: e.text, n: e.n}
	case *strExpr:
		return value{k: kStr, s: e.s}
	case *funcExpr:
		v := r.eval(e.arg)
		if v.k == kNull {
			return v
		}
		if e.fn == "toLowerCase" {
			return value{k: kText, s: strings.ToLower(v.text())}
		}
		return value{k: kText, s: strings.ToUpper(v.text())}
	}
	panic("query: eval of a condition")
}

func (r *row) test(e expr) bool {
	switch e := e.(type) {
	case *cmpExpr:
		l, rv := r.eval(e.l), r.eval(e.r)
		if e.op != "=" && e.op != "!=" && (l.k == kNum || rv.k == kNum) {
			// status > 100 asks about numbers: text that is not one fails.
			if _, ok := l.number(); !ok {
				return false
			}
			if _, ok := rv.number(); !ok {
				return false
			}
		}
		c, ok := compareValues(l, rv)
		if !ok {
			return false
		}
		switch e.op {
		case "=":
			return c == 0
		case "!=":
			return c != 0
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case *matchesExpr:
		v := r.eval(e.x)
		return v.k != kNull && e.g.match(v.text())
	case *testExpr:
		v := r.eval(e.arg)
		switch e.fn {
		case "isNull":
			return v.k == kNull
		case "isEmpty":
			return v.k == kNull || v.text() == ""
		}
		return v.k == kNull || strings.TrimSpace(v.text()) == ""
	case *logicExpr:
		for _, x := range e.xs {
			if r.test(x) == e.or {
				return e.or
			}
		}
		return !e.or
	case *notExpr:
		return !r.test(e.x)
	}
	panic("query: test of a value")
}
