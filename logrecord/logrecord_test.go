package logrecord_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/logrecord"
)

func fieldsOf(err error) []string {
	var e *hookline.Error
	if !errors.As(err, &e) || e.Code != hookline.EINVALID {
		return nil
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return names
}

func TestPrepare(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 3600))
	at := time.Date(2026, 5, 6, 1, 0, 0, 0, time.UTC)
	noNUL := func(s string) bool { return !strings.ContainsRune(s, 0) }
	tests := []struct {
		name     string
		r        hookline.LogRecord
		storable func(string) bool
		want     []string // fields named; nil for none
	}{
		{name: "fine", r: hookline.LogRecord{SourceID: "S1", Message: "hi", Time: at}},
		{name: "no source", r: hookline.LogRecord{Message: "hi"}, want: []string{"records[0].sourceId"}},
		{name: "a NUL SQLite keeps", r: hookline.LogRecord{SourceID: "S\x00"}},
		{name: "a NUL PostgreSQL cannot keep", r: hookline.LogRecord{SourceID: "S\x00"}, storable: noNUL,
			want: []string{"records[0].sourceId"}},
		{name: "a long message", r: hookline.LogRecord{SourceID: "S", Message: strings.Repeat("x", hookline.MaxLogMessageBytes+1)},
			want: []string{"records[0].message"}},
		{name: "bad UTF-8", r: hookline.LogRecord{SourceID: "S", Message: "\xff", Category: "\xff", Host: "\xff", Name: "\xff"},
			want: []string{"records[0].message", "records[0].category", "records[0].host", "records[0].name"}},
		{name: "times out of range", r: hookline.LogRecord{SourceID: "S", Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
			ReceivedAt: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}, want: []string{"records[0].time", "records[0].receivedAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []hookline.LogRecord{tt.r}
			rows, err := logrecord.Prepare(in, now, tt.storable)
			if got := fieldsOf(err); !slices.Equal(got, tt.want) || (err != nil) != (tt.want != nil) {
				t.Fatalf("Prepare: %v (fields %v); want fields %v", err, got, tt.want)
			}
			if in[0] != tt.r {
				t.Errorf("Prepare changed its input: %+v", in[0])
			}
			if err != nil {
				return
			}
			wantTime := tt.r.Time
			if wantTime.IsZero() {
				wantTime = now
			}
			if r := rows[0]; !r.ReceivedAt.Equal(now) || r.ReceivedAt.Location() != time.UTC ||
				!r.Time.Equal(wantTime) || r.Time.Location() != time.UTC {
				t.Errorf("Prepare = %+v; want ReceivedAt %v, Time %v, in UTC", r, now, wantTime)
			}
		})
	}
}

func TestCopyBack(t *testing.T) {
	at := time.Date(2026, 5, 6, 1, 0, 0, 0, time.UTC)
	records := []hookline.LogRecord{{SourceID: "S", Message: "a"}, {SourceID: "S", Message: "b"}}
	logrecord.CopyBack(records, []hookline.LogRecord{{ID: 7, Time: at, ReceivedAt: at}, {ID: 8, Time: at, ReceivedAt: at}})
	if records[0].ID != 7 || records[1].ID != 8 || !records[1].Time.Equal(at) || records[1].Message != "b" {
		t.Errorf("CopyBack: %+v", records)
	}
}

// memPage is a Page over records held newest first.
func memPage(all []hookline.LogRecord, calls *[]int) logrecord.Page {
	return func(lo, hi int64, after *logrecord.Key, n int) ([]hookline.LogRecord, error) {
		*calls = append(*calls, n)
		var out []hookline.LogRecord
		for _, r := range all {
			tm := r.Time.UnixNano()
			if tm < lo || tm >= hi {
				continue
			}
			if after != nil && (tm > after.Time || tm == after.Time && r.ID >= after.ID) {
				continue
			}
			if len(out) == n {
				break
			}
			out = append(out, r)
		}
		return out, nil
	}
}

