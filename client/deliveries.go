package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

const deliveriesPath = "/api/v1/deliveries"

// Delivery states.
const (
	// StatePending waits for its first or next attempt.
	StatePending = "pending"
	// StateDelivered got a 2xx answer.
	StateDelivered = "delivered"
	// StateFailed was refused for good (a 4xx other than 408 and 429, or a
	// deleted connection); RetryDelivery replays it.
	StateFailed = "failed"
	// StateDead failed every attempt of the retry schedule; RetryDelivery
	// replays it.
	StateDead = "dead"
)

// Delivery is one alert on its way to one connection. Its ID is the
// Idempotency-Key header of every attempt, replays included.
type Delivery struct {
	ID            string    `json:"id"`
	AlertID       string    `json:"alertId"`
	ConnectionID  string    `json:"connectionId"`
	TriggerType   string    `json:"triggerType"`
	State         string    `json:"state"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"` // set while pending
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	LastStatus    int       `json:"lastStatus"` // the last attempt's HTTP status; 0 for none
	LastError     string    `json:"lastError"`
}

// Final reports whether no further attempt will be made unless the
// delivery is replayed.
func (d Delivery) Final() bool { return d.State != StatePending }

// DeliveryAttempt is one try of a delivery, secrets redacted.
type DeliveryAttempt struct {
	N          int       `json:"n"` // 1 for the first
	StartedAt  time.Time `json:"startedAt"`
	LatencyMs  float64   `json:"latencyMs"`
	StatusCode int       `json:"statusCode"`       // 0 when no answer came
	Error      string    `json:"error"`            // why it failed, in words
	Response   string    `json:"response"`         // the start of the target's answer
	RetryAt    time.Time `json:"retryAt,omitzero"` // when the next attempt is due; zero for none
}

// DeliveryDetails is a delivery with its log of attempts, as GetDelivery
// returns it. In JSON, as in the API, "attempts" is the log; its length is
// Delivery.Attempts.
type DeliveryDetails struct {
	Delivery
	Log []DeliveryAttempt
}

// MarshalJSON writes the API's form: the delivery with "attempts" as the
// list.
func (d DeliveryDetails) MarshalJSON() ([]byte, error) {
	log := d.Log
	if log == nil {
		log = []DeliveryAttempt{}
	}
	// The outer field hides the embedded count, as in the server's answer.
	return json.Marshal(struct {
		Delivery
		Attempts []DeliveryAttempt `json:"attempts"`
	}{d.Delivery, log})
}

// UnmarshalJSON reads the API's form. "attempts" may also be a count (an
// answer without the log), which leaves Log empty.
func (d *DeliveryDetails) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var log []DeliveryAttempt
	if raw, ok := m["attempts"]; ok && jsonKind(raw) == "a list" {
		if err := json.Unmarshal(raw, &log); err != nil {
			return fmt.Errorf("field \"attempts\": %w", err)
		}
		delete(m, "attempts")
	}
	rest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var out DeliveryDetails
	if err := json.Unmarshal(rest, &out.Delivery); err != nil {
		return err
	}
	out.Log = log
	if out.Attempts == 0 {
		out.Attempts = len(log)
	}
	*d = out
	return nil
}

// DeliveryFilter selects deliveries for ListDeliveries. Zero fields select
// everything.
type DeliveryFilter struct {
	ConnectionID string
	AlertID      string
	State        string    // StatePending, ...; "" for any
	Since, Until time.Time // on the time a delivery was created
	Limit        int       // page size, 1..1000; 0 for the server's default (100)
	Token        string    // the page after this token; "" for the first
}

func (f DeliveryFilter) query() url.Values {
	return filterQuery(map[string]string{"connectionId": f.ConnectionID, "alertId": f.AlertID, "state": f.State},
		f.Since, f.Until, ListOptions{Limit: f.Limit, Token: f.Token})
}

// filterQuery is the query of a list filter: the fields that are not
// empty, the range of times, and the page.
func filterQuery(fields map[string]string, since, until time.Time, page ListOptions) url.Values {
	q := page.query()
	for k, v := range fields {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	if !until.IsZero() {
		q.Set("until", until.UTC().Format(time.RFC3339Nano))
	}
	return q
}

// DeliveryList is one page of deliveries, newest first; Next is the token
// of the next page, "" after the last.
type DeliveryList struct {
	Data []Delivery `json:"data"`
	Next string     `json:"next"`
}

// ListDeliveries returns one page of the deliveries f selects.
func (c *Client) ListDeliveries(ctx context.Context, f DeliveryFilter) (*DeliveryList, error) {
	var out DeliveryList
	if err := c.do(ctx, http.MethodGet, deliveriesPath, f.query(), nil, &out); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return &out, nil
}

// AllDeliveries returns every delivery f selects, newest first, following
// the pages from f.Token; f.Limit is the page size.
func (c *Client) AllDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	var all []Delivery
	seen := map[string]bool{}
	for {
		page, err := c.ListDeliveries(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.Next == "" {
			return all, nil
		}
		if seen[page.Next] {
			return nil, fmt.Errorf("list deliveries: the server returned page token %q twice", page.Next)
		}
		seen[page.Next] = true
		f.Token = page.Next
	}
}

// errNoDeliveryID is returned before any request for an empty ID.
var errNoDeliveryID = errors.New("delivery ID is empty")

func deliveryPath(id string) string { return deliveriesPath + "/" + url.PathEscape(id) }

// GetDelivery returns a delivery with its attempts.
func (c *Client) GetDelivery(ctx context.Context, id string) (DeliveryDetails, error) {
	var out DeliveryDetails
	if id == "" {
		return out, fmt.Errorf("get delivery: %w", errNoDeliveryID)
	}
	if err := c.do(ctx, http.MethodGet, deliveryPath(id), nil, nil, &out); err != nil {
		return DeliveryDetails{}, fmt.Errorf("get delivery %s: %w", id, err)
	}
	return out, nil
}

// RetryDelivery replays a failed or dead delivery: it is pending again,
// with the same ID and so the same Idempotency-Key. A delivery that is
// still pending is refused with a 409 *APIError (code "conflict").
func (c *Client) RetryDelivery(ctx context.Context, id string) (Delivery, error) {
	var out Delivery
	if id == "" {
		return out, fmt.Errorf("retry delivery: %w", errNoDeliveryID)
	}
	if err := c.do(ctx, http.MethodPost, deliveryPath(id)+"/retry", nil, nil, &out); err != nil {
		return Delivery{}, fmt.Errorf("retry delivery %s: %w", id, err)
	}
	return out, nil
}
