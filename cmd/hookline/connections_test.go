package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/devlambda"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The CLI tests sign with their own access key ids, apart from the other
// tests of this package.
const (
	cliToken       = "cli-test-admin-token-0123456789"
	cliKeyID       = "AKIDCLITEST00001"
	cliSecret      = "cliSecretKey/7Ab+Q9zXyWvUtSrQpOnMlKj"
	cliWrongKeyID  = "AKIDCLITEST00002"
	cliWrongSecret = "cliWrongSecret/0000000000000000000000"
)

// cliServer runs the whole program on port 0, as hookline serve does, and
// returns its URL.
func cliServer(t *testing.T) string {
	t.Helper()
	m := &Main{
		Config: Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", AdminToken: cliToken, LogFormat: "text", AllowTargets: allowLoopback},
		Stderr: io.Discard,
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
	return m.Server.URL()
}

// cliLambda is a SigV4-checking stand-in for a Lambda Function URL that
// knows both CLI key ids with their right secrets.
func cliLambda(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(devlambda.New(devlambda.Config{
		Keys: map[string]string{cliKeyID: cliSecret, cliWrongKeyID: "cliTheRealSecretForKeyTwo/000000000"},
		Respond: func(devlambda.Request) (int, []byte) {
			return http.StatusOK, []byte(`{"ok":true}`)
		},
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs hookline with args as main does: an exitError ends with its
// status, any other error is printed after "Error:" with status 1.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(strings.NewReader(stdin), &stdout, &stderr)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := 0
	if err := root.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			code = int(ee)
		} else {
			fmt.Fprintln(&stderr, "Error:", err)
			code = 1
		}
	}
	return cliResult{stdout.String(), stderr.String(), code}
}

// conn runs a connections subcommand against server with the token.
func conn(t *testing.T, server, stdin string, args ...string) cliResult {
	t.Helper()
	return runCLI(t, stdin, append([]string{"connections", "--server", server, "--token", cliToken}, args...)...)
}

func mustSucceed(t *testing.T, r cliResult) cliResult {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func decodeConn(t *testing.T, out string) client.Connection {
	t.Helper()
	var c client.Connection
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return c
}

// tableRows splits table output into rows of cells.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1))
	}
	return rows
}

// TestConnectionsCLI walks a user's session: create, list, get, update,
// test and delete. It sets an environment variable, so it is not parallel.
func TestConnectionsCLI(t *testing.T) {
	server := cliServer(t)
	target := cliLambda(t)

	// create from a YAML file: a block-string payload and an object one.
	yamlFile := writeFile(t, "lambda.yaml", fmt.Sprintf(`
name: from yaml
webhookType: AWSLambda
url: %s
accessKeyId: %s
secretAccessKey: %s
region: us-east-1
serviceName: lambda
customHeaders:
  - name: X-Env
    value: test
defaultPayload: |
  {"name": "{{Name}}", "type": "{{TriggerType}}"}
resolutionPayload:
  name: "{{Name}}"
  resolved: true
`, target, cliKeyID, cliSecret))
	r := mustSucceed(t, conn(t, server, "", "create", "-f", yamlFile))
	rows := tableRows(r.stdout)
	if len(rows) != 2 || !cmp.Equal(rows[0], []string{"ID", "NAME", "TYPE", "URL HOST"}) ||
		rows[1][1] != "from yaml" || rows[1][2] != "AWSLambda" || !strings.HasPrefix(target, "http://"+rows[1][3]+"/") {
		t.Fatalf("create -f table = %q", r.stdout)
	}
	yamlID := rows[1][0]

	// create from flags, the secret from the environment, the payload
	// from a file, overriding nothing: -o json prints the whole object.
	t.Setenv("CLI_TEST_SECRET", cliSecret)
	payloadFile := writeFile(t, "alert.json", `{"alert": "{{Name}}", "unknown": "{{NoSuchThing}}"}`)
	r = mustSucceed(t, conn(t, server, "", "create", "-o", "json",
		"--type", "AWSLambda", "--name", "from flags", "--url", target,
		"--access-key-id", cliKeyID, "--secret-access-key-env", "CLI_TEST_SECRET",
		"--region", "us-east-1", "--service-name", "lambda",
		"--header", "X-One: 1", "--header", "X-Two: 2", "--header", "x-one: uno",
		"--alert-payload-file", payloadFile))
	flagsConn := decodeConn(t, r.stdout)
	if flagsConn.Name != "from flags" || flagsConn.DefaultPayload != `{"alert": "{{Name}}", "unknown": "{{NoSuchThing}}"}` {
		t.Errorf("created from flags: %+v", flagsConn)
	}
	if want := []client.Header{{Name: "x-one", Value: "uno"}, {Name: "X-Two", Value: "2"}}; !cmp.Equal(flagsConn.CustomHeaders, want) {
		t.Errorf("headers = %v, want %v (a repeated name replaces)", flagsConn.CustomHeaders, want)
	}
	if set, _ := flagsConn.SecretSet("secretAccessKey"); !set || strings.Contains(r.stdout, cliSecret) {
		t.Errorf("secret set = %v, or printed: %s", set, r.stdout)
	}
	if !strings.Contains(r.stderr, "Warning: defaultPayload:") || !strings.Contains(r.stderr, "NoSuchThing") {
		t.Errorf("stderr lacks the payload warning: %q", r.stderr)
	}

	t.Run("list", func(t *testing.T) {
		r := mustSucceed(t, conn(t, server, "", "list"))
		rows := tableRows(r.stdout)
		if len(rows) != 3 || !cmp.Equal(rows[0], []string{"ID", "NAME", "TYPE", "HOST", "MODIFIED"}) {
			t.Fatalf("list = %q", r.stdout)
		}
		if rows[1][1] != "from flags" || rows[2][1] != "from yaml" || rows[2][0] != yamlID {
			t.Errorf("rows not by name: %q", rows)
		}
		if _, err := time.Parse(time.RFC3339, rows[1][4]); err != nil {
			t.Errorf("MODIFIED %q: %v", rows[1][4], err)
		}

		r = mustSucceed(t, conn(t, server, "", "list", "-o", "json"))
		var list []client.Connection
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 || list[1].ID != yamlID {
			t.Errorf("list -o json = %s (%v)", r.stdout, err)
		}
		r = mustSucceed(t, conn(t, server, "", "list", "-o", "yaml"))
		var fromYAML []map[string]any
		if err := yaml.Unmarshal([]byte(r.stdout), &fromYAML); err != nil || len(fromYAML) != 2 || fromYAML[1]["id"] != yamlID {
			t.Errorf("list -o yaml = %s (%v)", r.stdout, err)
		}
	})

	t.Run("get", func(t *testing.T) {
		r := mustSucceed(t, conn(t, server, "", "get", yamlID))
		for _, want := range []string{
			"ID:                 " + yamlID + "\n",
			"Type:               AWSLambda\n",
			"Access Key ID:      " + cliKeyID + "\n",
			"Secret Access Key:  set\n",
			"Session Token:      not set\n",
			"Custom headers:     X-Env: test\n",
			"Alert payload:\n  {\n    \"name\": \"{{Name}}\",\n    \"type\": \"{{TriggerType}}\"\n  }\n",
			// The object in the YAML file went as its JSON text.
			"Recovery payload:\n  {\n    \"name\": \"{{Name}}\",\n    \"resolved\": true\n  }\n",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("get lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, cliSecret) {
			t.Error("get printed the secret")
		}
	})

	t.Run("update keeps the secret", func(t *testing.T) {
		r := mustSucceed(t, conn(t, server, "", "update", yamlID, "--description", "changed by update", "-o", "json"))
		c := decodeConn(t, r.stdout)
		if c.Description != "changed by update" || c.Name != "from yaml" || c.Setting("region") != "us-east-1" || len(c.CustomHeaders) != 1 {
			t.Errorf("after update: %+v", c)
		}
		if set, _ := c.SecretSet("secretAccessKey"); !set {
			t.Error("the secret was lost by an update that did not name it")
		}
		// The secret's value, not only its flag, survived: signing works.
		r = mustSucceed(t, conn(t, server, "", "test", yamlID))
		if !strings.HasPrefix(r.stdout, "Alert: 200 OK in ") {
			t.Errorf("test after update = %q", r.stdout)
		}
		// Nothing to change is refused before any request.
		r = conn(t, server, "", "update", yamlID)
		if r.code != 1 || !strings.Contains(r.stderr, "nothing to change") {
			t.Errorf("update without changes: %+v", r)
		}
	})

	t.Run("test", func(t *testing.T) {
		r := mustSucceed(t, conn(t, server, "", "test", flagsConn.ID))
		if !regexp.MustCompile(`^Alert: 200 OK in [0-9.]+ ms\n  \{"ok":true\}\n$`).MatchString(r.stdout) {
			t.Errorf("test = %q", r.stdout)
		}

		r = mustSucceed(t, conn(t, server, "", "test", flagsConn.ID, "--alert", "--recovery", "-v"))
		for _, want := range []string{"Alert: 200 OK", "Recovery: 200 OK", "  > POST " + target, "Signature=REDACTED", "  < {\"ok\":true}", "  > X-Two: 2"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("test -v lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, cliSecret) {
			t.Error("test -v printed the secret")
		}

		r = mustSucceed(t, conn(t, server, "", "test", flagsConn.ID, "--recovery", "-o", "json"))
		var res client.TestResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Alert != nil || res.Resolution == nil || res.Resolution.StatusCode != 200 {
			t.Errorf("test --recovery -o json = %s (%v)", r.stdout, err)
		}

		// An unsaved connection from standard input.
		def := fmt.Sprintf(`{"name": "unsaved", "webhookType": "AWSLambda", "url": %q, "accessKeyId": %q, "secretAccessKey": %q,
			"region": "us-east-1", "serviceName": "lambda", "defaultPayload": "{\"a\": \"{{Name}}\"}"}`, target, cliKeyID, cliSecret)
		r = mustSucceed(t, conn(t, server, def, "test", "-f", "-"))
		if !strings.HasPrefix(r.stdout, "Alert: 200 OK") {
			t.Errorf("test -f - = %q", r.stdout)
		}

		// A stored connection with unsaved edits: the secret is the stored
		// one unless given, and the edit is not saved.
		r = mustSucceed(t, conn(t, server, "", "test", yamlID, "-v", "--alert-payload", `{"edited": "{{Name}}"}`))
		if !strings.Contains(r.stdout, `  > {"edited": "Hookline test alert"}`) || !strings.HasPrefix(r.stdout, "Alert: 200 OK") {
			t.Errorf("test ID with an edit = %q", r.stdout)
		}
		secretFile := writeFile(t, "secret", cliSecret+"\n")
		mustSucceed(t, conn(t, server, "", "test", yamlID, "--secret-access-key-file", secretFile))
		r = mustSucceed(t, conn(t, server, "", "get", yamlID, "-o", "json"))
		if c := decodeConn(t, r.stdout); strings.Contains(c.DefaultPayload, "edited") {
			t.Errorf("testing an edit saved it: %q", c.DefaultPayload)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		r := mustSucceed(t, conn(t, server, "", "create", "-o", "json", "--type", "AWSLambda", "--name", "wrong secret",
			"--url", target, "--access-key-id", cliWrongKeyID, "--secret-access-key", cliWrongSecret,
			"--region", "us-east-1", "--service-name", "lambda", "--alert-payload", `{"a": "{{Name}}"}`))
		wrong := decodeConn(t, r.stdout)
		r = conn(t, server, "", "test", wrong.ID)
		if r.code != 1 {
			t.Errorf("exit status %d, want 1", r.code)
		}
		if !strings.HasPrefix(r.stdout, "Alert: 403 Forbidden in ") || !strings.Contains(r.stdout, "The request signature we calculated does not match") {
			t.Errorf("stdout = %q", r.stdout)
		}
		if !strings.Contains(r.stderr, "the alert test did not get a 2xx answer") {
			t.Errorf("stderr = %q", r.stderr)
		}

		// A secret corrected (or broken) by an update takes effect at once:
		// nothing signs with the secret it replaced.
		r = mustSucceed(t, conn(t, server, "", "update", yamlID, "--secret-access-key", cliWrongSecret))
		if r = conn(t, server, "", "test", yamlID); r.code != 1 || !strings.HasPrefix(r.stdout, "Alert: 403 Forbidden") {
			t.Errorf("test after setting a wrong secret: %+v", r)
		}
		mustSucceed(t, conn(t, server, "", "update", yamlID, "--secret-access-key", cliSecret))
		if r = conn(t, server, "", "test", yamlID); r.code != 0 || !strings.HasPrefix(r.stdout, "Alert: 200 OK") {
			t.Errorf("test after correcting the secret: %+v", r)
		}

		// Changing the type drops the old type's own fields.
		r = mustSucceed(t, conn(t, server, "", "update", wrong.ID, "-o", "json", "--type", "Webhook", "--url", "https://example.com/hook"))
		c := decodeConn(t, r.stdout)
		if c.WebhookType != "Webhook" || c.Setting("accessKeyId") != "" {
			t.Errorf("after a type change: %+v", c)
		}
		if set, known := c.SecretSet("authorizationHeader"); set || !known {
			t.Errorf("authorizationHeader set=%v known=%v, want a known, unset secret", set, known)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := conn(t, server, "", "delete", flagsConn.ID)
		if r.code != 1 || !strings.Contains(r.stderr, "standard input is not a terminal, so pass --yes") {
			t.Errorf("delete without --yes: %+v", r)
		}
		mustSucceed(t, conn(t, server, "", "get", flagsConn.ID))

		r = mustSucceed(t, conn(t, server, "", "delete", flagsConn.ID, "--yes"))
		if want := fmt.Sprintf("Deleted connection \"from flags\" (%s).\n", flagsConn.ID); r.stdout != want {
			t.Errorf("delete --yes = %q, want %q", r.stdout, want)
		}
		r = conn(t, server, "", "get", flagsConn.ID)
		if r.code != 1 || !strings.Contains(r.stderr, "404 not_found") {
			t.Errorf("get after delete: %+v", r)
		}
	})
}

func TestConnectionsCLIErrors(t *testing.T) {
	t.Parallel()
	server := cliServer(t)
	yamlDup := writeFile(t, "dup.yaml", "name: a\nname: b\n")
	badJSON := writeFile(t, "bad.json", "{\n  \"name\": \"x\",\n  oops\n}")

	tests := []struct {
		name string
		args []string
		want []string // each must appear in stderr
	}{
		{
			name: "field errors one per line",
			args: []string{"create", "--name", "bad", "--url", "ftp://example.com", "--header", "Bad Name: v", "--alert-payload", "{}"},
			want: []string{
				"Error: create connection: 400 invalid:\n",
				"\n  url: must start with https:// or http://, not \"ftp:\"\n",
				"\n  customHeaders[0].name: is not a valid HTTP header name",
			},
		},
		{
			name: "type's own field errors",
			args: []string{"create", "--type", "AWSLambda", "--name", "l", "--url", "https://example.com/", "--alert-payload", "{}"},
			want: []string{"\n  accessKeyId: is required", "\n  secretAccessKey: is required", "\n  region: is required"},
		},
		{"wrong token", []string{"list", "--token", "not-the-token-000"}, []string{"401 unauthorized", "Check --token or HOOKLINE_TOKEN"}},
		{"unknown ID", []string{"get", "nope"}, []string{"Error: get connection: 404 not_found: connection nope not found"}},
		{"nothing to create", []string{"create"}, []string{"nothing to create"}},
		{"nothing to test", []string{"test"}, []string{"nothing to test"}},
		{"bad output", []string{"list", "-o", "xml"}, []string{"-o/--output must be table, json or yaml"}},
		{"two forms of a secret", []string{"create", "--name", "x", "--secret-access-key", "a", "--secret-access-key-env", "B"}, []string{"give only one of --secret-access-key, --secret-access-key-env"}},
		{"unset secret variable", []string{"create", "--name", "x", "--authorization-header-env", "CLI_TEST_NO_SUCH_VAR"}, []string{`the environment variable "CLI_TEST_NO_SUCH_VAR" is not set or empty`}},
		{"header without colon", []string{"create", "--name", "x", "--header", "NoColon"}, []string{`--header "NoColon": want "Name: value"`}},
		{"payload twice", []string{"create", "--alert-payload", "{}", "--alert-payload-file", "x.json"}, []string{"give --alert-payload or --alert-payload-file, not both"}},
		{"duplicate YAML key", []string{"create", "-f", yamlDup}, []string{"not valid YAML", `key "name" already set`}},
		{"JSON syntax", []string{"create", "-f", badJSON}, []string{"not valid JSON: line 3, column 3"}},
		{"missing file", []string{"create", "-f", "/nonexistent/c.yaml"}, []string{"-f: open /nonexistent/c.yaml"}},
		{"remove an absent header", []string{"create", "--name", "x", "--remove-header", "X-None"}, []string{`--remove-header "X-None": the connection has no such custom header`}},
		{"unreachable server", []string{"list", "--server", "http://127.0.0.1:1"}, []string{"connection refused", `Is "hookline serve" running at http://127.0.0.1:1?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := conn(t, server, "", tt.args...)
			if r.code != 1 {
				t.Errorf("exit status %d, want 1", r.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// TestConnectionsToken covers where the token comes from. It sets
// environment variables, so it cannot run in parallel.
func TestConnectionsToken(t *testing.T) {
	server := cliServer(t)
	t.Setenv("HOOKLINE_TOKEN", "")
	t.Setenv("HOOKLINE_TOKEN_FILE", "")
	t.Setenv("HOOKLINE_SERVER", server)

	r := runCLI(t, "", "connections", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "Error: no API credentials") || !strings.Contains(r.stderr, "HOOKLINE_ACCESS_ID") || !strings.Contains(r.stderr, "HOOKLINE_TOKEN") {
		t.Errorf("without a token: %+v", r)
	}

	t.Setenv("HOOKLINE_TOKEN_FILE", writeFile(t, "token", cliToken+"\n"))
	r = mustSucceed(t, runCLI(t, "", "connections", "list"))
	if !strings.Contains(r.stderr, "No connections yet") {
		t.Errorf("token from HOOKLINE_TOKEN_FILE: %+v", r)
	}

	t.Setenv("HOOKLINE_TOKEN", "wrong-token-from-env-0")
	r = runCLI(t, "", "connections", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "401") {
		t.Errorf("HOOKLINE_TOKEN must win over the file: %+v", r)
	}
	mustSucceed(t, runCLI(t, "", "connections", "list", "--token", cliToken))
}

func TestConnectionsHelpHasExamples(t *testing.T) {
	t.Parallel()
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	conns, _, err := root.Find([]string{"connections"})
	if err != nil {
		t.Fatal(err)
	}
	cmds := append(conns.Commands(), conns)
	var names []string
	for _, c := range cmds {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		names = append(names, c.Name())
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
	}
	want := []string{"create", "delete", "get", "list", "test", "update", "connections"}
	if !cmp.Equal(names, want) {
		t.Errorf("commands = %v, want %v", names, want)
	}
}

func TestParseDefinitionFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    map[string]string // field → raw JSON
		wantErr string
	}{
		{
			name: "JSON keeps an object payload's key order",
			in:   `{"name": "x", "defaultPayload": {"z": 1, "a": "{{Name}}"}}`,
			want: map[string]string{"name": `"x"`, "defaultPayload": `"{\"z\":1,\"a\":\"{{Name}}\"}"`},
		},
		{
			name: "YAML block string",
			in:   "name: why\ndefaultPayload: |\n  {\"a\": \"{{Name}}\"}\n",
			want: map[string]string{"name": `"why"`, "defaultPayload": `"{\"a\": \"{{Name}}\"}\n"`},
		},
		{
			name: "YAML object payload becomes its JSON text",
			in:   "resolutionPayload:\n  b: 2\n  a: [1]\n",
			want: map[string]string{"resolutionPayload": `"{\"a\":[1],\"b\":2}"`},
		},
		{name: "empty", in: "  \n", wantErr: "the file is empty"},
		{name: "a list", in: "- a\n- b\n", wantErr: "must hold one object"},
		{name: "null", in: "null", wantErr: "not null"},
		{name: "two JSON values", in: `{"a": 1} {"b": 2}`, wantErr: "more than one JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDefinitionFile([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotS := map[string]string{}
			for k, v := range got {
				gotS[k] = string(v)
			}
			if diff := cmp.Diff(tt.want, gotS); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseDefinitionFile checks that any file either fails cleanly or
// gives fields that a definition can be built from, payloads as strings.
func FuzzParseDefinitionFile(f *testing.F) {
	f.Add("name: x\ndefaultPayload: |\n  {\"a\": 1}\n")
	f.Add(`{"name": "x", "defaultPayload": {"a": [1, 2]}}`)
	f.Add("resolutionPayload:\n  - 1\n  - {a: b}\n")
	f.Add("{\n  \"name\": \"x\",\n  oops\n}")
	f.Add("a: &x 1\nb: *x\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := parseDefinitionFile([]byte(in))
		if err != nil {
			return
		}
		for _, p := range payloadFields {
			raw, ok := m[p]
			if !ok {
				continue
			}
			var s any
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("%s = %s is not JSON: %v", p, raw, err)
			}
			if _, isObj := s.(map[string]any); isObj {
				t.Errorf("%s stayed an object: %s", p, raw)
			}
			if _, isList := s.([]any); isList {
				t.Errorf("%s stayed a list: %s", p, raw)
			}
		}
		if _, err := overlay(client.Definition{}, m); err != nil && !strings.Contains(err.Error(), "-f: ") {
			t.Errorf("overlay failed without naming -f: %v", err)
		}
	})
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"y\n", true}, {"YES\n", true}, {" yes \n", true}, {"y", true},
		{"n\n", false}, {"\n", false}, {"", false}, {"yep\n", false}, {"no\nyes\n", false},
	} {
		var out bytes.Buffer
		got, err := confirm(strings.NewReader(tt.in), &out, "Delete?")
		if err != nil || got != tt.want {
			t.Errorf("confirm(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if !strings.HasPrefix(out.String(), "Delete? [y/N] ") {
			t.Errorf("prompt = %q", out.String())
		}
	}
	if isTerminal(strings.NewReader("")) {
		t.Error("a strings.Reader is not a terminal")
	}
}

// golden compares got with testdata/connections/name, or rewrites the
// file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenIn(t, "connections", name, got)
}

// goldenIn compares got with testdata/dir/name, or rewrites the file with
// -update.
func goldenIn(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", dir, name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

var (
	goldenCreated  = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	goldenModified = time.Date(2025, 3, 5, 8, 9, 10, 0, time.FixedZone("CET", 3600))
)

func goldenLambda() client.Connection {
	return client.Connection{
		ID: "0192F1C2A1B2C3D4", Name: "ops lambda", Description: "pages the on-call engineer",
		WebhookType: "AWSLambda", URL: "https://abcdefg.lambda-url.us-east-1.on.aws/invoke?x=1",
		CustomHeaders:     []client.Header{{Name: "X-Env", Value: "prod"}, {Name: "X-Team", Value: "ops"}},
		DefaultPayload:    `{"name": "{{Name}}", "rows": "{{ResultsJson}}"}`,
		ResolutionPayload: `{"name": "{{Name}}", "count": {{NumQueryResults}}}`,
		CreatedAt:         goldenCreated, CreatedBy: "admin", ModifiedAt: goldenModified, ModifiedBy: "admin",
		Warnings: []string{"defaultPayload: the following variables are not supported and render empty: Foo"},
		Extra: map[string]any{
			"type": "WebhookConnection", "headers": []any{},
			"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "region": "us-east-1", "serviceName": "lambda",
			"hasSecretAccessKey": true, "hasSessionToken": false,
		},
	}
}

var goldenTypes = []client.ConnectionType{
	{WebhookType: "AWSLambda", Fields: []client.Field{
		{Name: "accessKeyId", Label: "Access Key ID"},
		{Name: "secretAccessKey", Label: "Secret Access Key", Secret: true},
		{Name: "sessionToken", Label: "Session Token", Secret: true},
		{Name: "region", Label: "Region"},
		{Name: "serviceName", Label: "Service Name"},
	}},
	{WebhookType: "Webhook", Fields: []client.Field{{Name: "authorizationHeader", Label: "Authorization Header", Secret: true}}},
}

func TestOutputGolden(t *testing.T) {
	t.Parallel()
	webhook := client.Connection{
		ID: "0192F1C2A1B2C3D5", Name: "chat\twith a tab", WebhookType: "Webhook", URL: "https://chat.example.com:8443/hook",
		DefaultPayload: `{"text": "{{Name}}"}`,
		CreatedAt:      goldenCreated, ModifiedAt: goldenCreated,
		Extra: map[string]any{"hasAuthorizationHeader": false, "tier": "gold", "limits": map[string]any{"perMinute": json.Number("60")}},
	}
	noURL := client.Connection{ID: "0192F1C2A1B2C3D6", Name: "odd", WebhookType: "Future"}

	ok, forbidden := 200, 403
	alert := &client.Attempt{
		StatusCode: 200, ResponseContent: `{"ok":true}`, LatencyMs: 12.345,
		Request: client.SentRequest{Method: "POST", URL: "https://abcdefg.lambda-url.us-east-1.on.aws/",
			Headers: []client.Header{
				{Name: "Host", Value: "abcdefg.lambda-url.us-east-1.on.aws"},
				{Name: "Authorization", Value: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250304/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=REDACTED"},
				{Name: "Content-Type", Value: "application/json"},
			},
			Body: `{"name": "Hookline test alert"}`},
	}
	recovery := &client.Attempt{
		StatusCode: 403, ResponseContent: "{\"Message\":\"The request signature we calculated does not match.\"}\n", LatencyMs: 3.25,
		Request: client.SentRequest{Method: "POST", URL: "https://abcdefg.lambda-url.us-east-1.on.aws/", Body: "{\n  \"resolved\": true\n}"},
	}
	both := client.TestResult{StatusCode: 200, AlertStatusCode: &ok, Alert: alert, ResolutionStatusCode: &forbidden, Resolution: recovery}
	unreachable := client.TestResult{Alert: &client.Attempt{LatencyMs: 15000.4, Error: "no answer within 15s (timeout)"}}
	odd := client.TestResult{Resolution: &client.Attempt{StatusCode: 299, LatencyMs: 1, ResponseContent: strings.Repeat("x", 20), ResponseTruncated: true},
		Alert: &client.Attempt{StatusCode: 204, LatencyMs: 0.5}}

	tests := []struct {
		file  string
		print func(w io.Writer) error
	}{
		{"details-lambda.golden", func(w io.Writer) error { return printConnectionDetails(w, goldenLambda(), goldenTypes) }},
		{"details-lambda-without-types.golden", func(w io.Writer) error { return printConnectionDetails(w, goldenLambda(), nil) }},
		{"details-webhook.golden", func(w io.Writer) error { return printConnectionDetails(w, webhook, goldenTypes) }},
		{"list.golden", func(w io.Writer) error {
			return printConnectionTable(w, listColumns, []client.Connection{goldenLambda(), webhook, noURL})
		}},
		{"created.golden", func(w io.Writer) error {
			return printConnectionTable(w, createdColumns, []client.Connection{goldenLambda()})
		}},
		{"connection.yaml.golden", func(w io.Writer) error { return printObject(w, outputYAML, goldenLambda()) }},
		{"connection.json.golden", func(w io.Writer) error { return printObject(w, outputJSON, goldenLambda()) }},
		{"test.golden", func(w io.Writer) error { return printTestResult(w, both, false) }},
		{"test-verbose.golden", func(w io.Writer) error { return printTestResult(w, both, true) }},
		{"test-unreachable.golden", func(w io.Writer) error { return printTestResult(w, unreachable, false) }},
		{"test-odd.golden", func(w io.Writer) error { return printTestResult(w, odd, false) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.print(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.String())
		})
	}
}
