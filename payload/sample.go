package payload

import (
	"encoding/json"
	"time"

	"github.com/hookline/hookline"
)

// sampleID is the monitor ID the sample alert claims to come from.
const sampleID = "0000000000001A2B"

// Sample returns the alert that Test Alert and Test Recovery send: a
// plausible alert from a logs monitor counting requests per client, raised
// at now over the 15 minutes before it, with every variable of Reference
// set except the ones only a real target knows (RoutingKey, ServiceKey) and
// SloDashboardUrl, which a logs monitor has none of. An empty t means
// TriggerCritical. Each call returns a new alert the caller may change.
func Sample(t hookline.TriggerType, now time.Time) *hookline.Alert {
	if t == "" {
		t = hookline.TriggerCritical
	}
	const base = "http://127.0.0.1:8080"
	value, condition := "1542", "Greater than or equal to 1000.0 in the last 15 minutes"
	if t.IsResolution() {
		value, condition = "87", "Less than 1000.0 in the last 15 minutes"
	}
	severity := "critical" // PagerDuty's severities: critical, error, warning, info
	switch t {
	case hookline.TriggerWarning, hookline.TriggerResolvedWarning:
		severity = "warning"
	case hookline.TriggerMissingData, hookline.TriggerResolvedMissingData:
		severity = "error"
	}
	return &hookline.Alert{
		Name:        "Hookline test alert",
		Description: "Test alert sent by Hookline to check a connection: clients sending unusually many requests.",
		MonitorType: "Logs",
		Query:       "_sourceCategory=nginx | count by client_ip",
		QueryURL:    base + "/search?monitor=" + sampleID,
		Results: []hookline.Row{
			{"client_ip": "203.0.113.7", "_count": json.Number("1542")},
			{"client_ip": "198.51.100.23", "_count": json.Number("87")},
		},
		NumQueryResults:  2,
		SourceID:         sampleID,
		DetectionMethod:  "LogsStaticCondition",
		TriggerType:      t,
		TriggerCondition: condition,
		TriggerValue:     value,
		TriggerTime:      now,
		TriggerTimeStart: now.Add(-15 * time.Minute),
		TriggerTimeEnd:   now,
		SourceURL:        base + "/monitors/" + sampleID,
		AlertResponseURL: base + "/alerts/" + sampleID + "?test=true",
		Variables: map[string]string{
			"AlertName":       "Hookline test alert",
			"Playbook":        "Check the client IPs in the results and block them if the traffic is unexpected.",
			"AlertSource":     "_sourceCategory=nginx",
			"DedupKey":        "hookline-test-" + sampleID,
			"IncidentKey":     "hookline-test-" + sampleID,
			"PayloadSeverity": severity,
			"PayloadSource":   "Hookline",
		},
	}
}
