package client

// Monitors: log queries evaluated every interval that alert when a
// trigger condition starts to hold and recover when it stops
// (docs/monitors.md).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

const monitorsPath = "/api/v1/monitors"

// MonitorTrigger is one condition of a monitor: Critical, Warning or
// MissingData. Field "" compares the result count; ThresholdType is gt, ge,
// lt, le or eq (or the reference's GreaterThan, ...).
type MonitorTrigger struct {
	TriggerType   string  `json:"triggerType"`
	Threshold     float64 `json:"threshold"`
	ThresholdType string  `json:"thresholdType,omitempty"`
	Field         string  `json:"field,omitempty"`
}

// MonitorNotification sends a monitor's events of some trigger types to a
// connection, with optional payload overrides.
type MonitorNotification struct {
	ConnectionID              string   `json:"connectionId"`
	RunForTriggerTypes        []string `json:"runForTriggerTypes"`
	PayloadOverride           string   `json:"payloadOverride,omitempty"`
	ResolutionPayloadOverride string   `json:"resolutionPayloadOverride,omitempty"`
}

// MonitorInput is a monitor to create, or what to store over one.
// Interval and Window are whole minutes written as durations ("1m", "5m").
type MonitorInput struct {
	Name          string                `json:"name"`
	Description   string                `json:"description"`
	Query         string                `json:"query"`
	Interval      string                `json:"interval"`
	Window        string                `json:"window"`
	Triggers      []MonitorTrigger      `json:"triggers"`
	Notifications []MonitorNotification `json:"notifications"`
	GroupFields   []string              `json:"notificationGroupFields"`
	Muted         bool                  `json:"muted"`
	Disabled      bool                  `json:"isDisabled"`
}

// Monitor is a stored monitor.
type Monitor struct {
	ID string `json:"id"`
	MonitorInput
	CreatedAt  time.Time `json:"createdAt,omitzero"`
	CreatedBy  string    `json:"createdBy"`
	ModifiedAt time.Time `json:"modifiedAt,omitzero"`
	ModifiedBy string    `json:"modifiedBy"`
	// State is in Monitor's answer only: nil in lists.
	State *MonitorState `json:"state,omitempty"`
}

// Input returns m as a MonitorInput to edit and send back with
// UpdateMonitor.
func (m Monitor) Input() MonitorInput { return m.MonitorInput }

// MonitorState is what a monitor's evaluations left: its active alerts,
// the end of the last window evaluated (zero before the first) and when it
// is next due (zero while disabled).
type MonitorState struct {
	ActiveAlerts     []ActiveMonitorAlert `json:"activeAlerts"`
	LastWindowEnd    time.Time            `json:"lastWindowEnd,omitzero"`
	NextEvaluationAt time.Time            `json:"nextEvaluationAt,omitzero"`
}

// ActiveMonitorAlert is an alert that started and has not recovered, for
// one group of the monitor's notificationGroupFields (empty Group: the
// whole monitor). Muted alerts started while the monitor was muted.
type ActiveMonitorAlert struct {
	TriggerType string            `json:"triggerType"`
	Group       map[string]string `json:"group"`
	Since       time.Time         `json:"since"`
	Condition   string            `json:"condition"`
	Muted       bool              `json:"muted"`
}

// MonitorList is one page of monitors, by name.
type MonitorList struct {
	Data []Monitor `json:"data"`
	Next string    `json:"next"`
}

var errNoMonitorID = errors.New("monitor ID is empty")

func monitorPath(id string) string { return monitorsPath + "/" + url.PathEscape(id) }

// Monitors returns one page of monitors, ordered by name.
func (c *Client) Monitors(ctx context.Context, opt ListOptions) (*MonitorList, error) {
	var out MonitorList
	if err := c.do(ctx, http.MethodGet, monitorsPath, opt.query(), nil, &out); err != nil {
		return nil, fmt.Errorf("list monitors: %w", err)
	}
	return &out, nil
}

// AllMonitors returns every monitor, following the pages.
func (c *Client) AllMonitors(ctx context.Context) ([]Monitor, error) {
	return allPages("monitors", func(token string) ([]Monitor, string, error) {
		page, err := c.Monitors(ctx, ListOptions{Token: token})
		if err != nil {
			return nil, "", err
		}
		return page.Data, page.Next, nil
	})
}

// Monitor returns the monitor with the given ID, with its State.
func (c *Client) Monitor(ctx context.Context, id string) (*Monitor, error) {
	if id == "" {
		return nil, fmt.Errorf("get monitor: %w", errNoMonitorID)
	}
	var out Monitor
	if err := c.do(ctx, http.MethodGet, monitorPath(id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get monitor %s: %w", id, err)
	}
	return &out, nil
}

// CreateMonitor stores a new monitor, due for evaluation at once unless
// disabled. An invalid one is a 400 *APIError naming each field (a query's
// syntax error names "query" with its line and column); a taken name is a
// 409 naming "name".
func (c *Client) CreateMonitor(ctx context.Context, in MonitorInput) (*Monitor, error) {
	var out Monitor
	if err := c.do(ctx, http.MethodPost, monitorsPath, nil, in, &out); err != nil {
		return nil, fmt.Errorf("create monitor: %w", err)
	}
	return &out, nil
}

// UpdateMonitor stores in over the monitor with the given ID; its
// evaluation state stays, so that alerts that started also recover.
func (c *Client) UpdateMonitor(ctx context.Context, id string, in MonitorInput) (*Monitor, error) {
	if id == "" {
		return nil, fmt.Errorf("update monitor: %w", errNoMonitorID)
	}
	var out Monitor
	if err := c.do(ctx, http.MethodPut, monitorPath(id), nil, in, &out); err != nil {
		return nil, fmt.Errorf("update monitor %s: %w", id, err)
	}
	return &out, nil
}

// DeleteMonitor removes a monitor and its evaluation state; its active
// alerts get no recovery.
func (c *Client) DeleteMonitor(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete monitor: %w", errNoMonitorID)
	}
	if err := c.do(ctx, http.MethodDelete, monitorPath(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete monitor %s: %w", id, err)
	}
	return nil
}
