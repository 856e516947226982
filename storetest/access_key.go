package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline"
)

func testAccessKeys(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("u@example.com"))
	k := newKey(u.ID, 1)
	k.LastUsedAt = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC) // not the caller's to set
	want := *k
	before := time.Now()
	createKey(t, s, k)
	checkStoreTime(t, "CreatedAt", k.CreatedAt, before, time.Now())
	if !k.LastUsedAt.IsZero() {
		t.Errorf("new key: LastUsedAt = %v; want zero", k.LastUsedAt)
	}
	want.CreatedAt, want.LastUsedAt = k.CreatedAt, time.Time{}
	if diff := cmp.Diff(&want, k, equal); diff != "" {
		t.Errorf("CreateAccessKey changed more than CreatedAt (-want +got):\n%s", diff)
	}
	got, err := s.AccessKey(t.Context(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, got, equal); diff != "" {
		t.Errorf("AccessKey(%s) (-want +got):\n%s", k.ID, diff)
	}

	if err := s.DeleteAccessKey(t.Context(), k.ID); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	for _, id := range []string{k.ID, "hk00000000000099", "", "'; DROP TABLE access_keys; --"} {
		_, err := s.AccessKey(t.Context(), id)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("AccessKey(%q)", id))
		if want := fmt.Sprintf("access key %s not found", id); hookline.ErrorMessage(err) != want {
			t.Errorf("AccessKey(%q): message %q; want %q", id, hookline.ErrorMessage(err), want)
		}
		wantCode(t, s.DeleteAccessKey(t.Context(), id), hookline.ENOTFOUND, fmt.Sprintf("DeleteAccessKey(%q)", id))
	}
	// The access ID may be used again.
	createKey(t, s, newKey(u.ID, 1))
}

func testAccessKeyValidation(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("u@example.com"))
	existing := createKey(t, s, newKey(u.ID, 1))
	tests := []struct {
		name  string
		edit  func(k *hookline.AccessKey)
		field string
	}{
		{"no ID", func(k *hookline.AccessKey) { k.ID = "" }, "id"},
		{"no user", func(k *hookline.AccessKey) { k.UserID = "" }, "userId"},
		{"unknown user", func(k *hookline.AccessKey) { k.UserID = "00000000000468D5" }, "userId"},
		{"no hash", func(k *hookline.AccessKey) { k.KeyHash = "" }, "keyHash"},
		{"long label", func(k *hookline.AccessKey) { k.Label = strings.Repeat("l", hookline.MaxLabelLen+1) }, "label"},
		{"control in label", func(k *hookline.AccessKey) { k.Label = "a\nb" }, "label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKey(u.ID, 2)
			tt.edit(k)
			wantField(t, s.CreateAccessKey(t.Context(), k), tt.field, "CreateAccessKey")
		})
	}
	wantCode(t, s.CreateAccessKey(t.Context(), nil), hookline.EINVALID, "CreateAccessKey(nil)")
	// A taken access ID, even for another user.
	v := createUser(t, s, newUser("v@example.com"))
	dup := newKey(v.ID, 1)
	dup.KeyHash = "other"
	wantConflict(t, s.CreateAccessKey(t.Context(), dup), "id", "CreateAccessKey with a taken ID")

	if diff := cmp.Diff([]*hookline.AccessKey{existing}, listKeys(t, s, "", 0), equal); diff != "" {
		t.Errorf("after refused creates (-want +got):\n%s", diff)
	}
}

func testAccessKeyLimit(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("u@example.com"))
	v := createUser(t, s, newUser("v@example.com"))
	for i := range hookline.MaxAccessKeysUser {
		createKey(t, s, newKey(u.ID, i))
	}
	over := newKey(u.ID, 100)
	wantCode(t, s.CreateAccessKey(t.Context(), over), hookline.ECONFLICT, "one key over the limit")
	if _, err := s.AccessKey(t.Context(), over.ID); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Errorf("the refused key was stored: %v", err)
	}
	createKey(t, s, newKey(v.ID, 101)) // another user's keys are their own
	if err := s.DeleteAccessKey(t.Context(), newKey("", 0).ID); err != nil {
		t.Fatal(err)
	}
	createKey(t, s, over)
	if got := len(listKeys(t, s, u.ID, 0)); got != hookline.MaxAccessKeysUser {
		t.Errorf("user holds %d keys; want %d", got, hookline.MaxAccessKeysUser)
	}
}

func testAccessKeysList(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("u@example.com"))
	v := createUser(t, s, newUser("v@example.com"))
	var created []*hookline.AccessKey
	for i := range 7 {
		owner := u
		if i%3 == 1 {
			owner = v
		}
		created = append(created, createKey(t, s, newKey(owner.ID, 7-i))) // IDs descending, so ID order is not creation order
		time.Sleep(time.Millisecond)
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)
	of := func(userID string) []*hookline.AccessKey {
		var out []*hookline.AccessKey
		for _, k := range newestFirst {
			if userID == "" || k.UserID == userID {
				out = append(out, k)
			}
		}
		return out
	}
	for _, userID := range []string{"", u.ID, v.ID} {
		for _, limit := range []int{0, 1, 2, 7} {
			if diff := cmp.Diff(of(userID), listKeys(t, s, userID, limit), equal); diff != "" {
				t.Errorf("AccessKeys(%q, pages of %d), newest first (-want +got):\n%s", userID, limit, diff)
			}
		}
	}
	if got := listKeys(t, s, "00000000000468D5", 0); len(got) != 0 {
		t.Errorf("AccessKeys of an unknown user = %q; want none", keyIDs(got))
	}
	list, _, err := s.AccessKeys(t.Context(), "", hookline.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list[0].Label = "changed"
	if got, err := s.AccessKey(t.Context(), list[0].ID); err != nil || got.Label == "changed" {
		t.Errorf("AccessKey after changing a returned key: %+v, %v; want it unchanged", got, err)
	}
}

