package runtime_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

func TestDiskCompilationCache(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cache")
	load := func() {
		t.Helper()
		c, err := runtime.NewDiskCompilationCache(dir)
		require.NoError(t, err)
		rt, err := runtime.New(ctx, runtime.NewConfig().WithCompilationCache(c))
		require.NoError(t, err)
		p, err := rt.Load(ctx, fixture("hello-c"))
		require.NoError(t, err)
		out, err := p.Call(ctx, "greet", []byte("cache"))
		require.NoError(t, err)
		assert.Equal(t, "Hello, cache!", string(out))
		require.NoError(t, rt.Close(ctx))
		require.NoError(t, c.Close(ctx))
	}
	load()
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	entries, err := filepath.Glob(filepath.Join(dir, "metered", "*.wasm"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "the metered module is kept")
	compiled, err := os.ReadDir(filepath.Join(dir, "wazero"))
	require.NoError(t, err)
	assert.NotEmpty(t, compiled, "the compiled module is kept")

	// A second process (here: a second cache on the same folder) uses the
	// entries.
	load()

	// A damaged entry is ignored and written again.
	require.NoError(t, os.WriteFile(entries[0], []byte("garbage, not a module"), 0o600))
	load()
	b, err := os.ReadFile(entries[0])
	require.NoError(t, err)
	assert.Greater(t, len(b), 1000, "rewritten")

	// An entry far larger than any metering of the module could make is
	// not read, even with a matching checksum: it is ignored and rewritten.
	huge := bytes.Repeat([]byte{0}, 16*len(b)+2<<20)
	sum := sha256.Sum256(huge)
	require.NoError(t, os.WriteFile(entries[0], append(sum[:], huge...), 0o600))
	load()
	b2, err := os.ReadFile(entries[0])
	require.NoError(t, err)
	assert.Equal(t, b, b2, "rewritten as before")
}

func TestDiskCompilationCache_Refused(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o777))
	_, err := runtime.NewDiskCompilationCache(dir)
	require.Error(t, err)
	assert.ErrorContains(t, err, "other users may write to it (mode -rwxrwxrwx): make it 0700")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = runtime.NewDiskCompilationCache(file)
	require.Error(t, err)
}

func TestDefaultCacheDir(t *testing.T) {
	base, err := os.UserCacheDir()
	require.NoError(t, err)
	d, err := runtime.DefaultCacheDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(base, "vitte", "compiled"), d)
}

// TestCompilationCache_KeepsClosedModules: a plugin closed and loaded
// again, on a runtime sharing the cache, is not compiled again. wazero
// writes a module to its directory only when it compiles it, so the
// directory, emptied between the two loads, tells.
func TestCompilationCache_KeepsClosedModules(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cache")
	cache, err := runtime.NewDiskCompilationCache(dir)
	require.NoError(t, err)
	defer cache.Close(ctx)
	// compiled counts wazero's files, and removes them if remove is set.
	compiled := func(remove bool) (n int) {
		t.Helper()
		require.NoError(t, filepath.WalkDir(filepath.Join(dir, "wazero"), func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			n++
			if remove {
				return os.Remove(path)
			}
			return nil
		}))
		return n
	}
	load := func() {
		t.Helper()
		rt, err := runtime.New(ctx, runtime.NewConfig().WithCompilationCache(cache))
		require.NoError(t, err)
		p, err := rt.Load(ctx, fixture("hello-c"))
		require.NoError(t, err)
		out, err := p.Call(ctx, "greet", []byte("again"))
		require.NoError(t, err)
		assert.Equal(t, "Hello, again!", string(out))
		require.NoError(t, p.Close(ctx))
		require.NoError(t, rt.Close(ctx))
	}

	load()
	require.Positive(t, compiled(true), "the first load compiles, and writes the module")
	load()
	assert.Zero(t, compiled(false), "the second load found the module compiled in memory")
}
