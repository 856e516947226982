package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"github.com/hookline/hookline/keycheck"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/sqlite"
)

func newSecretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage the master key that encrypts stored secrets",
		Long: `Manage the master key that encrypts the secrets Hookline stores (AES-256-GCM):
the key file <data-dir>/master.key, or HOOKLINE_MASTER_KEY; the secrets are in the
SQLite database in --data-dir, or in PostgreSQL (--database-url). See docs/secrets.md.`,
		Example: `  hookline secrets rotate --data-dir /var/lib/hookline
  hookline secrets rotate --data-dir /var/lib/hookline --database-url postgres://hookline@db.internal/hookline`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSecretsRotateCmd())
	return cmd
}

func newSecretsRotateCmd() *cobra.Command {
	r := &rotator{DataDir: DefaultConfig().DataDir}
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Re-encrypt every stored secret under a new master key (with the server stopped)",
		Long: `Generate a new random master key and re-encrypt every stored secret under it, in
one transaction. Run it while hookline serve is stopped: it takes the data
directory's lock, and refuses while a server holds it.

With --database-url (or HOOKLINE_DATABASE_URL), it re-encrypts the secrets of
that PostgreSQL database instead of the SQLite file in --data-dir. Stop hookline
serve first on every machine that serves the database: a server left running
has only the old key, so it can no longer read the secrets, and it seals new
ones with the key being replaced. The command refuses, changing nothing, while
any server runs on the database, on any machine. The master key is
found as hookline serve finds it (the key file in --data-dir, or
HOOKLINE_MASTER_KEY); afterwards every machine that serves the database needs
the new key. A server started with the old key alone is refused, changing
nothing.

With the key file (<data-dir>/master.key), the new key is written to
master.key.new first, the secrets are re-encrypted, and then the new key
replaces master.key. The old key is kept as master.key.old-<keyid> (mode 0600),
so the rotation can be undone and backups made before it still open; delete it
once you no longer need them. A rotation interrupted at any step is finished by
the next start of hookline serve.

With HOOKLINE_MASTER_KEY (or HOOKLINE_MASTER_KEY_FILE), no file is written:
the new key is printed once, before anything is re-encrypted. Start the server
with HOOKLINE_MASTER_KEY set to it and HOOKLINE_MASTER_KEY_OLD set to the key it
replaces, until it has started once.

On either database the transaction commits or changes nothing, so the secrets
are never left sealed partly with one key and partly with the other. Only when
the commit itself fails (a disk error, or the connection to PostgreSQL lost
while it commits) is it unknown which of the two keys seals them all; the
command then says so and keeps both, and the next start with both, as it
tells, finishes the rotation either way.

Environment: HOOKLINE_DATABASE_URL; HOOKLINE_MASTER_KEY, HOOKLINE_MASTER_KEY_OLD
(keys replaced earlier, comma-separated), each also as *_FILE, as hookline serve
reads them.`,
		Example: `  hookline secrets rotate --data-dir /var/lib/hookline
  HOOKLINE_MASTER_KEY_FILE=/run/secrets/hookline-key hookline secrets rotate --data-dir /var/lib/hookline
  HOOKLINE_DATABASE_URL=postgres://hookline@db.internal/hookline hookline secrets rotate --data-dir /var/lib/hookline`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if r.DatabaseURL == "" {
				if r.DatabaseURL, err = envOr("HOOKLINE_DATABASE_URL", ""); err != nil {
					return err
				}
			}
			if r.MasterKey, err = envOr("HOOKLINE_MASTER_KEY", ""); err != nil {
				return err
			}
			r.KeySource = "HOOKLINE_MASTER_KEY"
			if strings.TrimSpace(os.Getenv("HOOKLINE_MASTER_KEY")) == "" && os.Getenv("HOOKLINE_MASTER_KEY_FILE") != "" {
				r.KeySource = "HOOKLINE_MASTER_KEY_FILE"
			}
			old, err := envOr("HOOKLINE_MASTER_KEY_OLD", "")
			if err != nil {
				return err
			}
			r.OldKeys = strings.Fields(strings.ReplaceAll(old, ",", " "))
			r.Out = cmd.OutOrStdout()
			return r.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&r.DataDir, "data-dir", r.DataDir, "data directory of the stopped server: its SQLite database, and the key file unless HOOKLINE_MASTER_KEY is set")
	cmd.Flags().StringVar(&r.DatabaseURL, "database-url", "", "PostgreSQL database of the stopped server, instead of the SQLite file in --data-dir (postgres://user@host/db; or HOOKLINE_DATABASE_URL, which keeps a password out of the process list)")
	return cmd
}

