package main

// Checks apply makes before it changes anything, so that a bad document
// does not leave the server half changed: monitors and scheduled searches
// are validated with the rules the server applies (the monitor and
// scheduledsearch packages: fields, query syntax, result columns, cron,
// payload templates), and connections' fields against the server's
// connection types. What only the store knows — that a name is free, that
// a connection ID exists — is still the server's to say.

import (
	"errors"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/monitor"
	"github.com/hookline/hookline/scheduledsearch"
)

// preflight validates every monitor and scheduled search document.
func preflight(docs []*document) []problem {
	var probs []problem
	for _, d := range docs {
		var err error
		switch {
		case d.monitor != nil:
			err = validateMonitorDoc(d)
		case d.search != nil:
			err = validateSearchDoc(d)
		default:
			continue
		}
		var he *hookline.Error
		switch {
		case errors.As(err, &he) && len(he.Fields) > 0:
			for _, f := range he.Fields {
				probs = append(probs, d.at(f.Field, "%s", f.Message))
			}
		case err != nil:
			probs = append(probs, d.at("", "%v", err))
		}
	}
	return probs
}

// placeholderID stands for a connection named in a document, which has
// no ID before it is created: distinct per name, so that a connection
// named twice is found, and never a real ID (those are hex).
func placeholderID(name, id string) string {
	if name == "" {
		return strings.TrimSpace(id)
	}
	return "name:" + strings.ToLower(name)
}

func thresholdType(s string) hookline.ThresholdType {
	return hookline.ThresholdType(threshold(s))
}

// merged is the problems found reading the durations, then validation's
// on the other fields: a duration that did not parse is named once.
func merged(p *hookline.Problems, err error) error {
	read := p.Err()
	if read == nil {
		return err
	}
	var re, ve *hookline.Error
	if !errors.As(read, &re) {
		return read
	}
	named := map[string]bool{}
	for _, f := range re.Fields {
		named[f.Field] = true
	}
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			if !named[f.Field] {
				p.Add(f.Field, "%s", f.Message)
			}
		}
	}
	return p.Err()
}

func validateMonitorDoc(d *document) error {
	in := d.monitor.in
	var p hookline.Problems
	m := &hookline.Monitor{Name: d.name, Description: in.Description, Query: in.Query,
		GroupFields: in.GroupFields, Muted: in.Muted, Disabled: in.Disabled}
	m.Interval = hookline.ParseMinutes(&p, "interval", in.Interval)
	m.Window = hookline.ParseMinutes(&p, "window", in.Window)
	for _, t := range in.Triggers {
		m.Triggers = append(m.Triggers, hookline.MonitorTrigger{TriggerType: hookline.TriggerType(t.TriggerType),
			Threshold: t.Threshold, ThresholdType: thresholdType(t.ThresholdType), Field: t.Field})
	}
	for i, n := range in.Notifications {
		types := make([]hookline.TriggerType, len(n.RunForTriggerTypes))
		for j, t := range n.RunForTriggerTypes {
			types[j] = hookline.TriggerType(t)
		}
		m.Notifications = append(m.Notifications, hookline.MonitorNotification{
			ConnectionID: placeholderID(d.monitor.connNames[i], n.ConnectionID), RunForTriggerTypes: types,
			PayloadOverride: n.PayloadOverride, ResolutionPayloadOverride: n.ResolutionPayloadOverride})
	}
	return merged(&p, monitor.Validate(m))
}

func validateSearchDoc(d *document) error {
	in := d.search.in
	var p hookline.Problems
	s := &hookline.ScheduledSearch{Name: d.name, Description: in.Description, Query: in.Query,
		ScheduleType:   hookline.ScheduleType(strings.TrimSpace(in.ScheduleType)),
		CronExpression: strings.TrimSpace(in.CronExpression), TimeZone: strings.TrimSpace(in.TimeZone),
		Disabled: in.Disabled,
		Notification: hookline.SearchNotification{ConnectionID: placeholderID(d.search.connName, in.Notification.ConnectionID),
			Payload: in.Notification.Payload, ItemizeAlerts: in.Notification.ItemizeAlerts,
			MaxItemizedAlerts: in.Notification.MaxItemizedAlerts}}
	s.TimeRange = hookline.ParseMinutes(&p, "timeRange", in.TimeRange)
	if t := in.Threshold; t != nil {
		s.Threshold = &hookline.SearchThreshold{Operator: thresholdType(t.Operator), Count: t.Count}
	}
	return merged(&p, scheduledsearch.Validate(s))
}

// checkConnectionFields finds, before any change, what the server would
// refuse in a connection's own fields: a field its type does not have, or
// a setting that is not text.
func checkConnectionFields(d *document, t client.ConnectionType) []problem {
	var probs []problem
	// The server judges these answer-only fields itself.
	known := map[string]bool{"headers": true, "connectionSubtype": true}
	for _, f := range t.Fields {
		known[f.Name] = true
	}
	for _, k := range sortedKeys(d.conn.def.Extra) {
		v := d.conn.def.Extra[k]
		switch {
		case !known[k]:
			probs = append(probs, d.at(k, "is not a field of a %s connection", t.WebhookType))
		case k == "headers" || k == "connectionSubtype":
		case v == nil:
		default:
			if _, ok := v.(string); !ok {
				probs = append(probs, d.at(k, "must be a string, not %s", valueKind(v)))
			}
		}
	}
	for _, k := range sortedKeys(d.conn.secrets) {
		if !known[k] {
			probs = append(probs, d.at(k, "is not a field of a %s connection", t.WebhookType))
		}
	}
	return probs
}

// valueKind names the kind of a decoded JSON value.
func valueKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case string:
		return "a string"
	}
	return "a number"
}
