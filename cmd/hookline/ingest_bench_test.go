package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// accessLines returns n lines of about 150 bytes, as an nginx access log
// writes them.
func accessLines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `203.0.113.%d - - [26/Nov/2026:10:00:00 +0000] "GET /api/v1/orders/%08d?expand=items HTTP/1.1" 200 %d "-" "Mozilla/5.0 (X11; Linux x86_64) curl/8.5"`+"\n",
			i%256, i, 512+i%1024)
	}
	return b.Bytes()
}

// jsonLines returns n JSON lines of about 150 bytes with a timestamp each,
// in milliseconds from start.
func jsonLines(n int, start int64) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"timestamp": %d, "ip": "203.0.113.%d", "method": "GET", "path": "/api/v1/orders/%08d", "status": 200, "bytes": %d, "ua": "curl/8.5"}`+"\n",
			start+int64(i), i%256, i, 512+i%1024)
	}
	return b.Bytes()
}

// BenchmarkIngest measures the receiver end to end: requests of log lines
// POSTed over keep-alive connections to the whole program (hookline serve
// on 127.0.0.1, embedded SQLite with a synchronous commit per request),
// answered once the lines are stored. One op is one request; lines/s is
// the rate of lines stored. The clients run on the same cores.
//
//	go test -run '^$' -bench Ingest -benchtime 5s ./cmd/hookline
func BenchmarkIngest(b *testing.B) {
	for _, tc := range []struct {
		name        string
		lines       int
		gzip        bool
		json        bool
		parallelism int // clients per core
	}{
		{"batch=1000", 1000, false, false, 2},
		{"batch=1000/gzip", 1000, true, false, 2},
		{"batch=1000/json", 1000, false, true, 2},
		{"batch=100", 100, false, false, 4},
		{"batch=1", 1, false, false, 8},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := startServer(b)
			src := &hookline.Source{Name: "bench", Category: "prod/web", TokenHash: hookline.SourceTokenHash("bench-token")}
			if err := srv.main.DB.CreateSource(b.Context(), src); err != nil {
				b.Fatal(err)
			}
			body := accessLines(tc.lines)
			if tc.json {
				body = jsonLines(tc.lines, time.Now().UnixMilli())
			}
			if n := len(body) / tc.lines; n < 140 || n > 160 {
				b.Fatalf("lines of %d bytes; the benchmark is of lines of about 150", n)
			}
			if tc.gzip {
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				zw.Write(body)
				zw.Close()
				body = buf.Bytes()
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
			url := srv.url + "/receiver/v1/http/bench-token"
			var clock atomic.Int64
			clock.Store(time.Now().UnixMilli())
			b.SetBytes(int64(len(body)))
			b.SetParallelism(tc.parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := body
					if tc.json {
						// Each request's lines later than the last's, as a
						// sender's are: the same times again would insert
						// into the middle of the time index every request.
						body = jsonLines(tc.lines, clock.Add(int64(tc.lines)))
					}
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					if tc.gzip {
						req.Header.Set("Content-Encoding", "gzip")
					}
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					answer, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), fmt.Sprintf(`"accepted": %d`, tc.lines)) {
						b.Errorf("%d %s", resp.StatusCode, answer)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N*tc.lines)/b.Elapsed().Seconds(), "lines/s")
			got, err := srv.main.DB.Source(b.Context(), src.ID)
			if err != nil {
				b.Fatal(err)
			}
			if got.Received < int64(b.N*tc.lines) {
				b.Fatalf("the source counted %d lines; %d were accepted", got.Received, b.N*tc.lines)
			}
		})
	}
}
