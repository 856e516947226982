package payload

import (
	"strings"

	"github.com/hookline/hookline"
)

// Variable describes one payload variable for the UI and the docs.
type Variable struct {
	Name        string // canonical spelling, without braces: "ResultsJson"
	Description string // one sentence
	Example     string // what it renders as inside quotes
	Legacy      bool   // kept for old payloads; Sumo Logic says it will be deprecated
	AliasOf     string // for a legacy name, the current variable it renders like
}

// kind says where a variable's value comes from and how it renders bare.
type kind uint8

const (
	kindExtra kind = iota // Alert.Variables; also every name outside Reference
	kindName
	kindDescription
	kindMonitorType
	kindQuery
	kindQueryURL
	kindResults      // the rows as a JSON array
	kindResultsField // one field of one row
	kindNumResults
	kindID
	kindDetectionMethod
	kindTriggerType
	kindTriggerTimeRange
	kindTriggerTime
	kindTriggerCondition
	kindTriggerValue
	kindTriggerTimeStart
	kindTriggerTimeEnd
	kindSourceURL
	kindAlertResponseURL
	kindAlertName // Alert.Variables, defaulting to Alert.Name
)

type def struct {
	v    Variable
	kind kind
}

// The field forms are listed under these names; a template writes
// {{ResultsJson.client_ip}} or {{Results.client_ip}}.
const (
	resultsFieldName = "ResultsJson.fieldName"
	legacyFieldName  = "Results.fieldName"
)

