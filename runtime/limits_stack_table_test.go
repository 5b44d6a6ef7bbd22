package runtime_test

import (
	"context"
	"encoding/binary"
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Frames as the metering counts them: 64 bytes plus 8 per parameter and
// local. A handler has two parameters; rec one.
const (
	handlerFrame = 64 + 2*8
	recFrame     = 64 + 8
)

// stackModule is a plugin whose handler "rec" recurses as deep as its
// input is long (rec(n) takes n+1 frames), and "forever" without end.
func stackModule() []byte {
	const rec = 2 // after cabi_realloc and the handler
	call := func(f uint32) []byte { return wasmgen.U32([]byte{0x10}, f) }
	recBody := wasmgen.Cat(
		wasmgen.LocalGet0, []byte{0x45, 0x04, 0x7f}, wasmgen.I32Const(0), []byte{0x05},
		wasmgen.LocalGet0, wasmgen.I32Const(1), []byte{0x6b}, call(rec), wasmgen.I32Const(1), []byte{0x6a, 0x0b})
	m := wasmgen.Plugin(
		handler("rec", wasmgen.Cat(wasmgen.LocalGet1, call(rec), wasmgen.Drop, wasmgen.I32Const(512))),
		wasmgen.Func{Type: abi.FuncType{Params: []abi.ValueType{abi.I32}, Results: []abi.ValueType{abi.I32}}, Body: recBody},
		handler("forever", wasmgen.Cat(wasmgen.I32Const(0x7fffffff), call(rec), wasmgen.Drop, wasmgen.I32Const(512))),
	)
	return m.Bytes()
}

// TestStackLimit: a recursion as deep as the stack limit allows runs; one
// frame more ends in ErrTrap "stack overflow", at the same depth on every
// engine, audited; the next call works.
func TestStackLimit(t *testing.T) {
	ctx := context.Background()
	dir := writePlugin(t, basicManifest, stackModule())
	for _, eng := range runtime.Engines() {
		for _, tt := range []struct {
			name  string
			limit uint64 // 0: the default
			fits  int    // the deepest rec that fits
		}{
			{"limit", handlerFrame + 300*recFrame, 299},
			{"default", 0, (runtime.DefaultMaxStack-handlerFrame)/recFrame - 1},
		} {
			t.Run(fmt.Sprintf("%s/%s", eng, tt.name), func(t *testing.T) {
				audit := &auditLog{}
				e := newRuntimeOn(t, eng, runtime.NewConfig().WithMaxStack(tt.limit).WithAuditor(audit.record).WithInstances(1))
				p, err := e.rt.Load(ctx, dir)
				require.NoError(t, err)
				defer p.Close(ctx)

				_, err = p.Call(ctx, "rec", make([]byte, tt.fits))
				require.NoError(t, err, "rec(%d)", tt.fits)
				_, err = p.Call(ctx, "rec", make([]byte, tt.fits+1))
				require.ErrorIs(t, err, runtime.ErrTrap)
				assert.Contains(t, err.Error(), `call plugin "made" function "rec": trap: stack overflow: the call stack went past its limit of `)
				ev, ok := audit.find(capabilities.KindLimit, "stack")
				require.True(t, ok, "the overflow is on record")
				assert.Equal(t, "rec", ev.Function)
				assert.True(t, strings.HasPrefix(ev.Rule, "max stack "), ev.Rule)

				_, err = p.Call(ctx, "rec", make([]byte, tt.fits))
				require.NoError(t, err, "the next call works")
			})
		}
	}
}

// TestStackLimit_ConcurrentOverflows: eight calls overflowing their stack
// at once allocate a few MiB of host memory, not the hundreds of MiB each
// the engine's own stack limit let them take.
func TestStackLimit_ConcurrentOverflows(t *testing.T) {
	ctx := context.Background()
	dir := writePlugin(t, basicManifest, stackModule())
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			const n = 8
			e := newRuntimeOn(t, eng, runtime.NewConfig().WithInstances(n).WithWarmInstances(n).WithQuarantine(0, 0))
			p, err := e.rt.Load(ctx, dir)
			require.NoError(t, err)
			defer p.Close(ctx)
			// The instances are made, and one overflow done, before
			// measuring: the compiled code is the engine's, not the calls'.
			_, err = p.Call(ctx, "forever", nil)
			require.ErrorIs(t, err, runtime.ErrTrap)

			var before, after goruntime.MemStats
			goruntime.GC()
			goruntime.ReadMemStats(&before)
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { _, errs[i] = p.Call(ctx, "forever", nil) })
			}
			wg.Wait()
			goruntime.ReadMemStats(&after)
			for _, err := range errs {
				require.ErrorIs(t, err, runtime.ErrTrap)
				assert.Contains(t, err.Error(), "trap: stack overflow")
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %d concurrent overflows allocated %.1f MiB", eng, n, float64(alloc)/(1<<20))
			assert.Less(t, alloc, uint64(64<<20), "bytes allocated by %d overflows", n)
		})
	}
}

