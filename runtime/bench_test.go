package runtime_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The benchmarks come in families whose last name element says what runs:
// vitte (this runtime), wazero (raw wazero calling the same export of the
// same module, with the ABI done by hand and no checks), native (a Go
// function doing the same work). scripts/bench-table.sh turns a run into a
// table of medians and ratios to raw wazero; docs/benchmarks.md has the
// latest one.

var benchSizes = []struct {
	name    string
	handler string
	size    int
}{
	{"empty", "empty", 0},
	{"echo-1KiB", "echo", 1 << 10},
	{"echo-1MiB", "echo", 1 << 20},
}

func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	for _, s := range benchSizes {
		input := bytes.Repeat([]byte("a"), s.size)
		b.Run(s.name+"/vitte", func(b *testing.B) {
			p := benchHelloC(b, runtime.NewConfig())
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Call(ctx, s.handler, input); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/wazero", func(b *testing.B) {
			r, call := rawWazeroCall(b, ctx, s.handler)
			defer r.Close(ctx)
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_ = call(nil, input)
			}
		})
		b.Run(s.name+"/native", func(b *testing.B) {
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			for b.Loop() {
				out, err := nativeHandler(s.handler, input)
				if err != nil {
					b.Fatal(err)
				}
				_ = out
			}
		})
	}
}

// nativeHandler is the Go equivalent of the fixture's handlers: the input
// copied in, the output copied out.
//
//go:noinline
func nativeHandler(name string, input []byte) ([]byte, error) {
	in := append([]byte(nil), input...)
	if name == "empty" {
		return []byte{}, nil
	}
	return append([]byte(nil), in...), nil
}

// benchHelloC loads hello-c in a runtime made from cfg (logs discarded),
// both closed when the benchmark ends.
func benchHelloC(b *testing.B, cfg runtime.Config) *runtime.Plugin {
	ctx := context.Background()
	rt, err := runtime.New(ctx, cfg.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(ctx) })
	p, err := rt.Load(ctx, fixture("hello-c"))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// rawWazeroCall returns a function calling the handler of hello-c the way
// raw wazero would: input through cabi_realloc, output copied out,
// cabi_post; no checks.
func rawWazeroCall(b *testing.B, ctx context.Context, handler string) (wazero.Runtime, func(dst, input []byte) []byte) {
	r, mod := rawWazero(b, ctx)
	realloc, fn := mod.ExportedFunction("cabi_realloc"), mod.ExportedFunction(handler)
	post := mod.ExportedFunction("cabi_post_" + handler)
	mem := mod.Memory()
	stack := make([]uint64, 4)
	return r, func(dst, input []byte) []byte {
		var ptr uint32
		if len(input) > 0 {
			stack[0], stack[1], stack[2], stack[3] = 0, 0, 1, uint64(len(input))
			if err := realloc.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
			ptr = uint32(stack[0])
			mem.Write(ptr, input)
		}
		stack[0], stack[1] = uint64(ptr), uint64(len(input))
		if err := fn.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
		ret := uint32(stack[0])
		area, _ := mem.Read(ret, 12)
		out, _ := mem.Read(binary.LittleEndian.Uint32(area[4:]), binary.LittleEndian.Uint32(area[8:]))
		dst = append(dst, out...)
		if post != nil {
			stack[0] = uint64(ret)
			if err := post.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
		return dst
	}
}

// BenchmarkCallRatio calls the same handler through this runtime
// (AppendCall) and raw wazero in turn, a batch of each per iteration, both
// appending the output to a reused buffer, and reports both times
// per call and their ratio (vitte/wazero). On a shared machine whose speed
// changes from one second to the next, the ratio of interleaved batches is
// steadier than that of two separate benchmarks. ns/op is one batch of
// each. Built with -tags wasmtime, it also runs this runtime on the
// wasmtime engine against raw wazero (<size>/wasmtime).
func BenchmarkCallRatio(b *testing.B) {
	const batch = 256
	ctx := context.Background()
	for _, s := range benchSizes[:2] {
		for _, eng := range runtime.Engines() {
			name := s.name
			if eng != runtime.EngineWazero {
				name += "/" + string(eng)
			}
			b.Run(name, func(b *testing.B) {
				benchCallRatio(b, ctx, runtime.NewConfig().WithEngine(eng), s.handler, s.size, batch)
			})
		}
	}
}

func benchCallRatio(b *testing.B, ctx context.Context, cfg runtime.Config, handler string, size, batch int) {
	input := bytes.Repeat([]byte("a"), size)
	p := benchHelloC(b, cfg)
	r, raw := rawWazeroCall(b, ctx, handler)
	defer r.Close(ctx)
	var out, rawOut []byte
	var err error
	var tv, tw time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			if out, err = p.AppendCall(ctx, out[:0], handler, input); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range batch {
			rawOut = raw(rawOut[:0], input)
		}
		tw += time.Since(t1)
		tv += t1.Sub(t0)
	}
	n := float64(b.N) * float64(batch)
	b.ReportMetric(float64(tv.Nanoseconds())/n, "vitte-ns/call")
	b.ReportMetric(float64(tw.Nanoseconds())/n, "wazero-ns/call")
	b.ReportMetric(float64(tv)/float64(tw), "x")
}

