package hookline_test

import (
	"errors"
	"fmt"
	"slices"
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

func TestMatchKeywords(t *testing.T) {
	tests := []struct {
		message  string
		keywords []string
		want     bool
	}{
		{"POST /LOGIN 401", nil, true},
		{"POST /LOGIN 401", []string{"login"}, true},
		{"POST /LOGIN 401", []string{"post", "Login", "401"}, true},
		{"POST /LOGIN 401", []string{"post", "logout"}, false},
		{"", []string{"x"}, false},
		{"disk 50x full", []string{"50%"}, false}, // no wildcards
		{"user_id", []string{"r_i"}, true},
		{"ÜBER", []string{"über"}, false}, // only ASCII letters fold
		{"\u212aelvin", []string{"kelvin"}, false},
		{"İSTANBUL", []string{"istanbul"}, false},
		{"a\x00B", []string{"A\x00b"}, true},
	}
	for _, tt := range tests {
		if got := hookline.MatchKeywords(tt.message, tt.keywords); got != tt.want {
			t.Errorf("MatchKeywords(%q, %q) = %v; want %v", tt.message, tt.keywords, got, tt.want)
		}
	}
}

func TestLogScanValidate(t *testing.T) {
	many := make([]string, hookline.MaxScanKeywords+1)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	tests := []struct {
		name string
		scan hookline.LogScan
		want []string // the fields named
	}{
		{"empty", hookline.LogScan{}, nil},
		{"keywords", hookline.LogScan{Keywords: []string{"a", "%", "ü"}, Limit: 3}, nil},
		{"the most keywords", hookline.LogScan{Keywords: many[:hookline.MaxScanKeywords]}, nil},
		{"too many keywords", hookline.LogScan{Keywords: many}, []string{"keywords"}},
		{"an empty keyword", hookline.LogScan{Keywords: []string{"a", ""}}, []string{"keywords"}},
		{"not UTF-8", hookline.LogScan{Keywords: []string{"\xff"}}, []string{"keywords"}},
		{"a negative limit", hookline.LogScan{Limit: -1, Keywords: []string{""}}, []string{"limit", "keywords"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.scan.Validate()
			var e *hookline.Error
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.As(err, &e) || e.Code != hookline.EINVALID {
				t.Fatalf("Validate: %v; want EINVALID", err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Validate named %q; want %q (%v)", got, tt.want, err)
			}
		})
	}
}

func TestScanKeywords(t *testing.T) {
	var many []string
	for i := range hookline.MaxScanKeywords + 4 {
		many = append(many, fmt.Sprint(i))
	}
	tests := []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"", "\xff"}, nil},
		{[]string{"a", "", "b", "\xffc"}, []string{"a", "b"}},
		{many, many[:hookline.MaxScanKeywords]},
		{append([]string{""}, many...), many[:hookline.MaxScanKeywords]},
	}
	for _, tt := range tests {
		got := hookline.ScanKeywords(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("ScanKeywords(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if err := (hookline.LogScan{Keywords: got}).Validate(); err != nil {
			t.Errorf("ScanKeywords(%q) = %q, which Validate refuses: %v", tt.in, got, err)
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
