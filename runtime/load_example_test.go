package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Load a plugin from memory (an embedded file, a database, a network
// message), with tighter limits than its manifest asks for.
func ExampleRuntime_LoadBytes() {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	manifestTOML := []byte(`[plugin]
name    = "hello-c"
version = "0.1.0"
kind    = "c"
module  = "hello-c.wasm"

[config]
greeting = "Bonjour"

[limits]
timeout = "5s"
`)
	module, err := os.ReadFile("../testdata/wasm/hello-c/hello-c.wasm") // or go:embed
	if err != nil {
		panic(err)
	}
	lc := runtime.NewLoadConfig().WithTimeout(time.Second).WithMemory(16 << 20)
	p, err := rt.LoadBytes(ctx, manifestTOML, module, lc)
	if err != nil {
		panic(err)
	}
	defer p.Close(ctx)
	out, err := p.Call(ctx, "greet", []byte("Ada"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	for _, l := range p.Limits().Lowered {
		fmt.Println(l)
	}

	_, err = rt.LoadBytes(ctx, []byte("[plugin]\nname = \"x\"\n"), module, lc)
	fmt.Println(errors.Is(err, runtime.ErrManifest))
	// Output:
	// Bonjour, Ada!
	// limits.memory 64MiB lowered to 16MiB by the load config
	// limits.timeout 5s lowered to 1s by the load config
	// true
}

// Load a plugin whose manifest is built in Go rather than read from a file.
func ExampleRuntime_LoadManifest() {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	module, err := os.ReadFile("../testdata/wasm/hello-c/hello-c.wasm")
	if err != nil {
		panic(err)
	}
	m := &manifest.Manifest{
		Plugin: manifest.Plugin{Name: "hello-c", Version: "0.1.0", Kind: manifest.KindC, Module: "hello-c.wasm"},
		Limits: manifest.DefaultLimits(),
	}
	p, err := rt.LoadManifest(ctx, m, module, runtime.NewLoadConfig())
	if err != nil {
		panic(err)
	}
	defer p.Close(ctx)
	out, err := p.Call(ctx, "greet", []byte("Ada"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// Hello, Ada!
}
