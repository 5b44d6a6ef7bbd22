package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine/wazeroengine"
)

// ErrCompileLimit is wrapped by the error of a Load (or Verify) refusing a
// module whose code is past one of the CompileLimits: compiling it could
// take the host's CPU and memory for minutes.
var ErrCompileLimit = errors.New("compile limit")

// CompileLimits bound the work of compiling a plugin's module, which
// happens at Load before any of the plugin's limits apply. An engine's
// optimizing compiler can take time and memory far beyond linear in the
// size of some code (wazero's: 41 s and 200 MB for a module of 120 KB
// nesting 40,000 loops, 276 s and 2.4 GB for one br_table of 2 million
// targets; see docs/security.md, "Compilation").
//
// The Max limits refuse a module, on every engine, with an error naming the
// function, the offset and the limit, and wrapping ErrCompileLimit. The
// Compiler thresholds are lower: past any of them, the wazero engine
// compiles the module with its interpreter rather than its optimizing
// compiler (linear in all of these, but slower to run: Inspection.Compiler
// and vitte plugin info say which one a plugin got, and why). The wasmtime
// engine has no such fallback; its compiler, Cranelift, stays close to
// linear below the Max limits.
//
// A zero field takes its default (DefaultCompileLimits). New fails when
// a Compiler threshold is above its Max limit.
type CompileLimits struct {
	// MaxFunctionSize is the largest function body, in bytes (default 1 MiB).
	MaxFunctionSize uint64
	// MaxLocals is the most locals a function may have, its parameters
	// included (default 50,000, the limit of web browsers and of
	// wasmtime).
	MaxLocals uint64
	// MaxNesting is the deepest nesting of blocks, loops, ifs and trys in
	// a function (default 10,000).
	MaxNesting uint64
	// MaxBrTable is the most targets of a br_table, its default
	// included (default 65,536).
	MaxBrTable uint64

	// CompilerNesting is the nesting depth past which a module is
	// interpreted (default 1,000).
	CompilerNesting uint64
	// CompilerNestingSquares is the sum over a module's functions of the
	// square of their nesting depth past which it is interpreted (default
	// 2^26: wazero's compiler is quadratic in the nesting of each
	// function).
	CompilerNestingSquares uint64
	// CompilerBrTable is the br_table size past which a module is
	// interpreted (default 8,192).
	CompilerBrTable uint64
	// CompilerBrTableTargets is the number of br_table targets in a whole
	// module past which it is interpreted (default 2^19).
	CompilerBrTableTargets uint64
}

// DefaultCompileLimits returns the default CompileLimits. The largest
// measures of the fixtures of this repository, Go programs of 3 MB
// included, are 29 KB of function body, 43 locals, a nesting depth of 549
// (2.8 million summed squared), a br_table of 896 targets and 67,259 in a
// module; those of the CPython interpreter of kind "python" (5.7 MB) 53
// KB, 56 locals, a depth of 267 (340,000 squared), a br_table of 3,075
// targets and 34,129 in all.
func DefaultCompileLimits() CompileLimits {
	return CompileLimits{
		MaxFunctionSize:        1 << 20,
		MaxLocals:              50_000,
		MaxNesting:             10_000,
		MaxBrTable:             65_536,
		CompilerNesting:        1_000,
		CompilerNestingSquares: 1 << 26,
		CompilerBrTable:        8_192,
		CompilerBrTableTargets: 1 << 19,
	}
}

// WithCompileLimits bounds the work of compiling a module (default
// DefaultCompileLimits; zero fields take their default). Load refuses a
// module past a Max limit; New fails if a Compiler threshold is above its
// Max limit.
func (c Config) WithCompileLimits(l CompileLimits) Config {
	c.compileLimits = l
	return c
}

