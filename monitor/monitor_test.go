package monitor_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/monitor"
)

// suspiciousIPs is the reference's example: too many requests from one IP
// address, one alert per address.
func suspiciousIPs() *hookline.Monitor {
	return &hookline.Monitor{
		ID:       "mon1",
		Name:     "Suspicious IP",
		Query:    `_sourceCategory=prod/web | parse "from * " as ip | count by ip | sort by _count`,
		Interval: time.Minute,
		Window:   time.Minute,
		Triggers: []hookline.MonitorTrigger{
			{TriggerType: hookline.TriggerCritical, Field: "_count", ThresholdType: hookline.ThresholdGT, Threshold: 100},
		},
		Notifications: []hookline.MonitorNotification{{
			ConnectionID:       "lambda",
			RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical},
		}},
		GroupFields: []string{"ip"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m *hookline.Monitor)
		// problems are "field: message start" pairs; nil means valid.
		problems []string
	}{
		{"valid", func(m *hookline.Monitor) {}, nil},
		{"group field in other case", func(m *hookline.Monitor) { m.GroupFields = []string{"IP"} }, nil},
		{"syntax error with position", func(m *hookline.Monitor) { m.Query = "_sourceCategory=prod/web | count by | sort by _count" },
			[]string{"query: line 1, column 37: expected a field name"}},
		{"syntax error on line 2", func(m *hookline.Monitor) { m.Query = "_sourceCategory=prod/web\n| frobnicate" },
			[]string{"query: line 2, column 3:"}},
		{"own problems and query problems together", func(m *hookline.Monitor) {
			m.Name = ""
			m.Query = "| count by"
		}, []string{"name: is required", "query: line 1, column 11:"}},
		{"group by a field the rows lack", func(m *hookline.Monitor) { m.GroupFields = []string{"host"} },
			[]string{`notificationGroupFields[0]: names "host", which is not a column of the query's result; its columns are ip, _count`}},
		{"group messages", func(m *hookline.Monitor) {
			m.Query = `_sourceCategory=prod/web | parse "from * " as ip`
			m.Triggers[0].Field = ""
		}, []string{"notificationGroupFields: needs a query that aggregates"}},
		{"trigger field of messages", func(m *hookline.Monitor) {
			m.Query = `_sourceCategory=prod/web | parse "from * " as ip`
			m.GroupFields = nil
		}, []string{"triggers[0].field: needs a query that aggregates"}},
		{"trigger field not a column", func(m *hookline.Monitor) { m.Triggers[0].Field = "bytes" },
			[]string{`triggers[0].field: names "bytes"`}},
		{"result count of messages", func(m *hookline.Monitor) {
			m.Query = `_sourceCategory=prod/web "status=500"`
			m.GroupFields = nil
			m.Triggers[0].Field = ""
		}, nil},
		{"bad field name is reported once", func(m *hookline.Monitor) { m.Triggers[0].Field = "9x" },
			[]string{"triggers[0].field: must start with a letter"}},
		{"payload override", func(m *hookline.Monitor) {
			m.Notifications[0].PayloadOverride = `{"ip": "{{ResultsJson.ip}}", "results": {{ResultsJson}}}`
			m.Notifications[0].ResolutionPayloadOverride = `{"ip": "{{ResultsJson.ip}}", "resolved": true}`
		}, nil},
		{"payload override not JSON", func(m *hookline.Monitor) {
			m.Notifications[0].PayloadOverride = `{"ip": {{ResultsJson.ip}}`
			m.Notifications[0].ResolutionPayloadOverride = "not json"
		}, []string{"notifications[0].payloadOverride: line 1,", "notifications[0].resolutionPayloadOverride: line 1,"}},
		{"blank override keeps the connection's", func(m *hookline.Monitor) { m.Notifications[0].PayloadOverride = "  " }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := suspiciousIPs()
			tt.mutate(m)
			q, err := monitor.Compile(m)
			if tt.problems == nil {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				if q == nil {
					t.Fatal("Compile returned no query")
				}
				if err := monitor.Validate(m); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *hookline.Error
			if !errors.As(err, &e) || e.Code != hookline.EINVALID {
				t.Fatalf("Compile = %v, want an EINVALID *Error", err)
			}
			if q != nil {
				t.Error("Compile returned a query with its error")
			}
			if len(e.Fields) != len(tt.problems) {
				t.Fatalf("problems = %v, want %d: %q", e.Fields, len(tt.problems), tt.problems)
			}
			for i, want := range tt.problems {
				if got := e.Fields[i].Error(); !strings.HasPrefix(got, want) {
					t.Errorf("problem %d = %q, want it to start %q", i, got, want)
				}
			}
			if monitor.Validate(m) == nil {
				t.Error("Validate accepts what Compile refuses")
			}
		})
	}
}
