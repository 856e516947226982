package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/deliverylog"
	"github.com/hookline/hookline/unixnano"
)

// The delivery store keeps its contract in these rules, beyond the comments
// of hookline.DeliveryStore, as SQLite's does:
//
//   - Times are stored as Unix nanoseconds and come back in UTC. A time the
//     store is given must lie between the years 1678 and 2262.
//   - IDs of alerts and deliveries are 16 upper-case hex digits, ordered by
//     the time they were drawn (see rowid.Gen).
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

// The accept and record statements take a batch as arrays, one element a
// row (unnest), so that a batch costs a few round trips to the server
// rather than one or two per alert and per delivery.
const (
	// insertAlertsSQL inserts nothing for an alert whose ID or whose
	// source's idempotency key is taken, and returns the IDs it inserted;
	// AcceptAlerts tells which.
	insertAlertsSQL = `INSERT INTO alerts (id, source, idempotency_key, trigger_type, received_at, body)
		SELECT id, source, NULLIF(key, ''), trigger_type, received_at, body
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])
			AS a(id, source, key, trigger_type, received_at, body)
		ON CONFLICT DO NOTHING RETURNING id`
	// alertsByKeySQL finds the alerts that hold (source, key) pairs, one
	// lookup in alerts_source_idempotency_key per pair (LIMIT keeps the
	// planner from turning the lookups into a join that could read the
	// whole index).
	alertsByKeySQL = `SELECT k.source, k.key, a.id, a.received_at
		FROM unnest($1::text[], $2::text[]) AS k(source, key)
		CROSS JOIN LATERAL (SELECT id, received_at FROM alerts
			WHERE source = k.source AND idempotency_key = k.key LIMIT 1) a`
	// insertDeliveriesSQL inserts nothing for a delivery whose ID is taken,
	// and returns the IDs it inserted.
	insertDeliveriesSQL = `INSERT INTO deliveries (id, alert_id, position, connection_id, trigger_type, payload,
		state, attempts, next_attempt_at, owner, created_at, updated_at)
		SELECT id, alert_id, position, connection_id, trigger_type, payload, 'pending', 0, next_attempt_at, $8::text, $9, $9
		FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::bigint[])
			AS d(id, alert_id, position, connection_id, trigger_type, payload, next_attempt_at)
		ON CONFLICT (id) DO NOTHING RETURNING id`
	alertDeliveriesSQL = `SELECT ` + deliveryColumns + ` FROM deliveries WHERE alert_id = $1 ORDER BY position`
	// alertsDeliveriesSQL is alertDeliveriesSQL for several alerts.
	alertsDeliveriesSQL = `SELECT ` + deliveryColumns + ` FROM deliveries WHERE alert_id = ANY ($1::text[])
		ORDER BY alert_id, position`

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

	// recordSQL applies each attempt's outcome unless the delivery has
	// already counted that attempt (see RecordAttempts), and logs the
	// attempts it applied. The batch must name each delivery once: an
	// UPDATE changes a row once, whatever number of rows it joins.
	recordSQL = `WITH r AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[], $5::integer[], $6::text[],
				$7::text[], $8::bigint[], $9::bigint[], $10::bytea[], $11::bigint[])
				AS r(delivery_id, state, n, next_attempt_at, status_code, error, owner, started_at, latency_us,
					response, retry_at)
		), applied AS (
			UPDATE deliveries d SET state = r.state, attempts = r.n, next_attempt_at = r.next_attempt_at,
				last_status = r.status_code, last_error = r.error, updated_at = $12, owner = NULLIF(r.owner, '')
			FROM r WHERE d.id = r.delivery_id AND d.attempts < r.n
			RETURNING d.id
		)
		INSERT INTO attempts (delivery_id, n, started_at, latency_us, status_code, error, response, retry_at)
		SELECT r.delivery_id, r.n, r.started_at, r.latency_us, r.status_code, r.error, r.response, r.retry_at
		FROM r JOIN applied ON applied.id = r.delivery_id`
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
	if err := deliverylog.CheckAccepted(alerts, storableText); err != nil {
		return fmt.Errorf("accept alerts: %w", err)
	}
	if len(alerts) == 0 {
		return nil
	}
	now := db.now()
	out := make([]acceptOutcome, len(alerts))
	first := map[sourceKey]int{} // the first alert of the batch with each key
	var fresh []int              // the alerts to insert: all but repeats of a key within the batch
	for i, a := range alerts {
		o := &out[i]
		o.repeats = -1
		o.receivedAt = a.ReceivedAt.UTC()
		if a.ReceivedAt.IsZero() {
			o.receivedAt = now
		}
		// MarshalJSON itself: json.Marshal would check and compact its
		// output once more.
		body, err := a.Alert.MarshalJSON()
		if err != nil {
			return fmt.Errorf("accept alerts: alert %d: encode: %w", i, err)
		}
		o.body = string(body)
		if a.IdempotencyKey != "" {
			k := sourceKey{a.Source, a.IdempotencyKey}
			if j, ok := first[k]; ok {
				o.repeats = j
				continue
			}
			first[k] = i
		}
		fresh = append(fresh, i)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.insertAlerts(ctx, tx, alerts, out, fresh); err != nil {
			return err
		}
		var ds []placedDelivery // the new alerts' deliveries, in the order of the batch
		for _, i := range fresh {
			a, o := alerts[i], &out[i]
			if o.duplicate {
				continue
			}
			o.deliveries = deliverylog.NewDeliveries(a, o.id, o.receivedAt, now)
			for j := range o.deliveries {
				ds = append(ds, placedDelivery{&o.deliveries[j], int32(j)})
			}
		}
		if err := db.insertDeliveries(ctx, tx, owner, now, ds); err != nil {
			return err
		}
		return readDuplicates(ctx, tx, out)
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

// acceptOutcome is what AcceptAlerts found for one alert, kept apart from
// the caller's structs until the transaction has committed.
type acceptOutcome struct {
	id         string
	receivedAt time.Time
	body       string
	repeats    int                 // the index of the batch's earlier alert with this one's key; -1 for none
	duplicate  bool                // its key is stored already, or repeats an earlier alert's
	deliveries []hookline.Delivery // the filled copies of a new alert's
	stored     []*hookline.Delivery
}

type sourceKey struct{ source, key string }

// storedAlert is the alert that holds an idempotency key already.
type storedAlert struct {
	id         string
	receivedAt time.Time
}

// placedDelivery is a new delivery and its place among its alert's.
type placedDelivery struct {
	*hookline.Delivery
	position int32
}

// insertAlerts inserts the alerts of batch at the indexes fresh, each with a
// new ID, or marks as a duplicate, with the stored alert's ID and
// ReceivedAt, one whose source holds its idempotency key already. ON
// CONFLICT DO NOTHING covers both the ID and the key (a failed statement
// would end the transaction); for an alert not inserted, the key tells
// which it was, and a taken ID is drawn again. Only another process
// drawing in the same millisecond could take one, but a collision must not
// fail a batch.
func (db *DB) insertAlerts(ctx context.Context, tx *sql.Tx, batch []*hookline.AcceptedAlert, out []acceptOutcome, fresh []int) error {
	todo := fresh
	for range 5 {
		ids := make([]string, len(todo))
		sources, keys, triggers, bodies := make([]string, len(todo)), make([]string, len(todo)), make([]string, len(todo)), make([]string, len(todo))
		received := make([]int64, len(todo))
		for k, i := range todo {
			id, err := db.ids.Next(time.Now())
			if err != nil {
				return err
			}
			a, o := batch[i], &out[i]
			o.id, ids[k] = id, id
			sources[k], keys[k], triggers[k] = a.Source, a.IdempotencyKey, string(a.Alert.TriggerType)
			received[k], bodies[k] = o.receivedAt.UnixNano(), o.body
		}
		inserted, err := queryIDs(ctx, tx, insertAlertsSQL, ids, sources, keys, triggers, received, bodies)
		if err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		if len(inserted) == len(todo) {
			return nil
		}
		var missed []int
		for _, i := range todo {
			if _, ok := inserted[out[i].id]; !ok {
				missed = append(missed, i)
			}
		}
		stored, err := alertsByKey(ctx, tx, batch, missed)
		if err != nil {
			return fmt.Errorf("read the first acceptances: %w", err)
		}
		todo = todo[:0:0]
		for _, i := range missed {
			a, o := batch[i], &out[i]
			if s, ok := stored[sourceKey{a.Source, a.IdempotencyKey}]; ok && a.IdempotencyKey != "" {
				o.duplicate, o.id, o.receivedAt = true, s.id, s.receivedAt
				continue
			}
			todo = append(todo, i)
		}
		if len(todo) == 0 {
			return nil
		}
	}
	return errors.New("generate ID: five random IDs were all taken")
}

// alertsByKey reads the stored alerts that hold the idempotency keys of the
// alerts of batch at the indexes at.
func alertsByKey(ctx context.Context, tx *sql.Tx, batch []*hookline.AcceptedAlert, at []int) (map[sourceKey]storedAlert, error) {
	var sources, keys []string
	for _, i := range at {
		if a := batch[i]; a.IdempotencyKey != "" {
			sources, keys = append(sources, a.Source), append(keys, a.IdempotencyKey)
		}
	}
	found := map[sourceKey]storedAlert{}
	if len(keys) == 0 {
		return found, nil
	}
	rows, err := tx.QueryContext(ctx, alertsByKeySQL, sources, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k        sourceKey
			id       string
			received int64
		)
		if err := rows.Scan(&k.source, &k.key, &id, &received); err != nil {
			return nil, err
		}
		found[k] = storedAlert{id, unixnano.Time(received)}
	}
	return found, rows.Err()
}

// insertDeliveries inserts ds, held by owner, each with a new ID, which it
// sets; like insertAlerts, it draws again the IDs that are taken.
func (db *DB) insertDeliveries(ctx context.Context, tx *sql.Tx, owner string, now time.Time, ds []placedDelivery) error {
	todo := ds
	for range 5 {
		if len(todo) == 0 {
			return nil
		}
		n := len(todo)
		ids, alertIDs, conns, triggers, payloads := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		positions, next := make([]int32, n), make([]int64, n)
		for k, d := range todo {
			id, err := db.ids.Next(time.Now())
			if err != nil {
				return err
			}
			d.ID, ids[k] = id, id
			alertIDs[k], conns[k], triggers[k], payloads[k] = d.AlertID, d.ConnectionID, string(d.TriggerType), d.Payload
			positions[k], next[k] = d.position, d.NextAttemptAt.UnixNano()
		}
		inserted, err := queryIDs(ctx, tx, insertDeliveriesSQL, ids, alertIDs, positions, conns, triggers, payloads, next,
			nullString(owner), now.UnixNano())
		if err != nil {
			return fmt.Errorf("insert deliveries: %w", err)
		}
		todo = slices.DeleteFunc(todo, func(d placedDelivery) bool {
			if _, ok := inserted[d.ID]; ok {
				return true
			}
			d.ID = ""
			return false
		})
	}
	if len(todo) == 0 {
		return nil
	}
	return errors.New("generate ID: five random IDs were all taken")
}

// queryIDs runs an INSERT … RETURNING id and returns the IDs inserted.
func queryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) (map[string]struct{}, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[string]struct{}{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = struct{}{}
	}
	return ids, rows.Err()
}

