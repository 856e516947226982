package client_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

// monitorServer starts the API with the Monitors API over a real SQLite
// file, with one webhook connection to send to; it returns the URL and
// the connection's ID.
func monitorServer(t *testing.T) (string, string) {
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
		TokenHash: sha256.Sum256([]byte(testToken)), Logs: db, Monitors: db}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close(context.Background())
		db.Close()
	})
	return s.URL(), conn.ID
}

func TestMonitors(t *testing.T) {
	ctx := context.Background()
	url, connID := monitorServer(t)
	c := client.New(url, testToken)

	in := client.MonitorInput{
		Name:     "Suspicious IP",
		Query:    `_sourceCategory=prod/web | parse "* from *" as req, ip | count by ip | where _count > 100`,
		Interval: "1m", Window: "5m",
		Triggers:    []client.MonitorTrigger{{TriggerType: "Critical", ThresholdType: "gt", Threshold: 0}},
		GroupFields: []string{"ip"},
		Notifications: []client.MonitorNotification{{ConnectionID: connID, RunForTriggerTypes: []string{"Critical", "ResolvedCritical"},
			PayloadOverride: `{"action": "block", "ip": "{{ResultsJson.ip}}"}`}},
	}
	m, err := c.CreateMonitor(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == "" || m.Name != in.Name || m.Interval != "1m" || m.CreatedAt.IsZero() || m.State != nil {
		t.Errorf("created %+v", m)
	}
	got, err := c.Monitor(ctx, m.ID)
	if err != nil || got.State == nil || got.State.NextEvaluationAt.IsZero() || len(got.State.ActiveAlerts) != 0 {
		t.Fatalf("Monitor: %+v, %v", got, err)
	}

	edit := got.Input()
	edit.Muted = true
	edit.Window = "1h"
	up, err := c.UpdateMonitor(ctx, m.ID, edit)
	if err != nil || !up.Muted || up.Window != "1h" || up.Query != in.Query {
		t.Errorf("UpdateMonitor: %+v, %v", up, err)
	}

	bad := in
	bad.Name = "broken"
	bad.Query = "_sourceCategory=prod/web | count by"
	_, err = c.CreateMonitor(ctx, bad)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.FieldErrors()) == 0 ||
		ae.FieldErrors()[0].Field != "query" || !strings.Contains(ae.FieldErrors()[0].Message, "column") {
		t.Errorf("invalid query: %v", err)
	}

	all, err := c.AllMonitors(ctx)
	if err != nil || len(all) != 1 || all[0].ID != m.ID {
		t.Errorf("AllMonitors: %+v, %v", all, err)
	}
	if err := c.DeleteMonitor(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Monitor(ctx, m.ID); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("Monitor after delete: %v", err)
	}
	if _, err := c.Monitor(ctx, ""); err == nil {
		t.Error("Monitor with no ID: no error")
	}
}
