package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/rowrule"
	"github.com/hookline/hookline/storedform"
	"github.com/hookline/hookline/unixnano"
)

// Monitors and their evaluation bookkeeping (migration 0006). Beyond
// hookline.MonitorStore's contract: IDs are 16 upper-case hex digits
// chosen by the store; names are unique case-insensitively, Unicode-aware
// as connections'; the definition is one row of monitors and the
// bookkeeping one row of monitor_states, made and deleted together.

var _ hookline.MonitorStore = (*DB)(nil)

const (
	// claimMonitorsSQL leases the most overdue monitors that no one holds,
	// walking monitor_states_due in order and reading only the index to
	// pass over held ones (TestMonitorQueryPlans). SQLite picks that index
	// unasked today; INDEXED BY keeps a change of statistics from turning
	// the poll into a scan. ?1 owner, ?2 now, ?3 the lease's expiry, ?4
	// the limit.
	claimMonitorsSQL = `UPDATE monitor_states SET lease_owner = ?1, lease_expires_at = ?3
		WHERE monitor_id IN (
			SELECT monitor_id FROM monitor_states INDEXED BY monitor_states_due
			WHERE next_eval_at <= ?2 AND (lease_expires_at IS NULL OR lease_expires_at <= ?2)
			ORDER BY next_eval_at, monitor_id
			LIMIT ?4)
		RETURNING ` + storedform.MonitorStateColumns

	// claimedMonitorsSQL reads the definitions of the claimed monitors,
	// given as one JSON array of IDs.
	claimedMonitorsSQL = `SELECT ` + storedform.MonitorColumns + ` FROM monitors
		WHERE id IN (SELECT value FROM json_each(?))`

	// rescheduleSQL applies an edit to the schedule (see UpdateMonitor).
	// ?1 disabled, ?2 now, ?3 now plus the new interval, ?4 the monitor.
	rescheduleSQL = `UPDATE monitor_states SET next_eval_at = CASE
			WHEN ?1 THEN NULL
			WHEN next_eval_at IS NULL THEN ?2
			ELSE min(next_eval_at, ?3) END
		WHERE monitor_id = ?4`
)

// monitorArgs returns the column values of m in storedform.MonitorColumns
// order and then name_key.
func monitorArgs(m *hookline.Monitor) ([]any, error) {
	args, err := storedform.MonitorArgs(m, boolInt(m.Muted), boolInt(m.Disabled), formatTime(m.CreatedAt), formatTime(m.ModifiedAt))
	if err != nil {
		return nil, err
	}
	return append(args, rowrule.NameKey(m.Name)), nil
}

// scanMonitor reads a row of storedform.MonitorColumns.
func scanMonitor(s scanner) (*hookline.Monitor, error) {
	var (
		m                     hookline.Monitor
		row                   storedform.MonitorRow
		muted, disabled       int
		createdAt, modifiedAt string
	)
	err := s.Scan(row.Dest(&m, &muted, &disabled, &createdAt, &modifiedAt)...)
	if err != nil {
		return nil, err
	}
	if err := row.Decode(&m); err != nil {
		return nil, err
	}
	m.Muted, m.Disabled = muted != 0, disabled != 0
	if m.CreatedAt, m.ModifiedAt, err = parseStamps("monitor "+m.ID, createdAt, modifiedAt); err != nil {
		return nil, err
	}
	return &m, nil
}

func readMonitor(ctx context.Context, q querier, id string) (*hookline.Monitor, error) {
	return readDefinition(ctx, q, storedform.Monitors, storedform.MonitorColumns, scanMonitor, id)
}

// checkMonitor checks what a monitor's write needs of other rows: its
// connections exist and no other monitor than id has its name.
func checkMonitor(ctx context.Context, tx *sql.Tx, m *hookline.Monitor, id string) error {
	if err := storedform.CheckMonitorConnections(m.Notifications, connectionExists(ctx, tx)); err != nil {
		return err
	}
	return checkDefinitionName(ctx, tx, storedform.Monitors, m.Name, id)
}

