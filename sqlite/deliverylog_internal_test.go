package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/deliverylog"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/storetest"
)

// The delivery page's statements run on every refresh while the log grows:
// they must seek their indexes, never scan or sort the deliveries.
func TestDeliveryPageQueryPlans(t *testing.T) {
	db := rawDB(t)
	if _, err := migrate(t.Context(), db, Migrations(), fixedNow); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query string
		want  []string // each in the plan
		sorts int      // temporary b-trees allowed
	}{
		{"counts", deliveryCountsSQL, []string{
			"SCAN buckets",
			"SEARCH deliveries USING COVERING INDEX deliveries_state (state=? AND created_at>? AND created_at<?)",
		}, 0},
		// The one sort allowed is of the newest delivery of each connection.
		{"latest", latestDeliveriesSQL, []string{
			"SEARCH deliveries USING PRIMARY KEY (id=?)",
			"SCAN connections USING COVERING INDEX sqlite_autoindex_connections_1",
			"SEARCH newest USING COVERING INDEX deliveries_connection (connection_id=?)",
			"SEARCH newest USING COVERING INDEX deliveries_connection (connection_id=?); USE TEMP B-TREE FOR ORDER BY",
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := queryPlan(t, db, tt.query)
			for _, w := range tt.want {
				if !strings.Contains(p, w) {
					t.Errorf("plan: %s\nwant %q", p, w)
				}
			}
			if strings.Contains(p, "SCAN deliveries") || strings.Contains(p, "SCAN newest") || strings.Count(p, "TEMP B-TREE") > tt.sorts {
				t.Errorf("plan: %s\nscans the deliveries or sorts more than %d times", p, tt.sorts)
			}
		})
	}
}