// tableModule is a plugin with a funcref table of one element whose
// handlers grow it by n elements ("grow-N") and report what table.grow
// returned and table.size after it, as two little-endian i32; "fill"
// grows it by 2^27 elements and fills them.
func tableModule(tables ...uint32) []byte {
	store := func(addr int32, value []byte) []byte {
		return wasmgen.Cat(wasmgen.I32Const(addr), value, []byte{0x36, 0x02, 0x00})
	}
	result := wasmgen.Cat(store(516, wasmgen.I32Const(600)), store(520, wasmgen.I32Const(8)), wasmgen.I32Const(512))
	grow := func(n int32) []byte { return wasmgen.Cat([]byte{0xd0, 0x70}, wasmgen.I32Const(n), []byte{0xfc, 15, 0}) }
	var handlers []wasmgen.Func
	for _, n := range []int32{10, 100_000_000, 1 << 27} {
		handlers = append(handlers, handler(fmt.Sprintf("grow-%d", n), wasmgen.Cat(
			store(600, grow(n)), store(604, []byte{0xfc, 16, 0}), result)))
	}
	handlers = append(handlers, handler("fill", wasmgen.Cat(
		grow(1<<27), wasmgen.Drop,
		wasmgen.I32Const(0), []byte{0xd0, 0x70}, wasmgen.I32Const(1<<27), []byte{0xfc, 17, 0},
		wasmgen.I32Const(512))))
	m := wasmgen.Plugin(handlers...)
	m.Tables = tables
	if len(tables) == 0 {
		m.Tables = []uint32{1}
	}
	return m.Bytes()
}

// TestTableLimit: table.grow past Config.WithMaxTableElements returns -1
// and grows nothing, on every engine, and is audited; so table.fill of
// 2^27 elements has no table to fill.
func TestTableLimit(t *testing.T) {
	ctx := context.Background()
	dir := writePlugin(t, basicManifest, tableModule())
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			audit := &auditLog{}
			e := newRuntimeOn(t, eng, runtime.NewConfig().WithMaxMemory(32<<20).WithAuditor(audit.record).WithInstances(1))
			p, err := e.rt.Load(ctx, dir)
			require.NoError(t, err)
			defer p.Close(ctx)
			grow := func(n int) (int32, int32) {
				t.Helper()
				out, err := p.Call(ctx, fmt.Sprintf("grow-%d", n), nil)
				require.NoError(t, err)
				require.Len(t, out, 8)
				return int32(binary.LittleEndian.Uint32(out)), int32(binary.LittleEndian.Uint32(out[4:]))
			}
			old, size := grow(10)
			assert.Equal(t, int32(1), old)
			assert.Equal(t, int32(11), size)
			for _, n := range []int{100_000_000, 1 << 27} {
				old, size = grow(n)
				assert.Equal(t, int32(-1), old, "grow by %d", n)
				assert.Equal(t, int32(11), size, "grow by %d: the engine's table did not grow", n)
			}
			ev, ok := audit.find(capabilities.KindLimit, "table")
			require.True(t, ok, "the refusal is on record")
			assert.Equal(t, "grow-100000000", ev.Function)
			assert.Equal(t, "max table elements 1048576: growth to 100000011 elements refused", ev.Rule)

			_, err = p.Call(ctx, "fill", nil)
			require.ErrorIs(t, err, runtime.ErrTrap, "fill past the table's end")
		})
	}

	t.Run("configured", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig().WithMaxTableElements(11).WithInstances(1))
		p, err := e.rt.Load(ctx, dir)
		require.NoError(t, err)
		defer p.Close(ctx)
		out, err := p.Call(ctx, "grow-10", nil)
		require.NoError(t, err)
		assert.Equal(t, []byte{1, 0, 0, 0, 11, 0, 0, 0}, out, "up to the limit")
		out, err = p.Call(ctx, "grow-10", nil)
		require.NoError(t, err)
		assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xff, 11, 0, 0, 0}, out, "past it")
	})
}

