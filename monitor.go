package hookline

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// A monitor runs a log query over a sliding window at a fixed interval and
// raises an alert when a trigger condition starts to hold, and a recovery
// when it stops: Sumo Logic's log monitors, whose field names it follows
// (triggers, thresholdType, runForTriggerTypes, payloadOverride,
// resolutionPayloadOverride, notificationGroupFields). The monitor package
// checks the query and evaluates results; docs/monitors.md describes both.

// Limits on a monitor's fields.
const (
	MaxMonitorQueryLen    = 16384 // characters, as an alert's query
	MinMonitorInterval    = time.Minute
	MaxMonitorWindow      = 24 * time.Hour // "in the last 1440 minutes", the reference's longest
	MaxMonitorGroupFields = 10             // notificationGroupFields, as the reference allows
	MaxFieldNameLen       = 128
)

// Monitor is a log query evaluated every Interval over the last Window,
// with the conditions that raise alerts and where they are sent.
type Monitor struct {
	ID          string
	Name        string // name: also the alerts' {{Name}}
	Description string // description
	Query       string // query: a query in the language of docs/query.md
	// Interval is how often the monitor is evaluated (interval): whole
	// minutes, at least MinMonitorInterval.
	Interval time.Duration
	// Window is the time range each evaluation reads, ending at the
	// evaluation (window): whole minutes from Interval to
	// MaxMonitorWindow. It is at least Interval so that every record falls
	// in some evaluation's window; longer windows overlap and smooth.
	Window        time.Duration
	Triggers      []MonitorTrigger      // triggers: at most one of each type
	Notifications []MonitorNotification // notifications
	// GroupFields (notificationGroupFields) are columns of the query's
	// result; each combination of their values is alerted on, and
	// recovers, on its own: one alert per IP address. Empty: one alert for
	// the whole monitor.
	GroupFields []string
	// Muted monitors are evaluated and their alerts recorded, but nothing is
	// sent (muted).
	Muted bool
	// Disabled monitors are not evaluated at all (isDisabled).
	Disabled bool

	CreatedAt  time.Time
	CreatedBy  string
	ModifiedAt time.Time
	ModifiedBy string
}

// MonitorTrigger is one condition of a monitor.
type MonitorTrigger struct {
	// TriggerType is Critical, Warning or MissingData (triggerType).
	TriggerType TriggerType
	// Threshold and ThresholdType compare the value of Field, for Critical
	// and Warning: value ThresholdType Threshold (threshold, thresholdType).
	Threshold     float64
	ThresholdType ThresholdType
	// Field (field) is "" for the result count — the number of aggregate
	// rows, or of messages for a query that returns messages — or a numeric
	// column of the query's aggregate rows, such as _count.
	Field string
}

// MonitorNotification sends a monitor's alerts of some trigger types to a
// connection. Sumo Logic nests the connection fields in a "notification"
// object; here they sit beside runForTriggerTypes, as in an alert's
// notifications.
type MonitorNotification struct {
	ConnectionID string // connectionId
	// RunForTriggerTypes lists the trigger types sent (runForTriggerTypes):
	// Critical, Warning, MissingData for alerts, the Resolved* forms for
	// recoveries.
	RunForTriggerTypes []TriggerType
	// PayloadOverride replaces the connection's payload for alerts and
	// ResolutionPayloadOverride its recovery payload; "" keeps the
	// connection's (payloadOverride, resolutionPayloadOverride).
	PayloadOverride           string
	ResolutionPayloadOverride string
}

// ThresholdType is how a trigger compares a value with its threshold. The
// names are those of a scheduled search's condition (eq, gt, ge, lt, le),
// so that monitors and scheduled searches share one vocabulary.
type ThresholdType string

// The threshold types.
const (
	ThresholdGT ThresholdType = "gt"
	ThresholdGE ThresholdType = "ge"
	ThresholdLT ThresholdType = "lt"
	ThresholdLE ThresholdType = "le"
	ThresholdEQ ThresholdType = "eq"
)

// ParseThresholdType reads a threshold type by its name, or by the name
// Sumo Logic's monitor API gives it (GreaterThan, GreaterThanOrEqual,
// LessThan, LessThanOrEqual, Equal), ignoring case, so that definitions
// written for that API carry over.
func ParseThresholdType(s string) (ThresholdType, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "gt", "greaterthan":
		return ThresholdGT, true
	case "ge", "greaterthanorequal":
		return ThresholdGE, true
	case "lt", "lessthan":
		return ThresholdLT, true
	case "le", "lessthanorequal":
		return ThresholdLE, true
	case "eq", "equal":
		return ThresholdEQ, true
	}
	return "", false
}

