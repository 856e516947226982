package postgres

import (
	"errors"
	"testing"

	"github.com/hookline/hookline/postgres/pgtest"
)

// While a rotation holds the serving lock, a server cannot take it, and
// can once the rotation's transaction ends.
func TestHoldServingDuringRotation(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := [2]*DB{openInternal(t, url), openInternal(t, url)}
	tx, err := dbs[0].db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := lockOutServers(t.Context(), tx); err != nil {
		t.Fatalf("lock out servers with none running: %v", err)
	}
	if err := dbs[1].HoldServing(t.Context()); !errors.Is(err, ErrRotating) {
		t.Fatalf("HoldServing during a rotation: %v; want ErrRotating", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := dbs[1].HoldServing(t.Context()); err != nil {
		t.Fatalf("HoldServing after the rotation: %v", err)
	}
}
