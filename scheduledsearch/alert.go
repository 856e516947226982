package scheduledsearch

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/query"
	"github.com/hookline/hookline/schedule"
)

// Alerts returns the alerts the run of s scheduled at scheduledAt accepts,
// given its query's result over [scheduledAt-TimeRange, scheduledAt): none
// when the threshold is not met; otherwise one for the run or, with
// itemizeAlerts, one per result row up to maxItemizedAlerts (rows beyond
// are not alerted, and a run without rows alerts none). Each alert goes to
// the notification's connection, under an idempotency key that is the
// same whenever the same scheduled time is run again, so that a run
// repeated after a crash or an expired lease does not notify twice.
func Alerts(s *hookline.ScheduledSearch, res *query.Result, scheduledAt time.Time) []*hookline.AcceptedAlert {
	n := schedule.Count(res) // what the threshold compares
	if s.Threshold != nil && !s.Threshold.Met(n) {
		return nil
	}
	rows := schedule.Rows(res)
	base := hookline.Alert{
		Name:             s.Name,
		Description:      s.Description,
		MonitorType:      "Logs",
		Query:            s.Query,
		NumQueryResults:  n,
		SourceID:         s.ID,
		TriggerType:      hookline.TriggerNormal,
		TriggerCondition: s.Threshold.Condition(),
		TriggerValue:     strconv.Itoa(n),
		TriggerTime:      scheduledAt,
		TriggerTimeStart: scheduledAt.Add(-s.TimeRange),
		TriggerTimeEnd:   scheduledAt,
	}
	if loc, err := s.Location(); err == nil && loc != time.UTC {
		base.Location = loc // times shown as the schedule reads them
	}
	if !s.Notification.ItemizeAlerts {
		a := base
		a.Results = cloneRows(rows[:min(len(rows), hookline.MaxSearchResults)])
		return []*hookline.AcceptedAlert{accepted(s, a, scheduledAt, -1)}
	}
	rows = rows[:min(len(rows), s.Notification.MaxItemizedAlerts, hookline.MaxItemizedAlerts)]
	out := make([]*hookline.AcceptedAlert, len(rows))
	for i, r := range rows {
		a := base
		a.Results = cloneRows([]hookline.Row{r})
		out[i] = accepted(s, a, scheduledAt, i)
	}
	return out
}

// accepted wraps one alert of a run: item is its row's index in an
// itemized run, -1 for a run's one alert.
func accepted(s *hookline.ScheduledSearch, a hookline.Alert, scheduledAt time.Time, item int) *hookline.AcceptedAlert {
	override := s.Notification.Payload
	if strings.TrimSpace(override) == "" {
		override = "" // the connection's own payload
	}
	return &hookline.AcceptedAlert{
		Source:         Source(s.ID),
		IdempotencyKey: IdempotencyKey(s.ID, scheduledAt, item),
		Alert:          a,
		Deliveries: []*hookline.Delivery{{
			ConnectionID: s.Notification.ConnectionID, TriggerType: hookline.TriggerNormal, Payload: override,
		}},
	}
}

// IdempotencyKey names one alert among all of a search's: the scheduled
// time of its run and its item (a row's index in an itemized run, -1 for a
// run's one alert), hashed to a fixed length.
func IdempotencyKey(searchID string, scheduledAt time.Time, item int) string {
	h := sha256.New()
	for _, s := range []string{searchID, strconv.FormatInt(scheduledAt.UnixNano(), 10), strconv.Itoa(item)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "search-" + hex.EncodeToString(h.Sum(nil)[:20])
}

// cloneRows copies rows: the result's are not the alert's to share.
func cloneRows(rows []hookline.Row) []hookline.Row {
	out := make([]hookline.Row, len(rows))
	for i, r := range rows {
		out[i] = maps.Clone(r)
	}
	return out
}
