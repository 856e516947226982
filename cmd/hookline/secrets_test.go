package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/devlambda"
	"github.com/hookline/hookline/keyring"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/postgres/pgtest"
	"github.com/hookline/hookline/sqlite"
)

// The rotation tests' credentials, apart from the other tests' of this
// package.
const (
	rotToken      = "rotate-test-admin-token-0123456789"
	rotKeyID      = "AKIDROTATETEST01"
	rotSecret     = "rotSecretKey/9Qw+Er7Ty5Ui3Op1As0DfGhJk"
	rotSession    = "rotSessionToken+FwoGZXIvYXdzEJr//////////wEaDRot"
	rotWebhookKey = "Bearer rotWebhookToken.5c8e1a7b3d9f"
)

// rotTargets are a SigV4-checking Lambda stand-in and a webhook that
// answers 200 only to the right Authorization header, so that a Test Alert
// shows whether a secret still opens and is still right.
type rotTargets struct{ lambda, webhook string }

func startRotTargets(t *testing.T) rotTargets {
	t.Helper()
	lambda := httptest.NewServer(devlambda.New(devlambda.Config{Keys: map[string]string{rotKeyID: rotSecret}}))
	t.Cleanup(lambda.Close)
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != rotWebhookKey {
			http.Error(w, "wrong token", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"ok": true}`)
	}))
	t.Cleanup(webhook.Close)
	return rotTargets{lambda: lambda.URL + "/", webhook: webhook.URL + "/hook"}
}

// runServer starts the whole program on dir as hookline serve does; the
// caller closes it.
func runServer(t *testing.T, dir, masterKey string, oldKeys ...string) (*Main, error) {
	t.Helper()
	return runServerOn(t, dir, "", masterKey, oldKeys...)
}

// runServerOn is runServer with --database-url databaseURL (none when "").
func runServerOn(t *testing.T, dir, databaseURL, masterKey string, oldKeys ...string) (*Main, error) {
	t.Helper()
	m := &Main{
		Config: Config{DataDir: dir, DatabaseURL: databaseURL, Addr: "127.0.0.1:0", AdminToken: rotToken, LogFormat: "text",
			MasterKey: masterKey, OldKeys: oldKeys, AllowPrivateTargets: true},
		Stderr: io.Discard,
	}
	return m, m.Run(context.Background())
}

func closeServer(t *testing.T, m *Main) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Errorf("close server: %v", err)
	}
}

// call sends a JSON request to m's API with the admin token and decodes
// the answer into out.
func call(t *testing.T, m *Main, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.Server.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+rotToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// seedDataDir starts a server on a new data directory, creates an AWSLambda
// and a Webhook connection with secrets, stops it, and returns the
// directory and the connections' IDs.
func seedDataDir(t *testing.T, tg rotTargets, masterKey string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	return dir, seed(t, tg, dir, "", masterKey)
}

// seed starts a server on dir and databaseURL (SQLite when ""), creates
// an AWSLambda and a Webhook connection with secrets, stops it, and
// returns the connections' IDs.
func seed(t *testing.T, tg rotTargets, dir, databaseURL, masterKey string) []string {
	t.Helper()
	m, err := runServerOn(t, dir, databaseURL, masterKey)
	if err != nil {
		t.Fatal(err)
	}
	defer closeServer(t, m)
	var ids []string
	for _, def := range []map[string]any{
		{"webhookType": "AWSLambda", "name": "lambda", "url": tg.lambda, "region": "us-east-1", "serviceName": "lambda",
			"accessKeyId": rotKeyID, "secretAccessKey": rotSecret, "sessionToken": rotSession, "defaultPayload": `{"n": "{{Name}}"}`},
		{"webhookType": "Webhook", "name": "hook", "url": tg.webhook, "authorizationHeader": rotWebhookKey, "defaultPayload": `{"n": "{{Name}}"}`},
	} {
		var c map[string]any
		if code := call(t, m, "POST", "/api/v1/connections", def, &c); code != http.StatusOK {
			t.Fatalf("create: %d %v", code, c)
		}
		ids = append(ids, c["id"].(string))
	}
	return ids
}

// checkSecretsWork starts a server on dir and runs Test Alert on every
// connection: each target answers 200 only to the right secret.
func checkSecretsWork(t *testing.T, dir string, ids []string, masterKey string, oldKeys ...string) {
	t.Helper()
	checkSecretsWorkOn(t, dir, "", ids, masterKey, oldKeys...)
}

// checkSecretsWorkOn is checkSecretsWork with --database-url databaseURL.
func checkSecretsWorkOn(t *testing.T, dir, databaseURL string, ids []string, masterKey string, oldKeys ...string) {
	t.Helper()
	m, err := runServerOn(t, dir, databaseURL, masterKey, oldKeys...)
	if err != nil {
		t.Fatalf("start after rotating: %v", err)
	}
	defer closeServer(t, m)
	for _, id := range ids {
		var res map[string]any
		if code := call(t, m, "POST", "/api/v1/connections/"+id+"/test", nil, &res); code != http.StatusOK || res["alertStatusCode"] != 200.0 {
			t.Errorf("Test Alert of %s after rotating: %d %v", id, code, res)
		}
	}
}

// rotateCLI runs hookline secrets rotate --data-dir dir as main does.
func rotateCLI(t *testing.T, dir string) (stdout, stderr string, err error) {
	t.Helper()
	return rotateCLIArgs(t, "--data-dir", dir)
}

// rotateCLIArgs runs hookline secrets rotate with args as main does.
func rotateCLIArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(strings.NewReader(""), &out, &errOut)
	root.SetArgs(append([]string{"secrets", "rotate"}, args...))
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

var keyIDsLine = regexp.MustCompile(`key id ([0-9a-f]{8}) → ([0-9a-f]{8})`)

// keyFileID is the ID of the key in a key file; "" when there is none.
func keyFileID(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	key, err := keyring.ParseKey(string(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return keyring.IDOfKey(key)
}

// opensWith reports whether a keyring of key alone opens the database of
// dir, and fails the test on any error but the wrong key.
func opensWith(t *testing.T, dir string, key []byte) bool {
	t.Helper()
	kr, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "hookline.db"), kr)
	if errors.Is(err, sqlite.ErrWrongKey) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return true
}

func readKey(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := keyring.ParseKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// assertNoClearSecrets fails when a file of dir holds a secret in clear.
func assertNoClearSecrets(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "hookline.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{rotSecret, rotSession, rotWebhookKey, strings.TrimPrefix(rotWebhookKey, "Bearer ")} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret in clear", filepath.Base(f))
			}
		}
	}
}

// TestSecretsRotateKeyFile rotates the key file of a stopped server's data
// directory, then starts the server: the secrets still work, the files hold
// none in clear, and the old key no longer opens them.
func TestSecretsRotateKeyFile(t *testing.T) {
	tg := startRotTargets(t)
	dir, ids := seedDataDir(t, tg, "")
	oldKey := readKey(t, filepath.Join(dir, keyring.KeyFile))
	oldID := keyring.IDOfKey(oldKey)

	stdout, stderr, err := rotateCLI(t, dir)
	if err != nil {
		t.Fatalf("rotate: %v\n%s%s", err, stdout, stderr)
	}
	m := keyIDsLine.FindStringSubmatch(stdout)
	if m == nil || m[1] != oldID {
		t.Fatalf("rotate did not print the key ids %s → new:\n%s", oldID, stdout)
	}
	newID := m[2]
	oldPath := filepath.Join(dir, keyring.OldKeyFilePrefix+oldID)
	for _, want := range []string{"Re-sealed 3 secrets of 2 connections, and the key check, under key id " + newID,
		"kept, mode 0600, in\n    " + oldPath + "\n", "can be undone"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("rotate output lacks %q:\n%s", want, stdout)
		}
	}
	if got := keyFileID(t, filepath.Join(dir, keyring.KeyFile)); got != newID {
		t.Errorf("master.key holds key %s; want the new key %s", got, newID)
	}
	if got := keyFileID(t, oldPath); got != oldID {
		t.Errorf("%s holds key %q; want the old key %s", oldPath, got, oldID)
	}
	if fi, err := os.Stat(oldPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("old key file: %v, %v; want mode 0600", fi, err)
	}
	if rotationFileExists(filepath.Join(dir, keyring.StagedKeyFile)) {
		t.Error("master.key.new is left behind")
	}
	if strings.Contains(stdout, keyring.EncodeKey(oldKey)) || strings.Contains(stdout, keyring.EncodeKey(readKey(t, filepath.Join(dir, keyring.KeyFile)))) {
		t.Error("rotate printed a key although it wrote the key file")
	}

	checkSecretsWork(t, dir, ids, "")
	assertNoClearSecrets(t, dir)
	if opensWith(t, dir, oldKey) {
		t.Error("the old key still opens the database")
	}
	newKey := readKey(t, filepath.Join(dir, keyring.KeyFile))
	if !opensWith(t, dir, newKey) {
		t.Error("the new key alone does not open the database")
	}

	// Undone as docs/secrets.md says: the keys swap names, and a start
	// re-seals everything under the old key again.
	for _, mv := range [][2]string{{keyring.KeyFile, keyring.OldKeyFilePrefix + newID}, {keyring.OldKeyFilePrefix + oldID, keyring.KeyFile}} {
		if err := os.Rename(filepath.Join(dir, mv[0]), filepath.Join(dir, mv[1])); err != nil {
			t.Fatal(err)
		}
	}
	checkSecretsWork(t, dir, ids, "")
	if !opensWith(t, dir, oldKey) || opensWith(t, dir, newKey) {
		t.Error("after undoing the rotation, the secrets are not sealed with the old key alone")
	}
}

// TestSecretsRotateMasterKey: with HOOKLINE_MASTER_KEY (or its _FILE), the
// new key is printed, no file is written, and the server starts with the
// printed key alone.
func TestSecretsRotateMasterKey(t *testing.T) {
	tg := startRotTargets(t)
	for _, viaFile := range []bool{false, true} {
		t.Run(map[bool]string{false: "HOOKLINE_MASTER_KEY", true: "HOOKLINE_MASTER_KEY_FILE"}[viaFile], func(t *testing.T) {
			oldKey, _ := keyring.NewKey()
			dir, ids := seedDataDir(t, tg, keyring.EncodeKey(oldKey))
			if viaFile {
				t.Setenv("HOOKLINE_MASTER_KEY", "")
				t.Setenv("HOOKLINE_MASTER_KEY_FILE", writeFile(t, "key", keyring.EncodeKey(oldKey)+"\n"))
			} else {
				t.Setenv("HOOKLINE_MASTER_KEY", keyring.EncodeKey(oldKey))
			}
			before := listDir(t, dir)
			stdout, stderr, err := rotateCLI(t, dir)
			if err != nil {
				t.Fatalf("rotate: %v\n%s%s", err, stdout, stderr)
			}
			m := regexp.MustCompile(`(?m)^\s+HOOKLINE_MASTER_KEY=(\S+)$`).FindStringSubmatch(stdout)
			if m == nil {
				t.Fatalf("rotate printed no key:\n%s", stdout)
			}
			newKey, err := keyring.ParseKey(m[1])
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(stdout, m[1]); n != 1 {
				t.Errorf("the new key is printed %d times; want once", n)
			}
			for _, want := range []string{"HOOKLINE_MASTER_KEY_OLD", "Re-sealed 3 secrets of 2 connections", keyring.IDOfKey(newKey)} {
				if !strings.Contains(stdout, want) {
					t.Errorf("rotate output lacks %q:\n%s", want, stdout)
				}
			}
			if strings.Contains(stdout, keyring.EncodeKey(oldKey)) {
				t.Error("rotate printed the old key")
			}
			if after := listDir(t, dir); after != before {
				t.Errorf("rotate changed the data directory's files: %s; want %s", after, before)
			}
			if _, err := runServer(t, dir, keyring.EncodeKey(oldKey)); err == nil || !strings.Contains(err.Error(), "does not open this database") {
				t.Errorf("start with the old key: %v; want the wrong-key error", err)
			}
			checkSecretsWork(t, dir, ids, keyring.EncodeKey(newKey))
			assertNoClearSecrets(t, dir)
		})
	}
}

// listDir names dir's files, without the database's own, whose WAL and
// shared memory come and go.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "hookline.db") {
			names = append(names, e.Name())
		}
	}
	return strings.Join(names, " ")
}

// TestSecretsRotateRefusedWhileServing: a running server holds the lock;
// rotate says so and changes nothing.
func TestSecretsRotateRefusedWhileServing(t *testing.T) {
	tg := startRotTargets(t)
	dir, ids := seedDataDir(t, tg, "")
	m, err := runServer(t, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	key := readKey(t, filepath.Join(dir, keyring.KeyFile))
	stdout, _, err := rotateCLI(t, dir)
	if err == nil || !strings.Contains(err.Error(), "another hookline is running on data directory") {
		t.Errorf("rotate while serving: %v\n%s", err, stdout)
	}
	if after := listDir(t, dir); after != before || !bytes.Equal(readKey(t, filepath.Join(dir, keyring.KeyFile)), key) {
		t.Errorf("a refused rotation changed the data directory: %s; want %s", after, before)
	}
	closeServer(t, m)
	checkSecretsWork(t, dir, ids, "")
	if !opensWith(t, dir, key) {
		t.Error("after a refused rotation the key no longer opens the database")
	}
}

// errCrash stops a rotation as a crash would.
type errCrash string

// TestSecretsRotateCrash stops a rotation after each of its steps, as a
// crash would (nothing of the command's clean-up runs), then starts the
// server as an operator would: the secrets work, and once it has started,
// the new key alone opens them and the old one does not.
func TestSecretsRotateCrash(t *testing.T) {
	tg := startRotTargets(t)
	for _, tt := range []struct {
		step      string
		masterKey bool // HOOKLINE_MASTER_KEY rather than the key file
	}{
		{"staged", false}, {"resealed", false}, {"installed", false},
		{"printed", true}, {"resealed", true},
	} {
		name := tt.step + map[bool]string{false: " (key file)", true: " (HOOKLINE_MASTER_KEY)"}[tt.masterKey]
		t.Run(name, func(t *testing.T) {
			var oldKey []byte
			envKey := ""
			if tt.masterKey {
				oldKey, _ = keyring.NewKey()
				envKey = keyring.EncodeKey(oldKey)
			}
			dir, ids := seedDataDir(t, tg, envKey)
			if !tt.masterKey {
				oldKey = readKey(t, filepath.Join(dir, keyring.KeyFile))
			}
			var out bytes.Buffer
			r := &rotator{DataDir: dir, MasterKey: envKey, KeySource: "HOOKLINE_MASTER_KEY", Out: &out,
				crash: func(step string) {
					if step == tt.step {
						panic(errCrash(step))
					}
				}}
			func() {
				defer func() {
					if v := recover(); v != errCrash(tt.step) {
						t.Fatalf("rotation did not stop after %q (recovered %v); output:\n%s", tt.step, v, out.String())
					}
				}()
				err := r.Run(context.Background())
				t.Fatalf("rotation ran to the end (%v)", err)
			}()

			// What the operator has: the key file, or the printed key.
			newID := keyIDsLine.FindStringSubmatch(out.String())[2]
			if tt.masterKey {
				m := regexp.MustCompile(`HOOKLINE_MASTER_KEY=(\S+)`).FindStringSubmatch(out.String())
				newKey, err := keyring.ParseKey(m[1])
				if err != nil {
					t.Fatal(err)
				}
				// As told: the new key, the old one kept until a start.
				checkSecretsWork(t, dir, ids, keyring.EncodeKey(newKey), envKey)
				checkSecretsWork(t, dir, ids, keyring.EncodeKey(newKey))
			} else {
				checkSecretsWork(t, dir, ids, "")
				if got := keyFileID(t, filepath.Join(dir, keyring.KeyFile)); got != newID {
					t.Errorf("after the start, master.key holds key %s; want the new key %s", got, newID)
				}
				if got := keyFileID(t, filepath.Join(dir, keyring.OldKeyFilePrefix+keyring.IDOfKey(oldKey))); got != keyring.IDOfKey(oldKey) {
					t.Errorf("after the start, the old key is not kept in its file (%q)", got)
				}
				if rotationFileExists(filepath.Join(dir, keyring.StagedKeyFile)) {
					t.Error("master.key.new is left behind after the start")
				}
				if !opensWith(t, dir, readKey(t, filepath.Join(dir, keyring.KeyFile))) {
					t.Error("after the start, the new key alone does not open the database")
				}
			}
			if opensWith(t, dir, oldKey) {
				t.Error("after the start, the old key still opens the database")
			}
			assertNoClearSecrets(t, dir)
		})
	}
}

// TestSecretsRotateRefusals: what rotate refuses to do, and that a refusal
// changes nothing.
func TestSecretsRotateRefusals(t *testing.T) {
	tg := startRotTargets(t)
	otherKey, _ := keyring.NewKey()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) string // returns the data dir to rotate
		env     string                                // HOOKLINE_MASTER_KEY
		want    []string
	}{
		{"no data directory", func(t *testing.T, dir string) string { return filepath.Join(dir, "missing") }, "",
			[]string{"data directory", "no such file"}},
		{"no database", func(t *testing.T, dir string) string { return t.TempDir() }, "",
			[]string{"holds no Hookline database", "--data-dir"}},
		{"no key file", func(t *testing.T, dir string) string {
			if err := os.Rename(filepath.Join(dir, keyring.KeyFile), filepath.Join(dir, "elsewhere")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "", []string{"no master key", "HOOKLINE_MASTER_KEY is not set"}},
		{"wrong HOOKLINE_MASTER_KEY", nil, keyring.EncodeKey(otherKey), []string{"does not open this database's secrets"}},
		{"a secret that does not open", func(t *testing.T, dir string) string {
			// Sealed with a key that nobody gives: rotating would strand it.
			kr, _ := keyring.New(otherKey)
			sealed, _ := kr.Seal([]byte("x"), "connection/X/authorizationHeader")
			raw, err := sql.Open("sqlite", filepath.Join(dir, "hookline.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(`UPDATE connections SET secrets = json_set(secrets, '$.authorizationHeader', ?) WHERE name = 'hook'`, sealed); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "", []string{`secret "authorizationHeader" does not open`, "Nothing was changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := seedDataDir(t, tg, "")
			target := dir
			if tt.prepare != nil {
				target = tt.prepare(t, dir)
			}
			t.Setenv("HOOKLINE_MASTER_KEY", tt.env)
			before := readDirFiles(t, dir)
			stdout, _, err := rotateCLI(t, target)
			checkRefused(t, dir, before, stdout, err, tt.want)
		})
	}
}

// readDirFiles returns the names and contents of dir's key files.
func readDirFiles(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), keyring.KeyFile) && e.Name() != "elsewhere" {
			continue
		}
		c, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(e.Name() + "=" + string(c))
	}
	return b.String()
}

// openPostgres opens the PostgreSQL database at url with a keyring of key
// alone, closed when t ends; nil when key does not open its secrets. Any
// other error fails the test.
func openPostgres(t *testing.T, url string, key []byte) *postgres.DB {
	t.Helper()
	kr, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), url, kr)
	if errors.Is(err, postgres.ErrWrongKey) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkPostgresSecrets fails unless key alone opens the secrets of the
// database at url, ids being seed's connections, to the values seed gave.
func checkPostgresSecrets(t *testing.T, url string, ids []string, key []byte) {
	t.Helper()
	db := openPostgres(t, url, key)
	if db == nil {
		t.Fatalf("key %s does not open the database", keyring.IDOfKey(key))
	}
	want := []map[string]string{
		{"secretAccessKey": rotSecret, "sessionToken": rotSession},
		{"authorizationHeader": rotWebhookKey},
	}
	for i, id := range ids {
		c, err := db.Connection(context.Background(), id)
		if err != nil {
			t.Fatalf("connection %s: %v", id, err)
		}
		for name, v := range want[i] {
			if c.Secrets[name] != v {
				t.Errorf("connection %s: secret %s = %q; want %q", c.Name, name, c.Secrets[name], v)
			}
		}
	}
}

// TestSecretsRotatePostgres rotates the master key of a server on
// PostgreSQL with --database-url, with the key file and with
// HOOKLINE_MASTER_KEY: the secrets open with the new key alone, to the
// same values, the old key no longer opens the database, and a server
// started with the new key sends with them.
func TestSecretsRotatePostgres(t *testing.T) {
	tg := startRotTargets(t)
	for _, masterKey := range []bool{false, true} {
		t.Run(map[bool]string{false: "key file", true: "HOOKLINE_MASTER_KEY"}[masterKey], func(t *testing.T) {
			url := pgtest.NewDatabase(t)
			dir := t.TempDir()
			var oldKey []byte
			envKey := ""
			if masterKey {
				oldKey, _ = keyring.NewKey()
				envKey = keyring.EncodeKey(oldKey)
			}
			ids := seed(t, tg, dir, url, envKey)
			args := []string{"--database-url", url, "--data-dir", dir}
			if masterKey {
				// The data directory holds nothing the rotation needs.
				args[3] = filepath.Join(t.TempDir(), "none")
			} else {
				oldKey = readKey(t, filepath.Join(dir, keyring.KeyFile))
			}
			t.Setenv("HOOKLINE_MASTER_KEY", envKey)
			t.Setenv("HOOKLINE_DATABASE_URL", "")

			stdout, stderr, err := rotateCLIArgs(t, args...)
			if err != nil {
				t.Fatalf("rotate: %v\n%s%s", err, stdout, stderr)
			}
			m := keyIDsLine.FindStringSubmatch(stdout)
			if m == nil || m[1] != keyring.IDOfKey(oldKey) {
				t.Fatalf("rotate did not print the key ids %s → new:\n%s", keyring.IDOfKey(oldKey), stdout)
			}
			newID := m[2]
			for _, want := range []string{"PostgreSQL database " + strings.Split(url, "?")[0],
				"Re-sealed 3 secrets of 2 connections, and the key check, under key id " + newID} {
				if !strings.Contains(stdout, want) {
					t.Errorf("rotate output lacks %q:\n%s", want, stdout)
				}
			}

			var newKey []byte
			serverDir := dir
			if masterKey {
				k := regexp.MustCompile(`(?m)^\s+HOOKLINE_MASTER_KEY=(\S+)$`).FindStringSubmatch(stdout)
				if k == nil {
					t.Fatalf("rotate printed no key:\n%s", stdout)
				}
				if newKey, err = keyring.ParseKey(k[1]); err != nil {
					t.Fatal(err)
				}
				if rotationFileExists(args[3]) {
					t.Errorf("rotate created %s", args[3])
				}
				serverDir = t.TempDir()
			} else {
				newKey = readKey(t, filepath.Join(dir, keyring.KeyFile))
				oldPath := filepath.Join(dir, keyring.OldKeyFilePrefix+keyring.IDOfKey(oldKey))
				if got := keyFileID(t, oldPath); got != keyring.IDOfKey(oldKey) {
					t.Errorf("%s holds key %q; want the old key %s", oldPath, got, keyring.IDOfKey(oldKey))
				}
				if rotationFileExists(filepath.Join(dir, keyring.StagedKeyFile)) {
					t.Error("master.key.new is left behind")
				}
				if strings.Contains(stdout, keyring.EncodeKey(newKey)) {
					t.Error("rotate printed the key although it wrote the key file")
				}
			}
			if got := keyring.IDOfKey(newKey); got != newID {
				t.Fatalf("the new key is key id %s; rotate said %s", got, newID)
			}

			if openPostgres(t, url, oldKey) != nil {
				t.Error("the old key still opens the database")
			}
			checkPostgresSecrets(t, url, ids, newKey)
			if masterKey {
				checkSecretsWorkOn(t, serverDir, url, ids, keyring.EncodeKey(newKey))
			} else {
				// master.key.old-* is read as an old key: move it away, so
				// that the new key alone must do.
				oldPath := filepath.Join(dir, keyring.OldKeyFilePrefix+keyring.IDOfKey(oldKey))
				if err := os.Rename(oldPath, filepath.Join(t.TempDir(), "old.key")); err != nil {
					t.Fatal(err)
				}
				checkSecretsWorkOn(t, serverDir, url, ids, "")
			}
		})
	}
}

// TestSecretsRotatePostgresRefusals: what rotate --database-url refuses,
// each with an error that says why, and that a refusal changes nothing.
func TestSecretsRotatePostgresRefusals(t *testing.T) {
	tg := startRotTargets(t)
	url := pgtest.NewDatabase(t)
	key, _ := keyring.NewKey()
	otherKey, _ := keyring.NewKey()
	ids := seed(t, tg, t.TempDir(), url, keyring.EncodeKey(key))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	tests := []struct {
		name string
		// args returns the command's arguments; dir is a new, empty
		// directory.
		args func(t *testing.T, dir string) []string
		env  map[string]string
		want []string
	}{
		{"wrong HOOKLINE_MASTER_KEY", func(t *testing.T, dir string) []string {
			return []string{"--database-url", url, "--data-dir", dir}
		}, map[string]string{"HOOKLINE_MASTER_KEY": keyring.EncodeKey(otherKey)},
			[]string{"does not open this database's secrets", "key id " + keyring.IDOfKey(key)}},
		{"wrong key file", func(t *testing.T, dir string) []string {
			if err := os.WriteFile(filepath.Join(dir, keyring.KeyFile), []byte(keyring.EncodeKey(otherKey)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"--database-url", url, "--data-dir", dir}
		}, nil, []string{"does not open this database's secrets"}},
		{"no data directory for the key file", func(t *testing.T, dir string) []string {
			return []string{"--database-url", url, "--data-dir", filepath.Join(dir, "missing")}
		}, nil, []string{"data directory, which holds the key file", "no such file"}},
		{"no key file", func(t *testing.T, dir string) []string {
			return []string{"--database-url", url, "--data-dir", dir}
		}, nil, []string{"no master key", "HOOKLINE_MASTER_KEY is not set"}},
		{"not a PostgreSQL URL", func(t *testing.T, dir string) []string {
			return []string{"--database-url", "mysql://hookline@127.0.0.1/hookline", "--data-dir", dir}
		}, map[string]string{"HOOKLINE_MASTER_KEY": keyring.EncodeKey(key)}, []string{"--database-url must be a PostgreSQL URL"}},
		{"unreachable database from HOOKLINE_DATABASE_URL", func(t *testing.T, dir string) []string {
			return []string{"--data-dir", dir}
		}, map[string]string{"HOOKLINE_MASTER_KEY": keyring.EncodeKey(key),
			"HOOKLINE_DATABASE_URL": fmt.Sprintf("postgres://hookline@127.0.0.1:%d/hookline?sslmode=disable", closedPort)},
			[]string{"failed to connect", "is --database-url (or HOOKLINE_DATABASE_URL) right?"}},
		{"malformed URL", func(t *testing.T, dir string) []string {
			return []string{"--database-url", "postgres://hookline@127.0.0.1:port/hookline", "--data-dir", dir}
		}, map[string]string{"HOOKLINE_MASTER_KEY": keyring.EncodeKey(key)},
			[]string{"cannot parse", "is --database-url (or HOOKLINE_DATABASE_URL) right?"}},
		{"a server on this machine", func(t *testing.T, dir string) []string {
			m, err := runServerOn(t, dir, url, keyring.EncodeKey(key))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeServer(t, m) })
			return []string{"--database-url", url, "--data-dir", dir}
		}, map[string]string{"HOOKLINE_MASTER_KEY": keyring.EncodeKey(key)},
			[]string{"another hookline is running on data directory"}},
		{"a server on another machine", func(t *testing.T, dir string) []string {
			m, err := runServerOn(t, t.TempDir(), url, keyring.EncodeKey(key))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeServer(t, m) })
			return []string{"--database-url", url, "--data-dir", dir}
		}, map[string]string{"HOOKLINE_MASTER_KEY": keyring.EncodeKey(key)},
			[]string{"a hookline server is running on this database", "stop every server on it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"HOOKLINE_MASTER_KEY", "HOOKLINE_MASTER_KEY_FILE", "HOOKLINE_MASTER_KEY_OLD", "HOOKLINE_DATABASE_URL"} {
				t.Setenv(name, tt.env[name])
			}
			dir := t.TempDir()
			args := tt.args(t, dir)
			before := readDirFiles(t, dir)
			stdout, _, err := rotateCLIArgs(t, args...)
			checkRefused(t, dir, before, stdout, err, tt.want)
			checkPostgresSecrets(t, url, ids, key)
		})
	}
}

// checkRefused fails t unless a rotation was refused with an error saying
// each of want, printed no key, and left dir's key files as before.
func checkRefused(t *testing.T, dir, before, stdout string, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("rotate succeeded:\n%s", stdout)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(stdout, "HOOKLINE_MASTER_KEY=") {
		t.Errorf("a refused rotation printed a key:\n%s", stdout)
	}
	if after := readDirFiles(t, dir); after != before {
		t.Errorf("a refused rotation changed the key files:\n%s\nwant\n%s", after, before)
	}
}
