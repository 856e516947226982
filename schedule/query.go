package schedule

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/query"
)

// Query runs q over the logs whose Time is in [from, to), newest first,
// with the query's _sourceCategory condition and keywords pushed down to
// the store (Scan). maxMessages bounds the messages a query that returns
// messages keeps (query.Options.MaxMessages); the rest are only counted.
func Query(ctx context.Context, logs hookline.LogStore, q *query.Query, from, to time.Time, maxMessages int) (*query.Result, error) {
	return run(ctx, logs, q, Scan(q, from, to), maxMessages)
}

// Scan returns the scan of the records q may match in [from, to): what the
// store can filter on for it (query.Terms), its _sourceCategory values and
// its keywords. Run applies the whole query to what the scan returns, so
// the scan only has to keep every record q matches.
func Scan(q *query.Query, from, to time.Time) hookline.LogScan {
	terms := q.Terms()
	return hookline.LogScan{From: from, To: to, Categories: terms.Patterns("_sourceCategory"), Keywords: hookline.ScanKeywords(terms.Keywords)}
}

// run runs q over the records scan selects.
func run(ctx context.Context, logs hookline.LogStore, q *query.Query, scan hookline.LogScan, maxMessages int) (*query.Result, error) {
	next, stop := iter.Pull2(records(ctx, logs, scan))
	defer stop()
	return q.RunWith(ctx, query.Options{MaxMessages: maxMessages}, func() (query.Record, bool, error) {
		rec, err, ok := next()
		return rec, ok && err == nil, err
	})
}

var errStopScan = errors.New("stop scan")

// records reads the scan's records as query records; a failed scan yields
// its error last.
func records(ctx context.Context, logs hookline.LogStore, scan hookline.LogScan) iter.Seq2[query.Record, error] {
	return func(yield func(query.Record, error) bool) {
		// Run keeps no reference to a record's Fields once it asks for the
		// next, so one map serves every record.
		fields := make(map[string]string, 3)
		err := logs.ScanLogs(ctx, scan, func(lr hookline.LogRecord) error {
			fields["_sourceCategory"], fields["_sourceHost"], fields["_sourceName"] = lr.Category, lr.Host, lr.Name
			if !yield(query.Record{Time: lr.Time, Message: lr.Message, Fields: fields}, nil) {
				return errStopScan
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			yield(query.Record{}, fmt.Errorf("scan logs: %w", err))
		}
	}
}

// Rows returns the result's aggregate rows, or its messages as rows shaped
// like the reference's raw results: Message and Time (epoch ms) beside the
// record's fields. Count says how many results they stand for.
func Rows(res *query.Result) []hookline.Row {
	if res.Aggregate {
		rows := make([]hookline.Row, len(res.Rows))
		for i, r := range res.Rows {
			rows[i] = r
		}
		return rows
	}
	rows := make([]hookline.Row, len(res.Messages))
	for i, msg := range res.Messages {
		r := make(hookline.Row, len(msg.Fields)+2)
		for k, v := range msg.Fields {
			r[k] = v
		}
		r["Message"] = msg.Message
		if !msg.Time.IsZero() {
			r["Time"] = msg.Time.UnixMilli()
		}
		rows[i] = r
	}
	return rows
}

// Count is the number of results a condition compares: an aggregate's
// rows, or every message the query matched, not only those kept.
func Count(res *query.Result) int {
	if res.Aggregate {
		return len(res.Rows)
	}
	return res.Matched
}
