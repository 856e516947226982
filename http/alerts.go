package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

// Bounds of the routes that take alerts.
const (
	// MaxBatchBodyBytes bounds the body of POST /alerts and of the
	// Alertmanager receiver: a batch of a thousand alerts with their
	// results does not fit in MaxBodyBytes.
	MaxBatchBodyBytes = 10 << 20
	// MaxBatchAlerts bounds the alerts of one POST /alerts.
	MaxBatchAlerts = 1000
)

// Dispatcher takes responsibility for alerts and replays deliveries. The
// dispatch package implements it.
type Dispatcher interface {
	// Accept stores the alerts with their deliveries durably, filling in
	// IDs, and returns only once they are stored; then it delivers them.
	Accept(ctx context.Context, alerts []*hookline.AcceptedAlert) error
	// Replay makes a failed or dead delivery pending again. It returns
	// ENOTFOUND, or ECONFLICT when the delivery is pending or delivered.
	Replay(ctx context.Context, deliveryID string) (*hookline.Delivery, error)
	// ConnectionChanged drops what the dispatcher remembers of a
	// connection that was updated or deleted, so that the next attempt
	// uses the new URL and secrets.
	ConnectionChanged(id string)
}

// connectionChanged tells the dispatcher, when there is one, that a
// connection changed.
func (s *Server) connectionChanged(id string) {
	s.forgetConnectionIndex()
	if s.Dispatcher != nil {
		s.Dispatcher.ConnectionChanged(id)
	}
}

func (s *Server) needDispatcher() (Dispatcher, error) {
	if s.Dispatcher == nil {
		return nil, errors.New("http: Server.Dispatcher is not set")
	}
	return s.Dispatcher, nil
}

func (s *Server) needDeliveries() (hookline.DeliveryStore, error) {
	if s.Deliveries == nil {
		return nil, errors.New("http: Server.Deliveries is not set")
	}
	return s.Deliveries, nil
}

// connectionIndex finds connections by ID and by name, the name
// case-insensitively as the store keeps names unique.
type connectionIndex struct {
	byID   map[string]*hookline.Connection
	byName map[string]*hookline.Connection
	// reload reads the store again. It is set while the index may be
	// stale, so that a connection created a moment ago (on another replica,
	// say) is found all the same; a miss costs one scan, once a request.
	reload func() (*connectionIndex, error)
	err    error // why a reload failed, for the handler to report
}

// connectionIndexTTL is how long the server reuses one scan of the
// connections for resolving alerts' notifications. Changes made through
// this server drop it at once.
const connectionIndexTTL = time.Second

// connectionIndex returns an index of every connection: the one read less
// than connectionIndexTTL ago, or a new one. Alerts arrive thousands a
// second and name a few connections; reading (and decrypting) them all
// for each request would cost more than the rest of accepting it.
func (s *Server) connectionIndex(ctx context.Context) (*connectionIndex, error) {
	s.indexMu.Lock()
	base, at := s.index, s.indexAt
	s.indexMu.Unlock()
	load := func() (*connectionIndex, error) {
		ix, err := s.loadConnectionIndex(ctx)
		if err == nil {
			s.indexMu.Lock()
			s.index, s.indexAt = ix, time.Now()
			s.indexMu.Unlock()
		}
		return ix, err
	}
	if base == nil || time.Since(at) > connectionIndexTTL {
		ix, err := load()
		if err != nil {
			return nil, err
		}
		return &connectionIndex{byID: ix.byID, byName: ix.byName}, nil
	}
	return &connectionIndex{byID: base.byID, byName: base.byName, reload: load}, nil
}

// forgetConnectionIndex drops the reused index after a connection changed.
func (s *Server) forgetConnectionIndex() {
	s.indexMu.Lock()
	s.index = nil
	s.indexMu.Unlock()
}

// loadConnectionIndex reads every connection once, so that a batch naming
// the same connections a thousand times costs one scan of the store.
func (s *Server) loadConnectionIndex(ctx context.Context) (*connectionIndex, error) {
	ix := &connectionIndex{byID: map[string]*hookline.Connection{}, byName: map[string]*hookline.Connection{}}
	opt := hookline.ListOptions{Limit: hookline.MaxListLimit}
	for {
		page, next, err := s.Store.Connections(ctx, opt)
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		for _, c := range page {
			ix.byID[c.ID] = c
			ix.byName[nameKey(c.Name)] = c
		}
		if next == "" {
			return ix, nil
		}
		opt.Token = next
	}
}

