package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError says why a query cannot run and where: a malformed query, or a
// well-formed one that asks for something impossible (an unknown operator, a
// field an aggregate's rows do not have, a limit of zero).
type SyntaxError struct {
	Offset int // byte offset in the query
	Line   int // 1-based
	Column int // 1-based, in characters (runes), not bytes
	// Msg is the whole explanation, without the position.
	Msg string
	// Expected lists what would have been accepted at Offset, when the
	// problem is an unexpected token ("a field name", `")"`).
	Expected []string
	// Found is the text found at Offset; empty at the end of the query.
	Found string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// bailout carries a *SyntaxError from deep in the parser to Parse, which
// recovers it; any other panic is a bug and is not recovered.
type bailout struct{ err *SyntaxError }

// newSyntaxError places msg at byte offset off of src.
func newSyntaxError(src string, off int, msg string) *SyntaxError {
	off = min(max(off, 0), len(src))
	before := src[:off]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return &SyntaxError{Offset: off, Line: line, Column: col, Msg: msg}
}

// describe shows a token in a message: quoted and shortened, or "end of query".
func describe(t token) string {
	if t.kind == tEOF {
		return "end of query"
	}
	return quoteFound(t.text)
}

func quoteFound(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// orList joins alternatives the way a sentence does: "a", "a or b", "a, b or c".
func orList(xs []string) string { return joinList(xs, " or ") }

// andList joins the items of a list: "a", "a and b", "a, b and c".
func andList(xs []string) string { return joinList(xs, " and ") }

func joinList(xs []string, last string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + last + xs[len(xs)-1]
}
