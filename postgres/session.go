package postgres

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
//
// Times are kept to the microsecond: ExpiresAt comes back truncated.
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
		// FOR KEY SHARE, as the foreign key would: a user deleted, or a
		// password changed (UpdateUser locks the row), waits for this
		// sign-in, or it for them, rather than leaving a session behind.
		var email string
		err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = $1 FOR KEY SHARE`, row.UserID).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return accessrule.NoUser("userId", row.UserID)
		} else if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2`,
			row.UserID, row.CreatedAt); err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4)`,
			row.TokenHash, row.UserID, row.CreatedAt, row.ExpiresAt)
		if err != nil {
			return err
		}
		return db.audit(ctx, tx, change{action: actionSignIn, targetType: hookline.AuditUser,
			targetID: row.UserID, targetName: email})
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
	var s hookline.Session
	err := db.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash, db.now()).Scan(&s.TokenHash, &s.UserID, &s.CreatedAt, &s.ExpiresAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read session: %w", hookline.Errorf(hookline.ENOTFOUND, "session not found: it ended or expired"))
	case err != nil:
		return nil, fmt.Errorf("read session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

// DeleteSession ends the session with the token hash, if there is one.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
