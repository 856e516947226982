package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
)

// authSecret holds characters that JSON and URLs escape, so that an echo in
// either form is only caught if the redactor knows that form.
const authSecret = "Bearer s3cr3t<tok&en>/value+42"

func webhookConn(url string) *hookline.Connection {
	return &hookline.Connection{
		ID: "00000000000000A1", Name: "hook", WebhookType: "Webhook", URL: url,
		DefaultPayload:    `{"name": "{{Name}}", "type": "{{TriggerType}}"}`,
		ResolutionPayload: `{"resolved": "{{TriggerType}}"}`,
		Settings:          map[string]string{},
		Secrets:           map[string]string{"authorizationHeader": authSecret},
	}
}

func newSender(timeout time.Duration) *notify.Sender {
	return &notify.Sender{Registry: notify.NewRegistry(awslambda.Kind{}, webhook.Kind{}), Timeout: timeout}
}

func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestSendOutcomes(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantErr    string // substring of Attempt.Error; "" means none
		wantBody   string // substring of ResponseContent
		truncated  bool
	}{
		{"ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }, 200, "", `{"ok":true}`, false},
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, 500, "", "boom", false},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		}, 302, "", "", false},
		{"answer echoes the secret", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "you sent "+r.Header.Get("Authorization"))
		}, 200, "", "you sent REDACTED", false},
		{"answer echoes the token without its scheme", func(w http.ResponseWriter, r *http.Request) {
			_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			io.WriteString(w, "invalid token "+tok)
		}, 200, "", "invalid token REDACTED", false},
		{"answer echoes the secret in JSON", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]string{"authorization": r.Header.Get("Authorization")})
		}, 200, "", `{"authorization":"REDACTED"}`, false},
		{"answer echoes the token in JSON with escaped slashes", func(w http.ResponseWriter, r *http.Request) {
			b, _ := json.Marshal(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			io.WriteString(w, `{"token":`+strings.ReplaceAll(string(b), "/", `\/`)+`}`)
		}, 200, "", `{"token":"REDACTED"}`, false},
		{"answer echoes the secret URL-escaped", func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			_, tok, _ := strings.Cut(auth, " ")
			io.WriteString(w, "see /login?auth="+url.QueryEscape(auth)+"&token="+url.QueryEscape(tok)+" and /t/"+url.PathEscape(tok))
		}, 200, "", "see /login?auth=REDACTED&token=REDACTED and /t/REDACTED", false},
		{"huge answer truncated", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strings.Repeat("x", notify.DefaultMaxResponse+10))
		}, 200, "", "xxxx", true},
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client hanging up.
			io.ReadAll(r.Body)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, 0, "timeout", "", false},
		{"connection reset", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		}, 0, "without answering", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSender(300 * time.Millisecond)
			a, err := s.Send(context.Background(), webhookConn(serve(t, tc.handler)), []byte(`{"x":1}`))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if a.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d (error %q)", a.StatusCode, tc.wantStatus, a.Error)
			}
			if (tc.wantErr == "") != (a.Error == "") || !strings.Contains(a.Error, tc.wantErr) {
				t.Errorf("error %q, want %q", a.Error, tc.wantErr)
			}
			if !strings.Contains(a.ResponseContent, tc.wantBody) || a.ResponseTruncated != tc.truncated {
				t.Errorf("content %.40q (truncated %v)", a.ResponseContent, a.ResponseTruncated)
			}
			if tc.truncated && len(a.ResponseContent) != notify.DefaultMaxResponse {
				t.Errorf("kept %d bytes, want %d", len(a.ResponseContent), notify.DefaultMaxResponse)
			}
			if a.Latency <= 0 {
				t.Error("no latency measured")
			}
			shown, _ := json.Marshal(a)
			for _, part := range []string{"s3cr3t", "value+42", "value%2B42"} {
				if strings.Contains(string(shown), part) || strings.Contains(a.ResponseContent, part) {
					t.Errorf("attempt shows part %q of the secret: %s", part, shown)
				}
			}
		})
	}
}

func TestSendRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	a, err := newSender(time.Second).Send(context.Background(), webhookConn("http://"+addr+"/"), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.StatusCode != 0 || !strings.Contains(a.Error, "refused") {
		t.Errorf("status %d error %q, want connection refused", a.StatusCode, a.Error)
	}
}

