package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/rowrule"
	"github.com/hookline/hookline/storedform"
)

// Scheduled searches and their run bookkeeping (migration 0007), kept as
// monitors are (monitor.go): IDs are 16 upper-case hex digits chosen by
// the store; names are unique case-insensitively, Unicode-aware; the
// definition is one row of scheduled_searches and the bookkeeping one row
// of scheduled_search_states, made and deleted together. The store never
// reads a cron expression: whoever creates, edits or runs a search gives
// it the schedule's next time.

var _ hookline.ScheduledSearchStore = (*DB)(nil)

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
		RETURNING ` + storedform.SearchStateColumns

	// claimedSearchesSQL reads the definitions of the claimed searches,
	// given as one JSON array of IDs.
	claimedSearchesSQL = `SELECT ` + storedform.SearchColumns + ` FROM scheduled_searches
		WHERE id IN (SELECT value FROM json_each(?))`
)

// scheduledSearchArgs returns the column values of s in
// storedform.SearchColumns order and then name_key.
func scheduledSearchArgs(s *hookline.ScheduledSearch) []any {
	args := storedform.SearchArgs(s, boolInt(s.Notification.ItemizeAlerts), boolInt(s.Disabled),
		formatTime(s.CreatedAt), formatTime(s.ModifiedAt))
	return append(args, rowrule.NameKey(s.Name))
}

// scanScheduledSearch reads a row of storedform.SearchColumns.
func scanScheduledSearch(sc scanner) (*hookline.ScheduledSearch, error) {
	var (
		s                     hookline.ScheduledSearch
		row                   storedform.SearchRow
		itemize, disabled     int
		createdAt, modifiedAt string
	)
	err := sc.Scan(row.Dest(&s, &itemize, &disabled, &createdAt, &modifiedAt)...)
	if err != nil {
		return nil, err
	}
	row.Decode(&s)
	s.Notification.ItemizeAlerts, s.Disabled = itemize != 0, disabled != 0
	if s.CreatedAt, s.ModifiedAt, err = parseStamps("scheduled search "+s.ID, createdAt, modifiedAt); err != nil {
		return nil, err
	}
	return &s, nil
}

func readScheduledSearch(ctx context.Context, q querier, id string) (*hookline.ScheduledSearch, error) {
	return readDefinition(ctx, q, storedform.Searches, storedform.SearchColumns, scanScheduledSearch, id)
}

// checkSearch checks what a search's write needs of other rows: its
// connection exists and no other search than id has its name.
func checkSearch(ctx context.Context, tx *sql.Tx, s *hookline.ScheduledSearch, id string) error {
	if err := storedform.CheckSearchConnection(s.Notification.ConnectionID, connectionExists(ctx, tx)); err != nil {
		return err
	}
	return checkDefinitionName(ctx, tx, storedform.Searches, s.Name, id)
}

// CreateScheduledSearch normalizes, validates and stores s with its
// bookkeeping row, due at next or never while disabled. On success s holds
// what was stored: normalized, with its ID, CreatedAt, ModifiedAt and,
// when empty, ModifiedBy (from CreatedBy).
func (db *DB) CreateScheduledSearch(ctx context.Context, s *hookline.ScheduledSearch, next time.Time) error {
	if s == nil {
		return fmt.Errorf("create scheduled search: %w", hookline.Errorf(hookline.EINVALID, "no scheduled search given"))
	}
	row, due, err := storedform.PrepareSearch(s, next)
	if err != nil {
		return fmt.Errorf("create scheduled search %q: %w", s.Name, err)
	}
	now := db.now()
	row.CreatedAt, row.ModifiedAt = now, now
	if row.ModifiedBy == "" {
		row.ModifiedBy = row.CreatedBy
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkSearch(ctx, tx, &row, ""); err != nil {
			return err
		}
		var err error
		if row.ID, err = unusedIDIn(ctx, tx, "scheduled_searches"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO scheduled_searches (`+storedform.SearchColumns+`, name_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, scheduledSearchArgs(&row)...)
		if err != nil {
			return mapNameConstraint(err, storedform.Searches, row.Name)
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
	what: "scheduled searches", table: "scheduled_searches", columns: storedform.SearchColumns, keyColumn: "name_key",
	scan: scanScheduledSearch,
	key:  func(s *hookline.ScheduledSearch) pageKey { return pageKey{NameKey: rowrule.NameKey(s.Name), ID: s.ID} },
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
	row, due, err := storedform.PrepareSearch(s, next)
	if err != nil {
		return fmt.Errorf("update scheduled search %s: %w", s.ID, err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readScheduledSearch(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		row.CreatedAt, row.CreatedBy = old.CreatedAt, old.CreatedBy
		row.ModifiedAt = rowrule.NotBefore(db.now(), old.CreatedAt)
		if err := checkSearch(ctx, tx, &row, row.ID); err != nil {
			return err
		}
		// The arguments are in storedform.SearchColumns order; the ID moves
		// to the end.
		args := scheduledSearchArgs(&row)
		_, err = tx.ExecContext(ctx, `UPDATE scheduled_searches SET name = ?, description = ?, query = ?,
			schedule_type = ?, cron_expression = ?, time_zone = ?, time_range_s = ?, threshold_operator = ?,
			threshold_count = ?, connection_id = ?, payload = ?, itemize_alerts = ?, max_itemized_alerts = ?,
			disabled = ?, created_at = ?, created_by = ?, modified_at = ?, modified_by = ?, name_key = ?
			WHERE id = ?`, append(args[1:], row.ID)...)
		if err != nil {
			return mapNameConstraint(err, storedform.Searches, row.Name)
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
		if err := deleteDefinition(ctx, tx, storedform.Searches, id); err != nil {
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

func scanSearchState(s scanner) (*hookline.SearchStateRecord, error) {
	return storedform.ScanSearchState(s.Scan)
}

// SearchState returns the search's run bookkeeping, or ENOTFOUND.
func (db *DB) SearchState(ctx context.Context, id string) (*hookline.SearchStateRecord, error) {
	r, err := scanSearchState(db.read.QueryRowContext(ctx, `SELECT `+storedform.SearchStateColumns+` FROM scheduled_search_states WHERE search_id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read scheduled search state: %w", storedform.Searches.NotFound(id))
	case err != nil:
		return nil, fmt.Errorf("read scheduled search state %s: %w", id, err)
	}
	return r, nil
}

