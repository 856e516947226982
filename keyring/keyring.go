// Package keyring encrypts secrets at rest with AES-256-GCM.
//
// A sealed value is text, so it can sit in a JSON column:
//
//	hk1.<keyid>.<base64url(nonce || ciphertext || tag)>
//
// "hk1" names the format, so a later one can be told apart. keyid is a short,
// one-way fingerprint of the key that sealed the value, so that a keyring
// holding a new primary key and the keys it replaced (see New) knows which key
// opens a value without trying each one, and a rotation can find the values
// still sealed with an old key (KeyID). The aad given to Seal and Open binds
// a ciphertext to the place it is stored, so a sealed value copied to another
// row or field does not open there.
//
// Nothing this package returns in an error contains key material or
// plaintext.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeySize is the length of a key in bytes: AES-256.
const KeySize = 32

// version prefixes every sealed value.
const version = "hk1"

// Errors returned by Open, to be tested with errors.Is.
var (
	// ErrMalformed means the value is not a sealed value of a known format.
	ErrMalformed = errors.New("keyring: malformed sealed value")
	// ErrUnknownKey means the value was sealed with a key the keyring does
	// not hold: the master key was changed without keeping the old one.
	ErrUnknownKey = errors.New("keyring: sealed with a key this keyring does not hold")
	// ErrDecrypt means the value did not authenticate: it was tampered with,
	// or it is being opened with another aad than it was sealed with.
	ErrDecrypt = errors.New("keyring: sealed value does not authenticate")
)

// Keyring seals with its primary key and opens with the primary key or any
// old key it holds. It is safe for concurrent use.
type Keyring struct {
	primary string                 // key ID of the key Seal uses
	aeads   map[string]cipher.AEAD // by key ID, the primary key included
}

// New returns a keyring that seals with primary and opens values sealed with
// primary or any of olds. Every key must be KeySize bytes long.
func New(primary []byte, olds ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: make(map[string]cipher.AEAD, 1+len(olds))}
	for i, key := range append([][]byte{primary}, olds...) {
		which := "primary key"
		if i > 0 {
			which = fmt.Sprintf("old key %d", i)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("keyring: %s is %d bytes long; it must be %d", which, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keyring: %s: %w", which, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: %s: %w", which, err)
		}
		id := keyID(key)
		if i == 0 {
			k.primary = id
		}
		// A repeated key (an old key that equals the primary) is harmless.
		k.aeads[id] = aead
	}
	return k, nil
}

// keyID fingerprints a key. The hash is domain-separated and truncated to 32
// bits: enough to tell a handful of keys apart, far too little to help guess
// a 256-bit key.
func keyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("hookline keyring key id\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// KeyID returns the ID of the primary key, as it appears in sealed values.
func (k *Keyring) KeyID() string { return k.primary }

// KeyIDs returns the IDs of every key the keyring holds, the primary key's
// first, so that an error can say which keys were tried.
func (k *Keyring) KeyIDs() []string {
	ids := []string{k.primary}
	for id := range k.aeads {
		if id != k.primary {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids[1:])
	return ids
}

// String describes the keyring without revealing keys, so that printing one
// by mistake leaks nothing.
func (k *Keyring) String() string {
	return fmt.Sprintf("keyring(%s, primary key %s, %d old)", version, k.primary, len(k.aeads)-1)
}

// GoString is String, for %#v.
func (k *Keyring) GoString() string { return k.String() }

// Seal encrypts plaintext with the primary key under a fresh random nonce,
// bound to aad.
func (k *Keyring) Seal(plaintext []byte, aad string) (string, error) {
	aead := k.aeads[k.primary]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("keyring: read random nonce: %w", err)
	}
	buf = aead.Seal(buf, buf, plaintext, additionalData(k.primary, aad))
	return version + "." + k.primary + "." + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Open decrypts a value that Seal returned for the same aad. It returns an
// error wrapping ErrMalformed, ErrUnknownKey or ErrDecrypt when it cannot.
func (k *Keyring) Open(sealed, aad string) ([]byte, error) {
	id, data, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w (key ID %s; this keyring holds %s)", ErrUnknownKey, id, k.keyIDs())
	}
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: too short to hold a nonce and tag", ErrMalformed)
	}
	nonce, ciphertext := data[:aead.NonceSize()], data[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, ciphertext, additionalData(id, aad))
	if err != nil {
		// GCM's own error says nothing more than this.
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

// KeyIDOf returns the ID of the key that sealed a value, so that a store can
// find the values to reseal under the primary key and say which key a value
// it cannot open needs.
func KeyIDOf(sealed string) (string, error) {
	id, _, err := parse(sealed)
	return id, err
}

// parse splits a sealed value into its key ID and decoded payload. Its errors
// do not quote the value, which is ciphertext but may be a secret pasted in
// the wrong place.
func parse(sealed string) (id string, data []byte, err error) {
	v, rest, ok := strings.Cut(sealed, ".")
	if !ok {
		return "", nil, fmt.Errorf("%w: want %s.<keyid>.<data>", ErrMalformed, version)
	}
	if v != version {
		return "", nil, fmt.Errorf("%w: unknown format version (want %s)", ErrMalformed, version)
	}
	id, enc, ok := strings.Cut(rest, ".")
	if !ok || len(id) != 8 || !isLowerHex(id) {
		return "", nil, fmt.Errorf("%w: bad key ID", ErrMalformed)
	}
	data, err = base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil {
		return "", nil, fmt.Errorf("%w: data is not unpadded base64url", ErrMalformed)
	}
	return id, data, nil
}

// additionalData authenticates the format version and key ID along with the
// caller's aad, so that no part of the text form can be altered unnoticed.
func additionalData(id, aad string) []byte {
	return []byte(version + "." + id + "." + aad)
}

func (k *Keyring) keyIDs() string { return strings.Join(k.KeyIDs(), ", ") }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
