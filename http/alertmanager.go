package http

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// amMessage is the body of Prometheus Alertmanager's webhook (version 4),
// which Grafana's "Webhook" contact point also sends (version 1, with more
// fields). Unknown fields are ignored: both senders add fields over time.
type amMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
}

// amAlert is one alert instance of a notification.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Bounds of what an Alertmanager alert becomes, as Alert.Validate allows.
// Alertmanager does not retry a 4xx answer, so a long text is shortened
// rather than the alert refused.
const (
	amMaxName        = 1024
	amMaxDescription = 4096
	amMaxVariables   = 100
	amMaxVarValue    = 16384
	amMaxFingerprint = 64
)

// alertmanagerReceiver turns each alert of an Alertmanager notification
// into a Hookline alert to every connection named in ?connections=.
func (s *Server) alertmanagerReceiver(w http.ResponseWriter, r *http.Request) error {
	disp, err := s.needDispatcher()
	if err != nil {
		return err
	}
	var p hookline.Problems
	q := queryParams(&p, r, []string{"connections"})
	if err := p.Err(); err != nil {
		// Before the body is read: a misspelt parameter is the receiver
		// URL's mistake, the same for every notification.
		return err
	}
	body, err := readBody(r, MaxBatchBodyBytes)
	if err != nil {
		return err
	}
	conns, err := s.connectionIndex(r.Context())
	if err != nil {
		return clientGone(r, err)
	}
	m, alerts, err := decodeAlertmanager(body, q["connections"], conns)
	if conns.err != nil {
		return clientGone(r, fmt.Errorf("list connections: %w", conns.err))
	}
	if err != nil {
		return err
	}
	if m.TruncatedAlerts > 0 {
		// Alertmanager left alerts out (max_alerts); they never reach us.
		s.logger().WarnContext(r.Context(), "alertmanager notification truncated", "receiver", m.Receiver, "truncated_alerts", m.TruncatedAlerts)
	}
	return s.accept(w, r, disp, alerts)
}

// decodeAlertmanager decodes an Alertmanager notification into the alerts
// it raises to the connections named by the connections parameters,
// returning every problem in one error.
func decodeAlertmanager(body []byte, connections []string, conns *connectionIndex) (*amMessage, []*hookline.AcceptedAlert, error) {
	var p hookline.Problems
	targets := receiverTargets(&p, conns, connections)
	m := &amMessage{}
	if err := json.Unmarshal(body, m); err != nil {
		var te *json.UnmarshalTypeError
		var pe *time.ParseError
		switch {
		case errors.As(err, &te) && te.Field != "":
			p.Add(te.Field, "must not be a JSON %s", te.Value)
		case errors.As(err, &pe):
			p.Add("alerts", "a time is not in RFC 3339 form: %q", pe.Value)
		default:
			return nil, nil, jsonSyntaxError(body, err)
		}
		return nil, nil, p.Err()
	}
	if len(m.Alerts) == 0 {
		p.Add("alerts", "must hold at least one alert")
	}
	alerts := make([]*hookline.AcceptedAlert, len(m.Alerts))
	for i, a := range m.Alerts {
		alerts[i] = fromAlertmanager(&p, m, a, fmt.Sprintf("alerts[%d]", i), targets)
	}
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	return m, alerts, nil
}

