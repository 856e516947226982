package main

// Printing for "hookline connections": tables and detail views for people,
// JSON and YAML for scripts. Times are shown in UTC, RFC 3339, so that
// output is the same on every machine and sorts as text.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/client"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

func checkOutput(format string) error {
	switch format {
	case outputTable, outputJSON, outputYAML:
		return nil
	}
	return fmt.Errorf("-o/--output must be table, json or yaml, not %q", format)
}

// printObject writes v as indented JSON or as YAML. Payload templates and
// queries are shown as written, without escaping <, > and &.
func printObject(w io.Writer, format string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	var err error
	if format == outputYAML {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return fmt.Errorf("encode output as YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// urlHost is the host (and port) of a connection's URL: what tells
// connections apart in a table without the long path.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tableColumns are the columns of one connection table.
type tableColumns struct {
	headers []string
	row     func(c client.Connection) []string
}

// createdColumns is what create and update print: enough to see what was
// stored and to copy the ID.
var createdColumns = tableColumns{
	headers: []string{"ID", "NAME", "TYPE", "URL HOST"},
	row: func(c client.Connection) []string {
		return []string{c.ID, c.Name, c.WebhookType, urlHost(c.URL)}
	},
}

var listColumns = tableColumns{
	headers: []string{"ID", "NAME", "TYPE", "HOST", "MODIFIED"},
	row: func(c client.Connection) []string {
		return []string{c.ID, c.Name, c.WebhookType, urlHost(c.URL), formatTime(c.ModifiedAt)}
	},
}

// printConnectionTable writes one row per connection. Tabs and newlines in
// a name would break the columns, so they are shown escaped (as they are in
// the details view).
func printConnectionTable(w io.Writer, cols tableColumns, conns []client.Connection) error {
	rows := make([][]string, len(conns))
	for i, c := range conns {
		rows[i] = cols.row(c)
	}
	return printTable(w, cols.headers, rows)
}

// printTable writes a table with a header line. Empty cells show as "-",
// and tabs and newlines in a cell are escaped so that columns hold.
func printTable(w io.Writer, headers []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, s := range row {
			cells[i] = orDash(cellText(s))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func cellText(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return s
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}

// detail is one "Label: value" line of the details view.
type detail struct{ label, value string }

// printConnectionDetails writes the details view of get: the common fields,
// the type's own fields in the order and with the labels the server gives
// (types may be nil: then JSON names are used), secrets as "set" or "not
// set", and both payloads pretty-printed.
func printConnectionDetails(w io.Writer, c client.Connection, types []client.ConnectionType) error {
	lines := []detail{
		{"ID", c.ID},
		{"Name", c.Name},
		{"Description", orDash(c.Description)},
		{"Type", c.WebhookType},
		{"URL", c.URL},
	}
	lines = append(lines, typeDetails(c, types)...)
	if len(c.CustomHeaders) == 0 {
		lines = append(lines, detail{"Custom headers", "(none)"})
	}
	for i, h := range c.CustomHeaders {
		label := ""
		if i == 0 {
			label = "Custom headers"
		}
		lines = append(lines, detail{label, h.Name + ": " + h.Value})
	}
	lines = append(lines,
		detail{"Created", formatTime(c.CreatedAt) + byWhom(c.CreatedBy)},
		detail{"Modified", formatTime(c.ModifiedAt) + byWhom(c.ModifiedBy)},
	)

	var b bytes.Buffer
	writeDetails(&b, lines)
	b.WriteString("\nAlert payload:\n")
	b.WriteString(indentPayload(c.DefaultPayload))
	b.WriteString("\nRecovery payload:")
	if strings.TrimSpace(c.ResolutionPayload) == "" {
		b.WriteString(" (none: recoveries send the alert payload)\n")
	} else {
		b.WriteString("\n" + indentPayload(c.ResolutionPayload))
	}
	if len(c.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, warn := range c.Warnings {
			b.WriteString("  " + warn + "\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeDetails writes one "Label:  value" line per detail, the values
// aligned; a detail without a label continues the one before.
func writeDetails(b *bytes.Buffer, lines []detail) {
	width := 0
	for _, l := range lines {
		width = max(width, len(l.label)+1)
	}
	for _, l := range lines {
		label := l.label
		if label != "" {
			label += ":"
		}
		fmt.Fprintf(b, "%-*s  %s\n", width, label, cellText(l.value))
	}
}

func byWhom(who string) string {
	if who == "" {
		return ""
	}
	return " by " + who
}

// typeDetails lists the fields c's type adds. Fields the server did not
// describe (an older server, or types unavailable) follow by JSON name.
func typeDetails(c client.Connection, types []client.ConnectionType) []detail {
	var out []detail
	shown := map[string]bool{}
	i := slices.IndexFunc(types, func(t client.ConnectionType) bool { return t.WebhookType == c.WebhookType })
	if i >= 0 {
		for _, f := range types[i].Fields {
			label := f.Label
			if label == "" {
				label = f.Name
			}
			if f.Secret {
				set, _ := c.SecretSet(f.Name)
				out = append(out, detail{label, setOrNot(set)})
				shown[client.HasField(f.Name)] = true
			} else {
				out = append(out, detail{label, orDash(c.Setting(f.Name))})
				shown[f.Name] = true
			}
		}
	}
	secretOf := map[string]string{}
	for name := range c.Secrets() {
		secretOf[client.HasField(name)] = name
	}
	var rest []string
	for k := range c.Extra {
		if !shown[k] && k != "type" && k != "headers" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		v := c.Extra[k]
		if name, isSecret := secretOf[k]; isSecret {
			out = append(out, detail{name, setOrNot(v.(bool))})
			continue
		}
		out = append(out, detail{k, extraText(v)})
	}
	return out
}

func setOrNot(set bool) string {
	if set {
		return "set"
	}
	return "not set"
}

func extraText(v any) string {
	if s, ok := v.(string); ok {
		return orDash(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// indentPayload pretty-prints a payload template that is JSON, and shows
// any other (a template with unquoted variables) as written, indented.
func indentPayload(p string) string {
	if strings.TrimSpace(p) == "" {
		return "  (empty)\n"
	}
	var b bytes.Buffer
	if json.Indent(&b, []byte(p), "  ", "  ") == nil {
		return "  " + b.String() + "\n"
	}
	return indentLines(strings.TrimRight(p, "\n"), "  ")
}

// indentLines prefixes every line of s and ends it with a newline.
func indentLines(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimRight(prefix+line, " ") + "\n")
	}
	return b.String()
}

func printWarnings(w io.Writer, warnings []string) {
	for _, warn := range warnings {
		fmt.Fprintln(w, "Warning:", warn)
	}
}

// testRun is one test in a result, named as the CLI names it.
type testRun struct {
	label   string // "Alert", "Recovery"
	attempt *client.Attempt
}

func testRuns(r client.TestResult) []testRun {
	var runs []testRun
	if r.Alert != nil {
		runs = append(runs, testRun{"Alert", r.Alert})
	}
	if r.Resolution != nil {
		runs = append(runs, testRun{"Recovery", r.Resolution})
	}
	return runs
}

// printTestResult writes, for each test, a status line ("Alert: 200 OK in
// 12 ms") and the target's answer; with verbose, first the request as sent
// (lines starting "> ") and the answer marked "< ", as curl -v does.
func printTestResult(w io.Writer, r client.TestResult, verbose bool) error {
	var b strings.Builder
	for i, run := range testRuns(r) {
		if i > 0 {
			b.WriteString("\n")
		}
		a := run.attempt
		b.WriteString(run.label + ": " + statusLine(a) + "\n")
		if verbose {
			req := a.Request
			fmt.Fprintf(&b, "  > %s %s\n", req.Method, req.URL)
			for _, h := range req.Headers {
				fmt.Fprintf(&b, "  > %s: %s\n", h.Name, h.Value)
			}
			b.WriteString("  >\n")
			if req.Body != "" {
				b.WriteString(indentLines(req.Body, "  > "))
			}
		}
		prefix := "  "
		if verbose {
			prefix = "  < "
		}
		switch {
		case a.StatusCode == 0:
			// No answer: the status line says why.
		case a.ResponseContent == "":
			b.WriteString(prefix + "(empty response)\n")
		default:
			b.WriteString(indentLines(strings.TrimRight(a.ResponseContent, "\n"), prefix))
			if a.ResponseTruncated {
				b.WriteString(prefix + "… (truncated)\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func statusLine(a *client.Attempt) string {
	if a.StatusCode == 0 {
		why := a.Error
		if why == "" {
			why = "the target did not answer"
		}
		return fmt.Sprintf("no answer after %s: %s", formatMs(a.LatencyMs), why)
	}
	text := http.StatusText(a.StatusCode)
	line := fmt.Sprintf("%d %s in %s", a.StatusCode, text, formatMs(a.LatencyMs))
	if text == "" {
		line = fmt.Sprintf("%d in %s", a.StatusCode, formatMs(a.LatencyMs))
	}
	if a.Error != "" {
		line += " (" + a.Error + ")"
	}
	return line
}

func formatMs(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
