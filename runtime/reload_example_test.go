package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Replace a running plugin by a new version: on-load of the new one runs
// first, then calls go to it, then the old one is unloaded.
func ExampleRuntime_LoadReloadable() {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithStdout(os.Stdout).WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	dir, err := os.MkdirTemp("", "hello")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for _, f := range []string{"plugin.toml", "hello-c.wasm"} {
		b, _ := os.ReadFile(filepath.Join("..", "testdata", "wasm", "hello-c", f))
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}

	rl, err := rt.LoadReloadable(ctx, dir, runtime.NewLoadConfig())
	if err != nil {
		panic(err)
	}
	defer rl.Close(ctx)
	out, _ := rl.Call(ctx, "greet", []byte("world"))
	fmt.Println(string(out))

	// A new version: another greeting.
	toml, _ := os.ReadFile(filepath.Join(dir, "plugin.toml"))
	os.WriteFile(filepath.Join(dir, "plugin.toml"), bytes.Replace(toml, []byte(`"Hello"`), []byte(`"Bonjour"`), 1), 0o644)
	if err := rl.Reload(ctx); err != nil {
		panic(err)
	}
	out, _ = rl.Call(ctx, "greet", []byte("world"))
	fmt.Println(string(out))

	// A broken version is refused; the one before keeps serving.
	os.WriteFile(filepath.Join(dir, "hello-c.wasm"), []byte("not wasm"), 0o644)
	err = rl.Reload(ctx)
	var re *runtime.ReloadError
	fmt.Println("refused:", errors.As(err, &re))
	out, _ = rl.Call(ctx, "greet", []byte("world"))
	fmt.Println(string(out))
	// Output:
	// hello-c: loaded
	// Hello, world!
	// hello-c: loaded
	// hello-c: unloaded
	// Bonjour, world!
	// refused: true
	// Bonjour, world!
	// hello-c: unloaded
}

// A plugin that keeps trapping is quarantined: calls fail at once until it
// is released.
func ExampleConfig_WithQuarantine() {
	ctx := context.Background()
	cfg := runtime.NewConfig().
		WithQuarantine(2, time.Minute). // 2 traps or timeouts within a minute
		WithLogger(slog.New(slog.DiscardHandler)).
		WithEvents(func(e runtime.Event) { fmt.Println("event:", e.Kind) })
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, "../testdata/wasm/hostile")
	if err != nil {
		panic(err)
	}
	p.Call(ctx, "trap", nil)
	p.Call(ctx, "trap", nil)
	_, err = p.Call(ctx, "ok", nil)
	fmt.Println("quarantined:", errors.Is(err, runtime.ErrQuarantined))
	p.Release("fixed the input")
	out, _ := p.Call(ctx, "ok", nil)
	fmt.Println(string(out))
	// Output:
	// event: quarantined
	// quarantined: true
	// event: released
	// still fine
}
