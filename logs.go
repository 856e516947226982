package hookline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// Log ingest follows Sumo Logic's HTTP sources: a source is an endpoint,
// POST /receiver/v1/http/{token}, that takes log lines; each line becomes a
// LogRecord with the source's metadata (_sourceCategory, _sourceHost,
// _sourceName), which the sender may override per request.

// Limits of log ingest.
const (
	// MaxMetadataLen bounds a record's category, host and name, in
	// characters, as a source's defaults and as the X-Sumo-* headers.
	MaxMetadataLen = 1024
	// MaxLogMessageBytes bounds one record's message. Longer lines are
	// truncated to it when received, as Sumo Logic truncates at 64 KiB.
	MaxLogMessageBytes = 64 << 10
)

// Source is an HTTP source. Its ingest token is drawn when the source is
// created or its token rotated, and shown once; the store keeps only its
// SHA-256 (TokenHash), so that the database holds no usable token.
type Source struct {
	ID string
	// Name is unique, compared case-insensitively. It is also the
	// _sourceName of the records the source receives, unless the sender's
	// X-Sumo-Name says otherwise, as in Sumo Logic.
	Name        string
	Description string
	// Category is the default _sourceCategory of the records; "" for none.
	Category string
	// HostName is the default _sourceHost; "" means the sender's IP address.
	HostName string
	// TokenHash is SourceTokenHash of the ingest token.
	TokenHash string

	// Received counts the records the source has received, ever (pruning
	// does not lower it); LastReceivedAt is when the last batch arrived.
	Received       int64
	LastReceivedAt time.Time

	CreatedAt  time.Time
	ModifiedAt time.Time
}

