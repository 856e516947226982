package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newSourcesCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "sources",
		Aliases: []string{"source"},
		Short:   "Create, list, show, change and delete HTTP sources, which take log lines",
		Long: `An HTTP source is an endpoint that takes log lines, as Sumo Logic's HTTP
sources do: POST them to its URL, /receiver/v1/http/<token>. The token in the
URL is the source's only credential. It is shown once, when the source is
created or its token rotated; the server keeps only its hash. Each line becomes
a record with the source's category, host name and name as _sourceCategory,
_sourceHost and _sourceName, unless the request's X-Sumo-Category,
X-Sumo-Host or X-Sumo-Name headers say otherwise.

Sources are named by name or ID. All of this needs the Manage Collectors
capability. See docs/ingest.md.

` + apiHelp,
		Example: `  eval "$(hookline sources create --name web --category prod/web)"   # sets HOOKLINE_SOURCE_TOKEN and _URL
  printf 'GET / 200\nGET /login 401\n' | hookline logs send
  hookline sources list
  hookline sources rotate-token web
  hookline sources delete web`,
	}
	o.register(cmd)
	cmd.AddCommand(newSourcesListCmd(o), newSourcesGetCmd(o), newSourcesCreateCmd(o), newSourcesUpdateCmd(o),
		newSourcesDeleteCmd(o), newSourcesRotateCmd(o))
	return cmd
}

// findSource resolves a source argument by ID or name.
func (o *apiOptions) findSource(ctx context.Context, c *client.Client, nameOrID string) (*client.Source, error) {
	sources, err := c.AllSources(ctx)
	if err != nil {
		return nil, o.explain("list sources", err)
	}
	return findByNameOrID(sources, nameOrID, "source", "sources",
		func(s client.Source) (string, string) { return s.ID, s.Name })
}

// findByNameOrID finds a command's NAME|ID argument among items: by ID,
// else by name ignoring case, as the server keeps names unique. noun
// names the kind in the error, and cmd the command that lists them.
func findByNameOrID[T any](items []T, nameOrID, noun, cmd string, idName func(T) (id, name string)) (*T, error) {
	key := strings.TrimSpace(nameOrID)
	for i := range items {
		if id, _ := idName(items[i]); id == key {
			return &items[i], nil
		}
	}
	for i := range items {
		if _, name := idName(items[i]); strings.EqualFold(name, key) {
			return &items[i], nil
		}
	}
	return nil, fmt.Errorf(`%s %q: no %s has this ID or name; see "hookline %s list"`, noun, nameOrID, noun, cmd)
}

func newSourcesListCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every source, by name, with the records each received",
		Example: `  hookline sources list
  hookline sources list -o json | jq -r '.[] | select(.received == 0) | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			sources, err := c.AllSources(cmd.Context())
			if err != nil {
				return o.explain("list sources", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(sources))
			}
			if len(sources) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), `No sources yet; create one with "hookline sources create --name NAME".`)
				return nil
			}
			return printSourceTable(cmd.OutOrStdout(), sources)
		},
	}
}

func printSourceTable(w io.Writer, sources []client.Source) error {
	rows := make([][]string, len(sources))
	for i, s := range sources {
		rows[i] = []string{s.ID, s.Name, s.Category, s.HostName, strconv.FormatInt(s.Received, 10), formatTime(s.LastReceivedAt)}
	}
	return printTable(w, []string{"ID", "NAME", "CATEGORY", "HOST NAME", "RECEIVED", "LAST RECEIVED"}, rows)
}

func printSourceDetails(w io.Writer, s *client.Source) error {
	return printDetails(w, []detail{
		{"ID", s.ID},
		{"Name", s.Name},
		{"Description", orDash(s.Description)},
		{"Category", orDash(s.Category)},
		{"Host name", cmp.Or(s.HostName, "- (the sender's address)")},
		{"Received", fmt.Sprintf("%d records", s.Received)},
		{"Last received", formatTime(s.LastReceivedAt)},
		{"Created", formatTime(s.CreatedAt)},
		{"Modified", formatTime(s.ModifiedAt)},
	})
}

// printSourceToken writes a new token and URL as shell lines that set the
// variables "hookline logs send" reads, with a note on standard error.
func (o *apiOptions) printSourceToken(cmd *cobra.Command, s *client.Source, verb string) error {
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, s)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s source %s (%s). The token is shown this once; keep it secret:\n\n", verb, s.Name, s.ID)
	return printSourceExports(cmd.OutOrStdout(), s)
}

func printSourceExports(w io.Writer, s *client.Source) error {
	_, err := fmt.Fprintf(w, "export HOOKLINE_SOURCE_TOKEN=%s\nexport HOOKLINE_SOURCE_URL=%s\n", s.Token, s.URL)
	return err
}

func newSourcesGetCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME|ID",
		Short: "Show one source (never its token)",
		Example: `  hookline sources get web
  hookline sources get 0192F1C2A1B2C3D4 -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			s, err := o.findSource(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return o.printSource(cmd, s)
		},
	}
}

