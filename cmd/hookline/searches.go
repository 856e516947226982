package main

// "hookline searches": scheduled searches, log queries run on a cron
// schedule that notify a connection when their results meet a condition.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newSearchesCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "searches",
		Aliases: []string{"scheduled-searches"},
		Short:   "Create, list, show, change and delete scheduled searches",
		Long: `A scheduled search runs a log query on a schedule (every 15 minutes, hourly,
daily, weekly or a cron expression, in a time zone) over the time range that
ends when it runs, and sends an alert to one connection when the number of
results meets its condition, or every time. See docs/scheduled-searches.md
for the fields and docs/query.md for the query language. "hookline search"
runs a query once, by hand.

Scheduled searches are written as JSON or YAML files with the API's field
names, and named by name or ID. Reading needs View Monitors; changing,
Manage Monitors.

` + apiHelp,
		Example: `  hookline searches create -f top-talkers.yaml
  hookline searches list
  hookline searches get "Top talkers" -o yaml > s.yaml && $EDITOR s.yaml && \
      hookline searches update "Top talkers" -f s.yaml
  hookline searches delete "Top talkers"`,
	}
	o.register(cmd)
	cmd.AddCommand(newSearchesListCmd(o), newSearchesGetCmd(o), newSearchesCreateCmd(o), newSearchesUpdateCmd(o),
		newSearchesDeleteCmd(o))
	return cmd
}

// findSearch resolves a scheduled search argument by ID or name.
func (o *apiOptions) findSearch(ctx context.Context, c *client.Client, nameOrID string) (*client.ScheduledSearch, error) {
	searches, err := c.AllScheduledSearches(ctx)
	if err != nil {
		return nil, o.explain("list scheduled searches", err)
	}
	return findByNameOrID(searches, nameOrID, "scheduled search", "searches",
		func(s client.ScheduledSearch) (string, string) { return s.ID, s.Name })
}

func newSearchesListCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every scheduled search, by name, with its next and last run",
		Example: `  hookline searches list
  hookline searches list -o json | jq -r '.[] | select(.state.lastRun.error != "") | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			searches, err := c.AllScheduledSearches(cmd.Context())
			if err != nil {
				return o.explain("list scheduled searches", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(searches))
			}
			if len(searches) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), `No scheduled searches yet; create one with "hookline searches create -f FILE".`)
				return nil
			}
			return printSearchTable(cmd.OutOrStdout(), searches)
		},
	}
}

// scheduleText is a search's schedule in a table: its type, or a custom
// expression, with the time zone when it is not UTC.
func scheduleText(s client.ScheduledSearch) string {
	text := s.ScheduleType
	if s.ScheduleType == client.ScheduleCustom {
		text = s.CronExpression
	}
	if s.TimeZone != "" && s.TimeZone != "UTC" {
		text += " " + s.TimeZone
	}
	return text
}

// conditionText is a search's threshold: "results gt 10", or "every run".
func conditionText(t *client.SearchThreshold) string {
	if t == nil {
		return "every run"
	}
	return fmt.Sprintf("results %s %d", t.Operator, t.Count)
}

func searchStatus(s client.ScheduledSearch) string {
	if s.Disabled {
		return "disabled"
	}
	return "enabled"
}

// lastRunText sums up a search's last run: "3 results, 1 alert", or why it
// failed.
func lastRunText(run *client.SearchRun) string {
	switch {
	case run == nil:
		return "-"
	case run.Error != "":
		return "failed: " + run.Error
	}
	return plural(run.Results, "result") + ", " + plural(run.Alerts, "alert")
}

func printSearchTable(w io.Writer, searches []client.ScheduledSearch) error {
	rows := make([][]string, len(searches))
	for i, s := range searches {
		next, last := "-", "-"
		if st := s.State; st != nil {
			next = formatTime(st.NextRunAt)
			last = lastRunText(st.LastRun)
		}
		rows[i] = []string{s.ID, s.Name, scheduleText(s), s.TimeRange, conditionText(s.Threshold), next, last, searchStatus(s)}
	}
	return printTable(w, []string{"ID", "NAME", "SCHEDULE", "RANGE", "CONDITION", "NEXT RUN", "LAST RUN", "STATUS"}, rows)
}

func printSearchDetails(w io.Writer, s *client.ScheduledSearch, names map[string]string) error {
	n := s.Notification
	itemize := "no: one alert per run"
	if n.ItemizeAlerts {
		itemize = fmt.Sprintf("yes: one alert per result, at most %d", n.MaxItemizedAlerts)
	}
	conn := n.ConnectionID
	if name, ok := names[n.ConnectionID]; ok {
		conn = name + " (" + n.ConnectionID + ")"
	}
	ds := []detail{
		{"ID", s.ID},
		{"Name", s.Name},
		{"Description", orDash(s.Description)},
		{"Query", s.Query},
		{"Schedule", s.ScheduleType},
		{"Cron expression", s.CronExpression},
		{"Time zone", orDash(s.TimeZone)},
		{"Time range", s.TimeRange},
		{"Condition", conditionText(s.Threshold)},
		{"Connection", conn},
		{"Payload", orDash(n.Payload)},
		{"Itemized", itemize},
		{"Status", searchStatus(*s)},
	}
	if st := s.State; st != nil {
		ds = append(ds, detail{"Next run", formatTime(st.NextRunAt)})
		if run := st.LastRun; run != nil {
			ds = append(ds, detail{"Last run", formatTime(run.ScheduledAt) + ": " + lastRunText(run)})
		} else {
			ds = append(ds, detail{"Last run", "-"})
		}
	}
	ds = append(ds, detail{"Created", formatTime(s.CreatedAt)}, detail{"Modified", formatTime(s.ModifiedAt)})
	return printDetails(w, ds)
}

// printSearch shows a search; conns names its connection in the table,
// listing the connections unless an earlier lookup did.
func (o *apiOptions) printSearch(cmd *cobra.Command, conns *connResolver, s *client.ScheduledSearch) error {
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, s)
	}
	return printSearchDetails(cmd.OutOrStdout(), s, conns.names(cmd.Context()))
}

func newSearchesGetCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME|ID",
		Short: "Show one scheduled search with its next and last run",
		Example: `  hookline searches get "Top talkers"
  hookline searches get 0192F1C2A1B2C3D4 -o yaml > s.yaml   # edit, then: update ID -f s.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			found, err := o.findSearch(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			s, err := c.ScheduledSearch(cmd.Context(), found.ID)
			if err != nil {
				return o.explain("get scheduled search", err)
			}
			return o.printSearch(cmd, &connResolver{c: c}, s)
		},
	}
}

// searchFile is how -f files hold a scheduled search.
var searchFile = definitionFile{
	kind:     "scheduled search",
	readOnly: []string{"id", "createdAt", "createdBy", "modifiedAt", "modifiedBy", "state"},
	minutes:  []string{"timeRange"},
	notifications: func(m map[string]json.RawMessage, visit func(map[string]json.RawMessage, string, int)) {
		var n map[string]json.RawMessage
		if err := json.Unmarshal(m["notification"], &n); err != nil || n == nil {
			return // not an object: decoding says so
		}
		visit(n, "notification", 0)
		m["notification"], _ = json.Marshal(n)
	},
	payloads: []string{"payload"},
}

func readSearchFile(in io.Reader, path string) (client.ScheduledSearchInput, []connRef, error) {
	return readDefinition[client.ScheduledSearchInput](in, path, searchFile)
}

func parseSearchFile(b []byte) (client.ScheduledSearchInput, []connRef, error) {
	return parseDefinition[client.ScheduledSearchInput](b, searchFile)
}

// readSearch reads a scheduled search from -f FILE and gives its
// notification the ID of the connection its connectionName names.
func (o *apiOptions) readSearch(cmd *cobra.Command, conns *connResolver, file string) (client.ScheduledSearchInput, error) {
	in, refs, err := readSearchFile(cmd.InOrStdin(), file)
	if err != nil {
		return in, err
	}
	ids, err := o.resolveConnRefs(cmd.Context(), conns, file, refs)
	if err != nil {
		return in, err
	}
	if len(ids) == 1 {
		in.Notification.ConnectionID = ids[0]
	}
	return in, nil
}

