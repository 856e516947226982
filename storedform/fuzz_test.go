package storedform

import (
	"testing"

	"github.com/hookline/hookline"
)

// The JSON columns come back from the database, which another version or
// a hand edit may have written: decoding must fail cleanly or give a
// monitor that encodes to columns that decode to the same again.
func FuzzMonitorDecode(f *testing.F) {
	f.Add(`[{"triggerType":"Critical","threshold":10.5,"thresholdType":"gt","field":"_count"}]`,
		`[{"connectionId":"C1","runForTriggerTypes":["Critical"],"payloadOverride":"p"}]`, `["host"]`)
	f.Add(`[]`, `[]`, `[]`)
	f.Add(`null`, `null`, `null`)
	f.Add(`[{"threshold":1e308}]`, `[{"runForTriggerTypes":null}]`, `[""]`)
	f.Fuzz(func(t *testing.T, triggers, notifications, groups string) {
		var m hookline.Monitor
		row := MonitorRow{triggers: triggers, notifications: notifications, groups: groups}
		if err := row.Decode(&m); err != nil {
			return
		}
		tr, n, g, err := encodeMonitorJSON(&m)
		if err != nil {
			t.Fatalf("a decoded monitor does not encode: %v", err)
		}
		var again hookline.Monitor
		row = MonitorRow{triggers: tr, notifications: n, groups: g}
		if err := row.Decode(&again); err != nil {
			t.Fatalf("encoded columns do not decode: %v\n%s\n%s\n%s", err, tr, n, g)
		}
		tr2, n2, g2, err := encodeMonitorJSON(&again)
		if err != nil || tr2 != tr || n2 != n || g2 != g {
			t.Fatalf("encoding is not stable: %v\n%s\n%s\n%s\nthen\n%s\n%s\n%s", err, tr, n, g, tr2, n2, g2)
		}
	})
}
