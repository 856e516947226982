package query_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hookline/hookline/query"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// accessLog builds web access records, newest first as a store reads them:
// lines are "METHOD PATH from IP status=CODE bytes=N" in _sourceCategory
// prod/web on host web-1, or the given category and host after "|".
func accessLog(lines ...string) []query.Record {
	recs := make([]query.Record, len(lines))
	for i, l := range lines {
		cat, host := "prod/web", "web-1"
		if msg, meta, ok := strings.Cut(l, " | "); ok {
			l = msg
			cat, host, _ = strings.Cut(meta, " ")
		}
		recs[i] = query.Record{
			Time:    t0.Add(-time.Duration(i) * time.Second),
			Message: l,
			Fields:  map[string]string{"_sourceCategory": cat, "_sourceHost": host, "_sourceName": "/var/log/nginx/access.log"},
		}
	}
	return recs
}

func mustParse(tb testing.TB, src string) *query.Query {
	tb.Helper()
	q, err := query.Parse(src)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", src, err)
	}
	return q
}

func run(tb testing.TB, src string, recs []query.Record) *query.Result {
	tb.Helper()
	return runWith(tb, src, query.Options{}, recs)
}

func runWith(tb testing.TB, src string, opt query.Options, recs []query.Record) *query.Result {
	tb.Helper()
	res, err := mustParse(tb, src).RunWith(context.Background(), opt, query.Records(recs))
	if err != nil {
		tb.Fatalf("Run(%q): %v", src, err)
	}
	return res
}

// messages returns the messages of a result, for comparing.
func messages(res *query.Result) []string {
	var ms []string
	for _, m := range res.Messages {
		ms = append(ms, m.Message)
	}
	return ms
}

// TestTooManyRequestsFromOneIP runs the monitor query, as written
// there, over access-log lines of category web in which one address sends
// far more requests than the others.
func TestTooManyRequestsFromOneIP(t *testing.T) {
	var lines []string
	for range 150 {
		lines = append(lines, "GET /login from 203.0.113.7 | web web-1")
	}
	for i := range 101 {
		lines = append(lines, fmt.Sprintf("GET /search?q=%d from 198.51.100.23 | web web-2", i))
	}
	for i := range 400 {
		lines = append(lines, fmt.Sprintf("GET /home from 192.0.2.%d | web web-1", i%4)) // 100 each
	}
	// Traffic the search expression leaves out: another category (the
	// whole value must match, so prod/web is not web), and POSTs.
	for range 300 {
		lines = append(lines, "GET /login from 203.0.113.7 | prod/web web-1")
		lines = append(lines, "GET /login from 10.0.0.1 | api api-1")
		lines = append(lines, "POST /login from 203.0.113.7 | web web-1")
	}
	const src = `_sourceCategory=web "GET" | parse "* from *" as req, ip | count by ip | where _count > 100 | sort by _count`
	res := run(t, src, accessLog(lines...))
	want := []map[string]any{
		{"ip": "203.0.113.7", "_count": int64(150)},
		{"ip": "198.51.100.23", "_count": int64(101)},
	}
	if diff := cmp.Diff(want, res.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if !res.Aggregate || !cmp.Equal(res.Columns, []string{"ip", "_count"}) || res.Truncated {
		t.Errorf("Aggregate %v, Columns %v, Truncated %v; want true, [ip _count], false", res.Aggregate, res.Columns, res.Truncated)
	}
	if res.Scanned != len(lines) || res.Matched != 651 {
		t.Errorf("Scanned %d, Matched %d; want %d, 651", res.Scanned, res.Matched, len(lines))
	}
}

func TestSearchExpression(t *testing.T) {
	recs := accessLog(
		"GET /login from 203.0.113.7 status=401",                              // 0
		"get /LOGIN from 203.0.113.8 status=200",                              // 1
		"POST /api/orders from 198.51.100.23 status=500 | prod/api api-1",     // 2
		"GET /health from 127.0.0.1 status=200 | prod/web/canary web-canary",  // 3
		"ERROR upstream timed out while reading response header",              // 4
		"DELETE /api/orders/7 from 198.51.100.23 status=403 | PROD/API api-2", // 5
	)
	tests := []struct {
		src  string
		want []int
	}{
		{`get`, []int{0, 1, 3}},                               // case-insensitive substring
		{`"GET /login"`, []int{0, 1}},                         // a phrase, any case
		{`/login 401`, []int{0}},                              // implicit AND
		{`/login AND 401`, []int{0}},                          // explicit AND
		{`401 OR 500`, []int{0, 2}},                           // OR
		{`get NOT login`, []int{3}},                           // NOT
		{`get !login`, []int{3}},                              // ! is NOT
		{`get -login`, nil},                                   // - is text, not NOT
		{`(POST OR DELETE) orders`, []int{2, 5}},              // parentheses
		{`POST OR DELETE orders status=403`, []int{2}},        // POST OR (DELETE orders status=403): AND binds tighter, and status=403 is a field, which these records lack
		{`upstream*header`, []int{4}},                         // wildcard inside a keyword
		{`"timed out" error`, []int{4}},                       // phrase and keyword
		{`_sourceCategory=prod/api`, []int{2, 5}},             // metadata, any case
		{`_sourceCategory=prod/web*`, []int{0, 1, 3, 4}},      // metadata wildcard
		{`_sourcecategory=*canary`, []int{3}},                 // field names ignore case
		{`_sourceHost=api-* NOT _sourceHost=api-2`, []int{2}}, // wildcard and NOT on metadata
		{`_sourceHost!=web-1`, []int{2, 3, 5}},                // != is NOT =; records without the field never match =
		{`_sourceName="/var/log/nginx/access.log" 127.0.0.1`, []int{3}},
		{`_sourceCategory=prod`, nil},  // the whole value must match
		{`nosuchfield=x`, nil},         // a field the records do not have
		{`*`, []int{0, 1, 2, 3, 4, 5}}, // everything
		{``, []int{0, 1, 2, 3, 4, 5}},  // everything too
		{`"status=401"`, []int{0}},     // quoted: text containing "="
		{`"a\"b" OR "\*"`, nil},        // escapes; \* is a literal star
		{`NOT (get OR post OR delete)`, []int{4}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			res := run(t, tt.src, recs)
			var got []int
			for _, m := range res.Messages {
				for i, r := range recs {
					if r.Message == m.Message {
						got = append(got, i)
					}
				}
			}
			if !cmp.Equal(got, tt.want) {
				t.Errorf("matched records %v, want %v", got, tt.want)
			}
			if res.Matched != len(tt.want) || res.Aggregate {
				t.Errorf("Matched %d, Aggregate %v; want %d, false", res.Matched, res.Aggregate, len(tt.want))
			}
		})
	}
}

