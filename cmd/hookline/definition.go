package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/client"
)

// stdinOnce hands out standard input to one reader at most: "-f -" and
// "--alert-payload-file -" cannot both read it.
type stdinOnce struct {
	r    io.Reader
	used string
}

func (s *stdinOnce) readFile(flag, path string) ([]byte, error) {
	if path != "-" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		return b, nil
	}
	if s.used != "" {
		return nil, fmt.Errorf("%s -: standard input is already read by %s", flag, s.used)
	}
	s.used = flag
	b, err := io.ReadAll(s.r)
	if err != nil {
		return nil, fmt.Errorf("%s: read standard input: %w", flag, err)
	}
	return b, nil
}

// secretFlags are the three ways to give one secret. The value flag is
// for scripts; the file and environment forms keep the secret out of shell
// history and process listings.
type secretFlags struct {
	field            string // JSON name: "secretAccessKey"
	flag             string // flag stem: "secret-access-key"
	value, file, env string
}

func (s *secretFlags) register(fs *pflag.FlagSet, what string) {
	fs.StringVar(&s.value, s.flag, "", what+" itself (less safe: it stays in shell history and process lists; prefer --"+s.flag+"-file or -env)")
	fs.StringVar(&s.file, s.flag+"-file", "", "read "+what+" from this file (- for standard input)")
	fs.StringVar(&s.env, s.flag+"-env", "", "read "+what+" from the environment variable with this name")
}

// read returns the secret and whether any of its flags was given.
func (s *secretFlags) read(fs *pflag.FlagSet, in *stdinOnce) (string, bool, error) {
	var given []string
	for _, name := range []string{s.flag, s.flag + "-file", s.flag + "-env"} {
		if fs.Changed(name) {
			given = append(given, "--"+name)
		}
	}
	switch {
	case len(given) == 0:
		return "", false, nil
	case len(given) > 1:
		return "", false, fmt.Errorf("give only one of %s", strings.Join(given, ", "))
	case fs.Changed(s.flag):
		return s.value, true, nil
	case fs.Changed(s.flag + "-file"):
		b, err := in.readFile("--"+s.flag+"-file", s.file)
		if err != nil {
			return "", false, err
		}
		return strings.TrimSpace(string(b)), true, nil
	}
	v, ok := os.LookupEnv(s.env)
	if !ok || v == "" {
		return "", false, fmt.Errorf("--%s-env: the environment variable %q is not set or empty", s.flag, s.env)
	}
	return v, true, nil
}

// defFlags describe a connection on the command line. Each flag given
// overrides what -f and, for update, the stored connection say.
type defFlags struct {
	file                                       string
	name, description, webhookType, url        string
	headers, removeHeaders                     []string
	alertPayload, alertPayloadFile             string
	recoveryPayload, recoveryPayloadFile       string
	accessKeyID, region, serviceName           string
	secretAccessKey, sessionToken, authzHeader secretFlags
}

// settingFlags map the flags of a type's plain fields to their JSON names.
var settingFlags = []struct{ flag, field string }{
	{"access-key-id", "accessKeyId"},
	{"region", "region"},
	{"service-name", "serviceName"},
}

