// Package storetest is the conformance suite for Hookline's storage engines:
// every engine runs the same tests against a real database, so that the
// engines behave alike wherever the interfaces leave room (error codes,
// ordering, paging, what is copied and what is kept).
//
// An engine's test calls, for example,
//
//	func TestConnectionStore(t *testing.T) {
//		storetest.TestConnectionStore(t, func(t *testing.T) hookline.ConnectionStore {
//			return MustOpenDB(t)
//		})
//	}
//
//	func TestDeliveryStore(t *testing.T) {
//		storetest.TestDeliveryStore(t, func(t *testing.T) (hookline.DeliveryStore, hookline.ConnectionStore) {
//			db := MustOpenDB(t)
//			return db, db
//		})
//	}
package storetest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookline/hookline"
)

// TestConnectionStore checks that a hookline.ConnectionStore keeps the
// interface's contract and these rules that the interface leaves to the
// engines:
//
//   - IDs are 16 upper-case hex digits, chosen by the store.
//   - CreatedAt and ModifiedAt are set by the store, in UTC; an update keeps
//     CreatedAt and CreatedBy.
//   - Names are unique case-insensitively, Unicode included; a taken name is
//     ECONFLICT naming the field "name". The store does not trim or otherwise
//     change names: that is the caller's job.
//   - Lists are ordered by the lower-cased name, compared by code point
//     (byte-wise UTF-8), then ID.
//   - ListOptions.Limit 0 means hookline.DefaultListLimit, a larger limit than
//     hookline.MaxListLimit means the maximum, a negative one is EINVALID
//     naming "limit", and a token the store did not issue is EINVALID naming
//     "token".
//   - Stores validate connections (EINVALID) and keep no row on any error.
//   - Secrets come back in the clear, and nothing returned aliases what was
//     passed in or what another call returned.
//
// open is called once per subtest, possibly from parallel subtests, and must
// return a new, empty store that t's cleanup closes.
func TestConnectionStore(t *testing.T, open func(t *testing.T) hookline.ConnectionStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s hookline.ConnectionStore)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"CreateIgnoresGivenIDAndTimes", testCreateIgnoresGivenIDAndTimes},
		{"NoAliasing", testNoAliasing},
		{"Secrets", testSecrets},
		{"NotFound", testNotFound},
		{"NameConflict", testNameConflict},
		{"Validation", testValidation},
		{"Update", testUpdate},
		{"UpdateNameConflict", testUpdateNameConflict},
		{"Delete", testDelete},
		{"ListEmpty", testListEmpty},
		{"ListOrder", testListOrder},
		{"ListPaging", testListPaging},
		{"ListPagingStableUnderChanges", testListPagingStable},
		{"ListLimits", testListLimits},
		{"ListBadOptions", testListBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// Connection returns a valid connection named name that uses every field.
func Connection(name string) *hookline.Connection {
	return &hookline.Connection{
		Name:              name,
		Description:       "Sends " + name + " alerts to the on-call Lambda.",
		WebhookType:       "AWSLambda",
		URL:               "https://abcdefghij.lambda-url.us-east-1.on.aws/alert",
		CustomHeaders:     []hookline.Header{{Name: "X-Team", Value: "ops"}, {Name: "X-Env", Value: "prod"}},
		DefaultPayload:    `{"name": "{{Name}}", "type": "{{TriggerType}}", "results": "{{ResultsJson}}"}`,
		ResolutionPayload: `{"name": "{{Name}}", "resolved": true}`,
		Settings:          map[string]string{"region": "us-east-1", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
		Secrets:           map[string]string{"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		CreatedBy:         "alice",
		ModifiedBy:        "alice",
	}
}

var (
	idForm = regexp.MustCompile(`^[0-9A-F]{16}$`)
	// equal compares connections, treating nil and empty maps and slices
	// alike, since the interface does not promise either.
	equal = cmpopts.EquateEmpty()
)

func create(t *testing.T, s hookline.ConnectionStore, c *hookline.Connection) *hookline.Connection {
	t.Helper()
	if err := s.CreateConnection(t.Context(), c); err != nil {
		t.Fatalf("CreateConnection(%q): %v", c.Name, err)
	}
	return c
}

func get(t *testing.T, s hookline.ConnectionStore, id string) *hookline.Connection {
	t.Helper()
	c, err := s.Connection(t.Context(), id)
	if err != nil {
		t.Fatalf("Connection(%s): %v", id, err)
	}
	return c
}

// listAll pages through every connection with the given page size.
func listAll(t *testing.T, s hookline.ConnectionStore, limit int) []*hookline.Connection {
	t.Helper()
	var all []*hookline.Connection
	token := ""
	for page := 0; ; page++ {
		list, next, err := s.Connections(t.Context(), hookline.ListOptions{Limit: limit, Token: token})
		if err != nil {
			t.Fatalf("Connections(page %d): %v", page, err)
		}
		all = append(all, list...)
		if next == "" {
			return all
		}
		if len(list) == 0 {
			t.Fatalf("Connections(page %d) returned no connections but a next token", page)
		}
		if page > 10000 {
			t.Fatalf("paging does not end")
		}
		token = next
	}
}

func names(cs []*hookline.Connection) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// wantCode fails unless err carries the hookline error code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := hookline.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v has code %q; want %q", what, err, got, code)
	}
}

// wantField fails unless err is EINVALID and names field.
func wantField(t *testing.T, err error, field, what string) {
	t.Helper()
	wantCode(t, err, hookline.EINVALID, what)
	namesField(t, err, field, what)
}

// wantConflict fails unless err is ECONFLICT and names the field whose value
// conflicts, so that a client can point at the input to change.
func wantConflict(t *testing.T, err error, field, what string) {
	t.Helper()
	wantCode(t, err, hookline.ECONFLICT, what)
	namesField(t, err, field, what)
}

func namesField(t *testing.T, err error, field, what string) {
	t.Helper()
	var e *hookline.Error
	errors.As(err, &e)
	for _, f := range e.Fields {
		if f.Field == field && f.Message != "" {
			return
		}
	}
	t.Errorf("%s: error %v does not name field %q with a message (fields: %v)", what, err, field, e.Fields)
}

// checkTimes checks that the store set c's times during [before, after]. A
// minute of slack allows for a database server's clock.
func checkTimes(t *testing.T, c *hookline.Connection, before, after time.Time) {
	t.Helper()
	for _, tm := range []struct {
		name string
		v    time.Time
	}{{"CreatedAt", c.CreatedAt}, {"ModifiedAt", c.ModifiedAt}} {
		if tm.v.IsZero() {
			t.Errorf("%s is not set", tm.name)
			continue
		}
		if tm.v.Location() != time.UTC {
			t.Errorf("%s = %v is not in UTC", tm.name, tm.v)
		}
		if tm.v.Before(before.Add(-time.Minute)) || tm.v.After(after.Add(time.Minute)) {
			t.Errorf("%s = %v; want a time between %v and %v", tm.name, tm.v, before, after)
		}
	}
	if c.ModifiedAt.Before(c.CreatedAt) {
		t.Errorf("ModifiedAt %v is before CreatedAt %v", c.ModifiedAt, c.CreatedAt)
	}
}

func testCreateAndGet(t *testing.T, s hookline.ConnectionStore) {
	c := Connection("Ops Lambda")
	want := *c
	before := time.Now()
	create(t, s, c)
	after := time.Now()

	if !idForm.MatchString(c.ID) {
		t.Errorf("ID = %q; want 16 upper-case hex digits", c.ID)
	}
	checkTimes(t, c, before, after)
	if !c.ModifiedAt.Equal(c.CreatedAt) {
		t.Errorf("new connection: ModifiedAt %v differs from CreatedAt %v", c.ModifiedAt, c.CreatedAt)
	}
	want.ID, want.CreatedAt, want.ModifiedAt = c.ID, c.CreatedAt, c.ModifiedAt
	if diff := cmp.Diff(&want, c, equal); diff != "" {
		t.Errorf("CreateConnection changed more than ID and times (-want +got):\n%s", diff)
	}

	got := get(t, s, c.ID)
	if diff := cmp.Diff(c, got, equal); diff != "" {
		t.Errorf("Connection(%s) differs from what was created (-want +got):\n%s", c.ID, diff)
	}

	// A second connection gets another ID.
	d := create(t, s, Connection("Second"))
	if d.ID == c.ID {
		t.Errorf("two connections share ID %s", c.ID)
	}
	list, next, err := s.Connections(t.Context(), hookline.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Errorf("a list of everything returned next token %q", next)
	}
	if diff := cmp.Diff([]*hookline.Connection{c, d}, list, equal); diff != "" {
		t.Errorf("Connections differs from what was created (-want +got):\n%s", diff)
	}
}

func testCreateIgnoresGivenIDAndTimes(t *testing.T, s hookline.ConnectionStore) {
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	c := Connection("Preset")
	c.ID, c.CreatedAt, c.ModifiedAt = "00000000000468D5", old, old
	before := time.Now()
	create(t, s, c)
	checkTimes(t, c, before, time.Now())

	d := Connection("Preset too")
	d.ID = "00000000000468D5"
	create(t, s, d)
	if c.ID == d.ID {
		t.Errorf("the store used the caller's ID %s twice", c.ID)
	}
	if !idForm.MatchString(c.ID) || !idForm.MatchString(d.ID) {
		t.Errorf("IDs %q, %q; want 16 upper-case hex digits", c.ID, d.ID)
	}
	if got := get(t, s, c.ID); !got.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("stored CreatedAt = %v; want %v", got.CreatedAt, c.CreatedAt)
	}
}

