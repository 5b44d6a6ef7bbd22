package registry_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// TestInstall_BadInput installs, through the trust policy as `vitte plugin
// install` does, every kind of bad package the packages issue lists, and
// checks each is refused with an error and leaves the registry byte for byte
// as it was.
func TestInstall_BadInput(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	work := t.TempDir()
	key := func() (minisign.PublicKey, minisign.PrivateKey) {
		pub, priv, err := minisign.GenerateKey(rand.Reader)
		require.NoError(t, err)
		return pub, priv
	}
	alicePub, alice := key()
	_, bob := key() // not in the trust file
	carolPub, carol := key()
	davePub, dave := key()
	pubText := func(p minisign.PublicKey) string {
		lines := strings.Split(strings.TrimSpace(string(trust.MarshalPublicKey(p))), "\n")
		return lines[len(lines)-1]
	}
	policyText := fmt.Sprintf(`[keys.alice]
minisign = %q

[keys.carol]
minisign = %q
revoked = true

[keys.dave]
minisign = %q
not_after = 2020-01-01

[[policy]]
scopes = ["*"]
level = "strict"
keys = ["alice", "carol", "dave"]
threshold = 1
`, pubText(alicePub), pubText(carolPub), pubText(davePub))
	pol, err := trust.Parse("trust.toml", []byte(policyText))
	require.NoError(t, err)
	verifyWith := func(pol *trust.Policy) func(*vitplug.Package, string) ([]string, error) {
		return func(pkg *vitplug.Package, source string) ([]string, error) {
			v, err := trust.Verify(pkg, source, nil, pol, now)
			if err != nil {
				return nil, err
			}
			var names []string
			for _, s := range v.Signers {
				names = append(names, s.Key.Name)
			}
			return names, nil
		}
	}

	// pack packs hello-c under another name or with another greeting, and
	// signs it with keys.
	pack := func(name, greeting string, keys ...minisign.PrivateKey) string {
		dir := filepath.Join(work, fmt.Sprintf("%s-%s", name, greeting))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		wasm, err := os.ReadFile(filepath.Join("..", "testdata", "wasm", "hello-c", "hello-c.wasm"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "hello-c.wasm"), wasm, 0o644))
		manifest := fmt.Sprintf("[plugin]\nname = %q\nversion = \"1.0.0\"\nkind = \"c\"\nmodule = \"hello-c.wasm\"\n\n[config]\ngreeting = %q\n", name, greeting)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(manifest), 0o644))
		out := dir + ".vitplug"
		pkg, err := vitplug.PackFile(dir, out, vitplug.Limits{})
		require.NoError(t, err)
		for _, k := range keys {
			sig, err := trust.Sign(pkg, k, now)
			require.NoError(t, err)
			pkg, err = pkg.WithSignature(trust.KeyID(k.ID()), sig)
			require.NoError(t, err)
		}
		var buf bytes.Buffer
		_, err = pkg.WriteTo(&buf)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
		return out
	}
	// graft embeds into the package at path the signatures of the package
	// at from, as an attacker moving a signature would.
	graft := func(path, from string) string {
		src, err := vitplug.OpenFile(from, vitplug.Limits{})
		require.NoError(t, err)
		dst, err := vitplug.OpenFile(path, vitplug.Limits{})
		require.NoError(t, err)
		for id, sig := range src.Signatures() {
			dst, err = dst.WithSignature(id, sig)
			require.NoError(t, err)
		}
		var buf bytes.Buffer
		_, err = dst.WriteTo(&buf)
		require.NoError(t, err)
		out := strings.TrimSuffix(path, ".vitplug") + "-grafted.vitplug"
		require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
		return out
	}

	home := filepath.Join(work, "home")
	reg, err := registry.Open(home)
	require.NoError(t, err)
	_, err = reg.Install(ctx, pack("base", "Hello", alice), registry.InstallOptions{Verify: verifyWith(pol)})
	require.NoError(t, err, "a package signed by a trusted key installs")
	before := snapshot(t, home)

	type badCase struct {
		name, path string
		pol        *trust.Policy
	}
	cases := []badCase{
		{"unsigned", pack("unsigned", "Hi"), pol},
		{"untrusted key", pack("bobs", "Hi", bob), pol},
		{"revoked key", pack("carols", "Hi", carol), pol},
		{"expired key", pack("daves", "Hi", dave), pol},
		{"signature moved from another package (other name)", graft(pack("victim", "Hi"), pack("base", "Hello", alice)), pol},
		{"file changed after signing (same name, other content)", graft(pack("base", "Changed"), pack("base", "Hello", alice)), pol},
		{"no trust file", pack("signed", "Hi", alice), nil},
	}
	// Every refusal vector of the package format: zip-slip, absolute paths,
	// symbolic links, duplicate names, truncated archives, bad CHECKSUMS...
	vectors, err := filepath.Glob(filepath.Join("..", "testdata", "spec", "package-v1", "*.vitplug"))
	require.NoError(t, err)
	for _, v := range vectors {
		want, err := os.ReadFile(strings.TrimSuffix(v, ".vitplug") + ".err")
		require.NoError(t, err)
		if len(bytes.TrimSpace(want)) > 0 {
			cases = append(cases, badCase{"package-v1/" + filepath.Base(v), v, pol})
		}
	}
	require.Greater(t, len(cases), 50)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := reg.Install(ctx, c.path, registry.InstallOptions{Verify: verifyWith(c.pol)})
			require.Error(t, err)
			require.Equal(t, before, snapshot(t, home), "the registry is unchanged")
		})
	}

	// A corrupt trust.toml is refused before anything is verified.
	_, err = trust.Parse("trust.toml", []byte("[keys.alice]\nminisign = 3\n"))
	require.ErrorContains(t, err, "trust.toml:2:12: keys.alice.minisign")
	require.Equal(t, before, snapshot(t, home))
}

// snapshot is every file of the registry folder (but the lock) with its
// SHA-256.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "lock" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, fmt.Sprintf("%s %x", rel, sha256.Sum256(data)))
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}
