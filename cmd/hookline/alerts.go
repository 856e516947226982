package main

// "hookline alerts": send an alert to connections by hand or from a file,
// list accepted alerts, and show one with its deliveries.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/client"
)

func newAlertsCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "alerts",
		Aliases: []string{"alert"},
		Short:   "Send alerts to connections, and list and show accepted alerts",
		Long: `Send alerts to a running Hookline server, which stores each with one delivery
per connection before it answers and then delivers them, retrying failures.

` + apiHelp,
		Example: `  hookline alerts send --connection block-ip --name "Suspicious IP" --trigger Critical \
      --result-json '{"client_ip": "203.0.113.7"}'
  hookline alerts list --source search:0192F1C2A1B2C3D4 --since 24h
  hookline alerts get 68856E2A41C0B5F3`,
	}
	o.register(cmd)
	cmd.AddCommand(newAlertsSendCmd(o), newAlertsListCmd(o), newAlertsGetCmd(o))
	return cmd
}

// alertFlags describe one alert on the command line.
type alertFlags struct {
	file           string
	connections    []string
	name, trigger  string
	description    string
	results, vars  []string
	idempotencyKey string
	source         string
}

// alertFieldFlags are the flags that set a field of the alert, by the
// field's JSON name: an invalid field is reported under its flag too.
var alertFieldFlags = map[string]string{
	"name":           "--name",
	"triggerType":    "--trigger",
	"description":    "--description",
	"results":        "--result-json",
	"variables":      "--var",
	"idempotencyKey": "--idempotency-key",
	"source":         "--source",
	"notifications":  "--connection",
}

