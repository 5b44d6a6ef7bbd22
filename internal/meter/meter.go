// Package meter rewrites a WebAssembly module so that it counts what it
// executes and calls the host back at regular intervals: metering, the way
// to stop a runaway guest without wazero's close-on-context-done (see
// "Why do timeouts use wazero's close-on-context-done for now?" in
// docs/RATIONALE.md), and a deterministic CPU budget. It also bounds the
// guest's call stack and the growth of its tables, the same way on every
// engine.
//
// # What Instrument adds
//
// [Instrument] adds to a module:
//
//   - a mutable i64 global, the fuel counter, exported as [GlobalName];
//   - a function import [ImportModule].[ImportName] of type () -> (),
//     the out-of-fuel callback;
//   - a mutable i64 global, the stack counter, exported as
//     [StackGlobalName], and a function import [ImportModule].[LimitName]
//     of type (i32, i64) -> i32, the limit callback (see "The call stack"
//     and "Tables");
//   - at every function entry and loop header, code that subtracts the
//     static cost of what follows from the counter and, when the counter
//     is then negative, calls the callback;
//   - before every bulk operation (memory.copy, memory.fill, memory.init,
//     memory.grow, table.copy, table.fill, table.init, table.grow), code that
//     subtracts a cost proportional to its size operand, then checks the
//     same way.
//
// Nothing else changes, except function indices: the imports shift every
// defined function up by two, and every reference to one (call,
// return_call, ref.func, element segments of every form, constant
// expressions of globals, tables and segments, the start function, exports,
// the name section) is renumbered.
//
// # The cost model
//
// Every instruction costs 1, except those that only structure the code
// (block, loop, else, end, nop, try, catch, catch_all, delegate,
// try_table), which cost 0. A function's code is cut into regions: a
// region starts at the function's entry or at a loop header and holds
// every instruction up to the end of that function or loop, except those of
// nested loops (regions of their own). A region's cost is the sum of its
// instructions' costs, where an if/else counts its more expensive arm only
// and a legacy try its body plus its most expensive catch. The whole cost
// is charged, and checked, when the region starts. A region may be left
// early (br, return, a branch not taken), so fuel is an upper bound of the
// instructions executed, never less: every instruction is paid for before
// it runs, and the count is deterministic. A loop that no branch targets
// runs once: it is not a region, its instructions are paid with the code
// around it.
//
// Bulk operations also cost their length: memory.copy, memory.fill and
// memory.init one unit per [Options].BulkBytesPerFuel bytes (16 by
// default), memory.grow the same for the bytes it asks for (64 KiB a page),
// the table operations one unit per element. A memory.grow by more pages
// than the memory can ever have (its declared maximum, or 65536: 4 GiB)
// cannot succeed and allocates nothing: it costs only its instruction, and
// returns -1 at once. Any other memory.grow pays for every page it asks
// for, whether it then succeeds or not, so the cost stays deterministic
// and no growth that may succeed is cheap. table.grow pays for its
// elements only when the limit callback lets it grow.
//
// # The host protocol
//
//  1. Before calling into an instance, the host sets the counter
//     ([GlobalName]) to a quantum Q, as an i64.
//  2. The guest charges as it runs. When the counter is below zero after a
//     charge, it calls out_of_fuel once, then goes on.
//  3. out_of_fuel checks the call's context (deadline, cancellation, a
//     budget of refills). To stop the guest it returns an error (with
//     wazero, panics with it), which traps the call; the instance must then
//     be discarded, as it was stopped anywhere. To let it run, it adds Q to
//     the counter and counts a refill.
//  4. After the call, the fuel used is Q*refills + (Q - final), final being
//     the counter's value: [Used].
//
// Q bounds how late a deadline is seen and how long the guest runs without
// entering Go. A guest that never calls into Go cannot be preempted, so it
// holds up Go's stop-the-world and with it every garbage collection of the
// process: Q bounds that pause too. On the machine of the benchmarks,
// 1<<20 units took about 0.35 ms of a tight loop; a deadline of 50 ms was
// seen about 0.6 ms late. Adding Q, rather than setting the counter to Q,
// keeps the count exact when a charge takes the counter far below zero: the
// debt is paid from the next quantum. A host function that calls back into
// the guest (cabi_realloc) must leave the counter alone: the guest goes on
// counting from where it is. The start function runs with the counter at
// 0: its first check calls out_of_fuel, which refills it.
//
// # The call stack
//
// A function's frame is estimated at [FrameOverhead] bytes plus
// [FrameSlot] bytes per parameter and local (twice that for a v128), a
// figure that does not depend on the engine. A function that calls (call,
// call_indirect, call_ref, their tail forms, or an import) keeps the stack
// counter in a new local at its entry and checks that its frame fits: if
// the counter is below the frame's size, it calls the limit callback with
// [LimitStack] and the frame's size, then traps (unreachable). Before each
// call it sets the counter to its entry value minus its frame, and after
// the call back to its entry value; before a tail call, to its entry value
// (the callee replaces the frame). A function that calls nothing is not
// changed: the stack is bounded up to one such leaf frame, whose size the
// engine bounds by its limit on locals.
//
// So the host sets the counter to the stack it allows (in bytes) and the
// guest may nest frames up to that sum; the depth at which it overflows
// is the same on every engine. The counter is back to the host's value
// after every call that returns, whatever happened inside, with one
// exception: an exception that unwinds frames skips their restores, so a
// module that can throw (one that declares or imports a tag) may end a call
// with the counter lower than it started (never higher: the error only
// ever refuses frames early, and a function that catches the exception
// sets the counter from its own entry value at its next call). A host
// running such modules sets the counter before every call; a trap ends the
// call anyway. The module's initial value is [DefaultMaxStack], what the
// start function runs with.
//
// # Tables
//
// Before every table.grow, the guest calls the limit callback with
// [LimitTableGrow] and the total number of elements all its tables would
// have after the growth (the sum of table.size over every table, plus the
// growth). If the callback returns 0, table.grow is skipped and the guest
// sees -1, as for a growth the engine refuses; otherwise it is charged and
// runs. The initial sizes, and the number of tables, the host checks at
// load.
//
// # What is refused
//
// Instrument decodes every instruction of WebAssembly 2.0, SIMD (relaxed
// SIMD included), threads and atomics, tail calls, exception handling
// (legacy try/catch/delegate/rethrow, and try_table/throw_ref), typed
// function references (call_ref, br_on_null, ...), extended constant
// expressions and multiple memories. It refuses, with an error wrapping
// [ErrUnsupported]: GC types and instructions, 64-bit memories and tables,
// components, and any opcode it does not know. It refuses a module that
// already imports from [ImportModule] or exports [GlobalName] or
// [StackGlobalName]
// ([ErrReservedName]), and bytes that do not decode ([ErrMalformed]),
// including indices of locals, globals, functions and labels out of
// range: an invalid module must not become valid by naming what
// Instrument adds. Instrument is not a validator otherwise: the engine
// still validates the result.
//
// Custom sections that point into the code by offset or by function index
// and would be wrong after the rewrite (DWARF ".debug_*", "reloc.*",
// "linking", "sourceMappingURL", "external_debug_info",
// "metadata.code.*") are dropped. The "name" section is renumbered (the
// callbacks are named "vitte:meter.out_of_fuel" and "vitte:meter.limit"), or dropped when it does
// not decode. Other custom sections are kept.
//
// # Design
//
// The choices below were measured with wazero 1.12's compiler on amd64
// (BenchmarkRatios runs the variants interleaved, which a busy machine
// needs).
//
//   - The check calls the host rather than trapping when the counter runs
//     out: the host decides whether the guest goes on, and a guest that
//     never calls into Go would hold up the garbage collector of the whole
//     process (TestInstrument_GCDuringLoop).
//   - The counter lives in the global; code reads and writes it at each
//     charge. Keeping it in a local between charges (and writing it back
//     before calls) was no faster anywhere, and 1.3 times slower on the
//     tightest loop: wazero spills the loop's values around the call in
//     the check either way, and the local is one more of them.
//   - The check is inline (if counter < 0 { call }), not in a helper
//     function: a call at every loop iteration made SHA-256 and a tight
//     loop 1.5 times slower, a loop of four instructions 3.4 times.
//   - Regions are charged once, at their head, for everything they may
//     run, rather than charging every basic block: one charge per loop
//     iteration and per call, at the price of counting the arms and exits
//     not taken.
//   - A function with no loop and no call charges without checking: it
//     cannot run long, and with no call in it wazero keeps its values in
//     registers. Every other function checks at its entry, which stops
//     recursion and calls that multiply without loops.
//   - With a call in a loop, even one never taken, wazero keeps the loop's
//     values in memory rather than in registers: a loop of four
//     instructions ran 1.7 times slower with the check inside. So the
//     check of a loop without parameters branches out of the loop to a
//     slow path that calls the host, then re-enters the loop through an
//     outer one (see region in code.go; branches that leave the loop are
//     renumbered). The loop of four instructions then runs about 1.0 to
//     1.35 times (busy machine); loops with parameters (rare: multi-value)
//     keep the check inside.
//   - What remains costs most in calls: recursive Fibonacci about 1.5
//     times, SHA-256 about 1.15 times; bench-c's loops and an empty call do
//     not change measurably. wazero's close-on-context-done costs 5 to 25
//     times.
//   - The call stack is charged at call sites, not at function exits:
//     a call's restore needs no knowledge of how the callee leaves (return,
//     br to the function's label, a tail call), and a function that calls
//     nothing is not touched. The check is at the entry of the functions
//     that call, against a constant, and calls the host only when the
//     stack is exhausted. BenchmarkRatios reports its cost as
//     metered/fuelonly (see docs/RATIONALE.md, "How is the guest's call
//     stack bounded?").
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
	// StackGlobalName is the export name of the stack counter, a mutable
	// i64: the bytes of call stack the guest may still use (see "The call
	// stack").
	StackGlobalName = "__vitte_stack"
	// LimitName names the limit callback, ImportModule.LimitName, of type
	// (kind i32, value i64) -> i32: the guest reached a limit of the given
	// kind (LimitStack, LimitTableGrow).
	LimitName = "limit"
)

