package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/payload"
)

// problems returns the fields a 400 answer names, with their messages, and
// fails unless a is one.
func problems(t *testing.T, a answer) map[string]string {
	t.Helper()
	if a.code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", a.code, a.raw)
	}
	var resp hookhttp.ErrorResponse
	if err := json.Unmarshal([]byte(a.raw), &resp); err != nil {
		t.Fatalf("error answer %s: %v", a.raw, err)
	}
	out := map[string]string{}
	for _, e := range resp.Errors {
		if e.Message == "" {
			t.Errorf("problem without a message: %+v", e)
		}
		out[e.Field] = e.Message
	}
	return out
}

func TestPayloadVariables(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	nobody := e.user("nobody") // any signed-in caller may read them
	a := e.as(nobody, "GET", "/api/v1/payload/variables", "")
	if a.code != http.StatusOK {
		t.Fatalf("status %d: %s", a.code, a.raw)
	}
	var got struct {
		Data []struct {
			Name, Description, Example, AliasOf string
			Legacy                              bool
		}
	}
	if err := json.Unmarshal([]byte(a.raw), &got); err != nil {
		t.Fatal(err)
	}
	var want []payload.Variable
	for _, v := range got.Data {
		want = append(want, payload.Variable{Name: v.Name, Description: v.Description, Example: v.Example, Legacy: v.Legacy, AliasOf: v.AliasOf})
	}
	if diff := cmp.Diff(payload.Reference, want); diff != "" {
		t.Errorf("variables (-reference +answer):\n%s", diff)
	}
	// Every key is present, aliasOf too when empty, as the contract shows.
	if !strings.Contains(a.raw, `"aliasOf": ""`) || !strings.Contains(a.raw, `"legacy": true`) {
		t.Errorf("answer lacks empty aliasOf or legacy entries: %.300s", a.raw)
	}
	if p := problems(t, e.as(nobody, "GET", "/api/v1/payload/variables?legacy=false", "")); p["legacy"] == "" {
		t.Errorf("unknown parameter: %v", p)
	}
}

