package runtime

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
//     More instances, up to Config.WithWarmInstances, are prepared in the
//     background.
//  2. Call runs a handler on an idle instance, creating another one (up to
//     Config.WithInstances) when all are busy. An instance that traps,
//     times out or breaks the ABI is discarded and replaced in the
//     background; each new instance runs _initialize and on-load.
//  3. Close waits for calls in flight, runs on-unload on every instance and
//     frees them, within its context: see Close. Calls after Close fail
//     with ErrClosed.
type Plugin struct {
	rt       *Runtime
	ins      *Inspection
	compiled engine.Module
	limits   limits
	// throws tells whether the module can throw exceptions: a caught
	// one can leave the stack counter short, which is then reset before
	// every call (see instance.refuel).
	throws   bool
	config   map[string]string
	logger   *slog.Logger
	pool     *pool
	caps     *capabilities.Set
	env      []string // "KEY=value" of the granted variables
	sha      string   // module SHA-256, hex, for audit events
	logLimit *rateLimit
	handlers map[string]int // handler name -> index in instance.funcs; nil when a scan of names is faster
	names    []string       // handler names by index

	closeOnce sync.Once
	closeErr  error

	// abort is cancelled, and aborted set, when Close's context ends
	// while calls are in flight: they stop at their next fuel check
	// (outOfFuel), sleep or waiting host function, and fail with
	// ErrCanceled (wrapping ErrClosed).
	abort     context.Context
	stopCalls context.CancelCauseFunc
	aborted   atomic.Bool

	breaker breaker // quarantine.go
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
	p := &Plugin{
		rt:       rt,
		ins:      ins,
		compiled: compiled,
		limits:   lim,
		config:   cfg,
		logger:   rt.logger.With(slog.String("plugin", m.Plugin.Name), slog.String("version", m.Plugin.Version)),
		caps:     caps,
		env:      env,
		sha:      hex.EncodeToString(ins.ModuleSHA256[:]),
		logLimit: newRateLimit(rt.cfg.logRate, rt.cfg.logBurst),
	}
	p.abort, p.stopCalls = context.WithCancelCause(context.Background())
	p.names = append(p.names, ins.Contract.Handlers...)
	p.indexHandlers()
	p.pool = newPool(rt.cfg.instances, rt.cfg.warm, p.newInstance, p.logger)
	return p
}

// Capabilities returns what the plugin was granted: its manifest's request
// intersected with the grants it was loaded with.
func (p *Plugin) Capabilities() *capabilities.Set { return p.caps }

