// Package cli implements the vitte command line.
//
// The CLI's voice: results, and only results, go to stdout, so commands
// pipe. Everything else goes to stderr, one line each, prefixed
// "vitte: error: ", "vitte: warning: " or "vitte: hint: ", lower-case, with
// no period at the end. Plugin output (its stdout and stderr) is passed
// through as is; plugin log lines go to stderr through log/slog.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes, documented in README.md and docs/cli.md.
const (
	ExitOK         = 0 // success
	ExitError      = 1 // plugin or runtime error
	ExitUsage      = 2 // usage error: bad arguments or flags
	ExitVerify     = 3 // verification failed
	ExitPermission = 4 // permission denied
)

// exitError carries an exit code back to Main.
type exitError struct {
	code  int
	err   error
	hints []string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func withCode(code int, err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err, hints: hints}
}

// report prints err on stderr and returns the exit code it carries.
func report(stderr io.Writer, err error) int {
	code := ExitError
	var hints []string
	var ee *exitError
	if errors.As(err, &ee) {
		code, hints = ee.code, ee.hints
	}
	// Continuation lines of a multi-problem error are indented under the
	// first.
	msg := strings.ReplaceAll(strings.TrimRight(err.Error(), "\n"), "\n", "\n\t")
	fmt.Fprintf(stderr, "vitte: error: %s\n", msg)
	for _, h := range hints {
		fmt.Fprintf(stderr, "vitte: hint: %s\n", h)
	}
	return code
}

func warnf(stderr io.Writer, format string, args ...any) {
	fmt.Fprintf(stderr, "vitte: warning: "+format+"\n", args...)
}
