package runtime_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Raise the compile limits for plugins with large generated state
// machines, and see how the runtime compiles a module.
func ExampleConfig_WithCompileLimits() {
	ctx := context.Background()
	limits := runtime.DefaultCompileLimits()
	limits.MaxBrTable = 1 << 18      // refused past this
	limits.CompilerBrTable = 1 << 14 // interpreted past this
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCompileLimits(limits))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	ins, err := rt.Inspect("../testdata/wasm/hello-c")
	if errors.Is(err, runtime.ErrCompileLimit) {
		fmt.Println("refused:", err)
		return
	}
	if err != nil {
		panic(err)
	}
	fmt.Println(ins.Compiler)
	// Output: wazero compiler
}
