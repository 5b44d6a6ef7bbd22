package wazeroengine

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// constModule returns a module whose export f returns i.
func constModule(i byte) []byte {
	m := wasmgen.Module{MemoryMin: 1, ExportMemory: "memory", Funcs: []wasmgen.Func{{
		Type: abi.FuncType{Results: []abi.ValueType{abi.I32}}, Body: []byte{0x41, i & 0x3f}, Export: "f",
	}}}
	return m.Bytes()
}

// callF instantiates m and calls f; it uses only assert, so that it may run
// in any goroutine.
func callF(t *testing.T, m engine.Module) uint64 {
	t.Helper()
	ctx := context.Background()
	inst, err := m.Instantiate(ctx, engine.InstanceConfig{})
	if !assert.NoError(t, err) {
		return 1 << 40
	}
	defer inst.Close(ctx)
	stack := []uint64{0}
	assert.NoError(t, inst.Func("f").Call(ctx, stack))
	return stack[0]
}

// TestCompile_Shared: compiling the same bytes again while the first module
// is open shares it; each handle stays usable until its own Close, and the
// last Close releases it.
func TestCompile_Shared(t *testing.T) {
	ctx := context.Background()
	ei, err := New(ctx, Options{})
	require.NoError(t, err)
	e := ei.(*eng)
	defer e.Close(ctx)

	a, err := e.Compile(ctx, constModule(7))
	require.NoError(t, err)
	b, err := e.Compile(ctx, constModule(7))
	require.NoError(t, err)
	other, err := e.Compile(ctx, constModule(8))
	require.NoError(t, err)
	assert.Same(t, a.(*module).c, b.(*module).c, "the same bytes share one compiled module")
	assert.NotSame(t, a.(*module).c, other.(*module).c)
	assert.Len(t, e.compiled, 2)

	require.NoError(t, a.Close(ctx))
	require.NoError(t, a.Close(ctx), "a second Close does nothing")
	assert.Equal(t, uint64(7), callF(t, b), "b outlives a")
	assert.Len(t, e.compiled, 2)
	require.NoError(t, b.Close(ctx))
	assert.Len(t, e.compiled, 1, "released with its last handle")
	assert.Equal(t, uint64(8), callF(t, other))
	require.NoError(t, other.Close(ctx))
	assert.Empty(t, e.compiled)

	c, err := e.Compile(ctx, constModule(7))
	require.NoError(t, err, "compiled again after release")
	assert.Equal(t, uint64(7), callF(t, c))
	require.NoError(t, c.Close(ctx))
}

// TestCompile_SharedConcurrent: goroutines compiling, calling and closing the
// same module (run with -race).
func TestCompile_SharedConcurrent(t *testing.T) {
	ctx := context.Background()
	cache := NewCache()
	defer cache.Close(ctx)
	ei, err := New(ctx, Options{Cache: cache})
	require.NoError(t, err)
	e := ei.(*eng)
	defer e.Close(ctx)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 20 {
				m, err := e.Compile(ctx, constModule(byte(g%2)))
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, uint64(g%2), callF(t, m))
				assert.NoError(t, m.Close(ctx))
			}
		})
	}
	wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	assert.Empty(t, e.compiled)
	assert.Equal(t, 2, cache.pins(), "both modules kept by the cache")
}

// TestCompile_FromCache: with a cache, a module closed then compiled again
// by the same engine is the one the cache kept, not decoded again; another
// engine sharing the cache compiles its own (wazero's compiled modules
// carry type ids of the runtime that compiled them).
func TestCompile_FromCache(t *testing.T) {
	ctx := context.Background()
	cache := NewCache()
	defer cache.Close(ctx)
	newEng := func() *eng {
		ei, err := New(ctx, Options{Cache: cache})
		require.NoError(t, err)
		t.Cleanup(func() { ei.Close(ctx) })
		return ei.(*eng)
	}
	e1, e2 := newEng(), newEng()

	a, err := e1.Compile(ctx, constModule(5))
	require.NoError(t, err)
	cm := a.(*module).c.cm
	require.NoError(t, a.Close(ctx))
	assert.Equal(t, 1, cache.pins())

	other, err := e2.Compile(ctx, constModule(5))
	require.NoError(t, err)
	assert.NotSame(t, cm, other.(*module).c.cm, "another engine compiles its own")
	assert.Equal(t, uint64(5), callF(t, other))
	assert.Equal(t, 1, cache.pins(), "and leaves e1's kept")

	b, err := e1.Compile(ctx, constModule(5))
	require.NoError(t, err)
	assert.Same(t, cm, b.(*module).c.cm, "the engine gets back the module it closed")
	assert.Zero(t, cache.pins(), "taken out of the cache while open")
	assert.Equal(t, uint64(5), callF(t, b))
	require.NoError(t, b.Close(ctx))
	require.NoError(t, other.Close(ctx))
	assert.Equal(t, 1, cache.pins(), "one kept per module")
}

// TestCompileInterpreted: the interpreter is a second wazero runtime, made
// on first use, with the same host functions; its modules are its own (not
// shared with the compiler's, not kept by the cache, which holds machine
// code) and the engine's Close closes it.
func TestCompileInterpreted(t *testing.T) {
	ctx := context.Background()
	cache := NewCache()
	defer cache.Close(ctx)
	var calls int
	ei, err := New(ctx, Options{Cache: cache, HostFuncs: []engine.HostFunc{{
		Module: "host", Name: "add1", Type: abi.FuncType{Params: []abi.ValueType{abi.I32}, Results: []abi.ValueType{abi.I32}},
		Fn: func(_ context.Context, _ engine.Caller, stack []uint64) error {
			calls++
			stack[0]++
			return nil
		},
	}}})
	require.NoError(t, err)
	e := ei.(*eng)
	wasm := wasmgen.Module{
		MemoryMin: 1, ExportMemory: "memory",
		Imports: []wasmgen.Import{{Module: "host", Name: "add1", Type: abi.FuncType{Params: []abi.ValueType{abi.I32}, Results: []abi.ValueType{abi.I32}}}},
		Funcs: []wasmgen.Func{{
			Type: abi.FuncType{Results: []abi.ValueType{abi.I32}}, Body: []byte{0x41, 41, 0x10, 0}, Export: "f", // add1(41)
		}},
	}.Bytes()

	assert.Nil(t, e.interp, "made on first use")
	compiled, err := e.Compile(ctx, wasm)
	require.NoError(t, err)
	interpreted, err := e.CompileInterpreted(ctx, wasm)
	require.NoError(t, err)
	require.NotNil(t, e.interp)
	assert.NotSame(t, compiled.(*module).c, interpreted.(*module).c, "the same bytes, compiled twice")
	assert.Same(t, e.interp, interpreted.(*module).e)
	assert.Nil(t, e.interp.cache)
	assert.Equal(t, uint64(42), callF(t, compiled))
	assert.Equal(t, uint64(42), callF(t, interpreted), "the host function is there too")
	assert.Equal(t, 2, calls)

	again, err := e.CompileInterpreted(ctx, wasm)
	require.NoError(t, err)
	assert.Same(t, interpreted.(*module).c, again.(*module).c, "shared while open, as with the compiler")
	require.NoError(t, again.Close(ctx))
	require.NoError(t, interpreted.Close(ctx))
	require.NoError(t, compiled.Close(ctx))
	assert.Equal(t, 1, cache.pins(), "the compiler's module kept, not the interpreter's")

	require.NoError(t, e.Close(ctx))
	_, err = e.CompileInterpreted(ctx, wasm)
	assert.ErrorContains(t, err, "engine is closed")
}
