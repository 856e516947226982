package listpage_test

import (
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/listpage"
)

type key struct {
	At int64  `json:"t"`
	ID string `json:"i"`
}

func validKey(k key) bool { return k.ID != "" }

func TestLimit(t *testing.T) {
	for _, tt := range []struct {
		in, want int
		bad      bool
	}{
		{0, hookline.DefaultListLimit, false},
		{1, 1, false},
		{hookline.MaxListLimit, hookline.MaxListLimit, false},
		{hookline.MaxListLimit + 1, hookline.MaxListLimit, false},
		{-1, 0, true},
	} {
		var p hookline.Problems
		got := listpage.Limit(&p, tt.in)
		if (p.Err() != nil) != tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("Limit(%d) = %d, %v; want %d, problem %v", tt.in, got, p.Err(), tt.want, tt.bad)
		}
	}
}

func TestDecode(t *testing.T) {
	good := listpage.Encode(key{At: 42, ID: "0123456789ABCDEF"})
	for _, tt := range []struct {
		name, token string
		ok          bool
	}{
		{"first page", "", true},
		{"issued", good, true},
		{"not base64", "%%%", false},
		{"padded base64", good + "=", false},
		{"unknown field", listpage.Encode(map[string]any{"t": 1, "i": "x", "z": 1}), false},
		{"refused by valid", listpage.Encode(key{At: 1}), false},
		{"two values", listpage.Encode(key{ID: "a"}) + listpage.Encode(key{ID: "b"}), false},
		{"wrong type", listpage.Encode(map[string]any{"t": "x", "i": "a"}), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := listpage.Decode(tt.token, validKey)
			if tt.ok != (err == nil) {
				t.Fatalf("Decode(%q) = %v, %v", tt.token, k, err)
			}
			if err != nil && hookline.ErrorCode(err) != hookline.EINVALID {
				t.Errorf("error code %q, want invalid", hookline.ErrorCode(err))
			}
			if tt.token == good && (k == nil || k.At != 42 || k.ID != "0123456789ABCDEF") {
				t.Errorf("round trip gave %+v", k)
			}
		})
	}
}

// FuzzDecode: any token is either refused with EINVALID or a key that
// valid accepts and that encodes back to a token decoding to the same key.
func FuzzDecode(f *testing.F) {
	f.Add(listpage.Encode(key{At: 1, ID: "a"}))
	f.Add("")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, token string) {
		k, err := listpage.Decode(token, validKey)
		if err != nil {
			if hookline.ErrorCode(err) != hookline.EINVALID {
				t.Fatalf("error code %q for %q", hookline.ErrorCode(err), token)
			}
			return
		}
		if k == nil {
			if token != "" {
				t.Fatalf("nil key without error for %q", token)
			}
			return
		}
		back, err := listpage.Decode(listpage.Encode(*k), validKey)
		if err != nil || *back != *k {
			t.Fatalf("re-encoding %+v: %+v, %v", *k, back, err)
		}
	})
}
