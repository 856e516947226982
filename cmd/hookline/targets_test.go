package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// allowLoopback opens 127.0.0.1, where every test's targets listen, in the
// servers the tests start; hookline serve refuses it by default.
var allowLoopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

const loopbackRefusal = "the target address 127.0.0.1 is a loopback address, which connections may not reach; start hookline serve with --allow-targets 127.0.0.1/32 or --allow-private-targets"

func TestConfigGuardDefault(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	for name, c := range map[string]Config{"DefaultConfig": DefaultConfig(), "zero Config": {}} {
		if err := c.guard().Check(lo); err == nil || err.Error() != loopbackRefusal {
			t.Errorf("%s: 127.0.0.1 = %v, want refused", name, err)
		}
		if err := c.guard().Check(netip.MustParseAddr("203.0.113.7")); err != nil {
			t.Errorf("%s: a public address is refused: %v", name, err)
		}
	}
}

// TestServeGuardsTargets runs the serve command with its flags against a
// webhook on 127.0.0.1: by default Test Alert answers why the address is
// refused and a delivery fails after one attempt, the target never
// reached; --allow-targets and --allow-private-targets open it.
func TestServeGuardsTargets(t *testing.T) {
	t.Setenv("HOOKLINE_ADMIN_TOKEN", testToken)
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(target.Close)

	tests := []struct {
		name    string
		args    []string
		refused bool
	}{
		{"default", nil, true},
		{"another range allowed", []string{"--allow-targets", "127.0.0.2/32,10.0.0.0/8"}, true},
		{"allow-targets", []string{"--allow-targets", "10.0.0.0/8,127.0.0.1/32"}, false},
		{"allow-targets, an address alone", []string{"--allow-targets", "127.0.0.1"}, false},
		{"allow-private-targets", []string{"--allow-private-targets"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serveCommand(t, tt.args...)
			before := hits.Load()
			var conn map[string]any
			if code := srv.do("POST", "/api/v1/connections", map[string]any{
				"webhookType": "Webhook", "name": "local", "url": target.URL + "/hook", "defaultPayload": `{"n": "{{Name}}"}`,
			}, &conn); code != http.StatusOK {
				t.Fatalf("create: %d %v", code, conn)
			}
			id := conn["id"].(string)

			var test struct {
				AlertStatusCode      *int
				AlertResponseContent *string
			}
			if code := srv.do("POST", "/api/v1/connections/"+id+"/test?functionalities=alert", nil, &test); code != http.StatusOK {
				t.Fatalf("test: %d", code)
			}
			wantStatus, wantContent := http.StatusOK, `{"ok":true}`
			if tt.refused {
				wantStatus, wantContent = 0, loopbackRefusal
			}
			if test.AlertStatusCode == nil || *test.AlertStatusCode != wantStatus || test.AlertResponseContent == nil || *test.AlertResponseContent != wantContent {
				t.Errorf("Test Alert answered %v %q, want %d %q", deref(test.AlertStatusCode), deref(test.AlertResponseContent), wantStatus, wantContent)
			}

			var accepted map[string]any
			if code := srv.do("POST", "/api/v1/alerts", map[string]any{"name": "x", "triggerType": "Critical",
				"notifications": []map[string]any{{"connectionId": id}}}, &accepted); code != http.StatusAccepted {
				t.Fatalf("alert: %d %v", code, accepted)
			}
			var list struct {
				Data []struct {
					ID, State, LastError string
					Attempts             int
				}
			}
			waitUntil(t, "the delivery's first attempt", func() bool {
				srv.do("GET", "/api/v1/deliveries?connectionId="+id, nil, &list)
				return len(list.Data) == 1 && list.Data[0].Attempts > 0
			})
			d := list.Data[0]
			wantState, wantError := "delivered", ""
			if tt.refused {
				wantState, wantError = "failed", loopbackRefusal
			}
			if d.State != wantState || d.Attempts != 1 || d.LastError != wantError {
				t.Errorf("delivery: %s after %d attempts, last error %q; want %s after 1, %q", d.State, d.Attempts, d.LastError, wantState, wantError)
			}
			if tt.refused {
				var detail struct {
					Attempts []struct {
						StatusCode int
						Error      string
					}
				}
				srv.do("GET", "/api/v1/deliveries/"+d.ID, nil, &detail)
				if len(detail.Attempts) != 1 || detail.Attempts[0].StatusCode != 0 || detail.Attempts[0].Error != loopbackRefusal {
					t.Errorf("attempt log = %+v, want one attempt with the refusal", detail.Attempts)
				}
			}
			wantHits := int32(2) // Test Alert and the delivery
			if tt.refused {
				wantHits = 0
			}
			if got := hits.Load() - before; got != wantHits {
				t.Errorf("the target was reached %d times, want %d", got, wantHits)
			}
		})
	}
}

func TestServeInvalidAllowTargets(t *testing.T) {
	for _, arg := range []string{"10.0.0.0/33", "127.0.0.1/32,localhost"} {
		dir := filepath.Join(t.TempDir(), "data")
		r := runCLI(t, "", "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--allow-targets", arg)
		bad := arg[strings.LastIndex(arg, ",")+1:]
		if r.code != 1 || !strings.Contains(r.stderr, `Error: --allow-targets: "`+bad+`" is`) || !strings.Contains(r.stderr, "CIDR range such as 127.0.0.1/32") {
			t.Errorf("--allow-targets %s: exit %d, stderr %q; want a clear error", arg, r.code, r.stderr)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("--allow-targets %s: the data directory was created before the flag was checked", arg)
		}
	}
}

// serveCommand runs "hookline serve" with args in this process until the
// test ends.
func serveCommand(t *testing.T, args ...string) *testServer {
	t.Helper()
	addr := freeAddr(t)
	logs := &syncBuffer{}
	root := newRootCmd(strings.NewReader(""), logs, logs)
	root.SetArgs(append([]string{"serve", "--data-dir", t.TempDir(), "--addr", addr}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, logs)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	waitHealthy(t, "http://"+addr)
	return &testServer{t: t, url: "http://" + addr, logs: logs}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
