package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
)

// auditTargetTypes are the values of --target-type.
var auditTargetTypes = []string{hookline.AuditConnection, hookline.AuditUser, hookline.AuditRole, hookline.AuditAccessKey, hookline.AuditSource}

func newAuditCmd() *cobra.Command {
	o := &apiOptions{}
	var (
		f   client.AuditFilter
		all bool
	)
	cmd := &cobra.Command{
		Use:   "audit [flags]",
		Short: "Show the audit log: who changed what, newest first",
		Long: `Show the audit log, newest first: every change to a connection, user, role or
access key, and every sign-in, with who made it. It needs the View Audit Log
capability. -o json and -o yaml print each event with the object as it was
("before") and became ("after"); secrets are never in the log.

One page of --limit events (default 100), or every one with --all.

` + apiHelp,
		Example: `  hookline audit
  hookline audit --target-type connection --limit 20
  hookline audit --target-type user --target-id 0192F1C2A1B2C3D4 -o json
  hookline audit --actor-id 0192F1C2A1B2C3D4 --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.TargetType != "" && !slices.Contains(auditTargetTypes, f.TargetType) {
				return fmt.Errorf("--target-type must be one of %s, not %q", strings.Join(auditTargetTypes, ", "), f.TargetType)
			}
			if f.Limit < 0 || f.Limit > hookline.MaxListLimit {
				return fmt.Errorf("--limit must be from 1 to %d, not %d", hookline.MaxListLimit, f.Limit)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var (
				events []client.AuditEvent
				more   bool
			)
			if all {
				events, err = c.AllAuditEvents(cmd.Context(), f)
			} else {
				var page *client.AuditList
				if page, err = c.AuditEvents(cmd.Context(), f); err == nil {
					events, more = page.Data, page.Next != ""
				}
			}
			if err != nil {
				return o.explain("list audit events", err)
			}
			if o.output != outputTable {
				return printObject(cmd.OutOrStdout(), o.output, nonNil(events))
			}
			if len(events) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No audit events match.")
				return nil
			}
			if err := printAuditTable(cmd.OutOrStdout(), events); err != nil {
				return err
			}
			if more {
				fmt.Fprintln(cmd.ErrOrStderr(), "More events match: --all lists every one.")
			}
			return nil
		},
	}
	o.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.TargetType, "target-type", "", "only changes to this kind of object: "+strings.Join(auditTargetTypes, ", "))
	fl.StringVar(&f.TargetID, "target-id", "", "only changes to the object with this ID")
	fl.StringVar(&f.ActorID, "actor-id", "", "only changes made by the user with this ID")
	fl.IntVar(&f.Limit, "limit", 0, fmt.Sprintf("at most this many events (a page; 1 to %d, default %d)", hookline.MaxListLimit, hookline.DefaultListLimit))
	fl.BoolVar(&all, "all", false, "every event that matches, following the pages (--limit is the page size)")
	return cmd
}

func printAuditTable(w io.Writer, events []client.AuditEvent) error {
	rows := make([][]string, len(events))
	for i, e := range events {
		actor := e.Actor.String()
		switch {
		case e.Actor.AccessID != "":
			actor += " (" + e.Actor.AccessID + ")"
		case e.Actor.Kind != "user" && e.Actor.Name != "":
			actor += " (" + e.Actor.Name + ")" // system (setup)
		}
		rows[i] = []string{formatTime(e.Time), actor, e.Action, e.TargetType, cmp.Or(e.TargetName, e.TargetID)}
	}
	return printTable(w, []string{"TIME", "ACTOR", "ACTION", "TARGET TYPE", "TARGET"}, rows)
}