// rotator replaces the master key of a data directory or a PostgreSQL
// database. The order of its steps is what keeps secrets safe from a crash
// at any point: the new key is durable (staged in master.key.new, or
// printed) before anything is sealed with it, the old key stays until
// after the database commits, and every state in between is one that the
// next start finishes (see keyring.StagedKeyFile).
type rotator struct {
	DataDir     string
	DatabaseURL string   // --database-url; empty: the SQLite file in DataDir
	MasterKey   string   // HOOKLINE_MASTER_KEY; empty: the key file
	KeySource   string   // where MasterKey came from, for messages
	OldKeys     []string // HOOKLINE_MASTER_KEY_OLD
	Out         io.Writer

	// crash, when set, is called after each step that changed something
	// ("staged" or "printed", "resealed", "installed"). Tests panic in it
	// to stop there as a crash would: no clean-up of this code runs.
	crash func(step string)
}

func (r *rotator) step(name string) {
	if r.crash != nil {
		r.crash(name)
	}
}

// rotationDB is the one part of a rotation that differs by engine: the
// database whose secrets are re-sealed.
type rotationDB interface {
	// check makes sure that current opens the database's secrets, and
	// re-seals what current's old keys sealed, as a start of the server
	// does.
	check(ctx context.Context, current *keyring.Keyring) error
	// rotate re-seals every secret and the key check under next in one
	// transaction. An error wrapping keycheck.ErrRotationUncertain
	// means the commit may have taken effect; any other, that nothing
	// changed.
	rotate(ctx context.Context, current, next *keyring.Keyring) (rotation, error)
}

// rotation is what a rotation re-sealed.
type rotation struct{ Connections, Secrets int }

// sqliteRotation is the SQLite file of a data directory.
type sqliteRotation struct{ path string }

func (s sqliteRotation) check(ctx context.Context, current *keyring.Keyring) error {
	db, err := sqlite.Open(ctx, s.path, current)
	if err != nil {
		return err
	}
	return db.Close()
}

func (s sqliteRotation) rotate(ctx context.Context, current, next *keyring.Keyring) (rotation, error) {
	rot, err := sqlite.Rotate(ctx, s.path, current, next)
	return rotation{Connections: rot.Connections, Secrets: rot.Secrets}, err
}

// postgresRotation is a PostgreSQL database.
type postgresRotation struct{ url string }

func (p postgresRotation) check(ctx context.Context, current *keyring.Keyring) error {
	db, err := postgres.Open(ctx, p.url, current)
	if err != nil {
		var connect *pgconn.ConnectError
		var parse *pgconn.ParseConfigError
		if errors.As(err, &connect) || errors.As(err, &parse) {
			return fmt.Errorf("%w; is --database-url (or HOOKLINE_DATABASE_URL) right?", err)
		}
		return err
	}
	// Before the new key is made or shown: Rotate would refuse then.
	return errors.Join(db.CheckNoServers(ctx), db.Close())
}

func (p postgresRotation) rotate(ctx context.Context, current, next *keyring.Keyring) (rotation, error) {
	rot, err := postgres.Rotate(ctx, p.url, current, next)
	return rotation{Connections: rot.Connections, Secrets: rot.Secrets}, err
}

// checkDatabaseURL refuses what is not a PostgreSQL URL, as hookline serve
// does, before anything is opened.
func checkDatabaseURL(u string) error {
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return errors.New("--database-url must be a PostgreSQL URL, postgres://user@host:5432/database")
	}
	return nil
}

