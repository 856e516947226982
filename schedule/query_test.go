package schedule_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/query"
	"github.com/hookline/hookline/schedule"
	"github.com/hookline/hookline/sqlite"
)

// openStore opens a real SQLite store, closed when t ends.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{5}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Query reads the records of [from, to) and the query's categories from a
// real store; Rows and Count shape the result as alerts carry it.
func TestQuery(t *testing.T) {
	db := openStore(t)
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var records []hookline.LogRecord
	for i, r := range []struct {
		cat string
		at  time.Duration
	}{
		{"app", -time.Second}, // before the range
		{"app", 0}, {"app", time.Minute}, {"APP", 2 * time.Minute}, {"web", time.Minute},
		{"app", 5 * time.Minute}, // at its end: outside
	} {
		records = append(records, hookline.LogRecord{SourceID: "src", Time: t0.Add(r.at), ReceivedAt: t0,
			Category: r.cat, Host: "h1", Message: fmt.Sprintf("error %d from 10.0.0.%d", i, i%2)})
	}
	if err := db.AppendLogs(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query     string
		max       int
		wantCount int
		wantRows  string
	}{
		// Newest first: the store reads that way.
		{query: "_sourceCategory=app error", max: 2, wantCount: 3, wantRows: fmt.Sprintf(
			"[map[Message:error 3 from 10.0.0.1 Time:%d _sourceCategory:APP _sourceHost:h1 _sourceName:] "+
				"map[Message:error 2 from 10.0.0.0 Time:%d _sourceCategory:app _sourceHost:h1 _sourceName:]]",
			t0.Add(2*time.Minute).UnixMilli(), t0.Add(time.Minute).UnixMilli())},
		{query: `error | parse "from *" as ip | count by ip | sort by ip asc`, max: 1, wantCount: 2,
			wantRows: "[map[_count:2 ip:10.0.0.0] map[_count:2 ip:10.0.0.1]]"},
		{query: "_sourceCategory=db", max: 10, wantCount: 0, wantRows: "[]"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := query.Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			res, err := schedule.Query(context.Background(), db, q, t0, t0.Add(5*time.Minute), tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if got := schedule.Count(res); got != tc.wantCount {
				t.Errorf("count %d, want %d", got, tc.wantCount)
			}
			if got := fmt.Sprint(schedule.Rows(res)); got != tc.wantRows {
				t.Errorf("rows\n%s\nwant\n%s", got, tc.wantRows)
			}
		})
	}

	// A canceled context ends the scan with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q, _ := query.Parse("error")
	if _, err := schedule.Query(ctx, db, q, t0, t0.Add(5*time.Minute), 10); err == nil {
		t.Error("canceled query: no error")
	}
}

