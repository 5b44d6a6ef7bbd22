package oci_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/ocitest"
	"github.com/vitte-lang/vitte-plugin/oci"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// manifestOf returns the spec's manifest of a plugin package blob, as a
// map to break.
func manifestOf(t *testing.T, blob []byte) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.vitplug")
	require.NoError(t, os.WriteFile(path, blob, 0o644))
	pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
	require.NoError(t, err)
	m := pkg.Manifest()
	return map[string]any{
		"schemaVersion": 2,
		"mediaType":     oci.ManifestMediaType,
		"artifactType":  oci.ArtifactType,
		"config":        map[string]any{"mediaType": oci.EmptyMediaType, "digest": oci.Digest([]byte("{}")), "size": 2},
		"layers":        []any{map[string]any{"mediaType": oci.LayerMediaType, "digest": oci.Digest(blob), "size": len(blob)}},
		"annotations": map[string]any{
			oci.AnnotationTitle:   m.Plugin.Name + ".vitplug",
			oci.AnnotationVersion: m.Plugin.Version,
			oci.AnnotationName:    m.Plugin.Name,
			oci.AnnotationContent: pkg.ContentID(),
		},
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// noRetry is an HTTP client without oras-go's retries, so that a 500 is
// reported at once.
var noRetry = &http.Client{Transport: http.DefaultTransport}

// TestPull_Hostile pulls from registries that serve every kind of bad
// answer; each is a clear error, and the cache is left as it was: a
// package pulled before stays, nothing new is added, no temporary file
// stays behind.
func TestPull_Hostile(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makePackage(t, dir, "hello", "1.0.0", 100))
	require.NoError(t, err)
	other, err := os.ReadFile(makePackage(t, dir, "other", "1.0.0", 100))
	require.NoError(t, err)
	cache := filepath.Join(dir, "cache")

	// A first, good pull fills the cache.
	f := ocitest.NewFake()
	defer f.Close()
	f.PutBlob([]byte("{}"))
	f.PutBlob(good)
	f.PutManifest("1.0.0", oci.ManifestMediaType, marshal(t, manifestOf(t, good)))
	c := oci.NewClient(oci.Options{Cache: cache, HTTPClient: noRetry})
	p, err := c.Pull(bg, mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0"))
	require.NoError(t, err)
	before := snapshot(t, cache)
	require.Len(t, before, 1)

	v2, err := os.ReadFile(makePackage(t, dir, "hello", "2.0.0", 100))
	require.NoError(t, err)
	big := append([]byte(nil), v2...)
	bigV2, err := os.ReadFile(makePackage(t, filepath.Join(dir, "big"), "hello", "2.0.0", 256<<10))
	require.NoError(t, err)
	big[len(big)-1] ^= 1 // same size, other digest
	for _, tc := range []struct {
		name    string
		ref     string // default: the tag 2.0.0
		blob    []byte // the blob served; default good (as 2.0.0, see setup)
		edit    func(m map[string]any)
		setup   func(f *ocitest.Fake, blob []byte)
		opts    oci.Options
		timeout time.Duration
		want    error
		msg     string
	}{
		{name: "wrong artifact type", edit: func(m map[string]any) { m["artifactType"] = "application/vnd.oci.image.config.v1+json" },
			want: oci.ErrArtifactType, msg: `artifactType "application/vnd.oci.image.config.v1+json", want application/vnd.vitte.plugin.v1`},
		{name: "no artifact type", edit: func(m map[string]any) { delete(m, "artifactType") }, want: oci.ErrArtifactType},
		{name: "two layers", edit: func(m map[string]any) { m["layers"] = append(m["layers"].([]any), m["layers"].([]any)[0]) },
			want: oci.ErrManifest, msg: "2 layers, want exactly 1"},
		{name: "no layer", edit: func(m map[string]any) { m["layers"] = []any{} }, want: oci.ErrManifest, msg: "0 layers"},
		{name: "layer media type", edit: func(m map[string]any) {
			m["layers"].([]any)[0].(map[string]any)["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
		}, want: oci.ErrArtifactType, msg: "layer mediaType"},
		{name: "config not empty", edit: func(m map[string]any) {
			m["config"] = map[string]any{"mediaType": oci.EmptyMediaType, "digest": oci.Digest([]byte("{ }")), "size": 3}
		}, want: oci.ErrManifest, msg: "not the empty config"},
		{name: "config media type", edit: func(m map[string]any) {
			m["config"].(map[string]any)["mediaType"] = "application/vnd.oci.image.config.v1+json"
		}, want: oci.ErrArtifactType},
		{name: "schema version", edit: func(m map[string]any) { m["schemaVersion"] = 1 }, want: oci.ErrManifest},
		{name: "image index", setup: func(f *ocitest.Fake, blob []byte) {
			f.PutManifest("2.0.0", "application/vnd.oci.image.index.v1+json", []byte(`{"schemaVersion":2,"manifests":[]}`))
		}, want: oci.ErrArtifactType, msg: "media type"},
		{name: "not JSON", setup: func(f *ocitest.Fake, blob []byte) {
			f.PutManifest("2.0.0", oci.ManifestMediaType, []byte("\xff\xfe{"))
		}, want: oci.ErrManifest},
		{name: "version annotation is not the tag", edit: func(m map[string]any) {
			m["annotations"].(map[string]any)[oci.AnnotationVersion] = "2.0.1"
		}, want: oci.ErrVersion, msg: "the tag is 2.0.0"},
		{name: "missing content annotation", edit: func(m map[string]any) {
			delete(m["annotations"].(map[string]any), oci.AnnotationContent)
		}, want: oci.ErrManifest, msg: "dev.vitte.plugin.content missing"},
		{name: "tag not semver", ref: "latest", want: oci.ErrVersion, msg: `the tag "latest" is not a semantic version`},
		{name: "tag v-prefixed", ref: "v2.0.0", want: oci.ErrVersion},
		{name: "blob digest mismatch", setup: func(f *ocitest.Fake, blob []byte) {
			f.ServeBlob[oci.Digest(blob)] = big
		}, want: oci.ErrDigest, msg: "the bytes received have the digest"},
		{name: "blob longer than announced", setup: func(f *ocitest.Fake, blob []byte) {
			f.ServeBlob[oci.Digest(blob)] = append(append([]byte(nil), blob...), 0)
		}, want: oci.ErrRegistry, msg: "Content-Length"},
		{name: "blob longer than announced, chunked", blob: bigV2, setup: func(f *ocitest.Fake, blob []byte) {
			f.ServeBlob[oci.Digest(blob)] = append(append([]byte(nil), blob...), 0)
		}, want: oci.ErrDigest, msg: "or more, announced"},
		{name: "blob shorter than announced", setup: func(f *ocitest.Fake, blob []byte) {
			f.ServeBlob[oci.Digest(blob)] = blob[:len(blob)-1]
		}, want: oci.ErrRegistry},
		{name: "blob missing", setup: func(f *ocitest.Fake, blob []byte) { f.DeleteBlob(oci.Digest(blob)) }, want: oci.ErrNotFound},
		{name: "oversize blob", opts: oci.Options{MaxBlobSize: int64(len(v2) - 1)}, want: oci.ErrTooLarge, msg: "the limit is"},
		{name: "oversize manifest", opts: oci.Options{MaxManifestSize: 100}, want: oci.ErrTooLarge, msg: "the limit is 100"},
		{name: "package is not the manifest's", blob: other, edit: func(m map[string]any) {
			a := m["annotations"].(map[string]any)
			a[oci.AnnotationName] = "hello"
		}, want: oci.ErrPackage, msg: `the package is "other", the manifest says "hello"`},
		{name: "content id is not the manifest's", edit: func(m map[string]any) {
			m["annotations"].(map[string]any)[oci.AnnotationContent] = "h1:AAAA"
		}, want: oci.ErrPackage, msg: "content id"},
		{name: "blob is no package", blob: []byte("PK\x03\x04 not a zip at all"), want: oci.ErrPackage},
		{name: "digest not there", ref: "@" + oci.Digest([]byte("x")), setup: func(f *ocitest.Fake, blob []byte) {
			f.Tag(oci.Digest([]byte("x")), "")
		}, want: oci.ErrNotFound},
		{name: "401", setup: func(f *ocitest.Fake, blob []byte) { f.Status = 401 }, want: oci.ErrUnauthorized},
		{name: "403", setup: func(f *ocitest.Fake, blob []byte) { f.Status = 403 }, want: oci.ErrUnauthorized},
		{name: "404", ref: "3.0.0", want: oci.ErrNotFound},
		{name: "500", setup: func(f *ocitest.Fake, blob []byte) { f.Status = 500 }, want: oci.ErrRegistry, msg: "500"},
		{name: "hang", setup: func(f *ocitest.Fake, blob []byte) { f.Hang = true }, timeout: 200 * time.Millisecond, want: context.DeadlineExceeded},
		{name: "hang in the blob", setup: func(f *ocitest.Fake, blob []byte) { f.HangBlob = true }, timeout: 300 * time.Millisecond, want: context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ocitest.NewFake()
			defer f.Close()
			blob := tc.blob
			if blob == nil {
				blob = v2
			}
			f.PutBlob([]byte("{}"))
			f.PutBlob(blob)
			var m map[string]any
			if len(blob) > 100 {
				m = manifestOf(t, blob)
			} else {
				m = manifestOf(t, v2)
				m["layers"].([]any)[0] = map[string]any{"mediaType": oci.LayerMediaType, "digest": oci.Digest(blob), "size": len(blob)}
			}
			m["annotations"].(map[string]any)[oci.AnnotationVersion] = "2.0.0"
			if tc.edit != nil {
				tc.edit(m)
			}
			f.PutManifest("2.0.0", oci.ManifestMediaType, marshal(t, m))
			if tc.setup != nil {
				tc.setup(f, blob)
			}
			ctx := bg
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(bg, tc.timeout)
				defer cancel()
			}
			opts := tc.opts
			opts.Cache, opts.HTTPClient = cache, noRetry
			c := oci.NewClient(opts)
			ref := "oci://" + f.Host + "/vitte/hello:2.0.0"
			switch {
			case strings.HasPrefix(tc.ref, "@"):
				ref = "oci://" + f.Host + "/vitte/hello" + tc.ref
			case tc.ref != "":
				ref = "oci://" + f.Host + "/vitte/hello:" + tc.ref
			}
			_, err := c.Pull(ctx, mustRef(t, ref))
			require.Error(t, err)
			require.ErrorIs(t, err, tc.want, "%v", err)
			require.Contains(t, err.Error(), "pull "+ref+": ")
			if tc.msg != "" {
				require.Contains(t, err.Error(), tc.msg)
			}
			require.Equal(t, before, snapshot(t, cache), "the cache changed")
		})
	}
	// The package pulled first is still there and still served from the
	// cache.
	_, err = os.Stat(p.Path)
	require.NoError(t, err)
}

