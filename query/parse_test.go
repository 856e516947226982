package query_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hookline/hookline/query"
)

// TestParseCanonical parses valid queries and checks the structure through
// the canonical form: precedence shows as the parentheses String keeps, and
// defaults (sort direction, operator case, quoting) as what it writes.
func TestParseCanonical(t *testing.T) {
	tests := []struct{ src, want string }{
		{``, `*`},
		{`*`, `*`},
		{`error`, `error`},
		{`  error   timeout `, `error timeout`},
		{`error AND timeout`, `error timeout`},
		{`error and timeout`, `error timeout`},
		{`a OR b c`, `a OR b c`},                   // AND binds tighter than OR
		{`(a OR b) c`, `(a OR b) c`},               // parentheses kept where needed
		{`(a b) c`, `a b c`},                       // and dropped where not
		{`a OR (b OR c)`, `a OR b OR c`},           //
		{`NOT a b`, `NOT a b`},                     // NOT binds tightest
		{`NOT (a b)`, `NOT (a b)`},                 //
		{`!a !(b OR c)`, `NOT a NOT (b OR c)`},     // ! is NOT
		{`not NOT a`, `NOT NOT a`},                 //
		{`"GET"`, `GET`},                           // quotes only where needed
		{`"GET /login"`, `"GET /login"`},           //
		{`"and"`, `"and"`},                         // a keyword that is an operator stays quoted
		{`"!x" "a=b" "(x)"`, `"!x" "a=b" "(x)"`},   //
		{`fail*ed "time*out"`, `fail*ed time*out`}, // wildcards
		{`"a\*b" "say \"hi\"" "C:\temp\\x"`, `"a\*b" "say \"hi\"" "C:\\temp\\x"`}, // escapes
		{`_sourceCategory=prod/web`, `_sourceCategory=prod/web`},
		{`_sourcecategory = "prod/web*"`, `_sourceCategory=prod/web*`}, // metadata names in their usual spelling
		{`_sourceName="/var/log/my app.log"`, `_sourceName="/var/log/my app.log"`},
		{`url=/a?b=c`, `url=/a?b=c`},                    // "=" inside a value
		{`_sourceHost!=web-1`, `NOT _sourceHost=web-1`}, //
		{`x | json "a"`, `x | json "a"`},
		{`x | JSON "a", "b.c" as A, bc NODROP`, `x | json "a", "b.c" as A, bc nodrop`},
		{`x | json field=_raw "a[0].b" as y`, `x | json field=_raw "a[0].b" as y`},
		{`x | parse "* from *" as req, ip`, `x | parse "* from *" as req, ip`},
		{`x | parse field=_raw "a=*,\*" as a nodrop`, `x | parse field=_raw "a=*,\*" as a nodrop`},
		{`x | where a = 1 and b == "x" or not c <> 2`, `x | where a = 1 and b = "x" or not c != 2`},
		{`x | where a = 1 and (b = 2 or c = 3)`, `x | where a = 1 and (b = 2 or c = 3)`},
		{`x | where (a = 1 and b = 2) or c = 3`, `x | where a = 1 and b = 2 or c = 3`},
		{`x | where !isNull(a) AND ISEMPTY(b) and isBlank(c)`, `x | where not isNull(a) and isEmpty(b) and isBlank(c)`},
		{`x | where tolowercase(a) matches "*x*"`, `x | where toLowerCase(a) matches "*x*"`},
		{`x | where a >= -1.5e3 and b < .5 and c <= 7`, `x | where a >= -1.5e3 and b < .5 and c <= 7`},
		{`x | count`, `x | count`},
		{`x | count as n`, `x | count as n`},
		{`x | count by a, b`, `x | count by a, b`},
		{`x | sum(bytes) by ip`, `x | sum(bytes) by ip`},
		{`x | count, sum(b) as total, avg(b), min(b), max(b) by ip`, `x | count, sum(b) as total, avg(b), min(b), max(b) by ip`},
		{`x | count by ip | sort by _count`, `x | count by ip | sort by _count desc`}, // desc is the default
		{`x | count by ip | sort _count asc, ip`, `x | count by ip | sort by _count asc, ip desc`},
		{`x | count by ip | order by ip`, `x | count by ip | sort by ip desc`},
		{`x | sort by _messageTime asc | limit 10`, `x | sort by _messageTime asc | limit 10`},
		{`x | limit 10`, `x | limit 10`},
		{`x | fields a, b`, `x | fields a, b`},
		{`x | fields -a, b`, `x | fields - a, b`},
		{"x\n| count\n  by ip", `x | count by ip`},
		{`_sourceCategory=web "GET" | parse "* from *" as req, ip | count by ip | where _count > 100 | sort by _count`,
			`_sourceCategory=web GET | parse "* from *" as req, ip | count by ip | where _count > 100 | sort by _count desc`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			q := mustParse(t, tt.src)
			if got := q.String(); got != tt.want {
				t.Errorf("String() = %s\n                  want %s", got, tt.want)
			}
			if again := mustParse(t, q.String()).String(); again != q.String() {
				t.Errorf("canonical form parses to %s", again)
			}
		})
	}
}

