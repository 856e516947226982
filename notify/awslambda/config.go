package awslambda

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// JSON names of the fields an AWSLambda connection adds. The secret
// access key and session token are kept in Connection.Secrets, the others
// in Connection.Settings.
const (
	FieldAuthMode        = "authMode"
	FieldAccessKeyID     = "accessKeyId"
	FieldSecretAccessKey = "secretAccessKey"
	FieldSessionToken    = "sessionToken"
	FieldRoleARN         = "roleArn"
	FieldExternalID      = "externalId"
	FieldRoleSessionName = "roleSessionName"
	FieldRegion          = "region"
	FieldServiceName     = "serviceName"
	FieldInvokeMode      = "invokeMode"
	FieldFunctionName    = "functionName"
	FieldInvocationType  = "invocationType"
)

// The two services a connection signs for.
const (
	ServiceLambda     = "lambda"      // Lambda Function URLs (and the Invoke API)
	ServiceExecuteAPI = "execute-api" // API Gateway stages
)

// Where a connection's credentials come from (authMode).
const (
	AuthAccessKey    = "accessKey"    // the connection's access key (the default)
	AuthAssumeRole   = "assumeRole"   // STS AssumeRole, from the access key or the default chain
	AuthDefaultChain = "defaultChain" // the machine's default credential chain
)

// How a connection reaches its function (invokeMode).
const (
	InvokeFunctionURL = "functionUrl" // POST to the URL: a Function URL or an API Gateway stage (the default)
	InvokeAPI         = "invoke"      // the Lambda Invoke API at the URL's endpoint
)

// The Invoke API's invocation types a connection may use.
const (
	InvocationRequestResponse = "RequestResponse" // synchronous: the function's result or error is the answer
	InvocationEvent           = "Event"           // asynchronous: Lambda queues the event and answers 202
)

// DefaultRoleSessionName names the role sessions Hookline opens, as seen
// in CloudTrail, unless roleSessionName says otherwise.
const DefaultRoleSessionName = "hookline"

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

// regionNames are the names the AWS console gives the regions, for the
// words a form shows beside each code.
var regionNames = map[string]string{
	"us-east-1":      "US East (N. Virginia)",
	"us-east-2":      "US East (Ohio)",
	"us-west-1":      "US West (N. California)",
	"us-west-2":      "US West (Oregon)",
	"af-south-1":     "Africa (Cape Town)",
	"ap-east-1":      "Asia Pacific (Hong Kong)",
	"ap-east-2":      "Asia Pacific (Taipei)",
	"ap-south-1":     "Asia Pacific (Mumbai)",
	"ap-south-2":     "Asia Pacific (Hyderabad)",
	"ap-northeast-1": "Asia Pacific (Tokyo)",
	"ap-northeast-2": "Asia Pacific (Seoul)",
	"ap-northeast-3": "Asia Pacific (Osaka)",
	"ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)",
	"ap-southeast-3": "Asia Pacific (Jakarta)",
	"ap-southeast-4": "Asia Pacific (Melbourne)",
	"ap-southeast-5": "Asia Pacific (Malaysia)",
	"ap-southeast-6": "Asia Pacific (New Zealand)",
	"ap-southeast-7": "Asia Pacific (Thailand)",
	"ca-central-1":   "Canada (Central)",
	"ca-west-1":      "Canada West (Calgary)",
	"eu-central-1":   "Europe (Frankfurt)",
	"eu-central-2":   "Europe (Zurich)",
	"eu-north-1":     "Europe (Stockholm)",
	"eu-south-1":     "Europe (Milan)",
	"eu-south-2":     "Europe (Spain)",
	"eu-west-1":      "Europe (Ireland)",
	"eu-west-2":      "Europe (London)",
	"eu-west-3":      "Europe (Paris)",
	"il-central-1":   "Israel (Tel Aviv)",
	"me-central-1":   "Middle East (UAE)",
	"me-south-1":     "Middle East (Bahrain)",
	"mx-central-1":   "Mexico (Central)",
	"sa-east-1":      "South America (São Paulo)",
	"us-gov-east-1":  "AWS GovCloud (US-East)",
	"us-gov-west-1":  "AWS GovCloud (US-West)",
	"cn-north-1":     "China (Beijing)",
	"cn-northwest-1": "China (Ningxia)",
}

