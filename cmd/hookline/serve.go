package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/clock"
	"github.com/hookline/hookline/credential"
	"github.com/hookline/hookline/dispatch"
	hookhttp "github.com/hookline/hookline/http"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/monitor"
	"github.com/hookline/hookline/netguard"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
	"github.com/hookline/hookline/notify/webhook"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/scheduledsearch"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/web"
)

// Store is what Main needs of a database: the stores of every feature.
// *sqlite.DB and *postgres.DB both are.
type Store interface {
	hookline.ConnectionStore
	hookline.DeliveryStore
	hookline.AccessStore
	hookline.LogStore
	hookline.MonitorStore
	hookline.ScheduledSearchStore
	// Setting and PutSetting keep server settings: the setup tokens
	// replicas print (setupTokens).
	Setting(ctx context.Context, key string) (string, bool, error)
	PutSetting(ctx context.Context, key, value string) error
	DeleteSetting(ctx context.Context, key string) error
	Close() error
}

// setupTokens shares the setup tokens of the servers of one database, by
// their SHA-256, in its settings: a setup link printed by one replica then
// works on whichever the load balancer picks, until the replica that
// printed it stops (Close removes it). A token is good only while no user
// exists (CreateFirstUser refuses after), so one a crash left behind can
// do no more than the link could while its server ran.
type setupTokens struct{ db Store }

func setupTokenKey(sum [sha256.Size]byte) string { return "setup_token/" + hex.EncodeToString(sum[:]) }

func (t setupTokens) add(ctx context.Context, sum [sha256.Size]byte) error {
	return t.db.PutSetting(ctx, setupTokenKey(sum), time.Now().UTC().Format(time.RFC3339))
}

func (t setupTokens) remove(ctx context.Context, sum [sha256.Size]byte) error {
	return t.db.DeleteSetting(ctx, setupTokenKey(sum))
}