func newDefFlags(fs *pflag.FlagSet) *defFlags {
	d := &defFlags{
		secretAccessKey: secretFlags{field: "secretAccessKey", flag: "secret-access-key"},
		sessionToken:    secretFlags{field: "sessionToken", flag: "session-token"},
		authzHeader:     secretFlags{field: "authorizationHeader", flag: "authorization-header"},
	}
	fs.StringVarP(&d.file, "file", "f", "", "read the connection from a JSON or YAML file (- for standard input); flags override its fields")
	fs.StringVar(&d.name, "name", "", "name of the connection")
	fs.StringVar(&d.description, "description", "", "description")
	fs.StringVar(&d.webhookType, "type", "", "connection type (webhookType): AWSLambda or Webhook")
	fs.StringVar(&d.url, "url", "", "URL the payload is POSTed to")
	fs.StringArrayVar(&d.headers, "header", nil, `custom header "Name: value", replacing one of the same name (repeatable)`)
	fs.StringArrayVar(&d.removeHeaders, "remove-header", nil, "remove the custom header with this name (repeatable)")
	fs.StringVar(&d.alertPayload, "alert-payload", "", "alert payload template (JSON with {{Variables}})")
	fs.StringVar(&d.alertPayloadFile, "alert-payload-file", "", "read the alert payload template from this file")
	fs.StringVar(&d.recoveryPayload, "recovery-payload", "", "recovery payload template (empty: recoveries send the alert payload)")
	fs.StringVar(&d.recoveryPayloadFile, "recovery-payload-file", "", "read the recovery payload template from this file")
	fs.StringVar(&d.accessKeyID, "access-key-id", "", "AWSLambda: access key id of the IAM user that may invoke the target")
	d.secretAccessKey.register(fs, "AWSLambda: the secret access key")
	d.sessionToken.register(fs, "AWSLambda: the session token of temporary credentials")
	fs.StringVar(&d.region, "region", "", "AWSLambda: AWS region, such as us-east-1 (inferred from AWS URLs)")
	fs.StringVar(&d.serviceName, "service-name", "", "AWSLambda: lambda (Function URL) or execute-api (API Gateway); inferred from AWS URLs")
	d.authzHeader.register(fs, "Webhook: the Authorization header value")
	return d
}

// definitionFlags are the flag names of defFlags other than -f.
var definitionFlags = []string{
	"name", "description", "type", "url", "header", "remove-header",
	"alert-payload", "alert-payload-file", "recovery-payload", "recovery-payload-file",
	"access-key-id", "region", "service-name",
	"secret-access-key", "secret-access-key-file", "secret-access-key-env",
	"session-token", "session-token-file", "session-token-env",
	"authorization-header", "authorization-header-file", "authorization-header-env",
}

// anyChanged reports whether a definition flag (not -f) was given.
func anyChanged(fs *pflag.FlagSet) bool {
	return slices.ContainsFunc(definitionFlags, fs.Changed)
}

// readFile returns the fields of -f, or nil without -f.
func (d *defFlags) readFile(fs *pflag.FlagSet, in *stdinOnce) (map[string]json.RawMessage, error) {
	if !fs.Changed("file") {
		return nil, nil
	}
	b, err := in.readFile("-f", d.file)
	if err != nil {
		return nil, err
	}
	name := d.file
	if name == "-" {
		name = "standard input"
	}
	m, err := parseDefinitionFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// payloadFields may be written in a file as an object instead of a string
// holding one; they are sent as that object's JSON text.
var payloadFields = []string{"defaultPayload", "resolutionPayload"}

// parseDefinitionFile reads a connection from JSON or YAML. JSON is decoded
// as JSON so that a payload given as an object keeps its key order; YAML
// (a superset) is converted first, rejecting duplicate keys.
func parseDefinitionFile(b []byte) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	js := trimmed
	if trimmed[0] != '{' {
		var err error
		if js, err = yaml.YAMLToJSONStrict(b); err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(js))
	if err := dec.Decode(&m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(js, se.Offset)
			return nil, fmt.Errorf("not valid JSON: line %d, column %d: %v", line, col, se)
		}
		return nil, fmt.Errorf("must hold one object of connection fields: %v", err)
	}
	if dec.More() {
		return nil, errors.New("holds more than one JSON value")
	}
	if m == nil {
		return nil, errors.New("must hold one object of connection fields, not null")
	}
	for _, f := range payloadFields {
		raw := bytes.TrimSpace(m[f])
		if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
			var c bytes.Buffer
			if err := json.Compact(&c, raw); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			s, _ := json.Marshal(c.String())
			m[f] = s
		}
	}
	return m, nil
}

