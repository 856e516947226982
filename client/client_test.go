package client_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/devlambda"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

const testToken = "test-admin-token-0123456789"

// mustServer starts a real Hookline API on 127.0.0.1:0 over a SQLite file
// in a temporary directory, wired as hookline serve wires it, and returns
// its base URL.
func mustServer(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kr, err := keyring.New(key)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "hookline.db"), kr)
	if err != nil {
		tb.Fatal(err)
	}
	registry := notify.NewRegistry(awslambda.Kind{}, webhook.Kind{})
	s := &hookhttp.Server{
		Addr:      "127.0.0.1:0",
		Store:     db,
		Registry:  registry,
		Sender:    &notify.Sender{Registry: registry, Timeout: 5 * time.Second},
		TokenHash: sha256.Sum256([]byte(testToken)),
	}
	if err := s.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			tb.Error(err)
		}
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s.URL()
}

// lambda is a devlambda endpoint accepting the given access key ids and
// secrets, answering 200 with {"ok":true}.
func lambda(tb testing.TB, keys map[string]string) string {
	tb.Helper()
	srv := httptest.NewServer(devlambda.New(devlambda.Config{
		Keys:    keys,
		Respond: func(devlambda.Request) (int, []byte) { return http.StatusOK, []byte(`{"ok":true}`) },
	}))
	tb.Cleanup(srv.Close)
	return srv.URL + "/"
}

func lambdaDef(name, url, keyID, secret string) client.Definition {
	return client.Definition{
		Name:           name,
		WebhookType:    "AWSLambda",
		URL:            url,
		CustomHeaders:  []client.Header{{Name: "X-Env", Value: "test"}},
		DefaultPayload: `{"name": "{{Name}}", "type": "{{TriggerType}}"}`,
		Extra: map[string]any{
			"accessKeyId":     keyID,
			"secretAccessKey": secret,
			"region":          "us-east-1",
			"serviceName":     "lambda",
		},
	}
}

func TestCreateGetUpdateDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := client.New(mustServer(t), testToken)

	tests := []struct {
		name        string
		def         client.Definition
		settings    map[string]string
		secrets     map[string]bool
		wantWarning string
	}{
		{
			name:     "AWSLambda",
			def:      lambdaDef("lambda one", "https://abcdefghij.lambda-url.us-east-1.on.aws/", "AKIDEXAMPLE00001", "secret-one-0123456789"),
			settings: map[string]string{"accessKeyId": "AKIDEXAMPLE00001", "region": "us-east-1", "serviceName": "lambda"},
			secrets:  map[string]bool{"secretAccessKey": true, "sessionToken": false},
		},
		{
			name: "Webhook with a bearer token and an unknown variable",
			def: client.Definition{
				Name:              "chat",
				Description:       "posts to chat",
				WebhookType:       "Webhook",
				URL:               "https://chat.example.com/hook",
				DefaultPayload:    `{"text": "{{Name}} {{NoSuchVariable}}"}`,
				ResolutionPayload: `{"text": "{{Name}} recovered"}`,
				Extra:             map[string]any{"authorizationHeader": "Bearer abcdef"},
			},
			secrets:     map[string]bool{"authorizationHeader": true},
			wantWarning: "NoSuchVariable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created, err := c.CreateConnection(ctx, tt.def)
			if err != nil {
				t.Fatal(err)
			}
			if created.ID == "" || created.CreatedAt.IsZero() || created.CreatedBy == "" {
				t.Errorf("created connection lacks id or times: %+v", created)
			}
			if created.Name != tt.def.Name || created.URL != tt.def.URL || created.WebhookType != tt.def.WebhookType ||
				created.DefaultPayload != tt.def.DefaultPayload || created.ResolutionPayload != tt.def.ResolutionPayload {
				t.Errorf("created = %+v, want the fields of %+v", created, tt.def)
			}
			for name, want := range tt.settings {
				if got := created.Setting(name); got != want {
					t.Errorf("Setting(%q) = %q, want %q", name, got, want)
				}
			}
			if got := created.Secrets(); !cmp.Equal(got, tt.secrets) {
				t.Errorf("Secrets() = %v, want %v", got, tt.secrets)
			}
			for name := range tt.secrets {
				if _, leaked := created.Extra[name]; leaked {
					t.Errorf("the answer carries secret field %q", name)
				}
			}
			if tt.wantWarning != "" && !strings.Contains(strings.Join(created.Warnings, "\n"), tt.wantWarning) {
				t.Errorf("warnings %q do not name %s", created.Warnings, tt.wantWarning)
			}

			got, err := c.GetConnection(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(created, got); diff != "" {
				t.Errorf("GetConnection differs from the created connection (-created +got):\n%s", diff)
			}

			// Edit as the CLI does: the answer back as a definition, one
			// field changed, secrets left out.
			def := got.Definition()
			if _, ok := def.Extra[client.HasField("secretAccessKey")]; ok {
				t.Errorf("Definition() keeps a has* flag: %v", def.Extra)
			}
			def.Description = "changed"
			updated, err := c.UpdateConnection(ctx, got.ID, def)
			if err != nil {
				t.Fatal(err)
			}
			if updated.Description != "changed" || updated.ID != got.ID || !updated.CreatedAt.Equal(got.CreatedAt) {
				t.Errorf("updated = %+v", updated)
			}
			if diff := cmp.Diff(tt.secrets, updated.Secrets()); diff != "" {
				t.Errorf("secrets after an update that left them out (-want +got):\n%s", diff)
			}

			if err := c.DeleteConnection(ctx, got.ID); err != nil {
				t.Fatal(err)
			}
			_, err = c.GetConnection(ctx, got.ID)
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != "not_found" {
				t.Errorf("GetConnection after delete: %v, want a 404 not_found *APIError", err)
			}
		})
	}
}

func TestListConnectionsPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := client.New(mustServer(t), testToken)

	all, err := c.AllConnections(ctx)
	if err != nil || len(all) != 0 {
		t.Fatalf("AllConnections on an empty server = %v, %v; want none", all, err)
	}
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("hook %d", 4-i) // created out of order: the API sorts by name
		def := client.Definition{Name: name, URL: fmt.Sprintf("https://example.com/%d", i), DefaultPayload: `{"a": "{{Name}}"}`}
		if _, err := c.CreateConnection(ctx, def); err != nil {
			t.Fatal(err)
		}
		want = append([]string{name}, want...)
	}

	page, err := c.ListConnections(ctx, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Next == "" {
		t.Fatalf("first page of 2 = %d connections, next %q", len(page.Data), page.Next)
	}
	var paged []string
	for token := ""; ; {
		page, err := c.ListConnections(ctx, 2, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, conn := range page.Data {
			paged = append(paged, conn.Name)
		}
		if page.Next == "" {
			break
		}
		token = page.Next
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("names over pages of 2 (-want +got):\n%s", diff)
	}

	all, err = c.AllConnections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, conn := range all {
		names = append(names, conn.Name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("AllConnections names (-want +got):\n%s", diff)
	}

	_, err = c.ListConnections(ctx, 5000, "")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || len(ae.FieldErrors()) != 1 || ae.FieldErrors()[0].Field != "limit" {
		t.Errorf("limit 5000: %v, want a 400 naming limit", err)
	}
}

// TestConnectionRoundTrip checks that an answer decoded and encoded again
// is the answer the server sent, field for field, unknown fields included.
func TestConnectionRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := mustServer(t)
	c := client.New(base, testToken)
	created, err := c.CreateConnection(ctx, lambdaDef("round trip", "http://127.0.0.1:9/", "AKIDEXAMPLE00002", "secret-two-0123456789"))
	if err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/connections/"+created.ID, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	assertRoundTrip(t, raw)

	// Fields no server sends today, of every JSON kind, and a number that
	// float64 would round.
	assertRoundTrip(t, []byte(`{"type":"WebhookConnection","id":"x","name":"n","description":"","webhookType":"Future",
		"url":"https://example.com/","headers":[],"customHeaders":[],"defaultPayload":"{}","resolutionPayload":"",
		"createdAt":"2025-01-02T03:04:05Z","createdBy":"admin","modifiedAt":"2025-01-02T03:04:06Z","modifiedBy":"admin",
		"big":12345678901234567890,"nested":{"a":[1,true,null,"s"]},"hasApiKey":false,"tier":"gold"}`))
}

func assertRoundTrip(t *testing.T, raw []byte) {
	t.Helper()
	var conn client.Connection
	if err := json.Unmarshal(raw, &conn); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(conn)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer after decode and encode (-sent +encoded):\n%s", diff)
	}
	if strings.Contains(string(raw), "12345678901234567890") && !strings.Contains(string(again), "12345678901234567890") {
		t.Errorf("a large number lost precision: %s", again)
	}
}

func TestDefinitionJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    client.Definition
		wantErr string
	}{
		{
			name: "fields and extra",
			in:   `{"type":"WebhookDefinition","name":"n","url":"https://x/","defaultPayload":"{}","region":"us-east-1","n":1.5}`,
			want: client.Definition{Name: "n", URL: "https://x/", DefaultPayload: "{}",
				Extra: map[string]any{"region": "us-east-1", "n": json.Number("1.5")}},
		},
		{
			name: "null fields are empty",
			in:   `{"name":null,"customHeaders":null}`,
			want: client.Definition{},
		},
		{
			name:    "name must be a string",
			in:      `{"name": 5}`,
			wantErr: `field "name" must be a string, not a number`,
		},
		{
			name:    "headers must be a list",
			in:      `{"customHeaders": {"X": "y"}}`,
			wantErr: `field "customHeaders" must be a list`,
		},
		{
			name:    "not an object",
			in:      `[1]`,
			wantErr: "cannot unmarshal array",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d client.Definition
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, d); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}

	// Encoding always names the request type and lets struct fields win
	// over Extra.
	b, err := json.Marshal(client.Definition{Name: "real", Extra: map[string]any{"name": "shadow", "region": "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["type"] != "WebhookDefinition" || m["name"] != "real" || m["region"] != "eu-west-1" {
		t.Errorf("encoded definition = %s", b)
	}
	if _, ok := m["webhookType"]; ok {
		t.Errorf("an empty webhookType is sent: %s", b)
	}
}

func TestTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := client.New(mustServer(t), testToken)
	// The bad connection's key id is known to the target, with another
	// secret than the one the connection signs with.
	target := lambda(t, map[string]string{
		"AKIDEXAMPLE00010": "right-secret-0123456789",
		"AKIDEXAMPLE00011": "other-secret-0123456789",
	})
	good, err := c.CreateConnection(ctx, lambdaDef("good", target, "AKIDEXAMPLE00010", "right-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := c.CreateConnection(ctx, lambdaDef("bad", target, "AKIDEXAMPLE00011", "wrong-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		run       func() (client.TestResult, error)
		wantAlert int // 0: no alert test
		wantRecov int // 0: no recovery test
	}{
		{"stored, default alert", func() (client.TestResult, error) { return c.TestConnection(ctx, good.ID, nil) }, 200, 0},
		{"stored, both", func() (client.TestResult, error) {
			return c.TestConnection(ctx, good.ID, []string{client.TestAlert, client.TestResolution})
		}, 200, 200},
		{"stored, recovery only", func() (client.TestResult, error) {
			return c.TestConnection(ctx, good.ID, []string{client.TestResolution})
		}, 0, 200},
		{"wrong secret", func() (client.TestResult, error) { return c.TestConnection(ctx, bad.ID, nil) }, 403, 0},
		{"unsaved with all fields", func() (client.TestResult, error) {
			return c.TestDefinition(ctx, lambdaDef("unsaved", target, "AKIDEXAMPLE00010", "right-secret-0123456789"), "", nil)
		}, 200, 0},
		{"edit of a stored one, secret from the store", func() (client.TestResult, error) {
			def := good.Definition()
			def.DefaultPayload = `{"edited": true}`
			return c.TestDefinition(ctx, def, good.ID, nil)
		}, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.run()
			if err != nil {
				t.Fatal(err)
			}
			check := func(label string, a *client.Attempt, want int) {
				t.Helper()
				switch {
				case want == 0 && a != nil:
					t.Errorf("%s ran: %+v", label, a)
				case want != 0 && a == nil:
					t.Errorf("%s did not run", label)
				case want != 0 && a.StatusCode != want:
					t.Errorf("%s status = %d (%s), want %d", label, a.StatusCode, a.ResponseContent, want)
				case want != 0 && (a.Request.Method != http.MethodPost || a.Request.Body == ""):
					t.Errorf("%s request not reported: %+v", label, a.Request)
				}
			}
			check("alert", r.Alert, tt.wantAlert)
			check("recovery", r.Resolution, tt.wantRecov)
			wantOK := (tt.wantAlert == 0 || tt.wantAlert == 200) && (tt.wantRecov == 0 || tt.wantRecov == 200)
			if r.OK() != wantOK {
				t.Errorf("OK() = %v, want %v", r.OK(), wantOK)
			}
			if raw, _ := json.Marshal(r); strings.Contains(string(raw), "secret-0123456789") {
				t.Errorf("a secret leaked into the test result: %s", raw)
			}
		})
	}
	r, err := c.TestConnection(ctx, bad.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Alert.ResponseContent, "signature we calculated does not match") {
		t.Errorf("403 content = %q, want AWS's signature message", r.Alert.ResponseContent)
	}

	_, err = c.TestConnection(ctx, good.ID, []string{"bogus"})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Error(), "functionalities") {
		t.Errorf("bogus functionality: %v", err)
	}
}

