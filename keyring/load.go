package keyring

import (
	"crypto/rand"
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
// created reports that it was.
//
// A key file that group or others may read is refused: anyone who can read
// it can open every secret in the database.
func Load(dataDir, masterKey string) (kr *Keyring, created bool, err error) {
	if masterKey != "" {
		key, err := ParseKey(masterKey)
		if err != nil {
			return nil, false, fmt.Errorf("HOOKLINE_MASTER_KEY: %w", err)
		}
		kr, err = New(key)
		return kr, false, err
	}
	if dataDir == "" {
		return nil, false, errors.New("load keyring: no data directory for the key file, and HOOKLINE_MASTER_KEY is not set")
	}
	path := filepath.Join(dataDir, KeyFile)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(dataDir, path)
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first; use its key.
			key, err = readKeyFile(path)
		} else if err == nil {
			created = true
		}
	}
	if err != nil {
		return nil, false, err
	}
	kr, err = New(key)
	if err != nil {
		return nil, false, err
	}
	return kr, created, nil
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
// when the file exists.
func createKeyFile(dataDir, path string) (key []byte, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path) // a half-written key file would block every later start
		}
	}()
	// A umask cannot widen 0600, but chmod anyway in case the file system
	// applies a default ACL.
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	// Losing the key loses every secret sealed with it: make it durable
	// before anything is sealed.
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if d, err := os.Open(dataDir); err == nil {
		d.Sync() // best effort: not every platform can sync a directory
		d.Close()
	}
	return key, nil
}
