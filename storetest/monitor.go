package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/monitor"
)

// MonitorStore is what TestMonitorStore needs of a store: the monitor
// store, the connections its notifications name, and the access store for
// its audit log.
type MonitorStore interface {
	hookline.MonitorStore
	hookline.ConnectionStore
	hookline.AccessStore
}

// TestMonitorStore checks that a hookline.MonitorStore keeps the
// interface's contract and these rules that the interface leaves to the
// engines:
//
//   - IDs are 16 upper-case hex digits chosen by the store; CreatedAt and
//     ModifiedAt are the store's, in UTC; an update keeps CreatedAt and
//     CreatedBy. Every field comes back as it was given (nil and empty
//     lists alike), and nothing returned aliases what was passed in.
//   - Names are unique case-insensitively, Unicode included (ECONFLICT
//     naming "name"); monitors are listed by lower-cased name, then ID,
//     with the limit and token rules of connections.
//   - The store validates (Monitor.Validate, and that each notification's
//     connection exists: EINVALID naming the field) and stores nothing,
//     and records no audit event, on any error.
//   - Each create, update and delete is one audit event targeting the
//     monitor, made by hookline.ActorFrom(ctx), with hookline.MonitorAudit
//     views; claims and saved evaluations are not audited.
//   - A new monitor is due at its CreatedAt; a disabled one is never due
//     and never claimed. An update keeps the state and the lease, never
//     postpones the next evaluation, brings it within one new interval,
//     and makes a monitor enabled again due at once.
//   - ClaimDueMonitors takes, most overdue first (NextEvalAt, then ID),
//     what is due at now and held by no one, leasing it until now+lease;
//     the owner's own unexpired leases are not taken again. Concurrent
//     claimers never share a monitor, and owners that claim and save in
//     turn evaluate each monitor once per interval.
//   - SaveEvaluation keeps the state byte for byte and times to the
//     nanosecond, releases the lease, and is refused (ECONFLICT, nothing
//     changed) to anyone but the holder — who may save after the lease
//     expired until another owner claims.
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store that t's cleanup closes.
func TestMonitorStore(t *testing.T, open func(t *testing.T) MonitorStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s MonitorStore)
	}{
		{"CreateAndGet", testMonitorCreateAndGet},
		{"RoundTrip", testMonitorRoundTrip},
		{"NoAliasing", testMonitorNoAliasing},
		{"Validation", testMonitorValidation},
		{"NameConflict", testMonitorNameConflict},
		{"NotFound", testMonitorNotFound},
		{"Update", testUpdateMonitor},
		{"UpdateSchedule", testUpdateMonitorSchedule},
		{"Delete", testDeleteMonitor},
		{"ListOrderAndPaging", testMonitorsOrderAndPaging},
		{"ListLimits", testMonitorsLimits},
		{"ListBadOptions", testMonitorsBadOptions},
		{"Audit", testMonitorAudit},
		{"ClaimDue", testClaimDueMonitors},
		{"ClaimLeases", testClaimMonitorLeases},
		{"ClaimBadArguments", testClaimMonitorsBadArguments},
		{"SaveEvaluation", testSaveEvaluation},
		{"SaveEvaluationInvalid", testSaveEvaluationInvalid},
		{"ConcurrentClaimers", testConcurrentMonitorClaimers},
		{"OwnersTakingTurns", testMonitorOwnersTakingTurns},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// NewMonitor returns a valid monitor named name that uses every field,
// notifying each of connectionIDs: the reference's suspicious IP monitor.
func NewMonitor(name string, connectionIDs ...string) *hookline.Monitor {
	m := &hookline.Monitor{
		Name:        name,
		Description: "Too many requests from one address (" + name + ").",
		Query:       `_sourceCategory=prod/web | parse "from * " as ip | count by ip | sort by _count`,
		Interval:    time.Minute,
		Window:      5 * time.Minute,
		Triggers: []hookline.MonitorTrigger{
			{TriggerType: hookline.TriggerCritical, Field: "_count", ThresholdType: hookline.ThresholdGT, Threshold: 100},
			{TriggerType: hookline.TriggerWarning, Field: "_count", ThresholdType: hookline.ThresholdGE, Threshold: 50.5},
			{TriggerType: hookline.TriggerMissingData},
		},
		GroupFields: []string{"ip"},
		CreatedBy:   "alice",
		ModifiedBy:  "alice",
	}
	for _, id := range connectionIDs {
		m.Notifications = append(m.Notifications, hookline.MonitorNotification{
			ConnectionID:              id,
			RunForTriggerTypes:        []hookline.TriggerType{hookline.TriggerCritical, hookline.TriggerResolvedCritical},
			PayloadOverride:           `{"action": "block", "ip": "{{ResultsJson.ip}}"}`,
			ResolutionPayloadOverride: `{"action": "unblock", "ip": "{{ResultsJson.ip}}"}`,
		})
	}
	return m
}

func createMonitor(t *testing.T, s hookline.MonitorStore, m *hookline.Monitor) *hookline.Monitor {
	t.Helper()
	if err := s.CreateMonitor(t.Context(), m); err != nil {
		t.Fatalf("CreateMonitor(%q): %v", m.Name, err)
	}
	return m
}

func getMonitor(t *testing.T, s hookline.MonitorStore, id string) *hookline.Monitor {
	t.Helper()
	m, err := s.Monitor(t.Context(), id)
	if err != nil {
		t.Fatalf("Monitor(%s): %v", id, err)
	}
	return m
}

func updateMonitor(t *testing.T, s hookline.MonitorStore, m *hookline.Monitor) {
	t.Helper()
	if err := s.UpdateMonitor(t.Context(), m); err != nil {
		t.Fatalf("UpdateMonitor(%s): %v", m.ID, err)
	}
}

func monitorState(t *testing.T, s hookline.MonitorStore, id string) *hookline.MonitorStateRecord {
	t.Helper()
	r, err := s.MonitorState(t.Context(), id)
	if err != nil {
		t.Fatalf("MonitorState(%s): %v", id, err)
	}
	return r
}

func listMonitors(t *testing.T, s hookline.MonitorStore, limit int) []*hookline.Monitor {
	t.Helper()
	return pageAll(t, "Monitors", func(token string) ([]*hookline.Monitor, string, error) {
		return s.Monitors(t.Context(), hookline.ListOptions{Limit: limit, Token: token})
	})
}

func monitorNames(ms []*hookline.Monitor) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

func claimMonitors(t *testing.T, s hookline.MonitorStore, owner string, now time.Time, lease time.Duration, limit int) []*hookline.ClaimedMonitor {
	t.Helper()
	cs, err := s.ClaimDueMonitors(t.Context(), owner, now, lease, limit)
	if err != nil {
		t.Fatalf("ClaimDueMonitors(%s, %v): %v", owner, now, err)
	}
	return cs
}

func claimedMonitorIDs(cs []*hookline.ClaimedMonitor) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Monitor.ID
	}
	return out
}

