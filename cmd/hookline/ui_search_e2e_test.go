package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// TestUISearch: the link a monitor's or search's alert carries
// ({{QueryURL}}, made by linkAlerts) opens the Search page with the query
// and the alert's time range, and it runs at once; a syntax error is said
// under the query with its position; a query without an aggregate lists
// messages.
func TestUISearch(t *testing.T) {
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	var src map[string]any
	if code := srv.do("POST", "/api/v1/sources", map[string]any{"name": "web", "category": "prod/web"}, &src); code != http.StatusCreated {
		t.Fatalf("create source: %d %v", code, src)
	}
	lines := strings.Repeat("GET / from 203.0.113.7\n", 3) + "GET / from 198.51.100.1\nPOST /login from 192.0.2.44\n"
	if code := postLines(t, src["url"].(string), lines); code != http.StatusOK {
		t.Fatalf("send lines: %d", code)
	}

	// The link as an alert of a monitor over the last minutes carries it.
	now := time.Now()
	a := &hookline.AcceptedAlert{Source: "monitor:0123456789ABCDEF", Alert: hookline.Alert{
		Query:            `_sourceCategory=prod/web | parse "from *" as ip | count by ip | sort by _count`,
		TriggerTimeStart: now.Add(-5 * time.Minute), TriggerTimeEnd: now.Add(time.Minute),
	}}
	if err := linkAlerts(srv.url, func(context.Context, []*hookline.AcceptedAlert) error { return nil })(context.Background(), []*hookline.AcceptedAlert{a}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.open(strings.TrimPrefix(a.Alert.QueryURL, srv.url))
	b.waitText("#status", "3 rows")
	if got := b.text("#columns"); !strings.Contains(got, "ip") || !strings.Contains(got, "_count") {
		t.Errorf("columns: %q", got)
	}
	if first := b.text("#rows tr:first-child"); !strings.Contains(first, "203.0.113.7") || !strings.Contains(first, "3") {
		t.Errorf("first row: %q, want 203.0.113.7 with 3", first)
	}
	if got := b.value("#range"); got != "custom" {
		t.Errorf("time range %q, want the link's", got)
	}

	// A syntax error, under the query.
	b.fill("#query", `_sourceCategory=prod/web | stats count`)
	b.click("#run")
	b.waitText("#query-error", "line 1, column")
	if got := eval[string](b, `document.querySelector('#query').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("aria-invalid = %q on a query with an error", got)
	}
	if !eval[bool](b, `document.querySelector('#results').hidden`) {
		t.Error("the results of the earlier query are still shown under an error")
	}

	// Messages, in the last 15 minutes.
	b.fill("#query", `_sourceCategory=prod/web POST`)
	b.fill("#range", "15m")
	b.click("#run")
	b.waitText("#status", "1 message")
	if got := b.text("#rows"); !strings.Contains(got, "POST /login from 192.0.2.44") {
		t.Errorf("messages: %q", got)
	}
	if b.text("#query-error") != "" {
		t.Errorf("the old error is still shown: %q", b.text("#query-error"))
	}
}
