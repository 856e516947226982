package http_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

const token = "http-test-token-0123456789"

type api struct {
	t   *testing.T
	url string
}

// openDB opens a real SQLite file in a temporary directory.
func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newAPI starts the API on 127.0.0.1:0 over a real SQLite file.
func newAPI(t *testing.T) *api {
	t.Helper()
	db := openDB(t)
	reg := notify.NewRegistry(awslambda.Kind{}, webhook.Kind{})
	s := &hookhttp.Server{
		Addr: "127.0.0.1:0", Store: db, Registry: reg,
		Sender:    &notify.Sender{Registry: reg},
		TokenHash: sha256.Sum256([]byte(token)),
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return &api{t: t, url: s.URL()}
}

func (a *api) do(method, path, body string) (int, map[string]any) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// lambdaDef is a valid AWS Lambda definition with one field replaced.
func lambdaDef(field string, value any) string {
	d := map[string]any{
		"type":              "WebhookDefinition",
		"webhookType":       "AWSLambda",
		"name":              "blocker",
		"url":               "https://abcdefghij.lambda-url.us-east-1.on.aws/",
		"accessKeyId":       "AKIAIOSFODNN7EXAMPLE",
		"secretAccessKey":   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"defaultPayload":    `{"ip": "{{ResultsJson.client_ip}}"}`,
		"resolutionPayload": `{"resolved": "{{Name}}"}`,
	}
	if field != "" {
		if value == nil {
			delete(d, field)
		} else {
			d[field] = value
		}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func fieldsOf(body map[string]any) []string {
	var out []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

func TestCreateValidation(t *testing.T) {
	a := newAPI(t)
	headers := func(n int) []map[string]string {
		var hs []map[string]string
		for i := range n {
			hs = append(hs, map[string]string{"name": fmt.Sprintf("X-H%d", i), "value": "v"})
		}
		return hs
	}
	tests := []struct {
		name      string
		body      string
		wantField string
		wantText  string
	}{
		{"name missing", lambdaDef("name", nil), "name", "required"},
		{"name too long", lambdaDef("name", strings.Repeat("n", 128)), "name", "at most 127"},
		{"name control char", lambdaDef("name", "a\nb"), "name", "control"},
		{"name not string", lambdaDef("name", 5), "name", "string"},
		{"description too long", lambdaDef("description", strings.Repeat("d", 1025)), "description", "at most 1024"},
		{"type wrong", lambdaDef("type", "ServiceNowDefinition"), "type", "WebhookDefinition"},
		{"webhookType unknown", lambdaDef("webhookType", "Carrier"), "webhookType", "AWSLambda"},
		{"url missing", lambdaDef("url", nil), "url", "required"},
		{"url scheme", lambdaDef("url", "ftp://x.lambda-url.us-east-1.on.aws/"), "url", "https://"},
		{"url relative", lambdaDef("url", "/lambda"), "url", ""},
		{"url with user", lambdaDef("url", "https://u:p@abcdefghij.lambda-url.us-east-1.on.aws/"), "url", "password"},
		{"url with space", lambdaDef("url", "https://a b.lambda-url.us-east-1.on.aws/"), "url", "spaces"},
		{"too many headers", lambdaDef("customHeaders", headers(6)), "customHeaders", "at most 5"},
		{"header name empty", lambdaDef("customHeaders", []map[string]string{{"name": "", "value": "v"}}), "customHeaders[0].name", "required"},
		{"header name bad", lambdaDef("customHeaders", []map[string]string{{"name": "X Bad", "value": "v"}}), "customHeaders[0].name", "not a valid HTTP header name"},
		{"header value CRLF", lambdaDef("customHeaders", []map[string]string{{"name": "X-A", "value": "v\r\nX-Evil: 1"}}), "customHeaders[0].value", "CR, LF"},
		{"header duplicate", lambdaDef("customHeaders", []map[string]string{{"name": "X-A", "value": "1"}, {"name": "x-a", "value": "2"}}), "customHeaders[1].name", "repeats"},
		{"header owned by signer", lambdaDef("customHeaders", []map[string]string{{"name": "x-amz-date", "value": "1"}}), "customHeaders[0].name", "set by"},
		{"header unsigned by SigV4", lambdaDef("customHeaders", []map[string]string{{"name": "User-Agent", "value": "x"}}), "customHeaders[0].name", "cannot sign"},
		{"header trace id unsigned", lambdaDef("customHeaders", []map[string]string{{"name": "X-Amzn-Trace-Id", "value": "x"}}), "customHeaders[0].name", "cannot sign"},
		{"secret too short", lambdaDef("secretAccessKey", "short"), "secretAccessKey", "16"},
		{"header reserved", lambdaDef("customHeaders", []map[string]string{{"name": "Host", "value": "evil"}}), "customHeaders[0].name", "set by Hookline"},
		{"headers shape", lambdaDef("customHeaders", "X-A: 1"), "customHeaders", "list"},
		{"payload missing", lambdaDef("defaultPayload", nil), "defaultPayload", "required"},
		{"payload not JSON", lambdaDef("defaultPayload", `{"a": 1,}`), "defaultPayload", "line 1"},
		{"payload bare junk", lambdaDef("defaultPayload", "{\n  \"a\": 1 {{Name}}\n}"), "defaultPayload", "line 2"},
		{"recovery too long", lambdaDef("resolutionPayload", `{"a":"`+strings.Repeat("x", 4100)+`"}`), "resolutionPayload", "4096"},
		{"recovery not JSON", lambdaDef("resolutionPayload", `{"a": }`), "resolutionPayload", "line 1"},
		{"unknown field", lambdaDef("colour", "red"), "colour", "not a field"},
		{"subtype", lambdaDef("connectionSubtype", "Event"), "connectionSubtype", "ServiceNow"},
		{"access key missing", lambdaDef("accessKeyId", nil), "accessKeyId", ""},
		{"secret missing", lambdaDef("secretAccessKey", nil), "secretAccessKey", ""},
		{"region contradicts", lambdaDef("region", "us-west-2"), "region", "us-east-1"},
		{"service contradicts", lambdaDef("serviceName", "execute-api"), "serviceName", "lambda"},
		{"bad service", lambdaDef("serviceName", "s3"), "serviceName", ""},
		{"sumo headers form", lambdaDef("headers", []map[string]string{{"name": "accessKey", "value": "x"}}), "headers", "not supported"},
		{"not JSON", `{"name": "x",`, "", "not valid JSON: it ends at line 1, column 14"},
		{"bad JSON", "{\n  \"name\": x}", "", "line 2, column 11"},
		{"not object", `[1,2]`, "", "JSON object"},
		{"empty body", ``, "", "empty"},
		{"two values", `{} {}`, "", "more than one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := a.do("POST", "/api/v1/connections", tc.body)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %v", code, body)
			}
			if body["code"] != "invalid" {
				t.Errorf("code = %v", body["code"])
			}
			fields := fieldsOf(body)
			if tc.wantField != "" && !contains(fields, tc.wantField) {
				t.Errorf("errors name fields %q, want %q: %v", fields, tc.wantField, body["message"])
			}
			msg, _ := body["message"].(string)
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("message %q does not mention %q", msg, tc.wantText)
			}
		})
	}
	// Nothing was half-written by any of them.
	code, list := a.do("GET", "/api/v1/connections", "")
	if code != http.StatusOK || len(list["data"].([]any)) != 0 {
		t.Errorf("after invalid creates: status %d, list %v", code, list)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestConnectionLifecycle(t *testing.T) {
	a := newAPI(t)
	code, c := a.do("POST", "/api/v1/connections", lambdaDef("", nil))
	if code != http.StatusOK {
		t.Fatalf("create: %d %v", code, c)
	}
	id := c["id"].(string)
	// Region and service were inferred from the Function URL.
	if c["region"] != "us-east-1" || c["serviceName"] != "lambda" || c["hasSecretAccessKey"] != true {
		t.Errorf("created: %v", c)
	}
	if code, body := a.do("POST", "/api/v1/connections", lambdaDef("name", "BLOCKER")); code != http.StatusConflict {
		t.Errorf("duplicate name: %d %v", code, body)
	}

	// A GET edited and PUT back keeps the secret it does not repeat.
	_, got := a.do("GET", "/api/v1/connections/"+id+"?type=WebhookConnection", "")
	got["description"] = "edited"
	delete(got, "hasSecretAccessKey")
	b, _ := json.Marshal(got)
	code, upd := a.do("PUT", "/api/v1/connections/"+id, string(b))
	if code != http.StatusOK || upd["description"] != "edited" || upd["hasSecretAccessKey"] != true {
		t.Fatalf("update: %d %v", code, upd)
	}
	if upd["createdAt"] != c["createdAt"] {
		t.Errorf("createdAt changed: %v -> %v", c["createdAt"], upd["createdAt"])
	}

	// Unknown variables are saved with a warning, as Sumo does.
	code, w := a.do("PUT", "/api/v1/connections/"+id, lambdaDef("defaultPayload", `{"x": "{{NoSuchVariable}}"}`))
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(w["warnings"]), "NoSuchVariable") {
		t.Errorf("warnings: %d %v", code, w)
	}

	code, types := a.do("GET", "/api/v1/connections/types", "")
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(types), "secretAccessKey") {
		t.Errorf("types: %d %v", code, types)
	}

	if code, _ := a.do("DELETE", "/api/v1/connections/"+id+"?type=WebhookConnection", ""); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if code, body := a.do(m, "/api/v1/connections/"+id, ""); code != http.StatusNotFound {
			t.Errorf("%s after delete: %d %v", m, code, body)
		}
	}
	if code, _ := a.do("PUT", "/api/v1/connections/"+id, lambdaDef("", nil)); code != http.StatusNotFound {
		t.Errorf("PUT after delete: %d", code)
	}
	if code, _ := a.do("GET", "/api/v1/nothing", ""); code != http.StatusNotFound {
		t.Errorf("unknown route: %d", code)
	}
}

