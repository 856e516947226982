package postgres

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
// snapshot so that the two agree. Latency comes back to the microsecond.
func (db *DB) Delivery(ctx context.Context, id string) (*hookline.Delivery, []hookline.DeliveryAttempt, error) {
	var (
		d        *hookline.Delivery
		attempts []hookline.DeliveryAttempt
	)
	if !storableText(id) {
		return nil, nil, fmt.Errorf("read delivery %s: %w", id, deliveryNotFound(id))
	}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return deliveryNotFound(id)
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+deliverylog.AttemptColumns+`
			FROM attempts WHERE delivery_id = $1 ORDER BY n`, id)
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

// readTx runs fn in a read-only repeatable-read transaction: one snapshot
// of the database for all its queries.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
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
	notFound := hookline.Errorf(hookline.ENOTFOUND, "alert %s not found", id)
	if !storableText(id) {
		return nil, fmt.Errorf("read alert %s: %w", id, notFound)
	}
	var a *hookline.AcceptedAlert
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = deliverylog.ScanAlert(tx.QueryRowContext(ctx, `SELECT `+deliverylog.AlertColumns+` FROM alerts WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
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
	if !storableText(id) {
		return nil, fmt.Errorf("replay delivery %s: %w", id, deliveryNotFound(id))
	}
	var cd hookline.ClaimedDelivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var body sql.NullString
		d, err := scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries
			SET state = 'pending', next_attempt_at = $1, owner = $2, updated_at = $3
			WHERE id = $4 AND state IN ('failed', 'dead')
			RETURNING `+deliveryColumns+`, (SELECT body FROM alerts WHERE alerts.id = deliveries.alert_id)`,
			at.UnixNano(), nullString(cleanText(owner)), now.UnixNano(), id), &body)
		if errors.Is(err, sql.ErrNoRows) {
			var state string
			err := tx.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE id = $1`, id).Scan(&state)
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
	if !storableText(f.ConnectionID) || !storableText(f.AlertID) {
		return []*hookline.Delivery{}, "", nil // no delivery has such an ID
	}
	query, args := listDeliveriesQuery(f, after, limit+1) // one more shows whether a page follows
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	list, more, err := listpage.Scan(rows, limit, scanDeliveryRow)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	return list, deliverylog.DeliveriesToken(list, more), nil
}

// conditions collects a query's WHERE terms, numbering their parameters.
type conditions struct {
	where []string
	args  []any
}

// add appends cond, whose parameters are written %d, one per arg.
func (c *conditions) add(cond string, args ...any) {
	nums := make([]any, len(args))
	for i := range args {
		nums[i] = len(c.args) + i + 1
	}
	c.where = append(c.where, fmt.Sprintf(cond, nums...))
	c.args = append(c.args, args...)
}

// sql returns the WHERE clause ("" for none) and appends tail, whose one
// parameter (%d) is last, to it.
func (c *conditions) sql(tail string, last any) (string, []any) {
	q := ""
	if len(c.where) > 0 {
		q = ` WHERE ` + strings.Join(c.where, " AND ")
	}
	args := append(c.args, last)
	return q + fmt.Sprintf(tail, len(args)), args
}

// listDeliveriesQuery builds the log's query. Each filter has an index that
// leads with it and continues with (created_at, id), so that a page is read
// in order, not sorted.
func listDeliveriesQuery(f hookline.DeliveryFilter, after *deliveryKey, limit int) (string, []any) {
	var c conditions
	if f.ConnectionID != "" {
		c.add("connection_id = $%d", f.ConnectionID)
	}
	if f.AlertID != "" {
		c.add("alert_id = $%d", f.AlertID)
	}
	if f.State != "" {
		c.add("state = $%d", string(f.State))
	}
	if !f.Since.IsZero() {
		c.add("created_at >= $%d", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		c.add("created_at < $%d", f.Until.UnixNano())
	}
	if after != nil {
		c.add("(created_at, id) < ($%d, $%d)", after.CreatedAt, after.ID)
	}
	where, args := c.sql(` ORDER BY created_at DESC, id DESC LIMIT $%d`, limit)
	return `SELECT ` + deliveryColumns + ` FROM deliveries` + where, args
}

// deliveryKey is the sort key of the last delivery of a page.
type deliveryKey = deliverylog.DeliveryKey

// QueueStats counts the pending deliveries and finds the oldest, from the
// state index.
func (db *DB) QueueStats(ctx context.Context) (hookline.QueueStats, error) {
	var (
		s      hookline.QueueStats
		oldest sql.NullInt64
	)
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at),
		(SELECT COUNT(*) FROM delivery_owners WHERE expires_at > $1) FROM deliveries WHERE state = 'pending'`,
		db.now().UnixNano()).Scan(&s.Pending, &oldest, &s.Replicas)
	if err != nil {
		return hookline.QueueStats{}, fmt.Errorf("queue stats: %w", err)
	}
	s.OldestPending = unixnano.FromNull(oldest)
	return s, nil
}

// DeliveryCounts counts the deliveries created in each bucket from since to
// the store's now, by state: one range search of deliveries_state per state
// and bucket (deliveryCountsSQL), so deliveries before since are not read.
func (db *DB) DeliveryCounts(ctx context.Context, since time.Time, bucket time.Duration) ([]hookline.DeliveryBucket, error) {
	out, err := deliverylog.Buckets(since, db.now(), bucket)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	rows, err := db.db.QueryContext(ctx, deliveryCountsSQL, out[0].Start.UnixNano(), int64(bucket), int64(len(out)))
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	if err := deliverylog.ReadCounts(rows, out); err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return out, nil
}

// deliveryCountsSQL numbers the buckets ($1 the first one's start, $2 their
// length, $3 how many) and counts each state in each with a range search
// of deliveries_state. Grouping the window's rows instead would sort them
// all.
const deliveryCountsSQL = `SELECT b.i,
		(SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND created_at >= b.lo AND created_at < b.lo + $2::bigint),
		(SELECT COUNT(*) FROM deliveries WHERE state = 'delivered' AND created_at >= b.lo AND created_at < b.lo + $2::bigint),
		(SELECT COUNT(*) FROM deliveries WHERE state = 'failed' AND created_at >= b.lo AND created_at < b.lo + $2::bigint),
		(SELECT COUNT(*) FROM deliveries WHERE state = 'dead' AND created_at >= b.lo AND created_at < b.lo + $2::bigint)
	FROM (SELECT i, $1::bigint + i * $2::bigint AS lo FROM generate_series(0::bigint, $3::bigint - 1) AS i) AS b
	ORDER BY b.i`

// LatestDeliveries returns the newest delivery of each connection, newest
// first: one seek of deliveries_connection per connection, however long
// the log is. Deleted connections' deliveries, which have no connection
// row, are left out (see hookline.DeliveryStore).
func (db *DB) LatestDeliveries(ctx context.Context) ([]*hookline.Delivery, error) {
	rows, err := db.db.QueryContext(ctx, latestDeliveriesSQL)
	if err != nil {
		return nil, fmt.Errorf("latest deliveries: %w", err)
	}
	list, _, err := listpage.Scan(rows, math.MaxInt, scanDeliveryRow)
	if err != nil {
		return nil, fmt.Errorf("latest deliveries: %w", err)
	}
	return list, nil
}

const latestDeliveriesSQL = `SELECT d.* FROM connections AS c
	CROSS JOIN LATERAL (
		SELECT ` + deliveryColumns + ` FROM deliveries
		WHERE deliveries.connection_id = c.id
		ORDER BY deliveries.created_at DESC, deliveries.id DESC LIMIT 1) AS d
	ORDER BY d.created_at DESC, d.id DESC`
