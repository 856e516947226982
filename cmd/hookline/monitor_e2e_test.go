package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/monitor"
)

// startServerAt runs the whole program as startServer does, with the
// monitor and scheduled-search schedulers on the given clock.
func startServerAt(t *testing.T, c clock.Clock) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	m := &Main{
		Config: Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", AdminToken: testToken, LogFormat: "json", LogLevel: slog.LevelDebug,
			AllowTargets: allowLoopback, SchedulerClock: c},
		Stderr: logs,
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
	return &testServer{t: t, main: m, url: m.Server.URL(), logs: logs}
}

// TestMonitorEndToEnd is the proof: log lines with many requests
// from one address reach an HTTP source, a monitor created through the API
// fires once to a SigV4-checking Lambda endpoint with that address in the
// payload, stays quiet while the address stays above the line, and
// recovers once when its requests leave the window.
//
// The scheduler runs on a fake clock, so that minutes pass at once; the
// records, the store and the deliveries keep the real one.
func TestMonitorEndToEnd(t *testing.T) {
	start := time.Now()
	fake := clock.NewFake(start)
	srv := startServerAt(t, fake)
	dl, lambdaURL := startLambda(t, "lambda")

	var conn map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"type": "WebhookDefinition", "webhookType": "AWSLambda", "name": "waf-lambda",
		"url": lambdaURL + "/", "accessKeyId": testKeyID, "secretAccessKey": testSecret, "region": "us-east-1",
		"serviceName": "lambda", "defaultPayload": `{"name": "{{Name}}"}`, "resolutionPayload": `{"name": "{{Name}}"}`,
	}, &conn); code != http.StatusOK {
		t.Fatalf("create connection: %d %v", code, conn)
	}
	var src map[string]any
	if code := srv.do("POST", "/api/v1/sources", map[string]any{"name": "web", "category": "prod/web"}, &src); code != http.StatusCreated {
		t.Fatalf("create source: %d %v", code, src)
	}
	var mon map[string]any
	if code := srv.do("POST", "/api/v1/monitors", map[string]any{
		"name":     "Suspicious IP",
		"query":    `_sourceCategory=prod/web | parse "* from *" as req, ip | count by ip | where _count > 100`,
		"interval": "1m", "window": "5m",
		"triggers":                []any{map[string]any{"triggerType": "Critical", "thresholdType": "gt", "threshold": 0}},
		"notificationGroupFields": []string{"ip"},
		"notifications": []any{map[string]any{
			"connectionId":              conn["id"],
			"runForTriggerTypes":        []string{"Critical", "ResolvedCritical"},
			"payloadOverride":           `{"action": "block", "ip": "{{ResultsJson.ip}}", "type": "{{TriggerType}}"}`,
			"resolutionPayloadOverride": `{"action": "unblock", "ip": "{{ResultsJson.ip}}", "type": "{{TriggerType}}"}`,
		}},
	}, &mon); code != http.StatusCreated {
		t.Fatalf("create monitor: %d %v", code, mon)
	}
	monitorID := mon["id"].(string)

	// 150 requests from one address, a few from two others.
	var lines bytes.Buffer
	for i := range 150 {
		lines.WriteString("GET /login?attempt=" + string(rune('a'+i%26)) + " from 203.0.113.7\n")
	}
	for range 5 {
		lines.WriteString("GET / from 198.51.100.1\nGET /about from 192.0.2.44\n")
	}
	resp, err := http.Post(src["url"].(string), "text/plain", &lines)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("send lines: status %d", resp.StatusCode)
	}
	sent := time.Now()

	// The first window that holds the lines ends at the next minute.
	boundary := sent.Truncate(time.Minute).Add(time.Minute)
	fake.Advance(boundary.Sub(fake.Now()) + time.Second)
	reqs := waitRequests(t, fake, dl, 1)
	alert := lambdaBody(t, reqs[0])
	if !reqs[0].Verified || alert["action"] != "block" || alert["ip"] != "203.0.113.7" || alert["type"] != "Critical" {
		t.Fatalf("alert request: verified=%v err=%s body=%v", reqs[0].Verified, reqs[0].Err, alert)
	}

	// The API shows the active alert for the address.
	var got map[string]any
	srv.do("GET", "/api/v1/monitors/"+monitorID, nil, &got)
	state, _ := got["state"].(map[string]any)
	active, _ := state["activeAlerts"].([]any)
	if len(active) != 1 || !strings.Contains(mustMarshal(t, active), "203.0.113.7") {
		t.Errorf("state after the alert: %v", state)
	}

	// Two more minutes with the lines still in the window: no new alert.
	lastEnd := state["lastWindowEnd"]
	for range 2 {
		fake.Advance(time.Minute)
		lastEnd = waitEvaluated(t, fake, srv, monitorID, lastEnd)
	}
	if n := len(dl.Requests()); n != 1 {
		t.Fatalf("the endpoint received %d requests while the address stayed above the line, want 1", n)
	}

	// Traffic stopped: once the window no longer holds the lines, the
	// address recovers, once.
	fake.Advance(boundary.Add(5*time.Minute + time.Second).Sub(fake.Now()))
	reqs = waitRequests(t, fake, dl, 2)
	recovery := lambdaBody(t, reqs[1])
	if !reqs[1].Verified || recovery["action"] != "unblock" || recovery["ip"] != "203.0.113.7" || recovery["type"] != "ResolvedCritical" {
		t.Fatalf("recovery request: verified=%v err=%s body=%v", reqs[1].Verified, reqs[1].Err, recovery)
	}
	lastEnd = waitEvaluated(t, fake, srv, monitorID, nil)
	fake.Advance(time.Minute)
	waitEvaluated(t, fake, srv, monitorID, lastEnd)
	if n := len(dl.Requests()); n != 2 {
		t.Errorf("the endpoint received %d requests in all, want 2: one alert, one recovery", n)
	}
	srv.do("GET", "/api/v1/monitors/"+monitorID, nil, &got)
	if state, _ := got["state"].(map[string]any); len(state["activeAlerts"].([]any)) != 0 {
		t.Errorf("state after the recovery: %v", state)
	}
}

// waitRequests waits until the endpoint received n requests, nudging the
// scheduler with a poll of the fake clock now and then, in case its claim
// ran before the last evaluation was saved.
func waitRequests(t *testing.T, fake *clock.Fake, dl *devlambda.Server, n int) []devlambda.Request {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		if reqs := dl.Requests(); len(reqs) >= n {
			return reqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the endpoint received %d requests, want %d: %+v", len(dl.Requests()), n, dl.Requests())
		}
		time.Sleep(20 * time.Millisecond)
		if i%10 == 9 {
			fake.Advance(monitor.DefaultPoll)
		}
	}
}

// waitEvaluated waits until the monitor's last window end differs from
// prev and returns it; a nil prev waits for no evaluation in flight.
func waitEvaluated(t *testing.T, fake *clock.Fake, srv *testServer, id string, prev any) any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		var got map[string]any
		srv.do("GET", "/api/v1/monitors/"+id, nil, &got)
		state, _ := got["state"].(map[string]any)
		end := state["lastWindowEnd"]
		next, _ := time.Parse(time.RFC3339, state["nextEvaluationAt"].(string))
		if end != prev && (prev != nil || next.After(fake.Now())) {
			return end
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor not evaluated: state %v, fake clock %s", state, fake.Now())
		}
		time.Sleep(20 * time.Millisecond)
		if i%10 == 9 {
			fake.Advance(monitor.DefaultPoll)
		}
	}
}

func lambdaBody(t *testing.T, r devlambda.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, r.Body)
	}
	return m
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
