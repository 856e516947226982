package notify_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
)

// A field without options says nothing about them in GET
// /connections/types, so a form shows free text.
func TestFieldJSON(t *testing.T) {
	tests := []struct {
		name  string
		field notify.Field
		want  string
	}{
		{"free text", notify.Field{Name: "url", Label: "URL", Required: true, Help: "Where."},
			`{"name":"url","label":"URL","secret":false,"required":true,"help":"Where."}`},
		{"empty options", notify.Field{Name: "x", Options: []string{}},
			`{"name":"x","label":"","secret":false,"required":false,"help":""}`},
		{"options", notify.Field{Name: "serviceName", Options: []string{"lambda", "execute-api"}},
			`{"name":"serviceName","label":"","secret":false,"required":false,"help":"","options":["lambda","execute-api"]}`},
		// The labels travel beside the options, which stay a list of the
		// values: a client that reads only the options sees no change.
		{"options with labels", notify.Field{Name: "mode", Options: []string{"b", "a"},
			OptionLabels: map[string]string{"b": "Bee", "a": "Ay"}},
			`{"name":"mode","label":"","secret":false,"required":false,"help":"","options":["b","a"],"optionLabels":{"a":"Ay","b":"Bee"}}`},
		{"empty labels", notify.Field{Name: "x", Options: []string{"a"}, OptionLabels: map[string]string{}},
			`{"name":"x","label":"","secret":false,"required":false,"help":"","options":["a"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.field)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON %s\nwant %s", got, tt.want)
			}
		})
	}
}

// OptionLabel gives an option's words, or the option itself without them.
func TestOptionLabel(t *testing.T) {
	f := notify.Field{Name: "mode", Options: []string{"a", "b", "c"}, OptionLabels: map[string]string{"a": "Ay", "c": ""}}
	tests := []struct{ value, want string }{
		{"a", "Ay"},
		{"b", "b"}, // no label
		{"c", "c"}, // an empty label is none
		{"zzz", "zzz"},
	}
	for _, tc := range tests {
		if got := f.OptionLabel(tc.value); got != tc.want {
			t.Errorf("OptionLabel(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
}

// Every option of every field of the kinds Hookline serves has words for
// a person to read, and no label names an option the field does not offer
// (a typo there would leave the real option bare). Both AWSLambda setups
// are checked: defaultChain is offered only with the machine's credentials.
func TestEveryOptionLabelled(t *testing.T) {
	kinds := []notify.Kind{
		awslambda.New(awslambda.Options{}),
		awslambda.New(awslambda.Options{AmbientCredentials: true}),
		webhook.Kind{},
	}
	for _, k := range kinds {
		for _, f := range k.Fields() {
			for _, o := range f.Options {
				if l := f.OptionLabels[o]; l == "" || l == o {
					t.Errorf("%s.%s: option %q has no label", k.Type(), f.Name, o)
				}
			}
			for o := range f.OptionLabels {
				if !slices.Contains(f.Options, o) {
					t.Errorf("%s.%s: a label names %q, which is not an option %v", k.Type(), f.Name, o, f.Options)
				}
			}
		}
	}
}
