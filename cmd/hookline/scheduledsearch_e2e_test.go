package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/monitor"
)

// TestScheduledSearchEndToEnd drives a scheduled search through the real
// server: log lines reach an HTTP source, a search created through the API
// runs at its scheduled time over the range that ends there, sends one
// itemized alert per address above the line — at most maxItemizedAlerts
// of them — to a SigV4-checking Lambda endpoint, shows its run in the API
// and its alerts in the alerts list, and at the next scheduled time, with
// the lines out of range, sends nothing.
func TestScheduledSearchEndToEnd(t *testing.T) {
	fake := clock.NewFake(time.Now())
	srv := startServerAt(t, fake)
	dl, lambdaURL := startLambda(t, "lambda")

	var conn map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"type": "WebhookDefinition", "webhookType": "AWSLambda", "name": "waf-lambda",
		"url": lambdaURL + "/", "accessKeyId": testKeyID, "secretAccessKey": testSecret, "region": "us-east-1",
		"serviceName": "lambda", "defaultPayload": `{"name": "{{Name}}"}`,
	}, &conn); code != http.StatusOK {
		t.Fatalf("create connection: %d %v", code, conn)
	}
	var src map[string]any
	if code := srv.do("POST", "/api/v1/sources", map[string]any{"name": "web", "category": "prod/web"}, &src); code != http.StatusCreated {
		t.Fatalf("create source: %d %v", code, src)
	}
	var search map[string]any
	if code := srv.do("POST", "/api/v1/scheduledSearches", map[string]any{
		"name":           "Noisy addresses",
		"query":          `_sourceCategory=prod/web | parse "* from *" as req, ip | count by ip | where _count > 100 | sort by _count`,
		"scheduleType":   "Custom",
		"cronExpression": "*/5 * * * *",
		"timeRange":      "5m",
		"threshold":      map[string]any{"operator": "gt", "count": 0},
		"notification": map[string]any{
			"connectionId":      conn["id"],
			"payload":           `{"search": "{{Name}}", "ip": "{{ResultsJson.ip}}", "requests": "{{ResultsJson._count}}", "of": "{{NumQueryResults}}"}`,
			"itemizeAlerts":     true,
			"maxItemizedAlerts": 2,
		},
	}, &search); code != http.StatusCreated {
		t.Fatalf("create scheduled search: %d %v", code, search)
	}
	id := search["id"].(string)

	// Three addresses above the line (300, 200 and 150 requests), one below.
	var lines bytes.Buffer
	for ip, n := range map[string]int{"203.0.113.7": 300, "203.0.113.8": 200, "203.0.113.9": 150, "198.51.100.1": 5} {
		for i := range n {
			fmt.Fprintf(&lines, "GET /login?attempt=%d from %s\n", i, ip)
		}
	}
	resp, err := http.Post(src["url"].(string), "text/plain", &lines)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("send lines: status %d", resp.StatusCode)
	}

	// The first scheduled time after the lines: the range ending there
	// holds them all.
	run := time.Now().Truncate(5 * time.Minute).Add(5 * time.Minute)
	fake.Advance(run.Sub(fake.Now()) + time.Second)
	reqs := waitRequests(t, fake, dl, 2)
	var got []string
	for _, r := range reqs {
		body := lambdaBody(t, r)
		if !r.Verified || body["search"] != "Noisy addresses" || body["of"] != "3" {
			t.Fatalf("alert request: verified=%v err=%s body=%v", r.Verified, r.Err, body)
		}
		got = append(got, body["ip"].(string)+"="+body["requests"].(string))
	}
	slices.Sort(got)
	// The two with the most requests: the query sorts them first, and
	// maxItemizedAlerts leaves out the third.
	if want := []string{"203.0.113.7=300", "203.0.113.8=200"}; !slices.Equal(got, want) {
		t.Errorf("itemized alerts for %v, want %v", got, want)
	}
	last := waitSearchRun(t, fake, srv, id, run)
	if last["results"] != 3.0 || last["alerts"] != 2.0 || last["error"] != "" {
		t.Errorf("last run: %v", last)
	}

	// The alerts list shows the search's two alerts.
	var list struct {
		Data []map[string]any `json:"data"`
	}
	if code := srv.do("GET", "/api/v1/alerts?source="+url.QueryEscape("search:"+id), nil, &list); code != http.StatusOK || len(list.Data) != 2 {
		t.Fatalf("alerts list: %d %v", code, list)
	}
	for _, a := range list.Data {
		if a["name"] != "Noisy addresses" || a["triggerType"] != "Normal" {
			t.Errorf("listed alert: %v", a)
		}
	}

	// Five minutes on, the range no longer holds the lines: the run counts
	// none and sends nothing.
	fake.Advance(5 * time.Minute)
	last = waitSearchRun(t, fake, srv, id, run.Add(5*time.Minute))
	if last["results"] != 0.0 || last["alerts"] != 0.0 {
		t.Errorf("second run: %v", last)
	}
	if n := len(dl.Requests()); n != 2 {
		t.Errorf("the endpoint received %d requests in all, want 2", n)
	}
}

// waitSearchRun waits until the search's last run is the one scheduled at
// want and returns it.
func waitSearchRun(t *testing.T, fake *clock.Fake, srv *testServer, id string, want time.Time) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		var got map[string]any
		srv.do("GET", "/api/v1/scheduledSearches/"+id, nil, &got)
		state, _ := got["state"].(map[string]any)
		last, _ := state["lastRun"].(map[string]any)
		if at, _ := last["scheduledAt"].(string); at != "" {
			if ts, err := time.Parse(time.RFC3339Nano, at); err == nil && ts.Equal(want) {
				return last
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("search run at %s not saved: state %v, fake clock %s", want, state, fake.Now())
		}
		time.Sleep(20 * time.Millisecond)
		if i%10 == 9 {
			fake.Advance(monitor.DefaultPoll)
		}
	}
}
