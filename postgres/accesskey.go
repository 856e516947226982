package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/accessrule"
	"github.com/hookline/hookline/listpage"
)

const accessKeyColumns = `id, label, user_id, key_hash, created_at, last_used_at`

func scanAccessKey(s scanner) (*hookline.AccessKey, error) {
	var (
		k        hookline.AccessKey
		lastUsed sql.NullInt64
	)
	if err := s.Scan(&k.ID, &k.Label, &k.UserID, &k.KeyHash, &k.CreatedAt, &lastUsed); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	if lastUsed.Valid {
		k.LastUsedAt = time.Unix(0, lastUsed.Int64).UTC()
	}
	return &k, nil
}

// readAccessKey reads access key id through q; ENOTFOUND when missing.
func readAccessKey(ctx context.Context, q querier, id string) (*hookline.AccessKey, error) {
	k, err := scanAccessKey(q.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = $1`, id))
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
	// PostgreSQL's text cannot hold NUL; no other control character
	// belongs in an access ID either.
	if err := accessrule.ValidateAccessKey(k, true); err != nil {
		return fmt.Errorf("create access key %q: %w", k.ID, err)
	}
	row := *k
	row.CreatedAt, row.LastUsedAt = db.now(), time.Time{}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// The user's row lock makes the count hold until the commit: two
		// keys created at once for one user take turns.
		var user string
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, row.UserID).Scan(&user)
		if errors.Is(err, sql.ErrNoRows) {
			return accessrule.NoUser("userId", row.UserID)
		} else if err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_keys WHERE user_id = $1`, row.UserID).Scan(&held); err != nil {
			return fmt.Errorf("count access keys: %w", err)
		}
		if held >= hookline.MaxAccessKeysUser {
			return accessrule.TooManyKeys(row.UserID, held)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO access_keys (id, label, user_id, key_hash, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
			row.ID, row.Label, row.UserID, row.KeyHash, row.CreatedAt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return accessrule.AccessIDTaken(row.ID)
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
	k, err := readAccessKey(ctx, db.db, id)
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
	CreatedAt string `json:"c"` // RFC 3339 with nanoseconds, UTC
	ID        string `json:"i"`
}

// AccessKeys returns a page of user userID's access keys, or everyone's
// for "", newest first (by CreatedAt, then access ID). An unknown user has
// none. The limit and token rules are Connections'.
func (db *DB) AccessKeys(ctx context.Context, userID string, opt hookline.ListOptions) ([]*hookline.AccessKey, string, error) {
	var p hookline.Problems
	limit := listpage.Limit(&p, opt.Limit)
	var createdAt time.Time
	after, err := listpage.Decode(opt.Token, func(k accessKeyKey) bool {
		var err error
		createdAt, err = time.Parse(time.RFC3339Nano, k.CreatedAt)
		return err == nil && k.ID != "" && accessrule.Printable(k.ID)
	})
	if err != nil {
		p.AddError("token", err)
	}
	if err := p.Err(); err != nil {
		return nil, "", fmt.Errorf("list access keys: %w", err)
	}
	if strings.ContainsRune(userID, 0) {
		return []*hookline.AccessKey{}, "", nil // no user has it: PostgreSQL's text cannot hold NUL
	}
	query, args := accessKeysQuery(userID, after, createdAt, limit)
	rows, err := db.db.QueryContext(ctx, query, args...)
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
		next = listpage.Encode(accessKeyKey{CreatedAt: last.CreatedAt.Format(time.RFC3339Nano), ID: last.ID})
	}
	return list, next, nil
}

// accessKeysQuery returns the query of a page of access keys, asking for
// one more than limit; it walks access_keys_created or access_keys_user
// backwards.
func accessKeysQuery(userID string, after *accessKeyKey, createdAt time.Time, limit int) (string, []any) {
	query := `SELECT ` + accessKeyColumns + ` FROM access_keys WHERE true`
	var args []any
	if userID != "" {
		args = append(args, userID)
		query += fmt.Sprintf(` AND user_id = $%d`, len(args))
	}
	if after != nil {
		args = append(args, createdAt, after.ID)
		query += fmt.Sprintf(` AND (created_at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	args = append(args, limit+1)
	return query + fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args
}

// DeleteAccessKey removes the access key, or returns ENOTFOUND.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := readAccessKey(ctx, tx, id)
		if err != nil {
			return err
		}
		// RETURNING, not the read above, decides: a concurrent delete of
		// the same key must leave one audit event, not two.
		var gone string
		err = tx.QueryRowContext(ctx, `DELETE FROM access_keys WHERE id = $1 RETURNING id`, id).Scan(&gone)
		if errors.Is(err, sql.ErrNoRows) {
			return accessrule.AccessKeyNotFound(id)
		} else if err != nil {
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
// than a minute before at. A key deleted meanwhile is no error. The
// condition is in the UPDATE, which PostgreSQL checks again on the row it
// locks, so concurrent touches never move the time back.
func (db *DB) TouchAccessKey(ctx context.Context, id string, at time.Time) error {
	_, err := db.db.ExecContext(ctx, `UPDATE access_keys SET last_used_at = $1
		WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		at.UnixNano(), id, at.Add(-touchInterval).UnixNano())
	if err != nil {
		return fmt.Errorf("touch access key %s: %w", id, err)
	}
	return nil
}