// regionLabels are the region select's words: the name, then the code,
// which URLs, ARNs and the AWS docs use.
func regionLabels() map[string]string {
	labels := make(map[string]string, len(regions))
	for _, r := range regions {
		if name := regionNames[r]; name != "" {
			labels[r] = name + " — " + r
		}
	}
	return labels
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
// Create Connection dialog shows them. ShowWhen and RequiredWhen tell a
// form which fields the chosen modes use (Normalize drops the others), so
// the dialog shows only those; a test holds them to Normalize.
func (k Kind) Fields() []notify.Field {
	ambient := k.store().opts.AmbientCredentials
	modes := []string{AuthAccessKey, AuthAssumeRole}
	modeLabels := map[string]string{AuthAccessKey: "Access key", AuthAssumeRole: "Assume an IAM role"}
	if ambient {
		modes = append(modes, AuthDefaultChain)
		modeLabels[AuthDefaultChain] = "This server's AWS credentials (default chain)"
	}
	withKey := map[string][]string{FieldAuthMode: {AuthAccessKey, AuthAssumeRole}}
	// Without the machine's credentials, assuming a role needs a key too.
	keyRequired := map[string][]string{FieldAuthMode: {AuthAccessKey}}
	keyHelp := "Required with accessKey; optional with assumeRole, which then uses this server's own AWS credentials."
	if !ambient {
		keyRequired = withKey
		keyHelp = "Required: with assumeRole it is the key that assumes the role (this server does not let connections use its own AWS credentials)."
	}
	role := map[string][]string{FieldAuthMode: {AuthAssumeRole}}
	invoke := map[string][]string{FieldInvokeMode: {InvokeAPI}}
	// The labels are what a person reads in a form; Help names each
	// option by its words and its value, which the API and the CLI use.
	return []notify.Field{
		{Name: FieldAuthMode, Label: "Authentication", Options: modes, Default: AuthAccessKey,
			OptionLabels: modeLabels,
			Help:         "Access key (accessKey) signs with the access key below; Assume an IAM role (assumeRole) signs with temporary credentials of the IAM role below, assumed through STS; this server's AWS credentials (defaultChain) are those of the machine Hookline runs on, where its operator allows it. Default: assumeRole when a role ARN is given, else accessKey."},
		{Name: FieldAccessKeyID, Label: "Access Key ID", ShowWhen: withKey, RequiredWhen: keyRequired,
			Help: "The access key id of an IAM user (or role session) allowed to invoke the target, or to assume the role, such as AKIAIOSFODNN7EXAMPLE. " + keyHelp},
		{Name: FieldSecretAccessKey, Label: "Secret Access Key", Secret: true, ShowWhen: withKey, RequiredWhen: keyRequired,
			Help: "The secret half of the access key. It signs each request and is never sent, shown or logged."},
		{Name: FieldSessionToken, Label: "Session Token", Secret: true, ShowWhen: withKey,
			Help: "Only for temporary credentials (keys starting with ASIA): sent as X-Amz-Security-Token."},
		{Name: FieldRoleARN, Label: "Role ARN", ShowWhen: role, RequiredWhen: role,
			Help: "With assumeRole: the IAM role whose temporary credentials sign the requests, such as arn:aws:iam::123456789012:role/hookline-invoker."},
		{Name: FieldExternalID, Label: "External ID", ShowWhen: role,
			Help: "With assumeRole: the external ID the role's trust policy requires (sts:ExternalId), if any."},
		{Name: FieldRoleSessionName, Label: "Role Session Name", ShowWhen: role,
			Help: "With assumeRole: the session name CloudTrail shows for Hookline's calls. Default: hookline."},
		{Name: FieldRegion, Label: "Region", Required: true, Options: Regions(), OptionLabels: regionLabels(),
			Help: "The AWS region of the function URL, API or function, such as us-east-1. Filled in from the URL, or the function ARN, when it names one."},
		// The Invoke API is always signed for lambda, which Normalize fills in.
		{Name: FieldServiceName, Label: "Service Name", Required: true, Options: []string{ServiceLambda, ServiceExecuteAPI},
			OptionLabels: map[string]string{
				ServiceLambda:     "Lambda Function URL (lambda)",
				ServiceExecuteAPI: "API Gateway (execute-api)",
			},
			ShowWhen: map[string][]string{FieldInvokeMode: {InvokeFunctionURL}},
			Help:     "The service the requests are signed for: lambda for a Lambda Function URL, execute-api for an API Gateway invoke URL. Filled in from the URL when it shows which."},
		{Name: FieldInvokeMode, Label: "Invoke Mode", Options: []string{InvokeFunctionURL, InvokeAPI}, Default: InvokeFunctionURL,
			OptionLabels: map[string]string{
				InvokeFunctionURL: "POST to a Function URL or API Gateway",
				InvokeAPI:         "Call the Lambda Invoke API",
			},
			Help: "With a Function URL or API Gateway (functionUrl), the alert is POSTed to the URL; with the Lambda Invoke API (invoke), Hookline calls the API at the URL's endpoint, such as https://lambda.us-east-1.amazonaws.com, for the function below. Default: invoke when a function name is given."},
		{Name: FieldFunctionName, Label: "Function Name", ShowWhen: invoke, RequiredWhen: invoke,
			Help: "With invoke: the function's name, partial ARN (123456789012:function:name) or ARN, optionally with :version or :alias."},
		{Name: FieldInvocationType, Label: "Invocation Type", Options: []string{InvocationRequestResponse, InvocationEvent},
			OptionLabels: map[string]string{
				InvocationRequestResponse: "Wait for the function's result",
				InvocationEvent:           "Queue the event without waiting",
			},
			Default: InvocationRequestResponse, ShowWhen: invoke,
			Help: "With invoke: waiting for the function's result (RequestResponse) fails the delivery on the function's error; queueing the event (Event) leaves the alert with Lambda (202) and does not wait. Default: RequestResponse."},
	}
}

// Normalize checks the connection's own fields, trims and canonicalizes
// what AWS treats as case-insensitive, fills in what can be inferred (the
// modes, region and service name from the URL or the function ARN), and
// drops the fields the chosen modes do not use.
func (k Kind) Normalize(c *hookline.Connection, p *hookline.Problems) {
	mode := normalizeAuthMode(c, p, k.store().opts.AmbientCredentials)
	invoke := normalizeInvoke(c, p)

	for i, h := range c.CustomHeaders {
		if name := unsignable(h.Name); name != "" && !refusedElsewhere[name] {
			p.Add(fmt.Sprintf("customHeaders[%d].name", i), "AWS SigV4 cannot sign %s; remove it (the SDK signer leaves it out of every signature, so it would travel unsigned)", name)
		}
		if invoke != nil && invokeOwned(h.Name) {
			p.Add(fmt.Sprintf("customHeaders[%d].name", i), "%s is set by the Invoke API connection itself (from invocationType); remove it", http.CanonicalHeaderKey(h.Name))
		}
	}

	urlRegion, urlService, named := InferFromURL(c.URL)
	urlUsable := hookline.ValidateURL(c.URL) == nil
	arnRegion := ""
	if invoke != nil {
		arnRegion = invoke.region
	}

	reg := strings.ToLower(strings.TrimSpace(c.Settings[FieldRegion]))
	switch {
	case reg == "" && named:
		reg = urlRegion
	case reg == "" && arnRegion != "":
		reg = arnRegion
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
	if arnRegion != "" && reg != "" && arnRegion != reg && regionRE.MatchString(reg) {
		p.Add(FieldFunctionName, "names region %q, but the connection is in %q: the Invoke API calls the functions of its own region only", arnRegion, reg)
	}

	svc := strings.ToLower(strings.TrimSpace(c.Settings[FieldServiceName]))
	switch {
	case svc == "" && invoke != nil:
		svc = ServiceLambda
	case svc == "" && named:
		svc = urlService
	case svc == "" && urlUsable:
		p.Add(FieldServiceName, "is required: the URL does not show whether it is a Lambda Function URL (lambda) or an API Gateway stage (execute-api), so name it")
	case svc == "":
		p.Add(FieldServiceName, "is required: lambda or execute-api")
	case svc != ServiceLambda && svc != ServiceExecuteAPI:
		p.Add(FieldServiceName, "%q is not supported: use lambda for a Lambda Function URL or execute-api for API Gateway", svc)
	case invoke != nil && svc != ServiceLambda:
		p.Add(FieldServiceName, "%q cannot call the Lambda Invoke API, which is signed for lambda", svc)
	case named && svc != urlService:
		p.Add(FieldServiceName, "%q contradicts the URL, which names service %q", svc, urlService)
	}
	store(c.Settings, FieldServiceName, svc)

	if mode == AuthAssumeRole && reg != "" {
		checkPartition(p, FieldRoleARN, c.Settings[FieldRoleARN], reg)
	}
	if invoke != nil && reg != "" {
		checkPartition(p, FieldFunctionName, c.Settings[FieldFunctionName], reg)
	}
}

// normalizeAccessKey checks the access key fields; required says they
// must be given.
func normalizeAccessKey(c *hookline.Connection, p *hookline.Problems, required bool) {
	id := strings.TrimSpace(c.Settings[FieldAccessKeyID])
	switch {
	case id == "" && required:
		p.Add(FieldAccessKeyID, "is required: the access key id of the IAM user that may invoke the target")
	case id == "":
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
	case secret == "" && (required || id != ""):
		p.Add(FieldSecretAccessKey, "is required: the secret access key that signs each request")
	case secret == "":
	case !credentialChars(secret, 128):
		p.Add(FieldSecretAccessKey, "must be at most 128 printable ASCII characters without spaces")
	case len(secret) < minSecretLen:
		p.Add(FieldSecretAccessKey, "has %d characters; a secret access key has at least %d (AWS's have 40)", len(secret), minSecretLen)
	}
	store(c.Secrets, FieldSecretAccessKey, secret)
	if id == "" && secret != "" && !required {
		p.Add(FieldAccessKeyID, "is required with a secret access key: the access key id it belongs to")
	}

	token := strings.TrimSpace(c.Secrets[FieldSessionToken])
	switch {
	case token == "":
	case id == "" && !required:
		p.Add(FieldSessionToken, "is only used with an access key; give the access key id and secret access key too, or leave it out")
	case !credentialChars(token, hookline.MaxHeaderValueLen):
		p.Add(FieldSessionToken, "must be at most %d printable ASCII characters without spaces", hookline.MaxHeaderValueLen)
	case len(token) < minSecretLen:
		p.Add(FieldSessionToken, "has %d characters; a session token has at least %d (AWS's have hundreds)", len(token), minSecretLen)
	}
	store(c.Secrets, FieldSessionToken, token)
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

// config is what signing needs, read from a connection. The credential
// fields are filled in from the connection's access key, or by
// credentialStore.resolve.
type config struct {
	accessKeyID, secretAccessKey, sessionToken string
	region, service                            string

	authMode                             string
	roleARN, externalID, roleSessionName string

	invokeMode, functionName, invocationType string
}

// configOf reads c's settings, inferring what Normalize would infer when a
// connection that never went through Normalize lacks it.
func configOf(c *hookline.Connection) (config, error) {
	cfg := config{
		accessKeyID:     c.Settings[FieldAccessKeyID],
		secretAccessKey: c.Secrets[FieldSecretAccessKey],
		sessionToken:    c.Secrets[FieldSessionToken],
		region:          c.Settings[FieldRegion],
		service:         c.Settings[FieldServiceName],
		authMode:        c.Settings[FieldAuthMode],
		roleARN:         c.Settings[FieldRoleARN],
		externalID:      c.Settings[FieldExternalID],
		roleSessionName: cmp.Or(c.Settings[FieldRoleSessionName], DefaultRoleSessionName),
		invokeMode:      c.Settings[FieldInvokeMode],
		functionName:    c.Settings[FieldFunctionName],
		invocationType:  cmp.Or(c.Settings[FieldInvocationType], InvocationRequestResponse),
	}
	if cfg.authMode == "" {
		cfg.authMode = AuthAccessKey
		if cfg.roleARN != "" {
			cfg.authMode = AuthAssumeRole
		}
	}
	urlFunction, urlInvokes := functionFromURL(c.URL)
	if cfg.invokeMode == "" {
		cfg.invokeMode = InvokeFunctionURL
		if cfg.functionName != "" || urlInvokes {
			cfg.invokeMode = InvokeAPI
		}
	}
	if cfg.invokeMode == InvokeAPI {
		if c.Settings[FieldInvocationType] == "" {
			// Before invocationType existed, an Invoke API URL chose Event
			// with a custom header; such a connection keeps its choice.
			for _, h := range c.CustomHeaders {
				if t := canonical(h.Value, InvocationRequestResponse, InvocationEvent); t != "" && strings.EqualFold(h.Name, HeaderInvocationType) {
					cfg.invocationType = t
				}
			}
		}
		cfg.functionName = cmp.Or(cfg.functionName, urlFunction)
		cfg.service = cmp.Or(cfg.service, ServiceLambda)
		if ref, err := parseFunctionName(cfg.functionName); err == nil {
			cfg.region = cmp.Or(cfg.region, ref.region)
		}
	}
	if cfg.region == "" || cfg.service == "" {
		if r, s, ok := InferFromURL(c.URL); ok {
			cfg.region = cmp.Or(cfg.region, r)
			cfg.service = cmp.Or(cfg.service, s)
		}
	}
	type field struct{ name, v string }
	var required []field
	switch cfg.authMode {
	case AuthAccessKey:
		required = append(required, field{FieldAccessKeyID, cfg.accessKeyID}, field{FieldSecretAccessKey, cfg.secretAccessKey})
	case AuthAssumeRole:
		required = append(required, field{FieldRoleARN, cfg.roleARN})
	case AuthDefaultChain:
	default:
		return cfg, hookline.Errorf(hookline.EINVALID, "the AWSLambda connection's authMode %q is not one of %s, %s, %s", cfg.authMode, AuthAccessKey, AuthAssumeRole, AuthDefaultChain)
	}
	required = append(required, field{FieldRegion, cfg.region}, field{FieldServiceName, cfg.service})
	switch cfg.invokeMode {
	case InvokeFunctionURL:
	case InvokeAPI:
		required = append(required, field{FieldFunctionName, cfg.functionName})
	default:
		return cfg, hookline.Errorf(hookline.EINVALID, "the AWSLambda connection's invokeMode %q is not one of %s, %s", cfg.invokeMode, InvokeFunctionURL, InvokeAPI)
	}
	var missing []string
	for _, f := range required {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return cfg, hookline.Errorf(hookline.EINVALID, "the AWSLambda connection lacks %s", strings.Join(missing, ", "))
	}
	return cfg, nil
}