// TestParseErrors checks the position and the whole message of rejections.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		msg       string
	}{
		// Search expression.
		{`(a OR b`, 1, 8, `expected ")" to close the "(" at column 1, found end of query`},
		{`a )`, 1, 3, `unmatched ")": there is no "(" to close`},
		{`a OR OR b`, 1, 6, `expected a search term after "OR", found "OR"`},
		{`a AND`, 1, 6, `expected a search term after "AND", found end of query`},
		{`NOT`, 1, 4, `expected a search term after "NOT", found end of query`},
		{`a ()`, 1, 4, `expected a search term after "(", found ")"`},
		{`"GET /login`, 1, 1, `string is never closed: add the closing "`},
		{`_sourceCategory=`, 1, 17, `expected a value after "_sourceCategory=", found end of query`},
		{`= web`, 1, 1, `"=" needs a field name before it, as in _sourceCategory=prod/web; put text containing "=" in quotes to search for it`},
		{`status-code=401`, 1, 1, `expected a field name before "=", found "status-code"; put text containing "=" in quotes to search for it`},
		{"\xffx", 1, 1, `the query is not valid UTF-8`},
		{strings.Repeat("(", 101) + "a" + strings.Repeat(")", 101), 1, 101, `nested more than 100 deep`},
		// Operators.
		{`a |`, 1, 4, `expected an operator after "|", found end of query`},
		{`a | | count`, 1, 5, `expected an operator after "|", found "|"`},
		{`error | stats count`, 1, 9, `unknown operator "stats"; the operators are json, parse, where, count, sum, avg, min, max, sort, limit and fields`},
		{`error | timeslice 1m`, 1, 9, `the timeslice operator is not supported; the operators are json, parse, where, count, sum, avg, min, max, sort, limit and fields`},
		// count, sum, ...
		{`x | count by |`, 1, 14, `expected a field name after "by", found "|"`},
		{`x | count by ip,`, 1, 17, `expected a field name after ",", found end of query`},
		{`x | count ip`, 1, 11, `expected ",", "by", "|" or end of query, found "ip"`},
		{`x | count by by`, 1, 14, `expected a field name after "by", found "by"`},
		{`x | count, foo(x)`, 1, 12, `expected an aggregate function (count, sum, avg, min or max) after ",", found "foo"`},
		{`x | sum()`, 1, 9, `expected a field name after "sum(", found ")"`},
		{`x | sum by ip`, 1, 9, `expected "(" after "sum", found "by"`},
		{`x | avg(x y)`, 1, 11, `expected ")" after "avg(x", found "y"`},
		{`x | count(ip)`, 1, 10, `count takes no field; to count records that have a field x, use where !isNull(x) | count`},
		{`x | count as n, sum(b) as n`, 1, 17, `column "n" is named twice; name one with as`},
		{`x | count by ip, IP`, 1, 18, `field "IP" is named twice`},
		{`x | count by ip | sum(bytes)`, 1, 23, `unknown field "bytes": after "count" the rows have only ip and _count`},
		{`x | count by ip | sort by bytes`, 1, 27, `unknown field "bytes": after "count" the rows have only ip and _count`},
		{`x | count | parse "a=*" as a`, 1, 13, `parse after an aggregate needs field=<name>: rows have no message`},
		// sort, limit, fields
		{`x | sort`, 1, 9, `expected a field name after "sort", found end of query`},
		{`x | sort by a b`, 1, 15, `expected ",", "asc", "desc", "|" or end of query, found "b"`},
		{`x | order a`, 1, 11, `expected "by" after "order", found "a"`},
		{`x | sort by a | count`, 1, 17, `"count" cannot follow a sort of messages: sorting does not change what it computes; sort its rows after it instead`},
		{`x | sort by a | where b = 1`, 1, 17, `"where" cannot follow a sort of messages: only limit and fields can; move it before the sort`},
		{`x | sort by a | sort by b`, 1, 17, `messages can be sorted only once: give all the keys to one sort (sort by a, b)`},
		{`x | limit`, 1, 10, `expected a whole number after "limit", found end of query`},
		{`x | limit 0`, 1, 11, `limit must be a whole number from 1 to 1000000000, found "0"`},
		{`x | limit -5`, 1, 11, `limit must be a whole number from 1 to 1000000000, found "-5"`},
		{`x | limit 2.5`, 1, 11, `limit must be a whole number from 1 to 1000000000, found "2.5"`},
		{`x | limit ten`, 1, 11, `expected a whole number after "limit", found "ten"`},
		{`x | limit 5 6`, 1, 13, `expected "|" or end of query, found "6"`},
		{`x | fields`, 1, 11, `expected a field name after "fields", found end of query`},
		{`x | fields a | where b = 1`, 1, 22, `unknown field "b": after "fields" the messages have only a`},
		{`x | fields - a | where a = 1`, 1, 24, `field "a" was removed by "fields -"`},
		{`x | count by ip | fields - ip, _count`, 1, 19, `fields - would remove every field`},
		// json, parse
		{`x | json`, 1, 9, `expected a quoted key such as "user.id" after "json", found end of query`},
		{`x | json "a", "b" as c`, 1, 19, `json extracts 2 keys but 1 name follows "as"`},
		{`x | json "items[0]"`, 1, 10, `key "items[0]" cannot name a field; name it with as: json "items[0]" as name`},
		{`x | json "a..b" as c`, 1, 10, `bad JSON key "a..b": the key path has an empty key`},
		{`x | json "a[x]" as c`, 1, 10, `bad JSON key "a[x]": an array index is a number in brackets, as in items[0]`},
		{`x | parse "a*"`, 1, 15, `expected "as" after the parse pattern, found end of query`},
		{`x | parse "* from *" as ip`, 1, 22, `the pattern has 2 * but 1 name follows "as"`},
		{`x | parse "from" as ip`, 1, 11, `the parse pattern has no * to mark a field to extract`},
		{`x | parse 'a=*' as a`, 1, 11, `unexpected character "'": strings take double quotes`},
		{`x | parse "*" as a drop`, 1, 20, `expected ",", "nodrop", "|" or end of query, found "drop"`},
		{`x | parse regex "(?<ip>\S+)"`, 1, 11, `parse regex is not supported; use a pattern in which * marks each field, as in parse "user=* " as user`},
		// where
		{`x | where`, 1, 10, `expected a field name, number, string or condition after "where", found end of query`},
		{`x | where status`, 1, 11, `where needs a condition, such as status >= 500 or isNull(ip), not a value alone`},
		{`x | where status = `, 1, 20, `expected a field name, number, string or condition after "=", found end of query`},
		{`x | where status === 1`, 1, 20, `expected a field name, number, string or condition after "==", found "="`},
		{`x | where (a = 1 or b = 2`, 1, 26, `expected ")" to close the "(" at column 11, found end of query`},
		{`x | where a = 1 b = 2`, 1, 17, `expected "and", "or", "|" or end of query, found "b"`},
		{`x | where a and b = 1`, 1, 11, `"and" joins conditions, such as status = 404; this is a value`},
		{`x | where not a`, 1, 15, `"not" needs a condition, such as isNull(ip); this is a value`},
		{`x | where (a = 1) = 2`, 1, 12, `"=" compares values; this is a condition`},
		{`x | where a matches b*`, 1, 21, `expected a quoted pattern such as "*error*" after "matches", found "b"`},
		{`x | where len(a) > 1`, 1, 11, `unknown function "len"; where knows isNull, isEmpty, isBlank, toLowerCase and toUpperCase`},
		{`x | where isNull(a = 1)`, 1, 18, `isNull takes a value, such as a field name; this is a condition`},
		{`x | where a > 1e999`, 1, 15, `number 1e999 is out of range`},
		{`x | where a ~ 1`, 1, 13, `unexpected character "~"`},
		// Lines and columns.
		{"_sourceCategory=web\n| parse \"* from *\" as req, ip\n| count by", 3, 11, `expected a field name after "by", found end of query`},
		{"x |\r\n  where é > 1", 2, 9, `unexpected character "é"`},
		{"é ü | limit 0", 1, 13, `limit must be a whole number from 1 to 1000000000, found "0"`}, // columns count characters
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			q, err := query.Parse(tt.src)
			var se *query.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, %v; want a *SyntaxError", tt.src, q, err)
			}
			if se.Line != tt.line || se.Column != tt.col || se.Msg != tt.msg {
				t.Errorf("got  line %d, column %d: %s\nwant line %d, column %d: %s", se.Line, se.Column, se.Msg, tt.line, tt.col, tt.msg)
			}
			if want := fmt.Sprintf("line %d, column %d: %s", tt.line, tt.col, tt.msg); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

