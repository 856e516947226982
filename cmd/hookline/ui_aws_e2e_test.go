package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/notify"
)

// The AWS Lambda connection's modes in the Create/Edit Connection dialog,
// in a real browser against the whole program and devlambda, which plays
// the Function URL, the Invoke API and STS:
//
//	go test ./cmd/hookline -run TestUIAWS

const (
	uiRoleARN    = "arn:aws:iam::123456789012:role/hookline-invoker"
	uiExternalID = "ui-e2e-external-id"
	failingFn    = "failing-function"
)

// startAWSLambda runs devlambda with STS for uiRoleARN and an Invoke API
// whose failingFn fails, and points the AWS SDK's STS calls in this
// process (hookline serve's among them) at it; no other AWS setting of
// the machine is read.
func startAWSLambda(t *testing.T) (*devlambda.Server, string) {
	t.Helper()
	dl := devlambda.New(devlambda.Config{
		Region: "us-east-1", Service: "lambda",
		Keys: map[string]string{testKeyID: testSecret},
		STS:  &devlambda.STSConfig{Roles: map[string]string{uiRoleARN: uiExternalID}},
		Invoke: func(r devlambda.Request) ([]byte, string) {
			if r.Function == failingFn {
				return devlambda.ErrorResult("ValueError", "no rows to enrich"), "Unhandled"
			}
			return []byte(`{"enriched": true}`), ""
		},
	})
	ts := httptest.NewServer(dl)
	t.Cleanup(ts.Close)

	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_STS":        ts.URL,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return dl, ts.URL
}

// startServerAmbient is startServer with --aws-default-credentials.
func startServerAmbient(t *testing.T) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	m := &Main{
		Config: Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", AdminToken: testToken, LogFormat: "json", LogLevel: slog.LevelDebug,
			AllowTargets: allowLoopback, AWSDefaultCredentials: true},
		Stderr: logs,
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &testServer{t: t, main: m, url: m.Server.URL(), logs: logs}
}

// shown lists which of the AWS Lambda dialog's own fields are shown, and
// which of those are marked optional.
func shownFields(b *browser) (shown, optional []string) {
	b.t.Helper()
	type field struct {
		Name     string `json:"name"`
		Optional bool   `json:"optional"`
	}
	for _, f := range eval[[]field](b, `[...document.querySelectorAll('#type-fields .field[data-field]')]
		.filter((el) => el.getClientRects().length > 0)
		.map((el) => ({name: el.dataset.field, optional: !el.querySelector('label > .optional').hidden}))`) {
		shown = append(shown, f.Name)
		if f.Optional {
			optional = append(optional, f.Name)
		}
	}
	return shown, optional
}

// recordSent makes the page remember the bodies it sends to the API, to
// see which fields a definition carries.
func recordSent(b *browser) {
	b.t.Helper()
	eval[bool](b, `(() => {
		if (window.sentBodies) return true;
		window.sentBodies = [];
		const real = window.fetch;
		// Only connection bodies: the payload preview posts as you type, and
		// may come after the request a test looks at.
		window.fetch = (url, init) => {
			if (init && init.body && !String(url).includes('/payload/')) window.sentBodies.push(String(init.body));
			return real(url, init);
		};
		return true;
	})()`)
}

// lastSent is the last connection body the page sent, its secrets replaced by "(set)"
// so that a failure message does not print them.
func lastSent(b *browser) map[string]any {
	b.t.Helper()
	sent := eval[map[string]any](b, `JSON.parse(window.sentBodies[window.sentBodies.length - 1] || '{}')`)
	for _, k := range []string{"secretAccessKey", "sessionToken"} {
		if _, ok := sent[k]; ok {
			sent[k] = "(set)"
		}
	}
	return sent
}

