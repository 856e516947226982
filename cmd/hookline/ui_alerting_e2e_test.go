package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/monitor"
)

// The browser tests of the pages for sources, monitors, scheduled searches
// and alerts, on the whole program as ui_e2e_test.go's are (its browser,
// sign-in and helpers).
//
//	go test ./cmd/hookline -run 'TestUI(Sources|Monitors|ScheduledSearches|Alerts|AlertingReadOnly)'

// webhookConnection creates a Webhook connection to a local target that
// accepts everything, through the API.
func webhookConnection(t *testing.T, srv *testServer, name string) string {
	t.Helper()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)
	var c map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "Webhook", "name": name, "url": target.URL + "/hook", "defaultPayload": `{"name": "{{Name}}"}`,
	}, &c); code != http.StatusOK {
		t.Fatalf("create connection %s: %d %v", name, code, c)
	}
	return c["id"].(string)
}

// createMonitor stores a monitor through the API and returns its ID.
func createMonitor(t *testing.T, srv *testServer, body map[string]any) string {
	t.Helper()
	var m map[string]any
	if code := srv.do("POST", "/api/v1/monitors", body, &m); code != http.StatusCreated {
		t.Fatalf("create monitor %v: %d %v", body["name"], code, m)
	}
	return m["id"].(string)
}

// createSearch stores a scheduled search through the API and returns its ID.
func createSearch(t *testing.T, srv *testServer, body map[string]any) string {
	t.Helper()
	var s map[string]any
	if code := srv.do("POST", "/api/v1/scheduledSearches", body, &s); code != http.StatusCreated {
		t.Fatalf("create scheduled search %v: %d %v", body["name"], code, s)
	}
	return s["id"].(string)
}

// visibleButtons counts the buttons of the main area a person can see whose
// text matches re (a JavaScript regular expression).
func visibleButtons(b *browser, re string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`[...document.querySelectorAll('main button')].filter((el) => el.getClientRects().length > 0 && %s.test(el.textContent)).length`, re))
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.waitPath(strings.SplitN(path, "?", 2)[0])
}

// TestUISources: the list shows the sources the API holds; Add creates one
// and shows its receiver URL once, which takes lines; a taken name is said
// next to the name; Rotate token shows a new URL and stops the old one;
// Delete asks first.
func TestUISources(t *testing.T) {
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	var web map[string]any
	if code := srv.do("POST", "/api/v1/sources", map[string]any{"name": "web", "category": "prod/web", "description": "nginx access logs"}, &web); code != http.StatusCreated {
		t.Fatalf("create source: %d %v", code, web)
	}
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.waitVisible(`nav a[href="/ui/sources"]`)
	b.click(`nav a[href="/ui/sources"]`)
	b.waitPath("/ui/sources")
	webRow := fmt.Sprintf(`#rows tr[data-id="%s"]`, web["id"])
	b.waitText(webRow, "prod/web")
	b.waitText(webRow, "nginx access logs")
	b.waitText(webRow, "nothing yet")

	// Add: the URL with its token, once.
	b.click("#add-button")
	b.waitVisible("#editor")
	b.typeText("#f-name", "edge")
	b.typeText("#f-category", "prod/edge")
	b.typeText("#f-hostName", "edge-1")
	b.click("#save")
	b.waitVisible("#token-dialog")
	b.waitText("#token-note", "it will not be shown again")
	url := b.value("#token-url")
	if !strings.HasPrefix(url, srv.url+"/receiver/v1/http/hls_") {
		t.Fatalf("the receiver URL shown is %q", url)
	}
	b.waitText("#rows", "prod/edge")
	var list struct{ Data []map[string]any }
	srv.do("GET", "/api/v1/sources", nil, &list)
	if len(list.Data) != 2 || list.Data[0]["name"] != "edge" || list.Data[0]["category"] != "prod/edge" || list.Data[0]["hostName"] != "edge-1" {
		t.Fatalf("stored sources: %v", list.Data)
	}
	edgeID := list.Data[0]["id"].(string)
	if code := postLines(t, url, "one line\n"); code != http.StatusOK {
		t.Errorf("the URL shown takes lines with %d, want 200", code)
	}
	// Copy URL puts it on the clipboard (which the browser lets this
	// origin write to, as a person's click would).
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: srv.url,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	b.click("#token-copy button")
	b.waitText("#token-copy button", "Copied")
	b.click("#token-done")
	b.waitGone("#token-dialog")
	b.waitJS("the URL forgotten", `document.querySelector('#token-url').value === ''`)
	if html := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, strings.TrimPrefix(url, srv.url+"/receiver/v1/http/")) {
		t.Error("the page keeps the token after its dialog closed")
	}

	// A taken name comes back next to the name.
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Edit"]`, edgeID))
	b.waitJS("the source in the dialog", `document.querySelector('#f-name').value === 'edge'`)
	b.fill("#f-name", "WEB")
	b.click("#save")
	b.waitText("#f-name-err", "Name")
	if got := eval[string](b, `document.querySelector('#f-name').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("the taken name's aria-invalid is %q", got)
	}
	b.fill("#f-name", "edge-logs")
	b.click("#save")
	b.waitGone("#editor")
	b.waitText("#status", "Saved “edge-logs”")

	// Rotate: a new URL; the old one stops.
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Rotate"]`, edgeID))
	b.waitVisible("#confirm")
	b.waitText("#confirm-title", "Rotate the token of “edge-logs”?")
	b.click("#confirm-delete")
	b.waitVisible("#token-dialog")
	fresh := b.value("#token-url")
	if fresh == url || !strings.Contains(fresh, "/receiver/v1/http/hls_") {
		t.Fatalf("after rotating, the URL shown is %q (was %q)", fresh, url)
	}
	if code := postLines(t, url, "late line\n"); code != http.StatusUnauthorized {
		t.Errorf("the old URL answers %d after rotating, want 401", code)
	}
	b.click("#token-done")
	b.waitGone("#token-dialog")

	// Delete asks first.
	b.click(fmt.Sprintf(`#rows tr[data-id="%s"] button[aria-label^="Delete"]`, edgeID))
	b.waitText("#confirm-title", "Delete “edge-logs”?")
	b.click("#confirm-delete")
	b.waitGone("#confirm")
	b.waitText("#status", "Deleted “edge-logs”")
	if code := srv.do("GET", "/api/v1/sources/"+edgeID, nil, nil); code != http.StatusNotFound {
		t.Errorf("after Delete, GET answers %d", code)
	}
}

