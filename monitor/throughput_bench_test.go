//go:build unix

package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/monitor"
	"github.com/hookline/hookline/sqlite"
)

// benchWindow is the window of the benchmark's monitors; they are
// evaluated every minute.
const benchWindow = 5 * time.Minute

// benchMonitors are the queries of the benchmark's monitors, taken in
// turn: what monitors of web traffic typically ask, each restricted to a
// category as monitors usually are, and the share of the window's lines
// that category holds (prod/web 60 %, prod/auth 10 %, prod/api 25 %).
var benchMonitors = []struct {
	query  string
	group  []string
	field  string
	thresh float64
}{
	{`_sourceCategory=prod/web " 500 " | count`, nil, "_count", 1e6},
	{`_sourceCategory=prod/auth "POST /login" " 401 " | parse "* - - [" as ip | count by ip | where _count > 5`, []string{"ip"}, "_count", 20},
	{`_sourceCategory=prod/api | json "status", "latency_ms" as status, ms | where status >= 500 | count, avg(ms)`, nil, "_count", 1e6},
	{`_sourceCategory=prod/web | parse "* - - [" as ip | count by ip | sort by _count | limit 10`, []string{"ip"}, "_count", 1e6},
}

// accessLines draws n log lines evenly spaced over [from, from+span), as the
// search benchmark's corpus (sqlite/logquery_bench_test.go) does: nginx
// access lines from 20,000 addresses, one in 50 from 203.0.113.7, and JSON
// lines in prod/api.
func accessLines(rng *rand.Rand, from time.Time, span time.Duration, n int) []hookline.LogRecord {
	recs := make([]hookline.LogRecord, n)
	for i := range recs {
		at := from.Add(time.Duration(i) * span / time.Duration(n))
		ip := "203.0.113.7"
		if rng.IntN(50) != 0 {
			a := rng.IntN(20_000)
			ip = "10.0." + strconv.Itoa(a/250) + "." + strconv.Itoa(a%250)
		}
		status := 200
		switch r := rng.IntN(100); {
		case r < 1:
			status = 500
		case r < 6:
			status = 404
		case r < 30:
			status = 401 // only prod/auth lines say so
		}
		rec := hookline.LogRecord{Time: at, ReceivedAt: at, SourceID: "bench", Name: "/var/log/nginx/access.log"}
		switch r := rng.IntN(100); {
		case r < 60:
			rec.Category, rec.Host = "prod/web", "web-"+strconv.Itoa(1+rng.IntN(6))
			if status == 401 {
				status = 200
			}
			rec.Message = fmt.Sprintf(`%s - - [%s] "GET /api/orders/%d HTTP/1.1" %d %d "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`,
				ip, at.Format("02/Jan/2006:15:04:05 -0700"), rng.IntN(10_000), status, 200+rng.IntN(20_000))
		case r < 85:
			rec.Category, rec.Host = "prod/api", "api-"+strconv.Itoa(1+rng.IntN(3))
			if status == 401 {
				status = 200
			}
			rec.Message = fmt.Sprintf(`{"timestamp":"%s","level":"info","method":"GET","path":"/api/orders/%d","status":%d,"latency_ms":%d,"client":{"ip":"%s"},"user":"u%04d","msg":"request completed"}`,
				at.Format("2006-01-02T15:04:05.000Z"), rng.IntN(100_000), status, 2+rng.IntN(400), ip, rng.IntN(5000))
		case r < 95:
			rec.Category, rec.Host = "prod/auth", "auth-"+strconv.Itoa(1+rng.IntN(2))
			rec.Message = fmt.Sprintf(`%s - - [%s] "POST /login HTTP/1.1" %d %d "-" "curl/8.5.0"`,
				ip, at.Format("02/Jan/2006:15:04:05 -0700"), status, 200+rng.IntN(2000))
		default:
			rec.Category, rec.Host = "staging/web", "stg-1"
			rec.Message = fmt.Sprintf(`%s - - [%s] "GET / HTTP/1.1" 200 %d "-" "Go-http-client/1.1"`,
				ip, at.Format("02/Jan/2006:15:04:05 -0700"), 200+rng.IntN(2000))
		}
		recs[i] = rec
	}
	return recs
}

// cpuTime is the CPU time the process has used, user and system: the cost
// of an evaluation apart from what else the machine runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// savesCounted is the real store, counting the evaluations saved.
type savesCounted struct {
	*sqlite.DB
	saved chan struct{}
}

func (s *savesCounted) SaveEvaluation(ctx context.Context, owner, id string, windowEnd time.Time, state json.RawMessage, next time.Time) error {
	err := s.DB.SaveEvaluation(ctx, owner, id, windowEnd, state, next)
	s.saved <- struct{}{}
	return err
}

