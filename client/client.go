// Package client is a small Go client of Hookline's REST API (/api/v1). It
// is what the hookline CLI uses, and what a program that manages
// connections from code should use, so that both see the API the same way:
// errors as *APIError with the server's per-field problems, and connection
// fields the client does not know kept and sent back unchanged.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one call with the default HTTP client. Testing a
// connection waits for the target, twice when both payloads are tested, so
// the bound is well above the server's per-attempt deadline.
const DefaultTimeout = 90 * time.Second

// maxResponseBytes bounds an answer read into memory; the largest real one
// is a test result holding two 64 KiB responses and the requests sent.
const maxResponseBytes = 8 << 20

// Client calls one Hookline server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	baseErr   error
	token     string
	userAgent string
	http      *http.Client
}

// Option changes how a Client is built.
type Option func(*Client)

// WithHTTPClient makes the client send requests with hc, for its
// transport, proxy or timeout settings.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the server at baseURL ("http://127.0.0.1:8080",
// with or without a path prefix) that authenticates with the admin token.
// A malformed baseURL is reported by the first call.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		token:     token,
		userAgent: "hookline-client",
		http:      &http.Client{Timeout: DefaultTimeout},
	}
	c.base, c.baseErr = parseBase(baseURL)
	for _, o := range opts {
		o(c)
	}
	return c
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("server URL %q is not valid: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("server URL %q must be an absolute http:// or https:// URL", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// endpoint joins the API path p (already escaped) to the base URL.
func (c *Client) endpoint(p string, q url.Values) string {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + p
	path, err := url.PathUnescape(u.RawPath)
	if err != nil {
		path = c.base.Path + p // p is escaped by PathEscape, so this cannot happen
	}
	u.Path = path
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends one request and decodes a 2xx answer into out (unless nil). Any
// other answer becomes an *APIError.
func (c *Client) do(ctx context.Context, method, p string, q url.Values, in, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	endpoint := c.endpoint(p, q)
	req, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err // *url.Error already names the method and URL
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, endpoint, err)
	}
	if len(b) > maxResponseBytes {
		return fmt.Errorf("%s %s: answer is larger than %d bytes", method, endpoint, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, b)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return fmt.Errorf("%s %s: answer is %q, not JSON; is %s a Hookline server?", method, endpoint, resp.Header.Get("Content-Type"), c.base)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, endpoint, err)
	}
	return nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// errEmptyID is returned before any request for a call that needs an ID.
var errEmptyID = errors.New("connection ID is empty")
