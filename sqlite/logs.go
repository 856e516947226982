package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/logrecord"
)

// Log records. The table (migration 0005) is built for appending and for
// time-range scans; see the migration for why. Times are stored as
// nanoseconds since 1970, so a record's Time comes back exactly as given
// (in UTC).

const logColumns = logrecord.ColumnList

// AppendLogs stores records in one transaction. It fills in, on success
// only, each record's ID, ReceivedAt (the store's clock, when zero) and
// Time (ReceivedAt, when zero), and adds to each source's Received count.
//
// Calls that arrive while another is being committed are committed
// together, in one transaction after it (see logAppender): each still
// returns only once its records are on disk, and a failure fails every
// call of that transaction, none of whose records are then stored.
func (db *DB) AppendLogs(ctx context.Context, records []hookline.LogRecord) error {
	if len(records) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append %d log records: %w", len(records), err)
	}
	rows, err := logrecord.Prepare(records, db.now(), nil)
	if err != nil {
		return fmt.Errorf("append %d log records: %w", len(records), err)
	}
	if err := db.logs.append(&appendCall{rows: rows}, db.commitLogs); err != nil {
		return fmt.Errorf("append %d log records: %w", len(records), err)
	}
	logrecord.CopyBack(records, rows)
	return nil
}

// maxGroupRows bounds the records one shared transaction takes from the
// calls waiting, so that a crowd of large requests does not make one
// transaction that holds the writer for long. A call is never split: one
// larger than this is committed alone.
const maxGroupRows = 20_000

// logAppender is group commit for AppendLogs, without a goroutine of its
// own. The first call to arrive leads: it commits its records and those
// of every call that queued meanwhile in one transaction, so that many
// small requests share one synchronous commit (an fsync) instead of
// paying one each. If more calls queued during that commit, the leader
// hands the lead to the first of them and returns; so no caller waits for
// more than the commit its records are in and the one before it.
type logAppender struct {
	mu      sync.Mutex
	queue   []*appendCall
	leading bool
}

// appendCall is one AppendLogs waiting to be committed: done receives its
// outcome, lead the lead.
type appendCall struct {
	rows []hookline.LogRecord
	done chan error
	lead chan struct{}
}

func (a *logAppender) append(call *appendCall, commit func([]*appendCall) error) error {
	call.done, call.lead = make(chan error, 1), make(chan struct{})
	a.mu.Lock()
	a.queue = append(a.queue, call)
	if a.leading {
		a.mu.Unlock()
		select {
		case err := <-call.done:
			return err
		case <-call.lead:
		}
	} else {
		a.leading = true
		a.mu.Unlock()
	}
	return a.lead(call, commit)
}

// lead commits what is queued, call included, up to maxGroupRows, tells
// the others in the group their outcome, and hands the lead to the first
// call still queued, if any.
func (a *logAppender) lead(call *appendCall, commit func([]*appendCall) error) error {
	a.mu.Lock()
	n, rows := 0, 0
	for n < len(a.queue) && (n == 0 || rows+len(a.queue[n].rows) <= maxGroupRows) {
		rows += len(a.queue[n].rows)
		n++
	}
	group := a.queue[:n:n]
	a.queue = a.queue[n:]
	a.mu.Unlock()

	err := commit(group)
	var mine error
	for _, c := range group {
		if c == call {
			mine = err
		} else {
			c.done <- err
		}
	}

	a.mu.Lock()
	if len(a.queue) > 0 {
		close(a.queue[0].lead)
	} else {
		a.leading = false
	}
	a.mu.Unlock()
	return mine
}

// commitLogs stores the records of a group of calls in one transaction.
// It does not stop for a caller's context: the others' records are in the
// same transaction, which is short.
func (db *DB) commitLogs(group []*appendCall) error {
	ctx := context.Background()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// IDs are given, not left to SQLite, so that they are known
		// without reading them back: the next after the largest, which
		// the write lock keeps ours until the commit.
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM logs`).Scan(&last); err != nil {
			return fmt.Errorf("read the last ID: %w", err)
		}
		// One statement a row: a multi-row VALUES list of 16 to 256 rows
		// was no faster (BenchmarkAppendLogs), as the time goes into the
		// b-trees and the WAL, not into the driver.
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO logs (`+logColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		var all []hookline.LogRecord
		for _, c := range group {
			for i := range c.rows {
				r := &c.rows[i]
				last++
				r.ID = last
				_, err := stmt.ExecContext(ctx, r.ID, r.Time.UnixNano(), r.ReceivedAt.UnixNano(), r.SourceID, r.Category, r.Host, r.Name, r.Message)
				if err != nil {
					return fmt.Errorf("insert: %w", err)
				}
			}
			if len(group) == 1 {
				all = c.rows
			} else {
				all = append(all, c.rows...)
			}
		}
		return countReceived(ctx, tx, all, db.now())
	})
}

// countReceived adds the records to their sources' counters, once a
// source: a batch comes from one source, or from few.
func countReceived(ctx context.Context, tx *sql.Tx, rows []hookline.LogRecord, now time.Time) error {
	counts := map[string]int64{}
	var order []string
	for _, r := range rows {
		if counts[r.SourceID] == 0 {
			order = append(order, r.SourceID)
		}
		counts[r.SourceID]++
	}
	for _, id := range order {
		// A source deleted meanwhile has no row to count in; its records
		// are kept all the same.
		_, err := tx.ExecContext(ctx, `UPDATE sources SET received = received + ?,
			last_received_at = max(coalesce(last_received_at, ''), ?) WHERE id = ?`, counts[id], formatTime(now), id)
		if err != nil {
			return fmt.Errorf("count records of source %s: %w", id, err)
		}
	}
	return nil
}