// BenchmarkSchedulerThroughput measures how many monitor evaluations a
// Scheduler completes per minute of wall time, on the real SQLite store
// (monitors, leases, logs, and alerts accepted into the delivery tables by
// AcceptAlerts, as the dispatcher stores them).
//
// Monitors run every minute over the last 5 minutes, their queries taken
// in turn from benchMonitors. One op is one interval: the minute's lines
// are appended (not timed), the fake clock moves one minute, and the op ends
// when every monitor has saved its evaluation; the first op is the first
// interval, Start's claim, over the 5 minutes stored before. Logs arrive
// evenly, so that each window holds the number of lines the name gives
// (100k: 20,000 lines a minute; 5k: 1,000; 0k: none, which leaves the
// scheduler's own work: claims, state, saves). evals/min and ms/eval are of
// wall time; cpu-ms/eval is the process's CPU time per evaluation, which
// other work on the machine stretches less. The 1,000 monitors read half
// the lines per interval (monitors × lines) the 100 read, which keeps the
// default run under two minutes.
func BenchmarkSchedulerThroughput(b *testing.B) {
	for _, c := range []struct {
		monitors, window int
	}{
		{100, 100_000},
		{1000, 5_000},
		{1000, 0}, // the scheduler's own work: claims, saves
	} {
		for _, workers := range []int{1, 4} {
			b.Run(fmt.Sprintf("monitors=%d/lines=%dk/workers=%d", c.monitors, c.window/1000, workers), func(b *testing.B) {
				benchScheduler(b, c.monitors, c.window, workers)
			})
		}
	}
}

func benchScheduler(b *testing.B, monitors, window, workers int) {
	ctx := context.Background()
	kr, err := keyring.New(bytes.Repeat([]byte{5}, keyring.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "hookline.db"), kr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	start := time.Date(2026, 11, 26, 12, 0, 5, 0, time.UTC) // just after a minute
	clk := clock.NewFake(start)
	db.Now = clk.Now
	conn := &hookline.Connection{
		Name: "lambda", WebhookType: "Webhook", URL: "https://example.com/hook",
		DefaultPayload: `{"type": "{{TriggerType}}"}`, Settings: map[string]string{}, Secrets: map[string]string{},
	}
	if err := db.CreateConnection(ctx, conn); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, monitors)
	for i := range ids {
		d := benchMonitors[i%len(benchMonitors)]
		m := &hookline.Monitor{
			Name: fmt.Sprintf("monitor %04d", i), Query: d.query, Interval: time.Minute, Window: benchWindow,
			Triggers:    []hookline.MonitorTrigger{{TriggerType: hookline.TriggerCritical, Field: d.field, ThresholdType: hookline.ThresholdGT, Threshold: d.thresh}},
			GroupFields: d.group,
			Notifications: []hookline.MonitorNotification{{ConnectionID: conn.ID,
				RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical}}},
		}
		if err := monitor.Validate(m); err != nil {
			b.Fatalf("monitor %d: %v", i, err)
		}
		if err := db.CreateMonitor(ctx, m); err != nil {
			b.Fatal(err)
		}
		ids[i] = m.ID
	}

	rng := rand.New(rand.NewPCG(7, 7))
	perMinute := window / int(benchWindow/time.Minute)
	first := start.Truncate(time.Minute) // the first window ends here
	if err := db.AppendLogs(ctx, accessLines(rng, first.Add(-benchWindow), benchWindow, window)); err != nil {
		b.Fatal(err)
	}

	var alerts atomic.Int64
	store := &savesCounted{DB: db, saved: make(chan struct{}, monitors)}
	s := &monitor.Scheduler{
		Monitors: store, Logs: db, Clock: clk, Owner: "bench", Workers: workers, Poll: time.Minute,
		Accept: func(ctx context.Context, as []*hookline.AcceptedAlert) error {
			alerts.Add(int64(len(as)))
			return db.AcceptAlerts(ctx, "", as)
		},
	}
	waitSaved := func() {
		for range monitors {
			<-store.saved
		}
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			b.Error(err)
		}
	})

	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i == 0 {
			c := cpuTime()
			s.Start() // claims at once: the windows ending at first
			waitSaved()
			cpu += cpuTime() - c
			continue
		}
		b.StopTimer()
		minute := first.Add(time.Duration(i-1) * time.Minute)
		if err := db.AppendLogs(ctx, accessLines(rng, minute, time.Minute, perMinute)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c := cpuTime()
		clk.Advance(time.Minute)
		waitSaved()
		cpu += cpuTime() - c
	}
	b.StopTimer()
	evals := float64(monitors) * float64(b.N)
	b.ReportMetric(evals/b.Elapsed().Minutes(), "evals/min")
	b.ReportMetric(b.Elapsed().Seconds()*1000/evals, "ms/eval")
	b.ReportMetric(cpu.Seconds()*1000/evals, "cpu-ms/eval")
	b.ReportMetric(float64(alerts.Load())/float64(b.N), "alerts/op")

	// Every monitor evaluated every window: none was skipped or failed.
	want := first.Add(time.Duration(b.N-1) * time.Minute)
	for _, id := range ids {
		r, err := db.MonitorState(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if !r.WindowEnd.Equal(want) {
			b.Fatalf("monitor %s: last window ends %s, want %s", id, r.WindowEnd.Format(time.TimeOnly), want.Format(time.TimeOnly))
		}
	}
}
