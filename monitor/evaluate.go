package monitor

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
	"github.com/hookline/hookline/query"
	"github.com/hookline/hookline/schedule"
)

// MaxAlertGroups bounds a monitor's active alerts: when more groups meet a
// trigger, the first in the result's order alert (sort the query to choose
// which), as the reference alerts on the top 1000 of more unique values.
// Groups already alerting keep their alert.
const MaxAlertGroups = 1000

// State is what a monitor remembers between evaluations: its active
// alerts. It is plain data, so that a store can keep it as JSON.
type State struct {
	// Alerts holds the active alerts by group key: "" for a monitor without
	// GroupFields and for MissingData, which is about the monitor as a
	// whole; otherwise the group's values as a JSON array.
	Alerts map[string]Active `json:"alerts,omitempty"`
}

// Active is one alert that has started and not yet recovered.
type Active struct {
	TriggerType hookline.TriggerType `json:"triggerType"` // Critical, Warning or MissingData
	Group       map[string]string    `json:"group,omitempty"`
	// Since is the end of the window of the evaluation that started it.
	Since time.Time `json:"since"`
	// Condition is the trigger's condition when it started, which its
	// recovery repeats even when the trigger was changed since.
	Condition string `json:"condition"`
	// Notified is false when the alert started while the monitor was
	// muted: its recovery is not sent either, since no one heard of it.
	Notified bool `json:"notified"`
}

// Event is an alert that started or recovered at an evaluation, with what
// the payload variables need.
type Event struct {
	// TriggerType is Critical, Warning or MissingData for an alert that
	// started, the Resolved* form for one that recovered.
	TriggerType hookline.TriggerType
	// GroupKey and Group name the alert group ("" and nil for the whole
	// monitor); Group maps each of the monitor's GroupFields to its value.
	GroupKey string
	Group    map[string]string
	// Since is when the alert started; for a recovery, when the alert it
	// ends started.
	Since time.Time
	// Muted events are recorded but not sent: the monitor is muted, or the
	// alert a recovery ends was.
	Muted bool

	// Results are the group's rows ({{ResultsJson}}): at most 200 aggregate
	// rows or 10 messages. For an alert raised by a field, only the rows
	// whose field met the condition. For the recovery of a group that left
	// the result, one row of the group's values, so that {{ResultsJson.ip}}
	// names it in a recovery payload too.
	Results []hookline.Row
	// NumQueryResults is the number of the group's aggregate rows, or of
	// messages the query matched: 0 for a group that left the result.
	NumQueryResults int
	// TriggerValue is the value compared with the threshold: the result
	// count, or the field of the first row that met it.
	TriggerValue string
	// TriggerCondition words the trigger: "_count is Greater than 100.0 in
	// the last 15 minutes".
	TriggerCondition string
	// TriggerTimeStart and TriggerTimeEnd are the evaluation's window; the
	// end is also the trigger time.
	TriggerTimeStart time.Time
	TriggerTimeEnd   time.Time
	Query            string
}

