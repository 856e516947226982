// Package awslambda delivers alerts to AWS Lambda: to a Function URL or an
// API Gateway stage secured with AWS_IAM (a JSON POST to the connection's
// URL), or through the Lambda Invoke API to a function named by name or ARN
// (invokeMode "invoke"), whose function errors count as failures. Every
// request is signed with Signature Version 4 by the AWS SDK's signer, for the
// connection's region and service name ("lambda" or "execute-api").
//
// The credentials are the connection's access key (authMode "accessKey"),
// temporary credentials from STS AssumeRole (authMode "assumeRole"), or
// the default credential chain of the machine Hookline runs on (authMode
// "defaultChain", only where Options.AmbientCredentials allows it).
// Temporary credentials are cached per connection and refreshed before
// they expire.
//
// The signature covers the method, path, query, every header set here but
// User-Agent (Content-Type, Content-Length, Host, the custom headers,
// X-Amz-Date, X-Amz-Content-Sha256, the Invoke API's X-Amz-Invocation-Type
// and, with temporary credentials, X-Amz-Security-Token) and the SHA-256 of
// the body, so a request altered on the way is refused. User-Agent is never
// signed, as with every AWS SDK; a custom header the signer would leave
// unsigned (User-Agent, X-Amzn-Trace-Id) is refused, so that every custom
// header is signed.
package awslambda

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/smithy-go/logging"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// Type is the webhookType value of an AWSLambda connection.
const Type = "AWSLambda"

// Headers this type sets; a custom header may not replace them.
const (
	HeaderAuthorization = "Authorization"
	HeaderDate          = "X-Amz-Date"
	HeaderContentSHA256 = "X-Amz-Content-Sha256"
	HeaderSecurityToken = "X-Amz-Security-Token"
	contentTypeJSON     = "application/json"
	headerContentType   = "Content-Type"
	headerUserAgent     = "User-Agent"
)

// Kind is the AWSLambda connection type. Its zero value signs with
// access keys and assumes roles through AWS's STS endpoints, sharing one
// credential cache per process; New returns one with other Options, such
// as the machine's own credentials allowed.
type Kind struct {
	creds *credentialStore // nil: the process's shared one, with zero Options
}

// New returns a Kind with its own credential cache and options.
func New(o Options) Kind { return Kind{creds: newCredentialStore(o)} }

func (k Kind) store() *credentialStore {
	if k.creds != nil {
		return k.creds
	}
	return sharedStore()
}

// Type returns "AWSLambda".
func (Kind) Type() string { return Type }

// OwnedHeaders names the headers signing sets.
func (Kind) OwnedHeaders() []string {
	return []string{HeaderAuthorization, HeaderDate, HeaderContentSHA256, HeaderSecurityToken}
}

// NewRequest builds the signed POST of body to c, signed at now. The body
// can be read again (GetBody is set), so a retry of the same request
// re-sends it; a retry much later should build a new request, since AWS
// refuses a signature more than five minutes old.
//
// With authMode assumeRole or defaultChain, it may first fetch temporary
// credentials (they are cached): a failure that may pass (no answer from
// STS, throttling, a 5xx) is an EUNAVAILABLE error, which the Sender
// retries; a refusal (AccessDenied: the trust policy or the external ID)
// is EINVALID.
func (k Kind) NewRequest(ctx context.Context, c *hookline.Connection, body []byte, now time.Time) (*http.Request, error) {
	return k.newRequest(ctx, c, body, now, nil)
}

// newRequest is NewRequest with the zero Kind, for tests.
func newRequest(ctx context.Context, c *hookline.Connection, body []byte, now time.Time, trace logging.Logger) (*http.Request, error) {
	return Kind{}.newRequest(ctx, c, body, now, trace)
}

// newRequest is NewRequest with an optional trace of the signing, for tests.
func (k Kind) newRequest(ctx context.Context, c *hookline.Connection, body []byte, now time.Time, trace logging.Logger) (*http.Request, error) {
	cfg, err := configOf(c)
	if err != nil {
		return nil, err
	}
	target := c.URL
	if cfg.invokeMode == InvokeAPI {
		if target, err = invokeURL(c.URL, cfg.functionName); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, hookline.Errorf(hookline.EINVALID, "the connection URL cannot be requested: %v", err)
	}
	req.Header.Set(headerContentType, contentTypeJSON)
	for _, h := range c.CustomHeaders {
		if name := unsignable(h.Name); name != "" && name != HeaderAuthorization {
			return nil, hookline.Errorf(hookline.EINVALID, "AWS SigV4 cannot sign custom header %s; remove it", name)
		}
		req.Header.Set(h.Name, h.Value)
	}
	req.Header.Set(headerUserAgent, notify.UserAgent) // unsigned, as with every AWS SDK
	for _, h := range (Kind{}).OwnedHeaders() {
		req.Header.Del(h) // a custom header that slipped past validation must not be signed as ours
	}
	if cfg.invokeMode == InvokeAPI {
		setInvokeHeaders(req, cfg)
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	req.Header.Set(HeaderContentSHA256, payloadHash)
	if err := k.store().resolve(ctx, c.ID, &cfg); err != nil {
		return nil, err
	}
	if err := sign(ctx, req, payloadHash, cfg, now, trace); err != nil {
		return nil, fmt.Errorf("sign request for region %s, service %s: %w", cfg.region, cfg.service, err)
	}
	return req, nil
}
