package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/hookline/hookline"
)

var idForm = regexp.MustCompile(`^[0-9A-F]{16}$`)

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
	return decodePageToken(token, func(k pageKey) bool {
		return idForm.MatchString(k.ID) && k.NameKey != "" && !strings.ContainsRune(k.NameKey, 0)
	})
}

// encodePageToken writes a keyset position as an opaque page token.
func encodePageToken[K any](k K) string {
	b, _ := json.Marshal(k) // the key types hold numbers and strings, which always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken reads a token that encodePageToken wrote and valid
// accepts; "" means the first page (nil).
func decodePageToken[K any](token string, valid func(K) bool) (*K, error) {
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
	limit := listLimit(&p, opt.Limit)
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
	list, more, err := scanPage(rows, limit, b.scan)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", b.what, err)
	}
	next := ""
	if more {
		next = encodePageToken(b.key(list[len(list)-1]))
	}
	return list, next, nil
}