// audit records a capability decision: denials always, allowed ones when
// the runtime is configured to.
func (p *Plugin) audit(e capabilities.Event) {
	if t := p.rt.tel; t != nil && !e.Allowed {
		t.denied(p.Name(), e)
	}
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
	if t := p.rt.tel; t != nil {
		t.deniedInCall(st, e)
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
// plugin's message), ErrTrap (a *TrapError), ErrTimeout, ErrFuel,
// ErrCanceled, ErrContract, ErrClosed or ErrQuarantined (a
// *QuarantineError); when the failure followed a refused capability it
// also wraps ErrPermission, so test ErrPermission before ErrGuest. A call
// that needs a new instance and cannot create one fails with ErrGrants or
// ErrModule, as Load does. The package documentation, "Errors", gives the
// order to test them in.
//
// A ctx that is already done fails the call at once with ErrCanceled:
// no instance is taken and no guest code runs. A ctx that ends during
// the call stops the guest within about a millisecond of guest code
// (one fuel quantum), and the call fails with ErrCanceled.
func (p *Plugin) Call(ctx context.Context, name string, input []byte) ([]byte, error) {
	return p.call(ctx, name, input, nil, false, nil)
}

// AppendCall is Call appending the handler's output to dst and returning
// the extended slice, as the standard library's Append functions do. With
// a dst large enough, a call on a warm instance allocates nothing.
func (p *Plugin) AppendCall(ctx context.Context, dst []byte, name string, input []byte) ([]byte, error) {
	return p.call(ctx, name, input, dst, true, nil)
}

// scanHandlers is the number of handlers up to which finding one by name
// scans the names instead of hashing it: comparing a few lengths, and the
// bytes of the one that matches, costs less than hashing the name (about
// 10% of an empty call with a map).
const scanHandlers = 16

// indexHandlers builds the handler index when a scan would be slower.
func (p *Plugin) indexHandlers() {
	p.handlers = nil
	if len(p.names) <= scanHandlers {
		return
	}
	p.handlers = make(map[string]int, len(p.names))
	for i, h := range p.names {
		p.handlers[h] = i
	}
}

// handler returns the index of the named handler.
func (p *Plugin) handler(name string) (int, bool) {
	if p.handlers != nil {
		h, ok := p.handlers[name]
		return h, ok
	}
	for i, n := range p.names {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// call runs the handler name; it stores the fuel the handler used in
// fuelOut, if not nil. A call from Call or AppendCall (fuelOut nil) on a
// runtime with telemetry goes through the telemetry, which calls back
// with fuelOut set: without telemetry the hook is one nil check, and no
// extra call.
func (p *Plugin) call(ctx context.Context, name string, input, dst []byte, appendOut bool, fuelOut *uint64) ([]byte, error) {
	if fuelOut == nil {
		if t := p.rt.tel; t != nil {
			return t.call(ctx, p, name, input, dst, appendOut) // telemetry.go
		}
	}
	h, ok := p.handler(name)
	if !ok {
		return nil, p.callError(name, fmt.Errorf("%w (handlers: %v)", ErrNoHandler, p.ins.Contract.Handlers))
	}
	if ctx.Err() != nil {
		// Checked here, not only by the metering code: that sees a done
		// context at its first fuel check, which a short handler never
		// reaches, so the outcome would depend on the handler's length.
		return nil, p.callError(name, fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx)))
	}
	if err := p.checkQuarantine(); err != nil {
		return nil, p.callError(name, err)
	}
	inst, err := p.pool.get(ctx)
	if err != nil {
		return nil, p.callError(name, err)
	}
	out, healthy, err := inst.call(ctx, h, input, dst, appendOut)
	st := &inst.st
	denied, fuel := st.denied, st.used
	p.pool.release(inst, healthy, fuel, err != nil)
	if fuelOut != nil {
		*fuelOut = fuel
	}
	p.recordCall(name, err)
	if err != nil {
		return nil, p.failed(name, denied, fuel, err)
	}
	if p.rt.cfg.auditAllowed && p.rt.cfg.auditor != nil {
		p.audit(capabilities.Event{Kind: capabilities.KindCall, Resource: name, Op: "call", Function: name,
			Rule: "completed", Allowed: true, Fuel: fuel})
	}
	return out, nil
}

func (p *Plugin) callError(name string, err error) error {
	return &CallError{Plugin: p.Name(), Function: name, Err: err}
}

// failed audits a failed call and returns its error.
func (p *Plugin) failed(name string, denied bool, fuel uint64, err error) error {
	var so *engine.StackOverflowError
	switch {
	case errors.Is(err, ErrTimeout):
		p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: "timeout", Op: "call", Function: name,
			Rule: fmt.Sprintf("limits.timeout %s", p.limits.timeout), Fuel: fuel})
	case errors.Is(err, ErrFuel):
		p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: "fuel", Op: "call", Function: name,
			Rule: fmt.Sprintf("limits.fuel %d", p.limits.fuel), Fuel: fuel})
	case errors.As(err, &so):
		rule := "call stack exhausted (the engine's stack limit)"
		if so.Metered {
			rule = fmt.Sprintf("max stack %s", manifest.Size(p.rt.cfg.stackLimit()))
		}
		p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: "stack", Op: "call", Function: name,
			Rule: rule, Fuel: fuel})
	default:
		if p.rt.cfg.auditAllowed && p.rt.cfg.auditor != nil {
			p.audit(capabilities.Event{Kind: capabilities.KindCall, Resource: name, Op: "call", Function: name,
				Rule: "failed", Allowed: true, Fuel: fuel})
		}
	}
	if denied && !errors.Is(err, ErrPermission) {
		err = &deniedError{err}
	}
	return p.callError(name, err)
}

