package meter

import (
	"bytes"
	"context"
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
)

// The test modules; testdata/README.md says how each was built.
var (
	//go:embed testdata/basic.wasm
	basicWasm []byte
	//go:embed testdata/env.wasm
	envWasm []byte
	//go:embed testdata/simd.wasm
	simdWasm []byte
	//go:embed testdata/threads.wasm
	threadsWasm []byte
	//go:embed testdata/tail.wasm
	tailWasm []byte
	//go:embed testdata/eh_legacy.wasm
	ehLegacyWasm []byte
	//go:embed testdata/cpp_exceptions.wasm
	cppExceptionsWasm []byte
)

// wabt runs a wabt tool (wasm-validate, wat2wasm). Outside CI a missing
// wabt skips the check (reported as false); in CI (CI=true) it fails the
// test: scripts/install-toolchains.sh installs it there.
func wabt(t testing.TB, tool string) (string, bool) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI=true): run scripts/install-toolchains.sh", tool)
		}
		t.Logf("%s not installed: check skipped", tool)
		return "", false
	}
	return path, true
}

// validate runs wasm-validate on a module, with the given feature flags.
func validate(t testing.TB, wasm []byte, flags ...string) {
	t.Helper()
	tool, ok := wabt(t, "wasm-validate")
	if !ok {
		return
	}
	f := filepath.Join(t.TempDir(), "module.wasm")
	require.NoError(t, os.WriteFile(f, wasm, 0o644))
	out, err := exec.Command(tool, append(flags, f)...).CombinedOutput()
	require.NoError(t, err, "wasm-validate: %s", out)
}

func instrument(t testing.TB, wasm []byte) []byte {
	t.Helper()
	out, err := Instrument(wasm, Options{})
	require.NoError(t, err)
	return out
}

// harness is a wazero runtime with the hosts the test modules import:
// vitte:meter (when metered), and env (basic.wasm's global and function).
type harness struct {
	ctx   context.Context
	r     wazero.Runtime
	host  *fuelHost
	notes []uint32
}

func newHarness(t testing.TB, features api.CoreFeatures, metered bool, quantum int64) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{ctx: ctx, r: wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCoreFeatures(features))}
	t.Cleanup(func() { h.r.Close(ctx) })
	if metered {
		h.host = &fuelHost{quantum: quantum}
		require.NoError(t, h.host.instantiate(ctx, h.r))
	}
	note := api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
		h.notes = append(h.notes, api.DecodeU32(stack[0]))
	})
	_, err := h.r.NewHostModuleBuilder("host").
		NewFunctionBuilder().WithGoModuleFunction(note, []api.ValueType{api.ValueTypeI32}, nil).Export("note").
		Instantiate(ctx)
	require.NoError(t, err)
	_, err = h.r.InstantiateWithConfig(ctx, envWasm, wazero.NewModuleConfig().WithName("env"))
	require.NoError(t, err)
	return h
}

func (h *harness) instantiate(t testing.TB, wasm []byte) api.Module {
	t.Helper()
	mod, err := h.r.InstantiateWithConfig(h.ctx, wasm, wazero.NewModuleConfig().WithName(""))
	require.NoError(t, err)
	return mod
}

// call calls an export and returns its results, or the first line of its
// error (the trap, without the stack trace, whose indices differ).
func (h *harness) call(mod api.Module, name string, args ...uint64) ([]uint64, string) {
	fn := mod.ExportedFunction(name)
	if fn == nil {
		return nil, "no export " + name
	}
	if h.host != nil {
		h.host.start(mod)
	}
	res, err := fn.Call(h.ctx, args...)
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return nil, msg
	}
	return res, ""
}

type callCase struct {
	fn   string
	args []uint64
}