// nameKey folds a connection name as the store does for its unique key.
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// lookup finds a connection by ID, else by name.
func (ix *connectionIndex) lookup(idOrName string) (*hookline.Connection, bool) {
	c := ix.find(func() *hookline.Connection {
		if c := ix.byID[idOrName]; c != nil {
			return c
		}
		return ix.byName[nameKey(idOrName)]
	})
	return c, c != nil
}

// withID finds a connection by ID only.
func (ix *connectionIndex) withID(id string) *hookline.Connection {
	return ix.find(func() *hookline.Connection { return ix.byID[id] })
}

// named finds a connection by name only.
func (ix *connectionIndex) named(name string) *hookline.Connection {
	return ix.find(func() *hookline.Connection { return ix.byName[nameKey(name)] })
}

// find runs look, and once more after reading the store again when it
// misses in an index that may be stale.
func (ix *connectionIndex) find(look func() *hookline.Connection) *hookline.Connection {
	if c := look(); c != nil || ix.reload == nil {
		return c
	}
	fresh, err := ix.reload()
	ix.reload = nil
	if err != nil {
		ix.err = err
		return nil
	}
	ix.byID, ix.byName = fresh.byID, fresh.byName
	return look()
}

// templateCache parses each distinct override once per request: a batch
// often repeats the same one for every alert.
type templateCache map[string]error

func (tc templateCache) check(src string) error {
	if err, ok := tc[src]; ok {
		return err
	}
	_, err := payload.Parse(src)
	tc[src] = err
	return err
}

// alertDecoder turns the alerts of one request into accepted alerts,
// collecting every problem of the request in p.
type alertDecoder struct {
	p         hookline.Problems
	conns     *connectionIndex
	templates templateCache
}

// add records an alert's own problems, already named in full, with the
// request's.
func (d *alertDecoder) add(p *hookline.Problems) bool {
	if err := p.Err(); err != nil {
		d.p.AddError("", err)
		return false
	}
	return true
}

// join names a field under prefix ("" or "alerts[3]").
func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// decodeAlert decodes one alert object of POST /alerts; prefix names it in
// problems. It returns nil when the object had a problem.
func (d *alertDecoder) decodeAlert(raw json.RawMessage, prefix string) *hookline.AcceptedAlert {
	var p hookline.Problems
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		d.p.Add(prefix, "must be a JSON object")
		return nil
	}
	a := &hookline.AcceptedAlert{}
	a.Source = strings.TrimSpace(stringField(&p, fields, "source", join(prefix, "source")))
	if a.Source == "" {
		a.Source = "api"
	}
	checkText(&p, join(prefix, "source"), a.Source, hookline.MaxSourceLen)
	a.IdempotencyKey = stringField(&p, fields, "idempotencyKey", join(prefix, "idempotencyKey"))
	checkText(&p, join(prefix, "idempotencyKey"), a.IdempotencyKey, hookline.MaxIdempotencyKeyLen)
	rawNotes, hasNotes := fields["notifications"]
	delete(fields, "notifications")

	// What is left is the alert itself.
	decodeAlertFields(&p, &a.Alert, fields, prefix)
	a.Deliveries = d.decodeNotifications(&p, rawNotes, hasNotes, a.Alert.TriggerType, join(prefix, "notifications"))
	if !d.add(&p) {
		return nil
	}
	return a
}

