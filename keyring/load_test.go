package keyring_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline/keyring"
)

func TestLoadCreatesKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested") // Load creates the directory
	kr, created, err := keyring.Load(dir, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !created {
		t.Errorf("created = false on first Load; want true")
	}
	path := filepath.Join(dir, keyring.KeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if runtime.GOOS != "windows" {
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode = %04o; want 0600", perm)
		}
		if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
			t.Errorf("data directory mode = %v, %v; want 0700", di.Mode().Perm(), err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(raw), "\n"))
	if err != nil || len(key) != keyring.KeySize {
		t.Fatalf("key file holds %q: want 32 bytes as base64 and a newline (%v)", raw, err)
	}
	if allZero(key) {
		t.Errorf("key file holds a zero key")
	}
	fromKey := mustNew(t, key)
	if fromKey.KeyID() != kr.KeyID() {
		t.Errorf("loaded key ID %s differs from the key file's %s", kr.KeyID(), fromKey.KeyID())
	}

	// The second Load reads the same key back.
	sealed, err := kr.Seal([]byte("secret"), "a")
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := keyring.Load(dir, "")
	if err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if created {
		t.Errorf("created = true on second Load; want false")
	}
	if got, err := again.Open(sealed, "a"); err != nil || string(got) != "secret" {
		t.Errorf("second keyring opens the first's value = %q, %v", got, err)
	}

	// Two data directories get different keys.
	other, _, err := keyring.Load(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if other.KeyID() == kr.KeyID() {
		t.Errorf("two new key files hold the same key")
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func TestLoadRefusesBadKeyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	good := base64.StdEncoding.EncodeToString(testKey(1)) + "\n"
	tests := []struct {
		name     string
		contents string
		mode     os.FileMode
		want     []string
	}{
		{"world readable", good, 0o644, []string{"mode 0644", "chmod 600"}},
		{"group readable", good, 0o640, []string{"mode 0640", "chmod 600"}},
		{"group writable", good, 0o620, []string{"mode 0620"}},
		{"empty", "", 0o600, []string{"malformed key", "base64", "hex"}},
		{"short key", base64.StdEncoding.EncodeToString(testKey(1)[:16]), 0o600, []string{"malformed key", "base64"}},
		{"junk", "not a key at all", 0o600, []string{"malformed key", "hex"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, keyring.KeyFile)
			if err := os.WriteFile(path, []byte(tt.contents), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask may have narrowed it
				t.Fatal(err)
			}
			kr, created, err := keyring.Load(dir, "")
			if err == nil {
				t.Fatalf("Load = %v, %v, nil; want an error", kr, created)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			assertNoLeak(t, err.Error(), "\x00never", testKey(1))
			// The bad file is left for the operator to fix, not replaced.
			if got, _ := os.ReadFile(path); string(got) != tt.contents {
				t.Errorf("Load changed the key file")
			}
		})
	}
}

func TestLoadMasterKeyForms(t *testing.T) {
	key := testKey(9)
	want := mustNew(t, key).KeyID()
	tests := []struct {
		name  string
		value string
	}{
		{"base64 std", base64.StdEncoding.EncodeToString(key)},
		{"base64 std unpadded", base64.RawStdEncoding.EncodeToString(key)},
		{"base64 url", base64.URLEncoding.EncodeToString(key)},
		{"base64 url unpadded", base64.RawURLEncoding.EncodeToString(key)},
		{"hex lower", hex.EncodeToString(key)},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key))},
		{"trailing newline", base64.StdEncoding.EncodeToString(key) + "\n"},
		{"surrounding spaces", "  " + hex.EncodeToString(key) + " "},
	}
	// The key must contain bytes whose std and url base64 differ, or the
	// url cases would prove nothing.
	if base64.StdEncoding.EncodeToString(key) == base64.URLEncoding.EncodeToString(key) {
		t.Fatal("test key encodes the same in both base64 alphabets")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			kr, created, err := keyring.Load(dir, tt.value)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if created {
				t.Errorf("created = true with a master key given")
			}
			if kr.KeyID() != want {
				t.Errorf("key ID = %s; want %s", kr.KeyID(), want)
			}
			if _, err := os.Stat(filepath.Join(dir, keyring.KeyFile)); !os.IsNotExist(err) {
				t.Errorf("Load wrote a key file although a master key was given (stat: %v)", err)
			}
		})
	}
}

