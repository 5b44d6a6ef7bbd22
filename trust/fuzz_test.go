package trust_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
)

// FuzzParse checks that Parse never panics, that what it refuses is
// explained by printable problems in file order, and that what it accepts
// marshals to a file that parses to the same policy.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		fullPolicy,
		"\ufeff[keys.a]\r\nminisign = '" + pubA + "'\r\n",
		"[keys.a]\nminisign = \"" + pubA + "\"\nnot_before = 2026-01-01\nnot_after = 2026-01-01T00:00:00+02:00\n[[policy]]\nscopes = ['*']\nkeys = ['a']\n[policy.max_capabilities]\nfs = [{path = '/a', mode = 'rw'}]\n",
		"policy = [{scopes = ['name:x'], level = 'audit'}]\n",
		"keys.a.minisign = 1\n[[policy]]\n[[policy.max_capabilities.fs]]\n",
		"a = [[[[[[[[[[",
		"[keys.\"\\u0000\"]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := trust.Parse(trust.FileName, data)
		if err == nil {
			out := p.Marshal()
			q, err := trust.Parse(trust.FileName, out)
			require.NoError(t, err, "%s", out)
			require.Equal(t, p.Keys(), q.Keys())
			require.Equal(t, p.Rules(), q.Rules())
			return
		}
		require.Nil(t, p)
		require.ErrorIs(t, err, trust.ErrPolicy)
		var pe *trust.PolicyError
		require.True(t, errors.As(err, &pe))
		require.NotEmpty(t, pe.Problems)
		text := err.Error()
		require.True(t, utf8.ValidString(text), "error text is not UTF-8: %q", text)
		for _, r := range text {
			require.False(t, r < 0x20 && r != '\n' || r == 0x7f, "error text has control characters: %q", text)
		}
		last := 0
		for _, pr := range pe.Problems {
			require.NotContains(t, pr.Message, "internal error")
			require.False(t, strings.ContainsRune(pr.Message, '\n'))
			if pr.Line > 0 {
				require.GreaterOrEqual(t, pr.Line, last, text)
				last = pr.Line
			}
		}
	})
}

// FuzzParseStatement checks that ParseStatement never panics and that what
// it accepts prints back to the same text.
func FuzzParseStatement(f *testing.F) {
	f.Add("vitte-plugin v1 name=hello-c version=0.1.0 content=" + contentID + " ts=1767225600")
	f.Add("vitte-plugin v1 name=a version=1.0.0-rc.1+b.5 content=" + contentID + " ts=0")
	f.Add("timestamp:1767225600\tfile:CHECKSUMS\thashed")
	f.Add("vitte-plugin v1 name= version= content= ts=")
	f.Fuzz(func(t *testing.T, comment string) {
		s, err := trust.ParseStatement(comment)
		if err != nil {
			require.True(t, utf8.ValidString(err.Error()), "error text is not UTF-8: %q", err.Error())
			return
		}
		require.Equal(t, comment, s.String())
	})
}
