// Package sourcerule owns the rules of the HTTP sources in
// hookline.LogStore that do not depend on the storage engine: what a
// create, an update and a token rotation store (which fields change, which
// keep their stored values, the times), and the errors of a missing source,
// a taken name and a taken token hash. The engines keep their SQL and
// locks.
package sourcerule

import (
	"fmt"
	"time"

	"github.com/hookline/hookline"
)

// NotFound is the error of a source that does not exist.
func NotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "source %s not found", id)
}

// NameTaken is the conflict of a name another source has, compared
// ignoring case. It names the field, so that a client can point at the
// input to change.
func NameTaken(name string) error {
	return &hookline.Error{
		Code:    hookline.ECONFLICT,
		Message: fmt.Sprintf("a source named %q already exists", name),
		Fields: []hookline.FieldError{{
			Field: "name", Message: "is already used by another source (names are compared ignoring case)",
		}},
	}
}

// TokenTaken is the conflict of a token hash another source has: 256
// random bits drawn twice, a caller's bug rather than bad luck.
func TokenTaken() error {
	return &hookline.Error{
		Code:    hookline.ECONFLICT,
		Message: "another source has this token",
		Fields:  []hookline.FieldError{{Field: "tokenHash", Message: "is the hash of another source's token"}},
	}
}

// Conflict is the conflict that the engine's check found for a source
// named name: NameTaken, else TokenTaken, else nil.
func Conflict(name string, nameTaken, hashTaken bool) error {
	switch {
	case nameTaken:
		return NameTaken(name)
	case hashTaken:
		return TokenTaken()
	}
	return nil
}

// Created returns what CreateSource stores of s at now, but for its ID:
// created and modified now, its counters at zero.
func Created(s *hookline.Source, now time.Time) (*hookline.Source, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	row := *s
	row.CreatedAt, row.ModifiedAt = now, now
	row.Received, row.LastReceivedAt = 0, time.Time{}
	return &row, nil
}

// Updated returns what UpdateSource stores when s replaces old at now: s's
// name, description, category and host name, with old's token hash,
// counters and CreatedAt. The stored hash stands in for the one given,
// which UpdateSource does not change, so that validation need not see it.
func Updated(old, s *hookline.Source, now time.Time) (*hookline.Source, error) {
	row := *s
	row.TokenHash = old.TokenHash
	if err := row.Validate(); err != nil {
		return nil, err
	}
	row.CreatedAt, row.Received, row.LastReceivedAt = old.CreatedAt, old.Received, old.LastReceivedAt
	row.ModifiedAt = notBefore(now, old.CreatedAt)
	return &row, nil
}

// Rotated returns what RotateSourceToken stores when old's token hash
// becomes tokenHash at now.
func Rotated(old *hookline.Source, tokenHash string, now time.Time) (*hookline.Source, error) {
	next := *old
	next.TokenHash = tokenHash
	if err := next.Validate(); err != nil {
		return nil, err
	}
	next.ModifiedAt = notBefore(now, old.CreatedAt)
	return &next, nil
}

// notBefore returns t, or earliest when t is before it: a clock stepped
// back must not make a source modified before it was created.
func notBefore(t, earliest time.Time) time.Time {
	if t.Before(earliest) {
		return earliest
	}
	return t
}
