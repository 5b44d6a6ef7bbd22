package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	hcplugin "github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Benchmark names are Benchmark<Family>/<workload>/<system>: the table
// (bench/cmd/benchtable) compares every system of a workload with its
// "wazero" row, measured in the same run.

var sizes = []struct {
	name string
	n    int
}{{"0B", 0}, {"1KiB", 1 << 10}, {"1MiB", 1 << 20}}

// text returns n bytes of English text, vowels and not.
func text(n int) []byte {
	const s = "The quick brown fox jumps over the lazy dog. "
	return bytes.Repeat([]byte(s), n/len(s)+1)[:n]
}

// TestSameAnswer checks every system of BenchmarkCall: count vowels gives
// the same count everywhere (and the right one), the empty call returns
// nothing, for inputs up to 1 MiB.
func TestSameAnswer(t *testing.T) {
	ctx := context.Background()
	inputs := []struct {
		in   []byte
		want int
	}{
		{nil, 0},
		{[]byte("hello world"), 3},
		{[]byte("bcdfg xyz"), 0},
		{[]byte("AEIOU aeiou"), 10},
		{text(1 << 10), 251},
		{text(1 << 20), 256319},
	}
	for _, in := range inputs {
		require.Equal(t, in.want, vowelsIn(in.in), "reference count of %d bytes", len(in.in))
	}
	for _, s := range callSystems() {
		t.Run(s.name, func(t *testing.T) {
			count, empty := s.open(t, countVowels), s.open(t, emptyCall)
			for _, in := range inputs {
				out, err := count(ctx, in.in)
				require.NoError(t, err, "count-vowels, %d bytes", len(in.in))
				n, err := s.vowels(out)
				require.NoError(t, err, "count-vowels output %q", out)
				assert.Equal(t, in.want, n, "count-vowels, %d bytes", len(in.in))

				out, err = empty(ctx, in.in)
				require.NoError(t, err, "empty, %d bytes", len(in.in))
				assert.Empty(t, out, "empty, %d bytes", len(in.in))
			}
		})
	}
}

// BenchmarkCall measures one call of each handler, with each input size,
// on each system: the handler opened once, then called in a loop.
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	for _, h := range []handler{emptyCall, countVowels} {
		for _, size := range sizes {
			input := text(size.n)
			for _, s := range callSystems() {
				b.Run(fmt.Sprintf("%s-%s/%s", h, size.name, s.name), func(b *testing.B) {
					call := s.open(b, h)
					calls := 0
					var out []byte
					var err error
					b.SetBytes(int64(size.n))
					b.ReportAllocs()
					for b.Loop() {
						if s.maxCalls > 0 && size.n >= 1<<20 && calls == s.maxCalls {
							b.StopTimer()
							call, calls = s.open(b, h), 0
							b.StartTimer()
						}
						calls++
						if out, err = call(ctx, input); err != nil {
							b.Fatal(err)
						}
					}
					checkOutput(b, s, h, input, out)
				})
			}
		}
	}
}

func checkOutput(tb testing.TB, s system, h handler, input, out []byte) {
	tb.Helper()
	if h == emptyCall {
		if len(out) != 0 {
			tb.Fatalf("empty: output %q", out)
		}
		return
	}
	n, err := s.vowels(out)
	if err != nil || n != vowelsIn(input) {
		tb.Fatalf("count-vowels: %q (%v), want %d", out, err, vowelsIn(input))
	}
}

// readyPlugins are the plugins of BenchmarkReady: one per guest language.
var readyPlugins = []struct{ kind, dir, module string }{
	{"c", "hello-c", "hello-c.wasm"},
	{"go", "hello-go", "hello-go.wasm"},
	{"vitte", "vitte-handlers", "vitte-handlers.wasm"},
}

// readyInput is the first call of BenchmarkReady: count-vowels.
var readyInput = []byte("hello world")

