package main

// "hookline apply": create or update connections, monitors and scheduled
// searches from YAML documents, after showing the plan. Everything is
// read and checked before anything changes.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

type applyOptions struct {
	api            apiOptions
	files          []string
	yes, dryRun    bool
	replaceSecrets bool
	prune          bool
}

func newApplyCmd() *cobra.Command {
	a := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply -f PATH [-f PATH...] [--dry-run] [--yes] [--prune]",
		Short: "Create or update connections, monitors and scheduled searches from YAML files",
		Long: `Read connections, monitors and scheduled searches from YAML files (a directory
is read whole: every .yaml and .yml file under it; - reads standard input),
compare them with the server's, print the plan — what is created, what is
updated and which fields change — and, once confirmed, make the changes.

Each document has apiVersion: hookline/v1, kind: Connection, Monitor or
ScheduledSearch, and the object's fields as the API takes them. Objects are
matched by name, ignoring case. Monitors and searches name their connections
with connectionName, which may be a connection created by the same apply.
Secrets are written {fromEnv: NAME} or {fromFile: PATH}; a literal secret
works but is warned about. "hookline export" writes such files. See
docs/apply.md.

Everything is read and checked first: any problem (YAML syntax, an unknown
kind, a missing name, a name given twice, an unset environment variable, a
monitor's or search's invalid field, query or cron expression, an unknown
connection) is listed with its file and line, and nothing is changed.

The API never returns secrets, so a secret is only compared for being set:
one the server lacks is set, and --replace-secrets sends every secret the
files give (to rotate them). When a URL changes host, its secrets are sent
again, as the server requires.

--prune also deletes what the files do not name, of the kinds they hold (files
of monitors alone prune monitors alone): searches, then monitors, then
connections, after every create and update.

On a terminal apply asks before changing anything; --yes skips the question
and is required when standard input is not a terminal. --dry-run prints the
plan only.

` + apiHelp,
		Example: `  hookline export -o hookline-config/          # from one server...
  export HOOKLINE_SECRET_OPS_LAMBDA_SECRETACCESSKEY=...
  hookline apply -f hookline-config/ --dry-run   # ...the plan for another
  hookline apply -f hookline-config/ --yes
  hookline apply -f connections.yaml -f monitors/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd)
		},
	}
	a.api.registerServer(cmd)
	f := cmd.Flags()
	f.StringArrayVarP(&a.files, "file", "f", nil, "a YAML file or a directory of them (repeatable; - for standard input)")
	f.BoolVarP(&a.yes, "yes", "y", false, "apply without asking")
	f.BoolVar(&a.dryRun, "dry-run", false, "print the plan and change nothing")
	f.BoolVar(&a.replaceSecrets, "replace-secrets", false, "send every secret the files give, replacing the stored ones")
	f.BoolVar(&a.prune, "prune", false, "also delete the objects no document names, of the kinds the files hold")
	return cmd
}

func (a *applyOptions) run(cmd *cobra.Command) error {
	if len(a.files) == 0 {
		return errors.New("-f PATH is required: a YAML file or a directory of them (see --help)")
	}
	docs, probs := readDocuments(a.files, &stdinOnce{r: cmd.InOrStdin()})
	probs = append(probs, checkDuplicates(docs)...)
	probs = append(probs, resolveSecrets(docs, os.LookupEnv)...)
	probs = append(probs, preflight(docs)...)
	if len(probs) > 0 {
		return problemsError(probs)
	}
	if len(docs) == 0 {
		return errors.New("the files hold no documents")
	}
	c, err := a.api.client()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := a.api.fetchState(ctx, c, docs)
	if err != nil {
		return err
	}
	warnings, probs := st.check(docs)
	for _, w := range warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "Warning:", w)
	}
	if len(probs) > 0 {
		return problemsError(probs)
	}
	steps := st.plan(docs, a.replaceSecrets, a.prune)
	out := cmd.OutOrStdout()
	changes := printPlan(out, steps)
	switch {
	case changes == 0:
		fmt.Fprintln(out, "Nothing to change.")
		return nil
	case a.dryRun:
		fmt.Fprintln(out, "Dry run: nothing was changed.")
		return nil
	case !a.yes:
		if !isTerminal(cmd.InOrStdin()) {
			return errors.New("not applying without confirmation: standard input is not a terminal, so pass --yes (or --dry-run to see the plan only)")
		}
		ok, err := confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), fmt.Sprintf("Apply %s?", plural(changes, "change")))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(cmd.ErrOrStderr(), "Nothing was changed.")
			return exitError(1)
		}
	}
	return a.execute(ctx, cmd, c, st, steps)
}

// problemsError lists every problem, one a line, and says that nothing
// changed.
func problemsError(probs []problem) error {
	slices.SortStableFunc(probs, func(a, b problem) int {
		return cmp.Or(strings.Compare(a.file, b.file), a.line-b.line)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%s; nothing was changed:", plural(len(probs), "problem"))
	for _, p := range probs {
		b.WriteString("\n  " + p.String())
	}
	return &cliError{msg: b.String()}
}

// readDocuments reads every file and directory given, in order; a
// directory's .yaml and .yml files in lexical order, hidden ones left out.
func readDocuments(paths []string, in *stdinOnce) ([]*document, []problem) {
	var (
		docs  []*document
		probs []problem
	)
	read := func(name, dir string, b []byte) {
		ds, ps := parseDocuments(name, dir, b)
		docs, probs = append(docs, ds...), append(probs, ps...)
	}
	for _, path := range paths {
		if path == "-" {
			b, err := in.readFile("-f", path)
			if err != nil {
				probs = append(probs, problem{file: "standard input", msg: err.Error()})
				continue
			}
			read("standard input", ".", b)
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			probs = append(probs, problem{file: path, msg: "cannot read: " + pathErr(err)})
			continue
		}
		if !info.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				probs = append(probs, problem{file: path, msg: "cannot read: " + pathErr(err)})
				continue
			}
			read(path, filepath.Dir(path), b)
			continue
		}
		found := 0
		err = filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != path && strings.HasPrefix(e.Name(), ".") {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if e.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return nil
			}
			found++
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			read(p, filepath.Dir(p), b)
			return nil
		})
		switch {
		case err != nil:
			probs = append(probs, problem{file: path, msg: "cannot read: " + pathErr(err)})
		case found == 0:
			probs = append(probs, problem{file: path, msg: "the directory holds no .yaml or .yml files"})
		}
	}
	return docs, probs
}

// pathErr is an error without the path the problem already names.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// checkDuplicates finds objects of one kind given twice: names are unique
// ignoring case, as the server keeps them.
func checkDuplicates(docs []*document) []problem {
	var probs []problem
	seen := map[string]*document{}
	for _, d := range docs {
		key := d.kind + "\x00" + strings.ToLower(d.name)
		if first, ok := seen[key]; ok {
			probs = append(probs, d.at("name", "%s is also defined at %s:%d", d.label(), first.file, first.line))
			continue
		}
		seen[key] = d
	}
	return probs
}

// resolveSecrets reads every secret reference; values never appear in
// problems.
func resolveSecrets(docs []*document, lookupEnv func(string) (string, bool)) []problem {
	var probs []problem
	for _, d := range docs {
		if d.conn == nil {
			continue
		}
		for _, field := range sortedKeys(d.conn.secrets) {
			if err := d.conn.secrets[field].resolve(d.dir, lookupEnv); err != nil {
				probs = append(probs, d.at(field, "%v", err))
			}
		}
	}
	return probs
}

// sortedKeys returns a map's keys in order, for output that does not
// change from run to run.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// serverState is what the server holds of the kinds the documents name.
type serverState struct {
	types    map[string]client.ConnectionType // by webhookType
	conns    map[string]client.Connection     // by lower-cased name
	connName map[string]string                // connection ID → name
	monitors map[string]client.Monitor        // by lower-cased name
	searches map[string]client.ScheduledSearch
	// docConns are the connections the documents define, by lower-cased
	// name, so that references to them resolve before they exist.
	docConns map[string]*document
}

func (o *apiOptions) fetchState(ctx context.Context, c *client.Client, docs []*document) (*serverState, error) {
	st := &serverState{types: map[string]client.ConnectionType{}, conns: map[string]client.Connection{},
		connName: map[string]string{}, monitors: map[string]client.Monitor{},
		searches: map[string]client.ScheduledSearch{}, docConns: map[string]*document{}}
	kinds := map[string]bool{}
	for _, d := range docs {
		kinds[d.kind] = true
		if d.kind == kindConnection {
			st.docConns[strings.ToLower(d.name)] = d
		}
	}
	conns, err := c.AllConnections(ctx)
	if err != nil {
		return nil, o.explain("list connections", err)
	}
	for _, cn := range conns {
		st.conns[strings.ToLower(cn.Name)] = cn
		st.connName[cn.ID] = cn.Name
	}
	if kinds[kindConnection] {
		types, err := c.ConnectionTypes(ctx)
		if err != nil {
			return nil, o.explain("list connection types", err)
		}
		for _, t := range types {
			st.types[t.WebhookType] = t
		}
	}
	if kinds[kindMonitor] {
		ms, err := c.AllMonitors(ctx)
		if err != nil {
			return nil, o.explain("list monitors", err)
		}
		for _, m := range ms {
			st.monitors[strings.ToLower(m.Name)] = m
		}
	}
	if kinds[kindSearch] {
		ss, err := c.AllScheduledSearches(ctx)
		if err != nil {
			return nil, o.explain("list scheduled searches", err)
		}
		for _, s := range ss {
			st.searches[strings.ToLower(s.Name)] = s
		}
	}
	return st, nil
}

// webhookType is a definition's type; "" is the API's default.
func webhookType(t string) string { return cmp.Or(strings.TrimSpace(t), "Webhook") }

// check does what needs the server: a connection's type must exist, its
// literal secrets are found (and warned about), and every connection a
// monitor or search names must exist or be defined in the files.
func (st *serverState) check(docs []*document) (warnings []string, probs []problem) {
	for _, d := range docs {
		switch {
		case d.conn != nil:
			t, ok := st.types[webhookType(d.conn.def.WebhookType)]
			if !ok {
				known := sortedKeys(st.types)
				probs = append(probs, d.at("webhookType", "the server knows no connection type %q, only %s", webhookType(d.conn.def.WebhookType), strings.Join(known, ", ")))
				continue
			}
			for _, f := range t.Fields {
				ref, isRef := d.conn.secrets[f.Name]
				switch {
				case isRef && !f.Secret:
					// A setting read from the environment is a setting.
					d.conn.def.Set(f.Name, ref.value)
					d.conn.settings[f.Name] = true
					delete(d.conn.secrets, f.Name)
				case !isRef && f.Secret:
					v, given := d.conn.def.Extra[f.Name]
					s, isString := v.(string)
					if !given || !isString {
						continue
					}
					delete(d.conn.def.Extra, f.Name)
					delete(d.conn.settings, f.Name)
					d.conn.secrets[f.Name] = &secretRef{literal: true, value: s}
					if s != "" {
						p := d.at(f.Name, "the secret is written in the file; prefer {fromEnv: NAME} or {fromFile: PATH}")
						warnings = append(warnings, p.String())
					}
				}
			}
			probs = append(probs, checkConnectionFields(d, t)...)
		case d.monitor != nil:
			for i, name := range d.monitor.connNames {
				if name != "" && !st.connExists(name) {
					probs = append(probs, d.at(fmt.Sprintf("notifications[%d].connectionName", i), "no connection is named %q on the server or in the files", name))
				}
			}
		case d.search != nil:
			if name := d.search.connName; name != "" && !st.connExists(name) {
				probs = append(probs, d.at("notification.connectionName", "no connection is named %q on the server or in the files", name))
			}
		}
	}
	return warnings, probs
}

func (st *serverState) connExists(name string) bool {
	key := strings.ToLower(name)
	_, onServer := st.conns[key]
	_, inFiles := st.docConns[key]
	return onServer || inFiles
}

// canonicalConn is how a plan names a connection a monitor or search
// refers to: by its name as stored or as the files write it, else by ID.
func (st *serverState) canonicalConn(name, id string) string {
	if name != "" {
		if d, ok := st.docConns[strings.ToLower(name)]; ok {
			return d.name
		}
		if cn, ok := st.conns[strings.ToLower(name)]; ok {
			return cn.Name
		}
		return name
	}
	if n, ok := st.connName[id]; ok {
		return st.canonicalConn(n, "")
	}
	return "id:" + id
}

// connIDs resolves connection names as the changes go: the server's, and
// those apply creates.
type connIDs map[string]string

func (ids connIDs) resolve(name, id string) (string, error) {
	if name == "" {
		return id, nil
	}
	if got, ok := ids[strings.ToLower(name)]; ok {
		return got, nil
	}
	return "", fmt.Errorf("connection %q was not created", name)
}

// execute makes the plan's changes in order, reporting each; when one
// fails it says what was applied and what was not.
func (a *applyOptions) execute(ctx context.Context, cmd *cobra.Command, c *client.Client, st *serverState, steps []*step) error {
	out := cmd.OutOrStdout()
	ids := connIDs{}
	for key, cn := range st.conns {
		ids[key] = cn.ID
	}
	var done []string
	for i, s := range steps {
		if s.action == actUnchanged {
			continue
		}
		id, warnings, err := s.run(ctx, c, ids)
		if err != nil {
			var b strings.Builder
			fmt.Fprintf(&b, "apply stopped: could not %s %s (%s):", s.action, s.label(), s.where())
			for _, p := range a.failure(s, err) {
				b.WriteString("\n  " + p)
			}
			if len(done) > 0 {
				b.WriteString("\nApplied:\n  " + strings.Join(done, "\n  "))
			} else {
				b.WriteString("\nNothing was applied.")
			}
			var left []string
			for _, r := range steps[i:] {
				if r.action != actUnchanged {
					left = append(left, fmt.Sprintf("%s %s", r.action, r.label()))
				}
			}
			b.WriteString("\nNot applied:\n  " + strings.Join(left, "\n  "))
			return &cliError{msg: b.String(), err: err}
		}
		line := fmt.Sprintf("%s %s", pastTense(s.action), s.label())
		if id != "" {
			line += " (" + id + ")"
		}
		done = append(done, line)
		fmt.Fprintln(out, line)
		for _, w := range warnings {
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s: %s\n", s.label(), w)
		}
	}
	fmt.Fprintf(out, "Applied %s.\n", plural(len(done), "change"))
	return nil
}

// failure turns a failed change into lines: the server's field problems
// placed at their file and line, or the error explained.
func (a *applyOptions) failure(s *step, err error) []string {
	d := s.doc
	var ae *client.APIError
	if d != nil && errors.As(err, &ae) && len(ae.FieldErrors()) > 0 {
		var lines []string
		for _, f := range ae.FieldErrors() {
			lines = append(lines, d.at(f.Field, "%s", f.Message).String())
		}
		return lines
	}
	return []string{a.api.explain(s.label(), err).Error()}
}

func pastTense(a action) string {
	switch a {
	case actCreate:
		return "created"
	case actDelete:
		return "deleted"
	}
	return "updated"
}
