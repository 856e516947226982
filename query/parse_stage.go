package query

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The operators after each "|", and what the parser knows of the fields
// between them.

func (p *parser) stage() (more []string) {
	t := p.peekO()
	if t.kind != tIdent {
		p.unexpected(t, `"|"`, "an operator")
	}
	op := strings.ToLower(t.text)
	if !slices.Contains(operators, op) && op != "order" {
		if unsupported[op] {
			p.failAt(t, "the %s operator is not supported; the operators are %s", op, andList(operators))
		}
		e := newSyntaxError(p.src, t.pos, fmt.Sprintf("unknown operator %s; the operators are %s", quoteFound(t.text), andList(operators)))
		e.Expected, e.Found = slices.Clone(operators), t.text
		panic(bailout{e})
	}
	if p.sorted {
		switch {
		case op == "sort" || op == "order":
			p.failAt(t, "messages can be sorted only once: give all the keys to one sort (sort by a, b)")
		case aggFuncs[op]:
			p.failAt(t, `%q cannot follow a sort of messages: sorting does not change what it computes; sort its rows after it instead`, op)
		case op != "limit" && op != "fields":
			p.failAt(t, `%q cannot follow a sort of messages: only limit and fields can; move it before the sort`, op)
		}
	}
	switch {
	case op == "json":
		return p.jsonStage(t)
	case op == "parse":
		return p.parseStage(t)
	case op == "where":
		return p.whereStage(t)
	case aggFuncs[op]:
		return p.aggStage(t)
	case op == "sort" || op == "order":
		return p.sortStage(t)
	case op == "limit":
		return p.limitStage(t)
	}
	return p.fieldsStage(t)
}

func (p *parser) add(s stage) { p.q.stages = append(p.q.stages, s) }

// slot interns a field name.
func (p *parser) slot(name string) int {
	lower := strings.ToLower(name)
	if i, ok := p.slotOf[lower]; ok {
		return i
	}
	info, ok := builtins[lower]
	if !ok {
		info = slotInfo{name: name, src: fromFields}
	}
	p.slotOf[lower] = len(p.q.slots)
	p.q.slots = append(p.q.slots, info)
	return len(p.q.slots) - 1
}

// fieldName reads a name where a field must be named.
func (p *parser) fieldName(after string) token {
	t := p.peekO()
	if t.kind != tIdent || reserved[strings.ToLower(t.text)] {
		p.unexpected(t, after, "a field name")
	}
	p.take(t)
	return t
}

// nameList reads one or more field names separated by commas.
func (p *parser) nameList(after string) []token {
	ts := []token{p.fieldName(after)}
	for isPunct(p.peekO(), ",") {
		c := p.peekO()
		p.take(c)
		ts = append(ts, p.fieldName(`","`))
	}
	for i, t := range ts {
		for _, u := range ts[:i] {
			if strings.EqualFold(t.text, u.text) {
				p.failAt(t, "field %s is named twice", quoteFound(t.text))
			}
		}
	}
	return ts
}

// ref resolves a reference to an existing field.
func (p *parser) ref(t token) column {
	name, lower := canonicalName(t.text), strings.ToLower(t.text)
	if p.sch.closed {
		for _, c := range p.sch.cols {
			if strings.EqualFold(c.name, name) {
				return c
			}
		}
		if !p.sch.rows && (lower == "_raw" || lower == "_messagetime") {
			return column{name, p.slot(name)}
		}
		names := make([]string, len(p.sch.cols))
		for i, c := range p.sch.cols {
			names[i] = c.name
		}
		what := "the rows"
		if !p.sch.rows {
			what = "the messages"
		}
		p.failAt(t, "unknown field %s: after %s %s have only %s", quoteFound(t.text), p.sch.why, what, andList(names))
	}
	if p.sch.removed[lower] {
		p.failAt(t, `field %s was removed by "fields -"`, quoteFound(t.text))
	}
	return column{name, p.slot(name)}
}

// define records that an operator sets the field name.
func (p *parser) define(name string) column {
	name = canonicalName(name)
	c := column{name, p.slot(name)}
	delete(p.sch.removed, strings.ToLower(name))
	for i, old := range p.sch.cols {
		if old.slot == c.slot {
			p.sch.cols[i] = c
			return c
		}
	}
	p.sch.cols = append(p.sch.cols, c)
	return c
}

// source reads the optional field=<name> of json and parse; without it they
// read the message, which rows after an aggregate do not have.
func (p *parser) source(op token) (column, bool) {
	t := p.peekO()
	if isIdent(t, "field") {
		if eq := lexOp(p.src, t.end); isPunct(eq, "=") {
			p.take(eq)
			return p.ref(p.fieldName(`"field="`)), true
		}
	}
	if p.sch.rows {
		p.failAt(op, "%s after an aggregate needs field=<name>: rows have no message", strings.ToLower(op.text))
	}
	return column{"_raw", p.slot("_raw")}, false
}