// Run rotates the key, printing each step to Out.
func (r *rotator) Run(ctx context.Context) error {
	keyFile := r.MasterKey == ""
	var db rotationDB = sqliteRotation{path: filepath.Join(r.DataDir, "hookline.db")} // as hookline serve opens it
	subject := r.DataDir
	if r.DatabaseURL != "" {
		if err := checkDatabaseURL(r.DatabaseURL); err != nil {
			return err
		}
		db = postgresRotation{url: r.DatabaseURL}
		subject = "PostgreSQL database " + postgres.Redact(r.DatabaseURL)
	}
	if r.DatabaseURL == "" || keyFile {
		// The data directory holds the SQLite database, the key file or both.
		if fi, err := os.Stat(r.DataDir); err != nil && r.DatabaseURL != "" {
			return fmt.Errorf("data directory, which holds the key file master.key (HOOKLINE_MASTER_KEY is not set): %w", err)
		} else if err != nil {
			return fmt.Errorf("data directory: %w", err)
		} else if !fi.IsDir() {
			return fmt.Errorf("data directory %s is not a directory", r.DataDir)
		}
		if r.DatabaseURL == "" {
			if _, err := os.Stat(filepath.Join(r.DataDir, "hookline.db")); err != nil {
				return fmt.Errorf("%s holds no Hookline database (%w); is --data-dir right, or is the database on PostgreSQL (--database-url)?", r.DataDir, err)
			}
		}
	}
	// Locked as hookline serve locks it, so that a server on it refuses
	// rotation. With PostgreSQL and HOOKLINE_MASTER_KEY the directory holds
	// nothing the rotation needs, but a server on this machine may hold it
	// all the same; servers elsewhere cannot be seen.
	if isDir(r.DataDir) {
		lock, err := lockDataDir(r.DataDir)
		if err != nil {
			return err
		}
		defer lock.Close()
	}

	if keyFile && !rotationFileExists(filepath.Join(r.DataDir, keyring.KeyFile)) && !rotationFileExists(filepath.Join(r.DataDir, keyring.StagedKeyFile)) {
		// keyring.Load would create a key that opens nothing.
		return fmt.Errorf("no master key: %s does not exist and HOOKLINE_MASTER_KEY is not set",
			filepath.Join(r.DataDir, keyring.KeyFile))
	}
	// With the key file, Load also finishes a rotation a crash interrupted.
	current, _, err := keyring.Load(r.DataDir, r.MasterKey, r.OldKeys...)
	if err != nil {
		return fmt.Errorf("load master key: %w", err)
	}
	// A wrong key is refused before a new one is staged or printed.
	if err := db.check(ctx, current); err != nil {
		return err
	}
	key, err := keyring.NewKey()
	if err != nil {
		return err
	}
	next, err := keyring.New(key)
	if err != nil {
		return err
	}
	oldID, newID := current.KeyID(), next.KeyID()

	if keyFile {
		fmt.Fprintf(r.Out, "Rotating the master key of %s: key id %s → %s.\n", subject, oldID, newID)
		if err := keyring.StageKey(r.DataDir, key); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
		fmt.Fprintf(r.Out, "Wrote the new key to %s.\n", filepath.Join(r.DataDir, keyring.StagedKeyFile))
		r.step("staged")
	} else {
		// Printed before anything is sealed with it: a key that sealed the
		// database must never exist only in this process's memory.
		given := r.KeySource
		if r.DatabaseURL != "" {
			given += " for " + subject
		}
		if _, err := fmt.Fprintf(r.Out, `Rotating the master key given in %[1]s: key id %[2]s → %[3]s.

  The new master key (key id %[3]s) is shown this once and stored nowhere:

      HOOKLINE_MASTER_KEY=%[4]s

  Start the server with HOOKLINE_MASTER_KEY set to it (or written to the file
  HOOKLINE_MASTER_KEY_FILE names), and keep the key it replaces (key id %[2]s) in
  HOOKLINE_MASTER_KEY_OLD until the server has started once: whatever happens to
  this command, that start opens the secrets and finishes the rotation.

`, given, oldID, newID, keyring.EncodeKey(key)); err != nil {
			return fmt.Errorf("print the new key: %w; nothing was re-sealed", err)
		}
		r.step("printed")
	}

	rot, err := db.rotate(ctx, current, next)
	uncertain := errors.Is(err, keycheck.ErrRotationUncertain) // both engines'
	switch {
	case err == nil:
	case uncertain && keyFile:
		return fmt.Errorf("%w\nBoth keys are kept (%s and %s): the next start of hookline serve, or rotate run again, finishes the rotation",
			err, keyring.KeyFile, keyring.StagedKeyFile)
	case uncertain:
		return fmt.Errorf("%w\nStart the server with HOOKLINE_MASTER_KEY set to the new key and HOOKLINE_MASTER_KEY_OLD to the current one: that start finishes the rotation", err)
	case keyFile:
		// Rolled back: nothing is sealed with the staged key.
		if derr := keyring.DiscardStagedKey(r.DataDir); derr != nil {
			return fmt.Errorf("%w\nNothing was re-sealed, but %v: the next start of hookline serve will finish the rotation with it", err, derr)
		}
		return fmt.Errorf("%w\nNothing was changed: the master key is still key id %s", err, oldID)
	default:
		return fmt.Errorf("%w\nNothing was changed: the printed key was not used; keep HOOKLINE_MASTER_KEY as it is (key id %s)", err, oldID)
	}
	fmt.Fprintf(r.Out, "Re-sealed %d %s of %d %s, and the key check, under key id %s.\n",
		rot.Secrets, countNoun(rot.Secrets, "secret", "secrets"), rot.Connections, countNoun(rot.Connections, "connection", "connections"), newID)
	r.step("resealed")

	if !keyFile {
		fmt.Fprintf(r.Out, "Done. The server now needs HOOKLINE_MASTER_KEY set to the new key (key id %s):\nthe old key alone no longer opens the secrets.\n", newID)
		return nil
	}
	oldPath, err := keyring.InstallStagedKey(r.DataDir)
	if err != nil {
		return fmt.Errorf("%w\nThe secrets are sealed with the new key, which is in %s: the next start of hookline serve installs it",
			err, filepath.Join(r.DataDir, keyring.StagedKeyFile))
	}
	r.step("installed")
	fmt.Fprintf(r.Out, "Installed the new key in %s.\n", filepath.Join(r.DataDir, keyring.KeyFile))
	if oldPath != "" {
		fmt.Fprintf(r.Out, `The old key is kept, mode 0600, in
    %s
so that the rotation can be undone (see docs/secrets.md) and backups made before
it still open. Delete it once the server has started and you no longer need them.
`, oldPath)
	}
	fmt.Fprintf(r.Out, "Back up %s now: without it, the stored secrets cannot be read.\n", filepath.Join(r.DataDir, keyring.KeyFile))
	return nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func rotationFileExists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func countNoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