const searchFileHelp = `-f FILE is JSON or YAML with the API's field names (see
docs/scheduled-searches.md; - reads standard input). An invalid search is
refused with every problem named: a query's syntax error with its line and
column, a cron expression, a time zone, the connection.

The notification names its connection by connectionId, or by connectionName
(ignoring case), as the files of "hookline apply" do; not both.`

func newSearchesCreateCmd(o *apiOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a scheduled search from a JSON or YAML file",
		Long: `Create a scheduled search from -f FILE. It first runs at its schedule's next
time, over the time range that ends there.

` + searchFileHelp,
		Example: `  cat > top-talkers.yaml <<'EOF'
  name: Top talkers
  query: _sourceCategory=prod/web | parse "from *" as ip | count by ip | where _count > 1000
  scheduleType: 1Hour
  timeRange: 1h
  threshold: {operator: gt, count: 0}
  notification:
    connectionName: ops lambda          # or connectionId: 886799E527915E64
    itemizeAlerts: true
    maxItemizedAlerts: 10
    payload: {"action": "block", "ip": "{{ResultsJson.ip}}"}
  EOF
  hookline searches create -f top-talkers.yaml

  # Weekdays at 06:30 in Chicago, over the last day, notifying every time
  hookline searches create -f - <<'EOF'
  name: Daily errors
  query: _sourceCategory=prod/* error | count by _sourceCategory
  scheduleType: Custom
  cronExpression: 30 6 * * 1-5
  timeZone: America/Chicago
  timeRange: 24h
  notification: {connectionId: 886799E527915E64}
  EOF`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f FILE is required: the scheduled search as JSON or YAML (see --help)")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			conns := &connResolver{c: c}
			in, err := o.readSearch(cmd, conns, file)
			if err != nil {
				return err
			}
			s, err := c.CreateScheduledSearch(cmd.Context(), in)
			if err != nil {
				return o.explain("create scheduled search", err)
			}
			return o.printSearch(cmd, conns, s)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the scheduled search as JSON or YAML; - for standard input")
	return cmd
}

func newSearchesUpdateCmd(o *apiOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "update NAME|ID -f FILE",
		Short: "Replace a scheduled search with a JSON or YAML file",
		Long: `Replace a scheduled search with -f FILE, a whole search as create takes it
(get -o yaml prints one to edit). Its last run is kept. When its schedule and
time zone stay the same it keeps its next run; otherwise it next runs at the
new schedule's next time.

` + searchFileHelp,
		Example: `  hookline searches get "Top talkers" -o yaml > s.yaml && $EDITOR s.yaml && \
      hookline searches update "Top talkers" -f s.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.New("-f FILE is required: the whole scheduled search as JSON or YAML (see --help)")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			conns := &connResolver{c: c}
			in, err := o.readSearch(cmd, conns, file)
			if err != nil {
				return err
			}
			cur, err := o.findSearch(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			s, err := c.UpdateScheduledSearch(cmd.Context(), cur.ID, in)
			if err != nil {
				return o.explain("update scheduled search", err)
			}
			return o.printSearch(cmd, conns, s)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the scheduled search as JSON or YAML; - for standard input")
	return cmd
}

func newSearchesDeleteCmd(o *apiOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME|ID",
		Short: "Delete a scheduled search",
		Long: `Delete a scheduled search; it runs no more. The alerts it sent stay in the
alerts list. On a terminal it asks first; --yes skips the question, and is
required when standard input is not a terminal.`,
		Example: `  hookline searches delete "Top talkers"
  hookline searches delete 0192F1C2A1B2C3D4 --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			s, err := o.findSearch(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return o.confirmAndDelete(cmd, yes, deletion{
				noun:  "scheduled search",
				label: fmt.Sprintf("%s (%s)", s.Name, s.ID),
				shown: map[string]any{"id": s.ID, "name": s.Name, "deleted": true},
				del:   func() error { return c.DeleteScheduledSearch(cmd.Context(), s.ID) },
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
