package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// Scheduled searches and their run bookkeeping (migration 0007), kept as
// monitors are (monitor.go): IDs are 16 upper-case hex digits chosen by
// the store; names are unique case-insensitively, Unicode-aware; the
// definition is one row of scheduled_searches and the bookkeeping one row
// of scheduled_search_states, made and deleted together. The store never
// reads a cron expression: whoever creates, edits or runs a search gives
// it the schedule's next time.

var _ hookline.ScheduledSearchStore = (*DB)(nil)

const scheduledSearchColumns = `id, name, description, query, schedule_type, cron_expression, time_zone,
	time_range_s, threshold_operator, threshold_count, connection_id, payload, itemize_alerts,
	max_itemized_alerts, disabled, created_at, created_by, modified_at, modified_by`

const searchStateColumns = `search_id, next_run_at, lease_owner, lease_expires_at, last_scheduled_at,
	last_results, last_alerts, last_error`

const (
	// claimSearchesSQL leases the most overdue searches that no one holds,
	// walking scheduled_search_states_due in order and reading only the
	// index to pass over held ones (TestScheduledSearchQueryPlans);
	// INDEXED BY for the reason claimMonitorsSQL gives. ?1 owner, ?2 now,
	// ?3 the lease's expiry, ?4 the limit.
	claimSearchesSQL = `UPDATE scheduled_search_states SET lease_owner = ?1, lease_expires_at = ?3
		WHERE search_id IN (
			SELECT search_id FROM scheduled_search_states INDEXED BY scheduled_search_states_due
			WHERE next_run_at <= ?2 AND (lease_expires_at IS NULL OR lease_expires_at <= ?2)
			ORDER BY next_run_at, search_id
			LIMIT ?4)
		RETURNING ` + searchStateColumns

	// claimedSearchesSQL reads the definitions of the claimed searches,
	// given as one JSON array of IDs.
	claimedSearchesSQL = `SELECT ` + scheduledSearchColumns + ` FROM scheduled_searches
		WHERE id IN (SELECT value FROM json_each(?))`
)

func searchNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "scheduled search %s not found", id)
}

func searchNameTaken(name string) error {
	return conflictOn("name", "is already used by another scheduled search (names are compared ignoring case)",
		"a scheduled search named %q already exists", name)
}

// scheduledSearchArgs returns the column values of s in
// scheduledSearchColumns order and then name_key.
func scheduledSearchArgs(s *hookline.ScheduledSearch) []any {
	var op, count any // NULL for no threshold
	if t := s.Threshold; t != nil {
		op, count = string(t.Operator), t.Count
	}
	n := s.Notification
	return []any{
		s.ID, s.Name, s.Description, s.Query, string(s.ScheduleType), s.CronExpression, s.TimeZone,
		int64(s.TimeRange / time.Second), op, count, n.ConnectionID, n.Payload, boolInt(n.ItemizeAlerts),
		n.MaxItemizedAlerts, boolInt(s.Disabled),
		formatTime(s.CreatedAt), s.CreatedBy, formatTime(s.ModifiedAt), s.ModifiedBy, nameKey(s.Name),
	}
}

// scanScheduledSearch reads a row of scheduledSearchColumns.
func scanScheduledSearch(sc scanner) (*hookline.ScheduledSearch, error) {
	var (
		s                     hookline.ScheduledSearch
		scheduleType          string
		timeRange             int64
		op                    sql.NullString
		count                 sql.NullInt64
		itemize, disabled     int
		createdAt, modifiedAt string
	)
	err := sc.Scan(&s.ID, &s.Name, &s.Description, &s.Query, &scheduleType, &s.CronExpression, &s.TimeZone,
		&timeRange, &op, &count, &s.Notification.ConnectionID, &s.Notification.Payload, &itemize,
		&s.Notification.MaxItemizedAlerts, &disabled, &createdAt, &s.CreatedBy, &modifiedAt, &s.ModifiedBy)
	if err != nil {
		return nil, err
	}
	s.ScheduleType = hookline.ScheduleType(scheduleType)
	s.TimeRange = time.Duration(timeRange) * time.Second
	if op.Valid {
		s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdType(op.String), Count: int(count.Int64)}
	}
	s.Notification.ItemizeAlerts, s.Disabled = itemize != 0, disabled != 0
	if s.CreatedAt, s.ModifiedAt, err = parseStamps("scheduled search "+s.ID, createdAt, modifiedAt); err != nil {
		return nil, err
	}
	return &s, nil
}

