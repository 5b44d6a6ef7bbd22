package runtime

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTelemetryOff measures what the telemetry hook costs a call
// when no provider is set: the same plugin is called through Plugin.call
// (the hook: one nil check) and through Plugin.run (the call without it,
// the code before telemetry) in interleaved batches; x is their ratio
// (hook/no hook), which should be 1 within noise.
func BenchmarkTelemetryOff(b *testing.B) {
	const batch = 256
	ctx := context.Background()
	rt, err := New(ctx, NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, filepath.Join("..", "testdata", "wasm", "hello-c"))
	if err != nil {
		b.Fatal(err)
	}
	input := []byte("a")
	var out []byte
	var hook, direct time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			if out, err = p.call(ctx, "empty", input, out[:0], true); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range batch {
			if out, err = p.run(ctx, "empty", input, out[:0], true, nil); err != nil {
				b.Fatal(err)
			}
		}
		direct += time.Since(t1)
		hook += t1.Sub(t0)
	}
	n := float64(b.N) * float64(batch)
	b.ReportMetric(float64(hook.Nanoseconds())/n, "hook-ns/call")
	b.ReportMetric(float64(direct.Nanoseconds())/n, "nohook-ns/call")
	b.ReportMetric(float64(hook)/float64(direct), "x")
}
