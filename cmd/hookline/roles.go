package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
)

func newRolesCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:     "roles",
		Aliases: []string{"role"},
		Short:   "Create, list, show, change and delete roles",
		Long: `A role is a named set of capabilities; users get capabilities from their
roles. The built-in Administrator role has every capability and cannot be
changed or deleted. Everyone may list roles; changing them needs the Manage
Users and Roles capability.

Capabilities (--capability):
` + capabilityHelp() + `
Roles are named by name or ID.

` + apiHelp,
		Example: `  hookline roles list
  hookline roles create --name Operators --capability manageConnections --capability viewAlerts
  hookline roles update Operators --capability manageConnections,viewAlerts,sendAlerts
  hookline roles delete Operators`,
	}
	o.register(cmd)
	cmd.AddCommand(newRolesListCmd(o), newRolesGetCmd(o), newRolesCreateCmd(o), newRolesUpdateCmd(o), newRolesDeleteCmd(o))
	return cmd
}

// capabilityText says what each capability allows, for help and errors.
var capabilityText = map[hookline.Capability]string{
	hookline.ViewConnections:     "list and show connections",
	hookline.ManageConnections:   "create, change, delete and test connections; retry deliveries (implies viewConnections)",
	hookline.ViewMonitors:        "list and show monitors",
	hookline.ManageMonitors:      "create, change and delete monitors (implies viewMonitors)",
	hookline.ViewAlerts:          "show alerts and deliveries with their attempts",
	hookline.SendAlerts:          "post alerts, through the API and the Alertmanager receiver",
	hookline.ManageUsersAndRoles: "manage users, roles and everyone's access keys",
	hookline.ViewAuditLog:        "read the audit log",
	hookline.ManageCollectors:    "create, change and delete HTTP sources and rotate their tokens",
}

func capabilityHelp() string {
	var b strings.Builder
	for _, c := range hookline.Capabilities {
		fmt.Fprintf(&b, "  %-20s %s\n", c, capabilityText[c])
	}
	return b.String()
}

// parseCapabilities checks --capability values against the capabilities
// the server knows, matching without regard to case.
func parseCapabilities(values []string) ([]string, error) {
	out := []string{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		i := slices.IndexFunc(hookline.Capabilities, func(c hookline.Capability) bool { return strings.EqualFold(string(c), v) })
		if i < 0 {
			return nil, fmt.Errorf("--capability %q is not a capability; use one of:\n%s", v, capabilityHelp())
		}
		if c := string(hookline.Capabilities[i]); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// roleResolver finds roles by ID or name, listing them once, when first
// needed. Every signed-in caller may list roles.
type roleResolver struct {
	c      *client.Client
	roles  []client.Role
	err    error
	loaded bool
}

func (r *roleResolver) load(ctx context.Context) error {
	if !r.loaded {
		r.roles, r.err = r.c.Roles(ctx)
		r.loaded = true
	}
	return r.err
}

// resolve returns the role whose ID is nameOrID, else the one with that
// name, compared without regard to case as the server keeps names unique.
// flag names the argument when no role matches.
func (r *roleResolver) resolve(ctx context.Context, o *apiOptions, flag, nameOrID string) (client.Role, error) {
	if err := r.load(ctx); err != nil {
		return client.Role{}, o.explain("list roles", err)
	}
	key := strings.TrimSpace(nameOrID)
	for _, role := range r.roles {
		if role.ID == key {
			return role, nil
		}
	}
	for _, role := range r.roles {
		if strings.EqualFold(role.Name, key) {
			return role, nil
		}
	}
	names := make([]string, len(r.roles))
	for i, role := range r.roles {
		names[i] = role.Name
	}
	return client.Role{}, fmt.Errorf("%s %q: no role has this ID or name; the roles are %s", flag, nameOrID, strings.Join(names, ", "))
}

// ids resolves role flags to IDs; empty values are dropped, so that
// --role "" gives no roles.
func (r *roleResolver) ids(ctx context.Context, o *apiOptions, flag string, values []string) ([]string, error) {
	ids := []string{}
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		role, err := r.resolve(ctx, o, flag, v)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, role.ID) {
			ids = append(ids, role.ID)
		}
	}
	return ids, nil
}

// names maps role IDs to names; without them (the list failed) tables show
// IDs.
func (r *roleResolver) names(ctx context.Context) map[string]string {
	_ = r.load(ctx)
	m := make(map[string]string, len(r.roles))
	for _, role := range r.roles {
		m[role.ID] = role.Name
	}
	return m
}

// roleNames joins the names of the roles ids, each as its ID when names
// lacks it.
func roleNames(ids []string, names map[string]string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = cmp.Or(names[id], id)
	}
	return strings.Join(out, ", ")
}

// findRole resolves a role argument by ID or name.
func (o *apiOptions) findRole(ctx context.Context, c *client.Client, nameOrID string) (*client.Role, error) {
	role, err := (&roleResolver{c: c}).resolve(ctx, o, "role", nameOrID)
	if err != nil {
		return nil, err
	}
	return &role, nil
}

func newRolesListCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every role, Administrator first",
		Example: `  hookline roles list
  hookline roles list -o json | jq -r '.[] | select(.capabilities | index("sendAlerts")) | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			roles, err := c.Roles(cmd.Context())
			if err != nil {
				return o.explain("list roles", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(roles))
			}
			return printRoleTable(cmd.OutOrStdout(), roles)
		},
	}
}

func printRoleTable(w io.Writer, roles []client.Role) error {
	rows := make([][]string, len(roles))
	for i, r := range roles {
		name := r.Name
		if r.BuiltIn {
			name += " (built-in)"
		}
		rows[i] = []string{r.ID, name, strings.Join(r.Capabilities, ", ")}
	}
	return printTable(w, []string{"ID", "NAME", "CAPABILITIES"}, rows)
}

func printRoleDetails(w io.Writer, r *client.Role) error {
	builtIn := "no"
	if r.BuiltIn {
		builtIn = "yes: it cannot be changed or deleted"
	}
	lines := []detail{
		{"ID", r.ID},
		{"Name", r.Name},
		{"Description", orDash(r.Description)},
		{"Built-in", builtIn},
	}
	lines = append(lines, listDetails("Capabilities", r.Capabilities)...)
	lines = append(lines, detail{"Created", formatTime(r.CreatedAt)}, detail{"Modified", formatTime(r.ModifiedAt)})
	return printDetails(w, lines)
}

func (o *apiOptions) printRole(cmd *cobra.Command, r *client.Role) error {
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, r)
	}
	return printRoleDetails(cmd.OutOrStdout(), r)
}

func newRolesGetCmd(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "get NAME|ID",
		Short:   "Show one role",
		Example: `  hookline roles get Operators`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			r, err := o.findRole(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return o.printRole(cmd, r)
		},
	}
}

// roleFlags are the fields create and update take.
type roleFlags struct {
	name, description string
	capabilities      []string
}

func (f *roleFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.name, "name", "", "the role's name")
	fs.StringVar(&f.description, "description", "", "what the role is for")
	fs.StringSliceVar(&f.capabilities, "capability", nil, "a capability (repeat, or separate with commas); see hookline roles --help")
}

// apply sets on in the fields whose flags were given.
func (f *roleFlags) apply(cmd *cobra.Command, in *client.RoleInput) error {
	fs := cmd.Flags()
	if fs.Changed("name") {
		in.Name = f.name
	}
	if fs.Changed("description") {
		in.Description = f.description
	}
	if fs.Changed("capability") {
		caps, err := parseCapabilities(f.capabilities)
		if err != nil {
			return err
		}
		in.Capabilities = caps
	}
	return nil
}

func newRolesCreateCmd(o *apiOptions) *cobra.Command {
	f := &roleFlags{}
	cmd := &cobra.Command{
		Use:   "create --name NAME [--description TEXT] [--capability CAPABILITY]...",
		Short: "Create a role",
		Example: `  hookline roles create --name Operators --description "run connections" \
      --capability manageConnections --capability viewAlerts
  hookline roles create --name Senders --capability sendAlerts`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(f.name) == "" {
				return errors.New("--name is required")
			}
			in := client.RoleInput{Capabilities: []string{}}
			if err := f.apply(cmd, &in); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			r, err := c.CreateRole(cmd.Context(), in)
			if err != nil {
				return o.explain("create role", err)
			}
			return o.printRole(cmd, r)
		},
	}
	f.register(cmd)
	return cmd
}

func newRolesUpdateCmd(o *apiOptions) *cobra.Command {
	f := &roleFlags{}
	cmd := &cobra.Command{
		Use:   "update NAME|ID [flags]",
		Short: "Change a role: only the fields whose flags are given",
		Long: `Change a role. --capability replaces the role's capabilities with the ones
given. The change applies to the role's users at once.`,
		Example: `  hookline roles update Operators --description "on-call engineers"
  hookline roles update Operators --capability manageConnections,viewAlerts,sendAlerts`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.ContainsFunc([]string{"name", "description", "capability"}, cmd.Flags().Changed) {
				return errors.New("nothing to change: give --name, --description or --capability")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			cur, err := o.findRole(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			in := cur.Input()
			if err := f.apply(cmd, &in); err != nil {
				return err
			}
			r, err := c.UpdateRole(cmd.Context(), cur.ID, in)
			if err != nil {
				return o.explain("update role", err)
			}
			return o.printRole(cmd, r)
		},
	}
	f.register(cmd)
	return cmd
}

func newRolesDeleteCmd(o *apiOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME|ID",
		Short: "Delete a role; its users lose its capabilities",
		Long: `Delete a role: it is taken from its users, who lose the capabilities it gave.
On a terminal it asks first; --yes skips the question, and is required when
standard input is not a terminal.`,
		Example: `  hookline roles delete Operators
  hookline roles delete Operators --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			r, err := o.findRole(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return o.confirmAndDelete(cmd, yes, deletion{
				noun:  "role",
				label: fmt.Sprintf("%q (%s)", r.Name, r.ID),
				shown: map[string]any{"id": r.ID, "name": r.Name, "deleted": true},
				del:   func() error { return c.DeleteRole(cmd.Context(), r.ID) },
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
