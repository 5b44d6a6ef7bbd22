package runtime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// withStart returns the module wasm with a start section naming function
// fn, put where the binary format wants it: before the first section of an
// id above 8 (custom sections aside).
func withStart(t *testing.T, wasm []byte, fn uint32) []byte {
	t.Helper()
	start := wasmgen.U32([]byte{8}, uint32(len(wasmgen.U32(nil, fn))))
	start = wasmgen.U32(start, fn)
	pos := 8
	for pos < len(wasm) {
		id := wasm[pos]
		size, n := uint32(0), 0
		for shift := 0; ; shift += 7 {
			b := wasm[pos+1+n]
			size |= uint32(b&0x7f) << shift
			n++
			if b < 0x80 {
				break
			}
		}
		if id > 8 {
			break
		}
		pos += 1 + n + int(size)
	}
	out := append(append(append([]byte(nil), wasm[:pos]...), start...), wasm[pos:]...)
	return out
}

// TestHostWork_StartFunction: WASI work done by a module's start function,
// which runs while the module is instantiated, is charged and bounded as
// a handler's is: a start function looping on 1 MiB writes to stdout stops
// at the load's deadline, having written at most the stdout limit.
func TestHostWork_StartFunction(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng runtime.Engine) {
		const mib = 1 << 20
		// The imports (0, 1), cabi_realloc (2), then the start function (3).
		loop := wasmgen.Cat(iovecAt(mib), []byte{0x03, 0x40}, fdWrite(1), []byte{0x0c, 0x00, 0x0b})
		m := wasmgen.Plugin(wasmgen.Func{Type: abi.FuncType{}, Body: loop})
		m.Imports = []wasmgen.Import{
			{Module: "wasi_snapshot_preview1", Name: "fd_write", Type: typeFdWrite},
			{Module: "wasi_snapshot_preview1", Name: "random_get", Type: typeRandomGet},
		}
		m.MemoryMin = (bufAt + mib) / 65536
		wasm := withStart(t, m.Bytes(), 3)

		ctx := context.Background()
		out := &countingWriter{}
		rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(eng).WithStdout(out))
		require.NoError(t, err)
		defer rt.Close(ctx)
		_, err = rt.Load(ctx, writePlugin(t, basicManifest+"\n[limits]\ntimeout = \"300ms\"\n", wasm))
		require.Error(t, err)
		if eng == runtime.EngineWasmtime {
			// It cannot run host functions before the instance exists: it
			// refuses them (it aborted the process on the metering's first
			// out_of_fuel).
			assert.ErrorContains(t, err, "the module's start function called vitte:meter.out_of_fuel: the wasmtime engine runs no host function before the instance exists")
			assert.Zero(t, out.n.Load())
		} else {
			assert.ErrorIs(t, err, runtime.ErrTimeout)
			assert.LessOrEqual(t, out.n.Load(), uint64(runtime.DefaultStdioLimit), "at most the stdout limit was written")
		}
		// The runtime is still usable.
		p, err := rt.Load(ctx, writePlugin(t, basicManifest, hostWorkModule()))
		require.NoError(t, err)
		_, err = p.Call(ctx, "stdout0", []byte("x"))
		require.NoError(t, err)
	})
}
