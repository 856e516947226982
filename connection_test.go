package hookline_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hookline/hookline"
)

func validConnection() *hookline.Connection {
	return &hookline.Connection{
		Name:           "blocker",
		WebhookType:    "Webhook",
		URL:            "https://hooks.example.com/alert",
		DefaultPayload: `{"a": "{{Name}}"}`,
	}
}

func TestConnectionValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *hookline.Connection)
		field  string // "" means valid
	}{
		{"valid", func(c *hookline.Connection) {}, ""},
		{"127 runes of unicode", func(c *hookline.Connection) { c.Name = strings.Repeat("é", 127) }, ""},
		{"name blank", func(c *hookline.Connection) { c.Name = "  " }, "name"},
		{"name 128", func(c *hookline.Connection) { c.Name = strings.Repeat("a", 128) }, "name"},
		{"name padded", func(c *hookline.Connection) { c.Name = " blocker" }, "name"},
		{"name invalid utf8", func(c *hookline.Connection) { c.Name = "a\xffb" }, "name"},
		{"description long", func(c *hookline.Connection) { c.Description = strings.Repeat("a", 1025) }, "description"},
		{"no type", func(c *hookline.Connection) { c.WebhookType = "" }, "webhookType"},
		{"http ok", func(c *hookline.Connection) { c.URL = "http://127.0.0.1:9000/" }, ""},
		{"port zero", func(c *hookline.Connection) { c.URL = "http://127.0.0.1:0/" }, "url"},
		{"port huge", func(c *hookline.Connection) { c.URL = "http://127.0.0.1:70000/" }, "url"},
		{"fragment", func(c *hookline.Connection) { c.URL = "https://a.example/#x" }, "url"},
		{"no host", func(c *hookline.Connection) { c.URL = "https:///path" }, "url"},
		{"url too long", func(c *hookline.Connection) { c.URL = "https://a.example/" + strings.Repeat("a", 2048) }, "url"},
		{"payload empty", func(c *hookline.Connection) { c.DefaultPayload = " " }, "defaultPayload"},
		{"payload huge", func(c *hookline.Connection) { c.DefaultPayload = strings.Repeat(" ", 65537) }, "defaultPayload"},
		{"five headers", func(c *hookline.Connection) {
			for _, n := range []string{"A", "B", "C", "D", "E"} {
				c.CustomHeaders = append(c.CustomHeaders, hookline.Header{Name: "X-" + n, Value: n})
			}
		}, ""},
		{"six headers", func(c *hookline.Connection) {
			for _, n := range []string{"A", "B", "C", "D", "E", "F"} {
				c.CustomHeaders = append(c.CustomHeaders, hookline.Header{Name: "X-" + n, Value: n})
			}
		}, "customHeaders"},
		{"header tab ok", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{"X-A", "a\tb"}} }, ""},
		{"header NUL", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{"X-A", "a\x00b"}} }, "customHeaders[0].value"},
		{"header LF", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{"X-A", "a\nb"}} }, "customHeaders[0].value"},
		{"header colon in name", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{"X-A:", "a"}} }, "customHeaders[0].name"},
		{"header trailing space", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{"X-A", "a "}} }, "customHeaders[0].value"},
		{"header content-length", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{"content-length", "1"}} }, "customHeaders[0].name"},
		{"idempotency key reserved", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{"Idempotency-Key", "1"}} }, "customHeaders[0].name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConnection()
			tc.mutate(c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var e *hookline.Error
			if !errors.As(err, &e) || e.Code != hookline.EINVALID {
				t.Fatalf("Validate() = %v, want an EINVALID *Error", err)
			}
			for _, f := range e.Fields {
				if f.Field == tc.field {
					return
				}
			}
			t.Errorf("Validate() = %v, want a problem with field %q", err, tc.field)
		})
	}
}

func TestPayloadFor(t *testing.T) {
	c := validConnection()
	if got := c.PayloadFor(hookline.TriggerResolvedCritical); got != c.DefaultPayload {
		t.Errorf("no recovery payload: got %q", got)
	}
	c.ResolutionPayload = `{"r": 1}`
	for trigger, want := range map[hookline.TriggerType]string{
		hookline.TriggerCritical: c.DefaultPayload, hookline.TriggerMissingData: c.DefaultPayload,
		hookline.TriggerResolvedWarning: c.ResolutionPayload, hookline.TriggerResolvedMissingData: c.ResolutionPayload,
	} {
		if got := c.PayloadFor(trigger); got != want {
			t.Errorf("PayloadFor(%s) = %q, want %q", trigger, got, want)
		}
	}
}

func TestErrorHelpers(t *testing.T) {
	cause := errors.New("disk on fire")
	wrapped := fmt.Errorf("save: %w", hookline.Errorf(hookline.ENOTFOUND, "connection X not found"))
	if hookline.ErrorCode(wrapped) != hookline.ENOTFOUND || hookline.ErrorMessage(wrapped) != "connection X not found" {
		t.Errorf("wrapped: code %q message %q", hookline.ErrorCode(wrapped), hookline.ErrorMessage(wrapped))
	}
	if hookline.ErrorCode(cause) != hookline.EINTERNAL || strings.Contains(hookline.ErrorMessage(cause), "fire") {
		t.Errorf("a plain error must map to internal and hide its text")
	}
	if hookline.ErrorCode(nil) != "" {
		t.Error("nil error has a code")
	}
	var p hookline.Problems
	p.AddError("customHeaders[0]", &hookline.Error{Code: hookline.EINVALID, Fields: []hookline.FieldError{{Field: "name", Message: "bad"}}})
	p.AddError("url", hookline.Errorf(hookline.EINVALID, "is required"))
	if got := p.Err().Error(); got != "customHeaders[0].name: bad; url: is required" {
		t.Errorf("Problems = %q", got)
	}
}

// FuzzValidateHeader proves that a header Validate accepts can be written
// on the wire unchanged: no CR, LF or NUL, a token name.
func FuzzValidateHeader(f *testing.F) {
	for _, seed := range [][2]string{{"X-Team", "secops"}, {"X Bad", "v"}, {"X-A", "a\r\nb"}, {"", ""}, {"X-Ü", "ü"}, {"X-A", "\t"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if hookline.ValidateHeaderName(name) == nil {
			if name == "" || strings.ContainsAny(name, " \t\r\n:\x00()<>@,;\\\"/[]?={}") {
				t.Fatalf("accepted header name %q", name)
			}
		}
		if hookline.ValidateHeaderValue(value) == nil {
			if strings.ContainsAny(value, "\r\n\x00") {
				t.Fatalf("accepted header value %q", value)
			}
		}
	})
}

func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://a.lambda-url.us-east-1.on.aws/", "http://127.0.0.1:9000/x?y=1", "ftp://x", "https://u:p@h/", "//h/x", "https://h:99999/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if hookline.ValidateURL(raw) != nil {
			return
		}
		if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") &&
			!strings.HasPrefix(strings.ToLower(raw), "http") {
			t.Fatalf("accepted %q", raw)
		}
		if strings.ContainsAny(raw, " \r\n\t#") {
			t.Fatalf("accepted %q", raw)
		}
	})
}
