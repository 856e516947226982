package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Files a rotation of the key file leaves beside KeyFile.
//
// A rotation (hookline secrets rotate) must never leave the database sealed
// with a key that is not on disk under a name Load reads. It goes in three
// steps, each durable before the next begins:
//
//  1. StageKey writes the new key to master.key.new.
//  2. The store re-seals every secret under the new key in one transaction.
//  3. InstallStagedKey links master.key to master.key.old-<keyid> and then
//     renames master.key.new over master.key.
//
// Load finishes step 3 whenever it finds master.key.new, and opens values
// sealed with the key of any master.key.old-* file. So whichever step a crash
// interrupts, the next Load returns a keyring that holds every key the
// database may be sealed with, the new one as its primary key: if step 2 had
// not committed, the store finds the secrets sealed with an old key and
// re-seals them under the new one when it opens (sqlite.Open does), which
// completes the rotation; if it had, the primary key opens them.
const (
	// StagedKeyFile holds a rotation's new key until it replaces KeyFile.
	StagedKeyFile = KeyFile + ".new"
	// OldKeyFilePrefix, followed by the key's ID, names a key that a
	// rotation replaced. Load keeps opening what it sealed (a backup made
	// before the rotation, say) until the file is deleted.
	OldKeyFilePrefix = KeyFile + ".old-"
)

// NewKey returns a new random master key.
func NewKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

// EncodeKey returns key in the form key files hold and ParseKey reads:
// standard base64, 44 characters.
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// IDOfKey returns the ID of a key, as KeyID and the names of old key files
// show it.
func IDOfKey(key []byte) string { return keyID(key) }

// StageKey writes key to <dataDir>/master.key.new with mode 0600 and makes
// it durable (file and directory synced), so that a store may then seal
// with it. It fails with fs.ErrExist when a staged key exists: that key may
// already seal the database, and must be installed (Load does it), not
// replaced.
func StageKey(dataDir string, key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("stage key: the key is %d bytes long; it must be %d", len(key), KeySize)
	}
	if err := linkNewKeyFile(dataDir, filepath.Join(dataDir, StagedKeyFile), key); err != nil {
		return fmt.Errorf("stage key: %w", err)
	}
	return nil
}

// DiscardStagedKey removes a staged key. Call it only when nothing was
// sealed with the key: once something may have been, the key must be
// installed instead.
func DiscardStagedKey(dataDir string) error {
	if err := os.Remove(filepath.Join(dataDir, StagedKeyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("discard staged key: %w", err)
	}
	return syncDir(dataDir)
}

// InstallStagedKey makes the staged key (master.key.new) the master key.
// The key it replaces is kept as master.key.old-<keyid>, whose path it
// returns ("" when there was no master.key). It is safe to call again after
// a crash at any point: the old key is linked to its new name before the
// rename replaces master.key, so each key is always under at least one name
// that Load reads.
func InstallStagedKey(dataDir string) (oldPath string, err error) {
	path := filepath.Join(dataDir, KeyFile)
	staged := filepath.Join(dataDir, StagedKeyFile)
	newKey, err := readKeyFile(staged)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil // another Load installed it between our look and now
	}
	if err != nil {
		return "", fmt.Errorf("install staged key: %w", err)
	}
	oldKey, err := readKeyFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing to keep.
	case err != nil:
		// A key file that cannot be read is left alone, not replaced: it
		// may be the only copy of the key the database is sealed with.
		return "", fmt.Errorf("install staged key: %w", err)
	case bytes.Equal(oldKey, newKey):
		// Installed already, by a copy rather than the rename, or by
		// another Load that has removed the staged name too.
		if err := os.Remove(staged); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("install staged key: %w", err)
		}
		return "", syncDir(dataDir)
	default:
		oldPath = filepath.Join(dataDir, OldKeyFilePrefix+keyID(oldKey))
		if err := keepOldKey(path, oldPath, oldKey); err != nil {
			return "", fmt.Errorf("install staged key: %w", err)
		}
		// The old name must be durable before the rename can replace the
		// only other name of the old key.
		if err := syncDir(dataDir); err != nil {
			return "", fmt.Errorf("install staged key: %w", err)
		}
	}
	if err := os.Rename(staged, path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Another Load installed it first.
			if k, rerr := readKeyFile(path); rerr == nil && bytes.Equal(k, newKey) {
				return oldPath, nil
			}
		}
		return "", fmt.Errorf("install staged key: %w", err)
	}
	if err := syncDir(dataDir); err != nil {
		return "", fmt.Errorf("install staged key: %w", err)
	}
	return oldPath, nil
}

// keepOldKey gives the key file at path the second name oldPath. A name
// left by an earlier, interrupted install must hold the same key.
func keepOldKey(path, oldPath string, key []byte) error {
	err := os.Link(path, oldPath)
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	kept, rerr := readKeyFile(oldPath)
	if rerr != nil {
		return rerr
	}
	if !bytes.Equal(kept, key) {
		// Two keys with the same 32-bit ID: astronomically rare, but never
		// overwrite a key.
		return fmt.Errorf("%s exists and holds another key than %s; move it away and try again", oldPath, path)
	}
	return nil
}

// readOldKeyFiles returns the keys of every master.key.old-* file in
// dataDir, in name order. A file that is no key, or that others may read,
// is an error, as a bad master.key is.
func readOldKeyFiles(dataDir string) ([][]byte, error) {
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("read old key files: %w", err)
	}
	var keys [][]byte
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), OldKeyFilePrefix) {
			continue
		}
		key, err := readKeyFile(filepath.Join(dataDir, e.Name()))
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// linkNewKeyFile writes key to path, failing with fs.ErrExist when the file
// exists.
//
// The key is written and synced to a temporary file in the same directory,
// which is then hard-linked to path. Link fails when path exists, as O_EXCL
// would, but unlike a file created with O_EXCL and then written, path never
// names an empty or partly written key: a process that loses a race to
// create it reads a complete key, and a crash leaves no file that blocks
// every later start.
func linkNewKeyFile(dataDir, path string, key []byte) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	// CreateTemp makes the file with mode 0600.
	f, err := os.CreateTemp(dataDir, "."+KeyFile+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // once linked, path keeps the contents
	if err := writeKey(f, key); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		// A *LinkError wraps the errno, so fs.ErrExist still matches.
		return err
	}
	return syncDir(dataDir)
}

// syncDir makes the directory's entries (a new, renamed or removed name)
// durable. Windows cannot sync a directory; its file system journals names.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
