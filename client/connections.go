package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const connectionsPath = "/api/v1/connections"

// Header is one HTTP header a connection sends with every request.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Connection is a stored connection as the API returns it. Secrets are
// never returned: for each secret field the answer says only whether it is
// set ("hasSecretAccessKey": true), see SecretSet.
//
// The fields every type shares are struct fields. Everything else — the
// type's own settings ("region", "serviceName"), the has* flags, and any
// field a newer server adds — is kept in Extra by its JSON name, decoded
// with json.Number for numbers, and written back by MarshalJSON, so that
// nothing is lost between a GET and a PUT.
type Connection struct {
	ID                string
	Name              string
	Description       string
	WebhookType       string
	URL               string
	CustomHeaders     []Header
	DefaultPayload    string
	ResolutionPayload string
	CreatedAt         time.Time
	CreatedBy         string
	ModifiedAt        time.Time
	ModifiedBy        string
	// Warnings name payload variables that no alert fills; they do not
	// prevent saving.
	Warnings []string
	Extra    map[string]any
}

// Setting returns a type's own non-secret field ("region") as a string, or
// "" when the answer has no such string field.
func (c Connection) Setting(name string) string {
	s, _ := c.Extra[name].(string)
	return s
}

// SecretSet reports whether the secret field name ("secretAccessKey") holds
// a value; known is false when the answer does not say (the type has no
// such secret).
func (c Connection) SecretSet(name string) (set, known bool) {
	set, known = c.Extra[HasField(name)].(bool)
	return set, known
}

// Secrets lists the secret fields the answer reports on, by name
// ("secretAccessKey"), with whether each is set.
func (c Connection) Secrets() map[string]bool {
	out := map[string]bool{}
	for k, v := range c.Extra {
		if b, ok := v.(bool); ok {
			if name, ok := secretOf(k); ok {
				out[name] = b
			}
		}
	}
	return out
}

// readOnly are answer fields that have no place in a definition.
var readOnly = map[string]bool{
	"type": true, "id": true, "createdAt": true, "createdBy": true,
	"modifiedAt": true, "modifiedBy": true, "warnings": true,
}

// Definition returns c as a definition to edit and send back with
// UpdateConnection: the answer-only fields and the has* flags are dropped,
// so every secret keeps its stored value unless the caller sets it.
func (c Connection) Definition() Definition {
	d := Definition{
		Name:              c.Name,
		Description:       c.Description,
		WebhookType:       c.WebhookType,
		URL:               c.URL,
		CustomHeaders:     append([]Header(nil), c.CustomHeaders...),
		DefaultPayload:    c.DefaultPayload,
		ResolutionPayload: c.ResolutionPayload,
	}
	for k, v := range c.Extra {
		if readOnly[k] {
			continue
		}
		if _, isFlag := v.(bool); isFlag {
			if _, ok := secretOf(k); ok {
				continue
			}
		}
		// The API answers "headers": [] for Sumo Logic compatibility; an
		// empty list means nothing and is left out.
		if l, ok := v.([]any); ok && k == "headers" && len(l) == 0 {
			continue
		}
		d.Set(k, v)
	}
	return d
}

// HasField is the answer field that says whether the secret field name is
// set: secretAccessKey → hasSecretAccessKey.
func HasField(name string) string {
	if name == "" {
		return "has"
	}
	r, size := utf8.DecodeRuneInString(name)
	return "has" + string(unicode.ToUpper(r)) + name[size:]
}

// secretOf is the inverse of HasField.
func secretOf(field string) (string, bool) {
	rest, ok := strings.CutPrefix(field, "has")
	if !ok || rest == "" {
		return "", false
	}
	r, size := utf8.DecodeRuneInString(rest)
	if !unicode.IsUpper(r) {
		return "", false
	}
	return string(unicode.ToLower(r)) + rest[size:], true
}

