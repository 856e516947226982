package main

// "hookline deliveries": the delivery log — list, details with every
// attempt, and replaying deliveries that failed or died.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newDeliveriesCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "deliveries",
		Aliases: []string{"delivery"},
		Short:   "List and show deliveries with their attempts, and replay failed ones",
		Long: `Browse the delivery log of a running Hookline server: each delivery is one
alert on its way to one connection, with every attempt made (time, status,
latency, the target's answer or the error).

A delivery is pending (waiting for its first or next attempt), delivered (a
2xx answer), failed (refused for good: a 4xx other than 408 and 429, or its
connection was deleted) or dead (every attempt of the retry schedule failed).
Failed and dead deliveries can be replayed with "retry".

` + apiHelp,
		Example: `  hookline deliveries list --state dead --since 24h
  hookline deliveries get 68856F108405C425
  hookline deliveries retry 68856F108405C425 --wait 1m`,
	}
	o.register(cmd)
	cmd.AddCommand(newDeliveriesListCmd(o), newDeliveriesGetCmd(o), newDeliveriesRetryCmd(o))
	return cmd
}

// deliveryStates are the values of --state.
var deliveryStates = []string{client.StatePending, client.StateDelivered, client.StateFailed, client.StateDead}

func newDeliveriesListCmd(o *apiOptions) *cobra.Command {
	var (
		connection, alertID, state, since, until string
		limit                                    int
		all                                      bool
	)
	cmd := &cobra.Command{
		Use:   "list [flags]",
		Short: "List deliveries, newest first",
		Long: `List deliveries, newest first: one page of --limit (default 100), or every
one with --all. Filters combine.

--since and --until take an RFC 3339 time (2026-11-26T12:00:00Z) or an age
such as 90m, 6h or 2d, and select on the time a delivery was created.

-o json prints a JSON array of deliveries; -o yaml a YAML list.`,
		Example: `  hookline deliveries list
  hookline deliveries list --connection block-ip --state failed --since 2d
  hookline deliveries list --alert 68856F0FE1C2A000
  hookline deliveries list --state dead --all -o json | jq -r '.[].id' | xargs hookline deliveries retry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			f := client.DeliveryFilter{AlertID: alertID, State: state, Limit: limit}
			if state != "" && !isDeliveryState(state) {
				return fmt.Errorf("--state must be one of %s, not %q", strings.Join(deliveryStates, ", "), state)
			}
			if limit < 0 || limit > 1000 {
				return fmt.Errorf("--limit must be from 1 to 1000, not %d", limit)
			}
			now := time.Now()
			if f.Since, err = parseSince("--since", since, now); err != nil {
				return err
			}
			if f.Until, err = parseSince("--until", until, now); err != nil {
				return err
			}
			ctx := cmd.Context()
			conns := &connResolver{c: c}
			if connection != "" {
				conn, err := conns.resolve(ctx, "--connection", connection)
				switch {
				case errors.Is(err, errNoSuchConnection):
					// A deleted connection's deliveries stay in the log,
					// found by its ID.
					fmt.Fprintf(cmd.ErrOrStderr(), "Warning: no connection has the ID or name %q; listing deliveries to a connection with that ID.\n", connection)
					f.ConnectionID = connection
				case err != nil:
					return o.explain("list connections", err)
				default:
					f.ConnectionID = conn.ID
				}
			}
			var (
				list []client.Delivery
				more bool
			)
			if all {
				list, err = c.AllDeliveries(ctx, f)
			} else {
				var page *client.DeliveryList
				if page, err = c.ListDeliveries(ctx, f); err == nil {
					list, more = page.Data, page.Next != ""
				}
			}
			if err != nil {
				return o.explain("list deliveries", err)
			}
			if o.output != outputTable {
				if list == nil {
					list = []client.Delivery{}
				}
				return printObject(cmd.OutOrStdout(), o.output, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No deliveries match.")
				return nil
			}
			if err := printDeliveryTable(cmd.OutOrStdout(), list, conns.names(ctx)); err != nil {
				return err
			}
			if more {
				fmt.Fprintf(cmd.ErrOrStderr(), "More deliveries match: --all lists every one.\n")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&connection, "connection", "", "only deliveries to this connection (name or ID)")
	fl.StringVar(&alertID, "alert", "", "only deliveries of this alert (ID)")
	fl.StringVar(&state, "state", "", "only deliveries in this state: "+strings.Join(deliveryStates, ", "))
	fl.StringVar(&since, "since", "", "only deliveries created at or after this time, or within this age (1h, 2d)")
	fl.StringVar(&until, "until", "", "only deliveries created before this time, or before this age")
	fl.IntVar(&limit, "limit", 0, "at most this many deliveries (a page; 1 to 1000, default 100)")
	fl.BoolVar(&all, "all", false, "every delivery that matches, following the pages (--limit is the page size)")
	return cmd
}

func isDeliveryState(s string) bool {
	for _, st := range deliveryStates {
		if s == st {
			return true
		}
	}
	return false
}

// parseSince reads a time flag: an RFC 3339 time, or an age before now
// ("90m", "6h", "2d"). "" is no time.
func parseSince(flag, v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	age, err := parseAge(v)
	if err != nil || age < 0 {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-11-26T12:00:00Z, or an age such as 90m, 6h or 2d", flag, v)
	}
	return now.Add(-age), nil
}

// parseAge reads a Go duration or a number of days: "90m", "6h", "2d".
func parseAge(v string) (time.Duration, error) {
	age, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		var n float64
		if n, err = strconv.ParseFloat(days, 64); err == nil {
			age = time.Duration(n * float64(24*time.Hour))
		}
	}
	return age, err
}

// errNoSuchConnection is resolve's error when nothing matches.
var errNoSuchConnection = errors.New("no connection has this ID or name")

// connResolver finds connections by ID or name for flags that take
// either, and names connections in tables. It lists the connections once,
// when first needed.
type connResolver struct {
	c      *client.Client
	conns  []client.Connection
	err    error
	loaded bool
}

func (r *connResolver) load(ctx context.Context) error {
	if !r.loaded {
		r.conns, r.err = r.c.AllConnections(ctx)
		r.loaded = true
	}
	return r.err
}

// resolve returns the connection whose ID is nameOrID, else the one with
// that name; names match without regard to case, as the server keeps them
// unique that way.
func (r *connResolver) resolve(ctx context.Context, flag, nameOrID string) (client.Connection, error) {
	if err := r.load(ctx); err != nil {
		return client.Connection{}, err
	}
	key := strings.TrimSpace(nameOrID)
	for _, c := range r.conns {
		if c.ID == key {
			return c, nil
		}
	}
	var found []client.Connection
	for _, c := range r.conns {
		if strings.EqualFold(strings.TrimSpace(c.Name), key) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return client.Connection{}, fmt.Errorf("%s %q: %w; see \"hookline connections list\"", flag, nameOrID, errNoSuchConnection)
	}
	ids := make([]string, len(found))
	for i, c := range found {
		ids[i] = c.ID
	}
	return client.Connection{}, fmt.Errorf("%s %q: %d connections have this name (%s); give an ID", flag, nameOrID, len(found), strings.Join(ids, ", "))
}

// names maps connection IDs to names. Without them (the list failed) tables
// show IDs, so a failure is not an error here.
func (r *connResolver) names(ctx context.Context) map[string]string {
	_ = r.load(ctx)
	m := make(map[string]string, len(r.conns))
	for _, c := range r.conns {
		m[c.ID] = c.Name
	}
	return m
}

// connectionLabel is how a table names a delivery's connection: its name,
// or its ID when the connection is gone.
func connectionLabel(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

func printDeliveryTable(w io.Writer, list []client.Delivery, names map[string]string) error {
	rows := make([][]string, len(list))
	for i, d := range list {
		rows[i] = []string{d.ID, connectionLabel(names, d.ConnectionID), d.TriggerType, d.State,
			strconv.Itoa(d.Attempts), lastStatus(d), formatTime(d.UpdatedAt)}
	}
	return printTable(w, []string{"ID", "CONNECTION", "TRIGGER", "STATE", "ATTEMPTS", "LAST STATUS", "UPDATED"}, rows)
}

// lastStatus is the last attempt's HTTP status, "error" when it got no
// answer, and "" before any attempt.
func lastStatus(d client.Delivery) string {
	switch {
	case d.LastStatus != 0:
		return strconv.Itoa(d.LastStatus)
	case d.LastError != "":
		return "error"
	}
	return ""
}

func statusText(code int) string {
	if code == 0 {
		return ""
	}
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return strconv.Itoa(code)
}

func newDeliveriesGetCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a delivery and every attempt made",
		Long: `Show a delivery — its alert, connection, state and when it will be tried
next — and a table of every attempt: when it started, the HTTP status,
latency, the error or the start of the target's answer, and when the next
attempt was scheduled. -o json and -o yaml print every attempt in full.`,
		Example: `  hookline deliveries get 68856F108405C425
  hookline deliveries get 68856F108405C425 -o json | jq '.attempts[-1].response'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			d, err := c.GetDelivery(cmd.Context(), args[0])
			if err != nil {
				return o.explain("get delivery", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, d)
			}
			conns := &connResolver{c: c}
			return printDeliveryDetails(cmd.OutOrStdout(), d, conns.names(cmd.Context()))
		},
	}
}