// receiverTargets resolves ?connections=, given as a comma-separated list,
// repeated, or both. A value that names a connection as a whole is taken
// whole, so a name with a comma works when given alone.
func receiverTargets(p *hookline.Problems, conns *connectionIndex, values []string) []*hookline.Connection {
	var out []*hookline.Connection
	seen := map[string]bool{}
	for _, v := range values {
		parts := []string{v}
		if _, whole := conns.lookup(strings.TrimSpace(v)); !whole {
			parts = strings.Split(v, ",")
		}
		for _, part := range parts {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			c, ok := conns.lookup(part)
			if !ok {
				p.Add("connections", "no connection has the name or ID %q", part)
				continue
			}
			if !seen[c.ID] {
				seen[c.ID] = true
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 && len(values) == 0 {
		p.Add("connections", "is required: add ?connections=<name or ID>[,<name or ID>...] to the receiver URL")
	} else if len(out) == 0 && p.Err() == nil {
		p.Add("connections", "names no connection")
	}
	return out
}

// fromAlertmanager maps one Alertmanager alert as docs/alertmanager.md
// describes. Problems are named by the Alertmanager field under at.
func fromAlertmanager(p *hookline.Problems, m *amMessage, a amAlert, at string, targets []*hookline.Connection) *hookline.AcceptedAlert {
	var trigger hookline.TriggerType
	switch strings.ToLower(a.Labels["severity"]) {
	case "warning":
		trigger = hookline.TriggerWarning
	default:
		trigger = hookline.TriggerCritical
	}
	resolved := false
	switch a.Status {
	case "firing":
	case "resolved":
		resolved = true
		trigger = "Resolved" + trigger
	default:
		p.Add(at+".status", "must be firing or resolved, not %q", a.Status)
		return nil
	}

	fingerprint := a.Fingerprint
	if fingerprint == "" {
		fingerprint = labelsFingerprint(a.Labels)
	}
	if len(fingerprint) > amMaxFingerprint {
		p.Add(at+".fingerprint", "is %d bytes long; at most %d are allowed", len(fingerprint), amMaxFingerprint)
		return nil
	}
	name := a.Labels["alertname"]
	if strings.TrimSpace(name) == "" {
		name = labelsString(a.Labels)
	}
	description := a.Annotations["description"]
	if description == "" {
		description = a.Annotations["summary"]
	}

	row := hookline.Row{}
	vars := map[string]string{}
	for _, group := range []struct {
		prefix string
		kv     map[string]string
	}{{"labels.", a.Labels}, {"annotations.", a.Annotations}} {
		for _, k := range sortedKeys(group.kv) {
			v := group.kv[k]
			if _, taken := row[k]; !taken {
				row[k] = v // labels first: a label wins over an annotation of its name
			}
			if name := group.prefix + k; len(vars) < amMaxVariables && validVariableName(name) {
				vars[name] = shorten(v, amMaxVarValue, amMaxVarValue)
			}
		}
	}

	alert := hookline.Alert{
		Name:             shorten(name, amMaxName, amMaxVarValue),
		Description:      shorten(description, amMaxDescription, amMaxVarValue),
		MonitorType:      "Metrics",
		QueryURL:         fitURL(a.GeneratorURL),
		Results:          []hookline.Row{row},
		NumQueryResults:  1,
		SourceID:         fingerprint,
		DetectionMethod:  "MetricsStaticCondition",
		TriggerType:      trigger,
		TriggerTime:      a.StartsAt.UTC(),
		TriggerTimeStart: a.StartsAt.UTC(),
		SourceURL:        fitURL(m.ExternalURL),
		Variables:        vars,
	}
	if resolved {
		alert.TriggerTime = a.EndsAt.UTC()
		alert.TriggerTimeEnd = a.EndsAt.UTC()
	}
	if err := alert.Validate(); err != nil {
		var e *hookline.Error
		errors.As(err, &e)
		for _, f := range e.Fields {
			p.Add(at+"."+amField(f.Field), "%s", f.Message)
		}
		return nil
	}
	out := &hookline.AcceptedAlert{
		Source: "alertmanager",
		// One key per alert instance, status and set of targets:
		// Alertmanager's repeat notifications of a firing alert are
		// delivered once, and so is its resolution, while the same
		// notification sent to other connections (a second receiver, a
		// route with continue: true, a receiver URL that was edited) is
		// delivered to them too.
		IdempotencyKey: "am:" + fingerprint + ":" + a.Status + ":" + a.StartsAt.UTC().Format(time.RFC3339Nano) + ":" + targetsKey(targets),
		Alert:          alert,
	}
	for _, c := range targets {
		out.Deliveries = append(out.Deliveries, &hookline.Delivery{ConnectionID: c.ID, TriggerType: trigger})
	}
	return out
}

// targetsKey names a set of connections in an idempotency key: the first
// 16 hex digits of the SHA-256 of their sorted IDs. Order and repeats in
// ?connections= do not change it; any other set does.
func targetsKey(targets []*hookline.Connection) string {
	ids := make([]string, len(targets))
	for i, c := range targets {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
	return hex.EncodeToString(sum[:8])
}

// amField names the Alertmanager field a Hookline alert field came from.
func amField(field string) string {
	switch head, _, _ := strings.Cut(field, "."); head {
	case "name":
		return "labels.alertname"
	case "description":
		return "annotations"
	case "triggerTimeEnd":
		return "endsAt"
	case "triggerTime", "triggerTimeStart":
		return "startsAt"
	case "sourceId":
		return "fingerprint"
	case "variables":
		return "labels"
	}
	return field
}

// labelsFingerprint is Alertmanager's fingerprint of a label set (FNV-1a
// over the sorted names and values, each followed by 0xff), for senders
// that leave the fingerprint out.
func labelsFingerprint(labels map[string]string) string {
	h := fnv.New64a()
	for _, k := range sortedKeys(labels) {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// labelsString writes a label set as Prometheus does, {a="b", c="d"}: the
// name of an alert without an alertname label.
func labelsString(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range sortedKeys(labels) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validVariableName reports whether Alert.Validate accepts name as a
// variable; Grafana allows label names that it does not.
func validVariableName(name string) bool {
	return len(name) <= 128 && !strings.ContainsAny(name, "{} \t\r\n") && utf8.ValidString(name)
}

// shorten cuts s to at most maxRunes characters and maxBytes bytes,
// ending with an ellipsis, and makes it valid UTF-8.
func shorten(s string, maxRunes, maxBytes int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxBytes && utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	const ellipsis = "…"
	n := 0
	for i, r := range s {
		if n == maxRunes-1 || i+utf8.RuneLen(r)+len(ellipsis) > maxBytes {
			return s[:i] + ellipsis
		}
		n++
	}
	return s
}

// fitURL leaves out a URL too long to keep rather than refuse the alert:
// a generator URL carries the whole PromQL expression.
func fitURL(u string) string {
	if len(u) > hookline.MaxURLLen {
		return ""
	}
	return u
}
