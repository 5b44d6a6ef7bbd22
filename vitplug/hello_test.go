package vitplug_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// helloC is the repository's reference C plugin, built by
// scripts/build-c-fixtures.sh. Its folder also holds hello-c.c, which is not
// packed.
const helloC = "../testdata/wasm/hello-c"

// helloCContentID is the content id of helloC as packed, checked once with
// coreutils (sha256sum hello-c.wasm plugin.toml | sha256sum, in base64).
// A change of it means a change of the CHECKSUMS format, or of the
// fixture: the test first checks the fixture's files against helloCFiles to
// tell which.
const helloCContentID = "h1:LQ4PbLWRySoa6V2Snhc57ZxaBOfARwzrzjAbfZUYCsA="

// helloCFiles are the SHA-256 of the files of helloC that get packed, when
// helloCContentID was recorded. If the fixture is rebuilt, update both from
// the test's failure message.
var helloCFiles = map[string]string{
	"plugin.toml":  "50d01a789756c7d4d16370b2e14670c5668197feae15426c8d2ec13090e6a415",
	"hello-c.wasm": "77508ebfa898775a52f24ff20aa20de4576cea5e1afaad17c94834c1b5e38419",
}

func TestPack_helloC(t *testing.T) {
	for name, want := range helloCFiles {
		data, err := os.ReadFile(filepath.Join(helloC, name))
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		require.Equal(t, want, hex.EncodeToString(sum[:]), "the fixture %s/%s changed: update helloCFiles and helloCContentID", helloC, name)
	}

	p, z := pack(t, helloC)
	require.Equal(t, []string{"hello-c.wasm", "plugin.toml"}, p.Files())
	require.Equal(t, helloCContentID, p.ContentID(), "the content id of an unchanged fixture changed: the CHECKSUMS format changed")
	require.Equal(t, "hello-c", p.Manifest().Plugin.Name)
	wasm, err := os.ReadFile(filepath.Join(helloC, "hello-c.wasm"))
	require.NoError(t, err)
	require.Equal(t, wasm, p.Module())

	// Stable across runs and folders.
	_, again := pack(t, helloC)
	require.Equal(t, z, again)
	copyDir := t.TempDir()
	for _, name := range []string{"plugin.toml", "hello-c.wasm", "hello-c.c"} {
		data, err := os.ReadFile(filepath.Join(helloC, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(copyDir, name), data, 0o600))
	}
	_, copied := pack(t, copyDir)
	require.Equal(t, z, copied)

	// Read back from a file.
	out := filepath.Join(t.TempDir(), "hello-c-0.1.0.vitplug")
	require.NoError(t, os.WriteFile(out, z, 0o644))
	q, err := vitplug.OpenFile(out, vitplug.Limits{})
	require.NoError(t, err)
	require.Equal(t, helloCContentID, q.ContentID())
	require.Equal(t, wasm, q.Module())
	require.True(t, bytes.Equal(p.Checksums(), q.Checksums()))
	checkPackage(t, q)
}
