package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// The delivery store keeps its contract in these rules, beyond the comments
// of hookline.DeliveryStore, as SQLite's does:
//
//   - Times are stored as Unix nanoseconds and come back in UTC. A time the
//     store is given must lie between the years 1678 and 2262.
//   - IDs of alerts and deliveries are 16 upper-case hex digits, ordered by
//     the time they were drawn (see idGen).
//   - An alert's deliveries come back in the order they were accepted.
//   - Deleting a connection keeps its deliveries and their attempts: the log
//     outlives its target.
//
// Concurrency. A claim locks the rows it takes with FOR UPDATE SKIP LOCKED,
// so claims running at once take different deliveries rather than waiting
// for each other or taking one twice. An idempotency key accepted by two
// transactions at once is settled by the unique index: the second waits
// for the first and then finds its alert. Recording an attempt is
// conditional on the delivery not having counted it, which PostgreSQL
// checks again on the locked row.
//
// Replicas. Each process holds the deliveries it claimed or accepted
// under its owner name, and keeps them by renewing its lease in
// delivery_owners (RenewOwner); a claim passes over the deliveries of every
// owner with a live lease and takes those of owners without one, which
// have stopped or crashed. Leases are times of the renewing replica's
// clock compared with the claiming replica's: replicas' clocks must agree
// to well within a lease.
//
// pgx prepares and caches each statement on each connection the first time
// it runs there, so the hot path needs no prepared statements of its own.

var _ hookline.DeliveryStore = (*DB)(nil)

// deliveryColumns are the columns scanDelivery reads, in its order.
const deliveryColumns = `id, alert_id, connection_id, trigger_type, payload, state, attempts,
	next_attempt_at, created_at, updated_at, last_status, last_error`