func (o *apiOptions) printSource(cmd *cobra.Command, s *client.Source) error {
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, s)
	}
	return printSourceDetails(cmd.OutOrStdout(), s)
}

// sourceFlags are the fields create and update take.
type sourceFlags struct {
	name, description, category, hostName string
}

func (f *sourceFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.name, "name", "", "the source's name, unique; also its records' _sourceName")
	fs.StringVar(&f.description, "description", "", "what the source receives")
	fs.StringVar(&f.category, "category", "", "its records' _sourceCategory, such as prod/web")
	fs.StringVar(&f.hostName, "host-name", "", `its records' _sourceHost; "" for the sender's address`)
}

var sourceFlagNames = []string{"name", "description", "category", "host-name"}

// apply sets on in the fields whose flags were given.
func (f *sourceFlags) apply(cmd *cobra.Command, in *client.SourceInput) {
	fs := cmd.Flags()
	for _, x := range []struct {
		flag string
		src  string
		dst  *string
	}{{"name", f.name, &in.Name}, {"description", f.description, &in.Description},
		{"category", f.category, &in.Category}, {"host-name", f.hostName, &in.HostName}} {
		if fs.Changed(x.flag) {
			*x.dst = x.src
		}
	}
}

func newSourcesCreateCmd(o *apiOptions) *cobra.Command {
	f := &sourceFlags{}
	cmd := &cobra.Command{
		Use:   "create --name NAME [--category CATEGORY] [--host-name HOST] [--description TEXT]",
		Short: "Create a source and print its token and URL once",
		Long: `Create an HTTP source. It prints the token and the URL to send lines to as two
export lines for a shell, once: the server keeps only the token's hash, so
store them now (or rotate the token later). -o json prints the API's object,
with "token" and "url".`,
		Example: `  hookline sources create --name web --category prod/web
  eval "$(hookline sources create --name web --category prod/web)"
  hookline sources create --name firewall --category prod/fw --host-name fw-1 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(f.name) == "" {
				return errors.New("--name is required")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var in client.SourceInput
			f.apply(cmd, &in)
			s, err := c.CreateSource(cmd.Context(), in)
			if err != nil {
				return o.explain("create source", err)
			}
			return o.printSourceToken(cmd, s, "Created")
		},
	}
	f.register(cmd)
	return cmd
}

func newSourcesUpdateCmd(o *apiOptions) *cobra.Command {
	f := &sourceFlags{}
	cmd := &cobra.Command{
		Use:   "update NAME|ID [flags]",
		Short: "Change a source: only the fields whose flags are given; the token stays",
		Example: `  hookline sources update web --category prod/nginx
  hookline sources update web --host-name ""`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.ContainsFunc(sourceFlagNames, cmd.Flags().Changed) {
				return errors.New("nothing to change: give --name, --description, --category or --host-name")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			cur, err := o.findSource(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			in := cur.Input()
			f.apply(cmd, &in)
			s, err := c.UpdateSource(cmd.Context(), cur.ID, in)
			if err != nil {
				return o.explain("update source", err)
			}
			return o.printSource(cmd, s)
		},
	}
	f.register(cmd)
	return cmd
}

func newSourcesDeleteCmd(o *apiOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME|ID",
		Short: "Delete a source: its token stops working; its records stay until retention removes them",
		Long: `Delete a source. Its token stops working at once; the records it received stay
until hookline serve's --log-retention removes them. On a terminal it asks
first; --yes skips the question, and is required when standard input is not a
terminal.`,
		Example: `  hookline sources delete web
  hookline sources delete 0192F1C2A1B2C3D4 --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			s, err := o.findSource(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return o.confirmAndDelete(cmd, yes, deletion{
				noun:  "source",
				label: fmt.Sprintf("%s (%s)", s.Name, s.ID),
				shown: map[string]any{"id": s.ID, "name": s.Name, "deleted": true},
				del:   func() error { return c.DeleteSource(cmd.Context(), s.ID) },
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

func newSourcesRotateCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-token NAME|ID",
		Short: "Give a source a new token and print it once; the old one stops working",
		Long: `Give a source a new token, for when the old one leaked or someone who knew it
left. The old token stops working at once: senders get 401 until they are given
the new URL. It prints the new token and URL as two export lines, once.`,
		Example: `  hookline sources rotate-token web
  hookline sources rotate-token web -o json | jq -r .url`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			cur, err := o.findSource(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			s, err := c.RotateSourceToken(cmd.Context(), cur.ID)
			if err != nil {
				return o.explain("rotate source token", err)
			}
			return o.printSourceToken(cmd, s, "Rotated the token of")
		},
	}
}
