package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/client"
)

// defaultServer is where the CLI looks for the API when neither --server
// nor HOOKLINE_SERVER says: hookline serve's default address.
const defaultServer = "http://127.0.0.1:8080"

// connOptions are the flags every connections subcommand shares.
type connOptions struct {
	server string
	token  string
	output string
}

func newConnectionsCmd() *cobra.Command {
	o := &connOptions{}
	cmd := &cobra.Command{
		Use:     "connections",
		Aliases: []string{"connection", "conn"},
		Short:   "Create, list, show, change, delete and test connections on a Hookline server",
		Long: `Manage the connections of a running Hookline server through its API.

The server is --server, else HOOKLINE_SERVER, else ` + defaultServer + `.
The admin token is --token, else HOOKLINE_TOKEN, else the contents of the file
named by HOOKLINE_TOKEN_FILE. "hookline serve" prints the token once when it
first starts (or uses HOOKLINE_ADMIN_TOKEN).

Output is a table or a details view for people; -o json and -o yaml print the
API's objects in full for scripts.`,
		Example: `  export HOOKLINE_TOKEN=hk_...
  hookline connections list
  hookline connections create -f lambda.yaml
  hookline connections get 886799E527915E64
  hookline connections test 886799E527915E64 --alert --recovery
  hookline connections list -o json | jq -r '.[].name'`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.server, "server", "", "URL of the Hookline server (env HOOKLINE_SERVER; default "+defaultServer+")")
	pf.StringVar(&o.token, "token", "", "admin API token (env HOOKLINE_TOKEN or HOOKLINE_TOKEN_FILE)")
	pf.StringVarP(&o.output, "output", "o", outputTable, "output format: table, json or yaml")
	cmd.AddCommand(
		newConnCreateCmd(o),
		newConnListCmd(o),
		newConnGetCmd(o),
		newConnUpdateCmd(o),
		newConnDeleteCmd(o),
		newConnTestCmd(o),
	)
	return cmd
}

// client checks the shared flags and returns a client of the server.
func (o *connOptions) client() (*client.Client, error) {
	if err := checkOutput(o.output); err != nil {
		return nil, err
	}
	server := o.server
	if server == "" {
		server = cmp.Or(os.Getenv("HOOKLINE_SERVER"), defaultServer)
	}
	o.server = server
	token := o.token
	if token == "" {
		var err error
		if token, err = envOr("HOOKLINE_TOKEN", ""); err != nil {
			return nil, err
		}
	}
	if token == "" {
		return nil, errors.New(`no API token: pass --token, or set HOOKLINE_TOKEN (or HOOKLINE_TOKEN_FILE), to the admin token that "hookline serve" printed when it first started or was given as HOOKLINE_ADMIN_TOKEN`)
	}
	return client.New(server, token, client.WithUserAgent("hookline-cli/"+version)), nil
}

// cliError is an error whose message may span lines: the API's field
// problems one per line, or a hint on what to check.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// explain turns a client error into what a person at a terminal needs:
// each invalid field on its own line, and what to check when the server
// refused the token or could not be reached.
func (o *connOptions) explain(op string, err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) {
		fields := ae.FieldErrors()
		switch {
		case len(fields) > 0:
			var b strings.Builder
			fmt.Fprintf(&b, "%s: %d %s:", op, ae.Status, ae.Code)
			for _, f := range fields {
				fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
			}
			return &cliError{b.String(), err}
		case ae.Status == 401:
			return &cliError{fmt.Sprintf("%s: %s\n  Check --token or HOOKLINE_TOKEN: it must be the server's admin token.", op, ae), err}
		}
		return &cliError{fmt.Sprintf("%s: %s", op, ae), err}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &cliError{fmt.Sprintf("%v\n  Is \"hookline serve\" running at %s? Set --server or HOOKLINE_SERVER.", err, o.server), err}
	}
	return err
}

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

