package rowid_test

import (
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/rowid"
)

var form = regexp.MustCompile(`^[0-9A-F]{16}$`)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := rowid.New()
		if err != nil {
			t.Fatal(err)
		}
		if !rowid.Valid(id) {
			t.Fatalf("New() = %q; want 16 upper-case hex digits", id)
		}
		if seen[id] {
			t.Fatalf("New() drew %s twice", id)
		}
		seen[id] = true
	}
}

func TestGenNext(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   func(i int) time.Time
	}{
		{"one millisecond", func(int) time.Time { return at }},
		{"a clock stepped back", func(i int) time.Time {
			if i >= 500 {
				return at.Add(-time.Hour)
			}
			return at
		}},
		{"time going on", func(i int) time.Time { return at.Add(time.Duration(i) * time.Millisecond) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g rowid.Gen
			prev := ""
			for i := range 1000 {
				id, err := g.Next(tt.at(i))
				if err != nil {
					t.Fatal(err)
				}
				if !rowid.Valid(id) {
					t.Fatalf("Next = %q; want 16 upper-case hex digits", id)
				}
				if id <= prev {
					t.Fatalf("ID %d, %s, does not follow %s", i, id, prev)
				}
				prev = id
			}
		})
	}
}

func TestGenTimeInTopBits(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var g1, g2 rowid.Gen
	a, _ := g1.Next(at)
	b, _ := g2.Next(at.Add(time.Millisecond))
	if a >= b {
		t.Errorf("ID of %v, %s, does not sort before the next millisecond's %s", at, a, b)
	}
	if got, want := a[:10], fmt.Sprintf("%016X", uint64(at.UnixMilli())<<22)[:10]; got != want {
		t.Errorf("ID %s starts with %s; want the milliseconds %s", a, got, want)
	}
}

func TestGenConcurrent(t *testing.T) {
	var g rowid.Gen
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for range 500 {
				id, err := g.Next(time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("ID %s drawn twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestValid(t *testing.T) {
	drawn, err := rowid.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{drawn, true},
		{"0123456789ABCDEF", true},
		{"0123456789abcdef", false},
		{"0123456789ABCDE", false},
		{"0123456789ABCDEF0", false},
		{"0123456789ABCDEG", false},
		{"", false},
	} {
		if got := rowid.Valid(tt.id); got != tt.want {
			t.Errorf("Valid(%q) = %v; want %v", tt.id, got, tt.want)
		}
	}
}
