package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// Monitors and their evaluation bookkeeping (migration 0006). Beyond
// hookline.MonitorStore's contract: IDs are 16 upper-case hex digits
// chosen by the store; names are unique case-insensitively, Unicode-aware
// as connections'; the definition is one row of monitors and the
// bookkeeping one row of monitor_states, made and deleted together.

var _ hookline.MonitorStore = (*DB)(nil)

const monitorColumns = `id, name, description, query, interval_s, window_s, triggers, notifications,
	group_fields, muted, disabled, created_at, created_by, modified_at, modified_by`

const monitorStateColumns = `monitor_id, state, window_end, next_eval_at, lease_owner, lease_expires_at`

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
		RETURNING ` + monitorStateColumns

	// claimedMonitorsSQL reads the definitions of the claimed monitors,
	// given as one JSON array of IDs.
	claimedMonitorsSQL = `SELECT ` + monitorColumns + ` FROM monitors
		WHERE id IN (SELECT value FROM json_each(?))`

	// rescheduleSQL applies an edit to the schedule (see UpdateMonitor).
	// ?1 disabled, ?2 now, ?3 now plus the new interval, ?4 the monitor.
	rescheduleSQL = `UPDATE monitor_states SET next_eval_at = CASE
			WHEN ?1 THEN NULL
			WHEN next_eval_at IS NULL THEN ?2
			ELSE min(next_eval_at, ?3) END
		WHERE monitor_id = ?4`
)

func monitorNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "monitor %s not found", id)
}

func monitorNameTaken(name string) error {
	return conflictOn("name", "is already used by another monitor (names are compared ignoring case)",
		"a monitor named %q already exists", name)
}

// storedTrigger and storedNotification are the JSON of the triggers and
// notifications columns: the store's own encoding, so that the model can
// change its Go fields without a migration, and the audit view or the API
// theirs without touching stored rows.
type storedTrigger struct {
	TriggerType   hookline.TriggerType   `json:"triggerType"`
	Threshold     float64                `json:"threshold"`
	ThresholdType hookline.ThresholdType `json:"thresholdType,omitempty"`
	Field         string                 `json:"field,omitempty"`
}

type storedNotification struct {
	ConnectionID              string                 `json:"connectionId"`
	RunForTriggerTypes        []hookline.TriggerType `json:"runForTriggerTypes"`
	PayloadOverride           string                 `json:"payloadOverride,omitempty"`
	ResolutionPayloadOverride string                 `json:"resolutionPayloadOverride,omitempty"`
}

// monitorArgs returns the column values of m in monitorColumns order and
// then name_key.
func monitorArgs(m *hookline.Monitor) ([]any, error) {
	triggers := make([]storedTrigger, len(m.Triggers))
	for i, tr := range m.Triggers {
		triggers[i] = storedTrigger(tr)
	}
	notifications := make([]storedNotification, len(m.Notifications))
	for i, n := range m.Notifications {
		notifications[i] = storedNotification(n)
	}
	groups := m.GroupFields
	if groups == nil {
		groups = []string{}
	}
	var cols [3][]byte
	for i, v := range []any{triggers, notifications, groups} {
		b, err := json.Marshal(v)
		if err != nil {
			// Validate refused non-finite thresholds, the only values
			// that do not encode.
			return nil, fmt.Errorf("encode monitor: %w", err)
		}
		cols[i] = b
	}
	return []any{
		m.ID, m.Name, m.Description, m.Query, int64(m.Interval / time.Second), int64(m.Window / time.Second),
		string(cols[0]), string(cols[1]), string(cols[2]), boolInt(m.Muted), boolInt(m.Disabled),
		formatTime(m.CreatedAt), m.CreatedBy, formatTime(m.ModifiedAt), m.ModifiedBy, nameKey(m.Name),
	}, nil
}

// scanMonitor reads a row of monitorColumns.
func scanMonitor(s scanner) (*hookline.Monitor, error) {
	var (
		m                               hookline.Monitor
		interval, window                int64
		triggers, notifications, groups string
		muted, disabled                 int
		createdAt, modifiedAt           string
	)
	err := s.Scan(&m.ID, &m.Name, &m.Description, &m.Query, &interval, &window, &triggers, &notifications,
		&groups, &muted, &disabled, &createdAt, &m.CreatedBy, &modifiedAt, &m.ModifiedBy)
	if err != nil {
		return nil, err
	}
	m.Interval, m.Window = time.Duration(interval)*time.Second, time.Duration(window)*time.Second
	m.Muted, m.Disabled = muted != 0, disabled != 0
	var (
		st []storedTrigger
		sn []storedNotification
	)
	if err := json.Unmarshal([]byte(triggers), &st); err != nil {
		return nil, fmt.Errorf("monitor %s: decode triggers: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(notifications), &sn); err != nil {
		return nil, fmt.Errorf("monitor %s: decode notifications: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(groups), &m.GroupFields); err != nil {
		return nil, fmt.Errorf("monitor %s: decode group fields: %w", m.ID, err)
	}
	m.Triggers = make([]hookline.MonitorTrigger, len(st))
	for i, tr := range st {
		m.Triggers[i] = hookline.MonitorTrigger(tr)
	}
	m.Notifications = make([]hookline.MonitorNotification, len(sn))
	for i, n := range sn {
		m.Notifications[i] = hookline.MonitorNotification(n)
	}
	if m.CreatedAt, m.ModifiedAt, err = parseStamps("monitor "+m.ID, createdAt, modifiedAt); err != nil {
		return nil, err
	}
	return &m, nil
}

func readMonitor(ctx context.Context, q querier, id string) (*hookline.Monitor, error) {
	m, err := scanMonitor(q.QueryRowContext(ctx, `SELECT `+monitorColumns+` FROM monitors WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, monitorNotFound(id)
	}
	return m, err
}

