package meter

import "fmt"

// Stats describes a module's code as [InstrumentStats] decoded it: the
// sizes that bound the work of compiling it. An engine's optimizing
// compiler can take time and memory far beyond linear in some of them
// (nesting depth, br_table targets), so the host checks them before
// compiling (see docs/security.md, "Compilation").
//
// Function indices are in the input module's function index space
// (imports first); offsets are byte offsets in the input module.
type Stats struct {
	// Functions is the number of function bodies.
	Functions int
	// Body is the largest function body, in bytes (its locals
	// declarations included); Offset is where the body starts.
	Body Max
	// Locals is the most locals of a function, its parameters included;
	// Offset is where its local declarations start.
	Locals Max
	// Depth is the deepest nesting of blocks, loops, ifs, trys and
	// try_tables in a function (a function body is depth 0); Offset is
	// the instruction that first reached it.
	Depth Max
	// BrTable is the largest br_table, counted in targets (its default
	// included); Offset is the br_table instruction.
	BrTable Max
	// BrTableTargets is the number of br_table targets of the whole
	// module.
	BrTableTargets uint64
	// DepthSquares is the sum over functions of the square of each one's
	// nesting depth: what the nesting costs an optimizing compiler that is
	// quadratic in it, for the whole module.
	DepthSquares uint64
}

// Max is the largest value of a measure over a module's functions, and
// where it is.
type Max struct {
	Value  uint64
	Func   uint32 // function index
	Offset int    // byte offset in the module
}

// String says where the value is, as errors do.
func (m Max) String() string {
	return fmt.Sprintf("%d (function %d at offset 0x%x)", m.Value, m.Func, m.Offset)
}

func (m *Max) update(v uint64, fn uint32, off int) {
	if v > m.Value {
		*m = Max{Value: v, Func: fn, Offset: off}
	}
}

// funcStats collects one function's measures while it is decoded.
type funcStats struct {
	depth, depthOff int
}

// InstrumentStats is [Instrument], also returning the measures of the
// module's code it decoded on the way.
func InstrumentStats(wasm []byte, opts Options) ([]byte, Stats, error) {
	shift, err := opts.shift()
	if err != nil {
		return nil, Stats{}, err
	}
	m := &module{in: wasm, bulkShift: shift, noStack: opts.noStack}
	out, err := m.instrument()
	if err != nil {
		return nil, Stats{}, fmt.Errorf("instrument: %w", err)
	}
	return out, m.stats, nil
}