// checkSame runs the cases on the module and on its metered copy, in that
// order on one instance each, and compares every result.
func checkSame(t *testing.T, features api.CoreFeatures, wasm []byte, cases []callCase) {
	t.Helper()
	metered := instrument(t, wasm)
	plain := newHarness(t, features, false, 0)
	m := newHarness(t, features, true, 1<<40)
	pmod, mmod := plain.instantiate(t, wasm), m.instantiate(t, metered)
	for _, c := range cases {
		want, wantErr := plain.call(pmod, c.fn, c.args...)
		got, gotErr := m.call(mmod, c.fn, c.args...)
		assert.Equal(t, wantErr, gotErr, "%s%v: error", c.fn, c.args)
		assert.Equal(t, want, got, "%s%v", c.fn, c.args)
		if wantErr == "" {
			assert.Positive(t, m.host.used(), "%s%v: fuel used", c.fn, c.args)
		}
	}
	assert.Equal(t, plain.notes, m.notes, "calls to env.note")
}

func TestInstrument_Basic(t *testing.T) {
	out := instrument(t, basicWasm)
	validate(t, basicWasm)
	validate(t, out)
	checkSame(t, api.CoreFeaturesV2, basicWasm, []callCase{
		{"started", nil},
		{"dispatch", []uint64{0, 7, 5}}, {"dispatch", []uint64{1, 7, 5}}, {"dispatch", []uint64{2, 7, 5}},
		{"dispatch", []uint64{3, 7, 5}}, {"dispatch", []uint64{4, 7, 5}}, {"dispatch", []uint64{9, 7, 5}},
		{"dispatch2", []uint64{0, 7, 5}}, {"dispatch2", []uint64{1, 7, 5}}, {"unary2", []uint64{2, 9}},
		{"unary", []uint64{3, 9}},
		{"reffunc", []uint64{6}},
		{"tableops", []uint64{5}},
		{"fac", []uint64{20}}, {"fib", []uint64{20}},
		{"sum", []uint64{0}}, {"sum", []uint64{1000}},
		{"nested", []uint64{0}}, {"nested", []uint64{1}}, {"nested", []uint64{30}},
		{"switch", []uint64{0}}, {"switch", []uint64{1}}, {"switch", []uint64{2}}, {"switch", []uint64{3}}, {"switch", []uint64{99}},
		{"divmod", []uint64{100}}, {"multi", []uint64{100}},
		{"bulk", []uint64{0x5a}},
		{"fill", []uint64{1000, 1}}, {"grow", []uint64{1}}, {"grow", []uint64{100}},
		{"misc", []uint64{200}}, {"misc", []uint64{3}},
		{"trap", []uint64{0}}, {"trap", []uint64{1}},
	})
}

// TestInstrument_OutOfFuel checks that guests that never end call
// out_of_fuel again and again, and stop when it fails: a loop, unbounded
// recursion, an indirect call to itself, a tail call to itself.
func TestInstrument_OutOfFuel(t *testing.T) {
	for _, c := range []struct {
		name     string
		wasm     []byte
		features api.CoreFeatures
		fn       string
		args     []uint64
	}{
		{"loop", basicWasm, api.CoreFeaturesV2, "forever", nil},
		{"recursion", basicWasm, api.CoreFeaturesV2, "recurse", []uint64{0}},
		{"call_indirect", basicWasm, api.CoreFeaturesV2, "forever-indirect", nil},
		{"return_call", tailWasm, api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall, "spin", nil},
		{"try_table", tryTableModule(), api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling, "catchforever", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.features, true, 100)
			h.host.stop = func(context.Context) error {
				if h.host.refills == 10 {
					return errStopped
				}
				return nil
			}
			mod := h.instantiate(t, instrument(t, c.wasm))
			h.host.start(mod)
			_, err := mod.ExportedFunction(c.fn).Call(h.ctx, c.args...)
			require.ErrorIs(t, err, errStopped)
			assert.EqualValues(t, 10, h.host.refills)
		})
	}
}

