package postgres_test

import (
	"testing"

	"github.com/hookline/hookline/storetest"
)

func TestMonitorStore(t *testing.T) {
	storetest.TestMonitorStore(t, func(t *testing.T) storetest.MonitorStore {
		return MustOpenDB(t)
	})
}
