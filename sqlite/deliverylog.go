package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/deliverylog"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/unixnano"
)

// The delivery log: reading alerts, deliveries and their attempts, replay,
// and the queue's statistics.

// Delivery returns a delivery with its attempts in order, read in one
// transaction so that the two agree. Latency comes back to the microsecond.
func (db *DB) Delivery(ctx context.Context, id string) (*hookline.Delivery, []hookline.DeliveryAttempt, error) {
	var (
		d        *hookline.Delivery
		attempts []hookline.DeliveryAttempt
	)
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return deliveryNotFound(id)
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+deliverylog.AttemptColumns+`
			FROM attempts WHERE delivery_id = ? ORDER BY n`, id)
		if err != nil {
			return err
		}
		attempts, err = deliverylog.ReadAttempts(rows, id)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read delivery %s: %w", id, err)
	}
	return d, attempts, nil
}

// readTx runs fn in a transaction of the read pool: one snapshot of the
// database for all its queries.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// AcceptedAlert returns an accepted alert with its deliveries in the order
// they were accepted. Duplicate is false: it describes an acceptance, not
// the stored alert.
func (db *DB) AcceptedAlert(ctx context.Context, id string) (*hookline.AcceptedAlert, error) {
	var a *hookline.AcceptedAlert
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = deliverylog.ScanAlert(tx.QueryRowContext(ctx, `SELECT `+deliverylog.AlertColumns+` FROM alerts WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "alert %s not found", id)
		} else if err != nil {
			return err
		}
		ds, err := queryAll(ctx, tx, scanDeliveryRow, alertDeliveriesSQL, id)
		a.Deliveries = append(a.Deliveries, ds...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read alert %s: %w", id, err)
	}
	return a, nil
}

// ReplayDelivery makes a failed or dead delivery pending again, due at (the
// store's clock when zero) and held by owner ("" for none). It keeps the ID,
// the attempt count, LastStatus and LastError, sets UpdatedAt, and returns
// the delivery with its alert. A pending or delivered delivery is
// ECONFLICT: the first is retried on its own schedule, and sending the
// second again would repeat an action its target already took.
func (db *DB) ReplayDelivery(ctx context.Context, owner, id string, at time.Time) (*hookline.ClaimedDelivery, error) {
	now := db.now()
	if at.IsZero() {
		at = now
	}
	if !unixnano.InRange(at) {
		return nil, fmt.Errorf("replay delivery %s: %w", id, &hookline.Error{Code: hookline.EINVALID,
			Fields: []hookline.FieldError{{Field: "at", Message: "is out of range"}}})
	}
	var cd hookline.ClaimedDelivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var body sql.NullString
		d, err := scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries
			SET state = 'pending', next_attempt_at = ?, owner = ?, updated_at = ?
			WHERE id = ? AND state IN ('failed', 'dead')
			RETURNING `+deliveryColumns+`, (SELECT body FROM alerts WHERE alerts.id = deliveries.alert_id)`,
			at.UnixNano(), nullString(owner), now.UnixNano(), id), &body)
		if errors.Is(err, sql.ErrNoRows) {
			var state string
			err := tx.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE id = ?`, id).Scan(&state)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return deliveryNotFound(id)
			case err != nil:
				return err
			case state == string(hookline.DeliveryDelivered):
				return hookline.Errorf(hookline.ECONFLICT, "delivery %s was already delivered; only failed and dead deliveries can be replayed", id)
			}
			return hookline.Errorf(hookline.ECONFLICT, "delivery %s is still pending: it is retried on its own schedule", id)
		} else if err != nil {
			return err
		}
		cd.Delivery = d
		cd.Alert, err = deliverylog.DecodeAlert(d.AlertID, body.String)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("replay delivery %s: %w", id, err)
	}
	return &cd, nil
}

// Deliveries returns a page of deliveries, newest first by CreatedAt and
// then ID, filtered by f: Since is inclusive, Until exclusive. f.Limit
// defaults to hookline.DefaultListLimit and is capped at
// hookline.MaxListLimit; a negative limit, an unknown state or a token this
// store did not issue is EINVALID naming "limit", "state" or "token". Paging
// is by key: a page continues after the last delivery of the previous one,
// whatever was added since.
func (db *DB) Deliveries(ctx context.Context, f hookline.DeliveryFilter) ([]*hookline.Delivery, string, error) {
	limit, after, err := deliverylog.CheckDeliveries(f)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	query, args := listDeliveriesQuery(f, after, limit+1) // one more shows whether a page follows
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	list, more, err := listpage.Scan(rows, limit, scanDeliveryRow)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	return list, deliverylog.DeliveriesToken(list, more), nil
}

// listDeliveriesQuery builds the log's query. Each filter has an index that
// leads with it and continues with (created_at, id), so that a page is read
// in order, not sorted (TestListDeliveriesUsesIndexes).
func listDeliveriesQuery(f hookline.DeliveryFilter, after *deliveryKey, limit int) (string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if f.ConnectionID != "" {
		add("connection_id = ?", f.ConnectionID)
	}
	if f.AlertID != "" {
		add("alert_id = ?", f.AlertID)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("created_at < ?", f.Until.UnixNano())
	}
	if after != nil {
		add("(created_at, id) < (?, ?)", after.CreatedAt, after.ID)
	}
	query := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	return query, append(args, limit)
}

// deliveryKey is the sort key of the last delivery of a page.
type deliveryKey = deliverylog.DeliveryKey

// scanDeliveryRow is scanDelivery without extra columns, for queryAll and
// listpage.Scan.
func scanDeliveryRow(s scanner) (*hookline.Delivery, error) { return scanDelivery(s) }

// QueueStats counts the pending deliveries and finds the oldest. Both come
// from the state index, without reading the table; the count walks the
// pending entries, which is cheap while the queue is healthy and bounded by
// the backlog when it is not.
func (db *DB) QueueStats(ctx context.Context) (hookline.QueueStats, error) {
	var (
		s      hookline.QueueStats
		oldest sql.NullInt64
	)
	err := db.read.QueryRowContext(ctx, queueStatsSQL, db.now().UnixNano()).Scan(&s.Pending, &oldest, &s.Replicas)
	if err != nil {
		return hookline.QueueStats{}, fmt.Errorf("queue stats: %w", err)
	}
	s.OldestPending = unixnano.FromNull(oldest)
	return s, nil
}

const queueStatsSQL = `SELECT COUNT(*), MIN(created_at),
	(SELECT COUNT(*) FROM delivery_owners WHERE expires_at > ?) FROM deliveries WHERE state = 'pending'`

// DeliveryCounts counts the deliveries created in each bucket from since to
// the store's now, by state. Each count is a walk of the state index over
// one bucket's range (deliveryCountsSQL), so the work is the deliveries
// in the window plus a few index seeks per bucket: no row of the table is
// read, nothing is sorted, and deliveries before since are not touched.
func (db *DB) DeliveryCounts(ctx context.Context, since time.Time, bucket time.Duration) ([]hookline.DeliveryBucket, error) {
	out, err := deliverylog.Buckets(since, db.now(), bucket)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, deliveryCountsSQL, out[0].Start.UnixNano(), int64(bucket), int64(len(out)))
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	if err := deliverylog.ReadCounts(rows, out); err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return out, nil
}

// deliveryCountsSQL numbers the buckets (?1 the first one's start, ?2 their
// length, ?3 how many) and counts each state in each with a range search of
// deliveries_state, which holds (state, created_at) and so answers without
// reading the table. Grouping the window's rows instead would sort them all.
const deliveryCountsSQL = `WITH RECURSIVE buckets (i, lo) AS (
		SELECT 0, ?1
		UNION ALL
		SELECT i + 1, lo + ?2 FROM buckets WHERE i + 1 < ?3
	)
	SELECT i,
		(SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND created_at >= lo AND created_at < lo + ?2),
		(SELECT COUNT(*) FROM deliveries WHERE state = 'delivered' AND created_at >= lo AND created_at < lo + ?2),
		(SELECT COUNT(*) FROM deliveries WHERE state = 'failed' AND created_at >= lo AND created_at < lo + ?2),
		(SELECT COUNT(*) FROM deliveries WHERE state = 'dead' AND created_at >= lo AND created_at < lo + ?2)
	FROM buckets`

// LatestDeliveries returns the newest delivery of each connection, newest
// first. It walks the connections and seeks each one's newest delivery in
// deliveries_connection, so it costs a seek per connection however long the
// log is; deleted connections' deliveries, which have no connection row,
// are left out (see hookline.DeliveryStore).
func (db *DB) LatestDeliveries(ctx context.Context) ([]*hookline.Delivery, error) {
	rows, err := db.read.QueryContext(ctx, latestDeliveriesSQL)
	if err != nil {
		return nil, fmt.Errorf("latest deliveries: %w", err)
	}
	list, _, err := listpage.Scan(rows, math.MaxInt, scanDeliveryRow)
	if err != nil {
		return nil, fmt.Errorf("latest deliveries: %w", err)
	}
	return list, nil
}

// latestDeliveriesSQL finds each connection's newest delivery with one
// seek of deliveries_connection, then reads those rows by ID and sorts
// them: the sort is bounded by the connections, not the deliveries.
const latestDeliveriesSQL = `SELECT ` + deliveryColumns + ` FROM deliveries
	WHERE id IN (SELECT (
		SELECT newest.id FROM deliveries AS newest WHERE newest.connection_id = connections.id
		ORDER BY newest.created_at DESC, newest.id DESC LIMIT 1) FROM connections)
	ORDER BY created_at DESC, id DESC`
