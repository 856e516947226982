package main

import (
	"cmp"
	"io"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newWhoamiCmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the CLI calls the API as, and what it may do",
		Long: `Show the credentials the CLI signs with (an access key or the admin token),
their user and roles, and the capabilities they give.

` + apiHelp,
		Example: `  hookline whoami
  hookline whoami -o json | jq -r '.capabilities[]'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			s, err := c.Session(cmd.Context())
			if err != nil {
				return o.explain("get session", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, s)
			}
			roles := &roleResolver{c: c}
			return printWhoami(cmd.OutOrStdout(), s, roles.names(cmd.Context()))
		},
	}
	o.register(cmd)
	return cmd
}

func printWhoami(w io.Writer, s *client.Session, roleNamesByID map[string]string) error {
	via := s.Via
	switch s.Via {
	case client.ViaAccessKey:
		via = "access key " + s.AccessID
	case client.ViaSession:
		via = "password (a session)"
	case client.ViaAdminToken:
		via = "the admin token (HOOKLINE_ADMIN_TOKEN)"
	}
	lines := []detail{{"Signed in with", via}}
	if u := s.User; u != nil {
		lines = append(lines,
			detail{"User", u.Email},
			detail{"Name", orDash(u.Name)},
			detail{"User ID", u.ID},
			detail{"Roles", cmp.Or(roleNames(u.RoleIDs, roleNamesByID), "(none)")},
		)
	} else {
		lines = append(lines, detail{"User", "(none: the admin token is no user)"})
	}
	lines = append(lines, listDetails("Capabilities", s.Capabilities)...)
	return printDetails(w, lines)
}
