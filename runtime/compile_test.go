package runtime_test

import (
	"context"
	"io"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// answer is a data segment at answerArea: a result area (tag ok, output
// at answerArea+12, 2 bytes), then the output "42".
const answerArea = 256

var answer = []byte{0, 0, 0, 0, (answerArea + 12) & 0xff, (answerArea + 12) >> 8, 0, 0, 2, 0, 0, 0, '4', '2'}

// hostile returns a plugin whose handler "h" runs body (which leaves the
// stack empty), then returns "42"; more functions are added, each running
// more (unexported, never called).
func hostile(body []byte, more ...[]byte) []byte {
	return hostileFunc(wasmgen.Func{Body: body}, more...)
}

// hostileFunc is hostile with f's locals and body as the handler.
func hostileFunc(f wasmgen.Func, more ...[]byte) []byte {
	f.Type, f.Export = abi.TypeHandler, "h"
	f.Body = append(f.Body, wasmgen.I32Const(answerArea)...)
	m := wasmgen.Plugin(f)
	m.Data, m.DataOffset = answer, answerArea
	for _, b := range more {
		m.Funcs = append(m.Funcs, wasmgen.Func{Body: b})
	}
	return m.Bytes()
}

// nested returns n nested op (0x02 block, 0x03 loop) without results.
func nested(op byte, n int) []byte {
	b := make([]byte, 0, 3*n)
	for range n {
		b = append(b, op, 0x40)
	}
	for range n {
		b = append(b, 0x0b)
	}
	return b
}

// brTable returns block; br_table of n targets, the default included, all
// to the block; end.
func brTable(n int) []byte {
	b := append([]byte{0x02, 0x40}, wasmgen.I32Const(0)...)
	b = wasmgen.U32(append(b, 0x0e), uint32(n-1))
	for range n {
		b = append(b, 0)
	}
	return append(b, 0x0b)
}

func repeatN(n int, b []byte) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// TestLoad_CompileLimits loads modules whose compilation used to take the
// host's CPU and memory for minutes (issue 18, finding 5): each is refused
// past a Max limit, on every engine, or compiled by wazero's interpreter
// past a Compiler threshold; either way in memory in proportion to the
// module, and the plugin answers right.
func TestLoad_CompileLimits(t *testing.T) {
	eng := testEngine(t)
	big := make([]byte, 0, 1<<20+3)
	for len(big) < 1<<20 {
		big = append(big, 0x41, 0, 0x1a) // i32.const 0; drop
	}
	raised := runtime.CompileLimits{MaxNesting: 50_000, MaxBrTable: 250_000}
	tests := []struct {
		name   string
		module []byte
		limits runtime.CompileLimits
		// refused: the error says this; else interpret: past a Compiler
		// threshold, with this reason.
		refused, interpret string
	}{
		{name: "40,000 nested loops", module: hostile(nested(0x03, 40_000)),
			refused: "nesting depth 40000 is over the limit of 10000 (raise it with runtime.CompileLimits.MaxNesting)"},
		{name: "40,000 nested loops, MaxNesting raised", module: hostile(nested(0x03, 40_000)), limits: raised,
			interpret: "function 1 at offset 0x138f6: nesting depth 40000 is past CompileLimits.CompilerNesting 1000"},
		{name: "2,000 nested loops", module: hostile(nested(0x03, 2000)),
			interpret: "nesting depth 2000 is past CompileLimits.CompilerNesting 1000"},
		{name: "br_table of 200,000 targets", module: hostile(brTable(200_000)),
			refused: "br_table size 200000 is over the limit of 65536 (raise it with runtime.CompileLimits.MaxBrTable)"},
		{name: "br_table of 200,000 targets, MaxBrTable raised", module: hostile(brTable(200_000)), limits: raised,
			interpret: "br_table size 200000 is past CompileLimits.CompilerBrTable 8192"},
		{name: "br_table of 2,000,000 targets", module: hostile(brTable(2_000_000)),
			refused: "br_table size 2000000 is over the limit of 65536"},
		{name: "br_table of 10,000 targets", module: hostile(brTable(10_000)),
			interpret: "br_table size 10000 is past CompileLimits.CompilerBrTable 8192"},
		{name: "130 functions of br_tables of 4,096 targets", module: hostile(nil, repeatN(130, brTable(4096))...),
			interpret: "its br_tables have 532480 targets, past CompileLimits.CompilerBrTableTargets 524288"},
		// 999² each, and 1 for the handler's block (cabi_realloc's if).
		{name: "70 functions nesting 999 blocks", module: hostile(nil, repeatN(70, nested(0x02, 999))...),
			interpret: "the nesting depths of its 72 functions, squared, sum to 69860071, past CompileLimits.CompilerNestingSquares 67108864"},
		{name: "a function of 1 MiB", module: hostile(big),
			refused: "body size in bytes 1048583 is over the limit of 1048576 (raise it with runtime.CompileLimits.MaxFunctionSize)"},
		{name: "100 million locals in 4 bytes", module: hostileFunc(wasmgen.Func{LocalGroups: []wasmgen.LocalGroup{{Count: 100_000_000, Type: abi.I64}}}),
			refused: "number of locals 100000002 is over the limit of 50000 (raise it with runtime.CompileLimits.MaxLocals)"},
		{name: "50,000 locals", module: hostileFunc(wasmgen.Func{LocalGroups: []wasmgen.LocalGroup{{Count: 50_000 - 2, Type: abi.I64}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(eng).WithCompileLimits(tt.limits))
			require.NoError(t, err)
			defer rt.Close(ctx)
			dir := writePlugin(t, basicManifest, tt.module)

			var before, after goruntime.MemStats
			goruntime.ReadMemStats(&before)
			start := time.Now()
			p, err := rt.Load(ctx, dir)
			elapsed := time.Since(start)
			goruntime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("module of %d bytes: loaded or refused in %v, %d MB allocated", len(tt.module), elapsed.Round(time.Millisecond), alloc>>20)
			if tt.refused != "" {
				require.ErrorIs(t, err, runtime.ErrCompileLimit)
				require.ErrorIs(t, err, runtime.ErrModule)
				assert.ErrorContains(t, err, `load plugin "made": module made.wasm: function 1 at offset 0x`, "the handler, after cabi_realloc")
				assert.ErrorContains(t, err, tt.refused)
				// Decoding and metering only: the metering rewrite of
				// 40,000 nested loops allocates the most, about 300
				// times the module's size.
				assert.Less(t, alloc, uint64(400*len(tt.module)+16<<20), "refused before compiling")
				ins, err := rt.Inspect(dir)
				require.ErrorIs(t, err, runtime.ErrCompileLimit, "Inspect checks the limits too")
				assert.Empty(t, ins.Compiler.Name)
				return
			}
			require.NoError(t, err)
			defer p.Close(ctx)
			out, err := p.Call(ctx, "h", nil)
			require.NoError(t, err)
			assert.Equal(t, "42", string(out))

			got := p.Inspection().Compiler
			switch {
			case eng == runtime.EngineWasmtime:
				assert.Equal(t, runtime.Compiler{Name: "wasmtime (Cranelift)"}, got, "no fallback: Cranelift is near linear here")
			case tt.interpret != "":
				assert.Equal(t, "wazero interpreter", got.Name)
				assert.Contains(t, got.Reason, tt.interpret)
			default:
				assert.Equal(t, runtime.Compiler{Name: "wazero compiler"}, got)
			}
			ins, err := rt.Inspect(dir)
			require.NoError(t, err)
			assert.Equal(t, got, ins.Compiler, "Inspect says how Load compiles")
		})
	}
}

// TestNew_CompileLimitsInvalid: a Compiler threshold above its Max limit
// fails New.
func TestNew_CompileLimitsInvalid(t *testing.T) {
	ctx := context.Background()
	_, err := runtime.New(ctx, runtime.NewConfig().WithEngine(testEngine(t)).
		WithCompileLimits(runtime.CompileLimits{MaxNesting: 100, CompilerNesting: 200}))
	require.ErrorContains(t, err, "new runtime: CompileLimits.CompilerNesting 200 is above MaxNesting 100")
}

// TestVerify_CompileLimits: Verify, which compiles the module, checks
// the limits first.
func TestVerify_CompileLimits(t *testing.T) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(testEngine(t)))
	require.NoError(t, err)
	defer rt.Close(ctx)
	_, err = rt.Verify(ctx, writePlugin(t, basicManifest, hostile(nested(0x03, 40_000))))
	require.ErrorIs(t, err, runtime.ErrCompileLimit)
	assert.ErrorContains(t, err, "nesting depth 40000 is over the limit of 10000")
}