var defs = []def{
	{Variable{Name: "Name", Description: "Name of the monitor or search that raised the alert.", Example: "Hookline test alert"}, kindName},
	{Variable{Name: "Description", Description: "Description of the monitor or search.", Example: "Clients sending unusually many requests"}, kindDescription},
	{Variable{Name: "MonitorType", Description: "Type of the monitor: Logs or Metrics.", Example: "Logs"}, kindMonitorType},
	{Variable{Name: "Query", Description: "The query that raised the alert.", Example: "_sourceCategory=nginx | count by client_ip"}, kindQuery},
	{Variable{Name: "QueryURL", Description: "URL that opens the query and its results.", Example: "http://127.0.0.1:8080/search?monitor=0000000000001A2B"}, kindQueryURL},
	{Variable{Name: "ResultsJson", Description: "The query's result rows as a JSON array, at most 200 aggregate rows or 10 raw messages. Inside quotes it is the array's JSON text as a string; bare it is the array itself.", Example: `[{"_count":1542,"client_ip":"203.0.113.7"}]`}, kindResults},
	{Variable{Name: resultsFieldName, Description: "Field fieldName of the first result row (case-insensitive); {{ResultsJson.fieldName}}[N] gives row N, counting from 0. Bare, a number stays a number.", Example: "203.0.113.7"}, kindResultsField},
	{Variable{Name: "NumQueryResults", Description: "Number of result rows: aggregate rows, or raw messages for a non-aggregate query. Bare, a JSON number.", Example: "2"}, kindNumResults},
	{Variable{Name: "Id", Description: "ID of the monitor or search that raised the alert.", Example: "0000000000001A2B"}, kindID},
	{Variable{Name: "DetectionMethod", Description: "How the monitor detects the condition: LogsStaticCondition, MetricsStaticCondition, LogsOutlierCondition, ...", Example: "LogsStaticCondition"}, kindDetectionMethod},
	{Variable{Name: "TriggerType", Description: "Normal, Critical, Warning or MissingData for an alert; ResolvedCritical, ResolvedWarning or ResolvedMissingData for a recovery.", Example: "Critical"}, kindTriggerType},
	{Variable{Name: "TriggerTimeRange", Description: "The time range whose data met the trigger condition.", Example: "07/13/2021 03:21:32 PM UTC to 07/13/2021 03:36:32 PM UTC"}, kindTriggerTimeRange},
	{Variable{Name: "TriggerTime", Description: "When the alert was raised.", Example: "07/13/2021 03:38:30 PM UTC"}, kindTriggerTime},
	{Variable{Name: "TriggerCondition", Description: "The condition that was met.", Example: "Greater than or equal to 1.0 in the last 15 minutes"}, kindTriggerCondition},
	{Variable{Name: "TriggerValue", Description: "The value that met the condition.", Example: "1542"}, kindTriggerValue},
	{Variable{Name: "TriggerTimeStart", Description: "Start of the trigger time range in milliseconds since the Unix epoch. Bare, a JSON number.", Example: "1626189692042"}, kindTriggerTimeStart},
	{Variable{Name: "TriggerTimeEnd", Description: "End of the trigger time range in milliseconds since the Unix epoch. Bare, a JSON number.", Example: "1626190592042"}, kindTriggerTimeEnd},
	{Variable{Name: "SourceURL", Description: "URL of the configuration or status page of the monitor.", Example: "http://127.0.0.1:8080/monitors/0000000000001A2B"}, kindSourceURL},
	{Variable{Name: "AlertResponseUrl", Description: "URL of the page that shows this alert.", Example: "http://127.0.0.1:8080/alerts/0000000000C0FFEE"}, kindAlertResponseURL},
	{Variable{Name: "SloDashboardUrl", Description: "URL of the SLO dashboard, for SLO monitors.", Example: "http://127.0.0.1:8080/slos/0000000000000051"}, kindExtra},
	{Variable{Name: "AlertName", Description: "Name of the alert as shown on the alert page; Name unless the source sets its own.", Example: "Hookline test alert"}, kindAlertName},
	{Variable{Name: "Playbook", Description: "The playbook text configured on the monitor.", Example: "Check the client IPs and block them if the traffic is unexpected."}, kindExtra},

	{Variable{Name: "SearchName", Description: "Name of the monitor or search.", Example: "Hookline test alert", Legacy: true, AliasOf: "Name"}, kindName},
	{Variable{Name: "SearchDescription", Description: "Description of the monitor or search.", Example: "Clients sending unusually many requests", Legacy: true, AliasOf: "Description"}, kindDescription},
	{Variable{Name: "SearchQuery", Description: "The query that raised the alert.", Example: "_sourceCategory=nginx | count by client_ip", Legacy: true, AliasOf: "Query"}, kindQuery},
	{Variable{Name: "SearchQueryUrl", Description: "URL that opens the query and its results.", Example: "http://127.0.0.1:8080/search?monitor=0000000000001A2B", Legacy: true, AliasOf: "QueryURL"}, kindQueryURL},
	{Variable{Name: "TimeRange", Description: "The time range whose data met the trigger condition.", Example: "07/13/2021 03:21:32 PM UTC to 07/13/2021 03:36:32 PM UTC", Legacy: true, AliasOf: "TriggerTimeRange"}, kindTriggerTimeRange},
	{Variable{Name: "FireTime", Description: "When the alert was raised.", Example: "07/13/2021 03:38:30 PM UTC", Legacy: true, AliasOf: "TriggerTime"}, kindTriggerTime},
	{Variable{Name: "AggregateResultsJson", Description: "The result rows, as ResultsJson.", Example: `[{"_count":1542,"client_ip":"203.0.113.7"}]`, Legacy: true, AliasOf: "ResultsJson"}, kindResults},
	{Variable{Name: "RawResultsJson", Description: "The result rows, as ResultsJson.", Example: `[{"Host":"web-1","Message":"GET /login 401","Time":1626190592042}]`, Legacy: true, AliasOf: "ResultsJson"}, kindResults},
	{Variable{Name: "NumRawResults", Description: "Number of result rows, as NumQueryResults.", Example: "2", Legacy: true, AliasOf: "NumQueryResults"}, kindNumResults},
	{Variable{Name: legacyFieldName, Description: "Field fieldName of a result row, as ResultsJson.fieldName.", Example: "203.0.113.7", Legacy: true, AliasOf: resultsFieldName}, kindResultsField},
	{Variable{Name: "AlertThreshold", Description: "The condition that was met, as TriggerCondition.", Example: "Greater than or equal to 1.0 in the last 15 minutes", Legacy: true, AliasOf: "TriggerCondition"}, kindTriggerCondition},
	{Variable{Name: "AlertSource", Description: "The metric and host that raised a metrics alert, with their tags; set by the alert's source.", Example: "metric=CPU_Total _sourceHost=web-1", Legacy: true}, kindExtra},
	{Variable{Name: "AlertID", Description: "ID of the monitor or search, as Id.", Example: "0000000000001A2B", Legacy: true, AliasOf: "Id"}, kindID},
	{Variable{Name: "AlertStatus", Description: "The trigger type, as TriggerType.", Example: "Critical", Legacy: true, AliasOf: "TriggerType"}, kindTriggerType},
	{Variable{Name: "AlertCondition", Description: "The condition that was met, as TriggerCondition.", Example: "Greater than or equal to 1.0 in the last 15 minutes", Legacy: true, AliasOf: "TriggerCondition"}, kindTriggerCondition},

	{Variable{Name: "RoutingKey", Description: "PagerDuty Events API v2 routing key, set by the alert's source for recovery correlation.", Example: "R0UT1NGKEY0000000000000000000000"}, kindExtra},
	{Variable{Name: "DedupKey", Description: "Key that ties a recovery to its alert (PagerDuty v2 dedup_key), set by the alert's source.", Example: "hookline-0000000000001A2B"}, kindExtra},
	{Variable{Name: "PayloadSeverity", Description: "Severity for a PagerDuty v2 payload, set by the alert's source.", Example: "critical"}, kindExtra},
	{Variable{Name: "PayloadSource", Description: "Source for a PagerDuty v2 payload, set by the alert's source.", Example: "Hookline"}, kindExtra},
	{Variable{Name: "ServiceKey", Description: "PagerDuty Events API v1 service key, set by the alert's source for recovery correlation.", Example: "5E1241CEKEY00000000000000000000"}, kindExtra},
	{Variable{Name: "IncidentKey", Description: "Key that ties a recovery to its alert (PagerDuty v1 incident_key, SIGNL4 external ID), set by the alert's source.", Example: "hookline-0000000000001A2B"}, kindExtra},
}

