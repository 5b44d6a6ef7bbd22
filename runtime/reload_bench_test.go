package runtime_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// BenchmarkReload measures a hot reload of hello-c, whose module differs
// at each iteration (a custom section holds a counter) so that it is
// compiled every time, as after an edit:
//
//   - load: the baseline, a cold load of the new version then an unload
//     of it (what a restart without reload costs at least);
//   - reload-idle: Reload with no call in flight;
//   - reload-busy: Reload while 2 goroutines call greet without pause;
//   - reload-config: Reload of a version whose plugin.toml changed but not
//     its module, with a compilation cache: the swap without the compile.
//
// Besides ns/op (a whole reload), routed-ns/op is the time from the start
// of Reload to new calls going to the new version (read, check, compile,
// instantiate, on-load), and drained-ns/op from then to the old version
// unloaded (its calls in flight done, on-unload run).
func BenchmarkReload(b *testing.B) {
	ctx := context.Background()
	module, err := os.ReadFile(filepath.Join(fixture("hello-c"), "hello-c.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	toml, err := os.ReadFile(filepath.Join(fixture("hello-c"), "plugin.toml"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plugin.toml"), toml, 0o644); err != nil {
		b.Fatal(err)
	}
	n := uint64(0)
	next := func() { // a new version: the module with another custom section
		n++
		mod := append([]byte(nil), module...)
		payload := binary.BigEndian.AppendUint64([]byte("\x05bench"), n)
		mod = append(mod, 0, byte(len(payload)))
		mod = append(mod, payload...)
		if err := os.WriteFile(filepath.Join(dir, "hello-c.wasm"), mod, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	next() // the module of reload-config
	lc := runtime.NewLoadConfig().WithGrants(helloGrants)
	newRT := func(b *testing.B, cache bool) *runtime.Runtime {
		cfg := runtime.NewConfig().WithInstances(2).WithLogger(slog.New(slog.DiscardHandler))
		if cache {
			c := runtime.NewCompilationCache()
			b.Cleanup(func() { c.Close(ctx) })
			cfg = cfg.WithCompilationCache(c)
		}
		rt, err := runtime.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rt.Close(ctx) })
		return rt
	}

	b.Run("load", func(b *testing.B) {
		rt := newRT(b, false)
		for b.Loop() {
			next()
			p, err := rt.LoadWithConfig(ctx, dir, lc)
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	nextConfig := func() { // a new version: plugin.toml changed, same module
		n++
		t := bytes.Replace(toml, []byte(`greeting = "Hello"`), fmt.Appendf(nil, `greeting = "v%d"`, n), 1)
		if err := os.WriteFile(filepath.Join(dir, "plugin.toml"), t, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, v := range []struct {
		name        string
		busy, cache bool
		next        func()
	}{
		{"reload-idle", false, false, next},
		{"reload-busy", true, false, next},
		{"reload-config", false, true, nextConfig},
	} {
		busy, next := v.busy, v.next
		b.Run(v.name, func(b *testing.B) {
			rt := newRT(b, v.cache)
			next()
			rl, err := rt.LoadReloadable(ctx, dir, lc)
			if err != nil {
				b.Fatal(err)
			}
			defer rl.Close(ctx)
			var routed, drained time.Duration
			defer rl.Subscribe(func(e runtime.Event) {
				if e.Kind == runtime.EventReloaded {
					routed += e.Routed
					drained += e.Drained
				}
			})()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if busy {
				for range 2 {
					wg.Go(func() {
						for {
							select {
							case <-stop:
								return
							default:
							}
							if _, err := rl.Call(ctx, "greet", []byte("x")); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
			}
			iters := 0
			for b.Loop() {
				next()
				if err := rl.Reload(ctx); err != nil {
					b.Fatal(err)
				}
				iters++
			}
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(routed.Nanoseconds())/float64(iters), "routed-ns/op")
			b.ReportMetric(float64(drained.Nanoseconds())/float64(iters), "drained-ns/op")
		})
	}
}

// BenchmarkReloadableCall measures what routing through a Reloadable adds
// to a call of hello-c's empty handler: plugin is Plugin.Call (the
// baseline), reloadable is Reloadable.Call on the same plugin, each from
// GOMAXPROCS goroutines at once (the version's call count is one shared
// atomic).
func BenchmarkReloadableCall(b *testing.B) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	rl, err := rt.LoadReloadable(ctx, fixture("hello-c"), runtime.NewLoadConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer rl.Close(ctx)
	for _, c := range []struct {
		name string
		call func(context.Context, []byte, string, []byte) ([]byte, error)
	}{
		{"plugin", rl.Current().AppendCall},
		{"reloadable", rl.AppendCall},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 0, 64)
				for pb.Next() {
					if _, err := c.call(ctx, buf[:0], "empty", nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
