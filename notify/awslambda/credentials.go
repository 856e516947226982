package awslambda

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/hookline/hookline"
)

// Options configure a Kind made by New.
type Options struct {
	// AmbientCredentials lets connections use the credentials of the
	// machine Hookline runs on: authMode defaultChain, and assumeRole
	// without an access key of its own. Off by default, because whoever may
	// edit a connection could then act with the machine's AWS identity:
	// invoke what it may invoke, and assume the roles it may assume.
	AmbientCredentials bool

	// STSEndpoint is the STS endpoint roles are assumed through, such as a
	// VPC endpoint or a local stand-in. Empty: the SDK's choice, which
	// honours AWS_ENDPOINT_URL_STS (and AWS_ENDPOINT_URL), else the
	// connection region's STS endpoint, https://sts.<region>.amazonaws.com.
	STSEndpoint string

	// ExpiryWindow is how long before they expire temporary credentials are
	// replaced. 0: DefaultExpiryWindow.
	ExpiryWindow time.Duration

	// LoadOptions are added to config.LoadDefaultConfig's when the default
	// credential chain is loaded; tests turn IMDS off with them.
	LoadOptions []func(*awsconfig.LoadOptions) error

	// HTTPClient makes the calls to STS and the default chain's sources.
	// nil: the SDK's client with a timeout of STSTimeout.
	HTTPClient aws.HTTPClient
}

// Defaults for temporary credentials.
const (
	// DefaultExpiryWindow: credentials are replaced five minutes before
	// they expire, so a request signed with them is not refused on the way.
	DefaultExpiryWindow = 5 * time.Minute
	// RoleDuration is how long an assumed role's credentials last: an
	// hour, the longest every role allows (and role chaining's limit).
	RoleDuration = time.Hour
	// STSTimeout bounds each call to STS or to a credential source.
	STSTimeout = 10 * time.Second
	// maxCached bounds the connections whose credentials are kept.
	maxCached = 10000
)

var (
	// roleARNRE: arn:<partition>:iam::<account>:role/<path/>name.
	roleARNRE = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::[0-9]{12}:role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
	// externalIDRE and sessionNameRE are STS's own patterns and lengths.
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // 2 to 1224 characters
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// normalizeAuthMode checks authMode and the credential fields it uses,
// drops those it does not use, and returns the mode ("" when invalid).
func normalizeAuthMode(c *hookline.Connection, p *hookline.Problems, ambient bool) string {
	raw := strings.TrimSpace(c.Settings[FieldAuthMode])
	mode := canonical(raw, AuthAccessKey, AuthAssumeRole, AuthDefaultChain)
	switch {
	case raw == "" && strings.TrimSpace(c.Settings[FieldRoleARN]) != "":
		mode = AuthAssumeRole
	case raw == "":
		mode = AuthAccessKey
	case mode == "":
		p.Add(FieldAuthMode, "must be %s, %s or %s", AuthAccessKey, AuthAssumeRole, AuthDefaultChain)
	}
	if raw != "" || mode != AuthAccessKey {
		// The default is left unsaid, so connections made before the
		// modes existed read as they did.
		store(c.Settings, FieldAuthMode, cmp.Or(mode, raw))
	}

	switch mode {
	case AuthAccessKey:
		normalizeAccessKey(c, p, true)
		dropRole(c)
	case AuthAssumeRole:
		normalizeAccessKey(c, p, false)
		if c.Settings[FieldAccessKeyID] == "" && c.Secrets[FieldSecretAccessKey] == "" && !ambient {
			p.Add(FieldAccessKeyID, "is required: this server does not let connections use its own AWS credentials, so give the access key that may assume the role")
		}
		normalizeRole(c, p)
	case AuthDefaultChain:
		if !ambient {
			p.Add(FieldAuthMode, "defaultChain is turned off on this server: its operator has not allowed connections to use the server's own AWS credentials; use accessKey, or assumeRole with an access key")
		}
		// Unused here; dropped rather than refused, so that a form that
		// cannot clear a stored secret can still switch modes.
		for _, f := range []string{FieldAccessKeyID, FieldSecretAccessKey, FieldSessionToken} {
			delete(c.Settings, f)
			delete(c.Secrets, f)
		}
		dropRole(c)
	default:
		normalizeAccessKey(c, p, false)
	}
	return mode
}

func dropRole(c *hookline.Connection) {
	for _, f := range []string{FieldRoleARN, FieldExternalID, FieldRoleSessionName} {
		delete(c.Settings, f)
	}
}

// normalizeRole checks the fields of authMode assumeRole.
func normalizeRole(c *hookline.Connection, p *hookline.Problems) {
	arn := strings.TrimSpace(c.Settings[FieldRoleARN])
	switch {
	case arn == "":
		p.Add(FieldRoleARN, "is required with authMode assumeRole: the ARN of the role to assume, such as arn:aws:iam::123456789012:role/hookline-invoker")
	case len(arn) > 2048 || !roleARNRE.MatchString(arn):
		p.Add(FieldRoleARN, "is not an IAM role ARN such as arn:aws:iam::123456789012:role/hookline-invoker (a 12-digit account, role/, an optional path and a name of at most 64 letters, digits and +=,.@_-)")
	}
	store(c.Settings, FieldRoleARN, arn)

	ext := strings.TrimSpace(c.Settings[FieldExternalID])
	if ext != "" && (len(ext) < 2 || len(ext) > 1224 || !externalIDRE.MatchString(ext)) {
		p.Add(FieldExternalID, "must be 2 to 1224 letters, digits and +=,.@:/_-")
	}
	store(c.Settings, FieldExternalID, ext)

	name := strings.TrimSpace(c.Settings[FieldRoleSessionName])
	switch {
	case name == "":
		name = DefaultRoleSessionName
	case !sessionNameRE.MatchString(name):
		p.Add(FieldRoleSessionName, "must be 2 to 64 letters, digits and +=,.@_-")
	}
	store(c.Settings, FieldRoleSessionName, name)
}

// checkPartition adds a problem when an ARN's partition cannot be the
// region's: a China or GovCloud role or function from another partition.
func checkPartition(p *hookline.Problems, field, arn, region string) {
	got, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return
	}
	got, _, _ = strings.Cut(got, ":")
	if want := partitionOf(region); want != "" && knownPartition(got) && got != want {
		p.Add(field, "is in partition %s, but region %s is in partition %s", got, region, want)
	}
}