// effective returns l with its zero fields set to their defaults.
func (l CompileLimits) effective() CompileLimits {
	d := DefaultCompileLimits()
	for _, f := range []struct{ v, def *uint64 }{
		{&l.MaxFunctionSize, &d.MaxFunctionSize},
		{&l.MaxLocals, &d.MaxLocals},
		{&l.MaxNesting, &d.MaxNesting},
		{&l.MaxBrTable, &d.MaxBrTable},
		{&l.CompilerNesting, &d.CompilerNesting},
		{&l.CompilerNestingSquares, &d.CompilerNestingSquares},
		{&l.CompilerBrTable, &d.CompilerBrTable},
		{&l.CompilerBrTableTargets, &d.CompilerBrTableTargets},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return l
}

// validate checks that each threshold is at most its limit (New calls
// it).
func (l CompileLimits) validate() error {
	var errs []error
	if l.CompilerNesting > l.MaxNesting {
		errs = append(errs, fmt.Errorf("CompileLimits.CompilerNesting %d is above MaxNesting %d", l.CompilerNesting, l.MaxNesting))
	}
	if l.CompilerBrTable > l.MaxBrTable {
		errs = append(errs, fmt.Errorf("CompileLimits.CompilerBrTable %d is above MaxBrTable %d", l.CompilerBrTable, l.MaxBrTable))
	}
	return errors.Join(errs...)
}

// Compiler says how a module was, or would be, compiled.
type Compiler struct {
	// Name is "wazero compiler", "wazero interpreter" or "wasmtime
	// (Cranelift)".
	Name string
	// Reason, for the interpreter, is the threshold the module is past
	// ("function 12 at offset 0x4f2: nesting depth 40000 is past
	// CompileLimits.CompilerNesting 1000"); else empty.
	Reason string
}

func (c Compiler) String() string {
	if c.Reason == "" {
		return c.Name
	}
	return c.Name + " (" + c.Reason + ")"
}

// Names of the Compilers.
const (
	compilerWazero      = "wazero compiler"
	compilerInterpreter = "wazero interpreter"
	compilerWasmtime    = "wasmtime (Cranelift)"
)

// checkCode checks the measures of a module's code against l (effective):
// an error wrapping ErrCompileLimit for a Max limit, else the reason the
// module is past a Compiler threshold, or "".
func (l CompileLimits) checkCode(st meter.Stats) (interpret string, err error) {
	var errs []error
	over := func(m meter.Max, what string, limit uint64, field string) {
		if m.Value > limit {
			errs = append(errs, fmt.Errorf("function %d at offset 0x%x: %s %d is over the limit of %d (raise it with runtime.CompileLimits.%s): %w",
				m.Func, m.Offset, what, m.Value, limit, field, ErrCompileLimit))
		}
	}
	over(st.Body, "body size in bytes", l.MaxFunctionSize, "MaxFunctionSize")
	over(st.Locals, "number of locals", l.MaxLocals, "MaxLocals")
	over(st.Depth, "nesting depth", l.MaxNesting, "MaxNesting")
	over(st.BrTable, "br_table size", l.MaxBrTable, "MaxBrTable")
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	past := func(m meter.Max, what string, limit uint64, field string) string {
		return fmt.Sprintf("function %d at offset 0x%x: %s %d is past CompileLimits.%s %d", m.Func, m.Offset, what, m.Value, field, limit)
	}
	switch {
	case st.Depth.Value > l.CompilerNesting:
		return past(st.Depth, "nesting depth", l.CompilerNesting, "CompilerNesting"), nil
	case st.BrTable.Value > l.CompilerBrTable:
		return past(st.BrTable, "br_table size", l.CompilerBrTable, "CompilerBrTable"), nil
	case st.DepthSquares > l.CompilerNestingSquares:
		return fmt.Sprintf("the nesting depths of its %d functions, squared, sum to %d, past CompileLimits.CompilerNestingSquares %d", st.Functions, st.DepthSquares, l.CompilerNestingSquares), nil
	case st.BrTableTargets > l.CompilerBrTableTargets:
		return fmt.Sprintf("its br_tables have %d targets, past CompileLimits.CompilerBrTableTargets %d", st.BrTableTargets, l.CompilerBrTableTargets), nil
	}
	return "", nil
}

// plan checks a module's code measures against the runtime's limits and
// says how its engine will compile it.
func (r *Runtime) plan(st meter.Stats) (Compiler, error) {
	reason, err := r.cfg.compileLimits.effective().checkCode(st)
	if err != nil {
		return Compiler{}, err
	}
	if _, ok := r.engine.(wazeroengine.Interpreted); !ok {
		return Compiler{Name: compilerWasmtime}, nil
	}
	if reason != "" {
		return Compiler{Name: compilerInterpreter, Reason: reason}, nil
	}
	return Compiler{Name: compilerWazero}, nil
}

// compile compiles wasm the way c says.
func (r *Runtime) compile(ctx context.Context, wasm []byte, c Compiler) (engine.Module, error) {
	if c.Name == compilerInterpreter {
		return r.engine.(wazeroengine.Interpreted).CompileInterpreted(ctx, wasm)
	}
	return r.engine.Compile(ctx, wasm)
}
