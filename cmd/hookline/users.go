package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newUsersCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "users",
		Aliases: []string{"user"},
		Short:   "Create, list, show, change and delete users",
		Long: `Manage the people (and programs) who use Hookline. A user has an email, a
name, roles that give capabilities, and optionally a password to sign in with;
a user without one calls the API only with access keys. All of this needs the
Manage Users and Roles capability.

Users are named by ID or by email. Roles (--role) by name or ID.

` + apiHelp,
		Example: `  hookline users list
  printf '%s\n' "$NEW_PASSWORD" | hookline users create --email ops@example.com --name Ops --role Operators --password-stdin
  hookline users update ops@example.com --role Operators --role Auditors
  hookline users update ops@example.com --disabled
  hookline users delete ops@example.com`,
	}
	o.register(cmd)
	cmd.AddCommand(newUsersListCmd(o), newUsersGetCmd(o), newUsersCreateCmd(o), newUsersUpdateCmd(o), newUsersDeleteCmd(o))
	return cmd
}

// resolveUser finds a user by ID, or by email when s holds an "@".
func (o *apiOptions) resolveUser(ctx context.Context, c *client.Client, what, s string) (*client.User, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "@") {
		u, err := c.User(ctx, s)
		if err != nil {
			return nil, o.explain("get user", err)
		}
		return u, nil
	}
	users, err := c.AllUsers(ctx)
	if err != nil {
		return nil, o.explain("list users", err)
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, s) {
			return &u, nil
		}
	}
	return nil, fmt.Errorf(`%s %q: no user has this email; see "hookline users list"`, what, s)
}

// userID is the ID of the user a --user flag names: as given, or found by
// email when it holds an "@". "" stays "": the caller.
func (o *apiOptions) userID(ctx context.Context, c *client.Client, user string) (string, error) {
	user = strings.TrimSpace(user)
	if !strings.Contains(user, "@") {
		return user, nil
	}
	u, err := o.resolveUser(ctx, c, "--user", user)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// userEmails maps user IDs to emails for tables: everyone's when the
// caller may list users, else only the caller's own.
func userEmails(ctx context.Context, c *client.Client) map[string]string {
	m := map[string]string{}
	if users, err := c.AllUsers(ctx); err == nil {
		for _, u := range users {
			m[u.ID] = u.Email
		}
	} else if s, err := c.Session(ctx); err == nil && s.User != nil {
		m[s.User.ID] = s.User.Email
	}
	return m
}

func enabledText(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

func newUsersListCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every user, by email",
		Long:  `List every user, ordered by email. -o json prints a JSON array of users.`,
		Example: `  hookline users list
  hookline users list -o json | jq -r '.[] | select(.disabled) | .email'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			users, err := c.AllUsers(cmd.Context())
			if err != nil {
				return o.explain("list users", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(users))
			}
			roles := &roleResolver{c: c}
			return printUserTable(cmd.OutOrStdout(), users, roles.names(cmd.Context()))
		},
	}
}

func printUserTable(w io.Writer, users []client.User, roleNamesByID map[string]string) error {
	rows := make([][]string, len(users))
	for i, u := range users {
		rows[i] = []string{u.ID, u.Email, u.Name, roleNames(u.RoleIDs, roleNamesByID), enabledText(u.Disabled)}
	}
	return printTable(w, []string{"ID", "EMAIL", "NAME", "ROLES", "STATUS"}, rows)
}

func printUserDetails(w io.Writer, u *client.User, roleNamesByID map[string]string) error {
	roles := make([]string, len(u.RoleIDs))
	for i, id := range u.RoleIDs {
		roles[i] = id
		if name, ok := roleNamesByID[id]; ok {
			roles[i] = name + " (" + id + ")"
		}
	}
	lines := []detail{
		{"ID", u.ID},
		{"Email", u.Email},
		{"Name", orDash(u.Name)},
	}
	lines = append(lines, listDetails("Roles", roles)...)
	lines = append(lines,
		detail{"Status", enabledText(u.Disabled)},
		detail{"Password", setOrNot(u.HasPassword)},
		detail{"Created", formatTime(u.CreatedAt)},
		detail{"Modified", formatTime(u.ModifiedAt)},
	)
	return printDetails(w, lines)
}

// printUser prints one user after get, create or update.
func (o *apiOptions) printUser(cmd *cobra.Command, c *client.Client, u *client.User) error {
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, u)
	}
	roles := &roleResolver{c: c}
	return printUserDetails(cmd.OutOrStdout(), u, roles.names(cmd.Context()))
}

func newUsersGetCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID|EMAIL",
		Short: "Show one user",
		Example: `  hookline users get ops@example.com
  hookline users get 0192F1C2A1B2C3D4 -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			u, err := o.resolveUser(cmd.Context(), c, "user", args[0])
			if err != nil {
				return err
			}
			return o.printUser(cmd, c, u)
		},
	}
}

// userFlags are the fields create and update take.
type userFlags struct {
	email, name   string
	roles         []string
	passwordStdin bool
	disabled      bool
}

func (f *userFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.email, "email", "", "the user's email, which they sign in with")
	fs.StringVar(&f.name, "name", "", "the user's name")
	fs.StringArrayVar(&f.roles, "role", nil, "a role, by name or ID (repeat for more; --role \"\" for none)")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the user's password from standard input")
	fs.BoolVar(&f.disabled, "disabled", false, "disable the user: no sign-in, no access keys (--disabled=false enables)")
}

// apply sets on in the fields whose flags were given.
func (f *userFlags) apply(cmd *cobra.Command, o *apiOptions, c *client.Client, in *client.UserInput) error {
	fs := cmd.Flags()
	if fs.Changed("email") {
		in.Email = f.email
	}
	if fs.Changed("name") {
		in.Name = f.name
	}
	if fs.Changed("role") {
		ids, err := (&roleResolver{c: c}).ids(cmd.Context(), o, "--role", f.roles)
		if err != nil {
			return err
		}
		in.RoleIDs = ids
	}
	if fs.Changed("disabled") {
		in.Disabled = f.disabled
	}
	if f.passwordStdin {
		pw, err := passwordFromStdin(cmd.InOrStdin())
		if err != nil {
			return err
		}
		in.Password = pw
	}
	return nil
}

func newUsersCreateCmd(o *apiOptions) *cobra.Command {
	f := &userFlags{}
	cmd := &cobra.Command{
		Use:   "create --email EMAIL [--name NAME] [--role ROLE]... [--password-stdin]",
		Short: "Create a user",
		Long: `Create a user. Without --password-stdin the user has no password: they call
the API only with access keys, which an administrator creates for them with
"hookline keys create --user EMAIL". Passwords are at least 12 characters.`,
		Example: `  printf '%s\n' "$NEW_PASSWORD" | hookline users create --email ops@example.com --name Ops --role Operators --password-stdin
  hookline users create --email alertmanager@example.com --role Senders`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(f.email) == "" {
				return errors.New("--email is required")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			in := client.UserInput{RoleIDs: []string{}}
			if err := f.apply(cmd, o, c, &in); err != nil {
				return err
			}
			u, err := c.CreateUser(cmd.Context(), in)
			if err != nil {
				return o.explain("create user", err)
			}
			return o.printUser(cmd, c, u)
		},
	}
	f.register(cmd)
	return cmd
}

func newUsersUpdateCmd(o *apiOptions) *cobra.Command {
	f := &userFlags{}
	cmd := &cobra.Command{
		Use:   "update ID|EMAIL [flags]",
		Short: "Change a user: only the fields whose flags are given",
		Long: `Change a user. The stored user is fetched, the fields whose flags are given
are changed, and the result is stored. --role replaces the user's roles with
the ones given. A new password (--password-stdin) ends the user's sessions.
No change may leave Hookline without an enabled administrator.`,
		Example: `  hookline users update ops@example.com --name "Ops team"
  hookline users update ops@example.com --role Operators --role Auditors
  printf '%s\n' "$NEW_PASSWORD" | hookline users update ops@example.com --password-stdin
  hookline users update ops@example.com --disabled`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			if !slices.ContainsFunc([]string{"email", "name", "role", "password-stdin", "disabled"}, fs.Changed) {
				return errors.New("nothing to change: give --email, --name, --role, --password-stdin or --disabled")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			cur, err := o.resolveUser(cmd.Context(), c, "user", args[0])
			if err != nil {
				return err
			}
			in := cur.Input()
			if err := f.apply(cmd, o, c, &in); err != nil {
				return err
			}
			u, err := c.UpdateUser(cmd.Context(), cur.ID, in)
			if err != nil {
				return o.explain("update user", err)
			}
			return o.printUser(cmd, c, u)
		},
	}
	f.register(cmd)
	return cmd
}

func newUsersDeleteCmd(o *apiOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete ID|EMAIL",
		Short: "Delete a user with their access keys and sessions",
		Long: `Delete a user, their access keys and their sessions. On a terminal it asks
first; --yes skips the question, and is required when standard input is not a
terminal. The last enabled administrator cannot be deleted.`,
		Example: `  hookline users delete ops@example.com
  hookline users delete 0192F1C2A1B2C3D4 --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			u, err := o.resolveUser(cmd.Context(), c, "user", args[0])
			if err != nil {
				return err
			}
			return o.confirmAndDelete(cmd, yes, deletion{
				noun:  "user",
				label: fmt.Sprintf("%s (%s)", u.Email, u.ID),
				also:  " and their access keys",
				shown: map[string]any{"id": u.ID, "email": u.Email, "deleted": true},
				del:   func() error { return c.DeleteUser(cmd.Context(), u.ID) },
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
