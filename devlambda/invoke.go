package devlambda

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// invocationsRE matches the Invoke API's path, the function escaped.
var invocationsRE = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations/?$`)

// The Invoke API's invocation types.
const (
	InvocationRequestResponse = "RequestResponse"
	InvocationEvent           = "Event"
	InvocationDryRun          = "DryRun"
)

// ErrorResult is the result a function that failed returns, as Lambda
// shapes it: {"errorType": ..., "errorMessage": ...}. Return it from
// Config.Invoke with the function error "Unhandled".
func ErrorResult(errorType, errorMessage string) []byte {
	b, _ := json.Marshal(map[string]any{"errorType": errorType, "errorMessage": errorMessage, "stackTrace": []string{}})
	return b
}

// lambdaErrorTypes are the X-Amzn-ErrorType values Lambda answers error
// statuses with.
var lambdaErrorTypes = map[int]string{
	http.StatusBadRequest:            "InvalidRequestContentException",
	http.StatusForbidden:             "AccessDeniedException",
	http.StatusNotFound:              "ResourceNotFoundException",
	http.StatusRequestEntityTooLarge: "RequestTooLargeException",
	http.StatusTooManyRequests:       "TooManyRequestsException",
}

// invoke answers a verified call of the Invoke API into out.
func (s *Server) invoke(r *http.Request, rec *Request, out *answer) *awsError {
	m := invocationsRE.FindStringSubmatch(r.URL.EscapedPath())
	raw, err := url.PathUnescape(m[1])
	if err != nil {
		return &awsError{status: http.StatusBadRequest, kind: "InvalidParameterValueException", msg: "The function name cannot be read from the path."}
	}
	rec.Function, rec.Qualifier = functionOf(raw)
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		rec.Qualifier = q
	}
	rec.InvocationType = r.Header.Get("X-Amz-Invocation-Type")
	if rec.InvocationType == "" {
		rec.InvocationType = InvocationRequestResponse
	}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		b, err := base64.StdEncoding.DecodeString(cc)
		if err != nil {
			return &awsError{status: http.StatusBadRequest, kind: "InvalidRequestContentException", msg: "Client context must be a valid Base64-encoded JSON object."}
		}
		rec.ClientContext = string(b)
	}
	if s.cfg.Functions != nil && !slices.Contains(s.cfg.Functions, rec.Function) {
		return &awsError{status: http.StatusNotFound, kind: "ResourceNotFoundException",
			msg: fmt.Sprintf("Function not found: arn:aws:lambda:%s:123456789012:function:%s", s.cfg.Region, rec.Function)}
	}
	version := "$LATEST"
	if rec.Qualifier != "" {
		version = rec.Qualifier
	}
	if st := s.cfg.InvokeStatus; st >= 400 {
		kind, ok := lambdaErrorTypes[st]
		if !ok {
			kind = "ServiceException"
		}
		return &awsError{status: st, kind: kind, msg: fmt.Sprintf("the test endpoint answers verified calls with status %d", st)}
	}
	switch rec.InvocationType {
	case InvocationEvent:
		out.status, out.body = http.StatusAccepted, nil
		return nil
	case InvocationDryRun:
		out.status, out.body = http.StatusNoContent, nil
		return nil
	case InvocationRequestResponse:
	default:
		return &awsError{status: http.StatusBadRequest, kind: "InvalidParameterValueException",
			msg: fmt.Sprintf("1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]", rec.InvocationType)}
	}
	out.header.Set("X-Amz-Executed-Version", version)
	if s.cfg.Invoke == nil {
		out.body = s.summary(*rec)
		return nil
	}
	out.body, rec.FunctionError = s.cfg.Invoke(*rec)
	if rec.FunctionError != "" {
		out.header.Set("X-Amz-Function-Error", rec.FunctionError)
	}
	return nil
}

// functionOf reads a function name, partial ARN or ARN, each with an
// optional qualifier, into the name and the qualifier.
func functionOf(s string) (name, qualifier string) {
	parts := strings.Split(s, ":")
	switch {
	case parts[0] == "arn" && len(parts) >= 7:
		parts = parts[6:]
	case len(parts) >= 3 && parts[1] == "function":
		parts = parts[2:]
	}
	if len(parts) > 1 {
		return parts[0], parts[1]
	}
	return parts[0], ""
}
