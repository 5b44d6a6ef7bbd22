package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// TestDiskCompilationCache_Engine: a second runtime sharing the directory loads
// from it, on the engine under test (wasmtime keeps its serialized modules
// in a subdirectory of its own).
func TestDiskCompilationCache_Engine(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cache")
	eng := testEngine(t)
	for i := range 2 {
		cache, err := runtime.NewDiskCompilationCache(dir)
		require.NoError(t, err)
		rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(eng).WithCompilationCache(cache))
		require.NoError(t, err)
		p, err := rt.Load(ctx, fixture("hello-c"))
		require.NoError(t, err, "run %d", i)
		out, err := p.Call(ctx, "greet", []byte("cache"))
		require.NoError(t, err)
		assert.Equal(t, "Hello, cache!", string(out))
		require.NoError(t, rt.Close(ctx))
		require.NoError(t, cache.Close(ctx))
	}
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	if eng == runtime.EngineWasmtime {
		entries, err := os.ReadDir(filepath.Join(dir, "wasmtime-39.0.1"))
		require.NoError(t, err)
		assert.Len(t, entries, 1, "one module, compiled once, serialized")
	}
}

func TestWithEngine_Unknown(t *testing.T) {
	_, err := runtime.New(context.Background(), runtime.NewConfig().WithEngine("v8"))
	assert.ErrorIs(t, err, runtime.ErrEngineUnavailable)
	_, err = runtime.ParseEngine("v8")
	assert.ErrorContains(t, err, `unknown engine "v8"`)
}
