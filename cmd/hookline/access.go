package main

// What the access-control commands (keys, users, roles, audit, whoami)
// share: the credentials every API command signs with, signing in with a
// password, the delete flow, and pieces of their output.

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/credential"
)

// What apiOptions.client signs with, for the hint on a 401.
const (
	viaAccessKey = "access key"
	viaToken     = "admin token"
	viaPassword  = "password"
)

// errNoCredentials is client's error when neither flags nor environment
// give credentials.
var errNoCredentials = &cliError{msg: `no API credentials. Use an access key:
  export HOOKLINE_ACCESS_ID=hk... HOOKLINE_ACCESS_KEY=...   (or pass --access-id and --access-key)
  "hookline keys create --email YOU@EXAMPLE.COM --label cli" makes one with your password.
Or the server's admin token (HOOKLINE_ADMIN_TOKEN): pass --token, or set HOOKLINE_TOKEN or HOOKLINE_TOKEN_FILE.`}

// credentials picks what client signs with: the access key flags, else
// --token, else the access key variables, else HOOKLINE_TOKEN. It returns
// an access ID with its key, or a token. A half given on the command line
// may take its other half from the environment.
func (o *apiOptions) credentials() (id, key, token string, err error) {
	envID, err := envOr("HOOKLINE_ACCESS_ID", "")
	if err != nil {
		return "", "", "", err
	}
	envKey, err := envOr("HOOKLINE_ACCESS_KEY", "")
	if err != nil {
		return "", "", "", err
	}
	switch {
	case o.accessID != "" || o.accessKey != "":
		id, key = cmp.Or(o.accessID, envID), cmp.Or(o.accessKey, envKey)
	case o.token != "":
		return "", "", o.token, nil
	case envID != "" || envKey != "":
		id, key = envID, envKey
	default:
		if token, err = envOr("HOOKLINE_TOKEN", ""); err != nil {
			return "", "", "", err
		}
		if token == "" {
			return "", "", "", errNoCredentials
		}
		return "", "", token, nil
	}
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return "", "", "", errors.New("an access key needs its access ID: pass --access-id or set HOOKLINE_ACCESS_ID")
	case !credential.ValidAccessID(id):
		// Not shown: it may be the key, given in the wrong place.
		return "", "", "", errors.New(`the access ID (--access-id or HOOKLINE_ACCESS_ID) is not one: access IDs are "hk" and 14 capital letters and digits; is it the key?`)
	case key == "":
		return "", "", "", fmt.Errorf("access ID %s has no key: pass --access-key, or set HOOKLINE_ACCESS_KEY or HOOKLINE_ACCESS_KEY_FILE", id)
	}
	return id, key, "", nil
}

// unauthorizedHint says what to check when the server refused the
// credentials client chose.
func (o *apiOptions) unauthorizedHint() string {
	switch o.via {
	case viaAccessKey:
		return `Check --access-id and --access-key, or HOOKLINE_ACCESS_ID and HOOKLINE_ACCESS_KEY: the key may be mistyped
  or revoked, or its user disabled or deleted. "hookline keys create --email YOU --label cli" makes a new one.`
	case viaPassword:
		return "Check --email and the password (--password-stdin, HOOKLINE_PASSWORD or the prompt)."
	}
	return `Check --token or HOOKLINE_TOKEN: it must be the server's admin token (HOOKLINE_ADMIN_TOKEN).
  Or use an access key: --access-id and --access-key, or HOOKLINE_ACCESS_ID and HOOKLINE_ACCESS_KEY.`
}

// signIn returns a client signed in with email and a password, for
// commands that work before the caller has an access key.
func (o *apiOptions) signIn(cmd *cobra.Command, email string, passwordStdin bool) (*client.Client, error) {
	if err := o.prepare(); err != nil {
		return nil, err
	}
	password, err := signInPassword(cmd, email, passwordStdin)
	if err != nil {
		return nil, err
	}
	o.via = viaPassword
	c := client.New(o.server, "", client.WithUserAgent("hookline-cli/"+version))
	if _, err := c.SignIn(cmd.Context(), email, password); err != nil {
		return nil, o.explain("sign in", err)
	}
	return c, nil
}

// signInPassword reads the password of --email: from standard input with
// --password-stdin, else HOOKLINE_PASSWORD (or HOOKLINE_PASSWORD_FILE),
// else asked for on the terminal without echo.
func signInPassword(cmd *cobra.Command, email string, fromStdin bool) (string, error) {
	if fromStdin {
		return passwordFromStdin(cmd.InOrStdin())
	}
	pw, err := envOr("HOOKLINE_PASSWORD", "")
	if err != nil || pw != "" {
		return pw, err
	}
	in := cmd.InOrStdin()
	if !isTerminal(in) {
		return "", errors.New("no password for --email: pass --password-stdin and write it to standard input, or set HOOKLINE_PASSWORD (or HOOKLINE_PASSWORD_FILE); on a terminal you are asked")
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Password for %s: ", email)
	b, err := term.ReadPassword(int(in.(*os.File).Fd()))
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("no password given")
	}
	return string(b), nil
}

// passwordFromStdin reads a password written to standard input: its first
// line, without the line ending. A password longer than the server takes
// is cut to one that is still too long, so that the server refuses it
// rather than storing a part.
func passwordFromStdin(in io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, hookline.MaxPasswordLen+3))
	if err != nil {
		return "", fmt.Errorf("--password-stdin: read standard input: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pw := strings.TrimSuffix(string(line), "\r")
	if pw == "" {
		return "", errors.New("--password-stdin: standard input holds no password")
	}
	return pw, nil
}

// deletion is one object a delete command removes.
type deletion struct {
	noun  string         // "user", "role": in the question, the error and the report
	label string         // the object in the question and the report: `"Operators" (0192F1C2A1B2C3E1)`
	also  string         // what goes with it, for the question: " and their access keys"
	shown map[string]any // what -o json and yaml print once it is gone
	del   func() error
}

// confirmAndDelete asks before the deletion (unless yes), deletes and
// reports what went. Without yes, standard input must be a terminal; an
// answer of no exits with status 1.
func (o *apiOptions) confirmAndDelete(cmd *cobra.Command, yes bool, d deletion) error {
	if !yes {
		if !isTerminal(cmd.InOrStdin()) {
			return errors.New("not deleting without confirmation: standard input is not a terminal, so pass --yes")
		}
		ok, err := confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), fmt.Sprintf("Delete %s %s%s?", d.noun, d.label, d.also))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(cmd.ErrOrStderr(), "Not deleted.")
			return exitError(1)
		}
	}
	if err := d.del(); err != nil {
		return o.explain("delete "+d.noun, err)
	}
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, d.shown)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s %s.\n", d.noun, d.label)
	return nil
}

// nonNil returns list, or an empty one for nil, so that -o json prints []
// rather than null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// listDetails shows values under label in a details view, one a line, or
// "(none)".
func listDetails(label string, values []string) []detail {
	if len(values) == 0 {
		return []detail{{label, "(none)"}}
	}
	lines := make([]detail, len(values))
	for i, v := range values {
		lines[i].value = v
	}
	lines[0].label = label
	return lines
}

// printDetails writes a details view (see writeDetails) to w.
func printDetails(w io.Writer, lines []detail) error {
	var b bytes.Buffer
	writeDetails(&b, lines)
	_, err := w.Write(b.Bytes())
	return err
}