// TestInstrument_FuelIsExact checks the host protocol: the fuel a call
// uses does not depend on the quantum, grows with the work, and bulk
// operations pay for their size.
func TestInstrument_FuelIsExact(t *testing.T) {
	metered := instrument(t, basicWasm)
	used := func(quantum int64, fn string, args ...uint64) int64 {
		h := newHarness(t, api.CoreFeaturesV2, true, quantum)
		mod := h.instantiate(t, metered)
		_, msg := h.call(mod, fn, args...)
		require.Empty(t, msg)
		return h.host.used()
	}
	sum := used(1<<40, "sum", 1000)
	for _, q := range []int64{1, 7, 1000, 1 << 20} {
		assert.Equal(t, sum, used(q, "sum", 1000), "quantum %d", q)
	}
	assert.Greater(t, sum, int64(5000), "sum(1000) runs a loop of 1000 iterations of 8 instructions")
	assert.Equal(t, used(1<<40, "sum", 2000)-sum, sum-used(1<<40, "sum", 0), "each iteration costs the same")
	fill0 := used(1<<40, "fill", 0, 0)
	assert.EqualValues(t, 1000, used(1<<40, "fill", 16000, 0)-fill0, "memory.fill: 1 per 16 bytes")
	assert.EqualValues(t, 2*65536/16, used(1<<40, "fill", 0, 2)-fill0, "memory.grow: 1 per 16 bytes asked for")
	assert.Equal(t, fill0, used(3, "fill", 0, 0))
}

func TestInstrument_BulkBytesPerFuel(t *testing.T) {
	for _, n := range []uint32{1, 16, 4096, 65536} {
		out, err := Instrument(basicWasm, Options{BulkBytesPerFuel: n})
		require.NoError(t, err)
		h := newHarness(t, api.CoreFeaturesV2, true, 1<<40)
		mod := h.instantiate(t, out)
		_, msg := h.call(mod, "fill", 0, 0)
		require.Empty(t, msg)
		base := h.host.used()
		_, msg = h.call(mod, "fill", 65536, 0)
		require.Empty(t, msg)
		assert.EqualValues(t, 65536/n, h.host.used()-base, "%d bytes per fuel", n)
	}
}

// TestInstrument_Names checks that the name section is renumbered: every
// function keeps its name, and the callback has one.
func TestInstrument_Names(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	orig, err := r.CompileModule(ctx, basicWasm)
	require.NoError(t, err)
	got, err := r.CompileModule(ctx, instrument(t, basicWasm))
	require.NoError(t, err)
	imports := got.ImportedFunctions()
	require.Len(t, imports, len(orig.ImportedFunctions())+numImports)
	oof, limit := imports[len(imports)-2], imports[len(imports)-1]
	assert.Equal(t, "vitte:meter.out_of_fuel", oof.Name())
	m, n, _ := oof.Import()
	assert.Equal(t, []string{ImportModule, ImportName}, []string{m, n})
	assert.Equal(t, "vitte:meter.limit", limit.Name())
	m, n, _ = limit.Import()
	assert.Equal(t, []string{ImportModule, LimitName}, []string{m, n})
	for name, def := range orig.ExportedFunctions() {
		g := got.ExportedFunctions()[name]
		require.NotNil(t, g, name)
		assert.Equal(t, def.Name(), g.Name(), name)
		assert.Equal(t, def.Index()+numImports, g.Index(), name)
		assert.Equal(t, def.ParamTypes(), g.ParamTypes(), name)
		assert.Equal(t, def.ResultTypes(), g.ResultTypes(), name)
	}
}

func TestInstrument_SIMD(t *testing.T) {
	validate(t, instrument(t, simdWasm))
	checkSame(t, api.CoreFeaturesV2, simdWasm, []callCase{{"simd", []uint64{1}}, {"simd", []uint64{100}}})
}

func TestInstrument_Threads(t *testing.T) {
	validate(t, instrument(t, threadsWasm), "--enable-threads")
	checkSame(t, api.CoreFeaturesV2|experimental.CoreFeaturesThreads, threadsWasm, []callCase{{"atomics", []uint64{50}}})
}

