package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/deliverylog"
	"github.com/hookline/hookline/unixnano"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The delivery store keeps its contract in these rules, beyond the comments
// of hookline.DeliveryStore:
//
//   - Times are stored as Unix nanoseconds and come back in UTC. A time the
//     store is given must lie between the years 1678 and 2262.
//   - IDs of alerts and deliveries are 16 upper-case hex digits, ordered by
//     the time they were drawn (see rowid.Gen).
//   - An alert's deliveries come back in the order they were accepted.
//   - Deleting a connection keeps its deliveries and their attempts: the log
//     outlives its target.
//
// Every write is one IMMEDIATE transaction on the single write connection,
// with the hot-path statements prepared once (see prepareDeliveryStmts): the
// dispatcher batches many API calls or attempts into one call, so one fsync
// commits them all.

var _ hookline.DeliveryStore = (*DB)(nil)

// deliveryColumns are the columns scanDelivery reads, in its order.
const deliveryColumns = `id, alert_id, connection_id, trigger_type, payload, state, attempts,
	next_attempt_at, created_at, updated_at, last_status, last_error`

// The statements of the queue's hot path.
const (
	insertAlertSQL = `INSERT INTO alerts (id, source, idempotency_key, trigger_type, received_at, body)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`
	alertByKeySQL     = `SELECT id, received_at FROM alerts WHERE source = ? AND idempotency_key = ?`
	insertDeliverySQL = `INSERT INTO deliveries (id, alert_id, position, connection_id, trigger_type, payload,
		state, attempts, next_attempt_at, owner, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`
	alertDeliveriesSQL = `SELECT ` + deliveryColumns + ` FROM deliveries WHERE alert_id = ? ORDER BY position`

	// claimSQL walks the partial index deliveries_due in order, reading
	// only the index to pass over held deliveries and skipped connections
	// (TestQueryPlans checks the plan). INDEXED BY, because on a small or
	// unanalysed table SQLite prefers the state index and a sort, which
	// reads every pending delivery; the literal 'pending' is what makes the
	// partial index usable at all. The owners with a live lease are read
	// once per claim, into a small list the index's owner is checked against. Skipped connections come as one JSON
	// array, so that the statement is the same for any number of them.
	claimSQL = `UPDATE deliveries SET owner = ?1
		WHERE id IN (
			SELECT id FROM deliveries INDEXED BY deliveries_due
			WHERE state = 'pending' AND next_attempt_at <= ?2
				AND (owner IS NULL OR (owner <> ?1 AND owner NOT IN (SELECT owner FROM delivery_owners WHERE expires_at > ?5)))
				AND connection_id NOT IN (SELECT value FROM json_each(?3))
			ORDER BY next_attempt_at, id
			LIMIT ?4)
		RETURNING ` + deliveryColumns + `, (SELECT body FROM alerts WHERE alerts.id = deliveries.alert_id)`

	// recordSQL applies an attempt's outcome unless the delivery has already
	// counted that attempt (see RecordAttempts).
	recordSQL = `UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?,
		last_error = ?, updated_at = ?, owner = ?
		WHERE id = ? AND attempts < ?`
	insertAttemptSQL = `INSERT INTO attempts
		(delivery_id, n, started_at, latency_us, status_code, error, response, retry_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
)

// deliveryStmts are the hot-path statements, prepared on the write pool's one
// connection; tx.StmtContext reuses them there without preparing again.
type deliveryStmts struct {
	insertAlert, alertByKey, insertDelivery, alertDeliveries, claim, record, insertAttempt *sql.Stmt
}

func prepareDeliveryStmts(ctx context.Context, db *sql.DB) (*deliveryStmts, error) {
	var s deliveryStmts
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.insertAlert, insertAlertSQL},
		{&s.alertByKey, alertByKeySQL},
		{&s.insertDelivery, insertDeliverySQL},
		{&s.alertDeliveries, alertDeliveriesSQL},
		{&s.claim, claimSQL},
		{&s.record, recordSQL},
		{&s.insertAttempt, insertAttemptSQL},
	} {
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare %.40q: %w", p.query, err)
		}
		*p.stmt = stmt
	}
	return &s, nil
}

func (s *deliveryStmts) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{s.insertAlert, s.alertByKey, s.insertDelivery, s.alertDeliveries, s.claim, s.record, s.insertAttempt} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// nullString is s, or NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func deliveryNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "delivery %s not found", id)
}

// isPrimaryKeyConflict reports a duplicate primary key: a random ID drawn
// twice, which the caller answers by drawing again.
func isPrimaryKeyConflict(err error) bool {
	var se *sqlitedriver.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// execWithID runs stmt with a new ID as its first argument, drawing again
// if the ID is taken, and returns the ID used and the result. Only another
// process drawing in the same millisecond could take it, but a collision
// must not fail a batch.
func (db *DB) execWithID(ctx context.Context, stmt *sql.Stmt, args ...any) (string, sql.Result, error) {
	for range 5 {
		id, err := db.ids.Next(time.Now())
		if err != nil {
			return "", nil, err
		}
		args[0] = id
		res, err := stmt.ExecContext(ctx, args...)
		if isPrimaryKeyConflict(err) {
			continue
		}
		return id, res, err
	}
	return "", nil, errors.New("generate ID: five random IDs were all taken")
}

// AcceptAlerts stores alerts and their deliveries in one write transaction,
// so a batch is all stored or none of it is. It fills in each alert's ID,
// ReceivedAt (the store's clock when zero) and, for each delivery, its ID,
// AlertID, TriggerType (the alert's when empty), State pending, Attempts 0,
// NextAttemptAt (= ReceivedAt: due at once), CreatedAt and UpdatedAt. The
// structs change only once the transaction has committed.
//
// An alert whose IdempotencyKey is stored already for its Source, by an
// earlier call or an earlier alert of the same batch, stores nothing: its ID, ReceivedAt and
// Deliveries become the stored ones and Duplicate is set; Source and Alert
// are left as given.
func (db *DB) AcceptAlerts(ctx context.Context, owner string, alerts []*hookline.AcceptedAlert) error {
	if err := deliverylog.CheckAccepted(alerts, nil); err != nil {
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
		insertAlert := tx.StmtContext(ctx, db.stmts.insertAlert)
		insertDelivery := tx.StmtContext(ctx, db.stmts.insertDelivery)
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
			id, res, err := db.execWithID(ctx, insertAlert, nil, a.Source, nullString(a.IdempotencyKey),
				string(a.Alert.TriggerType), o.receivedAt.UnixNano(), string(body))
			if err != nil {
				return fmt.Errorf("alert %d: insert: %w", i, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("alert %d: insert: %w", i, err)
			} else if n == 0 {
				// ON CONFLICT DO NOTHING: the key is taken.
				o.duplicate = true
				if o.id, o.receivedAt, o.stored, err = db.storedAlert(ctx, tx, a.Source, a.IdempotencyKey); err != nil {
					return fmt.Errorf("alert %d: read the first acceptance: %w", i, err)
				}
				continue
			}
			o.id = id
			o.deliveries = deliverylog.NewDeliveries(a, id, o.receivedAt, now)
			for j := range o.deliveries {
				d := &o.deliveries[j]
				d.ID, _, err = db.execWithID(ctx, insertDelivery, nil, id, j, d.ConnectionID, string(d.TriggerType),
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

// storedAlert reads, inside the accepting transaction, the alert of source
// that holds an idempotency key.
func (db *DB) storedAlert(ctx context.Context, tx *sql.Tx, source, key string) (string, time.Time, []*hookline.Delivery, error) {
	var (
		id       string
		received int64
	)
	if err := tx.StmtContext(ctx, db.stmts.alertByKey).QueryRowContext(ctx, source, key).Scan(&id, &received); err != nil {
		return "", time.Time{}, nil, err
	}
	ds, err := queryDeliveries(ctx, tx.StmtContext(ctx, db.stmts.alertDeliveries), id)
	return id, unixnano.Time(received), ds, err
}

// queryDeliveries runs a query of deliveryColumns.
func queryDeliveries(ctx context.Context, stmt *sql.Stmt, args ...any) ([]*hookline.Delivery, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*hookline.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, d)
	}
	return list, rows.Err()
}

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

// ClaimDue marks for owner up to limit pending deliveries due by due, oldest
// due first (then by ID), that owner does not hold and whose connection is
// not in skip. Deliveries held by another owner are claimed too when that
// owner has no live lease (RenewOwner): it has stopped, and its held work
// must not be stranded. It returns the deliveries with their alerts, decoded once per alert: the
// deliveries of one alert share one *Alert, which callers must not change.
// A delivery whose stored alert cannot be decoded is failed, with the reason
// as its LastError, and not returned. A limit of 0 claims nothing; owner
// must not be empty.
func (db *DB) ClaimDue(ctx context.Context, owner string, due time.Time, limit int, skip []string) ([]*hookline.ClaimedDelivery, error) {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
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
	if skip == nil {
		skip = []string{} // json_each('null') would yield one NULL, and NOT IN (NULL) matches nothing
	}
	skipJSON, err := json.Marshal(skip)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	dueNanos := unixnano.Clamp(due)

	// The alerts are decoded after the claim has committed, so that the
	// write lock is not held for it.
	var (
		claimed []*hookline.ClaimedDelivery
		bodies  = map[string]string{} // by alert ID
	)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.StmtContext(ctx, db.stmts.claim).QueryContext(ctx, owner, dueNanos, string(skipJSON), limit, db.now().UnixNano())
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
	unreadable := deliverylog.DecodeClaimed(claimed, bodies)
	if len(unreadable) > 0 {
		if err := db.failUnreadable(ctx, owner, claimed, unreadable); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
	}
	return deliverylog.Readable(claimed, unreadable), nil
}

// failUnreadable fails the claimed deliveries whose stored alert does not
// decode. Left pending, such a delivery would come first in every claim
// and fail each one: the queue would stop behind it.
func (db *DB) failUnreadable(ctx context.Context, owner string, claimed []*hookline.ClaimedDelivery, unreadable map[string]string) error {
	now := db.now().UnixNano()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, cd := range claimed {
			why, bad := unreadable[cd.Delivery.AlertID]
			if !bad {
				continue
			}
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, owner = NULL,
				last_error = ?, updated_at = ? WHERE id = ? AND owner = ? AND state = 'pending'`,
				"Hookline cannot read the stored alert: "+why, now, cd.Delivery.ID, owner)
			if err != nil {
				return fmt.Errorf("fail delivery %s: %w", cd.Delivery.ID, err)
			}
		}
		return nil
	})
	return err
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
// lose the rest of the batch. The response excerpt is stored as given: the
// caller redacts and truncates it.
func (db *DB) RecordAttempts(ctx context.Context, owner string, results []hookline.AttemptResult) error {
	if err := deliverylog.CheckResults(results); err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	if len(results) == 0 {
		return nil
	}
	now := db.now().UnixNano()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		record := tx.StmtContext(ctx, db.stmts.record)
		insertAttempt := tx.StmtContext(ctx, db.stmts.insertAttempt)
		for i, r := range results {
			a := r.Attempt
			var holder any
			if r.Keep && r.State == hookline.DeliveryPending {
				holder = nullString(owner)
			}
			var next any
			if r.State == hookline.DeliveryPending {
				next = r.NextAttemptAt.UnixNano()
			}
			res, err := record.ExecContext(ctx, string(r.State), a.N, next, a.StatusCode, a.Error, now, holder, a.DeliveryID, a.N)
			if err != nil {
				return fmt.Errorf("result %d: update delivery %s: %w", i, a.DeliveryID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("result %d: update delivery %s: %w", i, a.DeliveryID, err)
			} else if n == 0 {
				continue // unknown, or this attempt is counted already
			}
			_, err = insertAttempt.ExecContext(ctx, a.DeliveryID, a.N, a.StartedAt.UnixNano(), a.Latency.Microseconds(),
				a.StatusCode, a.Error, a.Response, unixnano.Null(a.RetryAt))
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
