package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
	for _, want := range []string{created.ID, "Suspicious IP", "1m", "5m", "Critical: results gt 0", "enabled", "ACTIVE", "OK"} {
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
			got, _, err := parseMonitorFile([]byte(tt.in))
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

// TestMonitorsConnectionName: create -f and update -f take a
// notification's connection by name, as apply's files give it, and store
// its ID; a name that matches nothing, or a name beside an ID, is refused
// with the field and nothing is stored.
func TestMonitorsConnectionName(t *testing.T) {
	server := cliServer(t)
	clearCredentials(t)
	newConn := func(name string) string {
		return decodeJSON[client.Connection](t, mustSucceed(t, admin(t, server, "", "connections", "create", "--type", "Webhook",
			"--name", name, "--url", "http://127.0.0.1:9/hook", "--alert-payload", `{"n": "{{Name}}"}`, "-o", "json")).stdout).ID
	}
	waf, chat := newConn("waf"), newConn("Team Chat")

	// The monitor that the update cases replace, created by ID.
	const existing = "Existing"
	mustSucceed(t, admin(t, server, monitorWith(existing, "connectionId: "+waf), "monitors", "create", "-f", "-"))

	tests := []struct {
		name    string
		update  bool     // update Existing instead of creating
		notes   []string // each notification's connection fields, as YAML
		want    []string // the stored connectionIds
		wantErr []string // with m.yaml standing for the file
	}{
		{name: "by name", notes: []string{"connectionName: waf"}, want: []string{waf}},
		{name: "names ignore case", notes: []string{"connectionName: WAF", "connectionName: team CHAT"}, want: []string{waf, chat}},
		{name: "by name and by ID", notes: []string{"connectionId: " + waf, "connectionName: ' Team Chat '"}, want: []string{waf, chat}},
		{name: "update by name", update: true, notes: []string{"connectionName: team chat"}, want: []string{chat}},
		{name: "both", notes: []string{"connectionName: waf, connectionId: " + waf},
			wantErr: []string{"m.yaml: notifications[0]: give connectionName or connectionId, not both"}},
		{name: "update with both", update: true, notes: []string{"connectionName: waf, connectionId: " + waf},
			wantErr: []string{"m.yaml: notifications[0]: give connectionName or connectionId, not both"}},
		{name: "unknown name", notes: []string{"connectionName: waf", "connectionName: waf-lambda"},
			wantErr: []string{`m.yaml: notifications[1].connectionName: no connection is named "waf-lambda"`}},
		{name: "every unknown name at once", notes: []string{"connectionName: waf-lambda", "connectionName: waf", "connectionName: " + waf},
			wantErr: []string{"m.yaml: 2 problems:", `notifications[0].connectionName: no connection is named "waf-lambda"`,
				`notifications[2].connectionName: no connection is named "` + waf + `"`}},
		{name: "update with an unknown name", update: true, notes: []string{"connectionName: nope"},
			wantErr: []string{`m.yaml: notifications[0].connectionName: no connection is named "nope"`}},
		{name: "empty name and both", notes: []string{"connectionName: ''", "connectionName: waf, connectionId: " + waf},
			wantErr: []string{"m.yaml: 2 problems:", "notifications[0]: connectionName: must be a connection's name",
				"notifications[1]: give connectionName or connectionId, not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.name
			args := []string{"monitors", "create"}
			if tt.update {
				name = existing
				args = []string{"monitors", "update", existing}
			}
			before := decodeJSON[client.Monitor](t, mustSucceed(t, admin(t, server, "", "monitors", "get", existing, "-o", "json")).stdout)
			file := filepath.Join(t.TempDir(), "m.yaml")
			if err := os.WriteFile(file, []byte(monitorWith(name, tt.notes...)), 0o600); err != nil {
				t.Fatal(err)
			}
			r := admin(t, server, "", append(args, "-f", file)...)
			if tt.wantErr != nil {
				for _, want := range tt.wantErr {
					if r.code == 0 || !strings.Contains(r.stderr, strings.ReplaceAll(want, "m.yaml", file)) {
						t.Errorf("exit %d, stderr:\n%s\nwant %q", r.code, r.stderr, want)
					}
				}
				if g := admin(t, server, "", "monitors", "get", name); !tt.update && g.code == 0 {
					t.Errorf("the refused monitor was stored:\n%s", g.stdout)
				}
				after := decodeJSON[client.Monitor](t, mustSucceed(t, admin(t, server, "", "monitors", "get", existing, "-o", "json")).stdout)
				before.State, after.State = nil, nil // evaluations go on
				if !cmp.Equal(after, before) {
					t.Errorf("a refused file changed %s: %s", existing, cmp.Diff(before, after))
				}
				return
			}
			mustSucceed(t, r)
			got := decodeJSON[client.Monitor](t, mustSucceed(t, admin(t, server, "", "monitors", "get", name, "-o", "json")).stdout)
			var ids []string
			for _, n := range got.Notifications {
				ids = append(ids, n.ConnectionID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("stored connections %q, want %q", ids, tt.want)
			}
			shown := mustSucceed(t, admin(t, server, "", "monitors", "get", name)).stdout
			for _, id := range tt.want {
				if !strings.Contains(shown, id+" (Critical)") {
					t.Errorf("get lacks %s:\n%s", id, shown)
				}
			}
		})
	}
}

// monitorWith is a valid monitor file whose notifications have the given
// connection fields (YAML flow mapping entries) and send Critical.
func monitorWith(name string, conns ...string) string {
	var b strings.Builder
	b.WriteString("name: " + name + "\nquery: _sourceCategory=prod/web | count\ninterval: 1m\nwindow: 5m\n" +
		"triggers:\n  - {triggerType: Critical, thresholdType: gt, threshold: 0}\nnotifications:\n")
	for _, c := range conns {
		b.WriteString("  - {" + c + ", runForTriggerTypes: [Critical]}\n")
	}
	return b.String()
}

func TestParseMonitorFileConnectionName(t *testing.T) {
	tests := []struct {
		name, in string
		refs     []connRef
		ids      []string // the notifications' connectionIds as parsed
		err      string
	}{
		{"names are taken out, IDs stay",
			"name: a\nnotifications:\n- connectionName: ' waf '\n- connectionId: C2\n- connectionName: Team Chat\n  payloadOverride: {a: 1}\n",
			[]connRef{{"notifications[0].connectionName", 0, "waf"}, {"notifications[2].connectionName", 2, "Team Chat"}},
			[]string{"", "C2", ""}, ""},
		{"get's output", `{"id": "M1", "name": "a", "notifications": [{"connectionId": "C1", "runForTriggerTypes": ["Critical"]}]}`,
			nil, []string{"C1"}, ""},
		{"a null notification", "name: a\nnotifications: [null, {connectionName: waf}]\n",
			[]connRef{{"notifications[1].connectionName", 1, "waf"}}, []string{"", ""}, ""},
		{"both", "name: a\nnotifications: [{connectionName: waf, connectionId: C1}]\n",
			nil, nil, "notifications[0]: give connectionName or connectionId, not both"},
		{"not a name", "name: a\nnotifications: [{connectionName: [waf]}]\n",
			nil, nil, "notifications[0]: connectionName: must be a connection's name"},
		{"every problem at once", "name: a\nnotifications: [{connectionName: ' '}, {connectionId: C1}, {connectionName: w, connectionId: C1}]\n",
			nil, nil, "2 problems:\n  notifications[0]: connectionName: must be a connection's name\n  notifications[2]: give connectionName or connectionId, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refs, err := parseMonitorFile([]byte(tt.in))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, n := range got.Notifications {
				ids = append(ids, n.ConnectionID)
			}
			if !slices.Equal(refs, tt.refs) || !slices.Equal(ids, tt.ids) {
				t.Errorf("names %+v, IDs %q; want %+v, %q", refs, ids, tt.refs, tt.ids)
			}
		})
	}
}

func TestActiveText(t *testing.T) {
	alert := func(tt string) client.ActiveMonitorAlert { return client.ActiveMonitorAlert{TriggerType: tt} }
	tests := []struct {
		name string
		st   *client.MonitorState
		want string
	}{
		{"no state", nil, "-"},
		{"none active", &client.MonitorState{}, "OK"},
		{"by trigger type, in order of first", &client.MonitorState{ActiveAlerts: []client.ActiveMonitorAlert{
			alert("Warning"), alert("Critical"), alert("Warning")}}, "2 Warning, 1 Critical"},
	}
	for _, tt := range tests {
		if got := activeText(tt.st); got != tt.want {
			t.Errorf("%s: activeText = %q; want %q", tt.name, got, tt.want)
		}
	}
}
