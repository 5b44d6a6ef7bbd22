package meter

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// kernelsWasm is built from testdata/kernels.c (the command is at its top).
//
//go:embed testdata/kernels.wasm
var kernelsWasm []byte

// benchQuantum is the quantum of the metered benchmarks: about a
// millisecond of guest work between two checks of the context.
const benchQuantum = 1 << 20

// The variants of every benchmark:
//
//   - plain: the module as is, with no way to stop it;
//   - metered: the module instrumented; out_of_fuel checks the context
//     every quantum (a context with a deadline, made once: the metered
//     design needs nothing per call but setting the counter);
//   - fuelonly: metered without the call stack (Options.noStack), to
//     measure what bounding the stack costs;
//   - closeondone: wazero's WithCloseOnContextDone, with a context with a
//     deadline made for every call (what the runtime does today).
var variants = []string{"plain", "metered", "fuelonly", "closeondone"}

// workload is a function to call in a module: a handler of a plugin
// fixture (input through cabi_realloc, 12-byte result area) or a kernel
// of kernels.wasm (one i32 argument).
type workload struct {
	name    string
	wasm    []byte
	fn      string
	plugin  bool
	input   []byte // plugins
	arg     uint64 // kernels
	bytes   int64
	perIter int // calls per iteration of BenchmarkRatios
}

func workloads(tb testing.TB) []workload {
	benchC := fixture(tb, "bench-c", "bench-c.wasm")
	helloC := fixture(tb, "hello-c", "hello-c.wasm")
	return []workload{
		{name: "bench-c/spin-1M", wasm: benchC, fn: "spin", plugin: true, input: []byte("1000000"), perIter: 1},
		{name: "bench-c/fnv1a-1MiB", wasm: benchC, fn: "fnv1a", plugin: true, input: bytes.Repeat([]byte("vitte"), 1<<20/5), bytes: 1 << 20, perIter: 1},
		{name: "hello-c/empty", wasm: helloC, fn: "empty", plugin: true, perIter: 200},
		{name: "kernels/sha256-64KiB", wasm: kernelsWasm, fn: "sha256", arg: 64 << 10, bytes: 64 << 10, perIter: 1},
		{name: "kernels/fnv1a-1MiB", wasm: kernelsWasm, fn: "fnv1a", arg: 1 << 20, bytes: 1 << 20, perIter: 1},
		{name: "kernels/fib-25", wasm: kernelsWasm, fn: "fib", arg: 25, perIter: 1},
		{name: "kernels/spin-1M", wasm: kernelsWasm, fn: "spin", arg: 1_000_000, perIter: 1},
		{name: "kernels/count-1M", wasm: kernelsWasm, fn: "count", arg: 1_000_000, perIter: 1},
		{name: "kernels/empty", wasm: kernelsWasm, fn: "empty", perIter: 200},
	}
}

// runner calls one workload in one variant.
type runner struct {
	r                    wazero.Runtime
	h                    *fuelHost
	p                    *plugin // plugins
	mod                  api.Module
	fn                   api.Function // kernels
	stack                []uint64
	ctx                  context.Context // a context with a distant deadline
	cancel               context.CancelFunc
	w                    workload
	closeOnDone, metered bool
	want                 []byte
}

func newRunner(tb testing.TB, w workload, variant string) *runner {
	tb.Helper()
	ctx := context.Background()
	x := &runner{w: w, closeOnDone: variant == "closeondone", metered: variant == "metered" || variant == "fuelonly", stack: make([]uint64, 4)}
	x.r = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(x.closeOnDone))
	x.ctx, x.cancel = context.WithTimeout(ctx, time.Hour)
	wasm := w.wasm
	if x.metered {
		var err error
		if wasm, err = Instrument(wasm, Options{noStack: variant == "fuelonly"}); err != nil {
			tb.Fatal(err)
		}
		x.h = &fuelHost{quantum: benchQuantum, stop: func(ctx context.Context) error { return ctx.Err() }}
		if err := x.h.instantiate(ctx, x.r); err != nil {
			tb.Fatal(err)
		}
	}
	if w.plugin {
		if err := stubPluginHost(ctx, x.r); err != nil {
			tb.Fatal(err)
		}
		// When metered, _initialize runs with the counter at 0:
		// out_of_fuel refills it.
		p, err := newPlugin(ctx, x.r, wasm)
		if err != nil {
			tb.Fatal(err)
		}
		x.p, x.mod = p, p.mod
	} else {
		mod, err := x.r.Instantiate(ctx, wasm)
		if err != nil {
			tb.Fatal(err)
		}
		x.mod, x.fn = mod, mod.ExportedFunction(w.fn)
		res, err := mod.ExportedFunction("buffer").Call(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		buf, _ := mod.Memory().Read(uint32(res[0]), 1<<20)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
	}
	return x
}

