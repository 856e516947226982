package keyring_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/keyring"
)

// testKey returns a deterministic 32-byte key that differs for each seed.
func testKey(seed byte) []byte {
	k := make([]byte, keyring.KeySize)
	for i := range k {
		k[i] = seed + byte(i)*7
	}
	return k
}

func mustNew(t testing.TB, primary []byte, olds ...[]byte) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New(primary, olds...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return kr
}

var sealedForm = regexp.MustCompile(`^hk1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$`)

func TestSealOpenRoundTrip(t *testing.T) {
	kr := mustNew(t, testKey(1))
	big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1<<14)
	tests := []struct {
		name      string
		plaintext []byte
		aad       string
	}{
		{"empty", []byte{}, "connection/0000000000000001/password"},
		{"ascii", []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "connection/00000000000468D5/secretAccessKey"},
		{"unicode", []byte("pässwörd ✓ 秘密"), "connection/X/y"},
		{"binary 64KiB", big, "x"},
		{"empty aad", []byte("s"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := kr.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if !sealedForm.MatchString(sealed) {
				t.Errorf("sealed value %.40q... does not have the form hk1.<keyid>.<base64url>", sealed)
			}
			if id, err := keyring.KeyIDOf(sealed); err != nil || id != kr.KeyID() {
				t.Errorf("KeyIDOf = %q, %v; want %q", id, err, kr.KeyID())
			}
			if len(tt.plaintext) > 4 && strings.Contains(sealed, string(tt.plaintext)) {
				t.Errorf("sealed value contains the plaintext")
			}
			got, err := kr.Open(sealed, tt.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open returned %d bytes that differ from the %d sealed", len(got), len(tt.plaintext))
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	kr := mustNew(t, testKey(1))
	seen := map[string]bool{}
	for range 100 {
		s, err := kr.Seal([]byte("same"), "same")
		if err != nil {
			t.Fatal(err)
		}
		if seen[s] {
			t.Fatalf("Seal returned the same value twice: nonces are being reused")
		}
		seen[s] = true
	}
}

func TestOpenFails(t *testing.T) {
	const plaintext, aad = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "connection/00000000000468D5/secretAccessKey"
	kr := mustNew(t, testKey(1))
	other := mustNew(t, testKey(2))
	sealed, err := kr.Seal([]byte(plaintext), aad)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sealed, ".")
	data, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	withData := func(f func(b []byte) []byte) string {
		b := f(append([]byte(nil), data...))
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(b)
	}
	flip := func(i int) string {
		return withData(func(b []byte) []byte { b[i] ^= 0x01; return b })
	}

	tests := []struct {
		name   string
		kr     *keyring.Keyring
		sealed string
		aad    string
		want   error
	}{
		{"wrong aad", kr, sealed, "connection/00000000000468D6/secretAccessKey", keyring.ErrDecrypt},
		{"empty aad", kr, sealed, "", keyring.ErrDecrypt},
		{"flipped nonce bit", kr, flip(0), aad, keyring.ErrDecrypt},
		{"flipped ciphertext bit", kr, flip(14), aad, keyring.ErrDecrypt},
		{"flipped tag bit", kr, flip(len(data) - 1), aad, keyring.ErrDecrypt},
		{"truncated data", kr, withData(func(b []byte) []byte { return b[:len(b)-1] }), aad, keyring.ErrDecrypt},
		{"appended data", kr, withData(func(b []byte) []byte { return append(b, 0) }), aad, keyring.ErrDecrypt},
		{"too short for nonce and tag", kr, withData(func(b []byte) []byte { return b[:27] }), aad, keyring.ErrMalformed},
		{"wrong key", other, sealed, aad, keyring.ErrUnknownKey},
		{"wrong key under the right key ID", other, parts[0] + "." + other.KeyID() + "." + parts[2], aad, keyring.ErrDecrypt},
		{"key ID of another key", kr, parts[0] + "." + other.KeyID() + "." + parts[2], aad, keyring.ErrUnknownKey},
		{"empty", kr, "", aad, keyring.ErrMalformed},
		{"plaintext stored by mistake", kr, plaintext, aad, keyring.ErrMalformed},
		{"unknown version", kr, "hk2." + parts[1] + "." + parts[2], aad, keyring.ErrMalformed},
		{"upper-case key ID", kr, parts[0] + "." + strings.ToUpper(parts[1]) + "." + parts[2], aad, keyring.ErrMalformed},
		{"short key ID", kr, parts[0] + "." + parts[1][:7] + "." + parts[2], aad, keyring.ErrMalformed},
		{"missing data", kr, parts[0] + "." + parts[1], aad, keyring.ErrMalformed},
		{"padded base64", kr, sealed + "==", aad, keyring.ErrMalformed},
		{"standard base64 alphabet", kr, parts[0] + "." + parts[1] + "." + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 40)), aad, keyring.ErrMalformed},
		{"extra dot", kr, sealed + ".x", aad, keyring.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kr.Open(tt.sealed, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %q, %v; want error %v", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("Open returned %d bytes with its error", len(got))
			}
			assertNoLeak(t, err.Error(), plaintext, testKey(1), testKey(2))
		})
	}
}

