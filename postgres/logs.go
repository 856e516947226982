package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// Log records (migration 0005). Times are stored as nanoseconds since
// 1970, so a record's Time comes back exactly as given (in UTC).
//
// Unlike SQLite's, AppendLogs commits each call on its own: PostgreSQL
// already flushes the WAL of transactions that commit at once together,
// which is what SQLite's group commit (sqlite.logAppender) buys by hand.

const logColumns = `id, time, received_at, source_id, category, host, name, message`

// checkRecord returns the problems of a record the store cannot keep. The
// receiver validates and truncates what it takes; these checks keep a
// caller's mistake from being stored.
func checkRecord(p *hookline.Problems, i int, r *hookline.LogRecord) {
	at := fmt.Sprintf("records[%d]", i)
	if r.SourceID == "" {
		p.Add(at+".sourceId", "is required")
	} else if !storableText(r.SourceID) {
		p.Add(at+".sourceId", "must be UTF-8 without NUL characters")
	}
	if len(r.Message) > hookline.MaxLogMessageBytes {
		p.Add(at+".message", "is %d bytes long; at most %d are allowed", len(r.Message), hookline.MaxLogMessageBytes)
	} else if !utf8.ValidString(r.Message) {
		p.Add(at+".message", "is not valid UTF-8")
	}
	for _, f := range []struct{ name, v string }{{"category", r.Category}, {"host", r.Host}, {"name", r.Name}} {
		// Bytes, not characters: a cheap bound per record; the receiver
		// checks the characters once a request.
		if len(f.v) > 4*hookline.MaxMetadataLen || !utf8.ValidString(f.v) {
			p.Add(at+"."+f.name, "must be valid UTF-8 of at most %d characters", hookline.MaxMetadataLen)
		}
	}
	for _, t := range []struct {
		name string
		v    time.Time
	}{{"time", r.Time}, {"receivedAt", r.ReceivedAt}} {
		if t.v.Before(unixnano.Min) || !t.v.Before(unixnano.Max) { // the largest is ScanLogs' open upper bound
			p.Add(at+"."+t.name, "must be between the years 1678 and 2262")
		}
	}
}

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
	rows := make([]hookline.LogRecord, len(records))
	var p hookline.Problems
	for i, r := range records {
		if r.ReceivedAt.IsZero() {
			r.ReceivedAt = now
		}
		if r.Time.IsZero() {
			r.Time = r.ReceivedAt
		}
		r.Time, r.ReceivedAt = r.Time.UTC(), r.ReceivedAt.UTC()
		checkRecord(&p, i, &r)
		rows[i] = r
	}
	if err := p.Err(); err != nil {
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
	err := db.inTx(ctx, func(tx *sql.Tx) error {
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
	for i := range records {
		records[i].ID, records[i].Time, records[i].ReceivedAt = rows[i].ID, rows[i].Time, rows[i].ReceivedAt
	}
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

// scanPageSize is how many records ScanLogs reads with one query. It
// hands them to fn only after the query is done, so that a slow fn holds
// no connection.
const scanPageSize = 1000

// ScanLogs calls fn with the records selected by scan, newest first. It
// reads them a page at a time, each page a query that continues below the
// last record of the one before (keyset paging on time and ID), so records
// arriving during a scan are either seen once or not at all.
func (db *DB) ScanLogs(ctx context.Context, scan hookline.LogScan, fn func(hookline.LogRecord) error) error {
	if scan.Limit < 0 {
		var p hookline.Problems
		p.Add("limit", "must not be negative")
		return fmt.Errorf("scan logs: %w", p.Err())
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !scan.From.IsZero() {
		lo = unixnano.Clamp(scan.From)
	}
	if !scan.To.IsZero() {
		hi = unixnano.Clamp(scan.To)
	}
	var after *logKey
	left := scan.Limit
	for {
		n := scanPageSize
		if scan.Limit > 0 {
			n = min(n, left)
		}
		query, args := scanLogsQuery(lo, hi, scan.Categories, after, n)
		page, err := queryAll(ctx, db.db, scanLogRecord, query, args...)
		if err != nil {
			return fmt.Errorf("scan logs: %w", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < n {
			return nil
		}
		if scan.Limit > 0 {
			if left -= len(page); left == 0 {
				return nil
			}
		}
		last := page[len(page)-1]
		after = &logKey{time: last.Time.UnixNano(), id: last.ID}
	}
}

// logKey is the position of the last record of a page.
type logKey struct{ time, id int64 }

// scanLogsQuery returns the query of one page of a scan. It walks
// logs_time backwards from the upper bound of time: a later page's bound
// is the last record's (time, id), so each page starts where the one
// before ended.
func scanLogsQuery(lo, hi int64, categories []string, after *logKey, limit int) (string, []any) {
	var c conditions
	c.add("time >= $%d", lo)
	if after != nil {
		c.add("(time, id) < ($%d, $%d)", after.time, after.id)
	} else {
		c.add("time < $%d", hi)
	}
	if filter, args := categoryFilter(categories, len(c.args)); filter != "" {
		c.where = append(c.where, "("+filter+")")
		c.args = append(c.args, args...)
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
			args = append(args, likeEscaper.Replace(asciiLower(withoutNUL(prefix)))+"%")
			terms = append(terms, fmt.Sprintf(`lower(category) LIKE $%d ESCAPE '\'`, n+len(args)))
			continue
		}
		exact = append(exact, asciiLower(withoutNUL(pat)))
	}
	if len(exact) > 0 {
		args = append(args, exact)
		terms = append(terms, fmt.Sprintf(`lower(category) = ANY ($%d::text[])`, n+len(args)))
	}
	return strings.Join(terms, ` OR `), args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func scanLogRecord(s scanner) (hookline.LogRecord, error) {
	var (
		r              hookline.LogRecord
		at, receivedAt int64
	)
	if err := s.Scan(&r.ID, &at, &receivedAt, &r.SourceID, &r.Category, &r.Host, &r.Name, &r.Message); err != nil {
		return r, err
	}
	r.Time, r.ReceivedAt = time.Unix(0, at).UTC(), time.Unix(0, receivedAt).UTC()
	return r, nil
}

// pruneBatch bounds the records one statement of PruneLogs deletes: each
// is its own transaction, so that no one transaction holds many locks or
// much WAL.
const pruneBatch = 5000

// PruneLogs deletes the records whose Time is before the given time, oldest
// first, a batch a transaction, and returns how many it deleted. Stopped by
// ctx, it returns what it deleted so far with ctx's error.
func (db *DB) PruneLogs(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	cut := unixnano.Clamp(before)
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("prune logs: %w", err)
		}
		res, err := db.db.ExecContext(ctx, pruneLogsSQL, cut, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune logs: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune logs: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// pruneLogsSQL deletes one batch from the left edge of logs_time.
const pruneLogsSQL = `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE time < $1 ORDER BY time, id LIMIT $2)`
