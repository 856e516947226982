package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/deliverylog"
	"github.com/hookline/hookline/listpage"
)

// The alerts list: accepted alerts, newest first, with their deliveries.

// Alerts returns a page of accepted alerts, newest first by ReceivedAt and
// then ID, filtered by f: Since is inclusive, Until exclusive. f.Limit
// defaults to hookline.DefaultListLimit and is capped at
// hookline.MaxListLimit, as the delivery log's; a negative limit, a Since
// or Until out of range, or a token this list did not issue is EINVALID
// naming "limit", "since", "until" or "token". Each alert comes whole, its
// results included, with its deliveries in the order they were accepted.
// The page and the deliveries are read in one snapshot, so a delivery's
// state is the one it had when the page was read.
func (db *DB) Alerts(ctx context.Context, f hookline.AlertFilter) ([]*hookline.AcceptedAlert, string, error) {
	limit, after, err := deliverylog.CheckAlerts(f)
	if err != nil {
		return nil, "", fmt.Errorf("list alerts: %w", err)
	}
	var (
		list []*hookline.AcceptedAlert
		more bool
	)
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		query, args := listAlertsQuery(f, after, limit+1) // one more shows whether a page follows
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if list, more, err = listpage.Scan(rows, limit, deliverylog.ScanAlert); err != nil || len(list) == 0 {
			return err
		}
		return attachDeliveries(ctx, tx, list)
	})
	if err != nil {
		return nil, "", fmt.Errorf("list alerts: %w", err)
	}
	return list, deliverylog.AlertsToken(list, more), nil
}

// alertListColumns are the columns deliverylog.ScanAlert reads.
const alertListColumns = deliverylog.AlertColumns

// listAlertsQuery builds the list's query. Each filter has an index that
// leads with it and continues with (received_at, id) (migration 0007), so
// that a page is read in order, not sorted (TestAlertListQueryPlans). A
// source's index is named outright: given a trigger type too, SQLite picks
// the trigger type's, but a source ("search:ID") is the narrower filter,
// and walking every Critical alert to find one search's would read most of
// the table.
func listAlertsQuery(f hookline.AlertFilter, after *alertKey, limit int) (string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if f.Source != "" {
		add("source = ?", f.Source)
	}
	if f.TriggerType != "" {
		add("trigger_type = ?", string(f.TriggerType))
	}
	if !f.Since.IsZero() {
		add("received_at >= ?", f.Since.UnixNano())
	}
	// One upper bound, the stricter: given two, SQLite seeks the index by
	// one and tests the other on every entry it passes, so a page deep in
	// the list would walk over every alert of the pages before.
	switch {
	case after != nil && (f.Until.IsZero() || after.ReceivedAt < f.Until.UnixNano()):
		add("(received_at, id) < (?, ?)", after.ReceivedAt, after.ID)
	case !f.Until.IsZero():
		add("received_at < ?", f.Until.UnixNano())
	}
	query := `SELECT ` + alertListColumns + ` FROM alerts`
	if f.Source != "" {
		query += ` INDEXED BY alerts_source_received`
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY received_at DESC, id DESC LIMIT ?`
	return query, append(args, limit)
}

// pageDeliveriesSQL reads the deliveries of a page's alerts, given as one
// JSON array of IDs, with one seek of deliveries_alert per alert; the
// index's order is each alert's acceptance order.
const pageDeliveriesSQL = `SELECT ` + deliveryColumns + ` FROM deliveries
	WHERE alert_id IN (SELECT value FROM json_each(?)) ORDER BY alert_id, position`

// attachDeliveries reads the deliveries of the listed alerts in one query
// rather than one per alert.
func attachDeliveries(ctx context.Context, tx *sql.Tx, list []*hookline.AcceptedAlert) error {
	ids, _ := json.Marshal(deliverylog.IDs(list)) // strings always encode
	ds, err := queryAll(ctx, tx, scanDeliveryRow, pageDeliveriesSQL, string(ids))
	if err != nil {
		return fmt.Errorf("read deliveries: %w", err)
	}
	deliverylog.Attach(list, ds)
	return nil
}

// alertKey is the sort key of the last alert of a page.
type alertKey = deliverylog.AlertKey