// TestLoad_CompileLimitsCached: a module past a Compiler threshold is
// interpreted when its metering comes from a disk compilation cache too
// (the cache keeps the measures with the metered module).
func TestLoad_CompileLimitsCached(t *testing.T) {
	ctx := context.Background()
	dir := writePlugin(t, basicManifest, hostile(nested(0x03, 2000)))
	cacheDir := filepath.Join(t.TempDir(), "cache")
	for i := range 2 {
		c, err := runtime.NewDiskCompilationCache(cacheDir)
		require.NoError(t, err)
		rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(testEngine(t)).WithCompilationCache(c))
		require.NoError(t, err)
		p, err := rt.Load(ctx, dir)
		require.NoError(t, err)
		out, err := p.Call(ctx, "h", nil)
		require.NoError(t, err)
		assert.Equal(t, "42", string(out))
		if testEngine(t) == runtime.EngineWazero {
			assert.Equal(t, "wazero interpreter", p.Inspection().Compiler.Name, "load %d", i+1)
			assert.Contains(t, p.Inspection().Compiler.Reason, "function 1 at offset 0x", "load %d", i+1)
		}
		require.NoError(t, rt.Close(ctx))
		require.NoError(t, c.Close(ctx))
	}
	entries, err := filepath.Glob(filepath.Join(cacheDir, "metered", "*.wasm"))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the second load read the entry the first wrote")
}