func (t setupTokens) SetupTokenKnown(ctx context.Context, sum [sha256.Size]byte) (bool, error) {
	_, ok, err := t.db.Setting(ctx, setupTokenKey(sum))
	return ok, err
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// Config is everything hookline serve reads from flags and environment.
type Config struct {
	DataDir string
	// DatabaseURL (--database-url, HOOKLINE_DATABASE_URL) is a PostgreSQL
	// database to keep everything in instead of DataDir's SQLite file;
	// DataDir still holds the master key unless HOOKLINE_MASTER_KEY is set.
	DatabaseURL string
	Addr        string
	MasterKey   string   // HOOKLINE_MASTER_KEY: encrypts secrets at rest; empty means the key file
	OldKeys     []string // HOOKLINE_MASTER_KEY_OLD: earlier master keys, to re-seal secrets under MasterKey
	AdminToken  string   // HOOKLINE_ADMIN_TOKEN: a bearer token with every capability; empty: none
	// HOOKLINE_ADMIN_EMAIL, _PASSWORD and _NAME: the first administrator,
	// created on a start that finds no user. Unset: a setup link is printed.
	AdminEmail, AdminPassword, AdminName string
	PublicURL                            string  // --public-url: where people reach the server
	APIRate, AlertRate                   float64 // requests a second per credential; 0: no limit
	LogFormat                            string  // text or json
	LogLevel                             slog.Level

	RequestTimeout time.Duration   // one attempt's deadline
	RetrySchedule  []time.Duration // delays between attempts; nil: notify.DefaultSchedule
	PerConnection  int             // attempts in flight to one connection
	Workers        int             // attempts in flight in all
	// DeliveryLease (--delivery-lease) is how long the deliveries this
	// process holds stay its own if it stops renewing: after a crash,
	// the other replicas take them over this long later.
	DeliveryLease time.Duration

	// LogRetention is how long log records are kept, by their time; 0
	// keeps them forever. Older ones are deleted every LogPruneInterval
	// (0: DefaultPruneInterval).
	LogRetention     time.Duration
	LogPruneInterval time.Duration

	// Outbound targets. By default (and in a zero Config) connections may
	// not reach loopback, private, link-local, CGNAT, multicast or cloud
	// metadata addresses; see package netguard.
	AllowPrivateTargets bool           // --allow-private-targets: all of them but the metadata addresses
	AllowTargets        []netip.Prefix // --allow-targets: these ranges, whatever they hold
	// AWSDefaultCredentials (--aws-default-credentials) lets AWS Lambda
	// connections use the credentials of the machine Hookline runs on (the
	// SDK's default chain), directly or to assume a role. Off: whoever may
	// edit connections could otherwise act as this server's AWS identity.
	AWSDefaultCredentials bool

	// Monitors and scheduled searches. EvaluationDelay holds every
	// evaluation back so that late records, those sent with their own
	// timestamp, are counted; EvaluationWorkers bounds the queries in
	// flight (each scheduler's), QueryTimeout each one's run.
	EvaluationDelay   time.Duration
	EvaluationWorkers int
	QueryTimeout      time.Duration

	// SchedulerClock is the clock of the monitor and scheduled-search
	// schedulers; nil is the real one. Not a flag: end-to-end tests set a
	// fake one to make windows pass.
	SchedulerClock clock.Clock
}

// guard is the rule every outbound connection is dialled under.
func (c *Config) guard() *netguard.Guard {
	return &netguard.Guard{AllowPrivate: c.AllowPrivateTargets, Allow: c.AllowTargets}
}

// DefaultConfig is what hookline serve uses when nothing is set.
func DefaultConfig() Config {
	return Config{
		DataDir: "./hookline-data", Addr: "127.0.0.1:8080", LogFormat: "text", LogLevel: slog.LevelInfo,
		RequestTimeout: notify.DefaultTimeout, PerConnection: 32, Workers: 512, DeliveryLease: DefaultDeliveryLease,
		APIRate: hookhttp.DefaultLimits.API.Rate, AlertRate: hookhttp.DefaultLimits.Alert.Rate,
		LogRetention:      DefaultLogRetention,
		EvaluationWorkers: monitor.DefaultWorkers, QueryTimeout: monitor.DefaultQueryTimeout,
	}
}

// Validate checks the configuration before anything is opened.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	if c.Addr == "" {
		return errors.New("--addr must not be empty")
	}
	if c.DatabaseURL != "" {
		if err := checkDatabaseURL(c.DatabaseURL); err != nil {
			return err
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	}
	if t := c.AdminToken; t != "" && (len(t) < 16 || strings.ContainsFunc(t, unicode.IsSpace)) {
		return errors.New("HOOKLINE_ADMIN_TOKEN must be at least 16 characters long, without white space")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return errors.New("HOOKLINE_ADMIN_EMAIL and HOOKLINE_ADMIN_PASSWORD go together: set both, or neither")
	}
	if c.AdminPassword != "" {
		if err := hookline.ValidatePassword("HOOKLINE_ADMIN_PASSWORD", c.AdminPassword); err != nil {
			return errors.New(hookline.ErrorMessage(err))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url must be an absolute http:// or https:// URL, not %q", c.PublicURL)
		}
	}
	if c.APIRate < 0 || c.AlertRate < 0 {
		return errors.New("--api-rate-limit and --alert-rate-limit must not be negative")
	}
	if c.LogRetention < 0 || c.LogPruneInterval < 0 {
		return errors.New("--log-retention and the prune interval must not be negative")
	}
	if c.EvaluationDelay < 0 || c.EvaluationDelay > time.Hour {
		return fmt.Errorf("--evaluation-delay must be from 0 to 1h, not %s", c.EvaluationDelay)
	}
	if c.EvaluationWorkers < 0 || c.QueryTimeout < 0 {
		return errors.New("--evaluation-workers and --query-timeout must not be negative")
	}
	if c.RequestTimeout < 0 || c.PerConnection < 0 || c.Workers < 0 {
		return errors.New("--request-timeout, --per-connection and --workers must not be negative")
	}
	if c.DeliveryLease != 0 && (c.DeliveryLease < time.Second || c.DeliveryLease > time.Hour) {
		return fmt.Errorf("--delivery-lease must be from 1s to 1h, not %s", c.DeliveryLease)
	}
	for _, p := range c.AllowTargets {
		if !p.IsValid() {
			return errors.New("--allow-targets: a range is not valid")
		}
	}
	for _, d := range c.RetrySchedule {
		if d <= 0 {
			return fmt.Errorf("--retry-schedule: every delay must be positive, not %s", d)
		}
	}
	return nil
}

