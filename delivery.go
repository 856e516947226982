package hookline

import (
	"context"
	"time"
)

// Limits on an accepted alert.
const (
	MaxIdempotencyKeyLen = 200
	MaxSourceLen         = 127
	MaxNotifications     = 50  // connections one alert may notify
	MaxResults           = 512 // rows kept with an alert, as the product keeps for webhooks
)

// AcceptedAlert is an alert Hookline has taken responsibility for: stored
// with its deliveries before the sender was answered.
type AcceptedAlert struct {
	ID string
	// Source names who raised it: "api", "alertmanager", a monitor's ID.
	Source string
	// IdempotencyKey, when set, makes accepting the same alert again a no-op
	// that answers with the first acceptance.
	IdempotencyKey string
	ReceivedAt     time.Time
	Alert          Alert

	Deliveries []*Delivery
	// Duplicate reports that the IdempotencyKey was seen before and the
	// stored alert and deliveries were returned instead.
	Duplicate bool
}

// DeliveryState is where a delivery stands.
type DeliveryState string

const (
	// DeliveryPending waits for its first or next attempt.
	DeliveryPending DeliveryState = "pending"
	// DeliveryDelivered got a 2xx answer from its target.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed was refused for good: a 4xx answer other than 408 and
	// 429, or a delivery that cannot be made (its connection was deleted,
	// its payload no longer renders).
	DeliveryFailed DeliveryState = "failed"
	// DeliveryDead failed every attempt of the retry schedule.
	DeliveryDead DeliveryState = "dead"
)

// Valid reports whether s is a known state.
func (s DeliveryState) Valid() bool {
	switch s {
	case DeliveryPending, DeliveryDelivered, DeliveryFailed, DeliveryDead:
		return true
	}
	return false
}

// Final reports whether no further attempt will be made unless a user
// replays the delivery.
func (s DeliveryState) Final() bool { return s != DeliveryPending }

// Delivery is one alert on its way to one connection. Its ID is also the
// Idempotency-Key header of every attempt, so a target can drop repeats.
type Delivery struct {
	ID           string
	AlertID      string
	ConnectionID string
	TriggerType  TriggerType
	// Payload is the template this delivery renders: a per-notification
	// override chosen when the alert was accepted, or "" for the
	// connection's own payload for the trigger type, read at each attempt.
	Payload string

	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time // when State is pending
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastStatus    int    // the last attempt's HTTP status, 0 for none
	LastError     string // the last attempt's error, "" for none
}

// DeliveryAttempt is one try of a delivery, as the delivery log shows it.
// Everything in it is redacted.
type DeliveryAttempt struct {
	DeliveryID string
	N          int // 1 for the first attempt
	StartedAt  time.Time
	Latency    time.Duration
	StatusCode int    // 0 when no answer came
	Error      string // why it failed, in words
	Response   string // an excerpt of the target's answer
	// RetryAt is when the next attempt is scheduled; zero when none is.
	RetryAt time.Time
}

// AttemptResult is what one attempt changed: the attempt to log and the
// delivery's new state.
type AttemptResult struct {
	Attempt       DeliveryAttempt
	State         DeliveryState
	NextAttemptAt time.Time // when State is pending
	// Keep says the process keeps the delivery in memory for its next
	// attempt, rather than leaving it for any process to claim.
	Keep bool
}

// DeliveryFilter selects deliveries for the log.
type DeliveryFilter struct {
	ConnectionID string
	AlertID      string
	State        DeliveryState // "" for any
	Since, Until time.Time     // on CreatedAt; zero for unbounded
	Limit        int
	Token        string
}

// AlertFilter selects accepted alerts for the alerts list.
type AlertFilter struct {
	// Source keeps the alerts of one source: "api", "alertmanager",
	// "monitor:ID", "search:ID". "" for any.
	Source string
	// TriggerType keeps the alerts of one trigger type; "" for any.
	TriggerType  TriggerType
	Since, Until time.Time // on ReceivedAt, Since inclusive, Until exclusive; zero for unbounded
	Limit        int       // DefaultListLimit when 0; at most MaxListLimit
	Token        string
}

// QueueStats describe the pending work.
type QueueStats struct {
	Pending       int
	OldestPending time.Time // CreatedAt of the oldest pending delivery; zero when none
	// Replicas counts the owners with a live lease (RenewOwner): the
	// processes delivering from the store.
	Replicas int
}