const (
	// insertAlertSQL inserts nothing when the ID or the source's
	// idempotency key is taken; AcceptAlerts tells which.
	insertAlertSQL = `INSERT INTO alerts (id, source, idempotency_key, trigger_type, received_at, body)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	alertByKeySQL     = `SELECT id, received_at FROM alerts WHERE source = $1 AND idempotency_key = $2`
	insertDeliverySQL = `INSERT INTO deliveries (id, alert_id, position, connection_id, trigger_type, payload,
		state, attempts, next_attempt_at, owner, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`
	alertDeliveriesSQL = `SELECT ` + deliveryColumns + ` FROM deliveries WHERE alert_id = $1 ORDER BY position`

	// claimSQL walks deliveries_due in order. SKIP LOCKED passes over rows
	// that a concurrent claim is taking; skipped connections come as one
	// array, so that the statement is the same for any number of them.
	claimSQL = `UPDATE deliveries SET owner = $1
		WHERE id IN (
			SELECT id FROM deliveries
			WHERE state = 'pending' AND next_attempt_at <= $2
				AND (owner IS NULL OR owner <> ALL (ARRAY(
					SELECT owner FROM delivery_owners WHERE expires_at > $5) || $1::text))
				AND connection_id <> ALL ($3::text[])
			ORDER BY next_attempt_at, id
			LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING ` + deliveryColumns + `, (SELECT body FROM alerts WHERE alerts.id = deliveries.alert_id)`

	// recordSQL applies an attempt's outcome unless the delivery has already
	// counted that attempt (see RecordAttempts).
	recordSQL = `UPDATE deliveries SET state = $1, attempts = $2, next_attempt_at = $3, last_status = $4,
		last_error = $5, updated_at = $6, owner = $7
		WHERE id = $8 AND attempts < $2`
	insertAttemptSQL = `INSERT INTO attempts
		(delivery_id, n, started_at, latency_us, status_code, error, response, retry_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
)

// nullString is s, or NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// storableText reports whether PostgreSQL's text can hold s: valid UTF-8
// without NUL.
func storableText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// cleanText makes s storable as text, for messages the store records
// rather than keys it looks up: invalid UTF-8 and NUL become U+FFFD.
func cleanText(s string) string {
	if storableText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func deliveryNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "delivery %s not found", id)
}

// checkAlerts refuses what the store cannot keep. The API validates alerts
// fully; these checks keep a caller's mistake from being stored, or from
// failing the batch inside the database.
func checkAlerts(alerts []*hookline.AcceptedAlert) error {
	var p hookline.Problems
	for i, a := range alerts {
		at := fmt.Sprintf("alerts[%d]", i)
		if a == nil {
			p.Add(at, "is missing")
			continue
		}
		if n := utf8.RuneCountInString(a.Source); n > hookline.MaxSourceLen {
			p.Add(at+".source", "is %d characters long; at most %d are allowed", n, hookline.MaxSourceLen)
		} else if !storableText(a.Source) {
			p.Add(at+".source", "must be UTF-8 without NUL characters")
		}
		if n := utf8.RuneCountInString(a.IdempotencyKey); n > hookline.MaxIdempotencyKeyLen {
			p.Add(at+".idempotencyKey", "is %d characters long; at most %d are allowed", n, hookline.MaxIdempotencyKeyLen)
		} else if !storableText(a.IdempotencyKey) {
			p.Add(at+".idempotencyKey", "must be UTF-8 without NUL characters")
		}
		if !unixnano.InRange(a.ReceivedAt) && !a.ReceivedAt.IsZero() {
			p.Add(at+".receivedAt", "is out of range")
		}
		for j, d := range a.Deliveries {
			switch {
			case d == nil || d.ConnectionID == "":
				p.Add(fmt.Sprintf("%s.notifications[%d].connectionId", at, j), "is required")
			case !storableText(d.ConnectionID):
				p.Add(fmt.Sprintf("%s.notifications[%d].connectionId", at, j), "must be UTF-8 without NUL characters")
			case !storableText(d.Payload):
				p.Add(fmt.Sprintf("%s.notifications[%d].payload", at, j), "must be UTF-8 without NUL characters")
			}
		}
	}
	return p.Err()
}

// AcceptAlerts stores alerts and their deliveries in one write transaction,
// so a batch is all stored or none of it is. It fills in each alert's ID,
// ReceivedAt (the store's clock when zero) and, for each delivery, its ID,
// AlertID, TriggerType (the alert's when empty), State pending, Attempts 0,
// NextAttemptAt (= ReceivedAt: due at once), CreatedAt and UpdatedAt. The
// structs change only once the transaction has committed.
//
// An alert whose IdempotencyKey is stored already for its Source, by an
// earlier call or an earlier alert of the same batch, stores nothing: its
// ID, ReceivedAt and Deliveries become the stored ones and Duplicate is
// set; Source and Alert are left as given.
func (db *DB) AcceptAlerts(ctx context.Context, owner string, alerts []*hookline.AcceptedAlert) error {
	if err := checkAlerts(alerts); err != nil {
		return fmt.Errorf("accept alerts: %w", err)
	}
	if len(alerts) == 0 {
		return nil
	}
	type outcome struct {
		id         string
		receivedAt time.Time
		deliveries []hookline.Delivery // the filled copies of a new alert's
		stored     []*hookline.Delivery
		duplicate  bool
	}
	now := db.now()
	out := make([]outcome, len(alerts))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for i, a := range alerts {
			o := &out[i]
			o.receivedAt = a.ReceivedAt.UTC()
			if a.ReceivedAt.IsZero() {
				o.receivedAt = now
			}
			// MarshalJSON itself: json.Marshal would check and compact
			// its output once more.
			body, err := a.Alert.MarshalJSON()
			if err != nil {
				return fmt.Errorf("alert %d: encode: %w", i, err)
			}
			id, duplicate, err := db.insertAlert(ctx, tx, a, o.receivedAt, string(body))
			if err != nil {
				return fmt.Errorf("alert %d: insert: %w", i, err)
			}
			if duplicate {
				o.duplicate = true
				if o.id, o.receivedAt, o.stored, err = storedAlert(ctx, tx, a.Source, a.IdempotencyKey); err != nil {
					return fmt.Errorf("alert %d: read the first acceptance: %w", i, err)
				}
				continue
			}
			o.id = id
			o.deliveries = make([]hookline.Delivery, len(a.Deliveries))
			for j, given := range a.Deliveries {
				d := &o.deliveries[j]
				*d = hookline.Delivery{
					AlertID: id, ConnectionID: given.ConnectionID, TriggerType: given.TriggerType,
					Payload: given.Payload, State: hookline.DeliveryPending,
					NextAttemptAt: o.receivedAt, CreatedAt: now, UpdatedAt: now,
				}
				if d.TriggerType == "" {
					d.TriggerType = a.Alert.TriggerType
				}
				d.ID, err = db.execWithID(ctx, tx, insertDeliverySQL, nil, id, j, d.ConnectionID, string(d.TriggerType),
					d.Payload, o.receivedAt.UnixNano(), nullString(owner), now.UnixNano(), now.UnixNano())
				if err != nil {
					return fmt.Errorf("alert %d: delivery %d: insert: %w", i, j, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("accept alerts: %w", err)
	}
	for i, a := range alerts {
		o := &out[i]
		a.ID, a.ReceivedAt, a.Duplicate = o.id, o.receivedAt, o.duplicate
		if o.duplicate {
			a.Deliveries = o.stored
			continue
		}
		for j, d := range a.Deliveries {
			*d = o.deliveries[j]
		}
	}
	return nil
}

// insertAlert inserts a with a new ID, or reports that its source holds
// its idempotency key already. ON CONFLICT DO NOTHING covers both the ID
// and the key (a failed statement would end the transaction); when
// nothing was inserted, the key tells which it was.
func (db *DB) insertAlert(ctx context.Context, tx *sql.Tx, a *hookline.AcceptedAlert, receivedAt time.Time, body string) (id string, duplicate bool, err error) {
	for range 5 {
		if id, err = db.ids.next(time.Now()); err != nil {
			return "", false, err
		}
		res, err := tx.ExecContext(ctx, insertAlertSQL, id, a.Source, nullString(a.IdempotencyKey),
			string(a.Alert.TriggerType), receivedAt.UnixNano(), body)
		if err != nil {
			return "", false, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", false, err
		} else if n == 1 {
			return id, false, nil
		}
		if a.IdempotencyKey != "" {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE source = $1 AND idempotency_key = $2`,
				a.Source, a.IdempotencyKey).Scan(&n)
			if err != nil {
				return "", false, err
			}
			if n > 0 {
				return "", true, nil
			}
		}
	}
	return "", false, errors.New("generate ID: five random IDs were all taken")
}

// execWithID runs query with a new ID as its first argument, drawing again
// when the ID is taken (the statement's ON CONFLICT (id) DO NOTHING
// inserted nothing), and returns the ID used. Only another process drawing
// in the same millisecond could take it, but a collision must not fail a
// batch.
func (db *DB) execWithID(ctx context.Context, tx *sql.Tx, query string, args ...any) (string, error) {
	for range 5 {
		id, err := db.ids.next(time.Now())
		if err != nil {
			return "", err
		}
		args[0] = id
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return "", err
		}
		if n, err := res.RowsAffected(); err != nil {
			return "", err
		} else if n == 1 {
			return id, nil
		}
	}
	return "", errors.New("generate ID: five random IDs were all taken")
}

// storedAlert reads, inside the accepting transaction, the alert of source
// that holds an idempotency key.
func storedAlert(ctx context.Context, tx *sql.Tx, source, key string) (string, time.Time, []*hookline.Delivery, error) {
	var (
		id       string
		received int64
	)
	if err := tx.QueryRowContext(ctx, alertByKeySQL, source, key).Scan(&id, &received); err != nil {
		return "", time.Time{}, nil, err
	}
	ds, err := queryAll(ctx, tx, scanDeliveryRow, alertDeliveriesSQL, id)
	return id, unixnano.Time(received), ds, err
}

func scanDeliveryRow(s scanner) (*hookline.Delivery, error) { return scanDelivery(s) }

// scanDelivery reads a row of deliveryColumns, then extra.
func scanDelivery(s scanner, extra ...any) (*hookline.Delivery, error) {
	var (
		d                hookline.Delivery
		trigger, state   string
		next             sql.NullInt64
		created, updated int64
	)
	dest := append([]any{&d.ID, &d.AlertID, &d.ConnectionID, &trigger, &d.Payload, &state, &d.Attempts,
		&next, &created, &updated, &d.LastStatus, &d.LastError}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	d.TriggerType, d.State = hookline.TriggerType(trigger), hookline.DeliveryState(state)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = unixnano.FromNull(next), unixnano.Time(created), unixnano.Time(updated)
	return &d, nil
}

// decodeAlert reads an alert's stored body.
func decodeAlert(id, body string) (*hookline.Alert, error) {
	var a hookline.Alert
	if err := a.UnmarshalJSON([]byte(body)); err != nil {
		// Not %w: an *hookline.Error in the chain would make a damaged row
		// look like the caller's mistake.
		return nil, fmt.Errorf("alert %s: decode stored body: %v", id, err)
	}
	return &a, nil
}

// ClaimDue marks for owner up to limit pending deliveries due by due, oldest
// due first (then by ID), that owner does not hold and whose connection is
// not in skip. Deliveries held by another owner are claimed too when that
// owner has no live lease: it has stopped, and its held work must not be
// stranded (see the note on replicas above). It
// returns the deliveries with their alerts, decoded once per alert: the
// deliveries of one alert share one *Alert, which callers must not change.
// A delivery whose stored alert cannot be decoded is failed, with the reason
// as its LastError, and not returned. A limit of 0 claims nothing; owner
// must not be empty.
func (db *DB) ClaimDue(ctx context.Context, owner string, due time.Time, limit int, skip []string) ([]*hookline.ClaimedDelivery, error) {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
	} else if !storableText(owner) {
		p.Add("owner", "must be UTF-8 without NUL characters")
	}
	if limit < 0 {
		p.Add("limit", "must not be negative")
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if limit == 0 {
		return nil, nil
	}
	// Never NULL, which <> ALL would answer with NULL, matching nothing; and
	// no ID that text cannot hold, which no connection has either.
	skipIDs := make([]string, 0, len(skip))
	for _, id := range skip {
		if storableText(id) {
			skipIDs = append(skipIDs, id)
		}
	}
	dueNanos := int64(math.MaxInt64)
	if due.Before(unixnano.Min) {
		dueNanos = math.MinInt64
	} else if !due.After(unixnano.Max) {
		dueNanos = due.UnixNano()
	}

	var (
		claimed []*hookline.ClaimedDelivery
		bodies  = map[string]string{} // by alert ID
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, claimSQL, owner, dueNanos, skipIDs, limit, db.now().UnixNano())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var body sql.NullString
			d, err := scanDelivery(rows, &body)
			if err != nil {
				return err
			}
			bodies[d.AlertID] = body.String
			claimed = append(claimed, &hookline.ClaimedDelivery{Delivery: d})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	alerts := make(map[string]*hookline.Alert, len(bodies))
	unreadable := map[string]string{} // alert ID → why
	for id, body := range bodies {
		if a, err := decodeAlert(id, body); err != nil {
			unreadable[id] = err.Error()
		} else {
			alerts[id] = a
		}
	}
	if len(unreadable) > 0 {
		if claimed, err = db.failUnreadable(ctx, owner, claimed, unreadable); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
	}
	for _, cd := range claimed {
		cd.Alert = alerts[cd.Delivery.AlertID]
	}
	// RETURNING yields rows in no promised order.
	slices.SortFunc(claimed, func(a, b *hookline.ClaimedDelivery) int {
		if c := a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.Delivery.ID, b.Delivery.ID)
	})
	return claimed, nil
}

// failUnreadable fails the claimed deliveries whose stored alert does not
// decode, and returns the others. Left pending, such a delivery would come
// first in every claim and fail each one: the queue would stop behind it.
func (db *DB) failUnreadable(ctx context.Context, owner string, claimed []*hookline.ClaimedDelivery, unreadable map[string]string) ([]*hookline.ClaimedDelivery, error) {
	now := db.now().UnixNano()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, cd := range claimed {
			why, bad := unreadable[cd.Delivery.AlertID]
			if !bad {
				continue
			}
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, owner = NULL,
				last_error = $1, updated_at = $2 WHERE id = $3 AND owner = $4 AND state = 'pending'`,
				cleanText("Hookline cannot read the stored alert: "+why), now, cd.Delivery.ID, owner)
			if err != nil {
				return fmt.Errorf("fail delivery %s: %w", cd.Delivery.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(claimed, func(cd *hookline.ClaimedDelivery) bool {
		_, bad := unreadable[cd.Delivery.AlertID]
		return bad
	}), nil
}

// checkResults refuses results that would store an impossible state.
func checkResults(results []hookline.AttemptResult) error {
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

// RecordAttempts logs the attempts and applies their outcomes in one write
// transaction. Each delivery gets the result's State, Attempts = Attempt.N,
// NextAttemptAt (cleared unless pending), LastStatus and LastError from the
// attempt, UpdatedAt from the store's clock, and is held by owner when the
// result says Keep and it is still pending, or released otherwise.
//
// A result is skipped, not an error, when its delivery is unknown or has
// counted Attempt.N attempts already: it raced a change it cannot undo (a
// deletion, a batch retried after it had committed), and refusing it would
// lose the rest of the batch. The response excerpt is stored as given (the
// caller redacts and truncates it); an error message that text cannot hold
// is stored with U+FFFD in place of the offending bytes.
func (db *DB) RecordAttempts(ctx context.Context, owner string, results []hookline.AttemptResult) error {
	if err := checkResults(results); err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	if len(results) == 0 {
		return nil
	}
	now := db.now().UnixNano()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for i, r := range results {
			a := r.Attempt
			if !storableText(a.DeliveryID) {
				continue // no delivery has it
			}
			var holder any
			if r.Keep && r.State == hookline.DeliveryPending {
				holder = nullString(cleanText(owner))
			}
			var next any
			if r.State == hookline.DeliveryPending {
				next = r.NextAttemptAt.UnixNano()
			}
			msg := cleanText(a.Error)
			res, err := tx.ExecContext(ctx, recordSQL, string(r.State), a.N, next, a.StatusCode, msg, now, holder, a.DeliveryID)
			if err != nil {
				return fmt.Errorf("result %d: update delivery %s: %w", i, a.DeliveryID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("result %d: update delivery %s: %w", i, a.DeliveryID, err)
			} else if n == 0 {
				continue // unknown, or this attempt is counted already
			}
			_, err = tx.ExecContext(ctx, insertAttemptSQL, a.DeliveryID, a.N, a.StartedAt.UnixNano(), a.Latency.Microseconds(),
				a.StatusCode, msg, []byte(a.Response), unixnano.Null(a.RetryAt))
			if err != nil {
				return fmt.Errorf("result %d: log attempt %d of %s: %w", i, a.N, a.DeliveryID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	return nil
}
