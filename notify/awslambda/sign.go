package awslambda

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// sign signs req in place for cfg's region and service at now. It is the
// only place a request is signed, so the AWS test suite and the oracle
// tests exercise exactly what deliveries use. trace, when not nil, receives
// the canonical request and string to sign.
//
// The SDK signer's defaults are right for Lambda and API Gateway: the path
// is URI-encoded once more (only S3 wants it not to be), the session token
// travels in X-Amz-Security-Token and is signed, and every header but a few
// hop-by-hop ones is signed.
//
// Each call gets a new Signer. A Signer caches the derived signing key per
// region and service and checks only the access key id and the day before
// reusing it, not the secret: shared between connections, it would sign
// for a connection whose secret is wrong, or was just corrected, with
// another connection's key until midnight UTC.
func sign(ctx context.Context, req *http.Request, payloadHash string, cfg config, now time.Time, trace logging.Logger) error {
	creds := aws.Credentials{
		AccessKeyID:     cfg.accessKeyID,
		SecretAccessKey: cfg.secretAccessKey,
		SessionToken:    cfg.sessionToken,
	}
	var opts []func(*v4.SignerOptions)
	if trace != nil {
		opts = append(opts, func(o *v4.SignerOptions) {
			o.LogSigning = true
			o.Logger = trace
		})
	}
	return v4.NewSigner().SignHTTP(ctx, creds, req, payloadHash, cfg.service, cfg.region, now.UTC(), opts...)
}