// readDuplicates fills in, inside the accepting transaction, the
// duplicates' stored deliveries: those of a stored alert, or of the
// batch's earlier alert with the key, as inserted. Each duplicate gets
// deliveries of its own.
func readDuplicates(ctx context.Context, tx *sql.Tx, out []acceptOutcome) error {
	var ids []string
	byAlert := map[string][]*hookline.Delivery{}
	for i := range out {
		o := &out[i]
		if o.repeats >= 0 {
			f := &out[o.repeats]
			o.duplicate, o.id, o.receivedAt = true, f.id, f.receivedAt
		}
		if _, ok := byAlert[o.id]; o.duplicate && !ok {
			byAlert[o.id] = nil
			ids = append(ids, o.id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ds, err := queryAll(ctx, tx, scanDeliveryRow, alertsDeliveriesSQL, ids)
	if err != nil {
		return fmt.Errorf("read the first acceptances' deliveries: %w", err)
	}
	for _, d := range ds {
		byAlert[d.AlertID] = append(byAlert[d.AlertID], d)
	}
	for i := range out {
		o := &out[i]
		if !o.duplicate {
			continue
		}
		for _, d := range byAlert[o.id] {
			c := *d
			o.stored = append(o.stored, &c)
		}
	}
	return nil
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
	dueNanos := unixnano.Clamp(due)

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
				last_error = $1, updated_at = $2 WHERE id = $3 AND owner = $4 AND state = 'pending'`,
				cleanText("Hookline cannot read the stored alert: "+why), now, cd.Delivery.ID, owner)
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
// lose the rest of the batch. The response excerpt is stored as given (the
// caller redacts and truncates it); an error message that text cannot hold
// is stored with U+FFFD in place of the offending bytes.
func (db *DB) RecordAttempts(ctx context.Context, owner string, results []hookline.AttemptResult) error {
	if err := deliverylog.CheckResults(results); err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	if len(results) == 0 {
		return nil
	}
	// One statement applies the results of distinct deliveries; a
	// delivery's second result in the batch goes in a second statement,
	// and so on, so that each applies in the batch's order, as if one by
	// one.
	var (
		rounds [][]hookline.AttemptResult
		seen   = make(map[string]int, len(results)) // results of each delivery so far
	)
	for _, r := range results {
		id := r.Attempt.DeliveryID
		if !storableText(id) {
			continue // no delivery has it
		}
		k := seen[id]
		seen[id] = k + 1
		if k == len(rounds) {
			rounds = append(rounds, make([]hookline.AttemptResult, 0, len(results)))
		}
		rounds[k] = append(rounds[k], r)
	}
	holder := cleanText(owner)
	now := db.now().UnixNano()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, round := range rounds {
			n := len(round)
			ids, states, errs, owners := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			ns, statuses := make([]int, n), make([]int, n) // pgx refuses what integer cannot hold
			started, latencies := make([]int64, n), make([]int64, n)
			next, retryAt := make([]*int64, n), make([]*int64, n)
			responses := make([][]byte, n)
			for i, r := range round {
				a := r.Attempt
				ids[i], states[i], errs[i] = a.DeliveryID, string(r.State), cleanText(a.Error)
				ns[i], statuses[i] = a.N, a.StatusCode
				started[i], latencies[i] = a.StartedAt.UnixNano(), a.Latency.Microseconds()
				responses[i] = append([]byte{}, a.Response...) // never nil, which would be NULL
				if r.State == hookline.DeliveryPending {
					next[i] = new(r.NextAttemptAt.UnixNano())
					if r.Keep {
						owners[i] = holder // "" (none) is stored as NULL
					}
				}
				if !a.RetryAt.IsZero() {
					retryAt[i] = new(a.RetryAt.UnixNano())
				}
			}
			_, err := tx.ExecContext(ctx, recordSQL, ids, states, ns, next, statuses, errs, owners, started, latencies,
				responses, retryAt, now)
			if err != nil {
				return fmt.Errorf("update deliveries and log their attempts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	return nil
}