// claimSearches leases scheduled searches for ClaimDueSearches.
var claimSearches = leased[*hookline.SearchStateRecord, *hookline.ScheduledSearch, *hookline.ClaimedSearch]{
	claim: claimSearchesSQL, definitions: claimedSearchesSQL,
	scanRecord: scanSearchState, recordID: func(r *hookline.SearchStateRecord) string { return r.SearchID },
	scanDef: scanScheduledSearch, claimed: storedform.ClaimedSearches,
}

// ClaimDueSearches leases due searches to owner (claimLeased).
func (db *DB) ClaimDueSearches(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*hookline.ClaimedSearch, error) {
	claimed, err := claimLeased(ctx, db, claimSearches, owner, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("claim scheduled searches: %w", err)
	}
	return claimed, nil
}

// SaveSearchRun records a run for owner, who must hold the search,
// schedules the next and releases the lease (storedform.CheckSearchRun
// says what it refuses).
func (db *DB) SaveSearchRun(ctx context.Context, owner, id string, run hookline.SearchRun, next time.Time) error {
	if err := storedform.CheckSearchRun(owner, run, next); err != nil {
		return fmt.Errorf("save run of scheduled search %s: %w", id, err)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		disabled, err := checkLease(ctx, tx, storedform.Searches, id, owner)
		if err != nil {
			return err
		}
		var due any = next.UnixNano()
		if disabled {
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