// partitionOf returns the partition of the three partitions most regions
// are in, or "" for another.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso"), strings.HasPrefix(region, "eu-iso"), strings.HasPrefix(region, "eusc-"):
		return ""
	}
	return "aws"
}

func knownPartition(p string) bool { return p == "aws" || p == "aws-cn" || p == "aws-us-gov" }

// canonical returns the one of values that v names, ignoring case, or "".
func canonical(v string, values ...string) string {
	for _, w := range values {
		if strings.EqualFold(v, w) {
			return w
		}
	}
	return ""
}

// credentialStore fetches and caches the temporary credentials of the
// connections that use them. It is safe for concurrent use.
type credentialStore struct {
	opts   Options
	window time.Duration
	client aws.HTTPClient

	mu      sync.Mutex
	byConn  map[string]cachedCredentials // connection ID →
	ambient map[string]aws.Config        // region → the default chain's config
}

// cachedCredentials is a connection's credentials provider, kept while
// the settings it was made from (fingerprint) do not change.
type cachedCredentials struct {
	fingerprint [sha256.Size]byte
	provider    aws.CredentialsProvider
}

func newCredentialStore(o Options) *credentialStore {
	s := &credentialStore{opts: o, window: o.ExpiryWindow, client: o.HTTPClient,
		byConn: map[string]cachedCredentials{}, ambient: map[string]aws.Config{}}
	if s.window <= 0 {
		s.window = DefaultExpiryWindow
	}
	if s.client == nil {
		s.client = awshttp.NewBuildableClient().WithTimeout(STSTimeout)
	}
	return s
}

// sharedStore is the zero Kind's: one per process, like http.DefaultClient,
// so that the zero value caches too.
var sharedStore = sync.OnceValue(func() *credentialStore { return newCredentialStore(Options{}) })

// resolve fills in cfg's credentials for connection id: from the
// connection itself (accessKey), or fetched and cached.
func (s *credentialStore) resolve(ctx context.Context, id string, cfg *config) error {
	var provider aws.CredentialsProvider
	var what string
	switch cfg.authMode {
	case AuthAccessKey:
		return nil
	case AuthDefaultChain:
		if !s.opts.AmbientCredentials {
			return hookline.Errorf(hookline.EINVALID, "authMode defaultChain is turned off on this server")
		}
		amb, err := s.ambientConfig(ctx, cfg.region)
		if err != nil {
			return err
		}
		provider, what = amb.Credentials, "get credentials from the default chain"
	case AuthAssumeRole:
		var err error
		if provider, err = s.roleProvider(ctx, id, cfg); err != nil {
			return err
		}
		what = "assume role " + cfg.roleARN
	}
	creds, err := provider.Retrieve(ctx)
	if err != nil {
		return credentialError(what, err)
	}
	cfg.accessKeyID, cfg.secretAccessKey, cfg.sessionToken = creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken
	return nil
}