// checkMonitorName returns ECONFLICT when a monitor other than id has
// name, compared case-insensitively. It runs in the write transaction,
// which holds SQLite's write lock, so no one can take the name before the
// write.
func checkMonitorName(ctx context.Context, tx *sql.Tx, name, id string) error {
	var taken int
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM monitors WHERE name_key = ? AND id <> ?)`, nameKey(name), id).Scan(&taken)
	switch {
	case err != nil:
		return fmt.Errorf("check name: %w", err)
	case taken != 0:
		return monitorNameTaken(name)
	}
	return nil
}

// mapMonitorConstraint turns a unique-name violation that slipped past
// checkMonitorName into ECONFLICT; the name index is the only UNIQUE
// constraint on monitors (TestMonitorOnlyNameIsUnique).
func mapMonitorConstraint(err error, name string) error {
	if isUniqueConflict(err) {
		return monitorNameTaken(name)
	}
	return err
}

// checkMonitorConnections returns EINVALID naming each notification whose
// connection does not exist. Deleting a connection later does not look at
// monitors: whoever sends a monitor's alerts finds the connection gone.
func checkMonitorConnections(ctx context.Context, tx *sql.Tx, ns []hookline.MonitorNotification) error {
	var p hookline.Problems
	for i, n := range ns {
		var found int
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE id = ?)`, n.ConnectionID).Scan(&found); err != nil {
			return fmt.Errorf("check connections: %w", err)
		}
		if found == 0 {
			p.Add(fmt.Sprintf("notifications[%d].connectionId", i), "names connection %s, which does not exist", n.ConnectionID)
		}
	}
	return p.Err()
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
		if err := checkMonitorConnections(ctx, tx, row.Notifications); err != nil {
			return err
		}
		if err := checkMonitorName(ctx, tx, row.Name, ""); err != nil {
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
		_, err = tx.ExecContext(ctx, `INSERT INTO monitors (`+monitorColumns+`, name_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return mapMonitorConstraint(err, row.Name)
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
	what: "monitors", table: "monitors", columns: monitorColumns, keyColumn: "name_key", scan: scanMonitor,
	key: func(m *hookline.Monitor) pageKey { return pageKey{NameKey: nameKey(m.Name), ID: m.ID} },
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
		row.ModifiedAt = notBefore(now, old.CreatedAt)
		if err := checkMonitorConnections(ctx, tx, row.Notifications); err != nil {
			return err
		}
		if err := checkMonitorName(ctx, tx, row.Name, row.ID); err != nil {
			return err
		}
		args, err := monitorArgs(&row)
		if err != nil {
			return err
		}
		// args is in monitorColumns order; the ID moves to the end.
		_, err = tx.ExecContext(ctx, `UPDATE monitors SET name = ?, description = ?, query = ?, interval_s = ?,
			window_s = ?, triggers = ?, notifications = ?, group_fields = ?, muted = ?, disabled = ?,
			created_at = ?, created_by = ?, modified_at = ?, modified_by = ?, name_key = ?
			WHERE id = ?`, append(args[1:], row.ID)...)
		if err != nil {
			return mapMonitorConstraint(err, row.Name)
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
		// The foreign key would cascade; deleting outright does not depend
		// on foreign keys being enforced.
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_states WHERE monitor_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitors WHERE id = ?`, id); err != nil {
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

// scanMonitorState reads a row of monitorStateColumns.
func scanMonitorState(s scanner) (*hookline.MonitorStateRecord, error) {
	var (
		r                              hookline.MonitorStateRecord
		state, owner                   sql.NullString
		windowEnd, nextEval, leaseTill sql.NullInt64
	)
	if err := s.Scan(&r.MonitorID, &state, &windowEnd, &nextEval, &owner, &leaseTill); err != nil {
		return nil, err
	}
	if state.Valid {
		r.State = json.RawMessage(state.String)
	}
	r.WindowEnd, r.NextEvalAt, r.LeaseExpiresAt = unixnano.FromNull(windowEnd), unixnano.FromNull(nextEval), unixnano.FromNull(leaseTill)
	r.LeaseOwner = owner.String
	return &r, nil
}

// MonitorState returns the monitor's bookkeeping, or ENOTFOUND.
func (db *DB) MonitorState(ctx context.Context, id string) (*hookline.MonitorStateRecord, error) {
	r, err := scanMonitorState(db.read.QueryRowContext(ctx, `SELECT `+monitorStateColumns+` FROM monitor_states WHERE monitor_id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read monitor state: %w", monitorNotFound(id))
	case err != nil:
		return nil, fmt.Errorf("read monitor state %s: %w", id, err)
	}
	return r, nil
}

// claimMonitors leases monitors for ClaimDueMonitors.
var claimMonitors = leased[*hookline.MonitorStateRecord, *hookline.Monitor]{
	what: "monitor", claim: claimMonitorsSQL, definitions: claimedMonitorsSQL,
	scanRecord: scanMonitorState, recordID: func(r *hookline.MonitorStateRecord) string { return r.MonitorID },
	scanDef: scanMonitor, defID: func(m *hookline.Monitor) string { return m.ID },
}

// ClaimDueMonitors leases due monitors to owner (claimLeased).
func (db *DB) ClaimDueMonitors(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*hookline.ClaimedMonitor, error) {
	records, monitors, err := claimLeased(ctx, db, claimMonitors, owner, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("claim monitors: %w", err)
	}
	claimed := make([]*hookline.ClaimedMonitor, len(records))
	for i, r := range records {
		claimed[i] = &hookline.ClaimedMonitor{Monitor: monitors[i], Record: *r}
	}
	// RETURNING yields rows in no promised order.
	slices.SortFunc(claimed, func(a, b *hookline.ClaimedMonitor) int {
		if c := a.Record.NextEvalAt.Compare(b.Record.NextEvalAt); c != 0 {
			return c
		}
		return strings.Compare(a.Monitor.ID, b.Monitor.ID)
	})
	return claimed, nil
}

// SaveEvaluation stores an evaluation's result for owner, who must hold
// the monitor, and releases the lease.
func (db *DB) SaveEvaluation(ctx context.Context, owner, id string, windowEnd time.Time, state json.RawMessage, nextEvalAt time.Time) error {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
	}
	if len(state) > 0 && !json.Valid(state) {
		p.Add("state", "is not valid JSON")
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
	if err := p.Err(); err != nil {
		return fmt.Errorf("save evaluation of monitor %s: %w", id, err)
	}
	var stateText any
	if len(state) > 0 {
		stateText = string(state)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			holder   sql.NullString
			disabled int
		)
		err := tx.QueryRowContext(ctx, `SELECT s.lease_owner, m.disabled FROM monitor_states s
			JOIN monitors m ON m.id = s.monitor_id WHERE s.monitor_id = ?`, id).Scan(&holder, &disabled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return monitorNotFound(id)
		case err != nil:
			return fmt.Errorf("read lease: %w", err)
		case holder.String != owner:
			return hookline.Errorf(hookline.ECONFLICT,
				"monitor %s is not held by %s: it was not claimed, or another claimed it after the lease expired", id, owner)
		}
		var next any = nextEvalAt.UnixNano()
		if disabled != 0 {
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
