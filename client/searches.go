package client

// Scheduled searches: log queries run on a cron schedule over a time range
// that ends when they run, which notify one connection when the number of
// results meets a condition (docs/scheduled-searches.md).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

const scheduledSearchesPath = "/api/v1/scheduledSearches"

// Schedule types of a scheduled search. Each but ScheduleCustom stands for
// a fixed cron expression; ScheduleCustom runs on CronExpression.
const (
	Schedule15Minutes = "15Minutes"
	Schedule1Hour     = "1Hour"
	Schedule2Hours    = "2Hours"
	Schedule4Hours    = "4Hours"
	Schedule6Hours    = "6Hours"
	Schedule8Hours    = "8Hours"
	Schedule12Hours   = "12Hours"
	Schedule1Day      = "1Day"
	Schedule1Week     = "1Week"
	ScheduleCustom    = "Custom"
)

// SearchThreshold is the condition on the number of results that makes a
// run notify: Operator is gt, ge, lt, le or eq (or GreaterThan, ...).
type SearchThreshold struct {
	Operator string `json:"operator"`
	Count    int    `json:"count"`
}

// SearchNotification sends a search's alerts to one connection. Payload ""
// keeps the connection's alert payload. With ItemizeAlerts a run sends one
// alert per result row, at most MaxItemizedAlerts (0 there: the server's
// most, 100).
type SearchNotification struct {
	ConnectionID      string `json:"connectionId"`
	Payload           string `json:"payload,omitempty"`
	ItemizeAlerts     bool   `json:"itemizeAlerts"`
	MaxItemizedAlerts int    `json:"maxItemizedAlerts,omitempty"`
}

// ScheduledSearchInput is a scheduled search to create, or what to store
// over one. CronExpression is required for ScheduleCustom and filled in
// for the other types; TimeZone "" is UTC; TimeRange is whole minutes
// written as a duration ("15m", "1h"). A nil Threshold notifies every time
// the search completes.
type ScheduledSearchInput struct {
	Name           string             `json:"name"`
	Description    string             `json:"description"`
	Query          string             `json:"query"`
	ScheduleType   string             `json:"scheduleType"`
	CronExpression string             `json:"cronExpression,omitempty"`
	TimeZone       string             `json:"timeZone,omitempty"`
	TimeRange      string             `json:"timeRange"`
	Threshold      *SearchThreshold   `json:"threshold"`
	Notification   SearchNotification `json:"notification"`
	Disabled       bool               `json:"isDisabled"`
}

// ScheduledSearch is a stored scheduled search.
type ScheduledSearch struct {
	ID string `json:"id"`
	ScheduledSearchInput
	CreatedAt  time.Time `json:"createdAt,omitzero"`
	CreatedBy  string    `json:"createdBy"`
	ModifiedAt time.Time `json:"modifiedAt,omitzero"`
	ModifiedBy string    `json:"modifiedBy"`
	// State is in the answers of ScheduledSearch and ScheduledSearches;
	// nil in those of CreateScheduledSearch and UpdateScheduledSearch.
	State *ScheduledSearchState `json:"state,omitempty"`
}

// Input returns s as a ScheduledSearchInput to edit and send back with
// UpdateScheduledSearch.
func (s ScheduledSearch) Input() ScheduledSearchInput { return s.ScheduledSearchInput }

// ScheduledSearchState is when a search next runs (zero while disabled)
// and what its last run found (nil before the first).
type ScheduledSearchState struct {
	NextRunAt time.Time  `json:"nextRunAt,omitzero"`
	LastRun   *SearchRun `json:"lastRun"`
}

// SearchRun is one run of a scheduled search: the scheduled time it stood
// for, the number of results, the alerts it sent and, for a run that
// failed and sent nothing, why.
type SearchRun struct {
	ScheduledAt time.Time `json:"scheduledAt"`
	Results     int       `json:"results"`
	Alerts      int       `json:"alerts"`
	Error       string    `json:"error"`
}

// ScheduledSearchList is one page of scheduled searches, by name.
type ScheduledSearchList struct {
	Data []ScheduledSearch `json:"data"`
	Next string            `json:"next"`
}

var errNoScheduledSearchID = errors.New("scheduled search ID is empty")

func scheduledSearchPath(id string) string { return scheduledSearchesPath + "/" + url.PathEscape(id) }

// ScheduledSearches returns one page of scheduled searches, ordered by
// name, each with its State.
func (c *Client) ScheduledSearches(ctx context.Context, opt ListOptions) (*ScheduledSearchList, error) {
	var out ScheduledSearchList
	if err := c.do(ctx, http.MethodGet, scheduledSearchesPath, opt.query(), nil, &out); err != nil {
		return nil, fmt.Errorf("list scheduled searches: %w", err)
	}
	return &out, nil
}

// AllScheduledSearches returns every scheduled search, following the
// pages.
func (c *Client) AllScheduledSearches(ctx context.Context) ([]ScheduledSearch, error) {
	return allPages("scheduled searches", func(token string) ([]ScheduledSearch, string, error) {
		page, err := c.ScheduledSearches(ctx, ListOptions{Token: token})
		if err != nil {
			return nil, "", err
		}
		return page.Data, page.Next, nil
	})
}

// ScheduledSearch returns the scheduled search with the given ID, with its
// State.
func (c *Client) ScheduledSearch(ctx context.Context, id string) (*ScheduledSearch, error) {
	if id == "" {
		return nil, fmt.Errorf("get scheduled search: %w", errNoScheduledSearchID)
	}
	var out ScheduledSearch
	if err := c.do(ctx, http.MethodGet, scheduledSearchPath(id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get scheduled search %s: %w", id, err)
	}
	return &out, nil
}

// CreateScheduledSearch stores a new scheduled search, first due at its
// schedule's next time unless disabled. An invalid one is a 400 *APIError
// naming each field ("cronExpression", "timeZone",
// "notification.connectionId", a query's syntax error as "query" with its
// line and column); a taken name is a 409 naming "name".
func (c *Client) CreateScheduledSearch(ctx context.Context, in ScheduledSearchInput) (*ScheduledSearch, error) {
	var out ScheduledSearch
	if err := c.do(ctx, http.MethodPost, scheduledSearchesPath, nil, in, &out); err != nil {
		return nil, fmt.Errorf("create scheduled search: %w", err)
	}
	return &out, nil
}

// UpdateScheduledSearch stores in over the scheduled search with the given
// ID. Its last run is kept; a search whose schedule and time zone did not
// change keeps its next time, any other is next due at its new schedule's
// next time.
func (c *Client) UpdateScheduledSearch(ctx context.Context, id string, in ScheduledSearchInput) (*ScheduledSearch, error) {
	if id == "" {
		return nil, fmt.Errorf("update scheduled search: %w", errNoScheduledSearchID)
	}
	var out ScheduledSearch
	if err := c.do(ctx, http.MethodPut, scheduledSearchPath(id), nil, in, &out); err != nil {
		return nil, fmt.Errorf("update scheduled search %s: %w", id, err)
	}
	return &out, nil
}

// DeleteScheduledSearch removes a scheduled search and its run
// bookkeeping.
func (c *Client) DeleteScheduledSearch(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete scheduled search: %w", errNoScheduledSearchID)
	}
	if err := c.do(ctx, http.MethodDelete, scheduledSearchPath(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete scheduled search %s: %w", id, err)
	}
	return nil
}
