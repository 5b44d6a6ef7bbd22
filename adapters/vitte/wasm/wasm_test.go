package wasm_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte/wasm"
)

func TestU32(t *testing.T) {
	tests := []struct {
		with     uint32
		expected []byte
	}{
		{0, []byte{0x00}},
		{127, []byte{0x7f}},
		{128, []byte{0x80, 0x01}},
		{624485, []byte{0xe5, 0x8e, 0x26}},
		{math.MaxUint32, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tc := range tests {
		require.Equal(t, tc.expected, wasm.U32(nil, tc.with), "%d", tc.with)
	}
}

func TestS64(t *testing.T) {
	tests := []struct {
		with     int64
		expected []byte
	}{
		{0, []byte{0x00}},
		{63, []byte{0x3f}},
		{64, []byte{0xc0, 0x00}},
		{-1, []byte{0x7f}},
		{-64, []byte{0x40}},
		{-65, []byte{0xbf, 0x7f}},
		{-123456, []byte{0xc0, 0xbb, 0x78}},
		{math.MinInt64, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}},
	}
	for _, tc := range tests {
		require.Equal(t, tc.expected, wasm.S64(nil, tc.with), "%d", tc.with)
	}
}

// sample is a module with a memory, data, a global and three functions.
func sample() *wasm.Module {
	add := wasm.NewCode()
	add.LocalGet(0)
	add.LocalGet(1)
	add.Op(wasm.I32Add)
	add.GlobalGet(0)
	add.Op(wasm.I32Add)

	sat := wasm.NewCode()
	sat.LocalGet(0)
	sat.I32TruncSatF64S()

	sum := wasm.NewCode() // sum of 1..n with locals and a loop
	sum.Block(wasm.BlockEmpty)
	sum.Loop(wasm.BlockEmpty)
	sum.LocalGet(0)
	sum.Op(wasm.I64Eqz)
	sum.BrIf(1)
	sum.LocalGet(1)
	sum.LocalGet(0)
	sum.Op(wasm.I64Add)
	sum.LocalSet(1)
	sum.LocalGet(0)
	sum.I64Const(1)
	sum.Op(wasm.I64Sub)
	sum.LocalSet(0)
	sum.Br(0)
	sum.End()
	sum.End()
	sum.LocalGet(1)

	return &wasm.Module{
		ModuleName: "sample",
		Funcs: []wasm.Func{
			{Name: "add", Type: wasm.FuncType{Params: []wasm.ValType{wasm.I32, wasm.I32}, Results: []wasm.ValType{wasm.I32}}, Body: add},
			{Name: "sat", Type: wasm.FuncType{Params: []wasm.ValType{wasm.F64}, Results: []wasm.ValType{wasm.I32}}, Body: sat},
			{Name: "sum", Type: wasm.FuncType{Params: []wasm.ValType{wasm.I64}, Results: []wasm.ValType{wasm.I64}}, Locals: []wasm.ValType{wasm.I64}, Body: sum},
		},
		MemoryMin: 1,
		Globals:   []wasm.Global{{Type: wasm.I32, Init: 100}},
		Exports: []wasm.Export{
			{Name: "memory", Kind: wasm.KindMemory},
			{Name: "add", Kind: wasm.KindFunc, Index: 0},
			{Name: "sat", Kind: wasm.KindFunc, Index: 1},
			{Name: "sum", Kind: wasm.KindFunc, Index: 2},
		},
		Data: []wasm.Data{{Offset: 16, Bytes: []byte("hello")}},
	}
}

func TestModule_Encode(t *testing.T) {
	ctx := context.Background()
	b := sample().Encode()
	require.Equal(t, b, sample().Encode(), "encoding is deterministic")

	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, b)
	require.NoError(t, err)
	require.Equal(t, "sample", cm.Name())
	mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig())
	require.NoError(t, err)

	res, err := mod.ExportedFunction("add").Call(ctx, 2, 3)
	require.NoError(t, err)
	require.Equal(t, uint32(105), uint32(res[0]))

	res, err = mod.ExportedFunction("sat").Call(ctx, math.Float64bits(1e300))
	require.NoError(t, err)
	require.Equal(t, uint32(math.MaxInt32), uint32(res[0]))

	res, err = mod.ExportedFunction("sum").Call(ctx, 100)
	require.NoError(t, err)
	require.Equal(t, uint64(5050), res[0])

	data, ok := mod.Memory().Read(16, 5)
	require.True(t, ok)
	require.Equal(t, "hello", string(data))

	require.Len(t, cm.ExportedFunctions()["add"].ExportNames(), 1)
	require.Equal(t, "add", cm.ExportedFunctions()["add"].Name(), "the name section names the functions")
}
