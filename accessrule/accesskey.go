package accessrule

import (
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// AccessKeyNotFound is the error of an access key that does not exist.
func AccessKeyNotFound(id string) error {
	return hookline.Errorf(hookline.ENOTFOUND, "access key %s not found", id)
}

// AccessIDTaken is the conflict of an access ID another key has.
func AccessIDTaken(id string) error {
	return conflictOn("id", "is already used by another access key", "access ID %s is taken", id)
}

// TooManyKeys is the conflict of a new key for user userID, who holds
// held keys, hookline.MaxAccessKeysUser or more.
func TooManyKeys(userID string, held int) error {
	return hookline.Errorf(hookline.ECONFLICT, "user %s holds %d access keys, the most allowed; delete one to create another",
		userID, held)
}

// ValidateAccessKey checks what the store needs of a new key; the access
// ID's and the hash's form are the caller's, who draws and hashes them.
// With printableID the access ID must be Printable too, for an engine
// whose text cannot hold every byte.
func ValidateAccessKey(k *hookline.AccessKey, printableID bool) error {
	var p hookline.Problems
	if k.ID == "" {
		p.Add("id", "is required")
	} else if printableID && !Printable(k.ID) {
		p.Add("id", "must not contain control characters or invalid UTF-8")
	}
	if n := utf8.RuneCountInString(k.Label); n > hookline.MaxLabelLen {
		p.Add("label", "is %d characters long; at most %d are allowed", n, hookline.MaxLabelLen)
	} else if !Printable(k.Label) {
		p.Add("label", "must not contain control characters or invalid UTF-8")
	}
	if k.UserID == "" {
		p.Add("userId", "is required")
	}
	if k.KeyHash == "" {
		p.Add("keyHash", "is required")
	}
	return p.Err()
}

// ValidateSession checks what the store needs of a new session.
func ValidateSession(s *hookline.Session) error {
	var p hookline.Problems
	if s.TokenHash == "" {
		p.Add("tokenHash", "is required")
	}
	if s.UserID == "" {
		p.Add("userId", "is required")
	}
	if s.ExpiresAt.IsZero() {
		p.Add("expiresAt", "is required")
	}
	return p.Err()
}
