package hookline

import (
	"context"
	"encoding/json"
	"time"
)

// AuditMonitor is the audit target type of monitors. Their events are
// "create", "update" and "delete", with MonitorAudit views; evaluations
// are not audited.
const AuditMonitor = "monitor"

// MonitorStateRecord is a monitor's evaluation bookkeeping: what the last
// evaluation left for the next one, when that is due, and who is
// evaluating it now.
type MonitorStateRecord struct {
	MonitorID string
	// State is what the last saved evaluation left: the JSON form of
	// monitor.State, kept as given; nil before the first.
	State json.RawMessage
	// WindowEnd is the end of the window State was evaluated over; zero
	// before the first evaluation.
	WindowEnd time.Time
	// NextEvalAt is when the monitor is next due. A new monitor is due at
	// once; a disabled monitor is never due and its NextEvalAt is zero.
	NextEvalAt time.Time
	// LeaseOwner holds the monitor, taken by ClaimDueMonitors, until it
	// saves an evaluation; LeaseExpiresAt is when others may take it
	// again. Both are zero when no one holds it.
	LeaseOwner     string
	LeaseExpiresAt time.Time
}

// ClaimedMonitor is a monitor ClaimDueMonitors took for evaluation: its
// definition and its bookkeeping, read in the claim's transaction.
type ClaimedMonitor struct {
	Monitor *Monitor
	Record  MonitorStateRecord
}

// MonitorStore keeps monitors and their evaluation state. Every change to a
// monitor is recorded in the audit log in the change's own transaction, as
// made by ActorFrom(ctx), like connection changes.
//
// Evaluations run once per interval however many processes share the
// store: ClaimDueMonitors leases each due monitor to one owner, in one
// write transaction, and SaveEvaluation, by the lease's owner only, keeps
// the result and sets when the monitor is due again. A lease that expires
// (its owner crashed, or its evaluation outlived the lease) lets another
// owner take the monitor and evaluate the same window from the same state;
// the first owner's save is then refused. Choose a lease longer than an
// evaluation's deadline.
type MonitorStore interface {
	// CreateMonitor validates (Monitor.Validate: EINVALID naming the field)
	// and stores m, filling in its ID and times; ModifiedBy defaults to
	// CreatedBy. Each notification's connection must exist (EINVALID naming
	// "notifications[i].connectionId"); a taken name is ECONFLICT naming
	// "name" (compared case-insensitively). The monitor is due at once,
	// unless disabled.
	CreateMonitor(ctx context.Context, m *Monitor) error
	// Monitor returns the monitor with the ID, or ENOTFOUND.
	Monitor(ctx context.Context, id string) (*Monitor, error)
	// Monitors returns a page of monitors ordered by lower-cased name, then
	// ID, and the next page's token ("" after the last), with the limit and
	// token rules of Connections.
	Monitors(ctx context.Context, opt ListOptions) ([]*Monitor, string, error)
	// UpdateMonitor validates m as CreateMonitor does and replaces the
	// stored monitor m.ID, keeping its CreatedAt and CreatedBy (copied into
	// m) and setting ModifiedAt. ENOTFOUND, EINVALID, ECONFLICT naming
	// "name".
	//
	// The evaluation state is kept whatever changed, so that every alert
	// that started also recovers: one whose trigger was removed, or whose
	// group is no longer a group, recovers at the next evaluation (see
	// docs/monitors.md). An edit never postpones the next evaluation; a
	// shorter interval brings it forward to at most one new interval from
	// now. Disabling takes the monitor off the schedule; enabling makes it
	// due at once. A lease held is kept.
	UpdateMonitor(ctx context.Context, m *Monitor) error
	// DeleteMonitor removes the monitor and its state, or returns
	// ENOTFOUND. An evaluation in flight can no longer be saved.
	DeleteMonitor(ctx context.Context, id string) error

	// MonitorState returns the monitor's evaluation bookkeeping, or
	// ENOTFOUND when there is no such monitor.
	MonitorState(ctx context.Context, id string) (*MonitorStateRecord, error)
	// ClaimDueMonitors leases to owner, until now+lease, up to limit
	// enabled monitors whose NextEvalAt is at or before now and that no
	// one holds: never leased, saved since, or leased until now or
	// earlier. A monitor owner holds already is not claimed again until
	// its lease expires, so a process polling faster than it evaluates
	// does not take its monitors twice. Monitors come most overdue first
	// (NextEvalAt, then ID), with Record as it was before the claim apart
	// from the new lease. EINVALID naming "owner" (empty), "lease" (not
	// positive), "limit" (negative) or "now" (zero); limit 0 claims none.
	ClaimDueMonitors(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*ClaimedMonitor, error)
	// SaveEvaluation replaces the monitor's State and WindowEnd with state
	// (nil for none; otherwise valid JSON, kept byte for byte) and
	// windowEnd (zero for none), schedules the next evaluation at
	// nextEvalAt and releases the lease: after a failed query, pass back
	// the claimed Record's State and WindowEnd with a later nextEvalAt. Only
	// owner may save, and it may even after its lease expired, as long as
	// no one else claimed the monitor since. ECONFLICT when owner does not
	// hold it, and nothing changes; ENOTFOUND when the monitor was deleted;
	// EINVALID naming "owner", "state", "windowEnd" or "nextEvalAt". A
	// monitor disabled meanwhile keeps the state and stays off the
	// schedule. Not audited.
	SaveEvaluation(ctx context.Context, owner, id string, windowEnd time.Time, state json.RawMessage, nextEvalAt time.Time) error
}
