package hookline

import (
	"errors"
	"fmt"
	"strings"
)

// Application error codes. The HTTP layer maps each to one status code.
const (
	EINVALID      = "invalid"      // input failed validation (400)
	EUNAUTHORIZED = "unauthorized" // no or wrong credentials (401)
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed (403)
	ENOTFOUND     = "not_found"    // no such entity (404)
	EMETHOD       = "method"       // the route exists, not for this method (405)
	ECONFLICT     = "conflict"     // the change conflicts with stored state (409)
	EUNAVAILABLE  = "unavailable"  // shutting down or overloaded; try again (503)
	ETOOLARGE     = "too_large"    // request body over the limit (413)
	ETOOMANY      = "rate_limited" // too many requests from one credential (429)
	EINTERNAL     = "internal"     // anything else (500)
)

// Error is Hookline's application error: its message is safe to show to a
// user. Any other error is internal; the HTTP layer logs it and shows a
// message that reveals nothing.
type Error struct {
	Code    string
	Message string
	// Fields lists per-field problems, in input order.
	Fields []FieldError
}

// FieldError names one invalid input field, using the JSON path a client
// sent ("customHeaders[1].name").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

func (e *Error) Error() string {
	if len(e.Fields) > 0 && e.Message == "" {
		msgs := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			msgs[i] = f.Error()
		}
		return strings.Join(msgs, "; ")
	}
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted, user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the user-safe message of err: the message of the first
// *Error in its chain, or a generic text that reveals nothing of the cause.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "Internal error."
}

// Problems collects field errors while validating input.
type Problems struct {
	list []FieldError
}

// Add records that field is invalid.
func (p *Problems) Add(field, format string, args ...any) {
	p.list = append(p.list, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// AddError records err against field; an *Error's own field errors are
// nested under field. A nil err records nothing.
func (p *Problems) AddError(field string, err error) {
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		for _, f := range e.Fields {
			name := field
			if f.Field != "" {
				name = field + "." + f.Field
				if field == "" {
					name = f.Field
				}
			}
			p.list = append(p.list, FieldError{Field: name, Message: f.Message})
		}
		return
	}
	if errors.As(err, &e) {
		p.list = append(p.list, FieldError{Field: field, Message: e.Message})
		return
	}
	p.list = append(p.list, FieldError{Field: field, Message: err.Error()})
}

// Err returns nil when nothing was recorded, otherwise an EINVALID *Error
// listing every problem.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Fields: append([]FieldError(nil), p.list...)}
}
