package awslambda_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
)

var _ notify.Kind = awslambda.Kind{}

const (
	keyID  = "AKIAHOOKLINETEST0001"
	secret = "hooklineTestSecret/K7MDENG+bPxRfiCYEXAMPL"
	token  = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUC+test=="
)

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func TestInferFromURL(t *testing.T) {
	for _, tc := range []struct {
		url             string
		region, service string
	}{
		{"https://abcdefghijklmnopqrstuvwxyz234567.lambda-url.us-east-1.on.aws/", "us-east-1", "lambda"},
		{"https://abcdefghijklmnopqrstuvwxyz234567.lambda-url.ap-southeast-5.on.aws/path?x=1", "ap-southeast-5", "lambda"},
		{"https://ABCDEF.LAMBDA-URL.EU-WEST-2.ON.AWS./", "eu-west-2", "lambda"},
		{"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/alerts", "eu-west-1", "execute-api"},
		{"https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com/prod", "us-gov-west-1", "execute-api"},
		{"https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod", "cn-north-1", "execute-api"},
		{"https://a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn:443/prod", "cn-northwest-1", "execute-api"},
		{"https://vpce-0123456789abcdef0-abcdefgh.execute-api.us-west-2.vpce.amazonaws.com/prod/", "us-west-2", "execute-api"},
		{"https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-2.amazonaws.com/prod", "us-east-2", "execute-api"},
		{"https://lambda.il-central-1.amazonaws.com/2015-03-31/functions/f/invocations", "il-central-1", "lambda"},
		{"http://abc.lambda-url.us-east-1.on.aws/", "us-east-1", "lambda"},
		// Nothing to infer.
		{"https://hooks.example.com/lambda", "", ""},
		{"http://127.0.0.1:9000/", "", ""},
		{"https://abc.lambda-url.on.aws/", "", ""},
		{"https://abc.lambda-url.us-east-1.on.aws.evil.example/", "", ""},
		{"https://abc.execute-api.us-east-1.amazonaws.com.evil.example/", "", ""},
		{"https://abc.execute-api.nowhere.amazonaws.com/prod", "", ""},
		{"https://execute-api.us-east-1.amazonaws.com/prod", "", ""},
		{"https://s3.us-east-1.amazonaws.com/bucket", "", ""},
		{"ftp://abc.lambda-url.us-east-1.on.aws/", "", ""},
		{"abc.lambda-url.us-east-1.on.aws", "", ""},
		{"", "", ""},
		{"%zz", "", ""},
	} {
		region, service, ok := awslambda.InferFromURL(tc.url)
		if region != tc.region || service != tc.service || ok != (tc.region != "") {
			t.Errorf("InferFromURL(%q) = %q, %q, %v; want %q, %q", tc.url, region, service, ok, tc.region, tc.service)
		}
	}
}

func ExampleInferFromURL() {
	fmt.Println(awslambda.InferFromURL("https://abcdefghij.lambda-url.eu-west-1.on.aws/"))
	fmt.Println(awslambda.InferFromURL("https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com/prod/alerts"))
	fmt.Println(awslambda.InferFromURL("https://hooks.example.com/"))
	// Output:
	// eu-west-1 lambda true
	// us-gov-west-1 execute-api true
	//   false
}

// FuzzInferFromURL: inference never panics, and what it infers is a
// region and a service that the host really names.
func FuzzInferFromURL(f *testing.F) {
	for _, s := range []string{
		"https://abc.lambda-url.us-east-1.on.aws/",
		"https://a1.execute-api.cn-north-1.amazonaws.com.cn/p",
		"https://v.execute-api.us-west-2.vpce.amazonaws.com/",
		"http://127.0.0.1:9000/", "://", "https://[::1]:80/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		region, service, ok := awslambda.InferFromURL(raw)
		if !ok {
			if region != "" || service != "" {
				t.Fatalf("not ok but returned %q %q", region, service)
			}
			return
		}
		if service != awslambda.ServiceLambda && service != awslambda.ServiceExecuteAPI {
			t.Fatalf("service %q", service)
		}
		lower := strings.ToLower(raw)
		if !strings.Contains(lower, "."+region+".") {
			t.Fatalf("region %q is not a label of %q", region, raw)
		}
		// The region, once inferred, passes Normalize's own check.
		c := &hookline.Connection{URL: raw, Settings: map[string]string{"region": region, "serviceName": service}, Secrets: map[string]string{}}
		var p hookline.Problems
		awslambda.Kind{}.Normalize(c, &p)
		if err := p.Err(); err != nil && strings.Contains(err.Error(), "region") {
			t.Fatalf("inferred region %q fails Normalize: %v", region, err)
		}
	})
}

