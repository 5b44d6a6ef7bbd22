//go:build wasmtime

package runtime

import (
	"context"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine/wasmtimeengine"
)

const wasmtimeBuilt = true

func newWasmtime(ctx context.Context, cfg Config, hosts []engine.HostFunc) (engine.Engine, error) {
	opts := wasmtimeengine.Options{HostFuncs: hosts}
	if c, ok := cfg.cache.(*compilationCache); ok {
		wc, err := c.engineCache(EngineWasmtime, func(dir string) (any, error) { return wasmtimeengine.NewCache(dir) })
		if err != nil {
			return nil, err
		}
		opts.Cache = wc.(*wasmtimeengine.Cache)
	}
	return wasmtimeengine.New(ctx, opts)
}
