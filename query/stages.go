package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// stage is one operator after a "|".
type stage interface {
	at() int // byte offset of the operator's name
}

// rowStage is an operator that looks at one row at a time: it may set fields
// and may drop the row (apply returns false).
type rowStage interface {
	stage
	apply(rs *run, r *row) bool
}

type jsonStage struct {
	pos    int
	from   column // the field holding the JSON; _raw by default
	field  bool   // from was given with field=
	keys   []jsonKey
	named  bool // names were given with "as"
	nodrop bool
}

type jsonKey struct {
	key  string // as written, escapes undone
	path []pathSeg
	out  column
}

// pathSeg is one step of a JSON key path: an object key, or an array index
// when index >= 0.
type pathSeg struct {
	key   string
	index int
}

type parseStage struct {
	pos    int
	from   column
	field  bool
	lits   []string // literal text around the * of the pattern
	outs   []column // one per *
	nodrop bool
}

type whereStage struct {
	pos  int
	cond expr
}

type aggStage struct {
	pos   int
	funcs []aggFunc
	by    []column
}

type aggFunc struct {
	pos   int
	fn    string    // count sum avg min max
	field fieldExpr // not for count
	out   column    // _count, _sum, ... or the alias
	alias bool
}

type sortStage struct {
	pos  int
	keys []sortKey
}

type sortKey struct {
	field fieldExpr
	asc   bool
}

type limitStage struct {
	pos int
	n   int
	idx int // this stage's counter in run.counts
}

type fieldsStage struct {
	pos   int
	minus bool
	names []column
}

func (s *jsonStage) at() int   { return s.pos }
func (s *parseStage) at() int  { return s.pos }
func (s *whereStage) at() int  { return s.pos }
func (s *aggStage) at() int    { return s.pos }
func (s *sortStage) at() int   { return s.pos }
func (s *limitStage) at() int  { return s.pos }
func (s *fieldsStage) at() int { return s.pos }

func (s *whereStage) apply(_ *run, r *row) bool { return r.test(s.cond) }

// fields changes only which fields the result shows, worked out at parse
// time; the parser refuses later references to fields it removed.
func (s *fieldsStage) apply(*run, *row) bool { return true }

func (s *limitStage) apply(rs *run, r *row) bool {
	c := &rs.counts[s.idx]
	if *c >= s.n {
		rs.done = true
		return false
	}
	*c++
	if *c == s.n {
		rs.done = true // nothing more can pass: stop reading after this record
	}
	return true
}

func (s *parseStage) apply(rs *run, r *row) bool {
	src := r.get(s.from.slot)
	caps := rs.caps[:len(s.outs)]
	if src.k == kNull || !matchPattern(s.lits, src.text(), caps) {
		return s.nodrop
	}
	for i, c := range s.outs {
		r.vals[c.slot] = textValue(caps[i])
	}
	return true
}

// matchPattern matches a parse pattern the way Sumo Logic's parse does: the
// first literal is found anywhere in s, and each * takes the shortest text up
// to the next literal, or the rest of s when it ends the pattern. There is no
// backtracking: after the first literal, the first occurrence of each
// literal is used.
func matchPattern(lits []string, s string, caps []string) bool {
	i := 0
	if lits[0] != "" {
		j := strings.Index(s, lits[0])
		if j < 0 {
			return false
		}
		i = j + len(lits[0])
	}
	n := len(lits) - 1
	for k := 1; k <= n; k++ {
		lit := lits[k]
		switch {
		case k == n && lit == "":
			caps[k-1] = s[i:]
		case lit == "":
			caps[k-1] = "" // "**": the first * takes the shortest text, none
		default:
			j := strings.Index(s[i:], lit)
			if j < 0 {
				return false
			}
			caps[k-1] = s[i : i+j]
			i += j + len(lit)
		}
	}
	return true
}

