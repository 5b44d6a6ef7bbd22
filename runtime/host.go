package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// Limits on the strings guests pass to host functions.
const (
	maxConfigKey = 4 << 10
	maxCallName  = 1 << 10
)

// hostModule returns the ABI v1 host functions. Each refuses a bad
// argument (a pointer out of bounds, a misaligned return area, invalid
// UTF-8) by trapping the call with an error that says what was wrong.
func (r *Runtime) hostModule() []engine.HostFunc {
	return []engine.HostFunc{
		{Module: abi.HostModule, Name: abi.FuncLog, Type: abi.TypeLog, Fn: r.hostLog},
		{Module: abi.HostModule, Name: abi.FuncConfigGet, Type: abi.TypeConfigGet, Fn: r.hostConfigGet},
		{Module: abi.HostModule, Name: abi.FuncCall, Type: abi.TypeCall, Fn: r.hostCall},
		{Module: abi.HTTPModule, Name: abi.FuncRequest, Type: abi.TypeRequest, Fn: r.hostRequest},
		{Module: meter.ImportModule, Name: meter.ImportName, Type: abi.FuncType{}, Fn: outOfFuel},
		{Module: meter.ImportModule, Name: meter.LimitName, Fn: r.meterLimit,
			Type: abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I64}, Results: []abi.ValueType{abi.I32}}},
	}
}

// meterLimit is the metering's limit callback (meter.LimitName). A frame
// that does not fit in the stack left stops the call with a stack
// overflow, reported as a trap. table.grow is allowed while the tables of
// the instance stay within Config.WithMaxTableElements; past it the guest's
// table.grow returns -1, and the refusal is audited, as for memory.
func (r *Runtime) meterLimit(ctx context.Context, _ engine.Caller, stack []uint64) error {
	st := stateFrom(ctx)
	switch kind, value := uint32(stack[0]), stack[1]; kind {
	case meter.LimitStack:
		err := &engine.StackOverflowError{Metered: true,
			Err: fmt.Errorf("stack overflow: the call stack went past its limit of %s (a frame of %d bytes did not fit)", manifest.Size(r.cfg.stackLimit()), value)}
		if st != nil {
			st.overflow = err
		}
		return err
	case meter.LimitTableGrow:
		limit := r.cfg.tableLimit()
		if value <= limit {
			stack[0] = 1
			return nil
		}
		stack[0] = 0
		if st != nil && st.inst != nil {
			st.inst.p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: "table", Op: "grow", Function: st.fn,
				Rule: fmt.Sprintf("max table elements %d: growth to %d elements refused", limit, value)})
		}
		return nil
	}
	return fmt.Errorf("host function %s.%s: unknown limit kind %d", meter.ImportModule, meter.LimitName, uint32(stack[0]))
}

// fuelQuantum is the fuel a guest gets each time it runs out: about a
// millisecond of guest code. It bounds how late a deadline or a
// cancellation is seen, and how long a guest holds up Go's stop-the-world
// (a guest that never calls into Go delays every garbage collection of the
// process). See RATIONALE.md "How is a runaway guest stopped?".
const fuelQuantum = 1 << 20

// outOfFuel is called by the metering code injected into every module when
// the guest has used its quantum: it stops the guest if the call's context
// is done (its deadline passed, or the caller cancelled it), and otherwise
// gives it another quantum.
func outOfFuel(ctx context.Context, c engine.Caller, _ []uint64) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", engine.ErrInterrupted, context.Cause(ctx))
	}
	st := stateFrom(ctx)
	if st != nil && st.expired() {
		return fmt.Errorf("%w: %w", engine.ErrInterrupted, context.DeadlineExceeded)
	}
	if st != nil && st.inst != nil && st.inst.p.aborted.Load() {
		return fmt.Errorf("%w: %w", engine.ErrInterrupted, context.Cause(st.inst.p.abort))
	}
	var g engine.Global
	if st != nil && st.inst != nil {
		g = st.inst.fuel // looked up once per instance
	} else {
		g = c.Global(meter.GlobalName)
	}
	if g == nil {
		return fmt.Errorf("%w: host function out_of_fuel: no fuel counter", ErrContract)
	}
	if st != nil && st.inst != nil && st.inst.credit > 0 {
		st.inst.settle() // the fuel taken ahead for host calls (hostwork.go)
		if int64(g.Get()) >= 0 {
			return nil
		}
	}
	q := int64(fuelQuantum)
	if st != nil && st.budget > 0 {
		if st.given >= st.budget {
			st.hostErr = fmt.Errorf("%w: the call needed more than limits.fuel %d", ErrFuel, st.budget)
			return st.hostErr
		}
		q = min(q, int64(st.budget-st.given))
	}
	g.Set(uint64(int64(g.Get()) + q))
	if st != nil {
		st.given += uint64(q)
		st.refills++
	}
	return nil
}

