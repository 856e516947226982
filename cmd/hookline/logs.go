package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newLogsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Send log lines to an HTTP source",
		Long: `Work with the log records HTTP sources receive. "hookline logs send" pushes
lines to a source, as any HTTP client can; see "hookline sources" and
docs/ingest.md.`,
		Example: `  eval "$(hookline sources create --name web --category prod/web)"
  hookline logs send < access.log`,
	}
	cmd.AddCommand(newLogsSendCmd())
	return cmd
}

// sendFlags are the flags of logs send.
type sendFlags struct {
	server, token, url, output string
	category, host, name       string
	gzip                       bool
	batch                      int
}

// sendBatchBytes bounds one request's body, below the receiver's 10 MiB.
const sendBatchBytes = 8 << 20

func newLogsSendCmd() *cobra.Command {
	f := &sendFlags{}
	cmd := &cobra.Command{
		Use:   "send [--token TOKEN | --url URL] [--category C] [FILE...]",
		Short: "Send lines from files or standard input to an HTTP source",
		Long: `Send log lines to an HTTP source: each line of the files (or of standard input)
becomes a record. Plain text and JSON lines alike; a JSON line's "timestamp" or
"time" field (RFC 3339 or epoch milliseconds) sets the record's time.

The source is named by its token: --token, else HOOKLINE_SOURCE_TOKEN (or the
file HOOKLINE_SOURCE_TOKEN_FILE names), on --server, else HOOKLINE_SERVER,
else ` + defaultServer + `. Or by its whole URL: --url, else HOOKLINE_SOURCE_URL.
"hookline sources create" prints both. The token is the only credential sent.

Lines go in requests of at most --batch lines (and 8 MiB); each is answered
once its lines are stored. --category, --host and --name override the
source's metadata for these lines (X-Sumo-Category, X-Sumo-Host, X-Sumo-Name).`,
		Example: `  hookline logs send --token "$TOKEN" --category prod/web < access.log
  printf '{"timestamp": "2026-11-26T10:00:00Z", "ip": "203.0.113.7"}\n' | hookline logs send
  hookline logs send --url "$HOOKLINE_SOURCE_URL" --gzip /var/log/nginx/access.log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogsSend(cmd, f, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.server, "server", "", "URL of the Hookline server (env HOOKLINE_SERVER; default "+defaultServer+")")
	fs.StringVar(&f.token, "token", "", "the source's token (env HOOKLINE_SOURCE_TOKEN or HOOKLINE_SOURCE_TOKEN_FILE)")
	fs.StringVar(&f.url, "url", "", "the source's whole URL, instead of --server and --token (env HOOKLINE_SOURCE_URL)")
	fs.StringVar(&f.category, "category", "", "_sourceCategory of these lines, instead of the source's")
	fs.StringVar(&f.host, "host", "", "_sourceHost of these lines, instead of the source's")
	fs.StringVar(&f.name, "name", "", "_sourceName of these lines, instead of the source's")
	fs.BoolVar(&f.gzip, "gzip", false, "compress each request's body")
	fs.IntVar(&f.batch, "batch", 1000, "lines a request at most")
	fs.StringVarP(&f.output, "output", "o", outputTable, "output format: table, json or yaml")
	return cmd
}

// target settles the server and the token from the flags and the
// environment.
func (f *sendFlags) target(cmd *cobra.Command) (server, token string, err error) {
	fs := cmd.Flags()
	raw := f.url
	if raw == "" && !fs.Changed("token") && !fs.Changed("server") {
		raw = os.Getenv("HOOKLINE_SOURCE_URL")
	}
	if raw != "" {
		if fs.Changed("token") || fs.Changed("server") {
			return "", "", errors.New("give --url, or --server and --token, not both")
		}
		u, err := url.Parse(raw)
		base, tok, ok := strings.Cut(raw, client.ReceiverPath)
		if err != nil || !ok || tok == "" || strings.Contains(tok, "/") || u.RawQuery != "" {
			// Not the URL itself: it holds the token.
			return "", "", fmt.Errorf("--url must be a source's URL, such as %s%shls_…", defaultServer, client.ReceiverPath)
		}
		return base, tok, nil
	}
	token = f.token
	if token == "" {
		if token, err = envOr("HOOKLINE_SOURCE_TOKEN", ""); err != nil {
			return "", "", err
		}
	}
	if token == "" {
		return "", "", errors.New(`no source token: give --token or --url, or set HOOKLINE_SOURCE_TOKEN ("hookline sources create" prints it)`)
	}
	return cmp.Or(f.server, os.Getenv("HOOKLINE_SERVER"), defaultServer), token, nil
}

func runLogsSend(cmd *cobra.Command, f *sendFlags, files []string) error {
	if err := checkOutput(f.output); err != nil {
		return err
	}
	if f.batch < 1 {
		return errors.New("--batch must be at least 1")
	}
	server, token, err := f.target(cmd)
	if err != nil {
		return err
	}
	c := client.New(server, "", client.WithUserAgent("hookline-cli/"+version))
	opt := client.SendOptions{Category: f.category, Host: f.host, Name: f.name, Gzip: f.gzip}

	var (
		total    client.SendResult
		requests int
		buf      bytes.Buffer
		lines    int
	)
	flush := func() error {
		if lines == 0 {
			return nil
		}
		res, err := c.SendLogs(cmd.Context(), token, buf.Bytes(), opt)
		if err != nil {
			return fmt.Errorf("after %d lines were accepted: %w", total.Accepted, err)
		}
		total.Accepted += res.Accepted
		total.Truncated += res.Truncated
		requests++
		buf.Reset()
		lines = 0
		return nil
	}
	send := func(r io.Reader) error {
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				if len(line) > sendBatchBytes {
					line = line[:sendBatchBytes/2] // the receiver keeps 64 KiB of a line anyway
				}
				if buf.Len()+len(line) > sendBatchBytes {
					if err := flush(); err != nil {
						return err
					}
				}
				buf.Write(line)
				if line[len(line)-1] != '\n' {
					buf.WriteByte('\n')
				}
				if lines++; lines >= f.batch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	if len(files) == 0 {
		err = send(cmd.InOrStdin())
	}
	for _, name := range files {
		fh, ferr := os.Open(name)
		if ferr != nil {
			err = ferr
			break
		}
		err = send(fh)
		fh.Close()
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
			break
		}
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) && ae.Status == 401 {
			return fmt.Errorf("%w\nCheck the token: it may have been rotated, or its source deleted", err)
		}
		return err
	}
	if f.output != outputTable {
		return printObject(cmd.OutOrStdout(), f.output, map[string]int{"accepted": total.Accepted, "truncated": total.Truncated, "requests": requests})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Accepted %s in %s", plural(total.Accepted, "line"), plural(requests, "request"))
	if total.Truncated > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "; %d were longer than 64 KiB and were truncated", total.Truncated)
	}
	fmt.Fprintln(cmd.OutOrStdout(), ".")
	return nil
}
