package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/sqlite"
)

// sourceExports reads the two lines sources create and rotate-token print.
func sourceExports(t *testing.T, out string) (token, url string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("printed %d lines, want 2:\n%s", len(lines), out)
	}
	token, ok1 := strings.CutPrefix(lines[0], "export HOOKLINE_SOURCE_TOKEN=")
	url, ok2 := strings.CutPrefix(lines[1], "export HOOKLINE_SOURCE_URL=")
	if !ok1 || !ok2 || token == "" || !strings.HasSuffix(url, "/receiver/v1/http/"+token) {
		t.Fatalf("printed:\n%s", out)
	}
	return token, url
}

// TestSourcesEndToEnd is a source's life through the CLI against the
// whole program: created, sent lines by the CLI and by a plain HTTP client
// (gzip, headers), counted, changed, its token rotated, deleted.
func TestSourcesEndToEnd(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)
	for _, name := range []string{"HOOKLINE_SOURCE_TOKEN", "HOOKLINE_SOURCE_TOKEN_FILE", "HOOKLINE_SOURCE_URL", "HOOKLINE_SERVER"} {
		t.Setenv(name, "")
	}

	r := mustSucceed(t, admin(t, server, "", "sources", "create", "--name", "web", "--category", "prod/web", "--description", "nginx"))
	token, url := sourceExports(t, r.stdout)
	if !strings.Contains(r.stderr, "shown this once") || !strings.HasPrefix(url, server+"/receiver/v1/http/") {
		t.Errorf("sources create:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}

	// The CLI sends lines from standard input, in batches.
	r = mustSucceed(t, runCLI(t, "GET / 200\n\nGET /login 401\n{\"timestamp\": 1764151200000, \"ip\": \"203.0.113.7\"}\nlast line without newline",
		"logs", "send", "--server", server, "--token", token, "--batch", "2"))
	if r.stdout != "Accepted 4 lines in 3 requests.\n" {
		t.Errorf("logs send printed %q", r.stdout)
	}
	// A plain HTTP client, as curl would: gzip and headers.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "from curl 1\nfrom curl 2\n")
	zw.Close()
	req, err := http.NewRequest("POST", url, &gz)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Sumo-Category", "prod/curl")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !jsonEqual(decodeJSON[map[string]any](t, string(body)), map[string]any{"accepted": 2.0, "truncated": 0.0}) {
		t.Errorf("POST %s: %d %s", "the source URL", resp.StatusCode, body)
	}
	// The whole URL from the environment, -o json.
	t.Setenv("HOOKLINE_SOURCE_URL", url)
	r = mustSucceed(t, runCLI(t, "via the URL\n", "logs", "send", "-o", "json", "--category", "prod/env"))
	if got := decodeJSON[map[string]int](t, r.stdout); got["accepted"] != 1 || got["requests"] != 1 {
		t.Errorf("logs send -o json: %s", r.stdout)
	}
	t.Setenv("HOOKLINE_SOURCE_URL", "")

	// Counted.
	r = mustSucceed(t, admin(t, server, "", "sources", "list"))
	rows := tableRows(r.stdout)
	if len(rows) != 2 || rows[0][4] != "RECEIVED" || rows[1][1] != "web" || rows[1][4] != "7" {
		t.Errorf("sources list:\n%s", r.stdout)
	}
	src := decodeJSON[client.Source](t, mustSucceed(t, admin(t, server, "", "sources", "get", "WEB", "-o", "json")).stdout)
	if src.Received != 7 || src.LastReceivedAt.IsZero() || src.Token != "" || strings.Contains(r.stdout, token) {
		t.Errorf("sources get: %+v", src)
	}

	// Changed: later lines carry the new category.
	r = mustSucceed(t, admin(t, server, "", "sources", "update", "web", "--category", "prod/nginx", "--host-name", "edge-1"))
	if !strings.Contains(r.stdout, "prod/nginx") || !strings.Contains(r.stdout, "edge-1") {
		t.Errorf("sources update:\n%s", r.stdout)
	}

	// Rotated: the old token is refused with a hint, the new one works.
	r = mustSucceed(t, admin(t, server, "", "sources", "rotate-token", src.ID))
	newToken, _ := sourceExports(t, r.stdout)
	r = runCLI(t, "x\n", "logs", "send", "--server", server, "--token", token)
	if r.code != 1 || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "rotated") || strings.Contains(r.stderr, token) {
		t.Errorf("logs send with the old token: %+v", r)
	}
	t.Setenv("HOOKLINE_SOURCE_TOKEN", newToken)
	t.Setenv("HOOKLINE_SERVER", server)
	mustSucceed(t, runCLI(t, "after rotation\n", "logs", "send"))

	r = mustSucceed(t, admin(t, server, "", "sources", "delete", "web", "--yes"))
	if r.stdout != "Deleted source web ("+src.ID+").\n" {
		t.Errorf("sources delete printed %q", r.stdout)
	}
	if r := runCLI(t, "gone\n", "logs", "send"); r.code != 1 {
		t.Errorf("logs send after the source was deleted: %+v", r)
	}
	r = mustSucceed(t, admin(t, server, "", "sources", "list"))
	if !strings.Contains(r.stderr, "No sources yet") {
		t.Errorf("sources list after delete: %+v", r)
	}
}

