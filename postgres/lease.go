package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/rowrule"
	"github.com/hookline/hookline/storedform"
	"github.com/hookline/hookline/unixnano"
)

// What monitors and scheduled searches share on PostgreSQL: definitions
// kept as storedform says, bookkeeping rows leased to one process at a
// time, row locks where SQLite's single writer kept the order.

// leased describes one kind of work that processes claim under leases —
// monitors, scheduled searches — for claimLeased: how to lease the due
// rows of its state table, read the definitions of those it leased, and
// pair them (storedform.ClaimedMonitors).
type leased[R, D, C any] struct {
	// claim leases and returns the state rows: $1 owner, $2 now (Unix
	// nanoseconds), $3 the lease's expiry, $4 the limit.
	claim       string
	scanRecord  func(scanner) (R, error)
	recordID    func(R) string
	definitions string // reads the definitions whose IDs $1 lists (text[])
	scanDef     func(scanner) (D, error)
	claimed     func([]R, []D) ([]C, error)
}

// ownerText is what PostgreSQL's text keeps of a lease owner.
var ownerText = storedform.TextRule{OK: storableText, Problem: "must be UTF-8 without NUL characters"}

// claimLeased checks a claim's arguments (storedform.CheckClaim), then
// leases up to limit due rows to owner in one write transaction. The
// claim statement locks the rows it leases with FOR UPDATE SKIP LOCKED:
// two claims, from this process or another, never take the same row, and
// a row whose lease another claim committed meanwhile is checked again on
// its new version. It returns the leased rows paired with their
// definitions. A now or expiry beyond what Unix nanoseconds can show (the
// years 1678 to 2262) is held at the bound.
func claimLeased[R, D, C any](ctx context.Context, db *DB, l leased[R, D, C], owner string, now time.Time, lease time.Duration, limit int) ([]C, error) {
	if err := storedform.CheckClaim(owner, now, lease, limit, ownerText); err != nil {
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
			if ds, err = queryAll(ctx, tx, l.scanDef, l.definitions, ids); err != nil {
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

// checkLease locks the state row of id until tx ends and checks that
// owner holds its lease (k's ENOTFOUND or ECONFLICT otherwise,
// storedform.Kind.CheckHolder). What the definition says (disabled) is
// read after it, in a statement of its own, so that an edit that
// committed while this waited is seen; an edit still running waits for
// this transaction instead, and then applies its schedule over what this
// one saved.
func checkLease(ctx context.Context, tx *sql.Tx, k storedform.Kind, id, owner string) error {
	var holder sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT lease_owner FROM `+k.StateTable()+` WHERE `+k.StateKey()+` = $1 FOR UPDATE`, id).Scan(&holder)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read lease: %w", err)
	}
	return k.CheckHolder(id, owner, holder.String, err == nil)
}

// readDefinition reads definition id of kind k through q with scan, with
// lock (" FOR UPDATE" or "") appended to the query; k's ENOTFOUND when
// missing.
func readDefinition[T any](ctx context.Context, q querier, k storedform.Kind, columns string, scan func(scanner) (T, error), id, lock string) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM `+k.Table()+` WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, k.NotFound(id)
	}
	return v, err
}

// checkDefinitionName returns ECONFLICT when a definition of kind k other
// than id has name, compared case-insensitively. A transaction that takes
// the name after this check fails on the unique index instead
// (mapNameConstraint).
func checkDefinitionName(ctx context.Context, tx *sql.Tx, k storedform.Kind, name, id string) error {
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+k.Table()+` WHERE name_key = $1 AND id <> $2)`,
		rowrule.NameKey(name), id).Scan(&taken)
	switch {
	case err != nil:
		return fmt.Errorf("check name: %w", err)
	case taken:
		return k.NameTaken(name)
	}
	return nil
}

// mapNameConstraint turns a violation of k's unique name index
// (monitors_name_key, scheduled_searches_name_key), by a transaction that
// took the name after checkDefinitionName, into ECONFLICT.
func mapNameConstraint(err error, k storedform.Kind, name string) error {
	if uniqueViolation(err, k.Table()+"_name_key") {
		return k.NameTaken(name)
	}
	return err
}

// connectionExists reports through tx whether a connection exists, for
// storedform's checks of the connections a definition names. An ID text
// cannot hold names none.
func connectionExists(ctx context.Context, tx *sql.Tx) func(id string) (bool, error) {
	return func(id string) (bool, error) {
		found := false
		if !storableText(id) {
			return false, nil
		}
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM connections WHERE id = $1)`, id).Scan(&found)
		return found, err
	}
}

// deleteDefinition deletes id's bookkeeping and definition.
func deleteDefinition(ctx context.Context, tx *sql.Tx, k storedform.Kind, id string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+k.StateTable()+` WHERE `+k.StateKey()+` = $1`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM `+k.Table()+` WHERE id = $1`, id)
	return err
}
