package manifest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// FuzzParse checks that Parse never panics, that what it accepts validates,
// and that what it refuses is explained by located, printable problems in
// file order.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(specDir, "*.toml"))
	require.NoError(f, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"\ufeff[plugin]\r\nname = 'x'\r\n",
		"a.b.c = 1\n[a.b.d]\n[[a.e]]\n[a.e.f]\n",
		"x = {a.b = 1, c = [{d = 1}, [2]]}\n[x.a]\n",
		"[[capabilities.fs]]\npath = \"/a\"\n[[capabilities.fs]]\npath = \"/a/b\"\nmode = \"rw\"\n",
		"[config]\n\"\\u0000\" = \"\\e[2J\"\n",
		"a = [[[[[[[[[[",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Parse(manifest.FileName, data)
		if err == nil {
			require.NoError(t, m.Validate())
			require.NotNil(t, m.Config)
			require.NotNil(t, m.Dependencies)
			require.NotNil(t, m.Exports)
			return
		}
		require.Nil(t, m)
		var merr *manifest.Error
		require.True(t, errors.As(err, &merr))
		require.NotEmpty(t, merr.Problems)
		text := err.Error()
		require.True(t, utf8.ValidString(text), "error text is not UTF-8: %q", text)
		for _, r := range text {
			require.False(t, r < 0x20 && r != '\n' || r == 0x7f, "error text has control characters: %q", text)
		}
		located := true
		for i, p := range merr.Problems {
			require.NotContains(t, p.Message, "internal error")
			require.Equal(t, manifest.FileName, p.File)
			require.False(t, strings.ContainsRune(p.Message, '\n'))
			if p.Line == 0 {
				located = false
				continue
			}
			require.True(t, located, "located problem after an unlocated one")
			require.Positive(t, p.Column)
			if i > 0 {
				q := merr.Problems[i-1]
				require.True(t, q.Line < p.Line || q.Line == p.Line && q.Column <= p.Column, "%v before %v", q, p)
			}
		}
	})
}

// FuzzParseSize checks that ParseSize never panics and that every size it
// accepts prints back to itself.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "4096", "100B", "64MiB", "1kB", "16EiB", "18446744073709551615", "-1", "1.5GiB", "1 MiB", "1KB", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := manifest.ParseSize(s)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "invalid size "), err.Error())
			return
		}
		back, err := manifest.ParseSize(n.String())
		require.NoError(t, err)
		require.Equal(t, n, back)
	})
}

// FuzzParseNetPattern checks that ParseNetPattern never panics and that
// every pattern it accepts prints to a pattern that parses the same.
func FuzzParseNetPattern(f *testing.F) {
	for _, s := range []string{"api.example.com", "*.example.org:8443", "10.0.0.0/8:80", "[2001:db8::/32]:443", "2001:db8::1", "*", "a:b:c", "[", "1.2.3.4/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := manifest.ParseNetPattern(s)
		if err != nil {
			return
		}
		back, err := manifest.ParseNetPattern(p.String())
		require.NoError(t, err)
		require.Equal(t, p, back)
	})
}
