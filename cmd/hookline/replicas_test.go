package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/postgres/pgtest"
)

// buildHookline builds this command into t's temporary directory, for
// tests that run it as separate processes.
func buildHookline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookline")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// arrivals records, by alert name, the Idempotency-Keys and times of every
// request a target received.
type arrivals struct {
	mu   sync.Mutex
	keys map[string][]string
	at   map[string]time.Time // first arrival
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.keys)
}

// TestReplicasShareDeliveries runs three hookline serve processes on one
// PostgreSQL database, posts 10,000 alerts spread over them, kills one
// with SIGKILL halfway, and checks that every accepted alert reaches the
// target: those the killed replica held, taken over by the others once its
// lease lapsed, with any repeat carrying the first arrival's
// Idempotency-Key; those the live replicas held, exactly once, since each
// delivery is attempted by one replica at a time.
func TestReplicasShareDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dbURL := pgtest.NewDatabase(t)
	bin := buildHookline(t)

	// A slow target, so that each replica holds deliveries it has not
	// sent yet when one is killed.
	got := &arrivals{keys: map[string][]string{}, at: map[string]time.Time{}}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p struct{ Seq string }
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("target got %q: %v", body, err)
		}
		time.Sleep(3 * time.Millisecond)
		got.mu.Lock()
		if _, ok := got.at[p.Seq]; !ok {
			got.at[p.Seq] = time.Now()
		}
		got.keys[p.Seq] = append(got.keys[p.Seq], r.Header.Get("Idempotency-Key"))
		got.mu.Unlock()
	}))
	t.Cleanup(target.Close)

	const lease = 3 * time.Second
	type replica struct {
		cmd  *exec.Cmd
		srv  *testServer
		logs *bytes.Buffer
	}
	replicas := make([]*replica, 3)
	for i := range replicas {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--database-url", dbURL, "--data-dir", t.TempDir(), "--addr", addr,
			"--per-connection", "2", "--delivery-lease", lease.String(), "--log-level", "warn",
			"--allow-targets", "127.0.0.1/32", "--api-rate-limit", "0", "--alert-rate-limit", "0")
		cmd.Env = append(os.Environ(), "HOOKLINE_ADMIN_TOKEN="+testToken, "HOOKLINE_MASTER_KEY="+testMasterKey)
		r := &replica{cmd: cmd, srv: &testServer{t: t, url: "http://" + addr}, logs: &bytes.Buffer{}}
		cmd.Stderr = r.logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("replica %d's log:\n%s", i, r.logs)
			}
		})
		waitHealthy(t, r.srv.url)
		replicas[i] = r
	}

	var conn map[string]any
	if code := replicas[0].srv.do("POST", "/api/v1/connections", map[string]any{
		"webhookType": "Webhook", "name": "replicas-target", "url": target.URL,
		"defaultPayload": `{"seq": "{{Name}}"}`,
	}, &conn); code != http.StatusOK {
		t.Fatalf("create connection: %d %v", code, conn)
	}

	const n, batch = 10_000, 100
	accepted := map[string]int{} // alert name → the replica that accepted it
	post := func(first int, r int) {
		var alerts []map[string]any
		for i := first; i < first+batch; i++ {
			alerts = append(alerts, map[string]any{"name": fmt.Sprint(i), "triggerType": "Critical",
				"notifications": []map[string]any{{"connectionId": conn["id"]}}})
		}
		var resp map[string]any
		if code := replicas[r].srv.do("POST", "/api/v1/alerts", map[string]any{"alerts": alerts}, &resp); code != http.StatusAccepted {
			t.Fatalf("post alerts to replica %d: %d %v", r, code, resp)
		}
		for i := first; i < first+batch; i++ {
			accepted[fmt.Sprint(i)] = r
		}
	}
	// The first half over all three, the second over the two that live.
	for first := 0; first < n/2; first += batch {
		post(first, first/batch%3)
	}
	const victim = 1
	if err := replicas[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	replicas[victim].cmd.Wait()
	killedAt := time.Now()
	before := got.count()
	if before >= n/2 {
		t.Fatalf("all %d alerts of the first half arrived before the kill; the test proves nothing", n/2)
	}
	t.Logf("%d of the first %d alerts had arrived when replica %d was killed", before, n/2, victim)
	for first := n / 2; first < n; first += batch {
		post(first, []int{0, 2}[first/batch%2])
	}

	waitUntil(t, "every accepted alert", func() bool { return got.count() >= len(accepted) })
	got.mu.Lock()
	defer got.mu.Unlock()
	var repeats, takenOver int
	for name, r := range accepted {
		keys := got.keys[name]
		if len(keys) == 0 {
			t.Errorf("alert %s, accepted by replica %d, was lost", name, r)
			continue
		}
		for _, k := range keys {
			if k == "" || k != keys[0] {
				t.Errorf("alert %s arrived with keys %q: repeats must carry the same Idempotency-Key", name, keys)
				break
			}
		}
		if r != victim && len(keys) > 1 {
			t.Errorf("alert %s, held by live replica %d, arrived %d times: two replicas attempted it", name, r, len(keys))
		}
		if r == victim {
			repeats += len(keys) - 1
			if got.at[name].After(killedAt) {
				takenOver++
			}
		}
	}
	t.Logf("killed replica's alerts: %d delivered by the others after the kill, %d repeats (each with its first arrival's key)", takenOver, repeats)
	if takenOver == 0 {
		t.Error("no alert of the killed replica arrived after the kill; the test did not see a takeover")
	}
	// Repeats are the attempts the killed replica had in flight, or had
	// made without recording them yet: at most its per-connection limit
	// plus a result batch.
	if repeats > 2+100 {
		t.Errorf("%d repeats, more than the attempts the killed replica could have had unrecorded", repeats)
	}
}
