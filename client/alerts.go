package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

const alertsPath = "/api/v1/alerts"

// Trigger types of an alert: a condition started, or (Resolved*) ended.
// A Resolved* trigger sends a connection's recovery payload.
const (
	TriggerCritical            = "Critical"
	TriggerWarning             = "Warning"
	TriggerMissingData         = "MissingData"
	TriggerResolvedCritical    = "ResolvedCritical"
	TriggerResolvedWarning     = "ResolvedWarning"
	TriggerResolvedMissingData = "ResolvedMissingData"
)

// Row is one result row of the query that raised an alert. Numbers are
// decoded as json.Number, so a large count or ID keeps every digit.
type Row map[string]any

// UnmarshalJSON reads a row, keeping numbers as written.
func (r *Row) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	*r = m
	return nil
}

// AlertEvent is what happened: the fields of an alert that payload
// templates read ({{Name}}, {{TriggerType}}, {{ResultsJson}}, ...; see
// docs/payload.md). Only TriggerType and Name are required.
type AlertEvent struct {
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	MonitorType      string            `json:"monitorType,omitempty"` // Logs or Metrics
	Query            string            `json:"query,omitempty"`
	QueryURL         string            `json:"queryUrl,omitempty"`
	Results          []Row             `json:"results,omitempty"`
	NumQueryResults  int               `json:"numQueryResults,omitempty"` // 0: the number of Results
	SourceID         string            `json:"sourceId,omitempty"`        // {{Id}}: the monitor that raised it
	DetectionMethod  string            `json:"detectionMethod,omitempty"`
	TriggerType      string            `json:"triggerType"` // Critical, ..., ResolvedCritical
	TriggerCondition string            `json:"triggerCondition,omitempty"`
	TriggerValue     string            `json:"triggerValue,omitempty"`
	TriggerTime      time.Time         `json:"triggerTime,omitzero"`
	TriggerTimeStart time.Time         `json:"triggerTimeStart,omitzero"`
	TriggerTimeEnd   time.Time         `json:"triggerTimeEnd,omitzero"`
	SourceURL        string            `json:"sourceUrl,omitempty"`
	AlertResponseURL string            `json:"alertResponseUrl,omitempty"`
	Variables        map[string]string `json:"variables,omitempty"` // any other variable by name
	TimeZone         string            `json:"timeZone,omitempty"`  // IANA name; times render in it
}

// Notification names one connection an alert goes to, by ID or by name,
// optionally with its own payload templates instead of the connection's.
type Notification struct {
	ConnectionID   string `json:"connectionId,omitempty"`
	ConnectionName string `json:"connectionName,omitempty"`
	// PayloadOverride replaces the connection's alert payload;
	// ResolutionPayloadOverride its recovery payload, for Resolved*
	// triggers.
	PayloadOverride           string `json:"payloadOverride,omitempty"`
	ResolutionPayloadOverride string `json:"resolutionPayloadOverride,omitempty"`
}

// AlertRequest is one alert to accept and the connections to notify.
type AlertRequest struct {
	AlertEvent
	// Source names who raised it; "" means "api".
	Source string `json:"source,omitempty"`
	// IdempotencyKey, when set, makes sending the same alert again a no-op
	// that answers with the first acceptance (Duplicate set).
	IdempotencyKey string         `json:"idempotencyKey,omitempty"`
	Notifications  []Notification `json:"notifications"`
}

// AcceptResult is the server's answer to SendAlerts: one entry per alert
// sent, in order.
type AcceptResult struct {
	Alerts []AcceptedAlert `json:"alerts"`
}

// AcceptedAlert is an alert the server stored, with its deliveries, before
// it answered.
type AcceptedAlert struct {
	ID string `json:"id"`
	// Duplicate reports that the alert's IdempotencyKey was seen before:
	// nothing new was stored, and ID and Deliveries are the first ones.
	Duplicate  bool          `json:"duplicate"`
	Deliveries []DeliveryRef `json:"deliveries"`
}

// DeliveryRef is a delivery as an accept answer names it.
type DeliveryRef struct {
	ID           string `json:"id"`
	ConnectionID string `json:"connectionId"`
	State        string `json:"state"`
}

// Alert is an accepted alert as GetAlert returns it, with its deliveries.
type Alert struct {
	ID             string    `json:"id"`
	Source         string    `json:"source"`
	IdempotencyKey string    `json:"idempotencyKey"`
	ReceivedAt     time.Time `json:"receivedAt"`
	AlertEvent
	Deliveries []Delivery `json:"deliveries"`
}

// errNoAlerts is returned before any request by SendAlerts with no alerts.
var errNoAlerts = errors.New("no alerts to send")

// SendAlerts hands alerts to the server, all or nothing: it answers once
// every alert and its deliveries are stored, and refuses the whole batch
// (an *APIError whose fields are named "alerts[i]....") when any alert is
// invalid. The server takes up to 1000 alerts at once.
func (c *Client) SendAlerts(ctx context.Context, alerts []AlertRequest) (AcceptResult, error) {
	var out AcceptResult
	if len(alerts) == 0 {
		return out, fmt.Errorf("send alerts: %w", errNoAlerts)
	}
	in := struct {
		Alerts []AlertRequest `json:"alerts"`
	}{alerts}
	if err := c.do(ctx, http.MethodPost, alertsPath, nil, in, &out); err != nil {
		return AcceptResult{}, fmt.Errorf("send alerts: %w", err)
	}
	return out, nil
}

// GetAlert returns an accepted alert with its deliveries.
func (c *Client) GetAlert(ctx context.Context, id string) (Alert, error) {
	var out Alert
	if id == "" {
		return out, errors.New("get alert: alert ID is empty")
	}
	if err := c.do(ctx, http.MethodGet, alertsPath+"/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return Alert{}, fmt.Errorf("get alert %s: %w", id, err)
	}
	return out, nil
}

// Sources of alerts, for AlertFilter.Source; a monitor's alerts have the
// source "monitor:" + its ID and a scheduled search's "search:" + its ID.
const (
	SourceAPI          = "api"
	SourceAlertmanager = "alertmanager"
)

// AlertFilter selects accepted alerts for ListAlerts. Zero fields select
// everything.
type AlertFilter struct {
	Source       string    // "api", "alertmanager", "monitor:ID", "search:ID"; "" for any
	TriggerType  string    // TriggerCritical, ...; "" for any
	Since, Until time.Time // on the time an alert was received; Since inclusive, Until exclusive
	Limit        int       // page size, 1..1000; 0 for the server's default (100)
	Token        string    // the page after this token; "" for the first
}

func (f AlertFilter) query() url.Values {
	return filterQuery(map[string]string{"source": f.Source, "triggerType": f.TriggerType},
		f.Since, f.Until, ListOptions{Limit: f.Limit, Token: f.Token})
}

// AlertList is one page of accepted alerts, newest first; Next is the
// token of the next page, "" after the last. The listed alerts carry no
// Results: GetAlert has them.
type AlertList struct {
	Data []Alert `json:"data"`
	Next string  `json:"next"`
}

// ListAlerts returns one page of the accepted alerts f selects, each with
// its deliveries' current states.
func (c *Client) ListAlerts(ctx context.Context, f AlertFilter) (*AlertList, error) {
	var out AlertList
	if err := c.do(ctx, http.MethodGet, alertsPath, f.query(), nil, &out); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return &out, nil
}
