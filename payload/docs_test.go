package payload_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/payload"
)

// TestDocs keeps docs/payload.md true: it lists every variable, and the
// errors it shows are the ones Parse gives.
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/payload.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, v := range payload.Reference {
		if !strings.Contains(doc, "| `{{"+v.Name+"}}`") && !strings.Contains(doc, "`{{"+v.Name+"}}` |") {
			t.Errorf("docs/payload.md has no table entry for {{%s}}", v.Name)
		}
	}
	_, refused, ok := strings.Cut(doc, "## What is refused")
	if !ok {
		t.Fatal("docs/payload.md has no section 'What is refused'")
	}
	row := regexp.MustCompile("(?m)^\\| (?:`(.*)`|\\*\\(empty\\)\\*) \\| `(.*)` \\|$")
	rows := row.FindAllStringSubmatch(refused, -1)
	if len(rows) < 5 {
		t.Fatalf("found %d error examples in docs/payload.md, want the table", len(rows))
	}
	for _, r := range rows {
		_, err := payload.Parse(r[1])
		if err == nil || err.Error() != r[2] {
			t.Errorf("docs/payload.md says %q gives %q; Parse gives %v", r[1], r[2], err)
		}
	}
}