func testTouchAccessKey(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("u@example.com"))
	k := createKey(t, s, newKey(u.ID, 1))
	other := createKey(t, s, newKey(u.ID, 2))
	events := countEvents(t, s)

	at := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	steps := []struct {
		at, want time.Time
	}{
		{at, at},
		{at.Add(30 * time.Second), at},             // within a minute: not recorded
		{at.Add(-time.Hour), at},                   // never back
		{at.Add(time.Minute), at.Add(time.Minute)}, // a minute on
		{at.Add(time.Hour), at.Add(time.Hour)},     // later still
		{at.Add(time.Hour + time.Second), at.Add(time.Hour)},
	}
	for i, step := range steps {
		if err := s.TouchAccessKey(t.Context(), k.ID, step.at); err != nil {
			t.Fatalf("step %d: TouchAccessKey: %v", i, err)
		}
		got, err := s.AccessKey(t.Context(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastUsedAt.Equal(step.want) || got.LastUsedAt.Location() != time.UTC {
			t.Errorf("step %d: touched at %v: LastUsedAt = %v; want %v in UTC", i, step.at, got.LastUsedAt, step.want)
		}
	}
	if got, err := s.AccessKey(t.Context(), other.ID); err != nil || !got.LastUsedAt.IsZero() {
		t.Errorf("an untouched key: %+v, %v; want LastUsedAt zero", got, err)
	}
	// A key deleted meanwhile, or never there.
	if err := s.DeleteAccessKey(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{k.ID, "hk00000000000099"} {
		if err := s.TouchAccessKey(t.Context(), id, at.Add(2*time.Hour)); err != nil {
			t.Errorf("TouchAccessKey(%s) of a missing key: %v; want nil", id, err)
		}
	}
	if got := countEvents(t, s); got != events+1 {
		t.Errorf("%d audit events after touches and one delete; want %d: touches are not recorded", got, events+1)
	}
}

func testSessions(t *testing.T, s hookline.AccessStore) {
	u := createUser(t, s, newUser("u@example.com"))
	// Microseconds: what every engine keeps.
	sess := &hookline.Session{TokenHash: tokenHash(1), UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Microsecond)}
	before := time.Now()
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	checkStoreTime(t, "CreatedAt", sess.CreatedAt, before, time.Now())
	got, err := s.Session(t.Context(), sess.TokenHash)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if diff := cmp.Diff(sess, got); diff != "" {
		t.Errorf("Session (-want +got):\n%s", diff)
	}
	if got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt %v is not in UTC", got.ExpiresAt)
	}

	// Expired by the store's clock.
	expired := &hookline.Session{TokenHash: tokenHash(2), UserID: u.ID, ExpiresAt: time.Now().Add(-time.Second)}
	if err := s.CreateSession(t.Context(), expired); err != nil {
		t.Fatalf("CreateSession(expired): %v", err)
	}
	for _, hash := range []string{expired.TokenHash, tokenHash(3), "", strings.ToUpper(sess.TokenHash)} {
		_, err := s.Session(t.Context(), hash)
		wantCode(t, err, hookline.ENOTFOUND, fmt.Sprintf("Session(%.12q)", hash))
		if strings.Contains(hookline.ErrorMessage(err), hash) && hash != "" {
			t.Errorf("Session(%.12q): the message %q shows the token hash", hash, hookline.ErrorMessage(err))
		}
	}

	// Sign-out, twice.
	for i := range 2 {
		if err := s.DeleteSession(t.Context(), sess.TokenHash); err != nil {
			t.Errorf("DeleteSession #%d: %v", i+1, err)
		}
	}
	_, err = s.Session(t.Context(), sess.TokenHash)
	wantCode(t, err, hookline.ENOTFOUND, "Session after DeleteSession")

	// Refused sessions.
	tests := []struct {
		name  string
		s     *hookline.Session
		field string
	}{
		{"unknown user", &hookline.Session{TokenHash: tokenHash(4), UserID: "00000000000468D5", ExpiresAt: time.Now().Add(time.Hour)}, "userId"},
		{"no user", &hookline.Session{TokenHash: tokenHash(4), ExpiresAt: time.Now().Add(time.Hour)}, "userId"},
		{"no hash", &hookline.Session{UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}, "tokenHash"},
		{"no expiry", &hookline.Session{TokenHash: tokenHash(4), UserID: u.ID}, "expiresAt"},
	}
	for _, tt := range tests {
		wantField(t, s.CreateSession(t.Context(), tt.s), tt.field, "CreateSession("+tt.name+")")
	}
	wantCode(t, s.CreateSession(t.Context(), nil), hookline.EINVALID, "CreateSession(nil)")
	if hasSession(t, s, 4) {
		t.Errorf("a refused session was stored")
	}
}
