package awslambda_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify/awslambda"
)

const (
	roleARN    = "arn:aws:iam::123456789012:role/hookline-invoker"
	externalID = "ext-0001"
)

// TestNormalizeModes checks authMode, invokeMode and their fields: what is
// inferred, what is dropped, and each problem under its field's name.
func TestNormalizeModes(t *testing.T) {
	const local = "http://127.0.0.1:9000/"
	const endpoint = "https://lambda.us-east-1.amazonaws.com"
	ambient := awslambda.New(awslambda.Options{AmbientCredentials: true})
	keys := map[string]string{"secretAccessKey": secret}
	kv := func(pairs ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(pairs); i += 2 {
			m[pairs[i]] = pairs[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name         string
		kind         awslambda.Kind
		url          string
		headers      []hookline.Header
		settings     map[string]string
		secrets      map[string]string
		wantSettings map[string]string // nil: unchecked
		wantSecrets  map[string]string // nil: unchecked
		problems     []string          // "field: message prefix"
	}{
		// authMode
		{name: "role ARN implies assumeRole, session name defaulted", url: local,
			settings:     kv("accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN, "externalId", externalID),
			secrets:      keys,
			wantSettings: kv("authMode", "assumeRole", "accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN, "externalId", externalID, "roleSessionName", "hookline")},
		{name: "role with a path, mode case-insensitive", url: local,
			settings: kv("authMode", "ASSUMEROLE", "accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda",
				"roleArn", "arn:aws-us-gov:iam::123456789012:role/ops/alerting/invoker", "roleSessionName", "alerts@team"),
			secrets: keys, problems: []string{"roleArn: is in partition aws-us-gov, but region us-east-1 is in partition aws"}},
		{name: "assumeRole needs a role", url: local, settings: kv("authMode", "assumeRole", "accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda"),
			secrets: keys, problems: []string{"roleArn: is required with authMode assumeRole"}},
		{name: "role ARN of a user", url: local, settings: kv("accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda", "roleArn", "arn:aws:iam::123456789012:user/bob"),
			secrets: keys, problems: []string{"roleArn: is not an IAM role ARN"}},
		{name: "role ARN with a short account", url: local, settings: kv("accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda", "roleArn", "arn:aws:iam::12345:role/x"),
			secrets: keys, problems: []string{"roleArn: is not an IAM role ARN"}},
		{name: "external ID and session name shapes", url: local,
			settings: kv("accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN, "externalId", "has space", "roleSessionName", "x"),
			secrets:  keys, problems: []string{"externalId: must be 2 to 1224", "roleSessionName: must be 2 to 64"}},
		{name: "assumeRole without a key where the machine's credentials are off", url: local,
			settings: kv("region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN),
			problems: []string{"accessKeyId: is required: this server does not let connections use its own AWS credentials"}},
		{name: "assumeRole with the machine's credentials", kind: ambient, url: local,
			settings:     kv("region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN),
			wantSettings: kv("authMode", "assumeRole", "region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN, "roleSessionName", "hookline")},
		{name: "a secret without its key id", kind: ambient, url: local,
			settings: kv("region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN), secrets: keys,
			problems: []string{"accessKeyId: is required with a secret access key"}},
		{name: "a session token without a key", kind: ambient, url: local,
			settings: kv("region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN), secrets: map[string]string{"sessionToken": token},
			problems: []string{"sessionToken: is only used with an access key"}},
		{name: "unknown authMode", url: local, settings: kv("authMode", "iamUser", "accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda"),
			secrets: keys, problems: []string{"authMode: must be accessKey, assumeRole or defaultChain"}},
		{name: "defaultChain where it is off", url: local, settings: kv("authMode", "defaultChain", "region", "us-east-1", "serviceName", "lambda"),
			problems: []string{"authMode: defaultChain is turned off on this server"}},
		{name: "defaultChain drops the keys and the role", kind: ambient, url: local,
			settings:     kv("authMode", "defaultchain", "accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN),
			secrets:      map[string]string{"secretAccessKey": secret, "sessionToken": token},
			wantSettings: kv("authMode", "defaultChain", "region", "us-east-1", "serviceName", "lambda"), wantSecrets: map[string]string{}},
		{name: "accessKey drops the role", url: local,
			settings: kv("authMode", "accessKey", "accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda", "roleArn", roleARN, "externalId", externalID),
			secrets:  keys, wantSettings: kv("authMode", "accessKey", "accessKeyId", keyID, "region", "us-east-1", "serviceName", "lambda")},
		{name: "accessKey still needs its key", url: local, settings: kv("authMode", "accessKey", "region", "us-east-1", "serviceName", "lambda"),
			problems: []string{"accessKeyId: is required: the access key id", "secretAccessKey: is required"}},
		{name: "China role for a China region", url: local,
			settings: kv("accessKeyId", keyID, "region", "cn-north-1", "serviceName", "lambda", "roleArn", "arn:aws-cn:iam::123456789012:role/r"), secrets: keys},
		{name: "global role for a China region", url: local,
			settings: kv("accessKeyId", keyID, "region", "cn-north-1", "serviceName", "lambda", "roleArn", roleARN), secrets: keys,
			problems: []string{"roleArn: is in partition aws, but region cn-north-1 is in partition aws-cn"}},

		// invokeMode
		{name: "function name implies invoke; endpoint names the region", url: endpoint,
			settings: kv("accessKeyId", keyID, "functionName", "my-fn"), secrets: keys,
			wantSettings: kv("accessKeyId", keyID, "invokeMode", "invoke", "functionName", "my-fn", "invocationType", "RequestResponse",
				"region", "us-east-1", "serviceName", "lambda")},
		{name: "an Invoke API URL names the function", url: "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/my-fn%3Aprod/invocations",
			settings: kv("accessKeyId", keyID, "invocationType", "event"), secrets: keys,
			wantSettings: kv("accessKeyId", keyID, "invokeMode", "invoke", "functionName", "my-fn:prod", "invocationType", "Event",
				"region", "eu-west-1", "serviceName", "lambda")},
		{name: "a local endpoint takes the region from the ARN", url: local,
			settings: kv("accessKeyId", keyID, "invokeMode", "invoke", "functionName", "arn:aws:lambda:eu-central-1:123456789012:function:f:$LATEST"), secrets: keys,
			wantSettings: kv("accessKeyId", keyID, "invokeMode", "invoke", "functionName", "arn:aws:lambda:eu-central-1:123456789012:function:f:$LATEST",
				"invocationType", "RequestResponse", "region", "eu-central-1", "serviceName", "lambda")},
		{name: "partial ARN", url: endpoint, settings: kv("accessKeyId", keyID, "functionName", "123456789012:function:f"), secrets: keys},
		{name: "ARN in another region", url: endpoint,
			settings: kv("accessKeyId", keyID, "functionName", "arn:aws:lambda:eu-central-1:123456789012:function:f"), secrets: keys,
			problems: []string{`functionName: names region "eu-central-1", but the connection is in "us-east-1"`}},
		{name: "function name differs from the URL's", url: "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/a/invocations",
			settings: kv("accessKeyId", keyID, "functionName", "b"), secrets: keys,
			problems: []string{`functionName: "b" differs from the function the URL names, "a"`}},
		{name: "invoke needs a function", url: endpoint, settings: kv("accessKeyId", keyID, "invokeMode", "invoke"), secrets: keys,
			problems: []string{"functionName: is required with invokeMode invoke"}},
		{name: "bad function name", url: endpoint, settings: kv("accessKeyId", keyID, "functionName", "my function"), secrets: keys,
			problems: []string{"functionName: has a function name that is not"}},
		{name: "empty qualifier", url: endpoint, settings: kv("accessKeyId", keyID, "functionName", "f:"), secrets: keys,
			problems: []string{"functionName: has a version or alias that is not"}},
		{name: "not a Lambda ARN", url: endpoint, settings: kv("accessKeyId", keyID, "functionName", "arn:aws:s3:::bucket"), secrets: keys,
			problems: []string{"functionName: is not a Lambda function ARN"}},
		{name: "a Function URL is not an endpoint", url: "https://abcdefghij.lambda-url.us-east-1.on.aws/",
			settings: kv("accessKeyId", keyID, "functionName", "f"), secrets: keys,
			problems: []string{"url: is a Function URL or an API Gateway URL"}},
		{name: "an endpoint has no path", url: endpoint + "/prod", settings: kv("accessKeyId", keyID, "functionName", "f"), secrets: keys,
			problems: []string{"url: has a path"}},
		{name: "an endpoint has no query", url: endpoint + "/?Qualifier=prod", settings: kv("accessKeyId", keyID, "functionName", "f"), secrets: keys,
			problems: []string{"url: has a query"}},
		{name: "unknown invocation type", url: endpoint, settings: kv("accessKeyId", keyID, "functionName", "f", "invocationType", "Later"), secrets: keys,
			problems: []string{"invocationType: must be RequestResponse or Event"}},
		{name: "unknown invokeMode", url: endpoint, settings: kv("accessKeyId", keyID, "invokeMode", "direct", "functionName", "f"), secrets: keys,
			problems: []string{"invokeMode: must be functionUrl or invoke"}},
		{name: "the Invoke API is signed for lambda", url: local,
			settings: kv("accessKeyId", keyID, "functionName", "f", "region", "us-east-1", "serviceName", "execute-api"), secrets: keys,
			problems: []string{`serviceName: "execute-api" cannot call the Lambda Invoke API`}},
		{name: "invoke sets its own invocation type header", url: endpoint,
			headers:  []hookline.Header{{Name: "x-amz-invocation-type", Value: "Event"}},
			settings: kv("accessKeyId", keyID, "functionName", "f"), secrets: keys,
			problems: []string{"customHeaders[0].name: X-Amz-Invocation-Type is set by the Invoke API connection itself"}},
		{name: "functionUrl drops the Invoke API's fields, keeps such a header", url: "https://abcdefghij.lambda-url.us-east-1.on.aws/",
			headers:      []hookline.Header{{Name: "X-Amz-Invocation-Type", Value: "Event"}},
			settings:     kv("accessKeyId", keyID, "invokeMode", "functionUrl", "functionName", "f", "invocationType", "Event"),
			secrets:      keys,
			wantSettings: kv("accessKeyId", keyID, "invokeMode", "functionUrl", "region", "us-east-1", "serviceName", "lambda")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &hookline.Connection{URL: tc.url, CustomHeaders: tc.headers, Settings: map[string]string{}, Secrets: map[string]string{}}
			maps.Copy(c.Settings, tc.settings)
			maps.Copy(c.Secrets, tc.secrets)
			var p hookline.Problems
			tc.kind.Normalize(c, &p)
			err := p.Err()
			if len(tc.problems) == 0 && err != nil {
				t.Fatalf("unexpected problems: %v", err)
			}
			if len(tc.problems) > 0 {
				var he *hookline.Error
				if !errors.As(err, &he) {
					t.Fatalf("error %v, want problems", err)
				}
				var got []string
				for _, f := range he.Fields {
					got = append(got, f.Field+": "+f.Message)
				}
				if len(got) != len(tc.problems) {
					t.Errorf("problems %q, want %d", got, len(tc.problems))
				}
				for _, want := range tc.problems {
					found := false
					for _, g := range got {
						found = found || strings.HasPrefix(g, want)
					}
					if !found {
						t.Errorf("problems %q lack %q", got, want)
					}
				}
			}
			if tc.wantSettings != nil {
				if diff := cmp.Diff(tc.wantSettings, c.Settings); diff != "" {
					t.Errorf("settings (-want +got):\n%s", diff)
				}
			}
			if tc.wantSecrets != nil {
				if diff := cmp.Diff(tc.wantSecrets, c.Secrets); diff != "" {
					t.Errorf("secrets (-want +got):\n%s", diff)
				}
			}
		})
	}
}
