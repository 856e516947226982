package main

// The document format of "hookline apply" and "hookline export": YAML
// documents, each one object with apiVersion, kind and the fields the API
// takes; secrets as references to the environment or to files; monitors'
// and searches' connections by name. See docs/apply.md.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/client"
)

// apiVersion is the version every document names; a later format gets a
// new one.
const apiVersion = "hookline/v1"

// The kinds of document.
const (
	kindConnection = "Connection"
	kindMonitor    = "Monitor"
	kindSearch     = "ScheduledSearch"
)

// kindOrder is the order apply changes objects in: monitors and searches
// name connections, which must exist first.
var kindOrder = map[string]int{kindConnection: 0, kindMonitor: 1, kindSearch: 2}

// document is one object of an apply file.
type document struct {
	file string // as given, or "standard input"
	dir  string // where a relative fromFile is read from
	line int    // the document's first line in file
	kind string
	name string
	// keyLines are the lines of the document's top-level fields, where
	// they could be found, so that a problem with a field names its line.
	keyLines map[string]int

	conn    *connDoc
	monitor *monitorDoc
	search  *searchDoc
}

// connDoc is a Connection document. def holds every field but secrets
// given as references; literal secrets stay in def.Extra until the
// server's connection types say which fields are secret.
type connDoc struct {
	def     client.Definition
	secrets map[string]*secretRef
	// settings are the type's own fields the document gives, by JSON name
	// (the fields of Extra that came from the file).
	settings map[string]bool
}

// secretRef is a secret as a document gives it: a literal value, the name
// of an environment variable, or a file. value is filled when resolved.
type secretRef struct {
	literal  bool
	fromEnv  string
	fromFile string
	value    string
}

// monitorDoc is a Monitor document; connNames[i] is the name that
// notifications[i] gives instead of a connectionId ("" when it gives an ID).
type monitorDoc struct {
	in        client.MonitorInput
	connNames []string
}

// searchDoc is a ScheduledSearch document; connName is its
// notification.connectionName, "" when it gives a connectionId.
type searchDoc struct {
	in       client.ScheduledSearchInput
	connName string
}

// problem is something wrong with the input, placed at a file and line.
type problem struct {
	file string
	line int
	msg  string
}

func (p problem) String() string {
	if p.line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.file, p.line, p.msg)
	}
	return fmt.Sprintf("%s: %s", p.file, p.msg)
}

// label names a document in messages and plans: Monitor "Suspicious IP".
func (d *document) label() string { return fmt.Sprintf("%s %q", d.kind, d.name) }

// at places a problem with one of d's fields ("notifications[0].payload"):
// on the line of its top-level field when known, else on d's first line.
func (d *document) at(field, format string, args ...any) problem {
	line := d.line
	top := field
	if i := strings.IndexAny(top, ".["); i >= 0 {
		top = top[:i]
	}
	if l, ok := d.keyLines[top]; ok {
		line = l
	}
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	if d.name != "" {
		msg = d.label() + ": " + msg
	}
	return problem{file: d.file, line: line, msg: msg}
}

// chunk is one document's text within a file.
type chunk struct {
	line int // first line of text in the file
	text string
}

// splitDocuments cuts a YAML stream at its document markers ("---" and
// "..." lines). A marker is at the start of a line, and no scalar may hold
// one there, so cutting at lines is exact for the documents apply reads.
func splitDocuments(b []byte) []chunk {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	lines := strings.SplitAfter(string(b), "\n")
	var (
		out   []chunk
		cur   strings.Builder
		start = 1
	)
	flush := func(next int) {
		out = append(out, chunk{line: start, text: cur.String()})
		cur.Reset()
		start = next
	}
	for i, l := range lines {
		bare := strings.TrimRight(l, "\r\n")
		switch {
		case bare == "---" || bare == "...":
			flush(i + 2)
		case strings.HasPrefix(bare, "--- ") || strings.HasPrefix(bare, "---\t"):
			// "--- {name: x}": the document starts on the marker's line.
			flush(i + 1)
			cur.WriteString("   " + l[3:])
		default:
			cur.WriteString(l)
		}
	}
	flush(0)
	return out
}

