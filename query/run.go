package query

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Defaults for Options.
const (
	DefaultMaxMessages = 100
	DefaultMaxGroups   = 10_000
)

// Options bound the memory of one Run.
type Options struct {
	// MaxMessages is how many messages a query that returns messages keeps
	// in Result.Messages; the rest are only counted in Result.Matched.
	// Zero or less means DefaultMaxMessages.
	MaxMessages int
	// MaxGroups is how many groups each aggregate keeps. Records of further
	// groups are left out and counted in Result.Uncounted, and
	// Result.Truncated is set. Zero or less means DefaultMaxGroups.
	MaxGroups int
}

// Result is the answer to a query.
type Result struct {
	// Aggregate is set when the query has an aggregate: the answer is Rows.
	// Otherwise it is Messages.
	Aggregate bool
	// Columns names the fields of Rows, in order; for messages, the fields
	// the operators extracted (or those the fields operator lists).
	Columns []string
	// Rows are an aggregate's rows, each mapping every column to a string,
	// an int64 (counts and other whole numbers), a float64, or nil (min, max
	// and avg of no numbers). Without sort, groups come in the order their
	// first record was read.
	Rows []map[string]any
	// Messages are the first Options.MaxMessages matching records in the
	// order they were read (newest first if the caller reads newest first),
	// or in the query's sort order. Fields holds each record's fields and
	// the fields the operators extracted.
	Messages []Record
	// Scanned is how many records Run read.
	Scanned int
	// Matched is, for messages, how many records the query returns (Messages
	// holds the first of them); for an aggregate, how many records reached
	// the first aggregate.
	Matched int
	// Truncated is set when an aggregate reached Options.MaxGroups: the
	// records of groups beyond it, Uncounted of them, are missing from the
	// rows, which are therefore incomplete.
	Truncated bool
	Uncounted int
}

// Records adapts a slice to Run's reader.
func Records(rs []Record) func() (Record, bool, error) {
	i := 0
	return func() (Record, bool, error) {
		if i == len(rs) {
			return Record{}, false, nil
		}
		i++
		return rs[i-1], true, nil
	}
}

// Run runs the query with the default Options. See RunWith.
func (q *Query) Run(ctx context.Context, next func() (Record, bool, error)) (*Result, error) {
	return q.RunWith(ctx, Options{}, next)
}

// RunWith reads records from next until it reports no more (false), applies
// the query to each as it is read, and returns the result. next is called
// from this goroutine only; an error from it ends the run. Records are read
// once and not kept, except the messages of the result, whose Fields are
// copies. Run may stop reading before the end when the answer cannot change
// (limit), and it checks ctx every few thousand records.
func (q *Query) RunWith(ctx context.Context, opt Options, next func() (Record, bool, error)) (*Result, error) {
	if opt.MaxMessages <= 0 {
		opt.MaxMessages = DefaultMaxMessages
	}
	if opt.MaxGroups <= 0 {
		opt.MaxGroups = DefaultMaxGroups
	}
	rs := &run{
		q:      q,
		counts: make([]int, len(q.stages)),
		caps:   make([]string, q.caps),
	}
	res := &Result{Aggregate: q.aggregate, Columns: q.Columns()}

	var (
		agg *aggregator
		top *topK
	)
	if q.split < len(q.stages) {
		switch s := q.stages[q.split].(type) {
		case *aggStage:
			agg = newAggregator(q, s, opt.MaxGroups)
		case *sortStage:
			top = &topK{keys: s.keys, k: opt.MaxMessages}
			for _, t := range q.stages[q.split+1:] {
				if l, ok := t.(*limitStage); ok {
					top.limit = l.n
					top.k = min(top.k, l.n)
				}
			}
		}
	}
	stream := make([]rowStage, q.split)
	for i, s := range q.stages[:q.split] {
		stream[i] = s.(rowStage)
	}

	var rec Record
	r := &row{q: q, vals: make([]value, len(q.slots)), rec: &rec}
	for !rs.done {
		if res.Scanned%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var ok bool
		var err error
		rec, ok, err = next()
		if err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		if !ok {
			break
		}
		res.Scanned++
		if q.search != nil && !q.search.match(&rec) {
			continue
		}
		clear(r.vals)
		if !rs.pass(stream, r) {
			continue
		}
		res.Matched++
		switch {
		case agg != nil:
			agg.add(r)
		case top != nil:
			top.offer(r, res.Matched)
		case len(res.Messages) < opt.MaxMessages:
			res.Messages = append(res.Messages, r.message())
		}
	}

	switch {
	case top != nil:
		res.Messages = top.sorted()
		if top.limit > 0 {
			res.Matched = min(res.Matched, top.limit)
		}
	case agg != nil:
		rows := agg.rows()
		res.Truncated, res.Uncounted = agg.truncated, agg.uncounted
		for _, s := range q.stages[q.split+1:] {
			rows = rs.batch(s, rows, opt, res)
		}
		res.Rows = make([]map[string]any, len(rows))
		for i, r := range rows {
			m := make(map[string]any, len(q.columns))
			for _, c := range q.columns {
				m[c.name] = r.vals[c.slot].export()
			}
			res.Rows[i] = m
		}
	}
	return res, nil
}

