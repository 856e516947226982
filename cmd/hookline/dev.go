package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/devlambda"
)

func newDevCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Tools for trying Hookline offline",
	}
	cmd.AddCommand(newDevLambdaCmd())
	return cmd
}

// Defaults of hookline dev lambda --sts: the role it lets be assumed, and
// the external ID that role's trust policy asks for.
const (
	devRoleARN    = "arn:aws:iam::123456789012:role/hookline-dev"
	devExternalID = "hookline-dev"
)

func newDevLambdaCmd() *cobra.Command {
	var (
		addr, region, service, keyID, secret string
		status                               int
		withSTS                              bool
		roleARN, externalID                  string
		functionError                        string
	)
	cmd := &cobra.Command{
		Use:   "lambda",
		Short: "Run a local stand-in for a Lambda Function URL that checks SigV4 like AWS",
		Long: `Run a local endpoint that behaves like an AWS Lambda Function URL (or an API
Gateway stage with --service execute-api) secured with AWS_IAM: it checks each
request's Signature Version 4 the way AWS does (known access key, credential
scope, clock skew of at most 5 minutes, signed host header, body hash) and
answers 403 with AWS's message when a check fails. Each request is printed.

With --service lambda it also serves the Lambda Invoke API
(POST /2015-03-31/functions/<name>/invocations): point a connection with
invokeMode invoke at the printed URL. --status answers every verified call,
of a Function URL path or of the Invoke API, with that status;
--function-error makes synchronous Invoke API calls fail the way a function
that threw does (200 with X-Amz-Function-Error).

With --sts it also answers STS AssumeRole for the printed role ARN and
external ID, signed with the printed key, and then accepts the temporary
credentials it issued. Start hookline serve with AWS_ENDPOINT_URL_STS set to
the printed URL, so that assumeRole connections call it instead of AWS.

Point an AWSLambda connection at the printed URL with the printed region,
service name and keys, then use Test Alert.`,
		Example: `  hookline dev lambda --addr 127.0.0.1:9000
  hookline connections create --type AWSLambda --name dev --url http://127.0.0.1:9000/ \
      --region us-east-1 --service-name lambda --access-key-id AKIDEVEXAMPLE000 \
      --secret-access-key-env DEV_SECRET --alert-payload '{"name": "{{Name}}"}'

  # assumeRole connections: STS too
  hookline dev lambda --sts
  AWS_ENDPOINT_URL_STS=http://127.0.0.1:9000 hookline serve --allow-targets 127.0.0.1/32`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if service != "lambda" && service != "execute-api" {
				return fmt.Errorf("--service must be lambda or execute-api, not %q", service)
			}
			if status < 100 || status > 599 {
				return fmt.Errorf("--status must be an HTTP status code, not %d", status)
			}
			if functionError != "" && service != "lambda" {
				return errors.New("--function-error needs --service lambda: only the Lambda Invoke API reports function errors")
			}
			if secret == "" {
				secret = randomSecret()
			}
			out := cmd.OutOrStdout()
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			cfg := devlambda.Config{
				Region:  region,
				Service: service,
				Keys:    map[string]string{keyID: secret},
				Logger:  logger,
				// Requests are printed as they come; nothing reads the history.
				MaxRecorded: -1,
				Respond: func(r devlambda.Request) (int, []byte) {
					return status, []byte(`{"ok":true}`)
				},
				InvokeStatus: status,
			}
			if functionError != "" {
				cfg.Invoke = func(r devlambda.Request) ([]byte, string) {
					return devlambda.ErrorResult("DevLambdaError", "hookline dev lambda --function-error: the function failed"), functionError
				}
			}
			if withSTS {
				cfg.STS = &devlambda.STSConfig{Roles: map[string]string{roleARN: externalID}}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			fmt.Fprintf(out, `Local %s endpoint checking SigV4, listening on http://%s/

  region:            %s
  service name:      %s
  access key id:     %s
  secret access key: %s
`, service, ln.Addr(), region, service, keyID, secret)
			if service == "lambda" {
				fmt.Fprintf(out, `
The Lambda Invoke API is at the same URL (invokeMode invoke, any function name).
`)
			}
			if withSTS {
				fmt.Fprintf(out, `
STS AssumeRole, with the key above:
  role ARN:          %s
  external ID:       %s
Start hookline serve with this in its environment, so that assumeRole
connections assume the role here rather than at AWS:
  AWS_ENDPOINT_URL_STS=http://%s
`, roleARN, externalID, ln.Addr())
			}
			fmt.Fprint(out, `
hookline serve refuses loopback targets unless started with
--allow-targets 127.0.0.1/32 (or --allow-private-targets).

Press Ctrl-C to stop.
`)
			hs := &http.Server{Handler: devlambda.New(cfg),
				ReadHeaderTimeout: 10 * time.Second}
			done := make(chan error, 1)
			go func() { done <- hs.Serve(ln) }()
			select {
			case err := <-done:
				return err
			case <-cmd.Context().Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:9000", "address to listen on")
	f.StringVar(&region, "region", "us-east-1", "the region the credential scope must name")
	f.StringVar(&service, "service", "lambda", "the service the credential scope must name: lambda or execute-api")
	f.StringVar(&keyID, "access-key-id", "AKIDEVEXAMPLE000", "the access key id it accepts")
	f.StringVar(&secret, "secret-access-key", "", "the secret access key it accepts (default: a random one, printed)")
	f.IntVar(&status, "status", http.StatusOK, "the status code a verified request is answered with, on a Function URL path or (an error status, as Lambda gives it) the Invoke API")
	f.StringVar(&functionError, "function-error", "", "make synchronous Invoke API calls fail as a function that threw: the X-Amz-Function-Error value, such as Unhandled")
	f.BoolVar(&withSTS, "sts", false, "also answer STS AssumeRole for --role-arn (point hookline serve at it with AWS_ENDPOINT_URL_STS)")
	f.StringVar(&roleARN, "role-arn", devRoleARN, "with --sts: the role that may be assumed")
	f.StringVar(&externalID, "external-id", devExternalID, "with --sts: the external ID the role requires (empty: none)")
	return cmd
}

func randomSecret() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return strings.NewReplacer("-", "A", "_", "B").Replace(base64.RawURLEncoding.EncodeToString(b))
}
