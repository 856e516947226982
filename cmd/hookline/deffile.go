package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hookline/hookline/rowrule"
)

// definitionFile is a kind of object that `create -f` and `update -f`
// read from JSON or YAML files with the API's field names.
type definitionFile struct {
	kind string // "monitor", "scheduled search": for errors
	// readOnly are the fields of get's output that a file may hold and that
	// are not the object's to change: a get, edited, is a valid update.
	readOnly []string
	// minutes are durations that a bare number of minutes may give
	// (interval: 5): the API reads them from strings.
	minutes []string
	// notifications passes each notification object of m to visit, with
	// its field path ("notifications[1]", "notification") and its place in
	// a list (0 for a single one), and stores what visit changed back in m.
	notifications func(m map[string]json.RawMessage, visit func(n map[string]json.RawMessage, path string, index int))
	// payloads are a notification's payload fields, which may be written
	// as an object instead of a string holding one; the object's JSON text
	// is sent in its place.
	payloads []string
}

// connRef is a notification's connectionName, which a file may give in
// place of a connectionId, as apply's documents do. Parsing leaves it for
// the command to resolve through the API, so reading a file needs no
// server.
type connRef struct {
	field string // notifications[1].connectionName
	index int    // the notification's place in a monitor's list; 0 in a search
	name  string
}

// fieldProblem is what is wrong with one field of a file; apply places
// it at the field's line.
type fieldProblem struct{ field, msg string }

func (p fieldProblem) String() string { return p.field + ": " + p.msg }

// fieldProblems are what is wrong with a file's fields, all reported at
// once.
type fieldProblems []fieldProblem

func (p fieldProblems) Error() string {
	if len(p) == 1 {
		return p[0].String()
	}
	lines := make([]string, len(p))
	for i, f := range p {
		lines[i] = f.String()
	}
	return plural(len(p), "problem") + ":\n  " + strings.Join(lines, "\n  ")
}

// fileLabel names a -f argument in messages.
func fileLabel(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// readDefinition reads a T from a JSON or YAML file ("-": standard input),
// refusing fields T does not have; errors name the file. The connections
// the file names with connectionName are returned for resolveConnRefs.
func readDefinition[T any](in io.Reader, path string, d definitionFile) (T, []connRef, error) {
	var out T
	b, err := (&stdinOnce{r: in}).readFile("-f", path)
	if err != nil {
		return out, nil, err
	}
	out, refs, err := parseDefinition[T](b, d)
	if err != nil {
		return out, nil, fmt.Errorf("%s: %w", fileLabel(path), err)
	}
	return out, refs, nil
}

// parseDefinition reads a T from JSON or YAML text. A notification's
// connectionName is taken out and returned, in the file's order, for the
// caller to resolve to an ID.
func parseDefinition[T any](b []byte, d definitionFile) (T, []connRef, error) {
	var out T
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return out, nil, errors.New("the file is empty")
	}
	js := trimmed
	if trimmed[0] != '{' {
		var err error
		if js, err = yaml.YAMLToJSONStrict(b); err != nil {
			return out, nil, fmt.Errorf("not valid YAML: %w", err)
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil || m == nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(js, se.Offset)
			return out, nil, fmt.Errorf("not valid JSON: line %d, column %d: %v", line, col, se)
		}
		return out, nil, fmt.Errorf("must hold one object of %s fields", d.kind)
	}
	for _, f := range d.readOnly {
		delete(m, f)
	}
	minutesAsText(m, d.minutes...)
	var (
		refs  []connRef
		probs fieldProblems
	)
	if d.notifications != nil {
		d.notifications(m, func(n map[string]json.RawMessage, path string, index int) {
			if n == nil {
				return // null: decoding says what is missing
			}
			for _, f := range d.payloads {
				if err := payloadAsText(n, f); err != nil {
					probs = append(probs, fieldProblem{path + "." + f, err.Error()})
				}
			}
			name, err := takeConnName(n)
			switch {
			case err != nil:
				probs = append(probs, fieldProblem{path, err.Error()})
			case name != "":
				refs = append(refs, connRef{field: path + ".connectionName", index: index, name: name})
			}
		})
	}
	if len(probs) > 0 {
		return out, nil, probs
	}
	clean, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return out, nil, fmt.Errorf("%s: must be %s, not %s", te.Field, goTypeInWords(te.Type.String()), te.Value)
		}
		return out, nil, fmt.Errorf("not a %s: %v", d.kind, strings.TrimPrefix(err.Error(), "json: "))
	}
	return out, refs, nil
}

// payloadAsText replaces a payload written as an object (or a list) with
// the string of its JSON text, which is what the API takes.
func payloadAsText(obj map[string]json.RawMessage, field string) error {
	p := bytes.TrimSpace(obj[field])
	if len(p) == 0 || (p[0] != '{' && p[0] != '[') {
		return nil
	}
	var c bytes.Buffer
	if err := json.Compact(&c, p); err != nil {
		return err
	}
	obj[field], _ = json.Marshal(c.String())
	return nil
}

// takeConnName removes a notification's connectionName, which apply and
// the create and update commands resolve to the connection's ID.
func takeConnName(n map[string]json.RawMessage) (string, error) {
	raw, ok := n["connectionName"]
	if !ok {
		return "", nil
	}
	delete(n, "connectionName")
	var name string
	if err := json.Unmarshal(raw, &name); err != nil || strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("connectionName: must be a connection's name")
	}
	if _, both := n["connectionId"]; both {
		return "", fmt.Errorf("give connectionName or connectionId, not both")
	}
	return strings.TrimSpace(name), nil
}

// resolveConnRefs finds the connection each of refs names and returns
// their IDs, in refs' order. Names match ignoring case, by the key the
// server keeps them unique by, and never an ID: connectionName is a name.
// Every name that matches none is reported at once, under file's name.
func (o *apiOptions) resolveConnRefs(ctx context.Context, conns *connResolver, file string, refs []connRef) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	if err := conns.load(ctx); err != nil {
		return nil, o.explain("list connections", err)
	}
	byName := make(map[string]string, len(conns.conns))
	for _, c := range conns.conns {
		byName[rowrule.NameKey(c.Name)] = c.ID
	}
	ids := make([]string, len(refs))
	var probs fieldProblems
	for i, r := range refs {
		id, ok := byName[rowrule.NameKey(r.name)]
		if !ok {
			probs = append(probs, fieldProblem{r.field, fmt.Sprintf("no connection is named %q", r.name)})
			continue
		}
		ids[i] = id
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("%s: %w", fileLabel(file), probs)
	}
	return ids, nil
}

// minutesAsText makes a duration written as a bare number ("interval: 5",
// which YAML reads as a number) the text the API reads as minutes.
func minutesAsText(m map[string]json.RawMessage, fields ...string) {
	for _, f := range fields {
		if raw := bytes.TrimSpace(m[f]); len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
			m[f], _ = json.Marshal(string(raw))
		}
	}
}
