package storedform

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// SearchColumns are the columns of scheduled_searches that SearchArgs and
// SearchRow.Dest list, in their order. Beyond them the table has
// name_key, the engine's lower-cased name.
const SearchColumns = `id, name, description, query, schedule_type, cron_expression, time_zone,
	time_range_s, threshold_operator, threshold_count, connection_id, payload, itemize_alerts,
	max_itemized_alerts, disabled, created_at, created_by, modified_at, modified_by`

// SearchStateColumns are the columns of scheduled_search_states that
// ScanSearchState reads, in its order.
const SearchStateColumns = `search_id, next_run_at, lease_owner, lease_expires_at, last_scheduled_at,
	last_results, last_alerts, last_error`

// SearchArgs returns the values of s's columns in SearchColumns order,
// with itemize, disabled, createdAt and modifiedAt as the engine binds
// them (their column types differ between the engines). A search without
// a threshold keeps NULL in both threshold columns.
func SearchArgs(s *hookline.ScheduledSearch, itemize, disabled, createdAt, modifiedAt any) []any {
	var op, count any
	if t := s.Threshold; t != nil {
		op, count = string(t.Operator), int64(t.Count)
	}
	n := s.Notification
	return []any{
		s.ID, s.Name, s.Description, s.Query, string(s.ScheduleType), s.CronExpression, s.TimeZone,
		int64(s.TimeRange / time.Second), op, count, n.ConnectionID, n.Payload, itemize,
		int64(n.MaxItemizedAlerts), disabled,
		createdAt, s.CreatedBy, modifiedAt, s.ModifiedBy,
	}
}

// SearchRow holds the columns of a scheduled_searches row that need
// decoding while the row is scanned.
type SearchRow struct {
	scheduleType         string
	timeRange, maxAlerts int64
	op                   sql.NullString
	count                sql.NullInt64
}

// Dest returns the destinations of a row of SearchColumns, for Scan: s's
// own fields, the row's for the columns Decode reads, and the engine's
// itemize, disabled, createdAt and modifiedAt, which it converts itself.
func (r *SearchRow) Dest(s *hookline.ScheduledSearch, itemize, disabled, createdAt, modifiedAt any) []any {
	return []any{&s.ID, &s.Name, &s.Description, &s.Query, &r.scheduleType, &s.CronExpression, &s.TimeZone,
		&r.timeRange, &r.op, &r.count, &s.Notification.ConnectionID, &s.Notification.Payload, itemize,
		&r.maxAlerts, disabled, createdAt, &s.CreatedBy, modifiedAt, &s.ModifiedBy}
}

// Decode sets s's schedule type, time range, threshold and maximum of
// itemized alerts from the scanned row.
func (r *SearchRow) Decode(s *hookline.ScheduledSearch) {
	s.ScheduleType = hookline.ScheduleType(r.scheduleType)
	s.TimeRange = time.Duration(r.timeRange) * time.Second
	s.Notification.MaxItemizedAlerts = int(r.maxAlerts)
	s.Threshold = nil
	if r.op.Valid {
		s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdType(r.op.String), Count: int(r.count.Int64)}
	}
}

// ScanSearchState reads a row of SearchStateColumns with scan (a row's
// Scan method).
func ScanSearchState(scan func(dest ...any) error) (*hookline.SearchStateRecord, error) {
	var (
		r                              hookline.SearchStateRecord
		owner                          sql.NullString
		next, leaseTill, lastScheduled sql.NullInt64
		results, alerts                int64
	)
	if err := scan(&r.SearchID, &next, &owner, &leaseTill, &lastScheduled, &results, &alerts, &r.LastRun.Error); err != nil {
		return nil, err
	}
	r.LastRun.Results, r.LastRun.Alerts = int(results), int(alerts)
	r.NextRunAt, r.LeaseExpiresAt, r.LastRun.ScheduledAt = unixnano.FromNull(next), unixnano.FromNull(leaseTill), unixnano.FromNull(lastScheduled)
	r.LeaseOwner = owner.String
	return &r, nil
}

// PrepareSearch normalizes and validates a copy of s for storing, with
// the schedule's next time: required while the search is enabled, since a
// search that never falls due would sit on the list doing nothing. It
// returns the copy and next as the next_run_at column's value (NULL, nil,
// while disabled). s is not changed.
func PrepareSearch(s *hookline.ScheduledSearch, next time.Time) (hookline.ScheduledSearch, any, error) {
	row := *s
	if row.Threshold != nil {
		t := *row.Threshold
		row.Threshold = &t
	}
	row.Normalize()
	invalid := row.Validate()
	var p hookline.Problems
	p.AddError("", invalid) // its field problems, kept with the schedule's
	if row.Disabled {
		return row, nil, p.Err()
	}
	switch {
	case namesField(invalid, "cronExpression"):
		// An expression Validate refused has no next time either; one
		// problem with it is enough.
	case next.IsZero():
		p.Add("cronExpression", "%s", hookline.NeverFires)
	case !unixnano.InRange(next):
		p.Add("next", "must fall between the years 1678 and 2262")
	}
	if err := p.Err(); err != nil {
		return row, nil, err
	}
	return row, next.UnixNano(), nil
}

// namesField reports whether err is an *hookline.Error with a problem
// in field.
func namesField(err error, field string) bool {
	var e *hookline.Error
	return errors.As(err, &e) && slices.ContainsFunc(e.Fields, func(f hookline.FieldError) bool { return f.Field == field })
}

// CheckSearchConnection returns EINVALID naming
// "notification.connectionId" when the connection id does not exist, as
// exists reports it. Deleting a connection later does not look at
// searches: whoever runs the search finds the connection gone.
func CheckSearchConnection(id string, exists func(id string) (bool, error)) error {
	found, err := exists(id)
	if err != nil {
		return fmt.Errorf("check connection: %w", err)
	}
	if !found {
		var p hookline.Problems
		p.Add("notification.connectionId", "names connection %s, which does not exist", id)
		return p.Err()
	}
	return nil
}
