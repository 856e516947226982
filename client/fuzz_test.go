package client

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzConnectionJSON checks that whatever answer decodes, encodes to an
// answer that decodes to the same connection: nothing is lost or invented
// between a GET and a PUT.
func FuzzConnectionJSON(f *testing.F) {
	f.Add(`{"type":"WebhookConnection","id":"a","name":"n","webhookType":"AWSLambda","url":"https://x/","customHeaders":[{"name":"X","value":"y"}],"createdAt":"2025-01-02T03:04:05Z","region":"us-east-1","hasSecretAccessKey":true,"warnings":["w"]}`)
	f.Add(`{"big":12345678901234567890,"nested":{"a":[1,2.5e300,null]},"hasX":false}`)
	f.Add(`{"name":null,"createdAt":""}`)
	f.Add(`{"createdAt":"2025-01-02T03:04:05+02:00"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var c Connection
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("encode %#v: %v", c, err)
		}
		var again Connection
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("decode own output %s: %v", b, err)
		}
		// An empty list and none are the same answer. Times are compared as instants: the encoding keeps the offset but
		// not a location's name.
		if diff := cmp.Diff(c, again, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b interface{ UnixNano() int64 }) bool { return a.UnixNano() == b.UnixNano() })); diff != "" {
			t.Errorf("decode(encode(c)) != c (-c +again):\n%s\ninput: %s\nencoded: %s", diff, in, b)
		}

		d := c.Definition()
		db, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("encode definition: %v", err)
		}
		var d2 Definition
		if err := json.Unmarshal(db, &d2); err != nil {
			t.Fatalf("decode own definition %s: %v", db, err)
		}
		for k := range d2.Extra {
			if readOnly[k] {
				t.Errorf("definition carries answer-only field %q", k)
			}
		}
	})
}

// FuzzAPIError checks that any error answer becomes an error that reads as
// one line starting with its status, whatever the body holds.
func FuzzAPIError(f *testing.F) {
	f.Add(400, "application/json", `{"status":400,"code":"invalid","message":"","errors":[{"code":"invalid","field":"url","message":"is required"}]}`)
	f.Add(502, "text/html", "<html>bad gateway</html>")
	f.Add(500, "application/json", `{"code":`)
	f.Add(404, "", "")
	f.Add(418, "text/plain", strings.Repeat("é", 300))
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}}
		e := newAPIError(resp, []byte(body))
		if e.Status != status {
			t.Errorf("Status = %d, want %d", e.Status, status)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, strconv.Itoa(status)) {
			t.Errorf("Error() = %q does not start with the status %d", msg, status)
		}
		if !isJSON(contentType) && len(e.Message) > maxErrorText+len("…") {
			t.Errorf("Message of a foreign page is %d bytes long", len(e.Message))
		}
		if !isJSON(contentType) && !utf8.ValidString(e.Message) {
			t.Errorf("Message is not valid UTF-8: %q", e.Message)
		}
	})
}
