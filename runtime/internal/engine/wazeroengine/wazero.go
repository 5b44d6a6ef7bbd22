// Package wazeroengine implements the engine interface with wazero, a
// WebAssembly runtime in pure Go.
package wazeroengine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// Options configure the engine.
type Options struct {
	// HostFuncs are instantiated once as host modules, importable by every
	// guest.
	HostFuncs []engine.HostFunc
	// Cache, when set, is a compilation cache shared across engines.
	Cache *Cache
	// CloseOnContextDone makes wazero stop a guest when its context is done
	// (costly: a goroutine per call and checks in every loop). Without it,
	// the runtime stops guests through metering.
	CloseOnContextDone bool
	// Interpreter makes the engine compile with wazero's interpreter
	// rather than its optimizing compiler (and without Cache, which holds
	// machine code). An engine with the compiler also interprets, on
	// request: see Interpreted.
	Interpreter bool
}

// Interpreted is implemented by the engine with the optimizing compiler:
// CompileInterpreted compiles wasm with wazero's interpreter instead, in a
// second wazero runtime with the same host functions, made on first use.
//
// wazero's compiler takes time and memory far beyond linear in the
// nesting depth and the br_table sizes of a function (40,000 nested loops:
// 41 s), its interpreter a few milliseconds: the host routes modules past
// its thresholds to the interpreter (see docs/security.md, "Compilation").
type Interpreted interface {
	CompileInterpreted(ctx context.Context, wasm []byte) (engine.Module, error)
}

type eng struct {
	rt    wazero.Runtime
	cache *Cache // or nil
	opts  Options

	imu    sync.Mutex
	interp *eng // the interpreter (see Interpreted), made on first use; nil for an interpreter
	closed bool // guarded by imu

	mu       sync.Mutex
	compiled map[[sha256.Size]byte]*compiled // open modules, by SHA-256
	wasi     map[string]abi.FuncType
	fs       *fsInstances
	work     *workInstances
}

