package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/client"
)

const (
	exportChatToken = "Bearer chat-token-0000-never-shown"
	monitorYAML     = `apiVersion: hookline/v1
kind: Monitor
name: Suspicious IP
query: _sourceCategory=prod/web | parse "* from *" as req, ip | count by ip | where _count > 100
interval: 1m
window: 5m
triggers:
  - {triggerType: Critical, thresholdType: GreaterThan, threshold: 0}
notificationGroupFields: [ip]
notifications:
  - connectionName: chat
    runForTriggerTypes: [Critical, ResolvedCritical]
    payloadOverride: {"action": "block", "ip": "{{ResultsJson.ip}}"}
`
	searchYAML = `apiVersion: hookline/v1
kind: ScheduledSearch
name: Top talkers
query: _sourceCategory=prod/web | count by ip
scheduleType: 1Hour
timeRange: 1h
threshold: {operator: gt, count: 0}
notification:
  connectionName: ops lambda
  itemizeAlerts: true
`
)

// seedServer fills a fresh server through apply with what the export and
// apply tests move around: a webhook and a Lambda connection with
// secrets, a monitor and a scheduled search naming them. It returns the
// directory of the files, written as a person would (GreaterThan, no time
// zone, defaults left out).
func seedServer(t *testing.T, server, target string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("SEED_CHAT_TOKEN", exportChatToken)
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(cliSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"conns.yaml": `apiVersion: hookline/v1
kind: Connection
name: chat
description: the ops channel
url: http://127.0.0.1:9/hook
customHeaders:
  - {name: X-Team, value: ops}
authorizationHeader: {fromEnv: SEED_CHAT_TOKEN}
defaultPayload: |
  {"text": "{{Name}} is {{TriggerType}}"}
---
apiVersion: hookline/v1
kind: Connection
name: ops lambda
webhookType: AWSLambda
url: ` + target + `
accessKeyId: ` + cliKeyID + `
region: us-east-1
serviceName: lambda
secretAccessKey: {fromFile: secret.txt}
defaultPayload: {"name": "{{Name}}"}
`,
		"monitor.yaml": monitorYAML,
		"search.yml":   searchYAML,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := mustSucceed(t, admin(t, server, "", "apply", "-f", dir, "--yes"))
	if !strings.Contains(r.stdout, "Applied 4 changes.") {
		t.Fatalf("seed apply:\n%s", r.stdout)
	}
	return dir
}

// TestExportApplyRoundTrip exports one server and applies the export to a
// fresh one: the objects come back the same (secrets from the
// environment, connections by name), and a second export is the same text.
func TestExportApplyRoundTrip(t *testing.T) {
	clearCredentials(t)
	target := cliLambda(t)
	first, second := cliServer(t), cliServer(t)
	seed := seedServer(t, first, target)
	// Values the server normalizes compare equal: applying again is no change.
	if r := mustSucceed(t, admin(t, first, "", "apply", "-f", seed)); !strings.Contains(r.stdout, "Plan: 0 to create, 0 to update, 4 unchanged.\n") {
		t.Errorf("applying the same files again:\n%s", r.stdout)
	}

	stream := mustSucceed(t, admin(t, first, "", "export"))
	for _, secret := range []string{exportChatToken, cliSecret} {
		if strings.Contains(stream.stdout+stream.stderr, secret) {
			t.Fatalf("export shows a secret:\n%s\n%s", stream.stdout, stream.stderr)
		}
	}
	for _, want := range []string{
		"authorizationHeader:\n  fromEnv: HOOKLINE_SECRET_CHAT_AUTHORIZATIONHEADER\n",
		"secretAccessKey:\n  fromEnv: HOOKLINE_SECRET_OPS_LAMBDA_SECRETACCESSKEY\n",
		"# Secret: the API never returns it.",
		"connectionName: chat", "connectionName: ops lambda",
		"kind: ScheduledSearch", "\n---\n",
	} {
		if !strings.Contains(stream.stdout, want) {
			t.Errorf("export lacks %q:\n%s", want, stream.stdout)
		}
	}
	if !strings.Contains(stream.stderr, "HOOKLINE_SECRET_CHAT_AUTHORIZATIONHEADER") {
		t.Errorf("stderr does not list the variables to set:\n%s", stream.stderr)
	}

	dir := filepath.Join(t.TempDir(), "config")
	mustSucceed(t, admin(t, first, "", "export", "-o", dir))
	var files []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	want := []string{"connections/chat.yaml", "connections/ops-lambda.yaml", "monitors/suspicious-ip.yaml", "searches/top-talkers.yaml"}
	if !slices.Equal(files, want) {
		t.Fatalf("export -o wrote %q, want %q", files, want)
	}

	// Without the secrets' variables, nothing is applied.
	r := admin(t, second, "", "apply", "-f", dir, "--yes")
	if r.code == 0 || !strings.Contains(r.stderr, "HOOKLINE_SECRET_CHAT_AUTHORIZATIONHEADER is not set") ||
		!strings.Contains(r.stderr, "connections/chat.yaml:") {
		t.Fatalf("apply without secrets: exit %d\n%s", r.code, r.stderr)
	}
	if conns := decodeJSON[[]client.Connection](t, mustSucceed(t, admin(t, second, "", "connections", "list", "-o", "json")).stdout); len(conns) != 0 {
		t.Fatalf("a failed apply created %d connections", len(conns))
	}

	t.Setenv("HOOKLINE_SECRET_CHAT_AUTHORIZATIONHEADER", exportChatToken)
	t.Setenv("HOOKLINE_SECRET_OPS_LAMBDA_SECRETACCESSKEY", cliSecret)
	r = mustSucceed(t, admin(t, second, "", "apply", "-f", dir, "--yes"))
	if !strings.Contains(r.stdout, "Plan: 4 to create, 0 to update, 0 unchanged.") || !strings.Contains(r.stdout, "Applied 4 changes.") {
		t.Fatalf("apply to a fresh server:\n%s", r.stdout)
	}
	if again := mustSucceed(t, admin(t, second, "", "export")); again.stdout != stream.stdout {
		t.Errorf("the second server exports differently:\n%s\nwant:\n%s", again.stdout, stream.stdout)
	}

	// The secret arrived: the Lambda stand-in checks the SigV4 signature.
	lambda := findConn(t, second, "ops lambda")
	mustSucceed(t, admin(t, second, "", "connections", "test", lambda.ID))
	if set, _ := findConn(t, second, "chat").SecretSet("authorizationHeader"); !set {
		t.Error("chat's authorizationHeader is not set on the second server")
	}

	// The second server's monitor names its own connection's ID.
	ms := decodeJSON[[]client.Monitor](t, mustSucceed(t, admin(t, second, "", "monitors", "list", "-o", "json")).stdout)
	if len(ms) != 1 || ms[0].Notifications[0].ConnectionID != findConn(t, second, "chat").ID || ms[0].Triggers[0].ThresholdType != "gt" {
		t.Errorf("monitors on the second server: %+v", ms)
	}

	r = mustSucceed(t, admin(t, second, "", "apply", "-f", dir, "--yes"))
	if !strings.Contains(r.stdout, "Plan: 0 to create, 0 to update, 4 unchanged.") || !strings.Contains(r.stdout, "Nothing to change.") {
		t.Errorf("applying again:\n%s", r.stdout)
	}
}

func findConn(t *testing.T, server, name string) client.Connection {
	t.Helper()
	for _, c := range decodeJSON[[]client.Connection](t, mustSucceed(t, admin(t, server, "", "connections", "list", "-o", "json")).stdout) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no connection %q", name)
	return client.Connection{}
}

func TestExportKindsAndStaleFiles(t *testing.T) {
	clearCredentials(t)
	server := cliServer(t)
	seedServer(t, server, cliLambda(t))

	r := mustSucceed(t, admin(t, server, "", "export", "--kind", "monitors"))
	if strings.Contains(r.stdout, "kind: Connection") || !strings.Contains(r.stdout, "kind: Monitor") || strings.Contains(r.stdout, "kind: ScheduledSearch") {
		t.Errorf("--kind monitors:\n%s", r.stdout)
	}
	if r := admin(t, server, "", "export", "--kind", "alerts"); r.code == 0 || !strings.Contains(r.stderr, `--kind "alerts"`) {
		t.Errorf("--kind alerts: exit %d\n%s", r.code, r.stderr)
	}

	dir := t.TempDir()
	stale := filepath.Join(dir, "monitors", "old.yaml")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("kind: Monitor\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = mustSucceed(t, admin(t, server, "", "export", "-o", dir))
	if !strings.Contains(r.stderr, stale) {
		t.Errorf("export does not name the stale file %s:\n%s", stale, r.stderr)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("export removed a file it did not write: %v", err)
	}
	// Files of kinds not exported are not stale.
	if err := os.Remove(stale); err != nil {
		t.Fatal(err)
	}
	r = mustSucceed(t, admin(t, server, "", "export", "-o", dir, "--kind", "monitors"))
	if strings.Contains(r.stderr, "Not on the server") {
		t.Errorf("export --kind monitors calls other kinds' files stale:\n%s", r.stderr)
	}
}

func TestExportNames(t *testing.T) {
	tests := []struct{ in, slug, env string }{
		{"ops lambda", "ops-lambda", "OPS_LAMBDA"},
		{"  Ops/Lambda (prod) ", "ops-lambda-prod", "OPS_LAMBDA_PROD"},
		{"Überwachung", "überwachung", "BERWACHUNG"},
		{"---", "x", "X"},
	}
	for _, tt := range tests {
		if got := fileSlug(tt.in, "x"); got != tt.slug {
			t.Errorf("fileSlug(%q) = %q, want %q", tt.in, got, tt.slug)
		}
		if got := envPart(tt.in, "X"); got != tt.env {
			t.Errorf("envPart(%q) = %q, want %q", tt.in, got, tt.env)
		}
	}
	x := &exporter{envUsed: map[string]bool{}}
	a, b := x.envName("a b", "token"), x.envName("a-b", "token")
	if a != "HOOKLINE_SECRET_A_B_TOKEN" || b != "HOOKLINE_SECRET_A_B_TOKEN_2" {
		t.Errorf("envName gave %q and %q for two names that read alike", a, b)
	}
}
