package trust

import (
	"errors"
	"fmt"
	"strings"
)

// Outcomes of [Verify] a caller can branch on with [errors.Is]. Each problem
// that makes a package fail wraps one of them.
var (
	// ErrUnsigned: the package has no signature, and the policy requires
	// at least one.
	ErrUnsigned = errors.New("unsigned package")
	// ErrUntrusted: a signature is by a key that trust.toml does not name,
	// or that the policy applying to the package does not list.
	ErrUntrusted = errors.New("untrusted key")
	// ErrBadSignature: a signature is malformed, not of the prehashed
	// variant, filed under another key's id, or does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrRevoked: a signature is by a key that trust.toml marks revoked.
	ErrRevoked = errors.New("revoked key")
	// ErrExpired: a signature is by a key outside its not_before..not_after
	// period, now or when the signature says it was made.
	ErrExpired = errors.New("key not valid at this time")
	// ErrMismatch: a signature is for another package: its trusted comment
	// names another name, version or content id, or is not a vitte-plugin
	// v1 statement.
	ErrMismatch = errors.New("signature for another package")
	// ErrThreshold: fewer distinct trusted keys signed the package than the
	// policy's threshold.
	ErrThreshold = errors.New("not enough trusted signatures")
	// ErrPolicy: trust.toml is not valid. The error is a [*PolicyError]
	// listing every problem.
	ErrPolicy = errors.New("invalid trust policy")
)

// VerifyError is the error of [Verify] for a package that fails: every
// problem found, each wrapping one of the sentinel errors of this package.
//
// It prints as
//
//	verify hello 0.1.0 from file:///tmp/hello.vitplug: 2 problems
//	signature by bob (RWTx…): revoked key: bob is revoked in trust.toml
//	threshold: not enough trusted signatures: 0 of 1 distinct trusted keys
type VerifyError struct {
	// Name and Version are the package's, from its manifest.
	Name, Version string
	// Source is where the package came from, as given to Verify.
	Source string
	// Problems are the failed checks, in the order of [Verdict.Checks].
	Problems []error
}

// Error implements error.
func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verify %s %s", e.Name, e.Version)
	if e.Source != "" {
		fmt.Fprintf(&b, " from %s", e.Source)
	}
	if len(e.Problems) == 1 {
		b.WriteString(": 1 problem")
	} else {
		fmt.Fprintf(&b, ": %d problems", len(e.Problems))
	}
	for _, p := range e.Problems {
		b.WriteByte('\n')
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems.
func (e *VerifyError) Unwrap() []error { return e.Problems }

// Problem is one thing wrong with a trust.toml, located.
//
// It prints as "trust.toml:12:3: policy[0].level: unknown level \"strikt\"".
// Line and Column are 1-based and count bytes; they are 0 when unknown, and
// then left out. Key is the dotted path of the key concerned, array indices
// counted from 0, or empty for the file as a whole.
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
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
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

// PolicyError is every problem found in a trust.toml, in file order. It
// matches [ErrPolicy] with [errors.Is].
type PolicyError struct {
	Problems []Problem
}

// Error implements error. It prints all problems, one per line.
func (e *PolicyError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Is reports whether target is [ErrPolicy].
func (e *PolicyError) Is(target error) bool { return target == ErrPolicy }

// Unwrap returns each [Problem] as an error.
func (e *PolicyError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Interface guards
var (
	_ error = (*VerifyError)(nil)
	_ error = Problem{}
	_ error = (*PolicyError)(nil)
)
