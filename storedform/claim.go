package storedform

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// A TextRule is an engine's own limit on a text argument, beyond the
// checks every engine makes: PostgreSQL's text holds only UTF-8 without
// NUL. It is applied once the argument has passed those checks, so that
// an argument has one problem at most. The zero TextRule, AnyText, allows
// every string (SQLite's TEXT keeps any bytes).
type TextRule struct {
	OK      func(string) bool // nil: every string
	Problem string            // the field message when OK is false
}

// AnyText is the TextRule of an engine that keeps any string.
var AnyText TextRule

func (r TextRule) check(p *hookline.Problems, field, s string) {
	if r.OK != nil && !r.OK(s) {
		p.Add(field, "%s", r.Problem)
	}
}

// CheckClaim checks a claim's arguments as MonitorStore and
// ScheduledSearchStore document them; owner is also held to the engine's
// rule.
func CheckClaim(owner string, now time.Time, lease time.Duration, limit int, ownerRule TextRule) error {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
	} else {
		ownerRule.check(&p, "owner", owner)
	}
	if now.IsZero() {
		p.Add("now", "is required")
	}
	if lease <= 0 {
		p.Add("lease", "must be positive, not %s", lease)
	}
	if limit < 0 {
		p.Add("limit", "must not be negative")
	}
	return p.Err()
}

// CheckEvaluation checks the arguments of MonitorStore.SaveEvaluation;
// state is also held to the engine's rule.
func CheckEvaluation(owner string, windowEnd time.Time, state json.RawMessage, nextEvalAt time.Time, stateRule TextRule) error {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
	}
	if len(state) > 0 && !json.Valid(state) {
		p.Add("state", "is not valid JSON")
	} else {
		stateRule.check(&p, "state", string(state))
	}
	if !windowEnd.IsZero() && !unixnano.InRange(windowEnd) {
		p.Add("windowEnd", "must fall between the years 1678 and 2262")
	}
	switch {
	case nextEvalAt.IsZero():
		p.Add("nextEvalAt", "is required")
	case !unixnano.InRange(nextEvalAt):
		p.Add("nextEvalAt", "must fall between the years 1678 and 2262")
	}
	return p.Err()
}

// CheckSearchRun checks the arguments of
// ScheduledSearchStore.SaveSearchRun. Beyond the contract, a run whose
// ScheduledAt falls outside the years 1678 to 2262 is EINVALID naming
// "run.scheduledAt".
func CheckSearchRun(owner string, run hookline.SearchRun, next time.Time) error {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
	}
	if !run.ScheduledAt.IsZero() && !unixnano.InRange(run.ScheduledAt) {
		p.Add("run.scheduledAt", "must fall between the years 1678 and 2262")
	}
	switch {
	case next.IsZero():
		p.Add("next", "is required")
	case !unixnano.InRange(next):
		p.Add("next", "must fall between the years 1678 and 2262")
	}
	return p.Err()
}

// ClaimedMonitors pairs each claimed state row with its monitor, most
// overdue first and then by ID: an engine's claim returns rows in no
// promised order. A row without its monitor is an error, which the
// foreign key makes impossible short of a damaged database. The result
// is never nil.
func ClaimedMonitors(records []*hookline.MonitorStateRecord, monitors []*hookline.Monitor) ([]*hookline.ClaimedMonitor, error) {
	byID := make(map[string]*hookline.Monitor, len(monitors))
	for _, m := range monitors {
		byID[m.ID] = m
	}
	claimed := make([]*hookline.ClaimedMonitor, len(records))
	for i, r := range records {
		m, ok := byID[r.MonitorID]
		if !ok {
			return nil, Monitors.noDefinition(r.MonitorID)
		}
		claimed[i] = &hookline.ClaimedMonitor{Monitor: m, Record: *r}
	}
	slices.SortFunc(claimed, func(a, b *hookline.ClaimedMonitor) int {
		return dueOrder(a.Record.NextEvalAt, b.Record.NextEvalAt, a.Monitor.ID, b.Monitor.ID)
	})
	return claimed, nil
}

// ClaimedSearches pairs each claimed state row with its search, as
// ClaimedMonitors does.
func ClaimedSearches(records []*hookline.SearchStateRecord, searches []*hookline.ScheduledSearch) ([]*hookline.ClaimedSearch, error) {
	byID := make(map[string]*hookline.ScheduledSearch, len(searches))
	for _, s := range searches {
		byID[s.ID] = s
	}
	claimed := make([]*hookline.ClaimedSearch, len(records))
	for i, r := range records {
		s, ok := byID[r.SearchID]
		if !ok {
			return nil, Searches.noDefinition(r.SearchID)
		}
		claimed[i] = &hookline.ClaimedSearch{Search: s, Record: *r}
	}
	slices.SortFunc(claimed, func(a, b *hookline.ClaimedSearch) int {
		return dueOrder(a.Record.NextRunAt, b.Record.NextRunAt, a.Search.ID, b.Search.ID)
	})
	return claimed, nil
}

func (k Kind) noDefinition(id string) error {
	return fmt.Errorf("%s %s has a state but no definition", k.Noun(), id)
}

// dueOrder orders claims by when they fell due, then by ID.
func dueOrder(aDue, bDue time.Time, aID, bID string) int {
	if c := aDue.Compare(bDue); c != 0 {
		return c
	}
	return strings.Compare(aID, bID)
}
