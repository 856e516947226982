package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/client"
)

// TestSearchEndToEnd sends lines through the CLI and searches them with
// the example query, as rows and as messages, against the whole
// program.
func TestSearchEndToEnd(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)
	t.Setenv("HOOKLINE_SERVER", "")
	t.Setenv("HOOKLINE_SOURCE_TOKEN_FILE", "")
	t.Setenv("HOOKLINE_SOURCE_URL", "")
	r := mustSucceed(t, admin(t, server, "", "sources", "create", "--name", "web", "--category", "prod/web"))
	token, _ := sourceExports(t, r.stdout)
	var lines strings.Builder
	for i := range 130 {
		ip := "203.0.113.7"
		if i%10 == 0 {
			ip = "198.51.100.23"
		}
		lines.WriteString("GET /login from " + ip + " 401\n")
	}
	mustSucceed(t, runCLI(t, lines.String(), "logs", "send", "--server", server, "--token", token))

	example := `_sourceCategory=prod/web "GET" | parse "* from * " as req, ip | count by ip | where _count > 100 | sort by _count`
	mustSucceed(t, admin(t, server, "", "search", example, "--last", "2d")) // days, as --from takes
	r = mustSucceed(t, admin(t, server, "", "search", example, "--last", "1h"))
	if r.stdout != "ip            _count\n203.0.113.7   117\n" || !strings.HasPrefix(r.stderr, "1 row; scanned 130 records") {
		t.Errorf("aggregate:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}

	r = mustSucceed(t, admin(t, server, "", "search", `198.51.100.23 | parse "from * " as ip`, "--limit", "2"))
	out := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(out) != 3 || !strings.HasPrefix(out[0], "TIME ") || !strings.Contains(out[1], " 198.51.100.23 ") || !strings.HasSuffix(out[1], "GET /login from 198.51.100.23 401") ||
		!strings.Contains(r.stderr, "Showing the first 2 of 13 matching messages") {
		t.Errorf("messages:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}

	r = mustSucceed(t, admin(t, server, "203.0.113.7", "search", "-", "-o", "json"))
	res := decodeJSON[client.SearchResult](t, r.stdout)
	if res.Aggregate || res.Matched != 117 || len(res.Messages) != 100 || res.Messages[0].Fields["_sourceCategory"] != "prod/web" {
		t.Errorf("-o json: %+v", res)
	}

	r = admin(t, server, "", "search", "error\n| count by", "--last", "1h")
	want := "Error: search: the query is not valid: line 2, column 11: "
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, "\n  | count by\n            ^\n") {
		t.Errorf("syntax error: %+v", r)
	}
}

func TestSearchFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"search", "x", "--last", "1h", "--from", "2h"}, "either it or --from and --to"},
		{[]string{"search", "x", "--last", "soon"}, "--last \"soon\""},
		{[]string{"search", "x", "--from", "yesterday"}, "--from \"yesterday\""},
		{[]string{"search", "x", "--limit", "5000"}, "--limit must be from 1 to 1000"},
		{[]string{"search", "x", "--limit", "0"}, "--limit must be from 1 to 1000"},
		{[]string{"search", "x", "--last", "-2d"}, "--last \"-2d\""},
		{[]string{"search", "  "}, "the query is empty"},
		{[]string{"search", "x", "-o", "csv"}, "-o/--output must be"},
	}
	for _, tt := range tests {
		r := runCLI(t, "", append(tt.args, "--server", "http://127.0.0.1:1", "--token", "x")...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: %+v; want exit 1 saying %q", tt.args, r, tt.want)
		}
	}
}

func TestSearchOutputGolden(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 12, 0, 0, 500_000_000, time.UTC)
	agg := &client.SearchResult{Aggregate: true, Columns: []string{"ip", "_count", "avg"},
		Rows:    []map[string]any{{"ip": "203.0.113.7", "_count": 1542.0, "avg": 12.5}, {"ip": "198.51.100.23", "_count": 187.0, "avg": nil}},
		Scanned: 20000, Matched: 1729, TookMs: 41}
	msgs := &client.SearchResult{Columns: []string{"ip"}, Messages: []client.SearchMessage{
		{Time: at, Message: "GET /login from 203.0.113.7 401", Fields: map[string]string{"ip": "203.0.113.7"}},
		{Time: at.Add(-time.Second), Message: "line with\ta tab", Fields: map[string]string{}},
	}, Scanned: 300, Matched: 250, TookMs: 3}
	tests := []struct {
		file string
		got  func() string
	}{
		{"rows.golden", func() string { return printed(t, agg) + searchSummary(agg, 0) + "\n" }},
		{"messages.golden", func() string { return printed(t, msgs) + searchSummary(msgs, 2) + "\n" }},
		{"syntax-error.golden", func() string {
			return queryErrorText("_sourceCategory=prod/web\n\t| parse \"* from *\" as a, | count", 2, 27, `expected a field name, found "|"`) + "\n"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) { goldenIn(t, "search", tt.file, tt.got()) })
	}
}

func printed(t *testing.T, res *client.SearchResult) string {
	t.Helper()
	var b bytes.Buffer
	if err := printSearchResult(io.Writer(&b), res); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
