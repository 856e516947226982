package hookline

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A scheduled search runs a log query on a cron schedule over a time range
// that ends when it runs, and notifies one connection when the number of
// results meets a condition, or every time: Sumo Logic's scheduled
// searches, whose schedule and notification field names it follows
// (scheduleType, cronExpression, timeZone, threshold, itemizeAlerts,
// maxItemizedAlerts). Unlike a monitor it keeps no alert state: every run
// that meets the condition notifies, and nothing recovers. The
// scheduledsearch package checks the query and runs searches;
// docs/scheduled-searches.md describes both.

// Limits on a scheduled search's fields.
const (
	MinSearchTimeRange = time.Minute
	// MaxSearchTimeRange allows a weekly search over its whole week.
	MaxSearchTimeRange = 7 * 24 * time.Hour
	// MaxItemizedAlerts is the most alerts one run sends when it sends one
	// per result, as the reference allows.
	MaxItemizedAlerts = 100
	// MaxSearchResults is the most result rows a run passes on to its
	// alerts: "no more than 512 records returned by a scheduled search run
	// are used for webhook connection" (the reference), as MaxResults.
	MaxSearchResults = MaxResults
)

// ScheduleType names how often a scheduled search runs (scheduleType).
// ScheduleCustom runs on CronExpression; each other type stands for a
// fixed expression, ScheduleType.Cron.
type ScheduleType string

// The schedule types, with the reference's API names. Real Time searches
// are not offered: a monitor with a one-minute interval does that job.
const (
	Schedule15Minutes ScheduleType = "15Minutes"
	Schedule1Hour     ScheduleType = "1Hour"
	Schedule2Hours    ScheduleType = "2Hours"
	Schedule4Hours    ScheduleType = "4Hours"
	Schedule6Hours    ScheduleType = "6Hours"
	Schedule8Hours    ScheduleType = "8Hours"
	Schedule12Hours   ScheduleType = "12Hours"
	Schedule1Day      ScheduleType = "1Day"
	Schedule1Week     ScheduleType = "1Week"
	ScheduleCustom    ScheduleType = "Custom"
)

// ScheduleTypes lists the schedule types in the order a form offers them.
var ScheduleTypes = []ScheduleType{
	Schedule15Minutes, Schedule1Hour, Schedule2Hours, Schedule4Hours, Schedule6Hours,
	Schedule8Hours, Schedule12Hours, Schedule1Day, Schedule1Week, ScheduleCustom,
}

// Cron returns the cron expression a fixed schedule type stands for, in
// the search's time zone, and "" for ScheduleCustom and unknown types.
// Daily and weekly searches run at midnight, weekly ones on Mondays.
func (t ScheduleType) Cron() string {
	switch t {
	case Schedule15Minutes:
		return "*/15 * * * *"
	case Schedule1Hour:
		return "0 * * * *"
	case Schedule2Hours:
		return "0 */2 * * *"
	case Schedule4Hours:
		return "0 */4 * * *"
	case Schedule6Hours:
		return "0 */6 * * *"
	case Schedule8Hours:
		return "0 */8 * * *"
	case Schedule12Hours:
		return "0 */12 * * *"
	case Schedule1Day:
		return "0 0 * * *"
	case Schedule1Week:
		return "0 0 * * 1"
	}
	return ""
}

// ScheduledSearch is a query run on a schedule, with the condition that
// makes a run notify and the notification it sends.
type ScheduledSearch struct {
	ID          string
	Name        string // name: also the alerts' {{Name}} and {{SearchName}}
	Description string // description
	Query       string // query: a query in the language of docs/query.md

	// ScheduleType is how often the search runs (scheduleType).
	ScheduleType ScheduleType
	// CronExpression is when it runs (cronExpression): required for
	// ScheduleCustom; for the other types it must be empty or the type's
	// own expression, and Normalize fills it in.
	CronExpression string
	// TimeZone is the IANA time zone the expression is read in (timeZone);
	// "" reads as UTC and Normalize writes it so.
	TimeZone string
	// TimeRange is how far back each run reads, ending at the run's
	// scheduled time (timeRange): whole minutes from MinSearchTimeRange to
	// MaxSearchTimeRange.
	TimeRange time.Duration
	// Threshold is the condition on the number of results that makes a run
	// notify (threshold); nil notifies every time the search completes.
	Threshold *SearchThreshold
	// Notification is where a run's alerts go (notification).
	Notification SearchNotification
	// Disabled searches do not run (isDisabled); the reference's "Never".
	Disabled bool

	CreatedAt  time.Time
	CreatedBy  string
	ModifiedAt time.Time
	ModifiedBy string
}

