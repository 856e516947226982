package devlambda

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	amzDateFmt = "20060102T150405Z"
	scopeFmt   = "20060102"
)

// AWS's own words for the refusals a client most often meets.
const (
	MsgMissingToken      = "Missing Authentication Token"
	MsgInvalidToken      = "The security token included in the request is invalid."
	MsgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	MsgBodyHashMismatch  = "The provided 'x-amz-content-sha256' header does not match what was computed."
	MsgInvalidRegion     = "Credential should be scoped to a valid region."
	MsgExpiredToken      = "The security token included in the request is expired"
)

// authorization is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header.
type authorization struct {
	AccessKeyID   string
	Date          string // YYYYMMDD from the scope
	Region        string
	Service       string
	Terminator    string // "aws4_request"
	SignedHeaders []string
	Signature     string
}

// parseAuthorization reads an Authorization header the way AWS reports its
// faults: each missing or malformed part is named.
func parseAuthorization(v string) (authorization, error) {
	var a authorization
	alg, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if alg != algorithm {
		return a, fmt.Errorf("Authorization header has an unsupported scheme %q; only %s is accepted", alg, algorithm)
	}
	var seen = map[string]bool{}
	var problems []string
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			problems = append(problems, fmt.Sprintf("Invalid key=value pair (missing equal-sign) in Authorization header: %q.", part))
			continue
		}
		if seen[k] {
			problems = append(problems, fmt.Sprintf("Authorization header repeats '%s'.", k))
			continue
		}
		seen[k] = true
		switch k {
		case "Credential":
			parts := strings.Split(val, "/")
			if len(parts) != 5 || parts[0] == "" {
				problems = append(problems, fmt.Sprintf("Credential should be 'AccessKeyId/YYYYMMDD/region/service/aws4_request', not %q.", val))
				continue
			}
			a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
		case "SignedHeaders":
			if val == "" {
				problems = append(problems, "SignedHeaders is empty.")
				continue
			}
			a.SignedHeaders = strings.Split(val, ";")
		case "Signature":
			if _, err := hex.DecodeString(val); len(val) != 64 || err != nil || strings.ContainsAny(val, "ABCDEF") {
				problems = append(problems, "Signature should be 64 lower-case hexadecimal digits.")
				continue
			}
			a.Signature = val
		default:
			problems = append(problems, fmt.Sprintf("Authorization header has an unknown parameter '%s'.", k))
		}
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[k] {
			problems = append(problems, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(problems) > 0 {
		return a, fmt.Errorf("%s", strings.Join(problems, " "))
	}
	return a, nil
}

func forbidden(kind, msg string) *awsError {
	return &awsError{status: http.StatusForbidden, kind: kind, msg: msg}
}

// verify checks r as AWS would for service, in AWS's order, and returns
// the access key id it names (when readable) and the refusal, or nil.
func (s *Server) verify(r *http.Request, body []byte, now time.Time, service string) (string, *awsError) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", forbidden("MissingAuthenticationTokenException", MsgMissingToken)
	}
	a, err := parseAuthorization(header)
	if err != nil {
		e := forbidden("IncompleteSignatureException", err.Error())
		return a.AccessKeyID, e
	}
	key, known := s.key(a.AccessKeyID)
	secret := key.secret
	if !known {
		e := forbidden("UnrecognizedClientException", MsgInvalidToken)
		e.detail = fmt.Sprintf("access key id %q is not configured", a.AccessKeyID)
		return a.AccessKeyID, e
	}

	rawDate := r.Header.Get("X-Amz-Date")
	if rawDate == "" {
		return a.AccessKeyID, forbidden("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	date, err := time.Parse(amzDateFmt, rawDate)
	if err != nil {
		return a.AccessKeyID, forbidden("IncompleteSignatureException",
			fmt.Sprintf("X-Amz-Date %q is not in the basic ISO 8601 format YYYYMMDD'T'HHMMSS'Z'.", rawDate))
	}
	if e := s.checkSkew(date, now); e != nil {
		return a.AccessKeyID, e
	}
	if want := date.Format(scopeFmt); a.Date != want {
		return a.AccessKeyID, forbidden("InvalidSignatureException", fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.Date, want, rawDate))
	}
	if a.Region != s.cfg.Region {
		e := forbidden("InvalidSignatureException", MsgInvalidRegion)
		e.detail = fmt.Sprintf("scope names %q, the endpoint is in %q", a.Region, s.cfg.Region)
		return a.AccessKeyID, e
	}
	if a.Service != service {
		return a.AccessKeyID, forbidden("InvalidSignatureException", fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service))
	}
	if a.Terminator != "aws4_request" {
		return a.AccessKeyID, forbidden("InvalidSignatureException", fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", a.Terminator))
	}
	if !slices.Contains(a.SignedHeaders, "host") {
		return a.AccessKeyID, forbidden("InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !slices.Contains(a.SignedHeaders, "x-amz-date") {
		return a.AccessKeyID, forbidden("InvalidSignatureException", "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if key.token != "" {
		got := r.Header.Get("X-Amz-Security-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(key.token)) != 1 {
			e := forbidden("UnrecognizedClientException", MsgInvalidToken)
			e.detail = "the session token is missing or not the one configured for this key"
			return a.AccessKeyID, e
		}
	}
	if !key.expires.IsZero() && !now.Before(key.expires) {
		e := forbidden("ExpiredTokenException", MsgExpiredToken)
		e.detail = fmt.Sprintf("the temporary credentials expired at %s", key.expires.UTC().Format(time.RFC3339))
		return a.AccessKeyID, e
	}
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && !bodyHashMatches(claimed, body) {
		// 403 like every other signature fault: the hash is part of what is
		// signed. The message is S3's, more precise than the mismatch
		// message Lambda gives.
		e := forbidden("InvalidSignatureException", MsgBodyHashMismatch)
		e.detail = fmt.Sprintf("header says %s, body hashes to %s", claimed, hex.EncodeToString(sha256Sum(body)))
		return a.AccessKeyID, e
	}
	return a.AccessKeyID, s.checkSignature(r, a, secret, body, date, service)
}

func (s *Server) checkSkew(date, now time.Time) *awsError {
	skew := s.cfg.MaxSkew
	limit := fmt.Sprintf("%d min.", int(skew/time.Minute))
	if skew%time.Minute != 0 {
		limit = skew.String() + "."
	}
	now = now.UTC()
	switch {
	case date.Before(now.Add(-skew)):
		return forbidden("InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			date.Format(amzDateFmt), now.Add(-skew).Format(amzDateFmt), now.Format(amzDateFmt), limit))
	case date.After(now.Add(skew)):
		return forbidden("InvalidSignatureException", fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
			date.Format(amzDateFmt), now.Add(skew).Format(amzDateFmt), now.Format(amzDateFmt), limit))
	}
	return nil
}

// unverifiable are headers the SDK signer never includes in a signature, so
// a signature over one of them cannot be recomputed here.
var unverifiable = []string{"authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding"}

// checkSignature rebuilds the request from its signed headers alone, signs
// it with the SDK signer at the request's own time, and compares.
func (s *Server) checkSignature(r *http.Request, a authorization, secret string, body []byte, date time.Time, service string) *awsError {
	mismatch := func(detail string) *awsError {
		e := forbidden("InvalidSignatureException", MsgSignatureMismatch)
		e.detail = detail
		return e
	}
	for _, h := range a.SignedHeaders {
		if slices.Contains(unverifiable, h) {
			return mismatch(fmt.Sprintf("devlambda cannot check a signature that covers %q: the SDK signer never signs it", h))
		}
	}

	rebuilt, err := rebuild(r, a.SignedHeaders, body)
	if err != nil {
		return mismatch(err.Error())
	}
	var trace signingTrace
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableSessionToken = true // the token, if signed, is among the rebuilt headers already
		o.LogSigning = true
		o.Logger = &trace
	})
	creds := aws.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: secret}
	payloadHash := hex.EncodeToString(sha256Sum(body))
	if err := signer.SignHTTP(context.Background(), creds, rebuilt, payloadHash, service, s.cfg.Region, date); err != nil {
		return mismatch("signing the rebuilt request failed: " + err.Error())
	}
	want, err := parseAuthorization(rebuilt.Header.Get("Authorization"))
	if err != nil {
		return mismatch("the SDK's own Authorization header does not parse: " + err.Error())
	}
	e := mismatch("")
	e.canonical, e.stringToSign = redactToken(trace.canonical), trace.stringToSign
	if got, exp := strings.Join(a.SignedHeaders, ";"), strings.Join(want.SignedHeaders, ";"); got != exp {
		e.detail = fmt.Sprintf("SignedHeaders=%s, but the signed headers present in the request are %s", got, exp)
		return e
	}
	if subtle.ConstantTimeCompare([]byte(a.Signature), []byte(want.Signature)) != 1 {
		e.detail = "canonical request:\n" + e.canonical
		return e
	}
	return nil
}

