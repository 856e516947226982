package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

// ScheduledSearchStore is what TestScheduledSearchStore needs of a store:
// the search store, the connections its notifications name, and the
// access store for its audit log.
type ScheduledSearchStore interface {
	hookline.ScheduledSearchStore
	hookline.ConnectionStore
	hookline.AccessStore
}

// TestScheduledSearchStore checks that a hookline.ScheduledSearchStore
// keeps the interface's contract and these rules that the interface leaves
// to the engines, as TestMonitorStore does for monitors:
//
//   - IDs are 16 upper-case hex digits chosen by the store; CreatedAt and
//     ModifiedAt are the store's, in UTC; an update keeps CreatedAt and
//     CreatedBy. On success the search passed in holds what was stored,
//     normalized; every field comes back as stored, and nothing returned
//     aliases what was passed in.
//   - Names are unique case-insensitively, Unicode included (ECONFLICT
//     naming "name"); searches are listed by lower-cased name, then ID,
//     with the limit and token rules of connections.
//   - The store normalizes and validates (ScheduledSearch.Validate, the
//     connection's existence, a next time for an enabled search: EINVALID
//     naming each field at once) and stores nothing, and records no audit
//     event, on any error.
//   - Each create, update and delete is one audit event targeting the
//     search, made by hookline.ActorFrom(ctx), with
//     hookline.ScheduledSearchAudit views; claims and runs are not audited.
//   - A search is due at the next time it was created or last updated
//     with, a disabled one never. An update keeps the last run and the
//     lease.
//   - ClaimDueSearches takes, most overdue first (NextRunAt, then ID), what
//     is due at now and held by no one, leasing it until now+lease; the
//     owner's own unexpired leases are not taken again. Concurrent claimers
//     never share a search.
//   - SaveSearchRun keeps the run (times to the nanosecond, in UTC; a zero
//     run keeps the last), releases the lease, and is refused (ECONFLICT,
//     nothing changed) to anyone but the holder — who may save after the
//     lease expired until another owner claims. A search deleted during a
//     run cannot be saved (ENOTFOUND).
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store that t's cleanup closes.
func TestScheduledSearchStore(t *testing.T, open func(t *testing.T) ScheduledSearchStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *searchEnv)
	}{
		{"CreateAndGet", testSearchCreateAndGet},
		{"Normalize", testSearchNormalize},
		{"RoundTrip", testSearchRoundTrip},
		{"NoAliasing", testSearchNoAliasing},
		{"Validation", testSearchValidation},
		{"NameConflict", testSearchNameConflict},
		{"NotFound", testSearchNotFound},
		{"Update", testUpdateSearch},
		{"UpdateSchedule", testUpdateSearchSchedule},
		{"Delete", testDeleteSearch},
		{"ListOrderAndPaging", testSearchesOrderAndPaging},
		{"ListLimits", testSearchesLimits},
		{"ListBadOptions", testSearchesBadOptions},
		{"Audit", testSearchAudit},
		{"ClaimDue", testClaimDueSearches},
		{"ClaimLeases", testClaimSearchLeases},
		{"ClaimBadArguments", testClaimSearchesBadArguments},
		{"SaveRun", testSaveSearchRun},
		{"SaveRunInvalid", testSaveSearchRunInvalid},
		{"ConcurrentClaimers", testConcurrentSearchClaimers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			e := &searchEnv{t: t, s: s, conn: create(t, s, Connection("Search target")).ID}
			tt.fn(t, e)
		})
	}
}

// NewScheduledSearch returns a valid, normalized scheduled search named
// name that uses every field, notifying connectionID: the reference's top
// talkers search, itemized.
func NewScheduledSearch(name, connectionID string) *hookline.ScheduledSearch {
	return &hookline.ScheduledSearch{
		Name:           name,
		Description:    "Addresses with the most requests (" + name + ").",
		Query:          `_sourceCategory=nginx | parse "from *" as ip | count by ip`,
		ScheduleType:   hookline.Schedule15Minutes,
		CronExpression: "*/15 * * * *",
		TimeZone:       "Europe/Berlin",
		TimeRange:      15 * time.Minute,
		Threshold:      &hookline.SearchThreshold{Operator: hookline.ThresholdGT, Count: 0},
		Notification: hookline.SearchNotification{
			ConnectionID:      connectionID,
			Payload:           `{"ip": "{{ResultsJson.ip}}", "search": "{{SearchName}}"}`,
			ItemizeAlerts:     true,
			MaxItemizedAlerts: 10,
		},
		CreatedBy:  "alice",
		ModifiedBy: "alice",
	}
}

// searchDue is the next time the suite's searches are created with: a
// quarter hour, as their schedule says, in the past so that a claim at
// the present takes them.
var searchDue = Base.Add(15 * time.Minute)

type searchEnv struct {
	t    *testing.T
	s    ScheduledSearchStore
	conn string // a connection's ID
}

// search returns NewScheduledSearch(name) notifying the env's connection.
func (e *searchEnv) search(name string) *hookline.ScheduledSearch {
	return NewScheduledSearch(name, e.conn)
}

func (e *searchEnv) create(s *hookline.ScheduledSearch, next time.Time) *hookline.ScheduledSearch {
	e.t.Helper()
	if err := e.s.CreateScheduledSearch(e.t.Context(), s, next); err != nil {
		e.t.Fatalf("CreateScheduledSearch(%q): %v", s.Name, err)
	}
	return s
}

func (e *searchEnv) get(id string) *hookline.ScheduledSearch {
	e.t.Helper()
	s, err := e.s.ScheduledSearch(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("ScheduledSearch(%s): %v", id, err)
	}
	return s
}

func (e *searchEnv) update(s *hookline.ScheduledSearch, next time.Time) {
	e.t.Helper()
	if err := e.s.UpdateScheduledSearch(e.t.Context(), s, next); err != nil {
		e.t.Fatalf("UpdateScheduledSearch(%s): %v", s.ID, err)
	}
}

func (e *searchEnv) state(id string) *hookline.SearchStateRecord {
	e.t.Helper()
	r, err := e.s.SearchState(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("SearchState(%s): %v", id, err)
	}
	return r
}

func (e *searchEnv) list(limit int) []*hookline.ScheduledSearch {
	e.t.Helper()
	return pageAll(e.t, "ScheduledSearches", func(token string) ([]*hookline.ScheduledSearch, string, error) {
		return e.s.ScheduledSearches(e.t.Context(), hookline.ListOptions{Limit: limit, Token: token})
	})
}

func (e *searchEnv) claim(owner string, now time.Time, lease time.Duration, limit int) []*hookline.ClaimedSearch {
	e.t.Helper()
	cs, err := e.s.ClaimDueSearches(e.t.Context(), owner, now, lease, limit)
	if err != nil {
		e.t.Fatalf("ClaimDueSearches(%s, %v): %v", owner, now, err)
	}
	return cs
}

