package runtime

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// Plugin is a loaded plugin. Its methods are safe for concurrent use.
//
// The lifecycle of a plugin:
//
//  1. Runtime.Load reads, checks and compiles it, then creates its first
//     instance: instantiate, _initialize, on-load. The plugin is ready.
//  2. Call runs a handler on an idle instance, creating another one (up to
//     Config.WithInstances) when all are busy. An instance that traps,
//     times out or breaks the ABI is discarded; the next call gets a fresh
//     one, which runs _initialize and on-load again.
//  3. Close waits for calls in flight, runs on-unload on every instance and
//     frees them. Calls after Close fail with ErrClosed.
type Plugin struct {
	rt       *Runtime
	ins      *Inspection
	compiled engine.Module
	limits   limits
	config   map[string]string
	logger   *slog.Logger
	pool     *pool
	caps     *capabilities.Set
	env      []string // "KEY=value" of the granted variables
	sha      string   // module SHA-256, hex, for audit events
	logLimit *rateLimit

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
	breaker  breaker // quarantine.go
}

func newPlugin(rt *Runtime, ins *Inspection, compiled engine.Module, lim limits, lc LoadConfig, caps *capabilities.Set) *Plugin {
	m := ins.Manifest
	cfg := make(map[string]string, len(m.Config)+len(lc.config))
	for k, v := range m.Config {
		cfg[k] = v
	}
	for k, v := range lc.config {
		cfg[k] = v
	}
	var env []string
	for _, name := range caps.Env {
		if v, ok := rt.cfg.lookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return &Plugin{
		rt:       rt,
		ins:      ins,
		compiled: compiled,
		limits:   lim,
		config:   cfg,
		logger:   rt.logger.With(slog.String("plugin", m.Plugin.Name), slog.String("version", m.Plugin.Version)),
		pool:     newPool(rt.cfg.instances),
		caps:     caps,
		env:      env,
		sha:      hex.EncodeToString(ins.ModuleSHA256[:]),
		logLimit: newRateLimit(rt.cfg.logRate, rt.cfg.logBurst),
	}
}

// Capabilities returns what the plugin was granted: its manifest's request
// intersected with the grants it was loaded with.
func (p *Plugin) Capabilities() *capabilities.Set { return p.caps }

// audit records a capability decision: denials always, allowed ones when
// the runtime is configured to.
func (p *Plugin) audit(e capabilities.Event) {
	a := p.rt.cfg.auditor
	if a == nil || (e.Allowed && !p.rt.cfg.auditAllowed) {
		return
	}
	e.Time = time.Now()
	e.Plugin, e.Version, e.ModuleSHA256 = p.Name(), p.Version(), p.sha
	a(e)
}

// reportDropped logs how many host.log messages the rate limit dropped.
func (p *Plugin) reportDropped(n int, fn string) {
	p.logger.Warn("log messages dropped by the rate limit", slog.Int("dropped", n), slog.String("function", fn))
}

// deny records a denial during the call st (nil outside calls) and marks
// the call, so that its failure wraps ErrPermission.
func (p *Plugin) deny(st *callState, e capabilities.Event) {
	if st != nil {
		st.denied = true
		e.Function = st.fn
	}
	p.audit(e)
}

// Name is the plugin's name from its manifest.
func (p *Plugin) Name() string { return p.ins.Manifest.Plugin.Name }

// Version is the plugin's version from its manifest.
func (p *Plugin) Version() string { return p.ins.Manifest.Plugin.Version }

// Manifest returns the plugin's manifest. Treat it as read-only.
func (p *Plugin) Manifest() *manifest.Manifest { return p.ins.Manifest }

// Handlers returns the names of the plugin's handlers, sorted.
func (p *Plugin) Handlers() []string { return append([]string(nil), p.ins.Contract.Handlers...) }

// Inspection returns what was found in the plugin when it was loaded.
func (p *Plugin) Inspection() *Inspection { return p.ins }

// Call runs the handler name with input and returns its output. It fails
// with a *CallError wrapping ErrNoHandler, ErrGuest (a *GuestError with the
// plugin's message), ErrTrap, ErrTimeout, ErrCanceled, ErrContract or
// ErrClosed.
func (p *Plugin) Call(ctx context.Context, name string, input []byte) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, &CallError{Plugin: p.Name(), Function: name, Err: err}
	}
	if !p.ins.Contract.HasHandler(name) {
		return fail(fmt.Errorf("%w (handlers: %v)", ErrNoHandler, p.ins.Contract.Handlers))
	}
	if err := p.checkQuarantine(); err != nil {
		return fail(err)
	}
	if !p.enter() {
		return fail(ErrClosed)
	}
	defer p.inflight.Done()
	inst, err := p.pool.get(ctx, p.newInstance)
	if err != nil {
		return fail(err)
	}
	st := &callState{inst: inst, fn: name}
	out, healthy, err := inst.call(ctx, st, input)
	p.pool.release(ctx, inst, healthy)
	p.recordCall(name, err)
	var so *engine.StackOverflowError
	switch {
	case errors.Is(err, ErrTimeout):
		p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: "timeout", Op: "call", Function: name,
			Rule: fmt.Sprintf("limits.timeout %s", p.limits.timeout)})
	case errors.As(err, &so):
		p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: "stack", Op: "call", Function: name,
			Rule: "call stack exhausted (the engine's stack limit)"})
	}
	if err != nil {
		if st.denied && !errors.Is(err, ErrPermission) {
			err = &deniedError{err}
		}
		return fail(err)
	}
	return out, nil
}