// Valid reports whether t is one of the threshold types.
func (t ThresholdType) Valid() bool {
	switch t {
	case ThresholdGT, ThresholdGE, ThresholdLT, ThresholdLE, ThresholdEQ:
		return true
	}
	return false
}

// Met reports whether value compares with threshold as t says.
func (t ThresholdType) Met(value, threshold float64) bool {
	switch t {
	case ThresholdGT:
		return value > threshold
	case ThresholdGE:
		return value >= threshold
	case ThresholdLT:
		return value < threshold
	case ThresholdLE:
		return value <= threshold
	case ThresholdEQ:
		return value == threshold
	}
	return false
}

// Phrase words t as the reference's {{TriggerCondition}} does: "Greater
// than or equal to".
func (t ThresholdType) Phrase() string {
	switch t {
	case ThresholdGT:
		return "Greater than"
	case ThresholdGE:
		return "Greater than or equal to"
	case ThresholdLT:
		return "Less than"
	case ThresholdLE:
		return "Less than or equal to"
	case ThresholdEQ:
		return "Equal to"
	}
	return string(t)
}

// Resolution returns the recovery of a trigger type that starts an alert
// (Critical → ResolvedCritical), or "" for any other.
func (t TriggerType) Resolution() TriggerType {
	switch t {
	case TriggerCritical:
		return TriggerResolvedCritical
	case TriggerWarning:
		return TriggerResolvedWarning
	case TriggerMissingData:
		return TriggerResolvedMissingData
	}
	return ""
}

// Resolves returns the trigger type a recovery ends (ResolvedCritical →
// Critical), or "" for a type that is not a recovery.
func (t TriggerType) Resolves() TriggerType {
	switch t {
	case TriggerResolvedCritical:
		return TriggerCritical
	case TriggerResolvedWarning:
		return TriggerWarning
	case TriggerResolvedMissingData:
		return TriggerMissingData
	}
	return ""
}

// Trigger returns the monitor's trigger of type t, or nil.
func (m *Monitor) Trigger(t TriggerType) *MonitorTrigger {
	for i := range m.Triggers {
		if m.Triggers[i].TriggerType == t {
			return &m.Triggers[i]
		}
	}
	return nil
}

// Condition words the trigger for {{TriggerCondition}}, as the reference
// does: "_count is Greater than 100.0 in the last 15 minutes", with
// ResultCount for the result count.
func (tr *MonitorTrigger) Condition(window time.Duration) string {
	last := "in the last " + minutes(window)
	if tr.TriggerType == TriggerMissingData {
		return "No data " + last
	}
	subject := tr.Field
	if subject == "" {
		subject = "ResultCount"
	}
	return subject + " is " + tr.ThresholdType.Phrase() + " " + FormatThreshold(tr.Threshold) + " " + last
}

