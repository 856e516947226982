package http_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

// ingestEnv is a server with the receiver and the Sources API on real
// SQLite, called with the admin token, its log kept.
type ingestEnv struct {
	t    *testing.T
	db   *sqlite.DB
	url  string
	logs *logRecorder
}

func newIngestEnv(t *testing.T, limits hookhttp.Limits) *ingestEnv {
	t.Helper()
	db := openDB(t)
	reg := notify.NewRegistry(webhook.Kind{})
	logs := &logRecorder{}
	s := &hookhttp.Server{
		Addr: "127.0.0.1:0", Store: db, Registry: reg, Sender: &notify.Sender{Registry: reg},
		TokenHash: sha256.Sum256([]byte(token)), Limits: limits, Logs: db, Logger: slog.New(logs),
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return &ingestEnv{t: t, db: db, url: s.URL(), logs: logs}
}

type reply struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *ingestEnv) do(req *http.Request) reply {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &r.body)
	return r
}

// api calls the Sources API with the admin token.
func (e *ingestEnv) api(method, path string, body any) reply {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		r = strings.NewReader(mustJSON(body))
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return e.do(req)
}

// source creates a source through the API and returns its ID and token.
func (e *ingestEnv) source(fields map[string]any) (id, tok string) {
	e.t.Helper()
	a := e.api("POST", "/api/v1/sources", fields)
	if a.code != http.StatusCreated {
		e.t.Fatalf("create source: %d %s", a.code, a.raw)
	}
	return a.body["id"].(string), a.body["token"].(string)
}

// send posts body to the receiver with the token and headers (name, value,
// ...).
func (e *ingestEnv) send(tok string, body []byte, header ...string) reply {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+"/receiver/v1/http/"+tok, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return e.do(req)
}

// records returns every stored record, oldest to arrive first.
func (e *ingestEnv) records() []hookline.LogRecord {
	e.t.Helper()
	var out []hookline.LogRecord
	err := e.db.ScanLogs(context.Background(), hookline.LogScan{}, func(r hookline.LogRecord) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b hookline.LogRecord) int { return int(a.ID - b.ID) })
	return out
}

