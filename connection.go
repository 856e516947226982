package hookline

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on a connection's fields. The names, the 127/1024/4096 lengths and
// the five custom headers follow Sumo Logic's Connections API.
const (
	MaxNameLen              = 127
	MaxDescriptionLen       = 1024
	MaxURLLen               = 2048
	MaxCustomHeaders        = 5
	MaxHeaderNameLen        = 256
	MaxHeaderValueLen       = 4096
	MaxDefaultPayloadLen    = 65536
	MaxResolutionPayloadLen = 4096
)

// Connection is a named, reusable notification target: where an alert's
// rendered payload is POSTed, and how.
//
// The fields shared by every type are plain struct fields. The fields one
// type adds are kept by their JSON name in Settings (readable) and Secrets
// (write-only: never returned by the API, never logged, encrypted at rest),
// so that a new type is a new package under notify/ and not a new field here.
type Connection struct {
	ID                string
	Name              string
	Description       string
	WebhookType       string // "AWSLambda", "Webhook", ...: the integration that delivers it
	URL               string
	CustomHeaders     []Header
	DefaultPayload    string // the alert payload template
	ResolutionPayload string // the recovery payload template; empty means DefaultPayload
	Settings          map[string]string
	Secrets           map[string]string

	CreatedAt  time.Time
	CreatedBy  string
	ModifiedAt time.Time
	ModifiedBy string
}

// Header is one HTTP header sent with every request to a connection.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PayloadFor returns the template used for an alert of trigger type t: the
// recovery payload for a Resolved* trigger when one is set, the alert payload
// otherwise.
func (c *Connection) PayloadFor(t TriggerType) string {
	if t.IsResolution() && c.ResolutionPayload != "" {
		return c.ResolutionPayload
	}
	return c.DefaultPayload
}

// Validate checks the fields every connection type shares. Payload templates
// are only checked for length here; the payload package checks that they
// render to JSON, and each type checks its own settings.
func (c *Connection) Validate() error {
	var p Problems
	c.validate(&p)
	return p.Err()
}

func (c *Connection) validate(p *Problems) {
	validateName(p, "name", c.Name, MaxNameLen)
	validateDescription(p, c.Description)
	if c.WebhookType == "" {
		p.Add("webhookType", "is required")
	}
	if err := ValidateURL(c.URL); err != nil {
		p.AddError("url", err)
	}
	ValidateHeaders(p, "customHeaders", c.CustomHeaders)
	switch {
	case strings.TrimSpace(c.DefaultPayload) == "":
		p.Add("defaultPayload", "is required: the JSON the target receives for an alert")
	case len(c.DefaultPayload) > MaxDefaultPayloadLen:
		p.Add("defaultPayload", "is %d bytes long; at most %d are allowed", len(c.DefaultPayload), MaxDefaultPayloadLen)
	}
	if len(c.ResolutionPayload) > MaxResolutionPayloadLen {
		p.Add("resolutionPayload", "is %d bytes long; at most %d are allowed", len(c.ResolutionPayload), MaxResolutionPayloadLen)
	}
}

// validateName checks a required, trimmed, printable name of at most max
// characters.
func validateName(p *Problems, field, name string, max int) {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		p.Add(field, "is required")
	case strings.TrimSpace(name) != name:
		p.Add(field, "must not start or end with white space")
	case n > max:
		p.Add(field, "is %d characters long; at most %d are allowed", n, max)
	case !printable(name):
		p.Add(field, "must not contain control characters or invalid UTF-8")
	}
}

func validateDescription(p *Problems, d string) {
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLen {
		p.Add("description", "is %d characters long; at most %d are allowed", n, MaxDescriptionLen)
	} else if !utf8.ValidString(d) {
		p.Add("description", "is not valid UTF-8")
	}
}

// ValidateURL checks that raw is an absolute http or https URL that a
// connection may target.
func ValidateURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return Errorf(EINVALID, "is required")
	}
	if len(raw) > MaxURLLen {
		return Errorf(EINVALID, "is %d bytes long; at most %d are allowed", len(raw), MaxURLLen)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return Errorf(EINVALID, "must not contain spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's message quotes parts of the URL, where a pasted secret
		// may sit (a port, a user); say what to check instead.
		return Errorf(EINVALID, "is not a valid URL: check its host and port")
	}
	switch {
	case u.Scheme == "":
		return Errorf(EINVALID, "must be an absolute URL starting with https:// or http://")
	case u.Scheme != "http" && u.Scheme != "https":
		return Errorf(EINVALID, "must start with https:// or http://, not %q", u.Scheme+":")
	case u.Host == "" || u.Hostname() == "":
		return Errorf(EINVALID, "has no host")
	case u.User != nil:
		return Errorf(EINVALID, "must not carry a user name or password; use a header instead")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return Errorf(EINVALID, "must not have a #fragment")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return Errorf(EINVALID, "has an invalid port %q", port)
		}
	}
	return nil
}

