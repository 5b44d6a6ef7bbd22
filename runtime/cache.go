package runtime

import (
	"context"
	"fmt"
	"sync"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine/wazeroengine"
)

// CompilationCache keeps compiled modules so that loading the same module
// again, in this runtime or another one sharing the cache, skips the
// compilation (the bulk of a cold load). Create one with
// NewCompilationCache or NewDiskCompilationCache; share it with
// Config.WithCompilationCache.
//
// # Notes
//
// It is an interface for decoupling, not for third-party implementations.
type CompilationCache interface {
	// Close frees the cache. Runtimes using it must be closed first.
	Close(ctx context.Context) error
	sealed()
}

type compilationCache struct {
	c   wazeroengine.Cache
	dir string // "" for a cache in memory

	mu     sync.Mutex
	others map[Engine]any // the caches of the other engines, made on first use
}

// engineCache returns the cache of engine e, made by mk(dir) the first time.
func (c *compilationCache) engineCache(e Engine, mk func(dir string) (any, error)) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.others[e]; ok {
		return v, nil
	}
	v, err := mk(c.dir)
	if err != nil {
		return nil, fmt.Errorf("compilation cache %s: %w", c.dir, err)
	}
	if c.others == nil {
		c.others = map[Engine]any{}
	}
	c.others[e] = v
	return v, nil
}

func (c *compilationCache) Close(ctx context.Context) error { return c.c.Close(ctx) }
func (c *compilationCache) sealed()                         {}

// NewCompilationCache returns a cache held in memory.
func NewCompilationCache() CompilationCache {
	return &compilationCache{c: wazeroengine.NewCache()}
}

// NewDiskCompilationCache returns a cache kept in dir, created 0700 if
// missing, shared safely by concurrent processes. Compiled code is keyed by
// the module's content and the engine's version.
func NewDiskCompilationCache(dir string) (CompilationCache, error) {
	c, err := wazeroengine.NewDiskCache(dir)
	if err != nil {
		return nil, fmt.Errorf("compilation cache %s: %w", dir, err)
	}
	return &compilationCache{c: c, dir: dir}, nil
}

// WithCompilationCache makes the runtime keep compiled modules in c
// (default: none; each Load compiles).
func (c Config) WithCompilationCache(cache CompilationCache) Config {
	c.cache = cache
	return c
}
