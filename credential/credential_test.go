package credential

import (
	"errors"
	"strings"
	"testing"
)

// cheap keeps the tests fast; the format is the same at any cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h := cheap.Hash("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q does not have the PHC argon2id prefix", h)
	}
	if h2 := cheap.Hash("correct horse battery staple"); h2 == h {
		t.Fatal("two hashes of one secret are equal: the salt is not fresh")
	}
	for _, tc := range []struct {
		secret string
		want   bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		ok, err := Verify(h, tc.secret)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v, nil", tc.secret, ok, err, tc.want)
		}
	}
}

func TestVerifyDefaultParams(t *testing.T) {
	h := Hash("s3cret-s3cret")
	if !strings.Contains(h, "$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q; want the default parameters in it", h)
	}
	if ok, err := Verify(h, "s3cret-s3cret"); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}

// A hash made by another implementation (Python's argon2-cffi, the
// reference C code underneath, with its default m=65536, t=3, p=4) pins the
// encoding: salt and hash in unpadded standard base64, parameters in order.
func TestVerifyOtherImplementation(t *testing.T) {
	const h = "$argon2id$v=19$m=65536,t=3,p=4$2m5CBWkA489bnIwyY5iaWQ$w3ujhnFOTF63QwaBVK950q/NxCwyTVQF4LLTeHAEt/Y"
	for secret, want := range map[string]bool{"TestPass123": true, "TestPass124": false} {
		ok, err := Verify(h, secret)
		if err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v, nil", secret, ok, err, want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := cheap.Hash("x")
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"version":       strings.Replace(good, "v=19", "v=16", 1),
		"no memory":     strings.Replace(good, "m=64,", "", 1),
		"huge memory":   strings.Replace(good, "m=64", "m=4294967295", 1),
		"zero passes":   strings.Replace(good, "t=1", "t=0", 1),
		"many passes":   strings.Replace(good, "t=1", "t=1000", 1),
		"zero threads":  strings.Replace(good, "p=1", "p=0", 1),
		"unknown param": strings.Replace(good, "p=1", "p=1,x=2", 1),
		"bad salt":      strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
		"short salt":    strings.Join(append(parts[:4:4], "c2FsdA", parts[5]), "$"),
		"bad hash":      strings.Join(append(parts[:5:5], "%%"), "$"),
		"extra part":    good + "$x",
	} {
		if ok, err := Verify(h, "x"); ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify(%q) = %v, %v; want false, ErrMalformed", name, h, ok, err)
		}
	}
}

func TestAccessID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewAccessID()
		if !ValidAccessID(id) {
			t.Fatalf("NewAccessID() = %q, which ValidAccessID refuses", id)
		}
		if seen[id] {
			t.Fatalf("NewAccessID() repeated %q", id)
		}
		seen[id] = true
	}
	for _, s := range []string{"", "hk", "hk234567890ABCD", "hk23456789ABCDEFG", "su23456789ABCDEF", "hk23456789ABCDE0", "hk23456789abcdef"} {
		if ValidAccessID(s) {
			t.Errorf("ValidAccessID(%q) = true", s)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if len(a) != 43 || a == b {
		t.Fatalf("NewSecret() = %q, %q; want two different 43-character secrets", a, b)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(cheap.Hash("x"), "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Fuzz(func(t *testing.T, h, secret string) {
		p, _, _, err := parse(h)
		if err != nil {
			return
		}
		if p.Memory > 4096 || p.Time > 4 {
			return // valid but too slow to fuzz
		}
		if _, err := Verify(h, secret); err != nil {
			t.Fatalf("Verify(%q) = %v after parse accepted it", h, err)
		}
	})
}

// BenchmarkVerify is what one access key or password check costs with the
// default parameters: the server pays it once per key per cache period.
func BenchmarkVerify(b *testing.B) {
	h := Hash("benchmark secret")
	for b.Loop() {
		if ok, err := Verify(h, "benchmark secret"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
