package monitor

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/hookline/hookline"
)

// Detection methods ({{DetectionMethod}}) of a log monitor's alerts.
const (
	DetectionStatic      = "LogsStaticCondition"
	DetectionMissingData = "LogsMissingDataCondition"
)

// Alert returns the alert e raises for m: what payloads are rendered from.
// The URLs ({{QueryURL}}, {{AlertResponseUrl}}) are left to the caller,
// which knows where Hookline is served.
func (e Event) Alert(m *hookline.Monitor) *hookline.Alert {
	method := DetectionStatic
	if e.TriggerType == hookline.TriggerMissingData || e.TriggerType == hookline.TriggerResolvedMissingData {
		method = DetectionMissingData
	}
	return &hookline.Alert{
		Name:             m.Name,
		Description:      m.Description,
		MonitorType:      "Logs",
		Query:            e.Query,
		Results:          e.Results,
		NumQueryResults:  e.NumQueryResults,
		SourceID:         m.ID,
		DetectionMethod:  method,
		TriggerType:      e.TriggerType,
		TriggerCondition: e.TriggerCondition,
		TriggerValue:     e.TriggerValue,
		TriggerTime:      e.TriggerTimeEnd,
		TriggerTimeStart: e.TriggerTimeStart,
		TriggerTimeEnd:   e.TriggerTimeEnd,
	}
}

// Deliveries returns one delivery for each of m's notifications that runs
// for e's trigger type, with the notification's payload override for it
// (resolutionPayloadOverride for a recovery); none when e is muted.
func (e Event) Deliveries(m *hookline.Monitor) []*hookline.Delivery {
	if e.Muted {
		return nil
	}
	var out []*hookline.Delivery
	for _, n := range m.Notifications {
		if !slices.Contains(n.RunForTriggerTypes, e.TriggerType) {
			continue
		}
		override := n.PayloadOverride
		if e.TriggerType.IsResolution() {
			override = n.ResolutionPayloadOverride
		}
		if strings.TrimSpace(override) == "" {
			override = "" // the connection's own payload
		}
		out = append(out, &hookline.Delivery{ConnectionID: n.ConnectionID, TriggerType: e.TriggerType, Payload: override})
	}
	return out
}

// Accepted returns e as an alert for hookline.DeliveryStore.AcceptAlerts
// and the dispatcher: its alert, its deliveries (possibly none: the alert
// is still recorded) and an idempotency key that is the same whenever the
// same window is evaluated again, so that an evaluation repeated after a
// crash does not notify twice.
func (e Event) Accepted(m *hookline.Monitor) *hookline.AcceptedAlert {
	return &hookline.AcceptedAlert{
		Source:         Source(m.ID),
		IdempotencyKey: e.IdempotencyKey(m.ID),
		Alert:          *e.Alert(m),
		Deliveries:     e.Deliveries(m),
	}
}

// Source is the hookline.AcceptedAlert.Source of a monitor's alerts.
func Source(monitorID string) string { return "monitor:" + monitorID }

// IdempotencyKey names e among all of a monitor's events: its group, its
// trigger type and when its alert started, hashed to a fixed length.
func (e Event) IdempotencyKey(monitorID string) string {
	h := sha256.New()
	for _, s := range []string{monitorID, e.GroupKey, string(e.TriggerType), strconv.FormatInt(e.Since.UnixNano(), 10)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "monitor-" + hex.EncodeToString(h.Sum(nil)[:20])
}
