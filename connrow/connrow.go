// Package connrow owns the stored form of a connection that both storage
// engines share: the columns and their order, the JSON of the custom
// headers, settings and secrets, the sealing of each secret (bound to its
// connection and field), and the errors of a missing connection or a taken
// name. The engines keep their SQL, their time columns and their locks.
package connrow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/keyring"
)

// ColumnList is the columns of the connections table that Args fills and
// Decode reads, in order; Args adds name_key after them.
const ColumnList = `id, name, description, webhook_type, url, custom_headers, default_payload,
	resolution_payload, settings, secrets, created_at, created_by, modified_at, modified_by`

// SecretAAD binds a sealed secret to its connection and name, so that a
// sealed value copied to another row or field does not open there.
func SecretAAD(id, name string) string { return "connection/" + id + "/" + name }

// NotFound is the error of a connection that does not exist.
func NotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "connection %s not found", id)
}

// NameTaken is the conflict of a name that another connection has. It names
// the field, so that a client can point at the input to change.
func NameTaken(name string) error {
	return &hookline.Error{
		Code:    hookline.ECONFLICT,
		Message: fmt.Sprintf("a connection named %q already exists", name),
		Fields: []hookline.FieldError{{
			Field:   "name",
			Message: "is already used by another connection (names are compared ignoring case)",
		}},
	}
}

// JSON is a connection's JSON columns as stored: custom_headers,
// settings and secrets, the last sealed.
type JSON struct {
	Headers, Settings, Secrets string
}

// Encode returns the JSON columns of c, each secret sealed with kr for
// c.ID.
func Encode(kr *keyring.Keyring, c *hookline.Connection) (JSON, error) {
	headers := c.CustomHeaders
	if headers == nil {
		headers = []hookline.Header{}
	}
	headersJSON, err := json.Marshal(headers)
	if err != nil {
		return JSON{}, fmt.Errorf("encode custom headers: %w", err)
	}
	settingsJSON, err := MarshalMap(c.Settings)
	if err != nil {
		return JSON{}, fmt.Errorf("encode settings: %w", err)
	}
	sealed := make(map[string]string, len(c.Secrets))
	for name, value := range c.Secrets {
		s, err := kr.Seal([]byte(value), SecretAAD(c.ID, name))
		if err != nil {
			return JSON{}, fmt.Errorf("seal secret %q: %w", name, err)
		}
		sealed[name] = s
	}
	secretsJSON, err := MarshalMap(sealed)
	if err != nil {
		return JSON{}, fmt.Errorf("encode secrets: %w", err)
	}
	return JSON{Headers: string(headersJSON), Settings: settingsJSON, Secrets: secretsJSON}, nil
}

// Args returns the values of ColumnList for c, whose JSON columns are j,
// then nameKey; stamp turns a time into the engine's column value.
func Args(c *hookline.Connection, j JSON, nameKey string, stamp func(time.Time) any) []any {
	return []any{
		c.ID, c.Name, c.Description, c.WebhookType, c.URL, j.Headers, c.DefaultPayload,
		c.ResolutionPayload, j.Settings, j.Secrets, stamp(c.CreatedAt), c.CreatedBy,
		stamp(c.ModifiedAt), c.ModifiedBy, nameKey,
	}
}

// MarshalMap is m as a JSON object; nil is {}.
func MarshalMap(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// Decode fills c's custom headers, settings and secrets, which it opens
// with kr, from j; c.ID names the connection. A secret that does not open
// is an error: handing a connection on without it would send
// unauthenticated requests.
func Decode(kr *keyring.Keyring, c *hookline.Connection, j JSON) error {
	sealed, err := decode(c.ID, c, j)
	if err != nil {
		return err
	}
	c.Secrets = make(map[string]string, len(sealed))
	for name, s := range sealed {
		v, err := kr.Open(s, SecretAAD(c.ID, name))
		if err != nil {
			return fmt.Errorf("connection %s: open secret %q: %w", c.ID, name, err)
		}
		c.Secrets[name] = string(v)
	}
	if c.Settings == nil {
		c.Settings = map[string]string{}
	}
	return nil
}

// AuditView returns the audit view of connection id, whose other columns
// are in c, from j. Its secrets are named only and never opened, so that a
// row whose secret no longer opens can still be replaced or deleted.
func AuditView(id string, c *hookline.Connection, j JSON) (hookline.ConnectionAudit, error) {
	sealed, err := decode(id, c, j)
	if err != nil {
		return hookline.ConnectionAudit{}, err
	}
	c.Secrets = make(map[string]string, len(sealed))
	for name := range sealed {
		c.Secrets[name] = "" // the view shows names only
	}
	return c.AuditView(), nil
}

// decode fills c's custom headers and settings and returns the sealed
// secrets.
func decode(id string, c *hookline.Connection, j JSON) (map[string]string, error) {
	if err := json.Unmarshal([]byte(j.Headers), &c.CustomHeaders); err != nil {
		return nil, fmt.Errorf("connection %s: decode custom headers: %w", id, err)
	}
	if err := json.Unmarshal([]byte(j.Settings), &c.Settings); err != nil {
		return nil, fmt.Errorf("connection %s: decode settings: %w", id, err)
	}
	var sealed map[string]string
	if err := json.Unmarshal([]byte(j.Secrets), &sealed); err != nil {
		// Not %w: a JSON syntax error quotes the text around it.
		return nil, fmt.Errorf("connection %s: secrets column is not a JSON object of strings", id)
	}
	return sealed, nil
}
