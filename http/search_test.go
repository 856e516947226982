package http_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	hookhttp "github.com/hookline/hookline/http"
)

// searchEnv is an ingest server with records stored at known ages: 120
// requests from 203.0.113.7 and 30 from 198.51.100.23 in prod/web, two
// database timeouts in prod/db, and one line an hour old.
func searchEnv(t *testing.T) (*ingestEnv, time.Time) {
	t.Helper()
	e := newIngestEnv(t, hookhttp.Limits{})
	id, _ := e.source(map[string]any{"name": "web", "category": "prod/web"})
	now := time.Now().UTC()
	var recs []hookline.LogRecord
	add := func(age time.Duration, category, host, msg string) {
		recs = append(recs, hookline.LogRecord{Time: now.Add(-age), SourceID: id, Category: category, Host: host, Name: "web", Message: msg})
	}
	for i := range 150 {
		ip := "203.0.113.7"
		if i%5 == 0 {
			ip = "198.51.100.23"
		}
		add(time.Duration(i+10)*time.Second, "prod/web", "edge-1", fmt.Sprintf("GET /login from %s 401", ip))
	}
	add(2*time.Minute, "prod/db", "db-1", "ERROR query timeout after 5s")
	add(3*time.Minute, "PROD/DB", "db-2", "error: statement timeout")
	add(time.Hour, "prod/db", "db-1", "ERROR old timeout")
	if err := e.db.AppendLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return e, now
}

func TestSearch(t *testing.T) {
	e, now := searchEnv(t)
	tests := []struct {
		name string
		body map[string]any
		// want checks the answer's body beyond its status.
		aggregate bool
		columns   []string
		rows      []map[string]any
		messages  []string // the messages, in order
		scanned   float64
		matched   float64
	}{{
		name:      "the issue's example",
		body:      map[string]any{"query": `_sourceCategory=prod/web "GET" | parse "* from * " as req, ip | count by ip | where _count > 100 | sort by _count`},
		aggregate: true, columns: []string{"ip", "_count"},
		rows:    []map[string]any{{"ip": "203.0.113.7", "_count": 120.0}},
		scanned: 150, matched: 150, // the category pushdown read only prod/web
	}, {
		name:      "count by host",
		body:      map[string]any{"query": `_sourceCategory=prod/* | count by _sourceHost | sort by _sourceHost asc`},
		aggregate: true, columns: []string{"_sourceHost", "_count"},
		rows:    []map[string]any{{"_sourceHost": "db-1", "_count": 1.0}, {"_sourceHost": "db-2", "_count": 1.0}, {"_sourceHost": "edge-1", "_count": 150.0}},
		scanned: 152, matched: 152,
	}, {
		name:     "messages newest first, category ignoring case",
		body:     map[string]any{"query": `_sourceCategory=prod/db timeout`},
		columns:  []string{},
		messages: []string{"ERROR query timeout after 5s", "error: statement timeout"},
		scanned:  2, matched: 2,
	}, {
		name:     "an older range",
		body:     map[string]any{"query": `timeout`, "from": now.Add(-2 * time.Hour).Format(time.RFC3339), "to": now.Add(-30 * time.Minute).Format(time.RFC3339)},
		columns:  []string{},
		messages: []string{"ERROR old timeout"},
		scanned:  1, matched: 1,
	}, {
		name:     "limit keeps the newest",
		body:     map[string]any{"query": `"198.51.100.23"`, "limit": 2},
		columns:  []string{},
		messages: []string{"GET /login from 198.51.100.23 401", "GET /login from 198.51.100.23 401"},
		scanned:  30, matched: 30, // the keyword pushdown read only those with the address
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.api("POST", "/api/v1/search", tt.body)
			if a.code != http.StatusOK {
				t.Fatalf("%d %s", a.code, a.raw)
			}
			b := a.body
			if b["aggregate"] != tt.aggregate || mustJSON(b["columns"]) != mustJSON(tt.columns) || b["scanned"] != tt.scanned || b["matched"] != tt.matched || b["truncated"] != false {
				t.Errorf("answer %s", a.raw)
			}
			if _, ok := b["tookMs"].(float64); !ok {
				t.Errorf("no tookMs: %s", a.raw)
			}
			wantRows := tt.rows
			if wantRows == nil {
				wantRows = []map[string]any{}
			}
			if mustJSON(b["rows"]) != mustJSON(wantRows) {
				t.Errorf("rows %s; want %s", mustJSON(b["rows"]), mustJSON(wantRows))
			}
			msgs, _ := b["messages"].([]any)
			var got []string
			var last time.Time
			for _, m := range msgs {
				m := m.(map[string]any)
				got = append(got, m["message"].(string))
				at, err := time.Parse(time.RFC3339Nano, m["time"].(string))
				if err != nil || !last.IsZero() && at.After(last) {
					t.Errorf("message time %v after %v (%v)", m["time"], last, err)
				}
				last = at
				f := m["fields"].(map[string]any)
				if f["_sourceName"] != "web" || f["_sourceHost"] == "" || !strings.EqualFold(f["_sourceCategory"].(string), "prod/db") && f["_sourceCategory"] != "prod/web" {
					t.Errorf("message fields %v", f)
				}
			}
			if !slices.Equal(got, tt.messages) {
				t.Errorf("messages %q; want %q", got, tt.messages)
			}
		})
	}
}

func TestSearchErrors(t *testing.T) {
	e, _ := searchEnv(t)
	tests := []struct {
		name  string
		body  any
		field string
		want  string // in the field's message
	}{
		{"no query", map[string]any{}, "query", "is required"},
		{"syntax", map[string]any{"query": "error | count by"}, "query", "line 1, column 17:"},
		{"second line", map[string]any{"query": "error\n| sort by"}, "query", "line 2, column"},
		{"unknown operator", map[string]any{"query": "error | frobnicate"}, "query", "line 1, column 9:"},
		{"bad from", map[string]any{"query": "*", "from": "yesterday"}, "from", "RFC 3339"},
		{"bad to", map[string]any{"query": "*", "to": "2026-13-01T00:00:00Z"}, "to", "RFC 3339"},
		{"backwards", map[string]any{"query": "*", "from": "2026-11-26T12:00:00Z", "to": "2026-11-26T11:00:00Z"}, "from", "must be before to"},
		{"too long", map[string]any{"query": "*", "from": "2026-10-01T00:00:00Z", "to": "2026-11-26T00:00:00Z"}, "from", "at most 31 days"},
		{"limit zero", map[string]any{"query": "*", "limit": 0}, "limit", "from 1 to 1000"},
		{"limit too big", map[string]any{"query": "*", "limit": 1001}, "limit", "from 1 to 1000"},
		{"limit a string", map[string]any{"query": "*", "limit": "10"}, "limit", "must be"},
		{"unknown field", map[string]any{"query": "*", "range": "15m"}, "range", "is not a field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.api("POST", "/api/v1/search", tt.body)
			if a.code != http.StatusBadRequest {
				t.Fatalf("%d %s; want 400", a.code, a.raw)
			}
			errs, _ := a.body["errors"].([]any)
			for _, x := range errs {
				x := x.(map[string]any)
				if x["field"] == tt.field && strings.Contains(x["message"].(string), tt.want) {
					return
				}
			}
			t.Errorf("%s; want %s saying %q", a.raw, tt.field, tt.want)
		})
	}
}
