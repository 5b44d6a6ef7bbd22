package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// HostFunc is a function the application provides to plugins under a
// dotted name ("compiler.ast"). A plugin reaches it through host.call,
// with a payload of bytes; the returned bytes, or the error's message, go
// back to the plugin.
//
// ctx is the plugin call's context with the call's deadline
// (limits.timeout). A HostFunc should return when ctx is done: the call
// does not wait for it. Once ctx is done (the deadline passed, the caller
// cancelled, or the plugin's Close cancelled its calls), the call fails
// with ErrTimeout or ErrCanceled whatever the function returns, the guest
// runs no further, and a function still running goes on in its own
// goroutine, its result dropped. It runs in a goroutine of its own in
// every case; payload is its own copy.
type HostFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Runtime loads and runs plugins. It is safe for concurrent use. Create it
// with New; Close it to free every plugin it loaded.
type Runtime struct {
	cfg    Config
	engine engine.Engine
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
	tel    *telemetry // nil without providers (telemetry.go)

	mu        sync.RWMutex
	hostFuncs map[string]HostFunc
	plugins   map[*Plugin]struct{}
	closed    bool
}

// New creates a runtime with the configuration cfg.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.maxOutput == 0 && cfg.maxMemory == 0 {
		return nil, errors.New("new runtime: the zero Config is not usable: start from NewConfig()")
	}
	if err := cfg.compileLimits.effective().validate(); err != nil {
		return nil, fmt.Errorf("new runtime: %w", err)
	}
	rt := &Runtime{
		cfg:       cfg,
		stdout:    &lockedWriter{w: cfg.stdout},
		stderr:    &lockedWriter{w: cfg.stderr},
		logger:    cfg.logger,
		hostFuncs: map[string]HostFunc{},
		plugins:   map[*Plugin]struct{}{},
	}
	if rt.logger == nil {
		rt.logger = slog.Default()
	}
	tel, err := newTelemetry(cfg.tel)
	if err != nil {
		return nil, fmt.Errorf("new runtime: telemetry: %w", err)
	}
	rt.tel = tel
	eng, err := newEngine(ctx, cfg, rt.profiled(rt.hostModule()))
	if err != nil {
		return nil, fmt.Errorf("new runtime: %w", err)
	}
	if err := checkProfiling(cfg.profile, eng); err != nil {
		return nil, errors.Join(fmt.Errorf("new runtime: %w", err), eng.Close(ctx))
	}
	rt.engine = eng
	return rt, nil
}

// RegisterHostFunc makes fn available to plugins as the host call name.
// A plugin reaches it only if its manifest's [capabilities].host patterns
// match name. Registering a name again replaces the function. name is
// written as manifests write host calls: dotted lower-case segments of
// [a-z0-9_-], like "compiler.ast" (see manifest.CheckHostCallName). It
// panics if name is not such a name or fn is nil: those are programming
// errors.
func (r *Runtime) RegisterHostFunc(name string, fn HostFunc) {
	if fn == nil {
		panic("runtime: RegisterHostFunc needs a name and a function")
	}
	if err := manifest.CheckHostCallName(name); err != nil {
		panic("runtime: RegisterHostFunc: " + err.Error())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hostFuncs[name] = fn
}

// HostFuncs returns the names of the registered host functions, sorted.
func (r *Runtime) HostFuncs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.hostFuncs))
	for n := range r.hostFuncs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *Runtime) hostFunc(name string) (HostFunc, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn, ok := r.hostFuncs[name]
	return fn, ok
}

// Close unloads every plugin still loaded (running on-unload) and frees the
// engine. The plugins close in parallel, each as Plugin.Close does: when
// ctx ends, the calls still in flight are cancelled (they fail with
// ErrCanceled wrapping ErrClosed) and the on-unload hooks not yet run are
// skipped, so that Close returns soon after ctx ends, its error then
// wrapping ctx.Err(), joined with any other error. Everything is freed in
// every case. A second Close returns nil.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	plugins := make([]*Plugin, 0, len(r.plugins))
	for p := range r.plugins {
		plugins = append(plugins, p)
	}
	r.mu.Unlock()
	errs := make([]error, len(plugins)+1)
	var wg sync.WaitGroup
	for i, p := range plugins {
		wg.Go(func() { errs[i] = p.Close(ctx) })
	}
	wg.Wait()
	// Freeing must not depend on ctx: it is done whatever ctx says.
	errs[len(plugins)] = r.engine.Close(context.WithoutCancel(ctx))
	return errors.Join(errs...)
}

var errRuntimeClosed = errors.New("runtime is closed")

func (r *Runtime) isClosed() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.closed
}

func (r *Runtime) track(p *Plugin) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errRuntimeClosed
	}
	r.plugins[p] = struct{}{}
	return nil
}

func (r *Runtime) untrack(p *Plugin) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.plugins, p)
}

func (r *Runtime) wasiFunc(name string) (abi.FuncType, bool) { return r.engine.WASIFunc(name) }

// lockedWriter serialises writes from concurrent instances.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