func TestNormalize(t *testing.T) {
	const fnURL = "https://abcdefghij.lambda-url.us-east-1.on.aws/"
	const apiURL = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/alerts"
	creds := func(kv ...string) map[string]string {
		m := map[string]string{"accessKeyId": keyID}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	sec := map[string]string{"secretAccessKey": secret}
	for _, tc := range []struct {
		name         string
		url          string
		headers      []hookline.Header
		settings     map[string]string
		secrets      map[string]string
		wantSettings map[string]string // nil: unchecked
		wantSecrets  map[string]string
		problems     []string // "field: message substring"
	}{
		{name: "function URL infers both", url: fnURL, settings: creds(), secrets: sec,
			wantSettings: creds("region", "us-east-1", "serviceName", "lambda")},
		{name: "API Gateway infers both", url: apiURL, settings: creds(), secrets: sec,
			wantSettings: creds("region", "eu-west-1", "serviceName", "execute-api")},
		{name: "given and agreeing, trimmed and lower-cased", url: apiURL,
			settings:     creds("region", " EU-WEST-1 ", "serviceName", "Execute-API", "accessKeyId", " "+keyID+"\n"),
			secrets:      map[string]string{"secretAccessKey": secret + "\n", "sessionToken": " " + token + " "},
			wantSettings: creds("region", "eu-west-1", "serviceName", "execute-api"),
			wantSecrets:  map[string]string{"secretAccessKey": secret, "sessionToken": token}},
		{name: "region contradicts", url: fnURL, settings: creds("region", "us-west-2"), secrets: sec,
			problems: []string{`region: "us-west-2" contradicts the URL, which names region "us-east-1"`}},
		{name: "service contradicts", url: apiURL, settings: creds("serviceName", "lambda"), secrets: sec,
			problems: []string{`serviceName: "lambda" contradicts the URL, which names service "execute-api"`}},
		{name: "local endpoint needs both", url: "http://127.0.0.1:9000/", settings: creds(), secrets: sec,
			problems: []string{"region: is required: the URL does not show which AWS region", "serviceName: is required: the URL does not show whether"}},
		{name: "custom domain with both", url: "https://alerts.example.com/hook", settings: creds("region", "cn-north-1", "serviceName", "execute-api"), secrets: sec,
			wantSettings: creds("region", "cn-north-1", "serviceName", "execute-api")},
		{name: "GovCloud and newer regions", url: "http://127.0.0.1:9000/", settings: creds("region", "us-gov-west-1", "serviceName", "lambda"), secrets: sec},
		{name: "bad region", url: "https://alerts.example.com/", settings: creds("region", "us-east", "serviceName", "lambda"), secrets: sec,
			problems: []string{`region: is not an AWS region code`}},
		{name: "bad region shape", url: "https://alerts.example.com/", settings: creds("region", "useast1", "serviceName", "lambda"), secrets: sec,
			problems: []string{`region: is not an AWS region code`}},
		{name: "bad service", url: fnURL, settings: creds("serviceName", "s3"), secrets: sec,
			problems: []string{`serviceName: "s3" is not supported: use lambda`}},
		{name: "invalid URL: plain required", url: "not a url", settings: creds(), secrets: sec,
			problems: []string{"region: is required", "serviceName: is required: lambda or execute-api"}},
		{name: "missing everything", url: fnURL, settings: map[string]string{}, secrets: map[string]string{},
			problems: []string{"accessKeyId: is required", "secretAccessKey: is required"}},
		{name: "key id too short", url: fnURL, settings: creds("accessKeyId", "AKIA123"), secrets: sec,
			problems: []string{`accessKeyId: has 7 characters that are not an AWS access key id`}},
		{name: "key id lower case", url: fnURL, settings: creds("accessKeyId", "akiaiosfodnn7example"), secrets: sec,
			problems: []string{"accessKeyId: has 20 characters, including lower-case letters or / + (is this the secret access key?)"}},
		{name: "secret access key pasted as key id", url: fnURL, settings: creds("accessKeyId", " "+secret+" "), secrets: sec,
			problems: []string{fmt.Sprintf("accessKeyId: has %d characters, including", len(secret)) + " lower-case letters or / + (is this the secret access key?)"}},
		{name: "key id with + only", url: fnURL, settings: creds("accessKeyId", "AKIA+B/CDEFGHIJKLMNO"), secrets: sec,
			problems: []string{"accessKeyId: has 20 characters, including lower-case"}},
		{name: "key id of other characters is not quoted", url: fnURL, settings: creds("accessKeyId", "AKIA-1234-5678-90"), secrets: sec,
			problems: []string{`accessKeyId: has 17 characters that are not an AWS access key id`}},
		{name: "key id too long", url: fnURL, settings: creds("accessKeyId", strings.Repeat("A", 129)), secrets: sec,
			problems: []string{"accessKeyId:"}},
		{name: "key id 128 ok", url: fnURL, settings: creds("accessKeyId", strings.Repeat("A", 128)), secrets: sec},
		{name: "secret with a space", url: fnURL, settings: creds(), secrets: map[string]string{"secretAccessKey": "abc def"},
			problems: []string{"secretAccessKey: must be at most 128 printable ASCII characters without spaces"}},
		{name: "secret too short", url: fnURL, settings: creds(), secrets: map[string]string{"secretAccessKey": "tooShort/123"},
			problems: []string{"secretAccessKey: has 12 characters; a secret access key has at least 16"}},
		{name: "secret of 16 ok", url: fnURL, settings: creds(), secrets: map[string]string{"secretAccessKey": "sixteen+chars/16"}},
		{name: "token too short", url: fnURL, settings: creds(), secrets: map[string]string{"secretAccessKey": secret, "sessionToken": "IQoJb3Jp/Zw=="},
			problems: []string{"sessionToken: has 13 characters; a session token has at least 16"}},
		{name: "token with a newline inside", url: fnURL, settings: creds(), secrets: map[string]string{"secretAccessKey": secret, "sessionToken": "ab\ncd"},
			problems: []string{"sessionToken: must be"}},
		{name: "unsigned custom headers refused", url: fnURL, settings: creds(), secrets: sec,
			headers:  []hookline.Header{{Name: "X-Team", Value: "a"}, {Name: "user-agent", Value: "b"}, {Name: "X-Amzn-Trace-Id", Value: "c"}},
			problems: []string{"customHeaders[1].name: AWS SigV4 cannot sign User-Agent; remove it", "customHeaders[2].name: AWS SigV4 cannot sign X-Amzn-Trace-Id; remove it"}},
		{name: "empty session token dropped", url: fnURL, settings: creds(), secrets: map[string]string{"secretAccessKey": secret, "sessionToken": "  "},
			wantSecrets: map[string]string{"secretAccessKey": secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Registry.Validate hands Normalize non-nil maps.
			c := &hookline.Connection{URL: tc.url, CustomHeaders: tc.headers, Settings: map[string]string{}, Secrets: map[string]string{}}
			maps.Copy(c.Settings, tc.settings)
			maps.Copy(c.Secrets, tc.secrets)
			var p hookline.Problems
			awslambda.Kind{}.Normalize(c, &p)
			err := p.Err()
			if len(tc.problems) == 0 && err != nil {
				t.Fatalf("unexpected problems: %v", err)
			}
			if len(tc.problems) > 0 {
				var he *hookline.Error
				if !errors.As(err, &he) || he.Code != hookline.EINVALID {
					t.Fatalf("error %v, want EINVALID", err)
				}
				if len(he.Fields) != len(tc.problems) {
					t.Errorf("%d problems, want %d: %v", len(he.Fields), len(tc.problems), err)
				}
				for _, want := range tc.problems {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("problems %q lack %q", err, want)
					}
				}
			}
			// No message repeats a secret, nor an access key id that may be
			// the secret pasted into the wrong field.
			private := []string{secret, token}
			for _, v := range tc.secrets {
				private = append(private, strings.TrimSpace(v))
			}
			if id := strings.TrimSpace(tc.settings["accessKeyId"]); strings.ContainsAny(id, "abcdefghijklmnopqrstuvwxyz/+") {
				private = append(private, id)
			}
			for _, v := range private {
				if v != "" && err != nil && strings.Contains(err.Error(), v) {
					t.Errorf("a message repeats the secret %.4s...: %v", v, err)
				}
			}
			if tc.wantSettings != nil {
				if diff := cmp.Diff(tc.wantSettings, c.Settings); diff != "" {
					t.Errorf("settings (-want +got):\n%s", diff)
				}
			}
			if tc.wantSecrets != nil {
				if diff := cmp.Diff(tc.wantSecrets, c.Secrets); diff != "" {
					t.Errorf("secrets (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRegionsAreAccepted(t *testing.T) {
	seen := map[string]bool{}
	regions := awslambda.Regions()
	regions[0] = "changed"
	if awslambda.Regions()[0] == "changed" {
		t.Error("Regions returns the package's own slice")
	}
	for _, r := range awslambda.Regions() {
		if seen[r] {
			t.Errorf("%s listed twice", r)
		}
		seen[r] = true
		c := &hookline.Connection{URL: "http://127.0.0.1:9000/",
			Settings: map[string]string{"accessKeyId": keyID, "region": r, "serviceName": "lambda"},
			Secrets:  map[string]string{"secretAccessKey": secret}}
		var p hookline.Problems
		awslambda.Kind{}.Normalize(c, &p)
		if err := p.Err(); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	for _, want := range []string{"us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5", "eu-central-2"} {
		if !seen[want] {
			t.Errorf("Regions lacks %s", want)
		}
	}
}

func TestFieldsAndHeaders(t *testing.T) {
	k := awslambda.Kind{}
	if k.Type() != "AWSLambda" {
		t.Errorf("Type %q", k.Type())
	}
	got := map[string]notify.Field{}
	var order []string
	for _, f := range k.Fields() {
		got[f.Name] = f
		order = append(order, f.Name)
		if f.Label == "" || f.Help == "" {
			t.Errorf("field %s lacks label or help", f.Name)
		}
	}
	if diff := cmp.Diff([]string{"authMode", "accessKeyId", "secretAccessKey", "sessionToken", "roleArn", "externalId", "roleSessionName",
		"region", "serviceName", "invokeMode", "functionName", "invocationType"}, order); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	// The access key is required with authMode accessKey only, which
	// Normalize checks; a form must not mark it required for every mode.
	for name, want := range map[string][2]bool{ // secret, required
		"authMode": {false, false}, "accessKeyId": {false, false}, "secretAccessKey": {true, false}, "sessionToken": {true, false},
		"roleArn": {false, false}, "externalId": {false, false}, "roleSessionName": {false, false},
		"region": {false, true}, "serviceName": {false, true},
		"invokeMode": {false, false}, "functionName": {false, false}, "invocationType": {false, false},
	} {
		if f := got[name]; f.Secret != want[0] || f.Required != want[1] {
			t.Errorf("%s: secret=%v required=%v, want %v", name, f.Secret, f.Required, want)
		}
	}
	if diff := cmp.Diff([]string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token"}, k.OwnedHeaders()); diff != "" {
		t.Errorf("owned headers (-want +got):\n%s", diff)
	}
}

// The options a form offers are exactly the regions and services, and each
// is accepted: a user who picks from the list is never refused.
func TestFieldOptions(t *testing.T) {
	want := map[string][]string{
		"authMode":       {"accessKey", "assumeRole"}, // defaultChain only where the server allows it
		"region":         awslambda.Regions(),
		"serviceName":    {"lambda", "execute-api"},
		"invokeMode":     {"functionUrl", "invoke"},
		"invocationType": {"RequestResponse", "Event"},
	}
	// What an option needs besides: the fields its mode requires.
	needs := map[string]map[string]string{
		"assumeRole":      {"roleArn": "arn:aws:iam::123456789012:role/hookline"},
		"invoke":          {"functionName": "my-function"},
		"RequestResponse": {"functionName": "my-function"},
		"Event":           {"functionName": "my-function"},
	}
	fields := awslambda.Kind{}.Fields()
	for _, f := range fields {
		if diff := cmp.Diff(want[f.Name], f.Options); diff != "" {
			t.Errorf("%s options (-want +got):\n%s", f.Name, diff)
		}
		for _, o := range f.Options {
			c := &hookline.Connection{URL: "http://127.0.0.1:9000/",
				Settings: map[string]string{"accessKeyId": keyID, "region": "us-east-1", "serviceName": "lambda", f.Name: o},
				Secrets:  map[string]string{"secretAccessKey": secret}}
			maps.Copy(c.Settings, needs[o])
			var p hookline.Problems
			awslambda.Kind{}.Normalize(c, &p)
			if err := p.Err(); err != nil {
				t.Errorf("%s option %q: %v", f.Name, o, err)
			}
		}
		if len(f.Options) > 0 {
			f.Options[0] = "changed"
		}
	}
	for _, f := range (awslambda.Kind{}).Fields() {
		if len(f.Options) > 0 && f.Options[0] == "changed" {
			t.Errorf("%s: Fields shares its options between calls", f.Name)
		}
	}
}

const tempKeyID = "ASIAHOOKLINETEST0002"

// lambdaServer starts a SigV4-checking endpoint for service in us-east-1
// that knows keyID, and tempKeyID with its session token.
func lambdaServer(t *testing.T, service string) (*devlambda.Server, string) {
	t.Helper()
	dl := devlambda.New(devlambda.Config{
		Region: "us-east-1", Service: service,
		Keys:          map[string]string{keyID: secret, tempKeyID: secret},
		SessionTokens: map[string]string{tempKeyID: token},
		Now:           func() time.Time { return now.Add(90 * time.Second) }, // a little clock skew
	})
	ts := httptest.NewServer(dl)
	t.Cleanup(ts.Close)
	return dl, ts.URL
}

func connection(url, service string) *hookline.Connection {
	return &hookline.Connection{
		Name: "lambda", WebhookType: awslambda.Type, URL: url, DefaultPayload: "{}",
		Settings: map[string]string{"accessKeyId": keyID, "region": "us-east-1", "serviceName": service},
		Secrets:  map[string]string{"secretAccessKey": secret},
	}
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func awsMessage(t *testing.T, body string) string {
	t.Helper()
	var m struct{ Message string }
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return m.Message
}

// TestNewRequestAgainstDevlambda sends what NewRequest builds to an
// endpoint that checks SigV4 as AWS does.
func TestNewRequestAgainstDevlambda(t *testing.T) {
	body := []byte(`{"name":"High CPU","type":"Critical","rows":[{"host":"web-1"}],"note":"Überlast 🚨"}`)
	for _, tc := range []struct {
		name    string
		service string
		path    string
		mod     func(c *hookline.Connection)
		tamper  func(r *http.Request)
		status  int
		message string
		errHas  string
	}{
		{name: "function URL", service: "lambda", path: "/", status: 200},
		{name: "API Gateway stage, path and query", service: "execute-api", path: "/prod/alerts/sumo%20v2?source=hookline&b=2&a=1&a=0&q=a%20b%2Fc", status: 200},
		{name: "custom headers", service: "lambda", path: "/", status: 200, mod: func(c *hookline.Connection) {
			c.CustomHeaders = []hookline.Header{{Name: "X-Team", Value: "secops"}, {Name: "X-Note", Value: "a   b"}, {Name: "Content-Type", Value: "application/vnd.api+json"}}
		}},
		{name: "session token", service: "execute-api", path: "/prod", status: 200, mod: func(c *hookline.Connection) {
			c.Settings["accessKeyId"] = tempKeyID
			c.Secrets["sessionToken"] = token
		}},
		{name: "session token missing", service: "lambda", path: "/", status: 403, message: devlambda.MsgInvalidToken, mod: func(c *hookline.Connection) {
			c.Settings["accessKeyId"] = tempKeyID
		}},
		{name: "wrong secret", service: "lambda", path: "/", status: 403, message: devlambda.MsgSignatureMismatch, mod: func(c *hookline.Connection) {
			c.Secrets["secretAccessKey"] = "wrongSecretKey/0000000000000000000000000"
		}},
		{name: "unknown key", service: "lambda", path: "/", status: 403, message: devlambda.MsgInvalidToken, mod: func(c *hookline.Connection) {
			c.Settings["accessKeyId"] = "AKIAUNKNOWNKEY000000"
		}},
		{name: "wrong region", service: "lambda", path: "/", status: 403, message: devlambda.MsgInvalidRegion, mod: func(c *hookline.Connection) {
			c.Settings["region"] = "us-west-2"
		}},
		{name: "body tampered", service: "lambda", path: "/", status: 403, message: devlambda.MsgBodyHashMismatch, tamper: func(r *http.Request) {
			forged := strings.Replace(string(body), "Critical", "Warning!", 1)
			r.Body = io.NopCloser(strings.NewReader(forged))
		}},
		{name: "body tampered, hash header recomputed", service: "lambda", path: "/", status: 403, message: devlambda.MsgSignatureMismatch, tamper: func(r *http.Request) {
			forged := strings.Replace(string(body), "Critical", "Warning!", 1)
			r.Body = io.NopCloser(strings.NewReader(forged))
			sum := sha256.Sum256([]byte(forged))
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		}},
		{name: "custom header changed", service: "lambda", path: "/", status: 403, message: devlambda.MsgSignatureMismatch,
			mod:    func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{Name: "X-Team", Value: "secops"}} },
			tamper: func(r *http.Request) { r.Header.Set("X-Team", "finance") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dl, base := lambdaServer(t, tc.service)
			c := connection(base+tc.path, tc.service)
			if tc.mod != nil {
				tc.mod(c)
			}
			req, err := awslambda.Kind{}.NewRequest(context.Background(), c, body, now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				tc.tamper(req)
			}
			status, answer := do(t, req)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s; endpoint saw %+v", status, tc.status, answer, dl.Requests())
			}
			reqs := dl.Requests()
			if len(reqs) != 1 {
				t.Fatalf("endpoint saw %d requests", len(reqs))
			}
			r := reqs[0]
			if tc.status != 200 {
				if got := awsMessage(t, answer); got != tc.message {
					t.Errorf("Message %q, want %q", got, tc.message)
				}
				return
			}
			if !r.Verified || r.Method != "POST" || string(r.Body) != string(body) {
				t.Errorf("endpoint recorded %+v", r)
			}
			for _, h := range c.CustomHeaders {
				if got := r.Header.Get(h.Name); got != h.Value {
					t.Errorf("header %s = %q, want %q", h.Name, got, h.Value)
				}
			}
			if tok := c.Secrets["sessionToken"]; tok != "" && r.Header.Get("X-Amz-Security-Token") != tok {
				t.Errorf("session token header %q", r.Header.Get("X-Amz-Security-Token"))
			}
			if tok := c.Secrets["sessionToken"]; tok != "" && !strings.Contains(r.Header.Get("Authorization"), "x-amz-security-token") {
				t.Errorf("session token not signed: %s", r.Header.Get("Authorization"))
			}
		})
	}
}

// TestRequestShape checks what NewRequest builds before it is sent.
func TestRequestShape(t *testing.T) {
	body := []byte(`{"a":1}`)
	c := connection("https://abcdefghij.lambda-url.us-east-1.on.aws/hook?x=1", "lambda")
	c.CustomHeaders = []hookline.Header{{Name: "X-Team", Value: "secops"}, {Name: "x-amz-date", Value: "forged"}, {Name: "Authorization", Value: "Bearer forged"}}
	req, err := awslambda.Kind{}.NewRequest(context.Background(), c, body, now)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	for h, want := range map[string]string{
		"Content-Type":         "application/json",
		"X-Team":               "secops",
		"X-Amz-Date":           "20260314T150926Z",
		"X-Amz-Content-Sha256": hex.EncodeToString(sum[:]),
		"X-Amz-Security-Token": "",
		"User-Agent":           notify.UserAgent,
	} {
		if got := req.Header.Values(h); strings.Join(got, ",") != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	auth := req.Header.Get("Authorization")
	wantPrefix := "AWS4-HMAC-SHA256 Credential=" + keyID + "/20260314/us-east-1/lambda/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-team, Signature="
	if !strings.HasPrefix(auth, wantPrefix) || len(auth) != len(wantPrefix)+64 {
		t.Errorf("Authorization %q", auth)
	}
	if req.Method != "POST" || req.URL.String() != c.URL || req.ContentLength != int64(len(body)) {
		t.Errorf("%s %s length %d", req.Method, req.URL, req.ContentLength)
	}
	for i := 0; i < 2; i++ { // a retry reads the body again
		rc, err := req.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(rc); string(b) != string(body) {
			t.Fatalf("GetBody read %q", b)
		}
	}
	if strings.Contains(fmt.Sprint(req.Header), secret) {
		t.Error("the secret access key travels in a header")
	}
}

func TestNewRequestInfersAndRefuses(t *testing.T) {
	// A connection saved before Normalize filled region and service in
	// still signs for what its URL names.
	c := connection("https://a1b2c3d4e5.execute-api.ap-southeast-5.amazonaws.com/prod", "")
	delete(c.Settings, "region")
	delete(c.Settings, "serviceName")
	req, err := awslambda.Kind{}.NewRequest(context.Background(), c, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if auth := req.Header.Get("Authorization"); !strings.Contains(auth, "/20260314/ap-southeast-5/execute-api/aws4_request,") {
		t.Errorf("Authorization %q", auth)
	}
	// A custom header that would go unsigned is refused, not sent.
	for _, h := range []string{"User-Agent", "x-amzn-trace-id"} {
		c := connection("https://abcdefghij.lambda-url.us-east-1.on.aws/", "lambda")
		c.CustomHeaders = []hookline.Header{{Name: h, Value: "v"}}
		_, err = awslambda.Kind{}.NewRequest(context.Background(), c, nil, now)
		if hookline.ErrorCode(err) != hookline.EINVALID || !strings.Contains(err.Error(), "AWS SigV4 cannot sign custom header") {
			t.Errorf("custom %s: error %v", h, err)
		}
	}
	// Without them and nothing to infer, it refuses to build a request.
	c = connection("http://127.0.0.1:9000/", "")
	delete(c.Settings, "region")
	delete(c.Secrets, "secretAccessKey")
	_, err = awslambda.Kind{}.NewRequest(context.Background(), c, nil, now)
	if hookline.ErrorCode(err) != hookline.EINVALID || !strings.Contains(err.Error(), "secretAccessKey, region, serviceName") {
		t.Errorf("error %v", err)
	}
}

// TestRegistry checks the kind inside notify's registry: owned headers are
// refused as custom headers and Normalize runs.
func TestRegistry(t *testing.T) {
	reg := notify.NewRegistry(awslambda.Kind{})
	c := connection("https://abcdefghij.lambda-url.us-east-1.on.aws/", "")
	c.Settings = map[string]string{"accessKeyId": keyID}
	c.CustomHeaders = []hookline.Header{{Name: "x-amz-security-token", Value: "t"}}
	_, err := reg.Validate(c)
	if err == nil || !strings.Contains(err.Error(), `customHeaders[0].name: "x-amz-security-token" is set by the AWSLambda connection itself`) {
		t.Errorf("error %v", err)
	}
	if c.Settings["region"] != "us-east-1" || c.Settings["serviceName"] != "lambda" {
		t.Errorf("settings %v", c.Settings)
	}
	// Headers the signer never signs are refused once each, with the reason.
	c = connection("https://abcdefghij.lambda-url.us-east-1.on.aws/", "lambda")
	c.CustomHeaders = []hookline.Header{{Name: "User-Agent", Value: "x"}, {Name: "Expect", Value: "100-continue"}, {Name: "Authorization", Value: "x"}}
	_, err = reg.Validate(c)
	var he *hookline.Error
	if !errors.As(err, &he) {
		t.Fatalf("error %v", err)
	}
	got := map[string][]string{}
	for _, f := range he.Fields {
		got[f.Field] = append(got[f.Field], f.Message)
	}
	if m := got["customHeaders[0].name"]; len(m) != 1 || !strings.HasPrefix(m[0], "AWS SigV4 cannot sign User-Agent") {
		t.Errorf("User-Agent: %q", m)
	}
	for _, f := range []string{"customHeaders[1].name", "customHeaders[2].name"} {
		if len(got[f]) != 1 {
			t.Errorf("%s: %q, want one problem", f, got[f])
		}
	}
}