// reservedHeaders are set by Hookline or by net/http on every request; a
// custom header must not replace them.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true, "Proxy-Connection": true,
	"Proxy-Authorization": true, "Expect": true, "Idempotency-Key": true,
}

// ValidateHeaders checks a list of custom headers, recording each problem in
// p under field ("customHeaders[2].name"). Headers that a connection's type
// sets itself are checked by that type.
func ValidateHeaders(p *Problems, field string, hs []Header) {
	if len(hs) > MaxCustomHeaders {
		p.Add(field, "has %d headers; at most %d are allowed", len(hs), MaxCustomHeaders)
	}
	seen := make(map[string]int, len(hs))
	for i, h := range hs {
		at := field + "[" + strconv.Itoa(i) + "]"
		if err := ValidateHeaderName(h.Name); err != nil {
			p.AddError(at+".name", err)
		} else {
			canon := http.CanonicalHeaderKey(h.Name)
			if j, dup := seen[canon]; dup {
				p.Add(at+".name", "%q repeats %s[%d]; each header may be given once", h.Name, field, j)
			}
			seen[canon] = i
			if reservedHeaders[canon] {
				p.Add(at+".name", "%q is set by Hookline itself and cannot be a custom header", h.Name)
			}
		}
		if err := ValidateHeaderValue(h.Value); err != nil {
			p.AddError(at+".value", err)
		}
	}
}

// ValidateHeaderName reports whether name is an HTTP field name (RFC 9110
// token) of sane length.
func ValidateHeaderName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "is required")
	}
	if len(name) > MaxHeaderNameLen {
		return Errorf(EINVALID, "is %d bytes long; at most %d are allowed", len(name), MaxHeaderNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			// The name is not quoted: a whole pasted header line, secret and
			// all, would come back in the answer.
			return Errorf(EINVALID, "is not a valid HTTP header name: character %q at position %d is not allowed (a name is letters, digits and !#$%%&'*+-.^_`|~)", rune(name[i]), i+1)
		}
	}
	return nil
}

// ValidateHeaderValue reports whether value may be sent as an HTTP field
// value: no CR, LF, NUL or other control characters but tab, and valid UTF-8.
func ValidateHeaderValue(value string) error {
	if len(value) > MaxHeaderValueLen {
		return Errorf(EINVALID, "is %d bytes long; at most %d are allowed", len(value), MaxHeaderValueLen)
	}
	if !utf8.ValidString(value) {
		return Errorf(EINVALID, "is not valid UTF-8")
	}
	for i := 0; i < len(value); i++ {
		b := value[i]
		if (b < ' ' && b != '\t') || b == 0x7f {
			return Errorf(EINVALID, "contains control character %q at position %d; CR, LF and NUL cannot appear in a header", rune(b), i+1)
		}
	}
	if strings.TrimSpace(value) != value {
		return Errorf(EINVALID, "has leading or trailing white space, which HTTP would drop")
	}
	return nil
}

func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// ListOptions pages through a list: at most Limit items after the opaque
// Token that the previous page returned as its next token.
type ListOptions struct {
	Limit int
	Token string
}

// DefaultListLimit and MaxListLimit bound ListOptions.Limit, as the
// Connections API does.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// ConnectionStore keeps connections. Secrets are given and returned in the
// clear; the store encrypts them at rest.
type ConnectionStore interface {
	// CreateConnection stores c, filling in its ID and times.
	// It returns ECONFLICT when another connection has the same name.
	CreateConnection(ctx context.Context, c *Connection) error

	// Connection returns the connection with the given ID, or ENOTFOUND.
	Connection(ctx context.Context, id string) (*Connection, error)

	// Connections returns one page of connections ordered by name and ID,
	// and the token of the next page ("" after the last).
	Connections(ctx context.Context, opt ListOptions) ([]*Connection, string, error)

	// UpdateConnection replaces the stored connection with c.ID, updating
	// ModifiedAt. It returns ENOTFOUND or ECONFLICT (name taken).
	UpdateConnection(ctx context.Context, c *Connection) error

	// DeleteConnection removes the connection, or returns ENOTFOUND.
	DeleteConnection(ctx context.Context, id string) error
}