func TestSourcesCLIErrors(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)
	for _, name := range []string{"HOOKLINE_SOURCE_TOKEN", "HOOKLINE_SOURCE_TOKEN_FILE", "HOOKLINE_SOURCE_URL"} {
		t.Setenv(name, "")
	}
	mustSucceed(t, admin(t, server, "", "sources", "create", "--name", "taken"))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"create without a name", []string{"sources", "create"}, "--name is required"},
		{"taken name", []string{"sources", "create", "--name", "TAKEN"}, "name: is already used"},
		{"bad category", []string{"sources", "create", "--name", "x", "--category", "a\tb"}, "category: must not contain control characters"},
		{"unknown source", []string{"sources", "get", "nope"}, `source "nope": no source has this ID or name`},
		{"update nothing", []string{"sources", "update", "taken"}, "nothing to change"},
		{"delete without --yes", []string{"sources", "delete", "taken"}, "pass --yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin(t, server, "", tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%v: %+v; want exit 1 saying %q", tt.args, r, tt.want)
			}
		})
	}
	sends := []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{"logs", "send", "--server", server}, "no source token"},
		{"bad token", []string{"logs", "send", "--server", server, "--token", "hls_wrong"}, "401"},
		{"not a source URL", []string{"logs", "send", "--url", server + "/api/v1/sources"}, "--url must be a source's URL"},
		{"URL and token", []string{"logs", "send", "--url", server + "/receiver/v1/http/x", "--token", "y"}, "not both"},
		{"batch of none", []string{"logs", "send", "--token", "x", "--batch", "0"}, "--batch must be at least 1"},
		{"missing file", []string{"logs", "send", "--server", server, "--token", "x", filepath.Join(t.TempDir(), "missing.log")}, "missing.log"},
	}
	for _, tt := range sends {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "line\n", tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%v: %+v; want exit 1 saying %q", tt.args, r, tt.want)
			}
		})
	}
}

func TestSourcesOutputGolden(t *testing.T) {
	t.Parallel()
	web := client.Source{ID: "0192F1C2A1B2C3D4", Name: "web", Description: "nginx access logs", Category: "prod/web", HostName: "edge-1",
		Received: 1542, LastReceivedAt: goldenModified, CreatedAt: goldenCreated, ModifiedAt: goldenCreated}
	bare := client.Source{ID: "0192F1C2A1B2C3D5", Name: "firewall", CreatedAt: goldenCreated, ModifiedAt: goldenCreated}
	created := web
	created.Received, created.LastReceivedAt = 0, time.Time{}
	created.Token = "hls_EXAMPLEtokenb4sX2zL0aQ8wJm7rN5pT1vY9cU3hF6"
	created.URL = "https://hookline.example.com/receiver/v1/http/" + created.Token
	tests := []struct {
		file  string
		print func(w io.Writer) error
	}{
		{"sources.golden", func(w io.Writer) error { return printSourceTable(w, []client.Source{bare, web}) }},
		{"source.golden", func(w io.Writer) error { return printSourceDetails(w, &web) }},
		{"source-bare.golden", func(w io.Writer) error { return printSourceDetails(w, &bare) }},
		{"source-created.golden", func(w io.Writer) error { return printSourceExports(w, &created) }},
		{"source-created.json.golden", func(w io.Writer) error { return printObject(w, outputJSON, created) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.print(&b); err != nil {
				t.Fatal(err)
			}
			goldenIn(t, "sources", tt.file, b.String())
		})
	}
}

func TestSourcesHelpHasExamples(t *testing.T) {
	t.Parallel()
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	for _, name := range []string{"sources", "logs"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Fatalf("no %q command: %v", name, err)
		}
		for _, c := range append(cmd.Commands(), cmd) {
			if c.Name() == "help" || c.Name() == "completion" {
				continue
			}
			if strings.TrimSpace(c.Example) == "" {
				t.Errorf("%q has no Example", c.CommandPath())
			}
			flags := []string{"server", "output"}
			if name == "sources" {
				flags = append(flags, "access-id", "access-key", "token")
			} else if c.Name() == "send" {
				flags = append(flags, "token", "url", "category", "host", "name", "gzip")
			} else {
				flags = nil
			}
			for _, flag := range flags {
				if c.Flag(flag) == nil {
					t.Errorf("%q has no --%s", c.CommandPath(), flag)
				}
			}
		}
	}
}