// SourceTokenHash returns the form in which a source's ingest token is
// stored and looked up: its SHA-256, in lower-case hex. The token is 256
// random bits, so a plain hash is enough; there is nothing to guess.
func SourceTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Validate checks a source as it is about to be stored.
func (s *Source) Validate() error {
	var p Problems
	validateName(&p, "name", s.Name, MaxNameLen)
	validateDescription(&p, s.Description)
	p.AddError("category", ValidateMetadata(s.Category))
	p.AddError("hostName", ValidateMetadata(s.HostName))
	if !isSHA256Hex(s.TokenHash) {
		p.Add("tokenHash", "must be the SHA-256 of the token in lower-case hex (SourceTokenHash)")
	}
	return p.Err()
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidateMetadata checks a category, host or name: printable (no control
// characters, valid UTF-8) and at most MaxMetadataLen characters. "" is
// valid: no value.
func ValidateMetadata(v string) error {
	if n := utf8.RuneCountInString(v); n > MaxMetadataLen {
		return Errorf(EINVALID, "is %d characters long; at most %d are allowed", n, MaxMetadataLen)
	}
	if !printable(v) {
		return Errorf(EINVALID, "must not contain control characters or invalid UTF-8")
	}
	return nil
}

// SourceAudit is a source as the audit log shows it: never its token or
// the token's hash.
type SourceAudit struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	HostName    string `json:"hostName"`
}

// AuditView returns s without its token hash and counters.
func (s *Source) AuditView() SourceAudit {
	return SourceAudit{Name: s.Name, Description: s.Description, Category: s.Category, HostName: s.HostName}
}

// LogRecord is one log line as stored.
type LogRecord struct {
	// ID is the store's: it increases in the order records arrive.
	ID int64
	// Time is the message's own time: its timestamp when it has one the
	// receiver understands, else ReceivedAt.
	Time       time.Time
	ReceivedAt time.Time
	SourceID   string
	Category   string // _sourceCategory
	Host       string // _sourceHost
	Name       string // _sourceName
	Message    string
}

// LogScan selects records for ScanLogs.
type LogScan struct {
	// From and To bound Time: From <= Time < To. A zero From has no lower
	// bound, a zero To no upper one.
	From, To time.Time
	// Categories, when not empty, keeps only records whose category
	// matches one of them (MatchCategory). Stores filter with it before
	// reading further; callers that match categories themselves may leave
	// it empty.
	Categories []string
	// Keywords, when not empty, lets a store skip records whose message
	// lacks one of them. A store must return every record (within the
	// other conditions) whose message contains each keyword, ASCII letters
	// compared ignoring case and every other byte as it is (MatchKeywords);
	// it may return other records as well. So, unlike Categories, a store
	// may ignore Keywords, and callers match messages themselves: they are
	// a query's pushdown (query.Terms), necessary and not sufficient.
	// Each keyword is non-empty valid UTF-8, and there are at most
	// MaxScanKeywords (ScanKeywords picks them from a query's).
	Keywords []string
	// Limit stops the scan after that many records; 0 is no limit.
	Limit int
}

// MaxScanKeywords bounds LogScan.Keywords: a store tests each on every
// record of the range.
const MaxScanKeywords = 16

// Validate checks a scan: a negative Limit is EINVALID naming "limit",
// and an empty keyword, one that is not UTF-8 or more than
// MaxScanKeywords of them are EINVALID naming "keywords".
func (s LogScan) Validate() error {
	var p Problems
	if s.Limit < 0 {
		p.Add("limit", "must not be negative")
	}
	if n := len(s.Keywords); n > MaxScanKeywords {
		p.Add("keywords", "are %d; at most %d are allowed", n, MaxScanKeywords)
	}
	for i, k := range s.Keywords {
		if k == "" || !utf8.ValidString(k) {
			p.Add("keywords", "must each be non-empty valid UTF-8; keyword %d is not", i+1)
			break
		}
	}
	return p.Err()
}

// ScanKeywords returns keywords as LogScan.Keywords takes them: the
// non-empty, valid UTF-8 ones, at most MaxScanKeywords of them (the first).
// Leaving a keyword out only lets a store return more, so a caller that
// matches messages itself may pass any keywords through it.
func ScanKeywords(keywords []string) []string {
	var out []string
	for _, k := range keywords {
		if len(out) == MaxScanKeywords {
			break
		}
		if k != "" && utf8.ValidString(k) {
			out = append(out, k)
		}
	}
	return out
}

// MatchKeywords reports whether message contains every keyword, ASCII
// letters compared ignoring case and every other byte as it is: which
// records a store must keep for LogScan.Keywords.
func MatchKeywords(message string, keywords []string) bool {
	if len(keywords) == 0 {
		return true
	}
	folded := ASCIILower(message)
	for _, k := range keywords {
		if !strings.Contains(folded, ASCIILower(k)) {
			return false
		}
	}
	return true
}

// ASCIILower folds ASCII letters only: the folding MatchKeywords and
// MatchCategory compare by, which a store's own folding must equal.
func ASCIILower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// MatchCategory reports whether a record's category matches pattern: equal
// to it ignoring ASCII case, or, when pattern ends in "*", starting with
// the rest of it ignoring ASCII case ("prod/*" matches "PROD/web"). This
// is what Sumo Logic's _sourceCategory=prod/* does, and what a store's
// LIKE and lower() compute.
func MatchCategory(pattern, category string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return len(category) >= len(prefix) && asciiEqualFold(category[:len(prefix)], prefix)
	}
	return asciiEqualFold(category, pattern)
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// AuditSource is the audit target type of sources. Their events are
// "create", "update", "delete" and "rotateToken".
const AuditSource = "source"

// LogStore keeps HTTP sources and the records they receive. Changes to
// sources are recorded in the audit log in their own transaction, as made
// by ActorFrom(ctx), like connection changes; records are not audited.
type LogStore interface {
	// CreateSource stores s (TokenHash set by the caller), filling in its
	// ID and times. ECONFLICT naming "name" when the name is taken.
	CreateSource(ctx context.Context, s *Source) error
	// Source returns the source with the ID, or ENOTFOUND.
	Source(ctx context.Context, id string) (*Source, error)
	// SourceByTokenHash returns the source whose token has the hash, or
	// ENOTFOUND (whose message does not hold the hash).
	SourceByTokenHash(ctx context.Context, tokenHash string) (*Source, error)
	// Sources lists sources ordered by lower-cased name, then ID.
	Sources(ctx context.Context, opt ListOptions) ([]*Source, string, error)
	// UpdateSource replaces name, description, category and host name,
	// keeping the token; ENOTFOUND, ECONFLICT naming "name".
	UpdateSource(ctx context.Context, s *Source) error
	// DeleteSource removes the source; its token stops working at once.
	// The records it received stay until retention prunes them.
	DeleteSource(ctx context.Context, id string) error
	// RotateSourceToken replaces the source's token hash: the old token
	// stops working at once. It returns the source as stored.
	RotateSourceToken(ctx context.Context, id, tokenHash string) (*Source, error)

	// AppendLogs stores the records in one transaction (which concurrent
	// calls may share) and returns once they are committed, filling in each record's ID (and ReceivedAt, and
	// Time from it, when zero). It adds to each source's Received count.
	AppendLogs(ctx context.Context, records []LogRecord) error
	// ScanLogs calls fn with the records selected by scan, newest Time
	// first (among equal times, the last to arrive first). It stops at the
	// first error fn returns and returns that error as it is.
	ScanLogs(ctx context.Context, scan LogScan, fn func(LogRecord) error) error
	// PruneLogs deletes the records whose Time is before the given time, in
	// batches of bounded size so that other writers are not held up, and
	// returns how many it deleted.
	PruneLogs(ctx context.Context, before time.Time) (int64, error)
}
