package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine/wazeroengine"
)

// Engine names the WebAssembly engine a Runtime runs plugins on. Both give
// a plugin the same ABI, the same capabilities and limits, the same
// outputs and the same errors (see docs/RATIONALE.md, "Two engines").
type Engine string

const (
	// EngineWazero is wazero, in pure Go: the default, always built in.
	EngineWazero Engine = "wazero"
	// EngineWasmtime is wasmtime, through cgo: built in only with the
	// wasmtime build tag (go build -tags wasmtime).
	EngineWasmtime Engine = "wasmtime"
)

// ErrEngineUnavailable is returned by New for an engine this binary was
// built without.
var ErrEngineUnavailable = errors.New("engine not built into this binary")

// Engines returns the engines built into this binary.
func Engines() []Engine {
	if wasmtimeBuilt {
		return []Engine{EngineWazero, EngineWasmtime}
	}
	return []Engine{EngineWazero}
}

// ParseEngine returns the engine named s ("wazero" or "wasmtime"), whether
// or not it is built in.
func ParseEngine(s string) (Engine, error) {
	e := Engine(s)
	if e != EngineWazero && e != EngineWasmtime {
		return "", fmt.Errorf("unknown engine %q (known: %s, %s)", s, EngineWazero, EngineWasmtime)
	}
	return e, nil
}

// WithEngine makes the runtime run plugins on e (default EngineWazero).
// New fails with ErrEngineUnavailable if the binary was built without it.
func (c Config) WithEngine(e Engine) Config {
	c.engine = e
	return c
}

// newEngine creates the engine cfg names, with the host functions hosts.
func newEngine(ctx context.Context, cfg Config, hosts []engine.HostFunc) (engine.Engine, error) {
	switch cfg.engine {
	case "", EngineWazero:
		opts := wazeroengine.Options{HostFuncs: hosts}
		if c, ok := cfg.cache.(*compilationCache); ok {
			opts.Cache = c.c
		}
		return wazeroengine.New(ctx, opts)
	case EngineWasmtime:
		if !slices.Contains(Engines(), EngineWasmtime) {
			return nil, fmt.Errorf("%w: %s (rebuild with -tags wasmtime)", ErrEngineUnavailable, cfg.engine)
		}
		return newWasmtime(ctx, cfg, hosts)
	}
	return nil, fmt.Errorf("%w: %q", ErrEngineUnavailable, cfg.engine)
}
