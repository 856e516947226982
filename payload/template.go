// Package payload renders the JSON payload of a connection from an alert.
//
// A template is JSON text in which {{Name}}-style variables may appear, as in
// Sumo Logic's webhook connections. Rendering is JSON-aware: a variable
// inside a JSON string is inserted string-escaped, and a variable standing
// alone as a value inserts a real JSON value (the result rows as an array, a
// count as a number). Parse validates the template once so that every
// rendering is valid JSON whatever the alert holds; Render then only copies
// precompiled segments and values, so one Template serves many alerts, from
// many goroutines at once.
//
// docs/payload.md lists the variables and the rules for users.
package payload

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of objects and arrays. Payloads nest a few
// levels; the bound keeps a hostile template from recursing without end.
const maxDepth = 1000

// SyntaxError says why a template cannot render to valid JSON and where.
type SyntaxError struct {
	Line   int // 1-based
	Column int // 1-based, in characters (runes), not bytes
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Template is a parsed payload template. It is immutable and safe for
// concurrent use.
type Template struct {
	segs     []segment
	names    []string // as written, in order of first use
	unknown  []string // sorted
	sizeHint int
}

// segment is literal template text followed by at most one variable.
type segment struct {
	lit string
	v   *ref
}

// ref is one use of a variable.
type ref struct {
	name  string // as written, trimmed
	key   string // the Alert.Variables key for kindExtra and kindAlertName
	kind  kind
	bare  bool   // a JSON value of its own, not inside a string
	field string // for kindResultsField
	index int    // row for kindResultsField; -1: none given, the first row
}

// Parse parses and validates a payload template. A template that cannot
// render to valid JSON is rejected with a *SyntaxError giving the line and
// column of the problem in src.
func Parse(src string) (*Template, error) {
	p := &parser{src: src}
	if err := p.parse(); err != nil {
		return nil, err
	}
	t := &Template{segs: p.segs}
	seen := make(map[string]bool)
	unknown := make(map[string]bool)
	for _, s := range t.segs {
		if s.v == nil {
			continue
		}
		t.sizeHint += len(s.lit) + 32
		if !seen[s.v.name] {
			seen[s.v.name] = true
			t.names = append(t.names, s.v.name)
		}
		if _, ok := resolve(s.v.name); !ok && !unknown[s.v.name] {
			unknown[s.v.name] = true
			t.unknown = append(t.unknown, s.v.name)
		}
	}
	t.sizeHint += len(t.segs[len(t.segs)-1].lit)
	slices.Sort(t.unknown)
	return t, nil
}

// Variables returns every variable name the template uses, as written, in
// order of first use. Spellings that differ only in case are listed apart.
func (t *Template) Variables() []string { return slices.Clone(t.names) }

// Unknown returns the variable names, as written, that are not in Reference,
// sorted. They still render from Alert.Variables when an alert sets them,
// and as empty otherwise.
func (t *Template) Unknown() []string { return slices.Clone(t.unknown) }

// parser checks src against the JSON grammar extended with {{variables}} and
// cuts it into segments as it goes.
type parser struct {
	src      string
	pos      int
	depth    int
	litStart int // start of the literal text not yet in a segment
	segs     []segment
}

func (p *parser) parse() error {
	p.ws()
	if p.pos == len(p.src) {
		return p.errAt(0, "template is empty")
	}
	if err := p.value(); err != nil {
		return err
	}
	p.ws()
	if p.pos < len(p.src) {
		return p.unexpected("end of template after the JSON value")
	}
	p.segs = append(p.segs, segment{lit: p.src[p.litStart:]})
	return nil
}

func (p *parser) errAt(off int, format string, args ...any) *SyntaxError {
	line, col := 1, 1
	for i := 0; i < off; {
		if p.src[i] == '\n' {
			line, col = line+1, 1
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(p.src[i:])
		i += n
		col++
	}
	return &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports what is at p.pos where want was expected.
func (p *parser) unexpected(want string) *SyntaxError {
	if p.pos >= len(p.src) {
		return p.errAt(p.pos, "unexpected end of template; expected %s", want)
	}
	return p.errAt(p.pos, "unexpected %s; expected %s", p.describe(p.pos), want)
}

func (p *parser) describe(off int) string {
	if strings.HasPrefix(p.src[off:], "{{") {
		return "variable"
	}
	r, n := utf8.DecodeRuneInString(p.src[off:])
	switch {
	case r == utf8.RuneError && n == 1:
		return "invalid UTF-8"
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("control character U+%04X", r)
	}
	return fmt.Sprintf("%q", r)
}

func (p *parser) ws() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) hasPrefix(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

// value parses one JSON value, or one bare variable, at p.pos.
func (p *parser) value() error {
	if p.pos >= len(p.src) {
		return p.unexpected("a value")
	}
	switch c := p.src[p.pos]; {
	case p.hasPrefix("{{"):
		return p.bareVariable()
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.keyword("true")
	case c == 'f':
		return p.keyword("false")
	case c == 'n':
		return p.keyword("null")
	}
	return p.unexpected("a value")
}

func (p *parser) keyword(w string) error {
	if !p.hasPrefix(w) {
		// Point at the first character that differs.
		for i := 0; i < len(w) && p.pos < len(p.src) && p.src[p.pos] == w[i]; i++ {
			p.pos++
		}
		return p.unexpected(fmt.Sprintf("%q", w))
	}
	p.pos += len(w)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(p.pos, "objects and arrays nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) object() error {
	return p.list('}', func() error {
		switch {
		case p.hasPrefix("{{"):
			return p.errAt(p.pos, "an object key must be a string; put the variable in quotes")
		case p.pos >= len(p.src) || p.src[p.pos] != '"':
			return p.unexpected("a string key")
		}
		if err := p.str(); err != nil {
			return err
		}
		p.ws()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return p.unexpected("':' after the object key")
		}
		p.pos++
		p.ws()
		return p.value()
	})
}

func (p *parser) array() error {
	return p.list(']', p.value)
}

// list parses the members of an object or array, the opening bracket at
// p.pos: member parses one key and value, or one value, and list handles
// the commas, a trailing comma and the closing bracket.
func (p *parser) list(closing byte, member func() error) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // { or [
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == closing {
		p.pos++
		p.depth--
		return nil
	}
	for {
		if err := member(); err != nil {
			return err
		}
		p.ws()
		if p.pos >= len(p.src) {
			return p.unexpected(fmt.Sprintf("',' or '%c'", closing))
		}
		switch p.src[p.pos] {
		case closing:
			p.pos++
			p.depth--
			return nil
		case ',':
			comma := p.pos
			p.pos++
			p.ws()
			if p.pos < len(p.src) && p.src[p.pos] == closing {
				return p.errAt(comma, "trailing comma before '%c'", closing)
			}
		default:
			return p.unexpected(fmt.Sprintf("',' or '%c'", closing))
		}
	}
}

func (p *parser) number() error {
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.src[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.src) && p.src[p.pos] == '0':
		p.pos++
	case digits() == 0:
		return p.unexpected("a digit")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return p.unexpected("a digit after the decimal point")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.unexpected("a digit in the exponent")
		}
	}
	return nil
}

