// Package devlambda is a local stand-in for AWS Lambda as Hookline reaches
// it: a Function URL or an API Gateway stage whose authorization type is
// AWS_IAM, the Lambda Invoke API (POST /2015-03-31/functions/{name}/
// invocations), and, when Config.STS is set, STS AssumeRole, whose
// temporary credentials it then accepts. It checks each request's
// Signature Version 4 the way AWS does and refuses it with AWS's status
// codes and messages, so that Hookline's tests, and a user trying Hookline
// offline ("hookline dev lambda"), find signing mistakes without an AWS
// account.
//
// The signature is recomputed with the AWS SDK's signer over a request
// rebuilt from only the headers the client says it signed, which is what AWS
// does; a client's mistake therefore shows as AWS's "signature we calculated
// does not match", while Request.Err keeps the precise reason for tests.
//
// What it does not do: check IAM policies (beyond Config.STS's roles and
// external IDs), expire the session tokens of Config.SessionTokens (it
// expires those it issues), accept the Date header in place of
// X-Amz-Date, query-string (presigned) authentication, STS actions other
// than AssumeRole, or verify signatures over the few headers the SDK never
// signs (User-Agent, Expect, X-Amzn-Trace-Id, Transfer-Encoding).
package devlambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// MaxBody is the largest request body accepted, Lambda's limit for a
// synchronous invocation (6 MB).
const MaxBody = 6 << 20

// DefaultMaxSkew is how far a request's X-Amz-Date may be from the server's
// clock, as at AWS.
const DefaultMaxSkew = 5 * time.Minute

// Config sets what a Server accepts.
type Config struct {
	// Region and Service are the credential scope the endpoint accepts.
	// Empty: "us-east-1" and "lambda".
	Region, Service string

	// Keys maps each accepted access key id to its secret access key.
	Keys map[string]string

	// SessionTokens optionally maps an access key id to the session token a
	// request with that key must carry, as temporary credentials must. A key
	// without an entry accepts any token or none.
	SessionTokens map[string]string

	Now     func() time.Time // nil: time.Now
	MaxSkew time.Duration    // 0: DefaultMaxSkew

	// Respond answers a verified request to a Function URL or API Gateway
	// path. Nil: 200 with a JSON summary of what arrived.
	Respond func(r Request) (status int, body []byte)

	// Invoke answers a verified synchronous (RequestResponse) call of the
	// Lambda Invoke API, which the server serves when Service is "lambda":
	// the function's result, and the kind of its error ("Unhandled"), if
	// it failed, which the answer carries in X-Amz-Function-Error (make the
	// result with ErrorResult). Nil: the JSON summary, no error.
	// Asynchronous (Event) calls are answered 202 without calling it.
	Invoke func(r Request) (result []byte, functionError string)

	// InvokeStatus, when it is an error status (4xx, 5xx), answers every
	// verified call of the Invoke API, synchronous or not, as Lambda
	// answers it when it refuses the call (429 when it throttles, 5xx when
	// the service fails): that status, the X-Amzn-ErrorType Lambda gives
	// it, and an error body. A call refused already (its signature, an
	// unknown function) keeps its own answer. 0: as Invoke says.
	InvokeStatus int

	// Functions, when not nil, are the function names the Invoke API
	// knows; a call of another answers 404 ResourceNotFoundException.
	Functions []string

	// STS, when not nil, makes the server answer STS AssumeRole too:
	// requests whose credential scope names service "sts".
	STS *STSConfig

	Logger *slog.Logger // nil: discard

	// MaxRecorded bounds the history Requests returns, keeping the newest:
	// a long-running `hookline dev lambda` must not grow without end.
	// 0: DefaultMaxRecorded; negative: record nothing.
	MaxRecorded int

	// MaxRecordedBytes bounds the bodies the history keeps, in total: the
	// oldest requests are forgotten first. A single body larger than the
	// bound is still kept, alone. 0 or less: DefaultMaxRecordedBytes.
	MaxRecordedBytes int64
}

// Defaults for the request history: by count, and by the bytes of the
// bodies kept (a body may be up to MaxBody).
const (
	DefaultMaxRecorded      = 10000
	DefaultMaxRecordedBytes = 64 << 20
)

