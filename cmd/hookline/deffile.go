package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
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
	// payloads finds the payload fields, which may be written as an object
	// instead of a string holding one, and passes each, with its name, to
	// set, which sends the object's JSON text in its place.
	payloads func(m map[string]json.RawMessage, set func(obj map[string]json.RawMessage, field, name string) error) error
}

// readDefinition reads a T from a JSON or YAML file ("-": standard input),
// refusing fields T does not have; errors name the file.
func readDefinition[T any](in io.Reader, path string, d definitionFile) (T, error) {
	var out T
	b, err := (&stdinOnce{r: in}).readFile("-f", path)
	if err != nil {
		return out, err
	}
	name := path
	if name == "-" {
		name = "standard input"
	}
	if out, err = parseDefinition[T](b, d); err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// parseDefinition reads a T from JSON or YAML text.
func parseDefinition[T any](b []byte, d definitionFile) (T, error) {
	var out T
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return out, errors.New("the file is empty")
	}
	js := trimmed
	if trimmed[0] != '{' {
		var err error
		if js, err = yaml.YAMLToJSONStrict(b); err != nil {
			return out, fmt.Errorf("not valid YAML: %w", err)
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil || m == nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(js, se.Offset)
			return out, fmt.Errorf("not valid JSON: line %d, column %d: %v", line, col, se)
		}
		return out, fmt.Errorf("must hold one object of %s fields", d.kind)
	}
	for _, f := range d.readOnly {
		delete(m, f)
	}
	minutesAsText(m, d.minutes...)
	if d.payloads != nil {
		err := d.payloads(m, func(obj map[string]json.RawMessage, field, name string) error {
			p := bytes.TrimSpace(obj[field])
			if len(p) == 0 || (p[0] != '{' && p[0] != '[') {
				return nil
			}
			var c bytes.Buffer
			if err := json.Compact(&c, p); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			obj[field], _ = json.Marshal(c.String())
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	clean, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return out, fmt.Errorf("%s: must be %s, not %s", te.Field, goTypeInWords(te.Type.String()), te.Value)
		}
		return out, fmt.Errorf("not a %s: %v", d.kind, strings.TrimPrefix(err.Error(), "json: "))
	}
	return out, nil
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
