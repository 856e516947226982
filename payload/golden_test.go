package payload_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookline/hookline/payload"
)

// variableTemplate uses name inside quotes, bare and spelled in lower case.
// The field forms are used with a field of the fixtures' rows, with Sumo's
// row index, inside quotes and bare.
func variableTemplate(v payload.Variable) string {
	if head, ok := strings.CutSuffix(v.Name, ".fieldName"); ok {
		return fmt.Sprintf(`{"in": "<{{%[1]s.client_ip}}>", "bare": {{%[1]s.client_ip}}, "lower": "{{ %[2]s.CLIENT_IP }}", `+
			`"row1": "{{%[1]s.client_ip}}[1]", "row1bare": {{%[1]s._count}}[1], "count": {{%[1]s._count}}, "host": "{{%[1]s.host}}", `+
			`"missing": "{{%[1]s.nope}}[7]", "missingbare": {{%[1]s.nope}}, "nested": "{{%[1]s.nested}}", "nestedbare": {{%[1]s.nested}}, `+
			`"none": "{{%[1]s.none}}", "nonebare": {{%[1]s.none}}, "notanumber": {{%[1]s.notanumber}}, "big": {{%[1]s.big}}, "nan": {{%[1]s.nan}}}`,
			head, strings.ToLower(head))
	}
	return fmt.Sprintf(`{"in": "<{{%[1]s}}>", "bare": {{%[1]s}}, "lower": "{{ %[2]s }}"}`, v.Name, strings.ToLower(v.Name))
}

// TestGoldenVariables renders every variable of Reference, legacy names
// included, for every fixture, and checks what must hold whatever the golden
// file says: the output is valid UTF-8 JSON, the name is case-insensitive,
// the bare value is the quoted one as JSON, and a legacy name renders as the
// variable it is an alias of.
func TestGoldenVariables(t *testing.T) {
	renders := map[string][]byte{} // variable name -> all renderings, for the alias check
	for _, v := range payload.Reference {
		t.Run(v.Name, func(t *testing.T) {
			src := variableTemplate(v)
			tmpl := mustParse(t, src)
			if u := tmpl.Unknown(); len(u) != 0 {
				t.Errorf("Unknown() = %q, want none for a Reference variable", u)
			}
			var out bytes.Buffer
			fmt.Fprintf(&out, "template: %s\n", src)
			for _, f := range fixtures {
				got := tmpl.Render(f.alert())
				if !utf8.Valid(got) {
					t.Errorf("%s: rendering is not valid UTF-8: %q", f.name, got)
				}
				m := decode(t, got).(map[string]any)
				in := m["in"].(string)
				if !strings.HasPrefix(in, "<") || !strings.HasSuffix(in, ">") {
					t.Fatalf("%s: in = %q, want the value between < and >", f.name, in)
				}
				in = in[1 : len(in)-1]
				if m["lower"] != in {
					t.Errorf("%s: lower-case spelling gives %q, want %q", f.name, m["lower"], in)
				}
				checkBareMatchesQuoted(t, f.name, in, m["bare"])
				fmt.Fprintf(&out, "%s: %s\n", f.name, got)
			}
			renders[v.Name] = bytes.SplitN(out.Bytes(), []byte("\n"), 2)[1]
			checkGolden(t, "variables/"+v.Name+".golden", out.Bytes())
		})
	}
	for _, v := range payload.Reference {
		if v.AliasOf == "" {
			continue
		}
		if !bytes.Equal(renders[v.Name], renders[v.AliasOf]) {
			t.Errorf("legacy %s renders\n%s\nbut %s renders\n%s", v.Name, renders[v.Name], v.AliasOf, renders[v.AliasOf])
		}
	}
}

// checkBareMatchesQuoted asserts that a variable's bare value is what its
// quoted text means: the same string, or the JSON the text spells.
func checkBareMatchesQuoted(t *testing.T, fixture, in string, bare any) {
	t.Helper()
	switch bare := bare.(type) {
	case string:
		if bare != in {
			t.Errorf("%s: bare = %q, quoted = %q", fixture, bare, in)
		}
	case nil:
		if in != "" {
			t.Errorf("%s: bare null, quoted %q, want empty", fixture, in)
		}
	default:
		var want any
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%s: quoted text %q of a bare %T value is not JSON: %v", fixture, in, bare, err)
		}
		if !reflect.DeepEqual(bare, want) {
			t.Errorf("%s: bare = %#v, quoted text means %#v", fixture, bare, want)
		}
	}
}

// TestGoldenPayloads renders the default payloads of Sumo Logic's connection
// types for every fixture.
func TestGoldenPayloads(t *testing.T) {
	for _, p := range realPayloads {
		t.Run(p.name, func(t *testing.T) {
			tmpl := mustParse(t, p.src)
			if u := tmpl.Unknown(); len(u) != 0 {
				t.Errorf("Unknown() = %q, want none", u)
			}
			var out bytes.Buffer
			for _, f := range fixtures {
				got := tmpl.Render(f.alert())
				decode(t, got)
				if !utf8.Valid(got) {
					t.Errorf("%s: rendering is not valid UTF-8", f.name)
				}
				fmt.Fprintf(&out, "=== %s\n%s\n", f.name, got)
			}
			checkGolden(t, "payloads/"+p.name+".golden", out.Bytes())
		})
	}
}