func (p *Plugin) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.inflight.Add(1)
	return true
}

// Close waits for the calls in flight, runs on-unload on each instance and
// frees the plugin. It is safe to call more than once.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.inflight.Wait()
	var errs []error
	for _, inst := range p.pool.drain() {
		errs = append(errs, inst.unload(ctx))
	}
	errs = append(errs, p.compiled.Close(ctx))
	p.rt.untrack(p)
	if d := p.logLimit.flush(); d > 0 {
		p.reportDropped(d, "")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unload plugin %q: %w", p.Name(), err)
	}
	return nil
}

// instance is one instance of a plugin's module. It runs one call at a
// time.
type instance struct {
	p         *Plugin
	inst      engine.Instance
	mem       abi.Memory
	realloc   engine.Func
	inRealloc bool
	rstack    [4]uint64
	current   *callState // the call in progress, for denials reported by the engine
	fuel      engine.Global
}

// refuel gives the instance a fresh quantum before the host calls into it.
func (i *instance) refuel() { i.fuel.Set(fuelQuantum) }

func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	cctx, cancel := context.WithTimeout(ctx, p.limits.timeout)
	defer cancel()
	inst := &instance{p: p}
	mounts := make([]engine.Mount, len(p.caps.Mounts))
	for i, m := range p.caps.Mounts {
		mounts[i] = engine.Mount{Guest: m.Guest, Host: m.Host, ReadOnly: m.Mode != manifest.ReadWrite}
	}
	ei, err := p.compiled.Instantiate(cctx, engine.InstanceConfig{
		Name:          p.Name(),
		Stdout:        p.rt.stdout,
		Stderr:        p.rt.stderr,
		Env:           p.env,
		Mounts:        mounts,
		Deterministic: p.rt.cfg.deterministic,
		Seed:          p.rt.cfg.seed,
		Denied: func(op, path, rule string) {
			p.deny(inst.current, capabilities.Event{Kind: capabilities.KindFS, Resource: path, Op: op, Rule: rule})
		},
		MemoryLimit: uint64(p.limits.memoryPages) * 65536,
		MemoryDenied: func(requested, limit uint64) {
			e := capabilities.Event{Kind: capabilities.KindLimit, Resource: "memory", Op: "grow",
				Rule: fmt.Sprintf("limits.memory %s: growth to %d bytes refused", manifest.Size(limit), requested)}
			if st := inst.current; st != nil {
				e.Function = st.fn
			}
			p.audit(e)
		},
	})
	if err != nil {
		// No guest code runs during instantiation (_initialize is called
		// below), so this is not a trap: a mount that cannot be opened, a
		// data segment that does not fit, an interrupted context.
		if errors.Is(err, engine.ErrInterrupted) {
			return nil, classify(ctx, p.limits.timeout, nil, err)
		}
		return nil, err
	}
	inst.inst, inst.mem, inst.realloc = ei, ei.Memory(), ei.Func(abi.ExportRealloc)
	inst.fuel = ei.Global(meter.GlobalName)
	if inst.fuel == nil {
		return nil, errors.Join(errors.New("instantiate: no fuel counter in the metered module"), ei.Close(ctx))
	}
	fail := func(fn string, err error) (*instance, error) {
		return nil, errors.Join(fmt.Errorf("%s: %w", fn, err), ei.Close(ctx))
	}
	c := p.ins.Contract
	if c.Initialize {
		st := &callState{inst: inst, fn: abi.ExportInitialize}
		inst.current = st
		inst.refuel()
		if err := ei.Func(abi.ExportInitialize).Call(withState(cctx, st), nil); err != nil {
			return fail(abi.ExportInitialize, classify(ctx, p.limits.timeout, st, err))
		}
	}
	if c.OnLoad {
		st := &callState{inst: inst, fn: abi.ExportOnLoad}
		inst.current = st
		inst.refuel()
		var stack [1]uint64
		if err := ei.Func(abi.ExportOnLoad).Call(withState(cctx, st), stack[:]); err != nil {
			return fail(abi.ExportOnLoad, classify(ctx, p.limits.timeout, st, err))
		}
		msg, isErr, err := abi.LiftUnitResult(inst.mem, uint32(stack[0]), p.limits.output)
		if err != nil {
			return fail(abi.ExportOnLoad, fmt.Errorf("%w: %w", ErrContract, err))
		}
		if isErr {
			return fail(abi.ExportOnLoad, &GuestError{Message: msg})
		}
	}
	inst.current = nil
	return inst, nil
}