func postLines(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatalf("post lines: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const uiMonitorQuery = `_sourceCategory=prod/web | parse "from *" as ip | count by ip`

// TestUIMonitors: the list shows the monitors the API holds with their
// status; Add Monitor creates one with triggers and a notification as the
// API stores it; a query's syntax error and a trigger's unknown field are
// said next to their fields; Delete asks first.
func TestUIMonitors(t *testing.T) {
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	conn := webhookConnection(t, srv, "ops-hook")
	quiet := createMonitor(t, srv, map[string]any{
		"name": "Quiet source", "description": "No lines from the web tier", "query": "_sourceCategory=prod/web",
		"interval": "5m", "window": "15m", "muted": true, "isDisabled": true,
		"triggers": []any{map[string]any{"triggerType": "MissingData"}},
	})
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.click(`nav a[href="/ui/monitors"]`)
	b.waitPath("/ui/monitors")
	quietRow := fmt.Sprintf(`#rows tr[data-id="%s"]`, quiet)
	b.waitText(quietRow, "Quiet source")
	b.waitText(quietRow, "every 5m")
	b.waitText(quietRow, "over 15m")
	b.waitText(quietRow, "Missing Data")
	b.waitText(quietRow+" .state", "disabled")
	b.waitText(quietRow+" .state", "muted")

	// Add Monitor: a query error and an unknown trigger field come back
	// next to their fields.
	b.click("#add-button")
	b.waitVisible("#editor")
	if got := eval[string](b, `location.pathname`); got != "/ui/monitors/new" {
		t.Errorf("the dialog's address is %s", got)
	}
	b.typeText("#f-name", "Suspicious IP")
	b.fill("#f-query", "_sourceCategory=prod/web | count by")
	b.fill("#f-interval", "1m")
	b.fill("#f-window", "5m")
	b.fill("#f-trig-Critical-field", "_cnt")
	b.fill("#f-trig-Critical-op", "gt")
	b.fill("#f-trig-Critical-threshold", "100")
	b.click("#add-notification")
	b.fill(`#notification-rows [data-part="connectionId"]`, conn)
	b.click("#save")
	b.waitText("#f-query-err", "line 1, column")
	b.waitText("#editor-error", "Some fields need attention")
	b.fill("#f-query", uiMonitorQuery)
	b.click("#save")
	b.waitText("#f-trig-Critical-err", "_cnt")
	if got := b.text("#f-query-err"); got != "" {
		t.Errorf("the query's error stays after it was fixed: %q", got)
	}
	b.fill("#f-trig-Critical-field", "_count")
	b.click(`#f-trig-Warning-on`)
	b.fill("#f-trig-Warning-field", "_count")
	b.fill("#f-trig-Warning-op", "ge")
	b.fill("#f-trig-Warning-threshold", "50")
	b.click(`#notification-rows input[data-type="Warning"]`)
	b.fill("#f-groupFields", "ip")
	b.click("#save")
	b.waitGone("#editor")
	b.waitText("#status", "Created “Suspicious IP”")

	var list struct{ Data []map[string]any }
	srv.do("GET", "/api/v1/monitors", nil, &list)
	if len(list.Data) != 2 {
		t.Fatalf("%d monitors stored, want 2", len(list.Data))
	}
	m := list.Data[1]
	if m["name"] != "Suspicious IP" || m["query"] != uiMonitorQuery || m["interval"] != "1m" || m["window"] != "5m" ||
		fmt.Sprint(m["triggers"]) != "[map[field:_count threshold:100 thresholdType:gt triggerType:Critical] map[field:_count threshold:50 thresholdType:ge triggerType:Warning]]" ||
		fmt.Sprint(m["notificationGroupFields"]) != "[ip]" {
		t.Errorf("stored monitor: %v", m)
	}
	notes := m["notifications"].([]any)
	if len(notes) != 1 || notes[0].(map[string]any)["connectionId"] != conn ||
		fmt.Sprint(notes[0].(map[string]any)["runForTriggerTypes"]) != "[Critical Warning ResolvedCritical]" {
		t.Errorf("stored notifications: %v", notes)
	}
	id := m["id"].(string)
	row := fmt.Sprintf(`#rows tr[data-id="%s"]`, id)
	b.waitText(row, "Critical: _count greater than 100")
	b.waitText(row+" .state", "OK")

	// The monitor's address opens it; Delete asks first.
	b.open("/ui/monitors/" + id)
	b.waitJS("the monitor in the dialog", `document.querySelector('#f-name').value === 'Suspicious IP'`)
	if got := b.value(`#notification-rows [data-part="connectionId"]`); got != conn {
		t.Errorf("the notification's connection is %q", got)
	}
	b.click("#editor-cancel")
	b.waitGone("#editor")
	b.click(row + ` button[aria-label^="Delete"]`)
	b.waitText("#confirm-title", "Delete “Suspicious IP”?")
	b.click("#confirm-delete")
	b.waitText("#status", "Deleted “Suspicious IP”")
	if code := srv.do("GET", "/api/v1/monitors/"+id, nil, nil); code != http.StatusNotFound {
		t.Errorf("after Delete, GET answers %d", code)
	}
}

// TestUIScheduledSearches: the list shows the searches the API holds with
// schedule, range, condition and next run; Add Scheduled Search with a
// Custom schedule creates one as the API stores it; a bad cron expression
// is said next to its field; Delete asks first.
func TestUIScheduledSearches(t *testing.T) {
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	conn := webhookConnection(t, srv, "ops-hook")
	top := createSearch(t, srv, map[string]any{
		"name": "Top talkers", "query": uiMonitorQuery, "scheduleType": "1Hour", "timeRange": "1h",
		"threshold": map[string]any{"operator": "gt", "count": 10}, "notification": map[string]any{"connectionId": conn},
	})
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.click(`nav a[href="/ui/searches"]`)
	b.waitPath("/ui/searches")
	topRow := fmt.Sprintf(`#rows tr[data-id="%s"]`, top)
	b.waitText(topRow, "Every hour")
	b.waitText(topRow, "last 1h")
	b.waitText(topRow, "results greater than 10")
	b.waitText(topRow+" .last-run", "not yet")
	if got := eval[string](b, fmt.Sprintf(`document.querySelector('%s .next-run time').getAttribute('datetime')`, topRow)); !strings.HasSuffix(got, ":00:00Z") {
		t.Errorf("the next run of an hourly search is %q", got)
	}

	b.click("#add-button")
	b.waitVisible("#editor")
	b.waitGone("#cron-field")
	b.typeText("#f-name", "Weekday report")
	b.fill("#f-query", uiMonitorQuery)
	b.fill("#f-scheduleType", "Custom")
	b.waitVisible("#f-cronExpression")
	b.fill("#f-cronExpression", "0 8 * * Mo-Fr")
	b.fill("#f-timeZone", "Europe/Berlin")
	b.fill("#f-timeRange", "24h")
	b.click("#f-cond-always")
	b.fill("#f-connectionId", conn)
	b.click("#f-itemize")
	b.fill("#f-maxItemized", "20")
	b.click("#save")
	b.waitText("#f-cronExpression-err", "Cron expression")
	b.fill("#f-cronExpression", "0 8 * * 1-5")
	b.click("#save")
	b.waitGone("#editor")
	b.waitText("#status", "Created “Weekday report”")

	var list struct{ Data []map[string]any }
	srv.do("GET", "/api/v1/scheduledSearches", nil, &list)
	if len(list.Data) != 2 {
		t.Fatalf("%d searches stored, want 2", len(list.Data))
	}
	s := list.Data[1]
	if s["name"] != "Weekday report" || s["scheduleType"] != "Custom" || s["cronExpression"] != "0 8 * * 1-5" ||
		s["timeZone"] != "Europe/Berlin" || s["timeRange"] != "24h" || s["threshold"] != nil ||
		fmt.Sprint(s["notification"]) != fmt.Sprintf("map[connectionId:%s itemizeAlerts:true maxItemizedAlerts:20 payload:]", conn) {
		t.Errorf("stored search: %v", s)
	}
	id := s["id"].(string)
	row := fmt.Sprintf(`#rows tr[data-id="%s"]`, id)
	b.waitText(row, "cron 0 8 * * 1-5")
	b.waitText(row, "Europe/Berlin")
	b.waitText(row, "every time")

	b.click(row + ` button[aria-label^="Delete"]`)
	b.waitText("#confirm-title", "Delete “Weekday report”?")
	b.click("#confirm-delete")
	b.waitText("#status", "Deleted “Weekday report”")
	if code := srv.do("GET", "/api/v1/scheduledSearches/"+id, nil, nil); code != http.StatusNotFound {
		t.Errorf("after Delete, GET answers %d", code)
	}
}

// TestUIAlerts: alerts posted to the API and raised by a monitor are
// listed newest first with their deliveries; the filters by source and
// trigger type narrow the list and stay in the address; a monitor's alert
// links to the monitor, whose status shows it active.
//
// The monitor's alert comes the whole way: log lines to a source, the
// scheduler on a fake clock, one evaluation.
func TestUIAlerts(t *testing.T) {
	fake := clock.NewFake(time.Now())
	srv := startServerAt(t, fake)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	conn := webhookConnection(t, srv, "ops-hook")
	var src map[string]any
	if code := srv.do("POST", "/api/v1/sources", map[string]any{"name": "web", "category": "prod/web"}, &src); code != http.StatusCreated {
		t.Fatalf("create source: %d %v", code, src)
	}
	first := sendAlert(t, srv, "Disk full", hookline.TriggerWarning, conn)
	second := sendAlert(t, srv, "CPU high", hookline.TriggerCritical, conn)
	waitDelivery(t, srv, first[0])
	waitDelivery(t, srv, second[0])
	mon := createMonitor(t, srv, map[string]any{
		"name": "Suspicious IP", "query": uiMonitorQuery, "interval": "1m", "window": "5m",
		"triggers": []any{map[string]any{"triggerType": "Critical", "thresholdType": "gt", "threshold": 2}},
	})
	if code := postLines(t, src["url"].(string), "GET / from 203.0.113.7\nGET / from 198.51.100.1\nGET / from 192.0.2.44\n"); code != http.StatusOK {
		t.Fatalf("send lines: %d", code)
	}
	// The first window that holds the lines ends at the next minute.
	fake.Advance(time.Now().Truncate(time.Minute).Add(time.Minute).Sub(fake.Now()) + time.Second)
	var raised string
	waitFor(t, 15*time.Second, "the monitor's alert", func() bool {
		var list struct{ Data []map[string]any }
		srv.do("GET", "/api/v1/alerts?source=monitor:"+mon, nil, &list)
		if len(list.Data) == 1 {
			raised = list.Data[0]["id"].(string)
			return true
		}
		fake.Advance(monitor.DefaultPoll)
		return false
	})

	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.click(`nav a[href="/ui/alerts"]`)
	b.waitPath("/ui/alerts")
	b.waitJS("three alerts", `document.querySelectorAll('#rows tr[data-id]').length === 3`)
	names := eval[[]string](b, `[...document.querySelectorAll('#rows tr[data-id] .conn-name')].map((el) => el.textContent)`)
	if strings.Join(names, ", ") != "Suspicious IP, CPU high, Disk full" {
		t.Errorf("the alerts in order: %v, want newest first", names)
	}
	monRow := fmt.Sprintf(`#rows tr[data-id="%s"]`, raised)
	b.waitText(monRow, "Monitor “Suspicious IP”")
	b.waitText(monRow+` td[data-label="Results"]`, "3")
	b.waitText(monRow+` td[data-label="Deliveries"]`, "none")
	apiRow := `#rows tr[data-id]:nth-child(2)`
	b.waitText(apiRow, "API")
	b.waitText(apiRow+` td[data-label="Deliveries"]`, "delivered")
	b.waitText(apiRow+` td[data-label="Deliveries"]`, "ops-hook")
	apiAlert := eval[string](b, `document.querySelector('#rows tr[data-id]:nth-child(2)').dataset.id`)
	if href := eval[string](b, fmt.Sprintf(`document.querySelector(%s).getAttribute('href')`, js(apiRow+` td[data-label="Deliveries"] a`))); href != "/ui/deliveries?alertId="+apiAlert+"&connectionId="+conn {
		t.Errorf("the delivery links to %q", href)
	}

	// Filters: by source, then by trigger type; the address keeps them.
	b.fill("#filter-source", "api")
	b.waitJS("the API's two alerts", `document.querySelectorAll('#rows tr[data-id]').length === 2`)
	if got := eval[string](b, `location.search`); got != "?source=api" {
		t.Errorf("the address keeps the filter as %q", got)
	}
	b.fill("#filter-trigger", "Warning")
	b.waitJS("the API's warning", `document.querySelectorAll('#rows tr[data-id]').length === 1`)
	b.waitText("#rows", "Disk full")
	b.fill("#filter-source", "alertmanager")
	b.waitVisible("#list-empty")
	b.fill("#filter-trigger", "")
	b.fill("#filter-source", "monitor:"+mon)
	b.waitJS("the monitor's alert", `document.querySelectorAll('#rows tr[data-id]').length === 1`)

	// A reload keeps the filter; the source links to the monitor.
	b.open("/ui/alerts?source=monitor:" + mon)
	b.waitJS("the monitor's alert", `document.querySelectorAll('#rows tr[data-id]').length === 1`)
	if got := b.value("#filter-source"); got != "monitor:"+mon {
		t.Errorf("after a reload the source filter is %q", got)
	}
	b.click(monRow + ` td[data-label="Source"] a`)
	b.waitPath("/ui/monitors/" + mon)
	b.waitJS("the monitor in the dialog", `document.querySelector('#f-name').value === 'Suspicious IP'`)
	b.click("#editor-cancel")
	b.waitGone("#editor")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"] .state`, mon), "1 Critical")
	b.waitText(fmt.Sprintf(`#rows tr[data-id="%s"] .state`, mon), "1 active alert")

	// An alert's delivery link shows that alert's delivery only, though
	// both API alerts went to the same connection; "Show all alerts"
	// shows the connection's.
	b.open("/ui/alerts?source=api&triggerType=Warning")
	b.waitText("#rows", "Disk full")
	diskFull := eval[string](b, `document.querySelector('#rows tr[data-id]').dataset.id`)
	b.click(`#rows tr[data-id] td[data-label="Deliveries"] a`)
	b.waitPath("/ui/deliveries")
	b.waitVisible("#alert-filter")
	b.waitJS("the alert's one delivery", `document.querySelectorAll('#rows tr[data-id]').length === 1`)
	if got := b.text("#alert-filter-id"); got != diskFull {
		t.Errorf("the deliveries page filters by alert %q, want %q", got, diskFull)
	}
	if got := eval[string](b, `document.querySelector('#rows tr[data-id]').dataset.id`); got != first[0] {
		t.Errorf("the delivery shown is %s, want the alert's own %s", got, first[0])
	}
	b.click("#alert-filter-clear")
	b.waitJS("both alerts' deliveries", `document.querySelectorAll('#rows tr[data-id]').length === 2`)
	if got := eval[string](b, `location.search`); got != "?connectionId="+conn {
		t.Errorf("after Show all alerts the address is %q", got)
	}
}

// TestUIAlertingReadOnly: a role that may view monitors, alerts and
// connections but change nothing is offered no Add, Edit or Delete on the
// monitors and scheduled searches, sees their settings read-only, and has
// no Sources in its navigation.
func TestUIAlertingReadOnly(t *testing.T) {
	srv := startServer(t)
	conn := webhookConnection(t, srv, "ops-hook")
	mon := createMonitor(t, srv, map[string]any{
		"name": "Suspicious IP", "query": uiMonitorQuery, "interval": "1m", "window": "5m",
		"triggers":      []any{map[string]any{"triggerType": "Critical", "thresholdType": "gt", "threshold": 0}},
		"notifications": []any{map[string]any{"connectionId": conn, "runForTriggerTypes": []string{"Critical"}}},
	})
	search := createSearch(t, srv, map[string]any{
		"name": "Top talkers", "query": uiMonitorQuery, "scheduleType": "15Minutes", "timeRange": "15m",
		"notification": map[string]any{"connectionId": conn},
	})
	viewers := createRole(t, srv, "Viewers", hookline.ViewConnections, hookline.ViewMonitors, hookline.ViewAlerts)
	createUser(t, srv, "viewer@example.com", viewers)

	b := newBrowser(t, srv.url)
	b.signIn("viewer@example.com", uiPassword)
	for _, nav := range []string{"/ui/monitors", "/ui/searches", "/ui/alerts"} {
		b.waitVisible(fmt.Sprintf(`nav a[href="%s"]`, nav))
	}
	b.waitGone(`nav a[href="/ui/sources"]`)

	for _, tc := range []struct{ page, id, name string }{
		{"/ui/monitors", mon, "Suspicious IP"},
		{"/ui/searches", search, "Top talkers"},
	} {
		b.click(fmt.Sprintf(`nav a[href="%s"]`, tc.page))
		b.waitPath(tc.page)
		row := fmt.Sprintf(`#rows tr[data-id="%s"]`, tc.id)
		b.waitText(row, tc.name)
		if n := visibleButtons(b, `/Add|Edit|Delete/`); n != 0 {
			t.Errorf("%s: %d Add/Edit/Delete buttons are offered to a viewer", tc.page, n)
		}
		b.click(row + " a.conn-name")
		b.waitVisible("#editor")
		b.waitJS("the settings in the dialog", fmt.Sprintf(`document.querySelector('#f-name').value === %s`, js(tc.name)))
		if n := eval[int](b, `[...document.querySelectorAll('#editor input, #editor textarea, #editor select')].filter((el) => !el.disabled).length`); n != 0 {
			t.Errorf("%s: %d fields of the read-only dialog can be changed", tc.page, n)
		}
		b.waitGone("#save")
		b.click("#editor-cancel")
		b.waitGone("#editor")
	}

	// Sources need Manage Collectors: the page says so and lists nothing.
	b.open("/ui/sources")
	b.waitText("#list-error", "Manage Collectors")
	b.waitGone("#add-button")
}

// TestUIScreenshotsAlerting takes the screenshots of the pages for sources,
// monitors, scheduled searches and alerts that docs/ui.md shows, and checks
// that they fit a phone's width. With -screenshots it writes them to
// docs/screenshots/.
func TestUIScreenshotsAlerting(t *testing.T) {
	srv := startServer(t)
	createUser(t, srv, "ada@example.com", hookline.AdministratorRoleID)
	conn := webhookConnection(t, srv, "block-suspicious-ip")
	for _, s := range []map[string]any{
		{"name": "web", "category": "prod/web", "description": "nginx access logs"},
		{"name": "payments", "category": "prod/payments", "hostName": "pay-1"},
	} {
		var src map[string]any
		if code := srv.do("POST", "/api/v1/sources", s, &src); code != http.StatusCreated {
			t.Fatalf("create source: %d", code)
		}
		if s["name"] == "web" {
			postLines(t, src["url"].(string), strings.Repeat("GET /login from 203.0.113.7\n", 1200))
		}
	}
	mon := createMonitor(t, srv, map[string]any{
		"name": "Suspicious IP", "description": "Too many requests from one address",
		"query":    `_sourceCategory=prod/web | parse "from * " as ip | count by ip | sort by _count`,
		"interval": "1m", "window": "5m", "notificationGroupFields": []string{"ip"},
		"triggers": []any{map[string]any{"triggerType": "Critical", "thresholdType": "gt", "threshold": 100, "field": "_count"}},
		"notifications": []any{map[string]any{
			"connectionId": conn, "runForTriggerTypes": []string{"Critical", "ResolvedCritical"},
			"payloadOverride": `{"action": "block", "ip": "{{ResultsJson.ip}}"}`, "resolutionPayloadOverride": `{"action": "unblock", "ip": "{{ResultsJson.ip}}"}`,
		}},
	})
	createMonitor(t, srv, map[string]any{
		"name": "Web tier silent", "query": "_sourceCategory=prod/web", "interval": "5m", "window": "15m", "muted": true,
		"triggers": []any{map[string]any{"triggerType": "MissingData"}},
	})
	search := createSearch(t, srv, map[string]any{
		"name": "Top talkers", "description": "Hourly list of the busiest addresses", "query": uiMonitorQuery,
		"scheduleType": "1Hour", "timeRange": "1h", "threshold": map[string]any{"operator": "gt", "count": 0},
		"notification": map[string]any{"connectionId": conn, "itemizeAlerts": true, "maxItemizedAlerts": 10},
	})
	createSearch(t, srv, map[string]any{
		"name": "Weekday 401 report", "query": `_sourceCategory=prod/web " 401 " | count`, "scheduleType": "Custom",
		"cronExpression": "0 8 * * 1-5", "timeZone": "Europe/Berlin", "timeRange": "24h", "notification": map[string]any{"connectionId": conn},
	})
	ids := sendAlert(t, srv, "Disk almost full", hookline.TriggerWarning, conn)
	waitDelivery(t, srv, ids[0])
	if err := srv.main.Dispatcher.Accept(context.Background(), []*hookline.AcceptedAlert{
		{Source: "search:" + search, Alert: hookline.Alert{Name: "Top talkers", TriggerType: hookline.TriggerCritical, NumQueryResults: 4}},
		{Source: "monitor:" + mon, Alert: hookline.Alert{Name: "Suspicious IP", TriggerType: hookline.TriggerCritical, NumQueryResults: 1}},
	}); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join("..", "..", "docs", "screenshots")
	if !*writeScreenshots {
		dir = t.TempDir()
	}
	write := func(name string, shot []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), recompress(t, shot), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, srv.url)
	b.signIn("ada@example.com", uiPassword)
	b.do("desktop size", chromedp.EmulateViewport(1200, 800))
	shots := []struct {
		path, ready, file string
	}{
		{"/ui/sources", "payments", "sources.png"},
		{"/ui/monitors", "Web tier silent", "monitors.png"},
		{"/ui/searches", "Weekday 401 report", "searches.png"},
		{"/ui/alerts", "Disk almost full", "alerts.png"},
	}
	for _, s := range shots {
		b.open(s.path)
		b.waitText("#rows", s.ready)
		b.waitJS("every status loaded", `![...document.querySelectorAll('#rows .state')].some((el) => el.textContent.includes('…'))`)
		write(s.file, b.screenshot())
	}
	b.open("/ui/monitors/" + mon)
	b.waitJS("the monitor in the dialog", `document.querySelector('#f-name').value === 'Suspicious IP'`)
	b.do("show triggers and notifications", chromedp.Evaluate[chromedp.Void](`(() => {
		document.querySelector('#notification-rows details').open = true;
		document.querySelector('#f-triggers').scrollIntoView({block: 'start'});
	})()`))
	write("monitor-dialog.png", b.screenshot())
	b.click("#editor-cancel")
	b.waitGone("#editor")

	b.do("phone size", chromedp.EmulateViewport(375, 760, chromedp.EmulateScale(1), chromedp.EmulateMobile))
	for _, s := range shots {
		b.open(s.path)
		b.waitText("#rows", s.ready)
		if w := eval[int](b, `document.documentElement.scrollWidth`); w > 375 {
			t.Errorf("%s is %d pixels wide at a phone's 375", s.path, w)
		}
	}
}