// run is the state of one Run.
type run struct {
	q      *Query
	counts []int    // limit counters, by stage index
	caps   []string // parse's captures
	doc    jsonDoc
	done   bool // a limit is reached: read no more
}

func (rs *run) pass(stages []rowStage, r *row) bool {
	for _, s := range stages {
		if !s.apply(rs, r) {
			return false
		}
	}
	return true
}

// batch applies an operator after the first aggregate to all its rows.
func (rs *run) batch(s stage, rows []*row, opt Options, res *Result) []*row {
	switch s := s.(type) {
	case *aggStage:
		a := newAggregator(rs.q, s, opt.MaxGroups)
		for _, r := range rows {
			a.add(r)
		}
		res.Truncated = res.Truncated || a.truncated
		res.Uncounted += a.uncounted
		return a.rows()
	case *sortStage:
		slices.SortStableFunc(rows, func(a, b *row) int { return compareKeys(s.keys, a.keyValues(s.keys), b.keyValues(s.keys)) })
		return rows
	case *limitStage:
		return rows[:min(len(rows), s.n)]
	case rowStage:
		return slices.DeleteFunc(rows, func(r *row) bool { return !s.apply(rs, r) })
	}
	panic(fmt.Sprintf("query: no batch form for %T", s))
}

// row is a record or an aggregate's row as the operators see it: the fields
// the operators set, by slot, over the record's own fields.
type row struct {
	q    *Query
	vals []value
	rec  *Record // nil for an aggregate's row
}

func (r *row) get(slot int) value {
	if v := r.vals[slot]; v.k != kNull || r.rec == nil {
		return v
	}
	s := &r.q.slots[slot]
	switch s.src {
	case fromRaw:
		return textValue(r.rec.Message)
	case fromTime:
		if r.rec.Time.IsZero() {
			return value{}
		}
		return numValue(float64(r.rec.Time.UnixMilli()))
	}
	if v, ok := lookupField(r.rec.Fields, s.name); ok {
		return textValue(v)
	}
	return value{}
}

// message copies the record for the result, with the fields it shows.
func (r *row) message() Record {
	q := r.q
	m := Record{Time: r.rec.Time, Message: r.rec.Message, Fields: map[string]string{}}
	if q.open {
		for k, v := range r.rec.Fields {
			if !slices.ContainsFunc(q.removed, func(name string) bool { return strings.EqualFold(k, name) }) {
				m.Fields[k] = v
			}
		}
		for _, c := range q.columns {
			if v := r.vals[c.slot]; v.k != kNull {
				m.Fields[c.name] = v.text()
			}
		}
		return m
	}
	for _, c := range q.columns {
		if v := r.get(c.slot); v.k != kNull {
			m.Fields[c.name] = v.text()
		}
	}
	return m
}

func (r *row) keyValues(keys []sortKey) []value {
	vs := make([]value, len(keys))
	for i, k := range keys {
		vs[i] = r.get(k.field.slot)
	}
	return vs
}

