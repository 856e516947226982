package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/bench"
	"github.com/hookline/hookline/keyring"
)

// benchServers is what hookline bench starts in this process when it is
// given no --server: one Hookline, or replicas on one PostgreSQL database.
type benchServers struct {
	Replicas    int    // 1 or more; more than 1 needs DatabaseURL
	DatabaseURL string // empty: SQLite in DataDir
	// DataDir is the data directory of a single server, or the parent of
	// the replicas' (replica-1, replica-2, …); empty: a temporary one,
	// removed by Close.
	DataDir string
	Token   string // the admin token of every server
	Logs    io.Writer

	mains []*Main
	tmp   string
}

// Start starts the servers one after another, so that the first runs the
// migrations alone, and returns their URLs. On an error it stops those it
// started.
func (b *benchServers) Start(ctx context.Context) (urls []string, err error) {
	if b.Replicas < 1 {
		return nil, errors.New("--replicas must be 1 or more")
	}
	if b.Replicas > 1 && b.DatabaseURL == "" {
		return nil, fmt.Errorf("--replicas %d needs --database-url (or HOOKLINE_DATABASE_URL): replicas share one PostgreSQL database", b.Replicas)
	}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	dir := b.DataDir
	if dir == "" {
		if b.tmp, err = os.MkdirTemp("", "hookline-bench-"); err != nil {
			return nil, err
		}
		dir = b.tmp
	}
	// Replicas must seal and open secrets with one key; each would
	// otherwise make its own in its data directory.
	var masterKey string
	if b.DatabaseURL != "" {
		if masterKey, err = envOr("HOOKLINE_MASTER_KEY", ""); err != nil {
			return nil, err
		}
		if masterKey == "" {
			key, err := keyring.NewKey()
			if err != nil {
				return nil, err
			}
			masterKey = keyring.EncodeKey(key)
		}
	}
	for i := range b.Replicas {
		m := &Main{
			Config: DefaultConfig(), Stderr: io.Discard,
			Logger: slog.New(slog.NewTextHandler(b.Logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		}
		m.Config.DataDir, m.Config.Addr, m.Config.AdminToken = dir, "127.0.0.1:0", b.Token
		if b.Replicas > 1 {
			// Each replica locks its own data directory.
			m.Config.DataDir = filepath.Join(dir, fmt.Sprintf("replica-%d", i+1))
			if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
				return nil, err
			}
		}
		m.Config.DatabaseURL, m.Config.MasterKey = b.DatabaseURL, masterKey
		// The benchmark measures the pipeline, not the per-credential limits.
		m.Config.APIRate, m.Config.AlertRate = 0, 0
		m.Config.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // bench.Run's target
		if err := m.Run(ctx); err != nil {
			if b.Replicas > 1 {
				return nil, fmt.Errorf("start replica %d: %w", i+1, err)
			}
			return nil, err
		}
		b.mains = append(b.mains, m)
		urls = append(urls, m.Server.URL())
	}
	return urls, nil
}

// Where says where the servers keep their data, for the report.
func (b *benchServers) Where() string {
	dir := b.DataDir
	if dir == "" {
		dir = b.tmp
	}
	if b.DatabaseURL != "" {
		return "PostgreSQL (--database-url), data directories in " + dir
	}
	return "SQLite in " + dir
}

// Close stops the servers, the last started first, and removes a
// temporary data directory.
func (b *benchServers) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := len(b.mains) - 1; i >= 0; i-- {
		_ = b.mains[i].Close(ctx)
	}
	b.mains = nil
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
		b.tmp = ""
	}
}

func newBenchCmd() *cobra.Command {
	var (
		cfg     bench.Config
		servers benchServers
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure alerts accepted and delivered per second, end to end",
		Long: `Measure Hookline end to end: post alerts to the API, deliver each as a
SigV4-signed request to a local target on 127.0.0.1, and report alerts
accepted and delivered per second, the time from posting an alert to its
arrival (p50, p90, p99, max), and any alert lost or delivered twice.

Without --server, Hookline is started in this process on a fresh SQLite
data directory (removed afterwards unless --data-dir is given), so the
figures include the server, the load generator and the target, all on this
machine. With --database-url (or HOOKLINE_DATABASE_URL) it keeps its data in
that PostgreSQL database instead, and --replicas N starts N servers on it,
each with its own data directory and one master key (HOOKLINE_MASTER_KEY, or
a fresh one), as replicas run; batches of alerts go to the replicas in turn.
Use an empty database made for the run: the run leaves its connection and
alerts there.

--server measures servers that are running already; give it once per
replica to spread the alerts over several.`,
		Example: `  hookline bench --alerts 100000 --batch 100 --concurrency 8
  hookline bench --alerts 50000 --batch 1 --concurrency 64 --rate 5000
  hookline bench --alerts 50000 --replicas 3 --database-url postgres://hookline@127.0.0.1/bench
  hookline bench --server http://127.0.0.1:8080 --token "$HOOKLINE_TOKEN" --verify
  hookline bench --server http://10.0.0.1:8080,http://10.0.0.2:8080 --token "$HOOKLINE_TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			f := cmd.Flags()
			if len(cfg.Servers) > 0 {
				for _, name := range []string{"replicas", "database-url", "data-dir"} {
					if f.Changed(name) {
						return fmt.Errorf("--%s is for servers started in this process; with --server, list each running replica's URL in --server", name)
					}
				}
			} else {
				if servers.DatabaseURL == "" {
					var err error
					if servers.DatabaseURL, err = envOr("HOOKLINE_DATABASE_URL", ""); err != nil {
						return err
					}
				}
				servers.Token, servers.Logs = newToken(), cmd.ErrOrStderr()
				urls, err := servers.Start(cmd.Context())
				if err != nil {
					return err
				}
				defer servers.Close()
				cfg.Servers, cfg.Token = urls, servers.Token
				what := "Hookline started"
				if len(urls) > 1 {
					what = fmt.Sprintf("%d Hookline replicas started", len(urls))
				}
				fmt.Fprintf(out, "%s in this process on %v, data in %s\n", what, urls, servers.Where())
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
	f.StringSliceVar(&cfg.Servers, "server", nil, "a running Hookline's URL; several (repeated or comma-separated) for replicas, which get the batches in turn (default: start Hookline in this process)")
	f.StringVar(&cfg.Token, "token", os.Getenv("HOOKLINE_TOKEN"), "the running Hookline's admin token (default $HOOKLINE_TOKEN)")
	f.IntVar(&cfg.Alerts, "alerts", 20000, "alerts to send")
	f.IntVar(&cfg.Batch, "batch", 100, "alerts per POST, 1 to 1000")
	f.IntVar(&cfg.Concurrency, "concurrency", 8, "POSTs in flight at once")
	f.Float64Var(&cfg.Rate, "rate", 0, "alerts per second to offer (0: as fast as they are accepted)")
	f.BoolVar(&cfg.Verify, "verify", false, "make the target verify every SigV4 signature (costs CPU on this machine)")
	f.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "give up after this long")
	f.StringVar(&servers.DataDir, "data-dir", "", "data directory of the in-process server, or parent of the replicas' (default: a temporary one)")
	f.StringVar(&servers.DatabaseURL, "database-url", "", "PostgreSQL database for the in-process servers instead of SQLite (postgres://user@host/db; or HOOKLINE_DATABASE_URL)")
	f.IntVar(&servers.Replicas, "replicas", 1, "servers to start in this process on the --database-url database")
	return cmd
}

func rateText(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f/s", r)
}
