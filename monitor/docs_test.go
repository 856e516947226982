package monitor_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/monitor"
)

// TestDocs keeps docs/monitors.md true: its queries compile in its example
// monitor, and its walk-through tables are what Evaluate does.
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/monitors.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)

	queries := 0
	for _, block := range strings.Split(doc, "```query\n")[1:] {
		src, _, _ := strings.Cut(block, "```")
		m := suspiciousIPs()
		m.Query = strings.TrimSpace(src)
		if strings.Contains(src, "where") {
			m.Triggers[0].Field = ""
		}
		if err := monitor.Validate(m); err != nil {
			t.Errorf("docs/monitors.md query %q: %v", m.Query, err)
		}
		queries++
	}
	if queries < 2 {
		t.Errorf("found %d queries, want the example's", queries)
	}

	volume := &hookline.Monitor{
		Name: "request volume", Query: `_sourceCategory=prod/web | count`,
		Interval: time.Minute, Window: time.Minute,
		Triggers: []hookline.MonitorTrigger{
			trigger(hookline.TriggerCritical, "_count", hookline.ThresholdGT, 100),
			trigger(hookline.TriggerWarning, "_count", hookline.ThresholdGT, 50),
		},
	}
	missing := *volume
	missing.Triggers = []hookline.MonitorTrigger{trigger(hookline.TriggerCritical, "_count", hookline.ThresholdGT, 100), missingData}
	monitors := []*hookline.Monitor{volume, &missing}

	const header = "| Requests in the window | Events | Active after |\n|---|---|---|\n"
	tables := strings.Split(doc, header)[1:]
	if len(tables) != len(monitors) {
		t.Fatalf("found %d walk-through tables, want %d", len(tables), len(monitors))
	}
	for i, table := range tables {
		var steps []step
		for _, line := range strings.Split(table, "\n") {
			if !strings.HasPrefix(line, "|") {
				break
			}
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for j := range cells {
				cells[j] = strings.TrimSpace(cells[j])
				if cells[j] == "—" {
					cells[j] = ""
				}
			}
			var n int
			if _, err := fmt.Sscan(cells[0], &n); err != nil {
				t.Fatalf("table %d: row %q: %v", i, line, err)
			}
			s := step{lines: requests(hit{ipA, n}), active: cells[2]}
			if cells[1] != "" {
				s.want = strings.Split(cells[1], ", ")
			}
			steps = append(steps, s)
		}
		if len(steps) < 5 {
			t.Errorf("table %d has %d rows", i, len(steps))
		}
		play(t, monitors[i], steps)
	}
}
