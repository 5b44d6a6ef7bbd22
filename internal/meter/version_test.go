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
		"spec-c/spec-c.wasm":     "a3dde4c67fe609bf5a5861053fe594120a854fabde173e7ae67fe6643452e9ca",
		"hello-vitte/hello.wasm": "cd11699471c4baf67cf25d89b264cacddb09cc5d2e8ab790093c2d8b23ee580b",
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
