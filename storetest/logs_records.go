package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

// logBase is a time the record tests build on, with nanoseconds, so that
// a store that rounds times is caught.
var logBase = time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)

func testAppendAndScan(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	other := createSource(t, s, NewSource("Other", "other"))
	cet := time.FixedZone("CET", 3600)
	first := []hookline.LogRecord{
		{Time: logBase.In(cet), ReceivedAt: logBase.Add(time.Second), SourceID: src.ID, Category: "prod/web", Host: "web-1", Name: "access", Message: "GET / 200"},
		{Time: logBase.Add(-time.Hour), ReceivedAt: logBase.Add(time.Second), SourceID: src.ID, Category: "prod/web", Host: "web-2", Name: "access", Message: `{"msg": "older", "ü": "✓"}`},
		{Time: logBase, ReceivedAt: logBase.Add(time.Second), SourceID: other.ID, Message: ""},
	}
	given := slices.Clone(first)
	before := time.Now()
	appendLogs(t, s, first...)
	second := appendLogs(t, s, hookline.LogRecord{Time: logBase, ReceivedAt: logBase.Add(2 * time.Second), SourceID: src.ID, Message: "same time, later"})

	// IDs are filled in and increase in arrival order; nothing else changed
	// but the times' location.
	for i := range first {
		if i > 0 && first[i].ID <= first[i-1].ID {
			t.Errorf("IDs do not increase in arrival order: %d then %d", first[i-1].ID, first[i].ID)
		}
		want := given[i]
		want.ID, want.Time, want.ReceivedAt = first[i].ID, want.Time.UTC(), want.ReceivedAt.UTC()
		if diff := cmp.Diff(want, first[i]); diff != "" {
			t.Errorf("record %d after AppendLogs (-want +got):\n%s", i, diff)
		}
	}
	if second[0].ID <= first[2].ID {
		t.Errorf("a later batch got ID %d, not above %d", second[0].ID, first[2].ID)
	}

	// Newest first; equal times, the last to arrive first.
	got := scanAll(t, s, hookline.LogScan{})
	want := []hookline.LogRecord{second[0], first[2], first[0], first[1]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScanLogs (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if r.Time.Location() != time.UTC || r.ReceivedAt.Location() != time.UTC {
			t.Errorf("record %d's times are not in UTC: %v, %v", r.ID, r.Time, r.ReceivedAt)
		}
	}

	// The sources count what they received.
	for _, c := range []struct {
		src  *hookline.Source
		want int64
	}{{src, 3}, {other, 1}} {
		got := getSource(t, s, c.src.ID)
		if got.Received != c.want {
			t.Errorf("source %s received %d; want %d", c.src.Name, got.Received, c.want)
		}
		checkStoreTime(t, c.src.Name+" LastReceivedAt", got.LastReceivedAt, before, time.Now())
		if !got.ModifiedAt.Equal(c.src.ModifiedAt) {
			t.Errorf("receiving records changed source %s's ModifiedAt", c.src.Name)
		}
	}

	// Changing what was returned changes nothing stored; an empty batch
	// is no error.
	got[0].Message = "changed"
	if again := scanAll(t, s, hookline.LogScan{Limit: 1}); again[0].Message != "same time, later" {
		t.Errorf("a change to a scanned record reached the store: %q", again[0].Message)
	}
	if err := s.AppendLogs(t.Context(), nil); err != nil {
		t.Errorf("AppendLogs(nil): %v", err)
	}
}

func testAppendDefaults(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	before := time.Now()
	recs := appendLogs(t, s,
		hookline.LogRecord{SourceID: src.ID, Message: "no times"},
		hookline.LogRecord{SourceID: src.ID, Time: logBase, Message: "no receive time"},
		hookline.LogRecord{SourceID: src.ID, ReceivedAt: logBase, Message: "no time"},
	)
	after := time.Now()
	checkStoreTime(t, "ReceivedAt", recs[0].ReceivedAt, before, after)
	if !recs[0].Time.Equal(recs[0].ReceivedAt) {
		t.Errorf("Time %v; want ReceivedAt %v", recs[0].Time, recs[0].ReceivedAt)
	}
	checkStoreTime(t, "ReceivedAt", recs[1].ReceivedAt, before, after)
	if !recs[1].Time.Equal(logBase) {
		t.Errorf("a given Time became %v", recs[1].Time)
	}
	if !recs[2].Time.Equal(logBase) || !recs[2].ReceivedAt.Equal(logBase) {
		t.Errorf("Time %v, ReceivedAt %v; want both %v", recs[2].Time, recs[2].ReceivedAt, logBase)
	}
	got := scanAll(t, s, hookline.LogScan{})
	slices.SortFunc(got, func(a, b hookline.LogRecord) int { return int(a.ID - b.ID) })
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("stored records differ from what AppendLogs filled in (-want +got):\n%s", diff)
	}
}

