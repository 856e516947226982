package payload_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

func TestRender(t *testing.T) {
	at := time.Date(2024, 5, 1, 19, 8, 46, 0, time.UTC)
	cdt := time.FixedZone("CDT", -5*3600)
	rows := []hookline.Row{
		{"client_ip": "70.69.152.165", "errors": json.Number("391"), "Env": "prod"},
		{"client_ip": "10.0.0.2", "errors": json.Number("7"), "Env": nil},
	}
	tests := []struct {
		name  string
		src   string
		alert hookline.Alert
		want  string
	}{
		{"plain name", `{"n":"{{Name}}"}`, hookline.Alert{Name: "CPU high"}, `{"n":"CPU high"}`},
		{"spaces and case", `{"n":"{{ name }}|{{NAME}}|{{  nAmE  }}"}`, hookline.Alert{Name: "x"}, `{"n":"x|x|x"}`},
		{"key and value", `{"{{Name}}":"{{Name}}!"}`, hookline.Alert{Name: "k"}, `{"k":"k!"}`},
		{"layout kept", "{\n  \"a\" : [ 1 , \"{{Id}}\" ]\n}", hookline.Alert{SourceID: "00000000000468D5"}, "{\n  \"a\" : [ 1 , \"00000000000468D5\" ]\n}"},
		{"escaping", `{"n":"{{Name}}"}`, hookline.Alert{Name: "a\"b\\c\nd\re\tf\x01g\x1fh\x7fi\u2028j\u2029k\xffl</script>"},
			`{"n":"a\"b\\c\nd\re\tf\u0001g\u001fh` + "\x7f" + `i\u2028j\u2029k` + "\uFFFD" + `l</script>"}`},
		{"value never expanded", `{"n":"{{Name}}","d":{{Description}}}`, hookline.Alert{Name: "{{Description}}", Description: "{{Name}}"}, `{"n":"{{Description}}","d":"{{Name}}"}`},
		{"unresolved in string", `{"a":"<{{NoSuchThing}}>"}`, hookline.Alert{}, `{"a":"<>"}`},
		{"unresolved bare", `{"a":{{NoSuchThing}},"b":[{{Description}}]}`, hookline.Alert{}, `{"a":"","b":[""]}`},
		{"unknown name from Variables", `{"a":"{{MyField}}","b":{{myfield}}}`, hookline.Alert{Variables: map[string]string{"MYFIELD": "v"}}, `{"a":"v","b":"v"}`},
		{"exact key wins over case variants", `{"a":"{{Team}}"}`, hookline.Alert{Variables: map[string]string{"team": "1", "TEAM": "2", "Team": "3"}}, `{"a":"3"}`},
		{"case variants resolve deterministically", `{"a":"{{team}}x"}`, hookline.Alert{Variables: map[string]string{"tEAM": "1", "TEAM": "2", "Team": "3"}}, `{"a":"2x"}`},
		{"struct fields are not overridden by Variables", `{"a":"{{Name}}"}`, hookline.Alert{Name: "n", Variables: map[string]string{"Name": "v"}}, `{"a":"n"}`},
		{"AlertName defaults to Name", `{"a":"{{AlertName}}"}`, hookline.Alert{Name: "n"}, `{"a":"n"}`},
		{"AlertName from Variables", `{"a":"{{AlertName}}"}`, hookline.Alert{Name: "n", Variables: map[string]string{"alertName": "custom"}}, `{"a":"custom"}`},
		{"correlation keys", `["{{RoutingKey}}","{{DedupKey}}","{{PayloadSeverity}}","{{PayloadSource}}","{{ServiceKey}}","{{IncidentKey}}","{{SloDashboardUrl}}","{{Playbook}}","{{AlertSource}}"]`,
			hookline.Alert{Variables: map[string]string{"RoutingKey": "r", "DedupKey": "d", "PayloadSeverity": "s", "PayloadSource": "src", "ServiceKey": "sk", "IncidentKey": "ik", "SloDashboardUrl": "u", "Playbook": "p", "AlertSource": "as"}},
			`["r","d","s","src","sk","ik","u","p","as"]`},
		{"results in string, as Sumo sends", `{"results":"{{ResultsJson}}"}`, hookline.Alert{Results: rows[:1]},
			`{"results":"[{\"Env\":\"prod\",\"client_ip\":\"70.69.152.165\",\"errors\":391}]"}`},
		{"results bare", `{"results":{{ResultsJSON}}}`, hookline.Alert{Results: rows[:1]}, `{"results":[{"Env":"prod","client_ip":"70.69.152.165","errors":391}]}`},
		{"no results", `{"a":"{{ResultsJson}}","b":{{AggregateResultsJson}},"c":{{RawResultsJson}}}`, hookline.Alert{}, `{"a":"[]","b":[],"c":[]}`},
		{"field of first row", `{"t":"{{ResultsJson.client_ip}} had {{ResultsJson.errors}} errors"}`, hookline.Alert{Results: rows}, `{"t":"70.69.152.165 had 391 errors"}`},
		{"field index", `{"t":"{{ResultsJson.client_ip}}[1] {{Results.ERRORS}}[0] {{resultsjson.errors}}[1]"}`, hookline.Alert{Results: rows}, `{"t":"10.0.0.2 391 7"}`},
		{"field bare keeps type", `[{{ResultsJson.errors}},{{ResultsJson.client_ip}},{{ResultsJson.errors}}[1],{{ResultsJson.Env}}[1]]`, hookline.Alert{Results: rows}, `[391,"70.69.152.165",7,null]`},
		{"field missing", `{"a":"{{ResultsJson.nope}}","b":{{ResultsJson.nope}},"c":"{{ResultsJson.errors}}[2]","d":{{Results.errors}}[99999999999999]}`, hookline.Alert{Results: rows}, `{"a":"","b":"","c":"","d":""}`},
		{"field name with spaces", `{"a":"{{ResultsJson.src ip }}"}`, hookline.Alert{Results: []hookline.Row{{"src ip": "1.2.3.4"}}}, `{"a":"1.2.3.4"}`},
		{"index only after field variables", `{"a":"{{Name}}[0]","b":"{{ResultsJson}}[0]"}`, hookline.Alert{Name: "n"}, `{"a":"n[0]","b":"[][0]"}`},
		{"not an index", `{"a":"{{ResultsJson.errors}}[x] {{ResultsJson.errors}}[] {{ResultsJson.errors}} [0]"}`, hookline.Alert{Results: rows}, `{"a":"391[x] 391[] 391 [0]"}`},
		{"count is the source's, not the rows'", `{"a":"{{NumQueryResults}}","b":{{NumRawResults}}}`, hookline.Alert{Results: rows}, `{"a":"0","b":0}`},
		{"count set", `{"a":"{{NumQueryResults}}","b":{{NumQueryResults}}}`, hookline.Alert{Results: rows, NumQueryResults: 35}, `{"a":"35","b":35}`},
		{"times", `["{{TriggerTime}}","{{FireTime}}","{{TriggerTimeRange}}","{{TimeRange}}",{{TriggerTimeStart}},{{TriggerTimeEnd}},"{{TriggerTimeStart}}"]`,
			hookline.Alert{TriggerTime: at, TriggerTimeStart: at.Add(-24*time.Hour - 2*time.Minute), TriggerTimeEnd: at.Add(-2 * time.Minute), Location: cdt},
			`["05/01/2024 02:08:46 PM CDT","05/01/2024 02:08:46 PM CDT","04/30/2024 02:06:46 PM CDT to 05/01/2024 02:06:46 PM CDT","04/30/2024 02:06:46 PM CDT to 05/01/2024 02:06:46 PM CDT",1714504006000,1714590406000,"1714504006000"]`},
		{"times in UTC by default", `"{{TriggerTime}}"`, hookline.Alert{TriggerTime: at.In(cdt)}, `"05/01/2024 07:08:46 PM UTC"`},
		{"zero times", `["{{TriggerTime}}","{{TriggerTimeRange}}",{{TriggerTimeStart}},{{TriggerTimeEnd}},"{{TriggerTimeEnd}}"]`, hookline.Alert{}, `["","","","",""]`},
		{"range needs both ends", `"{{TriggerTimeRange}}"`, hookline.Alert{TriggerTimeStart: at}, `""`},
		{"trigger type", `["{{TriggerType}}",{{AlertStatus}}]`, hookline.Alert{TriggerType: hookline.TriggerMissingData}, `["MissingData","MissingData"]`},
		{"legacy names", `["{{SearchName}}","{{SearchDescription}}","{{SearchQuery}}","{{SearchQueryUrl}}","{{AlertThreshold}}","{{AlertCondition}}","{{AlertID}}"]`,
			hookline.Alert{Name: "n", Description: "d", Query: "q", QueryURL: "u", TriggerCondition: "c", SourceID: "i"}, `["n","d","q","u","c","c","i"]`},
		{"literal braces in strings", `{"a":"{{ not a var! }} {{ {{Name}} }} {{{Name}}} {{ }} {{ResultsJson.}} {{1x}} {{a b}} {{Name}","b":"{{"}`, hookline.Alert{Name: "n"},
			`{"a":"{{ not a var! }} {{ n }} {n} {{ }} {{ResultsJson.}} {{1x}} {{a b}} {{Name}","b":"{{"}`},
		{"escapes kept", `{"a\"{{Name}}":"\u00e9\n{{Name}}\\{{Name}}"}`, hookline.Alert{Name: "n"}, `{"a\"n":"\u00e9\nn\\n"}`},
		{"top-level variable", `{{ResultsJson}}`, hookline.Alert{}, `[]`},
		{"top-level string", ` "{{Name}}" `, hookline.Alert{Name: "x"}, ` "x" `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := mustParse(t, tt.src)
			got := tmpl.Render(&tt.alert)
			if string(got) != tt.want {
				t.Errorf("Render(%s)\n got %s\nwant %s", tt.src, got, tt.want)
			}
			decode(t, got)
			// AppendRender appends to what is there and renders the same.
			app := tmpl.AppendRender([]byte("prefix"), &tt.alert)
			if string(app) != "prefix"+tt.want {
				t.Errorf("AppendRender = %s, want prefix%s", app, tt.want)
			}
		})
	}
}

