// Package credential makes and checks the secrets people and programs sign
// in with: passwords and access keys are kept as argon2id hashes in the
// PHC string format, and new access IDs, access keys and session tokens are
// drawn from crypto/rand.
package credential

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are written into every hash,
// so raising them later leaves older hashes verifiable.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// Default is OWASP's recommended minimum for argon2id (19 MiB, 2 passes,
// one thread): about 30 ms on one core of a small server. The server
// caches verified access keys, so the cost is paid once per key and
// minute, not per request.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// Bounds on what Verify accepts from a stored hash, so that a damaged or
	// planted row cannot make one check take gigabytes or minutes.
	maxMemory = 1 << 20 // KiB: 1 GiB
	maxTime   = 64
)

// ErrMalformed is returned by Verify for a hash it cannot read.
var ErrMalformed = errors.New("credential: malformed hash")

// Hash returns the PHC-format argon2id hash of secret with a fresh salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, base64 without padding.
func (p Params) Hash(secret string) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand documents it)
	sum := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

// Hash hashes secret with the Default parameters.
func Hash(secret string) string { return Default.Hash(secret) }

// Verify reports whether secret is the one encoded was made from. The
// comparison takes the same time wherever the two differ.
func Verify(encoded, secret string) (bool, error) {
	p, salt, want, err := parse(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parse(encoded string) (p Params, salt, sum []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	var seen int
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformed
		}
		switch k {
		case "m":
			p.Memory, seen = uint32(n), seen|1
		case "t":
			p.Time, seen = uint32(n), seen|2
		case "p":
			if n > 255 {
				return p, nil, nil, ErrMalformed
			}
			p.Threads, seen = uint8(n), seen|4
		default:
			return p, nil, nil, ErrMalformed
		}
	}
	if seen != 7 || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return p, nil, nil, ErrMalformed
	}
	salt, err = base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	sum, err = base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(sum) < 16 || len(sum) > 64 {
		return p, nil, nil, ErrMalformed
	}
	return p, salt, sum, nil
}

// alphabet for access IDs: upper-case letters and digits without the ones
// people confuse (0/O, 1/I/L), so an ID read aloud or retyped survives.
const idAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// NewAccessID returns a new access ID: "hk" and 14 characters, about 69
// random bits, enough that IDs do not collide; the key is the secret.
func NewAccessID() string {
	b := make([]byte, 14)
	_, _ = rand.Read(b)
	for i := range b {
		// 256 % 31 != 0 biases a few letters slightly; an ID is not a secret.
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "hk" + string(b)
}

// NewSecret returns 256 random bits, base64url-encoded (43 characters):
// an access key or a session token.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidAccessID reports whether s has the form NewAccessID makes, so that a
// malformed ID is refused before any lookup.
func ValidAccessID(s string) bool {
	if len(s) != 16 || !strings.HasPrefix(s, "hk") {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !strings.ContainsRune(idAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}
