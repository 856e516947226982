package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/client"
)

func TestApplyParseDocuments(t *testing.T) {
	const conn = "apiVersion: hookline/v1\nkind: Connection\nname: chat\nurl: http://127.0.0.1:9/hook\ndefaultPayload: {\"a\": 1}\n"
	tests := []struct {
		name  string
		in    string
		docs  []string // kind/name of each document read
		probs []string // "line: part of the message", in order
	}{
		{name: "empty", in: "", docs: nil},
		{name: "comments only", in: "# nothing\n---\n# here\n", docs: nil},
		{name: "one connection", in: conn, docs: []string{"Connection/chat"}},
		{
			name: "several documents, markers and a flow document",
			in:   "---\n" + conn + "...\n---\n# a monitor\n" + strings.Replace(conn, "chat", "other", 1) + "--- {apiVersion: hookline/v1, kind: Connection, name: flow, url: 'http://x/'}\n",
			docs: []string{"Connection/chat", "Connection/other", "Connection/flow"},
		},
		{
			name:  "unknown kind",
			in:    conn + "---\napiVersion: hookline/v1\nkind: Dashboard\nname: x\n",
			docs:  []string{"Connection/chat"},
			probs: []string{`8: kind: must be Connection, Monitor or ScheduledSearch, not "Dashboard"`},
		},
		{
			name:  "missing name, apiVersion and kind",
			in:    "# first\n\ndescription: x\n",
			probs: []string{"3: apiVersion: is required", "3: kind: is required", "3: name: is required"},
		},
		{
			name:  "name on its line",
			in:    "apiVersion: hookline/v1\nkind: Monitor\nname: \"  \"\n",
			probs: []string{"3: name: is required"},
		},
		{
			name:  "wrong version",
			in:    "apiVersion: hookline/v2\nkind: Connection\nname: x\n",
			probs: []string{"1: apiVersion: must be hookline/v1"},
		},
		{
			name:  "YAML syntax in the second document",
			in:    conn + "---\napiVersion: hookline/v1\nkind: Connection\nname: [broken\n",
			docs:  []string{"Connection/chat"},
			probs: []string{"9: not valid YAML"},
		},
		{
			name:  "duplicate key",
			in:    "apiVersion: hookline/v1\nkind: Connection\nname: a\nname: b\n",
			probs: []string{`4: not valid YAML: key "name" already set`},
		},
		{
			name:  "not a mapping",
			in:    "- apiVersion: hookline/v1\n",
			probs: []string{"1: a document must be a mapping"},
		},
		{
			name: "secret references",
			in:   conn + "authorizationHeader: {fromEnv: TOKEN}\nother: {fromFile: ./s.txt}\n",
			docs: []string{"Connection/chat"},
		},
		{
			name:  "a secret reference with more",
			in:    conn + "authorizationHeader: {fromEnv: TOKEN, fromFile: x}\n",
			probs: []string{`6: Connection "chat": authorizationHeader: a secret reference is`},
		},
		{
			name:  "an empty secret reference",
			in:    conn + "authorizationHeader:\n  fromEnv: \"\"\n",
			probs: []string{`6: Connection "chat": authorizationHeader: fromEnv: must be a non-empty string`},
		},
		{
			name: "monitor by connection name",
			in:   "apiVersion: hookline/v1\nkind: Monitor\nname: m\ninterval: 5\nwindow: 10\nnotifications:\n  - connectionName: chat\n    runForTriggerTypes: [Critical]\n",
			docs: []string{"Monitor/m"},
		},
		{
			name:  "monitor with a name and an ID",
			in:    "apiVersion: hookline/v1\nkind: Monitor\nname: m\nnotifications:\n  - {connectionName: chat, connectionId: 0123456789ABCDEF}\n",
			probs: []string{`4: Monitor "m": notifications[0]: give connectionName or connectionId, not both`},
		},
		{
			name:  "monitor field unknown",
			in:    "apiVersion: hookline/v1\nkind: Monitor\nname: m\nschedule: daily\n",
			probs: []string{`1: Monitor "m": not a monitor: unknown field "schedule"`},
		},
		{
			name: "search by connection name",
			in:   "apiVersion: hookline/v1\nkind: ScheduledSearch\nname: s\nnotification: {connectionName: chat}\n",
			docs: []string{"ScheduledSearch/s"},
		},
		{
			name:  "search with a name and an ID",
			in:    "apiVersion: hookline/v1\nkind: ScheduledSearch\nname: s\nquery: x\nnotification: {connectionName: chat, connectionId: 0123456789ABCDEF}\n",
			probs: []string{`5: ScheduledSearch "s": notification: give connectionName or connectionId, not both`},
		},
		{
			name:  "search field of the wrong type",
			in:    "apiVersion: hookline/v1\nkind: ScheduledSearch\nname: s\nisDisabled: maybe\n",
			probs: []string{`1: ScheduledSearch "s": isDisabled: must be`},
		},
		{
			name:  "connection field of the wrong type",
			in:    "apiVersion: hookline/v1\nkind: Connection\nname: c\nurl: [1]\n",
			probs: []string{`1: Connection "c": field "url" must be a string`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, probs := parseDocuments("f.yaml", ".", []byte(tt.in))
			var got []string
			for _, d := range docs {
				got = append(got, d.kind+"/"+d.name)
			}
			if !cmp.Equal(got, tt.docs) {
				t.Errorf("documents = %q, want %q", got, tt.docs)
			}
			if len(probs) != len(tt.probs) {
				t.Fatalf("problems = %v, want %d like %q", probs, len(tt.probs), tt.probs)
			}
			for i, p := range probs {
				if s := fmt.Sprintf("%d: %s", p.line, p.msg); !strings.HasPrefix(s, tt.probs[i]) || p.file != "f.yaml" {
					t.Errorf("problem %d = %s, want it to start %q", i, p, tt.probs[i])
				}
			}
		})
	}
}