// FormatThreshold writes a threshold as the reference shows one: always
// with a fraction ("100.0", "0.5").
func FormatThreshold(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// limitText words a limit of a duration field as its JSON is written,
// and in minutes past an hour: "1m", "168h (10080 minutes)".
func limitText(d time.Duration) string {
	s := strings.TrimSuffix(d.String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if d <= time.Hour {
		return s
	}
	return s + " (" + minutes(d) + ")"
}

func minutes(d time.Duration) string {
	n := int64(d / time.Minute)
	if n == 1 {
		return "1 minute"
	}
	return strconv.FormatInt(n, 10) + " minutes"
}

// Validate checks a monitor's own fields. The query's syntax, the columns
// the triggers and groups name, and the payload overrides' templates are
// checked by the monitor package's Validate, which calls this first; that
// the connections exist is checked where they are stored.
func (m *Monitor) Validate() error {
	var p Problems
	validateName(&p, "name", m.Name, MaxNameLen)
	validateDescription(&p, m.Description)
	validateQuery(&p, m.Query)
	okInterval := validateMinutes(&p, "interval", m.Interval, MinMonitorInterval, MaxMonitorWindow)
	okWindow := validateMinutes(&p, "window", m.Window, MinMonitorInterval, MaxMonitorWindow)
	if okInterval && okWindow && m.Window < m.Interval {
		p.Add("window", "is shorter than the interval (%s); records between two windows would never be evaluated", minutes(m.Interval))
	}
	m.validateTriggers(&p)
	m.validateNotifications(&p)
	validateGroupFields(&p, m.GroupFields)
	return p.Err()
}

// validateMinutes checks a duration of whole minutes from lo to hi and
// reports whether it is one.
func validateMinutes(p *Problems, field string, d, lo, hi time.Duration) bool {
	switch {
	case d < lo:
		p.Add(field, "must be at least %s", limitText(lo))
	case d > hi:
		p.Add(field, "must be at most %s", limitText(hi))
	case d%time.Minute != 0:
		p.Add(field, "must be a whole number of minutes, not %s", d)
	default:
		return true
	}
	return false
}

func (m *Monitor) validateTriggers(p *Problems) {
	if len(m.Triggers) == 0 {
		p.Add("triggers", "is required: at least one of Critical, Warning or MissingData")
		return
	}
	seen := map[TriggerType]int{}
	for i, tr := range m.Triggers {
		at := "triggers[" + strconv.Itoa(i) + "]"
		switch tr.TriggerType {
		case TriggerCritical, TriggerWarning, TriggerMissingData:
		default:
			p.Add(at+".triggerType", "must be Critical, Warning or MissingData, not %q", tr.TriggerType)
			continue
		}
		if j, dup := seen[tr.TriggerType]; dup {
			p.Add(at+".triggerType", "repeats %s (triggers[%d]); a monitor has one trigger of each type", tr.TriggerType, j)
		}
		seen[tr.TriggerType] = i
		if tr.TriggerType == TriggerMissingData {
			if tr.Threshold != 0 {
				p.Add(at+".threshold", "is not used by a MissingData trigger, which fires when the query matches no record")
			}
			if tr.ThresholdType != "" {
				p.Add(at+".thresholdType", "is not used by a MissingData trigger")
			}
			if tr.Field != "" {
				p.Add(at+".field", "is not used by a MissingData trigger")
			}
			continue
		}
		if !tr.ThresholdType.Valid() {
			p.Add(at+".thresholdType", "must be one of gt, ge, lt, le or eq, not %q", tr.ThresholdType)
		}
		if math.IsNaN(tr.Threshold) || math.IsInf(tr.Threshold, 0) {
			p.Add(at+".threshold", "must be a finite number")
		}
		if tr.Field != "" {
			p.AddError(at+".field", ValidateFieldName(tr.Field))
		}
	}
}

func (m *Monitor) validateNotifications(p *Problems) {
	if len(m.Notifications) > MaxNotifications {
		p.Add("notifications", "has %d entries; at most %d are allowed", len(m.Notifications), MaxNotifications)
		return
	}
	seen := map[string]int{}
	for i, n := range m.Notifications {
		at := "notifications[" + strconv.Itoa(i) + "]"
		switch {
		case strings.TrimSpace(n.ConnectionID) == "":
			p.Add(at+".connectionId", "is required")
		case len(n.ConnectionID) > 256 || !printable(n.ConnectionID):
			p.Add(at+".connectionId", "must be a connection's ID")
		default:
			if j, dup := seen[n.ConnectionID]; dup {
				p.Add(at+".connectionId", "repeats notifications[%d]; each connection gets one delivery per alert, so list its trigger types once", j)
			}
			seen[n.ConnectionID] = i
		}
		if len(n.RunForTriggerTypes) == 0 {
			p.Add(at+".runForTriggerTypes", `is required: the trigger types to send, such as ["Critical", "ResolvedCritical"]`)
		}
		types := map[TriggerType]bool{}
		for j, t := range n.RunForTriggerTypes {
			tat := at + ".runForTriggerTypes[" + strconv.Itoa(j) + "]"
			base := t
			if t.IsResolution() {
				base = t.Resolves()
			}
			switch {
			case base != TriggerCritical && base != TriggerWarning && base != TriggerMissingData:
				p.Add(tat, "must be one of Critical, Warning, MissingData, ResolvedCritical, ResolvedWarning or ResolvedMissingData, not %q", t)
			case types[t]:
				p.Add(tat, "repeats %s", t)
			case m.Trigger(base) == nil:
				p.Add(tat, "names %s, but the monitor has no %s trigger", t, base)
			}
			types[t] = true
		}
		if len(n.PayloadOverride) > MaxDefaultPayloadLen {
			p.Add(at+".payloadOverride", "is %d bytes long; at most %d are allowed", len(n.PayloadOverride), MaxDefaultPayloadLen)
		}
		if len(n.ResolutionPayloadOverride) > MaxResolutionPayloadLen {
			p.Add(at+".resolutionPayloadOverride", "is %d bytes long; at most %d are allowed", len(n.ResolutionPayloadOverride), MaxResolutionPayloadLen)
		}
	}
}

func validateGroupFields(p *Problems, fields []string) {
	if len(fields) > MaxMonitorGroupFields {
		p.Add("notificationGroupFields", "has %d fields; at most %d are allowed", len(fields), MaxMonitorGroupFields)
		return
	}
	seen := map[string]int{}
	for i, f := range fields {
		at := "notificationGroupFields[" + strconv.Itoa(i) + "]"
		if err := ValidateFieldName(f); err != nil {
			p.AddError(at, err)
			continue
		}
		key := strings.ToLower(f)
		if j, dup := seen[key]; dup {
			p.Add(at, "repeats notificationGroupFields[%d]; field names ignore case", j)
		}
		seen[key] = i
	}
}

// ValidateFieldName checks the name of a query field as a monitor names
// one: a letter or "_", then letters, digits, "_" and ".", as the query
// language allows.
func ValidateFieldName(name string) error {
	switch {
	case name == "":
		return Errorf(EINVALID, "is required")
	case len(name) > MaxFieldNameLen:
		return Errorf(EINVALID, "is %d bytes long; at most %d are allowed", len(name), MaxFieldNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '.')) {
			return Errorf(EINVALID, "must start with a letter or _ and hold only letters, digits, _ and ., not %q", name)
		}
	}
	return nil
}

// MonitorAudit is a monitor as the audit log shows it, under the names of
// docs/monitors.md; Interval and Window are durations as Go writes them
// ("5m0s"). A monitor holds no secret, so the view is all of it but the
// ID and times, which the event carries.
type MonitorAudit struct {
	Name          string                     `json:"name"`
	Description   string                     `json:"description"`
	Query         string                     `json:"query"`
	Interval      string                     `json:"interval"`
	Window        string                     `json:"window"`
	Triggers      []MonitorTriggerAudit      `json:"triggers"`
	Notifications []MonitorNotificationAudit `json:"notifications"`
	GroupFields   []string                   `json:"notificationGroupFields"`
	Muted         bool                       `json:"muted"`
	Disabled      bool                       `json:"isDisabled"`
}

// MonitorTriggerAudit is a trigger as the audit log shows it.
type MonitorTriggerAudit struct {
	TriggerType   TriggerType   `json:"triggerType"`
	Threshold     float64       `json:"threshold"`
	ThresholdType ThresholdType `json:"thresholdType,omitempty"`
	Field         string        `json:"field,omitempty"`
}

// MonitorNotificationAudit is a notification as the audit log shows it.
type MonitorNotificationAudit struct {
	ConnectionID              string        `json:"connectionId"`
	RunForTriggerTypes        []TriggerType `json:"runForTriggerTypes"`
	PayloadOverride           string        `json:"payloadOverride,omitempty"`
	ResolutionPayloadOverride string        `json:"resolutionPayloadOverride,omitempty"`
}

// AuditView returns m as the audit log shows it. Its lists are lists even
// when empty, so that before and after compare alike, and share nothing
// with m.
func (m *Monitor) AuditView() MonitorAudit {
	v := MonitorAudit{
		Name: m.Name, Description: m.Description, Query: m.Query,
		Interval: m.Interval.String(), Window: m.Window.String(),
		Triggers:      make([]MonitorTriggerAudit, len(m.Triggers)),
		Notifications: make([]MonitorNotificationAudit, len(m.Notifications)),
		GroupFields:   append([]string{}, m.GroupFields...),
		Muted:         m.Muted, Disabled: m.Disabled,
	}
	for i, tr := range m.Triggers {
		v.Triggers[i] = MonitorTriggerAudit(tr)
	}
	for i, n := range m.Notifications {
		n.RunForTriggerTypes = append([]TriggerType{}, n.RunForTriggerTypes...)
		v.Notifications[i] = MonitorNotificationAudit(n)
	}
	return v
}

// ParseMinutes reads a duration as the API and definition files give the
// intervals and windows of monitors and searches: Go's form ("5m", "1h30m")
// or a bare number of minutes ("5"). A missing or unreadable one is a
// problem of field, and 0.
func ParseMinutes(p *Problems, field, s string) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		p.Add(field, `is required: a number of minutes such as "5m"`)
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Minute
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.Add(field, `must be a duration such as "5m" or "1h", not %q`, s)
		return 0
	}
	return d
}

// FormatMinutes writes a duration without the zero units Go adds ("5m",
// "1h", "1h30m").
func FormatMinutes(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
