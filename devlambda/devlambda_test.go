package devlambda_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/notify/awslambda"
)

const (
	keyID   = "AKIDDEVLAMBDATEST01"
	secret  = "devLambdaSecret/K7MDENG+bPxRfiCYEXAMPLEKEY"
	tempKey = "ASIADEVLAMBDATEST02"
	tempSec = "tempSecret/0000000000000000000000000000000"
	token   = "FwoGZXIvYXdzEJr//////////wEaDDevLambdaToken=="
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

type bundle struct {
	srv *devlambda.Server
	url string
}

func setup(t *testing.T, service string, mod ...func(*devlambda.Config)) bundle {
	t.Helper()
	cfg := devlambda.Config{
		Region:        "eu-west-1",
		Service:       service,
		Keys:          map[string]string{keyID: secret, tempKey: tempSec},
		SessionTokens: map[string]string{tempKey: token},
		Now:           func() time.Time { return t0 },
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv := devlambda.New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return bundle{srv: srv, url: ts.URL}
}

// signer describes a request signed by the SDK directly, so each check can
// be met by exactly one fault.
type signer struct {
	method, path, body string
	header             map[string]string
	key, sec, tok      string
	region, service    string
	at                 time.Time
	noBodyHashHeader   bool
	afterSign          func(r *http.Request) // tampering after signing
	rewriteAuth        func(string) string
}

func (s signer) do(t *testing.T, b bundle) (int, string, http.Header) {
	t.Helper()
	method := cmp.Or(s.method, http.MethodPost)
	req, err := http.NewRequest(method, b.url+cmp.Or(s.path, "/"), strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(s.body))
	hash := hex.EncodeToString(sum[:])
	if !s.noBodyHashHeader {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	creds := aws.Credentials{AccessKeyID: cmp.Or(s.key, keyID), SecretAccessKey: cmp.Or(s.sec, secret), SessionToken: s.tok}
	at := s.at
	if at.IsZero() {
		at = t0
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, cmp.Or(s.service, "lambda"), cmp.Or(s.region, "eu-west-1"), at); err != nil {
		t.Fatal(err)
	}
	if s.rewriteAuth != nil {
		req.Header.Set("Authorization", s.rewriteAuth(req.Header.Get("Authorization")))
	}
	if s.afterSign != nil {
		s.afterSign(req)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw), resp.Header
}

func message(t *testing.T, body string) string {
	t.Helper()
	var m struct{ Message string }
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("answer is not AWS's JSON error: %v: %s", err, body)
	}
	return m.Message
}

func TestAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    signer
	}{
		{"plain POST", signer{body: `{"a":1}`}},
		{"custom headers and query", signer{body: `{"a":1}`, path: "/prod/alerts%20v2/x?b=2&a=1&a=0&sp=a%20b",
			header: map[string]string{"X-Team": "secops", "X-Spaces": "a   b   c", "Content-Type": "application/json"}}},
		{"session token", signer{body: `{}`, key: tempKey, sec: tempSec, tok: token}},
		{"no body hash header", signer{body: `{"x":"y"}`, noBodyHashHeader: true}},
		{"empty body", signer{}},
		{"GET", signer{method: http.MethodGet}},
		{"unicode path", signer{path: "/f/%E1%88%B4/ü", body: "日本語"}},
		{"skew just inside", signer{at: t0.Add(-5 * time.Minute)}},
		{"unsigned extra header", signer{afterSign: func(r *http.Request) { r.Header.Set("X-Added-Later", "1") }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, "lambda")
			status, body, h := tc.s.do(t, b)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s (%v)", status, body, b.srv.Requests())
			}
			if h.Get("X-Amzn-RequestId") == "" || h.Get("Content-Type") != "application/json" {
				t.Errorf("answer headers %v", h)
			}
			reqs := b.srv.Requests()
			if len(reqs) != 1 || !reqs[0].Verified || reqs[0].Err != "" || reqs[0].AccessKeyID == "" || reqs[0].Status != 200 {
				t.Fatalf("recorded %+v", reqs)
			}
			if string(reqs[0].Body) != tc.s.body {
				t.Errorf("recorded body %q, want %q", reqs[0].Body, tc.s.body)
			}
			var sum struct {
				OK    bool
				Bytes int
			}
			if err := json.Unmarshal([]byte(body), &sum); err != nil || !sum.OK || sum.Bytes != len(tc.s.body) {
				t.Errorf("default answer %s", body)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	const (
		incomplete = "IncompleteSignatureException"
		invalidSig = "InvalidSignatureException"
	)
	noHost := func(a string) string {
		return strings.Replace(a, "SignedHeaders=content-length;content-type;host;", "SignedHeaders=content-length;content-type;", 1)
	}
	for _, tc := range []struct {
		name    string
		s       signer
		raw     func(url string) *http.Request // instead of s
		status  int
		kind    string
		msg     string // the whole Message, or a prefix when it ends in "*"
		errHas  string // in Request.Err
		service string
	}{
		{name: "no Authorization", raw: func(u string) *http.Request { r, _ := http.NewRequest("POST", u+"/", nil); return r },
			status: 403, kind: "MissingAuthenticationTokenException", msg: devlambda.MsgMissingToken},
		{name: "other scheme", raw: withAuth("Bearer abc"),
			status: 403, kind: incomplete, msg: `Authorization header has an unsupported scheme "Bearer"*`},
		{name: "garbled parameters", raw: withAuth("AWS4-HMAC-SHA256 Credential"),
			status: 403, kind: incomplete, msg: "Invalid key=value pair (missing equal-sign)*", errHas: "requires 'Signature' parameter"},
		{name: "credential shape", raw: withAuth("AWS4-HMAC-SHA256 Credential=AKID/2026/x, SignedHeaders=host, Signature=" + strings.Repeat("0", 64)),
			status: 403, kind: incomplete, msg: "Credential should be 'AccessKeyId/YYYYMMDD/region/service/aws4_request'*"},
		{name: "signature not hex", s: signer{rewriteAuth: func(a string) string { return a[:len(a)-64] + strings.Repeat("Z", 64) }},
			status: 403, kind: incomplete, msg: "Signature should be 64 lower-case hexadecimal digits."},
		{name: "unknown access key", s: signer{key: "AKIDNOTCONFIGURED00"},
			status: 403, kind: "UnrecognizedClientException", msg: devlambda.MsgInvalidToken, errHas: "AKIDNOTCONFIGURED00"},
		{name: "no X-Amz-Date", s: signer{afterSign: func(r *http.Request) { r.Header.Del("X-Amz-Date") }},
			status: 403, kind: incomplete, msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{name: "bad X-Amz-Date", s: signer{afterSign: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-03-14T15:09:26Z") }},
			status: 403, kind: incomplete, msg: `X-Amz-Date "2026-03-14T15:09:26Z" is not in the basic ISO 8601 format*`},
		{name: "expired (replayed)", s: signer{at: t0.Add(-5*time.Minute - time.Second)},
			status: 403, kind: invalidSig, msg: "Signature expired: 20260314T150425Z is now earlier than 20260314T150426Z (20260314T150926Z - 5 min.)"},
		{name: "not yet current", s: signer{at: t0.Add(6 * time.Minute)},
			status: 403, kind: invalidSig, msg: "Signature not yet current: 20260314T151526Z is still later than 20260314T151426Z (20260314T150926Z + 5 min.)"},
		{name: "scope date", s: signer{rewriteAuth: func(a string) string { return strings.Replace(a, "/20260314/", "/20260313/", 1) }},
			status: 403, kind: invalidSig, msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260313' != '20260314', from '20260314T150926Z'."},
		{name: "wrong region", s: signer{region: "us-east-1"},
			status: 403, kind: invalidSig, msg: devlambda.MsgInvalidRegion, errHas: `scope names "us-east-1", the endpoint is in "eu-west-1"`},
		{name: "wrong service", s: signer{service: "execute-api"},
			status: 403, kind: invalidSig, msg: "Credential should be scoped to correct service: 'lambda'."},
		{name: "wrong service, API Gateway", service: "execute-api", s: signer{service: "lambda"},
			status: 403, kind: invalidSig, msg: "Credential should be scoped to correct service: 'execute-api'."},
		{name: "bad terminator", s: signer{rewriteAuth: func(a string) string { return strings.Replace(a, "/aws4_request,", "/aws5_request,", 1) }},
			status: 403, kind: invalidSig, msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{name: "host not signed", s: signer{body: "{}", header: map[string]string{"Content-Type": "application/json"}, rewriteAuth: noHost},
			status: 403, kind: invalidSig, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "date not signed", s: signer{rewriteAuth: func(a string) string { return strings.Replace(a, ";x-amz-date", "", 1) }},
			status: 403, kind: invalidSig, msg: "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "session token missing", s: signer{key: tempKey, sec: tempSec},
			status: 403, kind: "UnrecognizedClientException", msg: devlambda.MsgInvalidToken, errHas: "session token"},
		{name: "session token wrong", s: signer{key: tempKey, sec: tempSec, tok: token + "x"},
			status: 403, kind: "UnrecognizedClientException", msg: devlambda.MsgInvalidToken},
		{name: "body tampered, hash header kept", s: signer{body: `{"amount":1}`, afterSign: setBody(`{"amount":9}`)},
			status: 403, kind: invalidSig, msg: devlambda.MsgBodyHashMismatch, errHas: "body hashes to"},
		{name: "body tampered, no hash header", s: signer{body: `{"amount":1}`, noBodyHashHeader: true, afterSign: setBody(`{"amount":9}`)},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch},
		{name: "wrong secret", s: signer{sec: "wrongSecret/00000000000000000000000000000"},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch, errHas: "canonical request:\nPOST\n/\n"},
		{name: "wrong secret, API Gateway shows canonical string", service: "execute-api", s: signer{service: "execute-api", sec: "wrong"},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch + "\n\nThe Canonical String for this request should have been\n'POST\n/\n*"},
		{name: "query tampered", s: signer{path: "/?ip=10.0.0.1", afterSign: func(r *http.Request) { r.URL.RawQuery = "ip=10.0.0.2" }},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch},
		{name: "path tampered", s: signer{path: "/a", afterSign: func(r *http.Request) { r.URL.Path = "/b" }},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch},
		{name: "signed header changed", s: signer{header: map[string]string{"X-Team": "secops"}, afterSign: func(r *http.Request) { r.Header.Set("X-Team", "sales") }},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch},
		{name: "signed header dropped", s: signer{header: map[string]string{"X-Team": "secops"}, afterSign: func(r *http.Request) { r.Header.Del("X-Team") }},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch, errHas: `signed header "x-team" is not in the request`},
		{name: "unsigned header claimed", s: signer{rewriteAuth: func(a string) string { return strings.Replace(a, "host;", "host;x-extra;", 1) },
			afterSign: func(r *http.Request) { r.Header.Set("X-Extra", "1") }},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch},
		{name: "user-agent claimed signed", s: signer{rewriteAuth: func(a string) string { return strings.Replace(a, "host;", "host;user-agent;", 1) }},
			status: 403, kind: invalidSig, msg: devlambda.MsgSignatureMismatch, errHas: "never signs it"},
		{name: "body over 6 MB", s: signer{body: strings.Repeat("x", devlambda.MaxBody+1)},
			status: 413, kind: "RequestEntityTooLargeException", msg: "Request must be smaller than 6291456 bytes for the InvokeFunction operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, cmp.Or(tc.service, "lambda"))
			var (
				status int
				body   string
				h      http.Header
			)
			if tc.raw != nil {
				status, body, h = send(t, tc.raw(b.url))
			} else {
				status, body, h = tc.s.do(t, b)
			}
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, body)
			}
			if got := h.Get("X-Amzn-ErrorType"); got != tc.kind {
				t.Errorf("X-Amzn-ErrorType %q, want %q", got, tc.kind)
			}
			msg := message(t, body)
			if prefix, ok := strings.CutSuffix(tc.msg, "*"); ok {
				if !strings.HasPrefix(msg, prefix) {
					t.Errorf("Message %q, want it to start %q", msg, prefix)
				}
			} else if msg != tc.msg {
				t.Errorf("Message %q,\nwant     %q", msg, tc.msg)
			}
			reqs := b.srv.Requests()
			if len(reqs) != 1 || reqs[0].Verified || reqs[0].Status != tc.status {
				t.Fatalf("recorded %d requests: %+v", len(reqs), reqs)
			}
			if !strings.Contains(reqs[0].Err, tc.errHas) || reqs[0].Err == "" {
				t.Errorf("Request.Err %q, want it to contain %q", reqs[0].Err, tc.errHas)
			}
		})
	}
}

func withAuth(v string) func(string) *http.Request {
	return func(u string) *http.Request {
		r, _ := http.NewRequest("POST", u+"/", nil)
		r.Header.Set("Authorization", v)
		r.Header.Set("X-Amz-Date", t0.Format("20060102T150405Z"))
		return r
	}
}

func setBody(s string) func(*http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(s))
		r.ContentLength = int64(len(s))
	}
}

// TestAWSLambdaRequests checks the product's own requests: what
// awslambda.NewRequest builds passes, for both services, and the same
// request replayed after the skew window fails.
func TestAWSLambdaRequests(t *testing.T) {
	for _, service := range []string{"lambda", "execute-api"} {
		t.Run(service, func(t *testing.T) {
			now := t0
			b := setup(t, service, func(c *devlambda.Config) { c.Now = func() time.Time { return now } })
			c := &hookline.Connection{
				Name: "n", WebhookType: awslambda.Type, URL: b.url + "/prod/alerts?source=hookline",
				CustomHeaders: []hookline.Header{{Name: "X-Team", Value: "secops"}},
				Settings:      map[string]string{"accessKeyId": tempKey, "region": "eu-west-1", "serviceName": service},
				Secrets:       map[string]string{"secretAccessKey": tempSec, "sessionToken": token},
			}
			req, err := awslambda.Kind{}.NewRequest(context.Background(), c, []byte(`{"name":"CPU high"}`), t0)
			if err != nil {
				t.Fatal(err)
			}
			if status, body, _ := send(t, req); status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			// The same request, its body re-read as a retry would, five
			// minutes and one second later.
			now = t0.Add(5*time.Minute + time.Second)
			replay := req.Clone(context.Background())
			replay.Body, _ = req.GetBody()
			status, body, _ := send(t, replay)
			if status != 403 || !strings.HasPrefix(message(t, body), "Signature expired: 20260314T150926Z is now earlier than") {
				t.Fatalf("replay: status %d: %s", status, body)
			}
			reqs := b.srv.Requests()
			if len(reqs) != 2 || !reqs[0].Verified || reqs[1].Verified || string(reqs[1].Body) != `{"name":"CPU high"}` {
				t.Fatalf("recorded %+v", reqs)
			}
			if reqs[0].Header.Get("X-Team") != "secops" || reqs[0].RawQuery != "source=hookline" || reqs[0].Path != "/prod/alerts" {
				t.Errorf("recorded %+v", reqs[0])
			}
		})
	}
}

func TestRespondAndConcurrency(t *testing.T) {
	var mu sync.Mutex
	seen := 0
	b := setup(t, "lambda", func(c *devlambda.Config) {
		c.Respond = func(r devlambda.Request) (int, []byte) {
			mu.Lock()
			seen++
			mu.Unlock()
			return http.StatusAccepted, []byte(fmt.Sprintf(`{"got":%q}`, r.Body))
		}
	})
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := signer{body: fmt.Sprintf(`{"i":%d}`, i)}
			if i%2 == 1 {
				s.sec = "wrong"
			}
			status, body, _ := s.do(t, b)
			want := map[bool]int{true: 403, false: 202}[i%2 == 1]
			if status != want {
				t.Errorf("request %d: status %d: %s", i, status, body)
			}
			if want == 202 && body != fmt.Sprintf(`{"got":"{\"i\":%d}"}`, i) {
				t.Errorf("request %d answered %s", i, body)
			}
		}()
	}
	wg.Wait()
	reqs := b.srv.Requests()
	verified := 0
	for _, r := range reqs {
		if r.Verified {
			verified++
		}
	}
	if len(reqs) != n || verified != n/2 || seen != n/2 {
		t.Fatalf("recorded %d, verified %d, Respond called %d", len(reqs), verified, seen)
	}
	// Requests returns copies: changing one does not change the record.
	reqs[0].Header.Set("X-Changed", "1")
	reqs[0].Body[0] = 'Z'
	again := b.srv.Requests()
	if again[0].Header.Get("X-Changed") != "" || bytes.HasPrefix(again[0].Body, []byte("Z")) {
		t.Fatal("Requests exposes the server's own records")
	}
}