// ScanLogs calls fn with the records selected by scan, newest first, a
// page (logrecord.PageSize) a query: each query ends before fn sees its
// records, so that a slow fn holds neither a connection nor a read
// snapshot that would keep the WAL from being checkpointed. Paging is by
// key (logrecord.Scan), so records arriving during a scan are either seen
// once or not at all.
func (db *DB) ScanLogs(ctx context.Context, scan hookline.LogScan, fn func(hookline.LogRecord) error) error {
	filter, filterArgs := scanFilter(scan)
	return logrecord.Scan(scan, func(lo, hi int64, after *logKey, n int) ([]hookline.LogRecord, error) {
		query, args := scanLogsQuery(lo, hi, filter, filterArgs, after, n)
		return queryAll(ctx, db.read, logrecord.ScanRow, query, args...)
	}, fn)
}

// logKey is the position of the last record of a page.
type logKey = logrecord.Key

// scanLogsQuery returns the query of one page of a scan. It walks
// logs_time backwards (TestLogQueryPlans), from the upper bound of time: a
// later page's bound is the last record's time, so that each page starts
// where the one before ended rather than walking past it again; the ID
// skips the records of that time already seen.
func scanLogsQuery(lo, hi int64, filter string, filterArgs []any, after *logKey, limit int) (string, []any) {
	query := `SELECT ` + logColumns + ` FROM logs WHERE time >= ? AND time < ?`
	args := []any{lo, hi}
	if after != nil {
		query = `SELECT ` + logColumns + ` FROM logs WHERE time >= ? AND time <= ? AND (time < ? OR id < ?)`
		args = []any{lo, after.Time, after.Time, after.ID}
	}
	if filter != "" {
		query += ` AND (` + filter + `)`
		args = append(args, filterArgs...)
	}
	query += ` ORDER BY time DESC, id DESC LIMIT ?`
	return query, append(args, limit)
}

// scanFilter is the SQL of the scan's conditions beyond its time range:
// its categories, and each of its keywords. No index has them (see the
// migration): SQLite tests them on each row of the range, so only the
// rows they keep reach Go.
func scanFilter(scan hookline.LogScan) (string, []any) {
	var terms []string
	filter, args := categoryFilter(scan.Categories)
	if filter != "" {
		terms = append(terms, `(`+filter+`)`)
	}
	for _, k := range scan.Keywords {
		cond, kargs := keywordCondition(k)
		terms = append(terms, cond)
		args = append(args, kargs...)
	}
	return strings.Join(terms, ` AND `), args
}

// keywordCondition is the SQL of one of LogScan.Keywords: the message
// contains k, A-Z folded (hookline.MatchKeywords).
//
// LIKE does that fastest: it folds A-Z and nothing else (the store never
// sets case_sensitive_like, and this SQLite has no ICU). But LIKE reads a
// text only up to its first NUL, which a message may hold, so a message
// whose length() (characters before the first NUL) falls short of its
// bytes, because it has a NUL or non-ASCII characters, is tested again
// whole: instr() and lower() (ASCII only, too) read every byte. A keyword
// holding a NUL, or too long for a LIKE pattern, takes that path alone.
func keywordCondition(k string) (string, []any) {
	folded := hookline.ASCIILower(k)
	pattern := logrecord.ContainsPattern(k)
	if strings.IndexByte(k, 0) >= 0 || len(pattern) > maxLikePattern {
		return `instr(lower(message), ?) > 0`, []any{folded}
	}
	return `(message LIKE ? ESCAPE '\' OR length(message) < octet_length(message) AND instr(lower(message), ?) > 0)`,
		[]any{pattern, folded}
}

// maxLikePattern is SQLite's SQLITE_MAX_LIKE_PATTERN_LENGTH, in bytes: a
// longer pattern is an error.
const maxLikePattern = 50_000

// categoryFilter is the SQL of hookline.MatchCategory over patterns:
// lower() and LIKE fold ASCII letters only, as MatchCategory does.
func categoryFilter(patterns []string) (string, []any) {
	if len(patterns) == 0 {
		return "", nil
	}
	var (
		exact, terms []string
		args         []any
	)
	for _, pat := range patterns {
		if prefix, ok := strings.CutSuffix(pat, "*"); ok {
			terms = append(terms, `category LIKE ? ESCAPE '\'`)
			args = append(args, logrecord.EscapeLike(prefix)+"%")
			continue
		}
		exact = append(exact, hookline.ASCIILower(pat))
	}
	if len(exact) > 0 {
		terms = append(terms, `lower(category) IN (?`+strings.Repeat(`, ?`, len(exact)-1)+`)`)
		for _, v := range exact {
			args = append(args, v)
		}
	}
	return strings.Join(terms, ` OR `), args
}

// PruneLogs deletes the records whose Time is before the given time, oldest
// first, a batch (logrecord.PruneBatch) a transaction, and returns how many
// it deleted. Stopped by ctx, it returns what it deleted so far with ctx's
// error.
func (db *DB) PruneLogs(ctx context.Context, before time.Time) (int64, error) {
	return logrecord.Prune(ctx, before, func(ctx context.Context, cut int64, limit int) (int64, error) {
		res, err := db.write.ExecContext(ctx, pruneLogsSQL, cut, limit)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// pruneLogsSQL deletes one batch from the left edge of logs_time.
const pruneLogsSQL = `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE time < ? ORDER BY time LIMIT ?)`
