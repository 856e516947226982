package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookline/hookline"
)

// RenewOwner leases owner's deliveries for ttl from the store's clock, in
// the table delivery_owners that ClaimDue reads. Expired rows are deleted
// on the way: an expired lease and no lease mean the same.
func (db *DB) RenewOwner(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	if err := hookline.CheckOwnerLease(owner, ttl); err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", owner, err)
	}
	if !storableText(owner) {
		var p hookline.Problems
		p.Add("owner", "must be UTF-8 without NUL characters")
		return false, fmt.Errorf("renew lease of %q: %w", owner, p.Err())
	}
	now := db.now()
	var renewed bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// The old row's expiry, read under the row lock the upsert takes.
		err := tx.QueryRowContext(ctx, `
			WITH old AS (SELECT expires_at FROM delivery_owners WHERE owner = $1 FOR UPDATE),
			up AS (INSERT INTO delivery_owners (owner, expires_at) VALUES ($1, $2)
				ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at)
			SELECT COALESCE((SELECT expires_at > $3 FROM old), false)`,
			owner, now.Add(ttl).UnixNano(), now.UnixNano()).Scan(&renewed)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM delivery_owners WHERE expires_at <= $1`, now.UnixNano())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", owner, err)
	}
	return renewed, nil
}

// ReleaseOwner deletes owner's lease.
func (db *DB) ReleaseOwner(ctx context.Context, owner string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM delivery_owners WHERE owner = $1`, cleanText(owner)); err != nil {
		return fmt.Errorf("release lease of %s: %w", owner, err)
	}
	return nil
}

// HeldBy reads the deliveries of ids that owner holds.
func (db *DB) HeldBy(ctx context.Context, owner string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id FROM deliveries
		WHERE id = ANY ($1::text[]) AND owner = $2 AND state = 'pending'`, ids, cleanText(owner))
	if err != nil {
		return nil, fmt.Errorf("deliveries held by %s: %w", owner, err)
	}
	defer rows.Close()
	var held []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("deliveries held by %s: %w", owner, err)
		}
		held = append(held, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries held by %s: %w", owner, err)
	}
	return held, nil
}
