// Package client is a small Go client of Hookline's REST API (/api/v1). It
// is what the hookline CLI uses, and what a program that manages
// connections from code should use, so that both see the API the same way:
// errors as *APIError with the server's per-field problems, and connection
// fields the client does not know kept and sent back unchanged.
//
// A client authenticates with one of: an access key (WithAccessKey, sent
// as HTTP Basic credentials), a session (SignIn with an email and
// password), or the admin token (New's token, sent as a bearer token).
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
	"sync"
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
	accessID  string
	accessKey string
	userAgent string
	http      *http.Client

	mu      sync.RWMutex
	session *signedIn // set by SignIn, cleared by SignOut
}

// signedIn is what a session sends with every request: its cookie, and the
// CSRF token the server wants echoed on changes.
type signedIn struct {
	cookie *http.Cookie
	csrf   string
}

// Option changes how a Client is built.
type Option func(*Client)

// WithHTTPClient makes the client send requests with hc, for its
// transport, proxy or timeout settings.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithAccessKey makes the client authenticate with an access key: the
// access ID and the secret key, sent as HTTP Basic credentials with every
// request. It takes precedence over the token given to New.
func WithAccessKey(id, key string) Option {
	return func(c *Client) { c.accessID, c.accessKey = id, key }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the server at baseURL ("http://127.0.0.1:8080",
// with or without a path prefix) that authenticates with the admin token,
// sent as a bearer token; "" sends none (use WithAccessKey or SignIn). A
// malformed baseURL is reported by the first call.
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
	_, err := c.send(ctx, method, p, q, in, out)
	return err
}

// authorize adds the client's credentials to req: a session's cookie and
// CSRF token once signed in, else the access key, else the admin token.
func (c *Client) authorize(req *http.Request) {
	c.mu.RLock()
	s := c.session
	c.mu.RUnlock()
	switch {
	case s != nil:
		req.AddCookie(s.cookie)
		req.Header.Set("X-CSRF-Token", s.csrf)
	case c.accessID != "" || c.accessKey != "":
		req.SetBasicAuth(c.accessID, c.accessKey)
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}

// send is do that also returns the answer's header, for the cookie a
// sign-in sets.
func (c *Client) send(ctx context.Context, method, p string, q url.Values, in, out any) (http.Header, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	endpoint := c.endpoint(p, q)
	req, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err // *url.Error already names the method and URL
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, endpoint, err)
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("%s %s: answer is larger than %d bytes", method, endpoint, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(resp, b)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.Header, nil
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return nil, fmt.Errorf("%s %s: answer is %q, not JSON; is %s a Hookline server?", method, endpoint, resp.Header.Get("Content-Type"), c.base)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("%s %s: decode answer: %w", method, endpoint, err)
	}
	return resp.Header, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// errEmptyID is returned before any request for a call that needs an ID.
var errEmptyID = errors.New("connection ID is empty")

// The session cookie's names: __Host- prefixed when the server marks it
// Secure (https), plain on a loopback http server.
var sessionCookieNames = []string{"__Host-hookline_session", "hookline_session"}

// SignIn signs in with an email and password, as the web UI does, and
// makes the client call as that user from then on: every later request
// carries the session's cookie and its CSRF token (X-CSRF-Token) instead of
// the access key or admin token. The session ends after the server's
// session lifetime (12 hours) or with SignOut.
//
// A wrong email or password is a 401 *APIError; too many failures for one
// email a 429. The password is sent once and not kept.
func (c *Client) SignIn(ctx context.Context, email, password string) (*Session, error) {
	in := struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}{email, password}
	var out Session
	h, err := c.send(ctx, http.MethodPost, sessionPath, nil, in, &out)
	if err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", email, err)
	}
	var cookie *http.Cookie
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		for _, name := range sessionCookieNames {
			if ck.Name == name && ck.Value != "" {
				cookie = ck
			}
		}
	}
	switch {
	case cookie == nil:
		return nil, fmt.Errorf("sign in as %s: the server set no session cookie", email)
	case out.CSRFToken == "":
		return nil, fmt.Errorf("sign in as %s: the server sent no csrfToken", email)
	case cookie.Secure && c.base.Scheme != "https":
		// As a browser would: a cookie the server means for https only is
		// not sent over plain http, where anyone on the way could take it.
		return nil, fmt.Errorf("sign in as %s: the server's session cookie is for https only; call it at its https:// URL", email)
	}
	c.mu.Lock()
	c.session = &signedIn{cookie: &http.Cookie{Name: cookie.Name, Value: cookie.Value}, csrf: out.CSRFToken}
	c.mu.Unlock()
	return &out, nil
}

// signedOut forgets the session SignIn started.
func (c *Client) signedOut() {
	c.mu.Lock()
	c.session = nil
	c.mu.Unlock()
}
