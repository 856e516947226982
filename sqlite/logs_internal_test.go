package sqlite

import (
	"strings"
	"testing"

	"github.com/hookline/hookline"
)

// The log queries walk indexes rather than scan or sort the table.
func TestLogQueryPlans(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	scan := func(cats []string, after *logKey, keywords ...string) string {
		f, fa := scanFilter(hookline.LogScan{Categories: cats, Keywords: keywords})
		q, _ := scanLogsQuery(0, 1, f, fa, after, 10)
		return q
	}
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"scan", scan(nil, nil), "SEARCH logs USING INDEX logs_time (time>? AND time<?)"},
		{"scan next page", scan(nil, &logKey{Time: 1, ID: 2}), "SEARCH logs USING INDEX logs_time (time>? AND time<?)"},
		{"scan categories", scan([]string{"prod/web", "stage/*"}, &logKey{}), "SEARCH logs USING INDEX logs_time (time>? AND time<?)"},
		{"scan keywords", scan(nil, nil, "POST /login", "50%"), "SEARCH logs USING INDEX logs_time (time>? AND time<?)"},
		{"scan categories and keywords", scan([]string{"prod/*"}, &logKey{}, "POST"), "SEARCH logs USING INDEX logs_time (time>? AND time<?)"},
		{"prune", pruneLogsSQL, "SEARCH logs USING COVERING INDEX logs_time (time<?)"},
		{"last ID", `SELECT coalesce(max(id), 0) FROM logs`, "SEARCH logs"},
		{"source by token", `SELECT ` + sourceColumns + ` FROM sources WHERE token_hash = ?`, "SEARCH sources USING INDEX sources_token_hash (token_hash=?)"},
		{"sources", func() string {
			q, _ := sourcesByName.query(&pageKey{NameKey: "a", ID: "0000000000000000"}, 10)
			return q
		}(),
			"SEARCH sources USING INDEX sources_name_key (name_key>?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := queryPlan(t, db, tt.query)
			if !strings.Contains(p, tt.want) || strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "SCAN logs") {
				t.Errorf("plan: %s\nwant %q without a sort or a table scan", p, tt.want)
			}
		})
	}
}