func saveEvaluation(t *testing.T, s hookline.MonitorStore, owner, id string, windowEnd time.Time, state json.RawMessage, next time.Time) {
	t.Helper()
	if err := s.SaveEvaluation(t.Context(), owner, id, windowEnd, state, next); err != nil {
		t.Fatalf("SaveEvaluation(%s, %s): %v", owner, id, err)
	}
}

// countState is a state that counts the evaluations that saved it;
// readCount reads the count back (0 for no state).
func countState(n int) json.RawMessage { return json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)) }

func readCount(t *testing.T, state json.RawMessage) int {
	t.Helper()
	if state == nil {
		return 0
	}
	var v struct{ N int }
	if err := json.Unmarshal(state, &v); err != nil {
		t.Errorf("state %s: %v", state, err) // not Fatal: called from goroutines too
	}
	return v.N
}

func testMonitorCreateAndGet(t *testing.T, s MonitorStore) {
	c := create(t, s, Connection("Lambda"))
	m := NewMonitor("Suspicious IP", c.ID)
	// The ID and times are the store's; ModifiedBy defaults to CreatedBy.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	m.ID, m.CreatedAt, m.ModifiedAt, m.ModifiedBy = "00000000000468D5", old, old, ""
	want := *m
	before := time.Now()
	createMonitor(t, s, m)
	after := time.Now()

	if !idForm.MatchString(m.ID) || m.ID == "00000000000468D5" {
		t.Errorf("ID = %q; want 16 upper-case hex digits chosen by the store", m.ID)
	}
	checkStoreTime(t, "CreatedAt", m.CreatedAt, before, after)
	if !m.ModifiedAt.Equal(m.CreatedAt) {
		t.Errorf("new monitor: ModifiedAt %v differs from CreatedAt %v", m.ModifiedAt, m.CreatedAt)
	}
	want.ID, want.CreatedAt, want.ModifiedAt, want.ModifiedBy = m.ID, m.CreatedAt, m.ModifiedAt, "alice"
	if diff := cmp.Diff(&want, m, equal); diff != "" {
		t.Errorf("CreateMonitor changed more than ID, times and ModifiedBy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(m, getMonitor(t, s, m.ID), equal); diff != "" {
		t.Errorf("Monitor(%s) differs from what was created (-want +got):\n%s", m.ID, diff)
	}

	// A new monitor is due at once, with no state and no lease.
	wantRecord := &hookline.MonitorStateRecord{MonitorID: m.ID, NextEvalAt: m.CreatedAt}
	if diff := cmp.Diff(wantRecord, monitorState(t, s, m.ID)); diff != "" {
		t.Errorf("MonitorState of a new monitor (-want +got):\n%s", diff)
	}
	// A disabled one is not due at all.
	d := NewMonitor("Disabled")
	d.Disabled = true
	createMonitor(t, s, d)
	if diff := cmp.Diff(&hookline.MonitorStateRecord{MonitorID: d.ID}, monitorState(t, s, d.ID)); diff != "" {
		t.Errorf("MonitorState of a new disabled monitor (-want +got):\n%s", diff)
	}
	if d.ID == m.ID {
		t.Errorf("two monitors share ID %s", m.ID)
	}
	list, next, err := s.Monitors(t.Context(), hookline.ListOptions{})
	if err != nil || next != "" {
		t.Fatalf("Monitors: next %q, %v", next, err)
	}
	if diff := cmp.Diff([]*hookline.Monitor{d, m}, list, equal); diff != "" {
		t.Errorf("Monitors differs from what was created (-want +got):\n%s", diff)
	}
}

func testMonitorRoundTrip(t *testing.T, s MonitorStore) {
	c1 := create(t, s, Connection("One"))
	c2 := create(t, s, Connection("Two"))
	tests := []struct {
		name string
		edit func(m *hookline.Monitor)
	}{
		{"minimal", func(m *hookline.Monitor) {
			m.Description, m.Notifications, m.GroupFields, m.CreatedBy, m.ModifiedBy = "", nil, nil, "", ""
			m.Triggers = []hookline.MonitorTrigger{{TriggerType: hookline.TriggerCritical, ThresholdType: hookline.ThresholdGT}}
		}},
		{"empty lists", func(m *hookline.Monitor) {
			m.Notifications, m.GroupFields = []hookline.MonitorNotification{}, []string{}
		}},
		{"thresholds", func(m *hookline.Monitor) {
			m.Triggers = []hookline.MonitorTrigger{
				{TriggerType: hookline.TriggerCritical, ThresholdType: hookline.ThresholdLT, Threshold: -0.1},
				{TriggerType: hookline.TriggerWarning, Field: "avg.latency_ms", ThresholdType: hookline.ThresholdEQ, Threshold: 1e300},
			}
			m.Notifications[0].RunForTriggerTypes = []hookline.TriggerType{hookline.TriggerWarning, hookline.TriggerResolvedWarning, hookline.TriggerCritical}
			m.GroupFields = nil
		}},
		{"long and odd text", func(m *hookline.Monitor) {
			m.Name = "Ärger ✓ \"quoted\" \\ 秘密"
			m.Description = strings.Repeat("d", hookline.MaxDescriptionLen)
			q := "_sourceCategory=prod/web\n| where msg = \"a\\\"b\" // ✓\n| count by ip"
			m.Query = q + strings.Repeat(" ", hookline.MaxMonitorQueryLen-utf8.RuneCountInString(q))
			m.Notifications[0].PayloadOverride = strings.Repeat("x", hookline.MaxDefaultPayloadLen)
			m.Notifications[0].ResolutionPayloadOverride = ""
		}},
		{"flags and long durations", func(m *hookline.Monitor) {
			m.Muted, m.Disabled = true, true
			m.Interval, m.Window = 90*time.Minute, hookline.MaxMonitorWindow
			m.GroupFields = []string{"ip", "host", "_sourceName"}
		}},
		{"two connections", func(m *hookline.Monitor) {
			m.Notifications = append(m.Notifications, hookline.MonitorNotification{
				ConnectionID: c2.ID, RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerMissingData},
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMonitor("Round trip "+tt.name, c1.ID)
			tt.edit(m)
			want := *m
			createMonitor(t, s, m)
			want.ID, want.CreatedAt, want.ModifiedAt, want.ModifiedBy = m.ID, m.CreatedAt, m.ModifiedAt, m.ModifiedBy
			if diff := cmp.Diff(&want, getMonitor(t, s, m.ID), equal); diff != "" {
				t.Errorf("Monitor after create (-want +got):\n%s", diff)
			}
			u := NewMonitor("Updated "+tt.name, c1.ID)
			tt.edit(u)
			u.ID = m.ID
			updateMonitor(t, s, u)
			if diff := cmp.Diff(u, getMonitor(t, s, m.ID), equal); diff != "" {
				t.Errorf("Monitor after update (-want +got):\n%s", diff)
			}
		})
	}
}

func testMonitorNoAliasing(t *testing.T, s MonitorStore) {
	c := create(t, s, Connection("Lambda"))
	m := createMonitor(t, s, NewMonitor("Aliasing", c.ID))
	want := *getMonitor(t, s, m.ID)

	// Changing what was passed in changes nothing stored.
	m.Triggers[0].Threshold = 1
	m.Notifications[0].RunForTriggerTypes[0] = hookline.TriggerWarning
	m.GroupFields[0] = "changed"
	// Nor does changing what was returned.
	got := getMonitor(t, s, m.ID)
	got.Triggers[0].Field = "changed"
	got.Notifications[0].ConnectionID = "changed"
	got.GroupFields[0] = "changed"
	list := listMonitors(t, s, 0)
	list[0].Triggers[1].Threshold = 7
	cs := claimMonitors(t, s, "owner", time.Now().Add(time.Hour), time.Minute, 10)
	cs[0].Monitor.GroupFields[0] = "changed"

	if diff := cmp.Diff(&want, getMonitor(t, s, m.ID), equal); diff != "" {
		t.Errorf("stored monitor changed through an alias (-want +got):\n%s", diff)
	}

	// Nor does changing a saved state.
	state := json.RawMessage(`{"alerts":{}}`)
	saveEvaluation(t, s, "owner", m.ID, time.Now(), state, time.Now().Add(time.Hour))
	state[2] = 'X'
	r := monitorState(t, s, m.ID)
	r.State[2] = 'Y'
	if got := string(monitorState(t, s, m.ID).State); got != `{"alerts":{}}` {
		t.Errorf("stored state changed through an alias: %s", got)
	}
}

func testMonitorValidation(t *testing.T, s MonitorStore) {
	c := create(t, s, Connection("Lambda"))
	tests := []struct {
		name  string
		edit  func(m *hookline.Monitor)
		field string
	}{
		{"no name", func(m *hookline.Monitor) { m.Name = "" }, "name"},
		{"blank name", func(m *hookline.Monitor) { m.Name = "  " }, "name"},
		{"no query", func(m *hookline.Monitor) { m.Query = "" }, "query"},
		{"interval too short", func(m *hookline.Monitor) { m.Interval = 30 * time.Second }, "interval"},
		{"window shorter than interval", func(m *hookline.Monitor) { m.Interval = 10 * time.Minute }, "window"},
		{"no triggers", func(m *hookline.Monitor) { m.Triggers, m.Notifications = nil, nil }, "triggers"},
		{"bad threshold type", func(m *hookline.Monitor) { m.Triggers[0].ThresholdType = "above" }, "triggers[0].thresholdType"},
		{"bad group field", func(m *hookline.Monitor) { m.GroupFields = []string{"1ip"} }, "notificationGroupFields[0]"},
		{"unknown connection", func(m *hookline.Monitor) { m.Notifications[0].ConnectionID = "00000000000468D5" }, "notifications[0].connectionId"},
		{"second connection unknown", func(m *hookline.Monitor) {
			m.Notifications = append(m.Notifications, hookline.MonitorNotification{
				ConnectionID: "not-a-connection", RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerWarning},
			})
		}, "notifications[1].connectionId"},
	}
	existing := createMonitor(t, s, NewMonitor("Valid", c.ID))
	events := countEvents(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMonitor("Invalid "+tt.name, c.ID)
			tt.edit(m)
			wantField(t, s.CreateMonitor(t.Context(), m), tt.field, "CreateMonitor")

			u := NewMonitor("Valid", c.ID)
			tt.edit(u)
			u.ID = existing.ID
			wantField(t, s.UpdateMonitor(t.Context(), u), tt.field, "UpdateMonitor")
		})
	}
	wantCode(t, s.CreateMonitor(t.Context(), nil), hookline.EINVALID, "CreateMonitor(nil)")
	wantCode(t, s.UpdateMonitor(t.Context(), nil), hookline.EINVALID, "UpdateMonitor(nil)")
	if got := listMonitors(t, s, 0); len(got) != 1 || cmp.Diff(existing, got[0], equal) != "" {
		t.Errorf("after invalid creates and updates the store holds %q; want only the valid monitor unchanged", monitorNames(got))
	}
	if got := countEvents(t, s); got != events {
		t.Errorf("%d audit events after failed changes; want %d", got, events)
	}
}

