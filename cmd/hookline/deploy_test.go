package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The deployment files in deploy/ and docs/deploy.md, which includes them,
// are checked against the program: every flag they pass to hookline serve
// exists and parses, the paths and ports agree with one another, and the
// container's health check asks for a route the server answers.

const (
	unitFile      = "../../deploy/hookline.service"
	containerFile = "../../deploy/Containerfile"
	deployDoc     = "../../docs/deploy.md"
)

// unit is a systemd unit file: section → key → values, in order.
type unit map[string]map[string][]string

func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Fatalf("[%s] %s= is set %d times, want once", section, key, len(v))
	}
	return v[0]
}

// readUnit parses a unit file as systemd does, for what it holds:
// comments, sections, Key=value and lines continued with a backslash.
func readUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section, pending := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s: cannot read %q", path, line)
		}
		u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// serveArgs checks that args run hookline serve with flags it has, and
// returns the parsed command to read them from.
func serveArgs(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("%s runs %q, want hookline serve", where, args)
	}
	cmd := newServeCmd()
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("%s: hookline serve %s: %v", where, strings.Join(args[1:], " "), err)
	}
	if rest := cmd.Flags().Args(); len(rest) > 0 {
		t.Errorf("%s: hookline serve takes no arguments, given %q", where, rest)
	}
	values := map[string]string{}
	for _, name := range []string{"data-dir", "addr", "log-format"} {
		values[name] = cmd.Flags().Lookup(name).Value.String()
	}
	return values
}

func TestDeploySystemdUnit(t *testing.T) {
	u := readUnit(t, unitFile)
	for key, want := range map[string]string{
		"User": "hookline", "Group": "hookline", "StateDirectory": "hookline", "StateDirectoryMode": "0700",
		"UMask": "0077", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "CapabilityBoundingSet": "",
	} {
		if got := u.one(t, "Service", key); got != want {
			t.Errorf("[Service] %s=%s, want %s", key, got, want)
		}
	}
	if got := u.one(t, "Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("WantedBy=%s", got)
	}

	args := strings.Fields(u.one(t, "Service", "ExecStart"))
	if filepath.Base(args[0]) != "hookline" || !filepath.IsAbs(args[0]) {
		t.Errorf("ExecStart runs %s, want an absolute path to hookline", args[0])
	}
	flags := serveArgs(t, "ExecStart", args[1:])

	// The data directory is the state directory systemd makes and the one
	// path ProtectSystem=strict leaves writable.
	dataDir := "/var/lib/" + u.one(t, "Service", "StateDirectory")
	if flags["data-dir"] != dataDir {
		t.Errorf("--data-dir %s, but StateDirectory= makes %s", flags["data-dir"], dataDir)
	}
	if !slices.Contains(strings.Fields(u.one(t, "Service", "ReadWritePaths")), dataDir) {
		t.Errorf("ReadWritePaths=%s does not include %s", u.one(t, "Service", "ReadWritePaths"), dataDir)
	}
	if host, _, err := net.SplitHostPort(flags["addr"]); err != nil || (host != "127.0.0.1" && host != "::1" && host != "localhost") {
		t.Errorf("--addr %s: the unit listens on loopback only, behind a TLS proxy", flags["addr"])
	}

	// Secrets come from a file only root can read, never from the unit,
	// which anyone may read with systemctl cat.
	envFile := u.one(t, "Service", "EnvironmentFile")
	if !strings.HasPrefix(envFile, "-/etc/hookline/") {
		t.Errorf("EnvironmentFile=%s, want an optional file in /etc/hookline", envFile)
	}
	for _, e := range u["Service"]["Environment"] {
		if name, _, _ := strings.Cut(e, "="); strings.HasPrefix(name, "HOOKLINE_") && !strings.HasSuffix(name, "_FILE") {
			t.Errorf("Environment=%s puts a HOOKLINE_ setting in the unit; secrets go in the environment file", e)
		}
	}

	// systemd's own check, where it is installed: unknown or misspelt keys.
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		b, err := os.ReadFile(unitFile)
		if err != nil {
			t.Fatal(err)
		}
		exe, err := os.Executable() // an executable that exists, for ExecStart
		if err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(t.TempDir(), "hookline.service")
		if err := os.WriteFile(copied, []byte(strings.Replace(string(b), "ExecStart="+args[0], "ExecStart="+exe, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(analyze, "verify", copied).CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "hookline.service") {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
	}
}

// instruction is one line of a Containerfile, continuations joined.
type instruction struct{ op, args string }

func readContainerfile(t *testing.T, path string) []instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	pending := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		op, args, _ := strings.Cut(line, " ")
		out = append(out, instruction{strings.ToUpper(op), strings.TrimSpace(args)})
	}
	return out
}

