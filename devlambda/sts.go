package devlambda

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STSConfig sets what the STS stand-in accepts.
type STSConfig struct {
	// Roles maps each role ARN that may be assumed to the external ID its
	// trust policy requires ("" for none). Nil: any well-formed role ARN,
	// with any external ID or none.
	Roles map[string]string

	// Lifetime is how long the credentials it issues last. 0: the
	// DurationSeconds asked for, one hour when not asked.
	Lifetime time.Duration
}

// STS's words for its refusals.
const (
	MsgAssumeRoleDenied = "is not authorized to perform: sts:AssumeRole on resource: "
)

var (
	stsRoleARNRE     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
	stsSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// assumeRole answers a verified STS call into out, issuing temporary
// credentials that the server accepts until they expire.
func (s *Server) assumeRole(rec *Request, now time.Time, out *answer) *awsError {
	form, err := url.ParseQuery(string(rec.Body))
	if err != nil {
		return &awsError{status: http.StatusBadRequest, kind: "MalformedInput", msg: "The request body is not a URL-encoded form."}
	}
	rec.Action, rec.RoleARN = form.Get("Action"), form.Get("RoleArn")
	if rec.Action != "AssumeRole" {
		return &awsError{status: http.StatusBadRequest, kind: "InvalidAction",
			msg: fmt.Sprintf("Could not find operation %s for version %s", rec.Action, form.Get("Version"))}
	}
	m := stsRoleARNRE.FindStringSubmatch(rec.RoleARN)
	if m == nil {
		return &awsError{status: http.StatusBadRequest, kind: "ValidationError",
			msg: fmt.Sprintf("%s is invalid", rec.RoleARN)}
	}
	session := form.Get("RoleSessionName")
	if !stsSessionNameRE.MatchString(session) {
		return &awsError{status: http.StatusBadRequest, kind: "ValidationError",
			msg: "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match [\\w+=,.@-]*"}
	}
	lifetime := time.Hour
	if d := form.Get("DurationSeconds"); d != "" {
		secs, err := strconv.Atoi(d)
		if err != nil || secs < 900 || secs > 43200 {
			return &awsError{status: http.StatusBadRequest, kind: "ValidationError",
				msg: "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"}
		}
		lifetime = time.Duration(secs) * time.Second
	}
	if s.cfg.STS.Lifetime > 0 {
		lifetime = s.cfg.STS.Lifetime
	}
	denied := &awsError{status: http.StatusForbidden, kind: "AccessDenied",
		msg: fmt.Sprintf("User: arn:aws:iam::123456789012:user/%s %s%s", rec.AccessKeyID, MsgAssumeRoleDenied, rec.RoleARN)}
	if s.cfg.STS.Roles != nil {
		// AWS gives the same answer for an unknown role and a wrong
		// external ID; the detail tells a test which.
		want, ok := s.cfg.STS.Roles[rec.RoleARN]
		switch {
		case !ok:
			denied.detail = "the role is not in Config.STS.Roles"
			return denied
		case subtle.ConstantTimeCompare([]byte(want), []byte(form.Get("ExternalId"))) != 1:
			denied.detail = "the external ID is missing or wrong"
			return denied
		}
	}

	id, secret, token := "ASIA"+randomString(16, upperDigits), randomString(40, secretChars), randomBase64(120)
	expires := now.Add(lifetime).UTC().Truncate(time.Second)
	s.mu.Lock()
	for k, v := range s.issued {
		if !now.Before(v.expires) {
			delete(s.issued, k)
		}
	}
	s.issued[id] = issuedKey{secret: secret, token: token, expires: expires}
	s.mu.Unlock()

	var resp assumeRoleResponse
	resp.Result.User.ARN = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", m[1], m[2], session)
	resp.Result.User.ID = "AROADEVLAMBDA000000001:" + session
	resp.Result.Credentials = stsCredentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token,
		Expiration: expires.Format(time.RFC3339)}
	resp.Metadata.RequestID = "devlambda-sts"
	out.header.Set("Content-Type", "text/xml")
	out.body, _ = xml.Marshal(resp)
	return nil
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result  struct {
		User struct {
			ARN string `xml:"Arn"`
			ID  string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
		Credentials stsCredentials `xml:"Credentials"`
	} `xml:"AssumeRoleResult"`
	Metadata struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

// stsCodes maps the Lambda-style error kinds verify uses to STS's codes.
var stsCodes = map[string]string{
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"ExpiredTokenException":               "ExpiredToken",
}

// stsError is a refusal in STS's XML.
func stsError(e *awsError) answer {
	code := e.kind
	if c, ok := stsCodes[code]; ok {
		code = c
	}
	var doc struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
	doc.Error.Type, doc.Error.Code, doc.Error.Message, doc.RequestID = "Sender", code, e.msg, "devlambda-sts"
	body, _ := xml.Marshal(doc)
	return answer{status: e.status, header: http.Header{"Content-Type": {"text/xml"}}, body: body}
}

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString returns n characters of alphabet, whose length divides 256.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
