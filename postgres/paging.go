package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/listpage"
	"github.com/hookline/hookline/rowid"
)

// pageKey is the sort key of the last row of a page listed by name (see
// byName); the next page starts after it.
type pageKey struct {
	NameKey string `json:"n"`
	ID      string `json:"i"`
}

// decodeToken parses a page token; "" means the first page (nil).
func decodeToken(token string) (*pageKey, error) {
	// PostgreSQL's text cannot hold NUL: a key with one was not issued here,
	// and passing it on would fail the query rather than name the token.
	return listpage.Decode(token, func(k pageKey) bool {
		return rowid.Valid(k.ID) && k.NameKey != "" && !strings.ContainsRune(k.NameKey, 0)
	})
}

// byName is the keyset paging that connections and users share: rows of
// table ordered by keyColumn, which holds the lower-cased name (COLLATE
// "C", so byte-wise) and is unique, with the limit and token rules of
// Connections. Keyset paging keeps pages stable while rows are added or
// removed between requests. Because the key is unique, the page starts
// after the last key alone, and the order needs no ID to break ties: the
// query walks the unique index and sorts nothing. (The token carries the
// ID as SQLite's does, and it is checked, but not needed here.)
type byName[T any] struct {
	what      string // "connections": the plural in errors
	table     string
	columns   string
	keyColumn string // name_key, email_key: unique
	scan      func(scanner) (T, error)
	key       func(T) pageKey // the last row's position, for the next token
}

// query selects one row more than limit, to show whether another page
// follows.
func (b byName[T]) query(after *pageKey, limit int) (string, []any) {
	query := `SELECT ` + b.columns + ` FROM ` + b.table + ` `
	var args []any
	if after != nil {
		query += `WHERE ` + b.keyColumn + ` > $1 `
		args = append(args, after.NameKey)
	}
	return query + fmt.Sprintf(`ORDER BY %s LIMIT $%d`, b.keyColumn, len(args)+1), append(args, limit+1)
}

// list returns one page and the token of the next ("" after the last).
func (b byName[T]) list(ctx context.Context, q querier, opt hookline.ListOptions) ([]T, string, error) {
	var p hookline.Problems
	limit := listpage.Limit(&p, opt.Limit)
	after, err := decodeToken(opt.Token)
	if err != nil {
		p.AddError("token", err)
	}
	if err := p.Err(); err != nil {
		return nil, "", fmt.Errorf("list %s: %w", b.what, err)
	}
	query, args := b.query(after, limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", b.what, err)
	}
	list, more, err := listpage.Scan(rows, limit, b.scan)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", b.what, err)
	}
	next := ""
	if more {
		next = listpage.Encode(b.key(list[len(list)-1]))
	}
	return list, next, nil
}
