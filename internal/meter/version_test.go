package meter

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersion pins what Instrument makes of two fixtures under Version.
// When it fails, the rewriting changed: change Version, then the hashes
// here. Caches of metered modules are keyed by Version.
func TestVersion(t *testing.T) {
	want := map[string]string{
		"spec-c/spec-c.wasm":     "73ecc55defea0204a8405ceed0a1186bb77493628c3fd586f07d14daa4e51029",
		"hello-vitte/hello.wasm": "7b71826cb75d43ed7692fb567b1ca2a4af4bbdc5077ec72c10513a9e0a48219c",
	}
	for name, sum := range want {
		wasm, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wasm", name))
		require.NoError(t, err)
		out, err := Instrument(wasm, Options{})
		require.NoError(t, err)
		got := sha256.Sum256(out)
		require.Equal(t, sum, hex.EncodeToString(got[:]), "%s: Instrument's output changed: change Version (now %q) and this hash", name, Version)
	}
}
