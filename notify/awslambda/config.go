package awslambda

import (
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// JSON names of the fields an AWSLambda connection adds. Access key id,
// region and service name are kept in Connection.Settings; the secret
// access key and session token in Connection.Secrets.
const (
	FieldAccessKeyID     = "accessKeyId"
	FieldSecretAccessKey = "secretAccessKey"
	FieldSessionToken    = "sessionToken"
	FieldRegion          = "region"
	FieldServiceName     = "serviceName"
)

// The two services a connection signs for.
const (
	ServiceLambda     = "lambda"      // Lambda Function URLs (and the Invoke API)
	ServiceExecuteAPI = "execute-api" // API Gateway stages
)

// Regions returns AWS region codes (commercial, GovCloud and China), for a
// form's region select, a new slice on each call. A region missing here is
// still accepted when it has the shape of one.
func Regions() []string { return slices.Clone(regions) }

var regions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"af-south-1",
	"ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
	"us-gov-east-1", "us-gov-west-1",
	"cn-north-1", "cn-northwest-1",
}

var (
	// regionRE is the shape of a region code: us-east-1, us-gov-west-1,
	// cn-northwest-1, us-isob-east-1, eusc-de-east-1.
	regionRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]{2,5})?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9][0-9]?$`)

	// keyIDRE is loose on purpose: AWS documents 16 to 128 characters of
	// capital letters and digits (AKIA..., ASIA... for temporary keys).
	keyIDRE = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

	regionPart = `([a-z]{2,4}(?:-[a-z]{2,5})?-[a-z]+-[1-9][0-9]?)`
	// Hosts that name their region and service. Function URLs:
	// <url-id>.lambda-url.<region>.on.aws. API Gateway:
	// <api-id>.execute-api.<region>.amazonaws.com[.cn], and private APIs
	// through a VPC endpoint: <vpce-dns>.execute-api.<region>.vpce.amazonaws.com.
	// The Lambda Invoke API: lambda.<region>.amazonaws.com[.cn].
	hostPatterns = []struct {
		re      *regexp.Regexp
		service string
	}{
		{regexp.MustCompile(`^[a-z0-9-]+\.lambda-url\.` + regionPart + `\.on\.aws$`), ServiceLambda},
		{regexp.MustCompile(`^[a-z0-9-]+\.execute-api\.` + regionPart + `\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$`), ServiceExecuteAPI},
		{regexp.MustCompile(`^lambda\.` + regionPart + `\.amazonaws\.com(?:\.cn)?$`), ServiceLambda},
	}
)

// InferFromURL returns the region and service name that an AWS endpoint's
// URL names: a Lambda Function URL, an API Gateway invoke URL (public or
// through a VPC endpoint) or the Lambda Invoke API. ok is false for any
// other URL: a custom domain, a local endpoint, not a URL at all.
func InferFromURL(rawURL string) (region, service string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, p := range hostPatterns {
		if m := p.re.FindStringSubmatch(host); m != nil && regionRE.MatchString(m[1]) {
			return m[1], p.service, true
		}
	}
	return "", "", false
}

// Fields lists the fields an AWSLambda connection adds, in the order the
// Create Connection dialog shows them.
func (Kind) Fields() []notify.Field {
	return []notify.Field{
		{Name: FieldAccessKeyID, Label: "Access Key ID", Required: true,
			Help: "The access key id of an IAM user (or role session) allowed to invoke the function URL or API, such as AKIAIOSFODNN7EXAMPLE."},
		{Name: FieldSecretAccessKey, Label: "Secret Access Key", Secret: true, Required: true,
			Help: "The secret half of the access key. It signs each request and is never sent, shown or logged."},
		{Name: FieldSessionToken, Label: "Session Token", Secret: true,
			Help: "Only for temporary credentials (keys starting with ASIA): sent as X-Amz-Security-Token."},
		{Name: FieldRegion, Label: "Region", Required: true, Options: Regions(),
			Help: "The AWS region of the function URL or API, such as us-east-1. Filled in from the URL when it names one."},
		{Name: FieldServiceName, Label: "Service Name", Required: true, Options: []string{ServiceLambda, ServiceExecuteAPI},
			Help: "lambda for a Lambda Function URL, execute-api for an API Gateway invoke URL. Filled in from the URL when it shows which."},
	}
}

// Normalize checks the connection's own fields, trims and lower-cases what
// AWS treats as case-insensitive, and fills in region and service name from
// the URL when they are left out.
func (Kind) Normalize(c *hookline.Connection, p *hookline.Problems) {
	id := strings.TrimSpace(c.Settings[FieldAccessKeyID])
	switch {
	case id == "":
		p.Add(FieldAccessKeyID, "is required: the access key id of the IAM user that may invoke the target")
	case strings.ContainsFunc(id, func(r rune) bool { return unicode.IsLower(r) || r == '/' || r == '+' }):
		// Most likely the secret access key in the wrong field: never quote it.
		p.Add(FieldAccessKeyID, "has %d characters, including lower-case letters or / + (is this the secret access key?); an access key id is 16 to 128 capital letters and digits, like AKIAIOSFODNN7EXAMPLE", utf8.RuneCountInString(id))
	case !keyIDRE.MatchString(id):
		p.Add(FieldAccessKeyID, "has %d characters that are not an AWS access key id: 16 to 128 capital letters and digits, like AKIAIOSFODNN7EXAMPLE", utf8.RuneCountInString(id))
	}
	store(c.Settings, FieldAccessKeyID, id)

	// Secrets are never echoed in messages: they may be half-pasted keys.
	// The minimum lengths make sure a secret is long enough to be redacted
	// from a target's answer without shredding it: AWS's secret access keys
	// have 40 characters, session tokens hundreds.
	secret := strings.TrimSpace(c.Secrets[FieldSecretAccessKey])
	switch {
	case secret == "":
		p.Add(FieldSecretAccessKey, "is required: the secret access key that signs each request")
	case !credentialChars(secret, 128):
		p.Add(FieldSecretAccessKey, "must be at most 128 printable ASCII characters without spaces")
	case len(secret) < minSecretLen:
		p.Add(FieldSecretAccessKey, "has %d characters; a secret access key has at least %d (AWS's have 40)", len(secret), minSecretLen)
	}
	store(c.Secrets, FieldSecretAccessKey, secret)

	token := strings.TrimSpace(c.Secrets[FieldSessionToken])
	switch {
	case token == "":
	case !credentialChars(token, hookline.MaxHeaderValueLen):
		p.Add(FieldSessionToken, "must be at most %d printable ASCII characters without spaces", hookline.MaxHeaderValueLen)
	case len(token) < minSecretLen:
		p.Add(FieldSessionToken, "has %d characters; a session token has at least %d (AWS's have hundreds)", len(token), minSecretLen)
	}
	store(c.Secrets, FieldSessionToken, token)

	for i, h := range c.CustomHeaders {
		if name := unsignable(h.Name); name != "" && !refusedElsewhere[name] {
			p.Add(fmt.Sprintf("customHeaders[%d].name", i), "AWS SigV4 cannot sign %s; remove it (the SDK signer leaves it out of every signature, so it would travel unsigned)", name)
		}
	}

	urlRegion, urlService, named := InferFromURL(c.URL)
	urlUsable := hookline.ValidateURL(c.URL) == nil

	reg := strings.ToLower(strings.TrimSpace(c.Settings[FieldRegion]))
	switch {
	case reg == "" && named:
		reg = urlRegion
	case reg == "" && urlUsable:
		p.Add(FieldRegion, "is required: the URL does not show which AWS region it is in (a custom domain or a local endpoint), so name it, such as us-east-1")
	case reg == "":
		p.Add(FieldRegion, "is required")
	case !regionRE.MatchString(reg):
		// Not quoted: it may be a secret pasted in the wrong field.
		p.Add(FieldRegion, "is not an AWS region code such as us-east-1, eu-west-2 or us-gov-west-1")
	case named && reg != urlRegion:
		p.Add(FieldRegion, "%q contradicts the URL, which names region %q", reg, urlRegion)
	}
	store(c.Settings, FieldRegion, reg)

	svc := strings.ToLower(strings.TrimSpace(c.Settings[FieldServiceName]))
	switch {
	case svc == "" && named:
		svc = urlService
	case svc == "" && urlUsable:
		p.Add(FieldServiceName, "is required: the URL does not show whether it is a Lambda Function URL (lambda) or an API Gateway stage (execute-api), so name it")
	case svc == "":
		p.Add(FieldServiceName, "is required: lambda or execute-api")
	case svc != ServiceLambda && svc != ServiceExecuteAPI:
		p.Add(FieldServiceName, "%q is not supported: use lambda for a Lambda Function URL or execute-api for API Gateway", svc)
	case named && svc != urlService:
		p.Add(FieldServiceName, "%q contradicts the URL, which names service %q", svc, urlService)
	}
	store(c.Settings, FieldServiceName, svc)
}

// minSecretLen is the shortest secret access key or session token accepted.
const minSecretLen = 16

// unsignedHeaders are the headers the SDK signer leaves out of every
// signature (IgnoredHeaders in aws/signer/internal/v4); a test checks the
// list against the signer.
var unsignedHeaders = []string{"Authorization", "User-Agent", "X-Amzn-Trace-Id", "Expect", "Transfer-Encoding"}

// refusedElsewhere are the unsigned headers a custom header cannot be for
// another reason, reported once there: Authorization is in OwnedHeaders,
// Expect and Transfer-Encoding are refused for every connection by
// hookline.ValidateHeaders.
var refusedElsewhere = map[string]bool{"Authorization": true, "Expect": true, "Transfer-Encoding": true}

// unsignable returns the canonical name of header when the signer would
// leave it unsigned, or "".
func unsignable(header string) string {
	for _, u := range unsignedHeaders {
		if strings.EqualFold(u, header) {
			return u
		}
	}
	return ""
}

func store(m map[string]string, k, v string) {
	if v == "" {
		delete(m, k)
		return
	}
	m[k] = v
}

// credentialChars reports whether s is a plausible key or token: printable
// ASCII without spaces, at most max bytes. Secret keys hold '/' and '+'.
func credentialChars(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// config is what signing needs, read from a connection.
type config struct {
	accessKeyID, secretAccessKey, sessionToken string
	region, service                            string
}

// configOf reads c's settings, inferring region and service from the URL
// when a connection that never went through Normalize lacks them.
func configOf(c *hookline.Connection) (config, error) {
	cfg := config{
		accessKeyID:     c.Settings[FieldAccessKeyID],
		secretAccessKey: c.Secrets[FieldSecretAccessKey],
		sessionToken:    c.Secrets[FieldSessionToken],
		region:          c.Settings[FieldRegion],
		service:         c.Settings[FieldServiceName],
	}
	if cfg.region == "" || cfg.service == "" {
		if r, s, ok := InferFromURL(c.URL); ok {
			cfg.region = cmp.Or(cfg.region, r)
			cfg.service = cmp.Or(cfg.service, s)
		}
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{FieldAccessKeyID, cfg.accessKeyID}, {FieldSecretAccessKey, cfg.secretAccessKey},
		{FieldRegion, cfg.region}, {FieldServiceName, cfg.service},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return cfg, hookline.Errorf(hookline.EINVALID, "the AWSLambda connection lacks %s", strings.Join(missing, ", "))
	}
	return cfg, nil
}