// New creates an engine.
func New(ctx context.Context, opts Options) (engine.Engine, error) {
	e, err := newEng(ctx, opts)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func newEng(ctx context.Context, opts Options) (*eng, error) {
	cfg := wazero.NewRuntimeConfig() // the compiler where wazero has one
	if opts.Interpreter {
		cfg, opts.Cache = wazero.NewRuntimeConfigInterpreter(), nil
	}
	cfg = cfg.WithCloseOnContextDone(opts.CloseOnContextDone)
	if opts.Cache != nil {
		cfg = cfg.WithCompilationCache(opts.Cache.CompilationCache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	e := &eng{rt: rt, cache: opts.Cache, opts: opts, compiled: map[[sha256.Size]byte]*compiled{}, wasi: map[string]abi.FuncType{}, fs: &fsInstances{}, work: &workInstances{}}
	fail := func(err error) (*eng, error) {
		return nil, errors.Join(err, rt.Close(ctx))
	}
	cm, err := newWASI(ctx, rt, e.fs, e.work) // wazero's, metered, with file system refusals reported
	if err != nil {
		return fail(fmt.Errorf("instantiate WASI: %w", err))
	}
	for name, def := range cm.ExportedFunctions() {
		e.wasi[name] = funcType(def)
	}
	byModule := map[string][]engine.HostFunc{}
	var order []string
	for _, h := range opts.HostFuncs {
		if _, ok := byModule[h.Module]; !ok {
			order = append(order, h.Module)
		}
		byModule[h.Module] = append(byModule[h.Module], h)
	}
	for _, mod := range order {
		hctx := ctx
		if l := stackListeners(byModule[mod]); l != nil {
			hctx = experimental.WithFunctionListenerFactory(ctx, l)
		}
		b := rt.NewHostModuleBuilder(mod)
		for _, h := range byModule[mod] {
			b.NewFunctionBuilder().
				WithGoModuleFunction(hostFunc(h.Fn), valueTypes(h.Type.Params), valueTypes(h.Type.Results)).
				WithName(h.Name).
				Export(h.Name)
		}
		if _, err := b.Instantiate(hctx); err != nil {
			return fail(fmt.Errorf("instantiate host module %q: %w", mod, err))
		}
	}
	return e, nil
}

// Profiles is true: host functions with a Stack get the guest's stack.
func (e *eng) Profiles() bool { return true }

// stackListeners returns a listener factory calling the Stack of those of
// hosts that have one, or nil when none has. wazero calls a host
// function's listener before the function, with an iterator over the
// caller's stack: the host function itself, then the guest's frames.
func stackListeners(hosts []engine.HostFunc) experimental.FunctionListenerFactory {
	byName := map[string]func(context.Context, []engine.Frame){}
	for _, h := range hosts {
		if h.Stack != nil {
			byName[h.Name] = h.Stack
		}
	}
	if len(byName) == 0 {
		return nil
	}
	return experimental.FunctionListenerFactoryFunc(func(def api.FunctionDefinition) experimental.FunctionListener {
		fn, ok := byName[def.Name()]
		if !ok {
			return nil
		}
		return experimental.FunctionListenerFunc(func(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, si experimental.StackIterator) {
			var frames []engine.Frame
			for si.Next() {
				d := si.Function().Definition()
				if d.GoFunction() != nil {
					continue // the host function itself
				}
				frames = append(frames, engine.Frame{Function: d.Name()})
			}
			fn(ctx, frames)
		})
	})
}

func hostFunc(fn func(context.Context, engine.Caller, []uint64) error) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		if err := fn(ctx, caller{mod}, stack); err != nil {
			// wazero recovers the panic and returns the error, wrapped, from
			// the guest call that reached this host function.
			panic(err)
		}
	}
}

type caller struct{ mod api.Module }

func (c caller) Memory() abi.Memory { return memory{c.mod.Memory()} }

func (c caller) Global(name string) engine.Global { return global(c.mod, name) }

// global returns mod's exported mutable global name, or nil.
func global(mod api.Module, name string) engine.Global {
	g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
	if !ok {
		return nil
	}
	return g
}

func (e *eng) WASIFunc(name string) (abi.FuncType, bool) {
	t, ok := e.wasi[name]
	return t, ok
}

// Compile compiles wasm, or returns the module compiled from the same bytes
// already, while it is open: wazero would answer from its cache too, but
// only after decoding and validating the module again, which is most of
// loading a plugin a second time.
func (e *eng) Compile(ctx context.Context, wasm []byte) (engine.Module, error) {
	key := sha256.Sum256(wasm)
	if m, ok := e.share(key); ok {
		return m, nil
	}
	cm, ok := e.cache.take(key, e.rt) // closed a moment ago, by this engine
	if !ok {
		// Not under e.mu: other modules compile meanwhile.
		var err error
		if cm, err = e.rt.CompileModule(ctx, wasm); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	if c, ok := e.compiled[key]; ok { // compiled by another caller meanwhile
		c.refs++
		e.mu.Unlock()
		_ = cm.Close(ctx) // ours is one reference more to the same module; wazero's Close never fails
		return &module{e: e, c: c}, nil
	}
	c := &compiled{key: key, cm: cm, fsImports: fsImports(cm), refs: 1}
	e.compiled[key] = c
	e.mu.Unlock()
	return &module{e: e, c: c}, nil
}

// share returns a new handle on the module compiled under key, if one is
// open.
func (e *eng) share(key [sha256.Size]byte) (*module, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.compiled[key]
	if !ok {
		return nil, false
	}
	c.refs++
	return &module{e: e, c: c}, true
}

// compiled is a module compiled by an engine, shared by every Compile of the
// same bytes while one of them is open.
type compiled struct {
	key       [sha256.Size]byte
	cm        wazero.CompiledModule
	fsImports bool // the module can name a path (see fsImports)
	refs      int  // open modules; guarded by eng.mu
}

// CompileInterpreted compiles wasm with wazero's interpreter (see
// Interpreted).
func (e *eng) CompileInterpreted(ctx context.Context, wasm []byte) (engine.Module, error) {
	if e.opts.Interpreter {
		return e.Compile(ctx, wasm)
	}
	e.imu.Lock()
	if e.closed {
		e.imu.Unlock()
		return nil, errors.New("engine is closed")
	}
	if e.interp == nil {
		opts := e.opts
		opts.Interpreter = true
		in, err := newEng(ctx, opts)
		if err != nil {
			e.imu.Unlock()
			return nil, fmt.Errorf("start the interpreter: %w", err)
		}
		e.interp = in
	}
	in := e.interp
	e.imu.Unlock()
	return in.Compile(ctx, wasm)
}

func (e *eng) Close(ctx context.Context) error {
	e.imu.Lock()
	e.closed = true
	in := e.interp
	e.imu.Unlock()
	var err error
	if in != nil {
		err = in.Close(ctx)
	}
	return errors.Join(err, e.rt.Close(ctx))
}

// module is one Compile's handle on a compiled module.
type module struct {
	e      *eng
	c      *compiled
	closed bool
}

// Close releases the handle. The last one releases the compiled module: to
// the compilation cache, which keeps it for the next load (Cache.keep),
// or to wazero.
func (m *module) Close(ctx context.Context) error {
	e := m.e
	e.mu.Lock()
	if m.closed {
		e.mu.Unlock()
		return nil // a second Close must not release another handle's module
	}
	m.closed = true
	m.c.refs--
	last := m.c.refs == 0
	if last {
		delete(e.compiled, m.c.key)
	}
	e.mu.Unlock()
	if !last {
		return nil
	}
	if e.cache != nil {
		return e.cache.keep(ctx, m.c.key, e.rt, m.c.cm)
	}
	return m.c.cm.Close(ctx)
}

func (m *module) Instantiate(ctx context.Context, cfg engine.InstanceConfig) (engine.Instance, error) {
	return m.e.instantiate(ctx, m.c.cm, m.c.fsImports, cfg)
}

// instantiate creates an instance of cm; fsImports: cm can name a path (see
// fsImports).
func (e *eng) instantiate(ctx context.Context, cm wazero.CompiledModule, fsImports bool, cfg engine.InstanceConfig) (engine.Instance, error) {
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances of one module coexist
		WithStartFunctions()
	if cfg.Sleep != nil {
		mc = mc.WithNanosleep(cfg.Sleep)
	} else {
		mc = mc.WithSysNanosleep()
	}
	if cfg.Deterministic {
		mc = deterministic(mc, cfg.Seed)
	} else {
		mc = mc.WithSysWalltime().WithSysNanotime().WithRandSource(randReader{})
	}
	if cfg.Stdout != nil {
		mc = mc.WithStdout(cfg.Stdout)
	}
	if cfg.Stderr != nil {
		mc = mc.WithStderr(cfg.Stderr)
	}
	for _, kv := range cfg.Env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				mc = mc.WithEnv(kv[:i], kv[i+1:])
				break
			}
		}
	}
	ictx := ctx
	if cfg.MemoryLimit > 0 {
		ictx = experimental.WithMemoryAllocator(ctx, limitAllocator{limit: cfg.MemoryLimit, denied: cfg.MemoryDenied})
	}
	fsc, fsys, err := openMounts(cfg.Mounts, cfg.Denied, fsImports)
	if err != nil {
		return nil, err
	}
	if fsc != nil {
		mc = mc.WithFSConfig(fsc)
		ictx = experimental.WithCloseNotifier(ictx, fsys) // closes the mounts with the instance
	}
	mod, err := e.rt.InstantiateModule(ictx, cm, mc)
	if err != nil {
		fsys.close()
		return nil, mapError(ctx, err)
	}
	fsys.register(e.fs, mod)
	e.work.register(mod, cfg.Charge, cfg.Env)
	mem := mod.Memory()
	if mem == nil {
		e.work.forget(mod)
		return nil, errors.Join(errors.New("module has no memory"), mod.Close(ctx))
	}
	return &instance{mod: mod, work: e.work, mem: memory{mem}, funcs: map[string]engine.Func{}}, nil
}

