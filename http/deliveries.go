package http

import (
	"net/http"
	"time"

	"github.com/hookline/hookline"
)

// deliveryJSON is a delivery as the API answers it.
type deliveryJSON struct {
	ID            string                 `json:"id"`
	AlertID       string                 `json:"alertId"`
	ConnectionID  string                 `json:"connectionId"`
	TriggerType   hookline.TriggerType   `json:"triggerType"`
	State         hookline.DeliveryState `json:"state"`
	Attempts      int                    `json:"attempts"`
	NextAttemptAt time.Time              `json:"nextAttemptAt,omitzero"`
	CreatedAt     time.Time              `json:"createdAt"`
	UpdatedAt     time.Time              `json:"updatedAt"`
	LastStatus    int                    `json:"lastStatus"`
	LastError     string                 `json:"lastError"`
}

func newDeliveryJSON(d *hookline.Delivery) deliveryJSON {
	out := deliveryJSON{
		ID: d.ID, AlertID: d.AlertID, ConnectionID: d.ConnectionID, TriggerType: d.TriggerType,
		State: d.State, Attempts: d.Attempts, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
		LastStatus: d.LastStatus, LastError: d.LastError,
	}
	// A time left over from an earlier attempt would read as a plan.
	if d.State == hookline.DeliveryPending {
		out.NextAttemptAt = d.NextAttemptAt.UTC()
	}
	return out
}

// attemptJSON is one logged attempt.
type attemptJSON struct {
	N          int       `json:"n"`
	StartedAt  time.Time `json:"startedAt"`
	LatencyMs  float64   `json:"latencyMs"`
	StatusCode int       `json:"statusCode"`
	Error      string    `json:"error"`
	Response   string    `json:"response"`
	RetryAt    time.Time `json:"retryAt,omitzero"`
}

// deliveryDetailJSON is a delivery with its attempt log. Its attempts
// field, at the outer level, takes the place of the count.
type deliveryDetailJSON struct {
	deliveryJSON
	Attempts []attemptJSON `json:"attempts"`
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	store, err := s.needDeliveries()
	if err != nil {
		return err
	}
	f, err := deliveryFilter(r)
	if err != nil {
		return err
	}
	list, next, err := store.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	data := make([]deliveryJSON, len(list))
	for i, d := range list {
		data[i] = newDeliveryJSON(d)
	}
	resp := map[string]any{"data": data, "next": nil}
	if next != "" {
		resp["next"] = next
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// deliveryFilterParams are the parameters of GET /deliveries, each taken once.
var deliveryFilterParams = []string{"connectionId", "alertId", "state", "since", "until", "limit", "token"}

// deliveryFilter reads the query of GET /deliveries, naming every bad
// parameter at once. A parameter it does not know is refused: a misspelt
// filter would otherwise list, and a script then replay, every delivery.
func deliveryFilter(r *http.Request) (hookline.DeliveryFilter, error) {
	var p hookline.Problems
	q := queryParams(&p, r, deliveryFilterParams, deliveryFilterParams...)
	f := hookline.DeliveryFilter{
		ConnectionID: q.Get("connectionId"),
		AlertID:      q.Get("alertId"),
		State:        hookline.DeliveryState(q.Get("state")),
		Limit:        hookline.DefaultListLimit,
		Token:        q.Get("token"),
	}
	checkID(&p, "connectionId", f.ConnectionID)
	checkID(&p, "alertId", f.AlertID)
	if f.State != "" && !f.State.Valid() {
		p.Add("state", "must be one of pending, delivered, failed, dead, not %q", f.State)
	}
	readTimeRange(&p, q, &f.Since, &f.Until)
	readLimit(&p, q, &f.Limit)
	return f, p.Err()
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	store, err := s.needDeliveries()
	if err != nil {
		return err
	}
	if err := noQuery(r); err != nil {
		return err
	}
	d, attempts, err := store.Delivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := deliveryDetailJSON{deliveryJSON: newDeliveryJSON(d), Attempts: make([]attemptJSON, len(attempts))}
	for i, a := range attempts {
		out.Attempts[i] = attemptJSON{
			N: a.N, StartedAt: a.StartedAt.UTC(), LatencyMs: float64(a.Latency.Microseconds()) / 1000,
			StatusCode: a.StatusCode, Error: a.Error, Response: a.Response, RetryAt: a.RetryAt.UTC(),
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// retryDelivery replays a failed or dead delivery under its own ID, so the
// target sees the same Idempotency-Key and can drop it if the first had
// arrived. A delivered one is refused (409) by the store: replaying it
// would repeat an action its target already took.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	disp, err := s.needDispatcher()
	if err != nil {
		return err
	}
	if err := noQuery(r); err != nil {
		return err
	}
	d, err := disp.Replay(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.logger().InfoContext(r.Context(), "delivery replayed", "id", d.ID, "connection", d.ConnectionID)
	writeJSON(w, http.StatusAccepted, newDeliveryJSON(d))
	return nil
}