// Stats are a plugin's counters since it was loaded.
type Stats struct {
	// Calls counts the handler calls that ran, Failures those of them
	// that failed.
	Calls, Failures uint64
	// Fuel is the fuel the calls used: the metered cost of the guest code
	// they ran (about one unit a wasm instruction), deterministic for a
	// given input.
	Fuel uint64
	// Instances is how many instances exist, Idle how many of them wait
	// for a call.
	Instances, Idle int
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	return p.pool.stats()
}

// Close waits for the calls in flight, runs on-unload on each instance and
// frees the plugin. It is safe to call more than once; a second Close
// returns the first's result.
//
// ctx bounds Close: when ctx ends, the calls still in flight are
// cancelled (they fail with ErrCanceled wrapping ErrClosed: the guest
// stops within about a millisecond of guest code, a host function that
// waits sees its context cancelled), the on-unload hooks still to run
// are skipped and the one running is stopped; each on-unload also has
// its own limit (limits.timeout, at most DefaultUnloadTimeout). The
// plugin is freed in every case. If ctx ending cut anything short,
// Close's error wraps ctx.Err(), joined with any other error.
func (p *Plugin) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		idle, cut := p.pool.close(ctx, p.cancelCalls)
		var errs []error
		for _, inst := range idle {
			skipped, err := inst.unloadWithin(ctx)
			cut = cut || skipped
			errs = append(errs, err)
		}
		// Freeing must not depend on ctx: it is done whatever ctx says.
		errs = append(errs, p.compiled.Close(context.WithoutCancel(ctx)))
		p.rt.untrack(p)
		if d := p.logLimit.flush(); d > 0 {
			p.reportDropped(d, "")
		}
		err := errors.Join(errs...)
		if cut && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = errors.Join(err, ctx.Err())
		}
		if err != nil {
			p.closeErr = fmt.Errorf("unload plugin %q: %w", p.Name(), err)
		}
	})
	return p.closeErr
}

// cancelCalls stops the calls in flight because Close's context ended.
func (p *Plugin) cancelCalls(ctx context.Context) {
	p.aborted.Store(true)
	p.stopCalls(fmt.Errorf("%w: Close's context ended: %w", ErrClosed, context.Cause(ctx)))
}

// instance is one instance of a plugin's module. It runs one call at a
// time, and holds everything a call needs, so that a call allocates
// nothing of its own.
type instance struct {
	p         *Plugin
	inst      engine.Instance
	mem       abi.Memory
	realloc   engine.Func
	funcs     []engine.Func // handlers, by index in Plugin.names
	posts     []engine.Func // their cabi_post functions, or nil
	inRealloc bool
	rstack    [4]uint64
	stack     [2]uint64
	current   *callState // the call in progress, for denials reported by the engine
	fuel      engine.Global
	stackG    engine.Global // the stack counter (meter.StackGlobalName)
	left      int64         // the fuel counter after the last handler call; -1: unknown
	credit    uint64        // fuel taken from the counter ahead for host calls (hostwork.go)
	st        callState     // the state of the handler call in progress
	cctx      callCtx       // the context of the handler call in progress
}

// refuel gives the instance its first quantum before the host calls into
// it, within the call's fuel budget.
//
// Without a budget, a handler call starts with what the previous one left
// when that is at least half a quantum: the counter is not written at all
// (a write through the engine is a tenth of a small call), the fuel used
// is counted from what the call was given all the same, and no call ever
// starts with more than a quantum.
func (i *instance) refuel(st *callState) {
	if i.p.throws {
		i.stackG.Set(i.p.rt.cfg.stackLimit())
	}
	left := i.left
	i.left = -1
	i.credit = 0 // a call's credit is its own (hostwork.go)
	q := int64(fuelQuantum)
	if st.budget > 0 {
		q = min(q, int64(st.budget))
	} else if left >= fuelQuantum/2 {
		st.given = uint64(left)
		return
	}
	st.given = uint64(q)
	i.fuel.Set(uint64(q))
}

// spent records the fuel st used, from the counter's value after a call,
// and keeps that value for the next call (refuel).
func (i *instance) spent(st *callState) {
	i.settle()
	left := int64(i.fuel.Get())
	st.used = uint64(max(int64(st.given)-left, 0))
	i.left = left
}

