package meter

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// benchQuantum is the quantum of the metered benchmarks: about a
// millisecond of guest work between two checks of the context.
const benchQuantum = 1 << 20

// BenchmarkMeter compares, with wazero directly, what it costs to be able
// to stop a guest: plain (no way to stop it), metered (this package; the
// host's out_of_fuel checks the context every quantum), metered-global
// (the same, with the counter never cached in a local) and closeondone
// (wazero's WithCloseOnContextDone with a deadline on every call, what the
// runtime does today). Workloads: bench-c's spin (a tight loop of one
// million iterations) and fnv1a (over 1 MiB), and hello-c's empty handler
// (the cost of a call).
func BenchmarkMeter(b *testing.B) {
	benchC := fixture(b, "bench-c", "bench-c.wasm")
	helloC := fixture(b, "hello-c", "hello-c.wasm")
	workloads := []struct {
		name    string
		wasm    []byte
		handler string
		input   []byte
		bytes   int64
	}{
		{"spin-1M", benchC, "spin", []byte("1000000"), 0},
		{"fnv1a-1MiB", benchC, "fnv1a", bytes.Repeat([]byte("vitte"), 1<<20/5), 1 << 20},
		{"empty", helloC, "empty", nil, 0},
	}
	for _, w := range workloads {
		for _, v := range []string{"plain", "metered", "metered-global", "closeondone"} {
			b.Run(w.name+"/"+v, func(b *testing.B) {
				benchVariant(b, v, w.wasm, w.handler, w.input)
				b.SetBytes(w.bytes)
			})
		}
	}
}

func benchVariant(b *testing.B, variant string, wasm []byte, handler string, input []byte) {
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfig().WithCloseOnContextDone(variant == "closeondone")
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	defer r.Close(ctx)
	if err := stubPluginHost(ctx, r); err != nil {
		b.Fatal(err)
	}
	// The metered calls share one context with a distant deadline: the
	// host checks it at each refill; nothing is created per call.
	callCtx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	h := &fuelHost{quantum: benchQuantum, stop: func(ctx context.Context) error { return ctx.Err() }}
	metered := variant == "metered" || variant == "metered-global"
	if metered {
		var err error
		if wasm, err = Instrument(wasm, Options{globalOnly: variant == "metered-global"}); err != nil {
			b.Fatal(err)
		}
		if err := h.instantiate(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	p, err := newPlugin(ctx, r, wasm)
	if err != nil {
		b.Fatal(err)
	}
	var want []byte
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cctx := callCtx
		var cancel context.CancelFunc
		if variant == "closeondone" {
			cctx, cancel = context.WithTimeout(ctx, time.Minute)
		}
		if metered {
			h.start(p.mod)
		}
		tag, out, err := p.call(cctx, handler, input)
		if cancel != nil {
			cancel()
		}
		if err != nil || tag != 0 {
			b.Fatalf("%s: tag %d, %q, %v", handler, tag, out, err)
		}
		if want == nil {
			want = out
		} else if !bytes.Equal(out, want) {
			b.Fatalf("%s: %q, then %q", handler, want, out)
		}
	}
	if metered {
		b.ReportMetric(float64(h.used()), "fuel/op")
	}
}
