package query

import "strings"

// The query has two lexical modes. The search expression (before the first
// "|") is made of free text: a keyword is any run of characters up to a space,
// parenthesis, pipe, quote or "=", so "/api/v1" and "203.0.113.7" need no
// quotes. After the first "|", operators read identifiers, numbers, strings
// and punctuation, like a programming language. The parser asks for the token
// at its position in the mode it is in; queries are short, so a token is
// simply lexed again when the parser looks at it twice.

type tokKind uint8

const (
	tEOF    tokKind = iota
	tPipe           // |
	tLParen         // (
	tRParen         // )
	tString         // "...": val holds the text between the quotes, escapes undone later
	tWord           // search mode: a bare keyword or field name
	tEq             // search mode: =
	tBang           // search mode: ! before a term
	tIdent          // operator mode: a name
	tNumber         // operator mode
	tPunct          // operator mode: , = == != <> < <= > >= ! -
	tBad            // a character or string that cannot start a token; msg says why
)

type token struct {
	kind tokKind
	text string // the source text of the token
	val  string // tString: the raw text between the quotes
	msg  string // tBad: what is wrong
	pos  int    // byte offset of the first character
	end  int    // byte offset after the last character
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func skipSpace(src string, pos int) int {
	for pos < len(src) && isSpace(src[pos]) {
		pos++
	}
	return pos
}

// lexString reads a double-quoted string starting at src[pos] == '"'. A
// backslash keeps the next byte in the string, so \" does not close it.
func lexString(src string, pos int) token {
	for i := pos + 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return token{kind: tString, text: src[pos : i+1], val: src[pos+1 : i], pos: pos, end: i + 1}
		}
	}
	return token{kind: tBad, text: src[pos:], msg: "string is never closed: add the closing \"", pos: pos, end: len(src)}
}

// isSearchStop reports the bytes that end a bare word in the search expression.
func isSearchStop(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '|' || c == '"' || c == '='
}

// lexSearch returns the search-mode token at pos.
func lexSearch(src string, pos int) token {
	pos = skipSpace(src, pos)
	if pos >= len(src) {
		return token{kind: tEOF, pos: len(src), end: len(src)}
	}
	single := func(k tokKind) token { return token{kind: k, text: src[pos : pos+1], pos: pos, end: pos + 1} }
	switch src[pos] {
	case '|':
		return single(tPipe)
	case '(':
		return single(tLParen)
	case ')':
		return single(tRParen)
	case '=':
		return single(tEq)
	case '!':
		return single(tBang)
	case '"':
		return lexString(src, pos)
	}
	end := pos
	for end < len(src) && !isSearchStop(src[end]) {
		end++
	}
	return token{kind: tWord, text: src[pos:end], pos: pos, end: end}
}

// lexValue returns the value of a field=value term at pos: a string, or a
// bare word that may itself contain "=" and "!" (url=/a?b=c).
func lexValue(src string, pos int) token {
	pos = skipSpace(src, pos)
	if pos < len(src) && src[pos] == '"' {
		return lexString(src, pos)
	}
	end := pos
	for end < len(src) && (!isSearchStop(src[end]) || src[end] == '=') {
		end++
	}
	if end == pos {
		return lexSearch(src, pos)
	}
	return token{kind: tWord, text: src[pos:end], pos: pos, end: end}
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || isDigit(c) || c == '.'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isFieldName reports whether s can name a field: a letter or "_", then
// letters, digits, "_" and "." (json keys such as user.name keep their dots).
func isFieldName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentByte(s[i]) {
			return false
		}
	}
	return true
}

// lexOp returns the operator-mode token at pos.
func lexOp(src string, pos int) token {
	pos = skipSpace(src, pos)
	if pos >= len(src) {
		return token{kind: tEOF, pos: len(src), end: len(src)}
	}
	tok := func(k tokKind, end int) token { return token{kind: k, text: src[pos:end], pos: pos, end: end} }
	c := src[pos]
	switch {
	case c == '|':
		return tok(tPipe, pos+1)
	case c == '(':
		return tok(tLParen, pos+1)
	case c == ')':
		return tok(tRParen, pos+1)
	case c == '"':
		return lexString(src, pos)
	case isIdentStart(c):
		end := pos + 1
		for end < len(src) && isIdentByte(src[end]) {
			end++
		}
		return tok(tIdent, end)
	case isDigit(c) || (c == '-' || c == '.') && pos+1 < len(src) && (isDigit(src[pos+1]) || src[pos+1] == '.' && pos+2 < len(src) && isDigit(src[pos+2])):
		if end := scanNumber(src, pos); end > pos {
			return tok(tNumber, end)
		}
	}
	for _, p := range [...]string{"==", "!=", "<>", "<=", ">=", ",", "=", "<", ">", "!", "-"} {
		if strings.HasPrefix(src[pos:], p) {
			return tok(tPunct, pos+len(p))
		}
	}
	end := pos + 1
	for end < len(src) && src[end]&0xC0 == 0x80 { // the whole UTF-8 sequence
		end++
	}
	msg := "unexpected character " + quoteFound(src[pos:end])
	if c == '\'' {
		msg += ": strings take double quotes"
	}
	return token{kind: tBad, text: src[pos:end], msg: msg, pos: pos, end: end}
}

// scanNumber returns the end of the decimal number at src[pos:], or pos if
// there is none: an optional "-", digits with an optional fraction (or a
// fraction alone), an optional exponent.
func scanNumber(src string, pos int) int {
	i := pos
	if i < len(src) && src[i] == '-' {
		i++
	}
	digits := 0
	for i < len(src) && isDigit(src[i]) {
		i++
		digits++
	}
	if i < len(src) && src[i] == '.' {
		j := i + 1
		for j < len(src) && isDigit(src[j]) {
			j++
			digits++
		}
		if j > i+1 || digits > 0 {
			i = j
		}
	}
	if digits == 0 {
		return pos
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			i = j
		}
	}
	return i
}
