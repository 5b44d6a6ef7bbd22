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
		"spec-c/spec-c.wasm":     "7167190b8fce78937de67a70b2ec97b3070030de29e5f5b57bf81926b63a67dd",
		"hello-vitte/hello.wasm": "cbc4f04ccf3b6b340f7ac04f39548b6fcf29654c23d2510f5c2d6f0ed5bfb04d",
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
