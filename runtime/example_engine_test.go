package runtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Run plugins on wasmtime when the binary has it (go build -tags
// wasmtime), else on wazero: the output is the same.
func ExampleConfig_WithEngine() {
	ctx := context.Background()
	engine := runtime.EngineWazero
	if slices.Contains(runtime.Engines(), runtime.EngineWasmtime) {
		engine = runtime.EngineWasmtime
	}
	rt, err := runtime.New(ctx, runtime.NewConfig().WithEngine(engine).WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, "../testdata/wasm/hello-c")
	if err != nil {
		panic(err)
	}
	out, err := p.Call(ctx, "greet", []byte("engines"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output: Hello, engines!
}

// Parse an engine name, as from a command-line flag.
func ExampleParseEngine() {
	for _, name := range []string{"wasmtime", "v8"} {
		e, err := runtime.ParseEngine(name)
		fmt.Println(e, err)
	}
	// Output:
	// wasmtime <nil>
	//  unknown engine "v8" (known: wazero, wasmtime)
}