// choose picks the option of a select that reads text, as a person does,
// and tells the page; it fails when no option reads so.
func choose(b *browser, sel, text string) {
	b.t.Helper()
	b.waitVisible(sel)
	found := eval[bool](b, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		const o = [...el.options].find((o) => o.text === %s);
		if (!o) return false;
		el.focus();
		o.selected = true;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`, js(sel), js(text)))
	if !found {
		b.t.Fatalf("%s has no option %q: %v", sel, text, optionTexts(b, sel))
	}
}

// optionTexts lists the words a select shows for its options.
func optionTexts(b *browser, sel string) []string {
	b.t.Helper()
	return eval[[]string](b, fmt.Sprintf(`[...document.querySelector(%s).options].map((o) => o.text)`, js(sel)))
}

// bareOptions lists the dialog's select options that show their API value
// rather than words ("authMode=assumeRole"); a placeholder has no value.
func bareOptions(b *browser) []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll('#type-fields select option')]
		.filter((o) => o.value !== '' && o.text === o.value).map((o) => o.parentElement.name + '=' + o.value)`)
}

func openNewLambda(b *browser) {
	b.t.Helper()
	b.click("#add-button")
	b.click(`#add-menu [data-type="AWSLambda"]`)
	b.waitVisible("#editor")
	b.waitText("#editor-subtitle", "AWS Lambda")
}