// TestLoad_InterpreterMeters: metering works the same in wazero's
// interpreter: a loop costs the same fuel as with the compiler, and a
// runaway loop stops at the plugin's timeout. It runs on wazero whatever
// testEngine says: the wasmtime engine has no interpreter.
func TestLoad_InterpreterMeters(t *testing.T) {
	ctx := context.Background()
	// count: 1001 nested blocks around a loop of 100,000 iterations; spin:
	// the same around a loop without end.
	count := append(nestedAround(1001, []byte{
		0x03, 0x40, 0x20, 2, 0x41, 1, 0x6a, 0x22, 2, // loop; local 2 += 1
		0x41, 0xa0, 0x8d, 0x06, 0x49, 0x0d, 0, 0x0b, // br_if 0 (local 2 < 100000); end
	}), wasmgen.I32Const(answerArea)...)
	spin := append(nestedAround(1001, []byte{0x03, 0x40, 0x0c, 0, 0x0b}), wasmgen.I32Const(answerArea)...)
	m := wasmgen.Plugin(
		wasmgen.Func{Type: abi.TypeHandler, Export: "count", Locals: []abi.ValueType{abi.I32}, Body: count},
		wasmgen.Func{Type: abi.TypeHandler, Export: "spin", Body: spin})
	m.Data, m.DataOffset = answer, answerArea
	dir := writePlugin(t, basicManifest+"[limits]\ntimeout = \"200ms\"\n", m.Bytes())

	fuel := map[string]uint64{}
	for _, l := range []runtime.CompileLimits{{}, {CompilerNesting: 2000}} {
		rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(runtime.EngineWazero).WithCompileLimits(l))
		require.NoError(t, err)
		defer rt.Close(ctx)
		p, err := rt.Load(ctx, dir)
		require.NoError(t, err)
		name := p.Inspection().Compiler.Name
		before := p.Stats().Fuel
		out, err := p.Call(ctx, "count", nil)
		require.NoError(t, err, name)
		assert.Equal(t, "42", string(out))
		fuel[name] = p.Stats().Fuel - before
		_, err = p.Call(ctx, "spin", nil)
		require.ErrorIs(t, err, runtime.ErrTimeout, name)
	}
	require.Len(t, fuel, 2, "one load compiled, the other interpreted: %v", fuel)
	assert.Equal(t, fuel["wazero compiler"], fuel["wazero interpreter"])
	assert.Greater(t, fuel["wazero interpreter"], uint64(100_000*5))
}

