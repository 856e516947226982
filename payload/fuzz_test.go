package payload_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

// allVariablesTemplate uses every variable of Reference inside a string and
// bare, and the field forms with and without a row index.
func allVariablesTemplate() string {
	var b strings.Builder
	b.WriteString("{")
	for i, v := range payload.Reference {
		name := strings.Replace(v.Name, "fieldName", "k", 1)
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `"%[1]s {{%[1]s}}": ["x{{%[1]s}}y", {{%[1]s}}, "{{%[1]s}}[1]"]`, name)
	}
	b.WriteString(`, "doc": [{{ResultsJson.doc}}, "{{ResultsJson.doc}}", {{Results.doc}}[1]], "custom": ["{{Custom}}", {{custom}}]}`)
	return b.String()
}

// fuzzAlert builds an alert from arbitrary values: every string field, every
// Variables entry and row value come from s and v, doc is any JSON, the
// times and count are arbitrary, and there are 1 to maxRows rows.
func fuzzAlert(s, v, doc string, n, maxRows int, ms int64) *hookline.Alert {
	at := time.UnixMilli(ms)
	var docValue any = doc
	if json.Valid([]byte(doc)) {
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		_ = dec.Decode(&docValue)
	}
	a := &hookline.Alert{
		Name: s, Description: v, MonitorType: s, Query: v, QueryURL: s, SourceID: v,
		DetectionMethod: s, TriggerType: hookline.TriggerType(v), TriggerCondition: s,
		TriggerValue: v, SourceURL: s, AlertResponseURL: v,
		NumQueryResults: n,
		TriggerTime:     at, TriggerTimeStart: at.Add(-time.Duration(n) * time.Minute), TriggerTimeEnd: at,
		Location:  time.FixedZone(v, int(ms%86400)),
		Variables: map[string]string{s: v, "custom": s},
	}
	for _, r := range payload.Reference {
		a.Variables[r.Name] = v
	}
	rows := 1 + (n&0x7fffffff)%maxRows
	for i := range rows {
		row := hookline.Row{"k": s, s: v, "doc": docValue, "n": json.Number(v)}
		if n < 0 && i == 0 {
			row["Message"] = v
		}
		a.Results = append(a.Results, row)
	}
	return a
}

// clip keeps fuzzed values short: a long value only makes each execution
// slower (it is copied into every row), it exercises nothing new.
func clip(s string) string {
	if len(s) > 256 {
		return s[:256]
	}
	return s
}

func checkOutput(t *testing.T, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("rendering is not valid JSON:\n%s", out)
	}
	if !utf8.Valid(out) {
		t.Fatalf("rendering is not valid UTF-8:\n%q", out)
	}
}

// FuzzRender renders every variable, quoted and bare, with arbitrary values
// and rows: the output must always be valid JSON.
func FuzzRender(f *testing.F) {
	tmpl := mustParse(f, allVariablesTemplate())
	f.Add("Hookline test alert", "Critical", `{"a":[1,2.5e3,"x",null,true]}`, 2, int64(1626189692042))
	f.Add(tricky, tricky, tricky, -5, int64(-62135596800001))
	f.Add("", "", "", 0, int64(0))
	f.Add("{{Name}}", "{{ResultsJson}}", `"\u0000\ud800"`, 300, int64(253402300800000))
	f.Add("\xff", "1e400", "-0", 11, int64(1))
	f.Fuzz(func(t *testing.T, s, v, doc string, n int, ms int64) {
		s, v, doc = clip(s), clip(v), clip(doc)
		checkOutput(t, tmpl.Render(fuzzAlert(s, v, doc, n, 260, ms)))
	})
}

// FuzzParse parses arbitrary templates. Parse must not panic, must explain a
// rejection with a position inside the template, must accept exactly the
// valid JSON when no variable is involved, and whatever it accepts must
// render to valid JSON with arbitrary values.
func FuzzParse(f *testing.F) {
	for _, p := range realPayloads {
		f.Add(p.src, tricky)
	}
	for _, src := range []string{
		allVariablesTemplate(), `{"a": 1 {{Name}} }`, `{"a":1,}`, `{"a": "{{Name}`, `{"a": {{Name}`,
		`{"a": "{{ResultsJson.x}}[0]"}`, `[{{ResultsJson.x}}[2], "{{{Name}}}"]`, `{"a":"\u00e9"}`, `""`, "",
	} {
		f.Add(src, "v")
	}
	f.Fuzz(func(t *testing.T, src, v string) {
		v = clip(v)
		tmpl, err := payload.Parse(src)
		if err != nil {
			var se *payload.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError: %v", err, err)
			}
			lines := strings.Count(src, "\n") + 1
			if se.Line < 1 || se.Line > lines || se.Column < 1 || se.Msg == "" {
				t.Fatalf("error outside the template (%d lines): %v", lines, err)
			}
			if !strings.Contains(src, "{{") && json.Valid([]byte(src)) && utf8.ValidString(src) && !strings.Contains(se.Msg, "nested more than") {
				t.Fatalf("valid JSON rejected: %v", err)
			}
			return
		}
		if !strings.Contains(src, "{{") {
			if !json.Valid([]byte(src)) {
				t.Fatalf("invalid JSON accepted")
			}
			if out := tmpl.Render(nil); !bytes.Equal(out, []byte(src)) {
				t.Fatalf("template without variables renders %q, want it unchanged", out)
			}
		}
		tmpl.Variables()
		tmpl.Unknown()
		checkOutput(t, tmpl.Render(nil))
		checkOutput(t, tmpl.Render(fuzzAlert(v, v, v, len(v), 12, int64(len(v))*1e9)))
		a := fuzzAlert(v, v, v, len(v), 12, 0)
		for _, name := range tmpl.Variables() {
			a.Variables[name] = v
			for _, row := range a.Results {
				if _, field, ok := strings.Cut(name, "."); ok {
					row[field] = v
				}
			}
		}
		checkOutput(t, tmpl.Render(a))
	})
}