func newConnCreateCmd(o *connOptions) *cobra.Command {
	var d *defFlags
	cmd := &cobra.Command{
		Use:   "create [-f FILE] [flags]",
		Short: "Create a connection from a JSON or YAML file and/or flags",
		Long: `Create a connection. Its fields come from -f FILE (JSON or YAML, as the API
takes them; - reads standard input) and from flags, which override the file.

A payload may be given in a file as a string or as a JSON object. Secrets are
best given with --secret-access-key-file / --secret-access-key-env (and the
same forms of --authorization-header), which keep them out of shell history.

Prints the new connection and any warnings about payload variables that no
alert fills.`,
		Example: `  # AWS Lambda Function URL; region and service are read from the URL
  export LAMBDA_SECRET=...
  hookline connections create --type AWSLambda --name "ops lambda" \
      --url https://abcdefg.lambda-url.us-east-1.on.aws/ \
      --access-key-id AKIAIOSFODNN7EXAMPLE --secret-access-key-env LAMBDA_SECRET \
      --alert-payload '{"name": "{{Name}}", "type": "{{TriggerType}}", "results": "{{ResultsJson}}"}'

  # From a YAML file, overriding its name
  hookline connections create -f lambda.yaml --name "ops lambda (staging)"

  # A webhook with a bearer token read from a file
  hookline connections create --type Webhook --name chat --url https://chat.example.com/hook \
      --authorization-header-file ./token.txt --header 'X-Team: ops' --alert-payload-file alert.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			fs := cmd.Flags()
			if !fs.Changed("file") && !anyChanged(fs) {
				return errors.New("nothing to create: give -f FILE and/or flags such as --name, --type, --url and --alert-payload (see --help)")
			}
			def, err := d.buildDefinition(fs, &stdinOnce{r: cmd.InOrStdin()})
			if err != nil {
				return err
			}
			conn, err := c.CreateConnection(cmd.Context(), def)
			if err != nil {
				return o.explain("create connection", err)
			}
			return o.printStored(cmd, conn)
		},
	}
	d = newDefFlags(cmd.Flags())
	return cmd
}

// printStored prints a connection that create or update stored, and its
// warnings on standard error.
func (o *connOptions) printStored(cmd *cobra.Command, conn client.Connection) error {
	var err error
	if o.output == outputTable {
		err = printConnectionTable(cmd.OutOrStdout(), createdColumns, []client.Connection{conn})
	} else {
		err = printObject(cmd.OutOrStdout(), o.output, conn)
	}
	printWarnings(cmd.ErrOrStderr(), conn.Warnings)
	return err
}

func newConnListCmd(o *connOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every connection",
		Long: `List every connection, ordered by name, following the API's pages.
-o json prints a JSON array of connections; -o yaml a YAML list.`,
		Example: `  hookline connections list
  hookline connections list -o json | jq -r '.[] | select(.webhookType == "AWSLambda") | .id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			conns, err := c.AllConnections(cmd.Context())
			if err != nil {
				return o.explain("list connections", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNilConns(conns))
			}
			if len(conns) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), `No connections yet; create one with "hookline connections create".`)
				return nil
			}
			return printConnectionTable(cmd.OutOrStdout(), listColumns, conns)
		},
	}
}

func nonNilConns(cs []client.Connection) []client.Connection {
	if cs == nil {
		return []client.Connection{}
	}
	return cs
}

