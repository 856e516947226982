package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/devlambda"
)

// alertmanagerBinary finds Prometheus Alertmanager: $HOOKLINE_ALERTMANAGER,
// or Debian's prometheus-alertmanager, or alertmanager on the PATH. Without
// it the test is skipped, except in CI, where it must run.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	candidates := []string{"prometheus-alertmanager", "alertmanager"}
	if bin := os.Getenv("HOOKLINE_ALERTMANAGER"); bin != "" {
		candidates = []string{bin}
	}
	for _, c := range candidates {
		if bin, err := exec.LookPath(c); err == nil {
			return bin
		}
	}
	msg := fmt.Sprintf("Prometheus Alertmanager is not installed (looked for %s); on Debian: apt-get install prometheus-alertmanager, or set HOOKLINE_ALERTMANAGER", strings.Join(candidates, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// alertmanager is a running Alertmanager process.
type alertmanager struct {
	url string
	log *syncBuffer
}

// alertmanagerProcAttr is set where the platform can end the process
// with the test binary.
var alertmanagerProcAttr *syscall.SysProcAttr

var listeningRE = regexp.MustCompile(`msg="Listening on".*address=(127\.0\.0\.1:\d+)`)

// startAlertmanager runs Alertmanager with config on 127.0.0.1, port 0,
// without clustering (which would listen on every interface and gossip).
func startAlertmanager(t *testing.T, config string) *alertmanager {
	t.Helper()
	bin := alertmanagerBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:0",
		"--cluster.listen-address=",
		"--log.level=debug",
	)
	cmd.SysProcAttr = alertmanagerProcAttr
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	am := &alertmanager{log: &syncBuffer{}}
	addr := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(am.log, sc.Text())
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-copied
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", am.log)
		}
	})
	select {
	case a := <-addr:
		am.url = "http://" + a
	case <-time.After(15 * time.Second):
		t.Fatalf("alertmanager did not say where it listens:\n%s", am.log)
	}
	waitFor(t, 15*time.Second, "alertmanager ready", func() bool {
		resp, err := http.Get(am.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return am
}

// postAlerts posts alerts to Alertmanager's API, as Prometheus does.
func (am *alertmanager) postAlerts(t *testing.T, alerts ...map[string]any) {
	t.Helper()
	body, _ := json.Marshal(alerts)
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("alertmanager refused the alert: %d %s", resp.StatusCode, msg)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiverPosts counts the notifications Hookline's receiver accepted,
// from its request log.
func (s *testServer) receiverPosts() int {
	n := 0
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var rec struct {
			Msg, Path string
			Status    int
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http request" &&
			rec.Path == "/api/v1/receivers/alertmanager" && rec.Status == http.StatusAccepted {
			n++
		}
	}
	return n
}

const (
	amAlertPayload    = `{"name": "{{Name}}", "type": "{{TriggerType}}", "instance": "{{ResultsJson.instance}}", "severity": "{{labels.severity}}", "summary": "{{annotations.summary}}", "fingerprint": "{{Id}}", "rows": {{ResultsJson}}}`
	amRecoveryPayload = `{"name": "{{Name}}", "type": "{{TriggerType}}", "instance": "{{ResultsJson.instance}}", "resolved": true}`
)

// TestAlertmanagerEndToEnd runs a real Prometheus Alertmanager whose
// webhook receiver is Hookline: an alert posted to Alertmanager reaches a
// SigV4-checking Lambda endpoint as the connection's alert payload, its
// resolution as the recovery payload, and Alertmanager's repeat of the
// firing alert is not delivered again.
func TestAlertmanagerEndToEnd(t *testing.T) {
	alertmanagerBinary(t) // skip before starting anything
	srv := startServer(t)
	dl, lambdaURL := startLambda(t, "lambda")

	var conn map[string]any
	code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "AWSLambda", "name": "block-ip", "url": lambdaURL + "/",
		"accessKeyId": testKeyID, "secretAccessKey": testSecret, "region": "us-east-1", "serviceName": "lambda",
		"defaultPayload": amAlertPayload, "resolutionPayload": amRecoveryPayload,
	}, &conn)
	if code != http.StatusOK {
		t.Fatalf("create connection: %d %v", code, conn)
	}
	connID := conn["id"].(string)

	// Alertmanager calls with the access key of a user who may only send
	// alerts, as docs/alertmanager.md advises.
	var role, user, key map[string]any
	if code := srv.do("POST", "/api/v1/roles", map[string]any{"name": "alert senders", "capabilities": []string{"sendAlerts"}}, &role); code != http.StatusCreated {
		t.Fatalf("create role: %d %v", code, role)
	}
	if code := srv.do("POST", "/api/v1/users", map[string]any{"email": "alertmanager@example.com", "roleIds": []any{role["id"]}}, &user); code != http.StatusCreated {
		t.Fatalf("create user: %d %v", code, user)
	}
	if code := srv.do("POST", "/api/v1/accessKeys", map[string]any{"label": "alertmanager", "userId": user["id"]}, &key); code != http.StatusCreated {
		t.Fatalf("create access key: %d %v", code, key)
	}

	// Tiny group timers so the test takes seconds; repeat_interval is short
	// so Alertmanager repeats the firing notification while we watch.
	am := startAlertmanager(t, fmt.Sprintf(`
route:
  receiver: hookline
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 300ms
  repeat_interval: 1s
receivers:
  - name: hookline
    webhook_configs:
      - url: %s/api/v1/receivers/alertmanager?connections=block-ip
        send_resolved: true
        http_config:
          basic_auth:
            username: %s
            password: %s
`, srv.url, key["id"], key["key"]))

	startsAt := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	alert := map[string]any{
		"labels":       map[string]string{"alertname": "SuspiciousIP", "severity": "warning", "instance": "203.0.113.9", "job": "waf"},
		"annotations":  map[string]string{"summary": "203.0.113.9 probes /admin"},
		"startsAt":     startsAt.Format(time.RFC3339Nano),
		"generatorURL": "http://prometheus.example.com/graph?g0.expr=waf_probes+%3E+10",
	}
	am.postAlerts(t, alert)

	waitFor(t, 20*time.Second, "the alert at the Lambda endpoint", func() bool { return len(dl.Requests()) >= 1 })
	fired := dl.Requests()[0]
	checkSigned(t, "alert", fired)
	var body map[string]any
	if err := json.Unmarshal(fired.Body, &body); err != nil {
		t.Fatalf("alert payload is not JSON: %v\n%s", err, fired.Body)
	}
	fingerprint := alertmanagerFingerprint(t, am)
	for k, want := range map[string]any{
		"name": "SuspiciousIP", "type": "Warning", "instance": "203.0.113.9", "severity": "warning",
		"summary": "203.0.113.9 probes /admin", "fingerprint": fingerprint,
	} {
		if body[k] != want {
			t.Errorf("alert payload %s = %v, want %v\n%s", k, body[k], want, fired.Body)
		}
	}
	if rows, _ := body["rows"].([]any); len(rows) != 1 || rows[0].(map[string]any)["job"] != "waf" {
		t.Errorf("alert payload rows = %v, want the labels and annotations as one row", body["rows"])
	}

	// Alertmanager repeats the firing notification every repeat_interval;
	// Hookline accepts each (202) and delivers none of them again.
	waitFor(t, 20*time.Second, "alertmanager to repeat the notification", func() bool { return srv.receiverPosts() >= 3 })
	if n := len(dl.Requests()); n != 1 {
		t.Fatalf("the Lambda endpoint received %d requests after repeats of one firing alert, want 1", n)
	}

	// Resolved: the same alert with endsAt in the past.
	alert["endsAt"] = time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	am.postAlerts(t, alert)
	waitFor(t, 20*time.Second, "the recovery at the Lambda endpoint", func() bool { return len(dl.Requests()) >= 2 })
	resolved := dl.Requests()[1]
	checkSigned(t, "recovery", resolved)
	body = nil
	if err := json.Unmarshal(resolved.Body, &body); err != nil {
		t.Fatalf("recovery payload is not JSON: %v\n%s", err, resolved.Body)
	}
	if body["type"] != "ResolvedWarning" || body["resolved"] != true || body["name"] != "SuspiciousIP" || body["instance"] != "203.0.113.9" {
		t.Errorf("recovery payload = %s", resolved.Body)
	}
	alertKey, recoveryKey := fired.Header.Get("Idempotency-Key"), resolved.Header.Get("Idempotency-Key")
	if alertKey == recoveryKey {
		t.Errorf("alert and recovery share the Idempotency-Key %q", alertKey)
	}

	// The delivery log agrees: two deliveries, both delivered, whose IDs
	// are the Idempotency-Keys the endpoint saw.
	var log struct {
		Data []struct{ ID, State, TriggerType string }
	}
	waitFor(t, 10*time.Second, "both deliveries to be logged as delivered", func() bool {
		log.Data = nil
		srv.do("GET", "/api/v1/deliveries?connectionId="+connID, nil, &log)
		return len(log.Data) == 2 && log.Data[0].State == "delivered" && log.Data[1].State == "delivered"
	})
	keys := map[string]string{log.Data[0].ID: log.Data[0].TriggerType, log.Data[1].ID: log.Data[1].TriggerType}
	if keys[alertKey] != "Warning" || keys[recoveryKey] != "ResolvedWarning" {
		t.Errorf("deliveries %+v; the endpoint saw keys %s (alert) and %s (recovery)", log.Data, alertKey, recoveryKey)
	}
	if n := len(dl.Requests()); n != 2 {
		t.Errorf("the Lambda endpoint received %d requests, want 2", n)
	}
}

// checkSigned asserts that a request passed SigV4 verification and that
// its Idempotency-Key was among the signed headers.
func checkSigned(t *testing.T, what string, r devlambda.Request) {
	t.Helper()
	if !r.Verified || r.Method != http.MethodPost {
		t.Errorf("%s: verified=%v method=%s err=%s", what, r.Verified, r.Method, r.Err)
	}
	if r.Header.Get("Idempotency-Key") == "" {
		t.Errorf("%s: no Idempotency-Key header", what)
	}
	if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "idempotency-key") {
		t.Errorf("%s: Idempotency-Key is not signed: %s", what, auth)
	}
}

// alertmanagerFingerprint asks Alertmanager for the fingerprint of the one
// alert it holds.
func alertmanagerFingerprint(t *testing.T, am *alertmanager) string {
	t.Helper()
	resp, err := http.Get(am.url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []struct{ Fingerprint string }
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("alertmanager's alerts: %v %+v", err, alerts)
	}
	return alerts[0].Fingerprint
}
