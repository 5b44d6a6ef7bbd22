package meter

import (
	"context"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
)

var i32Result = abi.FuncType{Results: []abi.ValueType{abi.I32}}

// nest returns n nested opcode op (block or loop, no result) around body.
func nest(op byte, n int, body []byte) []byte {
	b := make([]byte, 0, 3*n+len(body))
	for range n {
		b = append(b, op, blockEmpty)
	}
	b = append(b, body...)
	for range n {
		b = append(b, opEnd)
	}
	return b
}

// brTable returns block; br_table with n targets (label 0) and the
// default; end.
func brTable(n int) []byte {
	b := []byte{opBlock, blockEmpty, 0x41, 0, 0x0e}
	b = wasmgen.U32(b, uint32(n-1))
	for range n {
		b = append(b, 0)
	}
	return append(b, opEnd)
}

func TestInstrumentStats(t *testing.T) {
	deep := wasmgen.Func{Type: i32Result, Body: append(nest(opLoop, 700, nest(opBlock, 300, nil)), 0x41, 42)}
	table := wasmgen.Func{Type: i32Result, Body: append(brTable(5000), append(brTable(7), 0x41, 42)...)}
	locals := wasmgen.Func{
		Type:        abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}},
		LocalGroups: []wasmgen.LocalGroup{{Count: 40000, Type: abi.I64}, {Count: 123, Type: abi.F32}},
		Body:        []byte{0x41, 42},
	}
	m := wasmgen.Module{
		Imports: []wasmgen.Import{{Module: "host", Name: "note", Type: abi.FuncType{Params: []abi.ValueType{abi.I32}}}},
		Funcs:   []wasmgen.Func{deep, table, locals, {Type: i32Result, Body: []byte{0x41, 1}}},
	}
	wasm := m.Bytes()
	_, st, err := InstrumentStats(wasm, Options{})
	require.NoError(t, err)

	assert.Equal(t, 4, st.Functions)
	// Function indices count the import; offsets point at what was measured.
	assert.Equal(t, uint64(1000), st.Depth.Value)
	assert.Equal(t, uint32(1), st.Depth.Func)
	assert.Equal(t, byte(opBlock), wasm[st.Depth.Offset], "the block that reached depth 1000")
	assert.Equal(t, byte(opBlock), wasm[st.Depth.Offset-2], "the 999th")
	assert.Equal(t, uint64(1000*1000+1), st.DepthSquares, "1000² + 1² (the br_tables' blocks) + 0 + 0")

	assert.Equal(t, Max{Value: 5000, Func: 2, Offset: st.BrTable.Offset}, st.BrTable)
	assert.Equal(t, byte(0x0e), wasm[st.BrTable.Offset])
	assert.Equal(t, uint64(5007), st.BrTableTargets)

	assert.Equal(t, uint64(2+40000+123), st.Locals.Value, "parameters included")
	assert.Equal(t, uint32(3), st.Locals.Func)
	assert.Equal(t, byte(2), wasm[st.Locals.Offset], "two groups of locals")

	assert.Equal(t, uint32(2), st.Body.Func, "the br_table of 5000 targets makes the largest body")
	assert.Greater(t, st.Body.Value, uint64(5000))
	assert.Contains(t, st.Depth.String(), "function 1 at offset 0x")
}

// TestInstrument_BranchesOutOfManyLoops rewrites a br_table of 65536
// labels out of 2000 nested loops, each moved (see region): each label is
// renumbered past the moved loops it leaves. It used to cost their product
// in time and memory (130 million loop crossings, a gigabyte); it must
// cost in proportion to the module, and run right.
func TestInstrument_BranchesOutOfManyLoops(t *testing.T) {
	const loops, labels = 2000, 65536
	// block; loop*2000; br_table (labels 0..1999 again and again; default:
	// the block) of a large index; end*2000; end; 42.
	inner := []byte{0x41}
	inner = wasmgen.S32(inner, 1<<30)
	inner = append(inner, 0x0e)
	inner = wasmgen.U32(inner, labels)
	for i := range labels {
		inner = wasmgen.U32(inner, uint32(i%loops))
	}
	inner = wasmgen.U32(inner, loops) // the default: out of every loop, to the block
	body := append(nest(opBlock, 1, nest(opLoop, loops, inner)), 0x41, 42)
	wasm := wasmgen.Module{Funcs: []wasmgen.Func{{Type: i32Result, Body: body, Export: "f"}}}.Bytes()

	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	out, st, err := InstrumentStats(wasm, Options{})
	goruntime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Equal(t, uint64(loops+1), st.Depth.Value)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("module of %d bytes: %d bytes allocated to meter it", len(wasm), alloc)
	// A patch of 48 bytes per label, grown by doubling, and the copies of
	// the module: about 120 times its size; it was 7000 times.
	assert.Less(t, alloc, uint64(256*len(wasm)), "metering allocates in proportion to the module")

	// The interpreter: wazero's compiler is slow on such code (see
	// docs/security.md, "Compilation").
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	h := &fuelHost{quantum: 1 << 20}
	require.NoError(t, h.instantiate(ctx, r))
	mod, err := r.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithName(""))
	require.NoError(t, err)
	h.start(mod)
	res, err := mod.ExportedFunction("f").Call(ctx)
	require.NoError(t, err)
	assert.Equal(t, []uint64{42}, res)
}