// Kinds of the limit callback's first argument.
const (
	// LimitStack: a function's frame of value bytes does not fit in what
	// is left of the stack. The guest traps after the callback returns;
	// the host should make the call fail with a stack overflow.
	LimitStack = 1
	// LimitTableGrow: table.grow would take the tables of the instance to
	// value elements in all. The callback returns 1 to let it grow, 0 to
	// make it fail (table.grow then returns -1 and grows nothing).
	LimitTableGrow = 2
)

// DefaultMaxStack is the initial value of the stack counter: the stack a
// guest gets when the host does not set the counter (the start function,
// a host that ignores it).
const DefaultMaxStack = 384 << 10

// Frame sizes: a function's frame is estimated at FrameOverhead bytes plus
// FrameSlot bytes per parameter and local (two for a v128 local).
const (
	FrameOverhead = 64
	FrameSlot     = 8
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

	// noStack leaves the call stack unmetered: for the benchmarks that
	// measure what the stack metering costs.
	noStack bool
}

// Version names the rewriting Instrument does. It changes whenever the
// output of Instrument for a given input and options changes, so that a
// cache of metered modules keyed by it never serves an outdated rewrite
// (TestVersion fails until it is changed).
const Version = "meter/4"

// Instrument returns a copy of the binary module wasm with fuel metering
// added, as described in the package documentation. wasm is not modified.
//
// Errors wrap [ErrMalformed], [ErrUnsupported] or [ErrReservedName].
func Instrument(wasm []byte, opts Options) ([]byte, error) {
	out, _, err := InstrumentStats(wasm, opts)
	return out, err
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
