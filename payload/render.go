package payload

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// Limits on the rows {{ResultsJson}} carries, as Sumo Logic sends them.
const (
	MaxAggregateRows = 200
	MaxRawRows       = 10
)

// TimeLayout is how {{TriggerTime}} and {{TriggerTimeRange}} show a time.
const TimeLayout = "01/02/2006 03:04:05 PM MST"

// Render renders the template for a. The result is always valid JSON.
// A nil alert renders like an empty one.
func (t *Template) Render(a *hookline.Alert) []byte {
	return t.AppendRender(make([]byte, 0, t.sizeHint), a)
}

// AppendRender appends the rendering of the template for a to dst, so that a
// caller delivering many alerts can reuse one buffer.
func (t *Template) AppendRender(dst []byte, a *hookline.Alert) []byte {
	if a == nil {
		a = &hookline.Alert{}
	}
	var st *state
	for i := range t.segs {
		s := &t.segs[i]
		dst = append(dst, s.lit...)
		if s.v == nil {
			continue
		}
		if st == nil && needsState(s.v.kind) {
			st = statePool.Get().(*state)
		}
		dst = s.v.appendValue(dst, a, st)
	}
	if st != nil {
		st.release()
	}
	return dst
}

// state holds scratch space for encoding rows, reused across renders.
type state struct {
	buf  []byte   // rows encoded once, to be escaped into a string
	keys []string // sorted map keys, used as a stack by nested maps
}

var statePool = sync.Pool{New: func() any { return new(state) }}

func (st *state) release() {
	if cap(st.buf) > 64<<10 || cap(st.keys) > 1024 {
		return // let an outsized buffer go rather than pin it
	}
	st.buf, st.keys = st.buf[:0], st.keys[:0]
	statePool.Put(st)
}

func needsState(k kind) bool { return k == kindResults || k == kindResultsField }

func (r *ref) appendValue(dst []byte, a *hookline.Alert, st *state) []byte {
	switch r.kind {
	case kindName:
		return appendText(r, dst, a.Name)
	case kindDescription:
		return appendText(r, dst, a.Description)
	case kindMonitorType:
		return appendText(r, dst, a.MonitorType)
	case kindQuery:
		return appendText(r, dst, a.Query)
	case kindQueryURL:
		return appendText(r, dst, a.QueryURL)
	case kindID:
		return appendText(r, dst, a.SourceID)
	case kindDetectionMethod:
		return appendText(r, dst, a.DetectionMethod)
	case kindTriggerType:
		return appendText(r, dst, string(a.TriggerType))
	case kindTriggerCondition:
		return appendText(r, dst, a.TriggerCondition)
	case kindTriggerValue:
		return appendText(r, dst, a.TriggerValue)
	case kindSourceURL:
		return appendText(r, dst, a.SourceURL)
	case kindAlertResponseURL:
		return appendText(r, dst, a.AlertResponseURL)
	case kindAlertName:
		if v := lookup(a.Variables, r.key); v != "" {
			return appendText(r, dst, v)
		}
		return appendText(r, dst, a.Name)
	case kindExtra:
		return appendText(r, dst, lookup(a.Variables, r.key))
	case kindNumResults:
		return r.appendNumber(dst, int64(a.NumQueryResults))
	case kindTriggerTimeStart:
		return r.appendMillis(dst, a.TriggerTimeStart)
	case kindTriggerTimeEnd:
		return r.appendMillis(dst, a.TriggerTimeEnd)
	case kindTriggerTime:
		var tmp [64]byte
		return appendText(r, dst, appendTime(tmp[:0], a.TriggerTime, a.Location))
	case kindTriggerTimeRange:
		var tmp [128]byte
		b := tmp[:0]
		if !a.TriggerTimeStart.IsZero() && !a.TriggerTimeEnd.IsZero() {
			b = appendTime(b, a.TriggerTimeStart, a.Location)
			b = append(b, " to "...)
			b = appendTime(b, a.TriggerTimeEnd, a.Location)
		}
		return appendText(r, dst, b)
	case kindResults:
		rows := capRows(a.Results)
		if r.bare {
			return st.appendRows(dst, rows)
		}
		st.buf = st.appendRows(st.buf[:0], rows)
		return appendEscaped(dst, st.buf)
	case kindResultsField:
		return r.appendField(dst, capRows(a.Results), st)
	}
	return appendText(r, dst, "")
}

// appendText appends a string value: escaped inside a string, quoted bare.
func appendText[S ~string | ~[]byte](r *ref, dst []byte, s S) []byte {
	if r.bare {
		dst = append(dst, '"')
		dst = appendEscaped(dst, s)
		return append(dst, '"')
	}
	return appendEscaped(dst, s)
}

func (r *ref) appendNumber(dst []byte, n int64) []byte {
	return strconv.AppendInt(dst, n, 10) // digits need no escaping in a string either
}

