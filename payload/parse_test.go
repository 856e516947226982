package payload_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hookline/hookline/payload"
)

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		msg       string
	}{
		{"empty", "", 1, 1, "template is empty"},
		{"only whitespace", " \n\t ", 1, 1, "template is empty"},
		{"variable between members", `{"a": 1 {{Name}} }`, 1, 9, "unexpected variable; expected ',' or '}'"},
		{"variable after a value in an array", `[1 {{Name}}]`, 1, 4, "unexpected variable; expected ',' or ']'"},
		{"trailing comma in object", "{\n  \"a\": 1,\n}", 2, 9, "trailing comma before '}'"},
		{"trailing comma in array", `["{{Name}}", ]`, 1, 12, "trailing comma before ']'"},
		{"unterminated string at end", `{"a": "{{Name}}`, 1, 7, "string is never closed"},
		{"line break in string", "{\"a\": \"x\n\"}", 1, 9, `line break inside a string; close the string or write \n`},
		{"tab in string", "{\"a\": \"x\ty\"}", 1, 9, "control character U+0009 inside a string; write it escaped"},
		{"unclosed variable", `{"a": {{Name}`, 1, 13, "expected }} to close the variable"},
		{"variable never closed", `{"a": {{Name`, 1, 7, "{{ is never closed"},
		{"variable never closed at top", `{{`, 1, 1, "{{ is never closed"},
		{"empty variable", `[{{ }}]`, 1, 2, "empty variable name"},
		{"bad variable name", `[{{ 1abc }}]`, 1, 5, `invalid variable name "1abc"`},
		{"variable name with space", `[{{Trigger Type}}]`, 1, 4, `invalid variable name "Trigger Type"`},
		{"bad character in variable", `{"a": {{Na!me}}}`, 1, 11, "unexpected '!' in variable name"},
		{"three braces", `{"a": {{{Name}}}}`, 1, 9, "unexpected '{' in variable name"},
		{"variable as key", `{ {{Name}}: 1}`, 1, 3, "an object key must be a string; put the variable in quotes"},
		{"unquoted key", `{a: 1}`, 1, 2, "unexpected 'a'; expected a string key"},
		{"missing colon", `{"a" 1}`, 1, 6, "unexpected '1'; expected ':' after the object key"},
		{"missing value", `{"a": }`, 1, 7, "unexpected '}'; expected a value"},
		{"single quotes", `{'a': 1}`, 1, 2, `unexpected '\''; expected a string key`},
		{"bad escape", `{"a": "\x"}`, 1, 8, `invalid escape \x inside a string`},
		{"short unicode escape", `["\u12G4"]`, 1, 7, `unexpected 'G'; expected a hexadecimal digit of a \u escape`},
		{"bad literal", `[tru]`, 1, 5, `unexpected ']'; expected "true"`},
		{"bad literal case", `[True]`, 1, 2, `unexpected 'T'; expected a value`},
		{"leading zero", `[01]`, 1, 3, "unexpected '1'; expected ',' or ']'"},
		{"bare minus", `[-]`, 1, 3, "unexpected ']'; expected a digit"},
		{"bad fraction", `[1.]`, 1, 4, "unexpected ']'; expected a digit after the decimal point"},
		{"bad exponent", `[1e+]`, 1, 5, "unexpected ']'; expected a digit in the exponent"},
		{"unclosed object", "{\"a\": 1\n", 2, 1, "unexpected end of template; expected ',' or '}'"},
		{"unclosed array", `[1, 2`, 1, 6, "unexpected end of template; expected ',' or ']'"},
		{"two values", `{} {}`, 1, 4, "unexpected '{'; expected end of template after the JSON value"},
		{"text after value", "{\"a\":1}\n  x", 2, 3, "unexpected 'x'; expected end of template after the JSON value"},
		{"columns count characters, not bytes", `{"é😀": 1,, }`, 1, 10, "unexpected ','; expected a string key"},
		{"invalid UTF-8 in string", "[\"ok\xff\"]", 1, 5, "invalid UTF-8"},
		{"invalid UTF-8 outside", "[1,\xff]", 1, 4, "unexpected invalid UTF-8; expected a value"},
		{"control character outside", "[1,\x01]", 1, 4, "unexpected control character U+0001; expected a value"},
		{"byte order mark", "\uFEFF{}", 1, 1, "unexpected '\\ufeff'; expected a value"},
		{"line after CRLF", "{\r\n\"a\": {{Name}\r\n}", 2, 12, "expected }} to close the variable"},
		{"index on a bare non-field variable", `[{{Name}}[0]]`, 1, 10, "unexpected '['; expected ',' or ']'"},
		{"nested too deep", strings.Repeat("[", 1001) + strings.Repeat("]", 1001), 1, 1001, "objects and arrays nested more than 1000 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := payload.Parse(tt.src)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, rendering %s", tt.src, tmpl.Render(nil))
			}
			var se *payload.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", tt.src, err, err)
			}
			if se.Line != tt.line || se.Column != tt.col || se.Msg != tt.msg {
				t.Errorf("Parse(%q) = line %d, column %d: %q\nwant line %d, column %d: %q", tt.src, se.Line, se.Column, se.Msg, tt.line, tt.col, tt.msg)
			}
			if want := "line " + itoa(tt.line) + ", column " + itoa(tt.col) + ": " + tt.msg; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestParseValid accepts what is JSON once each variable is a value, and
// text in strings that only looks like a variable.
func TestParseValid(t *testing.T) {
	for _, src := range []string{
		`{}`, `[]`, `""`, `0`, `-0.5e-3`, `true`, `null`, ` {"a" : [ ] } `,
		`{{Name}}`, `[{{Name}}, {{ResultsJson}}, {{ResultsJson.x}}[3]]`,
		`{"a": "{{"}`, `{"a": "}}{{"}`, `{"a": "{{Name"}`, `{"a": "{{ x y z }}"}`, `{"a": "{{\"}}"}`,
		`{"a": "\u00e9\/\b\f\n\r\t\"\\"}`, "{\"a\":\"é😀\"}",
		strings.Repeat("[", 1000) + strings.Repeat("]", 1000),
	} {
		tmpl, err := payload.Parse(src)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if out := tmpl.Render(trickyAlert()); !json.Valid(out) {
			t.Errorf("Parse(%q) renders invalid JSON %s", src, out)
		}
	}
}
