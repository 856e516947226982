package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/accessrule"
	"github.com/hookline/hookline/rowrule"
)

const roleColumns = `id, name, description, capabilities, built_in, created_at, modified_at`

// scanRole reads a row of roleColumns. A built-in role has every
// capability there is, whatever its row says.
func scanRole(s scanner) (*hookline.Role, error) {
	var (
		r                     hookline.Role
		caps                  string
		builtIn               int
		createdAt, modifiedAt string
	)
	if err := s.Scan(&r.ID, &r.Name, &r.Description, &caps, &builtIn, &createdAt, &modifiedAt); err != nil {
		return nil, err
	}
	r.BuiltIn = builtIn != 0
	if err := accessrule.DecodeCapabilities(&r, caps); err != nil {
		return nil, err
	}
	var err error
	if r.CreatedAt, r.ModifiedAt, err = parseStamps("role "+r.ID, createdAt, modifiedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

func readRole(ctx context.Context, q querier, id string) (*hookline.Role, error) {
	r, err := scanRole(q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accessrule.RoleNotFound(id)
	}
	return r, err
}

// checkRoleName returns ECONFLICT when a role other than id has name,
// compared case-insensitively.
func checkRoleName(ctx context.Context, tx *sql.Tx, name, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM roles WHERE name_key = ? AND id <> ?`, rowrule.NameKey(name), id).Scan(&n); err != nil {
		return fmt.Errorf("check name: %w", err)
	}
	if n > 0 {
		return accessrule.RoleNameTaken(name)
	}
	return nil
}

func mapRoleConstraint(err error, name string) error {
	if isUniqueConflict(err) {
		return accessrule.RoleNameTaken(name)
	}
	return err
}

// CreateRole validates and stores r, filling in its ID and times. Its
// capabilities are stored, and copied into r, without repeats and in
// hookline.Capabilities order; BuiltIn is always false.
func (db *DB) CreateRole(ctx context.Context, r *hookline.Role) error {
	if r == nil {
		return fmt.Errorf("create role: %w", hookline.Errorf(hookline.EINVALID, "no role given"))
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	now := db.now()
	row := *r
	row.Capabilities = accessrule.CapabilitySet(r.Capabilities)
	row.BuiltIn = false
	row.CreatedAt, row.ModifiedAt = now, now
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkRoleName(ctx, tx, row.Name, ""); err != nil {
			return err
		}
		var err error
		if row.ID, err = unusedIDIn(ctx, tx, "roles"); err != nil {
			return err
		}
		caps, _ := json.Marshal(row.Capabilities) // strings always encode
		_, err = tx.ExecContext(ctx, `INSERT INTO roles (id, name, name_key, description, capabilities, built_in, created_at, modified_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
			row.ID, row.Name, rowrule.NameKey(row.Name), row.Description, string(caps), formatTime(row.CreatedAt), formatTime(row.ModifiedAt))
		if err != nil {
			return mapRoleConstraint(err, row.Name)
		}
		return db.audit(ctx, tx, change{action: actionCreate, targetType: hookline.AuditRole,
			targetID: row.ID, targetName: row.Name, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	r.ID, r.Capabilities, r.BuiltIn, r.CreatedAt, r.ModifiedAt = row.ID, slices.Clone(row.Capabilities), false, row.CreatedAt, row.ModifiedAt
	return nil
}

// Role returns the role with the given ID, or ENOTFOUND.
func (db *DB) Role(ctx context.Context, id string) (*hookline.Role, error) {
	r, err := readRole(ctx, db.read, id)
	if err != nil {
		return nil, fmt.Errorf("read role %s: %w", id, err)
	}
	return r, nil
}

// Roles returns every role: the built-in ones first, then by lower-cased
// name and ID.
func (db *DB) Roles(ctx context.Context) ([]*hookline.Role, error) {
	list, err := queryAll(ctx, db.read, scanRole, `SELECT `+roleColumns+` FROM roles ORDER BY built_in DESC, name_key, id`)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return list, nil
}

// UpdateRole validates r and replaces the stored role r.ID's name,
// description and capabilities (stored as CreateRole stores them, and
// copied into r with the stored times and BuiltIn). EFORBIDDEN for a
// built-in role.
func (db *DB) UpdateRole(ctx context.Context, r *hookline.Role) error {
	if r == nil {
		return fmt.Errorf("update role: %w", hookline.Errorf(hookline.EINVALID, "no role given"))
	}
	row := *r
	row.Capabilities = accessrule.CapabilitySet(r.Capabilities)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readRole(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		if old.BuiltIn {
			return accessrule.BuiltInRole(old, "changed")
		}
		// Validated after the built-in check, so that any change to a
		// built-in role is refused for that reason first.
		if err := r.Validate(); err != nil {
			return err
		}
		row.BuiltIn, row.CreatedAt = false, old.CreatedAt
		row.ModifiedAt = rowrule.NotBefore(db.now(), old.CreatedAt)
		if err := checkRoleName(ctx, tx, row.Name, row.ID); err != nil {
			return err
		}
		caps, _ := json.Marshal(row.Capabilities)
		_, err = tx.ExecContext(ctx, `UPDATE roles SET name = ?, name_key = ?, description = ?, capabilities = ?, modified_at = ?
			WHERE id = ?`, row.Name, rowrule.NameKey(row.Name), row.Description, string(caps), formatTime(row.ModifiedAt), row.ID)
		if err != nil {
			return mapRoleConstraint(err, row.Name)
		}
		return db.audit(ctx, tx, change{action: actionUpdate, targetType: hookline.AuditRole,
			targetID: row.ID, targetName: row.Name, before: old.AuditView(), after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("update role %s: %w", r.ID, err)
	}
	r.Capabilities, r.BuiltIn, r.CreatedAt, r.ModifiedAt = slices.Clone(row.Capabilities), false, row.CreatedAt, row.ModifiedAt
	return nil
}

// DeleteRole removes the role from its users and deletes it, or returns
// ENOTFOUND. EFORBIDDEN for a built-in role.
func (db *DB) DeleteRole(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readRole(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.BuiltIn {
			return accessrule.BuiltInRole(old, "deleted")
		}
		holders, err := queryAll(ctx, tx, scanUser, `SELECT `+userColumns+` FROM users
			WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = ?) ORDER BY email_key, id`, id)
		if err != nil {
			return fmt.Errorf("read users: %w", err)
		}
		now := formatTime(db.now())
		for _, u := range holders {
			after := *u
			after.RoleIDs = slices.DeleteFunc(slices.Clone(u.RoleIDs), func(r string) bool { return r == id })
			if _, err := tx.ExecContext(ctx, `UPDATE users SET modified_at = max(modified_at, ?) WHERE id = ?`, now, u.ID); err != nil {
				return fmt.Errorf("update user %s: %w", u.ID, err)
			}
			err := db.audit(ctx, tx, change{action: actionUpdate, targetType: hookline.AuditUser,
				targetID: u.ID, targetName: u.Email, before: u.AuditView(), after: after.AuditView()})
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE role_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = ?`, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditRole,
			targetID: id, targetName: old.Name, before: old.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("delete role %s: %w", id, err)
	}
	return nil
}
