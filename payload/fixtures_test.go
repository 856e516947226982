package payload_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

var update = flag.Bool("update", false, "rewrite the testdata/**/*.golden files from the current output")

// fixedNow is the "now" of every fixture, so goldens do not change with the clock.
var fixedNow = time.Date(2021, 7, 13, 15, 36, 32, 42e6, time.UTC)

// tricky holds everything that breaks naive templating: quotes, backslashes,
// line breaks, control characters, an HTML end tag, non-ASCII text, invalid
// UTF-8, JavaScript line separators and variable syntax, which must come out
// as text and never be expanded.
const tricky = "q\"uote \\back\nnl\ttab\x00\x1f\x7f </script> Ünïcødé ✓ 😀 bad:\xff\xfe {{Name}} {{ResultsJson}} \u2028\u2029 end"

type fixture struct {
	name  string
	alert func() *hookline.Alert
}

var fixtures = []fixture{
	{"sample", func() *hookline.Alert { return payload.Sample(hookline.TriggerCritical, fixedNow) }},
	{"tricky", trickyAlert},
	{"raw", rawAlert},
	{"raw-lower", rawLowerAlert},
	{"empty", func() *hookline.Alert { return &hookline.Alert{} }},
}

func trickyAlert() *hookline.Alert {
	return &hookline.Alert{
		Name:             tricky + " name",
		Description:      tricky + " description",
		MonitorType:      tricky + " monitortype",
		Query:            tricky + " query",
		QueryURL:         tricky + " queryurl",
		SourceID:         tricky + " id",
		DetectionMethod:  tricky + " detectionmethod",
		TriggerType:      hookline.TriggerType(tricky + " triggertype"),
		TriggerCondition: tricky + " triggercondition",
		TriggerValue:     tricky + " triggervalue",
		SourceURL:        tricky + " sourceurl",
		AlertResponseURL: tricky + " alertresponseurl",
		TriggerTime:      fixedNow,
		TriggerTimeStart: fixedNow.Add(-15 * time.Minute),
		TriggerTimeEnd:   fixedNow,
		Location:         time.FixedZone("CDT", -5*3600),
		NumQueryResults:  2,
		Results: []hookline.Row{
			{
				"client_ip":           tricky + " ip",
				"_count":              json.Number("12"),
				"nested":              map[string]any{"b": []any{true, nil, 1.5}, "a": hookline.Row{"z": "y"}},
				"weird \"key\"\n\xff": "v",
				"ratio":               0.25,
				"big":                 1e21,
				"nan":                 math.NaN(),
				"none":                nil,
				"notanumber":          json.Number("0x12"),
				"int":                 7,
				"strings":             []string{"a", "</b>"},
			},
			{"client_ip": "198.51.100.23", "_count": json.Number("-3.5e+2")},
		},
		Variables: map[string]string{
			"alertname":       tricky + " alertname",
			"SLODASHBOARDURL": tricky + " slodashboardurl",
			"Playbook":        tricky + " playbook",
			"AlertSource":     tricky + " alertsource",
			"RoutingKey":      tricky + " routingkey",
			"DedupKey":        tricky + " dedupkey",
			"PayloadSeverity": tricky + " payloadseverity",
			"PayloadSource":   tricky + " payloadsource",
			"ServiceKey":      tricky + " servicekey",
			"IncidentKey":     tricky + " incidentkey",
			"Custom":          tricky + " custom",
		},
	}
}

// rawAlert is a scheduled search over raw messages: more rows than the 10
// that {{ResultsJson}} carries, and a count that is not len(Results).
func rawAlert() *hookline.Alert {
	a := &hookline.Alert{
		Name:             "Failed logins",
		Query:            `_sourceCategory=auth "login failed"`,
		NumQueryResults:  35,
		TriggerTime:      fixedNow,
		TriggerTimeStart: fixedNow.Add(-24 * time.Hour),
		TriggerTimeEnd:   fixedNow,
		Location:         time.FixedZone("AEDT", 11*3600),
	}
	for i := range 12 {
		a.Results = append(a.Results, hookline.Row{
			"Message":  "login failed for user" + string(rune('a'+i)),
			"Time":     json.Number("16470606010" + string(rune('0'+i%10)) + "0"),
			"Host":     "web-" + string(rune('1'+i%3)),
			"Category": "auth",
		})
	}
	return a
}

// rawLowerAlert is rawAlert as a scheduled search delivers it: field names
// in lower case ("Fields are returned in lowercase in scheduled search
// results"). Its rows are still raw messages, so at most 10 are carried.
func rawLowerAlert() *hookline.Alert {
	a := rawAlert()
	for i, row := range a.Results {
		lower := hookline.Row{}
		for k, v := range row {
			lower[strings.ToLower(k)] = v
		}
		a.Results[i] = lower
	}
	return a
}

// checkGolden compares got with testdata/name, or rewrites it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering (run go test -update if the change is intended)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func mustParse(t testing.TB, src string) *payload.Template {
	t.Helper()
	tmpl, err := payload.Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return tmpl
}

// decode unmarshals a rendering, keeping numbers exact.
func decode(t testing.TB, b []byte) any {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("rendering is not valid JSON: %s", b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}