func (e *searchEnv) save(owner, id string, run hookline.SearchRun, next time.Time) {
	e.t.Helper()
	if err := e.s.SaveSearchRun(e.t.Context(), owner, id, run, next); err != nil {
		e.t.Fatalf("SaveSearchRun(%s, %s): %v", owner, id, err)
	}
}

func searchNames(ss []*hookline.ScheduledSearch) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func claimedSearchIDs(cs []*hookline.ClaimedSearch) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Search.ID
	}
	return out
}

// searchRun is a completed run scheduled at at that found n results and sent one
// alert each.
func searchRun(at time.Time, n int) hookline.SearchRun {
	return hookline.SearchRun{ScheduledAt: at, Results: n, Alerts: n}
}

func testSearchCreateAndGet(t *testing.T, e *searchEnv) {
	s := e.search("Top talkers")
	// The ID and times are the store's; ModifiedBy defaults to CreatedBy.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	s.ID, s.CreatedAt, s.ModifiedAt, s.ModifiedBy = "00000000000468D5", old, old, ""
	want := *s
	before := time.Now()
	e.create(s, searchDue)
	after := time.Now()

	if !idForm.MatchString(s.ID) || s.ID == "00000000000468D5" {
		t.Errorf("ID = %q; want 16 upper-case hex digits chosen by the store", s.ID)
	}
	checkStoreTime(t, "CreatedAt", s.CreatedAt, before, after)
	if !s.ModifiedAt.Equal(s.CreatedAt) {
		t.Errorf("new search: ModifiedAt %v differs from CreatedAt %v", s.ModifiedAt, s.CreatedAt)
	}
	want.ID, want.CreatedAt, want.ModifiedAt, want.ModifiedBy = s.ID, s.CreatedAt, s.ModifiedAt, "alice"
	if diff := cmp.Diff(&want, s, equal); diff != "" {
		t.Errorf("CreateScheduledSearch changed more than ID, times and ModifiedBy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(s, e.get(s.ID), equal); diff != "" {
		t.Errorf("ScheduledSearch(%s) differs from what was created (-want +got):\n%s", s.ID, diff)
	}

	// A new search is due at the time given, with no run and no lease.
	wantRecord := &hookline.SearchStateRecord{SearchID: s.ID, NextRunAt: searchDue}
	if diff := cmp.Diff(wantRecord, e.state(s.ID)); diff != "" {
		t.Errorf("SearchState of a new search (-want +got):\n%s", diff)
	}
	// A disabled one is not due at all, whatever time is given.
	d := e.search("Disabled")
	d.Disabled = true
	e.create(d, searchDue)
	if diff := cmp.Diff(&hookline.SearchStateRecord{SearchID: d.ID}, e.state(d.ID)); diff != "" {
		t.Errorf("SearchState of a new disabled search (-want +got):\n%s", diff)
	}
	z := e.search("Disabled, no next time")
	z.Disabled = true
	e.create(z, time.Time{})
	if d.ID == s.ID || z.ID == s.ID || z.ID == d.ID {
		t.Errorf("searches share IDs: %s, %s, %s", s.ID, d.ID, z.ID)
	}
	list, next, err := e.s.ScheduledSearches(t.Context(), hookline.ListOptions{})
	if err != nil || next != "" {
		t.Fatalf("ScheduledSearches: next %q, %v", next, err)
	}
	if diff := cmp.Diff([]*hookline.ScheduledSearch{d, z, s}, list, equal); diff != "" {
		t.Errorf("ScheduledSearches differs from what was created (-want +got):\n%s", diff)
	}
}

func testSearchNormalize(t *testing.T, e *searchEnv) {
	tests := []struct {
		name       string
		edit, want func(s *hookline.ScheduledSearch)
	}{
		{"cron of a fixed type", func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression = hookline.Schedule1Week, ""
		}, func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression = hookline.Schedule1Week, "0 0 * * 1"
		}},
		{"time zone", func(s *hookline.ScheduledSearch) { s.TimeZone = "" }, func(s *hookline.ScheduledSearch) { s.TimeZone = "UTC" }},
		{"most itemized alerts", func(s *hookline.ScheduledSearch) { s.Notification.MaxItemizedAlerts = 0 },
			func(s *hookline.ScheduledSearch) { s.Notification.MaxItemizedAlerts = hookline.MaxItemizedAlerts }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.search("Normalized " + tt.name)
			tt.edit(s)
			e.create(s, searchDue)
			want := e.search(s.Name)
			tt.want(want)
			want.ID, want.CreatedAt, want.ModifiedAt = s.ID, s.CreatedAt, s.ModifiedAt
			if diff := cmp.Diff(want, s, equal); diff != "" {
				t.Errorf("the created search is not the normalized one (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, e.get(s.ID), equal); diff != "" {
				t.Errorf("the stored search is not the normalized one (-want +got):\n%s", diff)
			}
			// An update normalizes too.
			u := e.search(s.Name)
			u.ID = s.ID
			tt.edit(u)
			e.update(u, searchDue)
			want.ModifiedAt = u.ModifiedAt
			if diff := cmp.Diff(want, e.get(s.ID), equal); diff != "" {
				t.Errorf("the updated search is not the normalized one (-want +got):\n%s", diff)
			}
		})
	}
}

