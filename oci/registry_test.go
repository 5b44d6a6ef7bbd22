package oci_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/ocitest"
	"github.com/vitte-lang/vitte-plugin/oci"
	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// TestRoundTrip pushes packages and signatures to a real registry
// (docker-registry 2.8, no referrers API: the tag fallback), lists and
// resolves versions, pulls by tag and by digest, and checks the bytes, the
// cache and the manifest layout, anonymously and with htpasswd
// authentication.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		users map[string]string
	}{
		{"anonymous", nil},
		{"htpasswd", map[string]string{"alice": "wonder land"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := ocitest.Require(t, ocitest.Options{Users: tc.users})
			dir := t.TempDir()
			opts := oci.Options{Cache: filepath.Join(dir, "cache")}
			if tc.users != nil {
				opts.Credentials = func(_ context.Context, host string) (string, string, error) {
					require.Equal(t, reg.Host, host)
					return "alice", tc.users["alice"], nil
				}
				// Without credentials: 401.
				anon := oci.NewClient(oci.Options{Cache: filepath.Join(dir, "anon")})
				_, err := anon.Versions(bg, mustRef(t, "oci://"+reg.Host+"/vitte/hello"))
				require.ErrorIs(t, err, oci.ErrUnauthorized)
				wrong := oci.NewClient(oci.Options{Cache: filepath.Join(dir, "anon"), Credentials: func(context.Context, string) (string, string, error) { return "alice", "nope", nil }})
				_, err = wrong.Push(bg, makePackage(t, dir, "hello", "0.0.1", 10), mustRef(t, "oci://"+reg.Host+"/vitte/hello:0.0.1"), oci.PushOptions{})
				require.ErrorIs(t, err, oci.ErrUnauthorized)
				require.Contains(t, err.Error(), "401")
			}
			c := oci.NewClient(opts)
			repo := "oci://" + reg.Host + "/vitte/hello"

			var pkgs = map[string]string{}
			for _, v := range []string{"1.0.0", "1.2.0", "1.10.0", "2.0.0", "1.11.0-rc.1"} {
				pkgs[v] = makePackage(t, dir, "hello", v, 1000)
				d, err := c.Push(bg, pkgs[v], mustRef(t, repo+":"+v), oci.PushOptions{})
				require.NoError(t, err)
				require.Equal(t, oci.ManifestMediaType, d.MediaType)
			}
			// The same again: nothing changes.
			d1, err := c.Push(bg, pkgs["1.2.0"], mustRef(t, repo+":1.2.0"), oci.PushOptions{})
			require.NoError(t, err)
			// Another package under an existing tag: refused unless forced.
			other := makePackage(t, filepath.Join(dir, "o"), "hello", "1.2.0", 2000)
			_, err = c.Push(bg, other, mustRef(t, repo+":1.2.0"), oci.PushOptions{})
			require.ErrorIs(t, err, oci.ErrVersion)
			// A tag that is not the version.
			_, err = c.Push(bg, pkgs["1.0.0"], mustRef(t, repo+":1.0.1"), oci.PushOptions{})
			require.ErrorIs(t, err, oci.ErrVersion)
			require.Contains(t, err.Error(), "the tag must be the version")

			vs, err := c.Versions(bg, mustRef(t, repo))
			require.NoError(t, err)
			var got []string
			for _, v := range vs {
				got = append(got, v.Original())
			}
			require.Equal(t, []string{"1.0.0", "1.2.0", "1.10.0", "1.11.0-rc.1", "2.0.0"}, got)

			for constraint, want := range map[string]string{"^1.2": "1.10.0", "~1.2": "1.2.0", "": "2.0.0", ">=1.11.0-0, <2": "1.11.0-rc.1", "<1.1": "1.0.0"} {
				r, err := c.Resolve(bg, mustRef(t, repo), constraint)
				require.NoError(t, err, constraint)
				require.Equal(t, want, r.Tag, constraint)
			}
			_, err = c.Resolve(bg, mustRef(t, repo), "^3")
			require.ErrorIs(t, err, oci.ErrVersion)

			// Pull by tag: the same bytes, in the cache under their digest.
			p, err := c.Pull(bg, mustRef(t, repo+":1.2.0"))
			require.NoError(t, err)
			want, err := os.ReadFile(pkgs["1.2.0"])
			require.NoError(t, err)
			gotBytes, err := os.ReadFile(p.Path)
			require.NoError(t, err)
			require.Equal(t, want, gotBytes)
			require.Equal(t, filepath.Join(opts.Cache, "blobs", "sha256", strings.TrimPrefix(oci.Digest(want), "sha256:")), p.Path)
			require.Equal(t, d1.Digest, p.Manifest.Digest)
			require.Equal(t, "1.2.0", p.Ref.Tag)
			require.Equal(t, d1.Digest, p.Ref.Digest)
			require.Equal(t, "hello", p.Info.Name)
			pkg, err := vitplug.OpenFile(p.Path, vitplug.Limits{})
			require.NoError(t, err)
			require.Equal(t, pkg.ContentID(), p.Info.ContentID)

			// By digest.
			p2, err := c.Pull(bg, mustRef(t, repo+"@"+d1.Digest))
			require.NoError(t, err)
			require.Equal(t, p.Path, p2.Path)
			// A tag that is not semver, or not there.
			_, err = c.Pull(bg, mustRef(t, repo+":latest"))
			require.ErrorIs(t, err, oci.ErrVersion)
			_, err = c.Pull(bg, mustRef(t, repo+":9.9.9"))
			require.ErrorIs(t, err, oci.ErrNotFound)

			// The manifest, as stored, has the spec's layout.
			m := fetchManifest(t, reg.Host, "vitte/hello", "1.2.0", tc.users)
			require.Equal(t, "application/vnd.vitte.plugin.v1", m["artifactType"])
			require.Equal(t, "application/vnd.oci.empty.v1+json", m["config"].(map[string]any)["mediaType"])
			layers := m["layers"].([]any)
			require.Len(t, layers, 1)
			require.Equal(t, "application/vnd.vitte.plugin.v1+zip", layers[0].(map[string]any)["mediaType"])
			require.Equal(t, map[string]any{
				"org.opencontainers.image.title":   "hello-1.2.0.vitplug",
				"org.opencontainers.image.version": "1.2.0",
				"dev.vitte.plugin.name":            "hello",
				"dev.vitte.plugin.content":         pkg.ContentID(),
			}, m["annotations"])

			// Signatures: none, then two, found through the sha256-<hex> tag.
			sigs, err := c.Signatures(bg, p.Ref, p.Manifest)
			require.NoError(t, err)
			require.Empty(t, sigs)
			var texts [][]byte
			for range 2 {
				_, key, err := minisign.GenerateKey(rand.Reader)
				require.NoError(t, err)
				sig, err := trust.Sign(pkg, key, time.Now())
				require.NoError(t, err)
				texts = append(texts, sig)
				sd, err := c.PushSignature(bg, mustRef(t, repo+":1.2.0"), sig)
				require.NoError(t, err)
				sm := fetchManifest(t, reg.Host, "vitte/hello", sd.Digest, tc.users)
				require.Equal(t, oci.SignatureType, sm["artifactType"])
				require.Equal(t, d1.Digest, sm["subject"].(map[string]any)["digest"])
				require.Equal(t, oci.SignatureType, sm["layers"].([]any)[0].(map[string]any)["mediaType"])
			}
			sigs, err = c.Signatures(bg, p.Ref, p.Manifest)
			require.NoError(t, err)
			require.ElementsMatch(t, texts, sigs)
			fallback := "sha256-" + strings.TrimPrefix(d1.Digest, "sha256:")
			idx := fetchManifest(t, reg.Host, "vitte/hello", fallback, tc.users)
			require.Len(t, idx["manifests"], 2)
			// The fallback tag is no version.
			vs2, err := c.Versions(bg, mustRef(t, repo))
			require.NoError(t, err)
			require.Len(t, vs2, len(vs))
			// Other versions have none.
			p3, err := c.Pull(bg, mustRef(t, repo+":1.0.0"))
			require.NoError(t, err)
			sigs, err = c.Signatures(bg, p3.Ref, p3.Manifest)
			require.NoError(t, err)
			require.Empty(t, sigs)

			// A forced push moves the tag.
			_, err = c.Push(bg, other, mustRef(t, repo+":1.2.0"), oci.PushOptions{Force: true})
			require.NoError(t, err)
			p4, err := c.Pull(bg, mustRef(t, repo+":1.2.0"))
			require.NoError(t, err)
			require.NotEqual(t, p.Path, p4.Path)
		})
	}
}

// fetchManifest reads a manifest straight from the registry's HTTP API.
func fetchManifest(t *testing.T, host, repo, ref string, users map[string]string) map[string]any {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+host+"/v2/"+repo+"/manifests/"+ref, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
	for u, p := range users {
		req.SetBasicAuth(u, p)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var m map[string]any
	require.NoError(t, json.NewDecoder(bytes.NewReader(body)).Decode(&m))
	return m
}