func TestPayloadPreview(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	nobody := e.user("nobody")
	preview := func(body string) answer {
		t.Helper()
		return e.as(nobody, "POST", "/api/v1/payload/preview", body)
	}
	// These templates use no time, so the sample renders the same whenever
	// it is made: the answer must be byte for byte what Test Alert sends.
	const full = "{\n  \"name\": \"{{Name}}\", \"type\": \"{{TriggerType}}\", \"value\": \"{{TriggerValue}}\",\n" +
		"  \"n\": {{NumQueryResults}}, \"rows\": {{ResultsJson}}, \"ip\": \"{{ResultsJson.client_ip}}\",\n" +
		"  \"x\": \"{{Nope}}\", \"again\": \"{{Name}} {{nope}}\"\n}"
	ok := []struct {
		name, template, trigger string
		variables, unknown      []string
	}{
		{"default trigger", full, "", []string{"Name", "TriggerType", "TriggerValue", "NumQueryResults", "ResultsJson", "ResultsJson.client_ip", "Nope", "nope"}, []string{"Nope", "nope"}},
		{"recovery", full, "ResolvedCritical", nil, nil},
		{"no variables", `[1, true, null, "x"]`, "Warning", []string{}, []string{}},
		{"the longest allowed", `{"a": "` + strings.Repeat("x", hookline.MaxDefaultPayloadLen-9) + `"}`, "", []string{}, []string{}},
		{"characters beyond ASCII", `{"é😀": "{{ Name }} ✓"}`, "", []string{"Name"}, []string{}},
	}
	for _, tr := range []hookline.TriggerType{hookline.TriggerNormal, hookline.TriggerCritical, hookline.TriggerWarning, hookline.TriggerMissingData,
		hookline.TriggerResolvedCritical, hookline.TriggerResolvedWarning, hookline.TriggerResolvedMissingData} {
		ok = append(ok, struct {
			name, template, trigger string
			variables, unknown      []string
		}{"trigger " + string(tr), `{"t": "{{TriggerType}}", "c": "{{TriggerCondition}}", "s": "{{PayloadSeverity}}"}`, string(tr), nil, nil})
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"template": tt.template}
			if tt.trigger != "" {
				body["triggerType"] = tt.trigger
			}
			a := preview(mustJSON(body))
			if a.code != http.StatusOK {
				t.Fatalf("status %d: %s", a.code, a.raw)
			}
			var got struct {
				Rendered           string
				Variables, Unknown []string
			}
			if err := json.Unmarshal([]byte(a.raw), &got); err != nil {
				t.Fatal(err)
			}
			trigger := hookline.TriggerType(tt.trigger)
			tmpl, err := payload.Parse(tt.template)
			if err != nil {
				t.Fatal(err)
			}
			if want := string(tmpl.Render(payload.Sample(trigger, time.Now()))); got.Rendered != want {
				t.Errorf("rendered %.200s\nwant %.200s", got.Rendered, want)
			}
			var rendered any
			if err := json.Unmarshal([]byte(got.Rendered), &rendered); err != nil {
				t.Errorf("rendered is not JSON: %v: %.200s", err, got.Rendered)
			}
			v, _ := rendered.(map[string]any)
			if tt.variables != nil {
				if diff := cmp.Diff(tt.variables, got.Variables); diff != "" || got.Variables == nil {
					t.Errorf("variables (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.unknown, got.Unknown); diff != "" || got.Unknown == nil {
					t.Errorf("unknown (-want +got):\n%s", diff)
				}
			}
			if tt.name == "default trigger" && (v["type"] != "Critical" || v["n"] != 2.0 || v["x"] != "") {
				t.Errorf("rendered %v; want the Critical sample with its 2 rows and the unknown variable empty", v)
			}
			if tt.name == "recovery" && (v["type"] != "ResolvedCritical" || v["value"] != "87") {
				t.Errorf("rendered %v; want the recovery sample", v)
			}
		})
	}

	bad := []struct {
		name, body string
		want       map[string]string // field → part of its message
	}{
		{"syntax error", mustJSON(map[string]string{"template": "{\n  \"a\": 1,\n}"}), map[string]string{"template": "line 2, column 9: trailing comma before '}'"}},
		{"unclosed variable", `{"template": "{\"a\": {{Name}"}`, map[string]string{"template": "line 1, column 13: expected }} to close the variable"}},
		{"columns in characters", mustJSON(map[string]string{"template": `{"é😀": 1,, }`}), map[string]string{"template": "line 1, column 10"}},
		{"empty template", `{"template": ""}`, map[string]string{"template": "is required"}},
		{"blank template", `{"template": " \n\t"}`, map[string]string{"template": "is required"}},
		{"no template", `{"triggerType": "Critical"}`, map[string]string{"template": "is required"}},
		{"null template", `{"template": null}`, map[string]string{"template": "is required"}},
		{"template not a string", `{"template": {"a": 1}}`, map[string]string{"template": "must be a string"}},
		{"one byte too long", mustJSON(map[string]string{"template": `{"a": "` + strings.Repeat("x", hookline.MaxDefaultPayloadLen-8) + `"}`}),
			map[string]string{"template": fmt.Sprintf("is %d bytes long; at most %d are allowed", hookline.MaxDefaultPayloadLen+1, hookline.MaxDefaultPayloadLen)}},
		{"unknown trigger", `{"template": "{}", "triggerType": "critical"}`, map[string]string{"triggerType": `must be one of Critical, Warning, MissingData, Normal, ResolvedCritical, ResolvedWarning or ResolvedMissingData, not "critical"`}},
		{"trigger not a string", `{"template": "{}", "triggerType": 2}`, map[string]string{"triggerType": "must be a string"}},
		{"unknown field", `{"template": "{}", "body": "{}"}`, map[string]string{"body": "is not a field of a preview; use template, triggerType, payload"}},
		{"unknown payload", `{"template": "{}", "payload": "alertPayload"}`, map[string]string{"payload": `must be defaultPayload or resolutionPayload, not "alertPayload"`}},
		{"recovery payload one byte too long", mustJSON(map[string]string{"payload": "resolutionPayload", "template": `{"a": "` + strings.Repeat("x", hookline.MaxResolutionPayloadLen-8) + `"}`}),
			map[string]string{"template": fmt.Sprintf("is %d bytes long; at most %d are allowed", hookline.MaxResolutionPayloadLen+1, hookline.MaxResolutionPayloadLen)}},
		{"every problem at once", `{"template": "[", "triggerType": "Bad", "alert": {}, "zz": 1}`, map[string]string{
			"template": "line 1, column 2: unexpected end of template", "triggerType": `not "Bad"`,
			"alert": "is not a field", "zz": "is not a field"}},
		{"not JSON", `{"template": `, map[string]string{"": "not valid JSON"}},
		{"not an object", `["{}"]`, map[string]string{"": "must be a JSON object"}},
		{"two objects", `{"template": "{}"} {}`, map[string]string{"": "more than one JSON value"}},
		{"empty body", ``, map[string]string{"": "empty"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, preview(tt.body))
			for field, msg := range tt.want {
				if !strings.Contains(got[field], msg) {
					t.Errorf("field %q: %q; want it to say %q (all: %v)", field, got[field], msg, got)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("problems %v; want exactly %v", got, tt.want)
			}
		})
	}

	t.Run("query parameter", func(t *testing.T) {
		if p := problems(t, e.as(nobody, "POST", "/api/v1/payload/preview?triggerType=Critical", `{"template": "{}"}`)); p["triggerType"] == "" {
			t.Errorf("problems %v; want triggerType named as a parameter the route does not take", p)
		}
	})
	t.Run("body over the limit", func(t *testing.T) {
		a := preview(`{"template": "` + strings.Repeat(" ", hookhttp.MaxBodyBytes) + `"}`)
		if a.code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413: %.200s", a.code, a.raw)
		}
	})
}