func lineCol(b []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// overlay sets every field of file on def.
func overlay(def client.Definition, file map[string]json.RawMessage) (client.Definition, error) {
	if len(file) == 0 {
		return def, nil
	}
	b, err := json.Marshal(def)
	if err != nil {
		return def, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return def, err
	}
	for k, v := range file {
		m[k] = v
	}
	if b, err = json.Marshal(m); err != nil {
		return def, err
	}
	var out client.Definition
	if err := json.Unmarshal(b, &out); err != nil {
		return def, fmt.Errorf("-f: %w", err)
	}
	return out, nil
}

// fileType is the webhookType a file sets, if any.
func fileType(file map[string]json.RawMessage) (string, bool) {
	raw, ok := file["webhookType"]
	if !ok {
		return "", false
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

// apply sets the fields given as flags on def.
func (d *defFlags) apply(fs *pflag.FlagSet, def *client.Definition, in *stdinOnce) error {
	str := func(flag string, v string, dst *string) {
		if fs.Changed(flag) {
			*dst = v
		}
	}
	str("name", d.name, &def.Name)
	str("description", d.description, &def.Description)
	str("type", d.webhookType, &def.WebhookType)
	str("url", d.url, &def.URL)

	for _, spec := range []struct {
		text, file         string
		textFlag, fileFlag string
		dst                *string
	}{
		{d.alertPayload, d.alertPayloadFile, "alert-payload", "alert-payload-file", &def.DefaultPayload},
		{d.recoveryPayload, d.recoveryPayloadFile, "recovery-payload", "recovery-payload-file", &def.ResolutionPayload},
	} {
		switch {
		case fs.Changed(spec.textFlag) && fs.Changed(spec.fileFlag):
			return fmt.Errorf("give --%s or --%s, not both", spec.textFlag, spec.fileFlag)
		case fs.Changed(spec.textFlag):
			*spec.dst = spec.text
		case fs.Changed(spec.fileFlag):
			b, err := in.readFile("--"+spec.fileFlag, spec.file)
			if err != nil {
				return err
			}
			*spec.dst = string(b)
		}
	}

	for _, raw := range d.headers {
		name, value, ok := strings.Cut(raw, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return fmt.Errorf(`--header %q: want "Name: value"`, raw)
		}
		i := slices.IndexFunc(def.CustomHeaders, func(h client.Header) bool { return strings.EqualFold(h.Name, name) })
		if i >= 0 {
			def.CustomHeaders[i] = client.Header{Name: name, Value: value}
		} else {
			def.CustomHeaders = append(def.CustomHeaders, client.Header{Name: name, Value: value})
		}
	}
	for _, name := range d.removeHeaders {
		i := slices.IndexFunc(def.CustomHeaders, func(h client.Header) bool { return strings.EqualFold(h.Name, strings.TrimSpace(name)) })
		if i < 0 {
			return fmt.Errorf("--remove-header %q: the connection has no such custom header", name)
		}
		def.CustomHeaders = slices.Delete(def.CustomHeaders, i, i+1)
	}

	for _, s := range settingFlags {
		if fs.Changed(s.flag) {
			v, _ := fs.GetString(s.flag)
			def.Set(s.field, v)
		}
	}
	for _, s := range []*secretFlags{&d.secretAccessKey, &d.sessionToken, &d.authzHeader} {
		v, given, err := s.read(fs, in)
		if err != nil {
			return err
		}
		if given {
			def.Set(s.field, v)
		}
	}
	return nil
}

// buildDefinition is a new definition: -f's fields, then the flags.
func (d *defFlags) buildDefinition(fs *pflag.FlagSet, in *stdinOnce) (client.Definition, error) {
	file, err := d.readFile(fs, in)
	if err != nil {
		return client.Definition{}, err
	}
	def, err := overlay(client.Definition{}, file)
	if err != nil {
		return def, err
	}
	return def, d.apply(fs, &def, in)
}

// editDefinition is the stored connection with -f's fields and the flags
// applied. When the type changes, the old type's own fields are dropped:
// they mean nothing to the new one.
func (d *defFlags) editDefinition(fs *pflag.FlagSet, in *stdinOnce, cur client.Connection) (client.Definition, error) {
	file, err := d.readFile(fs, in)
	if err != nil {
		return client.Definition{}, err
	}
	def := cur.Definition()
	newType := def.WebhookType
	if t, ok := fileType(file); ok {
		newType = t
	}
	if fs.Changed("type") {
		newType = d.webhookType
	}
	if newType != def.WebhookType {
		def.Extra = nil
	}
	if def, err = overlay(def, file); err != nil {
		return def, err
	}
	return def, d.apply(fs, &def, in)
}
