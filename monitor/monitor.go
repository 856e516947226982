// Package monitor owns what a monitor means: checking a definition against
// its query (Validate, Compile) and the state machine that turns each
// evaluation's query result into alerts that start and recover (Evaluate),
// with the hookline.Alert and deliveries each event becomes, and running
// them every interval (Scheduler).
//
// Validate, Compile and Evaluate are pure: they read no clock and no store
// and run no query. The Scheduler does the rest: it claims due monitors
// from the store, runs each compiled query over its window's records,
// hands the result and the previous State to Evaluate, accepts the events'
// alerts and keeps the new State. docs/monitors.md describes the model.
package monitor

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
	"github.com/hookline/hookline/query"
)

// Validate checks a monitor completely: its own fields
// (hookline.Monitor.Validate), its query's syntax, that its trigger fields
// and group fields are columns of the query's result, and that its payload
// overrides render to JSON. All problems come back at once, each naming its
// field; a query's syntax error is the field "query" with its line and
// column.
func Validate(m *hookline.Monitor) error {
	_, err := Compile(m)
	return err
}

// Compile validates m as Validate does and returns its parsed query, for
// running it.
func Compile(m *hookline.Monitor) (*query.Query, error) {
	var p hookline.Problems
	p.AddError("", m.Validate())
	var q *query.Query
	if strings.TrimSpace(m.Query) != "" && utf8.RuneCountInString(m.Query) <= hookline.MaxMonitorQueryLen {
		var err error
		q, err = query.Parse(m.Query)
		var se *query.SyntaxError
		switch {
		case errors.As(err, &se):
			p.Add("query", "%s", se.Error())
		case err != nil:
			p.AddError("query", err)
		}
	}
	if q != nil {
		checkColumns(&p, m, q)
	}
	templates := map[string]error{}
	for i, n := range m.Notifications {
		at := "notifications[" + strconv.Itoa(i) + "]"
		checkOverride(&p, templates, at+".payloadOverride", n.PayloadOverride, hookline.MaxDefaultPayloadLen)
		checkOverride(&p, templates, at+".resolutionPayloadOverride", n.ResolutionPayloadOverride, hookline.MaxResolutionPayloadLen)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return q, nil
}

// checkColumns checks the fields the triggers and groups name against the
// query's result. Names the monitor's own validation refused are skipped:
// they have their problem already.
func checkColumns(p *hookline.Problems, m *hookline.Monitor, q *query.Query) {
	cols := q.Columns()
	has := func(name string) bool {
		for _, c := range cols {
			if strings.EqualFold(c, name) {
				return true
			}
		}
		return false
	}
	notColumn := func(field, name string) {
		if len(cols) == 0 {
			p.Add(field, "names %q, which is not a column of the query's result: it has none", name)
			return
		}
		p.Add(field, "names %q, which is not a column of the query's result; its columns are %s", name, strings.Join(cols, ", "))
	}
	if len(m.GroupFields) > 0 && len(m.GroupFields) <= hookline.MaxMonitorGroupFields {
		if !q.Aggregate() {
			p.Add("notificationGroupFields", "needs a query that aggregates, such as ... | count by ip: a query that returns messages keeps only the first of them, so its groups could not be counted")
		} else {
			for i, f := range m.GroupFields {
				if hookline.ValidateFieldName(f) == nil && !has(f) {
					notColumn("notificationGroupFields["+strconv.Itoa(i)+"]", f)
				}
			}
		}
	}
	for i, tr := range m.Triggers {
		if tr.Field == "" || tr.TriggerType == hookline.TriggerMissingData || hookline.ValidateFieldName(tr.Field) != nil {
			continue
		}
		at := "triggers[" + strconv.Itoa(i) + "].field"
		switch {
		case !q.Aggregate():
			p.Add(at, "needs a query that aggregates, such as ... | count by ip; leave it empty to compare the number of messages")
		case !has(tr.Field):
			notColumn(at, tr.Field)
		}
	}
}

func checkOverride(p *hookline.Problems, cache map[string]error, field, src string, max int) {
	if strings.TrimSpace(src) == "" || len(src) > max {
		return // none, or too long: the monitor's validation said so
	}
	err, done := cache[src]
	if !done {
		_, err = payload.Parse(src)
		cache[src] = err
	}
	if err != nil {
		p.Add(field, "%v", err)
	}
}

// Window is the time range one evaluation reads: Start <= Time < End.
type Window struct {
	Start, End time.Time
}

// WindowEnding returns the window of m's evaluation at end.
func WindowEnding(m *hookline.Monitor, end time.Time) Window {
	return Window{Start: end.Add(-m.Window), End: end}
}
