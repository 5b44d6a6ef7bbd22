//go:build wasmtime

package wasmtimeengine

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine/wazeroengine"
)

var (
	i32 = abi.I32
	i64 = abi.I64
)

// errHost is what the host function "fail" returns.
var errHost = errors.New("host says no")

// testHosts are the host functions of the test module: "twice" doubles
// an i64, "fail" fails, "mem" returns the caller's memory size, "fuel"
// adds its argument to the caller's fuel counter.
func testHosts(calls *int) []engine.HostFunc {
	return []engine.HostFunc{
		{Module: "host", Name: "twice", Type: abi.FuncType{Params: []abi.ValueType{i64}, Results: []abi.ValueType{i64}},
			Fn: func(_ context.Context, _ engine.Caller, s []uint64) error { *calls++; s[0] *= 2; return nil }},
		{Module: "host", Name: "fail", Type: abi.FuncType{},
			Fn: func(context.Context, engine.Caller, []uint64) error { return errHost }},
		{Module: "host", Name: "panic", Type: abi.FuncType{},
			Fn: func(context.Context, engine.Caller, []uint64) error { panic("oops") }},
		{Module: "host", Name: "mem", Type: abi.FuncType{Results: []abi.ValueType{i32}},
			Fn: func(_ context.Context, c engine.Caller, s []uint64) error {
				s[0] = uint64(c.Memory().Size())
				return nil
			}},
		{Module: meter.ImportModule, Name: meter.ImportName, Type: abi.FuncType{},
			Fn: func(context.Context, engine.Caller, []uint64) error { return nil }},
		{Module: meter.ImportModule, Name: meter.LimitName, Type: abi.FuncType{Params: []abi.ValueType{i32, abi.I64}, Results: []abi.ValueType{i32}},
			Fn: func(_ context.Context, _ engine.Caller, s []uint64) error {
				s[0] = 1
				return nil
			}},
	}
}

// testModule exercises what the engine interface offers: value types,
// host functions, traps, memory growth, WASI and a global (added by the
// meter).
func testModule(t testing.TB) []byte {
	fn := func(name string, params, results []abi.ValueType, body ...[]byte) wasmgen.Func {
		return wasmgen.Func{Export: name, Type: abi.FuncType{Params: params, Results: results}, Body: wasmgen.Cat(body...)}
	}
	get := func(i uint32) []byte { return wasmgen.U32([]byte{0x20}, i) }
	call := func(i uint32) []byte { return wasmgen.U32([]byte{0x10}, i) }
	m := wasmgen.Module{
		Imports: []wasmgen.Import{
			{Module: "host", Name: "twice", Type: abi.FuncType{Params: []abi.ValueType{i64}, Results: []abi.ValueType{i64}}},
			{Module: "host", Name: "fail", Type: abi.FuncType{}},
			{Module: "host", Name: "mem", Type: abi.FuncType{Results: []abi.ValueType{i32}}},
			{Module: "host", Name: "panic", Type: abi.FuncType{}},
			{Module: "wasi_snapshot_preview1", Name: "random_get", Type: abi.FuncType{Params: []abi.ValueType{i32, i32}, Results: []abi.ValueType{i32}}},
		},
		MemoryMin: 1, HasMemoryMax: true, MemoryMax: 100, ExportMemory: "memory",
		Funcs: []wasmgen.Func{
			fn("add", []abi.ValueType{i32, i32}, []abi.ValueType{i32}, get(0), get(1), []byte{0x6a}),
			fn("neg64", []abi.ValueType{i64}, []abi.ValueType{i64}, []byte{0x42, 0x00}, get(0), []byte{0x7d}),
			fn("twice", []abi.ValueType{i64}, []abi.ValueType{i64}, get(0), call(0)),
			fn("fail", nil, nil, call(1)),
			fn("mem", nil, []abi.ValueType{i32}, call(2)),
			fn("random", []abi.ValueType{i32, i32}, []abi.ValueType{i32}, get(0), get(1), call(4)),
			fn("panic", nil, nil, call(3)),
			fn("grow", []abi.ValueType{i32}, []abi.ValueType{i32}, get(0), []byte{0x40, 0x00}),
			fn("trap", nil, nil, []byte{0x00}),
			fn("div", []abi.ValueType{i32, i32}, []abi.ValueType{i32}, get(0), get(1), []byte{0x6d}),
			fn("oob", nil, []abi.ValueType{i32}, wasmgen.I32Const(-4), []byte{0x28, 0x02, 0x00}),
			fn("recurse", nil, nil, call(5+11)), // its own index: 5 imports, 11 functions before
			fn("empty", nil, nil),
		},
	}
	wasm, err := meter.Instrument(m.Bytes(), meter.Options{})
	require.NoError(t, err)
	return wasm
}

