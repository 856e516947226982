package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/accessrule"
	"github.com/hookline/hookline/rowrule"
)

// The access store. Beyond hookline.AccessStore's contract:
//
//   - IDs of users and roles are 16 upper-case hex digits chosen by the
//     store; access keys keep the ID the caller drew.
//   - The store keeps an enabled administrator: CreateFirstUser requires
//     the Administrator role and an enabled user, and no update or deletion
//     may leave users without an enabled one (ECONFLICT).
//   - Disabling a user also ends their sessions, as changing the password
//     does; their access keys stay, for when they are enabled again.
//   - Deleting a role records, besides its deletion, an update of each user
//     who held it; deleting a user records the deletion of each of their
//     access keys.
//   - TouchAccessKey records a use at most once a minute and never moves
//     LastUsedAt back. DeleteSession of an unknown session is not an error.
//
// Concurrency. On SQLite these rules hold because one transaction writes
// at a time. Here, every change to users, their roles, or the roles
// themselves' existence (create, update and delete of a user, delete of a
// role) first takes one advisory lock, lockAccess, and so runs one at a
// time across all processes; under read committed, each statement after
// the lock sees what the previous holder committed. That makes "is
// another enabled administrator left?" and "is this the first user?"
// true when the write commits, and keeps a deleted role's holders and
// audit events in step with concurrent edits of those users, without the
// lock-order deadlocks that row locks taken in different orders (user
// then role, role then user) would bring. These changes are rare and
// quick; a per-row scheme would buy nothing. The rest is held by row locks
// and indexes: the user row, locked by the change of a user, also orders
// their access keys (CreateAccessKey locks it to count them) and
// sessions (the foreign key); names and emails by unique indexes.

// lockAccess (postgres.go) serializes the changes of users and roles
// described above.

// userColumns are the columns scanUser reads; the last is the user's role
// IDs, in the order given, as a JSON array.
const userColumns = `id, email, name, password_hash, disabled, created_at, modified_at,
	(SELECT COALESCE(json_agg(role_id ORDER BY position), '[]')::text FROM user_roles WHERE user_id = users.id)`

func scanUser(s scanner) (*hookline.User, error) {
	var (
		u     hookline.User
		roles string
	)
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &u.ModifiedAt, &roles); err != nil {
		return nil, err
	}
	u.CreatedAt, u.ModifiedAt = u.CreatedAt.UTC(), u.ModifiedAt.UTC()
	if err := accessrule.DecodeRoleIDs(&u, roles); err != nil {
		return nil, err
	}
	return &u, nil
}

// readUser reads user id through q; ENOTFOUND when missing.
func readUser(ctx context.Context, q querier, id string) (*hookline.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accessrule.UserNotFound(id)
	}
	return u, err
}

// lockUser locks the row of user id until tx ends and then reads it, in a
// statement of its own so that it sees the roles that a change which held
// the lock before committed; ENOTFOUND when missing.
func lockUser(ctx context.Context, tx *sql.Tx, id string) (*hookline.User, error) {
	var got string
	err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, id).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, accessrule.UserNotFound(id)
	case err != nil:
		return nil, fmt.Errorf("lock user: %w", err)
	}
	return readUser(ctx, tx, id)
}

// CreateFirstUser stores u when no user exists yet. The first user must be
// an enabled administrator: with no one else to give the role, Hookline
// would otherwise be left without one.
func (db *DB) CreateFirstUser(ctx context.Context, u *hookline.User) error {
	return db.createUser(ctx, u, true)
}

// CreateUser validates and stores u, filling in its ID, CreatedAt and
// ModifiedAt.
func (db *DB) CreateUser(ctx context.Context, u *hookline.User) error {
	return db.createUser(ctx, u, false)
}

