package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newKeysCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "keys",
		Aliases: []string{"key", "access-keys"},
		Short:   "Create, list and revoke access keys, the credentials of the CLI and API",
		Long: `An access key lets a program (this CLI, Alertmanager, a script) call the API
as a user, with that user's roles: an access ID ("hk" and 14 letters and
digits) and a secret key, sent as HTTP Basic credentials. The key is shown
once, when it is created; the server keeps only its hash.

Everyone may create, list and revoke their own keys; keys of other users need
the Manage Users and Roles capability. A user holds at most 20 keys.

` + apiHelp,
		Example: `  # A new administrator's first key, after the setup link: sign in with the password
  hookline keys create --email admin@example.com --label cli
  # paste the two export lines it prints, then
  hookline keys list
  hookline keys create --label alertmanager --user bot@example.com
  hookline keys revoke hk7QK3M9XZ2PRT4W`,
	}
	o.register(cmd)
	cmd.AddCommand(newKeysCreateCmd(o), newKeysListCmd(o), newKeysRevokeCmd(o))
	return cmd
}

func newKeysCreateCmd(o *apiOptions) *cobra.Command {
	var (
		label, user, email string
		passwordStdin      bool
	)
	cmd := &cobra.Command{
		Use:   "create --label LABEL [--user ID|EMAIL] [--email EMAIL]",
		Short: "Create an access key and print it once",
		Long: `Create an access key for yourself, or with --user for another user (which
needs Manage Users and Roles). --label says what will use the key.

It prints the access ID and the key as two export lines for a shell, once: the
server keeps only the key's hash, so store it now. -o json prints the API's
object, with "key".

--email signs in with that user's password instead of using an access key or
the token: how a new administrator gets a first key. The password is read from
standard input with --password-stdin, else from HOOKLINE_PASSWORD (or
HOOKLINE_PASSWORD_FILE), else asked for on the terminal. Signing in needs the
server's https:// URL, or a loopback one such as http://127.0.0.1:8080.`,
		Example: `  hookline keys create --email admin@example.com --label cli
  eval "$(hookline keys create --email admin@example.com --label cli)"   # sets both variables
  printf '%s\n' "$PASSWORD" | hookline keys create --email admin@example.com --password-stdin --label ci
  hookline keys create --label alertmanager --user bot@example.com -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(label) == "" {
				return errors.New(`--label is required: say what will use the key, such as --label cli or --label alertmanager`)
			}
			var (
				c   *client.Client
				err error
			)
			ctx := cmd.Context()
			if email != "" {
				if c, err = o.signIn(cmd, email, passwordStdin); err != nil {
					return err
				}
				// The key outlives the sign-in; the session need not.
				defer func() { _ = c.SignOut(context.WithoutCancel(ctx)) }()
			} else {
				if passwordStdin {
					return errors.New("--password-stdin goes with --email, which names whose password it is")
				}
				if c, err = o.client(); err != nil {
					return err
				}
			}
			owner, err := o.userID(ctx, c, user)
			if err != nil {
				return err
			}
			k, err := c.CreateAccessKey(ctx, label, owner)
			if err != nil {
				return o.explain("create access key", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, k)
			}
			who := cmp.Or(userEmails(ctx, c)[k.UserID], k.UserID)
			fmt.Fprintf(cmd.ErrOrStderr(), "Created access key %s (%s) for %s. The key is shown this once; keep it secret:\n\n", k.ID, strings.TrimSpace(k.Label), who)
			return printKeyExports(cmd.OutOrStdout(), k)
		},
	}
	f := cmd.Flags()
	f.StringVar(&label, "label", "", "what will use the key, such as cli or alertmanager (required)")
	f.StringVar(&user, "user", "", "the user to create the key for, by ID or email (default: yourself)")
	f.StringVar(&email, "email", "", "sign in as this user with their password, instead of using an access key or the token")
	f.BoolVar(&passwordStdin, "password-stdin", false, "with --email: read the password from standard input")
	return cmd
}

// printKeyExports writes a new key as shell lines that set the variables
// the CLI reads.
func printKeyExports(w io.Writer, k *client.AccessKey) error {
	_, err := fmt.Fprintf(w, "export HOOKLINE_ACCESS_ID=%s\nexport HOOKLINE_ACCESS_KEY=%s\n", k.ID, k.Key)
	return err
}

func newKeysListCmd(o *apiOptions) *cobra.Command {
	var user string
	cmd := &cobra.Command{
		Use:   "list [--user ID|EMAIL]",
		Short: "List access keys, newest first",
		Long: `List your access keys, or with --user another user's (which needs Manage Users
and Roles). With the admin token, which has no keys of its own, it lists
everyone's. Keys are never shown, only their access IDs.`,
		Example: `  hookline keys list
  hookline keys list --user bot@example.com -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			owner, err := o.userID(ctx, c, user)
			if err != nil {
				return err
			}
			keys, err := c.AllAccessKeys(ctx, owner)
			if err != nil {
				return o.explain("list access keys", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(keys))
			}
			if len(keys) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), `No access keys; create one with "hookline keys create --label LABEL".`)
				return nil
			}
			return printKeyTable(cmd.OutOrStdout(), keys, userEmails(ctx, c))
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "list this user's keys, by ID or email")
	return cmd
}

func printKeyTable(w io.Writer, keys []client.AccessKey, emails map[string]string) error {
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{k.ID, k.Label, cmp.Or(emails[k.UserID], k.UserID), formatTime(k.CreatedAt), formatTime(k.LastUsedAt)}
	}
	return printTable(w, []string{"ACCESS ID", "LABEL", "USER", "CREATED", "LAST USED"}, rows)
}

func newKeysRevokeCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ACCESS_ID...",
		Aliases: []string{"delete"},
		Short:   "Revoke access keys: they stop working at once",
		Long: `Revoke access keys by access ID. Each stops working at once (within a few
seconds on other replicas). Revoking the key this command signs with works
too, and is its last call.`,
		Example: `  hookline keys revoke hk7QK3M9XZ2PRT4W
  hookline keys list -o json | jq -r '.[] | select(.label == "old") | .id' | xargs hookline keys revoke`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			var (
				revoked []map[string]any
				failed  int
			)
			for _, id := range args {
				if err := c.DeleteAccessKey(cmd.Context(), id); err != nil {
					failed++
					fmt.Fprintln(cmd.ErrOrStderr(), "Error:", o.explain("revoke access key "+id, err))
					continue
				}
				revoked = append(revoked, map[string]any{"id": id, "revoked": true})
				if o.output == outputTable {
					fmt.Fprintf(cmd.OutOrStdout(), "Revoked access key %s.\n", id)
				}
			}
			if o.output != outputTable {
				if err := printObject(cmd.OutOrStdout(), o.output, nonNil(revoked)); err != nil {
					return err
				}
			}
			if failed > 0 {
				return exitError(1)
			}
			return nil
		},
	}
}