func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	cctx, cancel := context.WithTimeout(ctx, p.limits.timeout)
	defer cancel()
	inst := &instance{p: p, left: -1}
	inst.cctx.st = &inst.st
	inst.st = callState{inst: inst, budget: p.limits.fuel, timeout: p.limits.timeout}
	mounts := make([]engine.Mount, len(p.caps.Mounts))
	for i, m := range p.caps.Mounts {
		mounts[i] = engine.Mount{Guest: m.Guest, Host: m.Host, ReadOnly: m.Mode != manifest.ReadWrite}
	}
	ei, err := p.compiled.Instantiate(cctx, engine.InstanceConfig{
		Name:          p.Name(),
		Stdout:        &stdio{i: inst, fd: 0, name: "stdout", w: p.rt.stdout},
		Stderr:        &stdio{i: inst, fd: 1, name: "stderr", w: p.rt.stderr},
		Charge:        inst.charge,
		Env:           p.env,
		Mounts:        mounts,
		Deterministic: p.rt.cfg.deterministic,
		Seed:          p.rt.cfg.seed,
		Denied: func(op, path, rule string) {
			p.deny(inst.current, capabilities.Event{Kind: capabilities.KindFS, Resource: path, Op: op, Rule: rule})
		},
		Sleep:       inst.sleep,
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
	if inst.stackG = ei.Global(meter.StackGlobalName); inst.stackG == nil {
		return nil, errors.Join(errors.New("instantiate: no stack counter in the metered module"), ei.Close(ctx))
	}
	// Set once: every call gives back what it took, except when an
	// exception unwinds frames (refuel).
	inst.stackG.Set(p.rt.cfg.stackLimit())
	inst.funcs = make([]engine.Func, len(p.names))
	inst.posts = make([]engine.Func, len(p.names))
	for i, name := range p.names {
		inst.funcs[i] = ei.Func(name)
		if p.ins.Contract.Post[name] {
			inst.posts[i] = ei.Func(abi.ExportPostPrefix + name)
		}
	}
	fail := func(fn string, err error) (*instance, error) {
		return nil, errors.Join(fmt.Errorf("%s: %w", fn, err), ei.Close(ctx))
	}
	c := p.ins.Contract
	if c.Initialize {
		st := &callState{inst: inst, fn: abi.ExportInitialize, budget: p.limits.fuel, ctx: cctx}
		inst.current = st
		inst.refuel(st)
		if err := ei.Func(abi.ExportInitialize).Call(withState(cctx, st), nil); err != nil {
			return fail(abi.ExportInitialize, classify(ctx, p.limits.timeout, st, err))
		}
	}
	if c.OnLoad {
		st := &callState{inst: inst, fn: abi.ExportOnLoad, budget: p.limits.fuel, ctx: cctx}
		inst.current = st
		inst.refuel(st)
		var stack [1]uint64
		if err := ei.Func(abi.ExportOnLoad).Call(withState(cctx, st), stack[:]); err != nil {
			return fail(abi.ExportOnLoad, classify(ctx, p.limits.timeout, st, err))
		}
		msg, isErr, err := abi.LiftUnitResult(inst.mem, uint32(stack[0]), p.limits.output)
		if err != nil {
			return fail(abi.ExportOnLoad, fmt.Errorf("%w: %w", ErrContract, err))
		}
		if err := inst.overBudget(st); err != nil {
			return fail(abi.ExportOnLoad, err)
		}
		if isErr {
			return fail(abi.ExportOnLoad, &GuestError{Message: msg})
		}
	}
	inst.current = nil
	return inst, nil
}

// call runs the handler h. healthy is false when the instance must not be
// used again; i.st records what happened during the call (denials, fuel).
func (i *instance) call(ctx context.Context, h int, input, dst []byte, appendOut bool) (out []byte, healthy bool, err error) {
	p := i.p
	st := &i.st
	// No timer per call, and no clock read either: the metering code
	// checks the deadline each quantum (outOfFuel), host functions that
	// wait derive a context with it (callState.bounded), and the deadline
	// is set the first time one of them asks (callState.start).
	st.reset(p.names[h], ctx)
	i.cctx.Context = ctx
	cctx := &i.cctx
	i.current = st
	i.refuel(st)
	defer i.endCall()
	ptr, n, err := abi.Lower(cctx, i.mem, i, input, 1)
	if err != nil {
		if isContract(err) {
			return nil, false, fmt.Errorf("%w: pass input: %w", ErrContract, err)
		}
		return nil, false, classify(ctx, p.limits.timeout, st, fmt.Errorf("pass input: %w", err))
	}
	i.stack = [2]uint64{uint64(ptr), uint64(n)}
	if err := i.funcs[h].Call(cctx, i.stack[:]); err != nil {
		return nil, false, classify(ctx, p.limits.timeout, st, err)
	}
	ret := uint32(i.stack[0])
	res, err := abi.AppendResult(dst, i.mem, ret, p.limits.output)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrContract, err)
	}
	if !appendOut && res.OK == nil {
		res.OK = []byte{} // an empty output, not a missing one
	}
	healthy = true
	if post := i.posts[h]; post != nil {
		i.stack[0] = uint64(ret)
		if err := post.Call(cctx, i.stack[:1]); err != nil {
			// The result is already copied out: keep it, drop the instance.
			p.logger.Warn("cabi_post failed; instance discarded", slog.String("function", st.fn), slog.Any("error", classify(ctx, p.limits.timeout, st, err)))
			healthy = false
		}
	}
	if err := i.overBudget(st); err != nil {
		return nil, healthy, err
	}
	if res.IsErr {
		return nil, healthy, &GuestError{Message: res.Err}
	}
	return res.OK, healthy, nil
}

