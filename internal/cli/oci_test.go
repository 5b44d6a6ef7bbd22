package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/cli"
	"github.com/vitte-lang/vitte-plugin/internal/ocitest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// TestInstallOCI_BadInput installs from registries that serve bad content
// or fail, through `vitte plugin install oci://...` as a user would: each
// is refused with a clear error and its exit code, the registry folder
// ($VITTE_HOME) is byte for byte as it was, and the blob cache holds
// nothing new (no blob, no temporary file).
func TestInstallOCI_BadInput(t *testing.T) {
	work := t.TempDir()
	home, cache := filepath.Join(work, "home"), filepath.Join(work, "cache")
	t.Setenv("VITTE_HOME", home)
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(work, "config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(work, "docker"))
	t.Setenv("VITTE_REGISTRY_USER", "")

	wasm, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wasm", "hello-c", "hello-c.wasm"))
	require.NoError(t, err)
	pack := func(name, version string) []byte {
		dir := filepath.Join(work, "src-"+name+"-"+version)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), fmt.Appendf(nil, "[plugin]\nname = %q\nversion = %q\nkind = \"c\"\nmodule = \"hello-c.wasm\"\n", name, version), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "hello-c.wasm"), wasm, 0o644))
		var b bytes.Buffer
		_, err := vitplug.Pack(dir, &b, vitplug.Limits{})
		require.NoError(t, err)
		return b.Bytes()
	}
	good := pack("hello", "1.0.0")
	other := pack("other", "1.0.0")

	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
		return code, errb.String()
	}

	// A good install first, so that there is something to keep intact.
	f := ocitest.NewFake()
	defer f.Close()
	serve(t, f, "1.0.0", good, nil)
	code, stderr := run("plugin", "install", "--yes", "--insecure-allow-unsigned", "oci://"+f.Host+"/vitte/hello:1.0.0")
	require.Equal(t, 0, code, stderr)
	homeBefore, cacheBefore := tree(t, home), tree(t, cache)

	for _, tc := range []struct {
		name   string
		tag    string
		blob   []byte
		edit   func(m map[string]any)
		setup  func(f *ocitest.Fake, blob []byte)
		extra  []string
		code   int
		stderr string
	}{
		{name: "wrong artifact type", edit: func(m map[string]any) { m["artifactType"] = "application/vnd.example+json" },
			code: 3, stderr: "wrong artifact type: artifactType \"application/vnd.example+json\""},
		{name: "two layers", edit: func(m map[string]any) { m["layers"] = append(m["layers"].([]any), m["layers"].([]any)[0]) },
			code: 3, stderr: "invalid manifest: 2 layers, want exactly 1"},
		{name: "digest mismatch", setup: func(f *ocitest.Fake, blob []byte) {
			bad := append([]byte(nil), blob...)
			bad[len(bad)/2] ^= 1
			f.ServeBlob[ocitest.Digest(blob)] = bad
		}, code: 3, stderr: "digest mismatch: the bytes received have the digest"},
		{name: "package is not the manifest's", blob: other, edit: func(m map[string]any) {
			m["annotations"].(map[string]any)["dev.vitte.plugin.name"] = "hello"
		}, code: 3, stderr: `invalid package: the package is "other", the manifest says "hello"`},
		{name: "oversize manifest", edit: func(m map[string]any) {
			m["annotations"].(map[string]any)["pad"] = strings.Repeat("x", 1<<20)
		}, code: 3, stderr: "bytes, the limit is 1048576"},
		{name: "oversize blob", edit: func(m map[string]any) {
			m["layers"].([]any)[0].(map[string]any)["size"] = 300 << 20
		}, code: 3, stderr: "too large: 314572800 bytes, the limit is 268435456"},
		{name: "tag not semver", tag: "latest", code: 2, stderr: `the tag "latest" is not a semantic version`},
		{name: "401", setup: func(f *ocitest.Fake, _ []byte) { f.Status = 401 }, code: 1, stderr: "unauthorized"},
		{name: "404", tag: "9.9.9", code: 1, stderr: "not found"},
		{name: "500", setup: func(f *ocitest.Fake, _ []byte) { f.Status = 500 }, code: 1, stderr: "registry error"},
		{name: "hang", setup: func(f *ocitest.Fake, _ []byte) { f.Hang = true }, extra: []string{"--timeout", "300ms"}, code: 1, stderr: "context deadline exceeded"},
		{name: "hang in the blob", setup: func(f *ocitest.Fake, _ []byte) { f.HangBlob = true }, extra: []string{"--timeout", "300ms"}, code: 1, stderr: "context deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ocitest.NewFake()
			defer f.Close()
			blob := tc.blob
			if blob == nil {
				blob = pack("hello", "2.0.0")
			}
			serve(t, f, "2.0.0", blob, tc.edit)
			if tc.setup != nil {
				tc.setup(f, blob)
			}
			tag := tc.tag
			if tag == "" {
				tag = "2.0.0"
			}
			args := append([]string{"plugin", "install", "--yes", "--insecure-allow-unsigned", "--allow-all"}, tc.extra...)
			code, stderr := run(append(args, "oci://"+f.Host+"/vitte/hello:"+tag)...)
			require.Equal(t, tc.code, code, stderr)
			if tc.code != 2 {
				require.Contains(t, stderr, "vitte: error: pull oci://"+f.Host+"/vitte/hello:"+tag+": ")
			}
			require.Contains(t, stderr, tc.stderr)
			require.Equal(t, homeBefore, tree(t, home), "the registry changed")
			require.Equal(t, cacheBefore, tree(t, cache), "the cache changed")
		})
	}
}

// serve puts blob in f under tag with the spec's manifest, edited by edit.
func serve(t *testing.T, f *ocitest.Fake, tag string, blob []byte, edit func(map[string]any)) {
	t.Helper()
	f.PutBlob([]byte("{}"))
	f.PutBlob(blob)
	pkg, err := vitplug.Open(bytes.NewReader(blob), int64(len(blob)), vitplug.Limits{})
	require.NoError(t, err)
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"artifactType":  "application/vnd.vitte.plugin.v1",
		"config":        map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": ocitest.Digest([]byte("{}")), "size": 2},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.vitte.plugin.v1+zip", "digest": ocitest.Digest(blob), "size": len(blob)}},
		"annotations": map[string]any{
			"org.opencontainers.image.title":   "p.vitplug",
			"org.opencontainers.image.version": tag,
			"dev.vitte.plugin.name":            pkg.Manifest().Plugin.Name,
			"dev.vitte.plugin.content":         pkg.ContentID(),
		},
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	f.PutManifest(tag, "application/vnd.oci.image.manifest.v1+json", b)
}

// tree lists every file under dir with its bytes' digest.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+" "+ocitest.Digest(data))
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}