// refuse records a host function's refusal on the call, so that the call's
// error is this one rather than the engine's wrapping of it.
//
// An error that is not a failed ABI check (a trap or a timeout inside the
// guest's cabi_realloc, called to place a result) is returned as is, for
// the call to report as the trap or timeout it is.
func refuse(st *callState, fn string, err error) error {
	if !isContract(err) {
		return err
	}
	err = fmt.Errorf("%w: host function %s: %w", ErrContract, fn, err)
	if st != nil && st.hostErr == nil {
		st.hostErr = err
	}
	return err
}

// state returns the call a host function serves. It refuses a host
// function called from inside the guest's cabi_realloc: the host calls
// cabi_realloc to place an argument or a result, and a guest re-entering
// it there would run host code in the middle of another host operation.
func state(ctx context.Context, fn string) (*callState, error) {
	st := stateFrom(ctx)
	if st == nil {
		return nil, fmt.Errorf("host function %s called outside a plugin call", fn)
	}
	if st.inst != nil && st.inst.inRealloc {
		err := fmt.Errorf("%w: host function %s called from inside %s: re-entering the host is refused", ErrContract, fn, abi.ExportRealloc)
		if st.hostErr == nil {
			st.hostErr = err
		}
		return nil, err
	}
	return st, nil
}

var slogLevels = [...]slog.Level{slog.LevelDebug - 4, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}

func (r *Runtime) hostLog(ctx context.Context, c engine.Caller, stack []uint64) error {
	st, err := state(ctx, abi.FuncLog)
	if err != nil {
		return err
	}
	level, ptr, n := abi.Level(uint32(stack[0])), uint32(stack[1]), uint32(stack[2])
	if !level.Valid() {
		return refuse(st, abi.FuncLog, fmt.Errorf("level %d: %w", uint32(stack[0]), abi.ErrBadLevel))
	}
	mem := c.Memory()
	b, ok := mem.Read(ptr, n)
	if !ok {
		return refuse(st, abi.FuncLog, fmt.Errorf("message at 0x%x, %d bytes (memory is %d bytes): %w", ptr, n, mem.Size(), abi.ErrOutOfBounds))
	}
	if err := st.inst.charge(ctx, meter.HostFuel(min(uint64(n), maxLogMessage))); err != nil {
		return err
	}
	truncated := false
	if len(b) > maxLogMessage {
		b, truncated = b[:maxLogMessage], true
		// Do not count a rune cut at the limit as invalid.
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	if !utf8.Valid(b) {
		return refuse(st, abi.FuncLog, fmt.Errorf("message at 0x%x: %w", ptr, abi.ErrInvalidUTF8))
	}
	p := st.inst.p
	ok, dropped := p.logLimit.allow()
	if !ok {
		if dropped == 1 { // the first message of a flood
			p.audit(capabilities.Event{Kind: capabilities.KindLimit, Resource: "log", Op: "log", Function: st.fn,
				Rule: fmt.Sprintf("log rate %g/s, burst %d: messages dropped", p.rt.cfg.logRate, p.rt.cfg.logBurst)})
		}
		return nil
	}
	if dropped > 0 {
		p.reportDropped(dropped, st.fn)
	}
	attrs := []slog.Attr{slog.String("function", st.fn)}
	if truncated {
		attrs = append(attrs, slog.Int("truncated_from", int(n)))
	}
	p.logger.LogAttrs(ctx, slogLevels[level], string(b), attrs...)
	return nil
}

func (r *Runtime) hostConfigGet(ctx context.Context, c engine.Caller, stack []uint64) error {
	st, err := state(ctx, abi.FuncConfigGet)
	if err != nil {
		return err
	}
	kp, kn, ret := uint32(stack[0]), uint32(stack[1]), uint32(stack[2])
	mem := c.Memory()
	if err := abi.CheckReturnArea(mem, ret, abi.ResultSize); err != nil {
		return refuse(st, abi.FuncConfigGet, err)
	}
	key, err := abi.String(mem, "key", kp, kn, maxConfigKey)
	if err != nil {
		return refuse(st, abi.FuncConfigGet, err)
	}
	v, ok := st.inst.p.config[key]
	if err := st.inst.charge(ctx, meter.HostFuel(uint64(len(key))+uint64(len(v)))); err != nil {
		return err
	}
	if !ok {
		// CheckReturnArea made sure the area is writable.
		return abi.WriteArea(mem, ret, abi.Area{Tag: abi.TagNone})
	}
	if err := abi.LowerResult(ctx, mem, st.inst, ret, abi.TagSome, []byte(v)); err != nil {
		return refuse(st, abi.FuncConfigGet, err)
	}
	return nil
}

func (r *Runtime) hostCall(ctx context.Context, c engine.Caller, stack []uint64) error {
	st, err := state(ctx, abi.FuncCall)
	if err != nil {
		return err
	}
	np, nn, pp, pn, ret := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3]), uint32(stack[4])
	mem := c.Memory()
	p := st.inst.p
	if err := abi.CheckReturnArea(mem, ret, abi.ResultSize); err != nil {
		return refuse(st, abi.FuncCall, err)
	}
	// The sizes asked for, bounded by the limits past which lifting them
	// fails.
	if err := st.inst.charge(ctx, meter.HostFuel(min(uint64(nn), maxCallName)+min(uint64(pn), p.limits.output))); err != nil {
		return err
	}
	name, err := abi.String(mem, "name", np, nn, maxCallName)
	if err != nil {
		return refuse(st, abi.FuncCall, err)
	}
	payload, err := abi.Bytes(mem, "payload", pp, pn, p.limits.output)
	if err != nil {
		return refuse(st, abi.FuncCall, err)
	}
	out, callErr := r.dispatch(ctx, st, name, payload)
	if ie, ok := callErr.(*hostInterrupted); ok {
		return ie.err // past the deadline or cancelled: the guest must not go on
	}
	tag, body := byte(abi.TagOK), out
	if callErr != nil {
		tag, body = abi.TagErr, []byte(callErr.Error())
	}
	if err := st.inst.charge(ctx, bytesFuel(uint64(len(body)))); err != nil {
		return err
	}
	if err := abi.LowerResult(ctx, mem, st.inst, ret, tag, body); err != nil {
		return refuse(st, abi.FuncCall, err)
	}
	return nil
}

