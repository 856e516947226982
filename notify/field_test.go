package notify_test

import (
	"encoding/json"
	"testing"

	"github.com/hookline/hookline/notify"
)

// Applies decides a form's ShowWhen and RequiredWhen: every named field's
// value, or its Default when empty, must be one of those listed.
func TestApplies(t *testing.T) {
	fields := []notify.Field{
		{Name: "mode", Options: []string{"a", "b", "c"}, Default: "a"},
		{Name: "kind", Options: []string{"x", "y"}},
	}
	tests := []struct {
		name     string
		cond     map[string][]string
		settings map[string]string
		want     bool
	}{
		{"nil always holds", nil, nil, true},
		{"value listed", map[string][]string{"mode": {"b", "c"}}, map[string]string{"mode": "c"}, true},
		{"value not listed", map[string][]string{"mode": {"b", "c"}}, map[string]string{"mode": "a"}, false},
		{"empty is the default", map[string][]string{"mode": {"a"}}, map[string]string{}, true},
		{"empty is the default, not listed", map[string][]string{"mode": {"b"}}, nil, false},
		{"empty without a default", map[string][]string{"kind": {"x"}}, nil, false},
		{"every field must match", map[string][]string{"mode": {"a"}, "kind": {"y"}}, map[string]string{"kind": "x"}, false},
		{"every field matches", map[string][]string{"mode": {"a"}, "kind": {"y"}}, map[string]string{"kind": "y"}, true},
		{"unknown field never holds", map[string][]string{"nope": {"a"}}, map[string]string{"mode": "a"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := notify.Applies(tc.cond, tc.settings, fields); got != tc.want {
				t.Errorf("Applies(%v, %v) = %v, want %v", tc.cond, tc.settings, got, tc.want)
			}
		})
	}
}

// The conditions travel in GET /connections/types only when set.
func TestFieldConditionsJSON(t *testing.T) {
	tests := []struct {
		field notify.Field
		want  string
	}{
		{notify.Field{Name: "a"}, `{"name":"a","label":"","secret":false,"required":false,"help":""}`},
		{notify.Field{Name: "m", Options: []string{"x", "y"}, Default: "x"},
			`{"name":"m","label":"","secret":false,"required":false,"help":"","options":["x","y"],"default":"x"}`},
		{notify.Field{Name: "b", ShowWhen: map[string][]string{"m": {"y"}}, RequiredWhen: map[string][]string{"m": {"y"}}},
			`{"name":"b","label":"","secret":false,"required":false,"help":"","showWhen":{"m":["y"]},"requiredWhen":{"m":["y"]}}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.field)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.field.Name, b, tc.want)
		}
	}
}