func testSearchRoundTrip(t *testing.T, e *searchEnv) {
	other := create(t, e.s, Connection("Other target")).ID
	tests := []struct {
		name string
		edit func(s *hookline.ScheduledSearch)
	}{
		{"minimal", func(s *hookline.ScheduledSearch) {
			s.Description, s.CreatedBy, s.ModifiedBy, s.Threshold = "", "", "", nil
			s.Notification = hookline.SearchNotification{ConnectionID: s.Notification.ConnectionID}
		}},
		{"thresholds", func(s *hookline.ScheduledSearch) {
			s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdLE, Count: 1 << 40}
		}},
		{"equal to zero", func(s *hookline.ScheduledSearch) {
			s.Threshold = &hookline.SearchThreshold{Operator: hookline.ThresholdEQ}
		}},
		{"custom schedule", func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression, s.TimeZone = hookline.ScheduleCustom, "30 8 * * 1-5", "America/Chicago"
			s.TimeRange = hookline.MaxSearchTimeRange
		}},
		{"every fixed type", func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression, s.TimeZone = hookline.Schedule12Hours, "0 */12 * * *", "UTC"
			s.TimeRange = hookline.MinSearchTimeRange
		}},
		{"long and odd text", func(s *hookline.ScheduledSearch) {
			s.Name = "Ärger ✓ \"quoted\" \\ 秘密"
			s.Description = strings.Repeat("d", hookline.MaxDescriptionLen)
			q := "_sourceCategory=prod/web\n| where msg = \"a\\\"b\" // ✓\n| count by ip"
			s.Query = q + strings.Repeat(" ", hookline.MaxMonitorQueryLen-utf8.RuneCountInString(q))
			s.Notification.Payload = strings.Repeat("x", hookline.MaxDefaultPayloadLen)
		}},
		{"most itemized", func(s *hookline.ScheduledSearch) {
			s.Notification.MaxItemizedAlerts = hookline.MaxItemizedAlerts
		}},
		{"disabled, other connection", func(s *hookline.ScheduledSearch) {
			s.Disabled, s.Notification.ConnectionID = true, other
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.search("Round trip " + tt.name)
			tt.edit(s)
			want := *s
			e.create(s, searchDue)
			want.ID, want.CreatedAt, want.ModifiedAt, want.ModifiedBy = s.ID, s.CreatedAt, s.ModifiedAt, s.ModifiedBy
			if diff := cmp.Diff(&want, e.get(s.ID), equal); diff != "" {
				t.Errorf("ScheduledSearch after create (-want +got):\n%s", diff)
			}
			u := e.search("Updated " + tt.name)
			tt.edit(u)
			u.ID = s.ID
			e.update(u, searchDue)
			if diff := cmp.Diff(u, e.get(s.ID), equal); diff != "" {
				t.Errorf("ScheduledSearch after update (-want +got):\n%s", diff)
			}
			for _, l := range e.list(0) {
				if l.ID == s.ID {
					if diff := cmp.Diff(u, l, equal); diff != "" {
						t.Errorf("ScheduledSearches after update (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}

func testSearchNoAliasing(t *testing.T, e *searchEnv) {
	s := e.create(e.search("Aliasing"), searchDue)
	want := *e.get(s.ID)

	// Changing what was passed in changes nothing stored.
	s.Threshold.Count = 99
	// Nor does changing what was returned.
	e.get(s.ID).Threshold.Operator = hookline.ThresholdLT
	e.list(0)[0].Threshold.Count = 7
	cs := e.claim("owner", searchDue, time.Minute, 10)
	if len(cs) != 1 {
		t.Fatalf("claimed %d searches; want 1", len(cs))
	}
	cs[0].Search.Threshold.Count = 5

	if diff := cmp.Diff(&want, e.get(s.ID), equal); diff != "" {
		t.Errorf("stored search changed through an alias (-want +got):\n%s", diff)
	}

	// A search passed to an update is not kept either.
	u := e.search("Aliasing")
	u.ID = s.ID
	e.update(u, searchDue)
	stored := *e.get(s.ID)
	u.Threshold.Count = 42
	if diff := cmp.Diff(&stored, e.get(s.ID), equal); diff != "" {
		t.Errorf("stored search changed through the updated one (-want +got):\n%s", diff)
	}
}

func testSearchValidation(t *testing.T, e *searchEnv) {
	tests := []struct {
		name   string
		edit   func(s *hookline.ScheduledSearch)
		next   time.Time
		fields []string
	}{
		{"no name", func(s *hookline.ScheduledSearch) { s.Name = "" }, searchDue, []string{"name"}},
		{"blank name", func(s *hookline.ScheduledSearch) { s.Name = "  " }, searchDue, []string{"name"}},
		{"no query", func(s *hookline.ScheduledSearch) { s.Query = "" }, searchDue, []string{"query"}},
		{"unknown schedule type", func(s *hookline.ScheduledSearch) { s.ScheduleType = "RealTime" }, searchDue, []string{"scheduleType"}},
		{"custom without cron", func(s *hookline.ScheduledSearch) {
			s.ScheduleType, s.CronExpression = hookline.ScheduleCustom, ""
		}, searchDue, []string{"cronExpression"}},
		{"cron against the type", func(s *hookline.ScheduledSearch) { s.CronExpression = "0 * * * *" }, searchDue, []string{"cronExpression"}},
		{"unknown time zone", func(s *hookline.ScheduledSearch) { s.TimeZone = "Mars/Olympus_Mons" }, searchDue, []string{"timeZone"}},
		{"time range too short", func(s *hookline.ScheduledSearch) { s.TimeRange = 30 * time.Second }, searchDue, []string{"timeRange"}},
		{"time range too long", func(s *hookline.ScheduledSearch) { s.TimeRange = hookline.MaxSearchTimeRange + time.Minute }, searchDue, []string{"timeRange"}},
		{"bad operator", func(s *hookline.ScheduledSearch) { s.Threshold.Operator = "above" }, searchDue, []string{"threshold.operator"}},
		{"negative count", func(s *hookline.ScheduledSearch) { s.Threshold.Count = -1 }, searchDue, []string{"threshold.count"}},
		{"no connection", func(s *hookline.ScheduledSearch) { s.Notification.ConnectionID = "" }, searchDue, []string{"notification.connectionId"}},
		{"unknown connection", func(s *hookline.ScheduledSearch) { s.Notification.ConnectionID = "00000000000468D5" }, searchDue,
			[]string{"notification.connectionId"}},
		{"too many itemized", func(s *hookline.ScheduledSearch) { s.Notification.MaxItemizedAlerts = hookline.MaxItemizedAlerts + 1 }, searchDue,
			[]string{"notification.maxItemizedAlerts"}},
		{"itemized count without itemizing", func(s *hookline.ScheduledSearch) { s.Notification.ItemizeAlerts = false }, searchDue,
			[]string{"notification.maxItemizedAlerts"}},
		{"never fires", func(s *hookline.ScheduledSearch) {}, time.Time{}, []string{"cronExpression"}},
		{"everything at once", func(s *hookline.ScheduledSearch) { s.Name, s.Query = "", "" }, time.Time{},
			[]string{"name", "query", "cronExpression"}},
	}
	existing := e.create(e.search("Valid"), searchDue)
	events := countEvents(t, e.s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.search("Invalid " + tt.name)
			tt.edit(s)
			err := e.s.CreateScheduledSearch(t.Context(), s, tt.next)
			for _, f := range tt.fields {
				wantField(t, err, f, "CreateScheduledSearch")
			}

			u := e.search("Valid")
			tt.edit(u)
			u.ID = existing.ID
			err = e.s.UpdateScheduledSearch(t.Context(), u, tt.next)
			for _, f := range tt.fields {
				wantField(t, err, f, "UpdateScheduledSearch")
			}
		})
	}
	wantCode(t, e.s.CreateScheduledSearch(t.Context(), nil, searchDue), hookline.EINVALID, "CreateScheduledSearch(nil)")
	wantCode(t, e.s.UpdateScheduledSearch(t.Context(), nil, searchDue), hookline.EINVALID, "UpdateScheduledSearch(nil)")
	if got := e.list(0); len(got) != 1 || cmp.Diff(existing, got[0], equal) != "" {
		t.Errorf("after invalid creates and updates the store holds %q; want only the valid search unchanged", searchNames(got))
	}
	if diff := cmp.Diff(&hookline.SearchStateRecord{SearchID: existing.ID, NextRunAt: searchDue}, e.state(existing.ID)); diff != "" {
		t.Errorf("invalid updates changed the schedule (-want +got):\n%s", diff)
	}
	if got := countEvents(t, e.s); got != events {
		t.Errorf("%d audit events after failed changes; want %d", got, events)
	}
}

func testSearchNameConflict(t *testing.T, e *searchEnv) {
	a := e.create(e.search("Top talkers"), searchDue)
	e.create(e.search("Ärger"), searchDue)
	for _, name := range []string{"Top talkers", "top talkers", "TOP TALKERS", "ärger", "ÄRGER"} {
		err := e.s.CreateScheduledSearch(t.Context(), e.search(name), searchDue)
		wantConflict(t, err, "name", fmt.Sprintf("CreateScheduledSearch(%q)", name))
		if want := fmt.Sprintf("a scheduled search named %q already exists", name); hookline.ErrorMessage(err) != want {
			t.Errorf("CreateScheduledSearch(%q): message %q; want %q", name, hookline.ErrorMessage(err), want)
		}
	}
	b := e.create(e.search("Arger"), searchDue)
	for _, name := range []string{"Top talkers", "top Talkers", "ärger"} {
		u := *b
		u.Name = name
		wantConflict(t, e.s.UpdateScheduledSearch(t.Context(), &u, searchDue), "name", fmt.Sprintf("rename Arger to %q", name))
	}
	if diff := cmp.Diff(b, e.get(b.ID), equal); diff != "" {
		t.Errorf("a failed rename changed the search (-want +got):\n%s", diff)
	}
	// A search may keep its name or change only its case; its old name is
	// then free again. Monitors' names are another namespace.
	u := *a
	u.Name = "TOP talkers"
	e.update(&u, searchDue)
	u.Name = "Renamed"
	e.update(&u, searchDue)
	e.create(e.search("top talkers"), searchDue)
	want := []string{"Arger", "Renamed", "top talkers", "Ärger"}
	if got := searchNames(e.list(0)); !slices.Equal(got, want) {
		t.Errorf("store holds %q; want %q", got, want)
	}
}

func testSearchNotFound(t *testing.T, e *searchEnv) {
	e.create(e.search("Existing"), searchDue)
	for _, id := range []string{"00000000000468D5", "", "not-an-id", "'; DROP TABLE scheduled_searches; --"} {
		what := func(call string) string { return fmt.Sprintf("%s(%q)", call, id) }
		_, err := e.s.ScheduledSearch(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, what("ScheduledSearch"))
		if want := fmt.Sprintf("scheduled search %s not found", id); hookline.ErrorMessage(err) != want {
			t.Errorf("ScheduledSearch(%q): message %q; want %q", id, hookline.ErrorMessage(err), want)
		}
		u := e.search("Updated")
		u.ID = id
		wantCode(t, e.s.UpdateScheduledSearch(t.Context(), u, searchDue), hookline.ENOTFOUND, what("UpdateScheduledSearch"))
		wantCode(t, e.s.DeleteScheduledSearch(t.Context(), id), hookline.ENOTFOUND, what("DeleteScheduledSearch"))
		_, err = e.s.SearchState(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, what("SearchState"))
		err = e.s.SaveSearchRun(t.Context(), "owner", id, searchRun(searchDue, 1), searchDue.Add(time.Hour))
		wantCode(t, err, hookline.ENOTFOUND, what("SaveSearchRun"))
	}
	if got := searchNames(e.list(0)); !slices.Equal(got, []string{"Existing"}) {
		t.Errorf("after failed changes the store holds %q; want only %q", got, "Existing")
	}
}

func testUpdateSearch(t *testing.T, e *searchEnv) {
	other := create(t, e.s, Connection("Other target")).ID
	s := e.create(e.search("Before"), searchDue)
	created := *s

	// Run once, then claimed again: the last run and the lease must
	// outlive the edit.
	e.claim("owner", searchDue, time.Minute, 10)
	e.save("owner", s.ID, hookline.SearchRun{ScheduledAt: searchDue, Results: 3, Alerts: 3}, searchDue.Add(15*time.Minute))
	if cs := e.claim("owner", searchDue.Add(15*time.Minute), time.Minute, 10); len(cs) != 1 {
		t.Fatalf("second claim took %d searches; want 1", len(cs))
	}
	held := e.state(s.ID)

	time.Sleep(2 * time.Millisecond) // so that ModifiedAt visibly moves on
	u := &hookline.ScheduledSearch{
		ID:             s.ID,
		Name:           "After",
		Description:    "changed",
		Query:          `_sourceCategory=prod/api error | count by host`,
		ScheduleType:   hookline.ScheduleCustom,
		CronExpression: "0 9 * * *",
		TimeZone:       "Asia/Tokyo",
		TimeRange:      24 * time.Hour,
		Notification:   hookline.SearchNotification{ConnectionID: other},
		// The store keeps the stored creation time and author.
		CreatedAt:  time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		CreatedBy:  "mallory",
		ModifiedBy: "bob",
	}
	want := *u
	next := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) // 09:00 in Tokyo
	e.update(u, next)
	if !u.CreatedAt.Equal(created.CreatedAt) || u.CreatedBy != "alice" {
		t.Errorf("after update CreatedAt, CreatedBy = %v, %q; want the stored %v, %q", u.CreatedAt, u.CreatedBy, created.CreatedAt, "alice")
	}
	checkStoreTime(t, "ModifiedAt", u.ModifiedAt, created.CreatedAt, time.Now())
	if !u.ModifiedAt.After(created.ModifiedAt) {
		t.Errorf("ModifiedAt = %v; want a time after the creation's %v", u.ModifiedAt, created.ModifiedAt)
	}
	want.CreatedAt, want.CreatedBy, want.ModifiedAt = created.CreatedAt, created.CreatedBy, u.ModifiedAt
	if diff := cmp.Diff(&want, u, equal); diff != "" {
		t.Errorf("UpdateScheduledSearch changed more than the times and creator (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(u, e.get(s.ID), equal); diff != "" {
		t.Errorf("ScheduledSearch after update (-want +got):\n%s", diff)
	}
	// The schedule moved to the next time given; the run and lease stay.
	wantRecord := *held
	wantRecord.NextRunAt = next
	if diff := cmp.Diff(&wantRecord, e.state(s.ID)); diff != "" {
		t.Errorf("SearchState after update (-want +got):\n%s", diff)
	}
	if held.LeaseOwner != "owner" || held.LastRun.Results != 3 {
		t.Fatalf("held record %+v; want owner's lease and the first run", held)
	}
	// The holder's save still goes through.
	e.save("owner", s.ID, searchRun(searchDue.Add(15*time.Minute), 0), next)
}

func testUpdateSearchSchedule(t *testing.T, e *searchEnv) {
	s := e.create(e.search("Quarter hourly"), searchDue)
	nextRun := func() time.Time { return e.state(s.ID).NextRunAt }
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

	// An update sets the next time, earlier or later.
	for _, next := range []time.Time{searchDue.Add(time.Hour), searchDue.Add(-time.Hour), searchDue} {
		e.update(s, next)
		if got := nextRun(); !got.Equal(next) {
			t.Errorf("after an update with %v NextRunAt = %v", next, got)
		}
	}
	// Disabling takes it off the schedule, whatever time is given: never
	// claimed.
	s.Disabled = true
	e.update(s, searchDue)
	if got := nextRun(); !got.IsZero() {
		t.Errorf("disabled: NextRunAt = %v; want zero", got)
	}
	if cs := e.claim("owner", far, time.Minute, 10); len(cs) != 0 {
		t.Errorf("claimed a disabled search: %q", claimedSearchIDs(cs))
	}
	// Editing it disabled keeps it off, and needs no next time.
	s.Description = "edited while off"
	e.update(s, time.Time{})
	if got := nextRun(); !got.IsZero() {
		t.Errorf("disabled and edited: NextRunAt = %v; want zero", got)
	}
	// Enabling makes it due at the time given.
	s.Disabled = false
	e.update(s, searchDue.Add(time.Minute))
	if got := nextRun(); !got.Equal(searchDue.Add(time.Minute)) {
		t.Errorf("enabled: NextRunAt = %v; want %v", got, searchDue.Add(time.Minute))
	}
	if cs := e.claim("owner", searchDue, time.Minute, 10); len(cs) != 0 {
		t.Errorf("claimed before the new time: %q", claimedSearchIDs(cs))
	}
	cs := e.claim("owner", searchDue.Add(time.Minute), time.Minute, 10)
	if len(cs) != 1 {
		t.Fatalf("after enabling: claimed %d searches; want 1", len(cs))
	}

	// Disabled while held: the save keeps the run and the search stays off
	// the schedule.
	s.Disabled = true
	e.update(s, searchDue)
	if r := e.state(s.ID); r.LeaseOwner != "owner" || !r.NextRunAt.IsZero() {
		t.Errorf("disabled while held: lease %q, NextRunAt %v; want the lease kept and no NextRunAt", r.LeaseOwner, r.NextRunAt)
	}
	e.save("owner", s.ID, searchRun(searchDue.Add(time.Minute), 4), far)
	r := e.state(s.ID)
	if !cmp.Equal(r.LastRun, searchRun(searchDue.Add(time.Minute), 4)) || !r.NextRunAt.IsZero() || r.LeaseOwner != "" || !r.LeaseExpiresAt.IsZero() {
		t.Errorf("saved while disabled: %+v; want the run, no NextRunAt and no lease", r)
	}
	if cs := e.claim("owner", far, time.Minute, 10); len(cs) != 0 {
		t.Errorf("claimed a search disabled during its run: %q", claimedSearchIDs(cs))
	}
}

func testDeleteSearch(t *testing.T, e *searchEnv) {
	a := e.create(e.search("Doomed"), searchDue)
	b := e.create(e.search("Survivor"), searchDue)
	if cs := e.claim("owner", searchDue, time.Minute, 10); len(cs) != 2 {
		t.Fatalf("claimed %d searches; want 2", len(cs))
	}
	if err := e.s.DeleteScheduledSearch(t.Context(), a.ID); err != nil {
		t.Fatalf("DeleteScheduledSearch: %v", err)
	}
	_, err := e.s.ScheduledSearch(t.Context(), a.ID)
	wantCode(t, err, hookline.ENOTFOUND, "ScheduledSearch after delete")
	_, err = e.s.SearchState(t.Context(), a.ID)
	wantCode(t, err, hookline.ENOTFOUND, "SearchState after delete")
	// The run in flight cannot be saved.
	err = e.s.SaveSearchRun(t.Context(), "owner", a.ID, searchRun(searchDue, 1), searchDue.Add(time.Hour))
	wantCode(t, err, hookline.ENOTFOUND, "SaveSearchRun after delete")
	wantCode(t, e.s.DeleteScheduledSearch(t.Context(), a.ID), hookline.ENOTFOUND, "second DeleteScheduledSearch")
	u := *a
	wantCode(t, e.s.UpdateScheduledSearch(t.Context(), &u, searchDue), hookline.ENOTFOUND, "UpdateScheduledSearch after delete")

	if diff := cmp.Diff([]*hookline.ScheduledSearch{b}, e.list(0), equal); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	if cs := e.claim("other", far, time.Minute, 10); len(cs) != 1 || cs[0].Search.ID != b.ID {
		t.Errorf("claim after delete took %q; want only %s", claimedSearchIDs(cs), b.ID)
	}
	// The name may be used again, with a new ID and new bookkeeping.
	c := e.create(e.search("doomed"), searchDue.Add(time.Hour))
	if c.ID == a.ID {
		t.Errorf("a new search reused the deleted ID %s", a.ID)
	}
	if diff := cmp.Diff(&hookline.SearchStateRecord{SearchID: c.ID, NextRunAt: searchDue.Add(time.Hour)}, e.state(c.ID)); diff != "" {
		t.Errorf("new search's state (-want +got):\n%s", diff)
	}
}

func testSearchesOrderAndPaging(t *testing.T, e *searchEnv) {
	empty, next, err := e.s.ScheduledSearches(t.Context(), hookline.ListOptions{Limit: 1})
	if err != nil || len(empty) != 0 || next != "" {
		t.Errorf("ScheduledSearches of an empty store = %d, %q, %v; want none", len(empty), next, err)
	}
	// Created out of order; listed by lower-cased name in code point order.
	byName := map[string]*hookline.ScheduledSearch{}
	for _, name := range []string{"gamma", "Ärger", "Alpha", "beta", "_x", "Zulu", "alpha 2", "Beta 10", "Beta 9", "ärgerlich"} {
		byName[name] = e.create(e.search(name), searchDue)
	}
	want := []string{"_x", "Alpha", "alpha 2", "beta", "Beta 10", "Beta 9", "gamma", "Zulu", "Ärger", "ärgerlich"}
	for _, limit := range []int{0, 1, 3, 10, 11} {
		if got := searchNames(e.list(limit)); !slices.Equal(got, want) {
			t.Errorf("pages of %d: order %q; want %q", limit, got, want)
		}
	}
	// Pages continue after the last name seen, whatever changed between.
	list, next, err := e.s.ScheduledSearches(t.Context(), hookline.ListOptions{Limit: 3})
	if err != nil || !slices.Equal(searchNames(list), want[:3]) || next == "" {
		t.Fatalf("first page: %q, %q, %v", searchNames(list), next, err)
	}
	e.create(e.search("Aa"), searchDue)
	e.create(e.search("alpha 3"), searchDue)
	for _, name := range []string{"alpha 2", "beta"} {
		if err := e.s.DeleteScheduledSearch(t.Context(), byName[name].ID); err != nil {
			t.Fatal(err)
		}
	}
	rest := pageAll(t, "ScheduledSearches", func(token string) ([]*hookline.ScheduledSearch, string, error) {
		if token == "" {
			token = next
		}
		return e.s.ScheduledSearches(t.Context(), hookline.ListOptions{Limit: 3, Token: token})
	})
	if want := []string{"alpha 3", "Beta 10", "Beta 9", "gamma", "Zulu", "Ärger", "ärgerlich"}; !slices.Equal(searchNames(rest), want) {
		t.Errorf("pages after the first = %q; want %q", searchNames(rest), want)
	}
}

func testSearchesLimits(t *testing.T, e *searchEnv) {
	// Enough searches to see both the default and the maximum page size.
	for i := range hookline.MaxListLimit + 1 {
		e.create(e.search(fmt.Sprintf("search %04d", i)), searchDue)
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
		list, next, err := e.s.ScheduledSearches(t.Context(), hookline.ListOptions{Limit: tt.limit})
		if err != nil {
			t.Fatalf("limit %d: %v", tt.limit, err)
		}
		if len(list) != tt.want || next == "" {
			t.Errorf("limit %d: %d searches, next token %q; want %d and a next token", tt.limit, len(list), next, tt.want)
		}
	}
}

func testSearchesBadOptions(t *testing.T, e *searchEnv) {
	e.create(e.search("a"), searchDue)
	e.create(e.search("b"), searchDue)
	_, token, err := e.s.ScheduledSearches(t.Context(), hookline.ListOptions{Limit: 1})
	if err != nil || token == "" {
		t.Fatalf("first page: token %q, %v", token, err)
	}
	_, _, err = e.s.ScheduledSearches(t.Context(), hookline.ListOptions{Limit: -1})
	wantField(t, err, "limit", "ScheduledSearches(limit -1)")
	for _, bad := range []string{"!!!", "not a token", "\x00", token + "!", token[:len(token)/2], strings.Repeat("A", 10000)} {
		list, next, err := e.s.ScheduledSearches(t.Context(), hookline.ListOptions{Token: bad})
		wantField(t, err, "token", fmt.Sprintf("ScheduledSearches(token %.20q)", bad))
		if list != nil || next != "" {
			t.Errorf("token %.20q: returned %d searches and %q with the error", bad, len(list), next)
		}
	}
}

func testSearchAudit(t *testing.T, e *searchEnv) {
	start := time.Now()
	alice := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000A1", Name: "alice@example.com", AccessID: "hk00000000000001"}
	bob := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000B0", Name: "bob@example.com"}
	token := hookline.Actor{Kind: hookline.ActorAdminToken}
	system := hookline.Actor{Kind: hookline.ActorSystem}

	s := e.search("Audited")
	s.TimeZone = "" // the view shows what was stored: UTC
	if err := e.s.CreateScheduledSearch(ctxAs(t, alice), s, searchDue); err != nil {
		t.Fatal(err)
	}
	created := s.AuditView()
	if created.TimeRange != "15m0s" || created.TimeZone != "UTC" || created.Notification.ConnectionID != e.conn ||
		created.Threshold == nil || created.Threshold.Operator != hookline.ThresholdGT {
		t.Fatalf("the view %+v does not show the search", created)
	}
	want := []wantEvent{{alice, "create", hookline.AuditScheduledSearch, s.ID, "Audited", nil, created}}

	u := *s
	u.Name, u.Query, u.Threshold, u.Disabled = "Audited again", `_sourceCategory=prod/api | count by ip`, nil, true
	if err := e.s.UpdateScheduledSearch(ctxAs(t, bob), &u, time.Time{}); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{bob, "update", hookline.AuditScheduledSearch, s.ID, "Audited again", created, u.AuditView()})

	// An update that changes nothing is recorded too.
	same := u
	if err := e.s.UpdateScheduledSearch(t.Context(), &same, time.Time{}); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{system, "update", hookline.AuditScheduledSearch, s.ID, "Audited again", u.AuditView(), u.AuditView()})

	// Runs are not audited.
	u.Disabled = false
	if err := e.s.UpdateScheduledSearch(ctxAs(t, bob), &u, searchDue); err != nil {
		t.Fatal(err)
	}
	enabled := u.AuditView()
	want = append(want, wantEvent{bob, "update", hookline.AuditScheduledSearch, s.ID, "Audited again", same.AuditView(), enabled})
	if cs := e.claim("owner", searchDue, time.Minute, 10); len(cs) != 1 {
		t.Fatalf("claimed %d searches; want 1", len(cs))
	}
	e.save("owner", s.ID, searchRun(searchDue, 2), searchDue.Add(time.Hour))

	// Failed changes record nothing.
	invalid := u
	invalid.Name = ""
	for _, err := range []error{
		e.s.CreateScheduledSearch(ctxAs(t, alice), e.search("AUDITED AGAIN"), searchDue),
		e.s.UpdateScheduledSearch(ctxAs(t, alice), &invalid, searchDue),
		e.s.DeleteScheduledSearch(ctxAs(t, alice), "00000000000468D5"),
	} {
		if err == nil {
			t.Error("a failing change succeeded")
		}
	}

	if err := e.s.DeleteScheduledSearch(ctxAs(t, token), s.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{token, "delete", hookline.AuditScheduledSearch, s.ID, "Audited again", enabled, nil})

	// The connection's creation is the first event; the rest are the
	// search's.
	all := allEvents(t, e.s, hookline.AuditFilter{})
	checkEvents(t, all[:len(all)-1], want, start, time.Now(), nil)
	got := allEvents(t, e.s, hookline.AuditFilter{TargetType: hookline.AuditScheduledSearch, TargetID: s.ID, ListOptions: hookline.ListOptions{Limit: 1}})
	checkEvents(t, got, want, start, time.Now(), nil)
}

func testClaimDueSearches(t *testing.T, e *searchEnv) {
	// Due a minute apart, created out of order.
	names := []string{"c", "a", "e", "b", "d"}
	ss := map[string]*hookline.ScheduledSearch{}
	for _, name := range names {
		due := searchDue.Add(time.Duration(name[0]-'a') * time.Minute)
		ss[name] = e.create(e.search(name), due)
	}
	off := e.search("disabled")
	off.Disabled = true
	e.create(off, searchDue)
	const hold = 1000 * time.Hour

	// Nothing is due before its time; each is due at its time, most
	// overdue first, with its record as it was and the new lease.
	if cs := e.claim("owner", searchDue.Add(-time.Nanosecond), hold, 10); len(cs) != 0 {
		t.Fatalf("claimed %q before any was due", claimedSearchIDs(cs))
	}
	now := searchDue.Add(4 * time.Minute)
	cs := e.claim("owner", now, hold, 2)
	if got, want := claimedSearchIDs(cs), []string{ss["a"].ID, ss["b"].ID}; !slices.Equal(got, want) {
		t.Fatalf("claim of 2 took %q; want a, b: %q", got, want)
	}
	// The owner's own leases are not taken again.
	cs = append(cs, e.claim("owner", now, hold, 10)...)
	if got, want := claimedSearchIDs(cs), []string{ss["a"].ID, ss["b"].ID, ss["c"].ID, ss["d"].ID, ss["e"].ID}; !slices.Equal(got, want) {
		t.Fatalf("claims took %q; want a to e: %q", got, want)
	}
	for i, c := range cs {
		s := ss[string(rune('a'+i))]
		if diff := cmp.Diff(s, c.Search, equal); diff != "" {
			t.Errorf("claim %d (-want +got):\n%s", i, diff)
		}
		wantRecord := hookline.SearchStateRecord{SearchID: s.ID, NextRunAt: searchDue.Add(time.Duration(i) * time.Minute),
			LeaseOwner: "owner", LeaseExpiresAt: now.Add(hold)}
		if diff := cmp.Diff(wantRecord, c.Record); diff != "" {
			t.Errorf("claimed record of %s (-want +got):\n%s", s.Name, diff)
		}
	}

	// Saved with new times: b and d at +1m (a tie, broken by ID); of a and
	// c, the one with the greater ID at +2m, the other at +3m, so that the
	// most overdue is not the first by ID; e not saved, still held.
	base := searchDue.Add(time.Hour)
	early, late := ss["a"], ss["c"]
	if early.ID < late.ID {
		early, late = late, early
	}
	dues := map[string]time.Time{early.ID: base.Add(2 * time.Minute), late.ID: base.Add(3 * time.Minute),
		ss["b"].ID: base.Add(time.Minute), ss["d"].ID: base.Add(time.Minute)}
	for id, due := range dues {
		e.save("owner", id, searchRun(searchDue, 1), due)
	}
	if cs := e.claim("other", base.Add(time.Minute-time.Nanosecond), time.Hour, 10); len(cs) != 0 {
		t.Errorf("claimed %q before any was due again", claimedSearchIDs(cs))
	}
	tie := []string{ss["b"].ID, ss["d"].ID}
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
		cs := e.claim("other", tt.now, time.Hour, tt.limit)
		if got := claimedSearchIDs(cs); !slices.Equal(got, tt.want) {
			t.Errorf("claim %d at +%v, limit %d: %q; want %q", i, tt.now.Sub(base), tt.limit, got, tt.want)
		}
		for _, c := range cs {
			if c.Record.LeaseOwner != "other" || !c.Record.LeaseExpiresAt.Equal(tt.now.Add(time.Hour)) || !cmp.Equal(c.Record.LastRun, searchRun(searchDue, 1)) {
				t.Errorf("claimed record %+v; want other's lease until %v and the saved run", c.Record, tt.now.Add(time.Hour))
			}
		}
	}
	// Once every lease has expired, another owner takes them all, most
	// overdue first; the disabled search is never claimed.
	cs = e.claim("third", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 10)
	want := append(append([]string{ss["e"].ID}, tie...), early.ID, late.ID)
	if got := claimedSearchIDs(cs); !slices.Equal(got, want) {
		t.Errorf("claim far ahead: %q; want %q", got, want)
	}
	// A claim with limit 0 takes nothing.
	if cs, err := e.s.ClaimDueSearches(t.Context(), "owner", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 0); err != nil || len(cs) != 0 {
		t.Errorf("ClaimDueSearches(limit 0) = %d, %v; want none", len(cs), err)
	}
}

func testClaimSearchLeases(t *testing.T, e *searchEnv) {
	s := e.create(e.search("Leased"), searchDue)
	at := searchDue.Add(time.Second)
	const lease = 30 * time.Second
	saveAs := func(owner string, n int) error {
		return e.s.SaveSearchRun(t.Context(), owner, s.ID, searchRun(searchDue, n), searchDue.Add(15*time.Minute))
	}

	a := e.claim("A", at, lease, 10)
	if len(a) != 1 {
		t.Fatalf("A claimed %d searches; want 1", len(a))
	}
	// Held: neither another owner nor A itself takes it before the lease
	// expires.
	for _, c := range []struct {
		owner string
		now   time.Time
	}{{"B", at}, {"A", at.Add(10 * time.Second)}, {"B", at.Add(lease - time.Nanosecond)}} {
		if cs := e.claim(c.owner, c.now, lease, 10); len(cs) != 0 {
			t.Errorf("%s took a held search at +%v", c.owner, c.now.Sub(at))
		}
	}
	// At expiry B takes it, with the record A had: A's run never happened
	// as far as the store knows.
	b := e.claim("B", at.Add(lease), lease, 10)
	if len(b) != 1 {
		t.Fatalf("B claimed %d searches at the lease's expiry; want 1", len(b))
	}
	if !b[0].Record.LastRun.ScheduledAt.IsZero() || !b[0].Record.NextRunAt.Equal(a[0].Record.NextRunAt) {
		t.Errorf("B's record %+v; want A's run not to have happened (%+v)", b[0].Record, a[0].Record)
	}
	// A's late save is refused and changes nothing.
	before := e.state(s.ID)
	wantCode(t, saveAs("A", 1), hookline.ECONFLICT, "A's save after B claimed")
	if diff := cmp.Diff(before, e.state(s.ID)); diff != "" {
		t.Errorf("a refused save changed the record (-want +got):\n%s", diff)
	}
	if before.LeaseOwner != "B" || !before.LeaseExpiresAt.Equal(at.Add(2*lease)) {
		t.Errorf("record after B's claim: lease %q until %v; want B's until %v", before.LeaseOwner, before.LeaseExpiresAt, at.Add(2*lease))
	}
	// B's save goes through and releases the lease; a second save is
	// refused, as is anyone's save of a search no one holds.
	if err := saveAs("B", 2); err != nil {
		t.Fatalf("B's save: %v", err)
	}
	want := &hookline.SearchStateRecord{SearchID: s.ID, LastRun: searchRun(searchDue, 2), NextRunAt: searchDue.Add(15 * time.Minute)}
	if diff := cmp.Diff(want, e.state(s.ID)); diff != "" {
		t.Errorf("record after B's save (-want +got):\n%s", diff)
	}
	wantCode(t, saveAs("B", 3), hookline.ECONFLICT, "B's second save")
	wantCode(t, saveAs("A", 3), hookline.ECONFLICT, "A's save of a search no one holds")
	never := e.create(e.search("Never claimed"), searchDue)
	err := e.s.SaveSearchRun(t.Context(), "A", never.ID, searchRun(searchDue, 1), searchDue.Add(time.Hour))
	wantCode(t, err, hookline.ECONFLICT, "save of a search never claimed")
	if diff := cmp.Diff(want, e.state(s.ID)); diff != "" {
		t.Errorf("refused saves changed the record (-want +got):\n%s", diff)
	}

	// A lease that expired with no one taking over still lets its owner
	// save: its run is the only one.
	cs := e.claim("A", at.Add(time.Hour), time.Second, 10)
	if len(cs) != 2 {
		t.Fatalf("A claimed %d searches; want 2", len(cs))
	}
	for _, c := range cs {
		if err := e.s.SaveSearchRun(t.Context(), "A", c.Search.ID, searchRun(at, 9), at.Add(2*time.Hour)); err != nil {
			t.Errorf("save after an expired lease no one took: %v", err)
		}
	}
}

func testClaimSearchesBadArguments(t *testing.T, e *searchEnv) {
	e.create(e.search("s"), searchDue)
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
		cs, err := e.s.ClaimDueSearches(t.Context(), tt.owner, tt.now, tt.lease, tt.limit)
		wantField(t, err, tt.field, "ClaimDueSearches "+tt.name)
		if cs != nil {
			t.Errorf("%s: claimed %d with the error", tt.name, len(cs))
		}
	}
	// Nothing was claimed by the failed calls; times past what a store can
	// show are held at its bounds.
	cs := e.claim("owner", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1<<62, 10)
	if len(cs) != 1 {
		t.Fatalf("claim far ahead took %d searches; want 1", len(cs))
	}
	if cs := e.claim("other", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute, 10); len(cs) != 0 {
		t.Errorf("a lease held to the end of time was taken")
	}
}

