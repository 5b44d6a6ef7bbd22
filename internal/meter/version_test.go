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
		"spec-c/spec-c.wasm":     "d10b7d9aa759a8b5c51782355032a02102fd04c71910249fc1dbc7bcdb0e2555",
		"hello-vitte/hello.wasm": "8b6bc053ded76774de8cff89969a25cc650413ce4068d41bdc62e5931b1eff14",
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