type engineUnderTest struct {
	name string
	new  func(ctx context.Context, hosts []engine.HostFunc) (engine.Engine, error)
}

var engines = []engineUnderTest{
	{"wazero", func(ctx context.Context, hosts []engine.HostFunc) (engine.Engine, error) {
		return wazeroengine.New(ctx, wazeroengine.Options{HostFuncs: hosts})
	}},
	{"wasmtime", func(ctx context.Context, hosts []engine.HostFunc) (engine.Engine, error) {
		return New(ctx, Options{HostFuncs: hosts})
	}},
}

// result is what one call gave.
type result struct {
	stack    []uint64
	err      string
	overflow bool
	denied   [][2]uint64
	memory   [32]byte // SHA-256
}

// TestEngines_Agree runs the same calls on both engines and compares
// results, errors and memory.
func TestEngines_Agree(t *testing.T) {
	ctx := context.Background()
	wasm := testModule(t)
	calls := []struct {
		fn    string
		stack []uint64
	}{
		{"add", []uint64{40, 2}},
		{"add", []uint64{0xffff_ffff, 2}},
		{"neg64", []uint64{5}},
		{"twice", []uint64{1 << 40}},
		{"fail", nil},
		{"mem", []uint64{0}},
		{"random", []uint64{100, 16}},
		{"random", []uint64{65530, 16}},
		{"grow", []uint64{1}},
		{"grow", []uint64{10}},
		{"mem", []uint64{0}},
		{"grow", []uint64{100}},
		{"trap", nil},
		{"div", []uint64{1, 0}},
		{"div", []uint64{0x8000_0000, 0xffff_ffff}},
		{"oob", []uint64{0}},
		{"recurse", nil},
		{"panic", nil},
		{"add", []uint64{1, 2}},
	}
	var got [2][]result
	for i, eut := range engines {
		var n int
		e, err := eut.new(ctx, testHosts(&n))
		require.NoError(t, err, eut.name)
		defer e.Close(ctx)
		m, err := e.Compile(ctx, wasm)
		require.NoError(t, err, eut.name)
		var denied [][2]uint64
		inst, err := m.Instantiate(ctx, engine.InstanceConfig{
			Name: "test", Deterministic: true, Seed: 1, MemoryLimit: 8 << 16,
			MemoryDenied: func(req, limit uint64) { denied = append(denied, [2]uint64{req, limit}) },
		})
		require.NoError(t, err, eut.name)
		// recurse is about the engine's own stack limit, not the meter's.
		inst.Global(meter.StackGlobalName).Set(math.MaxInt64)
		assert.Nil(t, inst.Func("nope"))
		assert.Nil(t, inst.Global("nope"))
		for _, c := range calls {
			stack := make([]uint64, 4)
			copy(stack, c.stack)
			denied = nil
			err := inst.Func(c.fn).Call(ctx, stack)
			r := result{stack: stack, denied: denied}
			if err != nil {
				// wazero marks host errors; the runtime removes the mark.
				r.err, _, _ = cut(err.Error())
				r.err = strings.TrimSuffix(r.err, " (recovered by wazero)")
				var so *engine.StackOverflowError
				r.overflow = errors.As(err, &so)
				if c.fn == "fail" {
					assert.ErrorIs(t, err, errHost, eut.name)
				}
			}
			b, ok := inst.Memory().Read(0, inst.Memory().Size())
			require.True(t, ok)
			r.memory = sha256.Sum256(b)
			got[i] = append(got[i], r)
		}
		fuel := inst.Global(meter.GlobalName)
		require.NotNil(t, fuel, eut.name)
		fuel.Set(12345)
		assert.Equal(t, uint64(12345), fuel.Get(), eut.name)
		assert.Equal(t, 1, n, "the host function ran once")
		require.NoError(t, inst.Close(ctx))
		require.NoError(t, m.Close(ctx))
	}
	require.Len(t, got[1], len(got[0]))
	for j := range got[0] {
		assert.Equal(t, got[0][j], got[1][j], "call %d: %s", j, calls[j].fn)
	}
	// Spot checks, so that both engines being wrong the same way fails.
	assert.Equal(t, uint64(42), got[0][0].stack[0])
	assert.Equal(t, uint64(1), got[0][1].stack[0], "i32 wraps")
	assert.Equal(t, uint64(1<<41), got[1][3].stack[0])
	assert.Equal(t, uint64(0), got[1][6].stack[0], "random_get: errno 0")
	assert.Equal(t, uint64(21), got[1][7].stack[0], "random_get out of bounds: EFAULT")
	assert.Equal(t, [][2]uint64{{12 << 16, 8 << 16}}, got[1][9].denied, "growth past the limit reported")
	assert.Equal(t, uint64(0xffff_ffff), got[1][9].stack[0], "and refused")
	assert.Equal(t, "wasm error: unreachable", got[1][12].err)
	assert.True(t, got[1][16].overflow)
	assert.Contains(t, got[1][17].err, "oops", "a panicking host function fails the call")
	assert.Equal(t, uint64(3), got[1][18].stack[0], "and the instance goes on")
}

