// Package listpage holds the rules every store's lists share, whatever the
// engine: the limit of a page and the opaque tokens that carry a keyset
// position from one page to the next.
package listpage

import (
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
