// Command hookline is Hookline's one binary: the server (hookline serve),
// the CLI that talks to its API (hookline connections, alerts, deliveries,
// keys, users, roles, audit and whoami for access control, sources and
// logs send for log ingest, search, monitors and searches for alerting on
// logs, export and apply for definitions kept as YAML files), maintenance
// (hookline secrets rotate) and developer tools (hookline dev
// lambda, hookline bench). It is the only place that wires packages
// together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/notify"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	notify.UserAgent = "hookline/" + version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, the default handling comes back: a second
	// Ctrl-C ends a shutdown that takes too long.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := newRootCmd(os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a status and no further message (the
// command has printed what went wrong).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "hookline",
		Short: "Hookline turns alerts into signed, well-formed requests to AWS Lambda functions and webhooks",
		Long: `Hookline keeps named connections (AWS Lambda Function URLs and API Gateway
endpoints called with SigV4-signed requests, generic webhooks) and turns alerts
into requests to them.

Start the server with "hookline serve"; manage connections with
"hookline connections"; try a Lambda offline with "hookline dev lambda".`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCmd(), newConnectionsCmd(), newDevCmd(), newBenchCmd())
	root.AddCommand(newAlertsCmd(), newDeliveriesCmd())
	root.AddCommand(newSecretsCmd())
	root.AddCommand(newKeysCmd(), newUsersCmd(), newRolesCmd(), newAuditCmd(), newWhoamiCmd())
	root.AddCommand(newSourcesCmd(), newLogsCmd(), newSearchCmd(), newMonitorsCmd(), newSearchesCmd())
	root.AddCommand(newApplyCmd(), newExportCmd())
	return root
}
