package oci_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/ocitest"
	"github.com/vitte-lang/vitte-plugin/oci"
)

// TestVersions_Limits: a tag list over MaxManifestSize is refused; tags
// that are not versions are left out.
func TestVersions_Limits(t *testing.T) {
	f := ocitest.NewFake()
	defer f.Close()
	for i := range 3000 {
		f.Tag(fmt.Sprintf("1.0.%d", i), "sha256:"+strings.Repeat("0", 64))
	}
	f.Tag("latest", "x")
	f.Tag("v2.0.0", "x")
	f.Tag("sha256-"+strings.Repeat("a", 64), "x")
	ref := mustRef(t, "oci://"+f.Host+"/vitte/hello")
	vs, err := oci.NewClient(oci.Options{HTTPClient: noRetry}).Versions(bg, ref)
	require.NoError(t, err)
	require.Len(t, vs, 3000)
	require.Equal(t, "1.0.2999", vs[len(vs)-1].Original())

	_, err = oci.NewClient(oci.Options{HTTPClient: noRetry, MaxManifestSize: 10 << 10}).Versions(bg, ref)
	require.ErrorIs(t, err, oci.ErrRegistry, "%v", err)
	require.ErrorContains(t, err, "the tag list is larger than 10240 bytes, or was cut short")
}

// TestSignatures_TooMany: more signature artifacts than MaxSignatures.
func TestSignatures_TooMany(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makePackage(t, dir, "hello", "1.0.0", 100))
	require.NoError(t, err)
	f := ocitest.NewFake()
	defer f.Close()
	f.PutBlob([]byte("{}"))
	f.PutBlob(good)
	md := f.PutManifest("1.0.0", oci.ManifestMediaType, marshal(t, manifestOf(t, good)))
	var refs []any
	for i := range 5 {
		refs = append(refs, map[string]any{"mediaType": oci.ManifestMediaType, "digest": oci.Digest([]byte{byte(i)}), "size": 1, "artifactType": oci.SignatureType})
	}
	f.PutManifest("sha256-"+strings.TrimPrefix(md, "sha256:"), "application/vnd.oci.image.index.v1+json",
		marshal(t, map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": refs}))
	c := oci.NewClient(oci.Options{Cache: filepath.Join(dir, "cache"), HTTPClient: noRetry, MaxSignatures: 4})
	p, err := c.Pull(bg, mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0"))
	require.NoError(t, err)
	_, err = c.Signatures(bg, p.Ref, p.Manifest)
	require.ErrorIs(t, err, oci.ErrTooLarge)
	require.ErrorContains(t, err, "more than 4 signatures")
}

// TestPull_Concurrent: pulls of one package into one cache at once all
// succeed with the same file, and leave no temporary file.
func TestPull_Concurrent(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makePackage(t, dir, "hello", "1.0.0", 64<<10))
	require.NoError(t, err)
	f := ocitest.NewFake()
	defer f.Close()
	f.PutBlob([]byte("{}"))
	f.PutBlob(good)
	f.PutManifest("1.0.0", oci.ManifestMediaType, marshal(t, manifestOf(t, good)))
	cache := filepath.Join(dir, "cache")
	c := oci.NewClient(oci.Options{Cache: cache, HTTPClient: noRetry})
	var wg sync.WaitGroup
	paths := make([]string, 8)
	errs := make([]error, 8)
	for i := range paths {
		wg.Go(func() {
			p, err := c.Pull(bg, mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0"))
			errs[i] = err
			if err == nil {
				paths[i] = p.Path
			}
		})
	}
	wg.Wait()
	for i := range paths {
		require.NoError(t, errs[i])
		require.Equal(t, paths[0], paths[i])
	}
	require.Len(t, snapshot(t, cache), 1)
	data, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	require.Equal(t, good, data)
}

// TestSignatures_ReferrersAPI: on a registry with the referrers API, the
// signatures are found through it, not the tag fallback.
func TestSignatures_ReferrersAPI(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makePackage(t, dir, "hello", "1.0.0", 100))
	require.NoError(t, err)
	f := ocitest.NewFake()
	defer f.Close()
	f.Referrers = true
	f.PutBlob([]byte("{}"))
	f.PutBlob(good)
	md := f.PutManifest("1.0.0", oci.ManifestMediaType, marshal(t, manifestOf(t, good)))
	var want [][]byte
	for i := range 2 {
		sig := fmt.Appendf(nil, "untrusted comment: %d\n", i)
		want = append(want, sig)
		f.PutBlob(sig)
		f.PutManifest("", oci.ManifestMediaType, marshal(t, map[string]any{
			"schemaVersion": 2, "mediaType": oci.ManifestMediaType, "artifactType": oci.SignatureType,
			"config":  map[string]any{"mediaType": oci.EmptyMediaType, "digest": oci.Digest([]byte("{}")), "size": 2},
			"layers":  []any{map[string]any{"mediaType": oci.SignatureType, "digest": oci.Digest(sig), "size": len(sig)}},
			"subject": map[string]any{"mediaType": oci.ManifestMediaType, "digest": md, "size": 1},
		}))
	}
	// Another artifact about the package: not a signature, left out.
	f.PutManifest("", oci.ManifestMediaType, marshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": oci.ManifestMediaType, "artifactType": "application/vnd.example.sbom",
		"config":  map[string]any{"mediaType": oci.EmptyMediaType, "digest": oci.Digest([]byte("{}")), "size": 2},
		"layers":  []any{},
		"subject": map[string]any{"mediaType": oci.ManifestMediaType, "digest": md, "size": 1},
	}))
	c := oci.NewClient(oci.Options{Cache: filepath.Join(dir, "cache"), HTTPClient: noRetry})
	p, err := c.Pull(bg, mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0"))
	require.NoError(t, err)
	sigs, err := c.Signatures(bg, p.Ref, p.Manifest)
	require.NoError(t, err)
	require.ElementsMatch(t, want, sigs)
}

