// Package scheduledsearch owns what a scheduled search means and does:
// checking a definition completely (Validate: its fields, its query, its
// cron expression, its payload), when it runs (Next, in its time zone),
// the alerts one run's result becomes (Alerts), and running searches on
// their schedule (Scheduler).
//
// Validate, Next and Alerts are pure: they read no clock and no store. The
// Scheduler claims due searches from a hookline.ScheduledSearchStore, runs
// each query over the time range that ends at the scheduled time, accepts
// the alerts and saves the run. docs/scheduled-searches.md describes the
// model.
package scheduledsearch

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/cron"
	"github.com/hookline/hookline/payload"
	"github.com/hookline/hookline/query"
)

// Validate normalizes s (hookline.ScheduledSearch.Normalize) and checks it
// completely: its own fields, its query's syntax (field "query", with line
// and column), its cron expression ("cronExpression") and its payload
// template ("notification.payload"). All problems come back at once in one
// EINVALID *hookline.Error. That the connection exists is the store's to
// check.
func Validate(s *hookline.ScheduledSearch) error {
	s.Normalize()
	var p hookline.Problems
	own := s.Validate()
	p.AddError("", own)
	// A field whose text was refused already is not parsed as well.
	refused := map[string]bool{}
	var he *hookline.Error
	if errors.As(own, &he) {
		for _, f := range he.Fields {
			refused[f.Field] = true
		}
	}
	if _, err := parseQuery(s.Query); err != nil && !refused["query"] {
		p.AddError("query", err)
	}
	if s.CronExpression != "" && !refused["cronExpression"] {
		if _, err := cron.Parse(s.CronExpression); err != nil {
			p.Add("cronExpression", "%v", err)
		}
	}
	if strings.TrimSpace(s.Notification.Payload) != "" && !refused["notification.payload"] {
		if _, err := payload.Parse(s.Notification.Payload); err != nil {
			p.Add("notification.payload", "%v", err)
		}
	}
	return p.Err()
}

// parseQuery parses a search's query; nil, nil for a query the search's
// own validation refuses (empty or too long), which has its problem there.
func parseQuery(src string) (*query.Query, error) {
	if strings.TrimSpace(src) == "" || utf8.RuneCountInString(src) > hookline.MaxMonitorQueryLen {
		return nil, nil
	}
	return query.Parse(src) // a *query.SyntaxError says its line and column
}

// compile parses a stored search's query for a run.
func compile(s *hookline.ScheduledSearch) (*query.Query, error) {
	q, err := parseQuery(s.Query)
	if err == nil && q == nil {
		err = errors.New("the query is empty or too long")
	}
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return q, nil
}

// Next returns the first scheduled time of s strictly after after, read in
// s's time zone and returned in UTC; the zero time when the schedule does
// not fire within five years. A fixed schedule type without an expression
// runs on its own (ScheduleType.Cron).
func Next(s *hookline.ScheduledSearch, after time.Time) (time.Time, error) {
	sched, loc, err := parseSchedule(s)
	if err != nil {
		return time.Time{}, err
	}
	return sched.Next(after.In(loc)).UTC(), nil
}

func parseSchedule(s *hookline.ScheduledSearch) (*cron.Schedule, *time.Location, error) {
	expr := s.CronExpression
	if expr == "" {
		expr = s.ScheduleType.Cron()
	}
	sched, err := cron.Parse(expr)
	if err != nil {
		return nil, nil, fmt.Errorf("cron expression %q: %w", expr, err)
	}
	loc, err := s.Location()
	if err != nil {
		return nil, nil, fmt.Errorf("time zone %q: %w", s.TimeZone, err)
	}
	return sched, loc, nil
}

// Source is the hookline.AcceptedAlert.Source of a search's alerts.
func Source(searchID string) string { return "search:" + searchID }