func TestParseOperator(t *testing.T) {
	recs := accessLog(
		"GET /login from 203.0.113.7 status=401 bytes=512",
		"GET /login from 203.0.113.7",
		"healthcheck ok",
		`user="ann smith" action=login`,
		"a * b from c",
	)
	tests := []struct {
		src    string
		fields []map[string]string // the extracted fields of each message
	}{
		{`| parse "* from * status=* bytes=*" as req, ip, status, bytes`,
			[]map[string]string{{"req": "GET /login", "ip": "203.0.113.7", "status": "401", "bytes": "512"}}},
		// The last * takes the rest of the message.
		{`| parse "from *" as rest`,
			[]map[string]string{{"rest": "203.0.113.7 status=401 bytes=512"}, {"rest": "203.0.113.7"}, {"rest": "c"}}},
		// Non-matching messages are dropped unless nodrop.
		{`| parse "status=* " as status nodrop`,
			[]map[string]string{{"status": "401"}, {}, {}, {}, {}}},
		{`| parse "user=\"*\"" as user`, []map[string]string{{"user": "ann smith"}}},
		{`| parse "a \* b from *" as who`, []map[string]string{{"who": "c"}}},
		{`| parse "* from *" as req, ip | parse field=req "* *" as method, path`,
			[]map[string]string{
				{"req": "GET /login", "ip": "203.0.113.7 status=401 bytes=512", "method": "GET", "path": "/login"},
				{"req": "GET /login", "ip": "203.0.113.7", "method": "GET", "path": "/login"},
				{"req": "a * b", "ip": "c", "method": "a", "path": "* b"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			res := run(t, tt.src, recs)
			var got []map[string]string
			for _, m := range res.Messages {
				f := map[string]string{}
				for _, c := range res.Columns {
					if v, ok := m.Fields[c]; ok {
						f[c] = v
					}
				}
				got = append(got, f)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("extracted fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	lines := []string{
		`{"method":"GET","path":"/login","client":{"ip":"203.0.113.7","geo":{"country":"NL"}},"status":401,"latency_ms":12.5,"tags":["a","b"],"ok":false}`,
		`{"method":"POST","path":"/api/orders","client":{"ip":"198.51.100.23"},"status":500,"latency_ms":1250,"tags":[],"ok":null}`,
		`2026-03-01T12:00:00Z INFO {"method":"GET","path":"/","client":{"ip":"203.0.113.7"},"status":200,"latency_ms":3}`,
		`not json at all`,
		`{"method":"GET","status":"404"}`,
	}
	recs := accessLog(lines...)
	tests := []struct {
		src  string
		want any // []map[string]string of fields, or []map[string]any of rows
	}{
		{`| json "method", "client.ip", "status"`, []map[string]string{
			{"method": "GET", "client.ip": "203.0.113.7", "status": "401"},
			{"method": "POST", "client.ip": "198.51.100.23", "status": "500"},
			{"method": "GET", "client.ip": "203.0.113.7", "status": "200"}, // JSON after a prefix
		}},
		{`| json "client.geo.country", "tags", "tags[1]", "ok" as country, tags, second, ok nodrop`, []map[string]string{
			{"country": "NL", "tags": `["a","b"]`, "second": "b", "ok": "false"},
			{"tags": "[]"}, // ok is null: no value
			{}, {}, {},
		}},
		{`| json "client" as c | json field=c "ip"`, []map[string]string{
			{"c": `{"ip":"203.0.113.7","geo":{"country":"NL"}}`, "ip": "203.0.113.7"},
			{"c": `{"ip":"198.51.100.23"}`, "ip": "198.51.100.23"},
			{"c": `{"ip":"203.0.113.7"}`, "ip": "203.0.113.7"},
		}},
		{`| json "client.ip" as ip, | count by ip`, nil}, // invalid; replaced below
		{`| json "status" | where status >= 400 | count by status | sort by status asc`, []map[string]any{
			{"status": "401", "_count": int64(1)},
			{"status": "404", "_count": int64(1)},
			{"status": "500", "_count": int64(1)},
		}},
		{`| json "client.ip", "latency_ms" as ip, ms | sum(ms) as total, avg(ms), max(ms), count by ip`, []map[string]any{
			{"ip": "203.0.113.7", "total": 15.5, "_avg": 7.75, "_max": 12.5, "_count": int64(2)},
			{"ip": "198.51.100.23", "total": int64(1250), "_avg": int64(1250), "_max": int64(1250), "_count": int64(1)},
		}},
	}
	for _, tt := range tests {
		if tt.want == nil {
			continue
		}
		t.Run(tt.src, func(t *testing.T) {
			res := run(t, tt.src, recs)
			var got any
			if res.Aggregate {
				got = res.Rows
			} else {
				var fs []map[string]string
				for _, m := range res.Messages {
					f := map[string]string{}
					for _, c := range res.Columns {
						if v, ok := m.Fields[c]; ok {
							f[c] = v
						}
					}
					fs = append(fs, f)
				}
				got = fs
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWhereComparisons covers numbers against strings: field text compares
// as a number when both sides read as numbers, and as text otherwise.
func TestWhereComparisons(t *testing.T) {
	recs := []query.Record{
		{Message: "a", Fields: map[string]string{"status": "401", "bytes": "512", "user": "ann", "ms": "9.5"}},
		{Message: "b", Fields: map[string]string{"status": "80", "bytes": "1e3", "user": "Bob", "ms": "10"}},
		{Message: "c", Fields: map[string]string{"status": "abc", "bytes": "", "user": "carol"}},
		{Message: "d", Fields: map[string]string{}},
	}
	tests := []struct {
		where string
		want  string // the messages that pass, in order
	}{
		{`status > 100`, "a"}, // 401 > 100, 80 < 100, and abc is not a number
		{`status > 100 and status < 1000`, "a"},
		{`status = 401`, "a"},
		{`status = 401.0`, "a"},  // numerically equal
		{`status = "401"`, "a"},  // a quoted literal compares as text
		{`status = "401.0"`, ""}, // as text, not equal
		{`status > "5"`, "bc"},   // as text: "401" < "5" < "80" < "abc"
		{`status <= 100`, "b"},   // abc is not a number: neither > 100 nor <= 100
		{`status != 100`, "abc"}, // but it is not equal to 100
		{`bytes >= 1000`, "b"},   // 1e3 reads as a number
		{`ms < 10`, "a"},
		{`status != 401`, "bc"},     // a missing field is neither equal nor unequal
		{`not status = 401`, "bcd"}, // but not (...) is true for it
		{`isNull(status)`, "d"},
		{`!isNull(status)`, "abc"},
		{`isEmpty(bytes)`, "cd"},
		{`isBlank(user)`, "d"},
		{`user matches "*o*"`, "bc"}, // matches is whole-value and case-sensitive
		{`user matches "b*"`, ""},
		{`toLowerCase(user) matches "b*"`, "b"},
		{`toUpperCase(user) = "ANN"`, "a"},
		{`user < "b"`, "ab"}, // "ann" < "b", and "Bob" < "b" in byte order
		{`status = 401 or user = "carol"`, "ac"},
		{`(status = 401 or user = "carol") and bytes = ""`, "c"},
		{`_raw = "b"`, "b"},
		{`_messageTime > 0`, ""}, // no time: _messageTime is missing
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			res := run(t, "| where "+tt.where, recs)
			if got := strings.Join(messages(res), ""); got != tt.want {
				t.Errorf("where %s passes %q, want %q", tt.where, got, tt.want)
			}
		})
	}
}

func TestAggregates(t *testing.T) {
	recs := accessLog(
		"GET /a from 203.0.113.7 status=200 bytes=100",
		"GET /b from 203.0.113.7 status=404 bytes=300",
		"GET /c from 198.51.100.23 status=200 bytes=50",
		"GET /d from 198.51.100.23 status=200 bytes=-",
		"GET /e from 192.0.2.1 status=500 bytes=7.5 | prod/web web-2",
	)
	const p = `| parse "from * status=* bytes=*" as ip, status, bytes `
	tests := []struct {
		src  string
		cols []string
		rows []map[string]any
	}{
		{p + "| count", []string{"_count"}, []map[string]any{{"_count": int64(5)}}},
		{p + "| count as n", []string{"n"}, []map[string]any{{"n": int64(5)}}},
		{p + "| count by status", []string{"status", "_count"}, []map[string]any{
			{"status": "200", "_count": int64(3)}, {"status": "404", "_count": int64(1)}, {"status": "500", "_count": int64(1)},
		}},
		{p + "| count by ip, status | sort by ip asc, status desc", []string{"ip", "status", "_count"}, []map[string]any{
			{"ip": "192.0.2.1", "status": "500", "_count": int64(1)},
			{"ip": "198.51.100.23", "status": "200", "_count": int64(2)},
			{"ip": "203.0.113.7", "status": "404", "_count": int64(1)},
			{"ip": "203.0.113.7", "status": "200", "_count": int64(1)},
		}},
		// bytes=- is not a number: sum, avg, min and max skip it; count does not.
		{p + "| sum(bytes), avg(bytes), min(bytes), max(bytes), count by ip", []string{"ip", "_sum", "_avg", "_min", "_max", "_count"}, []map[string]any{
			{"ip": "203.0.113.7", "_sum": int64(400), "_avg": int64(200), "_min": int64(100), "_max": int64(300), "_count": int64(2)},
			{"ip": "198.51.100.23", "_sum": int64(50), "_avg": int64(50), "_min": int64(50), "_max": int64(50), "_count": int64(2)},
			{"ip": "192.0.2.1", "_sum": 7.5, "_avg": 7.5, "_min": 7.5, "_max": 7.5, "_count": int64(1)},
		}},
		{p + "| where bytes = \"-\" | sum(bytes) as total, avg(bytes) as mean, max(bytes)", []string{"total", "mean", "_max"}, []map[string]any{
			{"total": int64(0), "mean": nil, "_max": nil},
		}},
		{p + "| count by _sourceHost", []string{"_sourceHost", "_count"}, []map[string]any{
			{"_sourceHost": "web-1", "_count": int64(4)}, {"_sourceHost": "web-2", "_count": int64(1)},
		}},
		// A field some records lack groups them under "".
		{`| parse "status=404 *" as rest nodrop | count by rest`, []string{"rest", "_count"}, []map[string]any{
			{"rest": "", "_count": int64(4)}, {"rest": "bytes=300", "_count": int64(1)},
		}},
		// Operators after an aggregate work on its rows.
		{p + "| count by ip, status | count as statuses by ip | where statuses > 1", []string{"ip", "statuses"}, []map[string]any{
			{"ip": "203.0.113.7", "statuses": int64(2)},
		}},
		{p + "| sum(bytes) as b by ip | sort by b | limit 2 | fields ip", []string{"ip"}, []map[string]any{
			{"ip": "203.0.113.7"}, {"ip": "198.51.100.23"},
		}},
		{p + "| count by ip | fields - _count | parse field=ip \"*.*.*.*\" as a, b, c, d | fields a, d", []string{"a", "d"}, []map[string]any{
			{"a": "203", "d": "7"}, {"a": "198", "d": "23"}, {"a": "192", "d": "1"},
		}},
		{p + "| limit 2 | count", []string{"_count"}, []map[string]any{{"_count": int64(2)}}},
		{p + "| count by ip | where ip matches \"203.*\" or _count < 2", []string{"ip", "_count"}, []map[string]any{
			{"ip": "203.0.113.7", "_count": int64(2)}, {"ip": "192.0.2.1", "_count": int64(1)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			res := run(t, tt.src, recs)
			if !res.Aggregate || res.Messages != nil {
				t.Errorf("Aggregate %v with %d messages, want an aggregate", res.Aggregate, len(res.Messages))
			}
			if !cmp.Equal(res.Columns, tt.cols) {
				t.Errorf("Columns %v, want %v", res.Columns, tt.cols)
			}
			if diff := cmp.Diff(tt.rows, res.Rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmptyInput(t *testing.T) {
	tests := []struct {
		src  string
		rows []map[string]any
	}{
		{`error`, nil},
		{`error | count`, []map[string]any{{"_count": int64(0)}}}, // one row: count is 0
		{`error | sum(x), avg(x), min(x)`, []map[string]any{{"_sum": int64(0), "_avg": nil, "_min": nil}}},
		{`error | count by ip`, []map[string]any{}},
		{`error | count | where _count > 0`, []map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			res := run(t, tt.src, nil)
			if res.Scanned != 0 || res.Matched != 0 || len(res.Messages) != 0 {
				t.Errorf("Scanned %d, Matched %d, %d messages; want nothing", res.Scanned, res.Matched, len(res.Messages))
			}
			if diff := cmp.Diff(tt.rows, res.Rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupCap(t *testing.T) {
	var lines []string
	for i := range 50 {
		for range i%3 + 1 {
			lines = append(lines, fmt.Sprintf("GET / from 10.0.0.%d", i))
		}
	}
	recs := accessLog(lines...)
	res := runWith(t, `| parse "from *" as ip | count by ip | sort by ip asc`, query.Options{MaxGroups: 10}, recs)
	if !res.Truncated || len(res.Rows) != 10 {
		t.Fatalf("Truncated %v with %d rows, want true and 10", res.Truncated, len(res.Rows))
	}
	counted := 0
	for _, r := range res.Rows {
		counted += int(r["_count"].(int64))
	}
	if counted+res.Uncounted != len(lines) || res.Matched != len(lines) {
		t.Errorf("%d counted + %d uncounted, Matched %d; want %d in all", counted, res.Uncounted, res.Matched, len(lines))
	}
	// The first ten addresses read are the groups kept, with full counts.
	if r := res.Rows[0]; r["ip"] != "10.0.0.0" || r["_count"] != int64(1) {
		t.Errorf("first row %v, want 10.0.0.0 counted once", r)
	}
	// The default cap holds 10,000 groups.
	lines = lines[:0]
	for i := range 10_001 {
		lines = append(lines, fmt.Sprintf("from 10.%d.%d.%d", i>>16, i>>8&255, i&255))
	}
	res = run(t, `| parse "from *" as ip | count by ip`, accessLog(lines...))
	if len(res.Rows) != query.DefaultMaxGroups || !res.Truncated || res.Uncounted != 1 {
		t.Errorf("%d rows, Truncated %v, Uncounted %d; want %d, true, 1", len(res.Rows), res.Truncated, res.Uncounted, query.DefaultMaxGroups)
	}
	// Every aggregate has the cap; here the first one leaves out all but
	// the 1+2+3+1+2 records of its first five groups.
	res = runWith(t, `| parse "from *" as ip | count by ip | count as n by _count`, query.Options{MaxGroups: 5}, recs)
	if len(res.Rows) != 3 || !res.Truncated || res.Uncounted != len(recs)-9 {
		t.Errorf("%d rows, Truncated %v, Uncounted %d; want 3, true, %d", len(res.Rows), res.Truncated, res.Uncounted, len(recs)-9)
	}
	res = runWith(t, `| parse "from *" as ip | count by ip | count as n by ip`, query.Options{MaxGroups: 5}, recs)
	if len(res.Rows) != 5 || res.Uncounted != len(recs)-9 {
		t.Errorf("%d rows, Uncounted %d; want 5, %d", len(res.Rows), res.Uncounted, len(recs)-9)
	}
}

func TestMessages(t *testing.T) {
	var lines []string
	for i := range 250 {
		lines = append(lines, fmt.Sprintf("GET /item/%d from 203.0.113.%d status=%d", i, i%7, 200+i%3))
	}
	recs := accessLog(lines...) // newest first

	t.Run("first MaxMessages in reading order", func(t *testing.T) {
		res := run(t, `GET`, recs)
		if res.Matched != 250 || len(res.Messages) != query.DefaultMaxMessages {
			t.Fatalf("Matched %d with %d messages, want 250 and %d", res.Matched, len(res.Messages), query.DefaultMaxMessages)
		}
		if res.Messages[0].Message != lines[0] || !res.Messages[0].Time.Equal(t0) {
			t.Errorf("first message %q at %v, want the newest", res.Messages[0].Message, res.Messages[0].Time)
		}
		res = runWith(t, `GET`, query.Options{MaxMessages: 3}, recs)
		if diff := cmp.Diff(lines[:3], messages(res)); diff != "" || res.Matched != 250 {
			t.Errorf("Matched %d, messages (-want +got):\n%s", res.Matched, diff)
		}
	})
	t.Run("limit stops reading", func(t *testing.T) {
		res := run(t, `status=202 | limit 5`, recs)
		if res.Matched != 0 {
			t.Errorf("status=202 is a field filter and these records have no status field; Matched %d", res.Matched)
		}
		res = run(t, `"status=202" | limit 5`, recs)
		if res.Matched != 5 || len(res.Messages) != 5 || res.Scanned != 15 {
			t.Errorf("Matched %d, %d messages, Scanned %d; want 5, 5, 15", res.Matched, len(res.Messages), res.Scanned)
		}
	})
	t.Run("sort keeps the top", func(t *testing.T) {
		res := runWith(t, `| parse "/item/* " as n | sort by n | limit 4`, query.Options{MaxMessages: 3}, recs)
		want := []string{lines[249], lines[248], lines[247]}
		if diff := cmp.Diff(want, messages(res)); diff != "" || res.Matched != 4 {
			t.Errorf("Matched %d (want 4), messages (-want +got):\n%s", res.Matched, diff)
		}
		res = run(t, `| sort by _messageTime asc | limit 2`, recs)
		if diff := cmp.Diff([]string{lines[249], lines[248]}, messages(res)); diff != "" {
			t.Errorf("oldest first (-want +got):\n%s", diff)
		}
		// Ties keep reading order.
		res = runWith(t, `| parse "status=*" as status | sort by status asc`, query.Options{MaxMessages: 3}, recs)
		if diff := cmp.Diff([]string{lines[0], lines[3], lines[6]}, messages(res)); diff != "" || res.Matched != 250 {
			t.Errorf("Matched %d, messages (-want +got):\n%s", res.Matched, diff)
		}
	})
	t.Run("fields", func(t *testing.T) {
		res := runWith(t, `| parse "/item/* from * status=*" as n, ip, status`, query.Options{MaxMessages: 1}, recs)
		want := map[string]string{
			"_sourceCategory": "prod/web", "_sourceHost": "web-1", "_sourceName": "/var/log/nginx/access.log",
			"n": "0", "ip": "203.0.113.0", "status": "200",
		}
		if diff := cmp.Diff(want, res.Messages[0].Fields); diff != "" || !cmp.Equal(res.Columns, []string{"n", "ip", "status"}) {
			t.Errorf("Columns %v, fields (-want +got):\n%s", res.Columns, diff)
		}
		res = runWith(t, `| parse "/item/* from * status=*" as n, ip, status | fields ip, _sourceHost`, query.Options{MaxMessages: 1}, recs)
		want = map[string]string{"_sourceHost": "web-1", "ip": "203.0.113.0"}
		if diff := cmp.Diff(want, res.Messages[0].Fields); diff != "" || !cmp.Equal(res.Columns, []string{"ip", "_sourceHost"}) {
			t.Errorf("Columns %v, fields (-want +got):\n%s", res.Columns, diff)
		}
		res = runWith(t, `| parse "/item/* from * status=*" as n, ip, status | fields - n, _sourceName`, query.Options{MaxMessages: 1}, recs)
		want = map[string]string{"_sourceCategory": "prod/web", "_sourceHost": "web-1", "ip": "203.0.113.0", "status": "200"}
		if diff := cmp.Diff(want, res.Messages[0].Fields); diff != "" || !cmp.Equal(res.Columns, []string{"ip", "status"}) {
			t.Errorf("Columns %v, fields (-want +got):\n%s", res.Columns, diff)
		}
	})
	t.Run("the caller's fields are not changed", func(t *testing.T) {
		res := runWith(t, `| parse "from *" as ip`, query.Options{MaxMessages: 1}, recs)
		res.Messages[0].Fields["ip"] = "changed"
		if _, ok := recs[0].Fields["ip"]; ok || len(recs[0].Fields) != 3 {
			t.Errorf("record fields changed: %v", recs[0].Fields)
		}
	})
}

func TestRunStops(t *testing.T) {
	q := mustParse(t, `| count`)
	t.Run("reader error", func(t *testing.T) {
		boom := errors.New("disk on fire")
		n := 0
		_, err := q.Run(context.Background(), func() (query.Record, bool, error) {
			n++
			if n == 3 {
				return query.Record{}, false, boom
			}
			return query.Record{Message: "x"}, true, nil
		})
		if !errors.Is(err, boom) {
			t.Errorf("Run error %v, want it to wrap %v", err, boom)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		_, err := q.Run(ctx, func() (query.Record, bool, error) {
			if n++; n == 5000 {
				cancel()
			}
			return query.Record{Message: "x"}, true, nil // endless
		})
		if !errors.Is(err, context.Canceled) || n > 10_000 {
			t.Errorf("Run error %v after %d records, want context.Canceled soon after 5000", err, n)
		}
	})
}

// TestConcurrentRuns runs one Query from several goroutines: each Run keeps
// its own state (run with -race).
func TestConcurrentRuns(t *testing.T) {
	var lines []string
	for i := range 2000 {
		lines = append(lines, fmt.Sprintf(`{"ip":"10.0.0.%d","bytes":%d}`, i%13, i))
	}
	recs := accessLog(lines...)
	q := mustParse(t, `| json "ip", "bytes" | where bytes >= 100 | limit 1500 | sum(bytes) as b, count by ip | sort by b | limit 3`)
	want, err := q.Run(context.Background(), query.Records(recs))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			res, err := q.Run(context.Background(), query.Records(recs))
			if err == nil && !cmp.Equal(res, want) {
				err = fmt.Errorf("result differs:\n%s", cmp.Diff(want, res))
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if len(want.Rows) != 3 || want.Matched != 1500 || want.Scanned != 1600 {
		t.Errorf("%d rows, Matched %d, Scanned %d; want 3, 1500, 1600", len(want.Rows), want.Matched, want.Scanned)
	}
}

// TestReusedFieldsMap gives every record the same Fields map, refilled, as
// a store's reader may: the results must not change.
func TestReusedFieldsMap(t *testing.T) {
	recs := accessLog("GET / from 10.0.0.1 | a h1", "GET / from 10.0.0.2 | b h2", "GET / from 10.0.0.3 | a h3")
	shared := map[string]string{}
	i := 0
	next := func() (query.Record, bool, error) {
		if i == len(recs) {
			return query.Record{}, false, nil
		}
		clear(shared)
		for k, v := range recs[i].Fields {
			shared[k] = v
		}
		r := recs[i]
		r.Fields = shared
		i++
		return r, true, nil
	}
	for _, src := range []string{`| count by _sourceCategory, _sourceHost`, `| sort by _sourceHost asc`, `GET`} {
		i = 0
		got, err := mustParse(t, src).Run(context.Background(), next)
		if err != nil {
			t.Fatal(err)
		}
		if want := run(t, src, recs); !cmp.Equal(got, want) {
			t.Errorf("%s with a shared map (-want +got):\n%s", src, cmp.Diff(want, got))
		}
	}
}