// TestPull_StaleTemps: a temporary file a killed pull left in the cache a
// day ago is removed by the next pull; a recent one (another pull under
// way) is not.
func TestPull_StaleTemps(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makePackage(t, dir, "hello", "1.0.0", 100))
	require.NoError(t, err)
	f := ocitest.NewFake()
	defer f.Close()
	f.PutBlob([]byte("{}"))
	f.PutBlob(good)
	f.PutManifest("1.0.0", oci.ManifestMediaType, marshal(t, manifestOf(t, good)))
	cache := filepath.Join(dir, "cache")
	blobs := filepath.Join(cache, "blobs", "sha256")
	require.NoError(t, os.MkdirAll(blobs, 0o755))
	old, recent := filepath.Join(blobs, ".tmp-old"), filepath.Join(blobs, ".tmp-recent")
	require.NoError(t, os.WriteFile(old, []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(recent, []byte("x"), 0o644))
	require.NoError(t, os.Chtimes(old, time.Now().Add(-25*time.Hour), time.Now().Add(-25*time.Hour)))
	_, err = oci.NewClient(oci.Options{Cache: cache, HTTPClient: noRetry}).Pull(bg, mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0"))
	require.NoError(t, err)
	require.NoFileExists(t, old)
	require.FileExists(t, recent)
}

// TestPush_LocalFile: the package pushed must be a regular file of at most
// MaxBlobSize bytes; both are checked before anything is sent.
func TestPush_LocalFile(t *testing.T) {
	dir := t.TempDir()
	pkg := makePackage(t, dir, "hello", "1.0.0", 100)
	fi, err := os.Stat(pkg)
	require.NoError(t, err)
	folder := filepath.Join(dir, "folder.vitplug")
	require.NoError(t, os.Mkdir(folder, 0o700))
	f := ocitest.NewFake()
	defer f.Close()
	ref := mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0")

	for _, tc := range []struct {
		name string
		path string
		max  int64
		is   error
		msg  string
	}{
		{name: "over MaxBlobSize", path: pkg, max: fi.Size() - 1, is: oci.ErrTooLarge,
			msg: fmt.Sprintf("too large: %s is %d bytes, over the limit of %d bytes", pkg, fi.Size(), fi.Size()-1)},
		{name: "not a regular file", path: folder, max: 1 << 20, msg: folder + " is not a regular file (folder)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := oci.NewClient(oci.Options{HTTPClient: noRetry, MaxBlobSize: tc.max})
			_, err := c.Push(bg, tc.path, ref, oci.PushOptions{})
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			require.ErrorContains(t, err, tc.msg)
			require.Zero(t, f.Requests, "nothing is sent")
		})
	}
}