// decodeAlertFields decodes the alert's wire form and validates it. When
// the whole does not decode, each field is decoded alone to name every bad
// one; validation then judges the others.
func decodeAlertFields(p *hookline.Problems, a *hookline.Alert, fields map[string]json.RawMessage, prefix string) {
	whole, err := json.Marshal(fields)
	if err != nil {
		p.AddError(prefix, err)
		return
	}
	named := map[string]bool{}
	if err := a.UnmarshalJSON(whole); err != nil {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		good := map[string]json.RawMessage{}
		for _, k := range keys {
			one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
			var probe hookline.Alert
			if err := probe.UnmarshalJSON(one); err != nil {
				named[k] = true
				var e *hookline.Error
				if errors.As(err, &e) && len(e.Fields) > 0 {
					p.AddError(prefix, err)
				} else {
					p.AddError(join(prefix, k), err)
				}
				continue
			}
			good[k] = fields[k]
		}
		whole, _ = json.Marshal(good)
		*a = hookline.Alert{}
		if err := a.UnmarshalJSON(whole); err != nil {
			p.AddError(prefix, err) // not expected: each field decoded alone
			return
		}
	}
	if err := a.Validate(); err != nil {
		var e *hookline.Error
		errors.As(err, &e)
		for _, f := range e.Fields {
			if head, _, _ := strings.Cut(f.Field, "."); !named[head] {
				p.Add(join(prefix, f.Field), "%s", f.Message)
			}
		}
	}
}

// notificationFields are the fields of one entry of an alert's notifications.
var notificationFields = []string{"connectionId", "connectionName", "payloadOverride", "resolutionPayloadOverride"}

// decodeNotifications resolves the connections an alert notifies into its
// deliveries, choosing each delivery's payload override by the trigger type.
func (d *alertDecoder) decodeNotifications(p *hookline.Problems, raw json.RawMessage, present bool, trigger hookline.TriggerType, path string) []*hookline.Delivery {
	var list []json.RawMessage
	switch {
	case !present || string(raw) == "null":
		p.Add(path, `is required: a list of {"connectionId": "..."} or {"connectionName": "..."} to notify`)
		return nil
	case json.Unmarshal(raw, &list) != nil:
		p.Add(path, "must be a list of objects")
		return nil
	case len(list) == 0:
		p.Add(path, "must name at least one connection")
		return nil
	case len(list) > hookline.MaxNotifications:
		p.Add(path, "has %d entries; at most %d are allowed", len(list), hookline.MaxNotifications)
		return nil
	}
	var out []*hookline.Delivery
	seen := map[string]int{}
	for i, item := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
			p.Add(at, "must be a JSON object")
			continue
		}
		id := strings.TrimSpace(stringField(p, fields, "connectionId", at+".connectionId"))
		name := strings.TrimSpace(stringField(p, fields, "connectionName", at+".connectionName"))
		alert := stringField(p, fields, "payloadOverride", at+".payloadOverride")
		recovery := stringField(p, fields, "resolutionPayloadOverride", at+".resolutionPayloadOverride")
		unknown := make([]string, 0, len(fields))
		for k := range fields {
			unknown = append(unknown, k)
		}
		slices.Sort(unknown)
		for _, k := range unknown {
			p.Add(at+"."+k, "is not a field of a notification; use %s", strings.Join(notificationFields, ", "))
		}

		var c *hookline.Connection
		switch {
		case id != "" && name != "":
			p.Add(at, "gives both connectionId and connectionName; give one")
		case id != "":
			if c = d.conns.withID(id); c == nil {
				p.Add(at+".connectionId", "no connection has the ID %q", id)
			}
		case name != "":
			if c = d.conns.named(name); c == nil {
				p.Add(at+".connectionName", "no connection is named %q", name)
			}
		default:
			p.Add(at, "must give connectionId or connectionName")
		}
		if c != nil {
			if j, dup := seen[c.ID]; dup {
				p.Add(at, "notifies connection %q again (as %s[%d]); each connection gets one delivery per alert", c.Name, path, j)
			}
			seen[c.ID] = i
		}
		d.checkOverride(p, at+".payloadOverride", alert, hookline.MaxDefaultPayloadLen)
		d.checkOverride(p, at+".resolutionPayloadOverride", recovery, hookline.MaxResolutionPayloadLen)
		if c == nil {
			continue
		}
		dl := &hookline.Delivery{ConnectionID: c.ID, TriggerType: trigger}
		if trigger.IsResolution() {
			dl.Payload = blankIsNone(recovery)
		} else {
			dl.Payload = blankIsNone(alert)
		}
		out = append(out, dl)
	}
	return out
}

// blankIsNone treats an override of only white space as none: it could
// never render to JSON.
func blankIsNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return s
}

