package manifest

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with a manifest, located.
//
// It prints as "plugin.toml:12:3: capabilities.fss: unknown key". Line and
// Column are 1-based and count bytes; they are 0 when the problem has no
// place in the file (a missing table, or a [Manifest] built in Go and checked
// with [Manifest.Validate]), and the position is then left out. Key is the
// dotted path of the key concerned, with array indices counted from 0
// ("capabilities.fs[1].mode"), or empty when the problem is about the file as
// a whole.
type Problem struct {
	File    string
	Line    int
	Column  int
	Key     string
	Message string
}

// Error implements error.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is every problem found in one manifest, in file order. Problems
// without a position come last.
//
// Use [errors.As] to get it from an error returned by [Parse] or
// [Manifest.Validate], or to get the first [Problem].
type Error struct {
	Problems []Problem
}

// Error implements error. It prints all problems, one per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns each [Problem] as an error.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Interface guards
var (
	_ error = Problem{}
	_ error = (*Error)(nil)
)
