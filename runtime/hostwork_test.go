package runtime_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The hostile guests of issue 18 finding 2: loops of WASI calls that each
// ask the host for a lot of work.

var (
	typeFdWrite   = abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32, abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}}
	typeRandomGet = abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}}
)

// Indices of the functions of hostWorkModule: the imports, cabi_realloc,
// then the handlers.
const (
	fnFdWrite   = 0
	fnRandomGet = 1
)

// bufAt is where the guests' 1 MiB buffer starts; the iovec is at 16,
// nwritten at 8, the (zeroed) result area at 512.
const bufAt = 65536

// iovecAt stores the iovec {bufAt, size} at 16, for fd 1 or 2.
func iovecAt(size int32) []byte {
	return wasmgen.Cat(
		wasmgen.I32Const(16), wasmgen.I32Const(bufAt), []byte{0x36, 0x02, 0x00}, // i32.store
		wasmgen.I32Const(20), wasmgen.I32Const(size), []byte{0x36, 0x02, 0x00},
	)
}

// repeat is a handler that runs body as many times as its input has bytes,
// or (almost) forever with an empty input (the count goes down from 0, to
// 0 again 2^32 iterations later), and returns an empty output.
func repeat(name string, setup, body []byte) wasmgen.Func {
	return wasmgen.Func{Type: abi.TypeHandler, Export: name, Body: wasmgen.Cat(
		setup,
		[]byte{0x03, 0x40}, // loop
		body,
		// local.get 1; i32.const 1; i32.sub; local.tee 1; br_if 0
		[]byte{0x20, 0x01}, wasmgen.I32Const(1), []byte{0x6b, 0x22, 0x01, 0x0d, 0x00},
		[]byte{0x0b}, // end
		wasmgen.I32Const(512),
	)}
}

// fdWrite is fd_write(fd, the iovec at 16, 1, nwritten at 8), its errno
// dropped.
func fdWrite(fd int32) []byte {
	return wasmgen.Cat(wasmgen.I32Const(fd), wasmgen.I32Const(16), wasmgen.I32Const(1), wasmgen.I32Const(8),
		[]byte{0x10, fnFdWrite, 0x1a})
}

// randomGet is random_get(bufAt, size), its errno dropped.
func randomGet(size int32) []byte {
	return wasmgen.Cat(wasmgen.I32Const(bufAt), wasmgen.I32Const(size), []byte{0x10, fnRandomGet, 0x1a})
}

// hostWorkModule has the handlers:
//
//   - stdout, stderr: a 1 MiB fd_write to fd 1 or 2 per iteration;
//   - stdout0: the same of 0 bytes;
//   - random: a 1 MiB random_get and a 1-byte fd_write to stdout, which
//     counts the iterations, per iteration;
//   - random0: the same with a random_get of 0 bytes.
func hostWorkModule() []byte {
	const mib = 1 << 20
	m := wasmgen.Plugin(
		repeat("stdout", iovecAt(mib), fdWrite(1)),
		repeat("stderr", iovecAt(mib), fdWrite(2)),
		repeat("stdout0", iovecAt(0), fdWrite(1)),
		repeat("random", iovecAt(1), wasmgen.Cat(randomGet(mib), fdWrite(1))),
		repeat("random0", iovecAt(1), wasmgen.Cat(randomGet(0), fdWrite(1))),
	)
	m.Imports = []wasmgen.Import{
		{Module: "wasi_snapshot_preview1", Name: "fd_write", Type: typeFdWrite},
		{Module: "wasi_snapshot_preview1", Name: "random_get", Type: typeRandomGet},
	}
	m.MemoryMin = (bufAt + mib) / 65536
	return m.Bytes()
}

// countingWriter counts the bytes written to it, and drops them.
type countingWriter struct{ n atomic.Uint64 }

func (w *countingWriter) Write(b []byte) (int, error) {
	w.n.Add(uint64(len(b)))
	return len(b), nil
}

// hostWorkEnv is a plugin of hostWorkModule on engine eng, with limits
// lines in its manifest, and what it writes and audits.
type hostWorkEnv struct {
	p              *runtime.Plugin
	stdout, stderr *countingWriter
	mu             sync.Mutex
	events         []capabilities.Event
}

func (h *hostWorkEnv) limitEvents(resource string) []capabilities.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []capabilities.Event
	for _, e := range h.events {
		if e.Kind == capabilities.KindLimit && e.Resource == resource {
			out = append(out, e)
		}
	}
	return out
}