// The preview and saving a connection judge a template alike: what one
// refuses the other refuses with the same message, and unknown variables
// warn in both.
func TestPayloadPreviewAgreesWithSave(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	templates := []string{
		`{"a": "{{Name}}"}`,
		`{"rows": {{ResultsJson}}, "n": {{NumQueryResults}}, "f": {{ResultsJson._count}}[1]}`,
		`{"x": "{{NoSuchVariable}}", "y": {{AlsoUnknown}}}`,
		"{\n  \"a\": 1,\n}",
		`{"a": {{Name}`,
		`{ {{Name}}: 1}`,
		`{"é😀": 1,, }`,
		`{} {}`,
		`"just a string"`,
		"",
		"  \n",
		strings.Repeat("[", 1001) + strings.Repeat("]", 1001),
		`{"a": "` + strings.Repeat("x", hookline.MaxDefaultPayloadLen-9) + `"}`,
		`{"a": "` + strings.Repeat("x", hookline.MaxDefaultPayloadLen-8) + `"}`,
	}
	for i, src := range templates {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			pv := e.as(e.admin, "POST", "/api/v1/payload/preview", mustJSON(map[string]string{"template": src}))
			save := e.as(e.admin, "POST", "/api/v1/connections", mustJSON(map[string]any{
				"webhookType": "Webhook", "name": e.unique("agree"), "url": e.target + "/hook", "defaultPayload": src}))
			if (pv.code == http.StatusOK) != (save.code == http.StatusOK) {
				t.Fatalf("preview %d, save %d:\n%.300s\n%.300s", pv.code, save.code, pv.raw, save.raw)
			}
			if pv.code != http.StatusOK {
				// The same message, but for what each says a missing
				// template is for.
				pm, sm := problems(t, pv)["template"], problems(t, save)["defaultPayload"]
				required := strings.HasPrefix(pm, "is required") && strings.HasPrefix(sm, "is required")
				if pm == "" || (pm != sm && !required) {
					t.Errorf("preview says %q, save says %q", pm, sm)
				}
				return
			}
			var got struct{ Unknown []string }
			json.Unmarshal([]byte(pv.raw), &got)
			warned := fmt.Sprint(save.body["warnings"])
			for _, u := range got.Unknown {
				if !strings.Contains(warned, u) {
					t.Errorf("preview finds %s unknown, save's warnings do not: %s", u, warned)
				}
			}
			if (len(got.Unknown) == 0) != (save.body["warnings"] == nil) {
				t.Errorf("preview unknown %q, save warnings %v", got.Unknown, save.body["warnings"])
			}
		})
	}
}

