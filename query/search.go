package query

import "strings"

// The search expression: keywords and field=value terms joined by AND, OR
// and NOT. It decides from a record alone whether the record is in scope, so
// it runs first and is what a store can push down (Terms).

type snode interface {
	match(rec *Record) bool
}

// sKeyword matches a message that contains the pattern, ignoring case.
type sKeyword struct{ g glob }

// sField matches a record whose field's whole value matches the pattern,
// ignoring case, as Sumo Logic's _sourceCategory=prod/web* does.
type sField struct {
	name string // as written, metadata names in their usual spelling
	g    glob
}

type sAnd struct{ xs []snode }
type sOr struct{ xs []snode }
type sNot struct{ x snode }

func (n *sKeyword) match(rec *Record) bool { return n.g.match(rec.Message) }

func (n *sField) match(rec *Record) bool {
	v, ok := lookupField(rec.Fields, n.name)
	return ok && n.g.match(v)
}

func (n *sAnd) match(rec *Record) bool {
	for _, x := range n.xs {
		if !x.match(rec) {
			return false
		}
	}
	return true
}

func (n *sOr) match(rec *Record) bool {
	for _, x := range n.xs {
		if x.match(rec) {
			return true
		}
	}
	return false
}

func (n *sNot) match(rec *Record) bool { return !n.x.match(rec) }

// Terms are conditions every record a query matches satisfies, for a store to
// filter with before handing records to Run: an index on source category, a
// LIKE on the message. They are necessary, not sufficient — a store that
// applies them still passes records that the query then drops — and using
// them is optional: Run applies the whole query whatever the store did.
type Terms struct {
	// Keywords are texts every matching message contains, ignoring ASCII
	// case (SQL's LIKE '%keyword%' in SQLite). Only ASCII keywords are
	// listed, as folding other letters is not what a store's LIKE does.
	Keywords []string
	// Fields are conditions on Record.Fields that every match satisfies.
	Fields []FieldTerm
}

// FieldTerm says that a matching record's field Field matches one of Values.
type FieldTerm struct {
	Field  string // e.g. "_sourceCategory"
	Values []FieldValue
}

// FieldValue is one value of a FieldTerm, compared ignoring ASCII case: the
// field's whole value equals Value, or, with Prefix, starts with Value.
type FieldValue struct {
	Value  string
	Prefix bool
}

// terms derives the pushdown from the search expression: the conjuncts that
// are positive keywords, field terms, or ORs of terms on one field.
func terms(n snode) Terms {
	var t Terms
	var conj []snode
	switch n := n.(type) {
	case nil:
		return t
	case *sAnd:
		conj = n.xs
	default:
		conj = []snode{n}
	}
	for _, c := range conj {
		switch c := c.(type) {
		case *sKeyword:
			if c.g.re != nil {
				continue
			}
			for _, l := range c.g.lits {
				if l != "" {
					t.Keywords = append(t.Keywords, l)
				}
			}
		case *sField:
			if v, ok := fieldValue(c); ok {
				t.Fields = append(t.Fields, FieldTerm{Field: c.name, Values: []FieldValue{v}})
			}
		case *sOr:
			if ft, ok := orTerm(c); ok {
				t.Fields = append(t.Fields, ft)
			}
		}
	}
	return t
}

func fieldValue(f *sField) (FieldValue, bool) {
	if f.g.re != nil || f.g.lits[0] == "" && f.g.wildcard() {
		return FieldValue{}, false
	}
	return FieldValue{Value: f.g.lits[0], Prefix: f.g.wildcard()}, true
}

func orTerm(o *sOr) (FieldTerm, bool) {
	var ft FieldTerm
	for _, x := range o.xs {
		f, ok := x.(*sField)
		if !ok || ft.Field != "" && f.name != ft.Field {
			return FieldTerm{}, false
		}
		v, ok := fieldValue(f)
		if !ok {
			return FieldTerm{}, false
		}
		ft.Field = f.name
		ft.Values = append(ft.Values, v)
	}
	return ft, true
}

// Patterns returns the values of the first term on field (its name compared
// ignoring case), a prefix value ending in "*", or nil when no term names
// it: the form a store's pushdown of _sourceCategory takes.
func (t Terms) Patterns(field string) []string {
	for _, f := range t.Fields {
		if !strings.EqualFold(f.Field, field) {
			continue
		}
		out := make([]string, len(f.Values))
		for i, v := range f.Values {
			out[i] = v.Value
			if v.Prefix {
				out[i] += "*"
			}
		}
		return out
	}
	return nil
}
