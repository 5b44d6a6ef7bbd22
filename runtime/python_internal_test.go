package runtime

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

func TestParseHandlerNames(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: "greet", want: []string{"greet"}},
		{in: "greet\ncount-vowels\nadd", want: []string{"greet", "count-vowels", "add"}},
		{in: "greet\n", err: `handler name "" is empty`},
		{in: "a\n\nb", err: `handler name ""`},
		{in: "_hidden", err: "reserved"},
		{in: "cabi_realloc", err: "reserved"},
		{in: "on-load", err: "reserved"},
		{in: "on-unload", err: "reserved"},
		{in: strings.Repeat("x", 1025), err: "too long"},
		{in: "a\nb\na", err: `handler "a" declared twice`},
	}
	for _, tc := range tests {
		got, err := parseHandlerNames([]byte(tc.in))
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, "%.30q", tc.in)
			continue
		}
		require.NoError(t, err, "%.30q", tc.in)
		assert.Equal(t, tc.want, got)
	}
}

func FuzzParseHandlerNames(f *testing.F) {
	f.Add([]byte("greet\ncount-vowels"))
	f.Add([]byte("a\n\nb"))
	f.Add([]byte("_x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		names, err := parseHandlerNames(b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || strings.Contains(n, "\n") || strings.HasPrefix(n, "_") || seen[n] {
				t.Fatalf("accepted bad name %q in %q", n, b)
			}
			seen[n] = true
		}
	})
}

func TestCheckPythonMounts(t *testing.T) {
	for _, tc := range []struct {
		guest string
		ok    bool
	}{
		{"/data", true},
		{"/pythonic", true},
		{"/plugins", true},
		{"/python", false},
		{"/plugin", false},
		{"/plugin/x", false},
		{"/python/lib", false},
		{"/", false},
	} {
		err := checkPythonMounts([]engine.Mount{{Guest: tc.guest, Host: "/tmp"}})
		if tc.ok {
			assert.NoError(t, err, tc.guest)
		} else {
			assert.ErrorContains(t, err, "overlaps the interpreter's mount", tc.guest)
		}
	}
}
