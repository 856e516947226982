package http

import (
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// The HTTP source receiver, POST /receiver/v1/http/{token}, after Sumo
// Logic's: the token in the path names the source and is its only
// credential; the body is log lines, plain or JSON, optionally compressed.

// Bounds of the receiver.
const (
	// MaxIngestBodyBytes bounds a request body after decompression (and
	// before it, so that a huge compressed body is not read either).
	MaxIngestBodyBytes = 10 << 20
	// MaxLineBytes is the longest line kept whole; longer lines are cut to
	// it (at a character boundary) and counted as truncated.
	MaxLineBytes = hookline.MaxLogMessageBytes
)

// receiverPrefix is the path of every HTTP source; what follows is a token.
const receiverPrefix = "/receiver/v1/http/"

// The headers that override a source's metadata for one request.
const (
	headerCategory = "X-Sumo-Category"
	headerHost     = "X-Sumo-Host"
	headerName     = "X-Sumo-Name"
)

// ingestAnswer is what the receiver answers once the lines are committed.
type ingestAnswer struct {
	Accepted  int `json:"accepted"`
	Truncated int `json:"truncated"`
}

func (s *Server) receiveHTTP(w http.ResponseWriter, r *http.Request) error {
	now := time.Now()
	src, err := s.Logs.SourceByTokenHash(r.Context(), hookline.SourceTokenHash(r.PathValue("token")))
	if hookline.ErrorCode(err) == hookline.ENOTFOUND {
		// The same answer for a token that never was, one rotated away and
		// one whose source is gone: nothing about sources is revealed.
		return unauthorized("The HTTP source token is not valid.")
	} else if err != nil {
		return err
	}
	if d, ok := s.limits.take("ingest|"+src.ID, s.Limits.Alert, now); !ok {
		return tooMany(d, "Too many requests: this source may receive %g requests a second; try again in %s.", s.Limits.Alert.Rate, retryText(d))
	}
	meta, err := ingestMetadata(r, src)
	if err != nil {
		return err
	}
	body, err := readIngestBody(r)
	if err != nil {
		return err
	}
	records, truncated := parseLines(body, meta, now)
	if err := s.Logs.AppendLogs(r.Context(), records); err != nil {
		return clientGone(r, err)
	}
	writeJSON(w, http.StatusOK, ingestAnswer{Accepted: len(records), Truncated: truncated})
	return nil
}

// ingestMetadata is the template of the request's records: the source's
// metadata, overridden by the X-Sumo-* headers that are given.
func ingestMetadata(r *http.Request, src *hookline.Source) (hookline.LogRecord, error) {
	meta := hookline.LogRecord{SourceID: src.ID, Category: src.Category, Host: src.HostName, Name: src.Name}
	if meta.Host == "" {
		// As Sumo Logic does: the sender's address. Not X-Forwarded-For,
		// which the sender writes itself; X-Sumo-Host is for that.
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			meta.Host = host
		}
	}
	var p hookline.Problems
	for _, h := range []struct {
		name string
		dst  *string
	}{{headerCategory, &meta.Category}, {headerHost, &meta.Host}, {headerName, &meta.Name}} {
		vs := r.Header.Values(h.name)
		switch {
		case len(vs) > 1:
			p.Add(h.name, "is given %d times; give it once", len(vs))
		case len(vs) == 0 || vs[0] == "":
		default:
			if err := hookline.ValidateMetadata(vs[0]); err != nil {
				p.AddError(h.name, err)
				continue
			}
			*h.dst = vs[0]
		}
	}
	return meta, p.Err()
}

// readIngestBody reads the body, decompressing it as Content-Encoding
// says, and refuses more than MaxIngestBodyBytes either way.
func readIngestBody(r *http.Request) ([]byte, error) {
	tooLarge := hookline.Errorf(hookline.ETOOLARGE, "The request body is larger than %d bytes (after decompression); send fewer lines a request.", MaxIngestBodyBytes)
	raw := http.MaxBytesReader(nil, r.Body, MaxIngestBodyBytes)
	var (
		body io.Reader = raw
		name string
	)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, readError(r, err, tooLarge, "gzip")
		}
		body, name = zr, "gzip"
	case "deflate":
		zr, err := zlib.NewReader(raw)
		if err != nil {
			return nil, readError(r, err, tooLarge, "deflate (zlib)")
		}
		body, name = zr, "deflate (zlib)"
	default:
		var p hookline.Problems
		p.Add("Content-Encoding", "is %q; send gzip, deflate or no encoding", enc)
		return nil, p.Err()
	}
	b, err := io.ReadAll(io.LimitReader(body, MaxIngestBodyBytes+1))
	if err != nil {
		return nil, readError(r, err, tooLarge, name)
	}
	if len(b) > MaxIngestBodyBytes {
		return nil, tooLarge
	}
	return b, nil
}

