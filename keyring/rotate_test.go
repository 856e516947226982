package keyring_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/hookline/hookline/keyring"
)

// writeKeyFile writes key as a key file named name in dir, mode 0600.
func writeKeyFile(t *testing.T, dir, name string, key []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(keyring.EncodeKey(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// dirState returns the key each file of dir holds, by name ("?" for a file
// that is no key), so that a test can compare whole directories.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		key, err := keyring.ParseKey(string(raw))
		if err != nil {
			state[e.Name()] = "?"
			continue
		}
		state[e.Name()] = keyring.IDOfKey(key)
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", e.Name(), fi.Mode().Perm(), err)
		}
	}
	return state
}

func sealWith(t *testing.T, key []byte) string {
	t.Helper()
	s, err := mustNew(t, key).Seal([]byte("secret"), "a")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLoadFinishesInterruptedRotation builds the data directory as a crash
// leaves it after each step of a rotation, and checks that Load then
// returns the new key as its primary key, still opens what the old key
// sealed, and leaves the directory as a finished rotation does.
func TestLoadFinishesInterruptedRotation(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	oldID, newID := keyring.IDOfKey(oldKey), keyring.IDOfKey(newKey)
	finished := map[string]string{keyring.KeyFile: newID, keyring.OldKeyFilePrefix + oldID: oldID}
	tests := []struct {
		name  string
		files map[string][]byte
	}{
		{"staged", map[string][]byte{keyring.KeyFile: oldKey, keyring.StagedKeyFile: newKey}},
		{"old key linked", map[string][]byte{keyring.KeyFile: oldKey, keyring.OldKeyFilePrefix + oldID: oldKey, keyring.StagedKeyFile: newKey}},
		{"renamed", map[string][]byte{keyring.KeyFile: newKey, keyring.OldKeyFilePrefix + oldID: oldKey}},
		// A master.key deleted by hand: the staged key is installed alone.
		{"staged, no key file", map[string][]byte{keyring.StagedKeyFile: newKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, key := range tt.files {
				writeKeyFile(t, dir, name, key)
			}
			kr, created, err := keyring.Load(dir, "")
			if err != nil || created {
				t.Fatalf("Load = %v, created %v, %v", kr, created, err)
			}
			if kr.KeyID() != newID {
				t.Errorf("primary key %s; want the staged key %s", kr.KeyID(), newID)
			}
			want := finished
			if _, ok := tt.files[keyring.KeyFile]; !ok {
				want = map[string]string{keyring.KeyFile: newID}
			} else if got, err := kr.Open(sealWith(t, oldKey), "a"); err != nil || string(got) != "secret" {
				t.Errorf("a value the old key sealed: %q, %v", got, err)
			}
			if got, err := kr.Open(sealWith(t, newKey), "a"); err != nil || string(got) != "secret" {
				t.Errorf("a value the new key sealed: %q, %v", got, err)
			}
			if got := dirState(t, dir); !mapsEqual(got, want) {
				t.Errorf("files after Load: %v; want %v", got, want)
			}
			// Loading again changes nothing.
			if again, _, err := keyring.Load(dir, ""); err != nil || !slices.Equal(again.KeyIDs(), kr.KeyIDs()) {
				t.Errorf("second Load = %v, %v; want %q", again, err, kr.KeyIDs())
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestStageKey(t *testing.T) {
	dir := t.TempDir()
	kr, _, err := keyring.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	next := testKey(5)
	if err := keyring.StageKey(dir, next); err != nil {
		t.Fatalf("StageKey: %v", err)
	}
	want := map[string]string{keyring.KeyFile: kr.KeyID(), keyring.StagedKeyFile: keyring.IDOfKey(next)}
	if got := dirState(t, dir); !mapsEqual(got, want) {
		t.Fatalf("files after StageKey: %v; want %v", got, want)
	}
	// A staged key may already seal the database: it is never replaced.
	if err := keyring.StageKey(dir, testKey(6)); !errors.Is(err, fs.ErrExist) {
		t.Errorf("StageKey over a staged key: %v; want fs.ErrExist", err)
	}
	if got := dirState(t, dir); !mapsEqual(got, want) {
		t.Errorf("files after a refused StageKey: %v; want %v", got, want)
	}
	if err := keyring.StageKey(dir, next[:16]); err == nil {
		t.Error("StageKey of a short key succeeded")
	}

	// Discarded, it is as if no rotation began.
	if err := keyring.DiscardStagedKey(dir); err != nil {
		t.Fatal(err)
	}
	again, _, err := keyring.Load(dir, "")
	if err != nil || !slices.Equal(again.KeyIDs(), []string{kr.KeyID()}) {
		t.Errorf("Load after DiscardStagedKey = %v, %v; want the first key alone", again, err)
	}
	if got := dirState(t, dir); !mapsEqual(got, map[string]string{keyring.KeyFile: kr.KeyID()}) {
		t.Errorf("files after DiscardStagedKey: %v", got)
	}
}

func TestInstallStagedKeyRefuses(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	oldName := keyring.OldKeyFilePrefix + keyring.IDOfKey(oldKey)
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"old key file holds another key", func(t *testing.T, dir string) { writeKeyFile(t, dir, oldName, testKey(3)) }},
		{"key file readable by others", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, keyring.KeyFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeKeyFile(t, dir, keyring.KeyFile, oldKey)
			writeKeyFile(t, dir, keyring.StagedKeyFile, newKey)
			tt.prepare(t, dir)
			before := readAll(t, dir)
			if _, err := keyring.InstallStagedKey(dir); err == nil {
				t.Fatal("InstallStagedKey succeeded")
			}
			if _, _, err := keyring.Load(dir, ""); err == nil {
				t.Error("Load succeeded without installing the staged key")
			}
			if after := readAll(t, dir); !mapsEqual(after, before) {
				t.Errorf("a refused install changed the files: %v; want %v", after, before)
			}
		})
	}
}

func readAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func TestLoadRefusesReadableOldKeyFile(t *testing.T) {
	dir := t.TempDir()
	writeKeyFile(t, dir, keyring.KeyFile, testKey(1))
	old := filepath.Join(dir, keyring.OldKeyFilePrefix+keyring.IDOfKey(testKey(2)))
	writeKeyFile(t, dir, filepath.Base(old), testKey(2))
	if err := os.Chmod(old, 0o640); err != nil {
		t.Fatal(err)
	}
	_, _, err := keyring.Load(dir, "")
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(old)) {
		t.Fatalf("Load with a group-readable old key file: %v; want an error naming it", err)
	}
	assertNoLeak(t, err.Error(), "\x00never", testKey(1), testKey(2))
}

// TestLoadConcurrentInstall: processes that start at once after a crash
// all finish the same rotation, and agree on the key.
func TestLoadConcurrentInstall(t *testing.T) {
	for range 10 {
		dir := t.TempDir()
		writeKeyFile(t, dir, keyring.KeyFile, testKey(1))
		writeKeyFile(t, dir, keyring.StagedKeyFile, testKey(2))
		var wg sync.WaitGroup
		ids := make([]string, 6)
		errs := make([]error, 6)
		for i := range ids {
			wg.Go(func() {
				kr, _, err := keyring.Load(dir, "")
				if err == nil {
					ids[i] = kr.KeyID()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Load: %v", err)
		}
		for _, id := range ids {
			if id != keyring.IDOfKey(testKey(2)) {
				t.Fatalf("loaders got keys %q; want all the staged key", ids)
			}
		}
	}
}

// TestLoadIgnoresRotationFilesWithMasterKey: a key from the environment is
// the only key; the files of the data directory are not read or changed.
func TestLoadIgnoresRotationFilesWithMasterKey(t *testing.T) {
	dir := t.TempDir()
	writeKeyFile(t, dir, keyring.StagedKeyFile, testKey(2))
	writeKeyFile(t, dir, keyring.OldKeyFilePrefix+"00000000", testKey(3))
	before := readAll(t, dir)
	kr, _, err := keyring.Load(dir, keyring.EncodeKey(testKey(1)))
	if err != nil || !slices.Equal(kr.KeyIDs(), []string{keyring.IDOfKey(testKey(1))}) {
		t.Fatalf("Load = %v, %v; want the master key alone", kr, err)
	}
	if after := readAll(t, dir); !mapsEqual(after, before) {
		t.Errorf("Load with HOOKLINE_MASTER_KEY changed the data directory")
	}
}