// TestPull_CacheTampered: a cached blob whose bytes changed is not used:
// it is removed and fetched again.
func TestPull_CacheTampered(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makePackage(t, dir, "hello", "1.0.0", 100))
	require.NoError(t, err)
	f := ocitest.NewFake()
	defer f.Close()
	f.PutBlob([]byte("{}"))
	f.PutBlob(good)
	f.PutManifest("1.0.0", oci.ManifestMediaType, marshal(t, manifestOf(t, good)))
	c := oci.NewClient(oci.Options{Cache: filepath.Join(dir, "cache"), HTTPClient: noRetry})
	ref := mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0")
	p, err := c.Pull(bg, ref)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p.Path, []byte("tampered"), 0o644))
	p2, err := c.Pull(bg, ref)
	require.NoError(t, err)
	data, err := os.ReadFile(p2.Path)
	require.NoError(t, err)
	require.Equal(t, good, data)

	// A tampered blob whose registry now fails is removed, not used.
	require.NoError(t, os.WriteFile(p.Path, []byte("tampered"), 0o644))
	f.ServeBlob[oci.Digest(good)] = []byte("tampered")
	_, err = c.Pull(bg, ref)
	require.Error(t, err)
	_, err = os.Stat(p.Path)
	require.True(t, errors.Is(err, os.ErrNotExist), "the tampered blob is removed")
}