// MarshalJSON writes the answer form, Extra's fields included.
func (c Connection) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(c.Extra)+14)
	for k, v := range c.Extra {
		m[k] = v
	}
	m["id"] = c.ID
	m["name"] = c.Name
	m["description"] = c.Description
	m["webhookType"] = c.WebhookType
	m["url"] = c.URL
	m["customHeaders"] = nonNil(c.CustomHeaders)
	m["defaultPayload"] = c.DefaultPayload
	m["resolutionPayload"] = c.ResolutionPayload
	m["createdBy"] = c.CreatedBy
	m["modifiedBy"] = c.ModifiedBy
	if !c.CreatedAt.IsZero() {
		m["createdAt"] = c.CreatedAt.Format(time.RFC3339)
	}
	if !c.ModifiedAt.IsZero() {
		m["modifiedAt"] = c.ModifiedAt.Format(time.RFC3339)
	}
	if len(c.Warnings) > 0 {
		m["warnings"] = c.Warnings
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the answer form; fields it does not know go to Extra.
func (c *Connection) UnmarshalJSON(b []byte) error {
	var f fields
	if err := f.decode(b); err != nil {
		return err
	}
	var out Connection
	f.str("id", &out.ID)
	f.str("name", &out.Name)
	f.str("description", &out.Description)
	f.str("webhookType", &out.WebhookType)
	f.str("url", &out.URL)
	f.headers("customHeaders", &out.CustomHeaders)
	f.str("defaultPayload", &out.DefaultPayload)
	f.str("resolutionPayload", &out.ResolutionPayload)
	f.time("createdAt", &out.CreatedAt)
	f.str("createdBy", &out.CreatedBy)
	f.time("modifiedAt", &out.ModifiedAt)
	f.str("modifiedBy", &out.ModifiedBy)
	f.any("warnings", &out.Warnings)
	if f.err != nil {
		return f.err
	}
	out.Extra = f.extra()
	*c = out
	return f.err
}

// Definition describes a connection to create, to store over an existing
// one, or to test unsaved: the API's WebhookDefinition.
//
// Extra holds the type's own fields by JSON name, secrets included:
// accessKeyId, secretAccessKey, region and serviceName for AWSLambda,
// authorizationHeader for Webhook (GET /api/v1/connections/types lists
// them). A secret left out of an update keeps its stored value; set it to
// "" to clear it. Extra must not repeat the struct's fields: those win.
type Definition struct {
	Name              string
	Description       string
	WebhookType       string // "" means Webhook
	URL               string
	CustomHeaders     []Header
	DefaultPayload    string // the alert payload template
	ResolutionPayload string // the recovery payload template; "" means DefaultPayload
	Extra             map[string]any
}

// Set sets a field of Extra.
func (d *Definition) Set(name string, value any) {
	if d.Extra == nil {
		d.Extra = map[string]any{}
	}
	d.Extra[name] = value
}

// MarshalJSON writes the request form, typed "WebhookDefinition".
func (d Definition) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(d.Extra)+8)
	for k, v := range d.Extra {
		m[k] = v
	}
	m["type"] = "WebhookDefinition"
	m["name"] = d.Name
	m["description"] = d.Description
	if d.WebhookType != "" {
		m["webhookType"] = d.WebhookType
	} else {
		delete(m, "webhookType")
	}
	m["url"] = d.URL
	if d.CustomHeaders != nil {
		m["customHeaders"] = d.CustomHeaders
	} else {
		delete(m, "customHeaders")
	}
	m["defaultPayload"] = d.DefaultPayload
	m["resolutionPayload"] = d.ResolutionPayload
	return json.Marshal(m)
}

// UnmarshalJSON reads a definition, or a connection as the API returned
// it; the "type" discriminator is dropped and unknown fields go to Extra.
func (d *Definition) UnmarshalJSON(b []byte) error {
	var f fields
	if err := f.decode(b); err != nil {
		return err
	}
	var out Definition
	f.drop("type")
	f.str("name", &out.Name)
	f.str("description", &out.Description)
	f.str("webhookType", &out.WebhookType)
	f.str("url", &out.URL)
	f.headers("customHeaders", &out.CustomHeaders)
	f.str("defaultPayload", &out.DefaultPayload)
	f.str("resolutionPayload", &out.ResolutionPayload)
	if f.err != nil {
		return f.err
	}
	out.Extra = f.extra()
	*d = out
	return nil
}

// fields decodes a JSON object one known field at a time, keeping the rest.
type fields struct {
	m   map[string]json.RawMessage
	err error
}

func (f *fields) decode(b []byte) error {
	if err := json.Unmarshal(b, &f.m); err != nil {
		return err
	}
	if f.m == nil {
		return errors.New("want a JSON object, not null")
	}
	return nil
}

func (f *fields) take(name string) (json.RawMessage, bool) {
	raw, ok := f.m[name]
	delete(f.m, name)
	return raw, ok && string(raw) != "null"
}

func (f *fields) drop(name string) { delete(f.m, name) }

func (f *fields) any(name string, v any) {
	if raw, ok := f.take(name); ok && f.err == nil {
		if err := json.Unmarshal(raw, v); err != nil {
			f.err = fmt.Errorf("field %q: %w", name, err)
		}
	}
}