func TestApplyParseDocumentsFields(t *testing.T) {
	in := `apiVersion: hookline/v1
kind: Connection
name: "  ops lambda "
webhookType: AWSLambda
url: https://abc.lambda-url.us-east-1.on.aws/
region: us-east-1
secretAccessKey: {fromEnv: LAMBDA_SECRET}
hasSessionToken: false
id: 0123456789ABCDEF
defaultPayload: {"name": "{{Name}}"}
---
apiVersion: hookline/v1
kind: Monitor
name: m
interval: 1m
notifications:
  - {connectionName: ops lambda, runForTriggerTypes: [Critical]}
  - {connectionId: 0123456789ABCDEF, runForTriggerTypes: [Warning]}
---
apiVersion: hookline/v1
kind: ScheduledSearch
name: s
notification: {connectionName: " ops lambda", payload: {"a": 1}}
`
	docs, probs := parseDocuments("f.yaml", "/etc/hookline", []byte(in))
	if len(probs) > 0 || len(docs) != 3 {
		t.Fatalf("docs %d, problems %v", len(docs), probs)
	}
	c := docs[0].conn
	if docs[0].name != "ops lambda" || c.def.WebhookType != "AWSLambda" || c.def.DefaultPayload != `{"name":"{{Name}}"}` {
		t.Errorf("connection %q: %+v", docs[0].name, c.def)
	}
	if !cmp.Equal(c.def.Extra, map[string]any{"region": "us-east-1"}) || !cmp.Equal(c.settings, map[string]bool{"region": true}) {
		t.Errorf("extra %v, settings %v: want region alone (no id, no has* flag, no secret)", c.def.Extra, c.settings)
	}
	if ref := c.secrets["secretAccessKey"]; ref == nil || ref.fromEnv != "LAMBDA_SECRET" || len(c.secrets) != 1 {
		t.Errorf("secrets %v", c.secrets)
	}
	if docs[0].dir != "/etc/hookline" || docs[0].keyLines["region"] != 6 {
		t.Errorf("dir %q, region line %d", docs[0].dir, docs[0].keyLines["region"])
	}
	m := docs[1]
	if m.monitor.in.Interval != "1m" {
		t.Errorf("interval %q", m.monitor.in.Interval)
	}
	if m.line != 12 || !cmp.Equal(m.monitor.connNames, []string{"ops lambda", ""}) || m.monitor.in.Notifications[1].ConnectionID != "0123456789ABCDEF" {
		t.Errorf("monitor at line %d: %+v, names %q", m.line, m.monitor.in, m.monitor.connNames)
	}
	s := docs[2].search
	if s.connName != "ops lambda" || s.in.Notification.Payload != `{"a":1}` {
		t.Errorf("search %+v, connection %q", s.in, s.connName)
	}
}