// TestSyntaxErrorDetail checks what a program reads from an error: the byte
// offset, what was expected and what was found.
func TestSyntaxErrorDetail(t *testing.T) {
	tests := []struct {
		src      string
		offset   int
		expected []string
		found    string
	}{
		{`x | count by |`, 13, []string{"a field name"}, "|"},
		{`x | count by`, 12, []string{"a field name"}, ""},
		{`é | sort by a x`, 15, []string{`","`, `"asc"`, `"desc"`, `"|"`, "end of query"}, "x"},
		{`x | stats`, 4, []string{"json", "parse", "where", "count", "sum", "avg", "min", "max", "sort", "limit", "fields"}, "stats"},
		{`x | limit 0`, 10, nil, "0"},
		{`x | count by ip | where bytes > 1`, 24, nil, "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := query.Parse(tt.src)
			var se *query.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse: %v, want a *SyntaxError", err)
			}
			if se.Offset != tt.offset || !cmp.Equal(se.Expected, tt.expected) || se.Found != tt.found {
				t.Errorf("Offset %d, Expected %q, Found %q; want %d, %q, %q", se.Offset, se.Expected, se.Found, tt.offset, tt.expected, tt.found)
			}
		})
	}
}

func TestTerms(t *testing.T) {
	tests := []struct {
		src  string
		want query.Terms
	}{
		{`*`, query.Terms{}},
		{`| count`, query.Terms{}},
		{`_sourceCategory=web "GET" | parse "* from *" as req, ip | count by ip`, query.Terms{
			Keywords: []string{"GET"},
			Fields:   []query.FieldTerm{{Field: "_sourceCategory", Values: []query.FieldValue{{Value: "web"}}}},
		}},
		{`_sourcecategory=prod/* _sourceHost=web-? fail*ed`, query.Terms{
			Keywords: []string{"fail", "ed"},
			Fields: []query.FieldTerm{
				{Field: "_sourceCategory", Values: []query.FieldValue{{Value: "prod/", Prefix: true}}},
				{Field: "_sourceHost", Values: []query.FieldValue{{Value: "web-?"}}},
			},
		}},
		{`(_sourceCategory=a OR _sourceCategory=b*) x`, query.Terms{
			Keywords: []string{"x"},
			Fields:   []query.FieldTerm{{Field: "_sourceCategory", Values: []query.FieldValue{{Value: "a"}, {Value: "b", Prefix: true}}}},
		}},
		// Not pushed down: NOT, OR across fields or keywords, leading
		// wildcards, non-ASCII text.
		{`NOT error _sourceHost=*-1 (a OR b) (_sourceHost=a OR _sourceName=b) "é" _sourceName=ü`, query.Terms{}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mustParse(t, tt.src).Terms()); diff != "" {
				t.Errorf("Terms (-want +got):\n%s", diff)
			}
		})
	}
}