// The region and service of AWSLambda come with the values a form offers;
// fields without a list say nothing of options.
func TestConnectionTypeOptions(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	a := e.as(e.admin, "GET", "/api/v1/connections/types", "")
	if a.code != http.StatusOK {
		t.Fatalf("status %d: %s", a.code, a.raw)
	}
	var got struct {
		Data []struct {
			WebhookType string
			Fields      []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(a.raw), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"AWSLambda/region":         awslambda.Regions(),
		"AWSLambda/serviceName":    {"lambda", "execute-api"},
		"AWSLambda/authMode":       {"accessKey", "assumeRole"},
		"AWSLambda/invokeMode":     {"functionUrl", "invoke"},
		"AWSLambda/invocationType": {"RequestResponse", "Event"},
	}
	seen := 0
	for _, k := range got.Data {
		for _, f := range k.Fields {
			key := k.WebhookType + "/" + f["name"].(string)
			raw, has := f["options"]
			if !has {
				if want[key] != nil {
					t.Errorf("%s has no options; want %q", key, want[key])
				}
				continue
			}
			seen++
			var opts []string
			for _, o := range raw.([]any) {
				opts = append(opts, o.(string))
			}
			if diff := cmp.Diff(want[key], opts); diff != "" {
				t.Errorf("%s options (-want +got):\n%s", key, diff)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d fields have options; want %d", seen, len(want))
	}
}

// statsAnswer is the body of GET /deliveries/stats.
type statsAnswer struct {
	Since   time.Time
	Bucket  string
	Buckets []struct {
		Start                            time.Time
		Pending, Delivered, Failed, Dead int
	}
}

func TestDeliveryStats(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	viewer := e.user("viewer", hookline.ViewAlerts)
	// Deliveries now, in every state.
	var ids []string
	for range 5 {
		_, id := e.alert()
		ids = append(ids, id)
	}
	var results []hookline.AttemptResult
	for i, s := range []hookline.DeliveryState{hookline.DeliveryDelivered, hookline.DeliveryDelivered, hookline.DeliveryFailed, hookline.DeliveryDead} {
		results = append(results, hookline.AttemptResult{State: s,
			Attempt: hookline.DeliveryAttempt{DeliveryID: ids[i], N: 1, StartedAt: time.Now(), StatusCode: 200}})
	}
	if err := e.db.RecordAttempts(context.Background(), "", results); err != nil {
		t.Fatal(err)
	}
	var stored []*hookline.Delivery
	for _, id := range ids {
		d, _, err := e.db.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, d)
	}
	// want counts the stored deliveries into buckets as the answer has them.
	want := func(s statsAnswer, bucket time.Duration) statsAnswer {
		w := s
		w.Buckets = slices.Clone(s.Buckets)
		for i := range w.Buckets {
			w.Buckets[i].Pending, w.Buckets[i].Delivered, w.Buckets[i].Failed, w.Buckets[i].Dead = 0, 0, 0, 0
		}
		for _, d := range stored {
			if d.CreatedAt.Before(s.Since) {
				continue
			}
			b := &w.Buckets[min(int(d.CreatedAt.Sub(s.Since)/bucket), len(w.Buckets)-1)]
			switch d.State {
			case hookline.DeliveryPending:
				b.Pending++
			case hookline.DeliveryDelivered:
				b.Delivered++
			case hookline.DeliveryFailed:
				b.Failed++
			case hookline.DeliveryDead:
				b.Dead++
			}
		}
		return w
	}
	stats := func(query string) (statsAnswer, answer) {
		t.Helper()
		a := e.as(viewer, "GET", "/api/v1/deliveries/stats"+query, "")
		var s statsAnswer
		if a.code == http.StatusOK {
			if err := json.Unmarshal([]byte(a.raw), &s); err != nil {
				t.Fatal(err)
			}
		}
		return s, a
	}
	at := func(d time.Duration) string { return url.QueryEscape(time.Now().Add(d).Format(time.RFC3339Nano)) }

	ok := []struct {
		name        string
		query       string
		bucket      time.Duration
		since       func(now time.Time) time.Time // nil: as given
		least, most int                           // number of buckets
		counted     int                           // deliveries in them
	}{
		{"defaults", "", time.Hour, func(now time.Time) time.Time { return now.Add(-24 * time.Hour).Truncate(time.Hour) }, 25, 25, 5},
		{"quarter hours for two hours", "?bucket=15m&since=" + at(-2*time.Hour), 15 * time.Minute, nil, 9, 9, 5},
		{"a day of days", "?bucket=24h", 24 * time.Hour, func(now time.Time) time.Time { return now.Add(-24 * time.Hour).Truncate(24 * time.Hour) }, 2, 2, 5},
		{"minutes: the default window shrinks", "?bucket=1m", time.Minute,
			func(now time.Time) time.Time {
				return now.Truncate(time.Minute).Add(-(hookline.MaxDeliveryBuckets - 2) * time.Minute)
			}, hookline.MaxDeliveryBuckets - 1, hookline.MaxDeliveryBuckets, 5},
		{"the most buckets", "?bucket=1h&since=" + at(-(hookline.MaxDeliveryBuckets-1)*time.Hour-time.Minute), time.Hour, nil, hookline.MaxDeliveryBuckets, hookline.MaxDeliveryBuckets, 5},
		{"since now", "?since=" + at(0), time.Hour, nil, 1, 1, 0},
		{"an offset time", "?bucket=90m&since=" + url.QueryEscape(time.Now().Add(-3*time.Hour).In(time.FixedZone("", 2*3600)).Format(time.RFC3339)), 90 * time.Minute, nil, 3, 3, 5},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			s, a := stats(tt.query)
			if a.code != http.StatusOK {
				t.Fatalf("status %d: %s", a.code, a.raw)
			}
			if s.Bucket != tt.bucket.String() {
				t.Errorf("bucket %q; want %q", s.Bucket, tt.bucket)
			}
			if since, _ := a.body["since"].(string); !strings.HasSuffix(since, "Z") {
				t.Errorf("since %q is not given in UTC", since)
			}
			if tt.since != nil && !s.Since.Equal(tt.since(before)) && !s.Since.Equal(tt.since(time.Now())) {
				t.Errorf("since %v; want %v", s.Since, tt.since(before))
			}
			if len(s.Buckets) < tt.least || len(s.Buckets) > tt.most {
				t.Fatalf("%d buckets; want %d to %d", len(s.Buckets), tt.least, tt.most)
			}
			for i, b := range s.Buckets {
				if want := s.Since.Add(time.Duration(i) * tt.bucket); !b.Start.Equal(want) {
					t.Errorf("bucket %d starts at %v; want %v", i, b.Start, want)
				}
			}
			last := s.Buckets[len(s.Buckets)-1]
			if last.Start.After(time.Now()) || !last.Start.Add(tt.bucket).After(before) {
				t.Errorf("the last bucket starts at %v; want the one holding now", last.Start)
			}
			w := want(s, tt.bucket)
			if diff := cmp.Diff(w, s); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			total := 0
			for _, b := range w.Buckets {
				total += b.Pending + b.Delivered + b.Failed + b.Dead
			}
			if total != tt.counted {
				t.Errorf("the test counts %d deliveries; want %d", total, tt.counted)
			}
		})
	}

	bad := []struct {
		name, query string
		want        map[string]string
	}{
		{"not a duration", "?bucket=hourly", map[string]string{"bucket": `must be a duration such as 1h, 15m or 30m, not "hourly"`}},
		{"too short", "?bucket=30s", map[string]string{"bucket": "must be from 1m to 24h, not 30s"}},
		{"too long", "?bucket=25h", map[string]string{"bucket": "must be from 1m to 24h"}},
		{"negative", "?bucket=-1h", map[string]string{"bucket": "must be from 1m to 24h"}},
		{"not a time", "?since=yesterday", map[string]string{"since": `must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not "yesterday"`}},
		{"a date only", "?since=2026-11-26", map[string]string{"since": "must be an RFC 3339 time"}},
		{"in the future", "?since=" + at(time.Hour), map[string]string{"since": "after now"}},
		{"too many buckets", "?bucket=1h&since=" + at(-30*24*time.Hour), map[string]string{"bucket": "at most 500 are allowed"}},
		{"too many minutes", "?bucket=1m&since=" + at(-24*time.Hour), map[string]string{"bucket": "makes 1441 buckets"}},
		{"both bad", "?bucket=0&since=now", map[string]string{"bucket": "must be from 1m", "since": "must be an RFC 3339 time"}},
		{"unknown parameter", "?from=" + at(-time.Hour), map[string]string{"from": "is not a parameter of GET /api/v1/deliveries/stats; use since, bucket"}},
		{"given twice", "?bucket=1h&bucket=2h", map[string]string{"bucket": "is given 2 times"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, a := stats(tt.query)
			got := problems(t, a)
			for field, msg := range tt.want {
				if !strings.Contains(got[field], msg) {
					t.Errorf("field %q: %q; want it to say %q (all: %v)", field, got[field], msg, got)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("problems %v; want exactly %v", got, tt.want)
			}
		})
	}
}

func TestLatestDeliveries(t *testing.T) {
	e := newAccessEnv(t, hookhttp.Limits{})
	viewer := e.user("viewer", hookline.ViewAlerts)
	latest := func() []map[string]any {
		t.Helper()
		a := e.as(viewer, "GET", "/api/v1/deliveries/latest", "")
		if a.code != http.StatusOK {
			t.Fatalf("status %d: %s", a.code, a.raw)
		}
		var got struct{ Data []map[string]any }
		if err := json.Unmarshal([]byte(a.raw), &got); err != nil || got.Data == nil {
			t.Fatalf("answer %s: %v; want a data list", a.raw, err)
		}
		return got.Data
	}
	if got := latest(); len(got) != 0 {
		t.Errorf("no deliveries yet: %v", got)
	}

	a, b, idle := e.connection(), e.connection(), e.connection()
	send := func(c *hookline.Connection) {
		t.Helper()
		r := e.as(e.admin, "POST", "/api/v1/alerts", mustJSON(alertObj(map[string]any{
			"notifications": []any{map[string]any{"connectionId": c.ID}}})))
		if r.code != http.StatusAccepted {
			t.Fatalf("post alert: %d %s", r.code, r.raw)
		}
		time.Sleep(2 * time.Millisecond) // apart in time
	}
	send(a)
	send(b)
	send(a)
	// Each item is the connection's first in the log, in the log's shape.
	var want []map[string]any
	for _, c := range []*hookline.Connection{a, b} {
		r := e.as(viewer, "GET", "/api/v1/deliveries?limit=1&connectionId="+c.ID, "")
		list, _ := r.body["data"].([]any)
		if r.code != http.StatusOK || len(list) != 1 {
			t.Fatalf("log of %s: %d %s", c.Name, r.code, r.raw)
		}
		want = append(want, list[0].(map[string]any))
	}
	if diff := cmp.Diff(want, latest()); diff != "" {
		t.Errorf("latest (-want +got):\n%s", diff)
	}
	if got := latest(); slices.ContainsFunc(got, func(d map[string]any) bool { return d["connectionId"] == idle.ID }) {
		t.Errorf("a connection without deliveries is listed: %v", got)
	}

	if p := problems(t, e.as(viewer, "GET", "/api/v1/deliveries/latest?connectionId="+a.ID, "")); p["connectionId"] == "" {
		t.Errorf("problems %v; want connectionId named", p)
	}
}
