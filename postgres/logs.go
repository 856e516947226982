package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/logrecord"
)

// Log records (migration 0005). Times are stored as nanoseconds since
// 1970, so a record's Time comes back exactly as given (in UTC).
//
// Unlike SQLite's, AppendLogs commits each call on its own: PostgreSQL
// already flushes the WAL of transactions that commit at once together,
// which is what SQLite's group commit (sqlite.logAppender) buys by hand.

const logColumns = logrecord.ColumnList

// withoutNUL replaces NUL, which PostgreSQL's text cannot hold, with
// U+FFFD. A log line may carry one; refusing the line would refuse the
// whole request it came in, and a NUL in a log line is noise, not data.
func withoutNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// AppendLogs stores records in one transaction. It fills in, on success
// only, each record's ID, ReceivedAt (the store's clock, when zero) and
// Time (ReceivedAt, when zero), and adds to each source's Received count.
// A NUL in a message, category, host or name is stored as U+FFFD.
func (db *DB) AppendLogs(ctx context.Context, records []hookline.LogRecord) error {
	if len(records) == 0 {
		return nil
	}
	now := db.now()
	rows, err := logrecord.Prepare(records, now, storableText)
	if err != nil {
		return fmt.Errorf("append %d log records: %w", len(records), err)
	}
	cols := struct {
		times, received                       []int64
		sources, categories, hosts, names, ms []string
	}{}
	for _, r := range rows {
		cols.times, cols.received = append(cols.times, r.Time.UnixNano()), append(cols.received, r.ReceivedAt.UnixNano())
		cols.sources, cols.categories = append(cols.sources, r.SourceID), append(cols.categories, withoutNUL(r.Category))
		cols.hosts, cols.names = append(cols.hosts, withoutNUL(r.Host)), append(cols.names, withoutNUL(r.Name))
		cols.ms = append(cols.ms, withoutNUL(r.Message))
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// One statement for the batch. The IDs come from the identity's
		// sequence as the rows are inserted, in the batch's order (ORDER BY
		// n), so sorted they are the records' in order, whatever order
		// RETURNING lists them in.
		ids, err := queryAll(ctx, tx, func(s scanner) (int64, error) {
			var id int64
			return id, s.Scan(&id)
		}, `INSERT INTO logs (time, received_at, source_id, category, host, name, message)
			SELECT t, rcv, src, cat, host, nm, msg
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
				WITH ORDINALITY AS r (t, rcv, src, cat, host, nm, msg, n)
			ORDER BY n
			RETURNING id`,
			cols.times, cols.received, cols.sources, cols.categories, cols.hosts, cols.names, cols.ms)
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if len(ids) != len(rows) {
			return fmt.Errorf("insert: %d IDs for %d records", len(ids), len(rows))
		}
		slices.Sort(ids)
		for i := range rows {
			rows[i].ID = ids[i]
		}
		return countReceived(ctx, tx, rows, now)
	})
	if err != nil {
		return fmt.Errorf("append %d log records: %w", len(records), err)
	}
	logrecord.CopyBack(records, rows)
	return nil
}

// countReceived adds the records to their sources' counters, once a
// source, in the order of their IDs, so that batches of several sources
// lock the rows in one order and never wait for each other in a circle.
func countReceived(ctx context.Context, tx *sql.Tx, rows []hookline.LogRecord, now time.Time) error {
	counts := map[string]int64{}
	for _, r := range rows {
		counts[r.SourceID]++
	}
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		// A source deleted meanwhile has no row to count in; its records
		// are kept all the same. GREATEST passes over NULL.
		_, err := tx.ExecContext(ctx, `UPDATE sources SET received = received + $1,
			last_received_at = GREATEST(last_received_at, $2) WHERE id = $3`, counts[id], now, id)
		if err != nil {
			return fmt.Errorf("count records of source %s: %w", id, err)
		}
	}
	return nil
}