// TestEngines_FuelGlobal: the fuel counter read and written between calls,
// and by a host function during one, has the same values on both engines
// (the wasmtime engine carries it with each call instead of reading and
// writing it through the C API).
func TestEngines_FuelGlobal(t *testing.T) {
	ctx := context.Background()
	wasm := testModule(t)
	var got [2][]uint64
	for i, eut := range engines {
		var n int
		hosts := testHosts(&n)
		var seen []uint64
		for j := range hosts {
			if hosts[j].Name == "twice" {
				hosts[j].Fn = func(_ context.Context, c engine.Caller, s []uint64) error {
					g := c.Global(meter.GlobalName)
					seen = append(seen, g.Get())
					g.Set(500_000)
					seen = append(seen, g.Get())
					s[0] *= 2
					return nil
				}
			}
		}
		e, err := eut.new(ctx, hosts)
		require.NoError(t, err, eut.name)
		m, err := e.Compile(ctx, wasm)
		require.NoError(t, err, eut.name)
		inst, err := m.Instantiate(ctx, engine.InstanceConfig{Name: "test", MemoryLimit: 8 << 16})
		require.NoError(t, err, eut.name)
		fuel := inst.Global(meter.GlobalName)
		require.NotNil(t, fuel, eut.name)
		var r []uint64
		call := func(fn string, stack ...uint64) {
			t.Helper()
			require.NoError(t, inst.Func(fn).Call(ctx, append(stack, 0, 0)), "%s: %s", eut.name, fn)
			r = append(r, fuel.Get())
		}
		fuel.Set(1_000_000)
		call("add", 40, 2)
		call("add", 1, 2)
		fuel.Set(2_000_000)
		r = append(r, fuel.Get())
		call("twice", 21)
		call("add", 1, 2)
		got[i] = append(r, seen...)

		// What each value must be, so that both engines being wrong the
		// same way fails.
		assert.Less(t, r[0], uint64(1_000_000), "%s: add was charged", eut.name)
		assert.Greater(t, r[0], uint64(1_000_000-1000), eut.name)
		assert.Equal(t, r[0]-r[1], 1_000_000-r[0], "%s: the same charge again", eut.name)
		assert.Equal(t, uint64(2_000_000), r[2], "%s: a write is read back before a call", eut.name)
		require.Len(t, seen, 2, eut.name)
		assert.Less(t, seen[0], uint64(2_000_000), "%s: the host function sees the value written before the call, minus the charges", eut.name)
		assert.Greater(t, seen[0], uint64(2_000_000-1000), eut.name)
		assert.Equal(t, uint64(500_000), seen[1], "%s: and its own write", eut.name)
		assert.LessOrEqual(t, r[3], uint64(500_000), "%s: the host function's write holds after the call", eut.name)
		assert.Greater(t, r[3], uint64(500_000-1000), eut.name)
		assert.Equal(t, r[3]-r[4], 1_000_000-r[0], "%s: add charged as before", eut.name)
		require.NoError(t, inst.Close(ctx))
		require.NoError(t, m.Close(ctx))
		require.NoError(t, e.Close(ctx))
	}
	assert.Equal(t, got[0], got[1], "wazero, then wasmtime")
}

