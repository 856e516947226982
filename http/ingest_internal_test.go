package http

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// FuzzParseLines checks what every record the receiver makes keeps to,
// whatever the body: one record a non-blank line, in order, valid UTF-8
// without line breaks, at most MaxLineBytes, the truncation count right,
// and a time that the store can keep. (Lines over MaxLineBytes are left
// to TestIngestLimits: a seed that long makes the fuzzer crawl.)
//
//	go test -fuzz FuzzParseLines ./http
func FuzzParseLines(f *testing.F) {
	for _, seed := range []string{
		"one\ntwo\r\n\n  \nthree",
		`{"timestamp": "2026-11-26T10:00:00Z", "msg": "x"}` + "\n" + `{"time": 1764151200000}`,
		`{"timestamp": 1764151200.5}` + "\n" + `{"TIME": "1764151200000"}` + "\n" + `{"timestamp": "1e12"}`,
		`{"timestamp": "9999-12-31T23:59:59Z"}` + "\n" + `{"time": -1}` + "\n" + `{"time": 1e300}`,
		"caf\xe9\xff\n\r\n\xf0\x9f\x98",
		"\x00\x01{\"time\":0}",
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	meta := hookline.LogRecord{SourceID: "0000000000000001", Category: "c", Host: "h", Name: "n"}
	f.Fuzz(func(t *testing.T, body []byte) {
		records, truncated := parseLines(body, meta, now)
		var lines []string
		for _, l := range strings.Split(string(body), "\n") {
			if l = strings.TrimSuffix(l, "\r"); strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(records) != len(lines) {
			t.Fatalf("%d records from %d non-blank lines", len(records), len(lines))
		}
		cut := 0
		for i, r := range records {
			if !utf8.ValidString(r.Message) || strings.ContainsAny(r.Message, "\n") || len(r.Message) > MaxLineBytes {
				t.Fatalf("record %d: %d bytes, valid UTF-8 %v, %q…", i, len(r.Message), utf8.ValidString(r.Message), r.Message[:min(len(r.Message), 40)])
			}
			if want := strings.ToValidUTF8(lines[i], "\uFFFD"); r.Message != want {
				if !strings.HasPrefix(want, r.Message) || len(want) <= MaxLineBytes {
					t.Fatalf("record %d is not line %d (or its start)", i, i)
				}
				cut++
			}
			if r.Time.Before(time.Unix(0, 0)) || !r.Time.Before(latestLogTime) || !r.ReceivedAt.Equal(now) {
				t.Fatalf("record %d: time %v, received %v", i, r.Time, r.ReceivedAt)
			}
			if r.SourceID != meta.SourceID || r.Category != "c" || r.Host != "h" || r.Name != "n" {
				t.Fatalf("record %d lost its metadata: %+v", i, r)
			}
		}
		if cut != truncated {
			t.Fatalf("%d records cut, %d counted", cut, truncated)
		}
	})
}

func TestTimestampOf(t *testing.T) {
	ms := func(v int64) time.Time { return time.UnixMilli(v).UTC() }
	tests := []struct {
		line string
		want time.Time
		ok   bool
	}{
		{`{"timestamp": 1764151200000}`, ms(1764151200000), true},
		{`{"timestamp": 1764151200}`, ms(1764151200000), true},
		{`{"timestamp": 4000000000}`, ms(4000000000000), true},  // below 10^11: seconds
		{`{"timestamp": 100000000000}`, ms(100000000000), true}, // from 10^11: milliseconds
		{`{"timestamp": "1764151200000.25"}`, ms(1764151200000).Add(250 * time.Microsecond), true},
		{`{"timestamp": 1.7641512e12}`, ms(1764151200000), true},
		{`{"time": "2026-11-26T10:00:00.5-02:00"}`, time.Date(2026, 11, 26, 12, 0, 0, 5e8, time.UTC), true},
		{` {"timestamp": 0}`, time.Unix(0, 0).UTC(), true},
		{`{"timestamp": "-1"}`, time.Time{}, false},
		{`{"timestamp": "+1764151200000"}`, time.Time{}, false},
		{`{"timestamp": "Inf"}`, time.Time{}, false},
		{`{"timestamp": "1_000"}`, time.Time{}, false},
		{`{"timestamp": 1e17}`, time.Time{}, false},
		{`{"timestamp": "2262-01-01T00:00:00Z"}`, time.Time{}, false},
		{`{"timestamp": ""}`, time.Time{}, false},
		{`{"timestamp": 1764151200000`, time.Time{}, false},
		{`"timestamp": 1764151200000`, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := timestampOf(tt.line)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("timestampOf(%s) = %v, %v; want %v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}