func wantAccepted(t *testing.T, r reply, accepted, truncated int) {
	t.Helper()
	if r.code != http.StatusOK || r.body["accepted"] != float64(accepted) || r.body["truncated"] != float64(truncated) {
		t.Fatalf("answer %d %s; want 200 with accepted %d, truncated %d", r.code, r.raw, accepted, truncated)
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIngestLines sends bodies of plain and JSON lines and checks each
// stored record: message, time, metadata.
func TestIngestLines(t *testing.T) {
	e := newIngestEnv(t, hookhttp.Limits{})
	_, tok := e.source(map[string]any{"name": "Web", "category": "prod/web", "hostName": "web-1"})
	_, bare := e.source(map[string]any{"name": "Bare"})
	ms := func(v int64) time.Time { return time.UnixMilli(v).UTC() }
	const recv = "receive time"
	type want struct {
		message string
		time    any // time.Time or recv
	}
	tests := []struct {
		name   string
		token  string
		body   string
		header []string
		want   []want
		meta   [3]string // category, host, name of every record
	}{
		{"plain lines, CRLF and blank lines", tok, "first line\r\n\r\n   \nsecond line\n\tthird, indented\nno newline at the end",
			nil, []want{{"first line", recv}, {"second line", recv}, {"\tthird, indented", recv}, {"no newline at the end", recv}},
			[3]string{"prod/web", "web-1", "Web"}},
		{"JSON lines with times", tok, strings.Join([]string{
			`{"timestamp": "2026-11-26T10:00:00.123456789Z", "msg": "rfc3339 nano"}`,
			`{"timestamp": "2026-11-26T11:00:00+01:00", "msg": "rfc3339 zone"}`,
			`{"time": 1764151200000, "msg": "epoch ms"}`,
			`{"time": 1764151200, "msg": "epoch s"}`,
			`{"timestamp": "1764151200500", "msg": "epoch ms as a string"}`,
			`{"timestamp": 1764151200000.5, "msg": "fractional ms"}`,
			`{"Timestamp": 1764151200001, "msg": "any case"}`,
			`  {"timestamp": null, "time": 1764151200002, "msg": "null timestamp, time given"}`,
			`{"timestamp": 1764151200003, "time": 5, "msg": "timestamp wins"}`,
		}, "\n"), nil, []want{
			{`{"timestamp": "2026-11-26T10:00:00.123456789Z", "msg": "rfc3339 nano"}`, time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)},
			{`{"timestamp": "2026-11-26T11:00:00+01:00", "msg": "rfc3339 zone"}`, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)},
			{`{"time": 1764151200000, "msg": "epoch ms"}`, ms(1764151200000)},
			{`{"time": 1764151200, "msg": "epoch s"}`, ms(1764151200000)},
			{`{"timestamp": "1764151200500", "msg": "epoch ms as a string"}`, ms(1764151200500)},
			{`{"timestamp": 1764151200000.5, "msg": "fractional ms"}`, ms(1764151200000).Add(500 * time.Microsecond)},
			{`{"Timestamp": 1764151200001, "msg": "any case"}`, ms(1764151200001)},
			{`  {"timestamp": null, "time": 1764151200002, "msg": "null timestamp, time given"}`, ms(1764151200002)},
			{`{"timestamp": 1764151200003, "time": 5, "msg": "timestamp wins"}`, ms(1764151200003)},
		}, [3]string{"prod/web", "web-1", "Web"}},
		{"times that are not understood", tok, strings.Join([]string{
			`{"timestamp": "yesterday"}`,
			`{"timestamp": "2026-11-26 10:00:00"}`,
			`{"timestamp": -5}`,
			`{"timestamp": 99999999999999999}`,
			`{"timestamp": "NaN"}`,
			`{"timestamp": "0x10"}`,
			`{"timestamp": true}`,
			`{"timestamp": {"at": 1764151200000}}`,
			`{"time": "3000-01-01T00:00:00Z"}`,
			`{"no": "time"}`,
			`{"timestamp": 1764151200000, broken json`,
			`[{"timestamp": 1764151200000}]`,
			`plain {"timestamp": 1764151200000}`,
		}, "\n"), nil, []want{
			{`{"timestamp": "yesterday"}`, recv}, {`{"timestamp": "2026-11-26 10:00:00"}`, recv}, {`{"timestamp": -5}`, recv},
			{`{"timestamp": 99999999999999999}`, recv}, {`{"timestamp": "NaN"}`, recv}, {`{"timestamp": "0x10"}`, recv},
			{`{"timestamp": true}`, recv}, {`{"timestamp": {"at": 1764151200000}}`, recv}, {`{"time": "3000-01-01T00:00:00Z"}`, recv},
			{`{"no": "time"}`, recv}, {`{"timestamp": 1764151200000, broken json`, recv}, {`[{"timestamp": 1764151200000}]`, recv},
			{`plain {"timestamp": 1764151200000}`, recv},
		}, [3]string{"prod/web", "web-1", "Web"}},
		{"headers override the source's metadata", tok, "overridden\n",
			[]string{"X-Sumo-Category", "stage/api", "X-Sumo-Host", "api-7", "X-Sumo-Name", "api.log"},
			[]want{{"overridden", recv}}, [3]string{"stage/api", "api-7", "api.log"}},
		{"an empty header keeps the default", tok, "kept\n", []string{"X-Sumo-Category", ""},
			[]want{{"kept", recv}}, [3]string{"prod/web", "web-1", "Web"}},
		{"a source without defaults: the sender's address", bare, "from bare\n", nil,
			[]want{{"from bare", recv}}, [3]string{"", "127.0.0.1", "Bare"}},
		{"invalid UTF-8 is replaced", tok, "caf\xe9 \xff\n", nil, []want{{"caf\uFFFD \uFFFD", recv}}, [3]string{"prod/web", "web-1", "Web"}},
		{"an empty body", tok, "", nil, nil, [3]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.records())
			start := time.Now()
			a := e.send(tt.token, []byte(tt.body), tt.header...)
			end := time.Now()
			wantAccepted(t, a, len(tt.want), 0)
			got := e.records()[before:]
			if len(got) != len(tt.want) {
				t.Fatalf("%d records stored; want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				r := got[i]
				if r.Message != w.message {
					t.Errorf("record %d: message %q; want %q", i, r.Message, w.message)
				}
				if r.ReceivedAt.Before(start.Add(-time.Millisecond)) || r.ReceivedAt.After(end) {
					t.Errorf("record %d: received at %v, not during the request", i, r.ReceivedAt)
				}
				switch wt := w.time.(type) {
				case time.Time:
					if !r.Time.Equal(wt) {
						t.Errorf("record %d (%s): time %v; want %v", i, w.message, r.Time, wt)
					}
				default:
					if !r.Time.Equal(r.ReceivedAt) {
						t.Errorf("record %d (%s): time %v; want the receive time %v", i, w.message, r.Time, r.ReceivedAt)
					}
				}
				if meta := [3]string{r.Category, r.Host, r.Name}; meta != tt.meta {
					t.Errorf("record %d: category, host, name = %q; want %q", i, meta, tt.meta)
				}
			}
		})
	}
}