// maxCell bounds an error or response shown in a table cell.
const maxCell = 60

func printDeliveryDetails(w io.Writer, d client.DeliveryDetails, names map[string]string) error {
	conn := d.ConnectionID
	if n, ok := names[d.ConnectionID]; ok {
		conn = n + " (" + d.ConnectionID + ")"
	}
	lines := []detail{
		{"ID", d.ID},
		{"Alert", d.AlertID},
		{"Connection", conn},
		{"Trigger", d.TriggerType},
		{"State", d.State},
		{"Attempts", strconv.Itoa(d.Attempts)},
	}
	if d.State == client.StatePending {
		lines = append(lines, detail{"Next attempt", formatTime(d.NextAttemptAt)})
	}
	lines = append(lines,
		detail{"Created", formatTime(d.CreatedAt)},
		detail{"Updated", formatTime(d.UpdatedAt)},
		detail{"Last status", orDash(statusText(d.LastStatus))},
		detail{"Last error", orDash(d.LastError)},
	)
	var b bytes.Buffer
	writeDetails(&b, lines)
	if len(d.Log) == 0 {
		b.WriteString("\nNo attempts yet.\n")
		_, err := w.Write(b.Bytes())
		return err
	}
	b.WriteString("\nAttempts:\n")
	rows := make([][]string, len(d.Log))
	for i, a := range d.Log {
		status := ""
		if a.StatusCode != 0 {
			status = strconv.Itoa(a.StatusCode)
		}
		what := a.Error
		if what == "" {
			what = a.Response
		}
		retry := ""
		if !a.RetryAt.IsZero() {
			retry = formatTime(a.RetryAt)
		}
		rows[i] = []string{strconv.Itoa(a.N), formatTime(a.StartedAt), status, formatMs(a.LatencyMs), shorten(what, maxCell), retry}
	}
	if err := printTable(&b, []string{"N", "STARTED", "STATUS", "LATENCY", "ERROR/RESPONSE", "RETRY AT"}, rows); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// shorten makes s one line of at most n characters, marking a cut with "…".
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func newDeliveriesRetryCmd(o *apiOptions) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "retry ID...",
		Short: "Replay failed or dead deliveries",
		Long: `Replay failed or dead deliveries: each is pending again and attempted at once,
under its own ID, so the target sees the same Idempotency-Key as before and
can drop it if an earlier attempt had in fact arrived. A delivery that is
still pending is refused, and so is one already delivered: its target acted
on it, and replaying it would repeat the action.

Prints each delivery's new state. With --wait, waits up to that long for
each to be delivered or to fail again, and prints the final states.

The exit status is 1 when any delivery could not be replayed or, with
--wait, was not delivered.`,
		Example: `  hookline deliveries retry 68856F108405C425
  hookline deliveries retry 68856F108405C425 68856F108405C426 --wait 30s
  hookline deliveries list --state dead --all -o json | jq -r '.[].id' | xargs hookline deliveries retry`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			if wait < 0 {
				return fmt.Errorf("--wait must not be negative, not %s", wait)
			}
			ctx := cmd.Context()
			var (
				retried []client.Delivery
				failed  bool
			)
			for _, id := range args {
				d, err := c.RetryDelivery(ctx, id)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "Error:", o.explain("retry delivery "+id, err))
					failed = true
					continue
				}
				retried = append(retried, d)
			}
			if wait > 0 && len(retried) > 0 {
				if retried, err = waitFinal(ctx, c, retried, wait); err != nil {
					return o.explain("wait for deliveries", err)
				}
				failed = reportUndelivered(cmd.ErrOrStderr(), retried) || failed
			}
			if err := o.printDeliveries(cmd, retried); err != nil {
				return err
			}
			if failed {
				return exitError(1)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long (30s, 2m) for the deliveries to be delivered or fail again")
	return cmd
}

