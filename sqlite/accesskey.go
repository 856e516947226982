package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/accessrule"
	"github.com/hookline/hookline/listpage"
)

const accessKeyColumns = `id, label, user_id, key_hash, created_at, last_used_at`

func scanAccessKey(s scanner) (*hookline.AccessKey, error) {
	var (
		k         hookline.AccessKey
		createdAt string
		lastUsed  sql.NullString
	)
	if err := s.Scan(&k.ID, &k.Label, &k.UserID, &k.KeyHash, &createdAt, &lastUsed); err != nil {
		return nil, err
	}
	var err error
	if k.CreatedAt, err = parseTime(createdAt); err != nil {
		return nil, fmt.Errorf("access key %s: created_at: %w", k.ID, err)
	}
	if lastUsed.Valid {
		if k.LastUsedAt, err = parseTime(lastUsed.String); err != nil {
			return nil, fmt.Errorf("access key %s: last_used_at: %w", k.ID, err)
		}
	}
	return &k, nil
}

// readAccessKey reads access key id through q; ENOTFOUND when missing.
func readAccessKey(ctx context.Context, q querier, id string) (*hookline.AccessKey, error) {
	k, err := scanAccessKey(q.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accessrule.AccessKeyNotFound(id)
	}
	return k, err
}

// CreateAccessKey stores k, filling in CreatedAt (and clearing LastUsedAt).
// EINVALID naming "userId" when the user does not exist; ECONFLICT when
// they hold hookline.MaxAccessKeysUser keys already, or naming "id" when
// the access ID is taken.
func (db *DB) CreateAccessKey(ctx context.Context, k *hookline.AccessKey) error {
	if k == nil {
		return fmt.Errorf("create access key: %w", hookline.Errorf(hookline.EINVALID, "no access key given"))
	}
	if err := accessrule.ValidateAccessKey(k, false); err != nil {
		return fmt.Errorf("create access key %q: %w", k.ID, err)
	}
	row := *k
	row.CreatedAt, row.LastUsedAt = db.now(), time.Time{}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n, held int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE id = ?1),
			(SELECT COUNT(*) FROM access_keys WHERE user_id = ?1)`, row.UserID).Scan(&n, &held)
		if err != nil {
			return fmt.Errorf("count access keys: %w", err)
		}
		if n == 0 {
			return accessrule.NoUser("userId", row.UserID)
		}
		if held >= hookline.MaxAccessKeysUser {
			return accessrule.TooManyKeys(row.UserID, held)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO access_keys (id, label, user_id, key_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			row.ID, row.Label, row.UserID, row.KeyHash, formatTime(row.CreatedAt))
		if isPrimaryKeyConflict(err) {
			return accessrule.AccessIDTaken(row.ID)
		}
		if err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionCreate, targetType: hookline.AuditAccessKey,
			targetID: row.ID, targetName: row.Label, after: row.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("create access key %q: %w", k.ID, err)
	}
	k.CreatedAt, k.LastUsedAt = row.CreatedAt, row.LastUsedAt
	return nil
}

// AccessKey returns the access key with the given access ID, or ENOTFOUND.
func (db *DB) AccessKey(ctx context.Context, id string) (*hookline.AccessKey, error) {
	k, err := readAccessKey(ctx, db.read, id)
	switch {
	case hookline.ErrorCode(err) == hookline.ENOTFOUND:
		return nil, fmt.Errorf("read access key: %w", err) // the error names the key
	case err != nil:
		return nil, fmt.Errorf("read access key %s: %w", id, err)
	}
	return k, nil
}

// accessKeyKey is the sort key of the last access key on a page.
type accessKeyKey struct {
	CreatedAt string `json:"c"`
	ID        string `json:"i"`
}

// AccessKeys returns a page of user userID's access keys, or everyone's
// for "", newest first (by CreatedAt, then access ID). An unknown user has
// none. The limit and token rules are Connections'.
func (db *DB) AccessKeys(ctx context.Context, userID string, opt hookline.ListOptions) ([]*hookline.AccessKey, string, error) {
	var p hookline.Problems
	limit := listpage.Limit(&p, opt.Limit)
	after, err := listpage.Decode(opt.Token, func(k accessKeyKey) bool {
		_, err := parseTime(k.CreatedAt)
		return err == nil && k.ID != ""
	})
	if err != nil {
		p.AddError("token", err)
	}
	if err := p.Err(); err != nil {
		return nil, "", fmt.Errorf("list access keys: %w", err)
	}
	query, args := accessKeysQuery(userID, after, limit)
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list access keys: %w", err)
	}
	list, more, err := listpage.Scan(rows, limit, scanAccessKey)
	if err != nil {
		return nil, "", fmt.Errorf("list access keys: %w", err)
	}
	next := ""
	if more {
		last := list[len(list)-1]
		next = listpage.Encode(accessKeyKey{CreatedAt: formatTime(last.CreatedAt), ID: last.ID})
	}
	return list, next, nil
}

// accessKeysQuery returns the query of a page of access keys, asking for
// one more than limit; it walks access_keys_created or access_keys_user
// backwards.
func accessKeysQuery(userID string, after *accessKeyKey, limit int) (string, []any) {
	query := `SELECT ` + accessKeyColumns + ` FROM access_keys WHERE true`
	var args []any
	if userID != "" {
		query += ` AND user_id = ?`
		args = append(args, userID)
	}
	if after != nil {
		query += ` AND (created_at, id) < (?, ?)`
		args = append(args, after.CreatedAt, after.ID)
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	return query, append(args, limit+1)
}

// DeleteAccessKey removes the access key, or returns ENOTFOUND.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readAccessKey(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionDelete, targetType: hookline.AuditAccessKey,
			targetID: id, targetName: old.Label, before: old.AuditView()})
	})
	if err != nil {
		return fmt.Errorf("delete access key %s: %w", id, err)
	}
	return nil
}

// touchInterval is how stale LastUsedAt may get: a key in steady use is
// written once per interval, not on every request.
const touchInterval = time.Minute

// TouchAccessKey sets the key's LastUsedAt to at unless it was set less
// than a minute before at. A key deleted meanwhile is no error.
func (db *DB) TouchAccessKey(ctx context.Context, id string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE access_keys SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		formatTime(at), id, formatTime(at.Add(-touchInterval)))
	if err != nil {
		return fmt.Errorf("touch access key %s: %w", id, err)
	}
	return nil
}
