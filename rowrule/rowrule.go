// Package rowrule owns the rules that stored rows of every kind keep alike
// in both storage engines: the key a name or an email is compared and
// ordered by (NameKey, the name_key and email_key columns), and a
// modification time that never goes before the creation time (NotBefore).
package rowrule

import (
	"strings"
	"time"
)

// NameKey is the form of a name that uniqueness and ordering use. It is
// computed here, not with the database's lower(): SQLite's folds ASCII
// only, and PostgreSQL's depends on the database's locale, so either would
// make the two engines, or two databases, disagree on which names are
// taken. Changing it changes the stored format.
func NameKey(name string) string { return strings.ToLower(name) }

// NotBefore returns t, or earliest when t is before it: a clock stepped
// back must not make something modified before it was created.
func NotBefore(t, earliest time.Time) time.Time {
	if t.Before(earliest) {
		return earliest
	}
	return t
}
