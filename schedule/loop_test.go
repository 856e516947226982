package schedule_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/schedule"
)

// queue is due work: items claimed in order, each run until its release
// channel is closed or the loop stops.
type queue struct {
	mu      sync.Mutex
	due     []int
	claims  []int // the limit of each claim
	running map[int]bool
	ran     []int
	most    int // the most runs in flight at once
	fail    bool
	release map[int]chan struct{}
}

func newQueue(n int) *queue {
	q := &queue{running: map[int]bool{}, release: map[int]chan struct{}{}}
	for i := range n {
		q.due = append(q.due, i)
		q.release[i] = make(chan struct{})
	}
	return q
}

func (q *queue) claim(_ context.Context, _ time.Time, limit int) ([]int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims = append(q.claims, limit)
	if q.fail {
		return nil, errors.New("store on fire")
	}
	n := min(limit, len(q.due))
	items := slices.Clone(q.due[:n])
	q.due = q.due[n:]
	return items, nil
}

func (q *queue) run(ctx context.Context, item int) {
	q.mu.Lock()
	q.running[item] = true
	q.most = max(q.most, len(q.running))
	rel := q.release[item]
	q.mu.Unlock()
	select {
	case <-rel:
	case <-ctx.Done():
	}
	q.mu.Lock()
	delete(q.running, item)
	q.ran = append(q.ran, item)
	q.mu.Unlock()
}

func (q *queue) read(f func(*queue) bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return f(q)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func start(t *testing.T, q *queue, c *clock.Fake, workers int) *schedule.Loop[int] {
	l := &schedule.Loop[int]{Clock: c, Poll: time.Minute, Workers: workers, Claim: q.claim, Run: q.run}
	l.Start()
	t.Cleanup(func() {
		if err := l.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return l
}

// The loop claims at once, never runs more than Workers, and claims again
// as soon as a worker frees up after a claim that filled them all, without
// waiting for the poll.
func TestLoopWorkers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		items   int
		workers int
		// wantRunning is how many run before any is released.
		wantRunning int
	}{
		{name: "fewer items than workers", items: 2, workers: 3, wantRunning: 2},
		{name: "more items than workers", items: 5, workers: 2, wantRunning: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clock.NewFake(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
			q := newQueue(tc.items)
			start(t, q, c, tc.workers)
			waitFor(t, "the first claim runs", func() bool {
				return q.read(func(q *queue) bool { return len(q.running) == tc.wantRunning })
			})
			for i := range tc.items {
				close(q.release[i])
			}
			waitFor(t, "every item ran", func() bool {
				return q.read(func(q *queue) bool { return len(q.ran) == tc.items })
			})
			if q.read(func(q *queue) bool { return q.most > tc.workers }) {
				t.Errorf("%d ran at once, want at most %d", q.most, tc.workers)
			}
			if c.Now() != time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) {
				t.Fatal("the clock moved")
			}
		})
	}
}

// A failed claim is tried again at the next poll.
func TestLoopClaimFails(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	q := newQueue(1)
	q.fail = true
	close(q.release[0])
	start(t, q, c, 1)
	waitFor(t, "the first claim", func() bool { return q.read(func(q *queue) bool { return len(q.claims) == 1 }) })
	q.read(func(q *queue) bool { q.fail = false; return true })
	c.Advance(time.Minute)
	waitFor(t, "the item runs after the next poll", func() bool {
		return q.read(func(q *queue) bool { return len(q.ran) == 1 })
	})
}

// Stop cancels the runs' context and waits for them; a run that ignores it
// makes Stop give up at its deadline.
func TestLoopStop(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	q := newQueue(2)
	l := start(t, q, c, 2)
	waitFor(t, "both run", func() bool { return q.read(func(q *queue) bool { return len(q.running) == 2 }) })
	if err := l.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := q.read(func(q *queue) bool { return len(q.ran) == 2 }); !n {
		t.Errorf("Stop returned before the runs ended")
	}
	claims := q.read(func(q *queue) bool { return len(q.claims) == 1 })
	c.Advance(time.Hour)
	if !claims || !q.read(func(q *queue) bool { return len(q.claims) == 1 }) {
		t.Errorf("claims %v, want one, none after Stop", q.claims)
	}

	stuck, started := make(chan struct{}), make(chan struct{})
	defer close(stuck)
	l2 := &schedule.Loop[int]{Clock: c, Poll: time.Minute, Workers: 1,
		Claim: func(context.Context, time.Time, int) ([]int, error) { return []int{1}, nil },
		Run:   func(context.Context, int) { close(started); <-stuck },
	}
	l2.Start()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l2.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop with a stuck run: %v, want the deadline", err)
	}
	var never schedule.Loop[int]
	if err := never.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
}
