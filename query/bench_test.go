package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hookline/hookline/query"
)

const benchLines = 1_000_000

// syntheticLog makes n access-log records, newest first: 4/5 GET, the rest
// POST; 9/10 in category web, the rest api; addresses drawn from 20,000,
// with 203.0.113.7 sending one request in 50. Each record has its own Fields
// map, as records read from a store do.
func syntheticLog(n int) []query.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/login", "/api/orders", "/api/orders/42", "/static/app.js", "/search?q=shoes", "/"}
	recs := make([]query.Record, n)
	for i := range recs {
		ip := fmt.Sprintf("10.0.%d.%d", rng.IntN(80), rng.IntN(250))
		if i%50 == 0 {
			ip = "203.0.113.7"
		}
		method := "GET"
		if rng.IntN(5) == 0 {
			method = "POST"
		}
		cat := "web"
		if rng.IntN(10) == 0 {
			cat = "api"
		}
		recs[i] = query.Record{
			Time:    time.Unix(1_770_000_000, 0).Add(-time.Duration(i) * time.Millisecond),
			Message: method + " " + paths[rng.IntN(len(paths))] + " from " + ip,
			Fields: map[string]string{
				"_sourceCategory": cat,
				"_sourceHost":     fmt.Sprintf("web-%d", i%4),
				"_sourceName":     "/var/log/nginx/access.log",
			},
		}
	}
	return recs
}

// BenchmarkRun runs queries over 1,000,000 records generated before the
// timer starts; one op is one pass over all of them.
func BenchmarkRun(b *testing.B) {
	recs := syntheticLog(benchLines)
	for _, bm := range []struct{ name, src string }{
		{"example", `_sourceCategory=web "GET" | parse "* from *" as req, ip | count by ip | where _count > 100 | sort by _count`},
		{"keywords", `_sourceCategory=web "POST" /api/orders NOT 203.0.113.7`},
		{"where", `| parse "* * from *" as method, path, ip | where path matches "/api/*" and method != "GET" | count by path, method`},
	} {
		b.Run(bm.name, func(b *testing.B) {
			q, err := query.Parse(bm.src)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			res, err := q.Run(ctx, query.Records(recs))
			if err != nil || res.Matched == 0 {
				b.Fatalf("Run: %v; %d matched", err, res.Matched)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := q.Run(ctx, query.Records(recs)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(benchLines)/float64(b.N), "ns/line")
		})
	}
}
