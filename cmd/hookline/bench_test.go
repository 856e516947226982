package main

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline/bench"
)

// TestBenchHarness runs the load harness small, so CI proves it measures
// what it claims: every accepted alert arrives once, signed and verified.
func TestBenchHarness(t *testing.T) {
	srv := startServer(t)
	res, err := bench.Run(context.Background(), bench.Config{
		Server: srv.url, Token: testToken, Alerts: 600, Batch: 50, Concurrency: 4, Verify: true, Timeout: time.Minute,
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
				Server: srv.url, Token: testToken, Alerts: max(b.N, 100), Batch: 100, Concurrency: 8, Rate: tc.rate,
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