// nestedAround returns n nested blocks around body.
func nestedAround(n int, body []byte) []byte {
	b := nested(0x02, n)
	return append(append(b[:2*n:2*n], body...), b[2*n:]...)
}

// TestCompileLimits_Python: the CPython interpreter that runs plugins of
// kind "python" (5.7 MB) is within the default CompileLimits and keeps the
// optimizing compiler.
func TestCompileLimits_Python(t *testing.T) {
	ctx := context.Background()
	eng := testEngine(t)
	rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(eng).WithPythonDir(requirePython(t)))
	require.NoError(t, err)
	defer rt.Close(ctx)
	ins, err := rt.Inspect(fixture("caps-py"))
	require.NoError(t, err)
	want := runtime.Compiler{Name: "wazero compiler"}
	if eng == runtime.EngineWasmtime {
		want = runtime.Compiler{Name: "wasmtime (Cranelift)"}
	}
	assert.Equal(t, want, ins.Compiler)
}

// TestLoad_InterpreterChargesHostWork: a module the compile limits send to
// wazero's interpreter is charged for its WASI work exactly as a compiled
// one (the interpreter is an engine of its own, with its own WASI).
func TestLoad_InterpreterChargesHostWork(t *testing.T) {
	ctx := context.Background()
	// stdout writes 1 MiB as many times as its input has bytes, inside 3
	// nested blocks.
	loop := repeat("stdout", iovecAt(1<<20), fdWrite(1)).Body
	m := wasmgen.Plugin(wasmgen.Func{Type: abi.TypeHandler, Export: "stdout",
		Body: append(nestedAround(3, loop[:len(loop)-len(wasmgen.I32Const(512))]), wasmgen.I32Const(512)...)})
	m.Imports = []wasmgen.Import{
		{Module: "wasi_snapshot_preview1", Name: "fd_write", Type: typeFdWrite},
		{Module: "wasi_snapshot_preview1", Name: "random_get", Type: typeRandomGet},
	}
	m.MemoryMin = (bufAt + 1<<20) / 65536
	dir := writePlugin(t, basicManifest, m.Bytes())
	fuel := map[string]uint64{}
	for _, l := range []runtime.CompileLimits{{}, {CompilerNesting: 2}} {
		rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(runtime.EngineWazero).WithCompileLimits(l).WithStdout(io.Discard))
		require.NoError(t, err)
		defer rt.Close(ctx)
		p, err := rt.Load(ctx, dir)
		require.NoError(t, err)
		name := p.Inspection().Compiler.Name
		before := p.Stats().Fuel
		_, err = p.Call(ctx, "stdout", []byte("abc")) // three 1 MiB writes
		require.NoError(t, err, name)
		fuel[name] = p.Stats().Fuel - before
	}
	require.Len(t, fuel, 2, "one load compiled, the other interpreted: %v", fuel)
	assert.Equal(t, fuel["wazero compiler"], fuel["wazero interpreter"])
	assert.Greater(t, fuel["wazero interpreter"], uint64(3*(1<<20)/16), "the writes were charged")
}
