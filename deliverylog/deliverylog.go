// Package deliverylog owns the engine-neutral half of the delivery store:
// the checks of what is accepted and recorded (queue.go), the decoding and
// order of claimed deliveries; reading the delivery log and the alerts
// list: the checks of their filters and the errors they give, their page
// keys and tokens, the buckets of DeliveryCounts, and reading rows into
// attempts, accepted alerts and counts. The engines keep their SQL, their
// transactions, locks and indexes.
package deliverylog

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"
	"github.com/hookline/hookline/unixnano"
)

// DeliveryKey is the sort key of the last delivery of a page of the log.
type DeliveryKey struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
}

// AlertKey is the sort key of the last alert of a page of the alerts list.
// Its JSON names differ from DeliveryKey's, so that a token of the delivery
// log is not taken for one of this list.
type AlertKey struct {
	ReceivedAt int64  `json:"r"`
	ID         string `json:"a"`
}

// CheckDeliveries checks f as Deliveries takes it and returns the page's
// limit and the position it starts after (nil for the first page). A
// negative limit, an unknown state, a Since or Until out of range, or a
// token this log did not issue is EINVALID naming "limit", "state",
// "since", "until" or "token".
func CheckDeliveries(f hookline.DeliveryFilter) (int, *DeliveryKey, error) {
	var p hookline.Problems
	limit := listpage.Limit(&p, f.Limit)
	if f.State != "" && !f.State.Valid() {
		p.Add("state", "must be one of pending, delivered, failed or dead, not %q", f.State)
	}
	checkRange(&p, f.Since, f.Until)
	after, err := DecodeDeliveryToken(f.Token)
	if err != nil {
		p.AddError("token", err)
	}
	return limit, after, p.Err()
}

// CheckAlerts checks f as Alerts takes it and returns the page's limit and
// the position it starts after (nil for the first page). A negative limit,
// a Since or Until out of range, or a token this list did not issue is
// EINVALID naming "limit", "since", "until" or "token".
func CheckAlerts(f hookline.AlertFilter) (int, *AlertKey, error) {
	var p hookline.Problems
	limit := listpage.Limit(&p, f.Limit)
	checkRange(&p, f.Since, f.Until)
	after, err := listpage.Decode(f.Token, func(k AlertKey) bool { return rowid.Valid(k.ID) })
	if err != nil {
		p.AddError("token", err)
	}
	return limit, after, p.Err()
}

// checkRange adds a problem for each of since and until that is set and
// beyond the times the stores keep.
func checkRange(p *hookline.Problems, since, until time.Time) {
	for _, t := range []struct {
		name string
		v    time.Time
	}{{"since", since}, {"until", until}} {
		if !unixnano.InRange(t.v) && !t.v.IsZero() {
			p.Add(t.name, "is out of range")
		}
	}
}

// DecodeDeliveryToken parses a page token of the delivery log; "" means the
// first page (nil).
func DecodeDeliveryToken(token string) (*DeliveryKey, error) {
	return listpage.Decode(token, func(k DeliveryKey) bool { return rowid.Valid(k.ID) })
}

// DeliveriesToken is the token of the page after list, "" when no more
// follow.
func DeliveriesToken(list []*hookline.Delivery, more bool) string {
	if !more || len(list) == 0 {
		return ""
	}
	last := list[len(list)-1]
	return listpage.Encode(DeliveryKey{CreatedAt: last.CreatedAt.UnixNano(), ID: last.ID})
}

// AlertsToken is the token of the page after list, "" when no more follow.
func AlertsToken(list []*hookline.AcceptedAlert, more bool) string {
	if !more || len(list) == 0 {
		return ""
	}
	last := list[len(list)-1]
	return listpage.Encode(AlertKey{ReceivedAt: last.ReceivedAt.UnixNano(), ID: last.ID})
}

// AlertColumns are the columns of the alerts table ScanAlert reads, in its
// order.
const AlertColumns = `id, source, idempotency_key, received_at, body`

// ScanAlert reads a row of AlertColumns. Its Deliveries are empty, for
// Attach or the caller to fill. A row that is not there is Scan's error
// (sql.ErrNoRows), unwrapped.
func ScanAlert(s listpage.Scanner) (*hookline.AcceptedAlert, error) {
	var (
		a        hookline.AcceptedAlert
		key      sql.NullString
		received int64
		body     string
	)
	if err := s.Scan(&a.ID, &a.Source, &key, &received, &body); err != nil {
		return nil, err
	}
	a.IdempotencyKey, a.ReceivedAt = key.String, unixnano.Time(received)
	alert, err := DecodeAlert(a.ID, body)
	if err != nil {
		return nil, err
	}
	a.Alert = *alert
	a.Deliveries = []*hookline.Delivery{}
	return &a, nil
}

// DecodeAlert reads the stored body of alert id.
func DecodeAlert(id, body string) (*hookline.Alert, error) {
	var a hookline.Alert
	if err := a.UnmarshalJSON([]byte(body)); err != nil { // not json.Unmarshal, which would scan the body once more first
		// Not %w: an *hookline.Error in the chain would make a damaged row
		// look like the caller's mistake.
		return nil, fmt.Errorf("alert %s: decode stored body: %v", id, err)
	}
	return &a, nil
}

// IDs returns the IDs of the alerts of a page, in order, for the query of
// their deliveries.
func IDs(list []*hookline.AcceptedAlert) []string {
	ids := make([]string, len(list))
	for i, a := range list {
		ids[i] = a.ID
	}
	return ids
}

// Attach appends each of ds, read in each alert's acceptance order, to the
// Deliveries of its alert in list; a delivery of no listed alert is left
// out.
func Attach(list []*hookline.AcceptedAlert, ds []*hookline.Delivery) {
	byID := make(map[string]*hookline.AcceptedAlert, len(list))
	for _, a := range list {
		byID[a.ID] = a
	}
	for _, d := range ds {
		if a := byID[d.AlertID]; a != nil {
			a.Deliveries = append(a.Deliveries, d)
		}
	}
}

// AttemptColumns are the columns of the attempts table ReadAttempts reads,
// in its order.
const AttemptColumns = `n, started_at, latency_us, status_code, error, response, retry_at`

// ReadAttempts reads rows of AttemptColumns, the attempts of delivery id,
// and closes rows. Latency comes back to the microsecond; none is an empty
// list, not nil.
func ReadAttempts(rows *sql.Rows, id string) ([]hookline.DeliveryAttempt, error) {
	defer rows.Close()
	attempts := []hookline.DeliveryAttempt{}
	for rows.Next() {
		a := hookline.DeliveryAttempt{DeliveryID: id}
		var started, latency int64
		var retry sql.NullInt64
		var response []byte // text in SQLite, bytea in PostgreSQL
		if err := rows.Scan(&a.N, &started, &latency, &a.StatusCode, &a.Error, &response, &retry); err != nil {
			return nil, err
		}
		a.StartedAt, a.Latency, a.RetryAt = unixnano.Time(started), time.Duration(latency)*time.Microsecond, unixnano.FromNull(retry)
		a.Response = string(response)
		attempts = append(attempts, a)
	}
	return attempts, rows.Err()
}