// FuzzParseDocuments: any input gives documents or problems, never a
// panic; each problem lies within the input, each document has a kind and
// a name.
func FuzzParseDocuments(f *testing.F) {
	for _, seed := range []string{
		"",
		monitorYAML,
		searchYAML + "---\n" + monitorYAML,
		"apiVersion: hookline/v1\nkind: Connection\nname: c\nsecret: {fromEnv: X}\n--- {kind: Monitor}\n...\n",
		"\xef\xbb\xbf---\r\nname: [\r\n",
		"apiVersion: hookline/v1\nkind: Monitor\nname: m\nnotifications: [{connectionName: 1}]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		docs, probs := parseDocuments("f.yaml", ".", b)
		lines := strings.Count(string(b), "\n") + 1
		for _, p := range probs {
			if p.line < 0 || p.line > lines || p.file != "f.yaml" || p.msg == "" {
				t.Errorf("problem %+v outside the %d lines of the input", p, lines)
			}
		}
		for _, d := range docs {
			_, known := kindOrder[d.kind]
			parts := 0
			for _, set := range []bool{d.conn != nil, d.monitor != nil, d.search != nil} {
				if set {
					parts++
				}
			}
			if d.name == "" || d.name != strings.TrimSpace(d.name) || !known || parts != 1 {
				t.Errorf("document %q of kind %q with %d parts", d.name, d.kind, parts)
			}
			if d.monitor != nil && len(d.monitor.connNames) != len(d.monitor.in.Notifications) {
				t.Errorf("monitor with %d names for %d notifications", len(d.monitor.connNames), len(d.monitor.in.Notifications))
			}
		}
	})
}

