package hookline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

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

// triggerTypes are the known trigger types, in the order lists and
// errors give them.
var triggerTypes = [...]TriggerType{TriggerNormal, TriggerCritical, TriggerWarning, TriggerMissingData,
	TriggerResolvedCritical, TriggerResolvedWarning, TriggerResolvedMissingData}

// TriggerTypes returns the known trigger types, in the order lists and
// errors give them.
func TriggerTypes() []TriggerType { return slices.Clone(triggerTypes[:]) }

// Valid reports whether t is one of TriggerTypes.
func (t TriggerType) Valid() bool { return slices.Contains(triggerTypes[:], t) }

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
	NumQueryResults  int         // {{NumQueryResults}}, legacy {{NumRawResults}}: the results the source counted, which may be more than Results (or fewer: a recovery's group row); JSON without it reads as len(Results)
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

// alertJSON is Alert's wire form, in the alerts API and in storage.
type alertJSON struct {
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	MonitorType      string            `json:"monitorType,omitempty"`
	Query            string            `json:"query,omitempty"`
	QueryURL         string            `json:"queryUrl,omitempty"`
	Results          []Row             `json:"results,omitempty"`
	NumQueryResults  *int              `json:"numQueryResults,omitempty"`
	SourceID         string            `json:"sourceId,omitempty"`
	DetectionMethod  string            `json:"detectionMethod,omitempty"`
	TriggerType      TriggerType       `json:"triggerType"`
	TriggerCondition string            `json:"triggerCondition,omitempty"`
	TriggerValue     string            `json:"triggerValue,omitempty"`
	TriggerTime      time.Time         `json:"triggerTime,omitzero"`
	TriggerTimeStart time.Time         `json:"triggerTimeStart,omitzero"`
	TriggerTimeEnd   time.Time         `json:"triggerTimeEnd,omitzero"`
	SourceURL        string            `json:"sourceUrl,omitempty"`
	AlertResponseURL string            `json:"alertResponseUrl,omitempty"`
	Variables        map[string]string `json:"variables,omitempty"`
	TimeZone         string            `json:"timeZone,omitempty"`
}

// alertFields are the JSON names of alertJSON, for refusing unknown ones.
var alertFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[alertJSON]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// MarshalJSON writes the alert's wire form; the time zone travels by name.
func (a Alert) MarshalJSON() ([]byte, error) {
	w := alertJSON{
		Name: a.Name, Description: a.Description, MonitorType: a.MonitorType, Query: a.Query,
		QueryURL: a.QueryURL, Results: a.Results, NumQueryResults: &a.NumQueryResults,
		SourceID: a.SourceID, DetectionMethod: a.DetectionMethod, TriggerType: a.TriggerType,
		TriggerCondition: a.TriggerCondition, TriggerValue: a.TriggerValue,
		TriggerTime: a.TriggerTime, TriggerTimeStart: a.TriggerTimeStart, TriggerTimeEnd: a.TriggerTimeEnd,
		SourceURL: a.SourceURL, AlertResponseURL: a.AlertResponseURL, Variables: a.Variables,
	}
	if a.Location != nil && a.Location != time.UTC {
		w.TimeZone = a.Location.String()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the wire form. Numbers in results keep their exact
// text, and an unknown field or time zone is an *Error naming it.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return jsonFieldError(err)
	}
	var p Problems
	for name := range fields {
		if !alertFields[name] {
			p.Add(name, "is not a field of an alert")
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	var w alertJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return jsonFieldError(err)
	}
	*a = Alert{
		Name: w.Name, Description: w.Description, MonitorType: w.MonitorType, Query: w.Query,
		QueryURL: w.QueryURL, Results: w.Results, NumQueryResults: len(w.Results),
		SourceID: w.SourceID, DetectionMethod: w.DetectionMethod, TriggerType: w.TriggerType,
		TriggerCondition: w.TriggerCondition, TriggerValue: w.TriggerValue,
		TriggerTime: w.TriggerTime, TriggerTimeStart: w.TriggerTimeStart, TriggerTimeEnd: w.TriggerTimeEnd,
		SourceURL: w.SourceURL, AlertResponseURL: w.AlertResponseURL, Variables: w.Variables,
	}
	if w.NumQueryResults != nil {
		a.NumQueryResults = *w.NumQueryResults
	}
	if w.TimeZone != "" {
		loc, err := time.LoadLocation(w.TimeZone)
		if err != nil {
			return &Error{Code: EINVALID, Fields: []FieldError{{Field: "timeZone", Message: fmt.Sprintf("%q is not an IANA time zone such as America/Chicago", w.TimeZone)}}}
		}
		a.Location = loc
	}
	return nil
}

// jsonFieldError names the field a decoding error is about.
func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return &Error{Code: EINVALID, Fields: []FieldError{{Field: te.Field, Message: "must be a " + jsonKind(te.Type.Kind().String())}}}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return &Error{Code: EINVALID, Message: fmt.Sprintf("a time is not in RFC 3339 form (2026-11-26T12:00:00Z): %q", pe.Value)}
	}
	return &Error{Code: EINVALID, Message: "the alert is not valid JSON: " + err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "float64":
		return "number"
	case "slice":
		return "list"
	case "map", "struct":
		return "JSON object"
	}
	return k
}

// Validate checks an alert given from outside.
func (a *Alert) Validate() error {
	var p Problems
	if !a.TriggerType.Valid() {
		p.Add("triggerType", "must be one of Critical, Warning, MissingData, ResolvedCritical, ResolvedWarning, ResolvedMissingData or Normal, not %q", a.TriggerType)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"name", a.Name, 1024}, {"description", a.Description, 4096}, {"monitorType", a.MonitorType, 64},
		{"query", a.Query, 16384}, {"queryUrl", a.QueryURL, MaxURLLen}, {"sourceId", a.SourceID, 256},
		{"detectionMethod", a.DetectionMethod, 64}, {"triggerCondition", a.TriggerCondition, 1024},
		{"triggerValue", a.TriggerValue, 1024}, {"sourceUrl", a.SourceURL, MaxURLLen},
		{"alertResponseUrl", a.AlertResponseURL, MaxURLLen},
	} {
		if n := utf8.RuneCountInString(f.value); n > f.max {
			p.Add(f.name, "is %d characters long; at most %d are allowed", n, f.max)
		} else if !utf8.ValidString(f.value) {
			p.Add(f.name, "is not valid UTF-8")
		}
	}
	if strings.TrimSpace(a.Name) == "" {
		p.Add("name", "is required")
	}
	if len(a.Results) > MaxResults {
		p.Add("results", "has %d rows; at most %d are kept", len(a.Results), MaxResults)
	}
	if a.NumQueryResults < 0 {
		p.Add("numQueryResults", "must not be negative")
	}
	if len(a.Variables) > 100 {
		p.Add("variables", "has %d entries; at most 100 are allowed", len(a.Variables))
	}
	for k, v := range a.Variables {
		if k == "" || len(k) > 128 || strings.ContainsAny(k, "{} \t\r\n") {
			p.Add("variables", "%q is not a variable name", k)
		}
		if len(v) > 16384 || !utf8.ValidString(v) {
			p.Add("variables."+k, "must be valid UTF-8 of at most 16384 bytes")
		}
	}
	if !a.TriggerTimeStart.IsZero() && !a.TriggerTimeEnd.IsZero() && a.TriggerTimeEnd.Before(a.TriggerTimeStart) {
		p.Add("triggerTimeEnd", "is before triggerTimeStart")
	}
	return p.Err()
}
