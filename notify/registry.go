package notify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/payload"
)

// Registry holds the connection types a server knows.
type Registry struct {
	kinds map[string]Kind
	types []string
}

// NewRegistry returns a registry of the given kinds. It panics on two kinds
// with the same type, which is a programming error in cmd/hookline.
func NewRegistry(kinds ...Kind) *Registry {
	r := &Registry{kinds: make(map[string]Kind, len(kinds))}
	for _, k := range kinds {
		if _, dup := r.kinds[k.Type()]; dup {
			panic(fmt.Sprintf("notify: connection type %q registered twice", k.Type()))
		}
		r.kinds[k.Type()] = k
		r.types = append(r.types, k.Type())
	}
	return r
}

// Kind returns the kind registered for a webhookType value.
func (r *Registry) Kind(webhookType string) (Kind, bool) {
	k, ok := r.kinds[webhookType]
	return k, ok
}

// Types lists the registered webhookType values in registration order.
func (r *Registry) Types() []string { return slices.Clone(r.types) }

// Validate checks every field of c: the common ones, both payload templates
// and the type's own, normalizing the latter. It returns one EINVALID error
// listing every problem, and warnings (variables no alert will fill) that do
// not prevent saving.
func (r *Registry) Validate(c *hookline.Connection) (warnings []string, err error) {
	var p hookline.Problems
	if err := c.Validate(); err != nil {
		p.AddError("", err)
	}
	k, ok := r.kinds[c.WebhookType]
	if !ok && c.WebhookType != "" {
		p.Add("webhookType", "%q is not a known connection type; use one of %s", c.WebhookType, strings.Join(r.types, ", "))
	}
	for _, t := range []struct{ field, src string }{
		{"defaultPayload", c.DefaultPayload},
		{"resolutionPayload", c.ResolutionPayload},
	} {
		if strings.TrimSpace(t.src) == "" {
			continue
		}
		tmpl, err := payload.Parse(t.src)
		if err != nil {
			p.AddError(t.field, err)
			continue
		}
		if unknown := tmpl.Unknown(); len(unknown) > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: the following variables are not supported and render empty: %s", t.field, strings.Join(unknown, ", ")))
		}
	}
	if ok {
		// The one place the maps are made: Kind.Normalize may rely on it.
		if c.Settings == nil {
			c.Settings = map[string]string{}
		}
		if c.Secrets == nil {
			c.Secrets = map[string]string{}
		}
		for i, h := range c.CustomHeaders {
			for _, o := range k.OwnedHeaders() {
				if strings.EqualFold(o, h.Name) {
					p.Add(fmt.Sprintf("customHeaders[%d].name", i), "%q is set by the %s connection itself and cannot be a custom header", h.Name, k.Type())
				}
			}
		}
		k.Normalize(c, &p)
	}
	return warnings, p.Err()
}
