package manifest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Size is an amount of memory or data, in bytes.
type Size uint64

// Size units. Binary units (KiB, MiB, ...) are powers of 1024, decimal units
// (kB, MB, ...) powers of 1000.
const (
	KiB Size = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
	PiB
	EiB
)

// binaryUnits and decimalUnits are ordered from the largest unit down, so
// that String finds the largest unit that divides a size exactly.
var (
	binaryUnits = []struct {
		name string
		size Size
	}{
		{"EiB", EiB}, {"PiB", PiB}, {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	}
	decimalUnits = map[string]Size{
		"kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15, "EB": 1e18,
	}
)

// String returns the size in the largest binary unit that divides it exactly,
// for example "64MiB", "1536KiB" or "100B". [ParseSize] reads it back.
func (s Size) String() string {
	for _, u := range binaryUnits {
		if s >= u.size && s%u.size == 0 {
			return strconv.FormatUint(uint64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatUint(uint64(s), 10) + "B"
}

// ParseSize parses a size: a whole number of bytes ("4096", "100B"), or a whole
// number followed by a binary unit ("512KiB", "64MiB", "1GiB", also TiB, PiB,
// EiB) or a decimal unit ("1kB", "64MB", also GB, TB, PB, EB). Units are case
// sensitive and follow the number without a space. "KB" is refused as
// ambiguous, as are negative numbers, fractions and sizes past 2^64-1 bytes.
func ParseSize(s string) (Size, error) {
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("invalid size %s: %w", quote(s), err)
	}
	return n, nil
}

const sizeUnitsHint = "want B, KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB or EB"

func parseSize(s string) (Size, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		switch s[0] {
		case '-':
			return 0, errors.New("must not be negative")
		case '+':
			return 0, errors.New("must start with a digit, not '+'")
		}
		return 0, errors.New(`must be a number of bytes, optionally followed by a unit, like "64MiB"`)
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil { // only the range can be wrong: s[:i] is all digits
		return 0, errors.New("too large")
	}
	unit := s[i:]
	if unit != "" && (unit[0] == '.' || unit[0] == ',') {
		return 0, fmt.Errorf("must be a whole number: use a smaller unit, like %q", "1536MiB")
	}
	mult := Size(1)
	switch unit {
	case "", "B":
	case "KB":
		return 0, errors.New(`ambiguous unit "KB": use "KiB" (1024 bytes) or "kB" (1000 bytes)`)
	default:
		if strings.ContainsAny(unit[:1], " \t") {
			return 0, errors.New("unexpected space before the unit")
		}
		if u, ok := unitOf(unit); ok {
			mult = u
			break
		}
		return 0, fmt.Errorf("unknown unit %s: %s", quote(unit), sizeUnitsHint)
	}
	if n > math.MaxUint64/uint64(mult) {
		return 0, errors.New("too large")
	}
	return Size(n) * mult, nil
}

func unitOf(unit string) (Size, bool) {
	for _, u := range binaryUnits {
		if u.name == unit {
			return u.size, true
		}
	}
	u, ok := decimalUnits[unit]
	return u, ok
}

// ParseDuration parses a positive duration in the syntax of
// [time.ParseDuration], like "5s", "250ms" or "1m30s". Zero, negative
// durations and numbers without a unit are refused.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		msg := `want a number and a unit, like "5s" or "250ms"`
		if isDigits(s) {
			msg = fmt.Sprintf("missing unit, like %q", s+"s")
			if len(s) > 20 {
				msg = `missing unit, like "5s"`
			}
		}
		return 0, fmt.Errorf("invalid duration %s: %s", quote(s), msg)
	}
	if d <= 0 {
		return 0, fmt.Errorf("invalid duration %s: must be positive", quote(s))
	}
	return d, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// maxQuoted is how much of a hostile string an error message quotes.
const maxQuoted = 64

// quote quotes s for an error message, cut to maxQuoted bytes.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > maxQuoted-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