func (db *DB) createUser(ctx context.Context, u *hookline.User, first bool) error {
	if u == nil {
		return fmt.Errorf("create user: %w", hookline.Errorf(hookline.EINVALID, "no user given"))
	}
	err := accessrule.ValidateUser(u, first)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Email, err)
	}
	now := db.now()
	row := *u
	row.RoleIDs = slices.Clone(u.RoleIDs)
	row.CreatedAt, row.ModifiedAt = now, now
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := advisoryLock(ctx, tx, lockAccess); err != nil {
			return err
		}
		if first {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
				return fmt.Errorf("count users: %w", err)
			}
			if n > 0 {
				return accessrule.FirstUserExists()
			}
		}
		if err := checkEmail(ctx, tx, row.Email, ""); err != nil {
			return err
		}
		if err := checkRoles(ctx, tx, row.RoleIDs); err != nil {
			return err
		}
		var err error
		if row.ID, err = unusedIDIn(ctx, tx, "users"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (id, email, email_key, name, password_hash, disabled, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			row.ID, row.Email, rowrule.NameKey(row.Email), row.Name, row.PasswordHash, row.Disabled, row.CreatedAt, row.ModifiedAt)
		if err != nil {
			return mapUserConstraint(err, row.Email)
		}
		if err := writeUserRoles(ctx, tx, row.ID, row.RoleIDs); err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionCreate, targetType: hookline.AuditUser,
			targetID: row.ID, targetName: row.Email, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Email, err)
	}
	u.ID, u.CreatedAt, u.ModifiedAt = row.ID, row.CreatedAt, row.ModifiedAt
	return nil
}

// checkEmail returns ECONFLICT when a user other than id has email,
// compared case-insensitively.
func checkEmail(ctx context.Context, tx *sql.Tx, email, id string) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email_key = $1 AND id <> $2`, rowrule.NameKey(email), id).Scan(&n)
	if err != nil {
		return fmt.Errorf("check email: %w", err)
	}
	if n > 0 {
		return accessrule.EmailTaken(email)
	}
	return nil
}

// mapUserConstraint turns a violation of the unique email index into
// ECONFLICT. Under lockAccess no other change of users runs at once, so
// this is a safety net rather than a path.
func mapUserConstraint(err error, email string) error {
	if uniqueViolation(err, "users_email_key") {
		return accessrule.EmailTaken(email)
	}
	return err
}

// checkRoles returns EINVALID naming each role ID that no role has.
func checkRoles(ctx context.Context, tx *sql.Tx, ids []string) error {
	return accessrule.CheckRoles(ids, func(id string) (bool, error) {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM roles WHERE id = $1`, id).Scan(&n)
		return n > 0, err
	})
}

// writeUserRoles replaces the roles of user id.
func writeUserRoles(ctx context.Context, tx *sql.Tx, id string, roleIDs []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("write roles: %w", err)
	}
	if len(roleIDs) == 0 {
		return nil
	}
	// One statement for all of them: position is the index in the list.
	_, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role_id, position)
		SELECT $1, r.id, r.n - 1 FROM unnest($2::text[]) WITH ORDINALITY AS r (id, n)`, id, roleIDs)
	if err != nil {
		return fmt.Errorf("write roles: %w", err)
	}
	return nil
}

// otherAdminSQL tells whether an enabled user other than $2 holds role $1,
// looking the role's holders up in user_roles_role.
const otherAdminSQL = `SELECT EXISTS (SELECT 1 FROM user_roles r JOIN users u ON u.id = r.user_id
	WHERE r.role_id = $1 AND u.id <> $2 AND NOT u.disabled)`

// checkAdminRemains returns ECONFLICT when old is an enabled administrator,
// updated (not one after the update) or deleted (updated is nil), and no
// other enabled administrator exists. tx must hold lockAccess, so that no
// other administrator is being removed at the same time.
func checkAdminRemains(ctx context.Context, tx *sql.Tx, old, updated *hookline.User) error {
	if !accessrule.RemovesAdmin(old, updated) {
		return nil
	}
	var others bool
	err := tx.QueryRowContext(ctx, otherAdminSQL, hookline.AdministratorRoleID, old.ID).Scan(&others)
	if err != nil {
		return fmt.Errorf("count administrators: %w", err)
	}
	if others {
		return nil
	}
	return accessrule.LastAdmin(old, updated)
}

// User returns the user with the given ID, or ENOTFOUND.
func (db *DB) User(ctx context.Context, id string) (*hookline.User, error) {
	u, err := readUser(ctx, db.db, id)
	if err != nil {
		return nil, fmt.Errorf("read user %s: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the user with the email, compared case-insensitively,
// or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*hookline.User, error) {
	u, err := scanUser(db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = $1`, rowrule.NameKey(email)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read user: %w", hookline.Errorf(hookline.ENOTFOUND, "no user has email %q", email))
	case err != nil:
		return nil, fmt.Errorf("read user %q: %w", email, err)
	}
	return u, nil
}

