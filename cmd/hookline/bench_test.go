package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/bench"
	"github.com/hookline/hookline/postgres/pgtest"
)

// TestBenchHarness runs the load harness small, so CI proves it measures
// what it claims: every accepted alert arrives once, signed and verified.
func TestBenchHarness(t *testing.T) {
	srv := startServer(t)
	res, err := bench.Run(context.Background(), bench.Config{
		Servers: []string{srv.url}, Token: testToken, Alerts: 600, Batch: 50, Concurrency: 4, Verify: true, Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 600 || res.Delivered != 600 || res.Lost != 0 || res.Duplicates != 0 || res.Refused != 0 {
		t.Fatalf("bench result: %+v", res)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.DeliverPerSec <= 0 {
		t.Errorf("implausible figures: %+v", res)
	}
}

// BenchmarkDeliveries measures end to end: alerts posted to the API in
// batches of 100, stored, signed with SigV4 and delivered to a target on
// 127.0.0.1, all on this machine. b.N alerts per run; it reports
// deliveries per second and the p99 from posting to arrival.
//
//	go test -run '^$' -bench Deliveries -benchtime 50000x ./cmd/hookline
func BenchmarkDeliveries(b *testing.B) {
	for _, tc := range []struct {
		name string
		rate float64
	}{{"unlimited", 0}, {"5000_per_s", 5000}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := startServer(b)
			b.ResetTimer()
			res, err := bench.Run(context.Background(), bench.Config{
				Servers: []string{srv.url}, Token: testToken, Alerts: max(b.N, 100), Batch: 100, Concurrency: 8, Rate: tc.rate,
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if res.Lost != 0 {
				b.Fatalf("%d alerts lost", res.Lost)
			}
			b.ReportMetric(res.DeliverPerSec, "deliveries/s")
			b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
		})
	}
}

// TestBenchReplicas runs hookline bench --replicas 3 on PostgreSQL, small,
// so CI proves the harness starts the replicas on one database, spreads
// the alerts over all three and counts every one delivered, none twice.
func TestBenchReplicas(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	const alerts = 2000
	r := runCLI(t, "", "bench", "--replicas", "3", "--database-url", dbURL,
		"--alerts", strconv.Itoa(alerts), "--batch", "50", "--concurrency", "4", "--timeout", "50s")
	if r.code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "3 Hookline replicas started in this process") {
		t.Errorf("no replicas reported started:\n%s", r.stdout)
	}
	m := regexp.MustCompile(`alerts (\d+), accepted (\d+) \(by server: (\d+) (\d+) (\d+)\), delivered (\d+), lost (\d+), duplicates (\d+)`).
		FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no result with a count per server:\n%s", r.stdout)
	}
	n := make([]int, len(m)-1)
	for i, s := range m[1:] {
		n[i], _ = strconv.Atoi(s)
	}
	if n[0] != alerts || n[1] != alerts || n[5] != alerts || n[6] != 0 || n[7] != 0 {
		t.Errorf("alerts %d, accepted %d, delivered %d, lost %d, duplicates %d; want all %d delivered once",
			n[0], n[1], n[5], n[6], n[7], alerts)
	}
	// 40 batches of 50, round robin: 14, 13 and 13 batches.
	if by := n[2:5]; by[0] != 700 || by[1] != 650 || by[2] != 650 {
		t.Errorf("accepted by server %v, want [700 650 650]", by)
	}
}

// TestBenchFlags checks the flags that choose the servers hookline bench
// starts, before any is started.
func TestBenchFlags(t *testing.T) {
	t.Setenv("HOOKLINE_DATABASE_URL", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--replicas", "3"}, "--replicas 3 needs --database-url"},
		{[]string{"--replicas", "0"}, "--replicas must be 1 or more"},
		{[]string{"--server", "http://127.0.0.1:1", "--replicas", "2"}, "--replicas is for servers started in this process"},
		{[]string{"--server", "http://127.0.0.1:1", "--database-url", "postgres://x@127.0.0.1/db"}, "--database-url is for servers started in this process"},
		{[]string{"--replicas", "2", "--database-url", "mysql://x@127.0.0.1/db"}, "--database-url must be a PostgreSQL URL"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, "", append([]string{"bench", "--alerts", "10"}, tc.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit status %d, stderr %q; want an error saying %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// BenchmarkDeliveriesPostgres is BenchmarkDeliveries on PostgreSQL (the
// pgtest cluster, fsync off), with one replica and with three on one
// database, all in this process: alerts go to the replicas in turn, each
// delivers those it accepted under its lease. On one machine three
// replicas share its cores with each other and PostgreSQL, so the figure
// measures what leasing costs, not what scaling out gains.
//
//	go test -run '^$' -bench DeliveriesPostgres -benchtime 30000x ./cmd/hookline
func BenchmarkDeliveriesPostgres(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas-%d", replicas), func(b *testing.B) {
			srv := &benchServers{Replicas: replicas, DatabaseURL: pgtest.NewDatabase(b), DataDir: b.TempDir(),
				Token: testToken, Logs: &syncBuffer{}}
			urls, err := srv.Start(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(srv.Close)
			b.ResetTimer()
			res, err := bench.Run(context.Background(), bench.Config{
				Servers: urls, Token: testToken, Alerts: max(b.N, 100), Batch: 100, Concurrency: 8,
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if res.Lost != 0 || res.Duplicates != 0 {
				b.Fatalf("%d alerts lost, %d delivered twice", res.Lost, res.Duplicates)
			}
			b.ReportMetric(res.AcceptPerSec, "accepted/s")
			b.ReportMetric(res.DeliverPerSec, "deliveries/s")
			b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
		})
	}
}