// call runs the handler st.fn. healthy is false when the instance must not
// be used again; st records what happened during the call (denials).
func (i *instance) call(ctx context.Context, st *callState, input []byte) (out []byte, healthy bool, err error) {
	p, name := i.p, st.fn
	// No timer per call: the metering code checks st.deadline each
	// quantum (outOfFuel), and host functions that wait derive a context
	// with it (callState.bounded).
	st.deadline = time.Now().Add(p.limits.timeout)
	cctx := withState(ctx, st)
	i.current = st
	i.refuel()
	defer func() { i.current = nil }()
	ptr, n, err := abi.Lower(cctx, i.mem, i, input, 1)
	if err != nil {
		if isContract(err) {
			return nil, false, fmt.Errorf("%w: pass input: %w", ErrContract, err)
		}
		return nil, false, classify(ctx, p.limits.timeout, st, fmt.Errorf("pass input: %w", err))
	}
	stack := [2]uint64{uint64(ptr), uint64(n)}
	if err := i.inst.Func(name).Call(cctx, stack[:]); err != nil {
		return nil, false, classify(ctx, p.limits.timeout, st, err)
	}
	ret := uint32(stack[0])
	res, err := abi.LiftResult(i.mem, ret, p.limits.output)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrContract, err)
	}
	healthy = true
	if p.ins.Contract.Post[name] {
		stack[0] = uint64(ret)
		if err := i.inst.Func(abi.ExportPostPrefix+name).Call(cctx, stack[:1]); err != nil {
			// The result is already copied out: keep it, drop the instance.
			p.logger.Warn("cabi_post failed; instance discarded", slog.String("function", name), slog.Any("error", classify(ctx, p.limits.timeout, st, err)))
			healthy = false
		}
	}
	if res.IsErr {
		return nil, healthy, &GuestError{Message: res.Err}
	}
	return res.OK, healthy, nil
}

// Realloc calls the guest's cabi_realloc (abi.Allocator).
func (i *instance) Realloc(ctx context.Context, oldPtr, oldSize, align, newSize uint32) (uint32, error) {
	if i.inRealloc {
		return 0, errors.New("cabi_realloc re-entered the host")
	}
	i.inRealloc = true
	defer func() { i.inRealloc = false }()
	i.rstack = [4]uint64{uint64(oldPtr), uint64(oldSize), uint64(align), uint64(newSize)}
	if err := i.realloc.Call(ctx, i.rstack[:]); err != nil {
		return 0, err
	}
	return uint32(i.rstack[0]), nil
}

func (i *instance) unload(ctx context.Context) error {
	var err error
	if i.p.ins.Contract.OnUnload {
		cctx, cancel := context.WithTimeout(ctx, min(i.p.limits.timeout, DefaultUnloadTimeout))
		st := &callState{inst: i, fn: abi.ExportOnUnload}
		i.refuel()
		if e := i.inst.Func(abi.ExportOnUnload).Call(withState(cctx, st), nil); e != nil {
			err = fmt.Errorf("%s: %w", abi.ExportOnUnload, classify(ctx, min(i.p.limits.timeout, DefaultUnloadTimeout), st, e))
		}
		cancel()
	}
	return errors.Join(err, i.inst.Close(ctx))
}

// classify turns an engine error from a guest call into the runtime's
// errors. ctx is the caller's context; st the call's state, if any.
func classify(ctx context.Context, timeout time.Duration, st *callState, err error) error {
	if st != nil && st.hostErr != nil {
		return st.hostErr
	}
	var exit *engine.ExitError
	switch {
	case errors.Is(err, engine.ErrInterrupted):
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
		}
		return fmt.Errorf("%w after %s (limits.timeout)", ErrTimeout, timeout)
	case errors.As(err, &exit):
		return &TrapError{Message: fmt.Sprintf("plugin exited with code %d", exit.Code), cause: err}
	}
	return newTrap(err)
}

// isContract reports whether err is a failed ABI check (as opposed to a
// trap inside the guest).
func isContract(err error) bool {
	for _, e := range []error{abi.ErrOutOfBounds, abi.ErrMisaligned, abi.ErrInvalidUTF8, abi.ErrBadTag, abi.ErrTooLarge, abi.ErrBadLevel} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// callState is what host functions need to know about the call they serve.
type callState struct {
	inst    *instance
	fn      string
	hostErr error  // a host function's refusal, reported instead of the trap
	denied  bool   // a capability was denied during the call
	refills uint64 // fuel quanta given after the first
	// deadline is when the call times out; zero when the context carries
	// it instead (instantiation, on-load, on-unload).
	deadline time.Time
}

// expired reports whether the call ran past its deadline.
func (st *callState) expired() bool {
	return !st.deadline.IsZero() && time.Now().After(st.deadline)
}

// bounded returns ctx bounded by the call's deadline, for host functions
// that wait (network requests, the application's host functions).
func (st *callState) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if st == nil || st.deadline.IsZero() {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, st.deadline)
}

type stateKey struct{}

func withState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}
