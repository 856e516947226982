package hookline_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func validMonitor() *hookline.Monitor {
	return &hookline.Monitor{
		Name:     "suspicious IPs",
		Query:    `_sourceCategory=prod/web | parse "from * " as ip | count by ip`,
		Interval: time.Minute,
		Window:   5 * time.Minute,
		Triggers: []hookline.MonitorTrigger{
			{TriggerType: hookline.TriggerCritical, Field: "_count", ThresholdType: hookline.ThresholdGT, Threshold: 100},
			{TriggerType: hookline.TriggerWarning, Field: "_count", ThresholdType: hookline.ThresholdGT, Threshold: 50},
			{TriggerType: hookline.TriggerMissingData},
		},
		Notifications: []hookline.MonitorNotification{{
			ConnectionID:       "c1",
			RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical},
		}},
		GroupFields: []string{"ip"},
	}
}

func TestMonitorValidate(t *testing.T) {
	critical := func(m *hookline.Monitor) *hookline.MonitorTrigger { return &m.Triggers[0] }
	tests := []struct {
		name   string
		mutate func(m *hookline.Monitor)
		fields []string // nil means valid
	}{
		{"valid", func(m *hookline.Monitor) {}, nil},
		{"name blank", func(m *hookline.Monitor) { m.Name = " " }, []string{"name"}},
		{"description long", func(m *hookline.Monitor) { m.Description = strings.Repeat("a", 1025) }, []string{"description"}},
		{"query blank", func(m *hookline.Monitor) { m.Query = "  " }, []string{"query"}},
		{"query long", func(m *hookline.Monitor) { m.Query = strings.Repeat("a", hookline.MaxMonitorQueryLen+1) }, []string{"query"}},
		{"query invalid utf8", func(m *hookline.Monitor) { m.Query = "a\xff" }, []string{"query"}},
		{"interval zero", func(m *hookline.Monitor) { m.Interval = 0 }, []string{"interval"}},
		{"interval 30s", func(m *hookline.Monitor) { m.Interval = 30 * time.Second }, []string{"interval"}},
		{"interval 90s", func(m *hookline.Monitor) { m.Interval = 90 * time.Second }, []string{"interval"}},
		{"interval a day", func(m *hookline.Monitor) { m.Interval, m.Window = 24*time.Hour, 24*time.Hour }, nil},
		{"interval over a day", func(m *hookline.Monitor) { m.Interval, m.Window = 25*time.Hour, 24*time.Hour }, []string{"interval"}},
		{"window shorter than interval", func(m *hookline.Monitor) { m.Interval = 10 * time.Minute }, []string{"window"}},
		{"window equal to interval", func(m *hookline.Monitor) { m.Interval = 5 * time.Minute }, nil},
		{"window over a day", func(m *hookline.Monitor) { m.Window = 1441 * time.Minute }, []string{"window"}},
		{"window missing", func(m *hookline.Monitor) { m.Window = 0 }, []string{"window"}},
		{"no triggers", func(m *hookline.Monitor) { m.Triggers = nil; m.Notifications = nil }, []string{"triggers"}},
		{"trigger type unknown", func(m *hookline.Monitor) { critical(m).TriggerType = "Fatal" }, []string{"triggers[0].triggerType", "notifications[0].runForTriggerTypes[0]", "notifications[0].runForTriggerTypes[1]"}},
		{"trigger type resolved", func(m *hookline.Monitor) { m.Triggers[2].TriggerType = hookline.TriggerResolvedMissingData }, []string{"triggers[2].triggerType"}},
		{"trigger repeated", func(m *hookline.Monitor) { m.Triggers[1] = m.Triggers[0] }, []string{"triggers[1].triggerType"}},
		{"threshold type unknown", func(m *hookline.Monitor) { critical(m).ThresholdType = "GreaterThan" }, []string{"triggers[0].thresholdType"}},
		{"threshold type missing", func(m *hookline.Monitor) { critical(m).ThresholdType = "" }, []string{"triggers[0].thresholdType"}},
		{"threshold NaN", func(m *hookline.Monitor) { critical(m).Threshold = math.NaN() }, []string{"triggers[0].threshold"}},
		{"threshold Inf", func(m *hookline.Monitor) { critical(m).Threshold = math.Inf(1) }, []string{"triggers[0].threshold"}},
		{"threshold negative", func(m *hookline.Monitor) { critical(m).Threshold = -1.5 }, nil},
		{"result count", func(m *hookline.Monitor) { critical(m).Field = "" }, nil},
		{"field bad", func(m *hookline.Monitor) { critical(m).Field = "1count" }, []string{"triggers[0].field"}},
		{"field with space", func(m *hookline.Monitor) { critical(m).Field = "a b" }, []string{"triggers[0].field"}},
		{"field dotted", func(m *hookline.Monitor) { critical(m).Field = "client.ip_2" }, nil},
		{"field long", func(m *hookline.Monitor) { critical(m).Field = strings.Repeat("a", 129) }, []string{"triggers[0].field"}},
		{"missing data with threshold", func(m *hookline.Monitor) {
			m.Triggers[2] = hookline.MonitorTrigger{TriggerType: hookline.TriggerMissingData, Threshold: 1, ThresholdType: hookline.ThresholdLT, Field: "_count"}
		}, []string{"triggers[2].threshold", "triggers[2].thresholdType", "triggers[2].field"}},
		{"notification without connection", func(m *hookline.Monitor) { m.Notifications[0].ConnectionID = " " }, []string{"notifications[0].connectionId"}},
		{"notification control chars", func(m *hookline.Monitor) { m.Notifications[0].ConnectionID = "a\nb" }, []string{"notifications[0].connectionId"}},
		{"notification repeated", func(m *hookline.Monitor) {
			m.Notifications = append(m.Notifications, m.Notifications[0])
		}, []string{"notifications[1].connectionId"}},
		{"notification without types", func(m *hookline.Monitor) { m.Notifications[0].RunForTriggerTypes = nil }, []string{"notifications[0].runForTriggerTypes"}},
		{"notification type repeated", func(m *hookline.Monitor) {
			m.Notifications[0].RunForTriggerTypes = []hookline.TriggerType{"Critical", "Critical"}
		}, []string{"notifications[0].runForTriggerTypes[1]"}},
		{"notification type Normal", func(m *hookline.Monitor) {
			m.Notifications[0].RunForTriggerTypes = []hookline.TriggerType{"Normal"}
		}, []string{"notifications[0].runForTriggerTypes[0]"}},
		{"notification every type", func(m *hookline.Monitor) {
			m.Notifications[0].RunForTriggerTypes = []hookline.TriggerType{"Critical", "Warning", "MissingData", "ResolvedCritical", "ResolvedWarning", "ResolvedMissingData"}
		}, nil},
		{"notification type without trigger", func(m *hookline.Monitor) {
			m.Triggers = m.Triggers[:1]
			m.Notifications[0].RunForTriggerTypes = []hookline.TriggerType{"Critical", "ResolvedWarning", "MissingData"}
		}, []string{"notifications[0].runForTriggerTypes[1]", "notifications[0].runForTriggerTypes[2]"}},
		{"too many notifications", func(m *hookline.Monitor) {
			for range hookline.MaxNotifications {
				m.Notifications = append(m.Notifications, m.Notifications[0])
			}
		}, []string{"notifications"}},
		{"payload override long", func(m *hookline.Monitor) {
			m.Notifications[0].PayloadOverride = strings.Repeat(" ", hookline.MaxDefaultPayloadLen+1)
		}, []string{"notifications[0].payloadOverride"}},
		{"resolution override long", func(m *hookline.Monitor) {
			m.Notifications[0].ResolutionPayloadOverride = strings.Repeat(" ", hookline.MaxResolutionPayloadLen+1)
		}, []string{"notifications[0].resolutionPayloadOverride"}},
		{"ten group fields", func(m *hookline.Monitor) {
			m.GroupFields = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
		}, nil},
		{"eleven group fields", func(m *hookline.Monitor) {
			m.GroupFields = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
		}, []string{"notificationGroupFields"}},
		{"group field repeated ignoring case", func(m *hookline.Monitor) { m.GroupFields = []string{"ip", "IP"} }, []string{"notificationGroupFields[1]"}},
		{"group field bad", func(m *hookline.Monitor) { m.GroupFields = []string{"ip", ""} }, []string{"notificationGroupFields[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMonitor()
			tt.mutate(m)
			err := m.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *hookline.Error
			if !errors.As(err, &e) || e.Code != hookline.EINVALID {
				t.Fatalf("Validate = %v, want an EINVALID *Error", err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
				if f.Message == "" || f.Message[0] < 'a' || f.Message[0] > 'z' {
					t.Errorf("%s: message %q should be a lower-case phrase", f.Field, f.Message)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.fields, " ") {
				t.Errorf("fields = %q, want %q (%v)", got, tt.fields, err)
			}
		})
	}
}

func TestThresholdType(t *testing.T) {
	tests := []struct {
		tt       hookline.ThresholdType
		v, th    float64
		met      bool
		phrase   string
		aliasFor string
	}{
		{hookline.ThresholdGT, 101, 100, true, "Greater than", "GreaterThan"},
		{hookline.ThresholdGT, 100, 100, false, "Greater than", "greaterthan"},
		{hookline.ThresholdGE, 100, 100, true, "Greater than or equal to", "GreaterThanOrEqual"},
		{hookline.ThresholdGE, 99.9, 100, false, "Greater than or equal to", "ge"},
		{hookline.ThresholdLT, 0, 1, true, "Less than", "LessThan"},
		{hookline.ThresholdLT, 1, 1, false, "Less than", "LT"},
		{hookline.ThresholdLE, 1, 1, true, "Less than or equal to", "LessThanOrEqual"},
		{hookline.ThresholdLE, 1.5, 1, false, "Less than or equal to", " le "},
		{hookline.ThresholdEQ, 0, 0, true, "Equal to", "Equal"},
		{hookline.ThresholdEQ, 0.5, 0, false, "Equal to", "eq"},
		{"between", 1, 1, false, "between", ""},
	}
	for _, tt := range tests {
		if got := tt.tt.Met(tt.v, tt.th); got != tt.met {
			t.Errorf("%s.Met(%v, %v) = %v", tt.tt, tt.v, tt.th, got)
		}
		if got := tt.tt.Phrase(); got != tt.phrase {
			t.Errorf("%s.Phrase() = %q, want %q", tt.tt, got, tt.phrase)
		}
		if tt.aliasFor == "" {
			if tt.tt.Valid() {
				t.Errorf("%q is valid", tt.tt)
			}
			continue
		}
		if got, ok := hookline.ParseThresholdType(tt.aliasFor); !ok || got != tt.tt {
			t.Errorf("ParseThresholdType(%q) = %q, %v; want %q", tt.aliasFor, got, ok, tt.tt)
		}
	}
	if got, ok := hookline.ParseThresholdType("GreaterOrEqual"); ok {
		t.Errorf("ParseThresholdType(GreaterOrEqual) = %q, want no match", got)
	}
}

func TestTriggerCondition(t *testing.T) {
	tests := []struct {
		tr     hookline.MonitorTrigger
		window time.Duration
		want   string
	}{
		{hookline.MonitorTrigger{TriggerType: "Critical", ThresholdType: "gt", Threshold: 0}, 1440 * time.Minute,
			"ResultCount is Greater than 0.0 in the last 1440 minutes"},
		{hookline.MonitorTrigger{TriggerType: "Warning", ThresholdType: "ge", Threshold: 1, Field: "_count"}, 15 * time.Minute,
			"_count is Greater than or equal to 1.0 in the last 15 minutes"},
		{hookline.MonitorTrigger{TriggerType: "Critical", ThresholdType: "lt", Threshold: 0.25, Field: "latency"}, time.Minute,
			"latency is Less than 0.25 in the last 1 minute"},
		{hookline.MonitorTrigger{TriggerType: "MissingData"}, 5 * time.Minute, "No data in the last 5 minutes"},
	}
	for _, tt := range tests {
		if got := tt.tr.Condition(tt.window); got != tt.want {
			t.Errorf("Condition = %q, want %q", got, tt.want)
		}
	}
}

func TestTriggerTypeResolution(t *testing.T) {
	for _, tt := range []struct{ start, resolved hookline.TriggerType }{
		{hookline.TriggerCritical, hookline.TriggerResolvedCritical},
		{hookline.TriggerWarning, hookline.TriggerResolvedWarning},
		{hookline.TriggerMissingData, hookline.TriggerResolvedMissingData},
	} {
		if got := tt.start.Resolution(); got != tt.resolved {
			t.Errorf("%s.Resolution() = %q", tt.start, got)
		}
		if got := tt.resolved.Resolves(); got != tt.start {
			t.Errorf("%s.Resolves() = %q", tt.resolved, got)
		}
		if tt.resolved.Resolution() != "" || tt.start.Resolves() != "" {
			t.Errorf("%s/%s map the wrong way", tt.start, tt.resolved)
		}
	}
	if hookline.TriggerNormal.Resolution() != "" || hookline.TriggerNormal.Resolves() != "" {
		t.Error("Normal has a resolution")
	}
}

func TestDurationLimitsAsWritten(t *testing.T) {
	s := &hookline.ScheduledSearch{TimeRange: 200 * time.Hour}
	err := s.Validate()
	if msg := fieldMessage(err, "timeRange"); msg != "must be at most 168h (10080 minutes)" {
		t.Errorf("timeRange 200h: %q", msg)
	}
	m := &hookline.Monitor{Interval: 30 * time.Second, Window: 48 * time.Hour}
	err = m.Validate()
	if msg := fieldMessage(err, "interval"); msg != "must be at least 1m" {
		t.Errorf("interval 30s: %q", msg)
	}
	if msg := fieldMessage(err, "window"); msg != "must be at most 24h (1440 minutes)" {
		t.Errorf("window 48h: %q", msg)
	}
}

func fieldMessage(err error, field string) string {
	var e *hookline.Error
	if !errors.As(err, &e) {
		return ""
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

func TestParseAndFormatMinutes(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    time.Duration
		problem string // in the field's message; "" for none
		out     string // FormatMinutes of the result
	}{
		{"5m", 5 * time.Minute, "", "5m"},
		{" 5 ", 5 * time.Minute, "", "5m"},
		{"90", 90 * time.Minute, "", "1h30m"},
		{"1h", time.Hour, "", "1h"},
		{"", 0, "is required", "0s"},
		{"often", 0, "must be a duration", "0s"},
	} {
		var p hookline.Problems
		got := hookline.ParseMinutes(&p, "interval", tt.in)
		err := p.Err()
		if got != tt.want || (tt.problem == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.problem)) {
			t.Errorf("ParseMinutes(%q) = %s, %v; want %s, problem %q", tt.in, got, err, tt.want, tt.problem)
		}
		if s := hookline.FormatMinutes(got); s != tt.out {
			t.Errorf("FormatMinutes(%s) = %q; want %q", got, s, tt.out)
		}
	}
}
