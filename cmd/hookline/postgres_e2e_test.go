package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/postgres/pgtest"
)

// TestMain gives the package's tests a private PostgreSQL cluster
// (pgtest.Main); tests that do not ask for a database never touch it.
func TestMain(m *testing.M) { pgtest.Main(m) }

// testMasterKey lets servers with different data directories open one
// PostgreSQL database's secrets.
var testMasterKey = strings.Repeat("5a", 32)

// startServerOn runs the whole program on the PostgreSQL database at url,
// its schedulers on c.
func startServerOn(t *testing.T, url string, c clock.Clock) (*testServer, error) {
	t.Helper()
	logs := &syncBuffer{}
	m := &Main{
		Config: Config{DataDir: t.TempDir(), DatabaseURL: url, MasterKey: testMasterKey, Addr: "127.0.0.1:0",
			AdminToken: testToken, LogFormat: "json", LogLevel: slog.LevelDebug, AllowTargets: allowLoopback,
			SchedulerClock: c},
		Stderr: logs,
	}
	if err := m.Run(context.Background()); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &testServer{t: t, main: m, url: m.Server.URL(), logs: logs}, nil
}

// TestPostgresEndToEnd runs hookline serve --database-url on a real
// PostgreSQL, as two replicas on one database with their schedulers on
// one clock: an alert reaches the SigV4-checking endpoint once; log lines
// sent to one replica reach a source, and a scheduled search over them
// runs once and notifies once; and a server started on the database after
// both stopped finds everything.
func TestPostgresEndToEnd(t *testing.T) {
	url := pgtest.NewDatabase(t)
	fake := clock.NewFake(time.Now())
	srv, err := startServerOn(t, url, fake)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	second, err := startServerOn(t, url, fake)
	if err != nil {
		t.Fatalf("start a second replica: %v", err)
	}
	// Access changes take the access lock while the servers hold theirs.
	var user map[string]any
	if code := second.do("POST", "/api/v1/users", map[string]any{"email": "ops@example.com", "roleIds": []any{hookline.AdministratorRoleID}}, &user); code != http.StatusCreated {
		t.Fatalf("create a user on the second replica: %d %v", code, user)
	}
	dl, lambdaURL := startLambda(t, "lambda")

	var conn map[string]any
	if code := srv.do("POST", "/api/v1/connections", map[string]any{
		"type": "WebhookDefinition", "webhookType": "AWSLambda", "name": "waf-lambda",
		"url": lambdaURL + "/", "accessKeyId": testKeyID, "secretAccessKey": testSecret, "region": "us-east-1",
		"serviceName": "lambda", "defaultPayload": `{"name": "{{Name}}", "n": {{NumQueryResults}}}`,
	}, &conn); code != http.StatusOK {
		t.Fatalf("create connection: %d %v", code, conn)
	}
	var accepted map[string]any
	if code := srv.do("POST", "/api/v1/alerts", map[string]any{
		"name": "From a script", "triggerType": "Critical", "notifications": []any{map[string]any{"connectionId": conn["id"]}},
	}, &accepted); code != http.StatusAccepted {
		t.Fatalf("post alert: %d %v", code, accepted)
	}
	reqs := waitRequests(t, fake, dl, 1)
	if body := lambdaBody(t, reqs[0]); !reqs[0].Verified || body["name"] != "From a script" {
		t.Fatalf("alert request: verified=%v err=%s body=%v", reqs[0].Verified, reqs[0].Err, body)
	}

	var src map[string]any
	if code := srv.do("POST", "/api/v1/sources", map[string]any{"name": "web", "category": "prod/web"}, &src); code != http.StatusCreated {
		t.Fatalf("create source: %d %v", code, src)
	}
	var search map[string]any
	if code := srv.do("POST", "/api/v1/scheduledSearches", map[string]any{
		"name": "Logins", "query": `_sourceCategory=prod/web POST /login`,
		"scheduleType": "Custom", "cronExpression": "*/5 * * * *", "timeRange": "5m",
		"threshold":    map[string]any{"operator": "ge", "count": 3},
		"notification": map[string]any{"connectionId": conn["id"]},
	}, &search); code != http.StatusCreated {
		t.Fatalf("create scheduled search: %d %v", code, search)
	}
	var lines strings.Builder
	for i := range 4 {
		fmt.Fprintf(&lines, "POST /login user=%d from 203.0.113.7\n", i)
	}
	lines.WriteString("GET / from 198.51.100.1\n")
	if code := postLines(t, src["url"].(string), lines.String()); code != http.StatusOK {
		t.Fatalf("send lines: %d", code)
	}
	run := time.Now().Truncate(5 * time.Minute).Add(5 * time.Minute)
	fake.Advance(run.Sub(fake.Now()) + time.Second)
	reqs = waitRequests(t, fake, dl, 2)
	if body := lambdaBody(t, reqs[1]); body["name"] != "Logins" || body["n"] != 4.0 {
		t.Fatalf("search alert: %v", body)
	}
	waitSearchRun(t, fake, second, search["id"].(string), run)
	// Both replicas polled at the run's time; one ran it. Another run,
	// or another attempt of the alert, would arrive at once.
	time.Sleep(200 * time.Millisecond)
	if reqs := dl.Requests(); len(reqs) != 2 {
		t.Fatalf("the endpoint received %d requests from two replicas, want 2 (the alert, the search's run): %+v", len(reqs), reqs)
	}

	// Stop both; the next server on the database has it all.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range []*testServer{srv, second} {
		if err := s.main.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	next, err := startServerOn(t, url, nil)
	if err != nil {
		t.Fatalf("start the next server: %v", err)
	}
	var list struct{ Data []map[string]any }
	if code := next.do("GET", "/api/v1/alerts", nil, &list); code != http.StatusOK || len(list.Data) != 2 {
		t.Fatalf("alerts after a restart: %d %v", code, list.Data)
	}
	var got map[string]any
	if code := next.do("POST", "/api/v1/connections/"+conn["id"].(string)+"/test", nil, &got); code != http.StatusOK {
		t.Fatalf("test the stored connection (its secret sealed by the first server): %d %v", code, got)
	}
}

