package wazeroengine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// TestWASICosts_Params: the parameters wasiCosts reads are the ones it
// means, in wazero's definitions, and every function that takes a path is
// costed by its path.
func TestWASICosts_Params(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := wasi_snapshot_preview1.NewBuilder(rt).Compile(ctx)
	require.NoError(t, err)
	defs := cm.ExportedFunctions()
	want := map[string]map[int]string{
		"fd_read":             {1: "iovs", 2: "iovs_len"},
		"fd_write":            {1: "iovs", 2: "iovs_len"},
		"fd_pread":            {1: "iovs", 2: "iovs_len"},
		"fd_pwrite":           {1: "iovs", 2: "iovs_len"},
		"sock_recv":           {1: "ri_data", 2: "ri_data_len"},
		"sock_send":           {1: "si_data", 2: "si_data_len"},
		"random_get":          {1: "buf_len"},
		"fd_readdir":          {2: "buf_len"},
		"fd_prestat_dir_name": {2: "result.path_len"},
		"poll_oneoff":         {2: "nsubscriptions"},
		"path_readlink":       {3: "buf", 4: "buf_len"},
		"path_symlink":        {0: "old_path", 1: "old_path_len"},
	}
	for name, params := range want {
		def, ok := defs[name]
		require.True(t, ok, name)
		require.Contains(t, wasiCosts, name)
		for i, p := range params {
			assert.Equal(t, p, def.ParamNames()[i], "%s parameter %d", name, i)
		}
	}
	for name := range wasiPathFuncs {
		assert.Contains(t, wasiCosts, name)
	}
	for name := range wasiCosts {
		assert.Contains(t, defs, name)
	}
}

// hostWorkGuest calls fd_write(1, iovs, n, 0) from w(iovs, n), and
// path_create_directory(3, p, n) from mkdir(p, n).
func hostWorkGuest() []byte {
	i32 := abi.I32
	errno := []abi.ValueType{i32}
	m := wasmgen.Module{
		Imports: []wasmgen.Import{
			{Module: wasi_snapshot_preview1.ModuleName, Name: "fd_write", Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32, i32}, Results: errno}},
			{Module: wasi_snapshot_preview1.ModuleName, Name: "path_create_directory", Type: abi.FuncType{Params: []abi.ValueType{i32, i32, i32}, Results: errno}},
		},
		Funcs: []wasmgen.Func{
			{Type: abi.FuncType{Params: []abi.ValueType{i32, i32}, Results: errno}, Export: "w",
				Body: wasmgen.Cat(wasmgen.I32Const(1), wasmgen.LocalGet0, wasmgen.LocalGet1, wasmgen.I32Const(0), []byte{0x10, 0})},
			{Type: abi.FuncType{Params: []abi.ValueType{i32, i32}, Results: errno}, Export: "mkdir",
				Body: wasmgen.Cat(wasmgen.I32Const(3), wasmgen.LocalGet0, wasmgen.LocalGet1, []byte{0x10, 1})},
		},
		MemoryMin:    2,
		ExportMemory: "memory",
	}
	return m.Bytes()
}

func TestWASIWork(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, Options{})
	require.NoError(t, err)
	defer e.Close(ctx)
	mod, err := e.Compile(ctx, hostWorkGuest())
	require.NoError(t, err)
	defer mod.Close(ctx)
	var charged []uint64
	var refuse error
	var out bytes.Buffer
	inst, err := mod.Instantiate(ctx, engine.InstanceConfig{Stdout: &out, Charge: func(_ context.Context, fuel uint64) error {
		charged = append(charged, fuel)
		return refuse
	}})
	require.NoError(t, err)
	defer inst.Close(ctx)
	mem := inst.Memory()
	// iovecs at 0: n of them, each {12288, 100}; the bytes at 12288, a
	// path at 16384.
	const iovs = 0
	setIovecs := func(n int) {
		b := make([]byte, 8*n)
		for i := range n {
			binary.LittleEndian.PutUint32(b[8*i:], 12288)
			binary.LittleEndian.PutUint32(b[8*i+4:], 100)
		}
		require.True(t, mem.Write(iovs, b))
	}
	call := func(fn string, a, b uint32) (uint64, error) {
		charged = nil
		stack := []uint64{uint64(a), uint64(b)}
		err := inst.Func(fn).Call(ctx, stack)
		return stack[0], err
	}
	require.True(t, mem.Write(12288, bytes.Repeat([]byte("h"), 100)))
	require.True(t, mem.Write(16384, []byte("a/bb/ccc")))

	tests := []struct {
		name    string
		fn      string
		iovecs  int
		a, b    uint32
		errno   uint64
		fuel    uint64
		written int
	}{
		{"one iovec", "w", 1, iovs, 1, 0, meter.HostFuel(8+100) + meter.HostCallFuel, 100},
		{"three iovecs", "w", 3, iovs, 3, 0, meter.HostFuel(3*(8+100)) + 3*meter.HostCallFuel, 300},
		{"no iovec", "w", 0, iovs, 0, 0, meter.HostCallFuel, 0},
		{"IOV_MAX", "w", maxIovecs, iovs, maxIovecs, 0, meter.HostFuel(maxIovecs*(8+100)) + maxIovecs*meter.HostCallFuel, maxIovecs * 100},
		{"past IOV_MAX", "w", maxIovecs + 1, iovs, maxIovecs + 1, wasiEINVAL, meter.HostCallFuel, 0},
		{"iovecs out of memory", "w", 0, 2*65536 - 4, 1, 21 /* EFAULT */, meter.HostCallFuel, 0},
		{"a path of three components", "mkdir", 0, 16384, 8, 2 /* EACCES: no mounts */, meter.HostFuel(8) + 3*meter.HostCallFuel, 0},
		{"a path out of memory", "mkdir", 0, 2 * 65536, 8, 21, meter.HostCallFuel, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setIovecs(tt.iovecs)
			out.Reset()
			errno, err := call(tt.fn, tt.a, tt.b)
			require.NoError(t, err)
			assert.Equal(t, tt.errno, errno)
			assert.Equal(t, []uint64{tt.fuel}, charged)
			assert.Equal(t, tt.written, out.Len())
		})
	}

	// A refusal stops the guest before the work.
	refuse = errors.New("out of time")
	setIovecs(1)
	out.Reset()
	_, err = call("w", iovs, 1)
	require.ErrorIs(t, err, refuse)
	assert.Zero(t, out.Len(), "nothing written")
}
