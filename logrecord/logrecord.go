// Package logrecord owns the engine-neutral half of the log record store:
// the columns of the logs table, the checks of records before they are
// appended, reading a row, the keyset paging of ScanLogs, the batching of
// PruneLogs, and the folding and escaping that category and keyword
// filters share. The engines keep their SQL, their transactions and how
// they commit.
package logrecord

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/unixnano"
)

// ColumnList is the columns of the logs table that ScanRow reads, in its
// order. Times are stored as Unix nanoseconds, so a record's Time comes
// back exactly as given (in UTC).
const ColumnList = `id, time, received_at, source_id, category, host, name, message`

// Prepare returns records as a store keeps them: ReceivedAt now when zero,
// Time ReceivedAt when zero, both in UTC. It leaves records as they are.
// A record the store cannot keep is EINVALID naming its field
// ("records[2].message"). The receiver validates and truncates what it
// takes; these checks keep a caller's mistake from being stored.
//
// storable, when not nil, tells whether the engine can store a source ID
// (PostgreSQL's text holds no NUL, nor invalid UTF-8); SQLite stores any.
func Prepare(records []hookline.LogRecord, now time.Time, storable func(string) bool) ([]hookline.LogRecord, error) {
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
		check(&p, i, &r, storable)
		rows[i] = r
	}
	return rows, p.Err()
}

// check adds the problems of record i.
func check(p *hookline.Problems, i int, r *hookline.LogRecord, storable func(string) bool) {
	at := fmt.Sprintf("records[%d]", i)
	if r.SourceID == "" {
		p.Add(at+".sourceId", "is required")
	} else if storable != nil && !storable(r.SourceID) {
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

// CopyBack fills in each of records the ID, Time and ReceivedAt of the
// stored row of the same index, once the rows Prepare made are stored.
func CopyBack(records, stored []hookline.LogRecord) {
	for i := range records {
		records[i].ID, records[i].Time, records[i].ReceivedAt = stored[i].ID, stored[i].Time, stored[i].ReceivedAt
	}
}

// ScanRow reads a row of ColumnList.
func ScanRow(s listpage.Scanner) (hookline.LogRecord, error) {
	var (
		r              hookline.LogRecord
		at, receivedAt int64
	)
	if err := s.Scan(&r.ID, &at, &receivedAt, &r.SourceID, &r.Category, &r.Host, &r.Name, &r.Message); err != nil {
		return r, err
	}
	r.Time, r.ReceivedAt = unixnano.Time(at), unixnano.Time(receivedAt)
	return r, nil
}

// Key is the position of the last record of a page of a scan.
type Key struct{ Time, ID int64 }

// PageSize is how many records Scan asks page for at a time. Scan hands
// them to fn only after page returned, so that a slow fn holds neither a
// connection nor a read snapshot (which in SQLite keeps the WAL from being
// checkpointed).
const PageSize = 1000

// Page reads up to n records, newest first by (Time, ID), with lo <=
// Time < hi and, after the first page, before after.
type Page func(lo, hi int64, after *Key, n int) ([]hookline.LogRecord, error)

// Scan calls fn with the records selected by scan, newest first, reading
// them with page a page at a time, each page continuing below the last
// record of the one before (keyset paging on time and ID), so records
// arriving during a scan are either seen once or not at all. An invalid
// scan (LogScan.Validate) is EINVALID; fn's error is returned as it is.
func Scan(scan hookline.LogScan, page Page, fn func(hookline.LogRecord) error) error {
	if err := scan.Validate(); err != nil {
		return fmt.Errorf("scan logs: %w", err)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !scan.From.IsZero() {
		lo = unixnano.Clamp(scan.From)
	}
	if !scan.To.IsZero() {
		hi = unixnano.Clamp(scan.To)
	}
	var after *Key
	left := scan.Limit
	for {
		n := PageSize
		if scan.Limit > 0 {
			n = min(n, left)
		}
		records, err := page(lo, hi, after, n)
		if err != nil {
			return fmt.Errorf("scan logs: %w", err)
		}
		for _, r := range records {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(records) < n {
			return nil
		}
		if scan.Limit > 0 {
			if left -= len(records); left == 0 {
				return nil
			}
		}
		last := records[len(records)-1]
		after = &Key{Time: last.Time.UnixNano(), ID: last.ID}
	}
}

// PruneBatch bounds the records one statement of PruneLogs deletes: each
// is its own transaction, so that writers wait for at most one batch and
// no one transaction holds many locks or much WAL.
const PruneBatch = 5000

// Prune deletes the records whose Time is before the given time, oldest
// first, calling batch until it deletes fewer than PruneBatch records, and
// returns how many it deleted. batch deletes up to limit records with a
// time before cut, in its own transaction, and says how many. Stopped by
// ctx, Prune returns what it deleted so far with ctx's error.
func Prune(ctx context.Context, before time.Time, batch func(ctx context.Context, cut int64, limit int) (int64, error)) (int64, error) {
	var total int64
	cut := unixnano.Clamp(before)
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("prune logs: %w", err)
		}
		n, err := batch(ctx, cut, PruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune logs: %w", err)
		}
		total += n
		if n < PruneBatch {
			return total, nil
		}
	}
}

// EscapeLike escapes the wildcards of LIKE, and its escape character '\',
// in s: a pattern built on it is to say ESCAPE '\'.
func EscapeLike(s string) string { return likeEscaper.Replace(s) }

// ContainsPattern returns the LIKE pattern, to say ESCAPE '\', that
// matches a text containing s.
func ContainsPattern(s string) string { return "%" + EscapeLike(s) + "%" }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
