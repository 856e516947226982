package main

// The plan of "hookline apply": each document compared with the server's
// object of its name, the fields that change, and the call that changes
// it. Secrets are compared only for being set: the API never returns them.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
)

type action int

const (
	actUnchanged action = iota
	actCreate
	actUpdate
	actDelete
)

func (a action) String() string {
	switch a {
	case actCreate:
		return "create"
	case actUpdate:
		return "update"
	case actDelete:
		return "delete"
	}
	return "unchanged"
}

// change is one field a step changes, as the plan shows it.
type change struct{ field, from, to string }

// step is one document's part of the plan, or with --prune an object no
// document names (doc nil: kind and name say which).
type step struct {
	doc        *document
	kind, name string
	action     action
	changes    []change
	// run makes the change, with ids resolving connection names; it
	// returns the object's ID and the server's warnings.
	run func(ctx context.Context, c *client.Client, ids connIDs) (string, []string, error)
}

func (s *step) label() string {
	if s.doc != nil {
		return s.doc.label()
	}
	return fmt.Sprintf("%s %q", s.kind, s.name)
}

// where is the file and line a step comes from.
func (s *step) where() string {
	if s.doc != nil {
		return fmt.Sprintf("%s:%d", s.doc.file, s.doc.line)
	}
	return "in no file"
}

// plan compares every document with the server: connections first, then
// monitors, then searches, each in the order of the files. With prune,
// the objects of the kinds the files hold that no document names are
// deleted last: searches, monitors, then connections, so that nothing
// still names a connection when it goes.
func (st *serverState) plan(docs []*document, replaceSecrets, prune bool) []*step {
	sorted := slices.Clone(docs)
	slices.SortStableFunc(sorted, func(a, b *document) int { return kindOrder[a.kind] - kindOrder[b.kind] })
	steps := make([]*step, len(sorted))
	for i, d := range sorted {
		switch {
		case d.conn != nil:
			steps[i] = st.planConnection(d, replaceSecrets)
		case d.monitor != nil:
			steps[i] = st.planMonitor(d)
		default:
			steps[i] = st.planSearch(d)
		}
	}
	if prune {
		steps = append(steps, st.planPrune(docs)...)
	}
	return steps
}

// planPrune deletes what the files do not name, of the kinds they hold.
func (st *serverState) planPrune(docs []*document) []*step {
	named, kinds := map[string]bool{}, map[string]bool{}
	for _, d := range docs {
		named[d.kind+"\x00"+strings.ToLower(d.name)] = true
		kinds[d.kind] = true
	}
	var steps []*step
	del := func(kind, key, name string, run func(ctx context.Context, c *client.Client) error) {
		if kinds[kind] && !named[kind+"\x00"+key] {
			steps = append(steps, &step{kind: kind, name: name, action: actDelete,
				run: func(ctx context.Context, c *client.Client, _ connIDs) (string, []string, error) {
					return "", nil, run(ctx, c)
				}})
		}
	}
	for _, key := range sortedKeys(st.searches) {
		s := st.searches[key]
		del(kindSearch, key, s.Name, func(ctx context.Context, c *client.Client) error { return c.DeleteScheduledSearch(ctx, s.ID) })
	}
	for _, key := range sortedKeys(st.monitors) {
		m := st.monitors[key]
		del(kindMonitor, key, m.Name, func(ctx context.Context, c *client.Client) error { return c.DeleteMonitor(ctx, m.ID) })
	}
	for _, key := range sortedKeys(st.conns) {
		cn := st.conns[key]
		del(kindConnection, key, cn.Name, func(ctx context.Context, c *client.Client) error { return c.DeleteConnection(ctx, cn.ID) })
	}
	return steps
}

// printPlan writes the plan and returns the number of changes in it.
func printPlan(w io.Writer, steps []*step) int {
	n := map[action]int{}
	for _, s := range steps {
		n[s.action]++
	}
	deletes := ""
	if n[actDelete] > 0 {
		deletes = fmt.Sprintf(", %d to delete", n[actDelete])
	}
	fmt.Fprintf(w, "Plan: %d to create, %d to update%s, %d unchanged.\n", n[actCreate], n[actUpdate], deletes, n[actUnchanged])
	for _, s := range steps {
		mark := map[action]string{actCreate: "+", actUpdate: "~", actDelete: "-", actUnchanged: "="}[s.action]
		fmt.Fprintf(w, "%s %s %s (%s)\n", mark, s.action, s.label(), s.where())
		for _, c := range s.changes {
			switch {
			case s.action == actCreate:
				fmt.Fprintf(w, "    %s: %s\n", c.field, c.to)
			default:
				fmt.Fprintf(w, "    %s: %s -> %s\n", c.field, c.from, c.to)
			}
		}
	}
	return n[actCreate] + n[actUpdate] + n[actDelete]
}