func TestListPaging(t *testing.T) {
	a := newAPI(t)
	for i := range 5 {
		if code, b := a.do("POST", "/api/v1/connections", lambdaDef("name", fmt.Sprintf("c%d", i))); code != http.StatusOK {
			t.Fatalf("create: %d %v", code, b)
		}
	}
	var names []string
	path := "/api/v1/connections?limit=2"
	for range 5 {
		code, page := a.do("GET", path, "")
		if code != http.StatusOK {
			t.Fatalf("list: %d %v", code, page)
		}
		for _, c := range page["data"].([]any) {
			names = append(names, c.(map[string]any)["name"].(string))
		}
		next, _ := page["next"].(string)
		if next == "" {
			break
		}
		path = "/api/v1/connections?limit=2&token=" + next
	}
	if got := strings.Join(names, ","); got != "c0,c1,c2,c3,c4" {
		t.Errorf("paged names = %s", got)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x"} {
		if code, body := a.do("GET", "/api/v1/connections?"+q, ""); code != http.StatusBadRequest || !contains(fieldsOf(body), "limit") {
			t.Errorf("%s: %d %v", q, code, body)
		}
	}
}

func TestTestValidation(t *testing.T) {
	a := newAPI(t)
	if code, body := a.do("POST", "/api/v1/connections/test?functionalities=alert,bogus", lambdaDef("", nil)); code != http.StatusBadRequest || !contains(fieldsOf(body), "functionalities") {
		t.Errorf("bad functionalities: %d %v", code, body)
	}
	if code, body := a.do("POST", "/api/v1/connections/test", lambdaDef("url", "nope")); code != http.StatusBadRequest || !contains(fieldsOf(body), "url") {
		t.Errorf("invalid definition: %d %v", code, body)
	}
	if code, _ := a.do("POST", "/api/v1/connections/test?connectionId=0000000000000000", lambdaDef("", nil)); code != http.StatusNotFound {
		t.Errorf("unknown connectionId: %d", code)
	}
	big := `{"name": "` + strings.Repeat("x", hookhttp.MaxBodyBytes) + `"}`
	if code, _ := a.do("POST", "/api/v1/connections", big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", code)
	}
}