func newHostWork(t *testing.T, eng runtime.Engine, cfg runtime.Config, limits ...string) *hostWorkEnv {
	t.Helper()
	ctx := context.Background()
	h := &hostWorkEnv{stdout: &countingWriter{}, stderr: &countingWriter{}}
	cfg = cfg.WithStdout(h.stdout).WithStderr(h.stderr).WithDeterministic(1).
		WithAuditor(func(e capabilities.Event) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.events = append(h.events, e)
		})
	rt, err := runtime.New(ctx, cfg.WithEngine(eng).WithCompilationCache(testCache))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(ctx)) })
	manifest := basicManifest
	if len(limits) > 0 {
		manifest += "\n[limits]\n" + strings.Join(limits, "\n") + "\n"
	}
	h.p, err = rt.Load(ctx, writePlugin(t, manifest, hostWorkModule()))
	require.NoError(t, err)
	return h
}

// eachEngine runs f on every engine built in.
func eachEngine(t *testing.T, f func(t *testing.T, eng runtime.Engine)) {
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) { f(t, eng) })
	}
}

func TestHostWork_StdioLoopStopsAtDeadline(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng runtime.Engine) {
		for _, stream := range []string{"stdout", "stderr"} {
			t.Run(stream, func(t *testing.T) {
				ctx := context.Background()
				h := newHostWork(t, eng, runtime.NewConfig(), `timeout = "300ms"`)
				w, other := h.stdout, h.stderr
				if stream == "stderr" {
					w, other = other, w
				}
				_, err := h.p.Call(ctx, stream, nil) // 1 MiB writes, 2^32 times
				require.ErrorIs(t, err, runtime.ErrTimeout)
				assert.Equal(t, uint64(runtime.DefaultStdioLimit), w.n.Load(),
					"whole 1 MiB writes up to the limit, none past it")
				assert.Zero(t, other.n.Load())
				ev := h.limitEvents(stream)
				require.Len(t, ev, 1, "audited once a call")
				assert.Equal(t, "write", ev[0].Op)
				assert.Equal(t, stream, ev[0].Function)
				assert.Equal(t, stream+" limit 4194304 bytes a call: write of 1048576 bytes after 4194304 refused", ev[0].Rule)
				require.Len(t, h.limitEvents("timeout"), 1)

				// The limit is a call's: the next call writes again.
				_, err = h.p.Call(ctx, stream, []byte("xx"))
				require.NoError(t, err)
				assert.Equal(t, uint64(runtime.DefaultStdioLimit+2<<20), w.n.Load())
			})
		}
	})
}

func TestHostWork_StdioLimit(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng runtime.Engine) {
		ctx := context.Background()
		h := newHostWork(t, eng, runtime.NewConfig().WithStdioLimit(3<<20+1))
		_, err := h.p.Call(ctx, "stdout", []byte("12345"))
		require.NoError(t, err, "a write past the limit fails in the guest, the call goes on")
		assert.Equal(t, uint64(3<<20), h.stdout.n.Load())
		require.Len(t, h.limitEvents("stdout"), 1)
		assert.Contains(t, h.limitEvents("stdout")[0].Rule, "stdout limit 3145729 bytes a call")

		h = newHostWork(t, eng, runtime.NewConfig().WithStdioLimit(0))
		_, err = h.p.Call(ctx, "stdout", []byte("1"))
		require.NoError(t, err)
		assert.Zero(t, h.stdout.n.Load(), "0 refuses every write")

		h = newHostWork(t, eng, runtime.NewConfig().WithStdioLimit(math.MaxUint64))
		_, err = h.p.Call(ctx, "stdout", []byte("12345678"))
		require.NoError(t, err)
		assert.Equal(t, uint64(8<<20), h.stdout.n.Load())
		assert.Empty(t, h.limitEvents("stdout"))
	})
}

func TestHostWork_RandomLoopStopsAtDeadline(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng runtime.Engine) {
		ctx := context.Background()
		h := newHostWork(t, eng, runtime.NewConfig(), `timeout = "300ms"`)
		_, err := h.p.Call(ctx, "random", nil) // 1 MiB random_get, 2^32 times
		require.ErrorIs(t, err, runtime.ErrTimeout)
		ev := h.limitEvents("timeout")
		require.Len(t, ev, 1)
		// Each iteration charged its random bytes: the fuel counts them.
		assert.GreaterOrEqual(t, ev[0].Fuel, h.stdout.n.Load()*(1<<20)*meter.RandomByteFuel)

		_, err = h.p.Call(ctx, "random", []byte("x"))
		require.NoError(t, err, "the next call works")
	})
}