// execForm reads an instruction's JSON array form.
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.args), &args); err != nil {
		t.Fatalf("%s %s: not the exec (JSON) form: %v", in.op, in.args, err)
	}
	return args
}

func TestDeployContainerfile(t *testing.T) {
	all := readContainerfile(t, containerFile)
	last := 0
	for i, in := range all {
		if in.op == "FROM" {
			last = i
		}
	}
	final := map[string][]instruction{}
	for _, in := range all[last:] {
		final[in.op] = append(final[in.op], in)
	}
	one := func(op string) instruction {
		t.Helper()
		if len(final[op]) != 1 {
			t.Fatalf("the final stage has %d %s, want 1", len(final[op]), op)
		}
		return final[op][0]
	}

	// The build stage's Go is go.mod's, and it builds the command that exists.
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go ([0-9]+\.[0-9]+)`).FindSubmatch(gomod)
	if goLine == nil || !strings.HasPrefix(all[0].args, "golang:"+string(goLine[1])+"-") {
		t.Errorf("the build stage is %s; go.mod asks for Go %s", all[0].args, goLine[1])
	}
	built := ""
	for _, in := range all[:last] {
		if m := regexp.MustCompile(`go build .*-o (\S+) (\./\S+)$`).FindStringSubmatch(in.args); in.op == "RUN" && m != nil {
			built = m[1]
			if _, err := os.Stat(filepath.Join("../..", m[2], "main.go")); err != nil {
				t.Errorf("the build compiles %s: %v", m[2], err)
			}
		}
	}
	if built == "" {
		t.Fatal("no RUN go build ... -o <binary> ./<package> in the build stage")
	}

	if user := one("USER").args; user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("USER %s: the server runs as an unprivileged user", user)
	}
	entry := execForm(t, one("ENTRYPOINT"))
	if len(entry) != 1 || !strings.Contains(one("COPY").args, built+" "+entry[0]) {
		t.Errorf("ENTRYPOINT %q is not the binary the build stage made (%s), copied as %s", entry, built, one("COPY").args)
	}
	flags := serveArgs(t, "CMD", execForm(t, one("CMD")))
	if volume := one("VOLUME").args; volume != flags["data-dir"] {
		t.Errorf("VOLUME %s, but --data-dir is %s", volume, flags["data-dir"])
	}
	host, port, err := net.SplitHostPort(flags["addr"])
	if err != nil || host != "0.0.0.0" {
		t.Errorf("--addr %s: in a container the server must listen beyond loopback for -p to reach it", flags["addr"])
	}
	if expose := one("EXPOSE").args; expose != port {
		t.Errorf("EXPOSE %s, but --addr is %s", expose, flags["addr"])
	}

	// The health check asks the server, on its own port, for a route it
	// serves: a real one answers, started the way tests start it.
	check := one("HEALTHCHECK").args
	_, cmdPart, ok := strings.Cut(check, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %s has no CMD", check)
	}
	var probe *url.URL
	for _, a := range execForm(t, instruction{"HEALTHCHECK CMD", cmdPart}) {
		if u, err := url.Parse(a); err == nil && u.Scheme == "http" {
			probe = u
		}
	}
	if probe == nil {
		t.Fatalf("HEALTHCHECK %s names no http:// URL", check)
	}
	if probe.Hostname() != "127.0.0.1" || probe.Port() != port {
		t.Errorf("HEALTHCHECK asks %s, but the server listens on port %s", probe.Host, port)
	}
	srv := startServer(t)
	resp, err := http.Get(srv.url + probe.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s answers %d: the health check would mark a working server unhealthy", probe.RequestURI(), resp.StatusCode)
	}
}

// docs/deploy.md shows the files as they are.
func TestDeployDocIncludesFiles(t *testing.T) {
	doc, err := os.ReadFile(deployDoc)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{unitFile, containerFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), strings.TrimSpace(string(b))) {
			t.Errorf("docs/deploy.md does not include %s as it is: copy the file into it again", filepath.Base(f))
		}
	}
}