// compareKeys orders two rows' sort key values: each key descending unless
// asc, null last either way.
func compareKeys(keys []sortKey, a, b []value) int {
	for i, k := range keys {
		c := orderValues(a[i], b[i])
		if !k.asc && a[i].k != kNull && b[i].k != kNull {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// topK keeps the first k messages of a sort as they stream past: a heap
// whose root is the last of those kept, replaced when a better one comes.
type topK struct {
	keys  []sortKey
	k     int
	limit int // a limit after the sort, or 0
	items []topItem
}

type topItem struct {
	keys []value
	seq  int // read order: ties keep it
	rec  Record
}

// after reports whether a sorts after b.
func (t *topK) after(a, b *topItem) bool {
	if c := compareKeys(t.keys, a.keys, b.keys); c != 0 {
		return c > 0
	}
	return a.seq > b.seq
}

func (t *topK) offer(r *row, seq int) {
	it := topItem{keys: r.keyValues(t.keys), seq: seq}
	if len(t.items) == t.k {
		if !t.after(&t.items[0], &it) {
			return
		}
		it.rec = r.message()
		t.items[0] = it
		t.down(0)
		return
	}
	it.rec = r.message()
	t.items = append(t.items, it)
	for i := len(t.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !t.after(&t.items[i], &t.items[parent]) {
			break
		}
		t.items[i], t.items[parent] = t.items[parent], t.items[i]
		i = parent
	}
}

func (t *topK) down(i int) {
	for {
		worst, l, r := i, 2*i+1, 2*i+2
		if l < len(t.items) && t.after(&t.items[l], &t.items[worst]) {
			worst = l
		}
		if r < len(t.items) && t.after(&t.items[r], &t.items[worst]) {
			worst = r
		}
		if worst == i {
			return
		}
		t.items[i], t.items[worst] = t.items[worst], t.items[i]
		i = worst
	}
}

func (t *topK) sorted() []Record {
	slices.SortFunc(t.items, func(a, b topItem) int {
		if t.after(&a, &b) {
			return 1
		}
		if t.after(&b, &a) {
			return -1
		}
		return 0
	})
	recs := make([]Record, len(t.items))
	for i, it := range t.items {
		recs[i] = it.rec
	}
	return recs
}

// aggregator computes one aggregate stage over the rows added to it.
type aggregator struct {
	q         *Query
	st        *aggStage
	max       int
	groups    map[string]*group
	order     []*group // in order of first appearance
	key       []byte   // scratch for the group key
	truncated bool
	uncounted int
}

type group struct {
	by    []value
	count int64
	accs  []acc
}

// acc accumulates one of sum, avg, min and max over the numbers it sees.
type acc struct {
	n             int64
	sum, min, max float64
}

func newAggregator(q *Query, st *aggStage, max int) *aggregator {
	return &aggregator{q: q, st: st, max: max, groups: map[string]*group{}}
}

func (a *aggregator) add(r *row) {
	a.key = a.key[:0]
	for _, c := range a.st.by {
		a.key = appendKey(a.key, r.get(c.slot))
	}
	g, ok := a.groups[string(a.key)]
	if !ok {
		if len(a.order) >= a.max {
			a.truncated = true
			a.uncounted++
			return
		}
		g = &group{by: make([]value, len(a.st.by)), accs: make([]acc, len(a.st.funcs))}
		for i, c := range a.st.by {
			v := r.get(c.slot)
			if v.k == kNull {
				v = textValue("")
			}
			v.s = strings.Clone(v.s) // do not keep the record's memory alive
			g.by[i] = v
		}
		a.groups[string(a.key)] = g
		a.order = append(a.order, g)
	}
	g.count++
	for i, f := range a.st.funcs {
		if f.fn == "count" {
			continue
		}
		x, ok := r.get(f.field.slot).number()
		if !ok {
			continue
		}
		ac := &g.accs[i]
		if ac.n == 0 {
			ac.min, ac.max = x, x
		}
		ac.n++
		ac.sum += x
		ac.min = math.Min(ac.min, x)
		ac.max = math.Max(ac.max, x)
	}
}

// appendKey encodes v into a group key: a kind byte, then the number's bits
// or the text's length and bytes, so different values never share a key. A
// missing field groups with the empty text.
func appendKey(b []byte, v value) []byte {
	if v.k == kNum {
		b = append(b, 'n')
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.n))
	}
	b = append(b, 't')
	b = binary.AppendUvarint(b, uint64(len(v.s)))
	return append(b, v.s...)
}

// rows returns one row per group. Without "by" there is always one row, so
// count over no records is 0 rather than no answer.
func (a *aggregator) rows() []*row {
	if len(a.st.by) == 0 && len(a.order) == 0 {
		a.order = append(a.order, &group{accs: make([]acc, len(a.st.funcs))})
	}
	rows := make([]*row, len(a.order))
	for i, g := range a.order {
		r := &row{q: a.q, vals: make([]value, len(a.q.slots))}
		for j, c := range a.st.by {
			r.vals[c.slot] = g.by[j]
		}
		for j, f := range a.st.funcs {
			ac := g.accs[j]
			var v value
			switch {
			case f.fn == "count":
				v = numValue(float64(g.count))
			case f.fn == "sum":
				v = numValue(ac.sum)
			case ac.n == 0: // avg, min, max of no numbers
			case f.fn == "avg":
				v = numValue(ac.sum / float64(ac.n))
			case f.fn == "min":
				v = numValue(ac.min)
			default:
				v = numValue(ac.max)
			}
			r.vals[f.out.slot] = v
		}
		rows[i] = r
	}
	a.groups = nil
	return rows
}