// BenchmarkReady measures the time from a plugin on disk to its first call
// completed: cold (nothing compiled), warm (the module compiled by an
// earlier process, in an on-disk compilation cache), and, for a module
// already compiled in this process (c-instance), a new instance and its
// first call: raw wazero instantiating, this runtime loading the plugin
// again (vitte-load), and a call on an instance of the runtime's warm pool
// (vitte-pool: instances are initialised before calls need them).
func BenchmarkReady(b *testing.B) {
	ctx := context.Background()
	for _, p := range readyPlugins {
		dir := fixture(p.dir)
		for _, warm := range []bool{false, true} {
			workload := p.kind + "-cold"
			if warm {
				workload = p.kind + "-warm"
			}
			b.Run(workload+"/wazero", func(b *testing.B) {
				cacheDir := b.TempDir()
				if warm {
					rawReady(b, ctx, dir+"/"+p.module, cacheDir)
				}
				b.ReportAllocs()
				for b.Loop() {
					if warm {
						rawReady(b, ctx, dir+"/"+p.module, cacheDir)
					} else {
						rawReady(b, ctx, dir+"/"+p.module, "")
					}
				}
			})
			for _, e := range engines {
				b.Run(workload+"/"+e.name, func(b *testing.B) {
					cacheDir := b.TempDir()
					if warm {
						vitteReady(b, ctx, e.config(), dir, cacheDir)
					}
					b.ReportAllocs()
					for b.Loop() {
						if warm {
							vitteReady(b, ctx, e.config(), dir, cacheDir)
						} else {
							vitteReady(b, ctx, e.config(), dir, "")
						}
					}
				})
			}
		}
	}

	b.Run("c-instance/wazero", func(b *testing.B) {
		wasm, err := os.ReadFile(fixture("hello-c") + "/hello-c.wasm")
		if err != nil {
			b.Fatal(err)
		}
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		if err := stubHost(ctx, r); err != nil {
			b.Fatal(err)
		}
		cm, err := r.CompileModule(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		cfg := wazero.NewModuleConfig().WithStdout(io.Discard).WithStartFunctions("_initialize").WithName("")
		b.ReportAllocs()
		for b.Loop() {
			mod, err := r.InstantiateModule(ctx, cm, cfg)
			if err != nil {
				b.Fatal(err)
			}
			rawFirstCall(b, ctx, mod)
			mod.Close(ctx)
		}
	})
	b.Run("c-instance/vitte-load", func(b *testing.B) {
		cache := runtime.NewCompilationCache()
		defer cache.Close(ctx)
		rt, err := runtime.New(ctx, runtime.NewConfig().WithCompilationCache(cache).WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		// A first plugin stays loaded: the compiled module stays in the
		// cache while a plugin uses it.
		keep, err := rt.Load(ctx, fixture("hello-c"))
		if err != nil {
			b.Fatal(err)
		}
		defer keep.Close(ctx)
		b.ReportAllocs()
		for b.Loop() {
			p, err := rt.Load(ctx, fixture("hello-c"))
			if err != nil {
				b.Fatal(err)
			}
			firstCall(b, func() ([]byte, error) { return p.Call(ctx, "count-vowels", readyInput) }, atoi)
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("c-instance/vitte-pool", func(b *testing.B) {
		rt, err := runtime.New(ctx, runtime.NewConfig().WithInstances(2).WithWarmInstances(2).WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		p, err := rt.Load(ctx, fixture("hello-c"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			firstCall(b, func() ([]byte, error) { return p.Call(ctx, "count-vowels", readyInput) }, atoi)
		}
	})

	extismManifest := func(b *testing.B) extism.Manifest {
		path, _ := extismWasm(b, countVowels)
		return extism.Manifest{Wasm: []extism.Wasm{extism.WasmFile{Path: path}}}
	}
	for _, warm := range []bool{false, true} {
		workload := "extism-cold"
		if warm {
			workload = "extism-warm"
		}
		b.Run(workload+"/extism", func(b *testing.B) {
			m := extismManifest(b)
			cacheDir := b.TempDir()
			ready := func() {
				rc := wazero.NewRuntimeConfig()
				var cache wazero.CompilationCache
				if warm {
					var err error
					if cache, err = wazero.NewCompilationCacheWithDir(cacheDir); err != nil {
						b.Fatal(err)
					}
					rc = rc.WithCompilationCache(cache)
				}
				p, err := extism.NewPlugin(ctx, m, extism.PluginConfig{EnableWasi: true, RuntimeConfig: rc}, nil)
				if err != nil {
					b.Fatal(err)
				}
				firstCall(b, func() ([]byte, error) { return extismCall(p, "count_vowels", readyInput) }, extismVowels)
				p.Close(ctx)
				if cache != nil {
					cache.Close(ctx)
				}
			}
			if warm {
				ready()
			}
			b.ReportAllocs()
			for b.Loop() {
				ready()
			}
		})
	}
	b.Run("extism-instance/extism", func(b *testing.B) {
		cp, err := extism.NewCompiledPlugin(ctx, extismManifest(b), extism.PluginConfig{EnableWasi: true}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer cp.Close(ctx)
		b.ReportAllocs()
		for b.Loop() {
			p, err := cp.Instance(ctx, extism.PluginInstanceConfig{})
			if err != nil {
				b.Fatal(err)
			}
			firstCall(b, func() ([]byte, error) { return extismCall(p, "count_vowels", readyInput) }, extismVowels)
			p.Close(ctx)
		}
	})

	for _, proto := range []hcplugin.Protocol{hcplugin.ProtocolNetRPC, hcplugin.ProtocolGRPC} {
		b.Run(fmt.Sprintf("process-start/hashicorp-%s", proto), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				kv, kill := startHashicorp(b, proto)
				firstCall(b, func() ([]byte, error) { return kv.Get(string(readyInput)) }, atoi)
				kill()
			}
		})
	}
}

func extismCall(p *extism.Plugin, fn string, input []byte) ([]byte, error) {
	rc, out, err := p.Call(fn, input)
	if err == nil && rc != 0 {
		err = fmt.Errorf("extism %s: exit code %d", fn, rc)
	}
	return out, err
}

// firstCall makes the first call of a ready benchmark and checks it.
func firstCall(tb testing.TB, call func() ([]byte, error), vowels func([]byte) (int, error)) {
	tb.Helper()
	out, err := call()
	if err != nil {
		tb.Fatal(err)
	}
	if n, err := vowels(out); err != nil || n != 3 {
		tb.Fatalf("first call: %q (%v), want 3 vowels", out, err)
	}
}

// rawReady is raw wazero's way to a first call: read, compile (from
// cacheDir's compilation cache if not ""), instantiate, _initialize,
// on-load, count-vowels.
func rawReady(tb testing.TB, ctx context.Context, path, cacheDir string) {
	rc := wazero.NewRuntimeConfig()
	if cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			tb.Fatal(err)
		}
		defer cache.Close(ctx)
		rc = rc.WithCompilationCache(cache)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	defer r.Close(ctx)
	rawFirstCall(tb, ctx, rawInstance(tb, ctx, r, path))
}

func rawFirstCall(tb testing.TB, ctx context.Context, mod api.Module) {
	if _, err := mod.ExportedFunction("on-load").Call(ctx); err != nil {
		tb.Fatal(err)
	}
	firstCall(tb, func() ([]byte, error) { return rawCaller(mod, "count-vowels")(ctx, readyInput) }, atoi)
}

// vitteReady is this runtime's way to a first call: a new runtime
// configured by cfg (with an on-disk compilation cache in cacheDir if not
// ""), Load, Call.
func vitteReady(tb testing.TB, ctx context.Context, cfg runtime.Config, dir, cacheDir string) {
	cfg = cfg.WithLogger(slog.New(slog.DiscardHandler))
	if cacheDir != "" {
		cache, err := runtime.NewDiskCompilationCache(cacheDir)
		if err != nil {
			tb.Fatal(err)
		}
		defer cache.Close(ctx)
		cfg = cfg.WithCompilationCache(cache)
	}
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, dir)
	if err != nil {
		tb.Fatal(err)
	}
	firstCall(tb, func() ([]byte, error) { return p.Call(ctx, "count-vowels", readyInput) }, atoi)
}

// BenchmarkScaling measures count vowels on 1 KiB from 1, 2, 4 and 8
// goroutines sharing the work of b.N calls; ns/op is wall time per call,
// so calls per second are 1e9 / ns/op. Each wazero goroutine has its own
// instance (a wazero module is not safe for concurrent calls); this
// runtime has one plugin with as many instances as goroutines; Extism has
// one compiled plugin and an instance per goroutine.
func BenchmarkScaling(b *testing.B) {
	ctx := context.Background()
	input := text(1 << 10)
	want := vowelsIn(input)
	for _, g := range []int{1, 2, 4, 8} {
		workload := fmt.Sprintf("count-vowels-1KiB-g%d", g)
		b.Run(workload+"/wazero", func(b *testing.B) {
			callers := make([]caller, g)
			for i := range callers {
				callers[i] = openRawWazero(b, countVowels)
			}
			parallel(b, callers, input, want, atoi)
		})
		b.Run(workload+"/vitte", func(b *testing.B) {
			call := vitteSystem(runtime.NewConfig().WithInstances(g).WithWarmInstances(g))(b, countVowels)
			callers := make([]caller, g)
			for i := range callers {
				callers[i] = call
			}
			parallel(b, callers, input, want, atoi)
		})
		b.Run(workload+"/extism", func(b *testing.B) {
			path, fn := extismWasm(b, countVowels)
			cp, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmFile{Path: path}}},
				extism.PluginConfig{EnableWasi: true}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { cp.Close(ctx) })
			callers := make([]caller, g)
			for i := range callers {
				p, err := cp.Instance(ctx, extism.PluginInstanceConfig{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { p.Close(ctx) })
				callers[i] = func(_ context.Context, in []byte) ([]byte, error) { return extismCall(p, fn, in) }
			}
			parallel(b, callers, input, want, extismVowels)
		})
		b.Run(workload+"/native", func(b *testing.B) {
			callers := make([]caller, g)
			for i := range callers {
				callers[i] = openNative(b, countVowels)
			}
			parallel(b, callers, input, want, atoi)
		})
	}
}

// parallel makes b.N calls from len(callers) goroutines, goroutine i
// calling callers[i], after one warm-up round in parallel (so that
// instances made on demand exist).
func parallel(b *testing.B, callers []caller, input []byte, want int, vowels func([]byte) (int, error)) {
	ctx := context.Background()
	run := func(n int64) {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, len(callers))
		for i, call := range callers {
			wg.Go(func() {
				for next.Add(1) <= n {
					out, err := call(ctx, input)
					if err == nil {
						var got int
						if got, err = vowels(out); err == nil && got != want {
							err = fmt.Errorf("%d vowels, want %d", got, want)
						}
					}
					if err != nil {
						errs[i] = err
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	run(int64(len(callers)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	run(int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkMetering measures what stopping a runaway guest costs, on a
// tight loop (bench-c spin, one million iterations) and a compute-heavy
// handler (bench-c sha256 of 1 MiB): raw wazero with no way to stop the
// guest (the baseline), this runtime (fuel metering injected into the
// module, every call with a deadline), and raw wazero with a deadline per
// call and WithCloseOnContextDone. internal/meter's BenchmarkRatios
// measures the metering pass alone, interleaved.
func BenchmarkMetering(b *testing.B) {
	ctx := context.Background()
	big := text(1 << 20)
	sum := sha256.Sum256(big)
	workloads := []struct {
		name, handler string
		input         []byte
		want          string
	}{
		{"spin-1M", "spin", []byte("1000000"), ""},
		{"sha256-1MiB", "sha256", big, hex.EncodeToString(sum[:])},
	}
	module := fixture("bench-c") + "/bench-c.wasm"
	for _, w := range workloads {
		var first []byte
		check := func(b *testing.B, out []byte) {
			switch {
			case w.want != "" && string(out) != w.want:
				b.Fatalf("%s: %q, want %q", w.handler, out, w.want)
			case first == nil:
				first = out
			case !bytes.Equal(out, first):
				b.Fatalf("%s: %q, then %q", w.handler, first, out)
			}
		}
		raw := func(b *testing.B, closeOnDone bool) {
			r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
			defer r.Close(ctx)
			call := rawCaller(rawInstance(b, ctx, r, module), w.handler)
			var out []byte
			for b.Loop() {
				cctx, cancel := ctx, context.CancelFunc(func() {})
				if closeOnDone {
					cctx, cancel = context.WithTimeout(ctx, time.Minute)
				}
				var err error
				if out, err = call(cctx, w.input); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
			check(b, out)
		}
		b.Run(w.name+"/wazero", func(b *testing.B) { raw(b, false) })
		for _, e := range engines {
			b.Run(w.name+"/"+e.name, func(b *testing.B) {
				rt, err := runtime.New(ctx, e.config().WithLogger(slog.New(slog.DiscardHandler)))
				if err != nil {
					b.Fatal(err)
				}
				defer rt.Close(ctx)
				p, err := rt.Load(ctx, fixture("bench-c"))
				if err != nil {
					b.Fatal(err)
				}
				var out []byte
				for b.Loop() {
					if out, err = p.Call(ctx, w.handler, w.input); err != nil {
						b.Fatal(err)
					}
				}
				check(b, out)
			})
		}
		b.Run(w.name+"/wazero-closeondone", func(b *testing.B) { raw(b, true) })
	}
}