func TestLoadRejectsBadMasterKey(t *testing.T) {
	key := testKey(9)
	tests := []struct {
		name  string
		value string
	}{
		{"too short", "abc"},
		{"31 bytes base64", base64.StdEncoding.EncodeToString(key[:31])},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(key, 1))},
		{"63 hex chars", hex.EncodeToString(key)[:63]},
		{"65 hex chars", hex.EncodeToString(key) + "a"},
		{"64 chars not hex", strings.Repeat("g", 64)},
		{"mixed alphabets", strings.Replace(base64.StdEncoding.EncodeToString(key), "+", "-", 1)},
		{"inner space", base64.StdEncoding.EncodeToString(key)[:20] + " " + base64.StdEncoding.EncodeToString(key)[20:]},
		{"only white space", "   "},
	}
	if std := base64.StdEncoding.EncodeToString(key); !strings.Contains(std, "+") || !strings.Contains(std, "/") {
		t.Fatalf("test key %s needs both + and / in base64 for the mixed-alphabet case", std)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			kr, _, err := keyring.Load(dir, tt.value)
			if err == nil {
				t.Fatalf("Load = %v; want an error", kr)
			}
			for _, w := range []string{"HOOKLINE_MASTER_KEY", "base64", "64 hex characters"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if v := strings.TrimSpace(tt.value); len(v) > 3 && strings.Contains(err.Error(), v) {
				t.Errorf("error %q echoes the key value", err)
			}
			if _, err := os.Stat(filepath.Join(dir, keyring.KeyFile)); !os.IsNotExist(err) {
				t.Errorf("a bad master key must not fall back to a key file (stat: %v)", err)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(testKey(1)))
	f.Add(hex.EncodeToString(testKey(1)))
	f.Add("")
	f.Add(strings.Repeat("=", 44))
	f.Fuzz(func(t *testing.T, s string) {
		key, err := keyring.ParseKey(s)
		if err != nil {
			// The message may depend on the input's length, nothing else.
			_, ref := keyring.ParseKey(strings.Repeat("!", len(strings.TrimSpace(s))))
			if ref == nil || err.Error() != ref.Error() {
				t.Fatalf("error %q depends on the input's contents (reference: %v)", err, ref)
			}
			return
		}
		if len(key) != keyring.KeySize {
			t.Fatalf("ParseKey(%q) returned %d bytes", s, len(key))
		}
	})
}

func TestLoadNeedsDataDirWithoutMasterKey(t *testing.T) {
	if kr, _, err := keyring.Load("", ""); err == nil || !strings.Contains(err.Error(), "HOOKLINE_MASTER_KEY") {
		t.Errorf("Load with neither data directory nor master key = %v, %v; want an error naming both", kr, err)
	}
	if _, _, err := keyring.Load("", hex.EncodeToString(testKey(1))); err != nil {
		t.Errorf("Load with a master key and no data directory: %v", err)
	}
}

// TestLoadConcurrentFirstStart stands for several processes starting on a
// new data directory at once: each must get the one key that ends up in the
// file, never a half-written file, and exactly one of them creates it.
func TestLoadConcurrentFirstStart(t *testing.T) {
	const rounds, loaders = 20, 8
	for range rounds {
		dir := t.TempDir()
		var (
			wg      sync.WaitGroup
			ids     [loaders]string
			created [loaders]bool
			errs    [loaders]error
			start   = make(chan struct{})
		)
		for i := range loaders {
			wg.Go(func() {
				<-start
				kr, c, err := keyring.Load(dir, "")
				if err == nil {
					ids[i] = kr.KeyID()
				}
				created[i], errs[i] = c, err
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs[:]...); err != nil {
			t.Fatalf("concurrent Load: %v", err)
		}
		n := 0
		for i := range loaders {
			if created[i] {
				n++
			}
			if ids[i] != ids[0] {
				t.Fatalf("loaders got different keys: %q", ids)
			}
		}
		if n != 1 {
			t.Errorf("%d of %d loaders report creating the key file; want 1", n, loaders)
		}
		kr, _, err := keyring.Load(dir, "")
		if err != nil || kr.KeyID() != ids[0] {
			t.Fatalf("key file after the race holds key %v (%v); want %s", kr, err, ids[0])
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != keyring.KeyFile {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("data directory holds %q; want only %s (no temporary files left)", names, keyring.KeyFile)
		}
	}
}

func TestLoadOldKeys(t *testing.T) {
	primary, old1, old2 := testKey(9), testKey(1), testKey(2)
	sealedBy := func(key []byte) string {
		t.Helper()
		s, err := mustNew(t, key).Seal([]byte("secret"), "a")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	fromOld1, fromOld2 := sealedBy(old1), sealedBy(old2)
	wantIDs := func(keys ...[]byte) []string {
		ids := []string{mustNew(t, keys[0]).KeyID()}
		for _, k := range keys[1:] {
			ids = append(ids, mustNew(t, k).KeyID())
		}
		slices.Sort(ids[1:])
		return ids
	}

	// Every form of master key, from the environment or from the key file.
	for _, tt := range []struct {
		name      string
		masterKey string
		keyFile   bool
	}{
		{"master key", hex.EncodeToString(primary), false},
		{"key file", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.keyFile {
				if err := os.WriteFile(filepath.Join(dir, keyring.KeyFile), []byte(base64.StdEncoding.EncodeToString(primary)+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			kr, created, err := keyring.Load(dir, tt.masterKey,
				base64.RawURLEncoding.EncodeToString(old1), "", " "+hex.EncodeToString(old2)+"\n")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if created {
				t.Errorf("created = true for an existing key")
			}
			if got, want := kr.KeyIDs(), wantIDs(primary, old1, old2); !slices.Equal(got, want) {
				t.Errorf("KeyIDs = %q; want %q (primary first, empty old keys ignored)", got, want)
			}
			if kr.KeyID() != mustNew(t, primary).KeyID() {
				t.Errorf("KeyID = %s; want the master key's", kr.KeyID())
			}
			for _, s := range []string{fromOld1, fromOld2} {
				if got, err := kr.Open(s, "a"); err != nil || string(got) != "secret" {
					t.Errorf("Open of a value sealed with an old key = %q, %v", got, err)
				}
			}
			s, err := kr.Seal([]byte("x"), "a")
			if err != nil {
				t.Fatal(err)
			}
			if id, _ := keyring.KeyIDOf(s); id != kr.KeyID() {
				t.Errorf("Seal used key %s; want the master key %s", id, kr.KeyID())
			}
		})
	}

	t.Run("a new key file", func(t *testing.T) {
		kr, created, err := keyring.Load(t.TempDir(), "", hex.EncodeToString(old1))
		if err != nil || !created {
			t.Fatalf("Load = %v, %v, %v", kr, created, err)
		}
		if got, err := kr.Open(fromOld1, "a"); err != nil || string(got) != "secret" {
			t.Errorf("Open of a value sealed with the old key = %q, %v", got, err)
		}
	})

	t.Run("bad old key", func(t *testing.T) {
		bad := base64.StdEncoding.EncodeToString(old1[:31])
		for _, olds := range [][]string{{bad}, {hex.EncodeToString(old2), bad}} {
			dir := t.TempDir()
			kr, _, err := keyring.Load(dir, hex.EncodeToString(primary), olds...)
			if err == nil {
				t.Fatalf("Load = %v; want an error", kr)
			}
			for _, w := range []string{"HOOKLINE_MASTER_KEY_OLD", "base64", "64 hex characters"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if len(olds) > 1 && !strings.Contains(err.Error(), "old key 2") {
				t.Errorf("error %q does not say which old key is bad", err)
			}
			assertNoLeak(t, err.Error(), bad, primary, old1, old2)
		}
	})
}