// applyDir writes files into a new directory and returns it.
func applyDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestApplyPlanAndUpdate edits exported files: the plan names the fields
// that change, --dry-run and a refused confirmation change nothing, and
// --yes does.
func TestApplyPlanAndUpdate(t *testing.T) {
	clearCredentials(t)
	server := cliServer(t)
	seedServer(t, server, cliLambda(t))
	dir := filepath.Join(t.TempDir(), "config")
	mustSucceed(t, admin(t, server, "", "export", "-o", dir))

	edit := func(file, old, new string) {
		t.Helper()
		path := filepath.Join(dir, file)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q:\n%s", file, old, b)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	edit("monitors/suspicious-ip.yaml", "interval: 1m", "interval: 5")
	edit("monitors/suspicious-ip.yaml", "muted: false", "muted: true")
	edit("connections/chat.yaml", "description: the ops channel", "description: the on-call channel")
	t.Setenv("HOOKLINE_SECRET_CHAT_AUTHORIZATIONHEADER", exportChatToken)
	t.Setenv("HOOKLINE_SECRET_OPS_LAMBDA_SECRETACCESSKEY", cliSecret)

	wantPlan := []string{
		"Plan: 0 to create, 2 to update, 2 unchanged.",
		"~ update Connection \"chat\" (" + filepath.Join(dir, "connections", "chat.yaml") + ":1)\n" +
			"    description: \"the ops channel\" -> \"the on-call channel\"\n",
		"~ update Monitor \"Suspicious IP\" (" + filepath.Join(dir, "monitors", "suspicious-ip.yaml") + ":1)\n" +
			"    interval: \"1m\" -> \"5m\"\n    muted: false -> true\n",
		"= unchanged ScheduledSearch \"Top talkers\"",
	}
	r := mustSucceed(t, admin(t, server, "", "apply", "-f", dir, "--dry-run"))
	for _, want := range append(wantPlan, "Dry run: nothing was changed.") {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := findConn(t, server, "chat").Description; got != "the ops channel" {
		t.Errorf("after --dry-run the description is %q", got)
	}

	// Standard input is not a terminal here: without --yes nothing happens.
	r = admin(t, server, "y\n", "apply", "-f", dir)
	if r.code == 0 || !strings.Contains(r.stderr, "pass --yes") {
		t.Errorf("apply without --yes: exit %d\n%s", r.code, r.stderr)
	}
	if got := findConn(t, server, "chat").Description; got != "the ops channel" {
		t.Errorf("after a refused apply the description is %q", got)
	}

	r = mustSucceed(t, admin(t, server, "", "apply", "-f", dir, "--yes"))
	for _, want := range append(wantPlan, `updated Connection "chat"`, `updated Monitor "Suspicious IP"`, "Applied 2 changes.") {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply lacks %q:\n%s", want, r.stdout)
		}
	}
	ms := decodeJSON[[]client.Monitor](t, mustSucceed(t, admin(t, server, "", "monitors", "list", "-o", "json")).stdout)
	if len(ms) != 1 || ms[0].Interval != "5m" || !ms[0].Muted || ms[0].Notifications[0].ConnectionID != findConn(t, server, "chat").ID {
		t.Errorf("monitor after apply: %+v", ms)
	}
	r = mustSucceed(t, admin(t, server, "", "apply", "-f", dir, "--yes"))
	if !strings.Contains(r.stdout, "Nothing to change.") {
		t.Errorf("apply after apply:\n%s", r.stdout)
	}

	// Secrets: compared only for being set; --replace-secrets sends them.
	r = mustSucceed(t, admin(t, server, "", "apply", "-f", filepath.Join(dir, "connections"), "--dry-run", "--replace-secrets"))
	if !strings.Contains(r.stdout, "    authorizationHeader: (set) -> (changed)\n") || strings.Contains(r.stdout, exportChatToken) {
		t.Errorf("--replace-secrets plan:\n%s", r.stdout)
	}
	// A new host needs the secret again, which apply sends.
	edit("connections/chat.yaml", "url: http://127.0.0.1:9/hook", "url: http://localhost:9/hook")
	r = mustSucceed(t, admin(t, server, "", "apply", "-f", filepath.Join(dir, "connections"), "--yes"))
	if !strings.Contains(r.stdout, "authorizationHeader: (set) -> (sent again: the URL's host changed)") {
		t.Errorf("plan for a new host:\n%s", r.stdout)
	}
}

// TestApplyRefusesBadInput: every problem in every file is listed with its
// file and line, and nothing is changed, not even the good documents.
func TestApplyRefusesBadInput(t *testing.T) {
	clearCredentials(t)
	server := cliServer(t)
	t.Setenv("APPLY_TEST_UNSET", "")
	dir := applyDir(t, map[string]string{
		"a-good.yaml": "apiVersion: hookline/v1\nkind: Connection\nname: good\nurl: http://127.0.0.1:9/\ndefaultPayload: '{}'\n",
		"b-kinds.yaml": "apiVersion: hookline/v1\nkind: Connection\nname: Good\nurl: http://127.0.0.1:9/\n---\n" +
			"apiVersion: hookline/v1\nkind: Dashboard\nname: x\n",
		"c-syntax.yml": "apiVersion: hookline/v1\nkind: Monitor\nname: m\ntriggers: [\n",
		"d-env.yaml": "apiVersion: hookline/v1\nkind: Connection\nname: env\nurl: http://127.0.0.1:9/\n" +
			"authorizationHeader: {fromEnv: APPLY_TEST_UNSET}\n",
		"e-noname.yaml": "apiVersion: hookline/v1\nkind: ScheduledSearch\nquery: x\n",
		"f-monitor.yaml": "apiVersion: hookline/v1\nkind: Monitor\nname: m\nquery: _sourceCategory=prod/web | count by\n" +
			"interval: 1m\nwindow: 1m\ntriggers: [{triggerType: Critical, thresholdType: gt, threshold: 1}]\n" +
			"notifications: [{connectionName: good, runForTriggerTypes: [Critical]}]\n",
		"g-file.yaml": "apiVersion: hookline/v1\nkind: Connection\nname: file\nurl: http://127.0.0.1:9/\n" +
			"authorizationHeader: {fromFile: missing.txt}\n",
		"notes.txt": "not read",
	})
	r := admin(t, server, "", "apply", "-f", dir, "--yes")
	if r.code == 0 {
		t.Fatalf("apply succeeded:\n%s", r.stdout)
	}
	for _, want := range []string{
		"7 problems; nothing was changed:",
		filepath.Join(dir, "b-kinds.yaml") + `:3: Connection "Good": name: Connection "Good" is also defined at ` + filepath.Join(dir, "a-good.yaml") + ":1",
		filepath.Join(dir, "b-kinds.yaml") + `:7: kind: must be Connection, Monitor or ScheduledSearch, not "Dashboard"`,
		filepath.Join(dir, "c-syntax.yml") + ":4: not valid YAML",
		filepath.Join(dir, "d-env.yaml") + `:5: Connection "env": authorizationHeader: the environment variable APPLY_TEST_UNSET is not set or empty`,
		filepath.Join(dir, "e-noname.yaml") + ":1: name: is required",
		filepath.Join(dir, "g-file.yaml") + `:5: Connection "file": authorizationHeader: cannot read the secret file ` +
			filepath.Join(dir, "missing.txt") + ": no such file or directory",
		filepath.Join(dir, "f-monitor.yaml") + `:4: Monitor "m": query: line 1, column 36: expected a field name after "by"`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "Plan") {
		t.Errorf("a plan was printed for bad input:\n%s", r.stdout)
	}
	if conns := decodeJSON[[]client.Connection](t, mustSucceed(t, admin(t, server, "", "connections", "list", "-o", "json")).stdout); len(conns) != 0 {
		t.Errorf("bad input created %d connections", len(conns))
	}

	// What only the server knows is checked before any change too.
	t.Setenv("APPLY_TEST_TOKEN", "Bearer x")
	dir = applyDir(t, map[string]string{
		"x.yaml": "apiVersion: hookline/v1\nkind: Connection\nname: good\nurl: http://127.0.0.1:9/\ndefaultPayload: '{}'\n---\n" +
			"apiVersion: hookline/v1\nkind: Connection\nname: ftp\nwebhookType: FTP\nurl: ftp://x/\n---\n" +
			"apiVersion: hookline/v1\nkind: Connection\nname: typo\nurl: http://127.0.0.1:9/\ntimeout: 5\n" +
			"authorisationHeader: {fromEnv: APPLY_TEST_TOKEN}\n---\n" +
			"apiVersion: hookline/v1\nkind: ScheduledSearch\nname: s\nquery: x\nscheduleType: 1Hour\ntimeRange: 1h\n" +
			"notification:\n  connectionName: nowhere\n",
	})
	r = admin(t, server, "", "apply", "-f", dir, "--yes")
	for _, want := range []string{
		"4 problems; nothing was changed:",
		`x.yaml:10: Connection "ftp": webhookType: the server knows no connection type "FTP", only AWSLambda, Webhook`,
		`x.yaml:17: Connection "typo": timeout: is not a field of a Webhook connection`,
		`x.yaml:18: Connection "typo": authorisationHeader: is not a field of a Webhook connection`,
		`x.yaml:26: ScheduledSearch "s": notification.connectionName: no connection is named "nowhere" on the server or in the files`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if conns := decodeJSON[[]client.Connection](t, mustSucceed(t, admin(t, server, "", "connections", "list", "-o", "json")).stdout); len(conns) != 0 {
		t.Errorf("apply with unknown references created %d connections", len(conns))
	}

	// Standard input is read as a file; --dry-run needs no confirmation.
	stdin := "apiVersion: hookline/v1\nkind: Connection\nname: piped\nurl: http://127.0.0.1:9/\ndefaultPayload: '{}'\n"
	r = mustSucceed(t, admin(t, server, stdin, "apply", "-f", "-", "--dry-run"))
	if !strings.Contains(r.stdout, "+ create Connection \"piped\" (standard input:1)") {
		t.Errorf("apply -f - --dry-run:\n%s", r.stdout)
	}
}

// TestApplyStopsAtServerError: what only the store knows (that a
// connection ID exists) fails midway; the server's field problems come
// back with the file, line and field; what was applied before is named, and what was
// not; no secret shows anywhere.
func TestApplyStopsAtServerError(t *testing.T) {
	clearCredentials(t)
	server := cliServer(t)
	const literal = "Bearer literal-secret-in-file-0000"
	t.Setenv("APPLY_TEST_TOKEN", exportChatToken)
	dir := applyDir(t, map[string]string{
		"all.yaml": `apiVersion: hookline/v1
kind: Connection
name: chat
url: http://127.0.0.1:9/hook
defaultPayload: '{"text": "{{Name}}"}'
authorizationHeader: {fromEnv: APPLY_TEST_TOKEN}
---
apiVersion: hookline/v1
kind: Connection
name: literal
url: http://127.0.0.1:9/other
defaultPayload: '{}'
authorizationHeader: ` + literal + `
---
apiVersion: hookline/v1
kind: Monitor
name: broken
query: _sourceCategory=prod/web | count
interval: 1m
window: 1m
triggers: [{triggerType: Critical, thresholdType: gt, threshold: 1}]
notifications:
  - {connectionName: chat, runForTriggerTypes: [Critical]}
  - {connectionId: 00000000DEADBEEF, runForTriggerTypes: [Critical]}
---
apiVersion: hookline/v1
kind: ScheduledSearch
name: later
query: error
scheduleType: 1Hour
timeRange: 1h
notification: {connectionName: literal}
`,
	})
	file := filepath.Join(dir, "all.yaml")
	r := admin(t, server, "", "apply", "-f", dir, "--yes")
	if r.code == 0 {
		t.Fatalf("apply succeeded:\n%s", r.stdout)
	}
	for _, want := range []string{
		file + `:13: Connection "literal": authorizationHeader: the secret is written in the file; prefer {fromEnv: NAME} or {fromFile: PATH}`,
		`apply stopped: could not create Monitor "broken" (` + file + ":15):",
		file + `:22: Monitor "broken": notifications[1].connectionId: names connection 00000000DEADBEEF, which does not exist`,
		"Applied:\n  created Connection \"chat\"",
		"Not applied:\n  create Monitor \"broken\"\n  create ScheduledSearch \"later\"",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, secret := range []string{literal, exportChatToken} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("a secret shows:\n%s\n%s", r.stdout, r.stderr)
		}
	}
	if set, _ := findConn(t, server, "literal").SecretSet("authorizationHeader"); !set {
		t.Error("the literal secret was not stored")
	}
}

func TestApplyHelpAndFlags(t *testing.T) {
	if r := runCLI(t, "", "apply", "--server", "http://127.0.0.1:1", "--token", "x"); r.code == 0 || !strings.Contains(r.stderr, "-f PATH is required") {
		t.Errorf("apply without -f: exit %d\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"apply", "--help"}, {"export", "--help"}} {
		r := mustSucceed(t, runCLI(t, "", args...))
		if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "docs/apply.md") && args[0] == "apply" {
			t.Errorf("%s --help:\n%s", args[0], r.stdout)
		}
	}
}

// TestApplyPrune: --prune deletes what the files do not name, of the kinds
// they hold only, after the other changes.
func TestApplyPrune(t *testing.T) {
	clearCredentials(t)
	server := cliServer(t)
	seedServer(t, server, cliLambda(t))
	dir := filepath.Join(t.TempDir(), "config")
	mustSucceed(t, admin(t, server, "", "export", "-o", dir, "--kind", "monitors,searches"))
	if err := os.Remove(filepath.Join(dir, "searches", "top-talkers.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "searches", "new.yaml"), []byte(strings.Replace(searchYAML, "Top talkers", "New search", 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	r := mustSucceed(t, admin(t, server, "", "apply", "-f", dir, "--dry-run"))
	if strings.Contains(r.stdout, "delete") || !strings.Contains(r.stdout, "Plan: 1 to create, 0 to update, 1 unchanged.") {
		t.Errorf("without --prune:\n%s", r.stdout)
	}
	want := "Plan: 1 to create, 0 to update, 1 to delete, 1 unchanged.\n" +
		"= unchanged Monitor \"Suspicious IP\" (" + filepath.Join(dir, "monitors", "suspicious-ip.yaml") + ":1)\n" +
		"+ create ScheduledSearch \"New search\" (" + filepath.Join(dir, "searches", "new.yaml") + ":1)\n" +
		"- delete ScheduledSearch \"Top talkers\" (in no file)\n"
	r = mustSucceed(t, admin(t, server, "", "apply", "-f", dir, "--prune", "--dry-run"))
	if !strings.HasPrefix(r.stdout, want) {
		t.Errorf("--prune --dry-run:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = mustSucceed(t, admin(t, server, "", "apply", "-f", dir, "--prune", "--yes"))
	if !strings.Contains(r.stdout, "deleted ScheduledSearch \"Top talkers\"\nApplied 2 changes.") {
		t.Errorf("--prune --yes:\n%s", r.stdout)
	}
	searches := decodeJSON[[]client.ScheduledSearch](t, mustSucceed(t, admin(t, server, "", "searches", "list", "-o", "json")).stdout)
	if len(searches) != 1 || searches[0].Name != "New search" {
		t.Errorf("searches after prune: %+v", searches)
	}
	// The files hold no connections, so none was pruned.
	findConn(t, server, "chat")
	findConn(t, server, "ops lambda")
}
