// Package devlambda is a local stand-in for an AWS Lambda Function URL or an
// API Gateway stage whose authorization type is AWS_IAM. It checks each
// request's Signature Version 4 the way AWS does and refuses it with AWS's
// status codes and messages, so that Hookline's tests, and a user trying
// Hookline offline ("hookline dev lambda"), find signing mistakes without an
// AWS account.
//
// The signature is recomputed with the AWS SDK's signer over a request
// rebuilt from only the headers the client says it signed, which is what AWS
// does; a client's mistake therefore shows as AWS's "signature we calculated
// does not match", while Request.Err keeps the precise reason for tests.
//
// What it does not do: check IAM policies, expire session tokens, accept
// the Date header in place of X-Amz-Date, query-string (presigned)
// authentication, or verify signatures over the few headers the SDK never
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

	// Respond answers a verified request. Nil: 200 with a JSON summary of
	// what arrived.
	Respond func(r Request) (status int, body []byte)

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
}

// Server is an http.Handler that verifies SigV4 and records every request.
// It is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	history  history
	received int // every request ever, for the request id
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
	return &Server{cfg: cfg, log: log, history: history{max: cfg.MaxRecorded, maxBytes: cfg.MaxRecordedBytes}}
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
		rec.AccessKeyID, ae = s.verify(r, body, now)
	}

	status, answer := http.StatusOK, []byte(nil)
	if ae != nil {
		status = ae.status
		rec.Err = ae.msg
		if ae.detail != "" {
			rec.Err += " (" + ae.detail + ")"
		}
		answer, _ = json.Marshal(map[string]string{"Message": ae.public(s.cfg.Service)})
		w.Header().Set("X-Amzn-ErrorType", ae.kind)
	} else {
		rec.Verified = true
		if s.cfg.Respond != nil {
			status, answer = s.cfg.Respond(rec)
		} else {
			answer, _ = json.Marshal(summary{OK: true, Method: rec.Method, Path: rec.Path, Bytes: len(body), AccessKeyID: rec.AccessKeyID,
				BodySHA256: hex.EncodeToString(sha256Sum(body))})
		}
	}
	rec.Status = status

	s.mu.Lock()
	s.received++
	n := s.received
	s.history.add(rec)
	s.mu.Unlock()

	// The log names the request and the verdict, never header values: a
	// session token is a credential. rec.Err may hold the canonical
	// request, whose token line checkSignature has redacted.
	s.log.Info("devlambda request", "n", n, "method", rec.Method, "path", rec.Path, "bytes", len(body),
		"accessKeyId", rec.AccessKeyID, "verified", rec.Verified, "status", status, "error", rec.Err)

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("devlambda-%08d", n))
	w.WriteHeader(status)
	_, _ = w.Write(answer)
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
