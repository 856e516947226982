package main

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

// searchesServer serves the Scheduled Searches API over a real SQLite
// file to the CLI's admin token, with one webhook connection, "waf"; it
// returns the URL, the store and the connection's ID.
func searchesServer(t *testing.T) (string, *sqlite.DB, string) {
	t.Helper()
	kr, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	conn := &hookline.Connection{Name: "waf", WebhookType: "Webhook", URL: "http://127.0.0.1:9/hook",
		DefaultPayload: `{"n": "{{Name}}"}`, Settings: map[string]string{}, Secrets: map[string]string{}}
	if err := db.CreateConnection(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	reg := notify.NewRegistry(webhook.Kind{})
	s := &hookhttp.Server{Addr: "127.0.0.1:0", Store: db, Registry: reg, Sender: &notify.Sender{Registry: reg},
		TokenHash: sha256.Sum256([]byte(cliToken)), Deliveries: db, ScheduledSearches: db}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close(context.Background())
		db.Close()
	})
	return s.URL(), db, conn.ID
}

// TestSearchesCLI is a scheduled search's life through the CLI: created
// from YAML with a payload written as an object, listed, shown, edited
// through get -o yaml and update -f, refused when invalid, deleted.
func TestSearchesCLI(t *testing.T) {
	server, db, connID := searchesServer(t)
	clearCredentials(t)
	ctx := context.Background()

	file := filepath.Join(t.TempDir(), "s.yaml")
	yaml := `name: Top talkers
query: _sourceCategory=prod/web | parse "from *" as ip | count by ip
scheduleType: 1Hour
timeRange: 1h
threshold: {operator: GreaterThan, count: 10}
notification:
  connectionId: ` + connID + `
  itemizeAlerts: true
  maxItemizedAlerts: 5
  payload: {"action": "block", "ip": "{{ResultsJson.ip}}"}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	created := decodeJSON[client.ScheduledSearch](t, mustSucceed(t, admin(t, server, "", "searches", "create", "-f", file, "-o", "json")).stdout)
	if created.ID == "" || created.CronExpression != "0 * * * *" || created.Threshold == nil || created.Threshold.Operator != "gt" ||
		created.Notification.Payload != `{"action":"block","ip":"{{ResultsJson.ip}}"}` || created.Notification.MaxItemizedAlerts != 5 {
		t.Fatalf("created %+v", created)
	}

	// A run, so that list and get have one to show.
	rec, err := db.SearchState(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimDueSearches(ctx, "test", rec.NextRunAt, time.Minute, 1); err != nil {
		t.Fatal(err)
	}
	run := hookline.SearchRun{ScheduledAt: rec.NextRunAt, Results: 12, Alerts: 5}
	if err := db.SaveSearchRun(ctx, "test", created.ID, run, rec.NextRunAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	r := mustSucceed(t, admin(t, server, "", "searches", "list"))
	rows := tableRows(r.stdout)
	if len(rows) != 2 || strings.Join(rows[0], " ") != "ID NAME SCHEDULE RANGE CONDITION NEXT RUN LAST RUN STATUS" {
		t.Fatalf("list:\n%s", r.stdout)
	}
	for _, want := range []string{created.ID, "Top talkers", "1Hour", "1h", "results gt 10",
		rec.NextRunAt.Add(time.Hour).UTC().Format(time.RFC3339), "12 results, 5 alerts", "enabled"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustSucceed(t, admin(t, server, "", "searches", "get", "top TALKERS"))
	for _, want := range []string{"Cron expression", "0 * * * *", `parse "from *" as ip`, "waf (" + connID + ")",
		"at most 5", rec.NextRunAt.UTC().Format(time.RFC3339) + ": 12 results, 5 alerts"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("get lacks %q:\n%s", want, r.stdout)
		}
	}

	// get -o yaml, edited, is a valid update -f.
	shown := mustSucceed(t, admin(t, server, "", "searches", "get", created.ID, "-o", "yaml")).stdout
	edited := strings.Replace(shown, "scheduleType: 1Hour", "scheduleType: Custom", 1)
	edited = strings.Replace(edited, "cronExpression: 0 * * * *", "cronExpression: 30 6 * * 1-5", 1)
	edited = strings.Replace(edited, "timeZone: UTC", "timeZone: America/Chicago", 1)
	if strings.Count(edited, "Custom")+strings.Count(edited, "30 6 * * 1-5")+strings.Count(edited, "America/Chicago") != 3 {
		t.Fatalf("get -o yaml lacks a field to edit:\n%s", shown)
	}
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	updated := decodeJSON[client.ScheduledSearch](t, mustSucceed(t, admin(t, server, "", "searches", "update", "Top talkers", "-f", file, "-o", "json")).stdout)
	if updated.ScheduleType != "Custom" || updated.TimeZone != "America/Chicago" || updated.Query != created.Query ||
		updated.Notification.Payload != created.Notification.Payload {
		t.Errorf("updated %+v", updated)
	}
	r = mustSucceed(t, admin(t, server, "", "searches", "list"))
	if !strings.Contains(r.stdout, "30 6 * * 1-5 America/Chicago") {
		t.Errorf("list after the update:\n%s", r.stdout)
	}

	tests := []struct {
		name, file string
		want       []string
	}{
		{"bad cron", "name: bad\nquery: error\nscheduleType: Custom\ncronExpression: 61 * * * *\ntimeRange: 15m\nnotification: {connectionId: " + connID + "}\n",
			[]string{"cronExpression"}},
		{"bad time zone and no connection", "name: bad\nquery: error\nscheduleType: 1Day\ntimeZone: Mars/Olympus\ntimeRange: 15m\n",
			[]string{"timeZone", "notification.connectionId"}},
		{"query syntax", "name: bad\nquery: error | count by\nscheduleType: 1Day\ntimeRange: 15m\nnotification: {connectionId: " + connID + "}\n",
			[]string{"query", "column"}},
		{"unknown field", "name: bad\ninterval: 5m\n", []string{"interval"}},
		{"wrong type", "name: bad\nnotification: {maxItemizedAlerts: many}\n", []string{"notification.maxItemizedAlerts", "a number"}},
		{"not YAML", "name: [\n", []string{"not valid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin(t, server, tt.file, "searches", "create", "-f", "-")
			for _, want := range tt.want {
				if r.code == 0 || !strings.Contains(r.stderr, want) {
					t.Errorf("exit %d, stderr:\n%s\nwant an error naming %q", r.code, r.stderr, want)
				}
			}
		})
	}
	if r := admin(t, server, "", "searches", "get", "no such search"); r.code == 0 || !strings.Contains(r.stderr, "hookline searches list") {
		t.Errorf("get of an unknown search: exit %d\n%s", r.code, r.stderr)
	}

	mustSucceed(t, admin(t, server, "", "searches", "delete", "top talkers", "--yes"))
	if r := admin(t, server, "", "searches", "get", created.ID); r.code == 0 {
		t.Errorf("get after delete succeeded:\n%s", r.stdout)
	}
	if r := mustSucceed(t, admin(t, server, "", "searches", "list")); r.stdout != "" || !strings.Contains(r.stderr, "No scheduled searches") {
		t.Errorf("list after delete:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestParseSearchFile(t *testing.T) {
	tests := []struct {
		name, in string
		want     client.ScheduledSearchInput
		err      string
		refs     []connRef
	}{
		{"json with read-only fields", `{"id": "X", "name": "a", "state": {"nextRunAt": null}, "createdAt": "2026-11-26T12:00:00Z", "timeRange": "15m"}`,
			client.ScheduledSearchInput{Name: "a", TimeRange: "15m"}, "", nil},
		{"payload as an object", "name: a\nnotification:\n  connectionId: C1\n  payload: {\"ip\": \"{{ResultsJson.ip}}\"}\n",
			client.ScheduledSearchInput{Name: "a", Notification: client.SearchNotification{ConnectionID: "C1", Payload: `{"ip":"{{ResultsJson.ip}}"}`}}, "", nil},
		{"threshold null", "name: a\nthreshold: null\n", client.ScheduledSearchInput{Name: "a"}, "", nil},
		{"a bare number of minutes", "name: a\ntimeRange: 15\n", client.ScheduledSearchInput{Name: "a", TimeRange: "15"}, "", nil},
		{"empty", "  \n", client.ScheduledSearchInput{}, "empty", nil},
		{"a list", "[1]", client.ScheduledSearchInput{}, "one object", nil},
		{"bad JSON", "{\"name\": }", client.ScheduledSearchInput{}, "line 1, column", nil},
		{"unknown field", "name: a\nschedule: daily\n", client.ScheduledSearchInput{}, "schedule", nil},
		{"connection by name", "name: a\nnotification:\n  connectionName: ' Team Chat '\n  payload: {a: 1}\n",
			client.ScheduledSearchInput{Name: "a", Notification: client.SearchNotification{Payload: `{"a":1}`}}, "",
			[]connRef{{"notification.connectionName", 0, "Team Chat"}}},
		{"connection by name and by ID", "name: a\nnotification: {connectionName: waf, connectionId: C1}\n",
			client.ScheduledSearchInput{}, "notification: give connectionName or connectionId, not both", nil},
		{"connection by no name", "name: a\nnotification: {connectionName: 7}\n",
			client.ScheduledSearchInput{}, "notification: connectionName: must be a connection's name", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refs, err := parseSearchFile([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.want.Name || got.TimeRange != tt.want.TimeRange || got.Notification != tt.want.Notification || got.Threshold != nil {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !slices.Equal(refs, tt.refs) {
				t.Errorf("connection names %+v, want %+v", refs, tt.refs)
			}
		})
	}
}

// TestSearchesConnectionName: create -f and update -f take the
// notification's connection by name, as apply's files give it, and store
// its ID; a name that matches nothing, or a name beside an ID, is refused
// with the field and nothing changes.
func TestSearchesConnectionName(t *testing.T) {
	server, db, waf := searchesServer(t)
	clearCredentials(t)
	chatConn := &hookline.Connection{Name: "Team Chat", WebhookType: "Webhook", URL: "http://127.0.0.1:9/chat",
		DefaultPayload: `{"n": "{{Name}}"}`, Settings: map[string]string{}, Secrets: map[string]string{}}
	if err := db.CreateConnection(context.Background(), chatConn); err != nil {
		t.Fatal(err)
	}
	chat := chatConn.ID

	// The search that the update cases replace, created by ID.
	const existing = "Existing"
	mustSucceed(t, admin(t, server, searchWith(existing, "connectionId: "+waf), "searches", "create", "-f", "-"))

	tests := []struct {
		name    string
		update  bool   // update Existing instead of creating
		conn    string // the notification's connection fields, as YAML
		want    string // the stored connectionId
		wantErr string // with s.yaml standing for the file
	}{
		{name: "by name", conn: "connectionName: waf", want: waf},
		{name: "names ignore case", conn: "connectionName: team CHAT", want: chat},
		{name: "update by name", update: true, conn: "connectionName: TEAM chat", want: chat},
		{name: "by ID as before", conn: "connectionId: " + chat, want: chat},
		{name: "both", conn: "connectionName: waf, connectionId: " + waf,
			wantErr: "s.yaml: notification: give connectionName or connectionId, not both"},
		{name: "update with both", update: true, conn: "connectionName: waf, connectionId: " + waf,
			wantErr: "s.yaml: notification: give connectionName or connectionId, not both"},
		{name: "unknown name", conn: "connectionName: waf-lambda",
			wantErr: `s.yaml: notification.connectionName: no connection is named "waf-lambda"`},
		{name: "an ID is not a name", conn: "connectionName: " + waf,
			wantErr: `s.yaml: notification.connectionName: no connection is named "` + waf + `"`},
		{name: "update with an unknown name", update: true, conn: "connectionName: nope",
			wantErr: `s.yaml: notification.connectionName: no connection is named "nope"`},
		{name: "empty name", conn: "connectionName: ''",
			wantErr: "s.yaml: notification: connectionName: must be a connection's name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.name
			args := []string{"searches", "create"}
			if tt.update {
				name = existing
				args = []string{"searches", "update", existing}
			}
			before := decodeJSON[client.ScheduledSearch](t, mustSucceed(t, admin(t, server, "", "searches", "get", existing, "-o", "json")).stdout)
			file := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(file, []byte(searchWith(name, tt.conn)), 0o600); err != nil {
				t.Fatal(err)
			}
			r := admin(t, server, "", append(args, "-f", file)...)
			if tt.wantErr != "" {
				if want := strings.ReplaceAll(tt.wantErr, "s.yaml", file); r.code == 0 || !strings.Contains(r.stderr, want) {
					t.Errorf("exit %d, stderr:\n%s\nwant %q", r.code, r.stderr, want)
				}
				if g := admin(t, server, "", "searches", "get", name); !tt.update && g.code == 0 {
					t.Errorf("the refused search was stored:\n%s", g.stdout)
				}
				after := decodeJSON[client.ScheduledSearch](t, mustSucceed(t, admin(t, server, "", "searches", "get", existing, "-o", "json")).stdout)
				if !cmp.Equal(after, before) {
					t.Errorf("a refused file changed %s: %s", existing, cmp.Diff(before, after))
				}
				return
			}
			mustSucceed(t, r)
			got := decodeJSON[client.ScheduledSearch](t, mustSucceed(t, admin(t, server, "", "searches", "get", name, "-o", "json")).stdout)
			if got.Notification.ConnectionID != tt.want {
				t.Errorf("stored connection %q, want %q", got.Notification.ConnectionID, tt.want)
			}
			shown := mustSucceed(t, admin(t, server, "", "searches", "get", name)).stdout
			if !strings.Contains(shown, "("+tt.want+")") {
				t.Errorf("get lacks %s:\n%s", tt.want, shown)
			}
		})
	}
}

// searchWith is a valid scheduled search file whose notification has the
// given connection fields (YAML flow mapping entries).
func searchWith(name, conn string) string {
	return "name: " + name + "\nquery: error\nscheduleType: 1Day\ntimeRange: 15m\nnotification: {" + conn + "}\n"
}

func TestSearchesHelpHasExamples(t *testing.T) {
	for _, sub := range newSearchesCmd().Commands() {
		if sub.Example == "" {
			t.Errorf("hookline searches %s has no example", sub.Name())
		}
	}
}

// TestDefinitionDocs keeps the CLI files in docs/monitors.md and
// docs/scheduled-searches.md true: each parses, naming its connection by
// connectionName.
func TestDefinitionDocs(t *testing.T) {
	tests := []struct {
		doc, file string
		parse     func([]byte) ([]connRef, error)
		want      []connRef
	}{
		{"monitors.md", "suspicious-ip.yaml", func(b []byte) ([]connRef, error) { _, refs, err := parseMonitorFile(b); return refs, err },
			[]connRef{{"notifications[0].connectionName", 0, "ops lambda"}}},
		{"scheduled-searches.md", "top-talkers.yaml", func(b []byte) ([]connRef, error) { _, refs, err := parseSearchFile(b); return refs, err },
			[]connRef{{"notification.connectionName", 0, "ops lambda"}}},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "docs", tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			_, after, ok := strings.Cut(string(b), "```yaml\n# "+tt.file+"\n")
			example, _, _ := strings.Cut(after, "```")
			if !ok {
				t.Fatalf("no YAML example %s", tt.file)
			}
			refs, err := tt.parse([]byte(example))
			if err != nil || !slices.Equal(refs, tt.want) {
				t.Errorf("parsed names %+v, %v; want %+v", refs, err, tt.want)
			}
		})
	}
}
