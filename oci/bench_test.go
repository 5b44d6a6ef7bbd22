package oci_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
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
	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// BenchmarkRegistry measures push, pull and install of a 1 MiB and a
// 20 MiB package against a real docker-registry on 127.0.0.1, each next
// to a baseline in the same run:
//
//	push/*/vitte     Client.Push to a new repository (config, blob, manifest)
//	push/*/raw       the blob alone, one POST and one PUT over plain net/http
//	pull/*/vitte     Client.Pull into an empty cache (manifest, blob streamed,
//	                 digest, package checked, renamed into the cache)
//	pull/*/raw       GET of the blob over plain net/http, hashed, discarded
//	install/*/vitte  pull into an empty cache, fetch the signature (tag
//	                 fallback), registry.Install with trust.Verify, into an
//	                 empty $VITTE_HOME
//	install/*/file   registry.Install of the same signed package from a local
//	                 file (what `vitte plugin install file.vitplug` does)
//
// go test -run '^$' -bench BenchmarkRegistry -benchtime 10x -count 5 ./oci
func BenchmarkRegistry(b *testing.B) {
	reg := ocitest.Require(b, ocitest.Options{})
	dir := b.TempDir()
	pub, key, err := minisign.GenerateKey(rand.Reader)
	require.NoError(b, err)
	lines := strings.Split(strings.TrimSpace(string(trust.MarshalPublicKey(pub))), "\n")
	pol, err := trust.Parse("trust.toml", fmt.Appendf(nil, "[keys.k]\nminisign = %q\n\n[[policy]]\nscopes = [\"*\"]\nlevel = \"strict\"\nkeys = [\"k\"]\n", lines[len(lines)-1]))
	require.NoError(b, err)
	verify := func(sigs [][]byte) func(*vitplug.Package, string) ([]string, error) {
		return func(p *vitplug.Package, source string) ([]string, error) {
			v, err := trust.Verify(p, source, sigs, pol, time.Now())
			if err != nil {
				return nil, err
			}
			return []string{v.Signers[0].Key.Name}, nil
		}
	}
	iter := 0
	for _, size := range []struct {
		name string
		n    int
	}{{"1MiB", 1 << 20}, {"20MiB", 20 << 20}} {
		path := makePackage(b, dir, "bench", "1.0.0", size.n)
		data, err := os.ReadFile(path)
		require.NoError(b, err)
		pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
		require.NoError(b, err)
		sig, err := trust.Sign(pkg, key, time.Now())
		require.NoError(b, err)
		c := oci.NewClient(oci.Options{Cache: filepath.Join(dir, "cache-"+size.name)})
		repo := "oci://" + reg.Host + "/bench/" + strings.ToLower(size.name)
		pushed, err := c.Push(bg, path, mustRef(b, repo+":1.0.0"), oci.PushOptions{})
		require.NoError(b, err)
		ref := mustRef(b, repo+":1.0.0")
		_, err = c.PushSignature(bg, ref, sig)
		require.NoError(b, err)
		blobDigest := oci.Digest(data)

		b.Run("push/"+size.name+"/vitte", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				iter++
				_, err := c.Push(bg, path, mustRef(b, fmt.Sprintf("oci://%s/push/v%d:1.0.0", reg.Host, iter)), oci.PushOptions{})
				require.NoError(b, err)
			}
		})
		b.Run("push/"+size.name+"/raw", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				iter++
				rawPush(b, reg.Host, fmt.Sprintf("push/r%d", iter), data, blobDigest)
			}
		})
		b.Run("pull/"+size.name+"/vitte", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				iter++
				c := oci.NewClient(oci.Options{Cache: filepath.Join(dir, fmt.Sprintf("pull-%d", iter))})
				p, err := c.Pull(bg, ref)
				require.NoError(b, err)
				require.Equal(b, pushed.Digest, p.Manifest.Digest)
				os.RemoveAll(filepath.Join(dir, fmt.Sprintf("pull-%d", iter)))
			}
		})
		b.Run("pull/"+size.name+"/raw", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				resp, err := http.Get("http://" + reg.Host + "/v2/bench/" + strings.ToLower(size.name) + "/blobs/" + blobDigest)
				require.NoError(b, err)
				h := sha256.New()
				_, err = io.Copy(h, resp.Body)
				resp.Body.Close()
				require.NoError(b, err)
			}
		})
		b.Run("install/"+size.name+"/vitte", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				iter++
				work := filepath.Join(dir, fmt.Sprintf("install-%d", iter))
				c := oci.NewClient(oci.Options{Cache: filepath.Join(work, "cache")})
				p, err := c.Pull(bg, ref)
				require.NoError(b, err)
				sigs, err := c.Signatures(bg, p.Ref, p.Manifest)
				require.NoError(b, err)
				r, err := registry.Open(filepath.Join(work, "home"))
				require.NoError(b, err)
				_, err = r.Install(bg, p.Path, registry.InstallOptions{Source: p.Ref.WithTag(p.Ref.Tag).String(), Verify: verify(sigs)})
				require.NoError(b, err)
				os.RemoveAll(work)
			}
		})
		b.Run("install/"+size.name+"/file", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				iter++
				work := filepath.Join(dir, fmt.Sprintf("install-%d", iter))
				r, err := registry.Open(filepath.Join(work, "home"))
				require.NoError(b, err)
				_, err = r.Install(bg, path, registry.InstallOptions{Verify: verify([][]byte{sig})})
				require.NoError(b, err)
				os.RemoveAll(work)
			}
		})
	}
}

// rawPush uploads data as a blob of repo with a POST and a PUT.
func rawPush(b *testing.B, host, repo string, data []byte, digest string) {
	resp, err := http.Post("http://"+host+"/v2/"+repo+"/blobs/uploads/", "", nil)
	require.NoError(b, err)
	resp.Body.Close()
	require.Equal(b, http.StatusAccepted, resp.StatusCode)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + host + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(http.MethodPut, loc+sep+"digest="+digest, bytes.NewReader(data))
	require.NoError(b, err)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(b, err)
	resp.Body.Close()
	require.Equal(b, http.StatusCreated, resp.StatusCode)
}