func (f *fields) str(name string, v *string) {
	if raw, ok := f.take(name); ok && f.err == nil {
		if err := json.Unmarshal(raw, v); err != nil {
			f.err = fmt.Errorf("field %q must be a string, not %s", name, jsonKind(raw))
		}
	}
}

func (f *fields) headers(name string, v *[]Header) {
	if raw, ok := f.take(name); ok && f.err == nil {
		if err := json.Unmarshal(raw, v); err != nil {
			f.err = fmt.Errorf(`field %q must be a list of {"name": "...", "value": "..."} objects`, name)
		}
	}
}

func (f *fields) time(name string, v *time.Time) {
	var s string
	f.str(name, &s)
	if s == "" || f.err != nil {
		return
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		f.err = fmt.Errorf("field %q is not an RFC 3339 time: %w", name, err)
		return
	}
	*v = t
}

// extra decodes what no known field took, numbers as json.Number so that
// they go back unchanged.
func (f *fields) extra() map[string]any {
	if len(f.m) == 0 {
		return nil
	}
	out := make(map[string]any, len(f.m))
	for k, raw := range f.m {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		_ = dec.Decode(&v) // raw came out of a valid object
		out[k] = v
	}
	return out
}

func jsonKind(raw json.RawMessage) string {
	switch b := bytes.TrimSpace(raw); {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "an object"
	case b[0] == '[':
		return "a list"
	case b[0] == '"':
		return "a string"
	case b[0] == 't' || b[0] == 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func nonNil(hs []Header) []Header {
	if hs == nil {
		return []Header{}
	}
	return hs
}

// ConnectionList is one page of connections; Next is the token of the
// next page, "" after the last.
type ConnectionList struct {
	Data []Connection `json:"data"`
	Next string       `json:"next"`
}

// ListConnections returns one page of at most limit connections (0: the
// server's default) after the page token ("" for the first page).
func (c *Client) ListConnections(ctx context.Context, limit int, token string) (*ConnectionList, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if token != "" {
		q.Set("token", token)
	}
	var out ConnectionList
	if err := c.do(ctx, http.MethodGet, connectionsPath, q, nil, &out); err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return &out, nil
}

// AllConnections returns every connection, following the pages.
func (c *Client) AllConnections(ctx context.Context) ([]Connection, error) {
	var all []Connection
	seen := map[string]bool{}
	token := ""
	for {
		page, err := c.ListConnections(ctx, 0, token)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.Next == "" {
			return all, nil
		}
		if seen[page.Next] {
			return nil, fmt.Errorf("list connections: the server returned page token %q twice", page.Next)
		}
		seen[page.Next] = true
		token = page.Next
	}
}

func connectionPath(id string) string {
	return connectionsPath + "/" + url.PathEscape(id)
}

// GetConnection returns the connection with the given ID.
func (c *Client) GetConnection(ctx context.Context, id string) (Connection, error) {
	var out Connection
	if id == "" {
		return out, fmt.Errorf("get connection: %w", errEmptyID)
	}
	if err := c.do(ctx, http.MethodGet, connectionPath(id), nil, nil, &out); err != nil {
		return Connection{}, fmt.Errorf("get connection %s: %w", id, err)
	}
	return out, nil
}

// CreateConnection stores a new connection. The answer's Warnings name
// payload variables that no alert fills.
func (c *Client) CreateConnection(ctx context.Context, def Definition) (Connection, error) {
	var out Connection
	if err := c.do(ctx, http.MethodPost, connectionsPath, nil, def, &out); err != nil {
		return Connection{}, fmt.Errorf("create connection: %w", err)
	}
	return out, nil
}

// UpdateConnection replaces the connection with the given ID by def. A
// secret that def leaves out keeps its stored value.
func (c *Client) UpdateConnection(ctx context.Context, id string, def Definition) (Connection, error) {
	var out Connection
	if id == "" {
		return out, fmt.Errorf("update connection: %w", errEmptyID)
	}
	if err := c.do(ctx, http.MethodPut, connectionPath(id), nil, def, &out); err != nil {
		return Connection{}, fmt.Errorf("update connection %s: %w", id, err)
	}
	return out, nil
}

// DeleteConnection removes the connection with the given ID.
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete connection: %w", errEmptyID)
	}
	if err := c.do(ctx, http.MethodDelete, connectionPath(id), nil, nil, nil); err != nil {
		return fmt.Errorf("delete connection %s: %w", id, err)
	}
	return nil
}

// Functionalities of a test: which payload is sent.
const (
	TestAlert      = "alert"      // the alert payload, as for a Critical trigger
	TestResolution = "resolution" // the recovery payload, as for ResolvedCritical
)

