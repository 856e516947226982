package awslambda

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go/logging"
)

// suiteDiffers lists the cases of the AWS SigV4 test suite whose expected
// header signature the production signer does not produce, and why that
// is right for Lambda and API Gateway. The test asserts that each still
// differs, so the list cannot hide a change in the signer.
var suiteDiffers = map[string]string{
	// With "normalize": true the suite wants RFC 3986 dot segments removed
	// and repeated slashes merged before signing. The SDK signs the path
	// as it is sent; Hookline sends the URL the user saved, and validation
	// never produces such paths from a Function URL or an API stage.
	"get-relative-normalized":            "path normalization: /example/.. signed as is, suite wants /",
	"get-relative-relative-normalized":   "path normalization: /example1/example2/../.. signed as is, suite wants /",
	"get-slash-dot-slash-normalized":     "path normalization: /./ signed as is, suite wants /",
	"get-slash-normalized":               "path normalization: // signed as is, suite wants /",
	"get-slash-pointless-dot-normalized": "path normalization: /./example signed as is, suite wants /example",
	"get-slashes-normalized":             "path normalization: //example// signed as is, suite wants /example/",
	// The suite adds the session token after signing, leaving it out of
	// SignedHeaders. The SDK signs it (SignerOptions.DisableSessionToken
	// would not), which Lambda and API Gateway accept.
	"post-sts-header-after": "session token signed; the case wants it added after signing",
}

// TestAWSSigV4Suite signs every request of the AWS SigV4 test suite with
// sign, the function deliveries use, and compares the signature, canonical
// request and string to sign with the suite's expectations for header
// signing. The suite lives in shared/ beside the repository and is read in
// place.
func TestAWSSigV4Suite(t *testing.T) {
	dir := suiteDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var match, differ, viaOpaque int
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			c := loadSuiteCase(t, filepath.Join(dir, name))
			if c.opaque {
				viaOpaque++
			}
			var trace signingTrace
			if err := sign(context.Background(), c.req, c.payloadHash, c.cfg, c.time, &trace); err != nil {
				t.Fatal(err)
			}
			got := c.req.Header.Get("Authorization")
			gotSig := got[strings.LastIndex(got, "Signature=")+len("Signature="):]
			if reason, ok := suiteDiffers[name]; ok {
				differ++
				if gotSig == c.wantSig {
					t.Fatalf("listed as differing (%s) but now matches: remove it from suiteDiffers", reason)
				}
				if trace.canonical == c.wantCanonical {
					t.Fatalf("listed as differing (%s) but the canonical request matches", reason)
				}
				return
			}
			if gotSig != c.wantSig {
				t.Errorf("signature\n got %s\nwant %s", gotSig, c.wantSig)
			}
			if got != c.wantAuth {
				t.Errorf("Authorization\n got %s\nwant %s", got, c.wantAuth)
			}
			if trace.canonical != c.wantCanonical {
				t.Errorf("canonical request\n got %q\nwant %q", trace.canonical, c.wantCanonical)
			}
			if trace.stringToSign != c.wantStringToSign {
				t.Errorf("string to sign\n got %q\nwant %q", trace.stringToSign, c.wantStringToSign)
			}
			if got, want := c.req.Header.Get("X-Amz-Date"), c.time.Format("20060102T150405Z"); got != want {
				t.Errorf("X-Amz-Date %q, want %q", got, want)
			}
			if !t.Failed() {
				match++
			}
		})
	}
	for name := range suiteDiffers {
		if !seen[name] {
			t.Errorf("suiteDiffers names %q, which the suite does not have", name)
		}
	}
	if match+differ == 0 {
		t.Fatal("the suite directory holds no cases")
	}
	t.Logf("AWS SigV4 suite: %d of %d cases match exactly (%d through URL.Opaque), %d differ as listed",
		match, len(seen), viaOpaque, differ)
}

// suiteDir finds shared/testdata/sigv4/v4 beside the repository root (the
// directory holding go.mod), or skips.
func suiteDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "testdata", "sigv4", "v4")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("AWS SigV4 test suite not found at %s (it is kept in shared/ beside the repository, not in it): %v", dir, err)
	}
	return dir
}

type suiteCase struct {
	req         *http.Request
	opaque      bool // the request line's path is not valid on the wire as written
	payloadHash string
	cfg         config
	time        time.Time

	wantSig, wantAuth, wantCanonical, wantStringToSign string
}

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	Region           string `json:"region"`
	Service          string `json:"service"`
	Timestamp        string `json:"timestamp"`
	SignBody         bool   `json:"sign_body"`
	OmitSessionToken bool   `json:"omit_session_token"`
}