func newAlertsSendCmd(o *apiOptions) *cobra.Command {
	a := &alertFlags{}
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "send --connection NAME_OR_ID --name NAME --trigger TYPE [flags]",
		Short: "Send an alert to one or more connections",
		Long: `Send an alert to one or more connections. The server answers once the alert
and its deliveries are stored; it then delivers them, retrying failures.
Prints the alert's ID and its deliveries; "hookline deliveries get ID" shows
each one's attempts.

--trigger is Critical, Warning or MissingData for a condition that started,
or ResolvedCritical, ResolvedWarning or ResolvedMissingData for one that
ended: those send each connection's recovery payload.

-f FILE reads alerts in the API's form (JSON or YAML; - is standard input):
one alert object, a list of them, or {"alerts": [...]}. An alert may carry
its own "notifications" with payload overrides, written as strings or as
objects. Flags override the fields of a single alert; --connection adds a
connection to every alert of the file.

With --idempotency-key, sending the same alert again does nothing and
answers with the first one (marked as a duplicate).

With --wait, waits up to that long for every delivery to be delivered or
to fail, and prints the final states; the exit status is then 1 unless all
were delivered.`,
		Example: `  hookline alerts send --connection block-ip --name "Suspicious IP" --trigger Critical \
      --description "Too many failed logins" --result-json '{"client_ip": "203.0.113.7", "_count": 1542}' \
      --var Playbook="Block the IP" --idempotency-key login-spike-2026-11-26

  # The same condition has ended: each connection's recovery payload is sent
  hookline alerts send --connection block-ip --connection "team chat" --name "Suspicious IP" \
      --trigger ResolvedCritical --wait 30s

  # From a file, to the connections it names
  hookline alerts send -f alert.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			if wait < 0 {
				return fmt.Errorf("--wait must not be negative, not %s", wait)
			}
			alerts, err := a.build(cmd.Flags(), &stdinOnce{r: cmd.InOrStdin()})
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			conns := &connResolver{c: c}
			var added []client.Notification
			for _, ref := range a.connections {
				conn, err := conns.resolve(ctx, "--connection", ref)
				if err != nil {
					return o.explain("list connections", err)
				}
				added = append(added, client.Notification{ConnectionID: conn.ID})
			}
			for i := range alerts {
				alerts[i].Notifications = append(alerts[i].Notifications, added...)
				if len(alerts[i].Notifications) == 0 {
					return errors.New("no connection to notify: give --connection NAME_OR_ID (repeatable), or notifications in -f FILE")
				}
			}
			res, err := c.SendAlerts(ctx, alerts)
			if err != nil {
				if len(alerts) == 1 {
					err = renameAlertFields(err)
				}
				return o.explain("send alert", err)
			}
			var final []client.Delivery
			undelivered := false
			if wait > 0 {
				if final, err = waitFinal(ctx, c, pendingOf(res), wait); err != nil {
					return o.explain("wait for deliveries", err)
				}
				undelivered = reportUndelivered(cmd.ErrOrStderr(), final)
			}
			if o.output != outputTable {
				if err := printObject(cmd.OutOrStdout(), o.output, res); err != nil {
					return err
				}
			} else if err := printAccepted(cmd.OutOrStdout(), res, final, conns.names(ctx)); err != nil {
				return err
			}
			if undelivered {
				return exitError(1)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&a.file, "file", "f", "", "read alerts from a JSON or YAML file (- for standard input)")
	fl.StringArrayVar(&a.connections, "connection", nil, "connection to notify, by name or ID (repeatable)")
	fl.StringVar(&a.name, "name", "", "the alert's name ({{Name}})")
	fl.StringVar(&a.trigger, "trigger", "", "trigger type: Critical, Warning, MissingData, ResolvedCritical, ResolvedWarning or ResolvedMissingData")
	fl.StringVar(&a.description, "description", "", "description ({{Description}})")
	fl.StringArrayVar(&a.results, "result-json", nil, `one result row as a JSON object, such as '{"client_ip": "1.2.3.4"}' (repeatable; {{ResultsJson}})`)
	fl.StringArrayVar(&a.vars, "var", nil, "a payload variable as NAME=VALUE, such as Playbook=... (repeatable)")
	fl.StringVar(&a.idempotencyKey, "idempotency-key", "", "a key that makes sending the same alert again a no-op")
	fl.StringVar(&a.source, "source", "", `who raised the alert (default "api")`)
	fl.DurationVar(&wait, "wait", 0, "wait up to this long (30s, 2m) for the deliveries to be delivered or fail")
	return cmd
}

// alertSetFlags are the flags that set a field of one alert.
var alertSetFlags = []string{"name", "trigger", "description", "result-json", "var", "idempotency-key", "source"}

// build returns the alerts to send: -f's, or one empty alert, with the
// flags applied. Connections are added by the caller.
func (a *alertFlags) build(fs *pflag.FlagSet, in *stdinOnce) ([]client.AlertRequest, error) {
	alerts := []client.AlertRequest{{}}
	if fs.Changed("file") {
		b, err := in.readFile("-f", a.file)
		if err != nil {
			return nil, err
		}
		name := a.file
		if name == "-" {
			name = "standard input"
		}
		if alerts, err = parseAlertFile(b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(alerts) > 1 {
			for _, f := range alertSetFlags {
				if fs.Changed(f) {
					return nil, fmt.Errorf("--%s sets a field of one alert, but %s holds %d; set it in the file", f, name, len(alerts))
				}
			}
		}
	}
	al := &alerts[0]
	str := func(flag, v string, dst *string) {
		if fs.Changed(flag) {
			*dst = v
		}
	}
	str("name", a.name, &al.Name)
	str("trigger", a.trigger, &al.TriggerType)
	str("description", a.description, &al.Description)
	str("idempotency-key", a.idempotencyKey, &al.IdempotencyKey)
	str("source", a.source, &al.Source)
	if fs.Changed("result-json") {
		al.Results = nil
		for i, raw := range a.results {
			var row client.Row
			if err := json.Unmarshal([]byte(raw), &row); err != nil || row == nil {
				return nil, fmt.Errorf(`--result-json #%d %q: want one JSON object, such as '{"client_ip": "1.2.3.4"}'`, i+1, raw)
			}
			al.Results = append(al.Results, row)
		}
	}
	for _, kv := range a.vars {
		k, v, ok := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, fmt.Errorf(`--var %q: want NAME=VALUE`, kv)
		}
		if al.Variables == nil {
			al.Variables = map[string]string{}
		}
		al.Variables[k] = v
	}
	return alerts, nil
}

// overrideFields may be written in a file as an object instead of a
// string holding one; they are sent as that object's JSON text.
var overrideFields = []string{"payloadOverride", "resolutionPayloadOverride"}