// TestResult is what testing a connection did: Sumo Logic's
// TestConnectionResponse (the first test's status and answer, then each
// test's) plus, per test, the full attempt with the request as sent,
// secrets redacted.
type TestResult struct {
	StatusCode                int      `json:"statusCode"`
	ResponseContent           string   `json:"responseContent"`
	AlertStatusCode           *int     `json:"alertStatusCode,omitempty"`
	AlertResponseContent      *string  `json:"alertResponseContent,omitempty"`
	ResolutionStatusCode      *int     `json:"resolutionStatusCode,omitempty"`
	ResolutionResponseContent *string  `json:"resolutionResponseContent,omitempty"`
	Alert                     *Attempt `json:"alert,omitempty"`
	Resolution                *Attempt `json:"resolution,omitempty"`
}

// OK reports whether every test that ran got a 2xx answer.
func (r TestResult) OK() bool {
	ran := false
	for _, a := range []*Attempt{r.Alert, r.Resolution} {
		if a != nil {
			ran = true
			if !a.OK() {
				return false
			}
		}
	}
	if !ran {
		return r.StatusCode >= 200 && r.StatusCode <= 299
	}
	return true
}

// Attempt is one request the server sent to the target and what came back.
type Attempt struct {
	StatusCode        int         `json:"statusCode"` // 0 when no answer came
	ResponseContent   string      `json:"responseContent"`
	ResponseTruncated bool        `json:"responseTruncated,omitempty"`
	LatencyMs         float64     `json:"latencyMs"`
	Error             string      `json:"error,omitempty"` // why no answer came, or the failure a 2xx reported
	Request           SentRequest `json:"request"`
	// Failed: the target answered 2xx yet reported a failure, such as a
	// Lambda function's error (X-Amz-Function-Error); Error says which.
	Failed bool `json:"failed,omitempty"`
}

// OK reports whether the target answered with a 2xx status and reported
// no failure in it.
func (a *Attempt) OK() bool { return a.StatusCode >= 200 && a.StatusCode <= 299 && !a.Failed }

// SentRequest is the request as it went on the wire, with signatures and
// secrets replaced by REDACTED.
type SentRequest struct {
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Headers []Header `json:"headers"`
	Body    string   `json:"body"`
}

func testQuery(functionalities []string, connectionID string) url.Values {
	q := url.Values{}
	if len(functionalities) > 0 {
		q.Set("functionalities", strings.Join(functionalities, ","))
	}
	if connectionID != "" {
		q.Set("connectionId", connectionID)
	}
	return q
}

// TestConnection sends the sample alert to a stored connection, once for
// each functionality (TestAlert, TestResolution; none means TestAlert).
// A target's failure is in the result, not the error.
func (c *Client) TestConnection(ctx context.Context, id string, functionalities []string) (TestResult, error) {
	var out TestResult
	if id == "" {
		return out, fmt.Errorf("test connection: %w", errEmptyID)
	}
	if err := c.do(ctx, http.MethodPost, connectionPath(id)+"/test", testQuery(functionalities, ""), nil, &out); err != nil {
		return TestResult{}, fmt.Errorf("test connection %s: %w", id, err)
	}
	return out, nil
}

// TestDefinition tests an unsaved definition. With a connectionID, the
// stored connection's secrets fill in those def leaves out, so an edit can
// be tested before it is saved.
func (c *Client) TestDefinition(ctx context.Context, def Definition, connectionID string, functionalities []string) (TestResult, error) {
	var out TestResult
	if err := c.do(ctx, http.MethodPost, connectionsPath+"/test", testQuery(functionalities, connectionID), def, &out); err != nil {
		return TestResult{}, fmt.Errorf("test connection definition: %w", err)
	}
	return out, nil
}

// ConnectionType is a type of connection the server knows, with its own
// fields.
type ConnectionType struct {
	WebhookType string  `json:"webhookType"`
	Fields      []Field `json:"fields"`
}

// Field is one field a connection type adds to the common ones.
type Field struct {
	Name     string `json:"name"`   // JSON name: "region"
	Label    string `json:"label"`  // "Region"
	Secret   bool   `json:"secret"` // write-only: answers carry has<Name> instead
	Required bool   `json:"required"`
	Help     string `json:"help"`
}

// ConnectionTypes lists the connection types the server knows.
func (c *Client) ConnectionTypes(ctx context.Context) ([]ConnectionType, error) {
	var out struct {
		Data []ConnectionType `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, connectionsPath+"/types", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list connection types: %w", err)
	}
	return out.Data, nil
}