func TestIngestEncodings(t *testing.T) {
	e := newIngestEnv(t, hookhttp.Limits{})
	_, tok := e.source(map[string]any{"name": "Web"})
	body := []byte("one\n{\"time\": 1764151200000, \"msg\": \"two\"}\nthree\n")
	var deflated bytes.Buffer
	zw := zlib.NewWriter(&deflated)
	zw.Write(body)
	zw.Close()
	tests := []struct {
		name     string
		body     []byte
		encoding string
		code     int
		field    string // named in a 400
	}{
		{"gzip", gzipped(t, body), "gzip", http.StatusOK, ""},
		{"x-gzip, any case", gzipped(t, body), "X-GZIP", http.StatusOK, ""},
		{"deflate", deflated.Bytes(), "deflate", http.StatusOK, ""},
		{"identity", body, "identity", http.StatusOK, ""},
		{"not gzip", body, "gzip", http.StatusBadRequest, "Content-Encoding"},
		{"one byte, said to be gzip", []byte("x"), "gzip", http.StatusBadRequest, "Content-Encoding"},
		{"gzip cut short", gzipped(t, body)[:20], "gzip", http.StatusBadRequest, "Content-Encoding"},
		{"not deflate", body, "deflate", http.StatusBadRequest, "Content-Encoding"},
		{"an encoding not supported", body, "br", http.StatusBadRequest, "Content-Encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.records())
			a := e.send(tok, tt.body, "Content-Encoding", tt.encoding)
			if tt.code == http.StatusOK {
				wantAccepted(t, a, 3, 0)
				if got := e.records()[before:]; got[1].Message != `{"time": 1764151200000, "msg": "two"}` || got[1].Time.UnixMilli() != 1764151200000 {
					t.Errorf("the second record: %+v", got[1])
				}
				return
			}
			if a.code != tt.code || (tt.field != "" && !strings.Contains(a.raw, `"field": "`+tt.field+`"`)) {
				t.Errorf("answer %d %s; want %d naming %q", a.code, a.raw, tt.code, tt.field)
			}
			if n := len(e.records()) - before; n != 0 {
				t.Errorf("a refused body stored %d records", n)
			}
		})
	}
}

