package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Load a plugin, call its handlers, unload it.
func Example() {
	ctx := context.Background()
	cfg := runtime.NewConfig().
		WithStdout(os.Stdout). // the plugin's stdout
		WithLogger(slog.New(slog.DiscardHandler))
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	p, err := rt.Load(ctx, "../testdata/wasm/hello-c") // runs on-load
	if err != nil {
		panic(err)
	}
	out, err := p.Call(ctx, "greet", []byte("world"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))

	_, err = p.Call(ctx, "fail", []byte("boom"))
	var ge *runtime.GuestError
	if errors.As(err, &ge) {
		fmt.Println("the plugin said:", ge.Message)
	}
	if err := p.Close(ctx); err != nil { // runs on-unload
		panic(err)
	}
	// Output:
	// hello-c: loaded
	// Hello, world!
	// the plugin said: fail: boom
	// hello-c: unloaded
}

// Give plugins a function of the application, reachable through host.call
// by plugins whose manifest asks for it ([capabilities].host = ["test.*"])
// and that were granted it.
func ExampleRuntime_RegisterHostFunc() {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	rt.RegisterHostFunc("test.version", func(ctx context.Context, payload []byte) ([]byte, error) {
		return []byte("v1.2.3 (asked with " + string(payload) + ")"), nil
	})
	grants := capabilities.NewGrants().WithHostCall("test.version")
	p, err := rt.LoadWithConfig(ctx, "../testdata/wasm/hello-c", runtime.NewLoadConfig().WithGrants(grants))
	if err != nil {
		panic(err)
	}
	// hello-c's call-host handler calls the host function named by its input.
	out, err := p.Call(ctx, "call-host", []byte("test.version"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: v1.2.3 (asked with ping)
}

// Override a plugin's [config] values at load time.
func ExampleLoadConfig_WithConfigValue() {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	lc := runtime.NewLoadConfig().WithConfigValue("greeting", "Bonjour")
	p, err := rt.LoadWithConfig(ctx, "../testdata/wasm/hello-c", lc)
	if err != nil {
		panic(err)
	}
	out, _ := p.Call(ctx, "greet", []byte("monde"))
	fmt.Println(string(out))
	// Output: Bonjour, monde!
}

// Bound what one call, or one on-load, of a plugin may write to stdout
// and to stderr; a write past the limit fails in the plugin, and is
// audited.
func ExampleConfig_WithStdioLimit() {
	ctx := context.Background()
	cfg := runtime.NewConfig().
		WithStdout(os.Stdout).
		WithStdioLimit(8). // bytes a call, for stdout and for stderr each
		WithAuditor(func(e capabilities.Event) {
			if e.Kind == capabilities.KindLimit {
				fmt.Println("audit:", e.Resource, e.Function, e.Rule)
			}
		}).
		WithLogger(slog.New(slog.DiscardHandler))
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, "../testdata/wasm/hello-c") // on-load prints "hello-c: loaded"
	if err != nil {
		panic(err)
	}
	if err := p.Close(ctx); err != nil { // on-unload prints "hello-c: unloaded"
		panic(err)
	}
	// Output:
	// audit: stdout on-load stdout limit 8 bytes a call: write of 15 bytes after 0 refused
	// audit: stdout on-unload stdout limit 8 bytes a call: write of 18 bytes after 0 refused
}