// TestUIAWSModes: the dialog shows the fields each authMode and invokeMode
// uses, and only those are sent; an assumeRole connection made in the
// dialog assumes its role through devlambda's STS (pointed at with
// AWS_ENDPOINT_URL_STS) and answers Test Alert with 200 OK, before and
// after Save; an Invoke API connection shows a function's error as a
// failure.
func TestUIAWSModes(t *testing.T) {
	dl, lambdaURL := startAWSLambda(t)
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	openNewLambda(b)
	recordSent(b)

	// Each mode shows its own fields. This server does not let connections
	// use its own credentials: no defaultChain, and assuming a role needs
	// the access key.
	if opts := eval[[]string](b, `[...document.querySelectorAll('#f-authMode option')].map((o) => o.value)`); strings.Join(opts, ",") != "accessKey,assumeRole" {
		t.Errorf("authMode offers %v", opts)
	}
	// A person reads words; the values stay the API's.
	if got := strings.Join(optionTexts(b, "#f-authMode"), "|"); got != "Access key|Assume an IAM role" {
		t.Errorf("Authentication reads %s", got)
	}
	for sel, want := range map[string]string{
		"#f-invokeMode":     "POST to a Function URL or API Gateway|Call the Lambda Invoke API",
		"#f-invocationType": "Wait for the function's result|Queue the event without waiting",
		"#f-serviceName":    "Select the service|Lambda Function URL (lambda)|API Gateway (execute-api)",
	} {
		if got := strings.Join(optionTexts(b, sel), "|"); got != want {
			t.Errorf("%s reads %s, want %s", sel, got, want)
		}
	}
	if got := optionTexts(b, "#f-region"); !slices.Contains(got, "US East (N. Virginia) — us-east-1") {
		t.Errorf("the regions read %v", got)
	}
	if bare := bareOptions(b); len(bare) > 0 {
		t.Errorf("options showing their API value: %v", bare)
	}
	keys := "accessKeyId,secretAccessKey,sessionToken"
	for _, tc := range []struct {
		auth, invoke     string
		shown, optional  string
		urlLabel, noteIs string
	}{
		{"accessKey", "functionUrl", keys + ",region,serviceName,invokeMode", "sessionToken", "URL", ""},
		{"assumeRole", "functionUrl", keys + ",roleArn,externalId,roleSessionName,region,serviceName,invokeMode",
			"sessionToken,externalId,roleSessionName", "URL", "has not allowed connections to use the server's own AWS credentials"},
		{"assumeRole", "invoke", keys + ",roleArn,externalId,roleSessionName,region,invokeMode,functionName,invocationType",
			"sessionToken,externalId,roleSessionName", "Lambda endpoint", "Lambda Invoke API"},
		{"accessKey", "invoke", keys + ",region,invokeMode,functionName,invocationType", "sessionToken", "Lambda endpoint", "Lambda Invoke API"},
		{"accessKey", "functionUrl", keys + ",region,serviceName,invokeMode", "sessionToken", "URL", ""},
	} {
		b.fill("#f-authMode", tc.auth)
		b.fill("#f-invokeMode", tc.invoke)
		shown, optional := shownFields(b)
		if got := strings.Join(shown, ","); got != "authMode,"+tc.shown {
			t.Errorf("%s/%s shows %s, want authMode,%s", tc.auth, tc.invoke, got, tc.shown)
		}
		if got := strings.Join(optional, ","); got != tc.optional {
			t.Errorf("%s/%s marks optional %s, want %s", tc.auth, tc.invoke, got, tc.optional)
		}
		if got := b.text(`label[for="f-url"]`); got != tc.urlLabel {
			t.Errorf("%s/%s: the URL is labelled %q, want %q", tc.auth, tc.invoke, got, tc.urlLabel)
		}
		notes := b.text("#f-authMode-mode") + " " + b.text("#f-invokeMode-mode")
		if tc.noteIs != "" && !strings.Contains(notes, tc.noteIs) {
			t.Errorf("%s/%s: the notes say %q, want %q", tc.auth, tc.invoke, notes, tc.noteIs)
		}
		if tc.invoke == "invoke" && !strings.Contains(b.text("#f-url-help"), "lambda.<region>.amazonaws.com") {
			t.Errorf("the Lambda endpoint's help says %q", b.text("#f-url-help"))
		}
	}

	// An assumeRole connection through the dialog. A function name typed
	// under invoke and left behind when switching back is not sent.
	b.typeText("#f-name", "assumed-role")
	b.typeText("#f-url", lambdaURL+"/")
	b.fill("#f-region", "us-east-1")
	b.fill("#f-serviceName", "lambda")
	b.fill("#f-authMode", "accessKey")
	choose(b, "#f-authMode", "Assume an IAM role")
	b.typeText("#f-roleArn", uiRoleARN)
	b.typeText("#f-externalId", uiExternalID)
	b.typeText("#f-accessKeyId", testKeyID)
	b.typeText("#f-secretAccessKey", testSecret)
	b.fill("#f-invokeMode", "invoke")
	b.typeText("#f-functionName", "left-behind")
	b.fill("#f-invokeMode", "functionUrl")
	b.fill("#f-defaultPayload", alertPayload)
	b.waitText("#f-defaultPayload-check", "Valid JSON template")

	b.click("#test-alert")
	b.waitText("#test-result", "Test Alert: 200 OK")
	sent := lastSent(b)
	if sent["authMode"] != "assumeRole" || sent["roleArn"] != uiRoleARN || sent["externalId"] != uiExternalID {
		t.Errorf("Test Alert sent %v", sent)
	}
	for _, hidden := range []string{"functionName", "invocationType"} {
		if _, ok := sent[hidden]; ok {
			t.Errorf("Test Alert sent the hidden %s: %v", hidden, sent)
		}
	}
	if !strings.Contains(b.text("#test-result"), "The target accepted the request") {
		t.Errorf("the result says: %s", b.text("#test-result"))
	}
	var assumed, invoked bool
	for _, r := range dl.Requests() {
		switch {
		case r.Action == "AssumeRole" && r.Verified && r.RoleARN == uiRoleARN && r.AccessKeyID == testKeyID:
			assumed = true
		case r.Action == "" && r.Verified && strings.HasPrefix(r.AccessKeyID, "ASIA") && r.Header.Get("X-Amz-Security-Token") != "":
			invoked = true
		}
	}
	if !assumed || !invoked {
		t.Fatalf("devlambda saw AssumeRole %v, a call with the role's credentials %v: %+v", assumed, invoked, dl.Requests())
	}

	b.click("#save")
	b.waitGone("#editor")
	b.waitText("#rows", "assumed-role")
	var list struct{ Data []map[string]any }
	srv.do("GET", "/api/v1/connections", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("%d connections stored", len(list.Data))
	}
	conn := list.Data[0]
	id := conn["id"].(string)
	if conn["authMode"] != "assumeRole" || conn["roleArn"] != uiRoleARN || conn["externalId"] != uiExternalID ||
		conn["hasSecretAccessKey"] != true || conn["functionName"] != "" {
		t.Errorf("stored: %v", conn)
	}

	// Edit: the dialog opens in the connection's modes, and a delivery of
	// the saved connection assumes the role too.
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Edit"]`, id))
	b.waitVisible("#editor")
	b.waitJS("the connection in the dialog", `document.querySelector('#f-name').value === 'assumed-role'`)
	if got := b.value("#f-authMode"); got != "assumeRole" {
		t.Errorf("the edited connection's authMode is %q", got)
	}
	if got := eval[string](b, `(() => { const s = document.querySelector('#f-authMode'); return s.options[s.selectedIndex].text; })()`); got != "Assume an IAM role" {
		t.Errorf("the edited connection's Authentication reads %q", got)
	}
	b.waitVisible("#f-roleArn")
	b.waitGone("#f-functionName")
	b.do("close", chromedp.KeyEvent(kb.Escape))
	b.waitGone("#editor")
	if state := waitDelivery(t, srv, sendAlert(t, srv, "Role check", hookline.TriggerCritical, id)[0]); state != "delivered" {
		t.Errorf("the saved assumeRole connection's delivery is %s", state)
	}

	// The Invoke API: a function that fails is a failure, one that works is not.
	for _, tc := range []struct{ function, want, class string }{
		{failingFn, "The target answered, but reported that the work failed", "fail"},
		{"enrich-alert:prod", "The target accepted the request", "ok"},
	} {
		openNewLambda(b)
		b.typeText("#f-name", "invoke-"+strings.ReplaceAll(tc.function, ":", "-"))
		b.fill("#f-invokeMode", "invoke")
		b.waitText(`label[for="f-url"]`, "Lambda endpoint")
		b.typeText("#f-url", lambdaURL)
		b.fill("#f-region", "us-east-1")
		b.typeText("#f-functionName", tc.function)
		b.typeText("#f-accessKeyId", testKeyID)
		b.typeText("#f-secretAccessKey", testSecret)
		b.fill("#f-defaultPayload", alertPayload)
		b.click("#test-alert")
		b.waitText("#test-result", "Test Alert: 200 OK")
		if got := b.text("#test-result .result-explain"); !strings.Contains(got, tc.want) {
			t.Errorf("%s: the result says %q, want %q", tc.function, got, tc.want)
		}
		if !eval[bool](b, fmt.Sprintf(`document.querySelector('#test-result .result').classList.contains(%s)`, js(tc.class))) {
			t.Errorf("%s: the result is not marked %s", tc.function, tc.class)
		}
		if sent := lastSent(b); sent["invokeMode"] != "invoke" || sent["functionName"] != tc.function || sent["serviceName"] != nil {
			t.Errorf("%s: sent %v (serviceName is hidden under invoke, and filled in by the server)", tc.function, sent)
		}
		if tc.class == "fail" && !strings.Contains(b.text("#test-result"), "no rows to enrich") {
			t.Errorf("the function's error message is not shown: %s", b.text("#test-result"))
		}
		b.do("close", chromedp.KeyEvent(kb.Escape))
		b.waitGone("#editor")
	}
}