// queryPlan is EXPLAIN QUERY PLAN's details of query, joined by "; ". The
// query's parameters are all ? or all numbered ?1 to ?9.
func queryPlan(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	args := make([]any, strings.Count(query, "?"))
	for n := 9; n >= 1; n-- {
		if strings.Contains(query, fmt.Sprintf("?%d", n)) {
			args = make([]any, n)
			break
		}
	}
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// Alternatives measured against the queries DeliveryCounts and
// LatestDeliveries use (BenchmarkDeliveryPage); results in the report of
// the change that added them.
const (
	// Group the window's rows: found through deliveries_created, each row
	// read from the table for its state, then sorted by group.
	countsGroupByCreatedSQL = `SELECT (created_at - ?1) / ?2, state, COUNT(*) FROM deliveries
		WHERE created_at >= ?1 AND created_at < ?1 + ?2 * ?3 GROUP BY 1, 2`
	// The same from the covering state index, still sorted by group.
	countsGroupByStateSQL = `SELECT (created_at - ?1) / ?2, state, COUNT(*) FROM deliveries
		WHERE state IN ('pending', 'delivered', 'failed', 'dead') AND created_at >= ?1 AND created_at < ?1 + ?2 * ?3 GROUP BY 2, 1`
	// Every distinct connection of the log, one seek each (a loose index
	// scan), deleted connections included.
	latestDistinctSQL = `WITH RECURSIVE conns (cid) AS (
			SELECT MIN(connection_id) FROM deliveries
			UNION ALL
			SELECT (SELECT MIN(connection_id) FROM deliveries WHERE connection_id > cid) FROM conns WHERE cid IS NOT NULL
		)
		SELECT ` + deliveryColumns + ` FROM deliveries WHERE id IN (SELECT (
			SELECT newest.id FROM deliveries AS newest WHERE newest.connection_id = conns.cid
			ORDER BY newest.created_at DESC, newest.id DESC LIMIT 1) FROM conns WHERE cid IS NOT NULL)
		ORDER BY created_at DESC, id DESC`
	// Group the whole connection index.
	latestGroupSQL = `SELECT ` + deliveryColumns + ` FROM deliveries WHERE id IN (
			SELECT id FROM (SELECT id, MAX(created_at) FROM deliveries GROUP BY connection_id))
		ORDER BY created_at DESC, id DESC`
)

// BenchmarkDeliveryPage measures the delivery page's reads on 100,000
// deliveries to 50 connections, accepted over ten days:
//
//	go test ./sqlite -run '^$' -bench DeliveryPage -benchtime 20x
func BenchmarkDeliveryPage(b *testing.B) {
	const (
		conns     = 50
		alerts    = 2000 // one delivery to every connection each
		perBatch  = 10
		span      = 10 * 24 * time.Hour
		batchStep = span / (alerts / perBatch)
	)
	ctx := context.Background()
	kr, err := keyring.New(make([]byte, keyring.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	db, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), kr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := now.Add(-span)
	db.Now = func() time.Time { return at }
	var ids []string
	for i := range conns {
		c := storetest.Connection(fmt.Sprint("bench ", i))
		if err := db.CreateConnection(ctx, c); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	states := []hookline.DeliveryState{hookline.DeliveryDelivered, hookline.DeliveryDelivered, hookline.DeliveryFailed, hookline.DeliveryDead}
	for n := 0; n < alerts; n += perBatch {
		var batch []*hookline.AcceptedAlert
		for i := range perBatch {
			batch = append(batch, storetest.Alert(fmt.Sprint(n+i), at, ids...))
		}
		if err := db.AcceptAlerts(ctx, "", batch); err != nil {
			b.Fatal(err)
		}
		var results []hookline.AttemptResult
		for i, a := range batch {
			for j, d := range a.Deliveries {
				if (i+j)%5 == 4 {
					continue // stays pending
				}
				results = append(results, hookline.AttemptResult{
					Attempt: hookline.DeliveryAttempt{DeliveryID: d.ID, N: 1, StartedAt: at, StatusCode: 200},
					State:   states[(i+j)%4],
				})
			}
		}
		if err := db.RecordAttempts(ctx, "", results); err != nil {
			b.Fatal(err)
		}
		at = at.Add(batchStep)
	}
	at = now

	count := func(b *testing.B, query string, since time.Time, bucket time.Duration) {
		n := int64(now.Sub(since)/bucket) + 1
		for b.Loop() {
			rows, err := db.read.QueryContext(ctx, query, since.UnixNano(), int64(bucket), n)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	// countInGo walks the state index and buckets the times in Go.
	countInGo := func(b *testing.B, since time.Time, bucket time.Duration) {
		for b.Loop() {
			counts := map[[2]int64]int{}
			rows, err := db.read.QueryContext(ctx, `SELECT state, created_at FROM deliveries
				WHERE state IN ('pending', 'delivered', 'failed', 'dead') AND created_at >= ?`, since.UnixNano())
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var state string
				var created int64
				if err := rows.Scan(&state, &created); err != nil {
					b.Fatal(err)
				}
				counts[[2]int64{int64(len(state)), (created - since.UnixNano()) / int64(bucket)}]++
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, w := range []struct {
		name   string
		since  time.Time
		bucket time.Duration
	}{
		{"24h", now.Add(-24 * time.Hour), time.Hour},
		{"10d", now.Add(-span), 30 * time.Minute},
	} {
		b.Run("counts/"+w.name+"/bucket-seeks", func(b *testing.B) {
			got, err := db.DeliveryCounts(ctx, w.since, w.bucket)
			if err != nil {
				b.Fatal(err)
			}
			total := 0
			for _, c := range got {
				total += c.Pending + c.Delivered + c.Failed + c.Dead
			}
			count(b, deliveryCountsSQL, w.since, w.bucket)
			b.ReportMetric(float64(total), "deliveries")
		})
		b.Run("counts/"+w.name+"/group-created", func(b *testing.B) { count(b, countsGroupByCreatedSQL, w.since, w.bucket) })
		b.Run("counts/"+w.name+"/group-state", func(b *testing.B) { count(b, countsGroupByStateSQL, w.since, w.bucket) })
		b.Run("counts/"+w.name+"/in-go", func(b *testing.B) { countInGo(b, w.since, w.bucket) })
	}
	for _, q := range []struct{ name, query string }{
		{"connections", latestDeliveriesSQL},
		{"distinct", latestDistinctSQL},
		{"group", latestGroupSQL},
	} {
		b.Run("latest/"+q.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := db.read.QueryContext(ctx, q.query)
				if err != nil {
					b.Fatal(err)
				}
				list, _, err := listpage.Scan(rows, conns+1, func(s scanner) (*hookline.Delivery, error) { return scanDelivery(s) })
				if err != nil || len(list) != conns {
					b.Fatalf("%d deliveries, %v; want %d", len(list), err, conns)
				}
			}
		})
	}
}

// The delivery log's tokens, as FuzzDeliveryToken reads and writes them
// (package deliverylog).
func encodeDeliveryToken(k deliveryKey) string { return listpage.Encode(k) }

func decodeDeliveryToken(token string) (*deliveryKey, error) {
	return deliverylog.DecodeDeliveryToken(token)
}