func TestScan(t *testing.T) {
	at := time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC)
	var all []hookline.LogRecord
	for i := 2500; i > 0; i-- { // newest first; pairs share a time
		all = append(all, hookline.LogRecord{ID: int64(i), Time: at.Add(time.Duration(i/2) * time.Second)})
	}
	tests := []struct {
		name      string
		scan      hookline.LogScan
		wantN     int
		wantCalls []int
	}{
		{"all", hookline.LogScan{}, 2500, []int{1000, 1000, 1000}},
		{"a limit", hookline.LogScan{Limit: 1500}, 1500, []int{1000, 500}},
		{"a limit of a page", hookline.LogScan{Limit: 1000}, 1000, []int{1000}},
		{"a window", hookline.LogScan{From: at.Add(100 * time.Second), To: at.Add(200 * time.Second)}, 200, []int{1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []int
			var got []hookline.LogRecord
			err := logrecord.Scan(tt.scan, memPage(all, &calls), func(r hookline.LogRecord) error {
				got = append(got, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantN || !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("Scan read %d records in pages %v; want %d in %v", len(got), calls, tt.wantN, tt.wantCalls)
			}
			for i := 1; i < len(got); i++ {
				if got[i].ID >= got[i-1].ID {
					t.Fatalf("record %d, ID %d, after ID %d: seen twice or out of order", i, got[i].ID, got[i-1].ID)
				}
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	var calls []int
	stop := errors.New("stop")
	page := memPage([]hookline.LogRecord{{ID: 1}}, &calls)
	tests := []struct {
		name string
		scan hookline.LogScan
		page logrecord.Page
		fn   func(hookline.LogRecord) error
		want string
	}{
		{"negative limit", hookline.LogScan{Limit: -1}, page, nil, "scan logs: "},
		{"the page fails", hookline.LogScan{}, func(int64, int64, *logrecord.Key, int) ([]hookline.LogRecord, error) {
			return nil, errors.New("disk on fire")
		}, nil, "scan logs: disk on fire"},
		{"fn stops it", hookline.LogScan{}, page, func(hookline.LogRecord) error { return stop }, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := logrecord.Scan(tt.scan, tt.page, tt.fn)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Scan: %v; want %q", err, tt.want)
			}
		})
	}
	if err := logrecord.Scan(hookline.LogScan{Limit: -1}, page, nil); !slices.Equal(fieldsOf(err), []string{"limit"}) {
		t.Errorf("Scan with a negative limit: %v; want EINVALID naming limit", err)
	}
}

func TestPrune(t *testing.T) {
	before := time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		batches   []int64 // what each batch deletes
		failAt    int     // the batch that fails; -1 for none
		cancelAt  int     // the batch after which ctx is cancelled; -1 for none
		wantTotal int64
		wantCalls int
		wantErr   string
	}{
		{"nothing", []int64{0}, -1, -1, 0, 1, ""},
		{"less than a batch", []int64{10}, -1, -1, 10, 1, ""},
		{"batches", []int64{logrecord.PruneBatch, logrecord.PruneBatch, 3}, -1, -1, 2*logrecord.PruneBatch + 3, 3, ""},
		{"a failure", []int64{logrecord.PruneBatch, 0}, 1, -1, logrecord.PruneBatch, 2, "prune logs: disk on fire"},
		{"cancelled", []int64{logrecord.PruneBatch, logrecord.PruneBatch}, -1, 0, logrecord.PruneBatch, 1, "prune logs: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			calls := 0
			total, err := logrecord.Prune(ctx, before, func(_ context.Context, cut int64, limit int) (int64, error) {
				defer func() { calls++ }()
				if cut != before.UnixNano() || limit != logrecord.PruneBatch {
					t.Errorf("batch(%d, %d); want (%d, %d)", cut, limit, before.UnixNano(), logrecord.PruneBatch)
				}
				if calls == tt.cancelAt {
					cancel()
				}
				if calls == tt.failAt {
					return 0, errors.New("disk on fire")
				}
				return tt.batches[calls], nil
			})
			if total != tt.wantTotal || calls != tt.wantCalls || (err == nil) != (tt.wantErr == "") ||
				err != nil && err.Error() != tt.wantErr {
				t.Errorf("Prune = %d, %v after %d batches; want %d, %q after %d", total, err, calls, tt.wantTotal, tt.wantErr, tt.wantCalls)
			}
		})
	}
}

func TestASCIILowerAndEscapeLike(t *testing.T) {
	for _, tt := range []struct{ in, lower, escaped string }{
		{"Prod/Web", "prod/web", "Prod/Web"},
		{"ÄB_c%", "Äb_c%", `ÄB\_c\%`},
		{`a\b`, `a\b`, `a\\b`},
	} {
		if got := hookline.ASCIILower(tt.in); got != tt.lower {
			t.Errorf("ASCIILower(%q) = %q; want %q", tt.in, got, tt.lower)
		}
		if got := logrecord.EscapeLike(tt.in); got != tt.escaped {
			t.Errorf("EscapeLike(%q) = %q; want %q", tt.in, got, tt.escaped)
		}
		if got, want := logrecord.ContainsPattern(tt.in), "%"+tt.escaped+"%"; got != want {
			t.Errorf("ContainsPattern(%q) = %q; want %q", tt.in, got, want)
		}
	}
}