func TestMaxRecorded(t *testing.T) {
	for _, tc := range []struct {
		max      int
		maxBytes int64
		sent     int
		want     int
	}{
		{max: 3, sent: 5, want: 3},
		{max: 3, sent: 40, want: 3}, // the ring wraps many times
		{max: 20, sent: 37, want: 20},
		{max: -1, sent: 4, want: 0},
		{max: 0, sent: 4, want: 4},
		// Bodies are {"i":N}: 7 bytes, 8 from N=10 on.
		{max: 100, maxBytes: 7 * 3, sent: 5, want: 3},
		{max: 100, maxBytes: 8*4 + 3, sent: 30, want: 4},
		{max: 100, maxBytes: 1, sent: 3, want: 1}, // a body over the bound is kept alone
	} {
		b := setup(t, "lambda", func(c *devlambda.Config) { c.MaxRecorded, c.MaxRecordedBytes = tc.max, tc.maxBytes })
		for i := range tc.sent {
			if status, body, _ := (signer{body: fmt.Sprintf(`{"i":%d}`, i)}).do(t, b); status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
		}
		reqs := b.srv.Requests()
		if len(reqs) != tc.want {
			t.Fatalf("MaxRecorded %d, MaxRecordedBytes %d after %d requests: recorded %d, want %d", tc.max, tc.maxBytes, tc.sent, len(reqs), tc.want)
		}
		// The newest are kept, oldest first.
		if tc.want > 0 && string(reqs[len(reqs)-1].Body) != fmt.Sprintf(`{"i":%d}`, tc.sent-1) {
			t.Errorf("MaxRecorded %d: last recorded body %s", tc.max, reqs[len(reqs)-1].Body)
		}
		for i, r := range reqs {
			if want := fmt.Sprintf(`{"i":%d}`, tc.sent-tc.want+i); string(r.Body) != want {
				t.Errorf("MaxRecorded %d, MaxRecordedBytes %d: recorded body %d is %s, want %s", tc.max, tc.maxBytes, i, r.Body, want)
			}
		}
	}
}

