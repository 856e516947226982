package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// readBody reads a request body of at most limit bytes, refusing an empty one.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, hookline.Errorf(hookline.ETOOLARGE, "The request body is larger than %d bytes.", limit)
		}
		if r.Context().Err() != nil {
			return nil, errCanceled()
		}
		return nil, hookline.Errorf(hookline.EINVALID, "The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, hookline.Errorf(hookline.EINVALID, "The request body is empty; send a JSON object.")
	}
	return body, nil
}

// decodeObject decodes a body that must be exactly one JSON object into its
// fields, left undecoded so that each can be judged and named on its own.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil {
		return nil, jsonSyntaxError(body, err)
	}
	if dec.More() {
		return nil, hookline.Errorf(hookline.EINVALID, "The request body holds more than one JSON value.")
	}
	if fields == nil {
		return nil, hookline.Errorf(hookline.EINVALID, "The request body must be a JSON object.")
	}
	return fields, nil
}

// stringField takes field name out of fields and returns its value; a
// value that is not a string (or null) is a problem named path.
func stringField(p *hookline.Problems, fields map[string]json.RawMessage, name, path string) string {
	raw, ok := fields[name]
	delete(fields, name)
	if !ok || string(raw) == "null" {
		return ""
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		p.Add(path, "must be a string")
	}
	return v
}

// jsonSyntaxError turns a decoding error into a message with the line and
// column of the problem.
func jsonSyntaxError(body []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(body, se.Offset)
		return hookline.Errorf(hookline.EINVALID, "The request body is not valid JSON: line %d, column %d: %s.", line, col, se.Error())
	case errors.As(err, &te):
		return hookline.Errorf(hookline.EINVALID, "The request body must be a JSON object, not %s.", te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(body, int64(len(body))+1)
		return hookline.Errorf(hookline.EINVALID, "The request body is not valid JSON: it ends at line %d, column %d before the value is complete.", line, col)
	}
	return hookline.Errorf(hookline.EINVALID, "The request body is not valid JSON: %v.", err)
}

// position is the 1-based line and column, in characters as payload
// template errors count them, of the byte before offset.
func position(b []byte, offset int64) (line, col int) {
	line, col = 1, 1
	end := min(max(offset-1, 0), int64(len(b)))
	for _, r := range string(b[:end]) {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// errCanceled answers a request whose client went away. It is EINVALID, not
// an internal error: nothing is wrong with the server, and an error-level log
// line per impatient client would hide the real ones. The client is gone and
// reads no answer; the request log still shows it.
func errCanceled() error {
	return hookline.Errorf(hookline.EINVALID, "The request was canceled by the client before it was answered.")
}

// clientGone turns err into errCanceled when the request's own context was
// canceled (the client went away), and leaves any other error as it is.
// Alerts may have been stored before the client left: a sender that retries
// with the same idempotency key gets the first acceptance back.
func clientGone(r *http.Request, err error) error {
	if err != nil && errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled) {
		return errCanceled()
	}
	return err
}

// idForm is the form of the IDs Hookline draws for connections, alerts and
// deliveries.
var idForm = regexp.MustCompile(`^[0-9A-F]{16}$`)

// queryParams parses a request's query and names, in p, every parameter
// that is not in allowed and every one of single given more than once, so
// that a misspelt filter is refused rather than silently ignored.
func queryParams(p *hookline.Problems, r *http.Request, allowed []string, single ...string) url.Values {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		p.Add("query", "is not a valid query string: %v", err)
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch {
		case !slices.Contains(allowed, k) && len(allowed) == 0:
			p.Add(k, "is not a parameter of %s %s, which takes none", r.Method, r.URL.Path)
		case !slices.Contains(allowed, k):
			p.Add(k, "is not a parameter of %s %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, ", "))
		case slices.Contains(single, k) && len(q[k]) > 1:
			p.Add(k, "is given %d times; give it once", len(q[k]))
		}
	}
	return q
}

// readLimit sets *limit from a list's limit parameter, when given.
func readLimit(p *hookline.Problems, q url.Values, limit *int) {
	v := q.Get("limit")
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > hookline.MaxListLimit {
		p.Add("limit", "must be a whole number from 1 to %d", hookline.MaxListLimit)
	}
	*limit = n
}

// readTimeRange sets *since and *until from a list's since and until
// parameters (RFC 3339 times), when given.
func readTimeRange(p *hookline.Problems, q url.Values, since, until *time.Time) {
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"since", since}, {"until", until}} {
		v := q.Get(t.name)
		if v == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			p.Add(t.name, "must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not %q", v)
			continue
		}
		*t.to = at
	}
	if !since.IsZero() && !until.IsZero() && until.Before(*since) {
		p.Add("until", "is before since")
	}
}

// checkID names field in p when v is given but is not an ID.
func checkID(p *hookline.Problems, field, v string) {
	if v != "" && !idForm.MatchString(v) {
		p.Add(field, "must be an ID of 16 upper-case hex digits such as 19F45825034958E4, not %q", v)
	}
}

// noQuery refuses any query parameter on a route that takes none.
func noQuery(r *http.Request) error {
	var p hookline.Problems
	queryParams(&p, r, nil)
	return p.Err()
}