// Secret states as a plan shows them, in place of values.
const (
	secretSet      = "(set)"
	secretNotSet   = "(not set)"
	secretChanged  = "(changed)"
	secretResent   = "(sent again: the URL's host changed)"
	secretCleared  = "(cleared)"
	maxShownLength = 60
)

// shown is a value as a plan shows it: JSON, cut short.
func shown(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxShownLength {
		return s
	}
	r := []rune(s)
	return string(r[:maxShownLength-1]) + "…"
}

// diff adds a change when from and to differ as JSON.
func diff(changes *[]change, field string, from, to any) {
	a, b := shown(from), shown(to)
	if a != b {
		*changes = append(*changes, change{field, cut(a), cut(b)})
	}
}

func (st *serverState) planConnection(d *document, replaceSecrets bool) *step {
	cd := d.conn
	desired := cd.def
	desired.Name = d.name
	secrets := sortedKeys(cd.secrets)
	cur, exists := st.conns[strings.ToLower(d.name)]
	if !exists {
		def := desired
		def.Extra = map[string]any{}
		for k, v := range desired.Extra {
			def.Extra[k] = v
		}
		var changes []change
		for _, k := range secrets {
			if v := cd.secrets[k].value; v != "" {
				def.Set(k, v)
				changes = append(changes, change{k, "", secretSet})
			}
		}
		return &step{doc: d, action: actCreate, changes: changes,
			run: func(ctx context.Context, c *client.Client, ids connIDs) (string, []string, error) {
				conn, err := c.CreateConnection(ctx, def)
				if err != nil {
					return "", nil, err
				}
				ids[strings.ToLower(conn.Name)] = conn.ID
				return conn.ID, conn.Warnings, nil
			}}
	}

	var changes []change
	diff(&changes, "name", cur.Name, desired.Name)
	diff(&changes, "description", cur.Description, desired.Description)
	diff(&changes, "webhookType", webhookType(cur.WebhookType), webhookType(desired.WebhookType))
	diff(&changes, "url", cur.URL, desired.URL)
	diff(&changes, "customHeaders", nonNilSlice(cur.CustomHeaders), nonNilSlice(desired.CustomHeaders))
	diff(&changes, "defaultPayload", cur.DefaultPayload, desired.DefaultPayload)
	diff(&changes, "resolutionPayload", cur.ResolutionPayload, desired.ResolutionPayload)
	for _, k := range sortedKeys(cd.settings) {
		diff(&changes, k, cur.Extra[k], desired.Extra[k])
	}

	// The stored connection with the file's fields: a type's own settings
	// the file leaves out keep their values, and secrets not sent theirs.
	def := cur.Definition()
	if webhookType(desired.WebhookType) != webhookType(cur.WebhookType) {
		def.Extra = nil
	}
	def.Name, def.Description, def.WebhookType, def.URL = desired.Name, desired.Description, desired.WebhookType, desired.URL
	def.CustomHeaders, def.DefaultPayload, def.ResolutionPayload = desired.CustomHeaders, desired.DefaultPayload, desired.ResolutionPayload
	for k := range cd.settings {
		def.Set(k, desired.Extra[k])
	}
	moved := originChanged(cur.URL, desired.URL)
	for _, k := range secrets {
		v := cd.secrets[k].value
		set, _ := cur.SecretSet(k)
		switch {
		case v == "" && set:
			def.Set(k, "")
			changes = append(changes, change{k, secretSet, secretCleared})
		case v == "":
		case !set:
			def.Set(k, v)
			changes = append(changes, change{k, secretNotSet, secretSet})
		case moved:
			def.Set(k, v)
			changes = append(changes, change{k, secretSet, secretResent})
		case replaceSecrets:
			def.Set(k, v)
			changes = append(changes, change{k, secretSet, secretChanged})
		}
	}
	if len(changes) == 0 {
		return &step{doc: d, action: actUnchanged}
	}
	id := cur.ID
	return &step{doc: d, action: actUpdate, changes: changes,
		run: func(ctx context.Context, c *client.Client, ids connIDs) (string, []string, error) {
			conn, err := c.UpdateConnection(ctx, id, def)
			if err != nil {
				return "", nil, err
			}
			ids[strings.ToLower(conn.Name)] = conn.ID
			return conn.ID, conn.Warnings, nil
		}}
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// originChanged reports whether a URL's scheme, host or port changes: the
// server then keeps no stored secret, which must be given again.
func originChanged(from, to string) bool {
	a, errA := url.Parse(from)
	b, errB := url.Parse(to)
	if errA != nil || errB != nil {
		return from != to
	}
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return !strings.EqualFold(a.Scheme, b.Scheme) || !strings.EqualFold(a.Hostname(), b.Hostname()) || port(a) != port(b)
}

// minutes writes a duration as the server answers it ("5m", "1h"); a bare
// number is minutes. What does not parse is left for the server to name.
func minutes(s string) string {
	var p hookline.Problems
	d := hookline.ParseMinutes(&p, "", s)
	if p.Err() != nil {
		return strings.TrimSpace(s)
	}
	return hookline.FormatMinutes(d)
}

// threshold is a threshold type as the server stores it (gt for
// GreaterThan).
func threshold(s string) string {
	if t, ok := hookline.ParseThresholdType(s); ok {
		return string(t)
	}
	return s
}

type triggerView struct {
	TriggerType   string  `json:"triggerType"`
	Threshold     float64 `json:"threshold"`
	ThresholdType string  `json:"thresholdType,omitempty"`
	Field         string  `json:"field,omitempty"`
}

type monitorNotificationView struct {
	Connection                string   `json:"connection"`
	RunForTriggerTypes        []string `json:"runForTriggerTypes"`
	PayloadOverride           string   `json:"payloadOverride,omitempty"`
	ResolutionPayloadOverride string   `json:"resolutionPayloadOverride,omitempty"`
}

// monitorView is a monitor as the plan compares it: as the server would
// store it, connections by name.
type monitorView struct {
	in            client.MonitorInput
	triggers      []triggerView
	notifications []monitorNotificationView
}

func (st *serverState) viewMonitor(in client.MonitorInput, connNames []string) monitorView {
	v := monitorView{in: in, triggers: []triggerView{}, notifications: []monitorNotificationView{}}
	v.in.Name = strings.TrimSpace(in.Name)
	v.in.Interval, v.in.Window = minutes(in.Interval), minutes(in.Window)
	v.in.GroupFields = nonNilSlice(in.GroupFields)
	for _, t := range in.Triggers {
		v.triggers = append(v.triggers, triggerView{t.TriggerType, t.Threshold, threshold(t.ThresholdType), t.Field})
	}
	for i, n := range in.Notifications {
		name := ""
		if i < len(connNames) {
			name = connNames[i]
		}
		v.notifications = append(v.notifications, monitorNotificationView{
			Connection: st.canonicalConn(name, n.ConnectionID), RunForTriggerTypes: nonNilSlice(n.RunForTriggerTypes),
			PayloadOverride: n.PayloadOverride, ResolutionPayloadOverride: n.ResolutionPayloadOverride})
	}
	return v
}

func diffMonitors(a, b monitorView) []change {
	var ch []change
	diff(&ch, "name", a.in.Name, b.in.Name)
	diff(&ch, "description", a.in.Description, b.in.Description)
	diff(&ch, "query", a.in.Query, b.in.Query)
	diff(&ch, "interval", a.in.Interval, b.in.Interval)
	diff(&ch, "window", a.in.Window, b.in.Window)
	diff(&ch, "triggers", a.triggers, b.triggers)
	diff(&ch, "notifications", a.notifications, b.notifications)
	diff(&ch, "notificationGroupFields", a.in.GroupFields, b.in.GroupFields)
	diff(&ch, "muted", a.in.Muted, b.in.Muted)
	diff(&ch, "isDisabled", a.in.Disabled, b.in.Disabled)
	return ch
}

func (st *serverState) planMonitor(d *document) *step {
	md := d.monitor
	in := md.in
	in.Name = d.name
	build := func(ids connIDs) (client.MonitorInput, error) {
		out := in
		out.Notifications = slices.Clone(in.Notifications)
		for i := range out.Notifications {
			id, err := ids.resolve(md.connNames[i], out.Notifications[i].ConnectionID)
			if err != nil {
				return out, err
			}
			out.Notifications[i].ConnectionID = id
		}
		return out, nil
	}
	cur, exists := st.monitors[strings.ToLower(d.name)]
	if !exists {
		return &step{doc: d, action: actCreate,
			run: func(ctx context.Context, c *client.Client, ids connIDs) (string, []string, error) {
				req, err := build(ids)
				if err != nil {
					return "", nil, err
				}
				m, err := c.CreateMonitor(ctx, req)
				if err != nil {
					return "", nil, err
				}
				return m.ID, nil, nil
			}}
	}
	changes := diffMonitors(st.viewMonitor(cur.MonitorInput, nil), st.viewMonitor(in, md.connNames))
	if len(changes) == 0 {
		return &step{doc: d, action: actUnchanged}
	}
	id := cur.ID
	return &step{doc: d, action: actUpdate, changes: changes,
		run: func(ctx context.Context, c *client.Client, ids connIDs) (string, []string, error) {
			req, err := build(ids)
			if err != nil {
				return "", nil, err
			}
			m, err := c.UpdateMonitor(ctx, id, req)
			if err != nil {
				return "", nil, err
			}
			return m.ID, nil, nil
		}}
}

type searchNotificationView struct {
	Connection        string `json:"connection"`
	Payload           string `json:"payload,omitempty"`
	ItemizeAlerts     bool   `json:"itemizeAlerts"`
	MaxItemizedAlerts int    `json:"maxItemizedAlerts,omitempty"`
}

// viewSearch is a search as the server would store it (the cron
// expression of a fixed schedule, UTC for no time zone), its connection
// by name.
func (st *serverState) viewSearch(in client.ScheduledSearchInput, connName string) (client.ScheduledSearchInput, searchNotificationView) {
	v := in
	v.Name = strings.TrimSpace(in.Name)
	v.ScheduleType = strings.TrimSpace(in.ScheduleType)
	v.CronExpression = cmp.Or(strings.TrimSpace(in.CronExpression), hookline.ScheduleType(v.ScheduleType).Cron())
	v.TimeZone = cmp.Or(strings.TrimSpace(in.TimeZone), "UTC")
	v.TimeRange = minutes(in.TimeRange)
	if in.Threshold != nil {
		v.Threshold = &client.SearchThreshold{Operator: threshold(in.Threshold.Operator), Count: in.Threshold.Count}
	}
	n := in.Notification
	most := n.MaxItemizedAlerts
	if n.ItemizeAlerts && most == 0 {
		most = hookline.MaxItemizedAlerts
	}
	return v, searchNotificationView{st.canonicalConn(connName, strings.TrimSpace(n.ConnectionID)), n.Payload, n.ItemizeAlerts, most}
}

func (st *serverState) planSearch(d *document) *step {
	sd := d.search
	in := sd.in
	in.Name = d.name
	build := func(ids connIDs) (client.ScheduledSearchInput, error) {
		out := in
		id, err := ids.resolve(sd.connName, in.Notification.ConnectionID)
		out.Notification.ConnectionID = id
		return out, err
	}
	cur, exists := st.searches[strings.ToLower(d.name)]
	if !exists {
		return &step{doc: d, action: actCreate,
			run: func(ctx context.Context, c *client.Client, ids connIDs) (string, []string, error) {
				req, err := build(ids)
				if err != nil {
					return "", nil, err
				}
				s, err := c.CreateScheduledSearch(ctx, req)
				if err != nil {
					return "", nil, err
				}
				return s.ID, nil, nil
			}}
	}
	a, an := st.viewSearch(cur.ScheduledSearchInput, "")
	b, bn := st.viewSearch(in, sd.connName)
	var ch []change
	diff(&ch, "name", a.Name, b.Name)
	diff(&ch, "description", a.Description, b.Description)
	diff(&ch, "query", a.Query, b.Query)
	diff(&ch, "scheduleType", a.ScheduleType, b.ScheduleType)
	diff(&ch, "cronExpression", a.CronExpression, b.CronExpression)
	diff(&ch, "timeZone", a.TimeZone, b.TimeZone)
	diff(&ch, "timeRange", a.TimeRange, b.TimeRange)
	diff(&ch, "threshold", a.Threshold, b.Threshold)
	diff(&ch, "notification", an, bn)
	diff(&ch, "isDisabled", a.Disabled, b.Disabled)
	if len(ch) == 0 {
		return &step{doc: d, action: actUnchanged}
	}
	id := cur.ID
	return &step{doc: d, action: actUpdate, changes: ch,
		run: func(ctx context.Context, c *client.Client, ids connIDs) (string, []string, error) {
			req, err := build(ids)
			if err != nil {
				return "", nil, err
			}
			s, err := c.UpdateScheduledSearch(ctx, id, req)
			if err != nil {
				return "", nil, err
			}
			return s.ID, nil, nil
		}}
}