// overBudget checks, once a call has returned, that it stayed within its
// fuel budget. The metering code checks the counter at loop headers and
// in functions that loop, not after every charge, so a call can end a
// little past its budget without reaching outOfFuel; it fails the same
// way.
func (i *instance) overBudget(st *callState) error {
	if st.budget == 0 {
		return nil
	}
	i.spent(st)
	if st.used <= st.budget {
		return nil
	}
	return fmt.Errorf("%w: the call needed more than limits.fuel %d (it used %d)", ErrFuel, st.budget, st.used)
}

// endCall records the fuel the call used and forgets the caller's context.
func (i *instance) endCall() {
	i.spent(&i.st)
	i.current = nil
	i.cctx.Context = nil
	i.st.ctx = nil
}

// sleep is the guest's sleep (WASI poll_oneoff on a clock). It waits as
// asked, but no longer than the call may run: past the call's deadline or
// once its context is done, it empties the guest's fuel, so that the
// guest's next metered block reaches outOfFuel, which stops it.
func (i *instance) sleep(ns int64) {
	st := i.current
	if st == nil || st.ctx == nil {
		return // no call in progress: nothing may wait
	}
	ctx := st.ctx
	d := time.Duration(ns)
	if dl := st.start(); !dl.IsZero() {
		d = min(d, time.Until(dl))
	}
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-i.p.abort.Done():
		}
		t.Stop()
	}
	if ctx.Err() != nil || st.expired() || i.p.aborted.Load() {
		i.fuel.Set(^uint64(0)) // -1: out of fuel at the next block
	}
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

// unload runs on-unload, if the plugin has it, and frees the instance.
func (i *instance) unload(ctx context.Context) error {
	_, err := i.unloadWithin(ctx)
	return err
}