func TestIngestLimits(t *testing.T) {
	e := newIngestEnv(t, hookhttp.Limits{})
	srcID, tok := e.source(map[string]any{"name": "Web"})
	max := hookhttp.MaxLineBytes

	t.Run("long lines are truncated and counted", func(t *testing.T) {
		before := len(e.records())
		exact := strings.Repeat("a", max)
		over := strings.Repeat("b", max+10)
		// A three-byte character across the limit is dropped whole.
		split := strings.Repeat("c", max-1) + "€" + "tail"
		jsonLong := `{"timestamp": 1764151200000, "pad": "` + strings.Repeat("d", max) + `"}`
		a := e.send(tok, []byte(exact+"\n"+over+"\n"+split+"\n"+jsonLong+"\nshort\n"))
		wantAccepted(t, a, 5, 3)
		got := e.records()[before:]
		wantLens := []int{max, max, max - 1, max, 5}
		for i, r := range got {
			if len(r.Message) != wantLens[i] || !utf8.ValidString(r.Message) {
				t.Errorf("record %d: %d bytes (valid UTF-8: %v); want %d", i, len(r.Message), utf8.ValidString(r.Message), wantLens[i])
			}
		}
		if got[0].Message != exact || !strings.HasPrefix(over, got[1].Message) {
			t.Error("a truncated line is not the start of what was sent")
		}
		// The time of a long JSON line is read before it is cut.
		if got[3].Time.UnixMilli() != 1764151200000 {
			t.Errorf("a truncated JSON line's time: %v", got[3].Time)
		}
	})

	t.Run("a body over the limit is refused whole", func(t *testing.T) {
		before := len(e.records())
		line := strings.Repeat("x", 1023) + "\n"
		big := []byte(strings.Repeat(line, hookhttp.MaxIngestBodyBytes/len(line)+1))
		a := e.send(tok, big)
		if a.code != http.StatusRequestEntityTooLarge {
			t.Errorf("a body of %d bytes: %d %s; want 413", len(big), a.code, a.raw)
		}
		// Compressed small, decompressed over the limit: refused too.
		a = e.send(tok, gzipped(t, big), "Content-Encoding", "gzip")
		if a.code != http.StatusRequestEntityTooLarge {
			t.Errorf("a gzip body of %d bytes decompressed: %d %s; want 413", len(big), a.code, a.raw)
		}
		if n := len(e.records()) - before; n != 0 {
			t.Errorf("refused bodies stored %d records", n)
		}
		// At the limit, accepted.
		fit := big[:hookhttp.MaxIngestBodyBytes-hookhttp.MaxIngestBodyBytes%len(line)]
		wantAccepted(t, e.send(tok, gzipped(t, fit), "Content-Encoding", "gzip"), len(fit)/len(line), 0)
	})

	t.Run("bad headers name the header", func(t *testing.T) {
		before := len(e.records())
		for _, h := range [][]string{
			{"X-Sumo-Category", strings.Repeat("c", hookline.MaxMetadataLen+1)},
			{"X-Sumo-Host", "web\xff"},
			{"X-Sumo-Name", "a\tb"},
			{"X-Sumo-Category", "a", "X-Sumo-Category", "b"},
		} {
			a := e.send(tok, []byte("line\n"), h...)
			if a.code != http.StatusBadRequest || !strings.Contains(a.raw, `"field": "`+h[0]+`"`) {
				t.Errorf("header %.40q: %d %s; want 400 naming it", h, a.code, a.raw)
			}
		}
		// At the limit, fine.
		wantAccepted(t, e.send(tok, []byte("line\n"), "X-Sumo-Category", strings.Repeat("ü", hookline.MaxMetadataLen)), 1, 0)
		if n := len(e.records()) - before; n != 1 {
			t.Errorf("%d records stored; want only the last request's", n)
		}
	})

	// The source counts every record accepted.
	src, err := e.db.Source(context.Background(), srcID)
	if err != nil {
		t.Fatal(err)
	}
	if int(src.Received) != len(e.records()) {
		t.Errorf("the source counted %d records; %d are stored", src.Received, len(e.records()))
	}
}