// Users returns a page of users ordered by lower-cased email, then ID. The
// limit and token rules are Connections'.
func (db *DB) Users(ctx context.Context, opt hookline.ListOptions) ([]*hookline.User, string, error) {
	return usersByEmail.list(ctx, db.db, opt)
}

// usersByEmail walks users_email_key.
var usersByEmail = byName[*hookline.User]{
	what: "users", table: "users", columns: userColumns, keyColumn: "email_key", scan: scanUser,
	key: func(u *hookline.User) pageKey { return pageKey{NameKey: rowrule.NameKey(u.Email), ID: u.ID} },
}

// UpdateUser validates u and replaces the stored user u.ID's email, name,
// roles, password hash and disabled flag; a PasswordHash of "" removes the
// password. CreatedAt keeps its stored value, copied into u, and ModifiedAt
// is set. A changed password hash or a newly disabled user ends the user's
// sessions.
func (db *DB) UpdateUser(ctx context.Context, u *hookline.User) error {
	if u == nil {
		return fmt.Errorf("update user: %w", hookline.Errorf(hookline.EINVALID, "no user given"))
	}
	if err := u.Validate(); err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	row := *u
	row.RoleIDs = slices.Clone(u.RoleIDs)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := advisoryLock(ctx, tx, lockAccess); err != nil {
			return err
		}
		// The row lock also holds off a session being created for the user
		// (its foreign key) until the old ones are ended.
		old, err := lockUser(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		row.CreatedAt = old.CreatedAt
		row.ModifiedAt = rowrule.NotBefore(db.now(), old.CreatedAt)
		if err := checkEmail(ctx, tx, row.Email, row.ID); err != nil {
			return err
		}
		if err := checkRoles(ctx, tx, row.RoleIDs); err != nil {
			return err
		}
		if err := checkAdminRemains(ctx, tx, old, &row); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET email = $1, email_key = $2, name = $3, password_hash = $4,
			disabled = $5, modified_at = $6 WHERE id = $7`,
			row.Email, rowrule.NameKey(row.Email), row.Name, row.PasswordHash, row.Disabled, row.ModifiedAt, row.ID)
		if err != nil {
			return mapUserConstraint(err, row.Email)
		}
		if err := writeUserRoles(ctx, tx, row.ID, row.RoleIDs); err != nil {
			return err
		}
		if accessrule.EndsSessions(old, &row) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, row.ID); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		return db.audit(ctx, tx, change{action: actionUpdate, targetType: hookline.AuditUser,
			targetID: row.ID, targetName: row.Email, before: old.AuditView(), after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	u.CreatedAt, u.ModifiedAt = row.CreatedAt, row.ModifiedAt
	return nil
}

// DeleteUser removes the user with the given ID, their access keys and
// sessions, or returns ENOTFOUND.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := advisoryLock(ctx, tx, lockAccess); err != nil {
			return err
		}
		// Locked before the keys are read, so that a key being created
		// meanwhile (CreateAccessKey locks the user too) is either read
		// here, and its deletion recorded, or refused for a missing user.
		old, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkAdminRemains(ctx, tx, old, nil); err != nil {
			return err
		}
		keys, err := queryAll(ctx, tx, scanAccessKey,
			`SELECT `+accessKeyColumns+` FROM access_keys WHERE user_id = $1 ORDER BY created_at, id`, id)
		if err != nil {
			return fmt.Errorf("read access keys: %w", err)
		}
		for _, q := range []string{
			`DELETE FROM sessions WHERE user_id = $1`,
			`DELETE FROM access_keys WHERE user_id = $1`,
			`DELETE FROM user_roles WHERE user_id = $1`,
			`DELETE FROM users WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		for _, k := range keys {
			err := db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditAccessKey,
				targetID: k.ID, targetName: k.Label, before: k.AuditView()})
			if err != nil {
				return err
			}
		}
		return db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditUser,
			targetID: id, targetName: old.Email, before: old.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// CountUsers returns the number of users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
