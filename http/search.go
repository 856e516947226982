package http

import (
	"context"
	"errors"
	"iter"
	"math"
	"net/http"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/query"
)

// POST /api/v1/search runs a query (package query, docs/query.md) over the
// records of a time range and answers with its rows or messages. It needs
// View Monitors: a search is what a monitor runs, and whoever may see
// monitors may see what their queries find; reading records is not
// managing sources (Manage Collectors), which would also hand out tokens.

// Bounds of one search.
const (
	searchDefaultRange = 15 * time.Minute
	searchMaxRange     = 31 * 24 * time.Hour
	searchDefaultLimit = query.DefaultMaxMessages
	searchMaxLimit     = 1000
)

// searchTimeout bounds the time one search may read records, so that a
// query over a large range cannot hold a connection to the database for
// long; a variable so that a test can shorten it.
var searchTimeout = 30 * time.Second

type searchRequest struct {
	Query string `json:"query"`
	From  string `json:"from"`
	To    string `json:"to"`
	Limit *int   `json:"limit"`
}

// searchMessage is one message of the answer.
type searchMessage struct {
	Time    time.Time         `json:"time"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

type searchResponse struct {
	Aggregate bool             `json:"aggregate"`
	Columns   []string         `json:"columns"`
	Rows      []map[string]any `json:"rows"`
	Messages  []searchMessage  `json:"messages"`
	Scanned   int              `json:"scanned"`
	Matched   int              `json:"matched"`
	Truncated bool             `json:"truncated"`
	TookMs    int64            `json:"tookMs"`
}

// errStopScan ends a scan whose reader stopped reading.
var errStopScan = errors.New("search stopped reading")

// parse checks the request and settles its defaults, naming every problem.
func (in *searchRequest) parse(now time.Time) (*query.Query, hookline.LogScan, int, error) {
	var p hookline.Problems
	var q *query.Query
	if in.Query == "" {
		p.Add("query", "is required; \"*\" searches every record")
	} else {
		var err error
		if q, err = query.Parse(in.Query); err != nil {
			var se *query.SyntaxError
			if !errors.As(err, &se) {
				return nil, hookline.LogScan{}, 0, err
			}
			p.Add("query", "%s", se.Error())
		}
	}
	scan := hookline.LogScan{To: now}
	if in.To != "" {
		t, err := time.Parse(time.RFC3339Nano, in.To)
		if err != nil {
			p.Add("to", "must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not %q", in.To)
		}
		scan.To = t
	}
	scan.From = scan.To.Add(-searchDefaultRange)
	if in.From != "" {
		t, err := time.Parse(time.RFC3339Nano, in.From)
		if err != nil {
			p.Add("from", "must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not %q", in.From)
		}
		scan.From = t
	}
	if !scan.From.IsZero() && !scan.To.IsZero() {
		switch d := scan.To.Sub(scan.From); {
		case d <= 0:
			p.Add("from", "must be before to")
		case d > searchMaxRange:
			p.Add("from", "is %s before to; a search covers at most 31 days", d.Round(time.Minute))
		}
	}
	limit := searchDefaultLimit
	if in.Limit != nil {
		limit = *in.Limit
		if limit < 1 || limit > searchMaxLimit {
			p.Add("limit", "must be from 1 to %d, not %d", searchMaxLimit, limit)
		}
	}
	if err := p.Err(); err != nil {
		return nil, hookline.LogScan{}, 0, err
	}
	// What the store can filter on, as schedule.Scan takes it: Run applies
	// the whole query to what the scan returns.
	terms := q.Terms()
	scan.Categories = terms.Patterns("_sourceCategory")
	scan.Keywords = hookline.ScanKeywords(terms.Keywords)
	return q, scan, limit, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	var in searchRequest
	if err := decodeStrict(r, &in); err != nil {
		return err
	}
	start := time.Now()
	q, scan, limit, err := in.parse(start)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), searchTimeout)
	defer cancel()

	next, stop := iter.Pull2(s.scanRecords(ctx, scan))
	defer stop()
	res, err := q.RunWith(ctx, query.Options{MaxMessages: limit}, func() (query.Record, bool, error) {
		rec, err, ok := next()
		return rec, ok && err == nil, err
	})
	switch {
	case err == nil:
	case r.Context().Err() != nil:
		return errCanceled()
	case errors.Is(err, context.DeadlineExceeded):
		return hookline.Errorf(hookline.EUNAVAILABLE, "The search did not finish within %s; search a shorter time range, or narrow the search expression (a _sourceCategory term reads fewer records).", searchTimeout)
	default:
		return err
	}
	writeJSON(w, http.StatusOK, searchAnswer(res, time.Since(start)))
	return nil
}

// scanRecords reads the scan's records, newest first, as query records; a
// failed scan yields its error last.
func (s *Server) scanRecords(ctx context.Context, scan hookline.LogScan) iter.Seq2[query.Record, error] {
	return func(yield func(query.Record, error) bool) {
		// Run keeps no reference to a record's Fields once it asks for the
		// next, so one map serves every record.
		fields := make(map[string]string, 3)
		err := s.Logs.ScanLogs(ctx, scan, func(lr hookline.LogRecord) error {
			fields["_sourceCategory"], fields["_sourceHost"], fields["_sourceName"] = lr.Category, lr.Host, lr.Name
			if !yield(query.Record{Time: lr.Time, Message: lr.Message, Fields: fields}, nil) {
				return errStopScan
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			yield(query.Record{}, err)
		}
	}
}

func searchAnswer(res *query.Result, took time.Duration) searchResponse {
	out := searchResponse{
		Aggregate: res.Aggregate, Columns: res.Columns, Rows: make([]map[string]any, len(res.Rows)),
		Messages: make([]searchMessage, len(res.Messages)),
		Scanned:  res.Scanned, Matched: res.Matched, Truncated: res.Truncated, TookMs: took.Milliseconds(),
	}
	if out.Columns == nil {
		out.Columns = []string{}
	}
	for i, row := range res.Rows {
		out.Rows[i] = make(map[string]any, len(row))
		for k, v := range row {
			// JSON has no NaN or infinity: a sum that overflowed shows as null.
			if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				v = nil
			}
			out.Rows[i][k] = v
		}
	}
	for i, m := range res.Messages {
		out.Messages[i] = searchMessage{Time: m.Time.UTC(), Message: m.Message, Fields: m.Fields}
	}
	return out
}
