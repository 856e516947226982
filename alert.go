package hookline

import "time"

// TriggerType says what happened: a trigger condition started (Critical,
// Warning, MissingData) or ended (the Resolved* forms).
type TriggerType string

// The trigger types of the payload reference's {{TriggerType}}. Missing data
// is spelled as in the API enums, "MissingData".
const (
	TriggerNormal              TriggerType = "Normal"
	TriggerCritical            TriggerType = "Critical"
	TriggerWarning             TriggerType = "Warning"
	TriggerMissingData         TriggerType = "MissingData"
	TriggerResolvedCritical    TriggerType = "ResolvedCritical"
	TriggerResolvedWarning     TriggerType = "ResolvedWarning"
	TriggerResolvedMissingData TriggerType = "ResolvedMissingData"
)

// IsResolution reports whether t is a recovery (Resolved*), which uses a
// connection's recovery payload.
func (t TriggerType) IsResolution() bool {
	switch t {
	case TriggerResolvedCritical, TriggerResolvedWarning, TriggerResolvedMissingData:
		return true
	}
	return false
}

// Valid reports whether t is one of the known trigger types.
func (t TriggerType) Valid() bool {
	switch t {
	case TriggerNormal, TriggerCritical, TriggerWarning, TriggerMissingData,
		TriggerResolvedCritical, TriggerResolvedWarning, TriggerResolvedMissingData:
		return true
	}
	return false
}

// Row is one result row of the query that raised an alert: a raw message
// (Message, Time, Host, ...) or an aggregate row (client_ip, _count, ...).
// Values are what encoding/json decodes with UseNumber.
type Row map[string]any

// Alert is what a payload template is rendered from: one event raised by a
// monitor, a scheduled search or an outside system. Each field backs one
// payload variable of the reference, named in its comment.
type Alert struct {
	Name             string      // {{Name}}, legacy {{SearchName}}, {{AlertName}} unless set
	Description      string      // {{Description}}, legacy {{SearchDescription}}
	MonitorType      string      // {{MonitorType}}: Logs or Metrics
	Query            string      // {{Query}}, legacy {{SearchQuery}}
	QueryURL         string      // {{QueryURL}}, legacy {{SearchQueryUrl}}
	Results          []Row       // {{ResultsJson}}, {{ResultsJson.field}}, legacy {{AggregateResultsJson}}, {{RawResultsJson}}, {{Results.field}}
	NumQueryResults  int         // {{NumQueryResults}}, legacy {{NumRawResults}}; 0 means len(Results)
	SourceID         string      // {{Id}}, legacy {{AlertID}}: the monitor or search that raised it
	DetectionMethod  string      // {{DetectionMethod}}: LogsStaticCondition, ...
	TriggerType      TriggerType // {{TriggerType}}, legacy {{AlertStatus}}
	TriggerCondition string      // {{TriggerCondition}}, legacy {{AlertThreshold}}, {{AlertCondition}}
	TriggerValue     string      // {{TriggerValue}}
	TriggerTime      time.Time   // {{TriggerTime}}, legacy {{FireTime}}
	TriggerTimeStart time.Time   // {{TriggerTimeStart}} (epoch ms); with End, {{TriggerTimeRange}}, legacy {{TimeRange}}
	TriggerTimeEnd   time.Time   // {{TriggerTimeEnd}} (epoch ms)
	SourceURL        string      // {{SourceURL}}
	AlertResponseURL string      // {{AlertResponseUrl}}

	// Variables holds any other variable by name ({{AlertName}}, {{RoutingKey}},
	// {{DedupKey}}, {{Playbook}}, ...). Names match case-insensitively.
	Variables map[string]string

	// Location is the time zone times are shown in; nil means UTC.
	Location *time.Location
}
