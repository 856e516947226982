package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/netguard"
	"github.com/hookline/hookline/payload"
)

// UserAgent is the User-Agent header every kind sends. cmd/hookline sets it
// to "hookline/<version>" once at start, before any request is built.
var UserAgent = "hookline"

// Defaults for one attempt.
const (
	DefaultTimeout     = 15 * time.Second
	DefaultMaxResponse = 64 << 10 // bytes of a target's answer kept
)

// Sender sends one rendered payload to one connection. Retries, queues and
// limits live above it; Sender is one attempt, always with a deadline.
type Sender struct {
	Registry    *Registry
	Client      *http.Client     // nil: a client that follows no redirects and adds no Accept-Encoding
	Now         func() time.Time // nil: time.Now
	Timeout     time.Duration    // per attempt; 0: DefaultTimeout
	MaxResponse int64            // 0: DefaultMaxResponse

	// Guard refuses connections to the addresses it forbids, checked on
	// the resolved address as each connection is dialled. nil: any address
	// may be reached, as tests and the bench need; hookline serve sets one.
	// It guards the default client only: a Client of one's own dials as
	// it pleases.
	Guard *netguard.Guard

	guardedOnce sync.Once
	guarded     *http.Client
}

// Attempt is what one delivery attempt did, safe to show and store: every
// secret of the connection is redacted from it.
type Attempt struct {
	StatusCode        int           `json:"statusCode"`
	ResponseContent   string        `json:"responseContent"`
	ResponseTruncated bool          `json:"responseTruncated,omitempty"`
	Latency           time.Duration `json:"-"`
	LatencyMs         float64       `json:"latencyMs"`
	// Error says why the attempt failed where the status cannot: why no
	// answer came (timeout, refused, ...), or how a target that answered
	// 2xx reported a failure (see Failed).
	Error   string      `json:"error,omitempty"`
	Request SentRequest `json:"request"`
	// Failed reports that the target answered 2xx yet said the work
	// failed, as a Kind's ResponseChecker judged: a Lambda function's
	// error. Error says how; RetryFailure whether trying again may help.
	Failed       bool `json:"failed,omitempty"`
	RetryFailure bool `json:"-"`
	// RetryAfter is how long the target asked to be left alone (its
	// Retry-After header), 0 when it did not ask.
	RetryAfter time.Duration `json:"-"`
	// Forbidden reports that the Guard refused the target's address: no
	// request left, and none will while the rule stands, so it is not
	// retried. Error says why in words.
	Forbidden bool `json:"-"`
}

// OK reports whether the target answered with a 2xx status and did not
// report a failure in it.
func (a *Attempt) OK() bool { return a.StatusCode >= 200 && a.StatusCode < 300 && !a.Failed }

// SentRequest is the request as it went on the wire, redacted.
type SentRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers []hookline.Header `json:"headers"`
	Body    string            `json:"body"`
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	if s.Guard == nil {
		return defaultClient
	}
	s.guardedOnce.Do(func() { s.guarded = newClient(s.Guard.Control) })
	return s.guarded
}

// defaultClient dials any address: the library's default, for tests and
// the bench. hookline serve's Sender has a Guard.
var defaultClient = newClient(nil)

// newClient returns a client whose dialler calls control on every address
// it is about to connect to, after resolving the name, so that a refusal
// holds whatever the name resolves to at that moment.
//
// The client does not follow redirects: a signed request must not be
// replayed to a host the connection does not name, nor to an address the
// guard would refuse, and the target's 3xx is the answer the user should
// see. It does not ask for gzip either, which the transport would add
// behind the kinds' back, so that the request shown is the request sent.
// A proxy from the environment is dialled, and so checked, like a target;
// where the proxy connects is its own affair.
func newClient(control func(network, address string, c syscall.RawConn) error) *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: control}).DialContext,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			DisableCompression:  true,
		},
	}
}

// Send delivers body to c once. A failure to reach the target is reported
// in Attempt.Error, not as an error: the error result is for problems on
// Hookline's side (an unknown type, a request that cannot be built).
func (s *Sender) Send(ctx context.Context, c *hookline.Connection, body []byte) (*Attempt, error) {
	return s.send(ctx, c, body, "")
}

