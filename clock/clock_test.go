package clock_test

import (
	"testing"
	"time"

	"github.com/hookline/hookline/clock"
)

func TestFakeRunsInOrder(t *testing.T) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := clock.NewFake(start)
	var got []time.Duration
	record := func() { got = append(got, c.Now().Sub(start)) }
	c.AfterFunc(3*time.Second, record)
	c.AfterFunc(time.Second, func() {
		record()
		c.AfterFunc(time.Second, record) // due at 2 s, inside the same advance
	})
	stopped := c.AfterFunc(2500*time.Millisecond, record)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop: want true then false")
	}
	c.AfterFunc(10*time.Second, record)
	c.Advance(5 * time.Second)
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("ran at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ran at %v, want %v", got, want)
		}
	}
	if c.Now() != start.Add(5*time.Second) || c.Pending() != 1 {
		t.Errorf("now %v pending %d", c.Now().Sub(start), c.Pending())
	}
}
