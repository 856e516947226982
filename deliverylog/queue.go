package deliverylog

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// CheckAccepted refuses alerts the store cannot keep, naming each problem's
// field. The API validates alerts fully; these checks keep a caller's
// mistake from being stored, or from failing the batch inside the
// database. storable, when not nil, is the engine's own rule for text
// (PostgreSQL's text holds only UTF-8 without NUL); a value it refuses is
// "must be UTF-8 without NUL characters".
func CheckAccepted(alerts []*hookline.AcceptedAlert, storable func(string) bool) error {
	if storable == nil {
		storable = func(string) bool { return true }
	}
	const notText = "must be UTF-8 without NUL characters"
	var p hookline.Problems
	for i, a := range alerts {
		at := fmt.Sprintf("alerts[%d]", i)
		if a == nil {
			p.Add(at, "is missing")
			continue
		}
		if n := utf8.RuneCountInString(a.Source); n > hookline.MaxSourceLen {
			p.Add(at+".source", "is %d characters long; at most %d are allowed", n, hookline.MaxSourceLen)
		} else if !storable(a.Source) {
			p.Add(at+".source", notText)
		}
		if n := utf8.RuneCountInString(a.IdempotencyKey); n > hookline.MaxIdempotencyKeyLen {
			p.Add(at+".idempotencyKey", "is %d characters long; at most %d are allowed", n, hookline.MaxIdempotencyKeyLen)
		} else if !storable(a.IdempotencyKey) {
			p.Add(at+".idempotencyKey", notText)
		}
		if !unixnano.InRange(a.ReceivedAt) && !a.ReceivedAt.IsZero() {
			p.Add(at+".receivedAt", "is out of range")
		}
		for j, d := range a.Deliveries {
			switch {
			case d == nil || d.ConnectionID == "":
				p.Add(fmt.Sprintf("%s.notifications[%d].connectionId", at, j), "is required")
			case !storable(d.ConnectionID):
				p.Add(fmt.Sprintf("%s.notifications[%d].connectionId", at, j), notText)
			case !storable(d.Payload):
				p.Add(fmt.Sprintf("%s.notifications[%d].payload", at, j), notText)
			}
		}
	}
	return p.Err()
}

// NewDeliveries returns the deliveries of a newly stored alert, a stored
// as alertID at receivedAt by a store whose clock read now: a's given
// deliveries, pending and due at once (NextAttemptAt = receivedAt), with
// the alert's trigger type where they name none. Their IDs are the
// engine's to draw.
func NewDeliveries(a *hookline.AcceptedAlert, alertID string, receivedAt, now time.Time) []hookline.Delivery {
	ds := make([]hookline.Delivery, len(a.Deliveries))
	for j, given := range a.Deliveries {
		ds[j] = hookline.Delivery{
			AlertID: alertID, ConnectionID: given.ConnectionID, TriggerType: given.TriggerType,
			Payload: given.Payload, State: hookline.DeliveryPending,
			NextAttemptAt: receivedAt, CreatedAt: now, UpdatedAt: now,
		}
		if ds[j].TriggerType == "" {
			ds[j].TriggerType = a.Alert.TriggerType
		}
	}
	return ds
}

// CheckResults refuses attempt results that would store an impossible
// state, naming each problem's field.
func CheckResults(results []hookline.AttemptResult) error {
	var p hookline.Problems
	for i, r := range results {
		at := fmt.Sprintf("results[%d]", i)
		if r.Attempt.DeliveryID == "" {
			p.Add(at+".attempt.deliveryId", "is required")
		}
		if r.Attempt.StartedAt.IsZero() {
			p.Add(at+".attempt.startedAt", "is required")
		}
		if r.Attempt.N < 1 {
			p.Add(at+".attempt.n", "must be 1 or more, not %d", r.Attempt.N)
		}
		if !r.State.Valid() {
			p.Add(at+".state", "%q is not a delivery state", r.State)
		}
		if r.State == hookline.DeliveryPending && r.NextAttemptAt.IsZero() {
			p.Add(at+".nextAttemptAt", "is required while the delivery is pending")
		}
		for _, t := range []struct {
			name string
			v    time.Time
		}{{"nextAttemptAt", r.NextAttemptAt}, {"attempt.startedAt", r.Attempt.StartedAt}, {"attempt.retryAt", r.Attempt.RetryAt}} {
			if !unixnano.InRange(t.v) && !t.v.IsZero() {
				p.Add(at+"."+t.name, "is out of range")
			}
		}
	}
	return p.Err()
}

// DecodeClaimed gives each claimed delivery its alert, decoding each
// stored body (bodies, by alert ID) once: the deliveries of one alert
// share one *Alert. It returns, by alert ID, why the alerts that do not
// decode cannot be read; their deliveries keep a nil Alert, for the
// engine to fail and Readable to drop: left pending, such a delivery
// would come first in every claim and fail each one.
func DecodeClaimed(claimed []*hookline.ClaimedDelivery, bodies map[string]string) (unreadable map[string]string) {
	alerts := make(map[string]*hookline.Alert, len(bodies))
	unreadable = map[string]string{}
	for id, body := range bodies {
		if a, err := DecodeAlert(id, body); err != nil {
			unreadable[id] = err.Error()
		} else {
			alerts[id] = a
		}
	}
	for _, cd := range claimed {
		cd.Alert = alerts[cd.Delivery.AlertID]
	}
	return unreadable
}

// Readable drops the deliveries of unreadable alerts from claimed, and
// orders the rest as ClaimDue returns them: by NextAttemptAt, then ID
// (RETURNING yields rows in no promised order).
func Readable(claimed []*hookline.ClaimedDelivery, unreadable map[string]string) []*hookline.ClaimedDelivery {
	claimed = slices.DeleteFunc(claimed, func(cd *hookline.ClaimedDelivery) bool {
		_, bad := unreadable[cd.Delivery.AlertID]
		return bad
	})
	slices.SortFunc(claimed, func(a, b *hookline.ClaimedDelivery) int {
		if c := a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.Delivery.ID, b.Delivery.ID)
	})
	return claimed
}
