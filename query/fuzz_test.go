package query

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzRecords are what a fuzzed query runs on: plain text, JSON, JSON after
// a prefix, metadata in odd case, numbers, empty and missing fields.
var fuzzRecords = []Record{
	{Time: time.UnixMilli(1700000000000), Message: "GET /login from 203.0.113.7 status=401 bytes=512",
		Fields: map[string]string{"_sourceCategory": "prod/web", "_sourceHost": "web-1", "status": "401"}},
	{Time: time.UnixMilli(1700000001000), Message: `{"user":{"id":7,"name":"Ann"},"items":[1,{"a":null}],"ok":true,"n":-2.5e3}`,
		Fields: map[string]string{"_sourcecategory": "PROD/api"}},
	{Message: `2024-01-01 INFO {"level":"warn","msg":"a \"quoted\" * star"}`, Fields: nil},
	{Message: "", Fields: map[string]string{"": "", "x": ""}},
	{Message: "Ünïcödé KELVIN \u212a ſ \xff\xfe", Fields: map[string]string{"_sourceName": "ſ"}},
}

// fuzzSeeds are valid and invalid queries the fuzzer starts from.
var fuzzSeeds = []string{
	`_sourceCategory=web "GET" | parse "* from *" as req, ip | count by ip | where _count > 100 | sort by _count`,
	`error OR fail* NOT (debug AND "trace id") !x _sourceHost=web-* a!=b`,
	`* | json "user.id", "items[1].a", "ok" as id, a, ok nodrop | where id >= 7 and not isNull(ok) or a matches "*x\*"`,
	`| json field=_raw "user" | json field=user "name" as n | fields n, _sourceHost | limit 3`,
	`GET | parse "status=* bytes=*" as status, bytes nodrop | sum(bytes) as b, count, avg(bytes), min(bytes), max(bytes) by status | sort by b asc, status | limit 1`,
	`x | count by _sourceCategory | count as n by _count | fields n`,
	`x | sort by _messageTime asc | limit 2 | fields - status`,
	`a | where toLowerCase(_raw) matches "*get*" and isEmpty(x) or isBlank(toUpperCase(y)) | fields - y`,
	`"a\"b\\c\*d" | where x = "é" and y != -1.5e3 and z <> "q"`,
	`(a`, `a)`, `a | `, `a | count by`, `a | sum()`, `a | limit 0`, `a | foo`, `=x`, `a=`, `"open`, `a | where x`,
	`a | count | where bytes > 1`, `a | sort by x | where y = 1`, `a | parse "x" as y`, `NOT`, `a OR`, `((((`,
	"a\n| count\n  by ip, ip", "line1\n| where x ==== 2", `a | json "a..b"`, `a | where 1e999 > x`,
}

// FuzzParse parses arbitrary queries. Parse must not panic; a rejection must
// be a *SyntaxError inside the query; an accepted query's canonical form must
// parse to itself; running it must not fail; and every record its search
// expression matches must satisfy its Terms.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
			}
			lines := strings.Count(src, "\n") + 1
			if se.Offset < 0 || se.Offset > len(src) || se.Line < 1 || se.Line > lines || se.Column < 1 || se.Msg == "" {
				t.Fatalf("error outside the query (%d bytes, %d lines): %+v", len(src), lines, se)
			}
			if want := newSyntaxError(src, se.Offset, ""); want.Line != se.Line || want.Column != se.Column {
				t.Fatalf("error at offset %d says line %d column %d, want %d %d", se.Offset, se.Line, se.Column, want.Line, want.Column)
			}
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, src, err)
		}
		if again := q2.String(); again != canon {
			t.Fatalf("canonical form changes when parsed again:\n src   %q\n first %q\n again %q", src, canon, again)
		}
		res, err := q.RunWith(context.Background(), Options{MaxMessages: 2, MaxGroups: 3}, Records(fuzzRecords))
		if err != nil {
			t.Fatalf("run %q: %v", src, err)
		}
		if len(res.Messages) > 2 || res.Aggregate && len(res.Rows) > 3*len(fuzzRecords) {
			t.Fatalf("run %q kept too much: %d messages, %d rows", src, len(res.Messages), len(res.Rows))
		}
		terms := q.Terms()
		for i := range fuzzRecords {
			rec := &fuzzRecords[i]
			if q.search != nil && q.search.match(rec) && !satisfies(terms, rec) {
				t.Fatalf("record %d matches %q but not its terms %+v", i, src, terms)
			}
		}
	})
}

// satisfies checks terms the way a SQL store would: LIKE with ASCII case
// folding.
func satisfies(t Terms, rec *Record) bool {
	for _, k := range t.Keywords {
		if indexFoldASCII(rec.Message, lowerASCII(k)) < 0 {
			return false
		}
	}
	for _, f := range t.Fields {
		v, ok := lookupField(rec.Fields, f.Field)
		if !ok {
			return false
		}
		any := false
		for _, fv := range f.Values {
			want := lowerASCII(fv.Value)
			if fv.Prefix && len(v) >= len(want) && equalFoldASCII(v[:len(want)], want) || !fv.Prefix && equalFoldASCII(v, want) {
				any = true
			}
		}
		if !any {
			return false
		}
	}
	return true
}

// FuzzGlob checks the wildcard matcher, with its ASCII case-folding fast
// path, against the regexp package.
func FuzzGlob(f *testing.F) {
	f.Add("GET /login from 203.0.113.7", "get*from", false)
	f.Add("prod/web", "PROD/*", true)
	f.Add("aaa", "a*a*a*a", true)
	f.Add("xAbAbx", "*ab*x", true)
	f.Add("", "*", true)
	f.Add("ſK\u212a", "sk*", false)
	f.Fuzz(func(t *testing.T, s, pattern string, anchored bool) {
		if !utf8.ValidString(pattern) {
			return
		}
		lits := splitWildcards(pattern, false)
		for _, fold := range []bool{false, true} {
			if fold && (!isASCII(s) || !isASCII(pattern)) {
				continue // regexp folds Unicode; the fast path folds ASCII only
			}
			parts := make([]string, len(lits))
			for i, l := range lits {
				parts[i] = regexp.QuoteMeta(l)
			}
			expr := strings.Join(parts, ".*")
			if anchored {
				expr = `\A` + expr + `\z`
			}
			flags := "(?s)"
			if fold {
				flags = "(?is)"
			}
			want := regexp.MustCompile(flags + expr).MatchString(s)
			g := newGlob(lits, fold, anchored)
			if got := g.match(s); got != want {
				t.Fatalf("glob %q (fold %v, anchored %v) on %q: %v, regexp says %v", pattern, fold, anchored, s, got, want)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