func testAppendInvalid(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	ok := record(src.ID, logBase, "fine")
	tests := []struct {
		field  string
		change func(*hookline.LogRecord)
	}{
		{"records[1].sourceId", func(r *hookline.LogRecord) { r.SourceID = "" }},
		{"records[1].message", func(r *hookline.LogRecord) { r.Message = strings.Repeat("x", hookline.MaxLogMessageBytes+1) }},
		{"records[1].message", func(r *hookline.LogRecord) { r.Message = "bad \xff UTF-8" }},
		{"records[1].category", func(r *hookline.LogRecord) { r.Category = "\xfe" }},
		{"records[1].time", func(r *hookline.LogRecord) { r.Time = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"records[1].receivedAt", func(r *hookline.LogRecord) { r.ReceivedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		bad := ok
		tt.change(&bad)
		batch := []hookline.LogRecord{ok, bad, ok}
		err := s.AppendLogs(t.Context(), batch)
		wantField(t, err, tt.field, "AppendLogs with a bad "+tt.field)
		if batch[0].ID != 0 {
			t.Errorf("a refused batch got IDs")
		}
	}
	if got := scanAll(t, s, hookline.LogScan{}); len(got) != 0 {
		t.Errorf("refused batches stored %d records", len(got))
	}
	if got := getSource(t, s, src.ID); got.Received != 0 {
		t.Errorf("refused batches counted %d records", got.Received)
	}
	// At the limit, fine.
	max := ok
	max.Message = strings.Repeat("é", hookline.MaxLogMessageBytes/2)
	appendLogs(t, s, max)
	if got := scanAll(t, s, hookline.LogScan{}); len(got) != 1 || got[0].Message != max.Message {
		t.Errorf("a record of %d bytes did not come back whole", len(max.Message))
	}
}

// Concurrent calls each get their records stored once, with IDs unique
// and increasing within a call, and every record counted.
func testAppendConcurrent(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	const workers, calls = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	ids := make(chan []int64, workers*calls)
	for w := range workers {
		wg.Go(func() {
			for c := range calls {
				var batch []hookline.LogRecord
				for i := range 1 + (w*calls+c)%17 {
					batch = append(batch, record(src.ID, logBase, fmt.Sprintf("w%d c%d r%d", w, c, i)))
				}
				if err := s.AppendLogs(t.Context(), batch); err != nil {
					errs <- err
					return
				}
				var got []int64
				for _, r := range batch {
					got = append(got, r.ID)
				}
				ids <- got
			}
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	total := 0
	for call := range ids {
		for i, id := range call {
			if seen[id] || id <= 0 || (i > 0 && id <= call[i-1]) {
				t.Fatalf("IDs of one call %v: repeated or not increasing", call)
			}
			seen[id] = true
		}
		total += len(call)
	}
	stored := scanAll(t, s, hookline.LogScan{})
	if len(stored) != total {
		t.Errorf("%d records stored; %d were appended", len(stored), total)
	}
	for _, r := range stored {
		if !seen[r.ID] {
			t.Errorf("stored record %d (%q) was not returned by any call", r.ID, r.Message)
		}
	}
	if got := getSource(t, s, src.ID); got.Received != int64(total) {
		t.Errorf("Received = %d; want %d", got.Received, total)
	}
}

func testScanRange(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	var recs []hookline.LogRecord
	for i := range 10 {
		recs = append(recs, record(src.ID, logBase.Add(time.Duration(i)*time.Minute), fmt.Sprint("m", i)))
	}
	// Far in the past and future, at the edges of what may be stored.
	recs = append(recs, record(src.ID, time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC), "ancient"))
	recs = append(recs, record(src.ID, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), "future"))
	rand.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	appendLogs(t, s, recs...)

	at := func(i int) time.Time { return logBase.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name string
		scan hookline.LogScan
		want []string
	}{
		{"all", hookline.LogScan{}, []string{"future", "m9", "m8", "m7", "m6", "m5", "m4", "m3", "m2", "m1", "m0", "ancient"}},
		{"from is inclusive, to exclusive", hookline.LogScan{From: at(3), To: at(6)}, []string{"m5", "m4", "m3"}},
		{"a nanosecond around", hookline.LogScan{From: at(3).Add(time.Nanosecond), To: at(6).Add(time.Nanosecond)}, []string{"m6", "m5", "m4"}},
		{"from only", hookline.LogScan{From: at(8)}, []string{"future", "m9", "m8"}},
		{"to only", hookline.LogScan{To: at(1)}, []string{"m0", "ancient"}},
		{"limit", hookline.LogScan{From: at(2), Limit: 2}, []string{"future", "m9"}},
		{"limit above the count", hookline.LogScan{From: at(8), Limit: 100}, []string{"future", "m9", "m8"}},
		{"empty range", hookline.LogScan{From: at(5), To: at(5)}, []string{}},
		{"reversed range", hookline.LogScan{From: at(6), To: at(3)}, []string{}},
		{"bounds beyond what is stored", hookline.LogScan{From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
			[]string{"future", "m9", "m8", "m7", "m6", "m5", "m4", "m3", "m2", "m1", "m0", "ancient"}},
		{"another zone", hookline.LogScan{From: at(4).In(time.FixedZone("X", -7*3600)), To: at(5).In(time.FixedZone("Y", 5*3600))}, []string{"m4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := messages(scanAll(t, s, tt.scan)); !slices.Equal(got, tt.want) {
				t.Errorf("ScanLogs(%+v) = %q; want %q", tt.scan, got, tt.want)
			}
		})
	}
	err := s.ScanLogs(t.Context(), hookline.LogScan{Limit: -1}, func(hookline.LogRecord) error { return nil })
	wantField(t, err, "limit", "ScanLogs(limit -1)")
}

func testScanCategories(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	categories := []string{"prod/web", "PROD/Web", "prod/web2", "prod/db", "Prod", "stage/web", "", "préd/web", "PRÉD/web",
		"a%b", "axb", "a_b", "a\\b", "prod/*"}
	var recs []hookline.LogRecord
	for i, c := range categories {
		r := record(src.ID, logBase.Add(time.Duration(i)*time.Second), c)
		r.Category = c
		recs = append(recs, r)
	}
	appendLogs(t, s, recs...)
	patterns := [][]string{
		{"prod/web"}, {"PROD/WEB"}, {"prod/*"}, {"PROD/W*"}, {"*"}, {""}, {"préd/web"}, {"pRéd/*"},
		{"a%b"}, {"a%*"}, {"a_*"}, {"a\\*"}, {"prod/\\*"}, {"prod/db", "stage/*"}, {"nothing"}, {"prod/**"},
	}
	for _, pats := range patterns {
		var want []string
		for i := len(categories) - 1; i >= 0; i-- {
			if slices.ContainsFunc(pats, func(p string) bool { return hookline.MatchCategory(p, categories[i]) }) {
				want = append(want, categories[i])
			}
		}
		got := messages(scanAll(t, s, hookline.LogScan{Categories: pats}))
		if !slices.Equal(got, want) {
			t.Errorf("Categories %q selected %q; want %q (hookline.MatchCategory)", pats, got, want)
		}
	}
	// The reference itself, on the cases the store must agree with.
	for _, c := range []struct {
		pattern, category string
		want              bool
	}{
		{"prod/web", "PROD/WEB", true}, {"prod/*", "prod/", true}, {"prod/*", "prod", false},
		{"préd/web", "PRÉD/web", false}, {"a%b", "axb", false}, {"a_*", "axb", false}, {"*", "", true}, {"", "", true},
	} {
		if got := hookline.MatchCategory(c.pattern, c.category); got != c.want {
			t.Errorf("MatchCategory(%q, %q) = %v; want %v", c.pattern, c.category, got, c.want)
		}
	}
}

// manyRecords is more than any page an engine is likely to read at once.
const manyRecords = 2500

func testScanManyRecords(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	// Times repeat, so that pages end inside a run of equal times.
	var recs []hookline.LogRecord
	for i := range manyRecords {
		r := record(src.ID, logBase.Add(time.Duration(i/7)*time.Millisecond), fmt.Sprint(i))
		if i%3 == 0 {
			r.Category = "prod/db"
		}
		recs = append(recs, r)
	}
	// Appended in batches of several sizes, across more than one insert.
	for start := 0; start < len(recs); {
		n := min(1+start%997, len(recs)-start)
		appendLogs(t, s, recs[start:start+n]...)
		start += n
	}
	check := func(scan hookline.LogScan, keep func(i int) bool) {
		t.Helper()
		var want []string
		for i := len(recs) - 1; i >= 0; i-- {
			if keep(i) {
				want = append(want, recs[i].Message)
			}
		}
		if scan.Limit > 0 && len(want) > scan.Limit {
			want = want[:scan.Limit]
		}
		got := messages(scanAll(t, s, scan))
		if !slices.Equal(got, want) {
			t.Errorf("ScanLogs(%+v): %d records; want %d (first difference at %d)", scan, len(got), len(want), firstDiff(got, want))
		}
	}
	check(hookline.LogScan{}, func(int) bool { return true })
	check(hookline.LogScan{Categories: []string{"prod/web"}}, func(i int) bool { return i%3 != 0 })
	check(hookline.LogScan{Limit: 1001}, func(int) bool { return true })
	// A keyword on more than a page's worth, and one on a few records
	// spread over the whole range.
	check(hookline.LogScan{Keywords: []string{"1"}}, func(i int) bool { return strings.Contains(fmt.Sprint(i), "1") })
	check(hookline.LogScan{Keywords: []string{"99"}, Categories: []string{"prod/db"}}, func(i int) bool {
		return i%3 == 0 && strings.Contains(fmt.Sprint(i), "99")
	})
	check(hookline.LogScan{From: logBase.Add(100 * time.Millisecond), To: logBase.Add(300 * time.Millisecond)}, func(i int) bool {
		return i/7 >= 100 && i/7 < 300
	})
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testScanStops(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	var recs []hookline.LogRecord
	for i := range 50 {
		recs = append(recs, record(src.ID, logBase.Add(time.Duration(i)*time.Second), fmt.Sprint(i)))
	}
	appendLogs(t, s, recs...)
	stop := errors.New("enough")
	n := 0
	err := s.ScanLogs(t.Context(), hookline.LogScan{}, func(hookline.LogRecord) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("ScanLogs whose fn failed at the third record: %v after %d calls; want the very error after 3", err, n)
	}
	// A record appended by fn during the scan is either seen once or not
	// at all, never twice.
	seen := map[string]int{}
	err = s.ScanLogs(t.Context(), hookline.LogScan{}, func(r hookline.LogRecord) error {
		seen[r.Message]++
		if r.Message == "40" {
			return s.AppendLogs(t.Context(), []hookline.LogRecord{record(src.ID, logBase.Add(20*time.Second), "added")})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for m, c := range seen {
		if c != 1 {
			t.Errorf("record %q seen %d times in one scan", m, c)
		}
	}
	err = s.ScanLogs(ctxCanceled(t), hookline.LogScan{}, func(hookline.LogRecord) error { return nil })
	if err == nil {
		t.Error("ScanLogs with a canceled context succeeded")
	}
}

func testPrune(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	// More than one batch of any sensible size, old and new interleaved
	// in arrival order.
	const total = 12_345
	cut := logBase
	var recs []hookline.LogRecord
	wantKept := 0
	for i := range total {
		at := cut.Add(-time.Duration(i+1) * time.Millisecond)
		if i%125 == 0 {
			at = cut.Add(time.Duration(i) * time.Millisecond)
			wantKept++
		}
		recs = append(recs, record(src.ID, at, fmt.Sprint(i)))
	}
	for start := 0; start < len(recs); start += 1000 {
		appendLogs(t, s, recs[start:min(start+1000, len(recs))]...)
	}
	// Exactly at the cut is kept.
	appendLogs(t, s, record(src.ID, cut, "at the cut"))
	wantKept++

	n, err := s.PruneLogs(t.Context(), cut)
	if err != nil {
		t.Fatal(err)
	}
	left := scanAll(t, s, hookline.LogScan{})
	if int(n) != len(recs)+1-wantKept || len(left) != wantKept {
		t.Errorf("PruneLogs deleted %d and left %d; want %d deleted, %d left", n, len(left), len(recs)+1-wantKept, wantKept)
	}
	for _, r := range left {
		if r.Time.Before(cut) {
			t.Errorf("record %q at %v survived pruning before %v", r.Message, r.Time, cut)
		}
	}
	// Nothing more to prune; the counters are not lowered.
	if n, err := s.PruneLogs(t.Context(), cut); n != 0 || err != nil {
		t.Errorf("a second PruneLogs deleted %d, %v", n, err)
	}
	if got := getSource(t, s, src.ID); got.Received != int64(len(recs)+1) {
		t.Errorf("Received = %d after pruning; want %d, the records ever received", got.Received, len(recs)+1)
	}
	if _, err := s.PruneLogs(ctxCanceled(t), cut.Add(time.Hour)); err == nil {
		t.Error("PruneLogs with a canceled context succeeded")
	}
	if got := len(scanAll(t, s, hookline.LogScan{})); got != wantKept {
		t.Errorf("a canceled PruneLogs deleted records: %d left, want %d", got, wantKept)
	}
}
