package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/hookline/hookline/client"
)

// defaultServer is where the CLI looks for the API when neither --server
// nor HOOKLINE_SERVER says: hookline serve's default address.
const defaultServer = "http://127.0.0.1:8080"

// apiOptions are the flags every command that calls the API shares
// (connections, alerts, deliveries, keys, users, roles, audit, whoami).
type apiOptions struct {
	server    string
	accessID  string
	accessKey string
	token     string
	output    string
	// via is what client signs with (viaAccessKey, viaToken, viaPassword),
	// so that a 401 names what to check.
	via string
}

// apiHelp is the part of a command's help that explains apiOptions.
const apiHelp = `The server is --server, else HOOKLINE_SERVER, else ` + defaultServer + `.
Calls are signed with an access key: --access-id and --access-key, else
HOOKLINE_ACCESS_ID and HOOKLINE_ACCESS_KEY (or HOOKLINE_ACCESS_KEY_FILE, a file
holding the key). "hookline keys create --email YOU --label cli" makes one. Or
with the server's admin token (HOOKLINE_ADMIN_TOKEN): --token, else
HOOKLINE_TOKEN, else the file named by HOOKLINE_TOKEN_FILE. Flags win over the
environment, and an access key over the token.`

// register adds the shared flags to cmd and its subcommands.
func (o *apiOptions) register(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	o.serverFlags(pf)
	pf.StringVarP(&o.output, "output", "o", outputTable, "output format: table, json or yaml")
}

// registerServer adds the server and credential flags without -o, which
// export uses for its directory; output is always a table.
func (o *apiOptions) registerServer(cmd *cobra.Command) {
	o.serverFlags(cmd.Flags())
	o.output = outputTable
}

// serverFlags are the flags that say which server to call and as whom.
func (o *apiOptions) serverFlags(f *pflag.FlagSet) {
	f.StringVar(&o.server, "server", "", "URL of the Hookline server (env HOOKLINE_SERVER; default "+defaultServer+")")
	f.StringVar(&o.accessID, "access-id", "", "access ID of your access key (env HOOKLINE_ACCESS_ID)")
	f.StringVar(&o.accessKey, "access-key", "", "your access key (env HOOKLINE_ACCESS_KEY or HOOKLINE_ACCESS_KEY_FILE, which keep it out of shell history)")
	f.StringVar(&o.token, "token", "", "admin token, instead of an access key (env HOOKLINE_TOKEN or HOOKLINE_TOKEN_FILE)")
}

func newConnectionsCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "connections",
		Aliases: []string{"connection", "conn"},
		Short:   "Create, list, show, change, delete and test connections on a Hookline server",
		Long: `Manage the connections of a running Hookline server through its API.

` + apiHelp + `

Output is a table or a details view for people; -o json and -o yaml print the
API's objects in full for scripts.`,
		Example: `  export HOOKLINE_ACCESS_ID=hk... HOOKLINE_ACCESS_KEY=...   # from hookline keys create
  hookline connections list
  hookline connections create -f lambda.yaml
  hookline connections get 886799E527915E64
  hookline connections test 886799E527915E64 --alert --recovery
  hookline connections list -o json | jq -r '.[].name'`,
	}
	o.register(cmd)
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

// client checks the shared flags and returns a client of the server that
// signs with the credentials they, or the environment, give.
func (o *apiOptions) client() (*client.Client, error) {
	if err := o.prepare(); err != nil {
		return nil, err
	}
	id, key, token, err := o.credentials()
	if err != nil {
		return nil, err
	}
	opts := []client.Option{client.WithUserAgent("hookline-cli/" + version)}
	o.via = viaToken
	if id != "" {
		o.via = viaAccessKey
		opts = append(opts, client.WithAccessKey(id, key))
	}
	return client.New(o.server, token, opts...), nil
}

// prepare checks -o and settles the server's URL.
func (o *apiOptions) prepare() error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	if o.server == "" {
		o.server = cmp.Or(os.Getenv("HOOKLINE_SERVER"), defaultServer)
	}
	return nil
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
// refused the credentials or could not be reached.
func (o *apiOptions) explain(op string, err error) error {
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
			return &cliError{fmt.Sprintf("%s: %s\n  %s", op, ae, o.unauthorizedHint()), err}
		}
		return &cliError{fmt.Sprintf("%s: %s", op, ae), err}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &cliError{fmt.Sprintf("%v\n  Is \"hookline serve\" running at %s? Set --server or HOOKLINE_SERVER.", err, o.server), err}
	}
	return err
}

func newConnCreateCmd(o *apiOptions) *cobra.Command {
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
func (o *apiOptions) printStored(cmd *cobra.Command, conn client.Connection) error {
	var err error
	if o.output == outputTable {
		err = printConnectionTable(cmd.OutOrStdout(), createdColumns, []client.Connection{conn})
	} else {
		err = printObject(cmd.OutOrStdout(), o.output, conn)
	}
	printWarnings(cmd.ErrOrStderr(), conn.Warnings)
	return err
}

func newConnListCmd(o *apiOptions) *cobra.Command {
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

func newConnGetCmd(o *apiOptions) *cobra.Command {
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

func newConnUpdateCmd(o *apiOptions) *cobra.Command {
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

func newConnDeleteCmd(o *apiOptions) *cobra.Command {
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
// A character device is not enough: /dev/null is one, and cron, systemd
// and CI give it as standard input.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
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

func newConnTestCmd(o *apiOptions) *cobra.Command {
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
func (o *apiOptions) runTest(cmd *cobra.Command, c *client.Client, d *defFlags, args, funcs []string) (client.TestResult, error) {
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