// Evaluate runs one step of m's state machine: given the result of its
// query over the window w and the state the previous evaluation left, it
// returns the new state and the events of alerts that started or recovered.
// An alert that goes on raises no event: one event when a trigger starts,
// one when it ends.
//
// For each group, Critical wins when both Critical and Warning are met, so
// a group has one alert at a time; a change of level ends the old alert
// (ResolvedWarning) before starting the new one (Critical), so every alert
// a receiver saw start is seen to end. When the query matched no record and
// m has a MissingData trigger, every alert ends and MissingData starts;
// when records come back, MissingData ends first.
//
// Evaluate does not change prev. A Disabled monitor, or a nil result (the
// query failed: nothing was evaluated), leaves the state as it is.
func Evaluate(m *hookline.Monitor, res *query.Result, w Window, prev State) (State, []Event) {
	if m.Disabled || res == nil {
		return prev, nil
	}
	e := &evaluation{m: m, w: w, prev: prev.Alerts, next: map[string]Active{}}
	e.rows = schedule.Rows(res)
	if res.Aggregate {
		e.cap = payload.MaxAggregateRows
	} else {
		e.cap = payload.MaxRawRows
	}

	whole := group{key: "", rows: e.rows, count: schedule.Count(res)}
	missing, wasMissing := e.prev[""]
	wasMissing = wasMissing && missing.TriggerType == hookline.TriggerMissingData
	if res.Matched == 0 && m.Trigger(hookline.TriggerMissingData) != nil {
		for _, key := range slices.Sorted(maps.Keys(e.prev)) {
			if a := e.prev[key]; a.TriggerType != hookline.TriggerMissingData {
				e.end(key, a, nil)
			}
		}
		if wasMissing {
			e.next[""] = missing
		} else {
			e.start(hookline.TriggerMissingData, &group{}, "0", nil)
		}
		return State{Alerts: e.next}, e.events
	}
	if wasMissing {
		e.end("", missing, &whole)
	}

	var groups []*group
	if len(m.GroupFields) == 0 {
		groups = []*group{&whole}
	} else {
		groups = groupRows(e.rows, m.GroupFields)
	}
	// An active group keeps its alert; new ones take the slots left.
	slots := MaxAlertGroups
	for _, g := range groups {
		g.trigger, g.value, g.met = e.judge(g)
		if _, ok := e.active(g.key); ok && g.trigger != nil {
			slots--
		}
	}
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		seen[g.key] = true
		a, had := e.active(g.key)
		switch {
		case had && g.trigger != nil && a.TriggerType == g.trigger.TriggerType:
			e.next[g.key] = a
		case had:
			e.end(g.key, a, g)
			if g.trigger != nil {
				e.start(g.trigger.TriggerType, g, g.value, g.met)
			}
		case g.trigger != nil && slots > 0:
			slots--
			e.start(g.trigger.TriggerType, g, g.value, g.met)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(e.prev)) {
		if a, ok := e.active(key); ok && !seen[key] {
			e.end(key, a, nil)
		}
	}
	return State{Alerts: e.next}, e.events
}

// evaluation is the work of one Evaluate.
type evaluation struct {
	m      *hookline.Monitor
	w      Window
	prev   map[string]Active
	next   map[string]Active
	rows   []hookline.Row
	cap    int // rows an event carries
	events []Event
}

// group is the rows of one alert group.
type group struct {
	key    string
	values map[string]string
	rows   []hookline.Row
	count  int // the result count: rows, or matched messages

	trigger *hookline.MonitorTrigger // the trigger met, or nil
	value   string                   // TriggerValue
	met     []hookline.Row           // for a field trigger, the rows that met it
}

// active returns the group's alert from the previous state; MissingData is
// not a group's.
func (e *evaluation) active(key string) (Active, bool) {
	a, ok := e.prev[key]
	return a, ok && a.TriggerType != hookline.TriggerMissingData
}

// judge returns the trigger g meets, Critical before Warning, with the
// value compared and, for a field trigger, the rows that met it.
func (e *evaluation) judge(g *group) (*hookline.MonitorTrigger, string, []hookline.Row) {
	for _, t := range []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerWarning} {
		tr := e.m.Trigger(t)
		if tr == nil {
			continue
		}
		if tr.Field == "" {
			if tr.ThresholdType.Met(float64(g.count), tr.Threshold) {
				return tr, strconv.Itoa(g.count), nil
			}
			continue
		}
		var met []hookline.Row
		value := ""
		for _, r := range g.rows {
			if x, text, ok := number(lookup(r, tr.Field)); ok && tr.ThresholdType.Met(x, tr.Threshold) {
				if met == nil {
					value = text
				}
				met = append(met, r)
			}
		}
		if met != nil {
			return tr, value, met
		}
	}
	return nil, "", nil
}