func TestHostWork_RandomLoopRunsOutOfFuel(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng runtime.Engine) {
		ctx := context.Background()
		const budget = 10 << 20
		h := newHostWork(t, eng, runtime.NewConfig(), `fuel = 10485760`)
		_, err := h.p.Call(ctx, "random", nil)
		require.ErrorIs(t, err, runtime.ErrFuel)
		// Each iteration costs more than its random bytes: the budget
		// allows fewer than budget / 1 MiB of them (on main: 300,000).
		iterations := h.stdout.n.Load()
		assert.Less(t, iterations, uint64(budget/(1<<20)))
		assert.Greater(t, iterations, uint64(budget/(1<<20))-2)
		ev := h.limitEvents("fuel")
		require.Len(t, ev, 1)
		assert.Greater(t, ev[0].Fuel, uint64(budget))

		_, err = h.p.Call(ctx, "random", []byte("x"))
		require.NoError(t, err, "the next call works")
	})
}

// TestHostWork_FuelDeterministicAndProportional checks the fuel of host
// work against the cost model, on every engine: the same on each, and
// from one run to the next.
func TestHostWork_FuelDeterministicAndProportional(t *testing.T) {
	fuelOn := func(eng runtime.Engine) map[string][]uint64 {
		h := newHostWork(t, eng, runtime.NewConfig().WithStdioLimit(math.MaxUint64))
		out := map[string][]uint64{}
		for _, fn := range []string{"stdout", "stdout0", "random", "random0"} {
			for _, n := range []int{1, 2, 3} {
				out[fn] = append(out[fn], fuelOf(t, h.p, fn, []byte(strings.Repeat("x", n))))
			}
		}
		return out
	}
	var first map[string][]uint64
	for _, eng := range runtime.Engines() {
		f := fuelOn(eng)
		assert.Equal(t, f, fuelOn(eng), "%s: the same fuel from one run to the next", eng)
		if first == nil {
			first = f
		} else {
			assert.Equal(t, first, f, "%s: the same fuel as %s", eng, runtime.Engines()[0])
		}
		for fn, fuel := range f {
			assert.Equal(t, fuel[1]-fuel[0], fuel[2]-fuel[1], "%s %s: each iteration costs the same", eng, fn)
		}
		// An iteration of 1 MiB costs its bytes more than one of 0 bytes.
		const mib = 1 << 20
		assert.Equal(t, uint64(mib/meter.HostBytesPerFuel), (f["stdout"][1]-f["stdout"][0])-(f["stdout0"][1]-f["stdout0"][0]), "fd_write")
		assert.Equal(t, uint64(mib*meter.RandomByteFuel), (f["random"][1]-f["random"][0])-(f["random0"][1]-f["random0"][0]), "random_get")
		// An fd_write of 0 bytes costs the call, its iovec and the iovec's
		// 8 bytes, on top of the guest's own instructions.
		assert.Greater(t, f["stdout0"][1]-f["stdout0"][0], uint64(2*meter.HostCallFuel))
	}
}

// TestHostWork_ProjectHostFunctionsCharge checks that host.log, host.call
// and host.config-get charge their bytes, on every engine.
func TestHostWork_ProjectHostFunctionsCharge(t *testing.T) {
	const (
		fnLog    = 0
		fnCall   = 1
		fnConfig = 2
		nameAt   = 100 // "test.echo", then "key"
		size     = 4096
	)
	logN := func(n int32) []byte {
		return wasmgen.Cat(wasmgen.I32Const(2), wasmgen.I32Const(bufAt), wasmgen.I32Const(n), []byte{0x10, fnLog})
	}
	callN := func(n int32) []byte {
		return wasmgen.Cat(wasmgen.I32Const(nameAt), wasmgen.I32Const(9), wasmgen.I32Const(bufAt), wasmgen.I32Const(n),
			wasmgen.I32Const(600), []byte{0x10, fnCall})
	}
	config := wasmgen.Cat(wasmgen.I32Const(nameAt+9), wasmgen.I32Const(3), wasmgen.I32Const(600), []byte{0x10, fnConfig})
	m := wasmgen.Plugin(
		repeat("log", nil, logN(size)), repeat("log0", nil, logN(0)),
		repeat("call", nil, callN(size)), repeat("call0", nil, callN(0)),
		repeat("config", nil, config),
	)
	m.Imports = []wasmgen.Import{
		{Module: abi.HostModule, Name: abi.FuncLog, Type: abi.TypeLog},
		{Module: abi.HostModule, Name: abi.FuncCall, Type: abi.TypeCall},
		{Module: abi.HostModule, Name: abi.FuncConfigGet, Type: abi.TypeConfigGet},
	}
	m.MemoryMin = (bufAt + size + 65535) / 65536
	m.Data, m.DataOffset = []byte("test.echokey"), nameAt
	manifest := basicManifest + "\n[capabilities]\nhost = [\"test.echo\"]\n"
	// The config value is the one thing that changes from one run to the
	// next: its bytes are charged.
	fuelOn := func(eng runtime.Engine, value string) map[string]uint64 {
		ctx := context.Background()
		e := newRuntimeOn(t, eng, runtime.NewConfig().WithLogRate(0, 1))
		e.rt.RegisterHostFunc("test.echo", func(_ context.Context, payload []byte) ([]byte, error) {
			return append([]byte("echo:"), payload...), nil
		})
		lc := runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithHostCall("test.echo")).WithConfigValue("key", value)
		p, err := e.rt.LoadWithConfig(ctx, writePlugin(t, manifest, m.Bytes()), lc)
		require.NoError(t, err)
		out := map[string]uint64{}
		for _, fn := range []string{"log", "log0", "call", "call0", "config"} {
			one, two := fuelOf(t, p, fn, []byte("x")), fuelOf(t, p, fn, []byte("xx"))
			out[fn] = two - one // one iteration
		}
		return out
	}
	var first map[string]uint64
	for _, eng := range runtime.Engines() {
		f := fuelOn(eng, "v") // not empty: cabi_realloc runs for both values
		assert.Equal(t, uint64(size/meter.HostBytesPerFuel), f["log"]-f["log0"], "%s: host.log", eng)
		// The payload, then the output: "echo:" and the payload.
		assert.Equal(t, uint64(2*size/meter.HostBytesPerFuel), f["call"]-f["call0"], "%s: host.call", eng)
		assert.Equal(t, uint64(size/meter.HostBytesPerFuel), fuelOn(eng, strings.Repeat("v", size+1))["config"]-f["config"], "%s: host.config-get", eng)
		if first == nil {
			first = f
		} else {
			assert.Equal(t, first, f, "%s: the same fuel as %s", eng, runtime.Engines()[0])
		}
	}
}

