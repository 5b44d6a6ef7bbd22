//go:build !wasmtime

package runtime

import (
	"context"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

const wasmtimeBuilt = false

func newWasmtime(context.Context, Config, []engine.HostFunc) (engine.Engine, error) {
	panic("unreachable: wasmtime is not built in")
}
