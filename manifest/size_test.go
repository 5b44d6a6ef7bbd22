package manifest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		with     string
		expected manifest.Size
	}{
		{"0", 0},
		{"4096", 4096},
		{"100B", 100},
		{"512KiB", 512 << 10},
		{"64MiB", 64 << 20},
		{"1GiB", 1 << 30},
		{"2TiB", 2 << 40},
		{"3PiB", 3 << 50},
		{"15EiB", 15 << 60},
		{"1kB", 1000},
		{"64MB", 64e6},
		{"2GB", 2e9},
		{"1TB", 1e12},
		{"1PB", 1e15},
		{"18EB", 18e18},
		{"18446744073709551615", 1<<64 - 1},
		{"007KiB", 7 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			n, err := manifest.ParseSize(tc.with)
			require.NoError(t, err)
			require.Equal(t, tc.expected, n)
		})
	}
}

func TestParseSize_Errors(t *testing.T) {
	tests := []struct{ with, expected string }{
		{"", `invalid size "": empty`},
		{"-1MiB", `invalid size "-1MiB": must not be negative`},
		{"+1MiB", `invalid size "+1MiB": must start with a digit, not '+'`},
		{"MiB", `invalid size "MiB": must be a number of bytes, optionally followed by a unit, like "64MiB"`},
		{" 1MiB", `invalid size " 1MiB": must be a number of bytes, optionally followed by a unit, like "64MiB"`},
		{"1 MiB", `invalid size "1 MiB": unexpected space before the unit`},
		{"1MiB ", `invalid size "1MiB ": unknown unit "MiB ": want B, KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB or EB`},
		{"1.5GiB", `invalid size "1.5GiB": must be a whole number: use a smaller unit, like "1536MiB"`},
		{"1KB", `invalid size "1KB": ambiguous unit "KB": use "KiB" (1024 bytes) or "kB" (1000 bytes)`},
		{"1mib", `invalid size "1mib": unknown unit "mib": want B, KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB or EB`},
		{"1M", `invalid size "1M": unknown unit "M": want B, KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB or EB`},
		{"1_000", `invalid size "1_000": unknown unit "_000": want B, KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB or EB`},
		{"0x10", `invalid size "0x10": unknown unit "x10": want B, KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB or EB`},
		{"18446744073709551616", `invalid size "18446744073709551616": too large`},
		{"16EiB", `invalid size "16EiB": too large`},
		{"19EB", `invalid size "19EB": too large`},
		{"99999999999999999999999KiB", `invalid size "99999999999999999999999KiB": too large`},
		{strings.Repeat("9", 100), `invalid size "` + strings.Repeat("9", 64) + `"...: too large`},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			_, err := manifest.ParseSize(tc.with)
			require.EqualError(t, err, tc.expected)
		})
	}
}

func TestSize_String(t *testing.T) {
	tests := []struct {
		with     manifest.Size
		expected string
	}{
		{0, "0B"},
		{1, "1B"},
		{1000, "1000B"},
		{1024, "1KiB"},
		{1536, "1536B"},
		{1536 << 10, "1536KiB"},
		{manifest.DefaultMemory, "64MiB"},
		{manifest.DefaultOutput, "16MiB"},
		{4 * manifest.GiB, "4GiB"},
		{manifest.EiB, "1EiB"},
		{1<<64 - 1, "18446744073709551615B"},
	}
	for _, tc := range tests {
		t.Run(tc.expected, func(t *testing.T) {
			require.Equal(t, tc.expected, tc.with.String())
			n, err := manifest.ParseSize(tc.expected)
			require.NoError(t, err)
			require.Equal(t, tc.with, n)
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		with     string
		expected time.Duration
	}{
		{"5s", 5 * time.Second},
		{"250ms", 250 * time.Millisecond},
		{"1m30s", 90 * time.Second},
		{"1.5h", 90 * time.Minute},
		{"1ns", 1},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			d, err := manifest.ParseDuration(tc.with)
			require.NoError(t, err)
			require.Equal(t, tc.expected, d)
		})
	}
}

func TestParseDuration_Errors(t *testing.T) {
	tests := []struct{ with, expected string }{
		{"", `invalid duration "": want a number and a unit, like "5s" or "250ms"`},
		{"0", `invalid duration "0": must be positive`},
		{"0s", `invalid duration "0s": must be positive`},
		{"-1s", `invalid duration "-1s": must be positive`},
		{"5", `invalid duration "5": missing unit, like "5s"`},
		{"5 s", `invalid duration "5 s": want a number and a unit, like "5s" or "250ms"`},
		{"5sec", `invalid duration "5sec": want a number and a unit, like "5s" or "250ms"`},
		{"1d", `invalid duration "1d": want a number and a unit, like "5s" or "250ms"`},
		{"9999999999h", `invalid duration "9999999999h": want a number and a unit, like "5s" or "250ms"`},
		{strings.Repeat("1", 30), `invalid duration "` + strings.Repeat("1", 30) + `": missing unit, like "5s"`},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			_, err := manifest.ParseDuration(tc.with)
			require.EqualError(t, err, tc.expected)
		})
	}
}
