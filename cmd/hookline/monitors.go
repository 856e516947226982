package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newMonitorsCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "monitors",
		Aliases: []string{"monitor"},
		Short:   "Create, list, show, change and delete monitors, which alert on log queries",
		Long: `A monitor runs a log query over the last few minutes of ingested logs every
interval and compares the result with its triggers. When a trigger starts to
hold it sends one alert to its connections; when it stops, one recovery. See
docs/monitors.md for the fields and docs/query.md for the query language.

Monitors are written as JSON or YAML files with the API's field names, and
named by name or ID. Reading needs View Monitors; changing, Manage Monitors.

` + apiHelp,
		Example: `  hookline monitors create -f suspicious-ip.yaml
  hookline monitors list
  hookline monitors get "Suspicious IP" -o yaml > m.yaml && $EDITOR m.yaml && \
      hookline monitors update "Suspicious IP" -f m.yaml
  hookline monitors delete "Suspicious IP"`,
	}
	o.register(cmd)
	cmd.AddCommand(newMonitorsListCmd(o), newMonitorsGetCmd(o), newMonitorsCreateCmd(o), newMonitorsUpdateCmd(o),
		newMonitorsDeleteCmd(o))
	return cmd
}

// findMonitor resolves a monitor argument by ID or name.
func (o *apiOptions) findMonitor(ctx context.Context, c *client.Client, nameOrID string) (*client.Monitor, error) {
	monitors, err := c.AllMonitors(ctx)
	if err != nil {
		return nil, o.explain("list monitors", err)
	}
	return findByNameOrID(monitors, nameOrID, "monitor", "monitors",
		func(m client.Monitor) (string, string) { return m.ID, m.Name })
}

func newMonitorsListCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every monitor, by name",
		Example: `  hookline monitors list
  hookline monitors list -o json | jq -r '.[] | select(.muted) | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			monitors, err := c.AllMonitors(cmd.Context())
			if err != nil {
				return o.explain("list monitors", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(monitors))
			}
			if len(monitors) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), `No monitors yet; create one with "hookline monitors create -f FILE".`)
				return nil
			}
			return printMonitorTable(cmd.OutOrStdout(), monitors)
		},
	}
}

func triggersText(ts []client.MonitorTrigger) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		if t.TriggerType == "MissingData" {
			parts[i] = t.TriggerType
			continue
		}
		subject := "results" // the result count, not a column such as _count
		if t.Field != "" {
			subject = t.Field
		}
		parts[i] = fmt.Sprintf("%s: %s %s %g", t.TriggerType, subject, t.ThresholdType, t.Threshold)
	}
	return strings.Join(parts, "; ")
}

func monitorStatus(m client.Monitor) string {
	switch {
	case m.Disabled:
		return "disabled"
	case m.Muted:
		return "muted"
	}
	return "enabled"
}

// activeText counts a monitor's active alerts by trigger type ("2
// Critical, 1 Warning"), "OK" when none, "-" without a state.
func activeText(st *client.MonitorState) string {
	if st == nil {
		return "-"
	}
	if len(st.ActiveAlerts) == 0 {
		return "OK"
	}
	counts := map[string]int{}
	var order []string
	for _, a := range st.ActiveAlerts {
		if counts[a.TriggerType] == 0 {
			order = append(order, a.TriggerType)
		}
		counts[a.TriggerType]++
	}
	parts := make([]string, len(order))
	for i, t := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[t], t)
	}
	return strings.Join(parts, ", ")
}

func printMonitorTable(w io.Writer, monitors []client.Monitor) error {
	rows := make([][]string, len(monitors))
	for i, m := range monitors {
		rows[i] = []string{m.ID, m.Name, m.Interval, m.Window, triggersText(m.Triggers), monitorStatus(m), activeText(m.State)}
	}
	return printTable(w, []string{"ID", "NAME", "INTERVAL", "WINDOW", "TRIGGERS", "STATUS", "ACTIVE"}, rows)
}

func printMonitorDetails(w io.Writer, m *client.Monitor) error {
	notes := make([]string, len(m.Notifications))
	for i, n := range m.Notifications {
		notes[i] = n.ConnectionID + " (" + strings.Join(n.RunForTriggerTypes, ", ") + ")"
	}
	ds := []detail{
		{"ID", m.ID},
		{"Name", m.Name},
		{"Description", orDash(m.Description)},
		{"Query", m.Query},
		{"Interval", m.Interval},
		{"Window", m.Window},
		{"Triggers", triggersText(m.Triggers)},
		{"Notifications", orDash(strings.Join(notes, "; "))},
		{"Group fields", orDash(strings.Join(m.GroupFields, ", "))},
		{"Status", monitorStatus(*m)},
	}
	if st := m.State; st != nil {
		alerts := make([]string, len(st.ActiveAlerts))
		for i, a := range st.ActiveAlerts {
			alerts[i] = a.TriggerType
			if len(a.Group) > 0 {
				b, _ := json.Marshal(a.Group)
				alerts[i] += " " + string(b)
			}
			alerts[i] += " since " + formatTime(a.Since)
		}
		ds = append(ds,
			detail{"Active alerts", orDash(strings.Join(alerts, "; "))},
			detail{"Last window end", formatTime(st.LastWindowEnd)},
			detail{"Next evaluation", formatTime(st.NextEvaluationAt)})
	}
	ds = append(ds, detail{"Created", formatTime(m.CreatedAt)}, detail{"Modified", formatTime(m.ModifiedAt)})
	return printDetails(w, ds)
}

func (o *apiOptions) printMonitor(cmd *cobra.Command, m *client.Monitor) error {
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, m)
	}
	return printMonitorDetails(cmd.OutOrStdout(), m)
}

func newMonitorsGetCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME|ID",
		Short: "Show one monitor with its active alerts and next evaluation",
		Example: `  hookline monitors get "Suspicious IP"
  hookline monitors get 0192F1C2A1B2C3D4 -o yaml > m.yaml   # edit, then: update ID -f m.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			found, err := o.findMonitor(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			m, err := c.Monitor(cmd.Context(), found.ID)
			if err != nil {
				return o.explain("get monitor", err)
			}
			return o.printMonitor(cmd, m)
		},
	}
}