// DeliveryStore keeps alerts, deliveries and their attempts durably.
type DeliveryStore interface {
	// AcceptAlerts stores each alert with its deliveries, all in one
	// transaction, filling in IDs and times; on return they are durable.
	// An alert whose IdempotencyKey is already stored for its Source is not
	// stored again: its ID, ReceivedAt and Deliveries are set from the
	// stored one and Duplicate is set. Deliveries stored with owner are held by that
	// process, as long as its lease lives; with owner "" any process may claim them.
	AcceptAlerts(ctx context.Context, owner string, alerts []*AcceptedAlert) error

	// ClaimDue marks for owner up to limit pending deliveries due by due,
	// oldest due first, skipping the connections in skip, and returns them
	// with their alerts. It takes those nobody holds and those held by an
	// owner without a live lease (see RenewOwner); never those owner, or
	// another owner with a live lease, holds.
	ClaimDue(ctx context.Context, owner string, due time.Time, limit int, skip []string) ([]*ClaimedDelivery, error)

	// RenewOwner leases to owner, for ttl from the store's clock, the
	// deliveries it holds: until the lease lapses, no other owner claims
	// them. A process renews its lease well before it lapses, for as long
	// as it runs; one that crashed stops renewing, and its deliveries are
	// claimed by the others once ttl has passed. renewed is false when
	// owner had no live lease: on the first call, and after a lapse, when
	// another process may have claimed what owner held. An empty owner or
	// a ttl that is not positive is EINVALID naming "owner" or "ttl".
	RenewOwner(ctx context.Context, owner string, ttl time.Duration) (renewed bool, err error)

	// ReleaseOwner ends owner's lease at once: a process that stops
	// leaves what it held to the others without making them wait.
	ReleaseOwner(ctx context.Context, owner string) error

	// HeldBy returns those of ids that are pending and held by owner, in
	// no order: after its lease lapsed, a process learns which of the
	// deliveries in its memory are still its own and which another claimed.
	HeldBy(ctx context.Context, owner string, ids []string) ([]string, error)

	// RecordAttempts logs attempts and applies their deliveries' new
	// states, all in one transaction. owner keeps the deliveries whose
	// result says Keep; the others are released.
	RecordAttempts(ctx context.Context, owner string, results []AttemptResult) error

	// Delivery returns a delivery with its attempts, or ENOTFOUND.
	Delivery(ctx context.Context, id string) (*Delivery, []DeliveryAttempt, error)

	// Deliveries returns one page of deliveries, newest first, and the
	// token of the next page.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)

	// Alerts returns one page of accepted alerts, newest first by
	// (ReceivedAt, ID), each with its deliveries (their current state, no
	// attempts), and the token of the next page ("" after the last). A
	// limit out of range or a token not of this list is EINVALID naming
	// "limit" or "token".
	Alerts(ctx context.Context, f AlertFilter) ([]*AcceptedAlert, string, error)

	// AcceptedAlert returns an accepted alert with its deliveries, or ENOTFOUND.
	AcceptedAlert(ctx context.Context, id string) (*AcceptedAlert, error)

	// ReplayDelivery makes a final delivery pending again, due at, held by
	// owner, keeping its ID (and so its Idempotency-Key) and attempt count.
	// It returns ENOTFOUND, or ECONFLICT when the delivery is pending or delivered.
	ReplayDelivery(ctx context.Context, owner, id string, at time.Time) (*ClaimedDelivery, error)

	// QueueStats counts the pending deliveries.
	QueueStats(ctx context.Context) (QueueStats, error)

	// DeliveryCounts counts deliveries by their CreatedAt and current
	// state in buckets of the given length: bucket i covers
	// [since+i·bucket, since+(i+1)·bucket), and every bucket from the one
	// that starts at since to the one holding the store's now is returned,
	// oldest first, empty ones included. A zero or out-of-range since, a
	// since after now, a bucket that is not positive or more than
	// MaxDeliveryBuckets buckets is EINVALID naming "since" or "bucket".
	DeliveryCounts(ctx context.Context, since time.Time, bucket time.Duration) ([]DeliveryBucket, error)

	// LatestDeliveries returns the newest delivery, by (CreatedAt, ID), of
	// each stored connection that has one, newest first. Deliveries of
	// deleted connections are left out: they are still in the log, but no
	// connection is left to show them with.
	LatestDeliveries(ctx context.Context) ([]*Delivery, error)
}

// MaxDeliveryBuckets bounds the buckets one DeliveryCounts call returns.
const MaxDeliveryBuckets = 500

// DeliveryBucket counts the deliveries created in one span of time, by the
// state each is in now.
type DeliveryBucket struct {
	Start                            time.Time // inclusive; the span's end is the next bucket's start
	Pending, Delivered, Failed, Dead int
}

// ClaimedDelivery is a delivery with the alert it carries.
type ClaimedDelivery struct {
	Delivery *Delivery
	Alert    *Alert
}

// MaxOwnerLease bounds the ttl of DeliveryStore.RenewOwner: a lease that
// long would strand a crashed process's deliveries for a day.
const MaxOwnerLease = 24 * time.Hour

// CheckOwnerLease refuses the arguments of DeliveryStore.RenewOwner that
// no store accepts, naming "owner" or "ttl".
func CheckOwnerLease(owner string, ttl time.Duration) error {
	var p Problems
	if owner == "" {
		p.Add("owner", "is required")
	}
	if ttl <= 0 || ttl > MaxOwnerLease {
		p.Add("ttl", "must be more than 0 and at most %s, not %s", MaxOwnerLease, ttl)
	}
	return p.Err()
}