// TestTableLimit_Load: a module declaring more than MaxTables tables, or
// tables that need more than WithMaxTableElements elements to start, is
// refused at load, before it is compiled.
func TestTableLimit_Load(t *testing.T) {
	ctx := context.Background()
	hundred := make([]uint32, 100)
	for _, tt := range []struct {
		name   string
		tables []uint32
		err    string
	}{
		{"100 tables", hundred, `load plugin "made": module made.wasm: module declares 100 tables, over the limit of 16: table limit`},
		{"huge table", []uint32{10_000_000}, `load plugin "made": module made.wasm: module's tables need 10000000 elements to start, over the limit of 1048576 elements: table limit`},
		{"tables adding up", []uint32{1 << 19, 1 << 19, 1}, `module's tables need 1048577 elements to start`},
	} {
		for _, eng := range runtime.Engines() {
			t.Run(fmt.Sprintf("%s/%s", eng, tt.name), func(t *testing.T) {
				e := newRuntimeOn(t, eng, runtime.NewConfig())
				_, err := e.rt.Load(ctx, writePlugin(t, basicManifest, tableModule(tt.tables...)))
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
			})
		}
	}
	t.Run("at the limit", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		p, err := e.rt.Load(ctx, writePlugin(t, basicManifest, tableModule(make([]uint32, runtime.MaxTables)...)))
		require.NoError(t, err)
		require.NoError(t, p.Close(ctx))
	})
}

// TestMemoryGrow_Hopeless: memory.grow(0xFFFFFFFF) returns -1 at once, on
// a small fuel budget, rather than being charged for 4 billion pages.
func TestMemoryGrow_Hopeless(t *testing.T) {
	ctx := context.Background()
	body := wasmgen.Cat(
		wasmgen.I32Const(600), wasmgen.I32Const(-1), []byte{0x40, 0x00}, []byte{0x36, 0x02, 0x00},
		wasmgen.I32Const(516), wasmgen.I32Const(600), []byte{0x36, 0x02, 0x00},
		wasmgen.I32Const(520), wasmgen.I32Const(4), []byte{0x36, 0x02, 0x00},
		wasmgen.I32Const(512))
	dir := writePlugin(t, basicManifest+"\n[limits]\nfuel = 100000\n", wasmgen.Plugin(handler("grow", body)).Bytes())
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			e := newRuntimeOn(t, eng, runtime.NewConfig().WithInstances(1))
			p, err := e.rt.Load(ctx, dir)
			require.NoError(t, err)
			defer p.Close(ctx)
			out, err := p.Call(ctx, "grow", nil)
			require.NoError(t, err)
			assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xff}, out)
			assert.Less(t, p.Stats().Fuel, uint64(1000))
		})
	}
}