// dispatch runs the host function name for plugin p, if its manifest asked
// for it and the application registered it.
func (r *Runtime) dispatch(ctx context.Context, st *callState, name string, payload []byte) (out []byte, err error) {
	p := st.inst.p
	ev := capabilities.Event{Kind: capabilities.KindHost, Resource: name, Op: "call"}
	if err := manifest.CheckHostCallName(name); err != nil {
		// No grant can match it, and no application function has it.
		ev.Rule = "invalid host-call name"
		p.deny(st, ev)
		return nil, fmt.Errorf("permission denied: %w", err)
	}
	if !p.caps.AllowHostCall(name) {
		ev.Rule = "no host grant matches"
		if !capabilities.MatchAnyHostCall(p.ins.Manifest.Capabilities.Host, name) {
			ev.Rule = "not requested in plugin.toml [capabilities].host"
		}
		p.deny(st, ev)
		return nil, fmt.Errorf("permission denied: host call %q not granted", name)
	}
	ev.Allowed, ev.Rule, ev.Function = true, "granted", st.fn
	p.audit(ev)
	fn, ok := r.hostFunc(name)
	if !ok {
		return nil, fmt.Errorf("host call %q is not provided by the application", name)
	}
	out, err = p.runHostFunc(ctx, st, name, fn, payload)
	if err != nil {
		return nil, err
	}
	if uint64(len(out)) > p.limits.output {
		return nil, fmt.Errorf("host call %q returned %d bytes, over the plugin's output limit of %d bytes", name, len(out), p.limits.output)
	}
	return out, nil
}

// hostResult is what an application's host function returned.
type hostResult struct {
	out []byte
	err error
}

// runHostFunc runs the application's host function fn for the call st,
// with the caller's context bounded by the call's deadline (and
// cancelled if the plugin's Close cancels its calls).
//
// fn runs in a goroutine of its own, so that one that ignores its
// context cannot hold the call past its deadline: once the context is
// done, the call stops (the error wraps engine.ErrInterrupted, which the
// call reports as ErrTimeout or ErrCanceled), whatever fn returns and
// when, and the guest runs no further. fn then goes on alone; its result
// is dropped. It has only its copy of the payload, nothing of the
// guest's memory.
func (p *Plugin) runHostFunc(ctx context.Context, st *callState, name string, fn HostFunc, payload []byte) ([]byte, error) {
	parent := st.ctx
	if parent == nil {
		parent = ctx
	}
	// The caller's context, not ctx: ctx lives in the instance and is
	// reused by its next call, and fn may outlive this one.
	hctx, cancel := parent, context.CancelFunc(func() {})
	if d := st.start(); !d.IsZero() {
		hctx, cancel = context.WithDeadline(parent, d)
	}
	defer cancel()
	done := make(chan hostResult, 1)
	go func() {
		var r hostResult
		defer func() {
			if v := recover(); v != nil {
				r = hostResult{err: fmt.Errorf("host call %q failed: panic: %v", name, v)}
			}
			done <- r
		}()
		r.out, r.err = fn(hctx, payload)
	}()
	// The plugin's Close may cancel its calls in flight (p.abort): waited
	// for here rather than merged into hctx, which would cost a context
	// and a registration more on every host call.
	select {
	case r := <-done:
		if hctx.Err() == nil && !p.aborted.Load() {
			return r.out, r.err
		}
	case <-hctx.Done():
	case <-p.abort.Done():
	}
	cause := context.Cause(p.abort)
	if cause == nil {
		cause = context.Cause(hctx)
	}
	cancel() // fn sees its context done, if it looks
	p.logger.Warn("host function still running at the call's deadline or cancellation: the call is stopped",
		slog.String("host_call", name), slog.String("function", st.fn), slog.Any("cause", cause))
	return nil, &hostInterrupted{fmt.Errorf("%w: host call %q: %w", engine.ErrInterrupted, name, cause)}
}

// hostInterrupted is runHostFunc's error when the call must stop, told
// apart by its type from any error of the application's host function.
type hostInterrupted struct{ err error }

func (e *hostInterrupted) Error() string { return e.err.Error() }
