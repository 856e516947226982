package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/client"
)

// TestMonitorsCLI is a monitor's life through the CLI against the whole
// program: created from YAML with a payload written as an object, listed,
// shown, edited through get -o yaml and update -f, refused when invalid,
// deleted.
func TestMonitorsCLI(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)
	conn := decodeJSON[client.Connection](t, mustSucceed(t, admin(t, server, "", "connections", "create", "--type", "Webhook",
		"--name", "waf", "--url", "http://127.0.0.1:9/hook", "--alert-payload", `{"n": "{{Name}}"}`, "-o", "json")).stdout)

	dir := t.TempDir()
	file := filepath.Join(dir, "m.yaml")
	yaml := `name: Suspicious IP
query: _sourceCategory=prod/web | parse "* from *" as req, ip | count by ip | where _count > 100
interval: 1m
window: 5m
triggers:
  - {triggerType: Critical, thresholdType: GreaterThan, threshold: 0}
notificationGroupFields: [ip]
notifications:
  - connectionId: ` + conn.ID + `
    runForTriggerTypes: [Critical, ResolvedCritical]
    payloadOverride: {"action": "block", "ip": "{{ResultsJson.ip}}"}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	created := decodeJSON[client.Monitor](t, mustSucceed(t, admin(t, server, "", "monitors", "create", "-f", file, "-o", "json")).stdout)
	if created.ID == "" || created.Triggers[0].ThresholdType != "gt" || len(created.Notifications) != 1 ||
		created.Notifications[0].PayloadOverride != `{"action":"block","ip":"{{ResultsJson.ip}}"}` {
		t.Fatalf("created %+v", created)
	}

	r := mustSucceed(t, admin(t, server, "", "monitors", "list"))
	for _, want := range []string{created.ID, "Suspicious IP", "1m", "5m", "Critical: results gt 0", "enabled"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustSucceed(t, admin(t, server, "", "monitors", "get", "suspicious ip"))
	for _, want := range []string{"Query", `parse "* from *" as req, ip`, "Active alerts", "Next evaluation", conn.ID + " (Critical, ResolvedCritical)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("get lacks %q:\n%s", want, r.stdout)
		}
	}

	// get -o yaml, edited, is a valid update -f.
	shown := mustSucceed(t, admin(t, server, "", "monitors", "get", created.ID, "-o", "yaml")).stdout
	edited := strings.Replace(shown, "muted: false", "muted: true", 1)
	if edited == shown {
		t.Fatalf("get -o yaml has no muted field:\n%s", shown)
	}
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	updated := decodeJSON[client.Monitor](t, mustSucceed(t, admin(t, server, "", "monitors", "update", "Suspicious IP", "-f", file, "-o", "json")).stdout)
	if !updated.Muted || updated.Query != created.Query {
		t.Errorf("updated %+v", updated)
	}

	tests := []struct {
		name, file, want string
	}{
		{"query syntax", "name: bad\nquery: _sourceCategory=prod/web | count by\ninterval: 1m\nwindow: 1m\ntriggers: [{triggerType: Critical, thresholdType: gt, threshold: 1}]\n", "query"},
		{"unknown field", "name: bad\nschedule: daily\n", "schedule"},
		{"not YAML", "name: [\n", "not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin(t, server, tt.file, "monitors", "create", "-f", "-")
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant an error naming %q", r.code, r.stderr, tt.want)
			}
		})
	}

	mustSucceed(t, admin(t, server, "", "monitors", "delete", created.ID, "--yes"))
	if r := admin(t, server, "", "monitors", "get", created.ID); r.code == 0 {
		t.Errorf("get after delete succeeded:\n%s", r.stdout)
	}
}

func TestParseMonitorFile(t *testing.T) {
	tests := []struct {
		name, in         string
		interval, window string
		err              string
	}{
		{"durations", "name: a\ninterval: 1m\nwindow: 5m\n", "1m", "5m", ""},
		{"bare numbers are minutes", "name: a\ninterval: 1\nwindow: 5\n", "1", "5", ""},
		{"a wrong type names the field", "name: a\ntriggers:\n- triggerType: Critical\n  threshold: lots\n", "", "", "triggers.threshold: must be a number, not string"},
		{"unknown field", "name: a\nevery: 5m\n", "", "", `unknown field "every"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMonitorFile([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || got.Interval != tt.interval || got.Window != tt.window {
				t.Fatalf("got interval %q window %q, %v; want %q %q", got.Interval, got.Window, err, tt.interval, tt.window)
			}
		})
	}
}
