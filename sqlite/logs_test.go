package sqlite_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/storetest"
)

func TestLogStore(t *testing.T) {
	storetest.TestLogStore(t, func(t *testing.T) storetest.LogStore {
		return MustOpenDB(t)
	})
}

// benchLines are batches of 1,000 lines of about 150 bytes, as an access
// log sends them.
func benchLines(sourceID string, n int, at time.Time) []hookline.LogRecord {
	recs := make([]hookline.LogRecord, n)
	for i := range recs {
		msg := fmt.Sprintf(`203.0.113.%d - - [26/Nov/2026:10:00:00 +0000] "GET /api/v1/orders/%08d?expand=items HTTP/1.1" 200 %d "-" "Mozilla/5.0 (X11; Linux x86_64) curl/8.5"`,
			i%256, i, 512+i%1024)
		recs[i] = hookline.LogRecord{Time: at.Add(time.Duration(i) * time.Microsecond), ReceivedAt: at, SourceID: sourceID,
			Category: "prod/web", Host: "web-1", Name: "access", Message: msg}
	}
	return recs
}

// BenchmarkAppendLogs stores a batch of 1,000 lines of about 150 bytes in
// one synchronous transaction; lines/s is the rate it sustains.
func BenchmarkAppendLogs(b *testing.B) {
	db := MustOpenDB(b)
	src := storetest.NewSource("bench", "bench-token")
	if err := db.CreateSource(b.Context(), src); err != nil {
		b.Fatal(err)
	}
	batch := benchLines(src.ID, 1000, time.Now())
	if n := len(batch[0].Message); n < 140 || n > 160 {
		b.Fatalf("a line is %d bytes; the benchmark is of lines of about 150", n)
	}
	b.SetBytes(int64(len(batch) * len(batch[0].Message)))
	b.ResetTimer()
	for b.Loop() {
		// Later times each batch, as lines arrive: the time index grows
		// at its right edge, as it does in use.
		for i := range batch {
			batch[i].ID = 0
			batch[i].Time = batch[i].Time.Add(time.Second)
		}
		if err := db.AppendLogs(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkScanLogs reads the newest 10,000 of 100,000 stored lines.
func BenchmarkScanLogs(b *testing.B) {
	db := MustOpenDB(b)
	src := storetest.NewSource("bench", "bench-token")
	if err := db.CreateSource(b.Context(), src); err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Hour)
	for i := range 100 {
		if err := db.AppendLogs(b.Context(), benchLines(src.ID, 1000, start.Add(time.Duration(i)*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := db.ScanLogs(b.Context(), hookline.LogScan{Limit: 10_000}, func(r hookline.LogRecord) error {
			if strings.Contains(r.Message, "never there") {
				n++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10_000)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkPruneLogs deletes 50,000 stored lines (ten batches of the
// pruner's size); rows/s is the rate retention removes them.
func BenchmarkPruneLogs(b *testing.B) {
	db := MustOpenDB(b)
	src := storetest.NewSource("bench", "bench-token")
	if err := db.CreateSource(b.Context(), src); err != nil {
		b.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	deleted := int64(0)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for range 50 {
			at = at.Add(time.Second)
			if err := db.AppendLogs(b.Context(), benchLines(src.ID, 1000, at)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		n, err := db.PruneLogs(b.Context(), at.Add(time.Hour))
		if err != nil || n != 50_000 {
			b.Fatalf("PruneLogs deleted %d: %v", n, err)
		}
		deleted += n
	}
	b.ReportMetric(float64(deleted)/b.Elapsed().Seconds(), "rows/s")
}