// parseAlertFile reads alerts in the API's form from JSON or YAML: one
// alert, a list of alerts, or {"alerts": [...]}. Unknown fields are
// refused here, where the file's line can still be found.
func parseAlertFile(b []byte) ([]client.AlertRequest, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	js := trimmed
	if trimmed[0] != '{' && trimmed[0] != '[' {
		var err error
		if js, err = yaml.YAMLToJSONStrict(b); err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
	}
	var top any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(js, se.Offset)
			return nil, fmt.Errorf("not valid JSON: line %d, column %d: %v", line, col, se)
		}
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("holds more than one JSON value")
	}
	var items []any
	prefix := "alerts"
	switch v := top.(type) {
	case []any:
		items = v
	case map[string]any:
		if list, ok := v["alerts"]; ok {
			if len(v) > 1 {
				return nil, errors.New(`a file with "alerts" must hold nothing else: put every field inside each alert`)
			}
			if items, ok = list.([]any); !ok {
				return nil, errors.New(`"alerts" must be a list of alert objects`)
			}
		} else {
			items, prefix = []any{v}, ""
		}
	default:
		return nil, errors.New("must hold an alert object, a list of them, or {\"alerts\": [...]}")
	}
	if len(items) == 0 {
		return nil, errors.New("holds no alerts")
	}
	out := make([]client.AlertRequest, len(items))
	for i, item := range items {
		at := prefix
		if prefix != "" {
			at = fmt.Sprintf("%s[%d]", prefix, i)
		}
		if err := decodeAlertItem(item, &out[i]); err != nil {
			if at == "" {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", at, err)
		}
	}
	return out, nil
}

