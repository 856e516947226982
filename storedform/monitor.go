package storedform

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// MonitorColumns are the columns of monitors that MonitorArgs and
// MonitorRow.Dest list, in their order. Beyond them the table has
// name_key, the engine's lower-cased name.
const MonitorColumns = `id, name, description, query, interval_s, window_s, triggers, notifications,
	group_fields, muted, disabled, created_at, created_by, modified_at, modified_by`

// MonitorStateColumns are the columns of monitor_states that
// ScanMonitorState reads, in its order.
const MonitorStateColumns = `monitor_id, state, window_end, next_eval_at, lease_owner, lease_expires_at`

// storedTrigger and storedNotification are the JSON of the triggers and
// notifications columns.
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

// MonitorArgs returns the values of m's columns in MonitorColumns order,
// with muted, disabled, createdAt and modifiedAt as the engine binds them
// (their column types differ between the engines).
func MonitorArgs(m *hookline.Monitor, muted, disabled, createdAt, modifiedAt any) ([]any, error) {
	triggers, notifications, groups, err := encodeMonitorJSON(m)
	if err != nil {
		return nil, err
	}
	return []any{
		m.ID, m.Name, m.Description, m.Query, int64(m.Interval / time.Second), int64(m.Window / time.Second),
		triggers, notifications, groups, muted, disabled,
		createdAt, m.CreatedBy, modifiedAt, m.ModifiedBy,
	}, nil
}

// encodeMonitorJSON returns the triggers, notifications and group_fields
// columns of m. No group fields are kept as [], never null.
func encodeMonitorJSON(m *hookline.Monitor) (triggers, notifications, groups string, err error) {
	st := make([]storedTrigger, len(m.Triggers))
	for i, tr := range m.Triggers {
		st[i] = storedTrigger(tr)
	}
	sn := make([]storedNotification, len(m.Notifications))
	for i, n := range m.Notifications {
		sn[i] = storedNotification(n)
	}
	gf := m.GroupFields
	if gf == nil {
		gf = []string{}
	}
	var cols [3]string
	for i, v := range []any{st, sn, gf} {
		b, err := json.Marshal(v)
		if err != nil {
			// Validate refused non-finite thresholds, the only values
			// that do not encode.
			return "", "", "", fmt.Errorf("encode monitor: %w", err)
		}
		cols[i] = string(b)
	}
	return cols[0], cols[1], cols[2], nil
}

// MonitorRow holds the columns of a monitors row that need decoding while
// the row is scanned.
type MonitorRow struct {
	interval, window                int64
	triggers, notifications, groups string
}

// Dest returns the destinations of a row of MonitorColumns, for Scan: m's
// own fields, the row's for the columns Decode reads, and the engine's
// muted, disabled, createdAt and modifiedAt, which it converts itself.
func (r *MonitorRow) Dest(m *hookline.Monitor, muted, disabled, createdAt, modifiedAt any) []any {
	return []any{&m.ID, &m.Name, &m.Description, &m.Query, &r.interval, &r.window, &r.triggers, &r.notifications,
		&r.groups, muted, disabled, createdAt, &m.CreatedBy, modifiedAt, &m.ModifiedBy}
}

// Decode sets m's interval, window, triggers, notifications and group
// fields from the scanned row; m.ID names the monitor in errors.
func (r *MonitorRow) Decode(m *hookline.Monitor) error {
	m.Interval, m.Window = time.Duration(r.interval)*time.Second, time.Duration(r.window)*time.Second
	var (
		st []storedTrigger
		sn []storedNotification
	)
	if err := json.Unmarshal([]byte(r.triggers), &st); err != nil {
		return fmt.Errorf("monitor %s: decode triggers: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(r.notifications), &sn); err != nil {
		return fmt.Errorf("monitor %s: decode notifications: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(r.groups), &m.GroupFields); err != nil {
		return fmt.Errorf("monitor %s: decode group fields: %w", m.ID, err)
	}
	m.Triggers = make([]hookline.MonitorTrigger, len(st))
	for i, tr := range st {
		m.Triggers[i] = hookline.MonitorTrigger(tr)
	}
	m.Notifications = make([]hookline.MonitorNotification, len(sn))
	for i, n := range sn {
		m.Notifications[i] = hookline.MonitorNotification(n)
	}
	return nil
}

// ScanMonitorState reads a row of MonitorStateColumns with scan (a row's
// Scan method).
func ScanMonitorState(scan func(dest ...any) error) (*hookline.MonitorStateRecord, error) {
	var (
		r                              hookline.MonitorStateRecord
		state, owner                   sql.NullString
		windowEnd, nextEval, leaseTill sql.NullInt64
	)
	if err := scan(&r.MonitorID, &state, &windowEnd, &nextEval, &owner, &leaseTill); err != nil {
		return nil, err
	}
	if state.Valid {
		r.State = json.RawMessage(state.String)
	}
	r.WindowEnd, r.NextEvalAt, r.LeaseExpiresAt = unixnano.FromNull(windowEnd), unixnano.FromNull(nextEval), unixnano.FromNull(leaseTill)
	r.LeaseOwner = owner.String
	return &r, nil
}

// CheckMonitorConnections returns EINVALID naming each notification whose
// connection does not exist, as exists reports it. Deleting a connection
// later does not look at monitors: whoever sends a monitor's alerts finds
// the connection gone.
func CheckMonitorConnections(ns []hookline.MonitorNotification, exists func(id string) (bool, error)) error {
	var p hookline.Problems
	for i, n := range ns {
		found, err := exists(n.ConnectionID)
		if err != nil {
			return fmt.Errorf("check connections: %w", err)
		}
		if !found {
			p.Add(fmt.Sprintf("notifications[%d].connectionId", i), "names connection %s, which does not exist", n.ConnectionID)
		}
	}
	return p.Err()
}
