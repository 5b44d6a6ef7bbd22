package meter

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
)

// TestInstrument_Fixtures instruments every module of testdata/wasm (C,
// Go, Vitte), validates the result with wasm-validate and wazero, and
// checks that imports and exports keep their names, types and (shifted)
// indices.
func TestInstrument_Fixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "wasm", "*", "*.wasm"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	ctx := context.Background()
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(file)
			require.NoError(t, err)
			out, err := Instrument(in, Options{})
			require.NoError(t, err)
			validate(t, out)
			r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
			defer r.Close(ctx)
			orig, err := r.CompileModule(ctx, in)
			require.NoError(t, err)
			got, err := r.CompileModule(ctx, out)
			require.NoError(t, err)

			oi, gi := orig.ImportedFunctions(), got.ImportedFunctions()
			require.Len(t, gi, len(oi)+numImports)
			for i, o := range oi {
				assert.Equal(t, o.Name(), gi[i].Name())
				assert.Equal(t, o.ParamTypes(), gi[i].ParamTypes())
				assert.Equal(t, o.ResultTypes(), gi[i].ResultTypes())
			}
			mod, name, _ := gi[len(oi)].Import()
			assert.Equal(t, ImportModule+"."+ImportName, mod+"."+name)
			mod, name, _ = gi[len(oi)+1].Import()
			assert.Equal(t, ImportModule+"."+LimitName, mod+"."+name)

			oe, ge := orig.ExportedFunctions(), got.ExportedFunctions()
			require.Len(t, ge, len(oe))
			for name, o := range oe {
				g := ge[name]
				require.NotNil(t, g, name)
				assert.Equal(t, o.Index()+numImports, g.Index(), name)
				assert.Equal(t, o.Name(), g.Name(), name)
				assert.Equal(t, o.ParamTypes(), g.ParamTypes(), name)
				assert.Equal(t, o.ResultTypes(), g.ResultTypes(), name)
			}
			assert.Equal(t, orig.ExportedMemories(), got.ExportedMemories())
			t.Logf("%d bytes -> %d (+%.1f%%)", len(in), len(out), 100*float64(len(out)-len(in))/float64(len(in)))
		})
	}
}

// pluginPair is a plugin fixture instantiated twice: as is, and metered
// with a quantum large enough never to run out.
type pluginPair struct {
	plain, metered *plugin
	host           *fuelHost
}

func newPluginPair(t *testing.T, wasm []byte) *pluginPair {
	t.Helper()
	ctx := context.Background()
	pp := &pluginPair{host: &fuelHost{quantum: 1 << 40}}
	for _, metered := range []bool{false, true} {
		r := wazero.NewRuntime(ctx)
		t.Cleanup(func() { r.Close(ctx) })
		require.NoError(t, stubPluginHost(ctx, r))
		w := wasm
		if metered {
			w = instrument(t, wasm)
			require.NoError(t, pp.host.instantiate(ctx, r))
		}
		p, err := newPlugin(ctx, r, w)
		require.NoError(t, err)
		if metered {
			pp.metered = p
		} else {
			pp.plain = p
		}
	}
	return pp
}

// check calls a handler on both instances and compares the results.
func (pp *pluginPair) check(t *testing.T, handler string, input []byte) {
	t.Helper()
	ctx := context.Background()
	wantTag, want, wantErr := pp.plain.call(ctx, handler, input)
	pp.host.start(pp.metered.mod)
	tag, got, err := pp.metered.call(ctx, handler, input)
	if wantErr != nil {
		require.Error(t, err, handler)
		return
	}
	require.NoError(t, err, handler)
	assert.Equal(t, wantTag, tag, handler)
	assert.Equal(t, string(want), string(got), handler)
	assert.Positive(t, pp.host.used(), handler)
}

// TestInstrument_BenchC runs bench-c's handlers metered and not, and
// compares their outputs.
func TestInstrument_BenchC(t *testing.T) {
	pp := newPluginPair(t, fixture(t, "bench-c", "bench-c.wasm"))
	for _, n := range []string{"0", "1", "7", "1000", "1000000"} {
		pp.check(t, "spin", []byte(n))
	}
	for _, in := range [][]byte{nil, []byte("a"), []byte("hello, world"), bytes.Repeat([]byte{0xa5, 0, 7}, 100_000)} {
		pp.check(t, "fnv1a", in)
	}
}

// TestInstrument_HelloC runs hello-c's handlers metered and not.
func TestInstrument_HelloC(t *testing.T) {
	pp := newPluginPair(t, fixture(t, "hello-c", "hello-c.wasm"))
	for _, h := range []string{"greet", "echo", "fail", "empty", "count-vowels"} {
		for _, in := range [][]byte{nil, []byte("vitte"), bytes.Repeat([]byte("aeiou xyz "), 10_000)} {
			pp.check(t, h, in)
		}
	}
}

// TestInstrument_GoFixtures runs Go plugins (the Go runtime, its
// scheduler, garbage collector and SHA-256) metered and not.
func TestInstrument_GoFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles two 3 MB modules")
	}
	pp := newPluginPair(t, fixture(t, "go-stress", "go-stress.wasm"))
	for _, in := range [][]byte{nil, []byte("vitte"), bytes.Repeat([]byte("0123456789"), 100_000)} {
		pp.check(t, "sha", in)
		pp.check(t, "reverse", in)
		pp.check(t, "echo", in)
	}
}

// TestInstrument_HostileLoop stops hostile.wasm's "loop" handler (an
// infinite loop) by a context deadline: out_of_fuel checks the context.
// Only a generous bound is asserted; the overshoot is logged.
func TestInstrument_HostileLoop(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	require.NoError(t, stubPluginHost(ctx, r))
	h := &fuelHost{quantum: 1 << 20, stop: func(ctx context.Context) error { return ctx.Err() }}
	require.NoError(t, h.instantiate(ctx, r))
	p, err := newPlugin(ctx, r, instrument(t, fixture(t, "hostile", "hostile.wasm")))
	require.NoError(t, err)

	const deadline = 50 * time.Millisecond
	cctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	h.start(p.mod)
	start := time.Now()
	_, _, err = p.call(cctx, "loop", nil)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, elapsed, 5*time.Second)
	t.Logf("stopped after %v: %v past the %v deadline, %d refills of %d", elapsed, elapsed-deadline, deadline, h.refills, h.quantum)
}

// TestInstrument_GCDuringLoop runs a garbage collection while a metered
// guest spins: the guest enters Go at every refill, so the collection's
// stop-the-world does not wait for the guest to end (without metering it
// would wait for the whole call). Only a generous bound is asserted; the
// time is logged.
func TestInstrument_GCDuringLoop(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	require.NoError(t, stubPluginHost(ctx, r))
	h := &fuelHost{quantum: 1 << 20, stop: func(ctx context.Context) error { return ctx.Err() }}
	require.NoError(t, h.instantiate(ctx, r))
	p, err := newPlugin(ctx, r, instrument(t, fixture(t, "hostile", "hostile.wasm")))
	require.NoError(t, err)

	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	h.start(p.mod)
	done := make(chan error, 1)
	go func() {
		_, _, err := p.call(cctx, "loop", nil)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the guest spin
	start := time.Now()
	runtime.GC()
	gc := time.Since(start)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Less(t, gc, 10*time.Second, "the collection waited for the guest")
	t.Logf("runtime.GC() took %v while the guest spun", gc)
}
