// Package accessrule owns the rules of hookline.AccessStore that do not
// depend on the storage engine: what the store checks of a new user, role,
// access key or session beyond their Validate, the first user and the last
// enabled administrator, how a role's capabilities and a user's roles are
// kept, and the errors the engines return for each (codes, fields and
// messages alike in both). The engines keep their SQL, their transactions
// and the locks that make these rules hold under concurrency.
package accessrule

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// UserNotFound is the error of a user that does not exist.
func UserNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "user %s not found", id)
}

// EmailTaken is the conflict of an email another user has.
func EmailTaken(email string) error {
	return conflictOn("email", "is already used by another user (emails are compared ignoring case)",
		"a user with email %q already exists", email)
}

// NoUser is EINVALID naming field, whose user id does not exist.
func NoUser(field, id string) error {
	var p hookline.Problems
	p.Add(field, "names user %s, who does not exist", id)
	return p.Err()
}

// FirstUserExists is the conflict of CreateFirstUser once a user exists.
func FirstUserExists() error {
	return hookline.Errorf(hookline.ECONFLICT, "the first user exists already; sign in as an administrator to add users")
}

// ValidateUser validates u, and with first what the first user must be
// besides: an enabled administrator, since with no one else to give the
// role Hookline would otherwise be left without one.
func ValidateUser(u *hookline.User, first bool) error {
	if err := u.Validate(); err != nil || !first {
		return err
	}
	var p hookline.Problems
	if !slices.Contains(u.RoleIDs, hookline.AdministratorRoleID) {
		p.Add("roleIds", "must include the Administrator role (%s): the first user administers Hookline", hookline.AdministratorRoleID)
	}
	if u.Disabled {
		p.Add("disabled", "must be false: the first user administers Hookline")
	}
	return p.Err()
}

// CheckRoles returns EINVALID naming each of ids that exists reports
// missing.
func CheckRoles(ids []string, exists func(id string) (bool, error)) error {
	var p hookline.Problems
	for i, id := range ids {
		ok, err := exists(id)
		if err != nil {
			return fmt.Errorf("check roles: %w", err)
		}
		if !ok {
			p.Add(fmt.Sprintf("roleIds[%d]", i), "names role %s, which does not exist", id)
		}
	}
	return p.Err()
}

// DecodeRoleIDs sets u's role IDs from their stored JSON array.
func DecodeRoleIDs(u *hookline.User, roles string) error {
	if err := json.Unmarshal([]byte(roles), &u.RoleIDs); err != nil {
		return fmt.Errorf("user %s: decode roles: %w", u.ID, err)
	}
	return nil
}

// EndsSessions reports whether updating old to updated ends the user's
// sessions: a changed password, or a user newly disabled.
func EndsSessions(old, updated *hookline.User) bool {
	return updated.PasswordHash != old.PasswordHash || (updated.Disabled && !old.Disabled)
}

func enabledAdmin(u *hookline.User) bool {
	return !u.Disabled && slices.Contains(u.RoleIDs, hookline.AdministratorRoleID)
}

// RemovesAdmin reports whether updating old to updated (nil: deleting
// old) takes an enabled administrator away; the engine then asks whether
// another enabled one is left, and if not fails with LastAdmin.
func RemovesAdmin(old, updated *hookline.User) bool {
	return enabledAdmin(old) && (updated == nil || !enabledAdmin(updated))
}

// LastAdmin is the conflict of taking away, as RemovesAdmin tells, the
// last enabled administrator old; it names the field that would do it.
func LastAdmin(old, updated *hookline.User) error {
	e := &hookline.Error{Code: hookline.ECONFLICT}
	const why = "%s is the last enabled administrator; give another enabled user the Administrator role before %s"
	switch {
	case updated == nil:
		e.Message = fmt.Sprintf(why, old.Email, "deleting them")
	case updated.Disabled:
		e.Message = fmt.Sprintf(why, old.Email, "disabling them")
		e.Fields = []hookline.FieldError{{Field: "disabled", Message: "would leave no enabled administrator"}}
	default:
		e.Message = fmt.Sprintf(why, old.Email, "removing their Administrator role")
		e.Fields = []hookline.FieldError{{Field: "roleIds", Message: "would leave no enabled administrator"}}
	}
	return e
}

// conflictOn is ECONFLICT naming the field whose value another row holds,
// so that a client can point at the input to change.
func conflictOn(field, why, format string, args ...any) error {
	return &hookline.Error{
		Code:    hookline.ECONFLICT,
		Message: fmt.Sprintf(format, args...),
		Fields:  []hookline.FieldError{{Field: field, Message: why}},
	}
}

// Printable reports whether s is valid UTF-8 without control characters.
func Printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}
