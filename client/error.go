package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// APIError is an answer other than 2xx. Status, Code and Message come from
// the server's error body; an answer without one (a proxy's error page, say)
// keeps its status and the start of its text as Message.
type APIError struct {
	Status  int          `json:"status"`
	Code    string       `json:"code"`    // hookline's error code: invalid, not_found, ...
	Message string       `json:"message"` // safe to show
	Errors  []ErrorEntry `json:"errors"`  // one per problem; Field set for invalid input
}

// ErrorEntry is one problem the server found.
type ErrorEntry struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"` // JSON path of the input field: "customHeaders[0].name"
	Message string `json:"message"`
}

// Error reads as one line: "400 invalid: url: is required; name: is required".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if fe := e.FieldErrors(); len(fe) > 0 {
		msgs := make([]string, len(fe))
		for i, f := range fe {
			msgs[i] = f.Field + ": " + f.Message
		}
		b.WriteString(": " + strings.Join(msgs, "; "))
		return b.String()
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// FieldErrors returns the problems that name an input field.
func (e *APIError) FieldErrors() []ErrorEntry {
	var out []ErrorEntry
	for _, x := range e.Errors {
		if x.Field != "" {
			out = append(out, x)
		}
	}
	return out
}

// maxErrorText bounds how much of a foreign error page becomes Message.
const maxErrorText = 200

func newAPIError(resp *http.Response, body []byte) *APIError {
	var e APIError
	if isJSON(resp.Header.Get("Content-Type")) && json.Unmarshal(body, &e) == nil && (e.Code != "" || e.Message != "") {
		// The status line is the truth; the body's copy may be missing.
		e.Status = resp.StatusCode
		return &e
	}
	e = APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	if text := strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD")); text != "" {
		if len(text) > maxErrorText {
			cut := maxErrorText
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
			text = text[:cut] + "…"
		}
		e.Message = text
	}
	return &e
}