// Request is one request the server received, whether or not it passed.
type Request struct {
	Time        time.Time // server time of arrival
	Method      string
	Path        string // escaped, as on the wire
	RawQuery    string
	Header      http.Header
	Body        []byte
	Verified    bool
	Status      int    // the status code answered
	Err         string // why it was refused: the answer's message, and more detail for tests
	AccessKeyID string // from the credential scope, when one could be read

	// Set for a call of the Invoke API: the function's name (from a name
	// or an ARN), its version or alias, the invocation type
	// (RequestResponse when the header is absent) and the function error
	// answered, if any.
	Function, Qualifier, InvocationType, FunctionError string
	// ClientContext is the Invoke API's X-Amz-Client-Context, decoded.
	ClientContext string

	// Action is the STS action of a call to STS ("AssumeRole"); RoleARN
	// the role it asked for.
	Action, RoleARN string
}

// Server is an http.Handler that verifies SigV4 and records every request.
// It is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	history  history
	received int                  // every request ever, for the request id
	issued   map[string]issuedKey // temporary credentials STS gave out, by access key id
}

// issuedKey is a key the server accepts: configured or issued by STS.
type issuedKey struct {
	secret, token string
	expires       time.Time // zero: never
}

// key returns what the server knows of an access key id.
func (s *Server) key(id string) (issuedKey, bool) {
	if secret, ok := s.cfg.Keys[id]; ok {
		return issuedKey{secret: secret, token: s.cfg.SessionTokens[id]}, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.issued[id]
	return k, ok
}

// New returns a server with cfg's defaults filled in.
func New(cfg Config) *Server {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Service == "" {
		cfg.Service = "lambda"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.MaxRecorded == 0 {
		cfg.MaxRecorded = DefaultMaxRecorded
	}
	if cfg.MaxRecordedBytes <= 0 {
		cfg.MaxRecordedBytes = DefaultMaxRecordedBytes
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: log, history: history{max: cfg.MaxRecorded, maxBytes: cfg.MaxRecordedBytes},
		issued: map[string]issuedKey{}}
}

// Requests returns a copy of the requests received so far, oldest first:
// all of them, or the newest that fit Config.MaxRecorded and
// Config.MaxRecordedBytes.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, 0, s.history.n)
	for r := range s.history.all() {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out = append(out, r)
	}
	return out
}

// history is a ring of the newest requests, bounded by count and by the
// total size of their bodies, so that recording one costs O(1).
type history struct {
	max      int
	maxBytes int64
	buf      []Request // grows up to max
	head, n  int       // the oldest is buf[head]; n are kept
	bytes    int64     // of the kept bodies
}

func (h *history) add(r Request) {
	if h.max <= 0 {
		return
	}
	for h.n > 0 && (h.n >= h.max || h.bytes+int64(len(r.Body)) > h.maxBytes) {
		h.bytes -= int64(len(h.buf[h.head].Body))
		h.buf[h.head] = Request{} // let the body go
		h.head = (h.head + 1) % len(h.buf)
		h.n--
	}
	if h.n == len(h.buf) {
		grown := make([]Request, min(max(2*len(h.buf), 16), h.max))
		copy(grown, h.buf[h.head:])
		copy(grown[len(h.buf)-h.head:], h.buf[:h.head])
		h.buf, h.head = grown, 0
	}
	h.buf[(h.head+h.n)%len(h.buf)] = r
	h.n++
	h.bytes += int64(len(r.Body))
}

// all yields the kept requests, oldest first.
func (h *history) all() iter.Seq[Request] {
	return func(yield func(Request) bool) {
		for i := range h.n {
			if !yield(h.buf[(h.head+i)%len(h.buf)]) {
				return
			}
		}
	}
}

// ServeHTTP verifies the request, records it and answers it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	rec := Request{
		Time:     now,
		Method:   r.Method,
		Path:     r.URL.EscapedPath(),
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
	}
	rt := s.route(r)
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	rec.Body = body
	var ae *awsError
	switch {
	case err != nil:
		ae = &awsError{status: http.StatusBadRequest, kind: "InvalidRequestContentException", msg: "Could not read the request body.", detail: err.Error()}
	case len(body) > MaxBody:
		rec.Body = body[:MaxBody]
		ae = &awsError{status: http.StatusRequestEntityTooLarge, kind: "RequestEntityTooLargeException",
			msg: fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxBody)}
	default:
		service := s.cfg.Service
		if rt == routeSTS {
			service = "sts"
		}
		rec.AccessKeyID, ae = s.verify(r, body, now, service)
	}

	out := answer{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}}
	if ae == nil {
		rec.Verified = true
		switch rt {
		case routeSTS:
			ae = s.assumeRole(&rec, now, &out)
		case routeInvoke:
			ae = s.invoke(r, &rec, &out)
		default:
			if s.cfg.Respond != nil {
				out.status, out.body = s.cfg.Respond(rec)
			} else {
				out.body = s.summary(rec)
			}
		}
	}
	if ae != nil {
		rec.Err = ae.msg
		if ae.detail != "" {
			rec.Err += " (" + ae.detail + ")"
		}
		if rt == routeSTS {
			out = stsError(ae)
		} else {
			out.status = ae.status
			out.body, _ = json.Marshal(map[string]string{"Message": ae.public(s.cfg.Service)})
			out.header.Set("X-Amzn-ErrorType", ae.kind)
		}
	}
	rec.Status = out.status

	s.mu.Lock()
	s.received++
	n := s.received
	s.history.add(rec)
	s.mu.Unlock()

	// The log names the request and the verdict, never header values: a
	// session token is a credential. rec.Err may hold the canonical
	// request, whose token line checkSignature has redacted.
	s.log.Info("devlambda request", "n", n, "method", rec.Method, "path", rec.Path, "bytes", len(body),
		"accessKeyId", rec.AccessKeyID, "verified", rec.Verified, "status", out.status, "error", rec.Err)

	for k, vs := range out.header {
		w.Header()[k] = vs
	}
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("devlambda-%08d", n))
	w.WriteHeader(out.status)
	_, _ = w.Write(out.body)
}