func TestInstrument_TailCalls(t *testing.T) {
	validate(t, instrument(t, tailWasm), "--enable-tail-call")
	checkSame(t, api.CoreFeaturesV2|experimental.CoreFeaturesTailCall, tailWasm, []callCase{
		{"count", []uint64{10, 1}}, {"sum", []uint64{100000}},
	})
}

// TestInstrument_LegacyExceptions only validates: wazero does not run
// legacy exception handling.
func TestInstrument_LegacyExceptions(t *testing.T) {
	out := instrument(t, ehLegacyWasm)
	validate(t, out, "--enable-exceptions")
}

// TestInstrument_TryTable runs exception handling with try_table: C++
// exceptions compiled by Emscripten, and catches that branch to a loop.
func TestInstrument_TryTable(t *testing.T) {
	features := api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling
	checkSame(t, features, cppExceptionsWasm, []callCase{
		{"test_no_throw", nil}, {"test_catch_specific", nil}, {"test_catch_base", nil}, {"test_rethrow", nil},
	})
	checkSame(t, features, tryTableModule(), []callCase{{"catchloop", []uint64{5}}})
}

func TestInstrument_TypedFunctionReferences(t *testing.T) {
	features := api.CoreFeaturesV2 | experimental.CoreFeaturesTypedFunctionReferences
	checkSame(t, features, funcRefsModule(), []callCase{{"callref", []uint64{21}}, {"callref", []uint64{0}}})
}

// rawModule assembles a module from sections given as (id, content).
func rawModule(sections ...any) []byte {
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	for i := 0; i < len(sections); i += 2 {
		out = appendSection(out, byte(sections[i].(int)), sections[i+1].([]byte))
	}
	return out
}

