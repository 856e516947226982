package postgres

import (
	"context"
	"database/sql"
	"fmt"

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
// The page and the deliveries are read in one snapshot.
func (db *DB) Alerts(ctx context.Context, f hookline.AlertFilter) ([]*hookline.AcceptedAlert, string, error) {
	limit, after, err := deliverylog.CheckAlerts(f)
	if err != nil {
		return nil, "", fmt.Errorf("list alerts: %w", err)
	}
	if !storableText(f.Source) || !storableText(string(f.TriggerType)) {
		return []*hookline.AcceptedAlert{}, "", nil // no alert has it
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
// leads with it and continues with (received_at, id), so that a page is
// read in order, not sorted.
func listAlertsQuery(f hookline.AlertFilter, after *alertKey, limit int) (string, []any) {
	var c conditions
	if f.Source != "" {
		c.add("source = $%d", f.Source)
	}
	if f.TriggerType != "" {
		c.add("trigger_type = $%d", string(f.TriggerType))
	}
	if !f.Since.IsZero() {
		c.add("received_at >= $%d", f.Since.UnixNano())
	}
	// One upper bound, the stricter, so that a page deep in the list seeks
	// straight to its start.
	switch {
	case after != nil && (f.Until.IsZero() || after.ReceivedAt < f.Until.UnixNano()):
		c.add("(received_at, id) < ($%d, $%d)", after.ReceivedAt, after.ID)
	case !f.Until.IsZero():
		c.add("received_at < $%d", f.Until.UnixNano())
	}
	where, args := c.sql(` ORDER BY received_at DESC, id DESC LIMIT $%d`, limit)
	return `SELECT ` + alertListColumns + ` FROM alerts` + where, args
}

// pageDeliveriesSQL reads the deliveries of a page's alerts, given as one
// array of IDs, in each alert's acceptance order (deliveries_alert).
const pageDeliveriesSQL = `SELECT ` + deliveryColumns + ` FROM deliveries
	WHERE alert_id = ANY ($1::text[]) ORDER BY alert_id, position`

// attachDeliveries reads the deliveries of the listed alerts in one query
// rather than one per alert.
func attachDeliveries(ctx context.Context, tx *sql.Tx, list []*hookline.AcceptedAlert) error {
	ds, err := queryAll(ctx, tx, scanDeliveryRow, pageDeliveriesSQL, deliverylog.IDs(list))
	if err != nil {
		return fmt.Errorf("read deliveries: %w", err)
	}
	deliverylog.Attach(list, ds)
	return nil
}

// alertKey is the sort key of the last alert of a page.
type alertKey = deliverylog.AlertKey
