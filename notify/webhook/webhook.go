// Package webhook delivers alerts to any HTTP endpoint: a JSON POST with the
// connection's custom headers and, optionally, an Authorization header whose
// value is kept as a secret ("Basic ...", "Bearer ...").
package webhook

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// Type is the webhookType value of a generic webhook connection.
const Type = "Webhook"

// FieldAuthorizationHeader is the JSON name of the optional Authorization
// header value, kept in Connection.Secrets.
const FieldAuthorizationHeader = "authorizationHeader"

// Kind is the Webhook connection type. Its zero value is ready to use.
type Kind struct{}

// Type returns "Webhook".
func (Kind) Type() string { return Type }

// Fields lists the one field a webhook adds.
func (Kind) Fields() []notify.Field {
	return []notify.Field{{
		Name: FieldAuthorizationHeader, Label: "Authorization Header", Secret: true,
		Help: "Sent as the Authorization header, such as \"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\" or \"Bearer <token>\"; leave empty for none.",
	}}
}

// OwnedHeaders names Authorization: it is set from the secret field, so it
// is never stored in the clear as a custom header.
func (Kind) OwnedHeaders() []string { return []string{"Authorization"} }

// Normalize trims the Authorization header value and checks that HTTP can
// carry it and that it is long enough to be redacted wherever it shows. The
// value is never repeated in a message.
func (Kind) Normalize(c *hookline.Connection, p *hookline.Problems) {
	v := strings.TrimSpace(c.Secrets[FieldAuthorizationHeader])
	if v == "" {
		delete(c.Secrets, FieldAuthorizationHeader)
		return
	}
	c.Secrets[FieldAuthorizationHeader] = v
	if err := hookline.ValidateHeaderValue(v); err != nil {
		p.AddError(FieldAuthorizationHeader, err) // its messages never quote the value
		return
	}
	if len(v) < notify.MinRedactable {
		p.Add(FieldAuthorizationHeader, "has %d characters; at least %d are needed, so that it can be told apart from other text and redacted", len(v), notify.MinRedactable)
	}
}

// NewRequest builds the POST of body to c. Content-Type is
// application/json and User-Agent is notify.UserAgent unless a custom header
// names another. The body can be read again (GetBody is set) for a retry.
func (Kind) NewRequest(ctx context.Context, c *hookline.Connection, body []byte, _ time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, hookline.Errorf(hookline.EINVALID, "the connection URL cannot be requested: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", notify.UserAgent)
	for _, h := range c.CustomHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	req.Header.Del("Authorization")
	if v := c.Secrets[FieldAuthorizationHeader]; v != "" {
		req.Header.Set("Authorization", v)
	}
	return req, nil
}