func readScheduledSearch(ctx context.Context, q querier, id string) (*hookline.ScheduledSearch, error) {
	s, err := scanScheduledSearch(q.QueryRowContext(ctx, `SELECT `+scheduledSearchColumns+` FROM scheduled_searches WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, searchNotFound(id)
	}
	return s, err
}

// checkSearchName returns ECONFLICT when a search other than id has name,
// compared case-insensitively. It runs in the write transaction, which
// holds SQLite's write lock, so no one can take the name before the write.
func checkSearchName(ctx context.Context, tx *sql.Tx, name, id string) error {
	var taken int
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM scheduled_searches WHERE name_key = ? AND id <> ?)`,
		nameKey(name), id).Scan(&taken)
	switch {
	case err != nil:
		return fmt.Errorf("check name: %w", err)
	case taken != 0:
		return searchNameTaken(name)
	}
	return nil
}

// mapSearchConstraint turns a unique-name violation that slipped past
// checkSearchName into ECONFLICT; the name index is the only UNIQUE
// constraint on scheduled_searches (TestScheduledSearchOnlyNameIsUnique).
func mapSearchConstraint(err error, name string) error {
	if isUniqueConflict(err) {
		return searchNameTaken(name)
	}
	return err
}

// checkSearchConnection returns EINVALID naming
// "notification.connectionId" when the connection does not exist.
// Deleting a connection later does not look at searches: whoever runs the
// search finds the connection gone.
func checkSearchConnection(ctx context.Context, tx *sql.Tx, id string) error {
	var found int
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE id = ?)`, id).Scan(&found); err != nil {
		return fmt.Errorf("check connection: %w", err)
	}
	if found == 0 {
		var p hookline.Problems
		p.Add("notification.connectionId", "names connection %s, which does not exist", id)
		return p.Err()
	}
	return nil
}

// prepareSearch normalizes and validates a copy of s for storing, with the
// schedule's next time: required while the search is enabled, since a
// search that never falls due would sit on the list doing nothing. It
// returns the copy and next as the column's value (NULL while disabled).
func prepareSearch(s *hookline.ScheduledSearch, next time.Time) (hookline.ScheduledSearch, any, error) {
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
	case next.IsZero() && !namesField(invalid, "cronExpression"):
		// An expression Validate refused has no next time either; one
		// problem with it is enough.
		p.Add("cronExpression", "never fires: the schedule has no next time")
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

// CreateScheduledSearch normalizes, validates and stores s with its
// bookkeeping row, due at next or never while disabled. On success s holds
// what was stored: normalized, with its ID, CreatedAt, ModifiedAt and,
// when empty, ModifiedBy (from CreatedBy).
func (db *DB) CreateScheduledSearch(ctx context.Context, s *hookline.ScheduledSearch, next time.Time) error {
	if s == nil {
		return fmt.Errorf("create scheduled search: %w", hookline.Errorf(hookline.EINVALID, "no scheduled search given"))
	}
	row, due, err := prepareSearch(s, next)
	if err != nil {
		return fmt.Errorf("create scheduled search %q: %w", s.Name, err)
	}
	now := db.now()
	row.CreatedAt, row.ModifiedAt = now, now
	if row.ModifiedBy == "" {
		row.ModifiedBy = row.CreatedBy
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkSearchConnection(ctx, tx, row.Notification.ConnectionID); err != nil {
			return err
		}
		if err := checkSearchName(ctx, tx, row.Name, ""); err != nil {
			return err
		}
		var err error
		if row.ID, err = unusedIDIn(ctx, tx, "scheduled_searches"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO scheduled_searches (`+scheduledSearchColumns+`, name_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, scheduledSearchArgs(&row)...)
		if err != nil {
			return mapSearchConstraint(err, row.Name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO scheduled_search_states (search_id, next_run_at) VALUES (?, ?)`, row.ID, due); err != nil {
			return fmt.Errorf("insert state: %w", err)
		}
		return db.audit(ctx, tx, change{action: actionCreate, targetType: hookline.AuditScheduledSearch,
			targetID: row.ID, targetName: row.Name, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("create scheduled search %q: %w", s.Name, err)
	}
	*s = row
	return nil
}