// TestHostWork_StdioLimitOnLoad: on-load has a limit of its own, and goes
// on past it.
func TestHostWork_StdioLimitOnLoad(t *testing.T) {
	const mib = 1 << 20
	onLoad := wasmgen.Func{Type: abi.TypeOnLoad, Export: abi.ExportOnLoad, Body: wasmgen.Cat(
		iovecAt(mib), fdWrite(1), fdWrite(1), fdWrite(1), fdWrite(1), fdWrite(1), wasmgen.I32Const(512))}
	m := wasmgen.Plugin(onLoad, repeat("stdout", iovecAt(mib), fdWrite(1)))
	m.Imports = []wasmgen.Import{{Module: "wasi_snapshot_preview1", Name: "fd_write", Type: typeFdWrite}}
	m.MemoryMin = (bufAt + mib) / 65536
	eachEngine(t, func(t *testing.T, eng runtime.Engine) {
		ctx := context.Background()
		var events []capabilities.Event
		var mu sync.Mutex
		w := &countingWriter{}
		rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(eng).WithStdout(w).WithStdioLimit(2*mib).
			WithAuditor(func(e capabilities.Event) {
				mu.Lock()
				defer mu.Unlock()
				events = append(events, e)
			}))
		require.NoError(t, err)
		defer rt.Close(ctx)
		p, err := rt.Load(ctx, writePlugin(t, basicManifest, m.Bytes()))
		require.NoError(t, err, "on-load goes on past the limit")
		assert.Equal(t, uint64(2*mib), w.n.Load())
		_, err = p.Call(ctx, "stdout", []byte("xx"))
		require.NoError(t, err)
		assert.Equal(t, uint64(4*mib), w.n.Load(), "a call's limit is its own")
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, events, 1)
		assert.Equal(t, capabilities.KindLimit, events[0].Kind)
		assert.Equal(t, abi.ExportOnLoad, events[0].Function)
		assert.Equal(t, "stdout limit 2097152 bytes a call: write of 1048576 bytes after 2097152 refused", events[0].Rule)
	})
}

// TestHostWork_ConcurrentInstances: each instance's WASI calls are charged
// to its own call, however the calls of several instances interleave.
func TestHostWork_ConcurrentInstances(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng runtime.Engine) {
		ctx := context.Background()
		h := newHostWork(t, eng, runtime.NewConfig().WithInstances(4).WithWarmInstances(4).WithAuditAllowed(true))
		input := []byte("xxxxxxxxxxxxxxxx")
		want := fuelOf(t, h.p, "random0", input)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					_, err := h.p.Call(ctx, "random0", input)
					assert.NoError(t, err)
				}
			}()
		}
		wg.Wait()
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, e := range h.events {
			if e.Kind == capabilities.KindCall && e.Rule == "completed" {
				assert.Equal(t, want, e.Fuel)
				n++
			}
		}
		assert.Equal(t, 1+8*25, n)
	})
}