// TestReplicasStartTogether starts three servers at once on a new
// database, each told to create the first administrator: all start, and
// one user exists.
func TestReplicasStartTogether(t *testing.T) {
	url := pgtest.NewDatabase(t)
	mains := make([]*Main, 3)
	errs := make(chan error, len(mains))
	for i := range mains {
		mains[i] = &Main{
			Config: Config{DataDir: t.TempDir(), DatabaseURL: url, MasterKey: testMasterKey, Addr: "127.0.0.1:0",
				AdminEmail: "admin@example.com", AdminPassword: "correct horse battery", LogFormat: "text"},
			Stderr: io.Discard,
		}
		go func() { errs <- mains[i].Run(context.Background()) }()
	}
	for range mains {
		if err := <-errs; err != nil {
			t.Errorf("a replica did not start: %v", err)
		}
	}
	for _, m := range mains {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m.Close(ctx)
		})
	}
	if t.Failed() {
		return
	}
	if n, err := mains[0].DB.CountUsers(t.Context()); err != nil || n != 1 {
		t.Fatalf("users after three starts: %d, %v; want 1", n, err)
	}
}

// TestSetupLinkOnAnyReplica: two replicas of a new database each print a
// setup link; one printed by a replica that stopped no longer works, and
// one printed by a running replica works on the other, once.
func TestSetupLinkOnAnyReplica(t *testing.T) {
	url := pgtest.NewDatabase(t)
	start := func() (*Main, string) {
		var out syncBuffer
		m := &Main{Config: Config{DataDir: t.TempDir(), DatabaseURL: url, MasterKey: testMasterKey, Addr: "127.0.0.1:0", LogFormat: "text"}, Stderr: &out}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(context.Background()) })
		_, after, ok := strings.Cut(out.String(), m.Server.URL()+"/setup?token=")
		if !ok {
			t.Fatalf("no setup link printed:\n%s", out.String())
		}
		return m, strings.Fields(after)[0]
	}
	setup := func(m *Main, token, email string) (int, map[string]any) {
		var got map[string]any
		resp, err := http.Post(m.Server.URL()+"/api/v1/setup", "application/json",
			jsonBody(t, map[string]string{"token": token, "email": email, "password": "a long enough password"}))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&got)
		return resp.StatusCode, got
	}
	a, tokenA := start()
	b, _ := start()
	gone, tokenGone := start()
	if err := gone.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, got := setup(b, tokenGone, "late@example.com"); code != http.StatusBadRequest {
		t.Fatalf("the link of a stopped replica: %d %v; want 400", code, got)
	}
	if code, got := setup(b, tokenA, "root@example.com"); code != http.StatusCreated {
		t.Fatalf("replica A's link on replica B: %d %v; want 201", code, got)
	}
	if code, got := setup(a, tokenA, "again@example.com"); code == http.StatusCreated {
		t.Fatalf("the link worked twice: %v", got)
	}
	if n, err := a.DB.CountUsers(t.Context()); err != nil || n != 1 {
		t.Errorf("users: %d, %v; want the one administrator", n, err)
	}
}