// TestNoCredentialsLogged sends a request with a session token and a wrong
// secret, which makes the server log the canonical request, and checks that
// neither the log, nor the answer, nor Request.Err shows the token.
func TestNoCredentialsLogged(t *testing.T) {
	for _, service := range []string{"lambda", "execute-api"} {
		t.Run(service, func(t *testing.T) {
			var log bytes.Buffer
			var mu sync.Mutex
			b := setup(t, service, func(c *devlambda.Config) {
				c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &log}, nil))
			})
			const wrong = "wrongTempSecret/000000000000000000000000"
			status, body, _ := signer{body: `{}`, key: tempKey, sec: wrong, tok: token, service: service}.do(t, b)
			if status != 403 || !strings.HasPrefix(message(t, body), devlambda.MsgSignatureMismatch) {
				t.Fatalf("status %d: %s", status, body)
			}
			reqs := b.srv.Requests()
			mu.Lock()
			logged := log.String()
			mu.Unlock()
			if !strings.Contains(logged, "x-amz-security-token:REDACTED") {
				t.Errorf("the log does not show the redacted canonical request: %s", logged)
			}
			for where, text := range map[string]string{"log": logged, "answer": body, "Request.Err": reqs[0].Err} {
				for _, secret := range []string{token, tempSec, wrong} {
					if strings.Contains(text, secret) {
						t.Errorf("the %s shows the credential %.6s...: %s", where, secret, text)
					}
				}
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
