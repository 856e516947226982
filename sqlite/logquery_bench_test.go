//go:build unix

package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/query"
	"github.com/hookline/hookline/schedule"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/storetest"
)

// The search benchmark's store: an hour of 1,000,000 lines, ingested in
// requests of 1,000 as the HTTP receiver stores them.
const (
	corpusLines = 1_000_000
	corpusBatch = 1000
	corpusSpan  = time.Hour
)

// corpusEnd is the end of the corpus's hour; searches end there.
var corpusEnd = time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)

// corpusMix is how the corpus's lines divide between categories, in
// percent, and the hosts that send each.
var corpusMix = []struct {
	category string
	percent  int
	hosts    []string
}{
	{"prod/web", 60, []string{"web-1", "web-2", "web-3", "web-4", "web-5", "web-6"}},
	{"prod/api", 25, []string{"api-1", "api-2", "api-3"}}, // JSON lines
	{"prod/auth", 10, []string{"auth-1", "auth-2"}},
	{"staging/web", 5, []string{"stg-1"}},
}

// corpus draws the corpus's lines in time order, reproducibly: nginx access
// lines (combined format) from 20,000 client addresses, one in 50 from
// 203.0.113.7; prod/api logs JSON instead. Lines are 84 to 200 bytes, 151
// on average.
type corpus struct {
	rng *rand.Rand
	i   int
}

func newCorpus() *corpus { return &corpus{rng: rand.New(rand.NewPCG(6, 1))} }

var (
	webPaths   = []string{"/", "/login", "/api/orders", "/api/orders/%d", "/static/app.js", "/search?q=shoes&page=%d", "/products/%d"}
	userAgents = []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
		"curl/8.5.0",
		"Go-http-client/1.1",
	}
)

// corpusTime is the time of the corpus's line i: evenly spaced over the hour.
func corpusTime(i int) time.Time {
	return corpusEnd.Add(-corpusSpan + time.Duration(i)*(corpusSpan/corpusLines))
}

// next draws the next n records.
func (c *corpus) next(sourceID string, n int) []hookline.LogRecord {
	recs := make([]hookline.LogRecord, n)
	for k := range recs {
		at := corpusTime(c.i)
		c.i++
		r := c.rng.IntN(100)
		mix := corpusMix[0]
		for _, m := range corpusMix {
			if r < m.percent {
				mix = m
				break
			}
			r -= m.percent
		}
		ip := "203.0.113.7"
		if c.rng.IntN(50) != 0 {
			a := c.rng.IntN(20_000)
			ip = "10.0." + strconv.Itoa(a/250) + "." + strconv.Itoa(a%250)
		}
		var msg string
		switch mix.category {
		case "prod/api":
			status, level := 200, "info"
			switch r := c.rng.IntN(100); {
			case r < 2:
				status, level = 500, "error"
			case r < 7:
				status, level = 404, "warn"
			}
			method := "GET"
			if c.rng.IntN(4) == 0 {
				method = "POST"
			}
			msg = fmt.Sprintf(`{"timestamp":"%s","level":"%s","method":"%s","path":"/api/orders/%d","status":%d,"latency_ms":%d,"client":{"ip":"%s"},"user":"u%04d","msg":"request completed"}`,
				at.Format("2006-01-02T15:04:05.000Z"), level, method, c.rng.IntN(100_000), status, 2+c.rng.IntN(400), ip, c.rng.IntN(5000))
		case "prod/auth":
			req, status := "POST /login", 200
			switch r := c.rng.IntN(10); {
			case r < 3:
				status = 401
			case r < 5:
				req = "POST /oauth/token"
			case r < 6:
				req = "GET /logout"
				status = 302
			}
			msg = nginxLine(c.rng, ip, at, req, status)
		default:
			method := "GET"
			if c.rng.IntN(8) == 0 {
				method = "POST"
			}
			path := webPaths[c.rng.IntN(len(webPaths))]
			if len(path) > 2 && path[len(path)-2:] == "%d" {
				path = fmt.Sprintf(path, c.rng.IntN(10_000))
			}
			status := 200
			switch r := c.rng.IntN(200); {
			case r < 2:
				status = 500
			case r < 3:
				status = 502
			case r < 13:
				status = 404
			case r < 25:
				status = 304
			}
			msg = nginxLine(c.rng, ip, at, method+" "+path, status)
		}
		recs[k] = hookline.LogRecord{
			Time: at, ReceivedAt: at, SourceID: sourceID, Category: mix.category,
			Host: mix.hosts[c.rng.IntN(len(mix.hosts))], Name: "/var/log/nginx/access.log", Message: msg,
		}
	}
	return recs
}

func nginxLine(rng *rand.Rand, ip string, at time.Time, req string, status int) string {
	return fmt.Sprintf(`%s - - [%s] "%s HTTP/1.1" %d %d "-" "%s"`,
		ip, at.Format("02/Jan/2006:15:04:05 -0700"), req, status, 200+rng.IntN(20_000), userAgents[rng.IntN(len(userAgents))])
}

