package hookline

import (
	"context"
	"time"
)

// AuditScheduledSearch is the audit target type of scheduled searches.
// Their events are "create", "update" and "delete", with
// ScheduledSearchAudit views; runs are not audited.
const AuditScheduledSearch = "scheduledSearch"

// SearchRun is what one run of a scheduled search found, kept so that the
// API and the UI can show how the search is doing.
type SearchRun struct {
	// ScheduledAt is the schedule's time the run stood for: its time
	// range ends there, and its alerts' idempotency keys name it.
	ScheduledAt time.Time
	// Results is the number of results the condition compared.
	Results int
	// Alerts is how many alerts the run accepted: 0 when the condition was
	// not met, up to MaxItemizedAlerts when itemized.
	Alerts int
	// Error says why the run failed (the query timed out, or the search no
	// longer compiles); "" for a run that completed. A failed run sends
	// nothing, as the reference says.
	Error string
}

// SearchStateRecord is a scheduled search's run bookkeeping: its last run,
// when it is next due, and who is running it now.
type SearchStateRecord struct {
	SearchID string
	// LastRun is the last run saved; its ScheduledAt is zero before the
	// first.
	LastRun SearchRun
	// NextRunAt is the schedule's next time, when the search is next due. A
	// new search is due at its schedule's first time after it was stored;
	// a disabled search is never due and its NextRunAt is zero.
	NextRunAt time.Time
	// LeaseOwner holds the search, taken by ClaimDueSearches, until it
	// saves a run; LeaseExpiresAt is when others may take it again. Both
	// are zero when no one holds it.
	LeaseOwner     string
	LeaseExpiresAt time.Time
}

// ClaimedSearch is a scheduled search ClaimDueSearches took for a run: its
// definition and its bookkeeping, read in the claim's transaction.
type ClaimedSearch struct {
	Search *ScheduledSearch
	Record SearchStateRecord
}

// ScheduledSearchStore keeps scheduled searches and their run bookkeeping.
// Every change to a search is recorded in the audit log in the change's
// own transaction, as made by ActorFrom(ctx).
//
// Each scheduled time is run once however many processes share the store:
// ClaimDueSearches leases each due search to one owner, and SaveSearchRun,
// by the lease's owner only, keeps the run and sets the next time, as
// MonitorStore does for monitors.
type ScheduledSearchStore interface {
	// CreateScheduledSearch normalizes (ScheduledSearch.Normalize),
	// validates (EINVALID naming the field) and stores s, filling in its ID
	// and times; ModifiedBy defaults to CreatedBy. The notification's
	// connection must exist (EINVALID naming "notification.connectionId");
	// a taken name is ECONFLICT naming "name" (compared
	// case-insensitively). Unless disabled the search is due at next,
	// which the caller computes from the schedule: the store does not read
	// cron expressions. A zero next with an enabled search is EINVALID
	// naming "cronExpression" (a schedule that never fires).
	CreateScheduledSearch(ctx context.Context, s *ScheduledSearch, next time.Time) error
	// ScheduledSearch returns the search with the ID, or ENOTFOUND.
	ScheduledSearch(ctx context.Context, id string) (*ScheduledSearch, error)
	// ScheduledSearches returns a page of searches ordered by lower-cased
	// name, then ID, and the next page's token ("" after the last), with
	// the limit and token rules of Connections.
	ScheduledSearches(ctx context.Context, opt ListOptions) ([]*ScheduledSearch, string, error)
	// UpdateScheduledSearch normalizes and validates s as
	// CreateScheduledSearch does and replaces the stored search s.ID,
	// keeping its CreatedAt and CreatedBy (copied into s) and setting
	// ModifiedAt; ENOTFOUND, EINVALID, ECONFLICT naming "name". The search
	// is next due at next (the schedule may have changed), or never when
	// disabled; the last run is kept, and a lease held is kept.
	UpdateScheduledSearch(ctx context.Context, s *ScheduledSearch, next time.Time) error
	// DeleteScheduledSearch removes the search and its bookkeeping, or
	// returns ENOTFOUND. A run in flight can no longer be saved.
	DeleteScheduledSearch(ctx context.Context, id string) error

	// SearchState returns the search's run bookkeeping, or ENOTFOUND.
	SearchState(ctx context.Context, id string) (*SearchStateRecord, error)
	// ClaimDueSearches leases to owner, until now+lease, up to limit
	// enabled searches whose NextRunAt is at or before now and that no one
	// holds (never leased, saved since, or leased until now or earlier),
	// most overdue first (NextRunAt, then ID), with Record as it was before
	// the claim apart from the new lease. EINVALID naming "owner", "lease",
	// "limit" or "now" as ClaimDueMonitors; limit 0 claims none.
	ClaimDueSearches(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*ClaimedSearch, error)
	// SaveSearchRun records run as the search's LastRun (when
	// run.ScheduledAt is not zero; a zero run keeps the last one, for a
	// run given up before it started), schedules the next run at next and
	// releases the lease. Only owner may save, even after its lease
	// expired as long as no one else claimed the search since: ECONFLICT
	// otherwise, and nothing changes. ENOTFOUND when the search was
	// deleted; EINVALID naming "owner" or "next" (zero). A search disabled
	// meanwhile keeps the run and stays off the schedule. Not audited.
	SaveSearchRun(ctx context.Context, owner, id string, run SearchRun, next time.Time) error
}

// NeverFires is the problem of a search whose cronExpression has no next
// time, as the stores and the API report it.
const NeverFires = "never fires: the schedule has no next time"
