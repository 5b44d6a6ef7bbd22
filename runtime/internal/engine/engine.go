// Package engine defines the interface between the plugin runtime and a
// WebAssembly engine. The runtime holds no engine type: each engine lives in
// its own package below this one and implements these interfaces, so a
// second engine plugs in without changing the runtime or its public API.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vitte-lang/vitte-plugin/abi"
)

// Engine compiles modules and owns the host functions they import.
type Engine interface {
	// Compile validates and compiles a module. The module's imports must all
	// be host functions given to the engine at construction or WASI.
	Compile(ctx context.Context, wasm []byte) (Module, error)
	// WASIFunc returns the type of a wasi_snapshot_preview1 function the
	// engine provides.
	WASIFunc(name string) (abi.FuncType, bool)
	// Close releases everything the engine holds; modules and instances
	// become unusable.
	Close(ctx context.Context) error
}

// HostFunc is a function the host provides to every module. Fn reads its
// parameters from stack and writes its results there, as wasm core values.
// An error from Fn traps the guest: the call that reached the host function
// fails with that error wrapped.
type HostFunc struct {
	Module, Name string
	Type         abi.FuncType
	Fn           func(ctx context.Context, caller Caller, stack []uint64) error
	// Stack, when set, is called before each call of Fn with the guest's
	// call stack at the call, innermost first, for profiling. Only engines
	// whose Profiles is true call it; walking the stack costs, so set it
	// only while profiling.
	Stack func(ctx context.Context, frames []Frame)
}

// Profiler is implemented by engines that can give host functions the
// guest's call stack (HostFunc.Stack).
type Profiler interface {
	Profiles() bool
}

// Caller is the instance that called a host function.
type Caller interface {
	Memory() abi.Memory
	// Global returns the exported mutable global name, or nil.
	Global(name string) Global
}

// Global is a mutable 64-bit global of an instance.
type Global interface {
	Get() uint64
	Set(v uint64)
}

// Module is a compiled module, ready to instantiate many times.
type Module interface {
	Instantiate(ctx context.Context, cfg InstanceConfig) (Instance, error)
	Close(ctx context.Context) error
}

// InstanceConfig is what one instance sees of the outside world through
// WASI. Everything absent is denied.
type InstanceConfig struct {
	// Name identifies the instance in engine errors.
	Name string
	// Stdout and Stderr receive the guest's output; nil discards it.
	Stdout, Stderr io.Writer
	// Env holds "KEY=value" pairs visible through environ_get.
	Env []string
	// Mounts are the directories the guest sees, each confined to its host
	// directory (see the engine's implementation).
	Mounts []Mount
	// Deterministic makes the clocks fixed and the random source seeded
	// with Seed, for reproducible runs.
	Deterministic bool
	Seed          int64
	// Denied is called when the guest reaches for something outside its
	// mounts or writes to a read-only mount. op is what it tried ("open",
	// "write", "rename", ...), path the guest path, rule why it was refused.
	Denied func(op, path, rule string)
	// MemoryLimit, when not zero, is the most linear memory in bytes the
	// instance may have; MemoryDenied is called each time the guest tries
	// to grow past it (memory.grow then fails in the guest).
	MemoryLimit  uint64
	MemoryDenied func(requested, limit uint64)
	// Sleep, when not nil, is how the guest sleeps (WASI poll_oneoff on a
	// clock): it must return when the call the guest serves has to stop,
	// however long the guest asked for. Nil sleeps for real, for as long
	// as asked.
	Sleep func(ns int64)
	// Charge, when not nil, is called by every WASI function before it
	// does any work, with the fuel that work costs (the cost model of
	// internal/meter's host.go, computed from the function's arguments).
	// It checks the call's deadline and budget: an error stops the guest,
	// the call trapping with it, and the work is not done.
	Charge func(ctx context.Context, fuel uint64) error
}

// Mount maps a guest path to a host directory.
type Mount struct {
	Guest    string
	Host     string
	ReadOnly bool
}

// Instance is one instantiated module. It is not safe for concurrent use.
type Instance interface {
	// Memory is the instance's exported memory.
	Memory() abi.Memory
	// Func returns the exported function with that name, or nil.
	Func(name string) Func
	// Global returns the exported mutable global name, or nil.
	Global(name string) Global
	// Close drops the instance.
	Close(ctx context.Context) error
}

// Func is an exported function of an instance. Call passes the parameters
// in stack and leaves the results there; stack must be large enough for
// both.
type Func interface {
	Call(ctx context.Context, stack []uint64) error
}

// ExitError is returned when the guest called WASI proc_exit.
type ExitError struct{ Code uint32 }

func (e *ExitError) Error() string { return fmt.Sprintf("guest exited with code %d", e.Code) }

// ErrInterrupted is wrapped when a call stopped because its context was
// done; the error also wraps the context's error.
var ErrInterrupted = errors.New("call interrupted")

// StackOverflowError is a trap of the guest exhausting its call stack:
// the engine's own stack (Metered false) or the one the metering counts.
type StackOverflowError struct {
	Err     error
	Metered bool
}

func (e *StackOverflowError) Error() string { return e.Err.Error() }
func (e *StackOverflowError) Unwrap() error { return e.Err }

// Frame is one function of a guest's call stack.
type Frame struct {
	// Function is the function's name in the module's name section, ""
	// when the module names none.
	Function string
}

// TraceError is a trap with the guest's call stack, innermost frame
// first, as the engine reported it. Err is the trap; its message is the
// engine's, unchanged.
type TraceError struct {
	Err    error
	Frames []Frame
}

func (e *TraceError) Error() string { return e.Err.Error() }
func (e *TraceError) Unwrap() error { return e.Err }

// FramesOf returns the guest call stack carried by err, innermost first, or
// nil.
func FramesOf(err error) []Frame {
	var te *TraceError
	if errors.As(err, &te) {
		return te.Frames
	}
	return nil
}