// blank reports whether a document holds nothing but comments and space.
func blank(text string) bool {
	for l := range strings.Lines(text) {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// firstLine is the line of a chunk's first content.
func (c chunk) firstLine() int {
	n := c.line
	for l := range strings.Lines(c.text) {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return n
		}
		n++
	}
	return c.line
}

// lastLine is the line of a chunk's last text.
func (c chunk) lastLine() int {
	return c.line + strings.Count(strings.TrimSuffix(c.text, "\n"), "\n")
}

// topKey matches a top-level mapping key in block style: name:, "name":.
var topKey = regexp.MustCompile(`^(?:"([^"]*)"|'([^']*)'|([^\s#'"\-{\[?][^:#]*?))\s*:(?:\s|$)`)

// keyLines finds the line of each top-level field of a block-style
// document; flow style ({...}) finds none, and problems fall back to the
// document's line.
func keyLines(c chunk) map[string]int {
	out := map[string]int{}
	n := c.line
	for l := range strings.Lines(c.text) {
		if m := topKey.FindStringSubmatch(l); m != nil {
			key := m[1] + m[2] + m[3]
			if _, seen := out[key]; !seen {
				out[key] = n
			}
		}
		n++
	}
	return out
}

// yamlLine finds the line a YAML error names; the parser offers no
// structured position, only "yaml: line N: ..." in its message.
var yamlLine = regexp.MustCompile(`line (\d+): ([^\n]*)`)

// parseDocuments reads the documents of one file. dir is where the
// documents' relative fromFile paths start. Every problem is returned,
// with its line; documents with problems are left out.
func parseDocuments(file, dir string, b []byte) ([]*document, []problem) {
	var (
		docs  []*document
		probs []problem
	)
	for _, c := range splitDocuments(b) {
		if blank(c.text) {
			continue
		}
		d := &document{file: file, dir: dir, line: c.firstLine(), keyLines: keyLines(c)}
		js, err := yaml.YAMLToJSONStrict([]byte(c.text))
		if err != nil {
			p := problem{file: file, line: d.line, msg: "not valid YAML: " + err.Error()}
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				// The parser counts from the document's first line; at the
				// end of input it names the line after the last.
				n, _ := strconv.Atoi(m[1])
				p.line = max(min(c.line+n-1, c.lastLine()), c.line)
				p.msg = "not valid YAML: " + m[2]
			}
			probs = append(probs, p)
			continue
		}
		if ps := d.decode(js); len(ps) > 0 {
			probs = append(probs, ps...)
			continue
		}
		docs = append(docs, d)
	}
	return docs, probs
}

// decode reads the document's fields from their JSON form.
func (d *document) decode(js []byte) []problem {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil || m == nil {
		return []problem{{d.file, d.line, "a document must be a mapping of fields: apiVersion, kind, name and the object's own"}}
	}
	var probs []problem
	str := func(field string) (string, bool) {
		raw, ok := m[field]
		if !ok {
			return "", false
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			probs = append(probs, d.at(field, "must be a string, not %s", jsonKindOf(raw)))
			return "", true
		}
		return s, true
	}
	// str's type problems come first; a field that is not a string is not
	// also reported as missing or wrong.
	before := len(probs)
	version, ok := str("apiVersion")
	switch {
	case len(probs) > before:
	case !ok:
		probs = append(probs, d.at("apiVersion", "is required: %s", apiVersion))
	case version != apiVersion:
		probs = append(probs, d.at("apiVersion", "must be %s, not %q", apiVersion, version))
	}
	before = len(probs)
	kind, ok := str("kind")
	switch {
	case len(probs) > before:
	case !ok:
		probs = append(probs, d.at("kind", "is required: Connection, Monitor or ScheduledSearch"))
	case kind == kindConnection || kind == kindMonitor || kind == kindSearch:
		d.kind = kind
	default:
		probs = append(probs, d.at("kind", "must be Connection, Monitor or ScheduledSearch, not %q", kind))
	}
	before = len(probs)
	name, _ := str("name")
	if d.name = strings.TrimSpace(name); d.name == "" && len(probs) == before {
		probs = append(probs, d.at("name", "is required"))
	}
	if len(probs) > 0 {
		return probs
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	switch d.kind {
	case kindConnection:
		return d.decodeConnection(m)
	case kindMonitor:
		return d.decodeMonitor(m)
	}
	return d.decodeSearch(m)
}

func jsonKindOf(raw json.RawMessage) string {
	switch b := bytes.TrimSpace(raw); {
	case len(b) == 0 || string(b) == "null":
		return "nothing"
	case b[0] == '{':
		return "a mapping"
	case b[0] == '[':
		return "a list"
	case b[0] == '"':
		return "a string"
	case b[0] == 't' || b[0] == 'f':
		return "a boolean"
	}
	return "a number"
}

// connReadOnly are fields of the API's answer that a document may carry
// (an edited "connections get -o yaml") and that apply ignores.
var connReadOnly = []string{"id", "type", "createdAt", "createdBy", "modifiedAt", "modifiedBy", "warnings"}

func (d *document) decodeConnection(m map[string]json.RawMessage) []problem {
	var probs []problem
	cd := &connDoc{secrets: map[string]*secretRef{}, settings: map[string]bool{}}
	for _, f := range connReadOnly {
		delete(m, f)
	}
	for k, raw := range m {
		if _, isFlag := secretOf(k); isFlag && (string(raw) == "true" || string(raw) == "false") {
			delete(m, k) // hasSecretAccessKey: an answer's flag
			continue
		}
		ref, isRef, err := parseSecretRef(raw)
		switch {
		case err != nil:
			probs = append(probs, d.at(k, "%v", err))
		case isRef:
			cd.secrets[k] = ref
			delete(m, k)
		}
	}
	if len(probs) > 0 {
		return probs
	}
	js, _ := json.Marshal(m)
	fields, err := parseDefinitionFile(js)
	if err != nil {
		return []problem{d.at("", "%v", err)}
	}
	js, _ = json.Marshal(fields)
	if err := json.Unmarshal(js, &cd.def); err != nil {
		return []problem{d.at("", "%v", err)}
	}
	for k := range cd.def.Extra {
		cd.settings[k] = true
	}
	d.conn = cd
	return nil
}

// secretOf is the secret that an answer's has<Field> flag stands for.
func secretOf(field string) (string, bool) {
	rest, ok := strings.CutPrefix(field, "has")
	if !ok || rest == "" || rest[0] < 'A' || rest[0] > 'Z' {
		return "", false
	}
	return strings.ToLower(rest[:1]) + rest[1:], true
}

// parseSecretRef reads {fromEnv: NAME} or {fromFile: PATH}. Any other
// value is not a reference (isRef false); a mapping that names fromEnv or
// fromFile wrongly is an error.
func parseSecretRef(raw json.RawMessage) (*secretRef, bool, error) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || b[0] != '{' {
		return nil, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, false, nil
	}
	_, env := m["fromEnv"]
	_, file := m["fromFile"]
	if !env && !file {
		return nil, false, nil
	}
	if len(m) != 1 {
		return nil, false, fmt.Errorf("a secret reference is {fromEnv: NAME} or {fromFile: PATH}, one of them and nothing else")
	}
	var ref secretRef
	for k, v := range m {
		var s string
		if err := json.Unmarshal(v, &s); err != nil || strings.TrimSpace(s) == "" {
			return nil, false, fmt.Errorf("%s: must be a non-empty string", k)
		}
		if k == "fromEnv" {
			ref.fromEnv = strings.TrimSpace(s)
		} else {
			ref.fromFile = strings.TrimSpace(s)
		}
	}
	return &ref, true, nil
}

