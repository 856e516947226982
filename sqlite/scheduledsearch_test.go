package sqlite

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/storetest"
)

func TestScheduledSearchStore(t *testing.T) {
	storetest.TestScheduledSearchStore(t, func(t *testing.T) storetest.ScheduledSearchStore {
		return openInternal(t)
	})
}

// Every poll of every replica claims: the claim must walk the schedule's
// index in order, never scan scheduled_search_states or sort it, and read
// the claimed definitions by key.
func TestScheduledSearchQueryPlans(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	list := func(after *pageKey) string { q, _ := searchesByName.query(after, 10); return q }
	tests := []struct {
		name  string
		query string
		want  []string // each in the plan
	}{
		{"claim", claimSearchesSQL, []string{
			"USING COVERING INDEX sqlite_autoindex_scheduled_search_states_1 (search_id=?)",
			"SEARCH scheduled_search_states USING COVERING INDEX scheduled_search_states_due (next_run_at<?)",
		}},
		{"claimed definitions", claimedSearchesSQL, []string{"SEARCH scheduled_searches USING INDEX sqlite_autoindex_scheduled_searches_1 (id=?)"}},
		{"list", list(nil), []string{"SCAN scheduled_searches USING INDEX scheduled_searches_name_key"}},
		{"list page", list(&pageKey{NameKey: "a", ID: "0000000000000000"}), []string{
			"SEARCH scheduled_searches USING INDEX scheduled_searches_name_key (name_key>?)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := queryPlan(t, db, tt.query)
			for _, w := range tt.want {
				if !strings.Contains(p, w) {
					t.Errorf("plan: %s\nwant %q", p, w)
				}
			}
			if strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "SCAN scheduled_search_states") {
				t.Errorf("plan: %s\nsorts or scans scheduled_search_states", p)
			}
		})
	}
}

// TestScheduledSearchOnlyNameIsUnique guards mapNameConstraint's
// assumption that any SQLITE_CONSTRAINT_UNIQUE from scheduled_searches is
// the name's.
func TestScheduledSearchOnlyNameIsUnique(t *testing.T) {
	db := openInternal(t)
	unique, err := queryAll(t.Context(), db.read, func(s scanner) (name string, err error) { return name, s.Scan(&name) },
		`SELECT name FROM pragma_index_list('scheduled_searches') WHERE "unique" AND origin <> 'pk'`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(unique, []string{"scheduled_searches_name_key"}) {
		t.Errorf("unique indexes on scheduled_searches besides the primary key: %q; want only scheduled_searches_name_key, "+
			"or mapNameConstraint must learn to tell them apart", unique)
	}
}

// Deleting a search, even one that is held, leaves no row of its
// bookkeeping behind; the schema refuses bookkeeping that contradicts
// itself.
func TestScheduledSearchRows(t *testing.T) {
	db := openInternal(t)
	c := storetest.Connection("target")
	if err := db.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a := storetest.NewScheduledSearch("a", c.ID)
	b := storetest.NewScheduledSearch("b", c.ID)
	for _, s := range []*hookline.ScheduledSearch{a, b} {
		if err := db.CreateScheduledSearch(t.Context(), s, due); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		t.Helper()
		if err := db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM scheduled_search_states`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("%d state rows for 2 searches", n)
	}
	if _, err := db.ClaimDueSearches(t.Context(), "owner", due, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteScheduledSearch(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d state rows after deleting one of 2 searches; want 1", n)
	}
	var id string
	if err := db.read.QueryRowContext(t.Context(), `SELECT search_id FROM scheduled_search_states`).Scan(&id); err != nil || id != b.ID {
		t.Errorf("the state row left is %q, %v; want b's, %s", id, err, b.ID)
	}

	for _, bad := range []string{
		`UPDATE scheduled_search_states SET lease_owner = NULL`, // an expiry without an owner
		`UPDATE scheduled_search_states SET last_results = 3`,   // a run's results before any run
		`UPDATE scheduled_searches SET threshold_count = NULL`,  // an operator without a count
		`UPDATE scheduled_searches SET itemize_alerts = 0`,      // itemized alerts without itemizing
	} {
		if _, err := db.write.ExecContext(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "CHECK constraint failed") {
			t.Errorf("%s: %v; want a CHECK constraint to refuse it", bad, err)
		}
	}
}