// checkOverride checks an override against the limit of the connection
// payload it replaces: MaxDefaultPayloadLen for the alert payload,
// MaxResolutionPayloadLen for the recovery payload.
func (d *alertDecoder) checkOverride(p *hookline.Problems, field, src string, limit int) {
	if blankIsNone(src) == "" {
		return
	}
	if len(src) > limit {
		p.Add(field, "is %d bytes long; at most %d are allowed", len(src), limit)
		return
	}
	if err := d.templates.check(src); err != nil {
		p.Add(field, "%v", err)
	}
}

// checkText checks a short identifying string: its length in characters
// and that it holds no control characters.
func checkText(p *hookline.Problems, field, v string, maxLen int) {
	switch n := utf8.RuneCountInString(v); {
	case n > maxLen:
		p.Add(field, "is %d characters long; at most %d are allowed", n, maxLen)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		p.Add(field, "must not contain control characters or invalid UTF-8")
	}
}

// postAlerts accepts one alert, or {"alerts": [...]}. Nothing is stored
// unless every alert of the request is valid.
func (s *Server) postAlerts(w http.ResponseWriter, r *http.Request) error {
	disp, err := s.needDispatcher()
	if err != nil {
		return err
	}
	if err := noQuery(r); err != nil {
		return err
	}
	body, err := readBody(r, MaxBatchBodyBytes)
	if err != nil {
		return err
	}
	conns, err := s.connectionIndex(r.Context())
	if err != nil {
		return clientGone(r, err)
	}
	alerts, err := decodeAlerts(body, r.Header.Get("Idempotency-Key"), conns)
	if conns.err != nil {
		return clientGone(r, fmt.Errorf("list connections: %w", conns.err))
	}
	if err != nil {
		return err
	}
	return s.accept(w, r, disp, alerts)
}

// decodeAlerts decodes the body of POST /alerts: one alert object, or
// {"alerts": [...]}. header is the Idempotency-Key request header. It
// returns every problem of the request in one error.
func decodeAlerts(body []byte, header string, conns *connectionIndex) ([]*hookline.AcceptedAlert, error) {
	fields, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	d := &alertDecoder{conns: conns, templates: templateCache{}}
	raw, batch := fields["alerts"]
	if !batch {
		a := d.decodeAlert(body, "")
		if a != nil && header != "" {
			switch {
			case a.IdempotencyKey == "":
				a.IdempotencyKey = header
				checkText(&d.p, "Idempotency-Key", header, hookline.MaxIdempotencyKeyLen)
			case a.IdempotencyKey != header:
				d.p.Add("idempotencyKey", "differs from the Idempotency-Key header; give one or make them equal")
			}
		}
		if err := d.p.Err(); err != nil {
			return nil, err
		}
		return []*hookline.AcceptedAlert{a}, nil
	}

	delete(fields, "alerts")
	var list []json.RawMessage
	switch {
	case json.Unmarshal(raw, &list) != nil:
		d.p.Add("alerts", "must be a list of alert objects")
	case len(list) == 0:
		d.p.Add("alerts", "must hold at least one alert")
	case len(list) > MaxBatchAlerts:
		d.p.Add("alerts", "has %d alerts; at most %d are accepted at once", len(list), MaxBatchAlerts)
		list = nil
	}
	alerts := make([]*hookline.AcceptedAlert, len(list))
	for i, item := range list {
		alerts[i] = d.decodeAlert(item, fmt.Sprintf("alerts[%d]", i))
	}
	unknown := make([]string, 0, len(fields))
	for k := range fields {
		unknown = append(unknown, k)
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		d.p.Add(k, `is not a field of a batch: send {"alerts": [...]} with every field inside each alert`)
	}
	if header != "" {
		d.p.Add("Idempotency-Key", "the request header applies to a single alert; give each alert of a batch its own idempotencyKey")
	}
	if err := d.p.Err(); err != nil {
		return nil, err
	}
	return alerts, nil
}

