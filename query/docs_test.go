package query

import (
	"os"
	"strings"
	"testing"
)

// TestDocs keeps docs/query.md true: every operator has a section, every
// example in a query block parses, and the errors it shows are the ones
// Parse gives.
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/query.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, op := range operators {
		if !strings.Contains(doc, "### "+op) && !strings.Contains(doc, ", "+op) {
			t.Errorf("docs/query.md has no section for %s", op)
		}
	}
	examples := 0
	for _, block := range codeBlocks(doc, "query") {
		for _, line := range strings.Split(block, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			examples++
			if _, err := Parse(line); err != nil {
				t.Errorf("docs/query.md example %q: %v", line, err)
			}
		}
	}
	if examples < 10 {
		t.Errorf("found %d query examples in docs/query.md, want the examples", examples)
	}
	_, refused, ok := strings.Cut(doc, "## What is refused")
	if !ok {
		t.Fatal(`docs/query.md has no section "What is refused"`)
	}
	blocks := codeBlocks(refused, "text")
	if len(blocks) == 0 {
		t.Fatal("no error examples under What is refused")
	}
	lines := strings.Split(strings.TrimSpace(blocks[0]), "\n")
	if len(lines) < 10 || len(lines)%2 != 0 {
		t.Fatalf("want pairs of query and error lines, found %d lines", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		src, want := lines[i], strings.TrimPrefix(lines[i+1], "  ")
		if _, err := Parse(src); err == nil || err.Error() != want {
			t.Errorf("docs/query.md says %q gives\n  %s\nParse gives\n  %v", src, want, err)
		}
	}
}

// codeBlocks returns the contents of the fenced blocks of the language lang.
func codeBlocks(doc, lang string) []string {
	var blocks []string
	for {
		_, rest, ok := strings.Cut(doc, "```"+lang+"\n")
		if !ok {
			return blocks
		}
		block, after, _ := strings.Cut(rest, "```")
		blocks = append(blocks, block)
		doc = after
	}
}
