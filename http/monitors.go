package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/monitor"
)

// The Monitors API, /api/v1/monitors: reading needs View Monitors,
// changing Manage Monitors. The JSON names are those of docs/monitors.md;
// interval and window are durations of whole minutes written as Go writes
// them ("1m", "5m", "1h30m").

// monitorRequest is the body of POST and PUT. The answer's read-only
// fields may be sent back (a GET edited and PUT back); they are ignored.
type monitorRequest struct {
	Name          string                `json:"name"`
	Description   string                `json:"description"`
	Query         string                `json:"query"`
	Interval      string                `json:"interval"`
	Window        string                `json:"window"`
	Triggers      []monitorTriggerJSON  `json:"triggers"`
	Notifications []monitorNotification `json:"notifications"`
	GroupFields   []string              `json:"notificationGroupFields"`
	Muted         bool                  `json:"muted"`
	Disabled      bool                  `json:"isDisabled"`

	ID         json.RawMessage `json:"id"`
	CreatedAt  json.RawMessage `json:"createdAt"`
	CreatedBy  json.RawMessage `json:"createdBy"`
	ModifiedAt json.RawMessage `json:"modifiedAt"`
	ModifiedBy json.RawMessage `json:"modifiedBy"`
	State      json.RawMessage `json:"state"`
}

type monitorTriggerJSON struct {
	TriggerType   hookline.TriggerType `json:"triggerType"`
	Threshold     float64              `json:"threshold"`
	ThresholdType string               `json:"thresholdType,omitempty"`
	Field         string               `json:"field,omitempty"`
}

type monitorNotification struct {
	ConnectionID              string                 `json:"connectionId"`
	RunForTriggerTypes        []hookline.TriggerType `json:"runForTriggerTypes"`
	PayloadOverride           string                 `json:"payloadOverride,omitempty"`
	ResolutionPayloadOverride string                 `json:"resolutionPayloadOverride,omitempty"`
}

// apply sets m's editable fields. A duration that does not parse is
// reported here; everything else is left to monitor.Validate, so that all
// problems come back at once.
func (in *monitorRequest) apply(p *hookline.Problems, m *hookline.Monitor) {
	m.Name, m.Description, m.Query = strings.TrimSpace(in.Name), in.Description, in.Query
	m.Interval = hookline.ParseMinutes(p, "interval", in.Interval)
	m.Window = hookline.ParseMinutes(p, "window", in.Window)
	m.Triggers = make([]hookline.MonitorTrigger, len(in.Triggers))
	for i, tr := range in.Triggers {
		// The reference's names (GreaterThan, ...) are read too; an unknown
		// name is kept for Validate to name.
		tt := hookline.ThresholdType(tr.ThresholdType)
		if t, ok := hookline.ParseThresholdType(tr.ThresholdType); ok {
			tt = t
		}
		m.Triggers[i] = hookline.MonitorTrigger{TriggerType: tr.TriggerType, Threshold: tr.Threshold, ThresholdType: tt, Field: tr.Field}
	}
	m.Notifications = make([]hookline.MonitorNotification, len(in.Notifications))
	for i, n := range in.Notifications {
		m.Notifications[i] = hookline.MonitorNotification(n)
	}
	m.GroupFields = in.GroupFields
	m.Muted, m.Disabled = in.Muted, in.Disabled
}

func monitorJSON(m *hookline.Monitor) map[string]any {
	triggers := make([]monitorTriggerJSON, len(m.Triggers))
	for i, tr := range m.Triggers {
		triggers[i] = monitorTriggerJSON{TriggerType: tr.TriggerType, Threshold: tr.Threshold, ThresholdType: string(tr.ThresholdType), Field: tr.Field}
	}
	notifications := make([]monitorNotification, len(m.Notifications))
	for i, n := range m.Notifications {
		notifications[i] = monitorNotification(n)
		notifications[i].RunForTriggerTypes = append([]hookline.TriggerType{}, n.RunForTriggerTypes...)
	}
	return map[string]any{
		"id": m.ID, "name": m.Name, "description": m.Description, "query": m.Query,
		"interval": hookline.FormatMinutes(m.Interval), "window": hookline.FormatMinutes(m.Window),
		"triggers": triggers, "notifications": notifications,
		"notificationGroupFields": append([]string{}, m.GroupFields...),
		"muted":                   m.Muted, "isDisabled": m.Disabled,
		"createdAt": timeOrNil(m.CreatedAt), "createdBy": m.CreatedBy,
		"modifiedAt": timeOrNil(m.ModifiedAt), "modifiedBy": m.ModifiedBy,
	}
}

