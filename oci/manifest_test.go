package oci

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func Test_parsePluginManifest(t *testing.T) {
	layer := Descriptor{MediaType: LayerMediaType, Digest: "sha256:" + strings.Repeat("a", 64), Size: 10}
	good, err := pluginManifest(PluginInfo{Name: "hello", Version: "1.0.0", ContentID: "h1:x", Title: "t", Layer: layer})
	require.NoError(t, err)
	info, err := parsePluginManifest(good)
	require.NoError(t, err)
	require.Equal(t, PluginInfo{Name: "hello", Version: "1.0.0", ContentID: "h1:x", Title: "t", Layer: layer}, info)

	for _, tc := range []struct {
		name, from, to string
		want           error
		msg            string
	}{
		{"duplicate key", `"artifactType":`, `"artifactType":"x","artifactType":`, ErrManifest, `duplicate key "artifactType"`},
		{"key in another case", `"artifactType":`, `"ArtifactType":`, ErrManifest, `key "ArtifactType": want artifactType`},
		{"duplicate folded", `"schemaVersion":2`, `"schemaVersion":2,"SCHEMAVERSION":2`, ErrManifest, "duplicate key"},
		{"trailing data", `}}`, `}}{}`, ErrManifest, ""},
		{"negative size", `"size":10`, `"size":-1`, ErrManifest, "size -1"},
		{"bad layer digest", strings.Repeat("a", 64), strings.Repeat("A", 64), ErrManifest, "digest"},
		{"version not semver", `"org.opencontainers.image.version":"1.0.0"`, `"org.opencontainers.image.version":"v1"`, ErrVersion, "not a semantic version"},
		{"subject", `"annotations"`, `"subject":{"mediaType":"x","digest":"sha256:` + strings.Repeat("b", 64) + `","size":1},"annotations"`, ErrManifest, "no subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			require.NotEqual(t, string(good), bad)
			_, err := parsePluginManifest([]byte(bad))
			require.ErrorIs(t, err, tc.want)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	_, err = parsePluginManifest([]byte(`{"x":` + deep + `}`))
	require.ErrorContains(t, err, "nested too deeply")
}