// readError says why a body could not be read: too large, cut off by the
// client, or not in the encoding it claimed.
func readError(r *http.Request, err error, tooLarge error, encoding string) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge
	case r.Context().Err() != nil:
		return errCanceled()
	case encoding != "":
		// A short or cut-off stream ends unexpectedly too: say both.
		var p hookline.Problems
		if errors.Is(err, io.ErrUnexpectedEOF) {
			p.Add("Content-Encoding", "says %s, but the body ends before its %s stream does (not %s, or cut off)", encoding, encoding, encoding)
		} else {
			p.Add("Content-Encoding", "says %s, but the body is not valid %s", encoding, encoding)
		}
		return p.Err()
	}
	return hookline.Errorf(hookline.EINVALID, "The request body could not be read.")
}

// parseLines splits body into records: one a line (LF or CRLF), blank
// lines skipped, invalid UTF-8 replaced, lines longer than MaxLineBytes cut
// to it. A line that is a JSON object with a "timestamp" or "time" field
// gets its Time from it (timestampOf); every other record is stamped with
// now, the receive time.
func parseLines(body []byte, meta hookline.LogRecord, now time.Time) ([]hookline.LogRecord, int) {
	text := string(body)
	records := make([]hookline.LogRecord, 0, strings.Count(text, "\n")+1)
	truncated := 0
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !utf8.ValidString(line) {
			line = strings.ToValidUTF8(line, "\uFFFD")
		}
		rec := meta
		rec.ReceivedAt, rec.Time = now, now
		if t, ok := timestampOf(line); ok {
			rec.Time = t
		}
		if len(line) > MaxLineBytes {
			line = cutAt(line, MaxLineBytes)
			truncated++
		}
		rec.Message = line
		records = append(records, rec)
	}
	return records, truncated
}

// cutAt returns the longest prefix of s of at most n bytes that does not
// split a character.
func cutAt(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// jsonTime holds the fields a JSON line's time may be in. encoding/json
// matches names ignoring case, so "Timestamp" and "TIME" count too.
type jsonTime struct {
	Timestamp json.RawMessage `json:"timestamp"`
	Time      json.RawMessage `json:"time"`
}

// Times before 1970 or after 2261 are no log line's: an epoch in the wrong
// unit, or a typo. Such a line is stamped with its receive time.
var (
	earliestLogTime = time.Unix(0, 0)
	latestLogTime   = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// timestampOf returns the time of a JSON-object line from its "timestamp"
// (or else "time") field: an RFC 3339 string, or epoch milliseconds as a
// number or a string of digits (or seconds, when the value is below 10^11,
// which as milliseconds would be March 1973).
func timestampOf(line string) (time.Time, bool) {
	trimmed := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(trimmed, "{") {
		return time.Time{}, false
	}
	var f jsonTime
	if err := json.Unmarshal([]byte(trimmed), &f); err != nil {
		return time.Time{}, false
	}
	raw := f.Timestamp
	if len(raw) == 0 || string(raw) == "null" {
		raw = f.Time
	}
	if len(raw) == 0 {
		return time.Time{}, false
	}
	var t time.Time
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}, false
		}
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			var ok bool
			if t, ok = epoch(s); !ok {
				return time.Time{}, false
			}
		}
	} else {
		var ok bool
		if t, ok = epoch(string(raw)); !ok {
			return time.Time{}, false
		}
	}
	if t.Before(earliestLogTime) || !t.Before(latestLogTime) {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// epoch reads a number of milliseconds since 1970 (seconds below 10^11),
// possibly with a fraction: digits, or as JSON writes a number.
func epoch(s string) (time.Time, bool) {
	if s == "" || !strings.ContainsAny(s[:1], "0123456789") || strings.ContainsFunc(s, func(r rune) bool {
		return !strings.ContainsRune("0123456789.eE+-", r)
	}) {
		return time.Time{}, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1e16) {
		return time.Time{}, false
	}
	if v < 1e11 {
		v *= 1000
	}
	ms := int64(v)
	return time.UnixMilli(ms).Add(time.Duration((v - float64(ms)) * float64(time.Millisecond))), true
}