type instance struct {
	mod   api.Module
	work  *workInstances
	mem   memory
	funcs map[string]engine.Func
}

func (i *instance) Memory() abi.Memory { return i.mem }

func (i *instance) Func(name string) engine.Func {
	if f, ok := i.funcs[name]; ok {
		return f
	}
	fn := i.mod.ExportedFunction(name)
	if fn == nil {
		return nil
	}
	f := function{fn}
	i.funcs[name] = f
	return f
}

func (i *instance) Global(name string) engine.Global { return global(i.mod, name) }

func (i *instance) Close(ctx context.Context) error {
	i.work.forget(i.mod)
	return i.mod.Close(ctx)
}

type function struct{ fn api.Function }

func (f function) Call(ctx context.Context, stack []uint64) error {
	if err := f.fn.CallWithStack(ctx, stack); err != nil {
		return f.failed(ctx, err)
	}
	return nil
}

// failed is the error of a failed call, with the guest's stack when the
// trap has one. Not inlined into Call: the frame of a call that succeeds
// stays as small as before.
//
//go:noinline
func (f function) failed(ctx context.Context, err error) error {
	err = mapError(ctx, err)
	if frames := traceFrames(err.Error(), f.fn.Definition().ModuleName()); frames != nil {
		return &engine.TraceError{Err: err, Frames: frames}
	}
	return err
}