func testMonitorNameConflict(t *testing.T, s MonitorStore) {
	a := createMonitor(t, s, NewMonitor("Suspicious IP"))
	createMonitor(t, s, NewMonitor("Ärger"))
	for _, name := range []string{"Suspicious IP", "suspicious ip", "SUSPICIOUS IP", "ärger", "ÄRGER"} {
		err := s.CreateMonitor(t.Context(), NewMonitor(name))
		wantConflict(t, err, "name", fmt.Sprintf("CreateMonitor(%q)", name))
		if want := fmt.Sprintf("a monitor named %q already exists", name); hookline.ErrorMessage(err) != want {
			t.Errorf("CreateMonitor(%q): message %q; want %q", name, hookline.ErrorMessage(err), want)
		}
	}
	b := createMonitor(t, s, NewMonitor("Arger"))
	for _, name := range []string{"Suspicious IP", "suspicious IP", "ärger"} {
		u := *b
		u.Name = name
		wantConflict(t, s.UpdateMonitor(t.Context(), &u), "name", fmt.Sprintf("rename Arger to %q", name))
	}
	if diff := cmp.Diff(b, getMonitor(t, s, b.ID), equal); diff != "" {
		t.Errorf("a failed rename changed the monitor (-want +got):\n%s", diff)
	}
	// A monitor may keep its name or change only its case; its old name is
	// then free again.
	u := *a
	u.Name = "SUSPICIOUS ip"
	updateMonitor(t, s, &u)
	u.Name = "Renamed"
	updateMonitor(t, s, &u)
	createMonitor(t, s, NewMonitor("suspicious ip"))
	want := []string{"Arger", "Renamed", "suspicious ip", "Ärger"}
	if got := monitorNames(listMonitors(t, s, 0)); !slices.Equal(got, want) {
		t.Errorf("store holds %q; want %q", got, want)
	}
}

func testMonitorNotFound(t *testing.T, s MonitorStore) {
	createMonitor(t, s, NewMonitor("Existing"))
	for _, id := range []string{"00000000000468D5", "", "not-an-id", "'; DROP TABLE monitors; --"} {
		what := func(call string) string { return fmt.Sprintf("%s(%q)", call, id) }
		_, err := s.Monitor(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, what("Monitor"))
		if want := fmt.Sprintf("monitor %s not found", id); hookline.ErrorMessage(err) != want {
			t.Errorf("Monitor(%q): message %q; want %q", id, hookline.ErrorMessage(err), want)
		}
		u := NewMonitor("Updated")
		u.ID = id
		wantCode(t, s.UpdateMonitor(t.Context(), u), hookline.ENOTFOUND, what("UpdateMonitor"))
		wantCode(t, s.DeleteMonitor(t.Context(), id), hookline.ENOTFOUND, what("DeleteMonitor"))
		_, err = s.MonitorState(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, what("MonitorState"))
		err = s.SaveEvaluation(t.Context(), "owner", id, time.Now(), nil, time.Now())
		wantCode(t, err, hookline.ENOTFOUND, what("SaveEvaluation"))
	}
	if got := monitorNames(listMonitors(t, s, 0)); !slices.Equal(got, []string{"Existing"}) {
		t.Errorf("after failed changes the store holds %q; want only %q", got, "Existing")
	}
}