func webhookDef(url, auth string) string {
	d := map[string]any{
		"webhookType": "Webhook", "name": "hook", "url": url,
		"defaultPayload": `{"n": "{{Name}}"}`,
	}
	if auth != "" {
		d["authorizationHeader"] = auth
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// TestStoredSecretStaysWithItsHost checks that a secret left out of an
// edit is only reused for the host it was given for: pointing a connection
// elsewhere must not send the stored secret there.
func TestStoredSecretStaysWithItsHost(t *testing.T) {
	a := newAPI(t)
	const secret = "Bearer stored-secret-0123456789"
	var leaked []string
	record := func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Authorization"); v != "" {
			leaked = append(leaked, v)
		}
	}
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(home.Close)
	other := httptest.NewServer(http.HandlerFunc(record))
	t.Cleanup(other.Close)

	code, c := a.do("POST", "/api/v1/connections", webhookDef(home.URL+"/a", secret))
	if code != http.StatusOK {
		t.Fatalf("create: %d %v", code, c)
	}
	id := c["id"].(string)

	// Same origin, other path: the stored secret is kept.
	if code, body := a.do("PUT", "/api/v1/connections/"+id, webhookDef(home.URL+"/b", "")); code != http.StatusOK || body["hasAuthorizationHeader"] != true {
		t.Errorf("same-origin edit: %d %v", code, body)
	}
	// Another origin without the secret: refused, naming the field, for
	// both an edit and a test of an unsaved definition.
	for _, call := range [][2]string{{"PUT", "/api/v1/connections/" + id}, {"POST", "/api/v1/connections/test?connectionId=" + id}} {
		method, path := call[0], call[1]
		code, body := a.do(method, path, webhookDef(other.URL+"/", ""))
		if code != http.StatusBadRequest || !contains(fieldsOf(body), "authorizationHeader") {
			t.Errorf("%s %s to another host: %d %v", method, path, code, body)
		}
	}
	if len(leaked) > 0 {
		t.Fatalf("the stored secret reached another host: %q", leaked)
	}
	// The failed edit changed nothing.
	_, got := a.do("GET", "/api/v1/connections/"+id, "")
	if got["url"] != home.URL+"/b" || got["hasAuthorizationHeader"] != true {
		t.Errorf("after refused edit: %v", got)
	}
	// Given again, it is accepted for the new host.
	if code, body := a.do("PUT", "/api/v1/connections/"+id, webhookDef(other.URL+"/", "Bearer new-secret-for-other-host")); code != http.StatusOK {
		t.Errorf("edit with secret: %d %v", code, body)
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	a := newAPI(t)
	body := `{"webhookType": "Webhook", "name": 5, "url": "ftp://x", "customHeaders": [{"name": "A B", "value": "v"}], "defaultPayload": "{", "colour": 1}`
	code, resp := a.do("POST", "/api/v1/connections", body)
	if code != http.StatusBadRequest {
		t.Fatalf("status %d", code)
	}
	fields := fieldsOf(resp)
	for _, want := range []string{"name", "url", "customHeaders[0].name", "defaultPayload", "colour"} {
		if !contains(fields, want) {
			t.Errorf("problems %q lack %q", fields, want)
		}
	}
	// Decoding's complaint about name is not repeated by validation.
	n := 0
	for _, f := range fields {
		if f == "name" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("name reported %d times: %v", n, resp["message"])
	}
}

func TestRouteErrors(t *testing.T) {
	a := newAPI(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"PATCH", "/api/v1/connections/0000000000000001", http.StatusMethodNotAllowed, "GET, PUT, DELETE"},
		{"DELETE", "/api/v1/connections", http.StatusMethodNotAllowed, "GET, POST"},
		{"GET", "/api/v2/connections", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, a.url+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow || body["code"] == nil {
			t.Errorf("%s %s: %d Allow=%q body=%v", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
}

func TestFunctionalitiesRepeated(t *testing.T) {
	a := newAPI(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	code, resp := a.do("POST", "/api/v1/connections/test?functionalities=alert&functionalities=resolution", webhookDef(target.URL, ""))
	if code != http.StatusOK || resp["alertStatusCode"] != 200.0 || resp["resolutionStatusCode"] != 200.0 {
		t.Errorf("repeated functionalities: %d %v", code, resp)
	}
	if resp["alertLatencyMs"] == nil || resp["resolutionLatencyMs"] == nil {
		t.Errorf("no top-level latency: %v", resp)
	}
}

func TestNameTrimmed(t *testing.T) {
	a := newAPI(t)
	code, c := a.do("POST", "/api/v1/connections", lambdaDef("name", "  padded  "))
	if code != http.StatusOK || c["name"] != "padded" {
		t.Fatalf("create: %d %v", code, c)
	}
	if code, _ := a.do("POST", "/api/v1/connections", lambdaDef("name", "padded ")); code != http.StatusConflict {
		t.Errorf("same name with a space: %d, want 409", code)
	}
}

func TestUnopenedServer(t *testing.T) {
	s := &hookhttp.Server{}
	if s.URL() != "" {
		t.Errorf("URL() = %q before Open", s.URL())
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/connections", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("status %d", rec.Code)
	}
}