// start records a new alert of type t for g.
func (e *evaluation) start(t hookline.TriggerType, g *group, value string, met []hookline.Row) {
	cond := e.m.Trigger(t).Condition(e.m.Window)
	e.next[g.key] = Active{TriggerType: t, Group: g.values, Since: e.w.End, Condition: cond, Notified: !e.m.Muted}
	rows := g.rows
	if met != nil {
		rows = met
	}
	e.events = append(e.events, e.event(t, g.key, g.values, e.w.End, e.m.Muted, rows, g.count, value, cond))
}

// end records the recovery of alert a of group key, whose rows now are g's
// (nil: the group is not in the result).
func (e *evaluation) end(key string, a Active, g *group) {
	if g == nil {
		// The group left the result. Its values stand in as its one row,
		// so that a payload reads {{ResultsJson.ip}} alike in the alert and
		// in its recovery.
		g = &group{key: key}
		if len(a.Group) > 0 {
			r := make(hookline.Row, len(a.Group))
			for k, v := range a.Group {
				r[k] = v
			}
			g.rows = []hookline.Row{r}
		}
	}
	value := strconv.Itoa(g.count)
	if tr := e.m.Trigger(a.TriggerType); tr != nil && tr.Field != "" {
		value = ""
		for _, r := range g.rows {
			if _, text, ok := number(lookup(r, tr.Field)); ok {
				value = text
				break
			}
		}
	}
	e.events = append(e.events, e.event(a.TriggerType.Resolution(), key, a.Group, a.Since,
		e.m.Muted || !a.Notified, g.rows, g.count, value, a.Condition))
}

func (e *evaluation) event(t hookline.TriggerType, key string, values map[string]string, since time.Time,
	muted bool, rows []hookline.Row, count int, value, cond string) Event {
	rows = rows[:min(len(rows), e.cap)]
	kept := make([]hookline.Row, len(rows))
	for i, r := range rows {
		kept[i] = maps.Clone(r) // the result's rows are not the alert's to share
	}
	return Event{
		TriggerType: t, GroupKey: key, Group: maps.Clone(values), Since: since, Muted: muted,
		Results: kept, NumQueryResults: count, TriggerValue: value, TriggerCondition: cond,
		TriggerTimeStart: e.w.Start, TriggerTimeEnd: e.w.End, Query: e.m.Query,
	}
}

// groupRows splits rows by the values of fields, in the order each group
// first appears.
func groupRows(rows []hookline.Row, fields []string) []*group {
	var groups []*group
	byKey := map[string]*group{}
	vals := make([]string, len(fields))
	for _, r := range rows {
		for i, f := range fields {
			vals[i] = text(lookup(r, f))
		}
		b, _ := json.Marshal(vals) // strings always marshal
		key := string(b)
		g := byKey[key]
		if g == nil {
			g = &group{key: key, values: make(map[string]string, len(fields))}
			for i, f := range fields {
				g.values[f] = vals[i]
			}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, r)
		g.count++
	}
	return groups
}

// lookup finds a field of a row as the query names fields: exactly, or
// else ignoring case.
func lookup(r hookline.Row, name string) any {
	if v, ok := r[name]; ok {
		return v
	}
	for k, v := range r {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// number reads a value of a query's row (text, int64, float64 or nil) as
// a finite number, with its text for {{TriggerValue}}.
func number(v any) (float64, string, bool) {
	var x float64
	switch v := v.(type) {
	case int64:
		return float64(v), strconv.FormatInt(v, 10), true
	case float64:
		x = v
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, "", false
		}
		x = f
	default:
		return 0, "", false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, "", false
	}
	return x, strconv.FormatFloat(x, 'f', -1, 64), true
}

// text is a value as a group shows it; no value is the empty text, as the
// query groups it.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if _, t, ok := number(v); ok {
		return t
	}
	return ""
}
