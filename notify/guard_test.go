package notify_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/netguard"
	"github.com/hookline/hookline/notify"
)

// counted serves 200 and counts the requests that reached it.
func counted(t *testing.T) (url string, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	url = serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"ok":true}`))
	})
	return url, hits
}

func guardedSender(g *netguard.Guard) *notify.Sender {
	s := newSender(5 * time.Second)
	s.Guard = g
	return s
}

// TestGuardRefusesTarget: with a guard, a target on a denied address is
// never reached, by a delivery or by Test Alert; the attempt says why in
// words and is refused for good, not retried.
func TestGuardRefusesTarget(t *testing.T) {
	url, hits := counted(t)
	port := url[strings.LastIndex(url, ":"):]
	const loopback = "the target address 127.0.0.1 is a loopback address, which connections may not reach; start hookline serve with --allow-targets 127.0.0.1/32 or --allow-private-targets"
	tests := []struct {
		name    string
		guard   *netguard.Guard
		url     string
		wantErr string // "" means the target answers 200
	}{
		{"no guard: the library default reaches anything", nil, url, ""},
		{"default guard refuses loopback", &netguard.Guard{}, url, loopback},
		{"the name is checked once resolved", &netguard.Guard{}, "http://localhost" + port, "is a loopback address, which connections may not reach"},
		{"IPv4-mapped form", &netguard.Guard{}, "http://[::ffff:127.0.0.1]" + port, loopback},
		{"metadata named", &netguard.Guard{AllowPrivate: true}, "http://169.254.169.254/latest/meta-data/", "is a cloud metadata address (the instance metadata service of AWS, Google Cloud, Azure and others)"},
		{"allowed range opens it", &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, url, ""},
		{"private targets allowed", &netguard.Guard{AllowPrivate: true}, url, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := guardedSender(tt.guard)
			before := hits.Load()
			for _, send := range []func() (*notify.Attempt, error){
				func() (*notify.Attempt, error) {
					return s.Deliver(context.Background(), webhookConn(tt.url), []byte(`{}`), "delivery-1")
				},
				func() (*notify.Attempt, error) {
					return s.Test(context.Background(), webhookConn(tt.url), hookline.TriggerCritical)
				},
			} {
				a, err := send()
				if err != nil {
					t.Fatal(err)
				}
				if tt.wantErr == "" {
					if a.StatusCode != http.StatusOK || a.Forbidden || notify.Judge(a) != notify.Delivered {
						t.Errorf("attempt = %+v, want 200 delivered", a)
					}
					continue
				}
				if !strings.Contains(a.Error, tt.wantErr) || !a.Forbidden || a.StatusCode != 0 {
					t.Errorf("attempt: status %d, forbidden %v, error %q; want forbidden with error containing %q", a.StatusCode, a.Forbidden, a.Error, tt.wantErr)
				}
				if v := notify.Judge(a); v != notify.Refused {
					t.Errorf("Judge = %s, want refused", v)
				}
			}
			want := before
			if tt.wantErr == "" {
				want += 2
			}
			if got := hits.Load(); got != want {
				t.Errorf("target reached %d times, want %d", got-before, want-before)
			}
		})
	}
}

// TestRedirectNotFollowed: a target allowed by the guard that redirects to
// a private or metadata address, or to another allowed server, is not
// followed; its 3xx is the answer.
func TestRedirectNotFollowed(t *testing.T) {
	other, hits := counted(t)
	allowLoopback := &netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	// Without a guard only a loopback location is tried, so that a broken
	// client would not send anything off this machine.
	tests := []struct {
		location string
		guard    *netguard.Guard
	}{
		{"http://169.254.169.254/latest/meta-data/iam/", allowLoopback},
		{"http://10.0.0.1/", allowLoopback},
		{other + "/elsewhere", allowLoopback},
		{other + "/elsewhere", nil},
	}
	for _, tt := range tests {
		url := serve(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, tt.location, http.StatusFound)
		})
		a, err := guardedSender(tt.guard).Send(context.Background(), webhookConn(url), []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if a.StatusCode != http.StatusFound || a.Error != "" || a.Forbidden {
			t.Errorf("redirect to %s (guard %+v): status %d, error %q; want the 302 itself", tt.location, tt.guard, a.StatusCode, a.Error)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func TestJudgeForbidden(t *testing.T) {
	if v := notify.Judge(&notify.Attempt{Forbidden: true, Error: "refused"}); v != notify.Refused {
		t.Errorf("Judge(forbidden) = %s, want refused", v)
	}
}
