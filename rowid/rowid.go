// Package rowid owns the IDs both storage engines draw for the rows they
// store: 16 upper-case hex digits, random (New: connections, users, roles,
// sources, monitors, ...) or ordered by time (Gen: alerts, deliveries and
// audit events). Both forms look alike, so one check of an ID's form (as a
// page token's) takes either; changing them changes the stored format.
package rowid

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// New returns a random ID in the form Sumo Logic uses: 16 upper-case hex
// digits.
func New() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate ID: %w", err)
	}
	return strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// Gen draws IDs ordered by time, in New's form. The top 42 bits are the
// milliseconds since 1970 (enough until 2109), the low 22 start at a random
// value, and each ID is above the last one this Gen drew. New rows then
// append to the ID indexes (and to the attempts, keyed by delivery ID)
// instead of dirtying a random page of each per row: with random IDs a
// batch of 500 alerts took SQLite twice as long to store, and attempts
// three times as long to record. A primary key of these IDs is also the
// order rows were recorded in, to the millisecond across processes. The
// IDs are not secrets; they are shown with the time they encode.
//
// The zero Gen is ready to use and safe for concurrent use.
type Gen struct {
	mu   sync.Mutex
	last uint64
}

// Next returns the next ID, drawn at now.
func (g *Gen) Next(now time.Time) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate ID: %w", err)
	}
	id := uint64(now.UnixMilli())<<22 | uint64(binary.BigEndian.Uint32(b[:]))>>10
	g.mu.Lock()
	id = max(id, g.last+1)
	g.last = id
	g.mu.Unlock()
	return fmt.Sprintf("%016X", id), nil
}

// Valid reports whether id has the form of the IDs drawn here: 16
// upper-case hex digits. Page tokens carry IDs; one that does not have
// the form did not come from the store.
func Valid(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
