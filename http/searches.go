package http

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/scheduledsearch"
)

// The Scheduled Searches API, /api/v1/scheduledSearches: reading needs
// View Monitors, changing Manage Monitors, as for monitors. The JSON names
// are those of docs/scheduled-searches.md, after Sumo Logic's; timeRange
// is a duration of whole minutes written as Go writes it ("15m", "1h").

// scheduledSearchRequest is the body of POST and PUT. The answer's read-only fields
// may be sent back (a GET edited and PUT back); they are ignored.
type scheduledSearchRequest struct {
	Name           string                    `json:"name"`
	Description    string                    `json:"description"`
	Query          string                    `json:"query"`
	ScheduleType   hookline.ScheduleType     `json:"scheduleType"`
	CronExpression string                    `json:"cronExpression"`
	TimeZone       string                    `json:"timeZone"`
	TimeRange      string                    `json:"timeRange"`
	Threshold      *scheduledThresholdJSON   `json:"threshold"`
	Notification   scheduledNotificationJSON `json:"notification"`
	Disabled       bool                      `json:"isDisabled"`

	ID         json.RawMessage `json:"id"`
	CreatedAt  json.RawMessage `json:"createdAt"`
	CreatedBy  json.RawMessage `json:"createdBy"`
	ModifiedAt json.RawMessage `json:"modifiedAt"`
	ModifiedBy json.RawMessage `json:"modifiedBy"`
	State      json.RawMessage `json:"state"`
}

type scheduledThresholdJSON struct {
	Operator string `json:"operator"`
	Count    int    `json:"count"`
}

type scheduledNotificationJSON struct {
	ConnectionID      string `json:"connectionId"`
	Payload           string `json:"payload"`
	ItemizeAlerts     bool   `json:"itemizeAlerts"`
	MaxItemizedAlerts int    `json:"maxItemizedAlerts"`
}

// apply sets s's editable fields. A time range that does not parse is
// reported here; everything else is left to scheduledsearch.Validate.
func (in *scheduledSearchRequest) apply(p *hookline.Problems, s *hookline.ScheduledSearch) {
	s.Name, s.Description, s.Query = strings.TrimSpace(in.Name), in.Description, in.Query
	s.ScheduleType = hookline.ScheduleType(strings.TrimSpace(string(in.ScheduleType)))
	s.CronExpression = strings.TrimSpace(in.CronExpression)
	s.TimeZone = strings.TrimSpace(in.TimeZone)
	s.TimeRange = hookline.ParseMinutes(p, "timeRange", in.TimeRange)
	s.Threshold = nil
	if t := in.Threshold; t != nil {
		// The monitors' names (GreaterThan, ...) are read too; an unknown
		// one is kept for Validate to name.
		op := hookline.ThresholdType(t.Operator)
		if parsed, ok := hookline.ParseThresholdType(t.Operator); ok {
			op = parsed
		}
		s.Threshold = &hookline.SearchThreshold{Operator: op, Count: t.Count}
	}
	s.Notification = hookline.SearchNotification{
		ConnectionID: strings.TrimSpace(in.Notification.ConnectionID), Payload: in.Notification.Payload,
		ItemizeAlerts: in.Notification.ItemizeAlerts, MaxItemizedAlerts: in.Notification.MaxItemizedAlerts,
	}
	s.Disabled = in.Disabled
}

// decodeScheduledSearch reads a search from the body, checks it and its
// connection, and returns when it is next due (see nextScheduledRun; prev
// and prevNext are the stored search's, nil and zero for a new one): every
// problem is named at once, a schedule that never fires among them. The
// store checks the connection again as it writes, and the name.
func (s *Server) decodeScheduledSearch(r *http.Request, ss *hookline.ScheduledSearch, prev *hookline.ScheduledSearch, prevNext time.Time) (time.Time, error) {
	err := checkScheduledSearch(r, ss)
	var next time.Time
	if err == nil {
		if next, err = nextScheduledRun(ss, prev, prevNext); err != nil {
			return time.Time{}, err
		}
		if next.IsZero() && !ss.Disabled {
			var p hookline.Problems
			p.Add("cronExpression", "%s", hookline.NeverFires)
			err = p.Err()
		}
	}
	err = s.withConnections(r.Context(), err, connectionRef{"notification.connectionId", ss.Notification.ConnectionID})
	return next, err
}

// checkScheduledSearch reads a scheduled search from the body and checks it
// completely (scheduledsearch.Validate: the fields, the query's syntax with
// its line and column, the cron expression, the payload).
func checkScheduledSearch(r *http.Request, s *hookline.ScheduledSearch) error {
	var in scheduledSearchRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	var p hookline.Problems
	in.apply(&p, s)
	parsed := p.Err() == nil
	err := scheduledsearch.Validate(s)
	if parsed {
		return err
	}
	// The time range did not parse: Validate's word on it (too short) would
	// only repeat that.
	var e *hookline.Error
	if err != nil && !errors.As(err, &e) {
		return err
	}
	if e != nil {
		for _, f := range e.Fields {
			if f.Field != "timeRange" {
				p.Add(f.Field, "%s", f.Message)
			}
		}
	}
	return p.Err()
}

