package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// The wire names of the Connections API, as in Sumo Logic's: requests carry
// a WebhookDefinition, answers a WebhookConnection.
const (
	typeDefinition = "WebhookDefinition"
	typeConnection = "WebhookConnection"
	defaultWebhook = "Webhook"
)

// readOnlyFields are answer fields a client may send back unchanged (a GET
// edited and PUT back); they are ignored.
var readOnlyFields = map[string]bool{
	"id": true, "createdAt": true, "createdBy": true, "modifiedAt": true,
	"modifiedBy": true, "warnings": true,
}

// definition is a decoded request body: the connection it describes, and
// which secrets it set (a secret left out of a PUT keeps its stored value).
type definition struct {
	conn      hookline.Connection
	secretSet map[string]bool
	problems  hookline.Problems // found while decoding; reported with validation's
}

func (s *Server) decodeDefinition(r *http.Request) (*definition, error) {
	body, err := readBody(r, MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	fields, err := decodeObject(body)
	if err != nil {
		return nil, err
	}

	d := &definition{secretSet: map[string]bool{}}
	p := &d.problems
	str := func(name string) string { return stringField(p, fields, name, name) }
	c := &d.conn
	switch t := str("type"); t {
	case "", typeDefinition, typeConnection:
	default:
		p.Add("type", "must be %q, not %q", typeDefinition, t)
	}
	// Surrounding white space in a name is never meant, and would make
	// "a" and " a " two different connections.
	c.Name = strings.TrimSpace(str("name"))
	c.Description = str("description")
	c.WebhookType = str("webhookType")
	if c.WebhookType == "" {
		c.WebhookType = defaultWebhook
	}
	c.URL = str("url")
	c.DefaultPayload = str("defaultPayload")
	c.ResolutionPayload = str("resolutionPayload")
	if sub := str("connectionSubtype"); sub != "" {
		p.Add("connectionSubtype", "is only used by ServiceNow connections, which Hookline does not have")
	}
	if raw, ok := fields["customHeaders"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &c.CustomHeaders); err != nil {
			p.Add("customHeaders", `must be a list of {"name": "...", "value": "..."} objects`)
		}
	}
	delete(fields, "customHeaders")
	if raw, ok := fields["headers"]; ok && string(raw) != "null" {
		var hs []hookline.Header
		if err := json.Unmarshal(raw, &hs); err != nil || len(hs) > 0 {
			p.Add("headers", "is not supported: give credentials in the type's own fields (accessKeyId and secretAccessKey for AWSLambda, authorizationHeader for Webhook) and other headers in customHeaders")
		}
	}
	delete(fields, "headers")

	k, known := s.Registry.Kind(c.WebhookType)
	if known {
		c.Settings = map[string]string{}
		c.Secrets = map[string]string{}
		for _, f := range k.Fields() {
			_, present := fields[f.Name]
			v := str(f.Name)
			switch {
			case f.Secret && present:
				d.secretSet[f.Name] = true
				if v != "" {
					c.Secrets[f.Name] = v
				}
			case !f.Secret && v != "":
				c.Settings[f.Name] = v
			}
			if f.Secret {
				delete(fields, hasField(f.Name))
			}
		}
	}
	unknown := make([]string, 0, len(fields))
	for name := range fields {
		// Fields of an unknown type cannot be judged; the type's own error says enough.
		if known && !readOnlyFields[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		p.Add(name, "is not a field of a %s connection", c.WebhookType)
	}
	return d, nil
}

// validate checks the decoded definition as a whole and returns every
// problem at once: those found while decoding and those of validation,
// leaving out validation's complaint about a field decoding already named.
func (s *Server) validate(d *definition) (warnings []string, err error) {
	warnings, verr := s.Registry.Validate(&d.conn)
	decoded := d.problems.Err()
	if decoded == nil {
		return warnings, verr
	}
	var de, ve *hookline.Error
	errors.As(decoded, &de)
	named := map[string]bool{}
	for _, f := range de.Fields {
		named[f.Field] = true
	}
	if errors.As(verr, &ve) {
		for _, f := range ve.Fields {
			if !named[f.Field] {
				d.problems.Add(f.Field, "%s", f.Message)
			}
		}
	}
	return nil, d.problems.Err()
}

// hasField is the answer field that says a secret is set: secretAccessKey →
// hasSecretAccessKey.
func hasField(name string) string {
	if name == "" {
		return "has"
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return "has" + string(r)
}

// connectionJSON renders a connection as the API answers it: never a secret,
// only whether each is set.
func (s *Server) connectionJSON(c *hookline.Connection, warnings []string) map[string]any {
	out := map[string]any{
		"type":              typeConnection,
		"id":                c.ID,
		"name":              c.Name,
		"description":       c.Description,
		"webhookType":       c.WebhookType,
		"url":               c.URL,
		"headers":           []hookline.Header{},
		"customHeaders":     nonNil(c.CustomHeaders),
		"defaultPayload":    c.DefaultPayload,
		"resolutionPayload": c.ResolutionPayload,
		"createdAt":         c.CreatedAt.UTC().Format(time.RFC3339),
		"createdBy":         c.CreatedBy,
		"modifiedAt":        c.ModifiedAt.UTC().Format(time.RFC3339),
		"modifiedBy":        c.ModifiedBy,
	}
	if k, ok := s.Registry.Kind(c.WebhookType); ok {
		for _, f := range k.Fields() {
			if f.Secret {
				out[hasField(f.Name)] = c.Secrets[f.Name] != ""
			} else {
				out[f.Name] = c.Settings[f.Name]
			}
		}
	}
	if len(warnings) > 0 {
		out["warnings"] = warnings
	}
	return out
}

func nonNil(hs []hookline.Header) []hookline.Header {
	if hs == nil {
		return []hookline.Header{}
	}
	return hs
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opt := hookline.ListOptions{Token: q.Get("token")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > hookline.MaxListLimit {
			var p hookline.Problems
			p.Add("limit", "must be a whole number from 1 to %d", hookline.MaxListLimit)
			return p.Err()
		}
		opt.Limit = n
	}
	conns, next, err := s.Store.Connections(r.Context(), opt)
	if err != nil {
		return err
	}
	data := make([]map[string]any, len(conns))
	for i, c := range conns {
		data[i] = s.connectionJSON(c, nil)
	}
	resp := map[string]any{"data": data, "next": nil}
	if next != "" {
		resp["next"] = next
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	if err := checkTypeParam(r); err != nil {
		return err
	}
	c, err := s.Store.Connection(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.connectionJSON(c, s.warnings(c)))
	return nil
}

// warnings re-derives the template warnings of a stored connection.
func (s *Server) warnings(c *hookline.Connection) []string {
	cp := *c
	w, _ := s.Registry.Validate(&cp)
	return w
}

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) error {
	d, err := s.decodeDefinition(r)
	if err != nil {
		return err
	}
	c := &d.conn
	warnings, err := s.validate(d)
	if err != nil {
		return err
	}
	c.CreatedBy = hookline.ActorFrom(r.Context()).String()
	c.ModifiedBy = c.CreatedBy
	if err := s.Store.CreateConnection(r.Context(), c); err != nil {
		return err
	}
	s.forgetConnectionIndex()
	s.logger().InfoContext(r.Context(), "connection created", "id", c.ID, "name", c.Name, "type", c.WebhookType)
	writeJSON(w, http.StatusOK, s.connectionJSON(c, warnings))
	return nil
}

// mergeSecrets keeps each stored secret that the definition left out, for
// fields the type still has. A stored secret only ever goes back to the
// origin (scheme, host and port) it was given for: otherwise whoever may
// edit a connection could point it elsewhere and receive the secret, which
// the API never shows. Such a definition must give the secret again.
func (s *Server) mergeSecrets(d *definition, stored *hookline.Connection) {
	k, ok := s.Registry.Kind(d.conn.WebhookType)
	if !ok || stored.WebhookType != d.conn.WebhookType {
		return
	}
	sameOrigin := origin(d.conn.URL) == origin(stored.URL) && origin(stored.URL) != ""
	for _, f := range k.Fields() {
		if !f.Secret || d.secretSet[f.Name] || stored.Secrets[f.Name] == "" {
			continue
		}
		if !sameOrigin {
			d.problems.Add(f.Name, "must be given again: the stored value was given for %s and is not sent to another host", origin(stored.URL))
			continue
		}
		d.conn.Secrets[f.Name] = stored.Secrets[f.Name]
	}
}

// origin is scheme://host:port of a URL, with the default port made
// explicit, or "" for a URL that does not parse.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request) error {
	stored, err := s.Store.Connection(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := s.decodeDefinition(r)
	if err != nil {
		return err
	}
	s.mergeSecrets(d, stored)
	c := &d.conn
	warnings, err := s.validate(d)
	if err != nil {
		return err
	}
	c.ID = stored.ID
	c.CreatedAt, c.CreatedBy = stored.CreatedAt, stored.CreatedBy
	c.ModifiedBy = hookline.ActorFrom(r.Context()).String()
	if err := s.Store.UpdateConnection(r.Context(), c); err != nil {
		return err
	}
	s.connectionChanged(c.ID)
	s.logger().InfoContext(r.Context(), "connection updated", "id", c.ID, "name", c.Name)
	writeJSON(w, http.StatusOK, s.connectionJSON(c, warnings))
	return nil
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	if err := checkTypeParam(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.Store.DeleteConnection(r.Context(), id); err != nil {
		return err
	}
	s.connectionChanged(id)
	s.logger().InfoContext(r.Context(), "connection deleted", "id", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkTypeParam accepts the ?type= parameter that Sumo Logic's API
// requires on GET and DELETE, so its clients work unchanged.
func checkTypeParam(r *http.Request) error {
	var p hookline.Problems
	if t := r.URL.Query().Get("type"); t != "" && t != typeConnection {
		p.Add("type", "must be %q", typeConnection)
	}
	return p.Err()
}

func (s *Server) connectionTypes(w http.ResponseWriter, r *http.Request) error {
	type kindJSON struct {
		WebhookType string         `json:"webhookType"`
		Fields      []notify.Field `json:"fields"`
	}
	var out []kindJSON
	for _, t := range s.Registry.Types() {
		k, _ := s.Registry.Kind(t)
		out = append(out, kindJSON{WebhookType: t, Fields: k.Fields()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

// testResponse is Sumo Logic's TestConnectionResponse plus what a user
// needs to debug: latency, error and the request as sent, redacted.
type testResponse struct {
	StatusCode                int             `json:"statusCode"`
	ResponseContent           string          `json:"responseContent"`
	AlertStatusCode           *int            `json:"alertStatusCode,omitempty"`
	AlertResponseContent      *string         `json:"alertResponseContent,omitempty"`
	AlertLatencyMs            *float64        `json:"alertLatencyMs,omitempty"`
	ResolutionStatusCode      *int            `json:"resolutionStatusCode,omitempty"`
	ResolutionResponseContent *string         `json:"resolutionResponseContent,omitempty"`
	ResolutionLatencyMs       *float64        `json:"resolutionLatencyMs,omitempty"`
	Alert                     *notify.Attempt `json:"alert,omitempty"`
	Resolution                *notify.Attempt `json:"resolution,omitempty"`
}

// functionalities parses ?functionalities=alert,resolution (default alert),
// also given as repeated parameters, as OpenAPI clients send lists.
func functionalities(r *http.Request) ([]string, error) {
	var out []string
	var p hookline.Problems
	seen := map[string]bool{}
	for _, raw := range r.URL.Query()["functionalities"] {
		for _, f := range strings.Split(raw, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f != "alert" && f != "resolution":
				p.Add("functionalities", "%q is not one of alert, resolution", f)
			case !seen[f]:
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		out = []string{"alert"}
	}
	return out, nil
}

// testDefinition tests an unsaved definition, as the dialog does before
// Save. With ?connectionId= the stored secrets fill in those left out, so
// an edit can be tested without typing the secret again.
func (s *Server) testDefinition(w http.ResponseWriter, r *http.Request) error {
	funcs, err := functionalities(r)
	if err != nil {
		return err
	}
	d, err := s.decodeDefinition(r)
	if err != nil {
		return err
	}
	if id := r.URL.Query().Get("connectionId"); id != "" {
		stored, err := s.Store.Connection(r.Context(), id)
		if err != nil {
			return err
		}
		s.mergeSecrets(d, stored)
	}
	if _, err := s.validate(d); err != nil {
		return err
	}
	return s.runTests(w, r, &d.conn, funcs)
}

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) error {
	funcs, err := functionalities(r)
	if err != nil {
		return err
	}
	c, err := s.Store.Connection(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.runTests(w, r, c, funcs)
}

func (s *Server) runTests(w http.ResponseWriter, r *http.Request, c *hookline.Connection, funcs []string) error {
	var resp testResponse
	for i, f := range funcs {
		trigger := hookline.TriggerCritical
		if f == "resolution" {
			trigger = hookline.TriggerResolvedCritical
		}
		a, err := s.Sender.Test(r.Context(), c, trigger)
		if hookline.ErrorCode(err) == hookline.EINVALID {
			// A stored payload that no longer renders fails this test
			// alone; the other still runs and shows its answer.
			a, err = &notify.Attempt{Error: hookline.ErrorMessage(err)}, nil
		}
		if err != nil {
			return err
		}
		status, content, latency := a.StatusCode, a.ResponseContent, a.LatencyMs
		if a.Error != "" && content == "" {
			content = a.Error
		}
		if i == 0 {
			resp.StatusCode, resp.ResponseContent = status, content
		}
		if f == "alert" {
			resp.AlertStatusCode, resp.AlertResponseContent, resp.AlertLatencyMs, resp.Alert = &status, &content, &latency, a
		} else {
			resp.ResolutionStatusCode, resp.ResolutionResponseContent, resp.ResolutionLatencyMs, resp.Resolution = &status, &content, &latency, a
		}
		s.logger().InfoContext(r.Context(), "connection tested", "id", c.ID, "name", c.Name, "functionality", f,
			"status", a.StatusCode, "latency_ms", a.LatencyMs, "error", a.Error)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// connectionRef is a connection ID a body gives at field.
type connectionRef struct{ field, id string }

// withConnections adds to err, nil or the EINVALID of a body's validation,
// a problem for each ref naming a connection that does not exist, so that a
// body with several mistakes hears of all of them at once. Any other error
// is returned as it is. The stores check again as they write.
func (s *Server) withConnections(ctx context.Context, err error, refs ...connectionRef) error {
	if err != nil && hookline.ErrorCode(err) != hookline.EINVALID {
		return err
	}
	var p hookline.Problems
	p.AddError("", err)
	for _, ref := range refs {
		if ref.id == "" {
			continue // Validate names it
		}
		if _, cerr := s.Store.Connection(ctx, ref.id); hookline.ErrorCode(cerr) == hookline.ENOTFOUND {
			p.Add(ref.field, "names connection %s, which does not exist", ref.id)
		} else if cerr != nil {
			return fmt.Errorf("check connection %s: %w", ref.id, cerr)
		}
	}
	return p.Err()
}