// roleProvider returns the cached provider of cfg's role for connection
// id, making a new one when the connection's settings changed. A
// connection without an ID (a definition tested before it is saved) gets
// an uncached one.
func (s *credentialStore) roleProvider(ctx context.Context, id string, cfg *config) (aws.CredentialsProvider, error) {
	fp := sha256.Sum256([]byte(strings.Join([]string{cfg.region, cfg.roleARN, cfg.externalID, cfg.roleSessionName,
		cfg.accessKeyID, cfg.secretAccessKey, cfg.sessionToken}, "\x00")))
	cached := func() (aws.CredentialsProvider, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.byConn[id]
		return c.provider, ok && id != "" && c.fingerprint == fp
	}
	if p, ok := cached(); ok {
		return p, nil
	}

	var base aws.Config
	if cfg.accessKeyID != "" {
		base = s.staticConfig(cfg)
	} else {
		if !s.opts.AmbientCredentials {
			return nil, hookline.Errorf(hookline.EINVALID, "the AWSLambda connection lacks an access key to assume role %s with", cfg.roleARN)
		}
		amb, err := s.ambientConfig(ctx, cfg.region)
		if err != nil {
			return nil, err
		}
		base = amb.Copy()
	}
	client := sts.NewFromConfig(base, func(o *sts.Options) {
		if s.opts.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(s.opts.STSEndpoint)
		}
	})
	provider := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(client, cfg.roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = cfg.roleSessionName
		o.Duration = RoleDuration
		if cfg.externalID != "" {
			o.ExternalID = aws.String(cfg.externalID)
		}
	}), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = s.window })

	if id == "" {
		return provider, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Requests that missed the cache together share the first provider
	// stored, so a burst calls STS once.
	if c, ok := s.byConn[id]; ok && c.fingerprint == fp {
		return c.provider, nil
	}
	if len(s.byConn) >= maxCached {
		clear(s.byConn) // deleted connections' entries go too; the live ones refill
	}
	s.byConn[id] = cachedCredentials{fingerprint: fp, provider: provider}
	return provider, nil
}

// staticConfig is the SDK configuration for calling STS with a
// connection's access key. It reads no shared config file, only the
// endpoint variables of the environment (AWS_ENDPOINT_URL_STS,
// AWS_ENDPOINT_URL), as config.LoadDefaultConfig would.
func (s *credentialStore) staticConfig(cfg *config) aws.Config {
	out := aws.Config{
		Region:      cfg.region,
		Credentials: credentials.NewStaticCredentialsProvider(cfg.accessKeyID, cfg.secretAccessKey, cfg.sessionToken),
		HTTPClient:  s.client,
	}
	if env, err := awsconfig.NewEnvConfig(); err == nil && !aws.ToBool(env.IgnoreConfiguredEndpoints) {
		out.ConfigSources = []any{env}
		if env.BaseEndpoint != "" {
			out.BaseEndpoint = aws.String(env.BaseEndpoint)
		}
	}
	return out
}

// ambientConfig loads the default chain's configuration for a region
// once; a failure is not kept, so the next attempt loads again.
func (s *credentialStore) ambientConfig(ctx context.Context, region string) (aws.Config, error) {
	s.mu.Lock()
	cfg, ok := s.ambient[region]
	s.mu.Unlock()
	if ok {
		return cfg, nil
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		awsconfig.WithHTTPClient(s.client),
		awsconfig.WithCredentialsCacheOptions(func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = s.window }),
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, append(opts, s.opts.LoadOptions...)...)
	if err != nil {
		return aws.Config{}, hookline.Errorf(hookline.EINVALID, "load the default AWS credential chain: %v", err)
	}
	if cfg.Credentials == nil {
		return aws.Config{}, hookline.Errorf(hookline.EINVALID, "the default AWS credential chain has no credentials provider")
	}
	s.mu.Lock()
	s.ambient[region] = cfg
	s.mu.Unlock()
	return cfg, nil
}

// credentialError words a failure to get credentials, and says whether it
// may pass: an AWS refusal (a 4xx other than throttling: AccessDenied,
// an invalid key, a bad external ID) is EINVALID and fails the delivery;
// anything else (no answer, throttling, a 5xx, a credential source that is
// not there yet) is EUNAVAILABLE, which is retried.
func credentialError(what string, err error) error {
	msg := err.Error()
	var api smithy.APIError
	if errors.As(err, &api) {
		msg = api.ErrorCode() + ": " + api.ErrorMessage()
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		code := resp.HTTPStatusCode()
		throttled := api != nil && strings.Contains(strings.ToLower(api.ErrorCode()), "throttl")
		if code >= 400 && code < 500 && code != http.StatusTooManyRequests && !throttled {
			return hookline.Errorf(hookline.EINVALID, "%s: %s (HTTP %d)", what, msg, code)
		}
		return hookline.Errorf(hookline.EUNAVAILABLE, "%s: %s (HTTP %d); will try again", what, msg, code)
	}
	return hookline.Errorf(hookline.EUNAVAILABLE, "%s: %s; will try again", what, msg)
}