// DefaultDeliveryLease is --delivery-lease's default: long enough that a
// replica stalled by a slow database keeps its work, short enough that a
// crashed one's is taken over within a minute.
const DefaultDeliveryLease = 30 * time.Second

// Main is a running Hookline server; tests start one on port 0.
type Main struct {
	Config Config
	Stderr io.Writer // where the one-time admin token is printed

	Logger     *slog.Logger
	lock       *os.File          // holds the data directory's lock while running
	setupSum   [sha256.Size]byte // the setup token this process shared; zero: none
	DB         Store
	Dispatcher *dispatch.Dispatcher
	Monitors   *monitor.Scheduler         // evaluates monitors every interval
	Searches   *scheduledsearch.Scheduler // runs scheduled searches on their schedules
	Server     *hookhttp.Server
	pruner     *pruner // deletes log records past the retention; nil: kept forever
}

// Run opens the database and starts serving; it returns once the server
// listens. Close stops it. On error, whatever Run opened is closed again.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = m.Close(context.Background())
		}
	}()
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if m.Stderr == nil {
		m.Stderr = os.Stderr
	}
	if m.Logger == nil {
		m.Logger = newLogger(m.Stderr, m.Config.LogFormat, m.Config.LogLevel)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if m.lock, err = lockDataDir(m.Config.DataDir); err != nil {
		return err
	}
	kr, created, err := keyring.Load(m.Config.DataDir, m.Config.MasterKey, m.Config.OldKeys...)
	if err != nil {
		return fmt.Errorf("load master key: %w", err)
	}
	if created {
		m.Logger.Warn("created a new master key; back it up with the database, secrets cannot be read without it",
			"path", filepath.Join(m.Config.DataDir, "master.key"))
	}
	// Open's errors name the database; a wrong master key is caught
	// there, before the API could answer 500 for every secret.
	if m.DB, err = m.openStore(ctx, kr); err != nil {
		return err
	}
	var tokenHash [sha256.Size]byte
	if m.Config.AdminToken != "" {
		tokenHash = sha256.Sum256([]byte(m.Config.AdminToken)) // its form was checked by Config.Validate
	}
	setupToken, err := m.firstAdmin(ctx)
	if err != nil {
		return err
	}
	registry := notify.NewRegistry(awslambda.New(awslambda.Options{AmbientCredentials: m.Config.AWSDefaultCredentials}), webhook.Kind{})
	sender := &notify.Sender{Registry: registry, Timeout: m.Config.RequestTimeout, Guard: m.Config.guard()}
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Dispatcher = dispatch.New(dispatch.Config{
		Retry:         notify.RetryPolicy{Schedule: m.Config.RetrySchedule, Jitter: notify.DefaultJitter},
		Workers:       m.Config.Workers,
		PerConnection: m.Config.PerConnection,
		Lease:         m.Config.DeliveryLease,
		Logger:        m.Logger,
		Metrics:       dispatch.NewMetrics(metrics, m.DB.QueueStats),
	}, m.DB, m.DB, sender)
	if err := m.Dispatcher.Start(ctx); err != nil {
		return err
	}
	m.Server = &hookhttp.Server{
		Addr:              m.Config.Addr,
		Store:             m.DB,
		Registry:          registry,
		Sender:            sender,
		Logger:            m.Logger,
		TokenHash:         tokenHash,
		Access:            m.DB,
		PublicURL:         strings.TrimSuffix(m.Config.PublicURL, "/"),
		Limits:            hookhttp.NewLimits(m.Config.APIRate, m.Config.AlertRate),
		Deliveries:        m.DB,
		Dispatcher:        m.Dispatcher,
		Metrics:           promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}),
		UI:                web.Handler(),
		Logs:              m.DB,
		Monitors:          m.DB,
		ScheduledSearches: m.DB,
	}
	m.Server.SetupTokens = setupTokens{m.DB}
	if setupToken != "" {
		m.Server.SetupTokenHash = sha256.Sum256([]byte(setupToken))
		if err := (setupTokens{m.DB}).add(ctx, m.Server.SetupTokenHash); err != nil {
			return fmt.Errorf("keep the setup token: %w", err)
		}
		m.setupSum = m.Server.SetupTokenHash
	}
	if err := m.Server.Open(); err != nil {
		return err
	}
	base := m.Server.PublicURL
	if base == "" {
		base = m.Server.URL()
	}
	m.startSchedulers(base)
	if m.Config.LogRetention > 0 {
		m.pruner = newPruner(m.DB, m.Config.LogRetention, m.Config.LogPruneInterval, clock.Real{}, m.Logger)
		m.pruner.Start()
	}
	if setupToken != "" {
		fmt.Fprintf(m.Stderr, `
  Hookline has no users yet. Open this link to create the first administrator
  (it works once, until this process stops; with replicas, on any of them):

      %s/setup?token=%s

  Or start with HOOKLINE_ADMIN_EMAIL and HOOKLINE_ADMIN_PASSWORD set.

`, base, setupToken)
	}
	m.Logger.Info("hookline is serving", "url", m.Server.URL(), "data_dir", m.Config.DataDir, "version", version,
		"log_retention", formatRetention(m.Config.LogRetention))
	return nil
}

