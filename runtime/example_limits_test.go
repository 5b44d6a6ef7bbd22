package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// Bound the call stack of every call (a recursion past it ends in a
// trap, at the same depth on every engine) and the elements of every
// instance's tables (table.grow past them returns -1 in the guest).
func ExampleConfig_WithMaxStack() {
	ctx := context.Background()
	cfg := runtime.NewConfig().WithMaxStack(64 << 10).WithMaxTableElements(10_000)
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, "../testdata/wasm/hostile")
	if err != nil {
		panic(err)
	}
	defer p.Close(ctx)

	_, err = p.Call(ctx, "recurse", nil) // recurses without end
	msg := err.Error()
	fmt.Println(errors.Is(err, runtime.ErrTrap))
	fmt.Println(msg[strings.Index(msg, "trap:"):strings.Index(msg, " (a frame")])
	// Output:
	// true
	// trap: stack overflow: the call stack went past its limit of 64KiB
}
