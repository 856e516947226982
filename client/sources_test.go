package client_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/client"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/sqlite"
)

// sourceServer starts the API with the receiver and the Sources API over
// a real SQLite file.
func sourceServer(t *testing.T) string {
	t.Helper()
	kr, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookline.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	reg := notify.NewRegistry(webhook.Kind{})
	s := &hookhttp.Server{Addr: "127.0.0.1:0", Store: db, Registry: reg, Sender: &notify.Sender{Registry: reg},
		TokenHash: sha256.Sum256([]byte(testToken)), Logs: db}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close(context.Background())
		db.Close()
	})
	return s.URL()
}

func TestSources(t *testing.T) {
	ctx := context.Background()
	url := sourceServer(t)
	c := client.New(url, testToken)

	src, err := c.CreateSource(ctx, client.SourceInput{Name: "web", Category: "prod/web"})
	if err != nil {
		t.Fatal(err)
	}
	if src.Token == "" || src.URL != url+client.ReceiverPath+src.Token || strings.Contains(src.String(), src.Token) {
		t.Errorf("created %#v with token %q, URL %q", src, src.Token, src.URL)
	}
	res, err := c.SendLogs(ctx, src.Token, []byte("one\ntwo\n"), client.SendOptions{Category: "prod/other", Gzip: true})
	if err != nil || res.Accepted != 2 {
		t.Fatalf("SendLogs: %+v, %v", res, err)
	}
	got, err := c.Source(ctx, src.ID)
	if err != nil || got.Received != 2 || got.Token != "" {
		t.Errorf("Source: %+v, %v", got, err)
	}
	in := got.Input()
	in.HostName = "edge-1"
	if up, err := c.UpdateSource(ctx, src.ID, in); err != nil || up.HostName != "edge-1" || up.Category != "prod/web" {
		t.Errorf("UpdateSource: %+v, %v", up, err)
	}
	rot, err := c.RotateSourceToken(ctx, src.ID)
	if err != nil || rot.Token == "" || rot.Token == src.Token {
		t.Fatalf("RotateSourceToken: %+v, %v", rot, err)
	}
	_, err = c.SendLogs(ctx, src.Token, []byte("old\n"), client.SendOptions{})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || strings.Contains(err.Error(), src.Token) {
		t.Errorf("SendLogs with the old token: %v", err)
	}
	all, err := c.AllSources(ctx)
	if err != nil || len(all) != 1 || all[0].ID != src.ID {
		t.Errorf("AllSources: %+v, %v", all, err)
	}
	if err := c.DeleteSource(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Source(ctx, src.ID); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("Source after DeleteSource: %v", err)
	}
	for _, err := range []error{
		func() error { _, err := c.Source(ctx, ""); return err }(),
		func() error { _, err := c.RotateSourceToken(ctx, ""); return err }(),
		func() error { _, err := c.SendLogs(ctx, "", nil, client.SendOptions{}); return err }(),
	} {
		if err == nil {
			t.Error("a call without an ID or token succeeded")
		}
	}
}

// SendLogs sends the token in the path and no other credential: the
// client's access key is not the receiver's business. A failure to
// connect does not show the token.
func TestSendLogsSendsOnlyTheToken(t *testing.T) {
	var (
		mu   sync.Mutex
		seen *http.Request
		body string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen, body = r, string(b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"accepted": 1, "truncated": 0}`)
	}))
	defer srv.Close()
	c := client.New(srv.URL+"/prefix", "admin-token", client.WithAccessKey("hkID", "KEY"))
	res, err := c.SendLogs(context.Background(), "hls_tok", []byte("line\n"), client.SendOptions{Host: "h-1", Name: "n"})
	if err != nil || res.Accepted != 1 {
		t.Fatalf("SendLogs: %+v, %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen.URL.Path != "/prefix/receiver/v1/http/hls_tok" || seen.Header.Get("Authorization") != "" || body != "line\n" ||
		seen.Header.Get("X-Sumo-Host") != "h-1" || seen.Header.Get("X-Sumo-Name") != "n" || seen.Header.Values("X-Sumo-Category") != nil {
		t.Errorf("request: %s %v %q", seen.URL.Path, seen.Header, body)
	}

	down := client.New("http://127.0.0.1:1", "", client.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}))
	_, err = down.SendLogs(context.Background(), "hls_secret_token", []byte("x\n"), client.SendOptions{})
	if err == nil || strings.Contains(err.Error(), "hls_secret_token") {
		t.Errorf("SendLogs to nowhere: %v", err)
	}
}