// monitorStateJSON summarises a monitor's evaluation bookkeeping: its
// active alerts by group, the end of the last window evaluated and when it
// is next due (null while disabled).
func monitorStateJSON(rec *hookline.MonitorStateRecord) (map[string]any, error) {
	var st monitor.State
	if len(rec.State) > 0 {
		if err := json.Unmarshal(rec.State, &st); err != nil {
			return nil, fmt.Errorf("read state of monitor %s: %w", rec.MonitorID, err)
		}
	}
	keys := make([]string, 0, len(st.Alerts))
	for k := range st.Alerts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	active := make([]map[string]any, len(keys))
	for i, k := range keys {
		a := st.Alerts[k]
		group := a.Group
		if group == nil {
			group = map[string]string{}
		}
		active[i] = map[string]any{"triggerType": a.TriggerType, "group": group, "since": timeOrNil(a.Since),
			"condition": a.Condition, "muted": !a.Notified}
	}
	return map[string]any{
		"activeAlerts":     active,
		"lastWindowEnd":    timeOrNil(rec.WindowEnd),
		"nextEvaluationAt": timeOrNil(rec.NextEvalAt),
	}, nil
}

// decodeMonitor reads a monitor from the body and checks it completely
// (monitor.Validate: the query's syntax with its line and column, the
// columns the triggers and groups name, the overrides) and its
// connections, so that every problem is named at once; the store checks
// the connections again as it writes, and the name's uniqueness.
func (s *Server) decodeMonitor(r *http.Request, m *hookline.Monitor) error {
	var in monitorRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	var p hookline.Problems
	in.apply(&p, m)
	if err := p.Err(); err != nil {
		return err
	}
	refs := make([]connectionRef, len(m.Notifications))
	for i, n := range m.Notifications {
		refs[i] = connectionRef{fmt.Sprintf("notifications[%d].connectionId", i), n.ConnectionID}
	}
	return s.withConnections(r.Context(), monitor.Validate(m), refs...)
}

func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request) error {
	opt, err := listOptions(r)
	if err != nil {
		return err
	}
	list, next, err := s.Monitors.Monitors(r.Context(), opt)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(list))
	for i, m := range list {
		if data[i], err = s.monitorWithState(r, m); err != nil {
			if hookline.ErrorCode(err) != hookline.ENOTFOUND {
				return err
			}
			// Deleted since the page was read.
			data[i] = monitorJSON(m)
			data[i]["state"], _ = monitorStateJSON(&hookline.MonitorStateRecord{})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next": nextOrNil(next)})
	return nil
}

// monitorWithState is the monitor's JSON with its evaluation state:
// active alerts, last window, next evaluation.
func (s *Server) monitorWithState(r *http.Request, m *hookline.Monitor) (map[string]any, error) {
	rec, err := s.Monitors.MonitorState(r.Context(), m.ID)
	if err != nil {
		return nil, err
	}
	state, err := monitorStateJSON(rec)
	if err != nil {
		return nil, err
	}
	out := monitorJSON(m)
	out["state"] = state
	return out, nil
}

func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request) error {
	m := &hookline.Monitor{}
	if err := s.decodeMonitor(r, m); err != nil {
		return err
	}
	m.CreatedBy = hookline.ActorFrom(r.Context()).String()
	m.ModifiedBy = m.CreatedBy
	if err := s.Monitors.CreateMonitor(r.Context(), m); err != nil {
		return err
	}
	s.logger().InfoContext(r.Context(), "monitor created", "id", m.ID, "name", m.Name)
	writeJSON(w, http.StatusCreated, monitorJSON(m))
	return nil
}

func (s *Server) getMonitor(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	m, err := s.Monitors.Monitor(r.Context(), id)
	if err != nil {
		return err
	}
	out, err := s.monitorWithState(r, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateMonitor(w http.ResponseWriter, r *http.Request) error {
	stored, err := s.Monitors.Monitor(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	m := &hookline.Monitor{}
	if err := s.decodeMonitor(r, m); err != nil {
		return err
	}
	m.ID = stored.ID
	m.CreatedAt, m.CreatedBy = stored.CreatedAt, stored.CreatedBy
	m.ModifiedBy = hookline.ActorFrom(r.Context()).String()
	if err := s.Monitors.UpdateMonitor(r.Context(), m); err != nil {
		return err
	}
	s.logger().InfoContext(r.Context(), "monitor updated", "id", m.ID, "name", m.Name)
	writeJSON(w, http.StatusOK, monitorJSON(m))
	return nil
}

func (s *Server) deleteMonitor(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := s.Monitors.DeleteMonitor(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.logger().InfoContext(r.Context(), "monitor deleted", "id", r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