func testUpdateMonitor(t *testing.T, s MonitorStore) {
	c1 := create(t, s, Connection("One"))
	c2 := create(t, s, Connection("Two"))
	m := createMonitor(t, s, NewMonitor("Before", c1.ID))
	created := *m

	// Claimed and evaluated once, then claimed again: the state and the
	// lease must outlive the edit.
	claimMonitors(t, s, "owner", m.CreatedAt, time.Minute, 10)
	state := json.RawMessage(`{"alerts":{"[\"203.0.113.7\"]":{"triggerType":"Critical","since":"2026-11-26T10:00:00Z","condition":"c","notified":true}}}`)
	windowEnd := m.CreatedAt.Add(-time.Second)
	saveEvaluation(t, s, "owner", m.ID, windowEnd, state, m.CreatedAt.Add(time.Minute))
	if cs := claimMonitors(t, s, "owner", m.CreatedAt.Add(time.Minute), time.Minute, 10); len(cs) != 1 {
		t.Fatalf("second claim took %d monitors; want 1", len(cs))
	}
	held := monitorState(t, s, m.ID)

	time.Sleep(2 * time.Millisecond) // so that ModifiedAt visibly moves on
	u := &hookline.Monitor{
		ID:          m.ID,
		Name:        "After",
		Description: "changed",
		Query:       `_sourceCategory=prod/api | count by host`,
		Interval:    5 * time.Minute,
		Window:      10 * time.Minute,
		Triggers:    []hookline.MonitorTrigger{{TriggerType: hookline.TriggerWarning, ThresholdType: hookline.ThresholdLE, Threshold: 3}},
		Notifications: []hookline.MonitorNotification{{
			ConnectionID: c2.ID, RunForTriggerTypes: []hookline.TriggerType{hookline.TriggerWarning},
		}},
		GroupFields: []string{"host"},
		Muted:       true,
		// The store keeps the stored creation time and author.
		CreatedAt:  time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		CreatedBy:  "mallory",
		ModifiedBy: "bob",
	}
	want := *u
	updateMonitor(t, s, u)
	if !u.CreatedAt.Equal(created.CreatedAt) || u.CreatedBy != "alice" {
		t.Errorf("after update CreatedAt, CreatedBy = %v, %q; want the stored %v, %q", u.CreatedAt, u.CreatedBy, created.CreatedAt, "alice")
	}
	checkStoreTime(t, "ModifiedAt", u.ModifiedAt, created.CreatedAt, time.Now())
	if !u.ModifiedAt.After(created.ModifiedAt) {
		t.Errorf("ModifiedAt = %v; want a time after the creation's %v", u.ModifiedAt, created.ModifiedAt)
	}
	want.CreatedAt, want.CreatedBy, want.ModifiedAt = created.CreatedAt, created.CreatedBy, u.ModifiedAt
	if diff := cmp.Diff(&want, u, equal); diff != "" {
		t.Errorf("UpdateMonitor changed more than the times and creator (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(u, getMonitor(t, s, m.ID), equal); diff != "" {
		t.Errorf("Monitor after update (-want +got):\n%s", diff)
	}
	// Query, triggers and groups all changed, and the state is kept: the
	// alert it holds recovers at the next evaluation.
	if diff := cmp.Diff(held, monitorState(t, s, m.ID)); diff != "" {
		t.Errorf("MonitorState after update (-want +got):\n%s", diff)
	}
	saveEvaluation(t, s, "owner", m.ID, windowEnd.Add(time.Minute), nil, m.CreatedAt.Add(2*time.Minute))
}

func testUpdateMonitorSchedule(t *testing.T, s MonitorStore) {
	m := NewMonitor("Twice a day")
	m.Interval, m.Window = 12*time.Hour, 12*time.Hour
	createMonitor(t, s, m)
	if cs := claimMonitors(t, s, "owner", m.CreatedAt, time.Minute, 10); len(cs) != 1 {
		t.Fatalf("claim of a new monitor at its creation took %d; want 1", len(cs))
	}
	due := m.CreatedAt.Add(12 * time.Hour)
	saveEvaluation(t, s, "owner", m.ID, m.CreatedAt, countState(1), due)
	next := func() time.Time { return monitorState(t, s, m.ID).NextEvalAt }

	// An edit that keeps the interval keeps the schedule.
	m.Description = "edited"
	updateMonitor(t, s, m)
	if got := next(); !got.Equal(due) {
		t.Errorf("after an edit NextEvalAt = %v; want %v unchanged", got, due)
	}
	// A longer interval does not postpone the next evaluation.
	m.Window, m.Interval = hookline.MaxMonitorWindow, hookline.MaxMonitorWindow
	updateMonitor(t, s, m)
	if got := next(); !got.Equal(due) {
		t.Errorf("after a longer interval NextEvalAt = %v; want %v unchanged", got, due)
	}
	// A shorter one brings it within one new interval from now.
	before := time.Now()
	m.Interval = time.Hour
	updateMonitor(t, s, m)
	checkStoreTime(t, "NextEvalAt after a shorter interval", next().Add(-time.Hour), before, time.Now())

	// Disabling takes it off the schedule: never claimed.
	m.Disabled = true
	updateMonitor(t, s, m)
	if got := next(); !got.IsZero() {
		t.Errorf("disabled: NextEvalAt = %v; want zero", got)
	}
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	if cs := claimMonitors(t, s, "owner", far, time.Minute, 10); len(cs) != 0 {
		t.Errorf("claimed a disabled monitor: %q", claimedMonitorIDs(cs))
	}
	// Editing it disabled keeps it off.
	m.Interval = 2 * time.Hour
	m.Window = 2 * time.Hour
	updateMonitor(t, s, m)
	if got := next(); !got.IsZero() {
		t.Errorf("disabled and edited: NextEvalAt = %v; want zero", got)
	}
	// Enabling makes it due at once, with its state.
	before = time.Now()
	m.Disabled = false
	updateMonitor(t, s, m)
	checkStoreTime(t, "NextEvalAt after enabling", next(), before, time.Now())
	cs := claimMonitors(t, s, "owner", time.Now().Add(time.Minute), time.Minute, 10)
	if len(cs) != 1 || readCount(t, cs[0].Record.State) != 1 {
		t.Fatalf("after enabling: claimed %d monitors; want the monitor with its state", len(cs))
	}

	// Disabled while held: the save keeps the state and the monitor stays
	// off the schedule.
	m.Disabled = true
	updateMonitor(t, s, m)
	if r := monitorState(t, s, m.ID); r.LeaseOwner != "owner" || !r.NextEvalAt.IsZero() {
		t.Errorf("disabled while held: lease %q, NextEvalAt %v; want the lease kept and no NextEvalAt", r.LeaseOwner, r.NextEvalAt)
	}
	saveEvaluation(t, s, "owner", m.ID, m.CreatedAt.Add(time.Hour), countState(2), far)
	r := monitorState(t, s, m.ID)
	if readCount(t, r.State) != 2 || !r.NextEvalAt.IsZero() || r.LeaseOwner != "" {
		t.Errorf("saved while disabled: state %s, NextEvalAt %v, lease %q; want the new state, no NextEvalAt and no lease", r.State, r.NextEvalAt, r.LeaseOwner)
	}
	if cs := claimMonitors(t, s, "owner", far, time.Minute, 10); len(cs) != 0 {
		t.Errorf("claimed a monitor disabled during its evaluation: %q", claimedMonitorIDs(cs))
	}
}

func testDeleteMonitor(t *testing.T, s MonitorStore) {
	a := createMonitor(t, s, NewMonitor("Doomed"))
	b := createMonitor(t, s, NewMonitor("Survivor"))
	if cs := claimMonitors(t, s, "owner", b.CreatedAt, time.Minute, 10); len(cs) != 2 {
		t.Fatalf("claimed %d monitors; want 2", len(cs))
	}
	if err := s.DeleteMonitor(t.Context(), a.ID); err != nil {
		t.Fatalf("DeleteMonitor: %v", err)
	}
	_, err := s.Monitor(t.Context(), a.ID)
	wantCode(t, err, hookline.ENOTFOUND, "Monitor after delete")
	_, err = s.MonitorState(t.Context(), a.ID)
	wantCode(t, err, hookline.ENOTFOUND, "MonitorState after delete")
	// The evaluation in flight cannot be saved.
	err = s.SaveEvaluation(t.Context(), "owner", a.ID, time.Now(), countState(1), time.Now())
	wantCode(t, err, hookline.ENOTFOUND, "SaveEvaluation after delete")
	wantCode(t, s.DeleteMonitor(t.Context(), a.ID), hookline.ENOTFOUND, "second DeleteMonitor")
	u := *a
	wantCode(t, s.UpdateMonitor(t.Context(), &u), hookline.ENOTFOUND, "UpdateMonitor after delete")

	if diff := cmp.Diff([]*hookline.Monitor{b}, listMonitors(t, s, 0), equal); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	if cs := claimMonitors(t, s, "other", far, time.Minute, 10); len(cs) != 1 || cs[0].Monitor.ID != b.ID {
		t.Errorf("claim after delete took %q; want only %s", claimedMonitorIDs(cs), b.ID)
	}
	// The name may be used again, with a new ID and a new state.
	c := createMonitor(t, s, NewMonitor("doomed"))
	if c.ID == a.ID {
		t.Errorf("a new monitor reused the deleted ID %s", a.ID)
	}
	if r := monitorState(t, s, c.ID); r.State != nil || !r.NextEvalAt.Equal(c.CreatedAt) {
		t.Errorf("new monitor's state: %+v; want none, due at creation", r)
	}
}

func testMonitorsOrderAndPaging(t *testing.T, s MonitorStore) {
	empty, next, err := s.Monitors(t.Context(), hookline.ListOptions{Limit: 1})
	if err != nil || len(empty) != 0 || next != "" {
		t.Errorf("Monitors of an empty store = %d, %q, %v; want none", len(empty), next, err)
	}
	// Created out of order; listed by lower-cased name in code point order.
	byName := map[string]*hookline.Monitor{}
	for _, name := range []string{"gamma", "Ärger", "Alpha", "beta", "_x", "Zulu", "alpha 2", "Beta 10", "Beta 9", "ärgerlich"} {
		byName[name] = createMonitor(t, s, NewMonitor(name))
	}
	want := []string{"_x", "Alpha", "alpha 2", "beta", "Beta 10", "Beta 9", "gamma", "Zulu", "Ärger", "ärgerlich"}
	for _, limit := range []int{0, 1, 3, 10, 11} {
		if got := monitorNames(listMonitors(t, s, limit)); !slices.Equal(got, want) {
			t.Errorf("pages of %d: order %q; want %q", limit, got, want)
		}
	}
	// Pages continue after the last name seen, whatever changed between.
	list, next, err := s.Monitors(t.Context(), hookline.ListOptions{Limit: 3})
	if err != nil || !slices.Equal(monitorNames(list), want[:3]) || next == "" {
		t.Fatalf("first page: %q, %q, %v", monitorNames(list), next, err)
	}
	createMonitor(t, s, NewMonitor("Aa"))
	createMonitor(t, s, NewMonitor("alpha 3"))
	for _, name := range []string{"alpha 2", "beta"} {
		if err := s.DeleteMonitor(t.Context(), byName[name].ID); err != nil {
			t.Fatal(err)
		}
	}
	rest := pageAll(t, "Monitors", func(token string) ([]*hookline.Monitor, string, error) {
		if token == "" {
			token = next
		}
		return s.Monitors(t.Context(), hookline.ListOptions{Limit: 3, Token: token})
	})
	if want := []string{"alpha 3", "Beta 10", "Beta 9", "gamma", "Zulu", "Ärger", "ärgerlich"}; !slices.Equal(monitorNames(rest), want) {
		t.Errorf("pages after the first = %q; want %q", monitorNames(rest), want)
	}
}

func testMonitorsLimits(t *testing.T, s MonitorStore) {
	// Enough monitors to see both the default and the maximum page size.
	for i := range hookline.MaxListLimit + 1 {
		createMonitor(t, s, NewMonitor(fmt.Sprintf("monitor %04d", i)))
	}
	tests := []struct {
		limit, want int
	}{
		{0, hookline.DefaultListLimit},
		{1, 1},
		{hookline.DefaultListLimit + 1, hookline.DefaultListLimit + 1},
		{hookline.MaxListLimit + 1, hookline.MaxListLimit},
		{1 << 30, hookline.MaxListLimit},
	}
	for _, tt := range tests {
		list, next, err := s.Monitors(t.Context(), hookline.ListOptions{Limit: tt.limit})
		if err != nil {
			t.Fatalf("limit %d: %v", tt.limit, err)
		}
		if len(list) != tt.want || next == "" {
			t.Errorf("limit %d: %d monitors, next token %q; want %d and a next token", tt.limit, len(list), next, tt.want)
		}
	}
}

func testMonitorsBadOptions(t *testing.T, s MonitorStore) {
	createMonitor(t, s, NewMonitor("a"))
	createMonitor(t, s, NewMonitor("b"))
	_, token, err := s.Monitors(t.Context(), hookline.ListOptions{Limit: 1})
	if err != nil || token == "" {
		t.Fatalf("first page: token %q, %v", token, err)
	}
	_, _, err = s.Monitors(t.Context(), hookline.ListOptions{Limit: -1})
	wantField(t, err, "limit", "Monitors(limit -1)")
	for _, bad := range []string{"!!!", "not a token", "\x00", token + "!", token[:len(token)/2], strings.Repeat("A", 10000)} {
		list, next, err := s.Monitors(t.Context(), hookline.ListOptions{Token: bad})
		wantField(t, err, "token", fmt.Sprintf("Monitors(token %.20q)", bad))
		if list != nil || next != "" {
			t.Errorf("token %.20q: returned %d monitors and %q with the error", bad, len(list), next)
		}
	}
}

func testMonitorAudit(t *testing.T, s MonitorStore) {
	c := create(t, s, Connection("Lambda"))
	start := time.Now()
	alice := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000A1", Name: "alice@example.com", AccessID: "hk00000000000001"}
	bob := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000B0", Name: "bob@example.com"}
	token := hookline.Actor{Kind: hookline.ActorAdminToken}
	system := hookline.Actor{Kind: hookline.ActorSystem}

	m := NewMonitor("Audited", c.ID)
	if err := s.CreateMonitor(ctxAs(t, alice), m); err != nil {
		t.Fatal(err)
	}
	created := m.AuditView()
	if created.Interval != "1m0s" || len(created.Notifications) != 1 || created.Notifications[0].ConnectionID != c.ID {
		t.Fatalf("the view %+v does not show the monitor", created)
	}
	want := []wantEvent{{alice, "create", hookline.AuditMonitor, m.ID, "Audited", nil, created}}

	u := *m
	u.Name, u.Query, u.Muted = "Audited again", `_sourceCategory=prod/api | count by ip`, true
	u.Notifications, u.GroupFields = nil, nil
	if err := s.UpdateMonitor(ctxAs(t, bob), &u); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{bob, "update", hookline.AuditMonitor, m.ID, "Audited again", created, u.AuditView()})

	// An update that changes nothing is recorded too.
	same := u
	if err := s.UpdateMonitor(t.Context(), &same); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{system, "update", hookline.AuditMonitor, m.ID, "Audited again", u.AuditView(), u.AuditView()})

	// Evaluations are not audited.
	cs := claimMonitors(t, s, "owner", time.Now().Add(time.Minute), time.Minute, 10)
	if len(cs) != 1 {
		t.Fatalf("claimed %d monitors; want 1", len(cs))
	}
	saveEvaluation(t, s, "owner", m.ID, time.Now(), countState(1), time.Now().Add(time.Minute))

	// Failed changes record nothing.
	invalid := u
	invalid.Name = ""
	taken := NewMonitor("AUDITED AGAIN")
	for _, err := range []error{
		s.CreateMonitor(ctxAs(t, alice), taken),
		s.UpdateMonitor(ctxAs(t, alice), &invalid),
		s.DeleteMonitor(ctxAs(t, alice), "00000000000468D5"),
	} {
		if err == nil {
			t.Error("a failing change succeeded")
		}
	}

	if err := s.DeleteMonitor(ctxAs(t, token), m.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{token, "delete", hookline.AuditMonitor, m.ID, "Audited again", u.AuditView(), nil})

	// The connection's creation is the first event; the rest are the
	// monitor's.
	all := allEvents(t, s, hookline.AuditFilter{})
	checkEvents(t, all[:len(all)-1], want, start, time.Now(), nil)
	got := allEvents(t, s, hookline.AuditFilter{TargetType: hookline.AuditMonitor, TargetID: m.ID, ListOptions: hookline.ListOptions{Limit: 1}})
	checkEvents(t, got, want, start, time.Now(), nil)
}

