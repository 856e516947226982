package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/webhook"
)

var _ notify.Kind = webhook.Kind{}

type received struct {
	method, path, query string
	header              http.Header
	body                string
}

func server(t *testing.T) (*[]received, string) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []received
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(ts.Close)
	return &got, ts.URL
}

func TestNewRequest(t *testing.T) {
	const body = `{"text":"High CPU on web-1 🚨"}`
	for _, tc := range []struct {
		name    string
		headers []hookline.Header
		secrets map[string]string
		want    map[string]string // header -> value; "" means absent
	}{
		{name: "plain", want: map[string]string{"Content-Type": "application/json", "Authorization": "", "User-Agent": notify.UserAgent}},
		{name: "custom User-Agent overrides",
			headers: []hookline.Header{{Name: "user-agent", Value: "Sumo Logic"}},
			want:    map[string]string{"User-Agent": "Sumo Logic"}},
		{name: "authorization and custom headers",
			headers: []hookline.Header{{Name: "X-Team", Value: "secops"}, {Name: "x-routing-key", Value: "R0UT1NG"}},
			secrets: map[string]string{webhook.FieldAuthorizationHeader: "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
			want: map[string]string{"Content-Type": "application/json", "Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
				"X-Team": "secops", "X-Routing-Key": "R0UT1NG"}},
		{name: "custom Content-Type overrides",
			headers: []hookline.Header{{Name: "content-type", Value: "application/vnd.pagerduty+json"}},
			secrets: map[string]string{webhook.FieldAuthorizationHeader: "Bearer tok3n"},
			want:    map[string]string{"Content-Type": "application/vnd.pagerduty+json", "Authorization": "Bearer tok3n"}},
		{name: "a custom Authorization never goes out",
			headers: []hookline.Header{{Name: "Authorization", Value: "Bearer from-a-header"}},
			want:    map[string]string{"Authorization": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, url := server(t)
			c := &hookline.Connection{Name: "hook", WebhookType: webhook.Type, URL: url + "/hooks/alert?src=hookline",
				CustomHeaders: tc.headers, Secrets: tc.secrets}
			req, err := webhook.Kind{}.NewRequest(context.Background(), c, []byte(body), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			rc, err := req.GetBody()
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(rc); string(b) != body {
				t.Errorf("GetBody read %q", b)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(*got) != 1 {
				t.Fatalf("server got %d requests", len(*got))
			}
			r := (*got)[0]
			if r.method != "POST" || r.path != "/hooks/alert" || r.query != "src=hookline" || r.body != body {
				t.Errorf("got %s %s?%s %q", r.method, r.path, r.query, r.body)
			}
			for h, want := range tc.want {
				if v := strings.Join(r.header.Values(h), ","); v != want {
					t.Errorf("%s = %q, want %q", h, v, want)
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want, problem string
	}{
		{in: "", want: ""},
		{in: "  Bearer abc  \n", want: "Bearer abc"},
		{in: "tok3n-42", want: "tok3n-42"},
		{in: "Basic QWxh\r\nX-Evil: 1", problem: `authorizationHeader: contains control character '\r'`},
		{in: strings.Repeat("a", hookline.MaxHeaderValueLen+1), problem: "authorizationHeader: is 4097 bytes long"},
		{in: " Bearer ", problem: "authorizationHeader: has 6 characters; at least 8 are needed"},
		{in: "s3cr3t!", problem: "authorizationHeader: has 7 characters; at least 8 are needed"},
	} {
		// Registry.Validate hands Normalize non-nil maps.
		c := &hookline.Connection{Settings: map[string]string{}, Secrets: map[string]string{webhook.FieldAuthorizationHeader: tc.in}}
		var p hookline.Problems
		webhook.Kind{}.Normalize(c, &p)
		err := p.Err()
		if tc.problem == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.in, err)
			}
			v, ok := c.Secrets[webhook.FieldAuthorizationHeader]
			if v != tc.want || ok != (tc.want != "") {
				t.Errorf("%q normalized to %q (present %v)", tc.in, v, ok)
			}
			continue
		}
		var he *hookline.Error
		if !errors.As(err, &he) || he.Code != hookline.EINVALID || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.problem)
		}
		if v := strings.TrimSpace(tc.in); strings.Contains(err.Error(), "QWxh") || strings.Contains(err.Error(), v) {
			t.Errorf("the message repeats the secret: %v", err)
		}
	}
}

func TestKind(t *testing.T) {
	k := webhook.Kind{}
	want := []notify.Field{{Name: "authorizationHeader", Label: "Authorization Header", Secret: true,
		Help: k.Fields()[0].Help}}
	if diff := cmp.Diff(want, k.Fields()); diff != "" || k.Fields()[0].Help == "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if k.Type() != "Webhook" || !cmp.Equal(k.OwnedHeaders(), []string{"Authorization"}) {
		t.Errorf("Type %q, OwnedHeaders %v", k.Type(), k.OwnedHeaders())
	}
	// In the registry, Authorization cannot be a custom header.
	c := &hookline.Connection{Name: "n", WebhookType: "Webhook", URL: "https://example.com/", DefaultPayload: "{}",
		CustomHeaders: []hookline.Header{{Name: "authorization", Value: "Basic x"}}}
	_, err := notify.NewRegistry(k).Validate(c)
	if err == nil || !strings.Contains(err.Error(), `customHeaders[0].name: "authorization" is set by the Webhook connection itself`) {
		t.Errorf("error %v", err)
	}
}