// accept hands valid alerts to the dispatcher and answers with what it
// stored.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, disp Dispatcher, alerts []*hookline.AcceptedAlert) error {
	if err := disp.Accept(r.Context(), alerts); err != nil {
		return clientGone(r, fmt.Errorf("accept %d alerts: %w", len(alerts), err))
	}
	type deliveryRef struct {
		ID           string                 `json:"id"`
		ConnectionID string                 `json:"connectionId"`
		State        hookline.DeliveryState `json:"state"`
	}
	type acceptedRef struct {
		ID         string        `json:"id"`
		Duplicate  bool          `json:"duplicate"`
		Deliveries []deliveryRef `json:"deliveries"`
	}
	out := make([]acceptedRef, len(alerts))
	fresh := 0
	for i, a := range alerts {
		out[i] = acceptedRef{ID: a.ID, Duplicate: a.Duplicate, Deliveries: []deliveryRef{}}
		for _, dl := range a.Deliveries {
			out[i].Deliveries = append(out[i].Deliveries, deliveryRef{ID: dl.ID, ConnectionID: dl.ConnectionID, State: dl.State})
		}
		if !a.Duplicate {
			fresh++
		}
	}
	s.logger().InfoContext(r.Context(), "alerts accepted", "alerts", len(alerts), "duplicates", len(alerts)-fresh)
	writeJSON(w, http.StatusAccepted, map[string]any{"alerts": out})
	return nil
}

// getAlert answers an accepted alert with its deliveries.
func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	store, err := s.needDeliveries()
	if err != nil {
		return err
	}
	if err := noQuery(r); err != nil {
		return err
	}
	a, err := store.AcceptedAlert(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := acceptedAlertJSON(a, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// acceptedAlertJSON is an accepted alert as the API answers it: the
// alert's own wire form, its ID, source and times, and its deliveries.
// Lists leave out the result rows, which may be hundreds per alert.
func acceptedAlertJSON(a *hookline.AcceptedAlert, results bool) (map[string]any, error) {
	wire, err := json.Marshal(a.Alert)
	if err != nil {
		return nil, fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	// The alert's fields stay as encoded, so result numbers keep their text.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(wire, &fields); err != nil {
		return nil, fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	if !results {
		delete(fields, "results")
	}
	out := make(map[string]any, len(fields)+5)
	for k, v := range fields {
		out[k] = v
	}
	out["id"] = a.ID
	out["source"] = a.Source
	out["idempotencyKey"] = a.IdempotencyKey
	out["receivedAt"] = a.ReceivedAt.UTC()
	ds := make([]deliveryJSON, len(a.Deliveries))
	for i, dl := range a.Deliveries {
		ds[i] = newDeliveryJSON(dl)
	}
	out["deliveries"] = ds
	return out, nil
}

// alertFilterParams are the parameters of GET /alerts, each taken once.
var alertFilterParams = []string{"source", "triggerType", "since", "until", "limit", "token"}

// alertFilter reads the query of GET /alerts, naming every bad parameter
// at once; an unknown one is refused, as a misspelt filter would list
// every alert.
func alertFilter(r *http.Request) (hookline.AlertFilter, error) {
	var p hookline.Problems
	q := queryParams(&p, r, alertFilterParams, alertFilterParams...)
	f := hookline.AlertFilter{
		Source:      strings.TrimSpace(q.Get("source")),
		TriggerType: hookline.TriggerType(strings.TrimSpace(q.Get("triggerType"))),
		Limit:       hookline.DefaultListLimit,
		Token:       q.Get("token"),
	}
	checkText(&p, "source", f.Source, hookline.MaxSourceLen)
	if f.TriggerType != "" && !f.TriggerType.Valid() {
		p.Add("triggerType", "must be one of %s, not %q", triggerTypeList(), f.TriggerType)
	}
	readTimeRange(&p, q, &f.Since, &f.Until)
	readLimit(&p, q, &f.Limit)
	return f, p.Err()
}

func triggerTypeList() string {
	types := hookline.TriggerTypes()
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// listAlerts answers a page of accepted alerts, newest first, with their
// deliveries' states.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	store, err := s.needDeliveries()
	if err != nil {
		return err
	}
	f, err := alertFilter(r)
	if err != nil {
		return err
	}
	list, next, err := store.Alerts(r.Context(), f)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(list))
	for i, a := range list {
		if data[i], err = acceptedAlertJSON(a, false); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next": nextOrNil(next)})
	return nil
}