func vec(items ...[]byte) []byte {
	out := appendU32(nil, uint32(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func body(locals []byte, code ...byte) []byte {
	b := append(append([]byte(nil), locals...), code...)
	return append(appendU32(nil, uint32(len(b))), b...)
}

func export(name string, kind byte, idx uint32) []byte {
	return appendU32(append(appendName(nil, name), kind), idx)
}

// tryTableModule has two functions:
//
//	(global $n (mut i32) (i32.const 0))
//	(global $c (mut i32) (i32.const 0))
//	(func (export "catchloop") (param i32) (result i32)
//	  (global.set $n (local.get 0))
//	  (global.set $c (i32.const 0))
//	  (block $out (loop $l
//	    (try_table (catch_all $l)
//	      (br_if $out (i32.eqz (global.get $n)))
//	      (global.set $n (i32.sub (global.get $n) (i32.const 1)))
//	      (global.set $c (i32.add (global.get $c) (i32.const 1)))
//	      (throw $e (i32.const 7)))))
//	  (global.get $c))
//	(func (export "catchforever") (loop $l (try_table (catch_all $l) (throw $e (i32.const 7)))))
//
// The counters are globals, not locals: wazero 1.12's compiler loses the
// writes to locals made in a try_table body when a catch branches out of
// it (its interpreter does not), and catchloop would never end.
func tryTableModule() []byte {
	return rawModule(
		1, vec([]byte{0x60, 0, 0}, []byte{0x60, 1, 0x7f, 0}, []byte{0x60, 1, 0x7f, 1, 0x7f}),
		3, vec([]byte{2}, []byte{0}),
		13, vec([]byte{0, 1}),
		6, vec([]byte{0x7f, 1, 0x41, 0, 0x0b}, []byte{0x7f, 1, 0x41, 0, 0x0b}),
		7, vec(export("catchloop", 0, 0), export("catchforever", 0, 1)),
		10, vec(
			body([]byte{0},
				0x20, 0, 0x24, 0,
				0x41, 0, 0x24, 1,
				0x02, 0x40, 0x03, 0x40, 0x1f, 0x40, 1, 0x02, 0x00,
				0x23, 0, 0x45, 0x0d, 2,
				0x23, 0, 0x41, 1, 0x6b, 0x24, 0,
				0x23, 1, 0x41, 1, 0x6a, 0x24, 1,
				0x41, 7, 0x08, 0,
				0x0b, 0x0b, 0x0b, 0x23, 1, 0x0b),
			body([]byte{0}, 0x03, 0x40, 0x1f, 0x40, 1, 0x02, 0x00, 0x41, 7, 0x08, 0, 0x0b, 0x0b, 0x0b),
		),
	)
}

// funcRefsModule uses typed function references:
//
//	(type $t (func (param i32) (result i32)))
//	(func $double (type $t) (i32.shl (local.get 0) (i32.const 1)))
//	(elem declare func $double)
//	(func (export "callref") (type $t) (local $r (ref null $t))
//	  (local.set $r (ref.null $t))
//	  (block $b (br_on_null $b (local.get $r)) (drop))
//	  (local.set $r (ref.func $double))
//	  (block $b (br_on_non_null $b ... )) -- simplified below
//	  (call_ref $t (local.get 0) (ref.as_non_null (local.get $r))))
func funcRefsModule() []byte {
	return rawModule(
		1, vec([]byte{0x60, 1, 0x7f, 1, 0x7f}),
		3, vec([]byte{0}, []byte{0}),
		7, vec(export("callref", 0, 1)),
		9, vec([]byte{3, 0, 1, 0}),
		10, vec(
			body([]byte{0}, 0x20, 0, 0x41, 1, 0x74, 0x0b),
			body([]byte{1, 1, 0x63, 0},
				0xd0, 0, 0x21, 1, // local.set $r (ref.null $t)
				0x02, 0x40, 0x20, 1, 0xd5, 0, 0x1a, 0x0b, // block (br_on_null 0 (local.get $r)) drop end
				0xd2, 0, 0x21, 1, // local.set $r (ref.func $double)
				0x20, 0, 0x20, 1, 0xd4, 0x14, 0, // call_ref $t (local.get 0) (ref.as_non_null (local.get $r))
				0x0b),
		),
	)
}

func TestInstrument_Errors(t *testing.T) {
	i32 := abi.FuncType{Params: []abi.ValueType{abi.I32}, Results: []abi.ValueType{abi.I32}}
	fn := func(b ...byte) []byte {
		return wasmgen.Module{Funcs: []wasmgen.Func{{Type: i32, Body: b, Export: "f"}}, NoMemory: true}.Bytes()
	}
	tests := []struct {
		name     string
		with     []byte
		opts     Options
		expected error
		msg      string
	}{
		{"not wasm", []byte("hello, world"), Options{}, ErrMalformed, "no \\0asm header"},
		{"component", []byte{0, 'a', 's', 'm', 0x0d, 0, 1, 0}, Options{}, ErrUnsupported, "components"},
		{"truncated", basicWasm[:len(basicWasm)/2], Options{}, ErrMalformed, "runs past the end"},
		{"GC type", rawModule(1, vec([]byte{0x5f, 0, 0})), Options{}, ErrUnsupported, "type form 0x5f"},
		{"64-bit memory", rawModule(5, vec([]byte{0x04, 1})), Options{}, ErrUnsupported, "64-bit memory"},
		{"unknown opcode", fn(0x20, 0, 0x27), Options{}, ErrUnsupported, "unknown opcode 0x27"},
		{"GC instruction", fn(0xfb, 0x00), Options{}, ErrUnsupported, "GC instruction"},
		{"unknown simd", fn(0xfd, 0x9a, 0x01), Options{}, ErrUnsupported, "unknown opcode 0xfd 154"},
		{"bytes after end", fn(0x20, 0, 0x0b, 0x01), Options{}, ErrMalformed, "2 bytes after the end of the function"},
		// A module that is invalid only because it names the local,
		// global or function that Instrument adds must not become valid.
		{"local out of range", fn(0x20, 1), Options{}, ErrMalformed, "local index 1 out of range"},
		{"global out of range", fn(0x42, 0, 0x24, 0, 0x20, 0), Options{}, ErrMalformed, "global index 0 out of range"},
		{"call out of range", fn(0x20, 0, 0x10, 1), Options{}, ErrMalformed, "function index 1 out of range"},
		{"label out of range", fn(0x20, 0, 0x0c, 1), Options{}, ErrMalformed, "branch label 1 out of range"},
		{"else outside an if", fn(0x20, 0, 0x05), Options{}, ErrMalformed, "else outside an if"},
		{"reserved import", wasmgen.Module{Imports: []wasmgen.Import{{Module: ImportModule, Name: "x"}}}.Bytes(), Options{}, ErrReservedName, `"vitte:meter"`},
		{"reserved export", wasmgen.Module{ExportMemory: GlobalName}.Bytes(), Options{}, ErrReservedName, GlobalName},
		{"reserved stack export", wasmgen.Module{ExportMemory: StackGlobalName}.Bytes(), Options{}, ErrReservedName, StackGlobalName},
		{"memory.grow without memory", wasmgen.Module{NoMemory: true, Funcs: []wasmgen.Func{{Type: abi.FuncType{Results: []abi.ValueType{abi.I32}}, Body: []byte{0x41, 1, 0x40, 0}}}}.Bytes(), Options{}, ErrMalformed, "memory index 0 out of range (0 memories)"},
		{"table.grow without table", fn(0xd0, 0x70, 0x20, 0, 0xfc, 15, 0, 0x1a), Options{}, ErrMalformed, "table index 0 out of range (0 tables)"},
		{"instrumented twice", instrument(t, basicWasm), Options{}, ErrReservedName, "instrumented twice"},
		{"bulk bytes per fuel", basicWasm, Options{BulkBytesPerFuel: 3}, nil, "not a power of two"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Instrument(tc.with, tc.opts)
			require.Error(t, err)
			if tc.expected != nil {
				assert.ErrorIs(t, err, tc.expected)
			}
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "instrument: "), err.Error())
		})
	}
}

