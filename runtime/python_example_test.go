package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// A plugin of kind "python" runs on the interpreter in the folder given by
// WithPythonDir (default: python.DefaultDir()). Without one, its load says
// how to build it.
func ExampleConfig_WithPythonDir() {
	ctx := context.Background()
	empty, _ := os.MkdirTemp("", "no-python-")
	defer os.RemoveAll(empty)
	rt, err := runtime.New(ctx, runtime.NewConfig().WithPythonDir(empty))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	_, err = rt.Load(ctx, "../testdata/wasm/hello-py")
	fmt.Println(errors.Is(err, python.ErrNotBuilt))
	// Output:
	// true
}