func TestParseRetention(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * day, true},
		{"0", 0, true},
		{"0d", 0, true},
		{"36h", 36 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{" 30d ", 30 * day, true},
		{"90m", 90 * time.Minute, true},
		{"", 0, false},
		{"d", 0, false},
		{"-1d", 0, false},
		{"-5h", 0, false},
		{"7days", 0, false},
		{"1w", 0, false},
		{"12h3d", 0, false},
		{"99999d", 0, false},
	}
	for _, tt := range tests {
		got, err := parseRetention(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok {
			if back, err := parseRetention(formatRetention(got)); err != nil || back != got {
				t.Errorf("formatRetention(%v) = %q does not read back: %v, %v", got, formatRetention(got), back, err)
			}
		}
	}
	for d, want := range map[time.Duration]string{7 * day: "7d", 0: "0", 36 * time.Hour: "1d12h0m0s", time.Hour: "1h0m0s"} {
		if got := formatRetention(d); got != want {
			t.Errorf("formatRetention(%v) = %q; want %q", d, got, want)
		}
	}
	cfg := DefaultConfig()
	if cfg.LogRetention != 7*day {
		t.Errorf("default retention %v; want 7 days", cfg.LogRetention)
	}
	cfg.LogRetention = -time.Hour
	if err := cfg.Validate(); err == nil {
		t.Error("a negative retention is valid")
	}
}

// openLogDB opens a real database for the pruner's tests, with a source
// whose records it appends.
func openLogDB(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{3}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src := &hookline.Source{Name: "web", TokenHash: hookline.SourceTokenHash("t")}
	if err := db.CreateSource(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	return db, src.ID
}

func appendAt(t *testing.T, db hookline.LogStore, sourceID string, times ...time.Time) {
	t.Helper()
	var recs []hookline.LogRecord
	for _, at := range times {
		recs = append(recs, hookline.LogRecord{Time: at, SourceID: sourceID, Message: at.Format(time.RFC3339)})
	}
	if err := db.AppendLogs(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
}

func storedTimes(t *testing.T, db hookline.LogStore) []string {
	t.Helper()
	var out []string
	err := db.ScanLogs(t.Context(), hookline.LogScan{}, func(r hookline.LogRecord) error {
		out = append(out, r.Message)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// The pruner on a fake clock: a round at start, one every interval,
// deleting what the clock says is past the retention; none after Stop.
func TestPrunerRounds(t *testing.T) {
	t.Parallel()
	db, srcID := openLogDB(t)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	h := start.Add
	appendAt(t, db, srcID, h(-50*time.Hour), h(-49*time.Hour), h(-47*time.Hour), h(-30*time.Minute), h(time.Hour))
	logs := &syncBuffer{}
	p := newPruner(db, 48*time.Hour, 10*time.Minute, clk, newLogger(logs, "json", slog.LevelDebug))
	p.Start()

	want := func(when string, times ...time.Time) {
		t.Helper()
		var w []string
		for _, at := range times {
			w = append(w, at.Format(time.RFC3339))
		}
		slices.Sort(w)
		if got := storedTimes(t, db); !slices.Equal(got, w) {
			t.Errorf("%s: stored %q; want %q", when, got, w)
		}
	}
	clk.Advance(0)
	want("after the first round", h(-47*time.Hour), h(-30*time.Minute), h(time.Hour))
	if !strings.Contains(logs.String(), `"msg":"pruned log records","deleted":2`) {
		t.Errorf("the round's log:\n%s", logs)
	}

	clk.Advance(59 * time.Minute) // five rounds; the -47h record is 47h59m old
	want("at +59m", h(-47*time.Hour), h(-30*time.Minute), h(time.Hour))
	clk.Advance(time.Minute) // at +60m the record is exactly 48h old: kept, only older ones go
	want("at +60m", h(-47*time.Hour), h(-30*time.Minute), h(time.Hour))
	clk.Advance(10 * time.Minute)
	want("at +70m", h(-30*time.Minute), h(time.Hour))

	p.Stop()
	appendAt(t, db, srcID, h(-100*time.Hour))
	clk.Advance(time.Hour)
	want("after Stop", h(-100*time.Hour), h(-30*time.Minute), h(time.Hour))
}

// The pruner that hookline serve starts: with a short interval, records
// past the retention go, and the log says so; Close stops it.
func TestRetentionThroughServer(t *testing.T) {
	logs := &syncBuffer{}
	m := &Main{
		Config: Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", AdminToken: testToken, LogFormat: "json",
			LogRetention: time.Hour, LogPruneInterval: 20 * time.Millisecond},
		Stderr: logs,
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	src := &hookline.Source{Name: "web", TokenHash: hookline.SourceTokenHash("t")}
	if err := m.DB.CreateSource(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	appendAt(t, m.DB, src.ID, now.Add(-3*time.Hour), now.Add(-61*time.Minute), now.Add(-59*time.Minute), now)
	waitFor(t, 10*time.Second, "old records pruned", func() bool { return len(storedTimes(t, m.DB)) == 2 })
	if got, want := storedTimes(t, m.DB), []string{now.Add(-59 * time.Minute).Format(time.RFC3339), now.Format(time.RFC3339)}; !slices.Equal(got, want) {
		t.Errorf("kept %q; want %q", got, want)
	}
	waitFor(t, 10*time.Second, "the pruner's log line", func() bool {
		return strings.Contains(logs.String(), `"msg":"pruned log records"`)
	})
	var line map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"hookline is serving"`) {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line["log_retention"] != "1h0m0s" {
		t.Errorf("the start log line shows retention %v", line["log_retention"])
	}
}