// assertNoLeak fails when msg contains a secret or a key in any usual encoding.
func assertNoLeak(t *testing.T, msg, secret string, keys ...[]byte) {
	t.Helper()
	if strings.Contains(msg, secret) {
		t.Errorf("message %q contains the plaintext", msg)
	}
	for _, k := range keys {
		for _, enc := range []string{
			hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k), string(k),
		} {
			if strings.Contains(msg, enc) {
				t.Errorf("message %q contains a key", msg)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	before := mustNew(t, oldKey)
	sealedOld, err := before.Seal([]byte("old secret"), "a")
	if err != nil {
		t.Fatal(err)
	}

	after := mustNew(t, newKey, oldKey)
	if after.KeyID() == before.KeyID() {
		t.Fatalf("two keys share key ID %s", after.KeyID())
	}
	got, err := after.Open(sealedOld, "a")
	if err != nil || string(got) != "old secret" {
		t.Fatalf("rotated keyring opens a value sealed with the old key = %q, %v; want the plaintext", got, err)
	}
	if id, _ := keyring.KeyIDOf(sealedOld); id != before.KeyID() {
		t.Errorf("KeyIDOf(old value) = %s; want the old key's ID %s, so a rotation can find it", id, before.KeyID())
	}

	sealedNew, err := after.Seal([]byte("new secret"), "a")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := keyring.KeyIDOf(sealedNew); id != after.KeyID() {
		t.Errorf("rotated keyring sealed with key %s; want the new primary %s", id, after.KeyID())
	}
	if _, err := before.Open(sealedNew, "a"); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Errorf("old keyring opening a value sealed with the new key: err = %v; want ErrUnknownKey", err)
	}
	// The old key still checks its aad.
	if _, err := after.Open(sealedOld, "b"); !errors.Is(err, keyring.ErrDecrypt) {
		t.Errorf("open old value with wrong aad: err = %v; want ErrDecrypt", err)
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	tests := []struct {
		name    string
		primary []byte
		olds    [][]byte
		want    string
	}{
		{"nil", nil, nil, "primary key is 0 bytes"},
		{"AES-128 key", make([]byte, 16), nil, "primary key is 16 bytes"},
		{"33 bytes", make([]byte, 33), nil, "primary key is 33 bytes"},
		{"bad old key", testKey(1), [][]byte{testKey(2), make([]byte, 31)}, "old key 2 is 31 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := keyring.New(tt.primary, tt.olds...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, %v; want error containing %q", kr, err, tt.want)
			}
		})
	}
}

func TestStringHidesKey(t *testing.T) {
	kr := mustNew(t, testKey(1), testKey(2))
	for _, s := range []string{fmt.Sprint(kr), fmt.Sprintf("%v %+v %#v %s", kr, kr, kr, kr)} {
		assertNoLeak(t, s, "\x00never", testKey(1), testKey(2))
		if !strings.Contains(s, kr.KeyID()) {
			t.Errorf("String() = %q; want it to name the primary key ID", s)
		}
	}
}

func FuzzOpen(f *testing.F) {
	kr := mustNew(f, testKey(1))
	s, err := kr.Seal([]byte("seed"), "aad")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s, "aad")
	f.Add("hk1.00000000.", "")
	f.Add("hk1..", "x")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, sealed, aad string) {
		// Anything may come out of a database: it must never panic, and
		// must only open what was sealed. (Worker processes seal their own
		// seed with a different nonce, so compare what it holds, not s.)
		if got, err := kr.Open(sealed, aad); err == nil {
			if aad != "aad" || string(got) != "seed" {
				t.Fatalf("Open(%q, %q) = %q without error", sealed, aad, got)
			}
		}
		// Whatever the input, sealing it round-trips.
		out, err := kr.Seal([]byte(sealed), aad)
		if err != nil {
			t.Fatal(err)
		}
		back, err := kr.Open(out, aad)
		if err != nil || string(back) != sealed {
			t.Fatalf("round trip of %q: %q, %v", sealed, back, err)
		}
	})
}

func ExampleKeyring() {
	// In the server the key comes from Load; here it is fixed.
	kr, err := keyring.New(bytes.Repeat([]byte{7}, keyring.KeySize))
	if err != nil {
		panic(err)
	}
	sealed, err := kr.Seal([]byte("wJalrXUtnFEMI"), "connection/00000000000468D5/secretAccessKey")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(sealed, "hk1."+kr.KeyID()+"."))

	secret, err := kr.Open(sealed, "connection/00000000000468D5/secretAccessKey")
	fmt.Println(string(secret), err)

	_, err = kr.Open(sealed, "connection/00000000000468D6/secretAccessKey")
	fmt.Println(err)
	// Output:
	// true
	// wJalrXUtnFEMI <nil>
	// keyring: sealed value does not authenticate
}
