package schedule_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/query"
	"github.com/hookline/hookline/schedule"
	"github.com/hookline/hookline/sqlite"
)

// Query reads the records of [from, to) and the query's categories from a
// real store; Rows and Count shape the result as alerts carry it.
func TestQuery(t *testing.T) {
	kr, err := keyring.New(bytes.Repeat([]byte{5}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
