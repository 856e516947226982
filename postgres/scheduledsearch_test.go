package postgres_test

import (
	"testing"

	"github.com/hookline/hookline/storetest"
)

func TestScheduledSearchStore(t *testing.T) {
	storetest.TestScheduledSearchStore(t, func(t *testing.T) storetest.ScheduledSearchStore {
		return MustOpenDB(t)
	})
}
