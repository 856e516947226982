package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCrashLosesNothing runs hookline serve as a separate process, kills it
// with SIGKILL while deliveries are in flight, starts it again on the same
// data directory, and checks that every alert the API accepted reaches the
// target, and that repeats carry the same Idempotency-Key.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildHookline(t)
	dataDir := t.TempDir()

	// The target answers slowly, so that many deliveries are in flight
	// when the server dies.
	var mu sync.Mutex
	keys := map[string][]string{} // alert name → Idempotency-Keys of its arrivals
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p struct{ Seq string }
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("target got %q: %v", body, err)
		}
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		keys[p.Seq] = append(keys[p.Seq], r.Header.Get("Idempotency-Key"))
		mu.Unlock()
	}))
	t.Cleanup(target.Close)

	addr := freeAddr(t)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--data-dir", dataDir, "--addr", addr, "--per-connection", "16", "--log-level", "warn",
			"--allow-targets", "127.0.0.1/32")
		cmd.Env = append(os.Environ(), "HOOKLINE_ADMIN_TOKEN="+testToken)
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitHealthy(t, "http://"+addr)
		return cmd
	}
	srv := &testServer{t: t, url: "http://" + addr}
	proc := start()

	var conn map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "Webhook", "name": "crash-target", "url": target.URL,
		"defaultPayload": `{"seq": "{{Name}}"}`,
	}, &conn); code != http.StatusOK {
		t.Fatalf("create connection: %d %v", code, conn)
	}

	const n = 2000
	accepted := map[string]bool{}
	for first := 0; first < n; first += 100 {
		var alerts []map[string]any
		for i := first; i < first+100; i++ {
			alerts = append(alerts, map[string]any{"name": fmt.Sprint(i), "triggerType": "Critical",
				"notifications": []map[string]any{{"connectionId": conn["id"]}}})
		}
		var resp map[string]any
		if code := srv.do("POST", "/api/v1/alerts", map[string]any{"alerts": alerts}, &resp); code != http.StatusAccepted {
			t.Fatalf("post alerts: %d %v", code, resp)
		}
		for i := first; i < first+100; i++ {
			accepted[fmt.Sprint(i)] = true
		}
	}
	// Kill it while the target still has deliveries to receive.
	waitUntil(t, "some deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(keys) > 50 })
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()
	mu.Lock()
	before := len(keys)
	mu.Unlock()
	if before >= n {
		t.Fatalf("all %d alerts arrived before the kill; the test proves nothing", n)
	}
	t.Logf("%d of %d alerts had arrived when the server was killed", before, n)

	start()
	waitUntil(t, "every accepted alert", func() bool { mu.Lock(); defer mu.Unlock(); return len(keys) >= len(accepted) })
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for name := range accepted {
		ks := keys[name]
		if len(ks) == 0 {
			t.Errorf("alert %s was lost", name)
			continue
		}
		for _, k := range ks {
			if k == "" || k != ks[0] {
				t.Errorf("alert %s arrived with keys %q: repeats must carry the same Idempotency-Key", name, ks)
				break
			}
		}
		dups += len(ks) - 1
	}
	t.Logf("after the restart: %d alerts, %d repeats (each with its first arrival's key)", len(keys), dups)
	// Repeats are bounded by what was in flight at the kill.
	if dups > 16+100 {
		t.Errorf("%d repeats, more than the attempts that could have been in flight", dups)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	waitUntil(t, url+" to answer", func() bool {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