func scheduledSearchJSON(s *hookline.ScheduledSearch) map[string]any {
	var threshold any
	if t := s.Threshold; t != nil {
		threshold = scheduledThresholdJSON{Operator: string(t.Operator), Count: t.Count}
	}
	n := s.Notification
	return map[string]any{
		"id": s.ID, "name": s.Name, "description": s.Description, "query": s.Query,
		"scheduleType": s.ScheduleType, "cronExpression": s.CronExpression, "timeZone": s.TimeZone,
		"timeRange": hookline.FormatMinutes(s.TimeRange), "threshold": threshold,
		"notification": scheduledNotificationJSON{ConnectionID: n.ConnectionID, Payload: n.Payload,
			ItemizeAlerts: n.ItemizeAlerts, MaxItemizedAlerts: n.MaxItemizedAlerts},
		"isDisabled": s.Disabled,
		"createdAt":  timeOrNil(s.CreatedAt), "createdBy": s.CreatedBy,
		"modifiedAt": timeOrNil(s.ModifiedAt), "modifiedBy": s.ModifiedBy,
	}
}

// scheduledSearchStateJSON is a search's run bookkeeping: when it is next due (null
// while disabled) and what its last run found (null before the first).
func scheduledSearchStateJSON(rec *hookline.SearchStateRecord) map[string]any {
	var last any
	if run := rec.LastRun; !run.ScheduledAt.IsZero() {
		last = map[string]any{"scheduledAt": timeOrNil(run.ScheduledAt), "results": run.Results,
			"alerts": run.Alerts, "error": run.Error}
	}
	return map[string]any{"nextRunAt": timeOrNil(rec.NextRunAt), "lastRun": last}
}

// scheduledSearchWithState is the search's JSON with its state, for GET.
func (s *Server) scheduledSearchWithState(r *http.Request, ss *hookline.ScheduledSearch) (map[string]any, error) {
	rec, err := s.ScheduledSearches.SearchState(r.Context(), ss.ID)
	if err != nil {
		return nil, err
	}
	out := scheduledSearchJSON(ss)
	out["state"] = scheduledSearchStateJSON(rec)
	return out, nil
}

// nextScheduledRun is when a search stored now is next due. A search whose
// schedule did not change keeps the time it was due at (prev), so that an
// edit made while that run waits out the evaluation delay does not skip
// it; otherwise it is the schedule's first time after now.
func nextScheduledRun(ss *hookline.ScheduledSearch, prev *hookline.ScheduledSearch, prevNext time.Time) (time.Time, error) {
	if prev != nil && !prevNext.IsZero() && !prev.Disabled && !ss.Disabled &&
		prev.CronExpression == ss.CronExpression && prev.TimeZone == ss.TimeZone {
		return prevNext, nil
	}
	if ss.Disabled {
		return time.Time{}, nil
	}
	return scheduledsearch.Next(ss, time.Now())
}

func (s *Server) listScheduledSearches(w http.ResponseWriter, r *http.Request) error {
	opt, err := listOptions(r)
	if err != nil {
		return err
	}
	list, next, err := s.ScheduledSearches.ScheduledSearches(r.Context(), opt)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(list))
	for i, ss := range list {
		if data[i], err = s.scheduledSearchWithState(r, ss); err != nil {
			if hookline.ErrorCode(err) == hookline.ENOTFOUND {
				// Deleted since the page was read.
				data[i] = scheduledSearchJSON(ss)
				data[i]["state"] = scheduledSearchStateJSON(&hookline.SearchStateRecord{})
				continue
			}
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next": nextOrNil(next)})
	return nil
}

func (s *Server) createScheduledSearch(w http.ResponseWriter, r *http.Request) error {
	ss := &hookline.ScheduledSearch{}
	next, err := s.decodeScheduledSearch(r, ss, nil, time.Time{})
	if err != nil {
		return err
	}
	ss.CreatedBy = hookline.ActorFrom(r.Context()).String()
	ss.ModifiedBy = ss.CreatedBy
	if err := s.ScheduledSearches.CreateScheduledSearch(r.Context(), ss, next); err != nil {
		return err
	}
	s.logger().InfoContext(r.Context(), "scheduled search created", "id", ss.ID, "name", ss.Name)
	writeJSON(w, http.StatusCreated, scheduledSearchJSON(ss))
	return nil
}

func (s *Server) getScheduledSearch(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	ss, err := s.ScheduledSearches.ScheduledSearch(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := s.scheduledSearchWithState(r, ss)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateScheduledSearch(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	stored, err := s.ScheduledSearches.ScheduledSearch(r.Context(), id)
	if err != nil {
		return err
	}
	rec, err := s.ScheduledSearches.SearchState(r.Context(), id)
	if err != nil {
		return err
	}
	ss := &hookline.ScheduledSearch{}
	next, err := s.decodeScheduledSearch(r, ss, stored, rec.NextRunAt)
	if err != nil {
		return err
	}
	ss.ID = stored.ID
	ss.CreatedAt, ss.CreatedBy = stored.CreatedAt, stored.CreatedBy
	ss.ModifiedBy = hookline.ActorFrom(r.Context()).String()
	if err := s.ScheduledSearches.UpdateScheduledSearch(r.Context(), ss, next); err != nil {
		return err
	}
	s.logger().InfoContext(r.Context(), "scheduled search updated", "id", ss.ID, "name", ss.Name)
	writeJSON(w, http.StatusOK, scheduledSearchJSON(ss))
	return nil
}

func (s *Server) deleteScheduledSearch(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := s.ScheduledSearches.DeleteScheduledSearch(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.logger().InfoContext(r.Context(), "scheduled search deleted", "id", r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