// ScheduledSearch returns the search with the ID, or ENOTFOUND.
func (db *DB) ScheduledSearch(ctx context.Context, id string) (*hookline.ScheduledSearch, error) {
	s, err := readScheduledSearch(ctx, db.read, id)
	if err != nil {
		return nil, fmt.Errorf("read scheduled search %s: %w", id, err)
	}
	return s, nil
}

// ScheduledSearches returns a page of searches ordered by lower-cased name
// and ID, with the limit and token rules of Connections.
func (db *DB) ScheduledSearches(ctx context.Context, opt hookline.ListOptions) ([]*hookline.ScheduledSearch, string, error) {
	return searchesByName.list(ctx, db.read, opt)
}

// searchesByName walks scheduled_searches_name_key.
var searchesByName = byName[*hookline.ScheduledSearch]{
	what: "scheduled searches", table: "scheduled_searches", columns: scheduledSearchColumns, keyColumn: "name_key",
	scan: scanScheduledSearch,
	key:  func(s *hookline.ScheduledSearch) pageKey { return pageKey{NameKey: nameKey(s.Name), ID: s.ID} },
}

// UpdateScheduledSearch normalizes and validates s and replaces the stored
// search s.ID with it. CreatedAt and CreatedBy keep their stored values;
// on success s holds what was stored, with the new ModifiedAt. The last
// run and any lease are kept; the search is next due at next, or never
// while disabled.
func (db *DB) UpdateScheduledSearch(ctx context.Context, s *hookline.ScheduledSearch, next time.Time) error {
	if s == nil {
		return fmt.Errorf("update scheduled search: %w", hookline.Errorf(hookline.EINVALID, "no scheduled search given"))
	}
	row, due, err := prepareSearch(s, next)
	if err != nil {
		return fmt.Errorf("update scheduled search %s: %w", s.ID, err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readScheduledSearch(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		row.CreatedAt, row.CreatedBy = old.CreatedAt, old.CreatedBy
		row.ModifiedAt = notBefore(db.now(), old.CreatedAt)
		if err := checkSearchConnection(ctx, tx, row.Notification.ConnectionID); err != nil {
			return err
		}
		if err := checkSearchName(ctx, tx, row.Name, row.ID); err != nil {
			return err
		}
		// The arguments are in scheduledSearchColumns order; the ID moves
		// to the end.
		args := scheduledSearchArgs(&row)
		_, err = tx.ExecContext(ctx, `UPDATE scheduled_searches SET name = ?, description = ?, query = ?,
			schedule_type = ?, cron_expression = ?, time_zone = ?, time_range_s = ?, threshold_operator = ?,
			threshold_count = ?, connection_id = ?, payload = ?, itemize_alerts = ?, max_itemized_alerts = ?,
			disabled = ?, created_at = ?, created_by = ?, modified_at = ?, modified_by = ?, name_key = ?
			WHERE id = ?`, append(args[1:], row.ID)...)
		if err != nil {
			return mapSearchConstraint(err, row.Name)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scheduled_search_states SET next_run_at = ? WHERE search_id = ?`, due, row.ID); err != nil {
			return fmt.Errorf("reschedule: %w", err)
		}
		return db.audit(ctx, tx, change{action: actionUpdate, targetType: hookline.AuditScheduledSearch,
			targetID: row.ID, targetName: row.Name, before: old.AuditView(), after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("update scheduled search %s: %w", s.ID, err)
	}
	*s = row
	return nil
}

// DeleteScheduledSearch removes the search and its bookkeeping, or returns
// ENOTFOUND.
func (db *DB) DeleteScheduledSearch(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readScheduledSearch(ctx, tx, id)
		if err != nil {
			return err
		}
		// The foreign key would cascade; deleting outright does not depend
		// on foreign keys being enforced.
		if _, err := tx.ExecContext(ctx, `DELETE FROM scheduled_search_states WHERE search_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM scheduled_searches WHERE id = ?`, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditScheduledSearch,
			targetID: id, targetName: old.Name, before: old.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("delete scheduled search %s: %w", id, err)
	}
	return nil
}

// scanSearchState reads a row of searchStateColumns.
func scanSearchState(s scanner) (*hookline.SearchStateRecord, error) {
	var (
		r                              hookline.SearchStateRecord
		owner                          sql.NullString
		next, leaseTill, lastScheduled sql.NullInt64
	)
	if err := s.Scan(&r.SearchID, &next, &owner, &leaseTill, &lastScheduled,
		&r.LastRun.Results, &r.LastRun.Alerts, &r.LastRun.Error); err != nil {
		return nil, err
	}
	r.NextRunAt, r.LeaseExpiresAt, r.LastRun.ScheduledAt = unixnano.FromNull(next), unixnano.FromNull(leaseTill), unixnano.FromNull(lastScheduled)
	r.LeaseOwner = owner.String
	return &r, nil
}

// SearchState returns the search's run bookkeeping, or ENOTFOUND.
func (db *DB) SearchState(ctx context.Context, id string) (*hookline.SearchStateRecord, error) {
	r, err := scanSearchState(db.read.QueryRowContext(ctx, `SELECT `+searchStateColumns+` FROM scheduled_search_states WHERE search_id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read scheduled search state: %w", searchNotFound(id))
	case err != nil:
		return nil, fmt.Errorf("read scheduled search state %s: %w", id, err)
	}
	return r, nil
}

// claimSearches leases scheduled searches for ClaimDueSearches.
var claimSearches = leased[*hookline.SearchStateRecord, *hookline.ScheduledSearch]{
	what: "scheduled search", claim: claimSearchesSQL, definitions: claimedSearchesSQL,
	scanRecord: scanSearchState, recordID: func(r *hookline.SearchStateRecord) string { return r.SearchID },
	scanDef: scanScheduledSearch, defID: func(s *hookline.ScheduledSearch) string { return s.ID },
}

// ClaimDueSearches leases due searches to owner (claimLeased).
func (db *DB) ClaimDueSearches(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*hookline.ClaimedSearch, error) {
	records, searches, err := claimLeased(ctx, db, claimSearches, owner, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("claim scheduled searches: %w", err)
	}
	claimed := make([]*hookline.ClaimedSearch, len(records))
	for i, r := range records {
		claimed[i] = &hookline.ClaimedSearch{Search: searches[i], Record: *r}
	}
	// RETURNING yields rows in no promised order.
	slices.SortFunc(claimed, func(a, b *hookline.ClaimedSearch) int {
		if c := a.Record.NextRunAt.Compare(b.Record.NextRunAt); c != 0 {
			return c
		}
		return strings.Compare(a.Search.ID, b.Search.ID)
	})
	return claimed, nil
}

// SaveSearchRun records a run for owner, who must hold the search,
// schedules the next and releases the lease. Beyond the contract, a run
// whose ScheduledAt falls outside the years 1678 to 2262 is EINVALID
// naming "run.scheduledAt".
func (db *DB) SaveSearchRun(ctx context.Context, owner, id string, run hookline.SearchRun, next time.Time) error {
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
	if err := p.Err(); err != nil {
		return fmt.Errorf("save run of scheduled search %s: %w", id, err)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			holder   sql.NullString
			disabled int
		)
		err := tx.QueryRowContext(ctx, `SELECT st.lease_owner, s.disabled FROM scheduled_search_states st
			JOIN scheduled_searches s ON s.id = st.search_id WHERE st.search_id = ?`, id).Scan(&holder, &disabled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return searchNotFound(id)
		case err != nil:
			return fmt.Errorf("read lease: %w", err)
		case holder.String != owner:
			return hookline.Errorf(hookline.ECONFLICT,
				"scheduled search %s is not held by %s: it was not claimed, or another claimed it after the lease expired", id, owner)
		}
		var due any = next.UnixNano()
		if disabled != 0 {
			due = nil
		}
		if run.ScheduledAt.IsZero() {
			// A run given up before it started: the last run stands.
			_, err = tx.ExecContext(ctx, `UPDATE scheduled_search_states SET next_run_at = ?,
				lease_owner = NULL, lease_expires_at = NULL WHERE search_id = ?`, due, id)
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE scheduled_search_states SET last_scheduled_at = ?, last_results = ?,
			last_alerts = ?, last_error = ?, next_run_at = ?, lease_owner = NULL, lease_expires_at = NULL
			WHERE search_id = ?`, run.ScheduledAt.UnixNano(), run.Results, run.Alerts, run.Error, due, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("save run of scheduled search %s: %w", id, err)
	}
	return nil
}
