package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
)

// BenchmarkPython measures a Python plugin (hello-py) next to the same
// handlers in C (hello-c), each name ending in the fixture:
//
//	ready-cold   a load with nothing compiled: read, check, meter, compile,
//	             instantiate, on-load (for Python: initialise CPython,
//	             import the script), then unload
//	ready-warm   the same, the compiled module coming from a disk
//	             compilation cache filled before the timer starts
//	ready-pooled a new instance of the already compiled plugin (what
//	             replaces an instance after a trap or a timeout)
//	call-empty, call-echo-1KiB   one call on an idle pooled instance
//
// docs/benchmarks.md "Python plugins" has the numbers.
func BenchmarkPython(b *testing.B) {
	ctx := context.Background()
	dir, err := python.DefaultDir()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := python.Find(dir); err != nil {
		b.Skip(err)
	}
	quiet := NewConfig().WithLogger(slog.New(slog.DiscardHandler))
	for _, name := range []string{"hello-c", "hello-py"} {
		path := filepath.Join("..", "testdata", "wasm", name)
		b.Run("ready-cold/"+name, func(b *testing.B) {
			for b.Loop() {
				rt, err := New(ctx, quiet)
				if err != nil {
					b.Fatal(err)
				}
				p, err := rt.Load(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				p.Close(ctx)
				rt.Close(ctx)
			}
		})
		b.Run("ready-warm/"+name, func(b *testing.B) {
			// On disk: an in-memory cache forgets a module when its
			// plugin closes.
			cache, err := NewDiskCompilationCache(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer cache.Close(ctx)
			load := func() {
				rt, err := New(ctx, quiet.WithCompilationCache(cache))
				if err != nil {
					b.Fatal(err)
				}
				p, err := rt.Load(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				p.Close(ctx)
				rt.Close(ctx)
			}
			load()
			b.ResetTimer()
			for b.Loop() {
				load()
			}
		})
		b.Run("ready-pooled/"+name, func(b *testing.B) {
			rt, err := New(ctx, quiet)
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close(ctx)
			p, err := rt.Load(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				inst, err := p.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := inst.inst.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, c := range []struct {
			bench, handler string
			input          []byte
		}{
			{"call-empty", "empty", nil},
			{"call-echo-1KiB", "echo", bytes.Repeat([]byte("a"), 1<<10)},
		} {
			b.Run(c.bench+"/"+name, func(b *testing.B) {
				rt, err := New(ctx, quiet)
				if err != nil {
					b.Fatal(err)
				}
				defer rt.Close(ctx)
				p, err := rt.Load(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := p.Call(ctx, c.handler, c.input); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
