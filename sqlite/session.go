package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/accessrule"
)

const sessionColumns = `token_hash, user_id, created_at, expires_at`

// CreateSession stores s, filling in CreatedAt, and records the user's
// sign-in. It deletes the user's expired sessions on the way. EINVALID
// naming "userId" when the user does not exist.
func (db *DB) CreateSession(ctx context.Context, s *hookline.Session) error {
	if s == nil {
		return fmt.Errorf("create session: %w", hookline.Errorf(hookline.EINVALID, "no session given"))
	}
	if err := accessrule.ValidateSession(s); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	row := *s
	row.CreatedAt = db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		u, err := readUser(ctx, tx, row.UserID)
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return accessrule.NoUser("userId", row.UserID)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?`,
			row.UserID, formatTime(row.CreatedAt)); err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?)`,
			row.TokenHash, row.UserID, formatTime(row.CreatedAt), formatTime(row.ExpiresAt))
		if err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionSignIn, targetType: hookline.AuditUser,
			targetID: u.ID, targetName: u.Email})
	})
	if err != nil {
		return fmt.Errorf("create session for user %s: %w", s.UserID, err)
	}
	s.CreatedAt = row.CreatedAt
	return nil
}

// Session returns the session with the token hash unless it has expired by
// the store's clock; otherwise ENOTFOUND. The hash is not in the error.
func (db *DB) Session(ctx context.Context, tokenHash string) (*hookline.Session, error) {
	var (
		s                    hookline.Session
		createdAt, expiresAt string
	)
	err := db.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, formatTime(db.now())).Scan(&s.TokenHash, &s.UserID, &createdAt, &expiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read session: %w", hookline.Errorf(hookline.ENOTFOUND, "session not found: it ended or expired"))
	case err != nil:
		return nil, fmt.Errorf("read session: %w", err)
	}
	if s.CreatedAt, err = parseTime(createdAt); err != nil {
		return nil, fmt.Errorf("read session: created_at: %w", err)
	}
	if s.ExpiresAt, err = parseTime(expiresAt); err != nil {
		return nil, fmt.Errorf("read session: expires_at: %w", err)
	}
	return &s, nil
}

// DeleteSession ends the session with the token hash, if there is one.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
