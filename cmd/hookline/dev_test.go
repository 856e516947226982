package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify/awslambda"
)

// startDevLambda runs hookline dev lambda with args on a free port until
// the test ends, and returns its URL and what it printed.
func startDevLambda(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr syncBuffer
	root := newRootCmd(strings.NewReader(""), &stdout, &stderr)
	root.SetArgs(append([]string{"dev", "lambda", "--addr", "127.0.0.1:0",
		"--access-key-id", testKeyID, "--secret-access-key", testSecret}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hookline dev lambda: %v", err)
		}
	})
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+)/`)
	var url string
	waitFor(t, 10*time.Second, "hookline dev lambda to listen", func() bool {
		select {
		case err := <-done:
			t.Fatalf("hookline dev lambda ended: %v\n%s", err, stderr.String())
		default:
		}
		m := listening.FindStringSubmatch(stdout.String())
		if m != nil {
			url = m[1]
		}
		return strings.Contains(stdout.String(), "Press Ctrl-C")
	})
	return url, stdout.String()
}

// TestDevLambda runs hookline dev lambda as a user would and sends it
// what Hookline sends: --sts lets an assumeRole connection assume the
// printed role through the printed AWS_ENDPOINT_URL_STS, and --status and
// --function-error shape the answers of Function URL paths and the Invoke
// API alike.
func TestDevLambda(t *testing.T) {
	tests := []struct {
		name          string
		args          []string
		status        int    // the answer to a Function URL path and a synchronous Invoke API call
		functionError string // the Invoke API's X-Amz-Function-Error
	}{
		{"defaults", nil, http.StatusOK, ""},
		{"--status 429", []string{"--status", "429"}, http.StatusTooManyRequests, ""},
		{"--status 503", []string{"--status", "503"}, http.StatusServiceUnavailable, ""},
		{"--function-error", []string{"--function-error", "Unhandled"}, http.StatusOK, "Unhandled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, printed := startDevLambda(t, append([]string{"--sts"}, tc.args...)...)
			for _, want := range []string{devRoleARN, "external ID:       " + devExternalID, "AWS_ENDPOINT_URL_STS=" + url} {
				if !strings.Contains(printed, want) {
					t.Errorf("the output lacks %q:\n%s", want, printed)
				}
			}
			kind := awslambda.New(awslambda.Options{STSEndpoint: url})
			role := map[string]string{"authMode": "assumeRole", "roleArn": devRoleARN, "externalId": devExternalID,
				"accessKeyId": testKeyID, "region": "us-east-1", "serviceName": "lambda"}
			for _, target := range []struct {
				name, url, function string
				functionError       string
			}{
				{"a Function URL", url + "/", "", ""},
				{"the Invoke API", url, "my-function", tc.functionError},
			} {
				settings := map[string]string{}
				for k, v := range role {
					settings[k] = v
				}
				if target.function != "" {
					settings["invokeMode"], settings["functionName"] = "invoke", target.function
				}
				c := &hookline.Connection{ID: "0A1B2C3D4E5F6071" + tc.name, WebhookType: "AWSLambda", Name: "dev", URL: target.url,
					Settings: settings, Secrets: map[string]string{"secretAccessKey": testSecret}}
				status, header, body := send(t, kind, c)
				if status != tc.status || header.Get("X-Amz-Function-Error") != target.functionError {
					t.Errorf("%s: %d X-Amz-Function-Error %q %s, want %d %q", target.name, status, header.Get("X-Amz-Function-Error"), body, tc.status, target.functionError)
				}
				if status == http.StatusTooManyRequests && target.function != "" && header.Get("X-Amzn-ErrorType") != "TooManyRequestsException" {
					t.Errorf("%s: X-Amzn-ErrorType %q", target.name, header.Get("X-Amzn-ErrorType"))
				}
			}

			// --status does not hide a refusal: a wrong external ID is
			// refused by STS, a wrong secret by the Invoke API.
			wrong := &hookline.Connection{WebhookType: "AWSLambda", Name: "dev", URL: url,
				Settings: map[string]string{"authMode": "assumeRole", "roleArn": devRoleARN, "externalId": "not-the-one",
					"accessKeyId": testKeyID, "region": "us-east-1", "invokeMode": "invoke", "functionName": "f"},
				Secrets: map[string]string{"secretAccessKey": testSecret}}
			if _, err := kind.NewRequest(context.Background(), wrong, []byte(`{}`), time.Now()); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
				t.Errorf("a wrong external ID: %v, want STS's AccessDenied", err)
			}
			badKey := &hookline.Connection{WebhookType: "AWSLambda", Name: "dev", URL: url,
				Settings: map[string]string{"accessKeyId": testKeyID, "region": "us-east-1", "invokeMode": "invoke", "functionName": "f"},
				Secrets:  map[string]string{"secretAccessKey": strings.Repeat("x", 40)}}
			if status, _, body := send(t, kind, badKey); status != http.StatusForbidden {
				t.Errorf("a wrong secret: %d %s, want 403", status, body)
			}
		})
	}
}

// send builds c's request as deliveries do and sends it.
func send(t *testing.T, kind awslambda.Kind, c *hookline.Connection) (int, http.Header, string) {
	t.Helper()
	req, err := kind.NewRequest(context.Background(), c, []byte(`{"name": "dev"}`), time.Now())
	if err != nil {
		t.Fatalf("%s: build the request: %v", c.URL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func TestDevLambdaFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--service", "s3"}, "--service must be lambda or execute-api"},
		{[]string{"--status", "42"}, "--status must be an HTTP status code"},
		{[]string{"--service", "execute-api", "--function-error", "Unhandled"}, "--function-error needs --service lambda"},
	} {
		r := runCLI(t, "", append([]string{"dev", "lambda", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
