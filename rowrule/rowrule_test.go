package rowrule_test

import (
	"testing"
	"time"

	"github.com/hookline/hookline/rowrule"
)

func TestNameKey(t *testing.T) {
	tests := []struct{ name, want string }{
		{"ops", "ops"},
		{"Ops Team", "ops team"},
		{"ÄRGER", "ärger"}, // beyond ASCII, unlike SQLite's lower()
		{"Straße", "straße"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := rowrule.NameKey(tt.name); got != tt.want {
			t.Errorf("NameKey(%q) = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestNotBefore(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		t, want time.Time
	}{
		{"later", created.Add(time.Hour), created.Add(time.Hour)},
		{"the same", created, created},
		{"a clock stepped back", created.Add(-time.Nanosecond), created},
		{"zero", time.Time{}, created},
	}
	for _, tt := range tests {
		if got := rowrule.NotBefore(tt.t, created); !got.Equal(tt.want) {
			t.Errorf("%s: NotBefore(%v, %v) = %v; want %v", tt.name, tt.t, created, got, tt.want)
		}
	}
}
