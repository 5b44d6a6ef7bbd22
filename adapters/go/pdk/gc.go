package pdk

import (
	"runtime"
	"runtime/metrics"
)

// gcWatch finishes garbage collection cycles that the Go runtime cannot
// finish on its own inside a wasm export.
//
// In a wasip1 reactor, Go code runs only while the host is inside an export,
// on one goroutine that is never preempted. A collection cycle is started by
// an allocation and its mark phase is then finished by two kinds of workers:
// background mark goroutines, which only run when the export blocks, and
// assists, which run inside allocations. When the runtime's GC CPU limiter
// decides that the collector uses more than half of the CPU time (which
// happens quickly with allocation-heavy calls, and at once with a host that
// gives the guest a fake clock, as wazero does by default) it turns assists
// off. The cycle then never ends: every allocation is made black (kept) and
// linear memory grows by the size of everything the plugin allocates, until
// it hits its limit (about 2 MiB per 1 MiB call, a crash after ~2,000 calls).
//
// afterCall, run at the end of calls from the host, detects such a stuck
// cycle: if more bytes than the heap goal were allocated since the last cycle
// completed, a healthy collector would have finished a cycle long ago. It
// then calls runtime.GC, which parks the export's goroutine until the
// background workers have finished the cycle and swept the heap. A healthy
// collector never pays for this.
//
// The check is one runtime/metrics read, about 7µs in a wasm guest: more than
// a small call costs. So it runs after a call that moved at least
// checkBytes of input and output, or after checkCalls calls, whichever comes
// first. A stuck cycle is then caught before memory grows by more than
// checkBytes plus what checkCalls calls allocate inside their handlers.
type gcWatch struct {
	samples []metrics.Sample
	cycles  uint64 // completed cycles when last seen
	allocs  uint64 // cumulative bytes allocated when cycles last changed
	forced  uint64 // collections forced so far

	calls int     // calls since the last check
	bytes uintptr // input and output bytes since the last check
}

const (
	checkBytes = 256 << 10
	checkCalls = 16
)

const (
	metricCycles = "/gc/cycles/total:gc-cycles"
	metricAllocs = "/gc/heap/allocs:bytes"
	metricGoal   = "/gc/heap/goal:bytes"
)

// read returns the completed cycles, cumulative allocated bytes and heap goal.
func (w *gcWatch) read() (cycles, allocs, goal uint64) {
	if w.samples == nil {
		w.samples = []metrics.Sample{{Name: metricCycles}, {Name: metricAllocs}, {Name: metricGoal}}
	}
	metrics.Read(w.samples)
	return w.samples[0].Value.Uint64(), w.samples[1].Value.Uint64(), w.samples[2].Value.Uint64()
}

// afterCall is called at the end of a call that moved n bytes of input and
// output. It forces a collection if the current one is stuck, and reports
// whether it did.
func (w *gcWatch) afterCall(n uintptr) bool {
	w.calls++
	w.bytes += n
	if w.calls < checkCalls && w.bytes < checkBytes {
		return false
	}
	w.calls, w.bytes = 0, 0
	if !w.stuck(w.read()) {
		return false
	}
	runtime.GC()
	w.forced++
	w.cycles, w.allocs, _ = w.read()
	return true
}

// stuck records the runtime's completed cycles, cumulative allocated bytes
// and heap goal, and reports whether the current cycle is stuck: more than
// the heap goal was allocated since a cycle last completed.
func (w *gcWatch) stuck(cycles, allocs, goal uint64) bool {
	if cycles != w.cycles {
		w.cycles, w.allocs = cycles, allocs
		return false
	}
	return allocs-w.allocs > goal
}