func testNoAliasing(t *testing.T, s hookline.ConnectionStore) {
	c := create(t, s, Connection("Aliasing"))
	want := *get(t, s, c.ID)

	// Changing what was passed in changes nothing stored.
	c.Settings["region"] = "changed"
	c.Secrets["secretAccessKey"] = "changed"
	c.CustomHeaders[0].Value = "changed"
	// Nor does changing what was returned.
	got := get(t, s, c.ID)
	got.Settings["region"] = "changed"
	got.Secrets["secretAccessKey"] = "changed"
	got.CustomHeaders[0].Value = "changed"
	list, _, err := s.Connections(t.Context(), hookline.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list[0].Secrets["secretAccessKey"] = "changed"

	if diff := cmp.Diff(&want, get(t, s, c.ID), equal); diff != "" {
		t.Errorf("stored connection changed through an alias (-want +got):\n%s", diff)
	}
}

func testSecrets(t *testing.T, s hookline.ConnectionStore) {
	tests := []struct {
		name    string
		secrets map[string]string
	}{
		{"nil", nil},
		{"empty", map[string]string{}},
		{"one", map[string]string{"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"several", map[string]string{
			"password":    "pässwörd ✓ 秘密",
			"empty":       "",
			"token":       strings.Repeat("x", 4096),
			"a/b.c":       "names with separators",
			"quote\"name": "value with \"quotes\" and \\ and \n newline",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Connection("Secrets " + tt.name)
			c.Secrets = tt.secrets
			create(t, s, c)
			if diff := cmp.Diff(tt.secrets, get(t, s, c.ID).Secrets, equal); diff != "" {
				t.Errorf("Connection: secrets differ (-want +got):\n%s", diff)
			}
			for _, l := range listAll(t, s, 2) {
				if l.ID == c.ID {
					if diff := cmp.Diff(tt.secrets, l.Secrets, equal); diff != "" {
						t.Errorf("Connections: secrets differ (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}

func testNotFound(t *testing.T, s hookline.ConnectionStore) {
	create(t, s, Connection("Existing"))
	for _, id := range []string{"00000000000468D5", "", "not-an-id", "'; DROP TABLE connections; --"} {
		_, err := s.Connection(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("Connection(%q)", id))
		if want := fmt.Sprintf("connection %s not found", id); hookline.ErrorMessage(err) != want {
			t.Errorf("Connection(%q): message %q; want %q", id, hookline.ErrorMessage(err), want)
		}
		c := Connection("Updated")
		c.ID = id
		wantCode(t, s.UpdateConnection(t.Context(), c), hookline.ENOTFOUND, fmt.Sprintf("UpdateConnection(%q)", id))
		wantCode(t, s.DeleteConnection(t.Context(), id), hookline.ENOTFOUND, fmt.Sprintf("DeleteConnection(%q)", id))
	}
	if got := names(listAll(t, s, 0)); !slices.Equal(got, []string{"Existing"}) {
		t.Errorf("after failed updates and deletes the store holds %q; want only %q", got, "Existing")
	}
}

func testNameConflict(t *testing.T, s hookline.ConnectionStore) {
	create(t, s, Connection("Ops Lambda"))
	create(t, s, Connection("Ärger"))
	for _, name := range []string{"Ops Lambda", "ops lambda", "OPS LAMBDA", "oPs LaMbDa", "ärger", "ÄRGER"} {
		err := s.CreateConnection(t.Context(), Connection(name))
		wantConflict(t, err, "name", fmt.Sprintf("CreateConnection(%q)", name))
		if want := fmt.Sprintf("a connection named %q already exists", name); hookline.ErrorMessage(err) != want {
			t.Errorf("CreateConnection(%q): message %q; want %q", name, hookline.ErrorMessage(err), want)
		}
	}
	// Similar but different names are fine.
	for _, name := range []string{"Ops Lambda 2", "Ops-Lambda", "Arger"} {
		create(t, s, Connection(name))
	}
	want := []string{"Arger", "Ops Lambda", "Ops Lambda 2", "Ops-Lambda", "Ärger"}
	if got := names(listAll(t, s, 0)); !slices.Equal(got, want) {
		t.Errorf("store holds %q; want %q (no row from a failed create)", got, want)
	}
}

func testValidation(t *testing.T, s hookline.ConnectionStore) {
	tests := []struct {
		name  string
		edit  func(c *hookline.Connection)
		field string
	}{
		{"no name", func(c *hookline.Connection) { c.Name = "" }, "name"},
		{"blank name", func(c *hookline.Connection) { c.Name = "  " }, "name"},
		{"no type", func(c *hookline.Connection) { c.WebhookType = "" }, "webhookType"},
		{"bad URL", func(c *hookline.Connection) { c.URL = "ftp://example.com" }, "url"},
		{"no payload", func(c *hookline.Connection) { c.DefaultPayload = "" }, "defaultPayload"},
		{"bad header", func(c *hookline.Connection) { c.CustomHeaders = []hookline.Header{{Name: "X Bad"}} }, "customHeaders[0].name"},
	}
	existing := create(t, s, Connection("Valid"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Connection("Invalid " + tt.name)
			tt.edit(c)
			wantField(t, s.CreateConnection(t.Context(), c), tt.field, "CreateConnection")

			u := *existing
			tt.edit(&u)
			wantField(t, s.UpdateConnection(t.Context(), &u), tt.field, "UpdateConnection")
		})
	}
	wantCode(t, s.CreateConnection(t.Context(), nil), hookline.EINVALID, "CreateConnection(nil)")
	wantCode(t, s.UpdateConnection(t.Context(), nil), hookline.EINVALID, "UpdateConnection(nil)")
	if got := listAll(t, s, 0); len(got) != 1 || cmp.Diff(existing, got[0], equal) != "" {
		t.Errorf("after invalid creates and updates the store holds %q; want only the valid connection unchanged", names(got))
	}
}

func testUpdate(t *testing.T, s hookline.ConnectionStore) {
	c := Connection("Before")
	c.Secrets = map[string]string{"keep": "k", "change": "old", "remove": "r"}
	create(t, s, c)
	created := *c

	time.Sleep(2 * time.Millisecond) // so that ModifiedAt visibly moves on
	u := &hookline.Connection{
		ID:                c.ID,
		Name:              "After",
		Description:       "changed",
		WebhookType:       "Webhook",
		URL:               "http://127.0.0.1:8080/hook",
		CustomHeaders:     []hookline.Header{{Name: "Authorization", Value: "Bearer x"}},
		DefaultPayload:    `{"changed": true}`,
		ResolutionPayload: "",
		Settings:          map[string]string{"method": "POST"},
		Secrets:           map[string]string{"keep": "k", "change": "new", "add": "a"},
		// The store keeps the stored creation time and author.
		CreatedAt:  time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		CreatedBy:  "mallory",
		ModifiedBy: "bob",
	}
	want := *u
	before := time.Now()
	if err := s.UpdateConnection(t.Context(), u); err != nil {
		t.Fatalf("UpdateConnection: %v", err)
	}
	checkTimes(t, u, created.CreatedAt, time.Now())
	if !u.CreatedAt.Equal(created.CreatedAt) || u.CreatedBy != "alice" {
		t.Errorf("after update CreatedAt, CreatedBy = %v, %q; want the stored %v, %q", u.CreatedAt, u.CreatedBy, created.CreatedAt, "alice")
	}
	if u.ModifiedAt.Before(before.Add(-time.Minute)) || !u.ModifiedAt.After(created.ModifiedAt) {
		t.Errorf("ModifiedAt = %v; want a time after the creation's %v", u.ModifiedAt, created.ModifiedAt)
	}
	want.CreatedAt, want.CreatedBy, want.ModifiedAt = created.CreatedAt, created.CreatedBy, u.ModifiedAt
	if diff := cmp.Diff(&want, u, equal); diff != "" {
		t.Errorf("UpdateConnection changed more than the times and creator (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(u, get(t, s, c.ID), equal); diff != "" {
		t.Errorf("Connection after update (-want +got):\n%s", diff)
	}

	// Updating again with no secrets removes them all.
	u.Secrets = nil
	if err := s.UpdateConnection(t.Context(), u); err != nil {
		t.Fatalf("UpdateConnection: %v", err)
	}
	if got := get(t, s, c.ID).Secrets; len(got) != 0 {
		t.Errorf("secrets after an update without secrets = %v; want none", got)
	}
}

func testUpdateNameConflict(t *testing.T, s hookline.ConnectionStore) {
	a := create(t, s, Connection("Alpha"))
	b := create(t, s, Connection("Beta"))

	for _, name := range []string{"Alpha", "alpha", "ALPHA"} {
		u := *b
		u.Name = name
		err := s.UpdateConnection(t.Context(), &u)
		wantConflict(t, err, "name", fmt.Sprintf("rename Beta to %q", name))
		if want := fmt.Sprintf("a connection named %q already exists", name); hookline.ErrorMessage(err) != want {
			t.Errorf("rename Beta to %q: message %q; want %q", name, hookline.ErrorMessage(err), want)
		}
	}
	if diff := cmp.Diff(b, get(t, s, b.ID), equal); diff != "" {
		t.Errorf("a failed update changed the connection (-want +got):\n%s", diff)
	}

	// A connection may keep its name or change only its case.
	for _, name := range []string{"Alpha", "ALPHA", "alpha"} {
		u := *a
		u.Name = name
		if err := s.UpdateConnection(t.Context(), &u); err != nil {
			t.Fatalf("rename Alpha to %q: %v", name, err)
		}
		if got := get(t, s, a.ID).Name; got != name {
			t.Errorf("name after rename = %q; want %q", got, name)
		}
	}
	// The old name of a renamed connection is free again.
	u := *b
	u.Name = "Gamma"
	if err := s.UpdateConnection(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	create(t, s, Connection("beta"))
}

func testDelete(t *testing.T, s hookline.ConnectionStore) {
	a := create(t, s, Connection("Doomed"))
	b := create(t, s, Connection("Survivor"))
	if err := s.DeleteConnection(t.Context(), a.ID); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	_, err := s.Connection(t.Context(), a.ID)
	wantCode(t, err, hookline.ENOTFOUND, "Connection after delete")
	wantCode(t, s.DeleteConnection(t.Context(), a.ID), hookline.ENOTFOUND, "second DeleteConnection")
	u := *a
	wantCode(t, s.UpdateConnection(t.Context(), &u), hookline.ENOTFOUND, "UpdateConnection after delete")

	if diff := cmp.Diff([]*hookline.Connection{b}, listAll(t, s, 0), equal); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	// The name may be used again, and gets a new ID.
	c := create(t, s, Connection("doomed"))
	if c.ID == a.ID {
		t.Errorf("a new connection reused the deleted ID %s", a.ID)
	}
}

func testListEmpty(t *testing.T, s hookline.ConnectionStore) {
	for _, limit := range []int{0, 1, hookline.MaxListLimit} {
		list, next, err := s.Connections(t.Context(), hookline.ListOptions{Limit: limit})
		if err != nil || len(list) != 0 || next != "" {
			t.Errorf("Connections(limit %d) of an empty store = %d connections, %q, %v; want none, \"\", nil", limit, len(list), next, err)
		}
	}
}

func testListOrder(t *testing.T, s hookline.ConnectionStore) {
	// Created out of order; listed by lower-cased name in code point order.
	for _, name := range []string{"gamma", "Ärger", "Alpha", "beta", "_x", "Zulu", "alpha 2", "Beta 10", "Beta 9", "ärgerlich"} {
		create(t, s, Connection(name))
	}
	want := []string{"_x", "Alpha", "alpha 2", "beta", "Beta 10", "Beta 9", "gamma", "Zulu", "Ärger", "ärgerlich"}
	for _, limit := range []int{0, 1, 3, 10, 11} {
		if got := names(listAll(t, s, limit)); !slices.Equal(got, want) {
			t.Errorf("pages of %d: order %q; want %q", limit, got, want)
		}
	}
}

func testListPaging(t *testing.T, s hookline.ConnectionStore) {
	var want []string
	for i := range 7 {
		want = append(want, fmt.Sprintf("conn %d", i))
	}
	for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
		create(t, s, Connection(want[i]))
	}
	tests := []struct {
		limit int
		pages [][]string
	}{
		{3, [][]string{want[0:3], want[3:6], want[6:7]}},
		{7, [][]string{want}},
		{6, [][]string{want[0:6], want[6:7]}},
		{8, [][]string{want}},
		{1, [][]string{want[0:1], want[1:2], want[2:3], want[3:4], want[4:5], want[5:6], want[6:7]}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("limit ", tt.limit), func(t *testing.T) {
			token := ""
			for i, page := range tt.pages {
				list, next, err := s.Connections(t.Context(), hookline.ListOptions{Limit: tt.limit, Token: token})
				if err != nil {
					t.Fatalf("page %d: %v", i, err)
				}
				if got := names(list); !slices.Equal(got, page) {
					t.Errorf("page %d = %q; want %q", i, got, page)
				}
				last := i == len(tt.pages)-1
				if last != (next == "") {
					t.Fatalf("page %d of %d: next token %q", i+1, len(tt.pages), next)
				}
				token = next
			}
		})
	}
}

func testListPagingStable(t *testing.T, s hookline.ConnectionStore) {
	byName := map[string]*hookline.Connection{}
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		byName[name] = create(t, s, Connection(name))
	}
	list, next, err := s.Connections(t.Context(), hookline.ListOptions{Limit: 2})
	if err != nil || next == "" {
		t.Fatalf("first page: %q, %q, %v", names(list), next, err)
	}
	// Between pages: one added before the cursor, the last one seen and the
	// next one deleted, one added after the cursor.
	create(t, s, Connection("aa"))
	create(t, s, Connection("cc"))
	for _, name := range []string{"b", "c"} {
		if err := s.DeleteConnection(t.Context(), byName[name].ID); err != nil {
			t.Fatal(err)
		}
	}
	var rest []string
	for next != "" {
		list, next, err = s.Connections(t.Context(), hookline.ListOptions{Limit: 2, Token: next})
		if err != nil {
			t.Fatalf("next page: %v", err)
		}
		rest = append(rest, names(list)...)
	}
	if want := []string{"cc", "d", "e"}; !slices.Equal(rest, want) {
		t.Errorf("pages after the first = %q; want %q: paging must continue after the last name seen", rest, want)
	}
}

func testListLimits(t *testing.T, s hookline.ConnectionStore) {
	// Enough connections to see both the default and the maximum page size.
	n := hookline.MaxListLimit + 1
	for i := range n {
		create(t, s, Connection(fmt.Sprintf("conn %04d", i)))
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
		list, next, err := s.Connections(t.Context(), hookline.ListOptions{Limit: tt.limit})
		if err != nil {
			t.Fatalf("limit %d: %v", tt.limit, err)
		}
		if len(list) != tt.want || next == "" {
			t.Errorf("limit %d: %d connections, next token %q; want %d and a next token", tt.limit, len(list), next, tt.want)
		}
	}
}

func testListBadOptions(t *testing.T, s hookline.ConnectionStore) {
	create(t, s, Connection("a"))
	create(t, s, Connection("b"))
	_, token, err := s.Connections(t.Context(), hookline.ListOptions{Limit: 1})
	if err != nil || token == "" {
		t.Fatalf("first page: token %q, %v", token, err)
	}

	_, _, err = s.Connections(t.Context(), hookline.ListOptions{Limit: -1})
	wantField(t, err, "limit", "Connections(limit -1)")

	for _, bad := range []string{
		"!!!", "not a token", "%zz", "\x00", token + "!", token[:len(token)/2], "A", strings.Repeat("A", 10000),
	} {
		list, next, err := s.Connections(t.Context(), hookline.ListOptions{Token: bad})
		wantField(t, err, "token", fmt.Sprintf("Connections(token %.20q)", bad))
		if list != nil || next != "" {
			t.Errorf("token %.20q: returned %d connections and %q with the error", bad, len(list), next)
		}
	}
}