// TestSignatures_Hostile: signature artifacts that are not the spec's are
// refused, naming them.
func TestSignatures_Hostile(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makePackage(t, dir, "hello", "1.0.0", 100))
	require.NoError(t, err)
	sig := []byte("untrusted comment: x\nRWQ...\n")
	for _, tc := range []struct {
		name string
		edit func(m map[string]any, subject string)
		opts oci.Options
		want error
	}{
		{"wrong artifact type", func(m map[string]any, _ string) { m["artifactType"] = oci.ArtifactType }, oci.Options{}, oci.ErrArtifactType},
		{"wrong subject", func(m map[string]any, _ string) {
			m["subject"].(map[string]any)["digest"] = oci.Digest([]byte("other"))
		}, oci.Options{}, oci.ErrManifest},
		{"two layers", func(m map[string]any, _ string) { m["layers"] = append(m["layers"].([]any), m["layers"].([]any)[0]) }, oci.Options{}, oci.ErrManifest},
		{"oversize signature", func(map[string]any, string) {}, oci.Options{MaxSignatureSize: 10}, oci.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ocitest.NewFake()
			defer f.Close()
			f.PutBlob([]byte("{}"))
			f.PutBlob(good)
			f.PutBlob(sig)
			md := f.PutManifest("1.0.0", oci.ManifestMediaType, marshal(t, manifestOf(t, good)))
			sm := map[string]any{
				"schemaVersion": 2, "mediaType": oci.ManifestMediaType, "artifactType": oci.SignatureType,
				"config":  map[string]any{"mediaType": oci.EmptyMediaType, "digest": oci.Digest([]byte("{}")), "size": 2},
				"layers":  []any{map[string]any{"mediaType": oci.SignatureType, "digest": oci.Digest(sig), "size": len(sig)}},
				"subject": map[string]any{"mediaType": oci.ManifestMediaType, "digest": md, "size": 1},
			}
			tc.edit(sm, md)
			sd := f.PutManifest("", oci.ManifestMediaType, marshal(t, sm))
			index := marshal(t, map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
				"manifests": []any{map[string]any{"mediaType": oci.ManifestMediaType, "digest": sd, "size": len(marshal(t, sm)), "artifactType": oci.SignatureType}}})
			f.PutManifest("sha256-"+strings.TrimPrefix(md, "sha256:"), "application/vnd.oci.image.index.v1+json", index)
			opts := tc.opts
			opts.Cache, opts.HTTPClient = filepath.Join(dir, tc.name), noRetry
			c := oci.NewClient(opts)
			p, err := c.Pull(bg, mustRef(t, "oci://"+f.Host+"/vitte/hello:1.0.0"))
			require.NoError(t, err)
			_, err = c.Signatures(bg, p.Ref, p.Manifest)
			require.ErrorIs(t, err, tc.want, "%v", err)
			require.Contains(t, err.Error(), "signatures of oci://"+f.Host+"/vitte/hello@"+md)
		})
	}
}
