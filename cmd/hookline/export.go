package main

// "hookline export": every connection, monitor and scheduled search as
// the YAML documents "hookline apply" reads, secrets as references to
// environment variables, connections named by name, in a stable order so
// that exports diff well.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/client"
)

// The kinds export writes, as --kind names them; each is also the
// directory its files go in.
const (
	exportConnections = "connections"
	exportMonitors    = "monitors"
	exportSearches    = "searches"
)

var exportKinds = []string{exportConnections, exportMonitors, exportSearches}

func newExportCmd() *cobra.Command {
	var (
		o     apiOptions
		dest  string
		kinds []string
	)
	cmd := &cobra.Command{
		Use:   "export [-o DIR | -] [--kind connections,monitors,searches]",
		Short: "Write connections, monitors and scheduled searches as YAML for hookline apply",
		Long: `Write every connection, monitor and scheduled search as YAML documents that
"hookline apply" reads back, on this server or another: to standard output as
one stream (-o -, the default), or to a directory, one file an object:
DIR/connections/NAME.yaml, DIR/monitors/NAME.yaml, DIR/searches/NAME.yaml.

Secrets are never exported (the API does not return them): each secret a
connection holds is written as a reference to an environment variable,
  secretAccessKey: {fromEnv: HOOKLINE_SECRET_OPS_LAMBDA_SECRETACCESSKEY}
whose names are listed on standard error; set them (or change the reference
to {fromFile: PATH}) before applying. Monitors and searches name their
connections by name, not ID, so exports move between installations. Fields
and files come in a fixed order, so that two exports diff well.

Files of objects the server no longer has are not deleted; export names them.

` + apiHelp,
		Example: `  hookline export > hookline.yaml
  hookline export -o hookline-config/ && git -C hookline-config diff
  hookline export --kind monitors,searches -o -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			want := map[string]bool{}
			for _, k := range kinds {
				k = strings.ToLower(strings.TrimSpace(k))
				if !slices.Contains(exportKinds, k) {
					return fmt.Errorf("--kind %q: want connections, monitors or searches", k)
				}
				want[k] = true
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			conns, err := c.AllConnections(ctx)
			if err != nil {
				return o.explain("list connections", err)
			}
			var (
				monitors []client.Monitor
				searches []client.ScheduledSearch
			)
			if want[exportMonitors] {
				if monitors, err = c.AllMonitors(ctx); err != nil {
					return o.explain("list monitors", err)
				}
			}
			if want[exportSearches] {
				if searches, err = c.AllScheduledSearches(ctx); err != nil {
					return o.explain("list scheduled searches", err)
				}
			}
			names := connNames(conns)
			if !want[exportConnections] {
				conns = nil
			}
			x := &exporter{names: names, kinds: want}
			return x.write(cmd, dest, conns, monitors, searches)
		},
	}
	o.registerServer(cmd)
	f := cmd.Flags()
	f.StringVarP(&dest, "output", "o", "-", "directory to write one file an object into, or - for one stream on standard output")
	f.StringSliceVar(&kinds, "kind", exportKinds, "what to export: connections, monitors, searches (comma-separated)")
	return cmd
}

func connNames(conns []client.Connection) map[string]string {
	out := make(map[string]string, len(conns))
	for _, c := range conns {
		out[c.ID] = c.Name
	}
	return out
}

// exporter turns objects into documents.
type exporter struct {
	names   map[string]string // connection ID → name
	kinds   map[string]bool   // the kinds exported, by directory name
	envUsed map[string]bool
	envVars []string // the variables the secrets reference, in order
	unnamed []string // references to connections that no longer exist
}

// exported is one object's document and the file it goes in.
type exported struct {
	path string // relative: connections/ops-lambda.yaml
	text string
}

func (x *exporter) write(cmd *cobra.Command, dest string, conns []client.Connection, monitors []client.Monitor, searches []client.ScheduledSearch) error {
	docs, err := x.documents(conns, monitors, searches)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	for _, u := range x.unnamed {
		fmt.Fprintln(stderr, "Warning:", u)
	}
	if dest == "-" {
		out := cmd.OutOrStdout()
		for i, d := range docs {
			if i > 0 {
				fmt.Fprintln(out, "---")
			}
			fmt.Fprint(out, d.text)
		}
	} else if err := writeExport(dest, docs, x.kinds, stderr); err != nil {
		return err
	}
	summary := fmt.Sprintf("Exported %s, %s and %s", plural(len(conns), "connection"), plural(len(monitors), "monitor"), plural(len(searches), "scheduled search"))
	if dest != "-" {
		summary += " to " + dest
	}
	fmt.Fprintln(stderr, summary+".")
	if len(x.envVars) > 0 {
		fmt.Fprintf(stderr, "Secrets are not exported; before \"hookline apply\", set:\n  %s\n", strings.Join(x.envVars, "\n  "))
	}
	return nil
}

// writeExport writes each document to its file under dir, and names the
// files of the kinds exported that hold objects the server no longer has.
func writeExport(dir string, docs []exported, kinds map[string]bool, stderr io.Writer) error {
	written := map[string]bool{}
	for _, d := range docs {
		path := filepath.Join(dir, filepath.FromSlash(d.path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.WriteFile(path, []byte(d.text), 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		written[path] = true
	}
	var stale []string
	for _, kind := range exportKinds {
		if !kinds[kind] {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, kind))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, kind, e.Name())
			if !e.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) && !written[p] {
				stale = append(stale, p)
			}
		}
	}
	if len(stale) > 0 {
		fmt.Fprintf(stderr, "Not on the server (apply would create them again; delete them if they are gone for good):\n  %s\n", strings.Join(stale, "\n  "))
	}
	return nil
}

// documents renders every object, connections first, each kind by name.
func (x *exporter) documents(conns []client.Connection, monitors []client.Monitor, searches []client.ScheduledSearch) ([]exported, error) {
	byName := func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }
	slices.SortFunc(conns, func(a, b client.Connection) int { return byName(a.Name, b.Name) })
	slices.SortFunc(monitors, func(a, b client.Monitor) int { return byName(a.Name, b.Name) })
	slices.SortFunc(searches, func(a, b client.ScheduledSearch) int { return byName(a.Name, b.Name) })
	x.envUsed = map[string]bool{}
	var out []exported
	files := map[string]bool{}
	add := func(dir, name, text string) {
		base := fileSlug(name, strings.TrimSuffix(dir, "s"))
		path := dir + "/" + base + ".yaml"
		for i := 2; files[path]; i++ {
			path = fmt.Sprintf("%s/%s-%d.yaml", dir, base, i)
		}
		files[path] = true
		out = append(out, exported{path: path, text: text})
	}
	for _, c := range conns {
		text, err := x.connection(c)
		if err != nil {
			return nil, err
		}
		add(exportConnections, c.Name, text)
	}
	for _, m := range monitors {
		text, err := x.monitor(m)
		if err != nil {
			return nil, err
		}
		add(exportMonitors, m.Name, text)
	}
	for _, s := range searches {
		text, err := x.search(s)
		if err != nil {
			return nil, err
		}
		add(exportSearches, s.Name, text)
	}
	return out, nil
}

// field is one top-level field of a document, in the order written.
type field struct {
	key     string
	value   any
	comment string
}

// render writes fields in order, each as YAML; nested mappings are in
// key order.
func render(fields []field) (string, error) {
	var b strings.Builder
	for _, f := range fields {
		for l := range strings.Lines(f.comment) {
			b.WriteString("# " + strings.TrimRight(l, "\n") + "\n")
		}
		y, err := yaml.Marshal(map[string]any{f.key: f.value})
		if err != nil {
			return "", fmt.Errorf("export %s: %w", f.key, err)
		}
		b.Write(y)
	}
	return b.String(), nil
}

func header(kind, name string) []field {
	return []field{{key: "apiVersion", value: apiVersion}, {key: "kind", value: kind}, {key: "name", value: name}}
}

func (x *exporter) connection(c client.Connection) (string, error) {
	fields := append(header(kindConnection, c.Name),
		field{key: "description", value: c.Description},
		field{key: "webhookType", value: webhookType(c.WebhookType)},
		field{key: "url", value: c.URL},
		field{key: "customHeaders", value: nonNilSlice(c.CustomHeaders)},
		field{key: "defaultPayload", value: c.DefaultPayload},
		field{key: "resolutionPayload", value: c.ResolutionPayload},
	)
	def := c.Definition()
	for _, k := range sortedKeys(def.Extra) {
		fields = append(fields, field{key: k, value: def.Extra[k]})
	}
	secrets := c.Secrets()
	for _, k := range sortedKeys(secrets) {
		if !secrets[k] {
			continue
		}
		env := x.envName(c.Name, k)
		fields = append(fields, field{key: k, value: map[string]string{"fromEnv": env},
			comment: "Secret: the API never returns it. Set " + env + "\nbefore \"hookline apply\", or write {fromFile: PATH}."})
	}
	return render(fields)
}

// envName is the variable a secret is read from:
// HOOKLINE_SECRET_<CONNECTION>_<FIELD>, unique within the export.
func (x *exporter) envName(conn, secret string) string {
	base := "HOOKLINE_SECRET_" + envPart(conn, "CONNECTION") + "_" + envPart(secret, "SECRET")
	name := base
	for i := 2; x.envUsed[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	x.envUsed[name] = true
	x.envVars = append(x.envVars, name)
	return name
}

// envPart is s upper-cased with every run of other characters than ASCII
// letters and digits made one underscore.
func envPart(s, empty string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToUpper(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
			continue
		}
		gap = true
	}
	if b.Len() == 0 {
		return empty
	}
	return b.String()
}

// fileSlug is a file name for an object's name: lower case, every run of
// characters other than letters and digits one hyphen.
func fileSlug(s, empty string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			gap = false
			continue
		}
		gap = true
	}
	if b.Len() == 0 {
		return empty
	}
	return b.String()
}

// connRef names a connection by name for a monitor's or search's
// notification, or by ID when no connection has it any more.
func (x *exporter) connRef(owner, id string) (name, fallbackID string) {
	if n, ok := x.names[id]; ok {
		return n, ""
	}
	x.unnamed = append(x.unnamed, fmt.Sprintf("%s names connection %s, which does not exist; it is exported by ID", owner, id))
	return "", id
}

type exportedMonitorNotification struct {
	ConnectionName            string   `json:"connectionName,omitempty"`
	ConnectionID              string   `json:"connectionId,omitempty"`
	RunForTriggerTypes        []string `json:"runForTriggerTypes"`
	PayloadOverride           string   `json:"payloadOverride,omitempty"`
	ResolutionPayloadOverride string   `json:"resolutionPayloadOverride,omitempty"`
}

func (x *exporter) monitor(m client.Monitor) (string, error) {
	notes := make([]exportedMonitorNotification, len(m.Notifications))
	for i, n := range m.Notifications {
		name, id := x.connRef(fmt.Sprintf("monitor %q", m.Name), n.ConnectionID)
		notes[i] = exportedMonitorNotification{name, id, nonNilSlice(n.RunForTriggerTypes), n.PayloadOverride, n.ResolutionPayloadOverride}
	}
	fields := append(header(kindMonitor, m.Name),
		field{key: "description", value: m.Description},
		field{key: "query", value: m.Query},
		field{key: "interval", value: m.Interval},
		field{key: "window", value: m.Window},
		field{key: "triggers", value: nonNilSlice(m.Triggers)},
		field{key: "notifications", value: notes},
		field{key: "notificationGroupFields", value: nonNilSlice(m.GroupFields)},
		field{key: "muted", value: m.Muted},
		field{key: "isDisabled", value: m.Disabled},
	)
	return render(fields)
}

type exportedSearchNotification struct {
	ConnectionName    string `json:"connectionName,omitempty"`
	ConnectionID      string `json:"connectionId,omitempty"`
	Payload           string `json:"payload,omitempty"`
	ItemizeAlerts     bool   `json:"itemizeAlerts"`
	MaxItemizedAlerts int    `json:"maxItemizedAlerts,omitempty"`
}

func (x *exporter) search(s client.ScheduledSearch) (string, error) {
	n := s.Notification
	name, id := x.connRef(fmt.Sprintf("scheduled search %q", s.Name), n.ConnectionID)
	fields := append(header(kindSearch, s.Name),
		field{key: "description", value: s.Description},
		field{key: "query", value: s.Query},
		field{key: "scheduleType", value: s.ScheduleType},
	)
	// A fixed schedule's expression is the server's to fill in; written
	// out, it would stay behind when scheduleType is edited.
	if s.ScheduleType == client.ScheduleCustom {
		fields = append(fields, field{key: "cronExpression", value: s.CronExpression})
	}
	fields = append(fields,
		field{key: "timeZone", value: s.TimeZone},
		field{key: "timeRange", value: s.TimeRange},
	)
	if s.Threshold != nil {
		fields = append(fields, field{key: "threshold", value: s.Threshold})
	} else {
		fields = append(fields, field{key: "threshold", value: nil, comment: "No threshold: every run notifies."})
	}
	fields = append(fields,
		field{key: "notification", value: exportedSearchNotification{name, id, n.Payload, n.ItemizeAlerts, n.MaxItemizedAlerts}},
		field{key: "isDisabled", value: s.Disabled},
	)
	return render(fields)
}
