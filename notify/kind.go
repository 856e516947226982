// Package notify turns a connection and a rendered payload into a request on
// the wire: it keeps the registry of connection types (one package each under
// notify/), validates connections as a whole, sends one attempt with a
// deadline, and redacts what it reports about the request it sent.
package notify

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hookline/hookline"
)

// Field describes one field that a connection type adds to the common ones.
// Its value lives in Connection.Settings, or in Connection.Secrets when Secret.
type Field struct {
	Name     string `json:"name"`     // JSON name in the API: "region"
	Label    string `json:"label"`    // label in the UI: "Region"
	Secret   bool   `json:"secret"`   // write-only, encrypted at rest, redacted everywhere
	Required bool   `json:"required"` // must be set (after Normalize has inferred what it can)
	Help     string `json:"help"`     // one sentence for the UI and the docs
	// Options are the values a form offers to pick from, in the order to
	// show them; nil for free text. They guide input, they do not bound
	// it: Normalize decides what is accepted.
	Options []string `json:"options,omitempty"`
	// OptionLabels maps an option to the words a person reads for it
	// ("assumeRole": "Assume an IAM role"); the option stays the value
	// that is sent and stored. A form shows an option without one as the
	// value itself. Options stay a list of strings so that clients which
	// read only them keep working.
	OptionLabels map[string]string `json:"optionLabels,omitempty"`
	// Default is the option a form preselects, and what an empty value
	// means unless Help names other fields that change it ("Default:
	// assumeRole when a role ARN is given"); "" for none.
	Default string `json:"default,omitempty"`
	// ShowWhen, when not nil, says the field is used only when each named
	// field's value is one of those listed (an empty value counting as its
	// Default): a form shows it then, and leaves it out otherwise.
	// Normalize drops a field its modes do not use, so hiding one loses
	// nothing.
	ShowWhen map[string][]string `json:"showWhen,omitempty"`
	// RequiredWhen, when not nil, makes the field required when each named
	// field's value is one of those listed, as Required does always. A
	// field ShowWhen hides is not required, whatever these say.
	RequiredWhen map[string][]string `json:"requiredWhen,omitempty"`
}

// OptionLabel returns the words a person reads for option v: its entry in
// OptionLabels, or v itself when it has none.
func (f Field) OptionLabel(v string) string {
	if l := f.OptionLabels[v]; l != "" {
		return l
	}
	return v
}

// Applies reports whether a condition such as ShowWhen holds for a
// connection's settings: a nil condition always holds. fields supplies the
// named fields' Defaults.
func Applies(cond map[string][]string, settings map[string]string, fields []Field) bool {
	for name, values := range cond {
		v := settings[name]
		if v == "" {
			for _, f := range fields {
				if f.Name == name {
					v = f.Default
				}
			}
		}
		if !slices.Contains(values, v) {
			return false
		}
	}
	return true
}

// Kind is one connection type: AWSLambda, Webhook, ... Each lives in its own
// package under notify/ and is registered in cmd/hookline.
type Kind interface {
	// Type is the connection's webhookType value.
	Type() string

	// Fields lists the type's own fields, in the order a form shows them.
	Fields() []Field

	// OwnedHeaders names the headers the type sets on every request, which
	// a custom header may not replace.
	OwnedHeaders() []string

	// Normalize checks the type's own fields of c and fills in what can be
	// inferred (a region from a URL, say), recording each problem in p under
	// the field's JSON name. The common fields have been checked already,
	// and c.Settings and c.Secrets are non-nil (Registry.Validate makes
	// them). A message never repeats a secret's value, nor a value that may
	// be a secret pasted into the wrong field.
	Normalize(c *hookline.Connection, p *hookline.Problems)

	// NewRequest builds the request that delivers body to c at time now,
	// with every header set (User-Agent: UserAgent among them) and, where
	// the type signs, signed. It must not send it.
	//
	// An error with code hookline.EUNAVAILABLE says the request cannot be
	// built now but may be later (temporary credentials could not be
	// fetched): Sender reports it as an attempt that got no answer, which
	// is retried. Any other error fails the attempt for good.
	NewRequest(ctx context.Context, c *hookline.Connection, body []byte, now time.Time) (*http.Request, error)
}

// ResponseChecker is implemented by a Kind whose target may report a
// failure inside a 2xx answer, as AWS Lambda's Invoke API does when the
// function itself failed (200 with X-Amz-Function-Error). Sender asks it
// about every answer.
type ResponseChecker interface {
	// CheckResponse returns why the answer to a request built for c is a
	// failure despite its status, or "" when it is not one; retry says
	// whether trying again may help. body holds what Sender kept of the
	// answer (at most MaxResponse bytes).
	CheckResponse(c *hookline.Connection, status int, header http.Header, body []byte) (failure string, retry bool)
}