func TestConnectionTypes(t *testing.T) {
	t.Parallel()
	types, err := client.New(mustServer(t), testToken).ConnectionTypes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	secret := map[string]bool{}
	for _, ct := range types {
		for _, f := range ct.Fields {
			secret[ct.WebhookType+"."+f.Name] = f.Secret
		}
	}
	for field, want := range map[string]bool{
		"AWSLambda.accessKeyId": false, "AWSLambda.secretAccessKey": true, "AWSLambda.region": false,
		"Webhook.authorizationHeader": true,
	} {
		if got, ok := secret[field]; !ok || got != want {
			t.Errorf("field %s: present %v, secret %v; want secret %v", field, ok, got, want)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := mustServer(t)
	c := client.New(base, testToken)

	// A proxy in front of the server answers with its own page.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html>upstream is down</html>")
	}))
	t.Cleanup(proxy.Close)

	tests := []struct {
		name       string
		call       func() error
		wantStatus int
		wantCode   string
		wantFields []string
		wantError  string // the whole of Error() after the operation's prefix
	}{
		{
			name: "invalid definition",
			call: func() error {
				_, err := c.CreateConnection(ctx, client.Definition{Name: "x", URL: "ftp://example.com", DefaultPayload: "{}",
					CustomHeaders: []client.Header{{Name: "Bad Name", Value: "v"}}})
				return err
			},
			wantStatus: 400, wantCode: "invalid",
			wantFields: []string{"url", "customHeaders[0].name"},
			wantError:  `400 invalid: url: must start with https:// or http://, not "ftp:"; customHeaders[0].name: is not a valid HTTP header name: character ' ' at position 4 is not allowed (a name is letters, digits and !#$%&'*+-.^_` + "`" + `|~)`,
		},
		{
			name:       "unknown ID",
			call:       func() error { _, err := c.GetConnection(ctx, "no-such-id"); return err },
			wantStatus: 404, wantCode: "not_found",
		},
		{
			name:       "wrong token",
			call:       func() error { _, err := client.New(base, "wrong-token-000000").AllConnections(ctx); return err },
			wantStatus: 401, wantCode: "unauthorized",
			wantError: "401 unauthorized: The token is not valid.",
		},
		{
			name:       "no token",
			call:       func() error { _, err := client.New(base, "").ConnectionTypes(ctx); return err },
			wantStatus: 401, wantCode: "unauthorized",
		},
		{
			name:       "a proxy's error page",
			call:       func() error { _, err := client.New(proxy.URL, testToken).AllConnections(ctx); return err },
			wantStatus: 502,
			wantError:  "502: <html>upstream is down</html>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v (%T), want an *APIError", err, err)
			}
			if ae.Status != tt.wantStatus || ae.Code != tt.wantCode {
				t.Errorf("status, code = %d, %q; want %d, %q", ae.Status, ae.Code, tt.wantStatus, tt.wantCode)
			}
			var fields []string
			for _, f := range ae.FieldErrors() {
				fields = append(fields, f.Field)
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if tt.wantError != "" && ae.Error() != tt.wantError {
				t.Errorf("Error() = %q\nwant      %q", ae.Error(), tt.wantError)
			}
			if ae.Message == "" {
				t.Error("Message is empty")
			}
		})
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []*http.Request
	)
	next := `"again"`
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/slow"):
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case r.URL.Path == "/prefix/api/v1/connections":
			fmt.Fprintf(w, `{"data": [], "next": %s}`, next)
		case r.URL.Path == "/plain/api/v1/connections":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>not the API</html>")
		default:
			fmt.Fprint(w, `{}`)
		}
	}))
	t.Cleanup(fake.Close)
	ctx := context.Background()

	c := client.New(fake.URL+"/prefix/", "tok-123", client.WithUserAgent("ua-test/1"))
	if _, err := c.AllConnections(ctx); err == nil || !strings.Contains(err.Error(), `page token "again" twice`) {
		t.Errorf("AllConnections over a looping server: %v", err)
	}
	if _, err := c.GetConnection(ctx, "a/b c"); err != nil {
		t.Errorf("GetConnection: %v", err)
	}
	mu.Lock()
	r := seen[len(seen)-1]
	first := seen[0]
	mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Bearer tok-123" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("User-Agent"); got != "ua-test/1" {
		t.Errorf("User-Agent = %q", got)
	}
	if got := r.URL.EscapedPath(); got != "/prefix/api/v1/connections/a%2Fb%20c" {
		t.Errorf("path = %q, want the ID escaped as one segment under the prefix", got)
	}
	if first.URL.RawQuery != "" {
		t.Errorf("first page query = %q, want none", first.URL.RawQuery)
	}

	if _, err := client.New(fake.URL+"/plain", "t").AllConnections(ctx); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("a non-JSON 200: %v", err)
	}

	// Every call is bounded: by the context, and by the HTTP client.
	slow := client.New(fake.URL+"/slow-prefix", "t")
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := slow.GetConnection(cctx, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("call past the context deadline: %v", err)
	}
	quick := client.New(fake.URL, "t", client.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	start := time.Now()
	if _, err := quick.GetConnection(ctx, "slow"); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("call past the client timeout: %v after %s", err, time.Since(start))
	}

	for _, tt := range []struct {
		name string
		call func(*client.Client) error
	}{
		{"get", func(c *client.Client) error { _, err := c.GetConnection(ctx, ""); return err }},
		{"update", func(c *client.Client) error { _, err := c.UpdateConnection(ctx, "", client.Definition{}); return err }},
		{"delete", func(c *client.Client) error { return c.DeleteConnection(ctx, "") }},
		{"test", func(c *client.Client) error { _, err := c.TestConnection(ctx, "", nil); return err }},
	} {
		mu.Lock()
		before := len(seen)
		mu.Unlock()
		if err := tt.call(c); err == nil || !strings.Contains(err.Error(), "connection ID is empty") {
			t.Errorf("%s with an empty ID: %v", tt.name, err)
		}
		mu.Lock()
		if len(seen) != before {
			t.Errorf("%s with an empty ID sent a request", tt.name)
		}
		mu.Unlock()
	}

	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://host", "http://"} {
		if _, err := client.New(bad, "t").AllConnections(ctx); err == nil || !strings.Contains(err.Error(), "server URL") {
			t.Errorf("base URL %q: %v, want a server URL error", bad, err)
		}
	}
}
