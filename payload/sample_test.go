package payload_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

func TestSample(t *testing.T) {
	for _, tt := range []struct {
		in, want hookline.TriggerType
	}{
		{hookline.TriggerCritical, hookline.TriggerCritical},
		{hookline.TriggerResolvedCritical, hookline.TriggerResolvedCritical},
		{hookline.TriggerWarning, hookline.TriggerWarning},
		{"", hookline.TriggerCritical},
	} {
		a := payload.Sample(tt.in, fixedNow)
		if a.TriggerType != tt.want {
			t.Errorf("Sample(%q).TriggerType = %q, want %q", tt.in, a.TriggerType, tt.want)
		}
		if a.Name != "Hookline test alert" || a.MonitorType != "Logs" || a.DetectionMethod != "LogsStaticCondition" ||
			a.Query != "_sourceCategory=nginx | count by client_ip" {
			t.Errorf("Sample(%q) = %+v, want the nginx logs monitor", tt.in, a)
		}
		if len(a.Results) != 2 || a.Results[0]["client_ip"] == nil || a.Results[0]["_count"] == nil {
			t.Errorf("Sample(%q).Results = %v, want two rows of client_ip and _count", tt.in, a.Results)
		}
		if !a.TriggerTime.Equal(fixedNow) || !a.TriggerTimeEnd.Equal(fixedNow) || a.TriggerTimeEnd.Sub(a.TriggerTimeStart) != 15*time.Minute {
			t.Errorf("Sample(%q) times %v, %v..%v, want now and the 15 minutes before", tt.in, a.TriggerTime, a.TriggerTimeStart, a.TriggerTimeEnd)
		}
		for _, u := range []string{a.QueryURL, a.SourceURL, a.AlertResponseURL} {
			if !strings.HasPrefix(u, "http://127.0.0.1:8080/") {
				t.Errorf("Sample(%q) URL %q is not under http://127.0.0.1:8080/", tt.in, u)
			}
		}
	}

	// Every variable has a value except those only a real source knows.
	a := payload.Sample(hookline.TriggerCritical, fixedNow)
	noValue := map[string]bool{"SloDashboardUrl": true, "RoutingKey": true, "ServiceKey": true}
	for _, v := range payload.Reference {
		name := strings.Replace(v.Name, "fieldName", "client_ip", 1)
		got := string(mustParse(t, fmt.Sprintf(`"{{%s}}"`, name)).Render(a))
		if empty := got == `""`; empty != noValue[v.Name] {
			t.Errorf("{{%s}} of the sample renders %s", name, got)
		}
	}

	// Each call returns an alert of its own.
	a.Variables["DedupKey"] = "changed"
	a.Results[0]["client_ip"] = "changed"
	b := payload.Sample(hookline.TriggerCritical, fixedNow)
	if b.Variables["DedupKey"] == "changed" || b.Results[0]["client_ip"] == "changed" {
		t.Error("Sample returns shared state")
	}
}
