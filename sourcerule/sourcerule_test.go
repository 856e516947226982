package sourcerule_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/sourcerule"
)

var (
	created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now     = created.Add(time.Hour)
	hashA   = strings.Repeat("a", 64)
	hashB   = strings.Repeat("b", 64)
)

// stored is a source as the store holds it.
func stored() *hookline.Source {
	return &hookline.Source{ID: "0123456789ABCDEF", Name: "web", Category: "prod/web", TokenHash: hashA,
		Received: 7, LastReceivedAt: created.Add(time.Minute), CreatedAt: created, ModifiedAt: created}
}

func TestCreated(t *testing.T) {
	s := &hookline.Source{Name: "web", TokenHash: hashA, Received: 9, LastReceivedAt: now, CreatedAt: created}
	got, err := sourcerule.Created(s, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != now || got.ModifiedAt != now || got.Received != 0 || !got.LastReceivedAt.IsZero() {
		t.Errorf("Created = %+v; want times now and counters zero", got)
	}
	if s.Received != 9 || s.CreatedAt != created {
		t.Errorf("Created changed its argument: %+v", s)
	}
	if _, err := sourcerule.Created(&hookline.Source{Name: "web"}, now); hookline.ErrorCode(err) != hookline.EINVALID {
		t.Errorf("Created without a token hash: %v; want EINVALID", err)
	}
}

func TestUpdated(t *testing.T) {
	tests := []struct {
		name         string
		s            hookline.Source
		now          time.Time
		wantModified time.Time
		invalid      bool
	}{
		{"renamed", hookline.Source{ID: "0123456789ABCDEF", Name: "api", TokenHash: hashB, Received: 1}, now, now, false},
		{"without a token hash", hookline.Source{ID: "0123456789ABCDEF", Name: "api"}, now, now, false},
		{"clock stepped back", hookline.Source{ID: "0123456789ABCDEF", Name: "api"}, created.Add(-time.Hour), created, false},
		{"invalid", hookline.Source{ID: "0123456789ABCDEF", Name: ""}, now, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := stored()
			got, err := sourcerule.Updated(old, &tt.s, tt.now)
			if tt.invalid {
				if hookline.ErrorCode(err) != hookline.EINVALID {
					t.Errorf("Updated: %v; want EINVALID", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.s.Name || got.TokenHash != old.TokenHash || got.Received != old.Received ||
				got.LastReceivedAt != old.LastReceivedAt || got.CreatedAt != old.CreatedAt || got.ModifiedAt != tt.wantModified {
				t.Errorf("Updated = %+v; want the new name with the stored hash, counters and creation, modified %v", got, tt.wantModified)
			}
		})
	}
}

func TestRotated(t *testing.T) {
	tests := []struct {
		name    string
		hash    string
		now     time.Time
		invalid bool
	}{
		{"new hash", hashB, now, false},
		{"clock stepped back", hashB, created.Add(-time.Hour), false},
		{"not a hash", "token", now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := stored()
			got, err := sourcerule.Rotated(old, tt.hash, tt.now)
			if tt.invalid {
				if hookline.ErrorCode(err) != hookline.EINVALID {
					t.Errorf("Rotated: %v; want EINVALID", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.TokenHash != tt.hash || old.TokenHash != hashA || got.Name != old.Name || got.Received != old.Received {
				t.Errorf("Rotated = %+v (old %+v); want old with the new hash", got, old)
			}
			if got.ModifiedAt.Before(old.CreatedAt) || (tt.now.After(created) && got.ModifiedAt != tt.now) {
				t.Errorf("ModifiedAt = %v; want %v, not before %v", got.ModifiedAt, tt.now, created)
			}
		})
	}
}

func TestConflict(t *testing.T) {
	tests := []struct {
		name                 string
		nameTaken, hashTaken bool
		code, field, msg     string
	}{
		{"none", false, false, "", "", ""},
		{"name", true, false, hookline.ECONFLICT, "name", `a source named "web" already exists`},
		{"name first", true, true, hookline.ECONFLICT, "name", `a source named "web" already exists`},
		{"hash", false, true, hookline.ECONFLICT, "tokenHash", "another source has this token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sourcerule.Conflict("web", tt.nameTaken, tt.hashTaken)
			if tt.code == "" {
				if err != nil {
					t.Errorf("Conflict: %v; want none", err)
				}
				return
			}
			var e *hookline.Error
			if !errors.As(err, &e) || e.Code != tt.code || e.Message != tt.msg || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
				t.Errorf("Conflict: %#v; want %s %q naming %s", err, tt.code, tt.msg, tt.field)
			}
		})
	}
	if err := sourcerule.NotFound("S1"); hookline.ErrorCode(err) != hookline.ENOTFOUND || err.Error() != "source S1 not found" {
		t.Errorf("NotFound: %v", err)
	}
}