func (s *jsonStage) apply(rs *run, r *row) bool {
	src := r.get(s.from.slot)
	doc := &rs.doc
	if src.k == kNull || !doc.load(src.text()) {
		return s.nodrop
	}
	for _, k := range s.keys {
		v, ok := doc.lookup(k.path)
		if !ok {
			if s.nodrop {
				continue
			}
			return false
		}
		r.vals[k.out.slot] = v
	}
	return true
}

// jsonDoc is the JSON of one record, decoded one level at a time: the top
// object once per record, deeper levels only along the keys asked for.
type jsonDoc struct {
	raw []byte
	obj map[string]json.RawMessage // the top level, when it is an object
}

// load decodes s, or, when s is not JSON, the text from its first "{" (a
// JSON object after a log line's timestamp and level).
func (d *jsonDoc) load(s string) bool {
	if d.decode(s) {
		return true
	}
	if i := strings.IndexByte(s, '{'); i > 0 {
		return d.decode(s[i:])
	}
	return false
}

func (d *jsonDoc) decode(s string) bool {
	d.raw, d.obj = []byte(s), nil
	err := json.Unmarshal(d.raw, &d.obj) // checks that all of s is valid JSON
	var typeErr *json.UnmarshalTypeError
	return err == nil || errors.As(err, &typeErr) // valid JSON that is not an object
}

// lookup follows path; a JSON null is found but has no value.
func (d *jsonDoc) lookup(path []pathSeg) (value, bool) {
	cur := json.RawMessage(d.raw)
	if d.obj != nil && path[0].index < 0 {
		var ok bool
		if cur, ok = d.obj[path[0].key]; !ok {
			return value{}, false
		}
		path = path[1:]
	}
	for _, seg := range path {
		if seg.index < 0 {
			var m map[string]json.RawMessage
			var ok bool
			if json.Unmarshal(cur, &m) != nil {
				return value{}, false
			}
			if cur, ok = m[seg.key]; !ok {
				return value{}, false
			}
			continue
		}
		var a []json.RawMessage
		if json.Unmarshal(cur, &a) != nil || seg.index >= len(a) {
			return value{}, false
		}
		cur = a[seg.index]
	}
	return jsonValue(cur), true
}

// jsonValue turns a JSON value into a field: a string's text, a number or
// boolean as written, an object or array as compact JSON, null as no value.
func jsonValue(raw json.RawMessage) value {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return value{}
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return value{}
		}
		return textValue(s)
	case 'n':
		return value{}
	case '{', '[':
		var b bytes.Buffer
		if json.Compact(&b, raw) != nil {
			return value{}
		}
		return textValue(b.String())
	}
	return textValue(string(raw))
}

// parsePath reads a JSON key path: keys separated by dots, array indexes in
// brackets (items[0].id). It returns a message when the path is malformed.
func parsePath(key string) ([]pathSeg, string) {
	var path []pathSeg
	i := 0
	for i < len(key) {
		if key[i] == '[' {
			j := i + 1
			for j < len(key) && isDigit(key[j]) {
				j++
			}
			if j == i+1 || j >= len(key) || key[j] != ']' || j-i-1 > 9 {
				return nil, "an array index is a number in brackets, as in items[0]"
			}
			n := 0
			for _, c := range key[i+1 : j] {
				n = n*10 + int(c-'0')
			}
			path = append(path, pathSeg{index: n})
			i = j + 1
			if i < len(key) && key[i] == '.' {
				i++
				if i == len(key) {
					return nil, "the key path ends with a dot"
				}
			} else if i < len(key) && key[i] != '[' {
				return nil, "expected . or [ after an array index"
			}
			continue
		}
		j := i
		for j < len(key) && key[j] != '.' && key[j] != '[' {
			j++
		}
		if j == i {
			return nil, "the key path has an empty key"
		}
		path = append(path, pathSeg{key: key[i:j], index: -1})
		i = j
		if i < len(key) && key[i] == '.' {
			i++
			if i == len(key) {
				return nil, "the key path ends with a dot"
			}
		}
	}
	if len(path) == 0 {
		return nil, "the key is empty"
	}
	return path, ""
}
