package devlambda

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func TestParseAuthorization(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want authorization
		err  string // substring; "" means success
	}{
		{in: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig,
			want: authorization{AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "service", Terminator: "aws4_request",
				SignedHeaders: []string{"host", "x-amz-date"}, Signature: sig}},
		{in: "AWS4-HMAC-SHA256 Credential=A/d/r/s/t,SignedHeaders=host,Signature=" + sig, // no spaces, as some clients send
			want: authorization{AccessKeyID: "A", Date: "d", Region: "r", Service: "s", Terminator: "t", SignedHeaders: []string{"host"}, Signature: sig}},
		{in: "", err: "unsupported scheme"},
		{in: "AWS4-HMAC-SHA1 Credential=A/d/r/s/t", err: "unsupported scheme"},
		{in: "AWS4-HMAC-SHA256 ", err: "requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires 'Signature' parameter."},
		{in: "AWS4-HMAC-SHA256 Credential=A/d/r/s, SignedHeaders=host, Signature=" + sig, err: "Credential should be"},
		{in: "AWS4-HMAC-SHA256 Credential=/d/r/s/t, SignedHeaders=host, Signature=" + sig, err: "Credential should be"},
		{in: "AWS4-HMAC-SHA256 Credential=A/d/r/s/t, SignedHeaders=, Signature=" + sig, err: "SignedHeaders is empty"},
		{in: "AWS4-HMAC-SHA256 Credential=A/d/r/s/t, SignedHeaders=host, Signature=" + strings.ToUpper(sig), err: "64 lower-case"},
		{in: "AWS4-HMAC-SHA256 Credential=A/d/r/s/t, SignedHeaders=host, Signature=" + sig + ", Signature=" + sig, err: "repeats 'Signature'"},
		{in: "AWS4-HMAC-SHA256 Credential=A/d/r/s/t, SignedHeaders=host, Signature=" + sig + ", Foo=1", err: "unknown parameter 'Foo'"},
	} {
		got, err := parseAuthorization(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
		case tc.err == "":
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%q (-want +got):\n%s", tc.in, diff)
			}
		}
	}
}

// FuzzParseAuthorization: whatever a client sends, parsing does not panic,
// and what it accepts is complete and survives a round trip.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig)
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=,Signature=")
	f.Add("AWS4-HMAC-SHA256 ,,,=,==")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := parseAuthorization(in)
		if err != nil {
			return
		}
		if a.AccessKeyID == "" || len(a.SignedHeaders) == 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.Signature) {
			t.Fatalf("accepted an incomplete header %q: %+v", in, a)
		}
		again := algorithm + " Credential=" + strings.Join([]string{a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator}, "/") +
			", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("rewritten %q does not parse: %v", again, err)
		}
		if !cmp.Equal(a, b) {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}