// str parses a JSON string, key or value, and the variables inside it.
func (p *parser) str() error {
	open := p.pos
	p.pos++
	for {
		if p.pos >= len(p.src) {
			return p.errAt(open, "string is never closed")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return nil
		case c == '\\':
			if err := p.escape(); err != nil {
				return err
			}
		case c == '\n' || c == '\r':
			return p.errAt(p.pos, "line break inside a string; close the string or write \\n")
		case c < 0x20:
			return p.errAt(p.pos, "control character U+%04X inside a string; write it escaped", c)
		case c == '{' && p.hasPrefix("{{"):
			name, end, ok := scanVariable(p.src, p.pos)
			if !ok {
				p.pos++ // not a variable: literal text
				continue
			}
			p.emit(name, false, end)
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(p.src[p.pos:])
			if r == utf8.RuneError && n == 1 {
				return p.errAt(p.pos, "invalid UTF-8")
			}
			p.pos += n
		default:
			p.pos++
		}
	}
}

func (p *parser) escape() error {
	p.pos++ // backslash
	if p.pos >= len(p.src) {
		return p.unexpected("an escape character")
	}
	switch p.src[p.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		p.pos++
		return nil
	case 'u':
		p.pos++
		for range 4 {
			if p.pos >= len(p.src) || !isHex(p.src[p.pos]) {
				return p.unexpected("a hexadecimal digit of a \\u escape")
			}
			p.pos++
		}
		return nil
	}
	return p.errAt(p.pos-1, "invalid escape \\%s inside a string", p.describeRaw(p.pos))
}

