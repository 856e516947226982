package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

// LogStore is what TestLogStore needs of a store: the log store, and the
// access store for its audit log.
type LogStore interface {
	hookline.LogStore
	hookline.AccessStore
}

// TestLogStore checks that a hookline.LogStore keeps the interface's
// contract and these rules that the interface leaves to the engines:
//
//   - Source IDs are 16 upper-case hex digits chosen by the store; times
//     are set by the store, in UTC; updates keep CreatedAt, the token hash
//     and the counters.
//   - Source names are unique case-insensitively, Unicode included
//     (ECONFLICT naming "name"); so are token hashes (ECONFLICT naming
//     "tokenHash"). Sources are listed by lower-cased name, then ID, with
//     the limit and token rules of connections.
//   - The store validates (Source.Validate: EINVALID naming the field) and
//     stores nothing, and records no audit event, on any error.
//   - Each create, update, delete and token rotation is one audit event
//     ("create", "update", "delete", "rotateToken") targeting the source,
//     made by hookline.ActorFrom(ctx), with hookline.SourceAudit views and
//     no token hash anywhere.
//   - AppendLogs is all or nothing, also when called concurrently; it
//     fills in IDs that are unique and increase in arrival order, ReceivedAt from the store's clock and Time from
//     ReceivedAt when they are zero, and counts the records in their
//     source's Received and LastReceivedAt. Times come back exactly (to
//     the nanosecond), in UTC. A record whose source does not exist is
//     kept all the same, and deleting a source keeps its records.
//   - ScanLogs returns From <= Time < To, newest first and among equal
//     times the last to arrive first, Categories as hookline.MatchCategory
//     says, Keywords as hookline.MatchKeywords says (exactly: the
//     interface allows more, but a store that filters should not widen),
//     at most Limit records; fn's error ends it and is returned as it is.
//     Invalid keywords (LogScan.Validate) are EINVALID naming "keywords".
//     Scans of many records (more than any page an engine reads at once)
//     see each record once.
//   - PruneLogs deletes exactly the records with Time before its bound,
//     however many, and returns their number.
//   - Nothing returned aliases what was passed in or what another call
//     returned.
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store that t's cleanup closes.
func TestLogStore(t *testing.T, open func(t *testing.T) LogStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s LogStore)
	}{
		{"CreateSourceAndGet", testCreateSourceAndGet},
		{"SourceValidation", testSourceValidation},
		{"SourceConflicts", testSourceConflicts},
		{"SourceNotFound", testSourceNotFound},
		{"UpdateSource", testUpdateSource},
		{"RotateSourceToken", testRotateSourceToken},
		{"DeleteSource", testDeleteSource},
		{"SourcesOrderAndPaging", testSourcesOrderAndPaging},
		{"SourcesBadOptions", testSourcesBadOptions},
		{"SourceAudit", testSourceAudit},
		{"AppendAndScan", testAppendAndScan},
		{"AppendDefaults", testAppendDefaults},
		{"AppendInvalid", testAppendInvalid},
		{"AppendConcurrent", testAppendConcurrent},
		{"ScanRange", testScanRange},
		{"ScanCategories", testScanCategories},
		{"ScanKeywords", testScanKeywords},
		{"ScanManyRecords", testScanManyRecords},
		{"ScanStops", testScanStops},
		{"Prune", testPrune},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// NewSource returns a valid source named name whose token is token.
func NewSource(name, token string) *hookline.Source {
	return &hookline.Source{
		Name:        name,
		Description: "Logs of " + name + ".",
		Category:    "prod/" + strings.ToLower(strings.ReplaceAll(name, " ", "-")),
		HostName:    "host-of-" + strings.ToLower(strings.ReplaceAll(name, " ", "-")),
		TokenHash:   hookline.SourceTokenHash(token),
	}
}

func createSource(t *testing.T, s hookline.LogStore, src *hookline.Source) *hookline.Source {
	t.Helper()
	if err := s.CreateSource(t.Context(), src); err != nil {
		t.Fatalf("CreateSource(%q): %v", src.Name, err)
	}
	return src
}

func getSource(t *testing.T, s hookline.LogStore, id string) *hookline.Source {
	t.Helper()
	src, err := s.Source(t.Context(), id)
	if err != nil {
		t.Fatalf("Source(%s): %v", id, err)
	}
	return src
}

func listSources(t *testing.T, s hookline.LogStore, limit int) []*hookline.Source {
	t.Helper()
	return pageAll(t, "Sources", func(token string) ([]*hookline.Source, string, error) {
		return s.Sources(t.Context(), hookline.ListOptions{Limit: limit, Token: token})
	})
}

func sourceNames(ss []*hookline.Source) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func testCreateSourceAndGet(t *testing.T, s LogStore) {
	src := NewSource("Web Servers", "token-1")
	src.ID, src.Received = "00000000000468D5", 99 // the store's to set
	src.CreatedAt = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	want := *src
	before := time.Now()
	createSource(t, s, src)
	after := time.Now()

	if !idForm.MatchString(src.ID) || src.ID == "00000000000468D5" {
		t.Errorf("ID = %q; want 16 upper-case hex digits drawn by the store", src.ID)
	}
	checkStoreTime(t, "CreatedAt", src.CreatedAt, before, after)
	if !src.ModifiedAt.Equal(src.CreatedAt) {
		t.Errorf("ModifiedAt %v differs from CreatedAt %v", src.ModifiedAt, src.CreatedAt)
	}
	want.ID, want.CreatedAt, want.ModifiedAt, want.Received = src.ID, src.CreatedAt, src.ModifiedAt, 0
	if diff := cmp.Diff(&want, src); diff != "" {
		t.Errorf("CreateSource changed more than ID, times and counters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(src, getSource(t, s, src.ID)); diff != "" {
		t.Errorf("Source differs from what was created (-want +got):\n%s", diff)
	}
	byHash, err := s.SourceByTokenHash(t.Context(), hookline.SourceTokenHash("token-1"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(src, byHash); diff != "" {
		t.Errorf("SourceByTokenHash differs (-want +got):\n%s", diff)
	}

	// Nothing returned aliases the store.
	byHash.Name = "changed"
	src.Category = "changed"
	if got := getSource(t, s, src.ID); got.Name != "Web Servers" || got.Category != want.Category {
		t.Errorf("a change to a returned source reached the store: %+v", got)
	}
}

func testSourceValidation(t *testing.T, s LogStore) {
	events := countEvents(t, s)
	tests := []struct {
		field  string
		change func(*hookline.Source)
	}{
		{"name", func(src *hookline.Source) { src.Name = "" }},
		{"name", func(src *hookline.Source) { src.Name = " padded " }},
		{"name", func(src *hookline.Source) { src.Name = strings.Repeat("n", hookline.MaxNameLen+1) }},
		{"description", func(src *hookline.Source) { src.Description = strings.Repeat("d", hookline.MaxDescriptionLen+1) }},
		{"category", func(src *hookline.Source) { src.Category = strings.Repeat("c", hookline.MaxMetadataLen+1) }},
		{"category", func(src *hookline.Source) { src.Category = "prod\nweb" }},
		{"hostName", func(src *hookline.Source) { src.HostName = "web\x00" }},
		{"hostName", func(src *hookline.Source) { src.HostName = "\xff" }},
		{"tokenHash", func(src *hookline.Source) { src.TokenHash = "" }},
		{"tokenHash", func(src *hookline.Source) { src.TokenHash = strings.ToUpper(hookline.SourceTokenHash("x")) }},
		{"tokenHash", func(src *hookline.Source) { src.TokenHash = "the token itself" }},
	}
	for _, tt := range tests {
		src := NewSource("Valid", "t")
		tt.change(src)
		wantField(t, s.CreateSource(t.Context(), src), tt.field, fmt.Sprintf("CreateSource with a bad %s", tt.field))
	}
	// At the limits, valid.
	edge := NewSource(strings.Repeat("é", hookline.MaxNameLen), "edge")
	edge.Category = strings.Repeat("ü", hookline.MaxMetadataLen)
	edge.HostName, edge.Description = "", ""
	createSource(t, s, edge)

	if got := listSources(t, s, 0); len(got) != 1 {
		t.Errorf("%d sources stored; want only the valid one", len(got))
	}
	if got := countEvents(t, s); got != events+1 {
		t.Errorf("%d audit events after failed creations and one success; want %d", got, events+1)
	}
	// An update is validated too, and changes nothing when invalid.
	bad := *edge
	bad.Category = "a\tb"
	wantField(t, s.UpdateSource(t.Context(), &bad), "category", "UpdateSource with a bad category")
	if got := getSource(t, s, edge.ID); got.Category != edge.Category {
		t.Errorf("a refused update changed the category to %q", got.Category)
	}
	_, err := s.RotateSourceToken(t.Context(), edge.ID, "not a hash")
	wantField(t, err, "tokenHash", "RotateSourceToken with a bad hash")
}

func testSourceConflicts(t *testing.T, s LogStore) {
	a := createSource(t, s, NewSource("Ünïcode Logs", "token-a"))
	events := countEvents(t, s)
	err := s.CreateSource(t.Context(), NewSource("üNÏCODE LOGS", "token-b"))
	wantConflict(t, err, "name", "CreateSource with a name differing only in case")
	err = s.CreateSource(t.Context(), NewSource("Other", "token-a"))
	wantConflict(t, err, "tokenHash", "CreateSource with a taken token hash")

	b := createSource(t, s, NewSource("Other", "token-b"))
	renamed := *b
	renamed.Name = "ünïcode logs"
	wantConflict(t, s.UpdateSource(t.Context(), &renamed), "name", "UpdateSource to a taken name")
	_, err = s.RotateSourceToken(t.Context(), b.ID, a.TokenHash)
	wantConflict(t, err, "tokenHash", "RotateSourceToken to another source's hash")
	if got := countEvents(t, s); got != events+1 {
		t.Errorf("%d audit events; want %d (one creation, no failed change)", got, events+1)
	}

	// A source may keep its own name in another case.
	recased := *a
	recased.Name = "ÜNÏCODE LOGS"
	if err := s.UpdateSource(t.Context(), &recased); err != nil {
		t.Errorf("renaming a source to its own name in another case: %v", err)
	}
}

func testSourceNotFound(t *testing.T, s LogStore) {
	const missing = "00000000000468D5"
	createSource(t, s, NewSource("Present", "present"))
	hash := hookline.SourceTokenHash("nobody's token")
	_, err := s.Source(t.Context(), missing)
	wantCode(t, err, hookline.ENOTFOUND, "Source")
	_, err = s.SourceByTokenHash(t.Context(), hash)
	wantCode(t, err, hookline.ENOTFOUND, "SourceByTokenHash")
	if strings.Contains(err.Error(), hash) {
		t.Errorf("SourceByTokenHash's error shows the hash: %v", err)
	}
	src := NewSource("Missing", "m")
	src.ID = missing
	wantCode(t, s.UpdateSource(t.Context(), src), hookline.ENOTFOUND, "UpdateSource")
	wantCode(t, s.DeleteSource(t.Context(), missing), hookline.ENOTFOUND, "DeleteSource")
	_, err = s.RotateSourceToken(t.Context(), missing, hash)
	wantCode(t, err, hookline.ENOTFOUND, "RotateSourceToken")
}

func testUpdateSource(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Web", "web-token"))
	created := *src
	time.Sleep(2 * time.Millisecond) // so that ModifiedAt can differ

	u := *src
	u.Name, u.Description, u.Category, u.HostName = "Web servers", "", "prod/web", ""
	u.TokenHash = hookline.SourceTokenHash("ignored") // not UpdateSource's to change
	u.CreatedAt, u.Received = time.Time{}, 1234
	before := time.Now()
	if err := s.UpdateSource(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	checkStoreTime(t, "ModifiedAt", u.ModifiedAt, before, time.Now())
	if u.ModifiedAt.Before(created.ModifiedAt) {
		t.Errorf("ModifiedAt went back: %v after %v", u.ModifiedAt, created.ModifiedAt)
	}
	want := created
	want.Name, want.Description, want.Category, want.HostName, want.ModifiedAt = "Web servers", "", "prod/web", "", u.ModifiedAt
	if diff := cmp.Diff(&want, &u); diff != "" {
		t.Errorf("the source UpdateSource copied back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&want, getSource(t, s, src.ID)); diff != "" {
		t.Errorf("the stored source (-want +got):\n%s", diff)
	}
	if _, err := s.SourceByTokenHash(t.Context(), hookline.SourceTokenHash("web-token")); err != nil {
		t.Errorf("the token stopped working after an update: %v", err)
	}
}

func testRotateSourceToken(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Rotating", "old-token"))
	newHash := hookline.SourceTokenHash("new-token")
	got, err := s.RotateSourceToken(t.Context(), src.ID, newHash)
	if err != nil {
		t.Fatal(err)
	}
	want := *src
	want.TokenHash, want.ModifiedAt = newHash, got.ModifiedAt
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("RotateSourceToken returned (-want +got):\n%s", diff)
	}
	if got.ModifiedAt.Before(src.ModifiedAt) {
		t.Errorf("ModifiedAt went back: %v after %v", got.ModifiedAt, src.ModifiedAt)
	}
	_, err = s.SourceByTokenHash(t.Context(), src.TokenHash)
	wantCode(t, err, hookline.ENOTFOUND, "the old token after rotation")
	byNew, err := s.SourceByTokenHash(t.Context(), newHash)
	if err != nil || byNew.ID != src.ID {
		t.Errorf("the new token finds %+v, %v; want source %s", byNew, err, src.ID)
	}
	// Rotating to the same hash is allowed: nothing else holds it.
	if _, err := s.RotateSourceToken(t.Context(), src.ID, newHash); err != nil {
		t.Errorf("rotating to the source's own hash: %v", err)
	}
}

func testDeleteSource(t *testing.T, s LogStore) {
	src := createSource(t, s, NewSource("Doomed", "doomed-token"))
	keep := createSource(t, s, NewSource("Kept", "kept-token"))
	at := time.Now().UTC().Truncate(time.Second)
	appendLogs(t, s, record(src.ID, at, "before the deletion"), record(keep.ID, at, "other"))
	if err := s.DeleteSource(t.Context(), src.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Source(t.Context(), src.ID)
	wantCode(t, err, hookline.ENOTFOUND, "Source after DeleteSource")
	_, err = s.SourceByTokenHash(t.Context(), src.TokenHash)
	wantCode(t, err, hookline.ENOTFOUND, "SourceByTokenHash after DeleteSource")
	wantCode(t, s.DeleteSource(t.Context(), src.ID), hookline.ENOTFOUND, "DeleteSource again")
	if got := sourceNames(listSources(t, s, 0)); !slices.Equal(got, []string{"Kept"}) {
		t.Errorf("sources after the deletion: %q", got)
	}
	// Its records stay, and records for it may still arrive (a request
	// that found the source just before it went).
	appendLogs(t, s, record(src.ID, at, "after the deletion"))
	if got := messages(scanAll(t, s, hookline.LogScan{})); !slices.Equal(got, []string{"after the deletion", "other", "before the deletion"}) {
		t.Errorf("records after deleting their source: %q", got)
	}
	// The name is free again.
	createSource(t, s, NewSource("doomed", "doomed-token-2"))
}

func testSourcesOrderAndPaging(t *testing.T, s LogStore) {
	names := []string{"b", "A", "ä", "C", "a2", "Z", "é", "0"}
	for i, n := range names {
		createSource(t, s, NewSource(n, fmt.Sprint("token-", i)))
	}
	want := []string{"0", "A", "a2", "b", "C", "Z", "ä", "é"} // lower-cased, byte-wise
	for _, limit := range []int{0, 1, 3, 100} {
		if got := sourceNames(listSources(t, s, limit)); !slices.Equal(got, want) {
			t.Errorf("Sources(limit %d) = %q; want %q", limit, got, want)
		}
	}
	page, next, err := s.Sources(t.Context(), hookline.ListOptions{Limit: 2})
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("first page of 2: %d sources, next %q, %v", len(page), next, err)
	}
	// A source added before the next page is read shows in order.
	createSource(t, s, NewSource("aa", "token-late"))
	rest := pageAll(t, "Sources", func(token string) ([]*hookline.Source, string, error) {
		if token == "" {
			token = next
		}
		return s.Sources(t.Context(), hookline.ListOptions{Limit: 2, Token: token})
	})
	if got := sourceNames(rest); !slices.Equal(got, []string{"a2", "aa", "b", "C", "Z", "ä", "é"}) {
		t.Errorf("pages after a source was added: %q", got)
	}
	list, next, err := s.Sources(t.Context(), hookline.ListOptions{Limit: 1 << 30})
	if err != nil || len(list) != len(names)+1 || next != "" {
		t.Errorf("Sources(huge limit) = %d sources, next %q, %v", len(list), next, err)
	}
}

func testSourcesBadOptions(t *testing.T, s LogStore) {
	createSource(t, s, NewSource("one", "1"))
	createSource(t, s, NewSource("two", "2"))
	_, token, err := s.Sources(t.Context(), hookline.ListOptions{Limit: 1})
	if err != nil || token == "" {
		t.Fatalf("first page: %q, %v", token, err)
	}
	_, _, err = s.Sources(t.Context(), hookline.ListOptions{Limit: -1})
	wantField(t, err, "limit", "Sources(limit -1)")
	for _, bad := range []string{"!!!", "not a token", token + "!", token[:len(token)/2], strings.Repeat("A", 1000)} {
		list, next, err := s.Sources(t.Context(), hookline.ListOptions{Token: bad})
		wantField(t, err, "token", fmt.Sprintf("Sources(token %.20q)", bad))
		if len(list) != 0 || next != "" {
			t.Errorf("Sources(token %.20q) returned %d sources and %q with the error", bad, len(list), next)
		}
	}
}

func testSourceAudit(t *testing.T, s LogStore) {
	start := time.Now()
	alice := hookline.Actor{Kind: hookline.ActorUser, ID: "00000000000000A1", Name: "alice@example.com", AccessID: "hk00000000000001"}
	token := hookline.Actor{Kind: hookline.ActorAdminToken}
	system := hookline.Actor{Kind: hookline.ActorSystem}

	src := NewSource("Audited", "first-token")
	if err := s.CreateSource(ctxAs(t, alice), src); err != nil {
		t.Fatal(err)
	}
	created := src.AuditView()
	want := []wantEvent{{alice, "create", hookline.AuditSource, src.ID, "Audited", nil, created}}

	u := *src
	u.Name, u.Category = "Audited again", "prod/other"
	if err := s.UpdateSource(ctxAs(t, token), &u); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{token, "update", hookline.AuditSource, src.ID, "Audited again", created, u.AuditView()})

	second := hookline.SourceTokenHash("second-token")
	if _, err := s.RotateSourceToken(t.Context(), src.ID, second); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{system, "rotateToken", hookline.AuditSource, src.ID, "Audited again", u.AuditView(), u.AuditView()})

	// Records are not audited.
	appendLogs(t, s, record(src.ID, time.Now(), "not an audited change"))

	if err := s.DeleteSource(ctxAs(t, alice), src.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, wantEvent{alice, "delete", hookline.AuditSource, src.ID, "Audited again", u.AuditView(), nil})

	hashes := []string{src.TokenHash, second, "first-token", "second-token"}
	checkEvents(t, allEvents(t, s, hookline.AuditFilter{}), want, start, time.Now(), hashes)
	got := allEvents(t, s, hookline.AuditFilter{TargetType: hookline.AuditSource, TargetID: src.ID, ListOptions: hookline.ListOptions{Limit: 1}})
	checkEvents(t, got, want, start, time.Now(), hashes)
}

// appendLogs appends records, failing the test on an error.
func appendLogs(t *testing.T, s hookline.LogStore, records ...hookline.LogRecord) []hookline.LogRecord {
	t.Helper()
	if err := s.AppendLogs(t.Context(), records); err != nil {
		t.Fatalf("AppendLogs(%d records): %v", len(records), err)
	}
	return records
}

// record returns a record of source at time at with the message.
func record(sourceID string, at time.Time, message string) hookline.LogRecord {
	return hookline.LogRecord{Time: at, ReceivedAt: at, SourceID: sourceID, Category: "prod/web", Host: "web-1", Name: "access", Message: message}
}

// scanAll returns every record scan selects.
func scanAll(t *testing.T, s hookline.LogStore, scan hookline.LogScan) []hookline.LogRecord {
	t.Helper()
	var out []hookline.LogRecord
	err := s.ScanLogs(t.Context(), scan, func(r hookline.LogRecord) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("ScanLogs(%+v): %v", scan, err)
	}
	return out
}

func messages(rs []hookline.LogRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Message
	}
	return out
}

// ctxCanceled returns a context that is already canceled.
func ctxCanceled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