func testClaimDueMonitors(t *testing.T, s MonitorStore) {
	names := []string{"a", "b", "c", "d", "e"}
	ms := map[string]*hookline.Monitor{}
	var created []*hookline.Monitor
	for _, name := range names {
		m := createMonitor(t, s, NewMonitor(name))
		ms[name] = m
		created = append(created, m)
	}
	off := NewMonitor("disabled")
	off.Disabled = true
	createMonitor(t, s, off)
	first, last := ms["a"].CreatedAt, ms["e"].CreatedAt
	const hold = 1000 * time.Hour

	// Not due before their creation.
	if cs := claimMonitors(t, s, "owner", first.Add(-time.Nanosecond), hold, 10); len(cs) != 0 {
		t.Fatalf("claimed %q before any was due", claimedMonitorIDs(cs))
	}
	// Due at their creation, oldest first; the claim carries the monitor
	// and its record with the new lease.
	slices.SortFunc(created, func(a, b *hookline.Monitor) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	cs := claimMonitors(t, s, "owner", last, hold, 10)
	if len(cs) != len(created) {
		t.Fatalf("claimed %d monitors; want %d", len(cs), len(created))
	}
	for i, c := range cs {
		m := created[i]
		if diff := cmp.Diff(m, c.Monitor, equal); diff != "" {
			t.Errorf("claim %d (-want +got):\n%s", i, diff)
		}
		wantRecord := hookline.MonitorStateRecord{MonitorID: m.ID, NextEvalAt: m.CreatedAt, LeaseOwner: "owner", LeaseExpiresAt: last.Add(hold)}
		if diff := cmp.Diff(wantRecord, c.Record); diff != "" {
			t.Errorf("claimed record of %s (-want +got):\n%s", m.Name, diff)
		}
	}

	// Saved with new due times: b and d at +1m (a tie, broken by ID); of
	// a and c, the one with the greater ID at +2m, the other at +3m, so
	// that the most overdue is not the first by ID; e not saved, still
	// held.
	base := last.Add(time.Hour)
	early, late := ms["a"], ms["c"]
	if early.ID < late.ID {
		early, late = late, early
	}
	dues := map[string]time.Time{early.ID: base.Add(2 * time.Minute), late.ID: base.Add(3 * time.Minute),
		ms["b"].ID: base.Add(time.Minute), ms["d"].ID: base.Add(time.Minute)}
	for id, due := range dues {
		saveEvaluation(t, s, "owner", id, base, countState(1), due)
	}
	if cs := claimMonitors(t, s, "other", base.Add(time.Minute-time.Nanosecond), time.Hour, 10); len(cs) != 0 {
		t.Errorf("claimed %q before any was due again", claimedMonitorIDs(cs))
	}
	tie := []string{ms["b"].ID, ms["d"].ID}
	slices.Sort(tie)
	tests := []struct {
		now   time.Time
		limit int
		want  []string
	}{
		{base.Add(time.Minute), 1, tie[:1]},
		{base.Add(time.Minute), 10, tie[1:]},
		{base.Add(10 * time.Minute), 1, []string{early.ID}},
		{base.Add(10 * time.Minute), 10, []string{late.ID}},
	}
	for i, tt := range tests {
		cs := claimMonitors(t, s, "other", tt.now, time.Hour, tt.limit)
		if got := claimedMonitorIDs(cs); !slices.Equal(got, tt.want) {
			t.Errorf("claim %d at +%v, limit %d: %q; want %q", i, tt.now.Sub(base), tt.limit, got, tt.want)
		}
		for _, c := range cs {
			if c.Record.LeaseOwner != "other" || !c.Record.LeaseExpiresAt.Equal(tt.now.Add(time.Hour)) || readCount(t, c.Record.State) != 1 {
				t.Errorf("claimed record %+v; want other's lease until %v and the saved state", c.Record, tt.now.Add(time.Hour))
			}
		}
	}
	// Once every lease has expired, another owner takes them all, most
	// overdue first; the disabled monitor is never claimed.
	cs = claimMonitors(t, s, "third", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 10)
	want := append(append([]string{ms["e"].ID}, tie...), early.ID, late.ID)
	if got := claimedMonitorIDs(cs); !slices.Equal(got, want) {
		t.Errorf("claim far ahead: %q; want %q", got, want)
	}
	// A claim with limit 0 takes nothing.
	if cs, err := s.ClaimDueMonitors(t.Context(), "owner", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 0); err != nil || len(cs) != 0 {
		t.Errorf("ClaimDueMonitors(limit 0) = %d, %v; want none", len(cs), err)
	}
}

func testClaimMonitorLeases(t *testing.T, s MonitorStore) {
	m := createMonitor(t, s, NewMonitor("Leased"))
	at := m.CreatedAt.Add(time.Second)
	const lease = 30 * time.Second
	saveAs := func(owner string, n int) error {
		return s.SaveEvaluation(t.Context(), owner, m.ID, at, countState(n), at.Add(time.Minute))
	}

	a := claimMonitors(t, s, "A", at, lease, 10)
	if len(a) != 1 {
		t.Fatalf("A claimed %d monitors; want 1", len(a))
	}
	// Held: neither another owner nor A itself takes it before the lease
	// expires.
	for _, c := range []struct {
		owner string
		now   time.Time
	}{{"B", at}, {"A", at.Add(10 * time.Second)}, {"B", at.Add(lease - time.Nanosecond)}} {
		if cs := claimMonitors(t, s, c.owner, c.now, lease, 10); len(cs) != 0 {
			t.Errorf("%s took a held monitor at +%v", c.owner, c.now.Sub(at))
		}
	}
	// At expiry B takes it, with the state and window A had: A's
	// evaluation never happened as far as the store knows.
	b := claimMonitors(t, s, "B", at.Add(lease), lease, 10)
	if len(b) != 1 {
		t.Fatalf("B claimed %d monitors at the lease's expiry; want 1", len(b))
	}
	if b[0].Record.State != nil || !b[0].Record.WindowEnd.IsZero() || !b[0].Record.NextEvalAt.Equal(a[0].Record.NextEvalAt) {
		t.Errorf("B's record %+v; want A's evaluation not to have happened (%+v)", b[0].Record, a[0].Record)
	}
	// A's late save is refused and changes nothing.
	before := monitorState(t, s, m.ID)
	wantCode(t, saveAs("A", 1), hookline.ECONFLICT, "A's save after B claimed")
	if diff := cmp.Diff(before, monitorState(t, s, m.ID)); diff != "" {
		t.Errorf("a refused save changed the record (-want +got):\n%s", diff)
	}
	if before.LeaseOwner != "B" || !before.LeaseExpiresAt.Equal(at.Add(2*lease)) {
		t.Errorf("record after B's claim: lease %q until %v; want B's until %v", before.LeaseOwner, before.LeaseExpiresAt, at.Add(2*lease))
	}
	// B's save goes through and releases the lease; a second save is
	// refused, as is anyone's save of a monitor no one holds.
	if err := saveAs("B", 2); err != nil {
		t.Fatalf("B's save: %v", err)
	}
	r := monitorState(t, s, m.ID)
	if r.LeaseOwner != "" || !r.LeaseExpiresAt.IsZero() || readCount(t, r.State) != 2 || !r.WindowEnd.Equal(at) || !r.NextEvalAt.Equal(at.Add(time.Minute)) {
		t.Errorf("record after B's save: %+v", r)
	}
	wantCode(t, saveAs("B", 3), hookline.ECONFLICT, "B's second save")
	wantCode(t, saveAs("A", 3), hookline.ECONFLICT, "A's save of a monitor no one holds")
	never := createMonitor(t, s, NewMonitor("Never claimed"))
	err := s.SaveEvaluation(t.Context(), "A", never.ID, at, countState(1), at.Add(time.Minute))
	wantCode(t, err, hookline.ECONFLICT, "save of a monitor never claimed")

	// A lease that expired with no one taking over still lets its owner
	// save: its evaluation is the only one.
	cs := claimMonitors(t, s, "A", at.Add(time.Hour), time.Second, 10)
	if len(cs) != 2 {
		t.Fatalf("A claimed %d monitors; want 2", len(cs))
	}
	for _, c := range cs {
		if err := s.SaveEvaluation(t.Context(), "A", c.Monitor.ID, at.Add(time.Hour), countState(9), at.Add(2*time.Hour)); err != nil {
			t.Errorf("save after an expired lease no one took: %v", err)
		}
	}
}

func testClaimMonitorsBadArguments(t *testing.T, s MonitorStore) {
	createMonitor(t, s, NewMonitor("m"))
	now := time.Now().Add(time.Minute)
	tests := []struct {
		name  string
		owner string
		now   time.Time
		lease time.Duration
		limit int
		field string
	}{
		{"no owner", "", now, time.Minute, 10, "owner"},
		{"zero now", "owner", time.Time{}, time.Minute, 10, "now"},
		{"zero lease", "owner", now, 0, 10, "lease"},
		{"negative lease", "owner", now, -time.Second, 10, "lease"},
		{"negative limit", "owner", now, time.Minute, -1, "limit"},
	}
	for _, tt := range tests {
		cs, err := s.ClaimDueMonitors(t.Context(), tt.owner, tt.now, tt.lease, tt.limit)
		wantField(t, err, tt.field, "ClaimDueMonitors "+tt.name)
		if cs != nil {
			t.Errorf("%s: claimed %d with the error", tt.name, len(cs))
		}
	}
	// Nothing was claimed by the failed calls; times past what a store can
	// show are held at its bounds.
	cs := claimMonitors(t, s, "owner", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1<<62, 10)
	if len(cs) != 1 {
		t.Fatalf("claim far ahead took %d monitors; want 1", len(cs))
	}
	if cs := claimMonitors(t, s, "other", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute, 10); len(cs) != 0 {
		t.Errorf("a lease held to the end of time was taken")
	}
}

func testSaveEvaluation(t *testing.T, s MonitorStore) {
	m := createMonitor(t, s, NewMonitor("Saved"))
	// The scheduler's state: monitor.State's JSON, kept byte for byte.
	since := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	state := monitor.State{Alerts: map[string]monitor.Active{
		`["203.0.113.7"]`: {TriggerType: hookline.TriggerCritical, Group: map[string]string{"ip": "203.0.113.7"}, Since: since,
			Condition: "_count is Greater than 100.0 in the last 5 minutes", Notified: true},
		"": {TriggerType: hookline.TriggerMissingData, Since: since.Add(time.Minute), Condition: "No data in the last 5 minutes"},
	}}
	b, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	raw := json.RawMessage(" " + string(b) + "\n") // whitespace too is kept
	cet := time.FixedZone("CET", 3600)
	windowEnd := time.Date(2026, 11, 26, 11, 5, 0, 987654321, cet)
	nextEval := windowEnd.Add(time.Minute)

	claimMonitors(t, s, "owner", m.CreatedAt, time.Minute, 1)
	saveEvaluation(t, s, "owner", m.ID, windowEnd, raw, nextEval)
	want := &hookline.MonitorStateRecord{MonitorID: m.ID, State: raw, WindowEnd: windowEnd.UTC(), NextEvalAt: nextEval.UTC()}
	got := monitorState(t, s, m.ID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MonitorState after save (-want +got):\n%s", diff)
	}
	if got.WindowEnd.Location() != time.UTC || got.NextEvalAt.Location() != time.UTC {
		t.Errorf("times %v, %v are not in UTC", got.WindowEnd, got.NextEvalAt)
	}
	var back monitor.State
	if err := json.Unmarshal(got.State, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(state, back); diff != "" {
		t.Errorf("state after a round trip (-want +got):\n%s", diff)
	}

	// The next claim hands the same back, due at nextEval.
	if cs := claimMonitors(t, s, "owner", nextEval.Add(-time.Nanosecond), time.Minute, 1); len(cs) != 0 {
		t.Fatalf("claimed before nextEvalAt")
	}
	cs := claimMonitors(t, s, "owner", nextEval, time.Minute, 1)
	if len(cs) != 1 || string(cs[0].Record.State) != string(raw) || !cs[0].Record.WindowEnd.Equal(windowEnd) {
		t.Fatalf("claim after save: %+v; want the saved state and window", cs)
	}
	// No state and no window: both cleared.
	saveEvaluation(t, s, "owner", m.ID, time.Time{}, nil, nextEval.Add(time.Minute))
	if r := monitorState(t, s, m.ID); r.State != nil || !r.WindowEnd.IsZero() {
		t.Errorf("after saving none: state %s, window end %v; want none", r.State, r.WindowEnd)
	}
}

func testSaveEvaluationInvalid(t *testing.T, s MonitorStore) {
	m := createMonitor(t, s, NewMonitor("Held"))
	claimMonitors(t, s, "owner", m.CreatedAt, time.Minute, 1)
	held := monitorState(t, s, m.ID)
	now := time.Now()
	tests := []struct {
		name       string
		owner      string
		windowEnd  time.Time
		state      json.RawMessage
		nextEvalAt time.Time
		field      string
	}{
		{"no owner", "", now, nil, now, "owner"},
		{"state not JSON", "owner", now, json.RawMessage(`{"alerts":`), now, "state"},
		{"state two values", "owner", now, json.RawMessage(`{} {}`), now, "state"},
		{"no next evaluation", "owner", now, nil, time.Time{}, "nextEvalAt"},
		{"next evaluation out of range", "owner", now, nil, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), "nextEvalAt"},
		{"window end out of range", "owner", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), nil, now, "windowEnd"},
	}
	for _, tt := range tests {
		err := s.SaveEvaluation(t.Context(), tt.owner, m.ID, tt.windowEnd, tt.state, tt.nextEvalAt)
		wantField(t, err, tt.field, "SaveEvaluation "+tt.name)
	}
	if diff := cmp.Diff(held, monitorState(t, s, m.ID)); diff != "" {
		t.Errorf("invalid saves changed the record (-want +got):\n%s", diff)
	}
}