func testSaveSearchRun(t *testing.T, e *searchEnv) {
	s := e.create(e.search("Saved"), searchDue)
	cet := time.FixedZone("CET", 3600)
	scheduled := time.Date(2026, 11, 26, 13, 15, 0, 123456789, cet)
	next := time.Date(2026, 11, 26, 13, 30, 0, 987654321, cet)
	failed := hookline.SearchRun{ScheduledAt: scheduled, Results: 0, Alerts: 0,
		Error: "the query timed out after 1m0s: \"quoted\" ✓\nsecond line"}

	e.claim("owner", searchDue, time.Minute, 1)
	e.save("owner", s.ID, failed, next)
	want := &hookline.SearchStateRecord{SearchID: s.ID, NextRunAt: next.UTC(),
		LastRun: hookline.SearchRun{ScheduledAt: scheduled.UTC(), Error: failed.Error}}
	got := e.state(s.ID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SearchState after save (-want +got):\n%s", diff)
	}
	if got.LastRun.ScheduledAt.Location() != time.UTC || got.NextRunAt.Location() != time.UTC {
		t.Errorf("times %v, %v are not in UTC", got.LastRun.ScheduledAt, got.NextRunAt)
	}

	// The next claim hands the run back, due at next.
	if cs := e.claim("owner", next.Add(-time.Nanosecond), time.Minute, 1); len(cs) != 0 {
		t.Fatalf("claimed before NextRunAt")
	}
	cs := e.claim("owner", next, time.Minute, 1)
	if len(cs) != 1 || !cmp.Equal(cs[0].Record.LastRun, want.LastRun) {
		t.Fatalf("claim after save: %+v; want the saved run", cs)
	}
	// A completed run replaces the failed one.
	done := hookline.SearchRun{ScheduledAt: next, Results: 1 << 20, Alerts: hookline.MaxItemizedAlerts}
	e.save("owner", s.ID, done, next.Add(15*time.Minute))
	want = &hookline.SearchStateRecord{SearchID: s.ID, NextRunAt: next.Add(15 * time.Minute).UTC(),
		LastRun: hookline.SearchRun{ScheduledAt: next.UTC(), Results: 1 << 20, Alerts: hookline.MaxItemizedAlerts}}
	if diff := cmp.Diff(want, e.state(s.ID)); diff != "" {
		t.Errorf("SearchState after a completed run (-want +got):\n%s", diff)
	}
	// A zero run, one given up before it started, keeps the last run and
	// moves the schedule on.
	e.claim("owner", next.Add(15*time.Minute), time.Minute, 1)
	e.save("owner", s.ID, hookline.SearchRun{}, next.Add(30*time.Minute))
	want.NextRunAt = next.Add(30 * time.Minute).UTC()
	if diff := cmp.Diff(want, e.state(s.ID)); diff != "" {
		t.Errorf("SearchState after a zero run (-want +got):\n%s", diff)
	}
}

