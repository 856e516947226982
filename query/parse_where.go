package query

import (
	"strconv"
	"strings"
)

// The where operator's expressions, by recursive descent from the loosest
// operator (or) to the tightest. Each node is a value or a condition, and
// the parser refuses one where the other belongs, so evaluation never has to.

func (p *parser) whereStage(op token) []string {
	p.take(op)
	cond := p.whereOr(`"where"`)
	if t := p.peekO(); t.kind == tBad {
		p.unexpected(t, "", `"and"`, `"or"`, `"|"`, "end of query")
	}
	if !isCondition(cond) {
		p.fail(cond.at(), `where needs a condition, such as status >= 500 or isNull(ip), not a value alone`)
	}
	p.add(&whereStage{pos: op.pos, cond: cond})
	return []string{`"and"`, `"or"`}
}

func (p *parser) condition(x expr, op string) {
	if !isCondition(x) {
		p.fail(x.at(), "%s joins conditions, such as status = 404; this is a value", quoteFound(op))
	}
}

func (p *parser) whereOr(after string) expr {
	x := p.whereAnd(after)
	for {
		t := p.peekO()
		if !isIdent(t, "or") {
			return x
		}
		p.take(t)
		y := p.whereAnd(quoteFound(t.text))
		p.condition(x, t.text)
		p.condition(y, t.text)
		x = joinLogic(x, y, true)
	}
}

func (p *parser) whereAnd(after string) expr {
	x := p.whereNot(after)
	for {
		t := p.peekO()
		if !isIdent(t, "and") {
			return x
		}
		p.take(t)
		y := p.whereNot(quoteFound(t.text))
		p.condition(x, t.text)
		p.condition(y, t.text)
		x = joinLogic(x, y, false)
	}
}

// joinLogic makes x and y (or x or y) one flat list, as the search
// expression does.
func joinLogic(x, y expr, or bool) expr {
	l := &logicExpr{pos: x.at(), or: or}
	for _, e := range []expr{x, y} {
		if e, ok := e.(*logicExpr); ok && e.or == or {
			l.xs = append(l.xs, e.xs...)
			continue
		}
		l.xs = append(l.xs, e)
	}
	return l
}

func (p *parser) whereNot(after string) expr {
	t := p.peekO()
	if isIdent(t, "not") || isPunct(t, "!") {
		p.take(t)
		p.enter(t.pos)
		x := p.whereNot(quoteFound(t.text))
		p.leave()
		if !isCondition(x) {
			p.fail(x.at(), "%s needs a condition, such as isNull(ip); this is a value", quoteFound(t.text))
		}
		return &notExpr{pos: t.pos, x: x}
	}
	return p.whereCmp(after)
}

var cmpOps = map[string]string{"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (p *parser) whereCmp(after string) expr {
	l := p.operand(after)
	t := p.peekO()
	if op, ok := cmpOps[t.text]; ok && t.kind == tPunct {
		p.take(t)
		r := p.operand(quoteFound(t.text))
		for _, x := range []expr{l, r} {
			if isCondition(x) {
				p.fail(x.at(), "%s compares values; this is a condition", quoteFound(t.text))
			}
		}
		return &cmpExpr{pos: l.at(), op: op, l: l, r: r}
	}
	if isIdent(t, "matches") {
		p.take(t)
		s := p.peekO()
		if s.kind != tString {
			p.unexpected(s, `"matches"`, `a quoted pattern such as "*error*"`)
		}
		p.take(s)
		if isCondition(l) {
			p.fail(l.at(), `"matches" tests a value; this is a condition`)
		}
		return &matchesExpr{pos: l.at(), x: l, g: newGlob(splitWildcards(s.val, true), false, true)}
	}
	return l
}

func (p *parser) operand(after string) expr {
	t := p.peekO()
	switch t.kind {
	case tNumber:
		p.take(t)
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.failAt(t, "number %s is out of range", t.text)
		}
		return &numExpr{pos: t.pos, text: t.text, n: n}
	case tString:
		p.take(t)
		return &strExpr{pos: t.pos, s: unquote(t.val)}
	case tLParen:
		p.take(t)
		p.enter(t.pos)
		x := p.whereOr(`"("`)
		c := p.peekO()
		if c.kind != tRParen {
			p.unexpected(c, "", `")" to close the "(" at `+p.place(t.pos))
		}
		p.take(c)
		p.leave()
		return x
	case tIdent:
		if reserved[strings.ToLower(t.text)] {
			break
		}
		if open := lexOp(p.src, t.end); open.kind == tLParen {
			return p.call(t, open)
		}
		p.take(t)
		c := p.ref(t)
		return &fieldExpr{pos: t.pos, name: t.text, slot: c.slot}
	}
	p.unexpected(t, after, "a field name, number, string or condition")
	return nil
}

func (p *parser) call(name, open token) expr {
	lower := strings.ToLower(name.text)
	fn, test := testFuncs[lower]
	if !test {
		var ok bool
		if fn, ok = valueFuncs[lower]; !ok {
			p.failAt(name, "unknown function %s; where knows isNull, isEmpty, isBlank, toLowerCase and toUpperCase", quoteFound(name.text))
		}
	}
	p.take(open)
	p.enter(open.pos)
	arg := p.whereOr(quoteFound(fn + "("))
	if isCondition(arg) {
		p.fail(arg.at(), "%s takes a value, such as a field name; this is a condition", fn)
	}
	c := p.peekO()
	if c.kind != tRParen {
		p.unexpected(c, "", `")" to close `+quoteFound(fn+"("))
	}
	p.take(c)
	p.leave()
	if test {
		return &testExpr{pos: name.pos, fn: fn, arg: arg}
	}
	return &funcExpr{pos: name.pos, fn: fn, arg: arg}
}