// An unknown, rotated or deleted token gets the same 401, which shows
// nothing and asks for no credentials; the token never reaches the log.
func TestIngestBadToken(t *testing.T) {
	e := newIngestEnv(t, hookhttp.Limits{})
	id, tok := e.source(map[string]any{"name": "Rotated"})
	goneID, gone := e.source(map[string]any{"name": "Gone"})
	rot := e.api("POST", "/api/v1/sources/"+id+"/token", nil)
	if rot.code != http.StatusOK {
		t.Fatalf("rotate: %d %s", rot.code, rot.raw)
	}
	if d := e.api("DELETE", "/api/v1/sources/"+goneID, nil); d.code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", d.code, d.raw)
	}
	var raws []string
	for _, bad := range []string{"hls_unknown0000000000000000000000000000000000", tok, gone, "x"} {
		a := e.send(bad, []byte("line\n"))
		if a.code != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") != "" {
			t.Errorf("token %q: %d (WWW-Authenticate %q) %s; want 401 without a challenge", bad, a.code, a.header.Get("WWW-Authenticate"), a.raw)
		}
		raws = append(raws, a.raw)
	}
	if len(slices.Compact(slices.Clone(raws))) != 1 {
		t.Errorf("the 401s differ: %q", raws)
	}
	if n := len(e.records()); n != 0 {
		t.Errorf("bad tokens stored %d records", n)
	}
	wantAccepted(t, e.send(rot.body["token"].(string), []byte("line\n")), 1, 0)
	if a := e.send("", []byte("line\n")); a.code != http.StatusNotFound && a.code != http.StatusMethodNotAllowed {
		t.Errorf("no token: %d %s", a.code, a.raw)
	}

	for _, r := range e.logs.atLeast(slog.LevelDebug) {
		var line strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&line, "%s=%v ", a.Key, a.Value)
			return true
		})
		for _, secret := range []string{tok, gone, rot.body["token"].(string)} {
			if strings.Contains(line.String(), secret) {
				t.Errorf("the log holds a source token: %s %s", r.Message, line.String())
			}
		}
	}
	if len(e.logs.find("http request")) == 0 {
		t.Error("no request was logged")
	}
}

// Each source has its own request rate; over it, 429 with Retry-After.
func TestIngestRateLimit(t *testing.T) {
	e := newIngestEnv(t, hookhttp.NewLimits(100, 1)) // one request a second, burst 2
	_, busy := e.source(map[string]any{"name": "Busy"})
	_, calm := e.source(map[string]any{"name": "Calm"})
	for i := range 2 {
		wantAccepted(t, e.send(busy, []byte(fmt.Sprint("line ", i))), 1, 0)
	}
	a := e.send(busy, []byte("one too many"))
	if a.code != http.StatusTooManyRequests {
		t.Fatalf("third request: %d %s; want 429", a.code, a.raw)
	}
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", a.header.Get("Retry-After"))
	}
	wantAccepted(t, e.send(calm, []byte("another source")), 1, 0)
	if n := len(e.records()); n != 3 {
		t.Errorf("%d records stored; want 3", n)
	}
}