// TestInstrument_KeepsInput checks that the input is not modified.
func TestInstrument_KeepsInput(t *testing.T) {
	in := bytes.Clone(basicWasm)
	instrument(t, in)
	assert.Equal(t, basicWasm, in)
}

func TestInstrument_DropsDebugSections(t *testing.T) {
	var custom []byte
	for _, name := range []string{".debug_info", "sourceMappingURL", "producers", "reloc.CODE"} {
		custom = appendSection(custom, 0, append(appendName(nil, name), 1, 2, 3))
	}
	out := instrument(t, append(bytes.Clone(basicWasm), custom...))
	assert.NotContains(t, string(out), ".debug_info")
	assert.NotContains(t, string(out), "sourceMappingURL")
	assert.NotContains(t, string(out), "reloc.CODE")
	assert.Contains(t, string(out), "producers")
}

// TestTestdata_UpToDate rebuilds the .wat modules and compares them with
// the committed .wasm.
func TestTestdata_UpToDate(t *testing.T) {
	tool, ok := wabt(t, "wat2wasm")
	if !ok {
		t.Skip("wat2wasm not installed")
	}
	for _, c := range []struct {
		name  string
		flags []string
	}{
		{"basic", []string{"--debug-names"}},
		{"env", nil},
		{"simd", []string{"--debug-names"}},
		{"threads", []string{"--enable-threads", "--debug-names"}},
		{"tail", []string{"--enable-tail-call", "--debug-names"}},
		{"eh_legacy", []string{"--enable-exceptions", "--debug-names"}},
		{"limits", []string{"--enable-tail-call", "--debug-names"}},
	} {
		out := filepath.Join(t.TempDir(), c.name+".wasm")
		args := append(append([]string(nil), c.flags...), filepath.Join("testdata", c.name+".wat"), "-o", out)
		msg, err := exec.Command(tool, args...).CombinedOutput()
		require.NoError(t, err, "%s", msg)
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		want, err := os.ReadFile(filepath.Join("testdata", c.name+".wasm"))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "testdata/%s.wasm is out of date: see testdata/README.md", c.name)
	}
}
