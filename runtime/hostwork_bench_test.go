package runtime_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// BenchmarkHostCallRatio measures what metering host calls costs: a
// handler making 64 small WASI calls (fd_write of 16 bytes to stdout,
// random_get of 32 bytes), through this runtime and through raw wazero
// (the same module, unmetered, with wazero's WASI), interleaved in batches
// as in BenchmarkCallRatio. x is vitte/wazero; run it on two commits to
// compare what each adds to the same baseline.
func BenchmarkHostCallRatio(b *testing.B) {
	// Each handler resets cabi_realloc's heap (its pointer is at 0), so
	// that inputs do not fill the memory.
	resetHeap := wasmgen.Cat(wasmgen.I32Const(0), wasmgen.I32Const(0), []byte{0x36, 0x02, 0x00})
	m := wasmgen.Plugin(
		repeat("write", wasmgen.Cat(resetHeap, iovecAt(16)), fdWrite(1)),
		repeat("random", resetHeap, randomGet(32)),
	)
	m.Imports = []wasmgen.Import{
		{Module: "wasi_snapshot_preview1", Name: "fd_write", Type: typeFdWrite},
		{Module: "wasi_snapshot_preview1", Name: "random_get", Type: typeRandomGet},
	}
	m.MemoryMin = 2
	wasm := m.Bytes()
	const calls, batch = 64, 64
	input := bytes.Repeat([]byte("x"), calls)
	ctx := context.Background()
	for _, handler := range []string{"write", "random"} {
		for _, eng := range runtime.Engines() {
			b.Run(handler+"/"+string(eng), func(b *testing.B) {
				rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(eng).WithStdout(io.Discard).
					WithLogger(slog.New(slog.DiscardHandler)))
				if err != nil {
					b.Fatal(err)
				}
				defer rt.Close(ctx)
				dir := b.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(basicManifest), 0o644); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "made.wasm"), wasm, 0o644); err != nil {
					b.Fatal(err)
				}
				p, err := rt.Load(ctx, dir)
				if err != nil {
					b.Fatal(err)
				}
				r := wazero.NewRuntime(ctx)
				defer r.Close(ctx)
				wasi_snapshot_preview1.MustInstantiate(ctx, r)
				mod, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStdout(io.Discard).WithName(""))
				if err != nil {
					b.Fatal(err)
				}
				fn := mod.ExportedFunction(handler)
				stack := make([]uint64, 2)
				var out []byte
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
						stack[0], stack[1] = 0, calls
						if err := fn.CallWithStack(ctx, stack); err != nil {
							b.Fatal(err)
						}
					}
					tw += time.Since(t1)
					tv += t1.Sub(t0)
				}
				n := float64(b.N) * batch
				b.ReportMetric(float64(tv.Nanoseconds())/n, "vitte-ns/call")
				b.ReportMetric(float64(tw.Nanoseconds())/n, "wazero-ns/call")
				b.ReportMetric(float64(tv)/float64(tw), "x")
			})
		}
	}
}
