package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/storetest"
)

func TestAlertList(t *testing.T) {
	storetest.TestAlertList(t, func(t *testing.T) (hookline.DeliveryStore, hookline.ConnectionStore) {
		db := openInternal(t)
		return db, db
	})
}

// The alerts list is read on every refresh of the alerts page while the
// table grows: each filter must walk an index in the list's order and stop
// at the page's end, never scan or sort the alerts.
func TestAlertListQueryPlans(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	list := func(f hookline.AlertFilter, after *alertKey) string {
		q, _ := listAlertsQuery(f, after, 10)
		return q
	}
	page := &alertKey{ReceivedAt: 1, ID: "0000000000000000"}
	now := time.Now()
	tests := []struct {
		name  string
		query string
		want  string // in the plan
		sort  bool   // a sort is allowed
	}{
		{"all", list(hookline.AlertFilter{}, nil), "SCAN alerts USING INDEX alerts_received", false},
		{"page", list(hookline.AlertFilter{}, page), "SEARCH alerts USING INDEX alerts_received ((received_at,id)<(?,?))", false},
		{"since and until", list(hookline.AlertFilter{Since: now, Until: now}, nil),
			"SEARCH alerts USING INDEX alerts_received (received_at>? AND received_at<?)", false},
		// Paged, the page's key replaces the earlier Until as the upper
		// bound, so the seek starts where the page does.
		{"since and until page", list(hookline.AlertFilter{Since: now, Until: now}, page),
			"SEARCH alerts USING INDEX alerts_received (received_at>? AND (received_at,id)<(?,?))", false},
		{"source", list(hookline.AlertFilter{Source: "api"}, nil), "SEARCH alerts USING INDEX alerts_source_received (source=?)", false},
		{"source page", list(hookline.AlertFilter{Source: "api"}, page),
			"SEARCH alerts USING INDEX alerts_source_received (source=? AND (received_at,id)<(?,?))", false},
		{"trigger type", list(hookline.AlertFilter{TriggerType: hookline.TriggerCritical}, nil),
			"SEARCH alerts USING INDEX alerts_trigger_received (trigger_type=?)", false},
		{"trigger type page", list(hookline.AlertFilter{TriggerType: hookline.TriggerCritical, Since: now}, page),
			"SEARCH alerts USING INDEX alerts_trigger_received (trigger_type=? AND received_at>? AND (received_at,id)<(?,?))", false},
		// The source, the narrower filter, picks the index.
		{"source and trigger type", list(hookline.AlertFilter{Source: "api", TriggerType: hookline.TriggerCritical, Until: now}, page),
			"SEARCH alerts USING INDEX alerts_source_received (source=? AND (received_at,id)<(?,?))", false},
		// A page's deliveries: a seek of deliveries_alert per alert, in the
		// IN list's order, which is the index's.
		{"deliveries", pageDeliveriesSQL, "SEARCH deliveries USING INDEX deliveries_alert (alert_id=?)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := queryPlan(t, db, tt.query)
			if !strings.Contains(p, tt.want) || strings.Contains(p, "SCAN alerts;") || strings.Contains(p, "SCAN deliveries") ||
				(!tt.sort && strings.Contains(p, "TEMP B-TREE")) {
				t.Errorf("plan: %s\nwant %q without a scan of the table or a sort", p, tt.want)
			}
		})
	}
}
