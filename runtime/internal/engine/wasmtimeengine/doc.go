// Package wasmtimeengine implements the engine interface with wasmtime
// (github.com/bytecodealliance/wasmtime-go/v39, its C API through cgo).
// It is built only with the wasmtime build tag; without it the package is
// empty.
//
// The guest sees the same world as on the wazero engine: WASI is served by
// wazeroengine.WASIHost (the same functions, mounts and refusal reports),
// on the guest's own memory; host functions are called through
// wasmtime's unchecked trampolines, exported functions through
// wasmtime_func_call_unchecked with a reused buffer of raw values; linear
// memories are allocated here (shim.c), so that a growth past the
// instance's limit is refused and reported, and a memory never moves.
//
// Guests are stopped by the runtime's metering (the out_of_fuel host
// function failing the call), not by wasmtime's fuel or epochs.
package wasmtimeengine