// redactToken replaces the session token in a canonical request: the
// canonical request goes into the log and, for execute-api, into the
// answer, and a token is a credential. (API Gateway shows it in full.)
func redactToken(canonical string) string {
	const prefix = "x-amz-security-token:"
	lines := strings.Split(canonical, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = prefix + "REDACTED"
		}
	}
	return strings.Join(lines, "\n")
}

// rebuild returns a request with r's method, target, host and the values of
// the signed headers only. The path is the one on the wire, which the
// signer encodes once more, as AWS does for every service but S3.
func rebuild(r *http.Request, signed []string, body []byte) (*http.Request, error) {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(path, "/") { // absolute-form request target
		path = r.URL.EscapedPath()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: r.Host, Opaque: "//" + r.Host + path, RawQuery: r.URL.RawQuery}
	out := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	for _, h := range signed {
		switch h {
		case "host":
		case "content-length":
			out.ContentLength = int64(len(body))
		default:
			vs := r.Header.Values(h)
			if len(vs) == 0 {
				return nil, fmt.Errorf("signed header %q is not in the request", h)
			}
			out.Header[http.CanonicalHeaderKey(h)] = vs
		}
	}
	return out, nil
}

// signingTrace captures the canonical request and string to sign that the
// SDK logs with LogSigning.
type signingTrace struct {
	canonical, stringToSign string
}

func (t *signingTrace) Logf(_ logging.Classification, format string, v ...any) {
	t.canonical, t.stringToSign = splitSigningLog(fmt.Sprintf(format, v...))
}

// splitSigningLog cuts the SDK's LogSigning message into its two parts.
func splitSigningLog(msg string) (canonical, stringToSign string) {
	const (
		canonMark = "---[ CANONICAL STRING  ]-----------------------------\n"
		stsMark   = "\n---[ STRING TO SIGN ]--------------------------------\n"
		endMark   = "\n-----------------------------------------------------"
	)
	_, rest, ok := strings.Cut(msg, canonMark)
	if !ok {
		return "", ""
	}
	canonical, rest, ok = strings.Cut(rest, stsMark)
	if !ok {
		return canonical, ""
	}
	stringToSign, _, _ = strings.Cut(rest, endMark)
	return canonical, stringToSign
}
