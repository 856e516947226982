package main

import (
	"bytes"
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
	lines := []detail{
		{"ID", r.ID},
		{"Name", r.Name},
		{"Description", orDash(r.Description)},
		{"Built-in", map[bool]string{true: "yes: it cannot be changed or deleted", false: "no"}[r.BuiltIn]},
	}
	if len(r.Capabilities) == 0 {
		lines = append(lines, detail{"Capabilities", "(none)"})
	}
	for i, c := range r.Capabilities {
		label := ""
		if i == 0 {
			label = "Capabilities"
		}
		lines = append(lines, detail{label, c})
	}
	lines = append(lines, detail{"Created", formatTime(r.CreatedAt)}, detail{"Modified", formatTime(r.ModifiedAt)})
	var b bytes.Buffer
	writeDetails(&b, lines)
	_, err := w.Write(b.Bytes())
	return err
}

func (o *apiOptions) printRole(cmd *cobra.Command, r *client.Role) error {
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, r)
	}
	return printRoleDetails(cmd.OutOrStdout(), r)
}

// findRole resolves a role argument by ID or name.
func (o *apiOptions) findRole(ctx context.Context, c *client.Client, nameOrID string) (*client.Role, error) {
	role, err := (&roleResolver{c: c}).resolve(ctx, "role", nameOrID)
	var ae *client.APIError
	if errors.As(err, &ae) {
		return nil, o.explain("list roles", err)
	} else if err != nil {
		return nil, err
	}
	return &role, nil
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
			ok, err := confirmDelete(cmd, yes, fmt.Sprintf("Delete role %q (%s)?", r.Name, r.ID))
			if err != nil {
				return err
			}
			if !ok {
				return exitError(1)
			}
			if err := c.DeleteRole(cmd.Context(), r.ID); err != nil {
				return o.explain("delete role", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, map[string]any{"id": r.ID, "name": r.Name, "deleted": true})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted role %q (%s).\n", r.Name, r.ID)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

// --- hookline audit ---

// auditTargetTypes are the values of --target-type.
var auditTargetTypes = []string{hookline.AuditConnection, hookline.AuditUser, hookline.AuditRole, hookline.AuditAccessKey}
