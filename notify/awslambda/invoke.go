package awslambda

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/smithy-go/encoding/httpbinding"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
)

// Headers of the Lambda Invoke API.
const (
	HeaderInvocationType = "X-Amz-Invocation-Type"
	HeaderClientContext  = "X-Amz-Client-Context"
	HeaderLogType        = "X-Amz-Log-Type"
	// HeaderFunctionError marks an answer whose function failed: Unhandled
	// (or, from older runtimes, Handled). The body holds errorType and
	// errorMessage.
	HeaderFunctionError = "X-Amz-Function-Error"
)

// The Invoke API's path around a function's escaped name.
const invokePathPrefix, invokePathSuffix = "/2015-03-31/functions/", "/invocations"

var (
	invocationsRE = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations/?$`)
	functionRE    = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,64}$`)
	qualifierRE   = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9_-]{1,128})$`)
	accountRE     = regexp.MustCompile(`^[0-9]{12}$`)
)

// maxFunctionName is the Invoke API's limit on FunctionName, qualifier
// included.
const maxFunctionName = 170

// functionRef is a function name as the Invoke API takes it: a name, a
// partial ARN or an ARN, each with an optional version or alias.
type functionRef struct {
	partition, region, account, name, qualifier string
}

// parseFunctionName reads s; its error message follows the field name.
func parseFunctionName(s string) (functionRef, error) {
	var f functionRef
	if len(s) > maxFunctionName {
		return f, fmt.Errorf("is %d characters long; at most %d are allowed", len(s), maxFunctionName)
	}
	parts := strings.Split(s, ":")
	switch {
	case parts[0] == "arn":
		// arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]
		if len(parts) < 7 || len(parts) > 8 || !strings.HasPrefix(parts[1], "aws") || parts[2] != "lambda" || parts[5] != "function" {
			return f, fmt.Errorf("is not a Lambda function ARN such as arn:aws:lambda:us-east-1:123456789012:function:my-function")
		}
		if !regionRE.MatchString(parts[3]) {
			return f, fmt.Errorf("names no AWS region in its ARN, such as us-east-1")
		}
		f.partition, f.region, f.account, f.name = parts[1], parts[3], parts[4], parts[6]
		if len(parts) == 8 {
			f.qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		// 123456789012:function:name[:qualifier]
		if len(parts) > 4 {
			return f, fmt.Errorf("is not a partial function ARN such as 123456789012:function:my-function")
		}
		f.account, f.name = parts[0], parts[2]
		if len(parts) == 4 {
			f.qualifier = parts[3]
		}
	case len(parts) <= 2:
		f.name = parts[0]
		if len(parts) == 2 {
			f.qualifier = parts[1]
		}
	default:
		return f, fmt.Errorf("is not a function name, partial ARN (123456789012:function:my-function) or ARN")
	}
	switch {
	case f.account != "" && !accountRE.MatchString(f.account):
		return f, fmt.Errorf("names an account that is not 12 digits")
	case !functionRE.MatchString(f.name):
		return f, fmt.Errorf("has a function name that is not 1 to 64 letters, digits, periods, hyphens and underscores")
	case strings.HasSuffix(s, ":") || (f.qualifier != "" && !qualifierRE.MatchString(f.qualifier)):
		return f, fmt.Errorf("has a version or alias that is not $LATEST, a version number or an alias name")
	}
	return f, nil
}

// functionFromURL returns the function an Invoke API URL names in its path
// (…/2015-03-31/functions/<name>/invocations), if it names one.
func functionFromURL(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", false
	}
	m := invocationsRE.FindStringSubmatch(u.EscapedPath())
	if m == nil {
		return "", false
	}
	name, err := url.PathUnescape(m[1])
	if err != nil {
		return "", false
	}
	return name, true
}

// invokeURL returns the Invoke API URL for function at endpoint: its
// scheme and host, and its path unless that already names a function.
// The name is escaped as the SDK escapes it (":" too), so that the path
// AWS reads is the one signed.
func invokeURL(endpoint, function string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Host == "" {
		return "", hookline.Errorf(hookline.EINVALID, "the connection URL is not a Lambda endpoint")
	}
	base := u.EscapedPath()
	if invocationsRE.MatchString(base) {
		base = ""
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(base, "/") +
		invokePathPrefix + httpbinding.EscapePath(function, true) + invokePathSuffix, nil
}

// invoke is what normalizeInvoke learned of an Invoke API target.
type invoke struct {
	region string // the function ARN's, or ""
}

// normalizeInvoke checks invokeMode and the fields it uses, drops those
// it does not use, and returns nil unless the mode is invoke.
func normalizeInvoke(c *hookline.Connection, p *hookline.Problems) *invoke {
	raw := strings.TrimSpace(c.Settings[FieldInvokeMode])
	mode := canonical(raw, InvokeFunctionURL, InvokeAPI)
	fn := strings.TrimSpace(c.Settings[FieldFunctionName])
	urlFn, urlInvokes := functionFromURL(c.URL)
	switch {
	case raw == "" && (fn != "" || urlInvokes):
		mode = InvokeAPI
	case raw == "":
		mode = InvokeFunctionURL
	case mode == "":
		p.Add(FieldInvokeMode, "must be %s or %s", InvokeFunctionURL, InvokeAPI)
		return nil
	}
	if raw != "" || mode != InvokeFunctionURL {
		store(c.Settings, FieldInvokeMode, mode) // the default is left unsaid, as with authMode
	}
	if mode == InvokeFunctionURL {
		delete(c.Settings, FieldFunctionName)
		delete(c.Settings, FieldInvocationType)
		return nil
	}

	if u, err := url.Parse(c.URL); err == nil && hookline.ValidateURL(c.URL) == nil {
		path := u.EscapedPath()
		_, service, named := InferFromURL(c.URL)
		switch {
		case named && (service != ServiceLambda || !strings.HasPrefix(strings.ToLower(u.Hostname()), "lambda.")):
			p.Add("url", "is a Function URL or an API Gateway URL; with invokeMode invoke it is the Lambda endpoint of the function's region, such as https://lambda.us-east-1.amazonaws.com")
		case path != "" && path != "/" && !urlInvokes:
			p.Add("url", "has a path; with invokeMode invoke the URL is the Lambda endpoint alone, such as https://lambda.us-east-1.amazonaws.com, and functionName names the function")
		case u.RawQuery != "":
			p.Add("url", "has a query; with invokeMode invoke, give a version or alias as functionName's suffix, such as my-function:prod")
		}
	}

	inv := &invoke{}
	switch {
	case fn == "" && urlInvokes:
		fn = urlFn
	case fn == "":
		p.Add(FieldFunctionName, "is required with invokeMode invoke: the function's name or ARN, such as my-function or arn:aws:lambda:us-east-1:123456789012:function:my-function")
	case urlInvokes && fn != urlFn:
		p.Add(FieldFunctionName, "%q differs from the function the URL names, %q", fn, urlFn)
	}
	if fn != "" {
		if ref, err := parseFunctionName(fn); err != nil {
			p.AddError(FieldFunctionName, hookline.Errorf(hookline.EINVALID, "%s", err.Error()))
		} else {
			inv.region = ref.region
		}
	}
	store(c.Settings, FieldFunctionName, fn)

	typ := strings.TrimSpace(c.Settings[FieldInvocationType])
	switch t := canonical(typ, InvocationRequestResponse, InvocationEvent); {
	case typ == "":
		typ = InvocationRequestResponse
	case t == "":
		p.Add(FieldInvocationType, "must be %s or %s", InvocationRequestResponse, InvocationEvent)
	default:
		typ = t
	}
	store(c.Settings, FieldInvocationType, typ)
	return inv
}

// invokeOwned reports whether an Invoke API connection sets header itself.
func invokeOwned(header string) bool {
	return strings.EqualFold(header, HeaderInvocationType) || strings.EqualFold(header, HeaderClientContext) ||
		strings.EqualFold(header, HeaderLogType)
}

// setInvokeHeaders sets the Invoke API's headers. A synchronous invocation
// also carries the delivery's Idempotency-Key to the function, which sees
// no HTTP header, in the client context: context.client_context.custom
// (Python), context.clientContext.Custom (Node.js). Lambda passes it for
// synchronous invocations only.
func setInvokeHeaders(req *http.Request, cfg config) {
	req.Header.Set(HeaderInvocationType, cfg.invocationType)
	for _, h := range []string{HeaderClientContext, HeaderLogType} {
		req.Header.Del(h)
	}
	key := req.Header.Get(notify.IdempotencyKeyHeader)
	if key == "" || cfg.invocationType != InvocationRequestResponse {
		return
	}
	cc, _ := json.Marshal(map[string]map[string]string{"custom": {"idempotencyKey": key}})
	req.Header.Set(HeaderClientContext, base64.StdEncoding.EncodeToString(cc))
}

// maxErrorMessage bounds how much of a function's error message an
// attempt's error repeats; the answer itself is kept whole.
const maxErrorMessage = 500

// CheckResponse makes an Invoke API answer that reports a function error
// (X-Amz-Function-Error) a failure, showing the error's type and message.
// It is final, not retried: the function ran and failed, and running it
// again with the same alert most often fails the same way, after
// repeating whatever it did before failing. (Lambda itself retries the
// functions it invokes asynchronously, invocationType Event.) An answer
// to a Function URL or API Gateway connection is judged by its status
// alone.
func (Kind) CheckResponse(c *hookline.Connection, status int, header http.Header, body []byte) (string, bool) {
	kind := header.Get(HeaderFunctionError)
	if kind == "" {
		return "", false
	}
	if cfg, err := configOf(c); err != nil || cfg.invokeMode != InvokeAPI {
		return "", false
	}
	var fe struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(body, &fe)
	what := strings.TrimSpace(fe.ErrorType)
	if msg := strings.TrimSpace(fe.ErrorMessage); msg != "" {
		if utf8.RuneCountInString(msg) > maxErrorMessage {
			msg = string([]rune(msg)[:maxErrorMessage]) + "…"
		}
		what = strings.TrimPrefix(what+": "+msg, ": ")
	}
	if what == "" {
		what = "its answer names no error"
	}
	return fmt.Sprintf("the function failed (%s: %s): %s", HeaderFunctionError, kind, what), false
}

var _ notify.ResponseChecker = Kind{}