// TestSourcesAPI walks a source's life through the API: create (the token
// and URL shown once), read, list, update, rotate, delete, with the audit
// log recording each change and never the token.
func TestSourcesAPI(t *testing.T) {
	e := newIngestEnv(t, hookhttp.Limits{})
	a := e.api("POST", "/api/v1/sources", map[string]any{"name": "  Web servers ", "description": "nginx", "category": "prod/web", "hostName": ""})
	if a.code != http.StatusCreated {
		t.Fatalf("create: %d %s", a.code, a.raw)
	}
	id, tok := a.body["id"].(string), a.body["token"].(string)
	if a.body["name"] != "Web servers" || a.body["category"] != "prod/web" || a.body["received"] != float64(0) || a.body["lastReceivedAt"] != nil {
		t.Errorf("created: %s", a.raw)
	}
	if !strings.HasPrefix(tok, "hls_") || len(tok) != 47 || a.body["url"] != e.url+"/receiver/v1/http/"+tok {
		t.Errorf("token %q, url %v", tok, a.body["url"])
	}

	wantAccepted(t, e.send(tok, []byte("a\nb\n")), 2, 0)

	g := e.api("GET", "/api/v1/sources/"+id, nil)
	if g.code != http.StatusOK || g.body["received"] != float64(2) || g.body["lastReceivedAt"] == nil {
		t.Errorf("get: %d %s", g.code, g.raw)
	}
	if _, ok := g.body["token"]; ok || strings.Contains(g.raw, tok) || strings.Contains(g.raw, hookline.SourceTokenHash(tok)) {
		t.Errorf("get shows the token or its hash: %s", g.raw)
	}
	l := e.api("GET", "/api/v1/sources?limit=1", nil)
	if data, _ := l.body["data"].([]any); l.code != http.StatusOK || len(data) != 1 || l.body["next"] != nil {
		t.Errorf("list: %d %s", l.code, l.raw)
	}

	// A GET edited and PUT back.
	edit := g.body
	edit["category"], edit["hostName"] = "prod/nginx", "edge-1"
	u := e.api("PUT", "/api/v1/sources/"+id, edit)
	if u.code != http.StatusOK || u.body["category"] != "prod/nginx" || u.body["received"] != float64(2) {
		t.Errorf("update: %d %s", u.code, u.raw)
	}
	wantAccepted(t, e.send(tok, []byte("after the update\n")), 1, 0)
	if last := e.records()[2]; last.Category != "prod/nginx" || last.Host != "edge-1" {
		t.Errorf("a record after the update: %+v", last)
	}

	r := e.api("POST", "/api/v1/sources/"+id+"/token", nil)
	newTok, _ := r.body["token"].(string)
	if r.code != http.StatusOK || newTok == "" || newTok == tok || r.body["url"] != e.url+"/receiver/v1/http/"+newTok {
		t.Fatalf("rotate: %d %s", r.code, r.raw)
	}
	if a := e.send(tok, []byte("old\n")); a.code != http.StatusUnauthorized {
		t.Errorf("the old token after rotation: %d", a.code)
	}
	wantAccepted(t, e.send(newTok, []byte("new\n")), 1, 0)

	if d := e.api("DELETE", "/api/v1/sources/"+id, nil); d.code != http.StatusNoContent {
		t.Errorf("delete: %d %s", d.code, d.raw)
	}
	if a := e.send(newTok, []byte("gone\n")); a.code != http.StatusUnauthorized {
		t.Errorf("the token after deletion: %d", a.code)
	}
	if g := e.api("GET", "/api/v1/sources/"+id, nil); g.code != http.StatusNotFound {
		t.Errorf("get after delete: %d", g.code)
	}

	events, _, err := e.db.AuditEvents(context.Background(), hookline.AuditFilter{TargetType: hookline.AuditSource})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
		if ev.Actor.Kind != hookline.ActorAdminToken {
			t.Errorf("event %s by %+v; want the admin token", ev.Action, ev.Actor)
		}
		b, _ := json.Marshal(ev)
		for _, secret := range []string{tok, newTok, hookline.SourceTokenHash(tok), hookline.SourceTokenHash(newTok)} {
			if strings.Contains(string(b), secret) {
				t.Errorf("audit event %s holds the token or its hash", ev.Action)
			}
		}
	}
	if !slices.Equal(actions, []string{"delete", "rotateToken", "update", "create"}) {
		t.Errorf("audit actions %q", actions)
	}
}

func TestSourcesAPIErrors(t *testing.T) {
	e := newIngestEnv(t, hookhttp.Limits{})
	e.source(map[string]any{"name": "Taken"})
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		code   int
		field  string
	}{
		{"no name", "POST", "/api/v1/sources", map[string]any{"category": "x"}, http.StatusBadRequest, "name"},
		{"unknown field", "POST", "/api/v1/sources", map[string]any{"name": "x", "token": "mine"}, http.StatusBadRequest, "token"},
		{"bad category", "POST", "/api/v1/sources", map[string]any{"name": "x", "category": "a\nb"}, http.StatusBadRequest, "category"},
		{"long host", "POST", "/api/v1/sources", map[string]any{"name": "x", "hostName": strings.Repeat("h", 1025)}, http.StatusBadRequest, "hostName"},
		{"taken name", "POST", "/api/v1/sources", map[string]any{"name": "TAKEN"}, http.StatusConflict, "name"},
		{"missing", "GET", "/api/v1/sources/00000000000468D5", nil, http.StatusNotFound, ""},
		{"rotate missing", "POST", "/api/v1/sources/00000000000468D5/token", nil, http.StatusNotFound, ""},
		{"bad limit", "GET", "/api/v1/sources?limit=0", nil, http.StatusBadRequest, "limit"},
		{"bad page token", "GET", "/api/v1/sources?token=nope", nil, http.StatusBadRequest, "token"},
		{"unknown parameter", "GET", "/api/v1/sources?name=x", nil, http.StatusBadRequest, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.api(tt.method, tt.path, tt.body)
			if a.code != tt.code || (tt.field != "" && !strings.Contains(a.raw, `"field": "`+tt.field+`"`)) {
				t.Errorf("%d %s; want %d naming %q", a.code, a.raw, tt.code, tt.field)
			}
		})
	}
}