func testSaveSearchRunInvalid(t *testing.T, e *searchEnv) {
	s := e.create(e.search("Held"), searchDue)
	e.claim("owner", searchDue, time.Minute, 1)
	held := e.state(s.ID)
	tests := []struct {
		name  string
		owner string
		next  time.Time
		field string
	}{
		{"no owner", "", searchDue.Add(time.Hour), "owner"},
		{"no next time", "owner", time.Time{}, "next"},
		{"next time out of range", "owner", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), "next"},
	}
	for _, tt := range tests {
		err := e.s.SaveSearchRun(t.Context(), tt.owner, s.ID, searchRun(searchDue, 1), tt.next)
		wantField(t, err, tt.field, "SaveSearchRun "+tt.name)
	}
	if diff := cmp.Diff(held, e.state(s.ID)); diff != "" {
		t.Errorf("invalid saves changed the record (-want +got):\n%s", diff)
	}
}

// testConcurrentSearchClaimers claims at the same instant from several
// owners at once: every due search is taken by exactly one.
func testConcurrentSearchClaimers(t *testing.T, e *searchEnv) {
	const searches, owners = 24, 4
	for i := range searches {
		e.create(e.search(fmt.Sprintf("s%02d", i)), searchDue)
	}
	var (
		mu    sync.Mutex
		taken = map[string][]string{} // search → owners
		wg    sync.WaitGroup
	)
	for o := range owners {
		wg.Go(func() {
			owner := fmt.Sprintf("owner-%d", o)
			for range searches { // claims of 5 until none is left
				cs, err := e.s.ClaimDueSearches(t.Context(), owner, searchDue, time.Minute, 5)
				if err != nil {
					t.Errorf("%s: %v", owner, err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					taken[c.Search.ID] = append(taken[c.Search.ID], owner)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(taken) != searches {
		t.Errorf("%d searches claimed; want all %d", len(taken), searches)
	}
	for id, by := range taken {
		if len(by) != 1 {
			t.Errorf("search %s claimed by %q; want one owner", id, by)
		}
	}
}
