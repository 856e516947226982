package postgres

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// The queries that page through lists or walk the queue read an index in
// order: no sort, whatever the table's size. A test database is small, and
// PostgreSQL rightly prefers reading a small table whole (or through a
// bitmap, then sorting), so those scans are priced out for the check; what it shows is that the index
// serves the query, which is what matters once the table is large.
func TestQueryPlans(t *testing.T) {
	db := openInternal(t, "")

	conns := byName[*hookline.Connection]{table: "connections", columns: connectionColumns, keyColumn: "name_key"}
	connQuery, connArgs := conns.query(&pageKey{NameKey: "a", ID: "0000000000000001"}, 50)
	userQuery, userArgs := usersByEmail.query(&pageKey{NameKey: "a", ID: "0000000000000001"}, 50)
	auditQuery, auditArgs := auditEventsQuery(hookline.AuditFilter{TargetType: "user", TargetID: "X"}, &auditKey{ID: "0000000000000001"}, 50)
	keysQuery, keysArgs := accessKeysQuery("U", &accessKeyKey{ID: "hk1"}, time.Now(), 50)
	delQuery, delArgs := listDeliveriesQuery(hookline.DeliveryFilter{ConnectionID: "C"}, &deliveryKey{CreatedAt: 1, ID: "0000000000000001"}, 50)
	alertQuery, alertArgs := listAlertsQuery(hookline.AlertFilter{Source: "api"}, &alertKey{ReceivedAt: 1, ID: "0000000000000001"}, 50)
	logsQuery, logsArgs := scanLogsQuery(0, 100, hookline.LogScan{Categories: []string{"prod/*", "web"}}, &logKey{Time: 50, ID: 7}, 1000)
	kwQuery, kwArgs := scanLogsQuery(0, 100, hookline.LogScan{Categories: []string{"prod/*"}, Keywords: []string{"POST /login", "50%"}}, nil, 1000)
	tests := []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{"connections page", connQuery, connArgs, "connections_name_key"},
		{"users page", userQuery, userArgs, "users_email_key"},
		{"audit events of a target", auditQuery, auditArgs, "audit_events_target"},
		{"access keys of a user", keysQuery, keysArgs, "access_keys_user"},
		{"deliveries of a connection", delQuery, delArgs, "deliveries_connection"},
		{"alerts of a source", alertQuery, alertArgs, "alerts_source_received"},
		{"claim", claimSQL, []any{"p1", int64(1), []string{"C"}, 10, int64(1)}, "deliveries_due"},
		{"an alert's deliveries", alertDeliveriesSQL, []any{"A"}, "deliveries_alert"},
		{"log scan", logsQuery, logsArgs, "logs_time"},
		{"log scan with keywords", kwQuery, kwArgs, "logs_time"},
		{"monitor claim", claimMonitorsSQL, []any{"p1", int64(1), int64(2), 10}, "monitor_states_due"},
		{"scheduled search claim", claimSearchesSQL, []any{"p1", int64(1), int64(2), 10}, "scheduled_search_states_due"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := explain(t, db.db, tt.query, tt.args...)
			if !strings.Contains(plan, tt.index) || strings.Contains(plan, "Sort") {
				t.Errorf("plan does not walk %s in order:\n%s", tt.index, plan)
			}
		})
	}
}

func explain(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, set := range []string{`SET LOCAL enable_seqscan = off`, `SET LOCAL enable_bitmapscan = off`} {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := tx.QueryContext(ctx, `EXPLAIN `+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
