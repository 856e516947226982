package main

// "hookline search": run a log search query over ingested records and show
// its rows or messages.

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

// maxQueryBytes bounds a query read from standard input; the server takes
// a body of at most 1 MiB.
const maxQueryBytes = 256 << 10

func newSearchCmd() *cobra.Command {
	o := &apiOptions{}
	var (
		from, to, last string
		limit          int
	)
	cmd := &cobra.Command{
		Use:   "search QUERY [flags]",
		Short: "Search ingested log records with a query",
		Long: `Run a query over the log records HTTP sources received, and show what it
finds: the rows of an aggregate (count, sum, avg, min, max), or else the
matching messages, newest first. The language is Sumo Logic's in small; see
docs/query.md. QUERY "-" reads the query from standard input.

The time range is the last 15 minutes unless --last, or --from and --to, say
otherwise; it covers at most 31 days. --from and --to take an RFC 3339 time
(2026-11-26T12:00:00Z) or an age such as 90m, 6h or 2d. The server gives a
search 30 seconds; narrow the range, or add a _sourceCategory term, when it
runs out.

Searching needs the View Monitors capability. -o json and -o yaml print the
API's answer in full.

` + apiHelp,
		Example: `  hookline search 'error'
  hookline search '_sourceCategory=prod/web "GET" | parse "* from * " as req, ip | count by ip | where _count > 100 | sort by _count' --last 1h
  hookline search 'timeout' --from 2026-11-26T10:00:00Z --to 2026-11-26T11:00:00Z --limit 20
  hookline search - -o json < query.txt | jq '.rows'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			req := client.SearchRequest{Query: args[0], Limit: limit}
			if req.Query == "-" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxQueryBytes+1))
				if err != nil {
					return fmt.Errorf("read the query from standard input: %w", err)
				}
				if len(b) > maxQueryBytes {
					return fmt.Errorf("the query on standard input is longer than %d bytes", maxQueryBytes)
				}
				req.Query = strings.TrimSpace(string(b))
			}
			if strings.TrimSpace(req.Query) == "" {
				return fmt.Errorf(`the query is empty; "*" searches every record`)
			}
			if limit < 0 || limit > 1000 || (limit == 0 && cmd.Flags().Changed("limit")) {
				return fmt.Errorf("--limit must be from 1 to 1000, not %d", limit)
			}
			now := time.Now()
			if last != "" {
				if from != "" || to != "" {
					return fmt.Errorf("--last is the range up to now; give either it or --from and --to")
				}
				d, err := parseAge(last)
				if err != nil || d <= 0 {
					return fmt.Errorf("--last %q: want a positive age such as 15m, 6h or 2d", last)
				}
				req.From, req.To = now.Add(-d), now
			}
			if req.From.IsZero() {
				if req.From, err = parseSince("--from", from, now); err != nil {
					return err
				}
			}
			if req.To.IsZero() {
				if req.To, err = parseSince("--to", to, now); err != nil {
					return err
				}
			}
			if !req.From.IsZero() && req.To.IsZero() {
				req.To = now // the server's default would count 15 minutes back from it
			}
			res, err := c.Search(cmd.Context(), req)
			if err != nil {
				if line, col, msg, ok := client.QueryErrorAt(err); ok {
					return &cliError{queryErrorText(req.Query, line, col, msg), err}
				}
				return o.explain("search", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, res)
			}
			if err := printSearchResult(cmd.OutOrStdout(), res); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), searchSummary(res, req.Limit))
			return nil
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "start of the range: an RFC 3339 time or an age such as 6h (default 15m before --to)")
	f.StringVar(&to, "to", "", "end of the range: an RFC 3339 time or an age (default now)")
	f.StringVar(&last, "last", "", "the range up to now, such as 15m, 24h or 2d, instead of --from and --to")
	f.IntVar(&limit, "limit", 0, "messages to show, 1 to 1000 (default 100)")
	return cmd
}

// queryErrorText shows the problem under the query's line, with a caret
// under the column, as a compiler does.
func queryErrorText(query string, line, col int, msg string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "search: the query is not valid: line %d, column %d: %s", line, col, msg)
	lines := strings.Split(query, "\n")
	if line < 1 || line > len(lines) {
		return b.String()
	}
	text := strings.TrimRight(lines[line-1], "\r")
	b.WriteString("\n  " + text + "\n  ")
	// Tabs stay tabs, so that the caret lines up whatever the tab width.
	for i, r := range []rune(text) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// printSearchResult writes an aggregate's rows, or the messages with the
// fields the query extracted, one line each.
func printSearchResult(w io.Writer, res *client.SearchResult) error {
	if res.Aggregate {
		rows := make([][]string, len(res.Rows))
		for i, row := range res.Rows {
			rows[i] = make([]string, len(res.Columns))
			for j, c := range res.Columns {
				rows[i][j] = searchCell(row[c])
			}
		}
		return printTable(w, res.Columns, rows)
	}
	if len(res.Messages) == 0 {
		return nil
	}
	headers := append(append([]string{"TIME"}, res.Columns...), "MESSAGE")
	rows := make([][]string, len(res.Messages))
	for i, m := range res.Messages {
		row := []string{m.Time.UTC().Format(time.RFC3339Nano)}
		for _, c := range res.Columns {
			row = append(row, m.Fields[c])
		}
		rows[i] = append(row, m.Message)
	}
	return printTable(w, headers, rows)
}

func searchCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// searchSummary is the line on standard error after a table: what was
// read and what was left out.
func searchSummary(res *client.SearchResult, limit int) string {
	took := fmt.Sprintf("scanned %d records in %d ms", res.Scanned, res.TookMs)
	switch {
	case res.Aggregate && res.Truncated:
		return fmt.Sprintf("%s (incomplete: too many groups); %s.", plural(len(res.Rows), "row"), took)
	case res.Aggregate:
		return fmt.Sprintf("%s; %s.", plural(len(res.Rows), "row"), took)
	case res.Matched > len(res.Messages):
		more := "raise --limit (at most 1000) or narrow the query to see others"
		if limit >= 1000 {
			more = "narrow the query to see others"
		}
		return fmt.Sprintf("Showing the first %d of %d matching messages; %s; %s.", len(res.Messages), res.Matched, took, more)
	case res.Matched == 0:
		return fmt.Sprintf("No messages matched; %s.", took)
	}
	return fmt.Sprintf("%s; %s.", plural(res.Matched, "matching message"), took)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