// answer is what the server answers a request with.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// The kinds of request the server tells apart.
const (
	routeURL    = iota // a Function URL or API Gateway path: anything else
	routeInvoke        // the Lambda Invoke API
	routeSTS           // STS: signed for service "sts", when Config.STS is set
)

func (s *Server) route(r *http.Request) int {
	if s.cfg.STS != nil {
		if a, _ := parseAuthorization(r.Header.Get("Authorization")); a.Service == "sts" {
			return routeSTS
		}
	}
	if s.cfg.Service == "lambda" && r.Method == http.MethodPost && invocationsRE.MatchString(r.URL.EscapedPath()) {
		return routeInvoke
	}
	return routeURL
}

// summary is the default answer to a verified request.
func (s *Server) summary(rec Request) []byte {
	b, _ := json.Marshal(summary{OK: true, Method: rec.Method, Path: rec.Path, Bytes: len(rec.Body), AccessKeyID: rec.AccessKeyID,
		BodySHA256: hex.EncodeToString(sha256Sum(rec.Body))})
	return b
}

type summary struct {
	OK          bool   `json:"ok"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	Bytes       int    `json:"bytes"`
	BodySHA256  string `json:"bodySha256"`
	AccessKeyID string `json:"accessKeyId"`
}

// awsError is a refusal as AWS words it. detail is for Request.Err and the
// log only: AWS does not tell a client more than msg. Neither detail nor
// canonical may hold a secret or a session token.
type awsError struct {
	status int
	kind   string // X-Amzn-ErrorType
	msg    string
	detail string
	// canonical and stringToSign are what the server computed, shown by API
	// Gateway (not by Lambda) in a signature mismatch answer.
	canonical, stringToSign string
}

func (e *awsError) Error() string { return e.msg }

func (e *awsError) public(service string) string {
	if e.canonical == "" || service != "execute-api" {
		return e.msg
	}
	return e.msg + "\n\nThe Canonical String for this request should have been\n'" + e.canonical +
		"'\n\nThe String-to-Sign should have been\n'" + e.stringToSign + "'\n"
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// bodyHashMatches compares a client's X-Amz-Content-Sha256 with the body.
func bodyHashMatches(claimed string, body []byte) bool {
	want := hex.EncodeToString(sha256Sum(body))
	return bytes.Equal([]byte(claimed), []byte(want))
}