// TestRedactedRequest checks what the user is shown of a signed request:
// enough to debug (scope, signed headers, body) and nothing to replay.
func TestRedactedRequest(t *testing.T) {
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {})
	c := &hookline.Connection{
		ID: "00000000000000B2", Name: "lambda", WebhookType: "AWSLambda", URL: url + "/fn",
		DefaultPayload: `{"n": "{{Name}}"}`,
		CustomHeaders:  []hookline.Header{{Name: "X-Team", Value: "secops"}},
		Settings:       map[string]string{"accessKeyId": "AKIDEXAMPLE0000001", "region": "us-east-1", "serviceName": "lambda"},
		Secrets:        map[string]string{"secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "sessionToken": "FwoGZXIvYXdzEXAMPLETOKEN"},
	}
	a, err := newSender(time.Second).Test(context.Background(), c, hookline.TriggerCritical)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for _, h := range a.Request.Headers {
		headers[h.Name] = h.Value
	}
	auth := headers["Authorization"]
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0000001/") || !strings.Contains(auth, "SignedHeaders=") || !strings.HasSuffix(auth, "Signature=REDACTED") {
		t.Errorf("Authorization shown as %q", auth)
	}
	// content-length is signed, so it must be shown; User-Agent is sent, unsigned.
	if !strings.Contains(auth, "SignedHeaders=content-length;") || headers["Content-Length"] != strconv.Itoa(len(a.Request.Body)) || headers["User-Agent"] != notify.UserAgent {
		t.Errorf("Content-Length %q, User-Agent %q shown for %s", headers["Content-Length"], headers["User-Agent"], auth)
	}
	if headers["X-Amz-Security-Token"] != "REDACTED" || headers["X-Team"] != "secops" || headers["Host"] == "" {
		t.Errorf("headers shown: %v", headers)
	}
	if !strings.Contains(a.Request.Body, `"n":"Hookline test alert"`) && !strings.Contains(a.Request.Body, `"n": "Hookline test alert"`) {
		t.Errorf("body shown: %s", a.Request.Body)
	}
	shown, _ := json.Marshal(a)
	for _, s := range c.Secrets {
		if strings.Contains(string(shown), s) {
			t.Errorf("attempt shows secret %.4s...", s)
		}
	}
}

func TestTestUsesRecoveryPayload(t *testing.T) {
	var bodies []string
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
	})
	s := newSender(time.Second)
	c := webhookConn(url)
	for _, tt := range []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical} {
		if _, err := s.Test(context.Background(), c, tt); err != nil {
			t.Fatal(err)
		}
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0], `"type": "Critical"`) || !strings.Contains(bodies[1], `"resolved": "ResolvedCritical"`) {
		t.Errorf("bodies = %q", bodies)
	}
}

// TestShownIsSent checks that the request shown is the request sent: every
// header the target received is shown with the same value, redacted
// credentials aside, and nothing is shown that was not sent.
func TestShownIsSent(t *testing.T) {
	var got http.Header
	target := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		got.Set("Host", r.Host)
	})
	c := webhookConn(target + "/hook")
	c.CustomHeaders = []hookline.Header{{Name: "X-Team", Value: "secops"}}
	body := []byte(`{"x":"ü"}`)
	a, err := newSender(time.Second).Send(context.Background(), c, body)
	if err != nil || a.StatusCode != 200 {
		t.Fatalf("Send: %v %+v", err, a)
	}
	shown := http.Header{}
	var names []string
	for _, h := range a.Request.Headers {
		shown.Add(h.Name, h.Value)
		names = append(names, h.Name)
	}
	if names[0] != "Host" || !slices.IsSorted(names[1:]) {
		t.Errorf("headers shown in the order %q, want Host then sorted", names)
	}
	if shown.Get("Authorization") != "Bearer REDACTED" {
		t.Errorf("Authorization shown as %q", shown.Get("Authorization"))
	}
	shown.Set("Authorization", got.Get("Authorization"))
	if diff := cmp.Diff(got, shown); diff != "" {
		t.Errorf("sent (-) and shown (+) headers differ:\n%s", diff)
	}
	for h, want := range map[string]string{"User-Agent": notify.UserAgent, "Content-Length": strconv.Itoa(len(body)), "Accept-Encoding": ""} {
		if v := shown.Get(h); v != want {
			t.Errorf("%s shown as %q, want %q", h, v, want)
		}
	}
}
