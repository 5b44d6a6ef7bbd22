package trust

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// statementPrefix opens every trusted comment this package writes or
// accepts.
const statementPrefix = "vitte-plugin v1 "

// maxStatementLen bounds the trusted comments ParseStatement reads: a name
// is at most 64 bytes, a version at most a few hundred, a content id 47.
const maxStatementLen = 1024

// Statement is what a signature's trusted comment says, signed with it:
// which package the signature is for and when it was made. It is written
//
//	vitte-plugin v1 name=<name> version=<version> content=<content id> ts=<unix seconds>
type Statement struct {
	// Name and Version are the plugin's, from its manifest.
	Name, Version string
	// ContentID is the package's content id, "h1:...".
	ContentID string
	// Time is when the signature was made, to the second, as the signer's
	// clock said.
	Time time.Time
}

// String returns the trusted comment for s.
func (s Statement) String() string {
	return fmt.Sprintf("%sname=%s version=%s content=%s ts=%d", statementPrefix, s.Name, s.Version, s.ContentID, s.Time.Unix())
}

// ParseStatement parses a trusted comment written as [Statement.String]
// writes it: the four fields in that order, separated by one space each,
// nothing else. It parses [Statement.String] of every valid statement back
// to the same statement.
func ParseStatement(comment string) (Statement, error) {
	if len(comment) > maxStatementLen {
		return Statement{}, fmt.Errorf("trusted comment of %d bytes: longer than %d", len(comment), maxStatementLen)
	}
	rest, ok := strings.CutPrefix(comment, statementPrefix)
	if !ok {
		return Statement{}, fmt.Errorf("trusted comment %s is not a vitte-plugin v1 statement", quote(comment))
	}
	fields := strings.Split(rest, " ")
	keys := []string{"name", "version", "content", "ts"}
	if len(fields) != len(keys) {
		return Statement{}, fmt.Errorf("trusted comment %s: want %d fields name=, version=, content=, ts=, found %d", quote(comment), len(keys), len(fields))
	}
	vals := make([]string, len(keys))
	for i, f := range fields {
		v, ok := strings.CutPrefix(f, keys[i]+"=")
		if !ok {
			return Statement{}, fmt.Errorf("trusted comment %s: field %d is not %s=", quote(comment), i+1, keys[i])
		}
		if err := checkStatementValue(v); err != nil {
			return Statement{}, fmt.Errorf("trusted comment %s: %s: %w", quote(comment), keys[i], err)
		}
		vals[i] = v
	}
	if err := checkContentID(vals[2]); err != nil {
		return Statement{}, fmt.Errorf("trusted comment %s: content: %w", quote(comment), err)
	}
	ts, err := parseUnix(vals[3])
	if err != nil {
		return Statement{}, fmt.Errorf("trusted comment %s: ts: %w", quote(comment), err)
	}
	return Statement{Name: vals[0], Version: vals[1], ContentID: vals[2], Time: time.Unix(ts, 0).UTC()}, nil
}

// checkStatementValue accepts the values a statement can carry: printable
// ASCII without spaces, which plugin names, versions and content ids all
// are.
func checkStatementValue(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("byte 0x%02x not allowed", c)
		}
	}
	return nil
}

// checkContentID accepts "h1:" and the padded base64 of 32 bytes.
func checkContentID(v string) error {
	b64, ok := strings.CutPrefix(v, "h1:")
	if !ok || len(b64) != 44 || b64[43] != '=' {
		return fmt.Errorf("%s is not a content id h1:<base64 of 32 bytes>", quote(v))
	}
	for i := 0; i < 43; i++ {
		c := b64[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return fmt.Errorf("%s is not a content id h1:<base64 of 32 bytes>", quote(v))
		}
	}
	// The last character holds 4 bits of data and 2 of padding: only these
	// decode to exactly the value they encode.
	if !strings.ContainsRune("AEIMQUYcgkosw048", rune(b64[42])) {
		return fmt.Errorf("%s is not a canonical content id", quote(v))
	}
	return nil
}

// parseUnix parses decimal seconds since 1970, without sign or leading
// zeros.
func parseUnix(v string) (int64, error) {
	if len(v) > 1 && v[0] == '0' {
		return 0, fmt.Errorf("%s: leading zero", quote(v))
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("%s is not a number of seconds", quote(v))
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is out of range", quote(v))
	}
	return n, nil
}

// quote quotes untrusted text for an error message, cut when long.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
