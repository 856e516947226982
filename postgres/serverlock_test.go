package postgres_test

import (
	"errors"
	"testing"

	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/postgres/pgtest"
)

// One server at a time: a second LockServer on the same database is
// refused until the first handle closes.
func TestLockServer(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, err := postgres.Open(t.Context(), url, testKeyring(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.LockServer(t.Context()); err != nil {
		t.Fatalf("first lock: %v", err)
	}
	b := mustOpen(t, url, testKeyring(t, 1))
	if err := b.LockServer(t.Context()); !errors.Is(err, postgres.ErrServerRunning) {
		t.Fatalf("second lock while the first holds it: %v, want ErrServerRunning", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.LockServer(t.Context()); err != nil {
		t.Fatalf("lock after the first closed: %v", err)
	}
}