// BenchmarkLoad measures a cold load: read, check, compile, instantiate,
// on-load, then unload.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	b.Run("hello-c/vitte", func(b *testing.B) {
		rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		b.ReportAllocs()
		for b.Loop() {
			p, err := rt.Load(ctx, fixture("hello-c"))
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hello-c/wazero", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			wasm, err := os.ReadFile(fixture("hello-c") + "/hello-c.wasm")
			if err != nil {
				b.Fatal(err)
			}
			r := wazero.NewRuntime(ctx)
			stubHost(b, ctx, r)
			cm, err := r.CompileModule(ctx, wasm)
			if err != nil {
				b.Fatal(err)
			}
			mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := mod.ExportedFunction("on-load").Call(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := mod.ExportedFunction("on-unload").Call(ctx); err != nil {
				b.Fatal(err)
			}
			r.Close(ctx)
		}
	})
}

func rawWazero(b *testing.B, ctx context.Context) (wazero.Runtime, api.Module) {
	wasm, err := os.ReadFile(fixture("hello-c") + "/hello-c.wasm")
	if err != nil {
		b.Fatal(err)
	}
	r := wazero.NewRuntime(ctx)
	stubHost(b, ctx, r)
	mod, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStdout(io.Discard).WithStartFunctions("_initialize"))
	if err != nil {
		b.Fatal(err)
	}
	return r, mod
}

// stubHost provides the fixture's imports with functions that do nothing.
func stubHost(b *testing.B, ctx context.Context, r wazero.Runtime) {
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	i32 := api.ValueTypeI32
	nop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
	_, err := r.NewHostModuleBuilder("vitte:plugin/host@1.0.0").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export("log").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export("config-get").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32, i32}, nil).Export("call").
		Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTimeout measures what stopping a runaway guest costs on a tight
// loop (one million iterations): this runtime (every call has a deadline),
// raw wazero with a deadline and close-on-context-done (the mechanism the
// runtime uses today), and raw wazero with no way to stop the guest (the
// baseline).
func BenchmarkTimeout(b *testing.B) {
	ctx := context.Background()
	input := []byte("1000000")
	wasm, err := os.ReadFile(fixture("bench-c") + "/bench-c.wasm")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("spin-1M/vitte", func(b *testing.B) {
		rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		p, err := rt.Load(ctx, fixture("bench-c"))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := p.Call(ctx, "spin", input); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw := func(b *testing.B, closeOnDone bool) {
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
		defer r.Close(ctx)
		wasi_snapshot_preview1.MustInstantiate(ctx, r)
		mod, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
		if err != nil {
			b.Fatal(err)
		}
		realloc, spin, post := mod.ExportedFunction("cabi_realloc"), mod.ExportedFunction("spin"), mod.ExportedFunction("cabi_post_spin")
		stack := make([]uint64, 4)
		for b.Loop() {
			cctx, cancel := ctx, context.CancelFunc(func() {})
			if closeOnDone {
				cctx, cancel = context.WithTimeout(ctx, time.Minute)
			}
			stack[0], stack[1], stack[2], stack[3] = 0, 0, 1, uint64(len(input))
			if err := realloc.CallWithStack(cctx, stack); err != nil {
				b.Fatal(err)
			}
			mod.Memory().Write(uint32(stack[0]), input)
			stack[1] = uint64(len(input))
			if err := spin.CallWithStack(cctx, stack); err != nil {
				b.Fatal(err)
			}
			if err := post.CallWithStack(cctx, stack); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	}
	b.Run("spin-1M/wazero-closeondone", func(b *testing.B) { raw(b, true) })
	b.Run("spin-1M/wazero", func(b *testing.B) { raw(b, false) })
}
