package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

// The routes the web UI reads beyond those of connections and deliveries:
// the payload variables and a live preview for the payload editors, and the
// delivery page's chart and each connection's last outcome.

// variableJSON is one payload variable as GET /payload/variables lists it.
type variableJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Example     string `json:"example"`
	Legacy      bool   `json:"legacy"`
	AliasOf     string `json:"aliasOf"`
}

func (s *Server) payloadVariables(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	data := make([]variableJSON, len(payload.Reference))
	for i, v := range payload.Reference {
		data[i] = variableJSON{Name: v.Name, Description: v.Description, Example: v.Example, Legacy: v.Legacy, AliasOf: v.AliasOf}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
	return nil
}

// previewFields are the fields of a POST /payload/preview body.
var previewFields = []string{"template", "triggerType", "payload"}

// previewJSON is the answer of POST /payload/preview.
type previewJSON struct {
	Rendered  string   `json:"rendered"`  // the body the target would receive
	Variables []string `json:"variables"` // as written, in order of first use
	Unknown   []string `json:"unknown"`   // not in the reference: they render empty
}

// payloadPreview renders a template for the sample alert that Test Alert
// and Test Recovery send. The template is judged as saving a connection
// judges its payloads: the length limit of the payload named by "payload"
// (the alert payload unless it says resolutionPayload), then
// payload.Parse, whose line and column come back under "template". So a
// template the preview renders is one a connection can save, and the text
// shown is what Test Alert sends.
func (s *Server) payloadPreview(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	body, err := readBody(r, MaxBodyBytes)
	if err != nil {
		return err
	}
	fields, err := decodeObject(body)
	if err != nil {
		return err
	}
	var p hookline.Problems
	// Which of a connection's payloads the template is: the recovery
	// payload has the smaller limit, and a preview must not pass a
	// template that saving refuses.
	limit := hookline.MaxDefaultPayloadLen
	switch which := stringField(&p, fields, "payload", "payload"); which {
	case "", "defaultPayload":
	case "resolutionPayload":
		limit = hookline.MaxResolutionPayloadLen
	default:
		p.Add("payload", "must be defaultPayload or resolutionPayload, not %q", which)
	}
	tmpl := previewTemplate(&p, fields, limit)
	trigger := hookline.TriggerType(stringField(&p, fields, "triggerType", "triggerType"))
	switch {
	case trigger == "":
		trigger = hookline.TriggerCritical
	case !trigger.Valid():
		p.Add("triggerType", "must be one of Critical, Warning, MissingData, Normal, ResolvedCritical, ResolvedWarning or ResolvedMissingData, not %q", trigger)
	}
	unknown := make([]string, 0, len(fields))
	for name := range fields {
		unknown = append(unknown, name)
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		p.Add(name, "is not a field of a preview; use %s", strings.Join(previewFields, ", "))
	}
	if err := p.Err(); err != nil {
		return err
	}
	now := time.Now()
	if s.Sender != nil && s.Sender.Now != nil {
		now = s.Sender.Now() // the clock Test Alert stamps its sample with
	}
	out := tmpl.Render(payload.Sample(trigger, now))
	if !json.Valid(out) {
		// Parse promises valid JSON for every alert: this is a bug.
		return fmt.Errorf("preview: template rendered invalid JSON for trigger %s", trigger)
	}
	writeJSON(w, http.StatusOK, previewJSON{
		Rendered: string(out), Variables: nonNilStrings(tmpl.Variables()), Unknown: nonNilStrings(tmpl.Unknown()),
	})
	return nil
}

// previewTemplate takes the template out of fields and parses it, naming
// every problem "template". It returns nil when there is one.
func previewTemplate(p *hookline.Problems, fields map[string]json.RawMessage, limit int) *payload.Template {
	raw, ok := fields["template"]
	delete(fields, "template")
	var src string
	switch {
	case !ok || string(raw) == "null":
		p.Add("template", "is required: the payload template to render")
		return nil
	case json.Unmarshal(raw, &src) != nil:
		p.Add("template", "must be a string")
		return nil
	case strings.TrimSpace(src) == "":
		p.Add("template", "is required: the payload template to render")
		return nil
	case len(src) > limit:
		p.Add("template", "is %d bytes long; at most %d are allowed", len(src), limit)
		return nil
	}
	tmpl, err := payload.Parse(src)
	if err != nil {
		p.AddError("template", err) // "line 3, column 14: ..."
		return nil
	}
	return tmpl
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// The bucket lengths GET /deliveries/stats takes, and its defaults.
const (
	minStatsBucket     = time.Minute
	maxStatsBucket     = 24 * time.Hour
	defaultStatsBucket = time.Hour
	defaultStatsWindow = 24 * time.Hour
)

// bucketJSON is one bucket of GET /deliveries/stats.
type bucketJSON struct {
	Start     time.Time `json:"start"`
	Pending   int       `json:"pending"`
	Delivered int       `json:"delivered"`
	Failed    int       `json:"failed"`
	Dead      int       `json:"dead"`
}

func (s *Server) deliveryStats(w http.ResponseWriter, r *http.Request) error {
	store, err := s.needDeliveries()
	if err != nil {
		return err
	}
	since, bucket, err := statsParams(r, time.Now())
	if err != nil {
		return err
	}
	counts, err := store.DeliveryCounts(r.Context(), since, bucket)
	if err != nil {
		return err // the store names since or bucket
	}
	out := make([]bucketJSON, len(counts))
	for i, c := range counts {
		out[i] = bucketJSON{Start: c.Start.UTC(), Pending: c.Pending, Delivered: c.Delivered, Failed: c.Failed, Dead: c.Dead}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"since": since.UTC().Format(time.RFC3339Nano), "bucket": bucket.String(), "buckets": out,
	})
	return nil
}

// statsParams reads ?since=&bucket=, naming every bad parameter at once.
// Without since, the counts start at the bucket boundary (counted from
// the zero time, in UTC: whole hours for 1h) at or before 24 hours ago, or
// later when that would make more than hookline.MaxDeliveryBuckets
// buckets. One bucket is kept in hand, so that the clock moving on into the
// next bucket before the store counts cannot make one too many.
func statsParams(r *http.Request, now time.Time) (since time.Time, bucket time.Duration, err error) {
	var p hookline.Problems
	q := queryParams(&p, r, []string{"since", "bucket"}, "since", "bucket")
	bucket = defaultStatsBucket
	if v := q.Get("bucket"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			p.Add("bucket", "must be a duration such as 1h, 15m or 30m, not %q", v)
		case d < minStatsBucket || d > maxStatsBucket:
			p.Add("bucket", "must be from 1m to 24h, not %s", v)
		default:
			bucket = d
		}
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			p.Add("since", "must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not %q", v)
		}
		since = t
	} else {
		since = now.Add(-defaultStatsWindow).Truncate(bucket)
		if earliest := now.Truncate(bucket).Add(-time.Duration(hookline.MaxDeliveryBuckets-2) * bucket); since.Before(earliest) {
			since = earliest
		}
	}
	return since, bucket, p.Err()
}

func (s *Server) latestDeliveries(w http.ResponseWriter, r *http.Request) error {
	store, err := s.needDeliveries()
	if err != nil {
		return err
	}
	if err := noQuery(r); err != nil {
		return err
	}
	list, err := store.LatestDeliveries(r.Context())
	if err != nil {
		return err
	}
	data := make([]deliveryJSON, len(list))
	for i, d := range list {
		data[i] = newDeliveryJSON(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
	return nil
}
