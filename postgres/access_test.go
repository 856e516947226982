package postgres_test

import (
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/storetest"
)

func TestAccessStore(t *testing.T) {
	storetest.TestAccessStore(t, func(t *testing.T) hookline.AccessStore {
		return MustOpenDB(t)
	})
}

func TestConnectionAudit(t *testing.T) {
	storetest.TestConnectionAudit(t, func(t *testing.T) interface {
		hookline.ConnectionStore
		hookline.AccessStore
	} {
		return MustOpenDB(t)
	})
}
