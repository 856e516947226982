package hookline_test

import (
	"encoding/json"
	"testing"

	"github.com/hookline/hookline"
)

// NumQueryResults is what the alert's source counted. An alert whose JSON
// leaves it out (a script's, or one stored before the field was always
// written) counts its rows; one that gives it, 0 included, keeps it.
func TestAlertNumQueryResultsJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"left out counts the rows", `{"triggerType": "Critical", "results": [{"a": 1}, {"a": 2}]}`, 2},
		{"left out without rows", `{"triggerType": "Critical"}`, 0},
		{"given", `{"triggerType": "Critical", "results": [{"a": 1}], "numQueryResults": 35}`, 35},
		{"zero given with a row", `{"triggerType": "ResolvedCritical", "results": [{"ip": "203.0.113.7"}], "numQueryResults": 0}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a hookline.Alert
			if err := json.Unmarshal([]byte(tt.in), &a); err != nil {
				t.Fatal(err)
			}
			if a.NumQueryResults != tt.want {
				t.Fatalf("NumQueryResults = %d, want %d", a.NumQueryResults, tt.want)
			}
			// And it survives a round trip, as the store keeps alerts.
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var back hookline.Alert
			if err := json.Unmarshal(b, &back); err != nil || back.NumQueryResults != tt.want {
				t.Fatalf("after a round trip through %s: %d, %v", b, back.NumQueryResults, err)
			}
		})
	}
}