// ScanLogs calls fn with the records selected by scan, newest first, a
// page (logrecord.PageSize) a query: each query ends before fn sees its
// records, so that a slow fn holds no connection. Paging is by key
// (logrecord.Scan), so records arriving during a scan are either seen once
// or not at all.
func (db *DB) ScanLogs(ctx context.Context, scan hookline.LogScan, fn func(hookline.LogRecord) error) error {
	return logrecord.Scan(scan, func(lo, hi int64, after *logKey, n int) ([]hookline.LogRecord, error) {
		query, args := scanLogsQuery(lo, hi, scan, after, n)
		return queryAll(ctx, db.db, logrecord.ScanRow, query, args...)
	}, fn)
}

// logKey is the position of the last record of a page.
type logKey = logrecord.Key

// scanLogsQuery returns the query of one page of a scan. It walks
// logs_time backwards from the upper bound of time: a later page's bound
// is the last record's (time, id), so each page starts where the one
// before ended. The category and keyword conditions are tested on each
// row of the range (no index has them), so only the rows they keep reach
// Go.
func scanLogsQuery(lo, hi int64, scan hookline.LogScan, after *logKey, limit int) (string, []any) {
	var c conditions
	c.add("time >= $%d", lo)
	if after != nil {
		c.add("(time, id) < ($%d, $%d)", after.Time, after.ID)
	} else {
		c.add("time < $%d", hi)
	}
	if filter, args := categoryFilter(scan.Categories, len(c.args)); filter != "" {
		c.where = append(c.where, "("+filter+")")
		c.args = append(c.args, args...)
	}
	for _, k := range scan.Keywords {
		c.add(keywordCondition, logrecord.ContainsPattern(hookline.ASCIILower(withoutNUL(k))))
	}
	where, args := c.sql(` ORDER BY time DESC, id DESC LIMIT $%d`, limit)
	return `SELECT ` + logColumns + ` FROM logs` + where, args
}

// categoryFilter is the SQL of hookline.MatchCategory over patterns, its
// parameters numbered after the first n. lower() of the "C" collation
// (the column's) folds ASCII letters only, as MatchCategory does; LIKE
// compares what it folded.
func categoryFilter(patterns []string, n int) (string, []any) {
	if len(patterns) == 0 {
		return "", nil
	}
	var (
		exact []string
		terms []string
		args  []any
	)
	for _, pat := range patterns {
		if prefix, ok := strings.CutSuffix(pat, "*"); ok {
			args = append(args, logrecord.EscapeLike(hookline.ASCIILower(withoutNUL(prefix)))+"%")
			terms = append(terms, fmt.Sprintf(`lower(category) LIKE $%d ESCAPE '\'`, n+len(args)))
			continue
		}
		exact = append(exact, hookline.ASCIILower(withoutNUL(pat)))
	}
	if len(exact) > 0 {
		args = append(args, exact)
		terms = append(terms, fmt.Sprintf(`lower(category) = ANY ($%d::text[])`, n+len(args)))
	}
	return strings.Join(terms, ` OR `), args
}

// keywordCondition is the SQL of one of LogScan.Keywords, whose pattern
// (logrecord.ContainsPattern) is the keyword folded by hookline.ASCIILower:
// lower() of the "C" collation folds A-Z and nothing else, whatever the
// database's locale, so the condition is exactly hookline.MatchKeywords.
// Not ILIKE: message has the database's collation, by whose locale ILIKE
// folds. Mostly that would only return more (Ü as ü), which a scan may,
// but in a Turkish locale 'I' lowers to dotless 'ı', so ILIKE '%login%'
// would drop "LOGIN", which the scan must keep
// (TestScanKeywordsTurkishCollation). A NUL, which text cannot hold, is
// stored as U+FFFD in messages and so is looked for as U+FFFD.
const keywordCondition = `lower(message COLLATE "C") LIKE $%d ESCAPE '\'`

// PruneLogs deletes the records whose Time is before the given time, oldest
// first, a batch (logrecord.PruneBatch) a transaction, and returns how many
// it deleted. Stopped by ctx, it returns what it deleted so far with ctx's
// error.
func (db *DB) PruneLogs(ctx context.Context, before time.Time) (int64, error) {
	return logrecord.Prune(ctx, before, func(ctx context.Context, cut int64, limit int) (int64, error) {
		res, err := db.db.ExecContext(ctx, pruneLogsSQL, cut, limit)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// pruneLogsSQL deletes one batch from the left edge of logs_time.
const pruneLogsSQL = `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE time < $1 ORDER BY time, id LIMIT $2)`