// printDeliveries prints deliveries after a change: a table, or the API's
// objects.
func (o *apiOptions) printDeliveries(cmd *cobra.Command, list []client.Delivery) error {
	if o.output != outputTable {
		if list == nil {
			list = []client.Delivery{}
		}
		return printObject(cmd.OutOrStdout(), o.output, list)
	}
	if len(list) == 0 {
		return nil
	}
	rows := make([][]string, len(list))
	for i, d := range list {
		next := ""
		if d.State == client.StatePending {
			next = formatTime(d.NextAttemptAt)
		}
		rows[i] = []string{d.ID, d.State, strconv.Itoa(d.Attempts), lastStatus(d), next}
	}
	return printTable(cmd.OutOrStdout(), []string{"ID", "STATE", "ATTEMPTS", "LAST STATUS", "NEXT ATTEMPT"}, rows)
}

// reportUndelivered says on w which deliveries did not end delivered, and
// reports whether there were any.
func reportUndelivered(w io.Writer, list []client.Delivery) bool {
	bad := false
	for _, d := range list {
		switch d.State {
		case client.StateDelivered:
			continue
		case client.StatePending:
			fmt.Fprintf(w, "Delivery %s is still pending after %d attempts.\n", d.ID, d.Attempts)
		default:
			why := d.LastError
			if why == "" {
				why = statusText(d.LastStatus)
			}
			fmt.Fprintf(w, "Delivery %s is %s: %s\n", d.ID, d.State, orDash(why))
		}
		bad = true
	}
	return bad
}

// pollInterval bounds how often waitFinal asks; it starts at a tenth.
var pollInterval = 2 * time.Second

// waitFinal asks for each delivery until it is final or wait has passed,
// and returns the last state seen of each, in order.
func waitFinal(ctx context.Context, c *client.Client, list []client.Delivery, wait time.Duration) ([]client.Delivery, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	out := append([]client.Delivery(nil), list...)
	every := pollInterval / 10
	for {
		pending := 0
		for i, d := range out {
			if d.Final() {
				continue
			}
			got, err := c.GetDelivery(ctx, d.ID)
			if ctx.Err() != nil {
				return out, nil // out of time: report what was seen
			}
			if err != nil {
				return out, err
			}
			out[i] = got.Delivery
			if !got.Final() {
				pending++
			}
		}
		if pending == 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, nil
		case <-time.After(every):
		}
		every = min(every*2, pollInterval)
	}
}
