package awslambda_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/notify"
	"github.com/hookline/hookline/notify/awslambda"
)

// TestFieldConditions holds the fields' ShowWhen and RequiredWhen, which
// the Create Connection dialog follows, to Normalize, for every mode on a
// server with and without the machine's credentials:
//   - a field shown for the modes is kept; one hidden is dropped (or, for
//     serviceName under the Invoke API, inferred), so hiding loses nothing;
//   - a form that sends only the required fields it shows is accepted;
//   - leaving out any one of them is a problem named after it.
func TestFieldConditions(t *testing.T) {
	valid := map[string]string{
		"accessKeyId": keyID, "secretAccessKey": secret, "sessionToken": token,
		"roleArn": roleARN, "externalId": externalID, "roleSessionName": "hookline-test",
		"region": "us-east-1", "serviceName": "lambda",
		"functionName": "my-function", "invocationType": "Event",
	}
	for _, ambient := range []bool{false, true} {
		k := awslambda.New(awslambda.Options{AmbientCredentials: ambient})
		fields := k.Fields()
		byName := map[string]notify.Field{}
		for _, f := range fields {
			byName[f.Name] = f
			for _, cond := range []map[string][]string{f.ShowWhen, f.RequiredWhen} {
				for name, values := range cond {
					// A condition on a field that does not exist, or on a
					// value it does not offer, never holds: a typo would
					// hide the field for good.
					i, ok := fieldIndex(fields, name)
					if !ok {
						t.Errorf("%s: a condition names field %q, which does not exist", f.Name, name)
						continue
					}
					for _, v := range values {
						if !slices.Contains(fields[i].Options, v) {
							t.Errorf("%s: a condition names %s=%q, which is not one of its options %v", f.Name, name, v, fields[i].Options)
						}
					}
				}
			}
		}
		for _, auth := range byName["authMode"].Options {
			for _, inv := range byName["invokeMode"].Options {
				name := auth + "/" + inv
				if ambient {
					name += "/ambient"
				}
				t.Run(name, func(t *testing.T) {
					modes := map[string]string{"authMode": auth, "invokeMode": inv}
					named, local := "https://abcdefghij.lambda-url.us-east-1.on.aws/", "http://127.0.0.1:9000/"
					if inv == awslambda.InvokeAPI {
						named, local = "https://lambda.us-east-1.amazonaws.com", "http://127.0.0.1:9000"
					}

					// Every field given: what is shown stays, what is hidden goes.
					all := maps.Clone(modes)
					maps.Copy(all, valid)
					c := normalize(k, fields, named, all)
					if p := problems(c.err); len(p) > 0 {
						t.Fatalf("every field given: problems %v", p)
					}
					for _, f := range fields {
						shown := notify.Applies(f.ShowWhen, modes, fields)
						_, kept := c.value(f.Name)
						switch {
						case shown && !kept:
							t.Errorf("%s is shown but Normalize dropped it", f.Name)
						case !shown && kept && f.Name != "serviceName":
							t.Errorf("%s is hidden but Normalize kept it: the form would not show a value the connection uses", f.Name)
						}
					}

					// A form sends only the required fields it shows.
					required := maps.Clone(modes)
					for _, f := range fields {
						if f.Name != "authMode" && f.Name != "invokeMode" && isRequired(f, modes, fields) {
							required[f.Name] = valid[f.Name]
						}
					}
					if p := problems(normalize(k, fields, local, required).err); len(p) > 0 {
						t.Errorf("the required fields %v alone: problems %v", slices.Sorted(maps.Keys(required)), p)
					}
					for name := range required {
						if name == "authMode" || name == "invokeMode" {
							continue
						}
						less := maps.Clone(required)
						delete(less, name)
						if p := problems(normalize(k, fields, local, less).err); !slices.Contains(p, name) {
							t.Errorf("without the required %s: problems %v, want one for it", name, p)
						}
					}
				})
			}
		}
	}
}

func fieldIndex(fields []notify.Field, name string) (int, bool) {
	i := slices.IndexFunc(fields, func(f notify.Field) bool { return f.Name == name })
	return i, i >= 0
}

// isRequired is whether a form marks f required: shown, and required
// always or for the modes.
func isRequired(f notify.Field, modes map[string]string, fields []notify.Field) bool {
	return notify.Applies(f.ShowWhen, modes, fields) &&
		(f.Required || (f.RequiredWhen != nil && notify.Applies(f.RequiredWhen, modes, fields)))
}

type normalized struct {
	conn *hookline.Connection
	err  error
}

func (n normalized) value(name string) (string, bool) {
	if v, ok := n.conn.Settings[name]; ok {
		return v, true
	}
	v, ok := n.conn.Secrets[name]
	return v, ok
}

// normalize runs Normalize over a connection with values, each put where
// its field keeps it.
func normalize(k awslambda.Kind, fields []notify.Field, url string, values map[string]string) normalized {
	c := &hookline.Connection{WebhookType: "AWSLambda", Name: "n", URL: url, Settings: map[string]string{}, Secrets: map[string]string{}}
	for name, v := range values {
		if i, ok := fieldIndex(fields, name); ok && fields[i].Secret {
			c.Secrets[name] = v
		} else {
			c.Settings[name] = v
		}
	}
	var p hookline.Problems
	k.Normalize(c, &p)
	return normalized{conn: c, err: p.Err()}
}

// problems lists the fields err names.
func problems(err error) []string {
	var e *hookline.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}
