package trust_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// helloC is the repository's reference C plugin (scripts/build-c-fixtures.sh).
const helloC = "../testdata/wasm/hello-c"

// now is the clock of the tests: signatures are made an hour before.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// packDir packs the plugin folder dir.
func packDir(t testing.TB, dir string) *vitplug.Package {
	t.Helper()
	var b bytes.Buffer
	p, err := vitplug.Pack(dir, &b, vitplug.Limits{})
	require.NoError(t, err)
	return p
}

// hello returns the hello-c package.
func hello(t testing.TB) *vitplug.Package {
	t.Helper()
	return packDir(t, helloC)
}

// helloVariant copies hello-c to a temporary folder, changes its files with
// edit (path → new content), and packs it.
func helloVariant(t testing.TB, edit map[string]string) *vitplug.Package {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"plugin.toml", "hello-c.wasm"} {
		data, err := os.ReadFile(filepath.Join(helloC, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	for name, data := range edit {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	}
	return packDir(t, dir)
}

// testKey is a key pair of the tests.
type testKey struct {
	pub  minisign.PublicKey
	priv minisign.PrivateKey
}

func newKey(t testing.TB) testKey {
	t.Helper()
	pub, priv, err := minisign.GenerateKey(nil)
	require.NoError(t, err)
	return testKey{pub: pub, priv: priv}
}

func (k testKey) id() string { return trust.KeyID(k.pub.ID()) }

// sign signs p with k an hour before now.
func (k testKey) sign(t testing.TB, p *vitplug.Package) []byte {
	t.Helper()
	sig, err := trust.Sign(p, k.priv, now.Add(-time.Hour))
	require.NoError(t, err)
	return sig
}

// embed returns p with k's signature embedded.
func (k testKey) embed(t testing.TB, p *vitplug.Package) *vitplug.Package {
	t.Helper()
	q, err := p.WithSignature(k.id(), k.sign(t, p))
	require.NoError(t, err)
	return q
}

// signComment signs the checksums of p with k and any trusted comment.
func (k testKey) signComment(t testing.TB, p *vitplug.Package, comment string) []byte {
	t.Helper()
	r := minisign.NewReader(bytes.NewReader(p.Checksums()))
	_, err := r.Read(make([]byte, len(p.Checksums())+1))
	require.NoError(t, err)
	return r.SignWithComments(k.priv, comment, "test")
}

// parse parses a trust.toml of the tests.
func parse(t testing.TB, text string) *trust.Policy {
	t.Helper()
	p, err := trust.Parse("trust.toml", []byte(text))
	require.NoError(t, err)
	return p
}