// TestUIAWSServerCredentials: where the operator allows the server's own
// AWS credentials, the dialog offers defaultChain (no key fields, a note)
// and marks the access key optional under assumeRole, saying the server's
// credentials assume the role without it; both answer Test Alert with
// 200 OK, signed with the machine's credentials (here the environment's).
func TestUIAWSServerCredentials(t *testing.T) {
	dl, lambdaURL := startAWSLambda(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	srv := startServerAmbient(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	openNewLambda(b)
	recordSent(b)

	b.typeText("#f-name", "machine")
	b.typeText("#f-url", lambdaURL+"/")
	b.fill("#f-region", "us-east-1")
	b.fill("#f-serviceName", "lambda")
	b.fill("#f-defaultPayload", alertPayload)

	b.fill("#f-authMode", "assumeRole")
	_, optional := shownFields(b)
	for _, name := range []string{"accessKeyId", "secretAccessKey"} {
		if !strings.Contains(","+strings.Join(optional, ",")+",", ","+name+",") {
			t.Errorf("under assumeRole %s is not marked optional: %v", name, optional)
		}
	}
	b.waitText("#f-authMode-mode", "Leave the access key empty to assume the role with this server's own AWS credentials")
	b.typeText("#f-roleArn", uiRoleARN)
	b.typeText("#f-externalId", uiExternalID)
	b.click("#test-alert")
	b.waitText("#test-result", "Test Alert: 200 OK")
	if sent := lastSent(b); sent["accessKeyId"] != "" || sent["roleArn"] != uiRoleARN {
		t.Errorf("sent %v", sent)
	}

	if got := strings.Join(optionTexts(b, "#f-authMode"), "|"); got != "Access key|Assume an IAM role|This server's AWS credentials (default chain)" {
		t.Errorf("Authentication reads %s", got)
	}
	if bare := bareOptions(b); len(bare) > 0 {
		t.Errorf("options showing their API value: %v", bare)
	}
	choose(b, "#f-authMode", "This server's AWS credentials (default chain)")
	shown, _ := shownFields(b)
	if got := strings.Join(shown, ","); got != "authMode,region,serviceName,invokeMode" {
		t.Errorf("defaultChain shows %s", got)
	}
	b.waitText("#f-authMode-mode", "the AWS credentials of the machine Hookline runs on")
	b.click("#test-alert")
	b.waitText("#test-result", "Test Alert: 200 OK")
	sent := lastSent(b)
	for _, hidden := range []string{"accessKeyId", "secretAccessKey", "roleArn", "externalId"} {
		if _, ok := sent[hidden]; ok {
			t.Errorf("defaultChain sent the hidden %s: %v", hidden, sent)
		}
	}
	reqs := dl.Requests()
	if last := reqs[len(reqs)-1]; !last.Verified || last.AccessKeyID != testKeyID || last.Action != "" {
		t.Errorf("the defaultChain test reached devlambda as %+v", last)
	}
	b.click("#save")
	b.waitGone("#editor")
	b.waitText("#rows", "machine")
	var list struct{ Data []map[string]any }
	srv.do("GET", "/api/v1/connections", nil, &list)
	if len(list.Data) != 1 || list.Data[0]["authMode"] != "defaultChain" {
		t.Errorf("stored: %v", list.Data)
	}
}

// TestUIOptionLabels: every option of every field of the connection types
// the program registers has words in GET /connections/types, which the
// dialog shows, so a new type or option without them fails here. Both
// setups: defaultChain is offered only with --aws-default-credentials.
func TestUIOptionLabels(t *testing.T) {
	for _, ambient := range []bool{false, true} {
		srv := startServer(t)
		if ambient {
			srv = startServerAmbient(t)
		}
		var types struct {
			Data []struct {
				WebhookType string         `json:"webhookType"`
				Fields      []notify.Field `json:"fields"`
			} `json:"data"`
		}
		if code := srv.do("GET", "/api/v1/connections/types", nil, &types); code != 200 || len(types.Data) == 0 {
			t.Fatalf("types: %d %+v", code, types)
		}
		for _, k := range types.Data {
			for _, f := range k.Fields {
				for _, o := range f.Options {
					if l := f.OptionLabels[o]; l == "" || l == o {
						t.Errorf("%s.%s: option %q has no label", k.WebhookType, f.Name, o)
					}
				}
			}
		}
	}
}
