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

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/sqlite"
)

func newSecretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage the master key that encrypts stored secrets",
		Long: `Manage the master key that encrypts the secrets Hookline stores (AES-256-GCM):
the key file <data-dir>/master.key, or HOOKLINE_MASTER_KEY. See docs/secrets.md.`,
		Example: `  hookline secrets rotate --data-dir /var/lib/hookline`,
		Args:    cobra.NoArgs,
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

Environment: HOOKLINE_MASTER_KEY, HOOKLINE_MASTER_KEY_OLD (keys replaced
earlier, comma-separated), each also as *_FILE, as hookline serve reads them.`,
		Example: `  hookline secrets rotate --data-dir /var/lib/hookline
  HOOKLINE_MASTER_KEY_FILE=/run/secrets/hookline-key hookline secrets rotate --data-dir /var/lib/hookline`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
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
	cmd.Flags().StringVar(&r.DataDir, "data-dir", r.DataDir, "data directory of the stopped server")
	return cmd
}

// rotator replaces the master key of a data directory. The order of its
// steps is what keeps secrets safe from a crash at any point: the new key
// is durable (staged in master.key.new, or printed) before anything is
// sealed with it, the old key stays until after the database commits, and
// every state in between is one that the next start finishes (see
// keyring.StagedKeyFile).
type rotator struct {
	DataDir   string
	MasterKey string   // HOOKLINE_MASTER_KEY; empty: the key file
	KeySource string   // where MasterKey came from, for messages
	OldKeys   []string // HOOKLINE_MASTER_KEY_OLD
	Out       io.Writer

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

// Run rotates the key, printing each step to Out.
func (r *rotator) Run(ctx context.Context) error {
	dbPath := filepath.Join(r.DataDir, "hookline.db") // as hookline serve opens it
	if fi, err := os.Stat(r.DataDir); err != nil {
		return fmt.Errorf("data directory: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", r.DataDir)
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("%s holds no Hookline database (%w); is --data-dir right?", r.DataDir, err)
	}
	lock, err := lockDataDir(r.DataDir)
	if err != nil {
		return err
	}
	defer lock.Close()

	keyFile := r.MasterKey == ""
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
	// A wrong key is refused before a new one is staged or printed. Open
	// also re-seals what the old keys sealed, as a start of the server does.
	db, err := sqlite.Open(ctx, dbPath, current)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
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
		fmt.Fprintf(r.Out, "Rotating the master key of %s: key id %s → %s.\n", r.DataDir, oldID, newID)
		if err := keyring.StageKey(r.DataDir, key); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
		fmt.Fprintf(r.Out, "Wrote the new key to %s.\n", filepath.Join(r.DataDir, keyring.StagedKeyFile))
		r.step("staged")
	} else {
		// Printed before anything is sealed with it: a key that sealed the
		// database must never exist only in this process's memory.
		if _, err := fmt.Fprintf(r.Out, `Rotating the master key given in %[1]s: key id %[2]s → %[3]s.

  The new master key (key id %[3]s) is shown this once and stored nowhere:

      HOOKLINE_MASTER_KEY=%[4]s

  Start the server with HOOKLINE_MASTER_KEY set to it (or written to the file
  HOOKLINE_MASTER_KEY_FILE names), and keep the key it replaces (key id %[2]s) in
  HOOKLINE_MASTER_KEY_OLD until the server has started once: whatever happens to
  this command, that start opens the secrets and finishes the rotation.

`, r.KeySource, oldID, newID, keyring.EncodeKey(key)); err != nil {
			return fmt.Errorf("print the new key: %w; nothing was re-sealed", err)
		}
		r.step("printed")
	}

	rot, err := sqlite.Rotate(ctx, dbPath, current, next)
	switch {
	case err == nil:
	case errors.Is(err, sqlite.ErrRotationUncertain) && keyFile:
		return fmt.Errorf("%w\nBoth keys are kept (%s and %s): the next start of hookline serve, or rotate run again, finishes the rotation",
			err, keyring.KeyFile, keyring.StagedKeyFile)
	case errors.Is(err, sqlite.ErrRotationUncertain):
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
