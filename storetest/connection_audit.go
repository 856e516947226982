package storetest

import (
	"maps"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// TestConnectionAudit checks that a store records every connection change
// in its audit log: one event per create, update and delete, made by
// hookline.ActorFrom(ctx), targeting the connection by ID and (current)
// name, with Connection.AuditView as Before and After, and no secret value
// anywhere in the event. An update that changes nothing is recorded all
// the same; a change that fails records nothing.
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store that t's cleanup closes.
func TestConnectionAudit(t *testing.T, open func(t *testing.T) interface {
	hookline.ConnectionStore
	hookline.AccessStore
}) {
	t.Run("CreateUpdateDelete", func(t *testing.T) {
		t.Parallel()
		testConnectionAudit(t, open(t))
	})
	t.Run("FailedChanges", func(t *testing.T) {
		t.Parallel()
		testConnectionAuditFailures(t, open(t))
	})
}

func testConnectionAudit(t *testing.T, s interface {
	hookline.ConnectionStore
	hookline.AccessStore
}) {
	start := time.Now()
	alice := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000A1", Name: "alice@example.com", AccessID: "hk00000000000001"}
	bob := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000B0", Name: "bob@example.com"}
	token := hookline.Actor{Kind: hookline.ActorAdminToken}

	c := Connection("Ops Lambda")
	c.Secrets = map[string]string{"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "sessionToken": "SESSION-TOKEN-SECRET"}
	if err := s.CreateConnection(ctxAs(t, alice), c); err != nil {
		t.Fatal(err)
	}
	created := c.AuditView()
	if len(created.SecretsSet) != 2 {
		t.Fatalf("the view names secrets %q; want both", created.SecretsSet)
	}
	want := []wantEvent{{alice, "create", hookline.AuditConnection, c.ID, "Ops Lambda", nil, created}}

	u := *c
	u.Name, u.URL = "Renamed Lambda", "https://abcdefghij.lambda-url.eu-west-1.on.aws/"
	u.Settings = map[string]string{"region": "eu-west-1"}
	u.Secrets = map[string]string{"secretAccessKey": "NEW-SECRET-VALUE-0123456789"}
	if err := s.UpdateConnection(ctxAs(t, bob), &u); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{bob, "update", hookline.AuditConnection, c.ID, "Renamed Lambda", created, u.AuditView()})

	// An update that changes nothing is recorded too.
	same := u
	same.Secrets = maps.Clone(u.Secrets)
	if err := s.UpdateConnection(t.Context(), &same); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{hookline.Actor{Kind: hookline.ActorSystem}, "update", hookline.AuditConnection, c.ID,
		"Renamed Lambda", u.AuditView(), u.AuditView()})

	if err := s.DeleteConnection(ctxAs(t, token), c.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{token, "delete", hookline.AuditConnection, c.ID, "Renamed Lambda", u.AuditView(), nil})

	secrets := []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SESSION-TOKEN-SECRET", "NEW-SECRET-VALUE-0123456789"}
	checkEvents(t, allEvents(t, s, hookline.AuditFilter{}), want, start, time.Now(), secrets)

	// The connection's events are found by target.
	got := allEvents(t, s, hookline.AuditFilter{TargetType: hookline.AuditConnection, TargetID: c.ID, ListOptions: hookline.ListOptions{Limit: 1}})
	checkEvents(t, got, want, start, time.Now(), secrets)
	got = allEvents(t, s, hookline.AuditFilter{ActorID: bob.ID})
	checkEvents(t, got, want[1:2], start, time.Now(), secrets)
}

func testConnectionAuditFailures(t *testing.T, s interface {
	hookline.ConnectionStore
	hookline.AccessStore
}) {
	c := create(t, s, Connection("Existing"))
	before := countEvents(t, s)

	invalid := Connection("")
	taken := Connection("EXISTING")
	missing := Connection("Missing")
	missing.ID = "00000000000468D5"
	renamed := *c
	renamed.Name = ""
	failures := []struct {
		name string
		err  error
	}{
		{"create invalid", s.CreateConnection(t.Context(), invalid)},
		{"create taken", s.CreateConnection(t.Context(), taken)},
		{"update missing", s.UpdateConnection(t.Context(), missing)},
		{"update invalid", s.UpdateConnection(t.Context(), &renamed)},
		{"delete missing", s.DeleteConnection(t.Context(), missing.ID)},
	}
	for _, f := range failures {
		if f.err == nil {
			t.Errorf("%s succeeded", f.name)
		}
	}
	second := create(t, s, Connection("Second"))
	renamed = *second
	renamed.Name = "existing"
	if err := s.UpdateConnection(t.Context(), &renamed); hookline.ErrorCode(err) != hookline.ECONFLICT {
		t.Errorf("rename to a taken name: %v; want ECONFLICT", err)
	}
	if got := countEvents(t, s); got != before+1 {
		t.Errorf("%d audit events after failed changes and one create; want %d", got, before+1)
	}
}