func (p *parser) jsonStage(op token) []string {
	p.take(op)
	st := &jsonStage{pos: op.pos}
	st.from, st.field = p.source(op)
	var keyToks []token
	after := `"json"`
	if st.field {
		after = "the field"
	}
	if t := p.peekO(); isIdent(t, "auto") {
		p.failAt(t, `json auto is not supported; name the keys, as in json "user.id", "status"`)
	}
	for {
		t := p.peekO()
		if t.kind != tString {
			p.unexpected(t, after, `a quoted key such as "user.id"`)
		}
		p.take(t)
		key := unquote(t.val)
		path, msg := parsePath(key)
		if msg != "" {
			p.failAt(t, "bad JSON key %s: %s", quoteFound(key), msg)
		}
		st.keys = append(st.keys, jsonKey{key: key, path: path})
		keyToks = append(keyToks, t)
		if !isPunct(p.peekO(), ",") {
			break
		}
		p.take(p.peekO())
		after = `","`
	}
	more := []string{`","`, `"as"`, `"nodrop"`}
	var names []token
	if as := p.peekO(); isIdent(as, "as") {
		p.take(as)
		names = p.nameList(`"as"`)
		if len(names) != len(st.keys) {
			p.failAt(as, "json extracts %d %s but %s \"as\"", len(st.keys), plural(len(st.keys), "key", "keys"), follow(len(names)))
		}
		st.named = true
		more = []string{`","`, `"nodrop"`}
	} else {
		for i, k := range st.keys {
			if !isFieldName(k.key) || reserved[strings.ToLower(k.key)] {
				p.failAt(keyToks[i], "key %s cannot name a field; name it with as: json %s as name", quoteFound(k.key), quoteFound(k.key))
			}
			names = append(names, token{text: k.key, pos: keyToks[i].pos})
		}
		for i, t := range names {
			for _, u := range names[:i] {
				if strings.EqualFold(t.text, u.text) {
					p.failAt(t, "field %s is named twice", quoteFound(t.text))
				}
			}
		}
	}
	if t := p.peekO(); isIdent(t, "nodrop") {
		p.take(t)
		st.nodrop = true
		more = nil
	}
	for i := range st.keys {
		st.keys[i].out = p.define(names[i].text)
	}
	p.add(st)
	return more
}

func (p *parser) parseStage(op token) []string {
	p.take(op)
	st := &parseStage{pos: op.pos}
	st.from, st.field = p.source(op)
	t := p.peekO()
	if isIdent(t, "regex") {
		p.failAt(t, `parse regex is not supported; use a pattern in which * marks each field, as in parse "user=* " as user`)
	}
	after := `"parse"`
	if st.field {
		after = "the field"
	}
	if t.kind != tString {
		p.unexpected(t, after, `a quoted pattern such as "* from *"`)
	}
	p.take(t)
	st.lits = splitWildcards(t.val, true)
	n := len(st.lits) - 1
	if n == 0 {
		p.failAt(t, `the parse pattern has no * to mark a field to extract`)
	}
	as := p.peekO()
	if !isIdent(as, "as") {
		p.unexpected(as, "the parse pattern", `"as"`)
	}
	p.take(as)
	names := p.nameList(`"as"`)
	if len(names) != n {
		p.failAt(as, "the pattern has %d * but %s \"as\"", n, follow(len(names)))
	}
	more := []string{`","`, `"nodrop"`}
	if t := p.peekO(); isIdent(t, "nodrop") {
		p.take(t)
		st.nodrop = true
		more = nil
	}
	for _, name := range names {
		st.outs = append(st.outs, p.define(name.text))
	}
	p.q.caps = max(p.q.caps, n)
	p.add(st)
	return more
}