// SearchThreshold is a scheduled search's condition: the number of results
// — aggregate rows for an aggregate query, messages for any other —
// compared with Count by Operator (threshold.operator, threshold.count).
type SearchThreshold struct {
	Operator ThresholdType
	Count    int
}

// Met reports whether n results meet the threshold.
func (t *SearchThreshold) Met(n int) bool {
	return t.Operator.Met(float64(n), float64(t.Count))
}

// Condition words the threshold for {{TriggerCondition}} and
// {{AlertCondition}}: "Number of results Greater than 0", or "Every time
// the search completes" for none.
func (t *SearchThreshold) Condition() string {
	if t == nil {
		return "Every time the search completes"
	}
	return "Number of results " + t.Operator.Phrase() + " " + strconv.Itoa(t.Count)
}

// SearchNotification sends a scheduled search's alerts to one connection
// (the reference's WebhookSearchNotificationSyncDefinition).
type SearchNotification struct {
	// ConnectionID is the connection notified (connectionId; the
	// reference's webhookId).
	ConnectionID string
	// Payload replaces the connection's alert payload for this search
	// (payload); "" keeps the connection's.
	Payload string
	// ItemizeAlerts sends one alert per result row instead of one per run
	// (itemizeAlerts), each with that row in {{ResultsJson}}, at most
	// MaxItemizedAlerts of them: rows beyond are not alerted.
	ItemizeAlerts bool
	// MaxItemizedAlerts bounds the alerts of an itemized run
	// (maxItemizedAlerts): 1 to MaxItemizedAlerts, and 0 when ItemizeAlerts
	// is off. Normalize sets MaxItemizedAlerts for an itemized search that
	// gives none.
	MaxItemizedAlerts int
}

// Normalize fills in what a scheduled search may leave out: the cron
// expression of a fixed schedule type, the UTC time zone and the most
// itemized alerts. Validate checks the result.
func (s *ScheduledSearch) Normalize() {
	if s.CronExpression == "" {
		s.CronExpression = s.ScheduleType.Cron()
	}
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	if s.Notification.ItemizeAlerts && s.Notification.MaxItemizedAlerts == 0 {
		s.Notification.MaxItemizedAlerts = MaxItemizedAlerts
	}
}

// Location returns the search's time zone, UTC for "".
func (s *ScheduledSearch) Location() (*time.Location, error) {
	if s.TimeZone == "" || s.TimeZone == "UTC" {
		return time.UTC, nil
	}
	return time.LoadLocation(s.TimeZone)
}

