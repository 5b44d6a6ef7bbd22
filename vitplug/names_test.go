package vitplug

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func Test_checkName(t *testing.T) {
	tests := []struct {
		name, expected string
	}{
		{name: "plugin.toml"},
		{name: "files/a/b/c.txt"},
		{name: "files/"},
		{name: "files/.keep"},
		{name: "a-b_c.d+e@f"},
		{name: "icon.d/console"},
		{name: "LPT", expected: ""},
		{name: "COMX"},
		{name: strings.Repeat("a", MaxNameLength)},
		{name: strings.Repeat("a", MaxNameLength+1), expected: "name longer than 1024 bytes"},
		{name: "", expected: "empty name"},
		{name: "/", expected: "absolute path"},
		{name: "/a", expected: "absolute path"},
		{name: "C:", expected: "drive letter"},
		{name: "z:/a", expected: "drive letter"},
		{name: "1:a", expected: "character ':' not allowed"},
		{name: `a\b`, expected: "backslash in name"},
		{name: "a//b", expected: "empty path segment"},
		{name: "a//", expected: "empty path segment"},
		{name: "a/./b", expected: `"." segment`},
		{name: "./", expected: `"." segment`},
		{name: "a/..", expected: `".." segment`},
		{name: "../", expected: `".." segment`},
		{name: "a/b.", expected: `segment "b." ends with a dot`},
		{name: "a../b", expected: `segment "a.." ends with a dot`},
		{name: "...", expected: `segment "..." ends with a dot`},
		{name: "é", expected: "non-ASCII name"},
		{name: "a\u200b", expected: "non-ASCII name"},
		{name: "a b", expected: "character ' ' not allowed"},
		{name: "a\tb", expected: "character '\\t' not allowed"},
		{name: "a*", expected: "character '*' not allowed"},
		{name: "a?", expected: "character '?' not allowed"},
		{name: "a~1", expected: "character '~' not allowed"},
		{name: "a$", expected: "character '$' not allowed"},
		{name: "aux", expected: `segment "aux" is a device name on Windows`},
		{name: "files/Con.tar.gz", expected: `segment "Con.tar.gz" is a device name on Windows`},
		{name: "lpt9/x", expected: `segment "lpt9" is a device name on Windows`},
		{name: "COM0", expected: `segment "COM0" is a device name on Windows`},
	}
	for _, tc := range tests {
		require.Equal(t, tc.expected, checkName(tc.name), "%q", tc.name)
	}
}

func Test_classify(t *testing.T) {
	tests := []struct {
		name    string
		kind    entryKind
		keyID   string
		refused bool
	}{
		{name: "plugin.toml", kind: kindContent},
		{name: "files/", kind: kindFolder},
		{name: "vitte/x", kind: kindContent},
		{name: "_vitte_/x", kind: kindContent},
		{name: "_vitte/", kind: kindFolder},
		{name: "_vitte/signatures/", kind: kindFolder},
		{name: "_vitte/CHECKSUMS", kind: kindChecksums},
		{name: "_vitte/signatures/E7620F1842B4E81F.minisig", kind: kindSignature, keyID: "E7620F1842B4E81F"},
		{name: "_vitte", refused: true},
		{name: "_Vitte/", refused: true},
		{name: "_vitte/CHECKSUMS/", refused: true},
		{name: "_vitte/Signatures/", refused: true},
		{name: "_vitte/signatures/E7620F1842B4E81F.minisig/", refused: true},
		{name: "_vitte/signatures/.minisig", refused: true},
		{name: "_vitte/signatures/E7620F1842B4E81F.MINISIG", refused: true},
		{name: "_vitte/signatures/E7620F1842B4E81F0.minisig", refused: true},
	}
	for _, tc := range tests {
		kind, keyID, why := classify(tc.name)
		if tc.refused {
			require.NotEmpty(t, why, "%q", tc.name)
			continue
		}
		require.Empty(t, why, "%q", tc.name)
		require.Equal(t, tc.kind, kind, "%q", tc.name)
		require.Equal(t, tc.keyID, keyID, "%q", tc.name)
	}
}

func Test_nameSet(t *testing.T) {
	tests := []struct {
		names    []string
		expected string // why the last name is refused
	}{
		{names: []string{"a", "b", "c/d", "c/e", "c/", "c/f/"}},
		{names: []string{"c/d", "c/", "C/e"}},
		{names: []string{"a", "a"}, expected: "appears twice"},
		{names: []string{"a", "A"}, expected: `same name as "a" once case is folded`},
		{names: []string{"a/", "A/"}, expected: `same name as "a/" once case is folded`},
		{names: []string{"a/b", "a/", "a/"}, expected: "appears twice"},
		{names: []string{"a", "a/"}, expected: `a folder, but "a" is a file`},
		{names: []string{"a", "A/"}, expected: `a folder, but "a" is a file`},
		{names: []string{"a/", "a"}, expected: `a file, but "a/" makes it a folder`},
		{names: []string{"a/b/c", "A/B"}, expected: `a file, but "a/b/c" makes it a folder`},
		{names: []string{"a", "a/b"}, expected: `inside "a", which is a file`},
		{names: []string{"a/b", "a/b/c/d"}, expected: `inside "a/b", which is a file`},
		{names: []string{"x/y", "a/b", "A/b/c/d"}, expected: `inside "a/b", which is a file`},
	}
	for _, tc := range tests {
		s := newNameSet()
		for i, name := range tc.names {
			why := s.add(name)
			if i < len(tc.names)-1 {
				require.Empty(t, why, "%q", tc.names)
			} else {
				require.Equal(t, tc.expected, why, "%q", tc.names)
			}
		}
	}
}

// FuzzCheckName checks that a name the policy accepts is one that cannot
// escape a folder or alias another on any common file system.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"plugin.toml", "files/a/", "../a", "C:x", "a\\b", "con.txt", "a.", "é", "_vitte/CHECKSUMS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		why := checkName(name)
		kind, _, refused := classify(name)
		_ = kind
		if why != "" {
			return
		}
		require.LessOrEqual(t, len(name), MaxNameLength)
		require.False(t, strings.HasPrefix(name, "/"))
		for seg := range strings.SplitSeq(strings.TrimSuffix(name, "/"), "/") {
			require.NotEmpty(t, seg)
			require.NotEqual(t, ".", seg)
			require.NotEqual(t, "..", seg)
			require.False(t, strings.HasSuffix(seg, "."))
			require.False(t, isWindowsDevice(seg))
			for _, c := range []byte(seg) {
				require.True(t, isNameChar(c))
			}
		}
		if refused == "" {
			s := newNameSet()
			require.Empty(t, s.add(name))
			require.NotEmpty(t, s.add(strings.ToUpper(name)))
		}
	})
}

// FuzzParseChecksums checks that parseChecksums never panics, and that what
// it accepts is canonical: written back, it gives the same bytes.
func FuzzParseChecksums(f *testing.F) {
	f.Add([]byte(buildChecksums(map[string][]byte{"plugin.toml": nil, "hello.wasm": []byte("x"), "files/a": nil})))
	f.Add([]byte(""))
	f.Add([]byte("\n"))
	f.Add([]byte(strings.Repeat("0", 64) + "  a\n" + strings.Repeat("f", 64) + "  a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := parseChecksums(data)
		if err != nil {
			require.ErrorIs(t, err, ErrChecksums)
			return
		}
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(strings.ToLower(hexOf(l.sum[:])) + "  " + l.path + "\n")
		}
		require.Equal(t, string(data), b.String())
	})
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}
