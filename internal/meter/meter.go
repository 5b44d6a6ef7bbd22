// Package meter rewrites a WebAssembly module so that it counts what it
// executes and calls the host back at regular intervals: metering, the way
// to stop a runaway guest without wazero's close-on-context-done (see
// "Why do timeouts use wazero's close-on-context-done for now?" in
// docs/RATIONALE.md) and a deterministic CPU budget.
//
// # What Instrument adds
//
// [Instrument] adds to a module:
//
//   - a mutable i64 global, the fuel counter, exported as [GlobalName];
//   - a function import [ImportModule].[ImportName] of type () -> (),
//     the "out of fuel" callback;
//   - at every function entry and loop header, code that subtracts the
//     static cost of what follows from the counter and calls the callback
//     when the counter is negative;
//   - before every bulk operation (memory.copy, memory.fill, memory.init,
//     memory.grow, table.copy, table.fill, table.init, table.grow), code that
//     subtracts a cost proportional to its size operand, then checks the
//     same way.
//
// Everything else is unchanged, except function indices: the import shifts
// every defined function up by one, and every reference to one (calls,
// ref.func, element segments, the start function, exports, constant
// expressions, the name section) is renumbered.
//
// # The cost model
//
// Every instruction costs 1, except the ones that only structure the code
// (block, loop, else, end, nop, try, catch, catch_all, delegate, try_table),
// which cost 0. The code of a function is cut into regions: a region starts
// at the function's entry or at a loop header and holds every instruction
// up to the end of that function or loop, nested loops excepted (they are
// regions of their own). A region's cost is the sum of its instructions'
// costs, where an if/else counts its more expensive arm only, and a legacy
// try counts its body and its most expensive catch. The whole cost is
// charged, and checked, once, when the region starts: the check costs one
// comparison per loop iteration and per call. A region may be left early
// (br, return, a branch not taken), so fuel is an upper bound of the
// instructions executed, never less: every instruction is paid before it
// runs. A loop that no branch targets runs once; it is not a region and its
// instructions are charged with the code around it.
//
// Bulk operations also cost their length: memory.copy, memory.fill and
// memory.init one unit per [Options].BulkBytesPerFuel bytes (16 by
// default), memory.grow the same for the bytes it asks for (64 KiB a page),
// and the table operations one unit per element.
//
// # The host protocol
//
//  1. Before calling into an instance, the host sets the counter
//     ([GlobalName]) to a quantum Q, as an i64.
//  2. The guest charges as it runs. When the counter goes below zero, it
//     calls out_of_fuel once and goes on when it returns.
//  3. out_of_fuel checks the call's context (deadline, cancellation, a
//     budget of refills): to stop the guest it returns an error, which
//     traps the call (the instance must then be discarded: it was stopped
//     anywhere); to let it run it adds Q to the counter and counts a refill.
//  4. After the call, the fuel used is Q*refills + (Q - final), where final
//     is the counter's value; [Used] computes it.
//
// Q bounds how late a deadline is seen and how long the guest runs without
// entering Go (a guest that never calls into Go holds up Go's
// stop-the-world, and with it every garbage collection of the process).
// Adding Q (not setting it) keeps the accounting exact when a charge takes
// the counter far below zero: the debt is paid from the next quantum. A
// host function that calls back into the guest (cabi_realloc) leaves the
// counter alone: the guest goes on counting from where it is. The start
// function runs with the counter at 0, so its first charge calls
// out_of_fuel, which refills it.
//
// # What is refused
//
// Instrument decodes every instruction of the core specification 2.0,
// SIMD (relaxed SIMD included), threads and atomics, tail calls, exception
// handling (legacy try/catch/delegate and try_table/throw_ref), typed
// function references, extended constant expressions and multiple memories.
// It refuses, with an error wrapping [ErrUnsupported]: GC types and
// instructions, 64-bit memories and tables, and any unknown opcode. It
// refuses a module that already imports from [ImportModule] or exports
// [GlobalName] (ErrReservedName). A module whose bytes cannot be decoded
// is refused with [ErrMalformed]. Instrument is not a validator: a module
// it accepts may still be invalid, and the engine still validates it.
//
// Custom sections that point into the code by offset or by function index
// and would be wrong after the rewrite (DWARF ".debug_*", "reloc.*",
// "linking", "sourceMappingURL", "external_debug_info" and
// "metadata.code.*") are dropped. The "name" section is renumbered (the
// callback is named "vitte:meter.out_of_fuel"), or dropped when it cannot
// be decoded.
package meter

import (
	"errors"
	"fmt"
	"math/bits"
)

// Names of what Instrument adds to a module. Names that start with "__"
// are never handlers in the plugin ABI.
const (
	// GlobalName is the export name of the fuel counter, a mutable i64.
	GlobalName = "__vitte_fuel"
	// ImportModule and ImportName name the out-of-fuel callback, of type
	// () -> ().
	ImportModule = "vitte:meter"
	ImportName   = "out_of_fuel"
)

// DefaultBulkBytesPerFuel is how many bytes of a bulk memory operation cost
// one unit of fuel when [Options].BulkBytesPerFuel is zero.
const DefaultBulkBytesPerFuel = 16

var (
	// ErrMalformed is wrapped by the errors about bytes that do not decode.
	ErrMalformed = errors.New("malformed module")
	// ErrUnsupported is wrapped by the errors about features Instrument
	// refuses.
	ErrUnsupported = errors.New("unsupported feature")
	// ErrReservedName is wrapped by the error about a module that already
	// uses a name Instrument adds.
	ErrReservedName = errors.New("reserved name")
)

// Options tunes Instrument. The zero value is ready to use.
type Options struct {
	// BulkBytesPerFuel is how many bytes of memory.copy, memory.fill,
	// memory.init and memory.grow cost one unit of fuel. It must be a power
	// of two no larger than 65536; 0 means [DefaultBulkBytesPerFuel].
	BulkBytesPerFuel uint32
}

// Instrument returns a copy of the binary module wasm with fuel metering
// added, as described in the package documentation. wasm is not modified.
//
// Errors wrap [ErrMalformed], [ErrUnsupported] or [ErrReservedName].
func Instrument(wasm []byte, opts Options) ([]byte, error) {
	shift, err := opts.shift()
	if err != nil {
		return nil, err
	}
	m := &module{in: wasm, bulkShift: shift}
	out, err := m.instrument()
	if err != nil {
		return nil, fmt.Errorf("instrument: %w", err)
	}
	return out, nil
}

func (o Options) shift() (uint, error) {
	n := o.BulkBytesPerFuel
	if n == 0 {
		n = DefaultBulkBytesPerFuel
	}
	if n&(n-1) != 0 || n > 65536 {
		return 0, fmt.Errorf("instrument: bulk bytes per fuel %d is not a power of two up to 65536", n)
	}
	return uint(bits.TrailingZeros32(n)), nil
}

// Used returns the fuel a call used, given the quantum the host set the
// counter to before the call and added at each refill, the number of
// refills, and the counter's value after the call.
func Used(quantum int64, refills uint64, final int64) int64 {
	return quantum*int64(refills) + quantum - final
}
