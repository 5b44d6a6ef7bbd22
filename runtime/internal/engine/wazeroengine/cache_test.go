package wazeroengine

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
)

// TestCache_Pins: the cache keeps the modules closed most recently, at most
// its bound, each once however often it is compiled and closed, and
// releases them on Close.
func TestCache_Pins(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wc, err := wazero.NewCompilationCacheWithDir(dir)
	require.NoError(t, err)
	cache := newCache(wc, 2)
	e, err := New(ctx, Options{Cache: cache})
	require.NoError(t, err)

	module := func(i int32) []byte {
		t.Helper()
		body := []byte{0x41} // i32.const i
		body = append(body, byte(i&0x3f))
		m := wasmgen.Module{NoMemory: true, Funcs: []wasmgen.Func{{
			Type: abi.FuncType{Results: []abi.ValueType{abi.I32}}, Body: body, Export: "f",
		}}}
		return m.Bytes()
	}
	compile := func(i int32) {
		t.Helper()
		m, err := e.Compile(ctx, module(i))
		require.NoError(t, err, fmt.Sprint("module ", i))
		require.NoError(t, m.Close(ctx))
		require.NoError(t, m.Close(ctx), "a second Close does nothing")
	}

	// compiled counts wazero's files, and removes them if remove is set:
	// wazero writes one only when it compiles.
	compiled := func(remove bool) (n int) {
		t.Helper()
		require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
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

	compile(1)
	assert.Equal(t, 1, compiled(true), "compiled")
	compile(1)
	assert.Zero(t, compiled(false), "kept compiled, even after two Close calls")
	assert.Equal(t, 1, cache.pins(), "one module, pinned once")
	compile(2)
	compile(3)
	assert.Equal(t, 2, cache.pins(), "bounded")
	cache.mu.Lock()
	_, kept1 := cache.pinned[sha256Of(module(1))]
	_, kept3 := cache.pinned[sha256Of(module(3))]
	cache.mu.Unlock()
	assert.False(t, kept1, "the oldest is released")
	assert.True(t, kept3, "the newest is kept")

	require.NoError(t, e.Close(ctx))
	require.NoError(t, cache.Close(ctx))
	assert.Zero(t, cache.pins())
}

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }
