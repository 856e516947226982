package awslambda_test

import (
	"cmp"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
)

// TestInvokeAPI sends through notify.Sender, as deliveries do, to the
// Invoke API of devlambda, which checks the signature and plays the
// functions "my-fn" (answers) and "broken" (fails).
func TestInvokeAPI(t *testing.T) {
	dl := devlambda.New(devlambda.Config{
		Region: "us-east-1", Service: "lambda",
		Keys:      map[string]string{keyID: secret},
		Functions: []string{"my-fn", "broken"},
		Invoke: func(r devlambda.Request) ([]byte, string) {
			if r.Function == "broken" {
				return devlambda.ErrorResult("ValueError", "no rows in "+string(r.Body)+" for "+secret), "Unhandled"
			}
			return []byte(`{"statusCode":200,"body":"done"}`), ""
		},
	})
	ts := httptest.NewServer(dl)
	t.Cleanup(ts.Close)
	sender := &notify.Sender{Registry: notify.NewRegistry(awslambda.Kind{})}

	for _, tc := range []struct {
		name                  string
		url                   string // "" for the endpoint
		function, invocation  string
		key                   string // Idempotency-Key
		status                int
		verdict               notify.Verdict
		errHas                string // in Attempt.Error
		wantFn, wantQualifier string
		wantContext           string
	}{
		{name: "synchronous", function: "my-fn", key: "0192D1", status: 200, verdict: notify.Delivered,
			wantFn: "my-fn", wantContext: `{"custom":{"idempotencyKey":"0192D1"}}`},
		{name: "ARN with alias", function: "arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod", status: 200, verdict: notify.Delivered,
			wantFn: "my-fn", wantQualifier: "prod"},
		{name: "named by the URL", url: "/2015-03-31/functions/my-fn/invocations", status: 200, verdict: notify.Delivered, wantFn: "my-fn"},
		{name: "asynchronous", function: "broken", invocation: "Event", key: "0192D2", status: 202, verdict: notify.Delivered, wantFn: "broken"},
		{name: "function error", function: "broken", status: 200, verdict: notify.Refused, wantFn: "broken",
			errHas: `the function failed (X-Amz-Function-Error: Unhandled): ValueError: no rows in {"name":"High CPU"} for REDACTED`},
		{name: "unknown function", function: "gone", status: 404, verdict: notify.Refused, wantFn: "gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connection(ts.URL+tc.url, "")
			c.Settings["functionName"] = tc.function
			c.Settings["invocationType"] = tc.invocation
			if _, err := notify.NewRegistry(awslambda.Kind{}).Validate(c); err != nil {
				t.Fatalf("validate: %v", err)
			}
			a, err := sender.Deliver(context.Background(), c, []byte(`{"name":"High CPU"}`), tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if a.StatusCode != tc.status || notify.Judge(a) != tc.verdict || a.OK() != (tc.verdict == notify.Delivered) {
				t.Fatalf("status %d, verdict %s, OK %v, error %q; want %d %s", a.StatusCode, notify.Judge(a), a.OK(), a.Error, tc.status, tc.verdict)
			}
			if tc.errHas != "" && a.Error != tc.errHas || tc.errHas == "" && a.Error != "" {
				t.Errorf("error %q, want %q", a.Error, tc.errHas)
			}
			if strings.Contains(a.ResponseContent, secret) {
				t.Errorf("the answer shown repeats the secret: %s", a.ResponseContent)
			}
			reqs := dl.Requests()
			r := reqs[len(reqs)-1]
			if !r.Verified || r.Function != tc.wantFn || r.Qualifier != tc.wantQualifier || r.ClientContext != tc.wantContext {
				t.Errorf("arrived: verified %v (%s), function %q qualifier %q context %q", r.Verified, r.Err, r.Function, r.Qualifier, r.ClientContext)
			}
			if want := cmp.Or(tc.invocation, "RequestResponse"); r.InvocationType != want ||
				!strings.Contains(r.Header.Get("Authorization"), ";x-amz-invocation-type, Signature=") {
				t.Errorf("invocation type %q (want %q), Authorization %s", r.InvocationType, want, r.Header.Get("Authorization"))
			}
			if !strings.HasPrefix(a.Request.URL, ts.URL+"/2015-03-31/functions/") {
				t.Errorf("request shown for %s", a.Request.URL)
			}
		})
	}
}

// A function error on a Function URL connection is not a thing: its
// answer is judged by the status alone, as before.
func TestFunctionErrorHeaderOnFunctionURL(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Write([]byte(`{"errorType":"E"}`))
	}))
	t.Cleanup(ts.Close)
	sender := &notify.Sender{Registry: notify.NewRegistry(awslambda.Kind{})}
	a, err := sender.Send(context.Background(), connection(ts.URL+"/", "lambda"), []byte(`{}`))
	if err != nil || !a.OK() || a.Failed || notify.Judge(a) != notify.Delivered {
		t.Errorf("attempt %+v, err %v", a, err)
	}
	c := connection(ts.URL, "lambda")
	c.Settings["functionName"] = "f"
	a, err = sender.Send(context.Background(), c, []byte(`{}`))
	if err != nil || a.OK() || !a.Failed || a.Error != "the function failed (X-Amz-Function-Error: Unhandled): E" {
		t.Errorf("invoke attempt %+v, err %v", a, err)
	}
}

// A connection saved before invokeMode existed, with an Invoke API URL and
// X-Amz-Invocation-Type as a custom header, keeps invoking as it did.
func TestInvokeURLSavedBefore(t *testing.T) {
	dl := devlambda.New(devlambda.Config{Region: "us-east-1", Service: "lambda", Keys: map[string]string{keyID: secret}})
	ts := httptest.NewServer(dl)
	t.Cleanup(ts.Close)
	for _, tc := range []struct{ header, want string }{{"Event", "Event"}, {"", "RequestResponse"}} {
		c := connection(ts.URL+"/2015-03-31/functions/old-fn/invocations", "lambda")
		if tc.header != "" {
			c.CustomHeaders = []hookline.Header{{Name: "X-Amz-Invocation-Type", Value: tc.header}}
		}
		req, err := awslambda.Kind{}.NewRequest(context.Background(), c, []byte(`{}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		status, body := do(t, req)
		reqs := dl.Requests()
		if r := reqs[len(reqs)-1]; !r.Verified || r.Function != "old-fn" || r.InvocationType != tc.want {
			t.Errorf("header %q: %d %s, arrived as %q for %q", tc.header, status, body, r.InvocationType, r.Function)
		}
	}
}
