package hookline_test

import (
	"strings"
	"testing"

	"github.com/hookline/hookline"
)

func TestMatchCategory(t *testing.T) {
	tests := []struct {
		pattern, category string
		want              bool
	}{
		{"prod/web", "prod/web", true},
		{"prod/web", "PROD/Web", true},
		{"PROD/WEB", "prod/web", true},
		{"prod/web", "prod/web2", false},
		{"prod/*", "prod/web", true},
		{"prod/*", "PROD/", true},
		{"prod/*", "prod", false},
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "x", false},
		{"préd/web", "PRÉD/web", false}, // only ASCII letters fold, as SQL's lower() and LIKE
		{"préd/*", "préd/x", true},
		{"a%b", "axb", false},
		{"a_*", "axb", false},
		{"prod/**", "prod/*x", true},
		{"prod/**", "prod/x", false},
	}
	for _, tt := range tests {
		if got := hookline.MatchCategory(tt.pattern, tt.category); got != tt.want {
			t.Errorf("MatchCategory(%q, %q) = %v; want %v", tt.pattern, tt.category, got, tt.want)
		}
	}
}

func TestSourceValidate(t *testing.T) {
	valid := func() *hookline.Source {
		return &hookline.Source{Name: "web", Category: "prod/web", HostName: "web-1", TokenHash: hookline.SourceTokenHash("t")}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("a valid source: %v", err)
	}
	tests := []struct {
		field  string
		change func(*hookline.Source)
	}{
		{"name", func(s *hookline.Source) { s.Name = "" }},
		{"description", func(s *hookline.Source) { s.Description = strings.Repeat("d", hookline.MaxDescriptionLen+1) }},
		{"category", func(s *hookline.Source) { s.Category = strings.Repeat("c", hookline.MaxMetadataLen+1) }},
		{"category", func(s *hookline.Source) { s.Category = "a\x7fb" }},
		{"hostName", func(s *hookline.Source) { s.HostName = "\xc3" }},
		{"tokenHash", func(s *hookline.Source) { s.TokenHash = "abc" }},
		{"tokenHash", func(s *hookline.Source) { s.TokenHash = strings.Repeat("G", 64) }},
	}
	for _, tt := range tests {
		s := valid()
		tt.change(s)
		err := s.Validate()
		if hookline.ErrorCode(err) != hookline.EINVALID || !strings.Contains(err.Error(), tt.field+":") {
			t.Errorf("a bad %s: %v; want EINVALID naming it", tt.field, err)
		}
	}
	// The hash is SHA-256 in lower-case hex, and the audit view leaves it out.
	if h := hookline.SourceTokenHash("abc"); h != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("SourceTokenHash(abc) = %s", h)
	}
	if v := valid().AuditView(); v.Name != "web" || strings.Contains(strings.ToLower(strings.Join([]string{v.Name, v.Description, v.Category, v.HostName}, " ")), hookline.SourceTokenHash("t")) {
		t.Errorf("AuditView = %+v", v)
	}
}