// Pushing a query's keywords and categories down to a real store narrows
// what Run reads, never what it finds: each query's result is the same as
// over every record of the range.
func TestQueryPushdown(t *testing.T) {
	db := openStore(t)
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lines := []struct{ cat, msg string }{
		{"prod/web", `203.0.113.7 "GET /login HTTP/1.1" 200`},
		{"prod/web", `198.51.100.23 "POST /LOGIN HTTP/1.1" 401`},
		{"prod/web", `203.0.113.7 "post /Login HTTP/1.1" 302`},
		{"prod/api", `{"level":"ERROR","msg":"connection refused","status":502}`},
		{"prod/api", `{"level":"error","msg":"Connection  refused"}`},
		{"prod/api", `{"level":"warn","msg":"CONNECTION REFUSED by upstream","status":503}`},
		{"prod/api", `{"level":"info","msg":"connection accepted"}`},
		{"prod/db", "ERROR: statement timeout"},
		{"prod/db", "error: deadlock detected; timeout"},
		{"prod/db", "WARN slow query 50% of budget user_id=7"},
		{"prod/db", `WARN slow query 50x of budget userXid=7 C:\temp`},
		{"stage/web", "Über-Fehler: ÜBER timeout"},
		{"stage/web", "über fehler"},
		{"stage/web", "null\x00byte then an Error after it"},
		{"stage/web", ""},
	}
	var records []hookline.LogRecord
	for i := range 300 { // several pages of the store's scan
		l := lines[i%len(lines)]
		records = append(records, hookline.LogRecord{SourceID: "src", Time: t0.Add(time.Duration(i) * time.Second), ReceivedAt: t0,
			Category: l.cat, Host: fmt.Sprintf("h%d", i%3), Message: l.msg})
	}
	if err := db.AppendLogs(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	from, to := t0.Add(10*time.Second), t0.Add(290*time.Second)
	for _, tc := range []struct {
		query    string
		keywords []string // what Terms pushes down
	}{
		{"login", []string{"login"}},
		{"LOGIN post", []string{"LOGIN", "post"}},
		{`"connection refused"`, []string{"connection refused"}},
		{`"Connection Refused" | json "status" | count by status`, []string{"Connection Refused"}},
		{"error timeout", []string{"error", "timeout"}},
		{"error OR warn", nil},
		{"NOT error", nil},
		{"error NOT timeout", []string{"error"}},
		{"(error OR warn) refused", []string{"refused"}},
		{"_sourceCategory=prod/* error", []string{"error"}},
		{"_sourceCategory=prod/db OR error", nil},
		{"conn*refused", []string{"conn", "refused"}},
		{`"50%"`, []string{"50%"}},
		{"user_id", []string{"user_id"}},
		{`"C:\temp"`, []string{`C:\temp`}},
		{"über", nil},
		{"fehler timeout", []string{"fehler", "timeout"}},
		{"byte error", []string{"byte", "error"}},
		{`error | parse "ERROR: *" as what | count by what`, []string{"error"}},
		{`"GET /login" | count by _sourceHost`, []string{"GET /login"}},
		{"a b c d e f g h i j k l m n o p q r", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r"}},
		{"*", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := query.Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Terms().Keywords; !slices.Equal(got, tc.keywords) {
				t.Fatalf("Terms().Keywords = %q; want %q", got, tc.keywords)
			}
			scan := schedule.Scan(q, from, to)
			if want := hookline.ScanKeywords(tc.keywords); !slices.Equal(scan.Keywords, want) {
				t.Errorf("Scan's keywords %q; want %q", scan.Keywords, want)
			}
			pushed, err := schedule.Query(context.Background(), db, q, from, to, 1000)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := runOver(db, q, hookline.LogScan{From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(schedule.Rows(pushed)), fmt.Sprint(schedule.Rows(whole)); pushed.Matched != whole.Matched || got != want {
				t.Errorf("with pushdown %d matched, without %d; the rows are the same: %v", pushed.Matched, whole.Matched, got == want)
			}
			// The pushdown filters: Run reads only what can match.
			if len(scan.Keywords) > 0 || len(scan.Categories) > 0 {
				if pushed.Scanned >= whole.Scanned {
					t.Errorf("with pushdown Run read %d records, without %d", pushed.Scanned, whole.Scanned)
				}
			} else if pushed.Scanned != whole.Scanned {
				t.Errorf("nothing to push down, yet Run read %d records, not %d", pushed.Scanned, whole.Scanned)
			}
		})
	}
}

// runOver runs q over what scan selects, as Query does but with the scan
// given.
func runOver(logs hookline.LogStore, q *query.Query, scan hookline.LogScan) (*query.Result, error) {
	var recs []query.Record
	err := logs.ScanLogs(context.Background(), scan, func(lr hookline.LogRecord) error {
		recs = append(recs, query.Record{Time: lr.Time, Message: lr.Message,
			Fields: map[string]string{"_sourceCategory": lr.Category, "_sourceHost": lr.Host, "_sourceName": lr.Name}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return q.RunWith(context.Background(), query.Options{MaxMessages: 1000}, func() (query.Record, bool, error) {
		if len(recs) == 0 {
			return query.Record{}, false, nil
		}
		r := recs[0]
		recs = recs[1:]
		return r, true, nil
	})
}
