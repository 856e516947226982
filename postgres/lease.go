package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// leased describes one kind of work that processes claim under leases —
// monitors, scheduled searches — for claimLeased: how to lease the due
// rows of its state table and read the definitions of those it leased.
type leased[R, D any] struct {
	what string // "monitor", "scheduled search": for errors
	// claim leases and returns the state rows: $1 owner, $2 now (Unix
	// nanoseconds), $3 the lease's expiry, $4 the limit.
	claim       string
	scanRecord  func(scanner) (R, error)
	recordID    func(R) string
	definitions string // reads the definitions whose IDs $1 lists (text[])
	scanDef     func(scanner) (D, error)
	defID       func(D) string
}

// claimLeased checks a claim's arguments as MonitorStore and
// ScheduledSearchStore document them, then leases up to limit due rows to
// owner in one write transaction. The claim statement locks the rows it
// leases with FOR UPDATE SKIP LOCKED: two claims, from this process or
// another, never take the same row, and a row whose lease another claim
// committed meanwhile is checked again on its new version. It returns each
// leased row with its definition, in no particular order. A now or expiry
// beyond what Unix nanoseconds can show (the years 1678 to 2262) is held
// at the bound.
func claimLeased[R, D any](ctx context.Context, db *DB, l leased[R, D], owner string, now time.Time, lease time.Duration, limit int) (records []R, defs []D, err error) {
	var p hookline.Problems
	if owner == "" {
		p.Add("owner", "is required")
	} else if !storableText(owner) {
		p.Add("owner", "must be UTF-8 without NUL characters")
	}
	if now.IsZero() {
		p.Add("now", "is required")
	}
	if lease <= 0 {
		p.Add("lease", "must be positive, not %s", lease)
	}
	if limit < 0 {
		p.Add("limit", "must not be negative")
	}
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	if limit == 0 {
		return nil, nil, nil
	}
	at := unixnano.Clamp(now)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		rs, err := queryAll(ctx, tx, l.scanRecord, l.claim, owner, at, unixnano.Add(at, lease), limit)
		if err != nil || len(rs) == 0 {
			return err
		}
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = l.recordID(r)
		}
		ds, err := queryAll(ctx, tx, l.scanDef, l.definitions, ids)
		if err != nil {
			return err
		}
		byID := make(map[string]D, len(ds))
		for _, d := range ds {
			byID[l.defID(d)] = d
		}
		for _, r := range rs {
			d, ok := byID[l.recordID(r)]
			if !ok {
				// The foreign key makes this impossible short of a damaged database.
				return fmt.Errorf("%s %s has a state but no definition", l.what, l.recordID(r))
			}
			records, defs = append(records, r), append(defs, d)
		}
		return nil
	})
	return records, defs, err
}

// leaseHolder locks the state row of key in table (column keyColumn) until
// tx ends and returns its lease owner ("" for none); ok is false when
// there is no row. What the definition says (disabled) is read after it,
// in a statement of its own, so that an edit that committed while this
// waited is seen; an edit still running waits for this transaction
// instead, and then applies its schedule over what this one saved.
func leaseHolder(ctx context.Context, tx *sql.Tx, table, keyColumn, key string) (owner string, ok bool, err error) {
	var holder sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT lease_owner FROM `+table+` WHERE `+keyColumn+` = $1 FOR UPDATE`, key).Scan(&holder)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read lease: %w", err)
	}
	return holder.String, true, nil
}
