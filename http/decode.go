package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

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
