package client_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

// storeServer starts the API over a real SQLite file with the Scheduled
// Searches API and the alert reads, and one webhook connection to send
// to; it returns the URL, the store and the connection's ID.
func storeServer(t *testing.T) (string, *sqlite.DB, string) {
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
		TokenHash: sha256.Sum256([]byte(testToken)), Deliveries: db, ScheduledSearches: db}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close(context.Background())
		db.Close()
	})
	return s.URL(), db, conn.ID
}

func TestScheduledSearches(t *testing.T) {
	ctx := context.Background()
	url, db, connID := storeServer(t)
	c := client.New(url, testToken)

	in := client.ScheduledSearchInput{
		Name:         "Top talkers",
		Query:        `_sourceCategory=prod/web | parse "from *" as ip | count by ip`,
		ScheduleType: client.Schedule1Hour,
		TimeRange:    "1h",
		Threshold:    &client.SearchThreshold{Operator: "gt", Count: 10},
		Notification: client.SearchNotification{ConnectionID: connID, ItemizeAlerts: true, MaxItemizedAlerts: 5},
	}
	s, err := c.CreateScheduledSearch(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == "" || s.CronExpression != "0 * * * *" || s.TimeZone != "UTC" || s.TimeRange != "1h" ||
		s.Threshold == nil || s.Threshold.Count != 10 || s.Notification.MaxItemizedAlerts != 5 || s.CreatedAt.IsZero() || s.State != nil {
		t.Errorf("created %+v", s)
	}
	got, err := c.ScheduledSearch(ctx, s.ID)
	if err != nil || got.State == nil || got.State.NextRunAt.IsZero() || got.State.NextRunAt.Minute() != 0 || got.State.LastRun != nil {
		t.Fatalf("ScheduledSearch: %+v, %v", got, err)
	}

	// A run shows in the state.
	next := got.State.NextRunAt
	if _, err := db.ClaimDueSearches(ctx, "test", next, time.Minute, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSearchRun(ctx, "test", s.ID, hookline.SearchRun{ScheduledAt: next, Error: "the query timed out"}, next.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	all, err := c.AllScheduledSearches(ctx)
	if err != nil || len(all) != 1 || all[0].State == nil || all[0].State.LastRun == nil ||
		!all[0].State.LastRun.ScheduledAt.Equal(next) || all[0].State.LastRun.Error != "the query timed out" {
		t.Fatalf("AllScheduledSearches: %+v, %v", all, err)
	}

	edit := got.Input()
	edit.ScheduleType, edit.CronExpression, edit.TimeZone = client.ScheduleCustom, "30 6 * * 1-5", "America/Chicago"
	edit.Threshold = nil
	up, err := c.UpdateScheduledSearch(ctx, s.ID, edit)
	if err != nil || up.CronExpression != "30 6 * * 1-5" || up.Threshold != nil || up.Query != in.Query {
		t.Fatalf("UpdateScheduledSearch: %+v, %v", up, err)
	}
	got, err = c.ScheduledSearch(ctx, s.ID)
	chicago, _ := time.LoadLocation("America/Chicago")
	if at := got.State.NextRunAt.In(chicago); err != nil || at.Hour() != 6 || at.Minute() != 30 || at.Weekday() == time.Saturday || at.Weekday() == time.Sunday {
		t.Errorf("next run after the update: %v, %v; want a weekday 06:30 in Chicago", at, err)
	}

	bad := in
	bad.Name = "broken"
	bad.ScheduleType, bad.CronExpression = client.ScheduleCustom, "every hour"
	bad.Notification.ConnectionID = ""
	_, err = c.CreateScheduledSearch(ctx, bad)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("invalid search: %v", err)
	}
	var fields []string
	for _, f := range ae.FieldErrors() {
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, ","); got != "notification.connectionId,cronExpression" && got != "cronExpression,notification.connectionId" {
		t.Errorf("fields named %q, want cronExpression and notification.connectionId", got)
	}

	if err := c.DeleteScheduledSearch(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ScheduledSearch(ctx, s.ID); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("ScheduledSearch after delete: %v", err)
	}
	for name, call := range map[string]func() error{
		"get":    func() error { _, err := c.ScheduledSearch(ctx, ""); return err },
		"update": func() error { _, err := c.UpdateScheduledSearch(ctx, "", in); return err },
		"delete": func() error { return c.DeleteScheduledSearch(ctx, "") },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "ID is empty") {
			t.Errorf("%s with no ID: %v", name, err)
		}
	}
}