// testConcurrentMonitorClaimers claims at the same instant from several
// owners at once: every due monitor is taken by exactly one.
func testConcurrentMonitorClaimers(t *testing.T, s MonitorStore) {
	const monitors, owners = 24, 4
	var last time.Time
	for i := range monitors {
		last = createMonitor(t, s, NewMonitor(fmt.Sprintf("m%02d", i))).CreatedAt
	}
	var (
		mu    sync.Mutex
		taken = map[string][]string{} // monitor → owners
		wg    sync.WaitGroup
	)
	for o := range owners {
		wg.Go(func() {
			owner := fmt.Sprintf("owner-%d", o)
			for range monitors { // claims of 5 until none is left
				cs, err := s.ClaimDueMonitors(t.Context(), owner, last, time.Minute, 5)
				if err != nil {
					t.Errorf("%s: %v", owner, err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					taken[c.Monitor.ID] = append(taken[c.Monitor.ID], owner)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(taken) != monitors {
		t.Errorf("%d monitors claimed; want all %d", len(taken), monitors)
	}
	for id, by := range taken {
		if len(by) != 1 {
			t.Errorf("monitor %s claimed by %q; want one owner", id, by)
		}
	}
}

// testMonitorOwnersTakingTurns runs two schedulers in lockstep over ten
// simulated minutes, claiming at the same instants: each monitor is
// evaluated once per interval, every window once, and each evaluation
// starts from the state the previous one saved.
func testMonitorOwnersTakingTurns(t *testing.T, s MonitorStore) {
	const (
		monitors = 8
		tick     = 20 * time.Second
		ticks    = 30
		interval = time.Minute
		lease    = 45 * time.Second
	)
	first := map[string]time.Time{} // monitor → its first due time
	var start time.Time
	for i := range monitors {
		m := createMonitor(t, s, NewMonitor(fmt.Sprintf("m%d", i)))
		first[m.ID], start = m.CreatedAt, m.CreatedAt
	}
	type window struct {
		id  string
		end time.Time
	}
	var (
		mu        sync.Mutex
		evaluated = map[window]int{}
	)
	for k := range ticks {
		now := start.Add(time.Duration(k) * tick)
		var wg sync.WaitGroup
		for _, owner := range []string{"A", "B"} {
			wg.Go(func() {
				cs, err := s.ClaimDueMonitors(t.Context(), owner, now, lease, 100)
				if err != nil {
					t.Errorf("%s at tick %d: %v", owner, k, err)
					return
				}
				for _, c := range cs {
					end := c.Record.NextEvalAt // the window ending when it fell due
					n := readCount(t, c.Record.State)
					mu.Lock()
					evaluated[window{c.Monitor.ID, end}]++
					mu.Unlock()
					if err := s.SaveEvaluation(t.Context(), owner, c.Monitor.ID, end, countState(n+1), end.Add(interval)); err != nil {
						t.Errorf("%s saving %s at tick %d: %v", owner, c.Monitor.Name, k, err)
					}
				}
			})
		}
		wg.Wait()
	}
	end := start.Add((ticks - 1) * tick)
	for id, due := range first {
		var n int
		for at := due; !at.After(end); at = at.Add(interval) {
			n++
			if got := evaluated[window{id, at}]; got != 1 {
				t.Errorf("monitor %s, window ending %v: evaluated %d times; want once", id, at, got)
			}
		}
		r := monitorState(t, s, id)
		if got := readCount(t, r.State); got != n {
			t.Errorf("monitor %s: state counts %d evaluations; want %d (one per interval, none lost)", id, got, n)
		}
		if r.LeaseOwner != "" {
			t.Errorf("monitor %s still held by %q", id, r.LeaseOwner)
		}
	}
	if len(evaluated) == 0 {
		t.Fatal("nothing was evaluated")
	}
}
