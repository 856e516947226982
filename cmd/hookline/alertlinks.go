package main

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// linkAlerts returns accept with the links of the alerts Hookline's own
// monitors and scheduled searches raise filled in first, pointing into the
// web UI at base: {{SourceURL}} at the monitor's or search's dialog, {{AlertResponseUrl}}
// at its alerts, {{QueryURL}} at its query over the alert's time range.
// Alerts from elsewhere keep the links their senders gave.
func linkAlerts(base string, accept func(context.Context, []*hookline.AcceptedAlert) error) func(context.Context, []*hookline.AcceptedAlert) error {
	return func(ctx context.Context, alerts []*hookline.AcceptedAlert) error {
		for _, a := range alerts {
			kind, id, ok := strings.Cut(a.Source, ":")
			page := map[string]string{"monitor": "monitors", "search": "searches"}[kind]
			if !ok || page == "" {
				continue
			}
			al := &a.Alert
			al.SourceURL = base + "/ui/" + page + "/" + url.PathEscape(id)
			al.AlertResponseURL = base + "/ui/alerts?source=" + url.QueryEscape(a.Source)
			q := url.Values{"query": {al.Query}}
			if !al.TriggerTimeStart.IsZero() {
				q.Set("from", al.TriggerTimeStart.UTC().Format(time.RFC3339))
				q.Set("to", al.TriggerTimeEnd.UTC().Format(time.RFC3339))
			}
			if u := base + "/ui/search?" + q.Encode(); len(u) <= hookline.MaxURLLen {
				al.QueryURL = u
			}
		}
		return accept(ctx, alerts)
	}
}