// IdempotencyKeyHeader carries a delivery's ID on each of its attempts, so
// a target can drop the repeats that at-least-once delivery may cause.
const IdempotencyKeyHeader = "Idempotency-Key"

// Deliver is Send for one attempt of a delivery: the request also carries
// key in the Idempotency-Key header, set before signing so it is signed.
func (s *Sender) Deliver(ctx context.Context, c *hookline.Connection, body []byte, key string) (*Attempt, error) {
	return s.send(ctx, c, body, key)
}

func (s *Sender) send(ctx context.Context, c *hookline.Connection, body []byte, key string) (*Attempt, error) {
	if key != "" {
		withKey := *c
		withKey.CustomHeaders = append(slices.Clip(c.CustomHeaders), hookline.Header{Name: IdempotencyKeyHeader, Value: key})
		c = &withKey
	}
	k, ok := s.Registry.Kind(c.WebhookType)
	if !ok {
		return nil, hookline.Errorf(hookline.EINVALID, "connection %s has unknown type %q", c.ID, c.WebhookType)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := k.NewRequest(ctx, c, body, s.now())
	if hookline.ErrorCode(err) == hookline.EUNAVAILABLE {
		// Nothing was sent; like a target that did not answer, it may
		// work next time.
		return &Attempt{Error: newRedactor(c).string(hookline.ErrorMessage(err))}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("build %s request for connection %q: %w", c.WebhookType, c.Name, err)
	}
	// A credential the kind put in a header itself (an assumed role's
	// session token) is no connection secret, yet a target may echo it.
	red := newRedactor(c, sensitiveValues(req.Header)...)
	a := &Attempt{Request: red.request(req, body)}

	start := time.Now()
	resp, err := s.client().Do(req)
	if err != nil {
		a.Latency = time.Since(start)
		a.LatencyMs = ms(a.Latency)
		a.Error = red.string(describeTransportError(err, timeout))
		a.Forbidden = errors.Is(err, netguard.ErrForbiddenAddress)
		return a, nil
	}
	defer resp.Body.Close()
	max := s.MaxResponse
	if max <= 0 {
		max = DefaultMaxResponse
	}
	content, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	a.Latency = time.Since(start)
	a.LatencyMs = ms(a.Latency)
	a.StatusCode = resp.StatusCode
	a.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), s.now())
	if int64(len(content)) > max {
		content, a.ResponseTruncated = content[:max], true
	}
	a.ResponseContent = red.string(strings.ToValidUTF8(string(content), "\uFFFD"))
	if err != nil {
		a.Error = red.string("reading the answer failed: " + describeTransportError(err, timeout))
	}
	if rc, ok := k.(ResponseChecker); ok {
		if failure, retry := rc.CheckResponse(c, resp.StatusCode, resp.Header, content); failure != "" {
			a.Failed, a.RetryFailure = true, retry
			a.Error = red.string(failure)
		}
	}
	return a, nil
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// maxRetryAfter bounds what a target may ask for: a day, the length of
// the whole default retry schedule.
const maxRetryAfter = 24 * time.Hour

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// describeTransportError says in words why no answer came, without the
// request URL that *url.Error repeats.
func describeTransportError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var fe *netguard.ForbiddenError
	if errors.As(err, &fe) {
		return fe.Error()
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no answer within %s (timeout)", timeout)
	case errors.Is(err, context.Canceled):
		return "canceled before the target answered"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the target closed the connection without answering"
	case errors.Is(err, syscall.ECONNRESET):
		return "the target reset the connection without answering"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return fmt.Sprintf("%s %s: %v", oe.Op, oe.Addr, se.Err)
		}
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return fmt.Sprintf("cannot resolve host %q: %s", de.Name, de.Err)
	}
	return err.Error()
}

// redactor removes a connection's secrets from anything shown or stored.
type redactor struct {
	secrets []string // every form a secret may take in an answer, longest first
}

const redacted = "REDACTED"

// MinRedactable is the length below which a string is not redacted: a
// shorter one would shred ordinary text. The kinds require their secrets,
// and an Authorization value's credentials, to be at least this long.
const MinRedactable = 8

