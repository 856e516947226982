package postgres

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

// Monitors and their evaluation bookkeeping (migration 0004), kept as
// SQLite keeps them: IDs are 16 upper-case hex digits chosen by the store;
// names are unique case-insensitively, Unicode-aware as connections'; the
// definition is one row of monitors and the bookkeeping one row of
// monitor_states, made and deleted together. A taken name is found by the
// check in the write transaction or, when another took it meanwhile, by
// the unique index; edits of one monitor take turns on its row lock.

var _ hookline.MonitorStore = (*DB)(nil)

const monitorColumns = `id, name, description, query, interval_s, window_s, triggers, notifications,
	group_fields, muted, disabled, created_at, created_by, modified_at, modified_by`

const monitorStateColumns = `monitor_id, state, window_end, next_eval_at, lease_owner, lease_expires_at`

const (
	// claimMonitorsSQL leases the most overdue monitors that no one holds,
	// walking monitor_states_due in order. $1 owner, $2 now, $3 the
	// lease's expiry, $4 the limit.
	claimMonitorsSQL = `UPDATE monitor_states SET lease_owner = $1, lease_expires_at = $3
		WHERE monitor_id IN (
			SELECT monitor_id FROM monitor_states
			WHERE next_eval_at <= $2 AND (lease_expires_at IS NULL OR lease_expires_at <= $2)
			ORDER BY next_eval_at, monitor_id
			LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING ` + monitorStateColumns

	// claimedMonitorsSQL reads the definitions of the claimed monitors.
	claimedMonitorsSQL = `SELECT ` + monitorColumns + ` FROM monitors WHERE id = ANY ($1::text[])`

	// rescheduleSQL applies an edit to the schedule (see UpdateMonitor).
	// $1 disabled, $2 now, $3 now plus the new interval, $4 the monitor.
	rescheduleSQL = `UPDATE monitor_states SET next_eval_at = CASE
			WHEN $1::boolean THEN NULL
			WHEN next_eval_at IS NULL THEN $2::bigint
			ELSE LEAST(next_eval_at, $3::bigint) END
		WHERE monitor_id = $4`
)

func monitorNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "monitor %s not found", id)
}

func monitorNameTaken(name string) error {
	return conflictOn("name", "is already used by another monitor (names are compared ignoring case)",
		"a monitor named %q already exists", name)
}

// storedTrigger and storedNotification are the JSON of the triggers and
// notifications columns: the store's own encoding, the same as SQLite's,
// so that the model can change its Go fields without a migration.
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
		string(cols[0]), string(cols[1]), string(cols[2]), m.Muted, m.Disabled,
		m.CreatedAt, m.CreatedBy, m.ModifiedAt, m.ModifiedBy, nameKey(m.Name),
	}, nil
}

// scanMonitor reads a row of monitorColumns.
func scanMonitor(s scanner) (*hookline.Monitor, error) {
	var (
		m                               hookline.Monitor
		interval, window                int64
		triggers, notifications, groups string
	)
	err := s.Scan(&m.ID, &m.Name, &m.Description, &m.Query, &interval, &window, &triggers, &notifications,
		&groups, &m.Muted, &m.Disabled, &m.CreatedAt, &m.CreatedBy, &m.ModifiedAt, &m.ModifiedBy)
	if err != nil {
		return nil, err
	}
	m.CreatedAt, m.ModifiedAt = m.CreatedAt.UTC(), m.ModifiedAt.UTC()
	m.Interval, m.Window = time.Duration(interval)*time.Second, time.Duration(window)*time.Second
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
	return &m, nil
}