func newConnGetCmd(o *connOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one connection",
		Long: `Show one connection: every field, secrets as "set" or "not set" (the API
never returns them), and both payload templates pretty-printed.`,
		Example: `  hookline connections get 886799E527915E64
  hookline connections get 886799E527915E64 -o yaml > lambda.yaml   # edit, then: update ID -f lambda.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			conn, err := c.GetConnection(cmd.Context(), args[0])
			if err != nil {
				return o.explain("get connection", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, conn)
			}
			// Labels and field order come from the server; without them the
			// view falls back to JSON names, so a failure here is not fatal.
			types, _ := c.ConnectionTypes(cmd.Context())
			return printConnectionDetails(cmd.OutOrStdout(), conn, types)
		},
	}
}

func newConnUpdateCmd(o *connOptions) *cobra.Command {
	var d *defFlags
	cmd := &cobra.Command{
		Use:   "update ID [-f FILE] [flags]",
		Short: "Change a connection: fields from a file and/or flags",
		Long: `Change a connection. The stored connection is fetched, the fields of -f FILE
and then the flags are applied to it, and the result is stored. Fields neither
names keep their values; secrets that are not given keep theirs too (the API
never returns them, so they cannot be lost by a fetch and store).

Changing --type drops the old type's own fields (access key, region, ...);
give the new type's fields with it.`,
		Example: `  hookline connections update 886799E527915E64 --description "pages the on-call engineer"
  hookline connections update 886799E527915E64 --secret-access-key-file ./new-secret.txt
  hookline connections update 886799E527915E64 --header 'X-Env: prod' --remove-header X-Old
  hookline connections get 886799E527915E64 -o yaml > c.yaml && $EDITOR c.yaml && \
      hookline connections update 886799E527915E64 -f c.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			fs := cmd.Flags()
			if !fs.Changed("file") && !anyChanged(fs) {
				return errors.New("nothing to change: give -f FILE and/or flags such as --url or --alert-payload (see --help)")
			}
			cur, err := c.GetConnection(cmd.Context(), args[0])
			if err != nil {
				return o.explain("get connection", err)
			}
			def, err := d.editDefinition(fs, &stdinOnce{r: cmd.InOrStdin()}, cur)
			if err != nil {
				return err
			}
			conn, err := c.UpdateConnection(cmd.Context(), cur.ID, def)
			if err != nil {
				return o.explain("update connection", err)
			}
			return o.printStored(cmd, conn)
		},
	}
	d = newDefFlags(cmd.Flags())
	return cmd
}

func newConnDeleteCmd(o *connOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a connection",
		Long: `Delete a connection. On a terminal it asks first; --yes skips the question.
When standard input is not a terminal (a script, a pipe), --yes is required.`,
		Example: `  hookline connections delete 886799E527915E64
  hookline connections delete 886799E527915E64 --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			// Fetched first so that the question names it, and a wrong ID
			// fails before anyone is asked.
			conn, err := c.GetConnection(cmd.Context(), args[0])
			if err != nil {
				return o.explain("get connection", err)
			}
			if !yes {
				if !isTerminal(cmd.InOrStdin()) {
					return errors.New("not deleting without confirmation: standard input is not a terminal, so pass --yes")
				}
				ok, err := confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), fmt.Sprintf("Delete connection %q (%s)?", conn.Name, conn.ID))
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(cmd.ErrOrStderr(), "Not deleted.")
					return exitError(1)
				}
			}
			if err := c.DeleteConnection(cmd.Context(), conn.ID); err != nil {
				return o.explain("delete connection", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, map[string]any{"id": conn.ID, "name": conn.Name, "deleted": true})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted connection %q (%s).\n", conn.Name, conn.ID)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

// isTerminal reports whether r is a terminal a person can answer from.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// confirm asks a yes/no question; only "y" or "yes" is yes, and the end of
// input is no.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprintf(out, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read answer: %w", err)
	}
	if errors.Is(err, io.EOF) && line == "" {
		fmt.Fprintln(out)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func newConnTestCmd(o *connOptions) *cobra.Command {
	var (
		d                        *defFlags
		alert, recovery, verbose bool
	)
	cmd := &cobra.Command{
		Use:   "test [ID] [-f FILE] [flags]",
		Short: "Send the sample alert to a connection, stored or not, and show the answer",
		Long: `Send the sample alert to a connection as a real delivery would go, and show
each answer: "Alert: 200 OK in 12 ms" and the response content.

  test ID                 tests the stored connection
  test -f FILE / flags    tests an unsaved connection described like create's
  test ID -f FILE / flags tests the stored connection with those changes, not
                          saving them; secrets not given are the stored ones

--alert sends the alert payload (a Critical trigger), --recovery the recovery
payload (ResolvedCritical). Give either or both; with neither, the alert is
sent. -v also prints each request as sent, with signatures and secrets
redacted.

The exit status is 1 when any test did not get a 2xx answer, so scripts can
check a connection.`,
		Example: `  hookline connections test 886799E527915E64
  hookline connections test 886799E527915E64 --alert --recovery -v
  hookline connections test -f lambda.yaml --recovery
  hookline connections test 886799E527915E64 --url https://abcdefg.lambda-url.us-east-1.on.aws/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			var funcs []string
			if alert || !recovery {
				funcs = append(funcs, client.TestAlert)
			}
			if recovery {
				funcs = append(funcs, client.TestResolution)
			}
			result, err := o.runTest(cmd, c, d, args, funcs)
			if err != nil {
				return err
			}
			if o.output == outputTable {
				err = printTestResult(cmd.OutOrStdout(), result, verbose)
			} else {
				err = printObject(cmd.OutOrStdout(), o.output, result)
			}
			if err != nil {
				return err
			}
			if !result.OK() {
				var failed []string
				for _, run := range testRuns(result) {
					if !run.attempt.OK() {
						failed = append(failed, strings.ToLower(run.label))
					}
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Test failed: the %s test did not get a 2xx answer.\n", strings.Join(failed, " and "))
				return exitError(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&alert, "alert", false, "send the alert payload (the default when --recovery is not given)")
	f.BoolVar(&recovery, "recovery", false, "send the recovery payload")
	f.BoolVarP(&verbose, "verbose", "v", false, "also print each request as sent (redacted)")
	d = newDefFlags(f)
	return cmd
}

// runTest tests what the test command's arguments name: a stored
// connection, it with edits, or an unsaved definition.
func (o *connOptions) runTest(cmd *cobra.Command, c *client.Client, d *defFlags, args, funcs []string) (client.TestResult, error) {
	fs := cmd.Flags()
	edits := fs.Changed("file") || anyChanged(fs)
	in := &stdinOnce{r: cmd.InOrStdin()}
	var (
		result client.TestResult
		err    error
	)
	switch {
	case len(args) == 1 && !edits:
		result, err = c.TestConnection(cmd.Context(), args[0], funcs)
	case len(args) == 1:
		cur, getErr := c.GetConnection(cmd.Context(), args[0])
		if getErr != nil {
			return result, o.explain("get connection", getErr)
		}
		def, defErr := d.editDefinition(fs, in, cur)
		if defErr != nil {
			return result, defErr
		}
		result, err = c.TestDefinition(cmd.Context(), def, cur.ID, funcs)
	case edits:
		def, defErr := d.buildDefinition(fs, in)
		if defErr != nil {
			return result, defErr
		}
		result, err = c.TestDefinition(cmd.Context(), def, "", funcs)
	default:
		return result, errors.New("nothing to test: give a connection ID, or -f FILE and/or flags describing an unsaved connection (see --help)")
	}
	if err != nil {
		return result, o.explain("test connection", err)
	}
	return result, nil
}
