package client

// Searching ingested log records with a query (docs/query.md).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

const searchPath = "/api/v1/search"

// SearchRequest is a query over a time range. A zero To is the server's
// now, a zero From 15 minutes before To; the range is at most 31 days.
// Limit bounds the messages returned (1 to 1000); 0 is the server's 100.
type SearchRequest struct {
	Query string    `json:"query"`
	From  time.Time `json:"from,omitzero"`
	To    time.Time `json:"to,omitzero"`
	Limit int       `json:"limit,omitempty"`
}

// SearchResult is a query's answer: Rows when Aggregate, else Messages.
type SearchResult struct {
	Aggregate bool     `json:"aggregate"`
	Columns   []string `json:"columns"`
	// Rows map each column to a string, a number (float64, as JSON
	// decodes it) or nil.
	Rows     []map[string]any `json:"rows"`
	Messages []SearchMessage  `json:"messages"`
	Scanned  int              `json:"scanned"` // records read
	// Matched is, for messages, how many records matched (Messages holds
	// the newest Limit of them); for an aggregate, how many records reached
	// it.
	Matched int `json:"matched"`
	// Truncated is set when an aggregate had more groups than the server
	// keeps: its rows are incomplete.
	Truncated bool  `json:"truncated"`
	TookMs    int64 `json:"tookMs"`
}

// SearchMessage is one matching record, with its metadata and the fields
// the query extracted.
type SearchMessage struct {
	Time    time.Time         `json:"time"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

// Search runs a query. A query the server cannot parse is a 400 *APIError
// naming "query"; QueryErrorAt reads its position. A search that takes
// longer than the server allows is a 503.
func (c *Client) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	if req.Query == "" {
		return nil, errors.New("search: the query is empty")
	}
	var out SearchResult
	if err := c.do(ctx, http.MethodPost, searchPath, nil, req, &out); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return &out, nil
}

var queryErrorForm = regexp.MustCompile(`^line (\d+), column (\d+): (?s:(.*))$`)

// QueryErrorAt returns where the server found a problem in a search's
// query, from err as Search returns it: the 1-based line and column (in
// characters) and what is wrong there. ok is false when err is not about
// the query's text.
func QueryErrorAt(err error) (line, column int, msg string, ok bool) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return 0, 0, "", false
	}
	for _, f := range ae.FieldErrors() {
		if f.Field != "query" {
			continue
		}
		m := queryErrorForm.FindStringSubmatch(f.Message)
		if m == nil {
			continue
		}
		line, _ = strconv.Atoi(m[1])
		column, _ = strconv.Atoi(m[2])
		return line, column, m[3], true
	}
	return 0, 0, "", false
}