// decodeAlertItem decodes one alert of a file, payload overrides given as
// objects turned into their JSON text.
func decodeAlertItem(item any, dst *client.AlertRequest) error {
	m, ok := item.(map[string]any)
	if !ok {
		return errors.New("must be an alert object")
	}
	if notes, ok := m["notifications"].([]any); ok {
		for j, n := range notes {
			nm, ok := n.(map[string]any)
			if !ok {
				continue // the decoder below names it
			}
			for _, f := range overrideFields {
				switch v := nm[f].(type) {
				case map[string]any, []any:
					b, err := json.Marshal(v)
					if err != nil {
						return fmt.Errorf("notifications[%d].%s: %w", j, f, err)
					}
					nm[f] = string(b)
				}
			}
		}
	}
	// A time's decoding error would not name its field.
	for _, f := range timeFields {
		v, ok := m[f]
		if !ok || v == nil {
			continue
		}
		s, isString := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !isString || err != nil {
			return fmt.Errorf("%s: must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not %s", f, jsonText(v))
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: must be %s, not %s", strings.TrimPrefix(te.Field, "AlertEvent."), goTypeInWords(te.Type.String()), te.Value)
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// timeFields are the alert's times, in RFC 3339.
var timeFields = []string{"triggerTime", "triggerTimeStart", "triggerTimeEnd"}

// jsonText shows a decoded JSON value as it was written.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// goTypeInWords names a Go type as a JSON user knows it.
func goTypeInWords(t string) string {
	switch {
	case t == "string":
		return "a string"
	case t == "int" || t == "float64":
		return "a number"
	case t == "time.Time":
		return "an RFC 3339 time such as 2026-11-26T12:00:00Z"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map[") || strings.HasPrefix(t, "client."):
		return "an object"
	}
	return t
}

// renameAlertFields names the fields of a one-alert request as the user
// gave them: "alerts[0].triggerType" becomes "triggerType (--trigger)".
func renameAlertFields(err error) error {
	var ae *client.APIError
	if !errors.As(err, &ae) || len(ae.FieldErrors()) == 0 {
		return err
	}
	out := *ae
	out.Errors = make([]client.ErrorEntry, len(ae.Errors))
	for i, e := range ae.Errors {
		field := strings.TrimPrefix(e.Field, "alerts[0].")
		if field == "alerts[0]" {
			field = "alert"
		}
		head, _, _ := strings.Cut(field, ".")
		head, _, _ = strings.Cut(head, "[")
		if flag, ok := alertFieldFlags[head]; ok && e.Field != "" {
			field += " (" + flag + ")"
		}
		e.Field = field
		out.Errors[i] = e
	}
	return &out
}

// pendingOf lists the deliveries of an answer for waitFinal.
func pendingOf(res client.AcceptResult) []client.Delivery {
	var out []client.Delivery
	for _, a := range res.Alerts {
		for _, d := range a.Deliveries {
			out = append(out, client.Delivery{ID: d.ID, AlertID: a.ID, ConnectionID: d.ConnectionID, State: d.State})
		}
	}
	return out
}

// printAccepted writes each alert's ID and a table of its deliveries;
// final, when given, holds their states after waiting.
func printAccepted(w io.Writer, res client.AcceptResult, final []client.Delivery, names map[string]string) error {
	byID := map[string]client.Delivery{}
	for _, d := range final {
		byID[d.ID] = d
	}
	var b bytes.Buffer
	for i, a := range res.Alerts {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Alert %s", a.ID)
		if a.Duplicate {
			b.WriteString(" (a duplicate: this idempotency key was sent before; nothing new was sent)")
		}
		b.WriteString("\n")
		rows := make([][]string, len(a.Deliveries))
		for j, d := range a.Deliveries {
			state, attempts, status := d.State, "", ""
			if f, ok := byID[d.ID]; ok {
				state, attempts, status = f.State, strconv.Itoa(f.Attempts), lastStatus(f)
			}
			rows[j] = []string{d.ID, connectionLabel(names, d.ConnectionID), state}
			if final != nil {
				rows[j] = append(rows[j], attempts, status)
			}
		}
		headers := []string{"DELIVERY", "CONNECTION", "STATE"}
		if final != nil {
			headers = append(headers, "ATTEMPTS", "LAST STATUS")
		}
		if err := printTable(&b, headers, rows); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func newAlertsGetCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show an accepted alert and its deliveries",
		Long: `Show an accepted alert: the fields payloads are rendered from, its result
rows, and a table of its deliveries. -o json and -o yaml print the API's
object whole.`,
		Example: `  hookline alerts get 68856E2A41C0B5F3
  hookline alerts get 68856E2A41C0B5F3 -o json | jq '.deliveries[] | select(.state != "delivered")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			al, err := c.GetAlert(cmd.Context(), args[0])
			if err != nil {
				return o.explain("get alert", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, al)
			}
			conns := &connResolver{c: c}
			return printAlertDetails(cmd.OutOrStdout(), al, conns.names(cmd.Context()))
		},
	}
}

// printAlertDetails writes the alert's fields (those set), its variables
// and result rows, and its deliveries.
func printAlertDetails(w io.Writer, a client.Alert, names map[string]string) error {
	lines := []detail{
		{"ID", a.ID},
		{"Name", a.Name},
		{"Trigger", a.TriggerType},
		{"Source", a.Source},
		{"Idempotency key", orDash(a.IdempotencyKey)},
		{"Received", formatTime(a.ReceivedAt)},
	}
	for _, f := range []struct{ label, value string }{
		{"Description", a.Description},
		{"Monitor type", a.MonitorType},
		{"Detection method", a.DetectionMethod},
		{"Query", a.Query},
		{"Query URL", a.QueryURL},
		{"Source ID", a.SourceID},
		{"Condition", a.TriggerCondition},
		{"Value", a.TriggerValue},
		{"Source URL", a.SourceURL},
		{"Response URL", a.AlertResponseURL},
		{"Time zone", a.TimeZone},
	} {
		if f.value != "" {
			lines = append(lines, detail{f.label, f.value})
		}
	}
	for _, t := range []struct {
		label string
		at    time.Time
	}{{"Trigger time", a.TriggerTime}, {"Time range start", a.TriggerTimeStart}, {"Time range end", a.TriggerTimeEnd}} {
		if !t.at.IsZero() {
			lines = append(lines, detail{t.label, formatTime(t.at)})
		}
	}
	if a.NumQueryResults != 0 {
		lines = append(lines, detail{"Query results", strconv.Itoa(a.NumQueryResults)})
	}
	keys := make([]string, 0, len(a.Variables))
	for k := range a.Variables {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		label := ""
		if i == 0 {
			label = "Variables"
		}
		lines = append(lines, detail{label, k + "=" + a.Variables[k]})
	}
	var b bytes.Buffer
	writeDetails(&b, lines)
	if len(a.Results) > 0 {
		fmt.Fprintf(&b, "\nResult rows (%d):\n", len(a.Results))
		for _, r := range a.Results {
			row, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("encode result row: %w", err)
			}
			b.WriteString("  " + string(row) + "\n")
		}
	}
	if len(a.Deliveries) == 0 {
		b.WriteString("\nNo deliveries.\n")
	} else {
		b.WriteString("\nDeliveries:\n")
		if err := printDeliveryTable(&b, a.Deliveries, names); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// alertTriggerTypes are the values of --trigger-type.
var alertTriggerTypes = []string{"Normal", client.TriggerCritical, client.TriggerWarning, client.TriggerMissingData,
	client.TriggerResolvedCritical, client.TriggerResolvedWarning, client.TriggerResolvedMissingData}

func newAlertsListCmd(o *apiOptions) *cobra.Command {
	var (
		f            client.AlertFilter
		since, until string
	)
	cmd := &cobra.Command{
		Use:   "list [flags]",
		Short: "List accepted alerts, newest first, with their deliveries' states",
		Long: `List accepted alerts, newest first: one page of --limit (default 100).
Filters combine.

--source is who raised the alert: api, alertmanager, monitor:ID for a
monitor's alerts or search:ID for a scheduled search's.

--since and --until take an RFC 3339 time (2026-11-26T12:00:00Z) or an age
such as 90m, 6h or 2d, and select on the time an alert was received.

-o json prints a JSON array of alerts (without their result rows: "alerts
get" shows them); -o yaml a YAML list.`,
		Example: `  hookline alerts list
  hookline alerts list --source search:0192F1C2A1B2C3D4 --since 24h
  hookline alerts list --trigger-type Critical --limit 20 -o json | jq -r '.[].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			if f.TriggerType != "" && !slices.Contains(alertTriggerTypes, f.TriggerType) {
				return fmt.Errorf("--trigger-type must be one of %s, not %q", strings.Join(alertTriggerTypes, ", "), f.TriggerType)
			}
			if f.Limit < 0 || f.Limit > 1000 {
				return fmt.Errorf("--limit must be from 1 to 1000, not %d", f.Limit)
			}
			now := time.Now()
			if f.Since, err = parseSince("--since", since, now); err != nil {
				return err
			}
			if f.Until, err = parseSince("--until", until, now); err != nil {
				return err
			}
			page, err := c.ListAlerts(cmd.Context(), f)
			if err != nil {
				return o.explain("list alerts", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(page.Data))
			}
			if len(page.Data) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No alerts match.")
				return nil
			}
			if err := printAlertTable(cmd.OutOrStdout(), page.Data); err != nil {
				return err
			}
			if page.Next != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "More alerts match: raise --limit (up to 1000) or narrow with --since and --until.")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Source, "source", "", "only alerts from this source: api, alertmanager, monitor:ID, search:ID")
	fl.StringVar(&f.TriggerType, "trigger-type", "", "only alerts of this trigger type: "+strings.Join(alertTriggerTypes, ", "))
	fl.StringVar(&since, "since", "", "only alerts received at or after this time, or within this age (1h, 2d)")
	fl.StringVar(&until, "until", "", "only alerts received before this time, or before this age")
	fl.IntVar(&f.Limit, "limit", 0, "at most this many alerts (1 to 1000, default 100)")
	return cmd
}

// deliveryStatesText sums up an alert's deliveries by state: "2 delivered,
// 1 pending", in the order of deliveryStates.
func deliveryStatesText(ds []client.Delivery) string {
	if len(ds) == 0 {
		return "-"
	}
	n := map[string]int{}
	for _, d := range ds {
		n[d.State]++
	}
	var parts []string
	for _, st := range deliveryStates {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	return strings.Join(parts, ", ")
}

func printAlertTable(w io.Writer, alerts []client.Alert) error {
	rows := make([][]string, len(alerts))
	for i, a := range alerts {
		rows[i] = []string{a.ID, formatTime(a.ReceivedAt), a.Source, a.TriggerType, a.Name, deliveryStatesText(a.Deliveries)}
	}
	return printTable(w, []string{"ID", "RECEIVED", "SOURCE", "TRIGGER", "NAME", "DELIVERIES"}, rows)
}