// sensitiveHeaders carry credentials whatever their values.
var sensitiveHeaders = map[string]bool{
	"Authorization":        true,
	"X-Amz-Security-Token": true,
	"Proxy-Authorization":  true,
	"Cookie":               true,
}

// sensitiveValues are the values of h's sensitiveHeaders.
func sensitiveValues(h http.Header) []string {
	var vs []string
	for name := range sensitiveHeaders {
		vs = append(vs, h.Values(name)...)
	}
	return vs
}

// newRedactor removes c's secrets, and the extra values, in every form.
func newRedactor(c *hookline.Connection, extra ...string) *redactor {
	r := &redactor{}
	seen := map[string]bool{}
	add := func(v string) {
		if len(v) >= MinRedactable && !seen[v] {
			seen[v] = true
			r.secrets = append(r.secrets, v)
		}
	}
	values := slices.Collect(maps.Values(c.Secrets))
	for _, v := range append(values, extra...) {
		forms := []string{v}
		// A target that refuses "Bearer <token>" often quotes the token alone.
		if _, cred, ok := strings.Cut(v, " "); ok {
			forms = append(forms, strings.TrimSpace(cred))
		}
		for _, f := range forms {
			add(f)
			// As a target may echo it: inside a JSON string (Go escapes <>&,
			// PHP escapes / as well) or in a URL.
			if b, err := json.Marshal(f); err == nil {
				j := string(b[1 : len(b)-1])
				add(j)
				add(strings.ReplaceAll(j, "/", `\/`))
			}
			add(url.QueryEscape(f))
			add(url.PathEscape(f))
		}
	}
	// Longest first, so a secret that contains another is removed whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

func (r *redactor) string(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// request shows req as the transport will write it: its headers, and the
// Content-Length the transport adds from req.ContentLength, sorted by name
// after Host.
func (r *redactor) request(req *http.Request, body []byte) SentRequest {
	out := SentRequest{Method: req.Method, URL: r.string(req.URL.String()), Body: r.string(string(body))}
	header := req.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	switch {
	case req.ContentLength > 0, req.ContentLength == 0 && (req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch):
		header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	case req.ContentLength < 0:
		header.Set("Transfer-Encoding", "chunked")
	}
	names := make([]string, 0, len(header))
	for name := range header {
		names = append(names, name)
	}
	sort.Strings(names)
	out.Headers = append(out.Headers, hookline.Header{Name: "Host", Value: req.URL.Host})
	for _, name := range names {
		for _, v := range header[name] {
			out.Headers = append(out.Headers, hookline.Header{Name: name, Value: r.header(name, v)})
		}
	}
	return out
}

// header keeps what helps a user debug a signed request (the scheme, the
// credential scope, the signed header list) and drops what would let
// someone replay it (the signature, tokens, passwords).
func (r *redactor) header(name, v string) string {
	if !sensitiveHeaders[http.CanonicalHeaderKey(name)] {
		return r.string(v)
	}
	if rest, ok := strings.CutPrefix(v, "AWS4-HMAC-SHA256 "); ok {
		parts := strings.Split(rest, ",")
		for i, p := range parts {
			p = strings.TrimSpace(p)
			if strings.HasPrefix(p, "Signature=") {
				p = "Signature=" + redacted
			}
			parts[i] = p
		}
		return r.string("AWS4-HMAC-SHA256 " + strings.Join(parts, ", "))
	}
	if scheme, _, ok := strings.Cut(v, " "); ok && http.CanonicalHeaderKey(name) == "Authorization" {
		return scheme + " " + redacted
	}
	return redacted
}

// Test sends the sample alert of trigger type t (Critical for Test Alert,
// ResolvedCritical for Test Recovery) rendered with c's payload for it, as
// the real delivery would go.
func (s *Sender) Test(ctx context.Context, c *hookline.Connection, t hookline.TriggerType) (*Attempt, error) {
	tmpl, err := payload.Parse(c.PayloadFor(t))
	if err != nil {
		field := "defaultPayload"
		if t.IsResolution() && c.ResolutionPayload != "" {
			field = "resolutionPayload"
		}
		var p hookline.Problems
		p.AddError(field, err)
		return nil, p.Err()
	}
	return s.Send(ctx, c, tmpl.Render(payload.Sample(t, s.now())))
}
