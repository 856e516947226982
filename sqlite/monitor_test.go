package sqlite

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/storetest"
)

func TestMonitorStore(t *testing.T) {
	storetest.TestMonitorStore(t, func(t *testing.T) storetest.MonitorStore {
		return openInternal(t)
	})
}

// Every poll of every replica claims: the claim must walk the schedule's
// index in order, never scan monitor_states or sort it, and read the
// claimed definitions by key.
func TestMonitorQueryPlans(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	list := func(after *pageKey) string { q, _ := monitorsByName.query(after, 10); return q }
	tests := []struct {
		name  string
		query string
		want  []string // each in the plan
	}{
		{"claim", claimMonitorsSQL, []string{
			"USING COVERING INDEX sqlite_autoindex_monitor_states_1 (monitor_id=?)",
			"SEARCH monitor_states USING COVERING INDEX monitor_states_due (next_eval_at<?)",
		}},
		{"claimed definitions", claimedMonitorsSQL, []string{"SEARCH monitors USING INDEX sqlite_autoindex_monitors_1 (id=?)"}},
		{"list", list(nil), []string{"SCAN monitors USING INDEX monitors_name_key"}},
		{"list page", list(&pageKey{NameKey: "a", ID: "0000000000000000"}), []string{"SEARCH monitors USING INDEX monitors_name_key (name_key>?)"}},
		{"reschedule", rescheduleSQL, []string{"SEARCH monitor_states USING INDEX sqlite_autoindex_monitor_states_1 (monitor_id=?)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := queryPlan(t, db, tt.query)
			for _, w := range tt.want {
				if !strings.Contains(p, w) {
					t.Errorf("plan: %s\nwant %q", p, w)
				}
			}
			if strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "SCAN monitor_states") {
				t.Errorf("plan: %s\nsorts or scans monitor_states", p)
			}
		})
	}
}

// TestMonitorOnlyNameIsUnique guards mapNameConstraint's assumption
// that any SQLITE_CONSTRAINT_UNIQUE from monitors is the name's.
func TestMonitorOnlyNameIsUnique(t *testing.T) {
	db := openInternal(t)
	var unique []string
	rows, err := db.read.QueryContext(t.Context(), `SELECT name FROM pragma_index_list('monitors') WHERE "unique" AND origin <> 'pk'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		unique = append(unique, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(unique, []string{"monitors_name_key"}) {
		t.Errorf("unique indexes on monitors besides the primary key: %q; want only monitors_name_key, "+
			"or mapNameConstraint must learn to tell them apart", unique)
	}
}

// Deleting a monitor, even one that is held, leaves no row of its
// bookkeeping behind.
func TestMonitorRows(t *testing.T) {
	db := openInternal(t)
	a := storetest.NewMonitor("a")
	b := storetest.NewMonitor("b")
	if err := db.CreateMonitor(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateMonitor(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		if err := db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM monitor_states`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("%d state rows for 2 monitors", n)
	}
	if _, err := db.ClaimDueMonitors(t.Context(), "owner", time.Now().Add(time.Minute), time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMonitor(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d state rows after deleting one of 2 monitors; want 1", n)
	}
	var id string
	if err := db.read.QueryRowContext(t.Context(), `SELECT monitor_id FROM monitor_states`).Scan(&id); err != nil || id != b.ID {
		t.Errorf("the state row left is %q, %v; want b's, %s", id, err, b.ID)
	}
}
