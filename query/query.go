// Package query is Hookline's log search language: parsing a query once and
// running it over a stream of records.
//
// The language follows Sumo Logic's so that its users' queries and habits
// carry over: a search expression of keywords and field=value terms, then
// operators separated by "|":
//
//	_sourceCategory=web "GET" | parse "* from *" as req, ip | count by ip | where _count > 100 | sort by _count
//
// Parse checks a query completely — syntax, operator names, the fields each
// operator refers to — and explains a rejection with a *SyntaxError that
// gives the line, column, what was expected and what was found. Run then
// reads records once, in the caller's order, with bounded memory: a query
// that returns messages keeps at most Options.MaxMessages of them and counts
// the rest; an aggregate keeps at most Options.MaxGroups groups.
//
// The package owns the language and its evaluation, not storage: the caller
// selects the records of the time range (optionally narrowed by Terms) and
// hands them to Run. docs/query.md is the reference for users.
package query

import (
	"strings"
	"time"
)

// Record is one log message and its metadata.
type Record struct {
	Time    time.Time
	Message string
	// Fields holds the record's metadata and fields set at ingest, keyed by
	// name: _sourceCategory, _sourceHost, _sourceName, and any others. Run
	// reads it and never changes it, and keeps no reference to the map once
	// it asks for the next record, so a reader may refill one map for every
	// record.
	Fields map[string]string
}

// Query is a parsed query. It is immutable and safe for concurrent use: each
// Run keeps its state apart.
type Query struct {
	search snode   // nil: every record
	stages []stage // in query order
	// split is the index of the stage that needs every record before it
	// can answer: the first aggregate, or a sort of messages. Stages before
	// it run on each record as it is read; len(stages) if there is none.
	split int
	slots []slotInfo // every field the query names, by slot
	caps  int        // the most fields one parse extracts

	aggregate bool
	columns   []column // the result's columns, in order
	// For messages (not aggregates): whether a message keeps all its fields
	// (open) or only columns, and the fields "fields -" removed.
	open    bool
	removed []string

	terms Terms
}

// column is a named field of the result.
type column struct {
	name string
	slot int
}

// source says where a record supplies a field that no operator has set.
type source uint8

const (
	fromFields source = iota // Record.Fields
	fromRaw                  // _raw: Record.Message
	fromTime                 // _messageTime: Record.Time in milliseconds
)

// slotInfo describes one field the query names. Field names are compared
// ignoring case, as in Sumo Logic; name is the first spelling in the query,
// or the usual spelling of a built-in field.
type slotInfo struct {
	name string
	src  source
}

// builtins are the fields every record has, by lower-case name.
var builtins = map[string]slotInfo{
	"_raw":            {"_raw", fromRaw},
	"_messagetime":    {"_messageTime", fromTime},
	"_sourcecategory": {"_sourceCategory", fromFields},
	"_sourcehost":     {"_sourceHost", fromFields},
	"_sourcename":     {"_sourceName", fromFields},
	"_source":         {"_source", fromFields},
	"_collector":      {"_collector", fromFields},
}

// canonicalName spells a built-in field the usual way and leaves others alone.
func canonicalName(name string) string {
	if b, ok := builtins[strings.ToLower(name)]; ok {
		return b.name
	}
	return name
}

// lookupField finds name in fields: exactly, or else ignoring case.
func lookupField(fields map[string]string, name string) (string, bool) {
	if v, ok := fields[name]; ok {
		return v, true
	}
	for k, v := range fields {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Terms returns conditions every record the query matches satisfies, for a
// store to narrow what it reads. See Terms (the type) for the contract.
func (q *Query) Terms() Terms {
	t := Terms{Keywords: append([]string(nil), q.terms.Keywords...)}
	for _, f := range q.terms.Fields {
		t.Fields = append(t.Fields, FieldTerm{Field: f.Field, Values: append([]FieldValue(nil), f.Values...)})
	}
	return t
}

// Aggregate reports whether the query answers with rows (it has count, sum,
// avg, min or max) rather than messages.
func (q *Query) Aggregate() bool { return q.aggregate }

// Columns returns the names of the result's columns: for an aggregate, the
// group fields and the aggregates' names; for messages, the fields the
// operators extract (or those "fields" lists).
func (q *Query) Columns() []string {
	names := make([]string, len(q.columns))
	for i, c := range q.columns {
		names[i] = c.name
	}
	return names
}