func cut(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wasm := testModule(t)
	var n int
	run := func() {
		c, err := NewCache(dir)
		require.NoError(t, err)
		e, err := New(ctx, Options{HostFuncs: testHosts(&n), Cache: c})
		require.NoError(t, err)
		defer e.Close(ctx)
		m, err := e.Compile(ctx, wasm)
		require.NoError(t, err)
		inst, err := m.Instantiate(ctx, engine.InstanceConfig{})
		require.NoError(t, err)
		stack := []uint64{40, 2}
		require.NoError(t, inst.Func("add").Call(ctx, stack))
		assert.Equal(t, uint64(42), stack[0])
	}
	run()
	entries, err := os.ReadDir(filepath.Join(dir, "wasmtime-39.0.1"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "one serialized module")
	fi, err := os.Stat(filepath.Join(dir, "wasmtime-39.0.1"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	p := filepath.Join(dir, "wasmtime-39.0.1", entries[0].Name())
	before, err := os.Stat(p)
	require.NoError(t, err)
	run() // from the cache: the entry stays as it was
	after, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, before.ModTime(), after.ModTime())

	// A damaged entry is refused by wasmtime, compiled again and replaced.
	require.NoError(t, os.WriteFile(p, []byte("not a module"), 0o600))
	run()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.NotEqual(t, "not a module", string(b))
}

// TestCache_Bounded: memory keeps at most the cache's bound of modules, and
// every module still compiles and runs past it.
func TestCache_Bounded(t *testing.T) {
	ctx := context.Background()
	c, err := NewCache("")
	require.NoError(t, err)
	c.max = 2
	e, err := New(ctx, Options{Cache: c})
	require.NoError(t, err)
	defer e.Close(ctx)
	for i := range 5 {
		m := wasmgen.Module{MemoryMin: 1, ExportMemory: "memory", Funcs: []wasmgen.Func{{
			Export: "f", Type: abi.FuncType{Results: []abi.ValueType{i32}}, Body: []byte{0x41, byte(i)}, // i32.const i
		}}}
		for range 2 { // compiled, then from the cache
			cm, err := e.Compile(ctx, m.Bytes())
			require.NoError(t, err)
			inst, err := cm.Instantiate(ctx, engine.InstanceConfig{})
			require.NoError(t, err)
			stack := []uint64{0}
			require.NoError(t, inst.Func("f").Call(ctx, stack))
			assert.Equal(t, uint64(i), stack[0])
			require.NoError(t, inst.Close(ctx))
			require.NoError(t, cm.Close(ctx))
		}
		assert.LessOrEqual(t, c.inMemory(), 2, "module %d", i)
		assert.Positive(t, c.inMemory())
	}
}

func TestCompile_Invalid(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, Options{})
	require.NoError(t, err)
	defer e.Close(ctx)
	_, err = e.Compile(ctx, nil)
	assert.Error(t, err)
	_, err = e.Compile(ctx, []byte("\x00asm\x01\x00\x00\x00\x01"))
	assert.Error(t, err)
}

// BenchmarkFuncCall/wasmtime-go/empty is the same call through
// wasmtime-go's Func.Call, in BenchmarkFuncCall's run.
func benchWasmtimeGo(b *testing.B, wasm []byte) {
	engine := wasmtime.NewEngine()
	store := wasmtime.NewStore(engine)
	linker := wasmtime.NewLinker(engine)
	require.NoError(b, linker.DefineWasi())
	require.NoError(b, linker.FuncWrap("host", "twice", func(x int64) int64 { return 2 * x }))
	require.NoError(b, linker.FuncWrap("host", "fail", func() {}))
	require.NoError(b, linker.FuncWrap("host", "mem", func() int32 { return 0 }))
	require.NoError(b, linker.FuncWrap("host", "panic", func() {}))
	require.NoError(b, linker.FuncWrap(meter.ImportModule, meter.ImportName, func() {}))
	require.NoError(b, linker.FuncWrap(meter.ImportModule, meter.LimitName, func(int32, int64) int32 { return 1 }))
	mod, err := wasmtime.NewModule(engine, wasm)
	require.NoError(b, err)
	inst, err := linker.Instantiate(store, mod)
	require.NoError(b, err)
	f := inst.GetFunc(store, "empty")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Call(store); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFuncCall compares a call of an empty export through the engine
// (wasmtime_func_call_unchecked) with wazero's CallWithStack.
func BenchmarkFuncCall(b *testing.B) {
	ctx := context.Background()
	wasm := testModule(b)
	for _, eut := range engines {
		b.Run(eut.name, func(b *testing.B) {
			var n int
			e, err := eut.new(ctx, testHosts(&n))
			require.NoError(b, err)
			defer e.Close(ctx)
			m, err := e.Compile(ctx, wasm)
			require.NoError(b, err)
			inst, err := m.Instantiate(ctx, engine.InstanceConfig{})
			require.NoError(b, err)
			if eut.name == "wasmtime" {
				b.Run("wasmtime-go-empty", func(b *testing.B) { benchWasmtimeGo(b, wasm) })
				b.Run("cgo-nop", func(b *testing.B) {
					for b.Loop() {
						cgoNop()
					}
				})
				b.Run("empty-from-C", func(b *testing.B) {
					f := inst.Func("empty")
					b.ReportAllocs()
					b.ResetTimer()
					callLoop(f, b.N)
				})
			}
			for _, fn := range []string{"empty", "add", "twice", "random"} {
				b.Run(fn, func(b *testing.B) {
					f := inst.Func(fn)
					stack := make([]uint64, 2)
					b.ReportAllocs()
					for b.Loop() {
						stack[0], stack[1] = 16, 16
						if err := f.Call(ctx, stack); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
