package awslambda_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
)

// isolateAWS keeps the SDK away from the machine's own AWS setup: no
// shared config or credentials file, no profile, no credentials or
// endpoints from the environment, and no instance metadata service.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, k := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE",
	} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
}

// loopbackOnly is an HTTP client for the SDK's own calls that dials
// 127.0.0.1 only and counts any other attempt, so a test fails if STS or a
// credential source were reached on the network.
func loopbackOnly(t *testing.T) *http.Client {
	var elsewhere atomic.Int32
	t.Cleanup(func() {
		if n := elsewhere.Load(); n > 0 {
			t.Errorf("the SDK tried to reach %d non-loopback addresses", n)
		}
	})
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if host != "127.0.0.1" {
				elsewhere.Add(1)
				return nil, fmt.Errorf("test: %s is not loopback", addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

// options are a test Kind's: nothing reaches IMDS or the network.
func options(t *testing.T, o awslambda.Options) awslambda.Options {
	o.HTTPClient = loopbackOnly(t)
	o.LoadOptions = append(o.LoadOptions, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	return o
}

// stsBundle is a devlambda endpoint that also plays STS, knowing keyID as
// the base key and roleARN with externalID.
type stsBundle struct {
	dl  *devlambda.Server
	url string
}

func stsServer(t *testing.T, lifetime time.Duration, mod ...func(*devlambda.Config)) stsBundle {
	t.Helper()
	cfg := devlambda.Config{
		Region: "us-east-1", Service: "lambda",
		Keys:          map[string]string{keyID: secret, tempKeyID: secret},
		SessionTokens: map[string]string{tempKeyID: token},
		STS:           &devlambda.STSConfig{Roles: map[string]string{roleARN: externalID}, Lifetime: lifetime},
	}
	for _, m := range mod {
		m(&cfg)
	}
	dl := devlambda.New(cfg)
	ts := httptest.NewServer(dl)
	t.Cleanup(ts.Close)
	return stsBundle{dl: dl, url: ts.URL}
}

// assumeCalls returns the AssumeRole calls the server answered.
func (b stsBundle) assumeCalls() []devlambda.Request {
	var out []devlambda.Request
	for _, r := range b.dl.Requests() {
		if r.Action == "AssumeRole" {
			out = append(out, r)
		}
	}
	return out
}

// last returns the newest request that was not a call to STS.
func (b stsBundle) last(t *testing.T) devlambda.Request {
	t.Helper()
	reqs := b.dl.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Action == "" {
			return reqs[i]
		}
	}
	t.Fatal("no request reached the function")
	return devlambda.Request{}
}

func roleConnection(url string) *hookline.Connection {
	return &hookline.Connection{
		ID: "0000000000000R01", Name: "role", WebhookType: awslambda.Type, URL: url + "/", DefaultPayload: "{}",
		Settings: map[string]string{"authMode": "assumeRole", "roleArn": roleARN, "externalId": externalID, "roleSessionName": "hookline",
			"accessKeyId": keyID, "region": "us-east-1", "serviceName": "lambda"},
		Secrets: map[string]string{"secretAccessKey": secret},
	}
}

// send builds c's request with k, sends it and wants it accepted.
func send(t *testing.T, k awslambda.Kind, c *hookline.Connection) *http.Request {
	t.Helper()
	req, err := k.NewRequest(context.Background(), c, []byte(`{"name":"High CPU"}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, body := do(t, req); status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	return req
}

// TestAssumeRole: the role's credentials are fetched once through STS with
// the connection's key and external ID, reused, signed with their session
// token, replaced before they expire, and replaced at once when the
// connection changes.
func TestAssumeRole(t *testing.T) {
	isolateAWS(t)
	const window = 10 * time.Minute
	// Credentials that last the window and 2 s more are good for 1 to 2 s
	// (STS's expiry has whole seconds).
	b := stsServer(t, window+2*time.Second)
	k := awslambda.New(options(t, awslambda.Options{STSEndpoint: b.url, ExpiryWindow: window}))
	c := roleConnection(b.url)

	first := send(t, k, c)
	send(t, k, c)
	calls := b.assumeCalls()
	if len(calls) != 1 {
		t.Fatalf("%d AssumeRole calls for two requests, want 1", len(calls))
	}
	form, _ := url.ParseQuery(string(calls[0].Body))
	if calls[0].AccessKeyID != keyID || !calls[0].Verified || form.Get("RoleArn") != roleARN || form.Get("ExternalId") != externalID ||
		form.Get("RoleSessionName") != "hookline" || form.Get("DurationSeconds") != "3600" {
		t.Errorf("AssumeRole call %+v with %v", calls[0], form)
	}
	got := b.last(t)
	if !strings.HasPrefix(got.AccessKeyID, "ASIA") || !got.Verified {
		t.Fatalf("the function was called with %q, verified %v", got.AccessKeyID, got.Verified)
	}
	if first.Header.Get("X-Amz-Security-Token") == "" || !strings.Contains(first.Header.Get("Authorization"), ";x-amz-security-token") {
		t.Errorf("the session token is not sent and signed: %v", first.Header)
	}

	time.Sleep(2100 * time.Millisecond)
	send(t, k, c)
	if n := len(b.assumeCalls()); n != 2 {
		t.Fatalf("%d AssumeRole calls after the credentials came near expiry, want 2", n)
	}
	if again := b.last(t); again.AccessKeyID == got.AccessKeyID {
		t.Errorf("the new request still uses %s", got.AccessKeyID)
	}

	// An edit of the connection is a new role session, at once.
	c.Settings["roleSessionName"] = "hookline-edited"
	send(t, k, c)
	calls = b.assumeCalls()
	if len(calls) != 3 || !strings.Contains(string(calls[2].Body), "RoleSessionName=hookline-edited") {
		t.Errorf("after the edit: %d calls, last %s", len(calls), calls[len(calls)-1].Body)
	}
	// A connection not yet saved (no ID) is not cached.
	unsaved := roleConnection(b.url)
	unsaved.ID = ""
	send(t, k, unsaved)
	send(t, k, unsaved)
	if n := len(b.assumeCalls()); n != 5 {
		t.Errorf("%d AssumeRole calls, want 5", n)
	}
}

// TestAssumeRoleFailures: a refusal by STS fails the attempt, an STS that
// does not answer makes it one to retry.
func TestAssumeRoleFailures(t *testing.T) {
	isolateAWS(t)
	b := stsServer(t, 0)
	k := awslambda.New(options(t, awslambda.Options{STSEndpoint: b.url}))

	c := roleConnection(b.url)
	c.Settings["externalId"] = "ext-wrong"
	_, err := k.NewRequest(context.Background(), c, nil, time.Now())
	if hookline.ErrorCode(err) != hookline.EINVALID || !strings.Contains(err.Error(), "assume role "+roleARN+": AccessDenied: User: ") ||
		!strings.Contains(err.Error(), "(HTTP 403)") {
		t.Errorf("wrong external ID: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	kd := awslambda.New(options(t, awslambda.Options{STSEndpoint: down}))
	sender := &notify.Sender{Registry: notify.NewRegistry(kd), Timeout: 300 * time.Millisecond}
	a, err := sender.Send(context.Background(), roleConnection(b.url), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.StatusCode != 0 || !strings.Contains(a.Error, "assume role "+roleARN) || !strings.Contains(a.Error, "will try again") ||
		notify.Judge(a) != notify.Retry || strings.Contains(a.Error, secret) {
		t.Errorf("STS down: %+v, verdict %s", a, notify.Judge(a))
	}
	if n := len(b.dl.Requests()); n != 1 {
		t.Errorf("%d requests reached the server, want only the refused AssumeRole", n)
	}

	// Without an access key, only a server that allows its own
	// credentials assumes a role.
	c = roleConnection(b.url)
	delete(c.Settings, "accessKeyId")
	delete(c.Secrets, "secretAccessKey")
	if _, err := (awslambda.Kind{}).NewRequest(context.Background(), c, nil, time.Now()); hookline.ErrorCode(err) != hookline.EINVALID {
		t.Errorf("no key, no ambient credentials: %v", err)
	}
}

// TestDefaultChain: the machine's credentials, here from the environment,
// sign directly or assume the role.
func TestDefaultChain(t *testing.T) {
	isolateAWS(t)
	b := stsServer(t, 0)
	ambient := awslambda.New(options(t, awslambda.Options{AmbientCredentials: true, STSEndpoint: b.url}))

	t.Setenv("AWS_ACCESS_KEY_ID", tempKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", token)
	c := connection(b.url+"/", "lambda")
	c.ID = "0000000000000D01"
	c.Settings = map[string]string{"authMode": "defaultChain", "region": "us-east-1", "serviceName": "lambda"}
	c.Secrets = map[string]string{}
	req := send(t, ambient, c)
	if got := b.last(t); got.AccessKeyID != tempKeyID || req.Header.Get("X-Amz-Security-Token") != token {
		t.Errorf("signed with %q, token %q", got.AccessKeyID, req.Header.Get("X-Amz-Security-Token"))
	}

	// Refused where the operator has not allowed it.
	var p hookline.Problems
	awslambda.Kind{}.Normalize(c, &p)
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "authMode: defaultChain is turned off") {
		t.Errorf("Normalize: %v", err)
	}
	if _, err := (awslambda.Kind{}).NewRequest(context.Background(), c, nil, time.Now()); hookline.ErrorCode(err) != hookline.EINVALID {
		t.Errorf("NewRequest: %v", err)
	}

	// The machine's key assumes the role.
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	os.Unsetenv("AWS_SESSION_TOKEN")
	ambient = awslambda.New(options(t, awslambda.Options{AmbientCredentials: true, STSEndpoint: b.url}))
	rc := roleConnection(b.url)
	delete(rc.Settings, "accessKeyId")
	delete(rc.Secrets, "secretAccessKey")
	send(t, ambient, rc)
	if calls := b.assumeCalls(); len(calls) != 1 || calls[0].AccessKeyID != keyID {
		t.Fatalf("AssumeRole calls %+v", calls)
	}
	if got := b.last(t); !strings.HasPrefix(got.AccessKeyID, "ASIA") || got.AccessKeyID == tempKeyID {
		t.Errorf("the function was called with %q", got.AccessKeyID)
	}
}

// TestSTSEndpointFromEnvironment: without Options.STSEndpoint, the SDK's
// AWS_ENDPOINT_URL_STS is honoured, also for a connection's own key.
func TestSTSEndpointFromEnvironment(t *testing.T) {
	isolateAWS(t)
	b := stsServer(t, 0)
	t.Setenv("AWS_ENDPOINT_URL_STS", b.url)
	k := awslambda.New(options(t, awslambda.Options{}))
	send(t, k, roleConnection(b.url))
	if n := len(b.assumeCalls()); n != 1 {
		t.Errorf("%d AssumeRole calls at AWS_ENDPOINT_URL_STS, want 1", n)
	}
}

// An assumed role's session token is no connection secret, yet it is
// redacted from what a target echoes, like one.
func TestAssumedTokenRedacted(t *testing.T) {
	isolateAWS(t)
	b := stsServer(t, 0, func(c *devlambda.Config) {
		c.Invoke = func(r devlambda.Request) ([]byte, string) {
			return []byte(`{"youSent":"` + r.Header.Get("X-Amz-Security-Token") + `"}`), ""
		}
	})
	k := awslambda.New(options(t, awslambda.Options{STSEndpoint: b.url}))
	c := roleConnection(b.url)
	c.Settings["functionName"] = "echo"
	sender := &notify.Sender{Registry: notify.NewRegistry(k)}
	a, err := sender.Send(context.Background(), c, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.StatusCode != 200 || a.ResponseContent != `{"youSent":"REDACTED"}` {
		t.Errorf("answer shown: %d %s", a.StatusCode, a.ResponseContent)
	}
	for _, h := range a.Request.Headers {
		if h.Name == "X-Amz-Security-Token" && h.Value != "REDACTED" {
			t.Errorf("token shown: %s", h.Value)
		}
	}
}

// Requests that find no credentials together share one AssumeRole call.
func TestAssumeRoleBurst(t *testing.T) {
	isolateAWS(t)
	b := stsServer(t, 0)
	k := awslambda.New(options(t, awslambda.Options{STSEndpoint: b.url}))
	c := roleConnection(b.url)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := k.NewRequest(context.Background(), c, []byte(`{}`), time.Now()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(b.assumeCalls()); n != 1 {
		t.Errorf("%d AssumeRole calls for a burst of 20, want 1", n)
	}
}