// readMonitor reads monitor id through q, with lock (" FOR UPDATE" or "")
// appended to the query; ENOTFOUND when missing.
func readMonitor(ctx context.Context, q querier, id, lock string) (*hookline.Monitor, error) {
	m, err := scanMonitor(q.QueryRowContext(ctx, `SELECT `+monitorColumns+` FROM monitors WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, monitorNotFound(id)
	}
	return m, err
}

// checkMonitorName returns ECONFLICT when a monitor other than id has
// name, compared case-insensitively.
func checkMonitorName(ctx context.Context, tx *sql.Tx, name, id string) error {
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM monitors WHERE name_key = $1 AND id <> $2)`, nameKey(name), id).Scan(&taken)
	switch {
	case err != nil:
		return fmt.Errorf("check name: %w", err)
	case taken:
		return monitorNameTaken(name)
	}
	return nil
}

// mapMonitorConstraint turns a violation of the unique name index, by a
// transaction that took the name after checkMonitorName, into ECONFLICT.
func mapMonitorConstraint(err error, name string) error {
	if uniqueViolation(err, "monitors_name_key") {
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
		found := false
		if storableText(n.ConnectionID) {
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE id = $1)`, n.ConnectionID).Scan(&found); err != nil {
				return fmt.Errorf("check connections: %w", err)
			}
		}
		if !found {
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
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, args...)
		if err != nil {
			return mapMonitorConstraint(err, row.Name)
		}
		var due any = now.UnixNano()
		if row.Disabled {
			due = nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_states (monitor_id, next_eval_at) VALUES ($1, $2)`, row.ID, due); err != nil {
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
	m, err := readMonitor(ctx, db.db, id, "")
	if err != nil {
		return nil, fmt.Errorf("read monitor %s: %w", id, err)
	}
	return m, nil
}

// Monitors returns a page of monitors ordered by lower-cased name and ID,
// with the limit and token rules of Connections.
func (db *DB) Monitors(ctx context.Context, opt hookline.ListOptions) ([]*hookline.Monitor, string, error) {
	return monitorsByName.list(ctx, db.db, opt)
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
		old, err := readMonitor(ctx, tx, row.ID, " FOR UPDATE")
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
		_, err = tx.ExecContext(ctx, `UPDATE monitors SET name = $1, description = $2, query = $3, interval_s = $4,
			window_s = $5, triggers = $6, notifications = $7, group_fields = $8, muted = $9, disabled = $10,
			created_at = $11, created_by = $12, modified_at = $13, modified_by = $14, name_key = $15
			WHERE id = $16`, append(args[1:], row.ID)...)
		if err != nil {
			return mapMonitorConstraint(err, row.Name)
		}
		_, err = tx.ExecContext(ctx, rescheduleSQL, row.Disabled, now.UnixNano(), unixnano.Add(now.UnixNano(), row.Interval), row.ID)
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
		old, err := readMonitor(ctx, tx, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_states WHERE monitor_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitors WHERE id = $1`, id); err != nil {
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
	r, err := scanMonitorState(db.db.QueryRowContext(ctx, `SELECT `+monitorStateColumns+` FROM monitor_states WHERE monitor_id = $1`, id))
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
// the monitor, and releases the lease. The state row is locked before the
// holder is compared, so that a claim by another owner after the lease
// expired and this save cannot both succeed.
func (db *DB) SaveEvaluation(ctx context.Context, owner, id string, windowEnd time.Time, state json.RawMessage, nextEvalAt time.Time) error {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
	}
	if len(state) > 0 && !json.Valid(state) {
		p.Add("state", "is not valid JSON")
	} else if !storableText(string(state)) {
		p.Add("state", "must be UTF-8 (PostgreSQL keeps it as text)")
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
		holder, ok, err := leaseHolder(ctx, tx, "monitor_states", "monitor_id", id)
		switch {
		case err != nil:
			return err
		case !ok:
			return monitorNotFound(id)
		case holder != owner:
			return hookline.Errorf(hookline.ECONFLICT,
				"monitor %s is not held by %s: it was not claimed, or another claimed it after the lease expired", id, owner)
		}
		_, err = tx.ExecContext(ctx, `UPDATE monitor_states SET state = $1, window_end = $2,
			next_eval_at = CASE WHEN (SELECT disabled FROM monitors WHERE id = $4) THEN NULL ELSE $3::bigint END,
			lease_owner = NULL, lease_expires_at = NULL WHERE monitor_id = $4`, stateText, unixnano.Null(windowEnd), nextEvalAt.UnixNano(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("save evaluation of monitor %s: %w", id, err)
	}
	return nil
}