// buildCorpus stores the corpus in a new database at path and returns it,
// open, with the time AppendLogs took. The caller closes it.
func buildCorpus(ctx context.Context, path string) (*sqlite.DB, time.Duration, error) {
	kr, err := keyring.New(bytes.Repeat([]byte{1}, keyring.KeySize))
	if err != nil {
		return nil, 0, err
	}
	db, err := sqlite.Open(ctx, path, kr)
	if err != nil {
		return nil, 0, err
	}
	src := storetest.NewSource("nginx", "corpus-token")
	if err := db.CreateSource(ctx, src); err != nil {
		db.Close()
		return nil, 0, err
	}
	var took time.Duration
	c := newCorpus()
	for c.i < corpusLines {
		batch := c.next(src.ID, corpusBatch)
		start := time.Now()
		if err := db.AppendLogs(ctx, batch); err != nil {
			db.Close()
			return nil, 0, err
		}
		took += time.Since(start)
	}
	return db, took, nil
}

// searchStore runs q over scan's records newest first, as the search API and
// the monitor scheduler do: ScanLogs pulled record by record into RunWith.
func searchStore(ctx context.Context, db hookline.LogStore, q *query.Query, scan hookline.LogScan) (*query.Result, error) {
	errStop := errors.New("stop")
	records := func(yield func(query.Record, error) bool) {
		fields := make(map[string]string, 3)
		err := db.ScanLogs(ctx, scan, func(lr hookline.LogRecord) error {
			fields["_sourceCategory"], fields["_sourceHost"], fields["_sourceName"] = lr.Category, lr.Host, lr.Name
			if !yield(query.Record{Time: lr.Time, Message: lr.Message, Fields: fields}, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(query.Record{}, err)
		}
	}
	next, stop := iter.Pull2(iter.Seq2[query.Record, error](records))
	defer stop()
	return q.RunWith(ctx, query.Options{}, func() (query.Record, bool, error) {
		rec, err, ok := next()
		return rec, ok && err == nil, err
	})
}

// searchSQL runs q over the records that one SQL statement selects, newest
// first, with extra conditions on the statement: what a store that pushed
// a query's keywords down into SQL would hand Run.
func searchSQL(ctx context.Context, db *sql.DB, q *query.Query, from, to time.Time, extra string, args ...any) (*query.Result, error) {
	rows, err := db.QueryContext(ctx, `SELECT time, category, host, name, message FROM logs
		WHERE time >= ? AND time < ?`+extra+` ORDER BY time DESC, id DESC`,
		append([]any{from.UnixNano(), to.UnixNano()}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields := make(map[string]string, 3)
	var cat, host, name string
	res, err := q.RunWith(ctx, query.Options{}, func() (query.Record, bool, error) {
		if !rows.Next() {
			return query.Record{}, false, rows.Err()
		}
		var rec query.Record
		var at int64
		if err := rows.Scan(&at, &cat, &host, &name, &rec.Message); err != nil {
			return rec, false, err
		}
		rec.Time = time.Unix(0, at).UTC()
		fields["_sourceCategory"], fields["_sourceHost"], fields["_sourceName"] = cat, host, name
		rec.Fields = fields
		return rec, true, nil
	})
	if err != nil {
		return nil, err
	}
	return res, rows.Close()
}

// cpuTime is the CPU time the process has used, user and system: the cost
// of an op apart from what else the machine runs, which on a shared machine
// stretches the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLogQuery measures search over 1,000,000 lines stored in SQLite.
//
// append-1M is building the store: 1,000 AppendLogs calls of 1,000 lines,
// each its own synchronous commit, one after another (generating the lines
// is not timed). The first store built is the one searched; when
// append-1M is not selected, it is built all the same, once.
//
// The searches run over the whole hour (1h) and over its last 15 minutes
// (15m, 250,000 lines), through ScanLogs and Query.RunWith as the search API
// runs them, with the query's _sourceCategory and keywords pushed down
// (schedule.Scan). lines/s counts the lines in
// the time range, whatever the store skipped; scanned/op the records Run
// read; cpu-ms/op the process's CPU time per op, both cores. The file is in
// the page cache (it was just written): these are warm reads. The variants:
//
//	keyword             "POST /login" | count (8 % of lines)
//	keyword-unpushed    the same without the pushdown: Run drops the other 92 %
//	keyword-rare        "203.0.113.7" | count by _sourceHost (2 % of lines), and
//	keyword-rare-unpushed  without the pushdown
//	keyword-common      "HTTP/1.1" | count (75 % of lines: what the pushdown costs
//	keyword-common-unpushed  when it hardly narrows), and without it
//	top-ips             | parse "* - - [" as ip | count by ip | sort by _count | limit 10
//	category            _sourceCategory=prod/auth " 401 " | count by _sourceHost (10 % of
//	                      lines, 3 % with the keyword)
//	category-unpushed   the same without the pushdown: Run drops the other 97 %
//	json                _sourceCategory=prod/api | json "status", "latency_ms" as status, ms
//	                      | where status >= 500 | count, avg(ms) by status (25 % of lines)
//	keyword-sql         keyword over one plain SQL statement (no paging): the baseline for
//	keyword-sql-like    the same with message LIKE '%POST /login%' in SQL: the least a
//	                    keyword pushdown could cost
func BenchmarkLogQuery(b *testing.B) {
	// The store searched is the first append-1M builds, or one built here
	// when append-1M is not selected; it lives in the parent's directory
	// so that it outlasts append-1M.
	dir := b.TempDir()
	var db *sqlite.DB
	path := filepath.Join(dir, "corpus.db")
	build := func(b *testing.B, path string) (*sqlite.DB, time.Duration) {
		d, took, err := buildCorpus(context.Background(), path)
		if err != nil {
			b.Fatalf("build the corpus: %v", err)
		}
		return d, took
	}
	b.Run("append-1M", func(b *testing.B) {
		var took, cpu time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			p := path
			if db != nil {
				p = filepath.Join(b.TempDir(), fmt.Sprintf("corpus-%d.db", i))
			}
			b.StartTimer()
			c := cpuTime()
			d, t := build(b, p)
			cpu += cpuTime() - c
			took += t
			b.StopTimer()
			if db == nil {
				db = d
			} else if err := d.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(corpusLines)*float64(b.N)/took.Seconds(), "lines/s")
		b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/op")
	})
	if db == nil {
		db, _ = build(b, path)
	}
	b.Cleanup(func() {
		if err := db.Close(); err != nil {
			b.Error(err)
		}
	})
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })

	type variant struct {
		name, src string
		// unpushed leaves _sourceCategory and keywords to Run; sql runs the
		// query over one SQL statement with like, if set, as a condition
		// on message.
		unpushed bool
		sql      bool
		like     string
	}
	variants := []variant{
		{name: "keyword", src: `"POST /login" | count`},
		{name: "keyword-unpushed", src: `"POST /login" | count`, unpushed: true},
		{name: "keyword-rare", src: `"203.0.113.7" | count by _sourceHost`},
		{name: "keyword-rare-unpushed", src: `"203.0.113.7" | count by _sourceHost`, unpushed: true},
		{name: "keyword-common", src: `"HTTP/1.1" | count`},
		{name: "keyword-common-unpushed", src: `"HTTP/1.1" | count`, unpushed: true},
		{name: "top-ips", src: `| parse "* - - [" as ip | count by ip | sort by _count | limit 10`},
		{name: "category", src: `_sourceCategory=prod/auth " 401 " | count by _sourceHost`},
		{name: "category-unpushed", src: `_sourceCategory=prod/auth " 401 " | count by _sourceHost`, unpushed: true},
		{name: "json", src: `_sourceCategory=prod/api | json "status", "latency_ms" as status, ms | where status >= 500 | count, avg(ms) by status`},
		{name: "keyword-sql", src: `"POST /login" | count`, sql: true},
		{name: "keyword-sql-like", src: `"POST /login" | count`, sql: true, like: "%POST /login%"},
	}
	for _, r := range []struct {
		name  string
		span  time.Duration
		lines int
	}{
		{"1h", time.Hour, corpusLines},
		{"15m", 15 * time.Minute, corpusLines / 4},
	} {
		from := corpusEnd.Add(-r.span)
		// Every variant of a range must agree with the first on the
		// answer to the same query: a pushdown narrows what Run reads,
		// never what it finds.
		answers := map[string]*query.Result{}
		for _, v := range variants {
			q, err := query.Parse(v.src)
			if err != nil {
				b.Fatal(err)
			}
			scan := schedule.Scan(q, from, corpusEnd)
			if v.unpushed {
				scan = hookline.LogScan{From: from, To: corpusEnd}
			}
			search := func(ctx context.Context) (*query.Result, error) {
				switch {
				case !v.sql:
					return searchStore(ctx, db, q, scan)
				case v.like != "":
					return searchSQL(ctx, raw, q, from, corpusEnd, ` AND message LIKE ?`, v.like)
				default:
					return searchSQL(ctx, raw, q, from, corpusEnd, ``)
				}
			}
			b.Run(r.name+"/"+v.name, func(b *testing.B) {
				res, err := search(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Rows) == 0 || res.Matched == 0 {
					b.Fatalf("%s: no rows (%d scanned); the benchmark measures nothing", v.src, res.Scanned)
				}
				if want, ok := answers[v.src]; !ok {
					answers[v.src] = res
				} else if !reflect.DeepEqual(res.Rows, want.Rows) {
					b.Fatalf("%s: rows %v, want %v as without the pushdown", v.src, res.Rows, want.Rows)
				}
				b.ResetTimer()
				cpu := cpuTime()
				for b.Loop() {
					if _, err := search(b.Context()); err != nil {
						b.Fatal(err)
					}
				}
				cpu = cpuTime() - cpu
				b.ReportMetric(float64(r.lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
				b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(res.Scanned), "scanned/op")
			})
		}
	}
}