// Reference lists every supported variable: the current ones, then the
// legacy names, then the correlation keys. Names outside it still resolve
// from Alert.Variables, but Template.Unknown reports them.
var Reference = func() []Variable {
	r := make([]Variable, len(defs))
	for i, d := range defs {
		r[i] = d.v
	}
	return r
}()

// known maps a lower-cased plain name to its definition. The field forms are
// recognised by their prefix instead (see resolve).
var known = func() map[string]def {
	m := make(map[string]def, len(defs))
	for _, d := range defs {
		if d.kind == kindResultsField {
			continue
		}
		m[strings.ToLower(d.v.Name)] = d
	}
	return m
}()

// resolve decides how a variable, written name (already trimmed), renders.
func resolve(name string) (r ref, inReference bool) {
	r = ref{name: name, key: name, index: -1}
	if head, field, ok := strings.Cut(name, "."); ok {
		if strings.EqualFold(head, "ResultsJson") || strings.EqualFold(head, "Results") {
			r.kind = kindResultsField
			r.field = strings.Trim(field, " ")
			return r, true
		}
		return r, false
	}
	d, ok := known[strings.ToLower(name)]
	if !ok {
		return r, false
	}
	r.kind = d.kind
	r.key = d.v.Name
	return r, true
}

// lookup finds key in vars case-insensitively. An exact match wins; among
// keys that differ only in case the smallest wins, so that rendering does not
// depend on map order.
func lookup(vars map[string]string, key string) string {
	if v, ok := vars[key]; ok {
		return v
	}
	found, best := false, ""
	var val string
	for k, v := range vars {
		if strings.EqualFold(k, key) && (!found || k < best) {
			found, best, val = true, k, v
		}
	}
	return val
}

// lookupRow finds field in row as lookup does.
func lookupRow(row hookline.Row, field string) (any, bool) {
	if v, ok := row[field]; ok {
		return v, true
	}
	found, best := false, ""
	var val any
	for k, v := range row {
		if strings.EqualFold(k, field) && (!found || k < best) {
			found, best, val = true, k, v
		}
	}
	return val, found
}
