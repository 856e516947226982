package keyring

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyFile is the name of the key file in the data directory.
const KeyFile = "master.key"

// keyForm says what a master key must look like, for error messages.
const keyForm = "32 random bytes as base64 (44 characters, standard or URL alphabet) or as 64 hex characters; `openssl rand -base64 32` makes one"

// Load returns the keyring for a data directory. masterKey is the value of
// HOOKLINE_MASTER_KEY: when non-empty it is the key, and no file is read or
// written. Otherwise the key is read from <dataDir>/master.key, which is
// created with mode 0600 holding a new random key when it does not exist;
// created reports that it was. With the key file, Load also finishes a
// rotation that a crash interrupted (master.key.new) and holds the keys of
// master.key.old-* files as old keys (see StagedKeyFile).
//
// oldKeys are keys the master key replaced (HOOKLINE_MASTER_KEY_OLD), in the
// forms ParseKey accepts; empty ones are ignored. The keyring opens values
// sealed with them and seals only with the master key, so that a store can
// reseal what an old key sealed (see New).
//
// A key file that group or others may read is refused: anyone who can read
// it can open every secret in the database.
func Load(dataDir, masterKey string, oldKeys ...string) (kr *Keyring, created bool, err error) {
	var olds [][]byte
	for i, s := range oldKeys {
		if strings.TrimSpace(s) == "" {
			continue
		}
		key, err := ParseKey(s)
		if err != nil {
			which := "HOOKLINE_MASTER_KEY_OLD"
			if len(oldKeys) > 1 {
				which = fmt.Sprintf("HOOKLINE_MASTER_KEY_OLD (old key %d)", i+1)
			}
			return nil, false, fmt.Errorf("%s: %w", which, err)
		}
		olds = append(olds, key)
	}
	var key []byte
	switch {
	case masterKey != "":
		if key, err = ParseKey(masterKey); err != nil {
			return nil, false, fmt.Errorf("HOOKLINE_MASTER_KEY: %w", err)
		}
	case dataDir == "":
		return nil, false, errors.New("load keyring: no data directory for the key file, and HOOKLINE_MASTER_KEY is not set")
	default:
		var fileOlds [][]byte
		if key, fileOlds, created, err = loadKeyFile(dataDir); err != nil {
			return nil, false, err
		}
		olds = append(olds, fileOlds...)
	}
	if kr, err = New(key, olds...); err != nil {
		return nil, false, err
	}
	return kr, created, nil
}

// loadKeyFile reads <dataDir>/master.key, creating it first when it does not
// exist, and the keys of the master.key.old-* files. A staged key
// (master.key.new) is installed first: a rotation was interrupted, and the
// database may already be sealed with it (see StagedKeyFile).
func loadKeyFile(dataDir string) (key []byte, olds [][]byte, created bool, err error) {
	switch _, err := os.Lstat(filepath.Join(dataDir, StagedKeyFile)); {
	case err == nil:
		if _, err := InstallStagedKey(dataDir); err != nil {
			return nil, nil, false, fmt.Errorf("finish an interrupted key rotation: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, false, fmt.Errorf("read key file: %w", err)
	}
	path := filepath.Join(dataDir, KeyFile)
	key, err = readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(dataDir, path)
		created = err == nil
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first; use its key. The file
			// appears only complete (see linkNewKeyFile), so it can be read
			// at once.
			key, err = readKeyFile(path)
		}
	}
	if err != nil {
		return nil, nil, false, err
	}
	if olds, err = readOldKeyFiles(dataDir); err != nil {
		return nil, nil, false, err
	}
	return key, olds, created, nil
}

// ParseKey decodes a master key given as base64 (standard or URL alphabet,
// padded or not) or hex. Surrounding white space is ignored, so a key file
// may end in a newline.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if key, err := enc.Strict().DecodeString(s); err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	// The value is meant to be a key: never echo it.
	return nil, fmt.Errorf("malformed key of %d characters: want %s", len(s), keyForm)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	// Windows has no Unix permission bits to check.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("key file %s has mode %04o, which lets other users read the key to every stored secret; "+
			"it must be 0600 or narrower: run chmod 600 %s", path, perm, path)
	}
	// A key file is 45 bytes; reading more of a huge file would not help.
	buf, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := ParseKey(string(buf))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// createKeyFile writes a new random key to path, failing with fs.ErrExist
// when the file exists (see linkNewKeyFile).
func createKeyFile(dataDir, path string) (key []byte, err error) {
	if key, err = NewKey(); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if err := linkNewKeyFile(dataDir, path, key); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return key, nil
}

// writeKey writes key to f and syncs it: losing the key loses every secret
// sealed with it, so it must be durable before anything is sealed.
func writeKey(f *os.File, key []byte) error {
	// A umask cannot widen 0600, but chmod anyway in case the file system
	// applies a default ACL.
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return err
	}
	return f.Sync()
}
