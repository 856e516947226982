package notify_test

import (
	"encoding/json"
	"testing"

	"github.com/hookline/hookline/notify"
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