func (x *runner) close() {
	x.cancel()
	x.r.Close(context.Background())
}

// call makes one call and checks that it returns what the first one did.
func (x *runner) call(tb testing.TB) {
	ctx, cancel := x.ctx, context.CancelFunc(nil)
	if x.closeOnDone {
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	}
	if x.metered {
		x.h.start(x.mod)
	}
	var out []byte
	if x.w.plugin {
		tag, o, err := x.p.call(ctx, x.w.fn, x.w.input)
		if err != nil || tag != 0 {
			tb.Fatalf("%s: tag %d, %q, %v", x.w.fn, tag, o, err)
		}
		out = o
	} else {
		x.stack[0] = x.w.arg
		if err := x.fn.CallWithStack(ctx, x.stack); err != nil {
			tb.Fatal(err)
		}
		out = fmt.Append(nil, x.stack[0])
	}
	if cancel != nil {
		cancel()
	}
	if x.want == nil {
		x.want = out
	} else if !bytes.Equal(out, x.want) {
		tb.Fatalf("%s: %q, then %q", x.w.fn, x.want, out)
	}
}

// BenchmarkMeter measures every workload in every variant, one
// sub-benchmark each (compare with benchstat, or see BenchmarkRatios).
func BenchmarkMeter(b *testing.B) {
	for _, w := range workloads(b) {
		for _, v := range variants {
			b.Run(w.name+"/"+v, func(b *testing.B) {
				x := newRunner(b, w, v)
				defer x.close()
				b.SetBytes(w.bytes)
				b.ReportAllocs()
				for b.Loop() {
					x.call(b)
				}
				if x.metered {
					b.ReportMetric(float64(x.h.used()), "fuel/op")
				}
			})
		}
	}
}

// BenchmarkRatios runs the variants of a workload in turn, in every
// iteration, and reports their times relative to plain: on a busy machine
// the ratios of interleaved runs are steadier than those of separate
// benchmarks. ns/op is the time of one round of all variants.
func BenchmarkRatios(b *testing.B) {
	for _, w := range workloads(b) {
		b.Run(w.name, func(b *testing.B) {
			xs := make([]*runner, len(variants))
			for i, v := range variants {
				xs[i] = newRunner(b, w, v)
				defer xs[i].close()
			}
			total := make([]time.Duration, len(variants))
			for b.Loop() {
				for i, x := range xs {
					start := time.Now()
					for range w.perIter {
						x.call(b)
					}
					total[i] += time.Since(start)
				}
			}
			for i, v := range variants[1:] {
				b.ReportMetric(float64(total[i+1])/float64(total[0]), v+"/plain")
			}
			// What bounding the call stack costs.
			b.ReportMetric(float64(total[1])/float64(total[2]), "metered/fuelonly")
		})
	}
}

// BenchmarkInstrument measures the rewrite itself, on a C plugin (32 KiB)
// and a Go one (3 MB).
func BenchmarkInstrument(b *testing.B) {
	for _, m := range []struct{ dir, file string }{{"bench-c", "bench-c.wasm"}, {"go-stress", "go-stress.wasm"}} {
		wasm := fixture(b, m.dir, m.file)
		b.Run(m.dir, func(b *testing.B) {
			b.SetBytes(int64(len(wasm)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Instrument(wasm, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
