package devlambda_test

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/devlambda"
)

const fnPath = "/2015-03-31/functions/%s/invocations"

func invokePath(fn string) string { return strings.Replace(fnPath, "%s", fn, 1) }

func TestInvokeAPI(t *testing.T) {
	failing := func(c *devlambda.Config) {
		c.Functions = []string{"my-fn", "broken"}
		c.Invoke = func(r devlambda.Request) ([]byte, string) {
			if r.Function == "broken" {
				return devlambda.ErrorResult("ValueError", "no rows in "+string(r.Body)), "Unhandled"
			}
			return []byte(`{"handled":` + string(r.Body) + `}`), ""
		}
	}
	ctx := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"idempotencyKey":"D1"}}`))
	for _, tc := range []struct {
		name                    string
		service                 string
		mod                     func(*devlambda.Config)
		s                       signer
		status                  int
		body                    string // the whole answer; "" for don't care
		function, qualifier     string
		invocationType, fnError string
		version                 string // X-Amz-Executed-Version
		clientContext           string
	}{
		{name: "synchronous by default", s: signer{path: invokePath("my-fn"), body: `{"a":1}`},
			status: 200, function: "my-fn", invocationType: "RequestResponse", version: "$LATEST"},
		{name: "function result", mod: failing, s: signer{path: invokePath("my-fn"), body: `{"a":1}`,
			header: map[string]string{"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Client-Context": ctx}},
			status: 200, body: `{"handled":{"a":1}}`, function: "my-fn", invocationType: "RequestResponse", version: "$LATEST",
			clientContext: `{"custom":{"idempotencyKey":"D1"}}`},
		{name: "ARN with alias, escaped as the SDK does", mod: failing,
			s:      signer{path: invokePath("arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Amy-fn%3Aprod"), body: `{}`},
			status: 200, function: "my-fn", qualifier: "prod", invocationType: "RequestResponse", version: "prod"},
		{name: "partial ARN", mod: failing, s: signer{path: invokePath("123456789012%3Afunction%3Amy-fn"), body: `{}`},
			status: 200, function: "my-fn", invocationType: "RequestResponse", version: "$LATEST"},
		{name: "function error", mod: failing, s: signer{path: invokePath("broken"), body: `{"b":2}`},
			status: 200, function: "broken", invocationType: "RequestResponse", fnError: "Unhandled", version: "$LATEST"},
		{name: "asynchronous", mod: failing, s: signer{path: invokePath("broken"), body: `{}`, header: map[string]string{"X-Amz-Invocation-Type": "Event"}},
			status: 202, body: "", function: "broken", invocationType: "Event"},
		{name: "dry run", s: signer{path: invokePath("my-fn"), header: map[string]string{"X-Amz-Invocation-Type": "DryRun"}},
			status: 204, function: "my-fn", invocationType: "DryRun"},
		{name: "unknown function", mod: failing, s: signer{path: invokePath("nope"), body: `{}`},
			status: 404, function: "nope", invocationType: "RequestResponse"},
		{name: "unknown invocation type", s: signer{path: invokePath("my-fn"), header: map[string]string{"X-Amz-Invocation-Type": "Later"}},
			status: 400, function: "my-fn", invocationType: "Later"},
		{name: "signature still checked", s: signer{path: invokePath("my-fn"), sec: "wrongSecret/000000000000000000000000000000"},
			status: 403},
		{name: "an API Gateway path like any other", service: "execute-api",
			s:      signer{path: invokePath("my-fn"), service: "execute-api", header: map[string]string{"X-Amz-Invocation-Type": "Event"}},
			status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mods []func(*devlambda.Config)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			b := setup(t, cmp.Or(tc.service, "lambda"), mods...)
			status, body, h := tc.s.do(t, b)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			reqs := b.srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("recorded %d requests", len(reqs))
			}
			r := reqs[0]
			if r.Function != tc.function || r.Qualifier != tc.qualifier || r.InvocationType != tc.invocationType ||
				r.FunctionError != tc.fnError || r.ClientContext != tc.clientContext {
				t.Errorf("recorded function %q qualifier %q type %q error %q context %q", r.Function, r.Qualifier, r.InvocationType, r.FunctionError, r.ClientContext)
			}
			if got := h.Get("X-Amz-Function-Error"); got != tc.fnError {
				t.Errorf("X-Amz-Function-Error %q, want %q", got, tc.fnError)
			}
			if got := h.Get("X-Amz-Executed-Version"); got != tc.version {
				t.Errorf("X-Amz-Executed-Version %q, want %q", got, tc.version)
			}
			if tc.body != "" || tc.status == 202 {
				if body != tc.body {
					t.Errorf("body %q, want %q", body, tc.body)
				}
			}
			if tc.fnError != "" {
				var fe struct{ ErrorType, ErrorMessage string }
				if err := json.Unmarshal([]byte(body), &fe); err != nil || fe.ErrorType != "ValueError" || fe.ErrorMessage != `no rows in {"b":2}` {
					t.Errorf("function error body %s", body)
				}
			}
			if tc.status == 404 && message(t, body) != "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:nope" {
				t.Errorf("404 message %s", body)
			}
		})
	}
}

const roleARN = "arn:aws:iam::123456789012:role/hookline-invoker"

// stsCall is an AssumeRole request signed with the base key.
func stsCall(form url.Values, at time.Time, sec string) signer {
	return signer{body: form.Encode(), service: "sts", at: at, sec: sec,
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}
}

func assumeForm(role, externalID string) url.Values {
	v := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {role},
		"RoleSessionName": {"hookline"}, "DurationSeconds": {"3600"}}
	if externalID != "" {
		v.Set("ExternalId", externalID)
	}
	return v
}

type stsAnswer struct {
	Result struct {
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		AssumedRoleUser struct{ Arn string }
	} `xml:"AssumeRoleResult"`
}

type stsFault struct {
	Error struct{ Code, Message string }
}

func TestSTSAssumeRole(t *testing.T) {
	now := t0
	b := setup(t, "lambda", func(c *devlambda.Config) {
		c.Now = func() time.Time { return now }
		c.STS = &devlambda.STSConfig{Roles: map[string]string{roleARN: "ext-0001"}, Lifetime: 15 * time.Minute}
	})

	// Refusals come in STS's XML.
	for _, tc := range []struct {
		name   string
		s      signer
		status int
		code   string
	}{
		{"wrong external ID", stsCall(assumeForm(roleARN, "ext-9999"), t0, ""), 403, "AccessDenied"},
		{"no external ID", stsCall(assumeForm(roleARN, ""), t0, ""), 403, "AccessDenied"},
		{"unknown role", stsCall(assumeForm("arn:aws:iam::123456789012:role/other", "ext-0001"), t0, ""), 403, "AccessDenied"},
		{"wrong secret", stsCall(assumeForm(roleARN, "ext-0001"), t0, "wrongSecret/000000000000000000000000000000"), 403, "SignatureDoesNotMatch"},
		{"other action", stsCall(url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, t0, ""), 400, "InvalidAction"},
	} {
		status, body, _ := tc.s.do(t, b)
		var f stsFault
		if err := xml.Unmarshal([]byte(body), &f); status != tc.status || err != nil || f.Error.Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}

	status, body, _ := stsCall(assumeForm(roleARN, "ext-0001"), t0, "").do(t, b)
	var got stsAnswer
	if err := xml.Unmarshal([]byte(body), &got); status != 200 || err != nil {
		t.Fatalf("AssumeRole: %d %v %s", status, err, body)
	}
	c := got.Result.Credentials
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || len(c.SecretAccessKey) != 40 || len(c.SessionToken) < 100 ||
		c.Expiration != t0.Add(15*time.Minute).Format(time.RFC3339) ||
		got.Result.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/hookline-invoker/hookline" {
		t.Fatalf("credentials %+v", got.Result)
	}
	if r := b.srv.Requests(); r[len(r)-1].Action != "AssumeRole" || r[len(r)-1].RoleARN != roleARN || strings.Contains(string(r[len(r)-1].Body), c.SecretAccessKey) {
		t.Errorf("recorded %+v", r[len(r)-1])
	}

	// The temporary credentials work on the Lambda paths, with their token
	// and until they expire.
	temp := signer{path: invokePath("my-fn"), key: c.AccessKeyID, sec: c.SecretAccessKey, tok: c.SessionToken}
	if status, body, _ := temp.do(t, b); status != 200 {
		t.Errorf("with temporary credentials: %d %s", status, body)
	}
	noToken := temp
	noToken.tok = ""
	if status, body, _ := noToken.do(t, b); status != 403 || message(t, body) != devlambda.MsgInvalidToken {
		t.Errorf("without the token: %d %s", status, body)
	}
	now = t0.Add(15 * time.Minute)
	temp.at = now
	if status, body, _ := temp.do(t, b); status != 403 || message(t, body) != devlambda.MsgExpiredToken {
		t.Errorf("expired: %d %s", status, body)
	}
}