// unloadWithin is unload within ctx: a ctx already done skips on-unload
// (skipped is then true); one that ends during it stops it.
func (i *instance) unloadWithin(ctx context.Context) (skipped bool, err error) {
	if i.p.ins.Contract.OnUnload {
		if ctx.Err() != nil {
			skipped = true
		} else {
			timeout := min(i.p.limits.timeout, DefaultUnloadTimeout)
			cctx, cancel := context.WithTimeout(ctx, timeout)
			st := &callState{inst: i, fn: abi.ExportOnUnload, budget: i.p.limits.fuel, ctx: cctx}
			i.current = st
			i.refuel(st)
			if e := i.inst.Func(abi.ExportOnUnload).Call(withState(cctx, st), nil); e != nil {
				err = fmt.Errorf("%s: %w", abi.ExportOnUnload, classify(ctx, timeout, st, e))
			}
			i.current = nil
			cancel()
		}
	}
	return skipped, errors.Join(err, i.inst.Close(context.WithoutCancel(ctx)))
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
		if st != nil && st.inst != nil && st.inst.p.aborted.Load() {
			return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(st.inst.p.abort))
		}
		return fmt.Errorf("%w after %s (limits.timeout)", ErrTimeout, timeout)
	case errors.As(err, &exit):
		return &TrapError{Message: fmt.Sprintf("plugin exited with code %d", exit.Code), cause: err}
	case st != nil && st.overflow != nil:
		t := newTrap(err) // for the engine's trace
		t.Message, t.cause = st.overflow.Error(), st.overflow
		return t
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
	hostErr error // a host function's refusal, reported instead of the trap
	// overflow is the stack overflow the metering reported, which the
	// trap is reported as.
	overflow *engine.StackOverflowError
	denied   bool   // a capability was denied during the call
	refills  uint64 // fuel quanta given after the first
	// budget is limits.fuel (0: none); given is the fuel given so far,
	// used what the call used, once it ended.
	budget, given, used uint64
	// timeout is the call's time limit; zero when the context carries it
	// instead (instantiation, on-load, on-unload). deadline is when the
	// call times out, once start has set it.
	timeout  time.Duration
	deadline time.Time
	// ctx is the context of the call: the caller's for a handler, one
	// bounded by the timeout for the others.
	ctx context.Context
	// stdio counts the bytes written to stdout and stderr (hostwork.go);
	// stdioRefused records that a write past the limit was audited.
	stdio        [2]uint64
	stdioRefused [2]bool
}

// start sets the call's deadline, if it has a timeout and no deadline
// yet, and returns it (zero: the context carries the deadline).
//
// A handler call does not read the clock when it starts: reading it costs
// a quarter of a small call on some machines. The deadline is set the
// first time something needs it: the first refill of fuel, a host function
// that waits, a sleep. Before that the guest ran at most one quantum of
// fuel and made only calls that do not wait, so the deadline is late by
// that much at most, the same bound as the delay before a deadline is
// seen. See RATIONALE.md "How is a runaway guest stopped?".
func (st *callState) start() time.Time {
	if st.timeout > 0 && st.deadline.IsZero() {
		st.deadline = time.Now().Add(st.timeout)
	}
	return st.deadline
}

// reset prepares the state of an instance's handler call for the next
// one. It writes only what changed: the state lives in the instance, on
// the heap, where every pointer written costs a write barrier check.
func (st *callState) reset(fn string, ctx context.Context) {
	st.fn, st.ctx = fn, ctx
	if st.hostErr != nil {
		st.hostErr = nil
	}
	if st.overflow != nil {
		st.overflow = nil
	}
	if !st.deadline.IsZero() {
		st.deadline = time.Time{}
	}
	st.denied, st.refills, st.given, st.used = false, 0, 0, 0
	if st.stdio != [2]uint64{} || st.stdioRefused != [2]bool{} {
		st.stdio, st.stdioRefused = [2]uint64{}, [2]bool{}
	}
}

// expired reports whether the call ran past its deadline.
func (st *callState) expired() bool {
	d := st.start()
	return !d.IsZero() && time.Now().After(d)
}

// bounded returns ctx bounded by the call's deadline, and cancelled if
// the plugin's Close cancels the calls in flight, for host functions that
// wait (network requests, the application's host functions).
func (st *callState) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if st == nil {
		return ctx, func() {}
	}
	cancelDeadline := context.CancelFunc(func() {})
	if d := st.start(); !d.IsZero() {
		ctx, cancelDeadline = context.WithDeadline(ctx, d)
	}
	if st.inst == nil {
		return ctx, cancelDeadline
	}
	abort := st.inst.p.abort
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(abort, func() { cancel(context.Cause(abort)) })
	return ctx, func() {
		stop()
		cancel(nil)
		cancelDeadline()
	}
}

type stateKey struct{}

// callCtx is the context of a handler call: the caller's context carrying
// the call's state. One lives in each instance and is reused from call to
// call, where context.WithValue would allocate each time.
type callCtx struct {
	context.Context
	st *callState
}

func (c *callCtx) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return c.st
	}
	return c.Context.Value(key)
}

func withState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}
