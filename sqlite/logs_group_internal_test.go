package sqlite

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// Calls that arrive during a commit are committed together in the next
// one; a failed commit fails every call in it and none other; the lead
// passes on, so that no call waits past the commit after its own.
func TestLogAppenderGroups(t *testing.T) {
	var (
		a       logAppender
		mu      sync.Mutex
		groups  [][]int // sizes of the calls each commit got
		release = make(chan struct{})
		entered = make(chan struct{}, 10)
	)
	boom := errors.New("disk full")
	commit := func(g []*appendCall) error {
		entered <- struct{}{}
		<-release
		mu.Lock()
		defer mu.Unlock()
		var sizes []int
		for _, c := range g {
			sizes = append(sizes, len(c.rows))
		}
		groups = append(groups, sizes)
		if len(groups) == 2 {
			return boom
		}
		return nil
	}
	call := func(n int) *appendCall { return &appendCall{rows: make([]hookline.LogRecord, n)} }

	results := make(chan struct {
		n   int
		err error
	}, 10)
	run := func(n int) {
		err := a.append(call(n), commit)
		results <- struct {
			n   int
			err error
		}{n, err}
	}
	go run(1)
	<-entered // the first call leads, alone
	for _, n := range []int{2, 3, 4} {
		go run(n)
	}
	waitQueued(t, &a, 3)
	release <- struct{}{} // first commit done; the lead passes to the call of 2
	<-entered
	go run(5)
	waitQueued(t, &a, 1)
	release <- struct{}{} // second commit (2, 3, 4) fails
	<-entered
	release <- struct{}{} // third commit (5) succeeds

	got := map[int]error{}
	for range 5 {
		r := <-results
		got[r.n] = r.err
	}
	want := map[int]error{1: nil, 2: boom, 3: boom, 4: boom, 5: nil}
	for n, err := range want {
		if got[n] != err {
			t.Errorf("call of %d: %v; want %v", n, got[n], err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(groups) != 3 || len(groups[0]) != 1 || len(groups[1]) != 3 || len(groups[2]) != 1 {
		t.Errorf("commits took %v; want [1] [2 3 4] [5]", groups)
	}
	if a.leading || len(a.queue) != 0 {
		t.Errorf("after the last call: leading %v, %d queued", a.leading, len(a.queue))
	}
}

func waitQueued(t *testing.T, a *logAppender, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		q := len(a.queue)
		a.mu.Unlock()
		if q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued; want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A group takes at most maxGroupRows rows, but never splits a call, and
// the first call left behind gets the lead.
func TestLogAppenderBound(t *testing.T) {
	call := func(n int) *appendCall {
		return &appendCall{rows: make([]hookline.LogRecord, n), done: make(chan error, 1), lead: make(chan struct{})}
	}
	tests := []struct {
		queued []int
		want   []int
	}{
		{[]int{maxGroupRows - 10, 20, 5}, []int{maxGroupRows - 10}},
		{[]int{maxGroupRows + 5, 1}, []int{maxGroupRows + 5}},
		{[]int{10, maxGroupRows - 10, 1}, []int{10, maxGroupRows - 10}},
		{[]int{1, 2, 3}, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		a := logAppender{leading: true}
		for _, n := range tt.queued {
			a.queue = append(a.queue, call(n))
		}
		var got []int
		first := a.queue[0]
		err := a.lead(first, func(g []*appendCall) error {
			for _, c := range g {
				got = append(got, len(c.rows))
			}
			return nil
		})
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("queued %v: committed %v, %v; want %v", tt.queued, got, err, tt.want)
		}
		left := len(tt.queued) - len(tt.want)
		switch {
		case left == 0 && (a.leading || len(a.queue) != 0):
			t.Errorf("queued %v: still leading with %d queued", tt.queued, len(a.queue))
		case left > 0:
			select {
			case <-a.queue[0].lead:
			default:
				t.Errorf("queued %v: the first call left was not given the lead", tt.queued)
			}
		}
	}
}
