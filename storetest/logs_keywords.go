package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// testScanKeywords checks LogScan.Keywords against hookline.MatchKeywords.
// The interface lets a store return more records than the keywords keep;
// this suite holds a store to exactly those, as both engines filter in SQL,
// so that a pushdown that widens (a wildcard left unescaped, a locale's
// case folding) is caught as surely as one that drops a match.
func testScanKeywords(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web"))
	lines := []struct{ category, message string }{
		{"prod/web", "GET /login 200"},
		{"prod/web", "POST /LOGIN 401"},
		{"prod/auth", "post /Login 302"},
		{"prod/db", "disk 50% full"},
		{"prod/db", "disk 50x full"},
		{"prod/db", "disk 5% full"},
		{"prod/api", "user_id=7"},
		{"prod/api", "userXid=7"},
		{"prod/api", `path C:\Temp\log`},
		{"prod/api", `path C:Temp`},
		{"prod/api", `escaped \% and \_ and \\`},
		{"stage/web", "Ünïcode ÜBER straße"},
		{"stage/web", "über STRASSE"},
		{"stage/web", "ÅNGSTRÖM Ångström"},
		{"stage/web", "\u212aelvin, with the Kelvin sign"},
		{"stage/web", "İSTANBUL"},
		{"prod/web", "null\x00byte then LOGIN"},
		{"prod/web", "IIS log"},
		{"prod/web", ""},
	}
	var recs []hookline.LogRecord
	for i, l := range lines {
		r := record(src.ID, logBase.Add(time.Duration(i)*time.Second), l.message)
		r.Category = l.category
		recs = append(recs, r)
	}
	recs = appendLogs(t, s, recs...)
	at := func(i int) time.Time { return logBase.Add(time.Duration(i) * time.Second) }

	tests := []struct {
		name string
		scan hookline.LogScan
		// want is the lines the scan returns, newest first, when not nil;
		// it is checked against what MatchKeywords says, so that the test
		// cannot agree with a store that is wrong in the same way.
		want []int
	}{
		{"one keyword, any case", hookline.LogScan{Keywords: []string{"login"}}, []int{16, 2, 1, 0}},
		{"an upper-case keyword", hookline.LogScan{Keywords: []string{"LoGiN"}}, []int{16, 2, 1, 0}},
		{"every keyword is required", hookline.LogScan{Keywords: []string{"login", "POST"}}, []int{2, 1}},
		{"keywords no message has together", hookline.LogScan{Keywords: []string{"get", "401"}}, []int{}},
		{"a keyword repeated", hookline.LogScan{Keywords: []string{"post", "POST", "Post"}}, []int{2, 1}},
		{"a percent sign is literal", hookline.LogScan{Keywords: []string{"50%"}}, []int{3}},
		{"a percent sign alone", hookline.LogScan{Keywords: []string{"%"}}, []int{10, 5, 3}},
		{"an underscore is literal", hookline.LogScan{Keywords: []string{"r_i"}}, []int{6}},
		{"a backslash is literal", hookline.LogScan{Keywords: []string{`\temp`}}, []int{8}},
		{"a backslash before a wildcard", hookline.LogScan{Keywords: []string{`\%`}}, []int{10}},
		{"two backslashes", hookline.LogScan{Keywords: []string{`\\`}}, []int{10}},
		{"non-ASCII letters compared exactly", hookline.LogScan{Keywords: []string{"über"}}, []int{12}},
		{"non-ASCII beside folded ASCII", hookline.LogScan{Keywords: []string{"STRÖM"}}, []int{13}},
		{"no Unicode folding: ß is not ss", hookline.LogScan{Keywords: []string{"strasse"}}, []int{12}},
		{"no Unicode folding: the Kelvin sign is not k", hookline.LogScan{Keywords: []string{"kelvin,"}}, []int{}},
		{"no Unicode folding: İ is not i", hookline.LogScan{Keywords: []string{"istanbul"}}, []int{}},
		{"ASCII folding whatever the locale: I is i", hookline.LogScan{Keywords: []string{"iis"}}, []int{17}},
		{"after a NUL in the message", hookline.LogScan{Keywords: []string{"then login"}}, []int{16}},
		{"across a NUL", hookline.LogScan{Keywords: []string{"l\x00b"}}, []int{16}},
		{"a space is a keyword like any", hookline.LogScan{Keywords: []string{" "}}, nil},
		{"with categories", hookline.LogScan{Categories: []string{"prod/*"}, Keywords: []string{"login"}}, []int{16, 2, 1, 0}},
		{"with a category that leaves one", hookline.LogScan{Categories: []string{"PROD/AUTH", "stage/*"}, Keywords: []string{"login"}}, []int{2}},
		{"with time bounds", hookline.LogScan{From: at(1), To: at(16), Keywords: []string{"login"}}, []int{2, 1}},
		{"with categories, time bounds and a limit", hookline.LogScan{Categories: []string{"prod/*"}, From: at(0), To: at(17), Keywords: []string{"LOGIN"}, Limit: 2}, []int{16, 2}},
		{"the most keywords", hookline.LogScan{Keywords: slices.Repeat([]string{"o"}, hookline.MaxScanKeywords)}, nil},
		{"a keyword longer than every message", hookline.LogScan{Keywords: []string{strings.Repeat("login", 20_000)}}, []int{}},
		{"no keywords", hookline.LogScan{Keywords: []string{}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []int
			for i := len(lines) - 1; i >= 0; i-- {
				r := recs[i]
				if !r.Time.Before(tt.scan.From) && (tt.scan.To.IsZero() || r.Time.Before(tt.scan.To)) &&
					(len(tt.scan.Categories) == 0 || slices.ContainsFunc(tt.scan.Categories, func(p string) bool { return hookline.MatchCategory(p, r.Category) })) &&
					hookline.MatchKeywords(lines[i].message, tt.scan.Keywords) {
					want = append(want, i)
				}
			}
			if tt.scan.Limit > 0 && len(want) > tt.scan.Limit {
				want = want[:tt.scan.Limit]
			}
			if tt.want != nil && !slices.Equal(tt.want, want) {
				t.Fatalf("the test's want %v is not what MatchKeywords says, %v", tt.want, want)
			}
			var got []int
			for _, r := range scanAll(t, s, tt.scan) {
				got = append(got, slices.IndexFunc(recs, func(x hookline.LogRecord) bool { return x.ID == r.ID }))
			}
			if !slices.Equal(got, want) {
				t.Errorf("Keywords %q selected lines %v; want %v (hookline.MatchKeywords)", tt.scan.Keywords, got, want)
			}
		})
	}

	// The reference itself, on the cases the stores must agree with.
	for _, c := range []struct {
		message  string
		keywords []string
		want     bool
	}{
		{"POST /LOGIN", []string{"post", "login"}, true}, {"POST /LOGIN", []string{"post", "logout"}, false},
		{"anything", nil, true}, {"Über", []string{"über"}, false}, {"\u212a", []string{"k"}, false},
		{"a\x00b", []string{"A\x00B"}, true}, {"50x", []string{"50%"}, false},
	} {
		if got := hookline.MatchKeywords(c.message, c.keywords); got != c.want {
			t.Errorf("MatchKeywords(%q, %q) = %v; want %v", c.message, c.keywords, got, c.want)
		}
	}

	invalid := []struct {
		name     string
		keywords []string
	}{
		{"an empty keyword", []string{""}},
		{"an empty keyword after others", []string{"login", ""}},
		{"not UTF-8", []string{"\xff"}},
		{"too many", slices.Repeat([]string{"o"}, hookline.MaxScanKeywords+1)},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			err := s.ScanLogs(t.Context(), hookline.LogScan{Keywords: tt.keywords}, func(hookline.LogRecord) error {
				called = true
				return nil
			})
			wantField(t, err, "keywords", fmt.Sprintf("ScanLogs(keywords %q)", tt.keywords))
			if called {
				t.Error("ScanLogs with invalid keywords handed over records")
			}
		})
	}
}
