package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	now := db.now()
	var renewed bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var expires int64
		err := tx.QueryRowContext(ctx, `SELECT expires_at FROM delivery_owners WHERE owner = ?`, owner).Scan(&expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			renewed = expires > now.UnixNano()
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_owners WHERE expires_at <= ?`, now.UnixNano()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO delivery_owners (owner, expires_at) VALUES (?, ?)
			ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`, owner, now.Add(ttl).UnixNano())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("renew lease of %s: %w", owner, err)
	}
	return renewed, nil
}

// ReleaseOwner deletes owner's lease.
func (db *DB) ReleaseOwner(ctx context.Context, owner string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM delivery_owners WHERE owner = ?`, owner); err != nil {
		return fmt.Errorf("release lease of %s: %w", owner, err)
	}
	return nil
}

// EndLeases deletes every owner's lease, so that the deliveries that
// processes held before are claimed at once rather than when their
// leases would lapse. Only the one process that may use the database
// calls it, before it starts: hookline serve, which holds the data
// directory's lock, knows every earlier holder has stopped.
func (db *DB) EndLeases(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM delivery_owners`); err != nil {
		return fmt.Errorf("end delivery leases: %w", err)
	}
	return nil
}

// HeldBy reads the deliveries of ids that owner holds.
func (db *DB) HeldBy(ctx context.Context, owner string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("deliveries held by %s: %w", owner, err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM deliveries
		WHERE id IN (SELECT value FROM json_each(?)) AND owner = ? AND state = 'pending'`, string(list), owner)
	if err != nil {
		return nil, fmt.Errorf("deliveries held by %s: %w", owner, err)
	}
	held, err := scanIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("deliveries held by %s: %w", owner, err)
	}
	return held, nil
}

func scanIDs(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