// TestResultsJsonLambdaCompat checks what existing Lambdas do with a quoted
// {{ResultsJson}}: json.loads(body), then json.loads(data["results"]).
func TestResultsJsonLambdaCompat(t *testing.T) {
	a := trickyAlert()
	a.Results = []hookline.Row{
		{"client_ip": tricky, "_count": json.Number("12")},
		{"client_ip": "198.51.100.23", "_count": json.Number("3")},
	}
	got := mustParse(t, `{"results": "{{ResultsJson}}", "rows": {{ResultsJson}}}`).Render(a)
	var body struct {
		Results string
		Rows    []map[string]any
	}
	if err := json.Unmarshal(got, &body); err != nil {
		t.Fatal(err)
	}
	var inner []map[string]any
	if err := json.Unmarshal([]byte(body.Results), &inner); err != nil {
		t.Fatalf("results is not JSON text: %v\n%s", err, body.Results)
	}
	want := []map[string]any{
		{"client_ip": strings.ReplaceAll(tricky, "\xff\xfe", "\uFFFD\uFFFD"), "_count": 12.0},
		{"client_ip": "198.51.100.23", "_count": 3.0},
	}
	if diff := cmp.Diff(want, inner); diff != "" {
		t.Errorf("rows decoded from the string (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, body.Rows); diff != "" {
		t.Errorf("bare rows (-want +got):\n%s", diff)
	}
}

func TestResultsLimits(t *testing.T) {
	rows := func(n int, raw string) []hookline.Row {
		var r []hookline.Row
		for i := range n {
			row := hookline.Row{"i": i}
			if raw != "" && i == n-1 { // one raw row makes them all raw
				row[raw] = "m"
			}
			r = append(r, row)
		}
		return r
	}
	tests := []struct {
		name     string
		rows     []hookline.Row
		wantRows int
		wantLast int // value of "i" in the last row rendered
	}{
		{"aggregate under the limit", rows(150, ""), 150, 149},
		{"aggregate over the limit", rows(250, ""), 200, 199},
		{"raw under the limit", rows(10, "Message"), 10, 9},
		{"raw over the limit", rows(15, "Message"), 10, 9},
		{"raw by _raw", rows(11, "_raw"), 10, 9},
		// Scheduled searches return field names in lower case.
		{"raw by message in lower case", rows(11, "message"), 10, 9},
		{"raw by _RAW in upper case", rows(12, "_RAW"), 10, 9},
		{"a field that only contains message is aggregate", rows(11, "messages"), 11, 10},
	}
	tmpl := mustParse(t, `{"bare":{{ResultsJson}},"in":"{{RawResultsJson}}","n":{{NumQueryResults}},"last":{{ResultsJson.i}}[300],"tenth":{{ResultsJson.i}}[9]}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got struct {
				Bare  []map[string]any
				In    string
				N     int
				Last  any
				Tenth float64
			}
			if err := json.Unmarshal(tmpl.Render(&hookline.Alert{Results: tt.rows, NumQueryResults: len(tt.rows)}), &got); err != nil {
				t.Fatal(err)
			}
			var in []map[string]any
			if err := json.Unmarshal([]byte(got.In), &in); err != nil {
				t.Fatal(err)
			}
			if len(got.Bare) != tt.wantRows || len(in) != tt.wantRows {
				t.Errorf("rows: bare %d, in string %d; want %d", len(got.Bare), len(in), tt.wantRows)
			}
			if last := got.Bare[len(got.Bare)-1]["i"]; last != float64(tt.wantLast) {
				t.Errorf("last row rendered has i=%v, want %d", last, tt.wantLast)
			}
			if got.N != len(tt.rows) {
				t.Errorf("NumQueryResults = %d, want all %d rows", got.N, len(tt.rows))
			}
			if got.Last != "" || got.Tenth != 9 {
				t.Errorf("index: [300] = %v (want \"\"), [9] = %v (want 9)", got.Last, got.Tenth)
			}
		})
	}
}

// TestRawFixturesCapped checks both raw fixtures, Sumo's spelling and a
// scheduled search's lower-case one, carry 10 of their 12 rows.
func TestRawFixturesCapped(t *testing.T) {
	tmpl := mustParse(t, `{"rows":{{ResultsJson}},"raw":{{RawResultsJson}}}`)
	for _, name := range []string{"raw", "raw-lower"} {
		var a *hookline.Alert
		for _, f := range fixtures {
			if f.name == name {
				a = f.alert()
			}
		}
		if a == nil {
			t.Fatalf("no fixture %q", name)
		}
		var got struct{ Rows, Raw []map[string]any }
		if err := json.Unmarshal(tmpl.Render(a), &got); err != nil {
			t.Fatal(err)
		}
		if len(a.Results) != 12 || len(got.Rows) != payload.MaxRawRows || len(got.Raw) != payload.MaxRawRows {
			t.Errorf("%s: %d rows carry %d in ResultsJson and %d in RawResultsJson, want %d", name, len(a.Results), len(got.Rows), len(got.Raw), payload.MaxRawRows)
		}
	}
}

func TestRenderNilAlert(t *testing.T) {
	got := mustParse(t, `{"a":"{{Name}}","b":{{ResultsJson}},"c":{{NumQueryResults}}}`).Render(nil)
	if want := `{"a":"","b":[],"c":0}`; string(got) != want {
		t.Errorf("Render(nil) = %s, want %s", got, want)
	}
}

// TestRenderConcurrent renders one template from many goroutines; run with
// -race it proves Render shares nothing mutable.
func TestRenderConcurrent(t *testing.T) {
	tmpl := mustParse(t, realPayloads[0].src)
	alerts := []*hookline.Alert{payload.Sample(hookline.TriggerCritical, fixedNow), trickyAlert(), rawAlert()}
	want := make([]string, len(alerts))
	for i, a := range alerts {
		want[i] = string(tmpl.Render(a))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var buf []byte
			for i := range 200 {
				k := (g + i) % len(alerts)
				buf = tmpl.AppendRender(buf[:0], alerts[k])
				if string(buf) != want[k] {
					t.Errorf("goroutine %d: rendering %d differs", g, k)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestRenderAllocs keeps Render cheap: rendering into a reused buffer
// does not allocate: row encoding reuses pooled scratch space.
func TestRenderAllocs(t *testing.T) {
	for _, p := range realPayloads {
		tmpl := mustParse(t, p.src)
		a := payload.Sample(hookline.TriggerCritical, fixedNow)
		buf := tmpl.Render(a)
		allocs := testing.AllocsPerRun(100, func() { buf = tmpl.AppendRender(buf[:0], a) })
		if allocs > maxRenderAllocs {
			t.Errorf("%s: AppendRender allocates %.1f times per call, want at most %d", p.name, allocs, maxRenderAllocs)
		}
	}
}

func TestVariablesAndUnknown(t *testing.T) {
	tests := []struct {
		src          string
		vars, unkown []string
	}{
		{`{"a":"{{Name}} {{ Foo }} {{name}}","b":{{Name}},"c":"{{ResultsJson.ip}}[2]{{results.x}}","d":{{zed}},"e":{{Foo}},"f":"{{AlertSource.host}}"}`,
			[]string{"Name", "Foo", "name", "ResultsJson.ip", "results.x", "zed", "AlertSource.host"},
			[]string{"AlertSource.host", "Foo", "zed"}},
		{`{"a":"{{ResultsJSON}}","b":"{{ not a var }}"}`, []string{"ResultsJSON"}, nil},
		{`[1,2]`, nil, nil},
	}
	for _, tt := range tests {
		tmpl := mustParse(t, tt.src)
		if diff := cmp.Diff(tt.vars, tmpl.Variables()); diff != "" {
			t.Errorf("Variables() of %s (-want +got):\n%s", tt.src, diff)
		}
		if diff := cmp.Diff(tt.unkown, tmpl.Unknown()); diff != "" {
			t.Errorf("Unknown() of %s (-want +got):\n%s", tt.src, diff)
		}
	}
	// The slices returned are the caller's.
	tmpl := mustParse(t, `["{{a}}","{{b}}"]`)
	tmpl.Variables()[0], tmpl.Unknown()[0] = "x", "x"
	if tmpl.Variables()[0] != "a" || tmpl.Unknown()[0] != "a" {
		t.Error("changing a returned slice changed the template")
	}
}

// TestReference checks the table the UI and docs show: names unique and
// known to Parse, aliases pointing at current variables, every struct field
// of hookline.Alert backing some variable.
func TestReference(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range payload.Reference {
		key := strings.ToLower(v.Name)
		if seen[key] {
			t.Errorf("%s listed twice", v.Name)
		}
		seen[key] = true
		if v.Description == "" || v.Example == "" {
			t.Errorf("%s: description and example are required", v.Name)
		}
		if v.AliasOf != "" && !v.Legacy {
			t.Errorf("%s: only legacy names are aliases", v.Name)
		}
	}
	for _, v := range payload.Reference {
		if v.AliasOf == "" {
			continue
		}
		var target *payload.Variable
		for i := range payload.Reference {
			if payload.Reference[i].Name == v.AliasOf {
				target = &payload.Reference[i]
			}
		}
		if target == nil || target.Legacy {
			t.Errorf("%s: AliasOf %q is not a current variable", v.Name, v.AliasOf)
		}
	}
	// Every variable the brief names is listed.
	for _, name := range strings.Fields(`Name Description MonitorType Query QueryURL ResultsJson ResultsJson.fieldName
		NumQueryResults Id DetectionMethod TriggerType TriggerTimeRange TriggerTime TriggerCondition TriggerValue
		TriggerTimeStart TriggerTimeEnd SourceURL AlertResponseUrl SloDashboardUrl AlertName Playbook SearchName
		SearchDescription SearchQuery SearchQueryUrl TimeRange FireTime AggregateResultsJson RawResultsJson
		NumRawResults Results.fieldName AlertThreshold AlertSource AlertID AlertStatus AlertCondition RoutingKey
		DedupKey PayloadSeverity PayloadSource ServiceKey IncidentKey`) {
		if !seen[strings.ToLower(name)] {
			t.Errorf("%s is missing from Reference", name)
		}
	}
	// Every field of Alert that holds alert data shows up in some variable:
	// render a template of all of Reference with each field set alone.
	var all strings.Builder
	all.WriteString("[")
	for i, v := range payload.Reference {
		if i > 0 {
			all.WriteString(",")
		}
		fmt.Fprintf(&all, `"{{%s}}"`, strings.Replace(v.Name, "fieldName", "f", 1))
	}
	all.WriteString("]")
	tmpl := mustParse(t, all.String())
	empty := string(tmpl.Render(&hookline.Alert{}))
	typ := reflect.TypeFor[hookline.Alert]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Location" || f.Name == "Variables" {
			continue
		}
		a := hookline.Alert{}
		fv := reflect.ValueOf(&a).Elem().Field(i)
		switch f.Type.Kind() {
		case reflect.String:
			fv.SetString("set")
		case reflect.Int:
			fv.SetInt(7)
		case reflect.Slice:
			a.Results = []hookline.Row{{"f": "set"}}
		default:
			fv.Set(reflect.ValueOf(fixedNow))
		}
		if string(tmpl.Render(&a)) == empty {
			t.Errorf("Alert.%s backs no variable of Reference", f.Name)
		}
	}
}