// appendMillis appends t as epoch milliseconds; the zero time is unresolved.
func (r *ref) appendMillis(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return appendText(r, dst, "")
	}
	return r.appendNumber(dst, t.UnixMilli())
}

func appendTime(b []byte, t time.Time, loc *time.Location) []byte {
	if t.IsZero() {
		return b
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).AppendFormat(b, TimeLayout)
}

// appendField appends one field of one row. Inside a string a string value
// is inserted as its text, any other value as its JSON text; bare, the value
// is inserted as JSON. A missing row or field is unresolved; a JSON null is
// empty inside a string and null bare.
func (r *ref) appendField(dst []byte, rows []hookline.Row, st *state) []byte {
	i := max(r.index, 0)
	if i >= len(rows) {
		return appendText(r, dst, "")
	}
	v, ok := lookupRow(rows[i], r.field)
	if !ok {
		return appendText(r, dst, "")
	}
	if r.bare {
		return st.appendJSON(dst, v)
	}
	switch v := v.(type) {
	case nil:
		return dst
	case string:
		return appendEscaped(dst, v)
	}
	st.buf = st.appendJSON(st.buf[:0], v)
	return appendEscaped(dst, st.buf)
}

// capRows returns the rows {{ResultsJson}} carries: at most MaxRawRows when
// they are raw messages (a row has a Message or _raw field, in any case:
// scheduled searches return field names in lower case), at most
// MaxAggregateRows otherwise.
func capRows(rows []hookline.Row) []hookline.Row {
	if len(rows) <= MaxRawRows {
		return rows
	}
	for _, row := range rows {
		if isRaw(row) {
			return rows[:MaxRawRows]
		}
	}
	return rows[:min(len(rows), MaxAggregateRows)]
}

// isRaw reports whether row is a raw message rather than an aggregate row.
func isRaw(row hookline.Row) bool {
	for k := range row {
		if strings.EqualFold(k, "Message") || strings.EqualFold(k, "_raw") {
			return true
		}
	}
	return false
}

func (st *state) appendRows(dst []byte, rows []hookline.Row) []byte {
	dst = append(dst, '[')
	for i, row := range rows {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = st.appendMap(dst, row)
	}
	return append(dst, ']')
}

// appendMap appends m as a JSON object with its keys sorted, as encoding/json
// does, so that a rendering depends only on the alert.
func (st *state) appendMap(dst []byte, m map[string]any) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	start := len(st.keys)
	for k := range m {
		st.keys = append(st.keys, k)
	}
	keys := st.keys[start:]
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = appendEscaped(dst, k)
		dst = append(dst, '"', ':')
		dst = st.appendJSON(dst, m[k])
	}
	st.keys = st.keys[:start]
	return append(dst, '}')
}

// appendJSON appends v as JSON. It handles what encoding/json decodes into
// (with UseNumber) itself and hands anything else to encoding/json; a value
// that has no JSON form (NaN, a channel) is null, so the output stays valid.
func (st *state) appendJSON(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		dst = append(dst, '"')
		dst = appendEscaped(dst, v)
		return append(dst, '"')
	case json.Number:
		if isNumber(string(v)) {
			return append(dst, v...)
		}
		dst = append(dst, '"')
		dst = appendEscaped(dst, string(v))
		return append(dst, '"')
	case bool:
		return strconv.AppendBool(dst, v)
	case float64:
		return appendFloat(dst, v, 64)
	case float32:
		return appendFloat(dst, float64(v), 32)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case int32:
		return strconv.AppendInt(dst, int64(v), 10)
	case uint64:
		return strconv.AppendUint(dst, v, 10)
	case map[string]any:
		return st.appendMap(dst, v)
	case hookline.Row:
		return st.appendMap(dst, v)
	case []any:
		if v == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = st.appendJSON(dst, e)
		}
		return append(dst, ']')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(dst, "null"...)
	}
	return append(dst, bytes.TrimRight(buf.Bytes(), "\n")...)
}

// appendFloat formats f as encoding/json does.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
		bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// isNumber reports whether s is a JSON number.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	digits := func() int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		s = s[n:]
		return n
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case digits() == 0:
		return false
	}
	if s != "" && s[0] == '.' {
		s = s[1:]
		if digits() == 0 {
			return false
		}
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s != "" && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		if digits() == 0 {
			return false
		}
	}
	return s == ""
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends s escaped as the content of a JSON string: quotes,
// backslashes and control characters escaped, invalid UTF-8 replaced by
// U+FFFD, and U+2028/U+2029 escaped for consumers that treat JSON as
// JavaScript. Nothing in s is interpreted, so a value holding "{{Name}}" stays
// that text.
func appendEscaped[S ~string | ~[]byte](dst []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := decodeRune(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	return append(dst, s[start:]...)
}

func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	if len(s) > utf8.UTFMax {
		s = s[:utf8.UTFMax]
	}
	return utf8.DecodeRuneInString(string(s))
}