// CreateMonitor validates and stores m, filling in its ID, CreatedAt,
// ModifiedAt and, when empty, ModifiedBy (from CreatedBy), and its
// bookkeeping row: due at CreatedAt, or never while disabled.
func (db *DB) CreateMonitor(ctx context.Context, m *hookline.Monitor) error {
	if m == nil {
		return fmt.Errorf("create monitor: %w", hookline.Errorf(hookline.EINVALID, "no monitor given"))
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("create monitor %q: %w", m.Name, err)
	}
	now := db.now()
	row := *m
	row.CreatedAt, row.ModifiedAt = now, now
	if row.ModifiedBy == "" {
		row.ModifiedBy = row.CreatedBy
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkMonitor(ctx, tx, &row, ""); err != nil {
			return err
		}
		var err error
		if row.ID, err = unusedIDIn(ctx, tx, "monitors"); err != nil {
			return err
		}
		args, err := monitorArgs(&row)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO monitors (`+storedform.MonitorColumns+`, name_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return mapNameConstraint(err, storedform.Monitors, row.Name)
		}
		var due any = now.UnixNano()
		if row.Disabled {
			due = nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_states (monitor_id, next_eval_at) VALUES (?, ?)`, row.ID, due); err != nil {
			return fmt.Errorf("insert state: %w", err)
		}
		return db.audit(ctx, tx, change{action: actionCreate, targetType: hookline.AuditMonitor,
			targetID: row.ID, targetName: row.Name, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("create monitor %q: %w", m.Name, err)
	}
	m.ID, m.CreatedAt, m.ModifiedAt, m.ModifiedBy = row.ID, row.CreatedAt, row.ModifiedAt, row.ModifiedBy
	return nil
}

// Monitor returns the monitor with the ID, or ENOTFOUND.
func (db *DB) Monitor(ctx context.Context, id string) (*hookline.Monitor, error) {
	m, err := readMonitor(ctx, db.read, id)
	if err != nil {
		return nil, fmt.Errorf("read monitor %s: %w", id, err)
	}
	return m, nil
}

// Monitors returns a page of monitors ordered by lower-cased name and ID,
// with the limit and token rules of Connections.
func (db *DB) Monitors(ctx context.Context, opt hookline.ListOptions) ([]*hookline.Monitor, string, error) {
	return monitorsByName.list(ctx, db.read, opt)
}

// monitorsByName walks monitors_name_key.
var monitorsByName = byName[*hookline.Monitor]{
	what: "monitors", table: "monitors", columns: storedform.MonitorColumns, keyColumn: "name_key", scan: scanMonitor,
	key: func(m *hookline.Monitor) pageKey { return pageKey{NameKey: rowrule.NameKey(m.Name), ID: m.ID} },
}

// UpdateMonitor validates m and replaces the stored monitor m.ID with it.
// CreatedAt and CreatedBy keep their stored values, which are copied into
// m with the new ModifiedAt. The state and any lease are kept; the next
// evaluation moves as hookline.MonitorStore says: off the schedule when
// disabled, due now when enabled again, otherwise no later than one
// interval from now.
func (db *DB) UpdateMonitor(ctx context.Context, m *hookline.Monitor) error {
	if m == nil {
		return fmt.Errorf("update monitor: %w", hookline.Errorf(hookline.EINVALID, "no monitor given"))
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("update monitor %s: %w", m.ID, err)
	}
	row := *m
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readMonitor(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		now := db.now()
		row.CreatedAt, row.CreatedBy = old.CreatedAt, old.CreatedBy
		row.ModifiedAt = rowrule.NotBefore(now, old.CreatedAt)
		if err := checkMonitor(ctx, tx, &row, row.ID); err != nil {
			return err
		}
		args, err := monitorArgs(&row)
		if err != nil {
			return err
		}
		// args is in storedform.MonitorColumns order; the ID moves to the end.
		_, err = tx.ExecContext(ctx, `UPDATE monitors SET name = ?, description = ?, query = ?, interval_s = ?,
			window_s = ?, triggers = ?, notifications = ?, group_fields = ?, muted = ?, disabled = ?,
			created_at = ?, created_by = ?, modified_at = ?, modified_by = ?, name_key = ?
			WHERE id = ?`, append(args[1:], row.ID)...)
		if err != nil {
			return mapNameConstraint(err, storedform.Monitors, row.Name)
		}
		_, err = tx.ExecContext(ctx, rescheduleSQL, boolInt(row.Disabled), now.UnixNano(), unixnano.Add(now.UnixNano(), row.Interval), row.ID)
		if err != nil {
			return fmt.Errorf("reschedule: %w", err)
		}
		return db.audit(ctx, tx, change{action: actionUpdate, targetType: hookline.AuditMonitor,
			targetID: row.ID, targetName: row.Name, before: old.AuditView(), after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("update monitor %s: %w", m.ID, err)
	}
	m.CreatedAt, m.CreatedBy, m.ModifiedAt = row.CreatedAt, row.CreatedBy, row.ModifiedAt
	return nil
}

// DeleteMonitor removes the monitor and its bookkeeping, or returns
// ENOTFOUND.
func (db *DB) DeleteMonitor(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readMonitor(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := deleteDefinition(ctx, tx, storedform.Monitors, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditMonitor,
			targetID: id, targetName: old.Name, before: old.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("delete monitor %s: %w", id, err)
	}
	return nil
}

func scanMonitorState(s scanner) (*hookline.MonitorStateRecord, error) {
	return storedform.ScanMonitorState(s.Scan)
}

// MonitorState returns the monitor's bookkeeping, or ENOTFOUND.
func (db *DB) MonitorState(ctx context.Context, id string) (*hookline.MonitorStateRecord, error) {
	r, err := scanMonitorState(db.read.QueryRowContext(ctx, `SELECT `+storedform.MonitorStateColumns+` FROM monitor_states WHERE monitor_id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read monitor state: %w", storedform.Monitors.NotFound(id))
	case err != nil:
		return nil, fmt.Errorf("read monitor state %s: %w", id, err)
	}
	return r, nil
}

// claimMonitors leases monitors for ClaimDueMonitors.
var claimMonitors = leased[*hookline.MonitorStateRecord, *hookline.Monitor, *hookline.ClaimedMonitor]{
	claim: claimMonitorsSQL, definitions: claimedMonitorsSQL,
	scanRecord: scanMonitorState, recordID: func(r *hookline.MonitorStateRecord) string { return r.MonitorID },
	scanDef: scanMonitor, claimed: storedform.ClaimedMonitors,
}

// ClaimDueMonitors leases due monitors to owner (claimLeased).
func (db *DB) ClaimDueMonitors(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*hookline.ClaimedMonitor, error) {
	claimed, err := claimLeased(ctx, db, claimMonitors, owner, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("claim monitors: %w", err)
	}
	return claimed, nil
}

// SaveEvaluation stores an evaluation's result for owner, who must hold
// the monitor, and releases the lease.
func (db *DB) SaveEvaluation(ctx context.Context, owner, id string, windowEnd time.Time, state json.RawMessage, nextEvalAt time.Time) error {
	if err := storedform.CheckEvaluation(owner, windowEnd, state, nextEvalAt, storedform.AnyText); err != nil {
		return fmt.Errorf("save evaluation of monitor %s: %w", id, err)
	}
	var stateText any
	if len(state) > 0 {
		stateText = string(state)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		disabled, err := checkLease(ctx, tx, storedform.Monitors, id, owner)
		if err != nil {
			return err
		}
		var next any = nextEvalAt.UnixNano()
		if disabled {
			next = nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE monitor_states SET state = ?, window_end = ?, next_eval_at = ?,
			lease_owner = NULL, lease_expires_at = NULL WHERE monitor_id = ?`, stateText, unixnano.Null(windowEnd), next, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("save evaluation of monitor %s: %w", id, err)
	}
	return nil
}
