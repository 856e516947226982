package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/bench"
)

func newBenchCmd() *cobra.Command {
	var (
		cfg     bench.Config
		dataDir string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure alerts accepted and delivered per second, end to end",
		Long: `Measure Hookline end to end: post alerts to the API, deliver each as a
SigV4-signed request to a local target on 127.0.0.1, and report alerts
accepted and delivered per second, the time from posting an alert to its
arrival (p50, p90, p99, max), and any alert lost or delivered twice.

Without --server, a Hookline server is started in this process on a fresh
SQLite data directory (removed afterwards unless --data-dir is given), so
the figures include the server, the load generator and the target, all on
this machine.`,
		Example: `  hookline bench --alerts 100000 --batch 100 --concurrency 8
  hookline bench --alerts 50000 --batch 1 --concurrency 64 --rate 5000
  hookline bench --server http://127.0.0.1:8080 --token "$HOOKLINE_TOKEN" --verify`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if cfg.Server == "" {
				dir := dataDir
				if dir == "" {
					tmp, err := os.MkdirTemp("", "hookline-bench-")
					if err != nil {
						return err
					}
					defer os.RemoveAll(tmp)
					dir = tmp
				}
				cfg.Token = newToken()
				m := &Main{
					Config: DefaultConfig(), Stderr: io.Discard,
					Logger: slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})),
				}
				m.Config.DataDir, m.Config.Addr, m.Config.AdminToken = dir, "127.0.0.1:0", cfg.Token
				// The benchmark measures the pipeline, not the per-credential limits.
				m.Config.APIRate, m.Config.AlertRate = 0, 0
				m.Config.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // bench.Run's target
				if err := m.Run(cmd.Context()); err != nil {
					return err
				}
				defer func() {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					m.Close(ctx)
				}()
				cfg.Server = m.Server.URL()
				fmt.Fprintf(out, "Hookline started in this process on %s, data in %s\n", cfg.Server, dir)
			}
			cfg.Progress = out
			fmt.Fprintf(out, "sending %d alerts in batches of %d, %d at a time, rate %s, target verifies SigV4: %v\n",
				cfg.Alerts, cfg.Batch, cfg.Concurrency, rateText(cfg.Rate), cfg.Verify)
			res, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, res)
			if res.Lost > 0 || res.Refused > 0 {
				return fmt.Errorf("%d alerts lost, %d requests refused", res.Lost, res.Refused)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Server, "server", "", "a running Hookline's URL (default: start one in this process)")
	f.StringVar(&cfg.Token, "token", os.Getenv("HOOKLINE_TOKEN"), "the running Hookline's admin token (default $HOOKLINE_TOKEN)")
	f.IntVar(&cfg.Alerts, "alerts", 20000, "alerts to send")
	f.IntVar(&cfg.Batch, "batch", 100, "alerts per POST, 1 to 1000")
	f.IntVar(&cfg.Concurrency, "concurrency", 8, "POSTs in flight at once")
	f.Float64Var(&cfg.Rate, "rate", 0, "alerts per second to offer (0: as fast as they are accepted)")
	f.BoolVar(&cfg.Verify, "verify", false, "make the target verify every SigV4 signature (costs CPU on this machine)")
	f.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "give up after this long")
	f.StringVar(&dataDir, "data-dir", "", "data directory of the in-process server (default: a temporary one)")
	return cmd
}

func rateText(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f/s", r)
}
