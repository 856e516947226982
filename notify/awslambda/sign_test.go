package awslambda

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// TestUnsignedHeaders keeps unsignedHeaders equal to what the SDK signer
// really leaves out, and checks that each one it leaves out is refused as a
// custom header somewhere, so no custom header ever travels unsigned.
func TestUnsignedHeaders(t *testing.T) {
	candidates := append([]string{"X-Team", "Accept", "Accept-Encoding", "Content-Encoding", "Cache-Control", "X-Forwarded-For", "Connection"}, unsignedHeaders...)
	req, err := http.NewRequest(http.MethodPost, "https://abc.lambda-url.us-east-1.on.aws/", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range candidates {
		req.Header.Set(h, "v")
	}
	cfg := config{accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "lambda"}
	if err := sign(context.Background(), req, strings.Repeat("0", 64), cfg, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	_, signed, _ := strings.Cut(req.Header.Get("Authorization"), "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	list := strings.Split(signed, ";")
	var unsigned []string
	for _, h := range candidates {
		if !slices.Contains(list, strings.ToLower(h)) {
			unsigned = append(unsigned, h)
		}
	}
	if !slices.Equal(unsigned, unsignedHeaders) {
		t.Errorf("the signer leaves out %q; unsignedHeaders lists %q", unsigned, unsignedHeaders)
	}

	for _, h := range unsignedHeaders {
		if !refusedElsewhere[h] {
			continue
		}
		var p hookline.Problems
		hookline.ValidateHeaders(&p, "customHeaders", []hookline.Header{{Name: h, Value: "v"}})
		if p.Err() == nil && !slices.Contains(Kind{}.OwnedHeaders(), h) {
			t.Errorf("%s is neither refused by hookline.ValidateHeaders nor owned, yet Normalize leaves it to them", h)
		}
	}
}