func (p *parser) describeRaw(off int) string {
	r, n := utf8.DecodeRuneInString(p.src[off:])
	if r < 0x20 || r == 0x7f || r == utf8.RuneError && n == 1 {
		return p.describe(off)
	}
	return string(r)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// bareVariable parses a variable that stands for a whole JSON value.
func (p *parser) bareVariable() error {
	name, end, ok := scanVariable(p.src, p.pos)
	if !ok {
		return p.variableError()
	}
	p.emit(name, true, end)
	return nil
}

// variableError explains why the {{ at p.pos does not start a variable.
func (p *parser) variableError() error {
	open := p.pos
	i := open + 2
	for i < len(p.src) && p.src[i] == ' ' {
		i++
	}
	start := i
	for i < len(p.src) && isNameByte(p.src[i]) {
		i++
	}
	switch {
	case i >= len(p.src):
		return p.errAt(open, "{{ is never closed")
	case strings.HasPrefix(p.src[i:], "}}"):
		name := strings.TrimRight(p.src[start:i], " ")
		if name == "" {
			return p.errAt(open, "empty variable name")
		}
		return p.errAt(start, "invalid variable name %q", truncate(name))
	case p.src[i] == '}':
		return p.errAt(i, "expected }} to close the variable")
	}
	return p.errAt(i, "unexpected %s in variable name", p.describe(i))
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// emit ends the current literal at p.pos with a use of name, and continues
// after end. A field variable may be followed by Sumo's row index, "[N]".
func (p *parser) emit(name string, bare bool, end int) {
	r, _ := resolve(name)
	r.bare = bare
	if r.kind == kindResultsField {
		if idx, n := scanIndex(p.src[end:]); n > 0 {
			r.index = idx
			end += n
		}
	}
	p.segs = append(p.segs, segment{lit: p.src[p.litStart:p.pos], v: &r})
	p.pos, p.litStart = end, end
}

// scanIndex reads "[N]" at the start of s: the row index and its length.
// An index too large for any row list is kept as the largest int.
func scanIndex(s string) (idx, n int) {
	if len(s) < 3 || s[0] != '[' {
		return 0, 0
	}
	i := 1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if idx < 1<<30 {
			idx = idx*10 + int(s[i]-'0')
		}
		i++
	}
	if i == 1 || i >= len(s) || s[i] != ']' {
		return 0, 0
	}
	return idx, i + 1
}

// isNameByte reports the characters a variable token may hold between its
// braces: a name, a dot before a result field, and spaces (padding, and
// inside result field names, which Sumo allows).
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == ' '
}

// scanVariable reads a variable token "{{ name }}" at src[at:]. It returns
// the trimmed name and the offset after the closing braces. A name starts
// with a letter or underscore and holds letters, digits and underscores; after
// a dot comes a result field name, which may also hold spaces, dots and
// hyphens.
func scanVariable(src string, at int) (name string, end int, ok bool) {
	i := at + 2
	for i < len(src) && isNameByte(src[i]) {
		i++
	}
	if !strings.HasPrefix(src[i:], "}}") {
		return "", 0, false
	}
	name = strings.Trim(src[at+2:i], " ")
	if name == "" {
		return "", 0, false
	}
	if c := name[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
		return "", 0, false
	}
	head, field, dotted := strings.Cut(name, ".")
	for j := 0; j < len(head); j++ {
		if c := head[j]; c == ' ' || c == '-' {
			return "", 0, false
		}
	}
	if dotted && strings.Trim(field, " ") == "" {
		return "", 0, false
	}
	return name, i + 2, true
}