// describe says where a secret comes from, never its value.
func (r *secretRef) describe() string {
	switch {
	case r.fromEnv != "":
		return "the environment variable " + r.fromEnv
	case r.fromFile != "":
		return "the file " + r.fromFile
	}
	return "the file itself"
}

// resolve reads a reference's value: the variable must be set and not
// empty; a file's content is trimmed, as --secret-access-key-file's is.
// Errors never hold the value.
func (r *secretRef) resolve(dir string, lookupEnv func(string) (string, bool)) error {
	switch {
	case r.fromEnv != "":
		v, ok := lookupEnv(r.fromEnv)
		if !ok || v == "" {
			return fmt.Errorf("the environment variable %s is not set or empty", r.fromEnv)
		}
		r.value = v
	case r.fromFile != "":
		path := r.fromFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("cannot read the secret file %s: %s", path, pathErr(err))
		}
		r.value = strings.TrimSpace(string(b))
		if r.value == "" {
			return fmt.Errorf("the secret file %s is empty", path)
		}
	}
	return nil
}

// decodeMonitor reads a Monitor document as "monitors create -f" reads
// its file, connectionName included.
func (d *document) decodeMonitor(m map[string]json.RawMessage) []problem {
	m["name"], _ = json.Marshal(d.name)
	js, _ := json.Marshal(m)
	in, refs, err := parseMonitorFile(js)
	if err != nil {
		return d.problemsOf(err)
	}
	names := make([]string, len(in.Notifications))
	for _, r := range refs {
		names[r.index] = r.name
	}
	d.monitor = &monitorDoc{in: in, connNames: names}
	return nil
}

// decodeSearch reads a ScheduledSearch document as "searches create -f"
// reads its file.
func (d *document) decodeSearch(m map[string]json.RawMessage) []problem {
	m["name"], _ = json.Marshal(d.name)
	js, _ := json.Marshal(m)
	in, refs, err := parseSearchFile(js)
	if err != nil {
		return d.problemsOf(err)
	}
	sd := &searchDoc{in: in}
	if len(refs) == 1 {
		sd.connName = refs[0].name
	}
	d.search = sd
	return nil
}

// problemsOf places a definition file's error: each field problem at its
// field's line, anything else at the document's.
func (d *document) problemsOf(err error) []problem {
	var fps fieldProblems
	if !errors.As(err, &fps) {
		return []problem{d.at("", "%v", err)}
	}
	probs := make([]problem, len(fps))
	for i, p := range fps {
		probs[i] = d.at(p.field, "%s", p.msg)
	}
	return probs
}