// openStore opens the PostgreSQL database of DatabaseURL, which any
// number of replicas may share, or else the SQLite file in DataDir (which
// lockDataDir keeps to one process).
func (m *Main) openStore(ctx context.Context, kr *keyring.Keyring) (Store, error) {
	if m.Config.DatabaseURL == "" {
		db, err := sqlite.Open(ctx, filepath.Join(m.Config.DataDir, "hookline.db"), kr)
		if err != nil {
			return nil, err // not a nil *sqlite.DB in a non-nil Store
		}
		// The data directory's lock says every process that held
		// deliveries here has stopped: what they held is claimed at once.
		if err := db.EndLeases(ctx); err != nil {
			return nil, errors.Join(err, db.Close())
		}
		return db, nil
	}
	db, err := postgres.Open(ctx, m.Config.DatabaseURL, kr)
	if err != nil {
		return nil, err
	}
	// Keeps `hookline secrets rotate` out while this server runs.
	if err := db.HoldServing(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// startSchedulers starts evaluating monitors, once the server is serving
// at base: their alerts link back to it.
func (m *Main) startSchedulers(base string) {
	// The dispatcher's owner is random per process: monitor leases and
	// held deliveries name the same process.
	accept := linkAlerts(base, m.Dispatcher.Accept)
	m.Monitors = &monitor.Scheduler{
		Monitors: m.DB, Logs: m.DB, Accept: accept,
		Owner: m.Dispatcher.Owner(), Clock: m.Config.SchedulerClock, Delay: m.Config.EvaluationDelay,
		Workers: m.Config.EvaluationWorkers, QueryTimeout: m.Config.QueryTimeout,
		Logger: m.Logger.With("component", "monitors"),
	}
	m.Monitors.Start()
	m.Searches = &scheduledsearch.Scheduler{
		Searches: m.DB, Logs: m.DB, Accept: accept,
		Owner: m.Dispatcher.Owner(), Clock: m.Config.SchedulerClock, Delay: m.Config.EvaluationDelay,
		Workers: m.Config.EvaluationWorkers, QueryTimeout: m.Config.QueryTimeout,
		Logger: m.Logger.With("component", "searches"),
	}
	m.Searches.Start()
}

// firstAdmin makes sure someone can administer a new installation: with
// no user yet, it creates the one HOOKLINE_ADMIN_* describe, or returns a
// one-time setup token for the link Run prints. Never a default password.
func (m *Main) firstAdmin(ctx context.Context) (setupToken string, err error) {
	n, err := m.DB.CountUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		if m.Config.AdminEmail != "" {
			m.Logger.Info("HOOKLINE_ADMIN_EMAIL is ignored: users exist already")
		}
		return "", nil
	}
	if m.Config.AdminEmail == "" {
		return newToken(), nil
	}
	u := &hookline.User{
		Email: m.Config.AdminEmail, Name: m.Config.AdminName, RoleIDs: []string{hookline.AdministratorRoleID},
		PasswordHash: credential.Hash(m.Config.AdminPassword),
	}
	err = m.DB.CreateFirstUser(hookline.WithActor(ctx, hookline.Actor{Kind: hookline.ActorSystem, Name: "HOOKLINE_ADMIN_EMAIL"}), u)
	if hookline.ErrorCode(err) == hookline.ECONFLICT {
		// Replicas started at once on a new database: another one
		// created the first user between the count and this.
		m.Logger.Info("HOOKLINE_ADMIN_EMAIL is ignored: another server created the first user just now")
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("create the first administrator from HOOKLINE_ADMIN_EMAIL: %w", err)
	}
	m.Logger.Info("created the first administrator", "email", u.Email, "user_id", u.ID)
	return "", nil
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return "hk_" + base64.RawURLEncoding.EncodeToString(b)
}

// Close stops the server, waiting up to ctx for requests in flight, then
// the log pruner, canceling a round in progress, the monitor and
// scheduled-search schedulers, canceling the queries in flight, and the dispatcher, waiting for
// attempts in flight, and closes the database.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.Server != nil {
		errs = append(errs, m.Server.Close(ctx))
	}
	if m.pruner != nil {
		m.pruner.Stop()
		m.pruner = nil
	}
	// The schedulers before the dispatcher, whose Accept they call.
	if m.Monitors != nil {
		errs = append(errs, m.Monitors.Stop(ctx))
		m.Monitors = nil
	}
	if m.Searches != nil {
		errs = append(errs, m.Searches.Stop(ctx))
		m.Searches = nil
	}
	if m.Dispatcher != nil {
		errs = append(errs, m.Dispatcher.Stop(ctx))
	}
	if m.setupSum != ([sha256.Size]byte{}) {
		errs = append(errs, setupTokens{m.DB}.remove(ctx, m.setupSum))
		m.setupSum = [sha256.Size]byte{}
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	if m.lock != nil {
		errs = append(errs, m.lock.Close()) // closing releases the lock
		m.lock = nil
	}
	return errors.Join(errs...)
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// envOr returns the environment variable name, or the contents of the file
// named by name_FILE (trimmed), or def.
func envOr(name, def string) (string, error) {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v, nil
	}
	if path := os.Getenv(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read %s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return def, nil
}

func newServeCmd() *cobra.Command {
	cfg := DefaultConfig()
	var level string
	var allowTargets []string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Hookline server on an embedded SQLite database, or on PostgreSQL",
		Long: `Run the Hookline server. Everything it keeps (the SQLite database and, unless
HOOKLINE_MASTER_KEY is set, the key that encrypts secrets) lives in --data-dir.

With --database-url, everything is kept in PostgreSQL instead, and any number of
replicas may serve the same database behind a load balancer: each delivery is attempted
by one replica at a time, each monitor and scheduled search runs once per time. Give
every replica the same HOOKLINE_MASTER_KEY and a --data-dir of its own. See
docs/deploy.md.

Environment:
  HOOKLINE_ADMIN_EMAIL, HOOKLINE_ADMIN_PASSWORD, HOOKLINE_ADMIN_NAME
                         the first administrator, created when the database has no user.
                         Unset: a one-time setup link is printed instead
  HOOKLINE_ADMIN_TOKEN   optional bearer token with every capability (at least 16
                         characters), for automation and for recovering a lost password;
                         people and programs should use access keys instead
  HOOKLINE_MASTER_KEY    32-byte key (base64 or hex) that encrypts secrets at rest; when
                         unset, <data-dir>/master.key is created with mode 0600
  HOOKLINE_MASTER_KEY_OLD  earlier master keys (comma-separated): secrets sealed with them
                         are re-sealed under HOOKLINE_MASTER_KEY at start
  Each may instead be read from a file named by the same variable with _FILE appended.

Outbound targets: connections (deliveries and Test Alert) may not reach loopback, private,
link-local, CGNAT, multicast or cloud metadata addresses; the address a name resolves to is
checked when it is dialled. --allow-targets opens the ranges it lists (127.0.0.1/32 for
hookline dev lambda); --allow-private-targets opens all of them but the metadata addresses.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			var err error
			for _, s := range allowTargets {
				p, err := netguard.ParsePrefix(s)
				if err != nil {
					return fmt.Errorf("--allow-targets: %w", err)
				}
				cfg.AllowTargets = append(cfg.AllowTargets, p)
			}
			if cfg.MasterKey, err = envOr("HOOKLINE_MASTER_KEY", ""); err != nil {
				return err
			}
			if cfg.DatabaseURL == "" {
				if cfg.DatabaseURL, err = envOr("HOOKLINE_DATABASE_URL", ""); err != nil {
					return err
				}
			}
			for _, v := range []struct {
				name string
				dst  *string
			}{
				{"HOOKLINE_ADMIN_TOKEN", &cfg.AdminToken},
				{"HOOKLINE_ADMIN_EMAIL", &cfg.AdminEmail},
				{"HOOKLINE_ADMIN_PASSWORD", &cfg.AdminPassword},
				{"HOOKLINE_ADMIN_NAME", &cfg.AdminName},
			} {
				if *v.dst, err = envOr(v.name, ""); err != nil {
					return err
				}
			}
			old, err := envOr("HOOKLINE_MASTER_KEY_OLD", "")
			if err != nil {
				return err
			}
			cfg.OldKeys = strings.Fields(strings.ReplaceAll(old, ",", " "))
			m := &Main{Config: cfg, Stderr: cmd.ErrOrStderr()}
			if err := m.Run(cmd.Context()); err != nil {
				return err
			}
			select {
			case <-cmd.Context().Done():
			case <-m.Server.Done():
				_ = m.Close(context.Background())
				return fmt.Errorf("the server stopped serving: %w", m.Server.Err())
			}
			m.Logger.Info("shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return m.Close(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the database and the master key")
	f.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL database to use instead of the SQLite file in --data-dir (postgres://user@host/db; or HOOKLINE_DATABASE_URL, which keeps a password out of the process list)")
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (host:port)")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log format: text or json")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of one delivery attempt")
	f.DurationSliceVar(&cfg.RetrySchedule, "retry-schedule", nil, "delays between a delivery's attempts, comma-separated: 10 attempts over about a day by default")
	f.Lookup("retry-schedule").DefValue = "10s,1m,5m,15m,30m,1h,2h,6h,14h"
	f.IntVar(&cfg.PerConnection, "per-connection", cfg.PerConnection, "delivery attempts in flight to one connection at most")
	f.IntVar(&cfg.Workers, "workers", cfg.Workers, "delivery attempts in flight in all at most")
	f.DurationVar(&cfg.DeliveryLease, "delivery-lease", cfg.DeliveryLease, "with replicas on PostgreSQL: how long the deliveries a replica holds stay its own without renewal; a crashed replica's are taken over this long after it stopped (renewed every third of it)")
	f.StringSliceVar(&allowTargets, "allow-targets", nil, "address ranges connections may reach although they are private, comma-separated CIDRs (e.g. 127.0.0.1/32 for hookline dev lambda)")
	f.StringVar(&cfg.PublicURL, "public-url", "", "URL people reach this server at, when behind a proxy (https:// makes session cookies Secure)")
	f.Float64Var(&cfg.APIRate, "api-rate-limit", cfg.APIRate, "API requests a second per access key, session or token (burst twice that); 0: no limit")
	f.Float64Var(&cfg.AlertRate, "alert-rate-limit", cfg.AlertRate, "alert posts a second per access key or token, and requests per HTTP source (burst twice that); 0: no limit")
	f.Var(retentionFlag{&cfg.LogRetention}, "log-retention", "how long log records are kept, by their time: days (7d), a duration (36h) or both (1d12h); 0 keeps them forever")
	f.DurationVar(&cfg.EvaluationDelay, "evaluation-delay", cfg.EvaluationDelay, "how long monitors and scheduled searches wait after a window ends before they read it, so that records sent late with their own timestamps are counted")
	f.IntVar(&cfg.EvaluationWorkers, "evaluation-workers", cfg.EvaluationWorkers, "monitor evaluations, and scheduled-search runs, in flight at most (each)")
	f.DurationVar(&cfg.QueryTimeout, "query-timeout", cfg.QueryTimeout, "deadline of one monitor evaluation's or scheduled search's query; a query that runs out sends nothing and is tried again at the next time")
	f.BoolVar(&cfg.AWSDefaultCredentials, "aws-default-credentials", false, "let AWS Lambda connections use this machine's AWS credentials (environment, shared config, web identity, instance or container role), directly or to assume a role")
	f.BoolVar(&cfg.AllowPrivateTargets, "allow-private-targets", false, "let connections reach loopback, private and link-local addresses (not metadata addresses: only --allow-targets opens those)")
	return cmd
}

// lockDataDir takes an exclusive lock on the data directory: SQLite is
// one process's, and a second hookline on the same directory would claim
// the deliveries the first holds and send them twice.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "hookline.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another hookline is running on data directory %s (it holds %s); stop it first, or use another --data-dir", dir, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
