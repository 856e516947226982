// Package pgtest gives tests a real PostgreSQL: one private cluster per test
// binary, started in a temporary directory when the first test asks for a
// database (initdb, then pg_ctl on 127.0.0.1 and a free port, fsync off),
// so that runs of other tests start none, and a fresh, empty database per
// test from NewDatabase, so that tests are isolated and may run in
// parallel. The cluster is stopped and its directory removed when the
// tests end.
//
// The binaries are found on PATH or under /usr/lib/postgresql/*/bin. When
// there are none, the tests that ask for a database skip, saying why,
// unless HOOKLINE_REQUIRE_POSTGRES=1 (as CI sets), when they fail instead. HOOKLINE_TEST_DATABASE_URL (postgres://user@host:port/db)
// uses an existing server instead of starting one: its user must be
// allowed to create databases.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Environment variables the harness reads.
const (
	EnvRequire = "HOOKLINE_REQUIRE_POSTGRES"
	EnvURL     = "HOOKLINE_TEST_DATABASE_URL"
)

// server is the cluster of this test binary, started by the first
// NewDatabase (so that a run of tests that need none starts none) and
// stopped by Main.
var server struct {
	once    sync.Once
	main    bool         // Main is running the tests
	stop    func() error // stops what start started; nil when nothing is
	admin   *sql.DB      // connected to the maintenance database, creates and drops test databases
	base    *url.URL     // the server's URL; a test database's URL differs in its path
	skipped string       // why there is no server, when there is none
}

// Main runs the tests and then stops the cluster, if one of them started
// it (or disconnects from HOOKLINE_TEST_DATABASE_URL). Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	server.main = true
	// An interrupted run (^C, SIGTERM) stops the cluster rather than
	// leaving it running; a killed one is swept by the next (sweepStale).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			stopServer()
			os.Exit(1)
		}
	}()
	code := m.Run()
	if err := stopServer(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// stopServer stops the cluster if one was started; later NewDatabase
// calls find none.
func stopServer() error {
	var err error
	server.once.Do(func() { server.skipped = "the tests are over" }) // none starts after this
	if server.stop != nil {
		err, server.stop = server.stop(), nil
	}
	return err
}

// ensure starts the server the first time a test asks for a database.
func ensure() {
	server.once.Do(func() {
		stop, err := start()
		if err != nil {
			server.skipped = err.Error()
			return
		}
		server.stop = stop
	})
}

// start connects to the server the tests use, starting one if need be, and
// returns the function that stops it.
func start() (stop func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if raw := os.Getenv(EnvURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, fmt.Errorf("%s is not a postgres:// URL", EnvURL)
		}
		return connect(ctx, u, func() error { return nil })
	}
	c, err := startCluster(ctx)
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: "postgres", User: url.User("hookline"), Host: c.addr, Path: "/postgres",
		RawQuery: "sslmode=disable"}
	return connect(ctx, u, c.stop)
}

func connect(ctx context.Context, u *url.URL, stopServer func() error) (func() error, error) {
	db, err := sql.Open("pgx", u.String())
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connect to PostgreSQL at %s: %w", u.Redacted(), err), stopServer())
	}
	server.admin, server.base = db, u
	return func() error { return errors.Join(db.Close(), stopServer()) }, nil
}

// NewDatabase creates an empty database for tb, dropped when tb ends, and
// returns its URL. It skips tb when there is no PostgreSQL (see the
// package comment).
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	if !server.main {
		tb.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	ensure()
	if server.admin == nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("pgtest: %s (%s=1: PostgreSQL is required)", server.skipped, EnvRequire)
		}
		tb.Skipf("PostgreSQL is not available (%s); set %s=1 to fail instead, or %s to use a server",
			server.skipped, EnvRequire, EnvURL)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := server.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		// FORCE ends connections a failed test left open.
		if _, err := server.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u := *server.base
	u.Path = "/" + name
	return u.String()
}

// cluster is a PostgreSQL cluster this process started.
type cluster struct {
	dir  string // holds the data directory, the socket and the log
	bin  string // the directory of initdb and pg_ctl
	addr string // 127.0.0.1:port
	as   *account
}

// findBinaries returns the directory holding initdb and pg_ctl: the one
// on PATH, or else the newest /usr/lib/postgresql/N/bin (Debian puts them
// there, off PATH).
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest first: by major version as a number, so 15 comes before 9.6.
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", errors.New("initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin " +
		"(Debian: apt-get install postgresql)")
}

func versionOf(binDir string) float64 {
	var v float64
	fmt.Sscanf(filepath.Base(filepath.Dir(binDir)), "%g", &v)
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0
}

func startCluster(ctx context.Context) (*cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	as, err := unprivileged()
	if err != nil {
		return nil, err
	}
	sweepStale(ctx, bin, as)
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := &cluster{dir: dir, bin: bin, as: as}
	if err := as.own(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// --no-sync and -F below: a test cluster need not survive a power cut.
	if err := c.run(ctx, "initdb", "-D", c.data(), "-U", "hookline", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// The port is free when asked and taken by the server a moment later;
	// another process could take it in between, so try a few.
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		c.addr = fmt.Sprintf("127.0.0.1:%d", port)
		err = c.run(ctx, "pg_ctl", "start", "-w", "-t", "20", "-D", c.data(), "-l", filepath.Join(dir, "postgres.log"),
			"-o", fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F -c max_connections=200", port, dir))
		if err == nil {
			return c, nil
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
	os.RemoveAll(dir)
	return nil, fmt.Errorf("%w\n%s", err, log)
}

// dirPattern names the clusters' directories in the temporary directory;
// ownerFile, in each, holds the process ID of the test binary it serves.
const (
	dirPattern = "hookline-pgtest-"
	ownerFile  = "owner.pid"
)

// sweepStale stops and removes the clusters that earlier test binaries
// left behind when they were killed (go test -timeout panics; nothing
// deferred runs): each directory names its test binary's process in
// ownerFile, and one whose owner is gone is stale. A directory without
// the file is another binary starting at this moment, unless it is old.
func sweepStale(ctx context.Context, bin string, as *account) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < 10*time.Minute {
				continue
			}
		} else if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || alive(pid) {
			continue
		}
		c := &cluster{dir: d, bin: bin, as: as}
		if _, err := os.Stat(filepath.Join(c.data(), "postmaster.pid")); err == nil {
			c.run(ctx, "pg_ctl", "stop", "-w", "-m", "immediate", "-D", c.data())
		}
		os.RemoveAll(d)
	}
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	c.as.apply(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// stop shuts the cluster down at once (the tests are over; nothing needs
// to be kept) and removes its directory.
func (c *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := c.run(ctx, "pg_ctl", "stop", "-w", "-m", "immediate", "-D", c.data())
	return errors.Join(err, os.RemoveAll(c.dir))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
