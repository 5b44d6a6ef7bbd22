package oci_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/oci"
)

func TestParseReference(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in       string
		expected oci.Reference
		loopback bool
	}{
		{"oci://ghcr.io/acme/plugins/hello:1.2.3", oci.Reference{Registry: "ghcr.io", Repository: "acme/plugins/hello", Tag: "1.2.3"}, false},
		{"oci://127.0.0.1:5000/hello", oci.Reference{Registry: "127.0.0.1:5000", Repository: "hello"}, true},
		{"oci://localhost:5000/a/b@sha256:" + hex, oci.Reference{Registry: "localhost:5000", Repository: "a/b", Digest: "sha256:" + hex}, true},
		{"oci://[::1]:5000/x:1.0.0-rc.1@sha256:" + hex, oci.Reference{Registry: "[::1]:5000", Repository: "x", Tag: "1.0.0-rc.1", Digest: "sha256:" + hex}, true},
		{"oci://registry.example/a.b_c__d---e/f:latest", oci.Reference{Registry: "registry.example", Repository: "a.b_c__d---e/f", Tag: "latest"}, false},
		{"oci://10.0.0.1/x", oci.Reference{Registry: "10.0.0.1", Repository: "x"}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := oci.ParseReference(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.expected, r)
			require.Equal(t, tc.in, r.String())
			require.Equal(t, tc.loopback, r.IsLoopback())
		})
	}
}

func TestParseReference_Errors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"ghcr.io/x:1.0.0", "want oci://REGISTRY/REPOSITORY"},
		{"https://ghcr.io/x", "want oci://"},
		{"oci://", "no repository"},
		{"oci://ghcr.io", "no repository"},
		{"oci://ghcr.io/", `repository "": empty`},
		{"oci://ghcr.io/X", "start and end with a-z or 0-9"},
		{"oci://ghcr.io/a//b", "empty path component"},
		{"oci://ghcr.io/a/../b", "start and end"},
		{"oci://ghcr.io/a-/b", "start and end"},
		{"oci://ghcr.io/a..b", "separators"},
		{"oci://ghcr.io/a___b", "separators"},
		{"oci://ghcr.io/a b", "separators"},
		{"oci://gh cr.io/a", "host name"},
		{"oci://-ghcr.io/a", "host name"},
		{"oci://ghcr.io:0/a", "port 0 out of range"},
		{"oci://ghcr.io:65536/a", "out of range"},
		{"oci://ghcr.io:x/a", "port of 1 to 5 digits"},
		{"oci://[::1/a", "unclosed"},
		{"oci://[zz]:1/a", "IPv6"},
		{"oci://ghcr.io/a:", `tag "": empty`},
		{"oci://ghcr.io/a:.1", "not first"},
		{"oci://ghcr.io/a:1.0.0+build", "letters, digits"},
		{"oci://ghcr.io/a:" + strings.Repeat("1", 129), "longer than 128"},
		{"oci://ghcr.io/a@sha256:abc", "64 hex digits"},
		{"oci://ghcr.io/a@sha512:" + strings.Repeat("a", 128), "want sha256:"},
		{"oci://ghcr.io/a@sha256:" + strings.Repeat("A", 64), "lower-case"},
		{"oci://ghcr.io/" + strings.Repeat("a", 250), "more than 255"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := oci.ParseReference(tc.in)
			require.ErrorIs(t, err, oci.ErrReference)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}
