// Package listpage holds the rules every store's lists share, whatever the
// engine: the limit of a page, the opaque tokens that carry a keyset
// position from one page to the next, and reading a page's rows.
package listpage

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/hookline/hookline"
)

// Limit applies the limit rules every list shares: 0 is
// hookline.DefaultListLimit, more than hookline.MaxListLimit is the
// maximum, negative is a problem named "limit".
func Limit(p *hookline.Problems, limit int) int {
	switch {
	case limit < 0:
		p.Add("limit", "must not be negative")
	case limit == 0:
		return hookline.DefaultListLimit
	case limit > hookline.MaxListLimit:
		return hookline.MaxListLimit
	}
	return limit
}

// Encode writes a keyset position as an opaque page token. The key types
// hold numbers and strings, which always encode.
func Encode[K any](k K) string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a token that Encode wrote and valid accepts; "" means the
// first page (nil). Anything else is EINVALID: a client that edits or
// invents tokens is told to pass them back unchanged.
func Decode[K any](token string, valid func(K) bool) (*K, error) {
	if token == "" {
		return nil, nil
	}
	bad := hookline.Errorf(hookline.EINVALID, "is not a page token this server issued; pass the next token of the previous page unchanged")
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return nil, bad
	}
	var k K
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil || dec.More() || !valid(k) {
		return nil, bad
	}
	return &k, nil
}

// Scanner is a *sql.Row or *sql.Rows: what reads one row.
type Scanner = interface{ Scan(dest ...any) error }

// Scan reads up to limit rows of a query asked for limit+1, and reports
// whether the extra row showed that another page follows. It closes rows.
func Scan[T any](rows *sql.Rows, limit int, scan func(Scanner) (T, error)) ([]T, bool, error) {
	defer rows.Close()
	list := make([]T, 0, min(limit, 64))
	for rows.Next() {
		if len(list) == limit {
			return list, true, nil
		}
		v, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		list = append(list, v)
	}
	return list, false, rows.Err()
}