func loadSuiteCase(t *testing.T, dir string) suiteCase {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var ctx suiteContext
	if err := json.Unmarshal([]byte(read("context.json")), &ctx); err != nil {
		t.Fatalf("context.json: %v", err)
	}
	ts, err := time.Parse(time.RFC3339, ctx.Timestamp)
	if err != nil {
		t.Fatal(err)
	}
	req, opaque, body := parseSuiteRequest(t, read("request.txt"))
	sum := sha256.Sum256(body)
	c := suiteCase{
		req: req, opaque: opaque, payloadHash: hex.EncodeToString(sum[:]), time: ts,
		cfg: config{
			accessKeyID: ctx.Credentials.AccessKeyID, secretAccessKey: ctx.Credentials.SecretAccessKey,
			sessionToken: ctx.Credentials.Token, region: ctx.Region, service: ctx.Service,
		},
		wantSig:          strings.TrimSpace(read("header-signature.txt")),
		wantCanonical:    read("header-canonical-request.txt"),
		wantStringToSign: read("header-string-to-sign.txt"),
	}
	for line := range strings.SplitSeq(read("header-signed-request.txt"), "\n") {
		if v, ok := strings.CutPrefix(line, "Authorization:"); ok {
			c.wantAuth = v
		}
	}
	if ctx.SignBody {
		req.Header.Set(HeaderContentSHA256, c.payloadHash) // as NewRequest does
	}
	return c
}

// parseSuiteRequest reads a request.txt. Its request line may hold bytes
// that are not valid in a request target (a space, raw UTF-8): the suite
// means them as the exact path on the wire, which net/http represents with
// URL.Opaque, the form the SDK documents for pre-escaped paths. Any other
// target becomes a URL the way a connection's URL does.
func parseSuiteRequest(t *testing.T, raw string) (req *http.Request, opaque bool, body []byte) {
	t.Helper()
	line, rest, _ := strings.Cut(raw, "\n")
	method, target, ok := strings.Cut(line, " ")
	target, proto, ok2 := cutLast(target, " ")
	if !ok || !ok2 || proto != "HTTP/1.1" {
		t.Fatalf("bad request line %q", line)
	}
	head, bodyText, _ := strings.Cut(rest, "\n\n")
	hdr, err := textproto.NewReader(bufio.NewReader(strings.NewReader(head + "\n\n"))).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("headers: %v", err)
	}
	host := hdr.Get("Host")
	path, query, _ := strings.Cut(target, "?")
	u, err := url.Parse("https://" + host + target)
	if err != nil || u.EscapedPath() != path {
		opaque = true
		u = &url.URL{Scheme: "https", Host: host, Opaque: "//" + host + path, RawQuery: query}
	}
	req, err = http.NewRequest(method, "https://"+host+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL = u
	req.Host = host
	delete(hdr, "Host")
	if n := hdr.Get("Content-Length"); n != "" {
		if req.ContentLength, err = strconv.ParseInt(n, 10, 64); err != nil {
			t.Fatal(err)
		}
		delete(hdr, "Content-Length")
	}
	req.Header = http.Header(hdr)
	if len(bodyText) > 0 && req.ContentLength != int64(len(bodyText)) {
		t.Fatalf("body of %d bytes, Content-Length %d", len(bodyText), req.ContentLength)
	}
	return req, opaque, []byte(bodyText)
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// signingTrace records what the SDK logs with LogSigning.
type signingTrace struct {
	canonical, stringToSign string
}

func (tr *signingTrace) Logf(_ logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	const (
		canonMark = "---[ CANONICAL STRING  ]-----------------------------\n"
		stsMark   = "\n---[ STRING TO SIGN ]--------------------------------\n"
		endMark   = "\n-----------------------------------------------------"
	)
	_, rest, _ := strings.Cut(msg, canonMark)
	tr.canonical, rest, _ = strings.Cut(rest, stsMark)
	tr.stringToSign, _, _ = strings.Cut(rest, endMark)
}

// TestSignNeverReusesAnotherSecret guards against the SDK signer's key
// cache, which keys on access key id, region, service and day only: two
// connections sharing an access key id but not the secret must not share a
// signing key.
func TestSignNeverReusesAnotherSecret(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	sig := func(secret string) string {
		req, err := http.NewRequest("POST", "https://abc.lambda-url.us-east-1.on.aws/", nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := config{accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret, region: "us-east-1", service: "lambda"}
		if err := sign(context.Background(), req, emptySHA256, cfg, at, nil); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	right, wrong := sig("rightSecret"), sig("wrongSecret")
	if right == wrong {
		t.Fatal("a second secret for the same access key id signed with the first one's key")
	}
	if again := sig("rightSecret"); again != right {
		t.Fatal("signing is not deterministic")
	}
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
