package http

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// TestLabelsFingerprint compares with fingerprints Alertmanager 0.25
// reported for these label sets (GET /api/v2/alerts).
func TestLabelsFingerprint(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"alertname": "HighLatency", "severity": "warning", "instance": "web-1:9100", "job": "node"}, "c2c6feb26fc14db3"},
		{map[string]string{"alertname": "Ünïcode", "a": "b\u00ff"}, "2e125180cfd84467"},
		{map[string]string{"alertname": "Solo"}, "678b588f14f8ffed"},
		{map[string]string{"alertname": "HighLatency", "instance": "web-2:9100", "job": "node"}, "18a4e7ca20bb7c39"},
	} {
		if got := labelsFingerprint(tc.labels); got != tc.want {
			t.Errorf("fingerprint of %v = %s, want %s", tc.labels, got, tc.want)
		}
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct {
		in             string
		runes, bytes   int
		want           string
		wantRunes, max int
	}{
		{"short", 10, 100, "short", 5, 100},
		{"abcdef", 4, 100, "abc…", 4, 100},
		{strings.Repeat("é", 10), 100, 9, "ééé…", 4, 9},
		{"ok\xffbad", 100, 100, "ok\uFFFDbad", 6, 100},
	} {
		got := shorten(tc.in, tc.runes, tc.bytes)
		if got != tc.want || utf8.RuneCountInString(got) != tc.wantRunes || len(got) > tc.max || !utf8.ValidString(got) {
			t.Errorf("shorten(%q, %d, %d) = %q", tc.in, tc.runes, tc.bytes, got)
		}
	}
}

func testIndex() *connectionIndex {
	ix := &connectionIndex{byID: map[string]*hookline.Connection{}, byName: map[string]*hookline.Connection{}}
	for _, c := range []*hookline.Connection{{ID: "00000000000000c1", Name: "pager"}, {ID: "00000000000000c2", Name: "Blocker"}} {
		ix.byID[c.ID] = c
		ix.byName[nameKey(c.Name)] = c
	}
	return ix
}

// checkAccepted holds for whatever a decoder accepts: each alert valid,
// with an idempotency key the store takes, notifying known connections.
func checkAccepted(t *testing.T, alerts []*hookline.AcceptedAlert) {
	t.Helper()
	if len(alerts) == 0 {
		t.Fatal("accepted nothing without an error")
	}
	ix := testIndex()
	for _, a := range alerts {
		if a == nil {
			t.Fatal("nil alert without an error")
		}
		if err := a.Alert.Validate(); err != nil {
			t.Fatalf("accepted an invalid alert: %v", err)
		}
		if utf8.RuneCountInString(a.IdempotencyKey) > hookline.MaxIdempotencyKeyLen || a.Source == "" {
			t.Fatalf("key %q, source %q", a.IdempotencyKey, a.Source)
		}
		if len(a.Deliveries) == 0 || len(a.Deliveries) > hookline.MaxNotifications {
			t.Fatalf("%d deliveries", len(a.Deliveries))
		}
		for _, d := range a.Deliveries {
			if ix.byID[d.ConnectionID] == nil || d.TriggerType != a.Alert.TriggerType {
				t.Fatalf("delivery %+v", d)
			}
		}
	}
}

func FuzzDecodeAlertmanager(f *testing.F) {
	f.Add([]byte(`{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A","severity":"warning"},"annotations":{"summary":"s"},"startsAt":"2026-11-26T12:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://p/graph","fingerprint":"0123456789abcdef"}],"externalURL":"http://am:9093"}`), "pager")
	f.Add([]byte(`{"alerts":[{"status":"resolved","labels":{},"startsAt":"2026-11-26T12:00:00Z","endsAt":"2026-11-26T12:05:00+01:00"}]}`), "Blocker,pager")
	f.Add([]byte(`{"alerts":[{"status":"firing","labels":{"a":"\u0000"},"annotations":{"description":"\u00ff"}}]}`), "00000000000000c1")
	f.Fuzz(func(t *testing.T, body []byte, connections string) {
		ix := testIndex()
		_, alerts, err := decodeAlertmanager(body, []string{connections}, ix)
		if err != nil {
			if hookline.ErrorCode(err) != hookline.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		checkAccepted(t, alerts)
		for _, a := range alerts {
			if a.Source != "alertmanager" || !strings.HasPrefix(a.IdempotencyKey, "am:") || len(a.Alert.Results) != 1 {
				t.Fatalf("alert %+v", a)
			}
		}
	})
}

func FuzzDecodeAlerts(f *testing.F) {
	f.Add([]byte(`{"name":"x","triggerType":"Critical","notifications":[{"connectionName":"pager"}]}`), "")
	f.Add([]byte(`{"alerts":[{"name":"x","triggerType":"ResolvedWarning","results":[{"n":1}],"notifications":[{"connectionId":"00000000000000c2","resolutionPayloadOverride":"{\"a\": {{Name}}}"}]}]}`), "")
	f.Add([]byte(`{"name":"x","triggerType":"Critical","timeZone":"Europe/Paris","triggerTime":"2026-11-26T12:00:00Z","notifications":[{"connectionName":"PAGER","payloadOverride":"[{{ResultsJson}}]"}]}`), "key-1")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		alerts, err := decodeAlerts(body, header, testIndex())
		if err != nil {
			if hookline.ErrorCode(err) != hookline.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		checkAccepted(t, alerts)
	})
}