// follow says how many names follow: "1 name follows", "2 names follow".
func follow(n int) string {
	if n == 1 {
		return "1 name follows"
	}
	return fmt.Sprintf("%d names follow", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (p *parser) aggStage(op token) []string {
	st := &aggStage{pos: op.pos}
	after := ""
	for {
		t := p.peekO()
		fn := strings.ToLower(t.text)
		if t.kind != tIdent || !aggFuncs[fn] {
			p.unexpected(t, after, "an aggregate function (count, sum, avg, min or max)")
		}
		p.take(t)
		f := aggFunc{pos: t.pos, fn: fn}
		if fn == "count" {
			if c := p.peekO(); c.kind == tLParen {
				p.failAt(c, "count takes no field; to count records that have a field x, use where !isNull(x) | count")
			}
		} else {
			open := p.peekO()
			if open.kind != tLParen {
				p.unexpected(open, quoteFound(t.text), `"("`)
			}
			p.take(open)
			name := p.fieldName(quoteFound(t.text + "("))
			c := p.ref(name)
			f.field = fieldExpr{pos: name.pos, name: name.text, slot: c.slot}
			if cl := p.peekO(); cl.kind != tRParen {
				p.unexpected(cl, quoteFound(t.text+"("+name.text), `")"`)
			} else {
				p.take(cl)
			}
		}
		f.out.name = "_" + fn
		if as := p.peekO(); isIdent(as, "as") {
			p.take(as)
			f.out.name, f.alias = p.fieldName(`"as"`).text, true
		}
		st.funcs = append(st.funcs, f)
		if !isPunct(p.peekO(), ",") {
			break
		}
		p.take(p.peekO())
		after = `","`
	}
	more := []string{`","`, `"by"`}
	var cols []column
	if by := p.peekO(); isIdent(by, "by") {
		p.take(by)
		for _, t := range p.nameList(`"by"`) {
			c := p.ref(t)
			if !p.sch.closed {
				c.name = canonicalName(t.text) // the spelling of this query's by
			}
			st.by = append(st.by, c)
			cols = append(cols, c)
		}
		more = []string{`","`}
	}
	for i := range st.funcs {
		f := &st.funcs[i]
		for _, c := range cols {
			if strings.EqualFold(c.name, f.out.name) {
				p.fail(f.pos, "column %s is named twice; name one with as", quoteFound(f.out.name))
			}
		}
		f.out.slot = p.slot(f.out.name)
		cols = append(cols, f.out)
	}
	p.sch = schema{rows: true, closed: true, cols: cols, why: quoteFound(op.text)}
	p.add(st)
	return more
}

func (p *parser) sortStage(op token) []string {
	p.take(op)
	after := quoteFound(op.text)
	if by := p.peekO(); isIdent(by, "by") {
		p.take(by)
		after = `"by"`
	} else if strings.EqualFold(op.text, "order") {
		p.unexpected(by, `"order"`, `"by"`)
	}
	st := &sortStage{pos: op.pos}
	var more []string
	for {
		t := p.fieldName(after)
		c := p.ref(t)
		k := sortKey{field: fieldExpr{pos: t.pos, name: t.text, slot: c.slot}}
		more = []string{`","`, `"asc"`, `"desc"`}
		if d := p.peekO(); isIdent(d, "asc") || isIdent(d, "desc") {
			p.take(d)
			k.asc = isIdent(d, "asc")
			more = []string{`","`}
		}
		st.keys = append(st.keys, k)
		if !isPunct(p.peekO(), ",") {
			break
		}
		p.take(p.peekO())
		after = `","`
	}
	if !p.sch.rows {
		p.sorted = true
	}
	p.add(st)
	return more
}

func (p *parser) limitStage(op token) []string {
	p.take(op)
	t := p.peekO()
	if t.kind != tNumber {
		p.unexpected(t, `"limit"`, "a whole number")
	}
	p.take(t)
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 1 || n > maxLimit {
		p.failAt(t, "limit must be a whole number from 1 to %d, found %s", maxLimit, quoteFound(t.text))
	}
	st := &limitStage{pos: op.pos, n: n, idx: len(p.q.stages)}
	p.add(st)
	return nil
}

func (p *parser) fieldsStage(op token) []string {
	p.take(op)
	st := &fieldsStage{pos: op.pos}
	after := `"fields"`
	if t := p.peekO(); isPunct(t, "-") {
		p.take(t)
		st.minus = true
		after = `"fields -"`
	}
	names := p.nameList(after)
	for _, t := range names {
		c := p.ref(t)
		c.name = canonicalName(t.text)
		if i := slices.IndexFunc(p.sch.cols, func(x column) bool { return x.slot == c.slot }); i >= 0 && p.sch.closed {
			c = p.sch.cols[i]
		}
		st.names = append(st.names, c)
	}
	switch {
	case !st.minus:
		p.sch.closed, p.sch.cols, p.sch.removed, p.sch.why = true, slices.Clone(st.names), nil, `"fields"`
	case p.sch.closed:
		p.sch.cols = slices.DeleteFunc(p.sch.cols, func(c column) bool {
			return slices.ContainsFunc(st.names, func(n column) bool { return n.slot == c.slot })
		})
		if len(p.sch.cols) == 0 {
			p.fail(op.pos, "fields - would remove every field")
		}
	default:
		if p.sch.removed == nil {
			p.sch.removed = map[string]bool{}
		}
		for _, n := range st.names {
			p.sch.removed[strings.ToLower(n.name)] = true
		}
		p.sch.cols = slices.DeleteFunc(p.sch.cols, func(c column) bool {
			return slices.ContainsFunc(st.names, func(n column) bool { return n.slot == c.slot })
		})
	}
	p.add(st)
	return []string{`","`}
}

// finish works out the plan and the result's shape.