// Validate checks a scheduled search's own fields. The query's syntax, the
// cron expression and the payload's template are checked by the
// scheduledsearch package's Validate, which calls this first; that the
// connection exists is checked where searches are stored.
func (s *ScheduledSearch) Validate() error {
	var p Problems
	validateName(&p, "name", s.Name, MaxNameLen)
	validateDescription(&p, s.Description)
	validateQuery(&p, s.Query)
	switch {
	case s.ScheduleType == ScheduleCustom:
		if strings.TrimSpace(s.CronExpression) == "" {
			p.Add("cronExpression", "is required for scheduleType Custom")
		} else if len(s.CronExpression) > 256 || !printable(s.CronExpression) {
			p.Add("cronExpression", "must be a cron expression of at most 256 printable characters")
		}
	case s.ScheduleType.Cron() == "":
		p.Add("scheduleType", "must be one of %s, not %q", scheduleTypeList(), s.ScheduleType)
	case s.CronExpression != "" && s.CronExpression != s.ScheduleType.Cron():
		p.Add("cronExpression", "is %q for scheduleType %s; leave it empty, or use scheduleType Custom for another schedule",
			s.ScheduleType.Cron(), s.ScheduleType)
	}
	if len(s.TimeZone) > 64 || !printable(s.TimeZone) {
		p.Add("timeZone", "must be an IANA time zone name such as Europe/Berlin")
	} else if _, err := s.Location(); err != nil {
		p.Add("timeZone", "is not a time zone this machine knows: %q (use an IANA name such as Europe/Berlin)", s.TimeZone)
	}
	validateMinutes(&p, "timeRange", s.TimeRange, MinSearchTimeRange, MaxSearchTimeRange)
	if t := s.Threshold; t != nil {
		if !t.Operator.Valid() {
			p.Add("threshold.operator", "must be one of gt, ge, lt, le or eq, not %q", t.Operator)
		}
		if t.Count < 0 {
			p.Add("threshold.count", "must not be negative")
		}
	}
	n := s.Notification
	switch {
	case strings.TrimSpace(n.ConnectionID) == "":
		p.Add("notification.connectionId", "is required")
	case len(n.ConnectionID) > 256 || !printable(n.ConnectionID):
		p.Add("notification.connectionId", "must be a connection's ID")
	}
	if len(n.Payload) > MaxDefaultPayloadLen {
		p.Add("notification.payload", "is %d bytes long; at most %d are allowed", len(n.Payload), MaxDefaultPayloadLen)
	}
	switch {
	case !n.ItemizeAlerts && n.MaxItemizedAlerts != 0:
		p.Add("notification.maxItemizedAlerts", "is only used with itemizeAlerts")
	case n.ItemizeAlerts && (n.MaxItemizedAlerts < 1 || n.MaxItemizedAlerts > MaxItemizedAlerts):
		p.Add("notification.maxItemizedAlerts", "must be between 1 and %d", MaxItemizedAlerts)
	}
	return p.Err()
}

// validateQuery checks the text of a monitor's or search's query; its
// syntax is the query package's to check.
func validateQuery(p *Problems, q string) {
	switch n := utf8.RuneCountInString(q); {
	case strings.TrimSpace(q) == "":
		p.Add("query", "is required")
	case n > MaxMonitorQueryLen:
		p.Add("query", "is %d characters long; at most %d are allowed", n, MaxMonitorQueryLen)
	case !utf8.ValidString(q):
		p.Add("query", "is not valid UTF-8")
	}
}

func scheduleTypeList() string {
	names := make([]string, len(ScheduleTypes))
	for i, t := range ScheduleTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// ScheduledSearchAudit is a scheduled search as the audit log shows it,
// under the names of docs/scheduled-searches.md. A search holds no secret,
// so the view is all of it but the ID and times, which the event carries.
type ScheduledSearchAudit struct {
	Name           string                  `json:"name"`
	Description    string                  `json:"description"`
	Query          string                  `json:"query"`
	ScheduleType   ScheduleType            `json:"scheduleType"`
	CronExpression string                  `json:"cronExpression"`
	TimeZone       string                  `json:"timeZone"`
	TimeRange      string                  `json:"timeRange"`
	Threshold      *SearchThresholdAudit   `json:"threshold"`
	Notification   SearchNotificationAudit `json:"notification"`
	Disabled       bool                    `json:"isDisabled"`
}

// SearchThresholdAudit is a threshold as the audit log shows it.
type SearchThresholdAudit struct {
	Operator ThresholdType `json:"operator"`
	Count    int           `json:"count"`
}

// SearchNotificationAudit is a notification as the audit log shows it.
type SearchNotificationAudit struct {
	ConnectionID      string `json:"connectionId"`
	Payload           string `json:"payload,omitempty"`
	ItemizeAlerts     bool   `json:"itemizeAlerts"`
	MaxItemizedAlerts int    `json:"maxItemizedAlerts,omitempty"`
}

// AuditView returns s as the audit log shows it, sharing nothing with s.
func (s *ScheduledSearch) AuditView() ScheduledSearchAudit {
	v := ScheduledSearchAudit{
		Name: s.Name, Description: s.Description, Query: s.Query,
		ScheduleType: s.ScheduleType, CronExpression: s.CronExpression, TimeZone: s.TimeZone,
		TimeRange:    s.TimeRange.String(),
		Notification: SearchNotificationAudit(s.Notification),
		Disabled:     s.Disabled,
	}
	if s.Threshold != nil {
		t := SearchThresholdAudit(*s.Threshold)
		v.Threshold = &t
	}
	return v
}
