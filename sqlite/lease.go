package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/rowrule"
	"github.com/hookline/hookline/storedform"
	"github.com/hookline/hookline/unixnano"
)

// What monitors and scheduled searches share on SQLite: definitions kept
// as storedform says, bookkeeping rows leased to one process at a time.

// leased describes one kind of work that processes claim under leases —
// monitors, scheduled searches — for claimLeased: how to lease the due
// rows of its state table, read the definitions of those it leased, and
// pair them (storedform.ClaimedMonitors).
type leased[R, D, C any] struct {
	// claim leases and returns the state rows: ?1 owner, ?2 now (Unix
	// nanoseconds), ?3 the lease's expiry, ?4 the limit.
	claim       string
	scanRecord  func(scanner) (R, error)
	recordID    func(R) string
	definitions string // reads the definitions whose IDs ?1 lists as a JSON array
	scanDef     func(scanner) (D, error)
	claimed     func([]R, []D) ([]C, error)
}

// claimLeased checks a claim's arguments (storedform.CheckClaim), then
// leases up to limit due rows to owner in one write transaction, which
// holds SQLite's write lock: two claims, from this process or another,
// never take the same row. It returns the leased rows paired with their
// definitions. A now or expiry beyond what Unix nanoseconds can show (the
// years 1678 to 2262) is held at the bound.
func claimLeased[R, D, C any](ctx context.Context, db *DB, l leased[R, D, C], owner string, now time.Time, lease time.Duration, limit int) ([]C, error) {
	if err := storedform.CheckClaim(owner, now, lease, limit, storedform.AnyText); err != nil {
		return nil, err
	}
	if limit == 0 {
		return l.claimed(nil, nil)
	}
	at := unixnano.Clamp(now)
	var claimed []C
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rs, err := queryAll(ctx, tx, l.scanRecord, l.claim, owner, at, unixnano.Add(at, lease), limit)
		if err != nil {
			return err
		}
		var ds []D
		if len(rs) > 0 {
			ids := make([]string, len(rs))
			for i, r := range rs {
				ids[i] = l.recordID(r)
			}
			idsJSON, _ := json.Marshal(ids) // strings always encode
			if ds, err = queryAll(ctx, tx, l.scanDef, l.definitions, string(idsJSON)); err != nil {
				return err
			}
		}
		claimed, err = l.claimed(rs, ds)
		return err
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// checkLease checks, in tx, that owner holds the lease on id (k's
// ENOTFOUND or ECONFLICT otherwise, storedform.Kind.CheckHolder) and
// reports whether its definition is disabled. The transaction holds
// SQLite's write lock, so no claim or edit comes between the check and
// the save.
func checkLease(ctx context.Context, tx *sql.Tx, k storedform.Kind, id, owner string) (disabled bool, err error) {
	var (
		holder sql.NullString
		off    int
	)
	err = tx.QueryRowContext(ctx, `SELECT s.lease_owner, d.disabled FROM `+k.StateTable()+` s
		JOIN `+k.Table()+` d ON d.id = s.`+k.StateKey()+` WHERE s.`+k.StateKey()+` = ?`, id).Scan(&holder, &off)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read lease: %w", err)
	}
	return off != 0, k.CheckHolder(id, owner, holder.String, err == nil)
}

// readDefinition reads definition id of kind k through q with scan; k's
// ENOTFOUND when missing.
func readDefinition[T any](ctx context.Context, q querier, k storedform.Kind, columns string, scan func(scanner) (T, error), id string) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM `+k.Table()+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, k.NotFound(id)
	}
	return v, err
}

// checkDefinitionName returns ECONFLICT when a definition of kind k other than id
// has name, compared case-insensitively. It runs in the write
// transaction, which holds SQLite's write lock, so no one can take the
// name before the write.
func checkDefinitionName(ctx context.Context, tx *sql.Tx, k storedform.Kind, name, id string) error {
	var taken int
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+k.Table()+` WHERE name_key = ? AND id <> ?)`,
		rowrule.NameKey(name), id).Scan(&taken)
	switch {
	case err != nil:
		return fmt.Errorf("check name: %w", err)
	case taken != 0:
		return k.NameTaken(name)
	}
	return nil
}

// mapNameConstraint turns a unique-name violation that slipped past
// checkDefinitionName into ECONFLICT; the name index is the only UNIQUE constraint
// on monitors and scheduled_searches (TestMonitorOnlyNameIsUnique,
// TestScheduledSearchOnlyNameIsUnique).
func mapNameConstraint(err error, k storedform.Kind, name string) error {
	if isUniqueConflict(err) {
		return k.NameTaken(name)
	}
	return err
}

// connectionExists reports through tx whether a connection exists, for
// storedform's checks of the connections a definition names.
func connectionExists(ctx context.Context, tx *sql.Tx) func(id string) (bool, error) {
	return func(id string) (bool, error) {
		var found int
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE id = ?)`, id).Scan(&found)
		return found != 0, err
	}
}

// deleteDefinition deletes id's bookkeeping and definition. The foreign
// key would cascade; deleting outright does not depend on foreign keys
// being enforced.
func deleteDefinition(ctx context.Context, tx *sql.Tx, k storedform.Kind, id string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+k.StateTable()+` WHERE `+k.StateKey()+` = ?`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM `+k.Table()+` WHERE id = ?`, id)
	return err
}