// monitorFile is how -f files hold a monitor.
var monitorFile = definitionFile{
	kind:     "monitor",
	readOnly: []string{"id", "createdAt", "createdBy", "modifiedAt", "modifiedBy", "state"},
	minutes:  []string{"interval", "window"},
	notifications: func(m map[string]json.RawMessage, visit func(map[string]json.RawMessage, string, int)) {
		var ns []map[string]json.RawMessage
		if err := json.Unmarshal(m["notifications"], &ns); err != nil {
			return // not a list: decoding says so
		}
		for i, n := range ns {
			visit(n, fmt.Sprintf("notifications[%d]", i), i)
		}
		m["notifications"], _ = json.Marshal(ns)
	},
	payloads: []string{"payloadOverride", "resolutionPayloadOverride"},
}

func readMonitorFile(in io.Reader, path string) (client.MonitorInput, []connRef, error) {
	return readDefinition[client.MonitorInput](in, path, monitorFile)
}

func parseMonitorFile(b []byte) (client.MonitorInput, []connRef, error) {
	return parseDefinition[client.MonitorInput](b, monitorFile)
}

// readMonitor reads a monitor from -f FILE and gives each notification
// that names its connection by connectionName the connection's ID.
func (o *apiOptions) readMonitor(cmd *cobra.Command, c *client.Client, file string) (client.MonitorInput, error) {
	in, refs, err := readMonitorFile(cmd.InOrStdin(), file)
	if err != nil {
		return in, err
	}
	ids, err := o.resolveConnRefs(cmd.Context(), &connResolver{c: c}, file, refs)
	if err != nil {
		return in, err
	}
	for i, r := range refs {
		in.Notifications[r.index].ConnectionID = ids[i]
	}
	return in, nil
}

const monitorConnHelp = `A notification names its connection by connectionId, or by connectionName
(ignoring case), as the files of "hookline apply" do; not both.`

func newMonitorsCreateCmd(o *apiOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a monitor from a JSON or YAML file",
		Long: `Create a monitor from -f FILE (JSON or YAML with the API's field names, see
docs/monitors.md; - reads standard input). It is evaluated at once, then every
interval. An invalid monitor is refused with every problem named, a query's
syntax error with its line and column.

` + monitorConnHelp,
		Example: `  cat > suspicious-ip.yaml <<'EOF'
  name: Suspicious IP
  query: _sourceCategory=prod/web | parse "* from *" as req, ip | count by ip | where _count > 100
  interval: 1m
  window: 5m
  triggers:
    - {triggerType: Critical, thresholdType: gt, threshold: 0}
  notificationGroupFields: [ip]
  notifications:
    - connectionName: ops lambda        # or connectionId: 886799E527915E64
      runForTriggerTypes: [Critical, ResolvedCritical]
      payloadOverride: {"action": "block", "ip": "{{ResultsJson.ip}}"}
  EOF
  hookline monitors create -f suspicious-ip.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f FILE is required: the monitor as JSON or YAML (see --help)")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			in, err := o.readMonitor(cmd, c, file)
			if err != nil {
				return err
			}
			m, err := c.CreateMonitor(cmd.Context(), in)
			if err != nil {
				return o.explain("create monitor", err)
			}
			return o.printMonitor(cmd, m)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the monitor as JSON or YAML; - for standard input")
	return cmd
}

func newMonitorsUpdateCmd(o *apiOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "update NAME|ID -f FILE",
		Short: "Replace a monitor with a JSON or YAML file; its active alerts carry on",
		Long: `Replace a monitor with -f FILE, a whole monitor as create takes it (get -o yaml
prints one to edit). Its evaluation state stays: alerts that started still
recover once, even when their trigger was removed.

` + monitorConnHelp,
		Example: `  hookline monitors get "Suspicious IP" -o yaml > m.yaml && $EDITOR m.yaml && \
      hookline monitors update "Suspicious IP" -f m.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.New("-f FILE is required: the whole monitor as JSON or YAML (see --help)")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			in, err := o.readMonitor(cmd, c, file)
			if err != nil {
				return err
			}
			cur, err := o.findMonitor(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			m, err := c.UpdateMonitor(cmd.Context(), cur.ID, in)
			if err != nil {
				return o.explain("update monitor", err)
			}
			return o.printMonitor(cmd, m)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the monitor as JSON or YAML; - for standard input")
	return cmd
}

func newMonitorsDeleteCmd(o *apiOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME|ID",
		Short: "Delete a monitor and its evaluation state",
		Long: `Delete a monitor. Its evaluations stop and its active alerts get no recovery.
On a terminal it asks first; --yes skips the question, and is required when
standard input is not a terminal.`,
		Example: `  hookline monitors delete "Suspicious IP"
  hookline monitors delete 0192F1C2A1B2C3D4 --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			m, err := o.findMonitor(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return o.confirmAndDelete(cmd, yes, deletion{
				noun:  "monitor",
				label: fmt.Sprintf("%s (%s)", m.Name, m.ID),
				shown: map[string]any{"id": m.ID, "name": m.Name, "deleted": true},
				del:   func() error { return c.DeleteMonitor(cmd.Context(), m.ID) },
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