// signature is what wazero writes after a function's name in a stack
// trace: its parameter and result types.
var signature = regexp.MustCompile(`\([a-z0-9,]*\)( [a-z0-9]+| \([a-z0-9,]*\))?$`)

// traceFrames reads the guest's stack from the text of a wazero trap,
// innermost first: after the line "wasm stack trace:", a line
// "\t<module>.<function>(<params>) <results>" per frame (the module's own
// functions named without the module's name, mod; those of other modules,
// host functions, skipped), each followed by
// "\t\t<source>" lines when the module has DWARF. A function without a
// name ("$<index>") has Function "".
func traceFrames(msg, mod string) []engine.Frame {
	_, trace, ok := strings.Cut(msg, "\nwasm stack trace:\n")
	if !ok {
		return nil
	}
	var frames []engine.Frame
	for _, line := range strings.Split(trace, "\n") {
		if !strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "\t\t") {
			continue // a source line, or "... maybe followed by omitted frames"
		}
		fn, ok := strings.CutPrefix(signature.ReplaceAllString(line[1:], ""), mod+".")
		if !ok {
			continue // a host function (of another module), as wasmtime's frames have none
		}
		if strings.HasPrefix(fn, "$") {
			fn = ""
		}
		frames = append(frames, engine.Frame{Function: fn})
	}
	return frames
}

// mapError turns wazero's exit errors into the engine's.
func mapError(ctx context.Context, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
			cause := ctx.Err()
			if cause == nil {
				cause = context.Canceled
			}
			return fmt.Errorf("%w: %w", engine.ErrInterrupted, cause)
		}
		return &engine.ExitError{Code: exit.ExitCode()}
	}
	// wazero's sentinel for it is internal; its message is stable:
	// its first line ends in "stack overflow".
	if msg, _, _ := strings.Cut(err.Error(), "\n"); strings.HasSuffix(msg, "stack overflow") {
		return &engine.StackOverflowError{Err: err}
	}
	return err
}

type memory struct{ m api.Memory }

func (m memory) Size() uint32 { return m.m.Size() }

func (m memory) Read(offset, n uint32) ([]byte, bool) { return m.m.Read(offset, n) }

func (m memory) Write(offset uint32, b []byte) bool {
	if uint64(offset)+uint64(len(b)) > uint64(m.m.Size()) {
		return false
	}
	return m.m.Write(offset, b)
}

func funcType(def api.FunctionDefinition) abi.FuncType {
	var t abi.FuncType
	for _, p := range def.ParamTypes() {
		t.Params = append(t.Params, abi.ValueType(p))
	}
	for _, r := range def.ResultTypes() {
		t.Results = append(t.Results, abi.ValueType(r))
	}
	return t
}

func valueTypes(ts []abi.ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// Interface guards
var (
	_ engine.Engine   = (*eng)(nil)
	_ Interpreted     = (*eng)(nil)
	_ engine.Module   = (*module)(nil)
	_ engine.Instance = (*instance)(nil)
	_ engine.Func     = function{}
	_ abi.Memory      = memory{}
)
