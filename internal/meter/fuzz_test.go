package meter

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

var fuzzCompiler = flag.Bool("fuzzcompiler", false, "run FuzzInstrument's generated modules on wazero's compiler, not its interpreter")

// FuzzInstrument has two parts.
//
// The fuzz input, as raw bytes, goes to Instrument, which must never
// panic; when wazero accepts the input, it must accept the output too.
//
// The same bytes then drive genModule, which builds a random valid module
// (functions with blocks, bounded loops, arithmetic, locals, calls between
// them, memory within bounds). The module and its metered copy must
// compute the same results, run with a tiny quantum and with a huge one,
// and the fuel used must not depend on the quantum.
func FuzzInstrument(f *testing.F) {
	for _, seed := range [][]byte{basicWasm, simdWasm, threadsWasm, tailWasm, ehLegacyWasm, kernelsWasm} {
		f.Add(seed)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.Add(b)
	}
	// The interpreter by default: compiling is what costs most here, and
	// the compiler, instrumented for coverage, makes the fuzzer crawl.
	// TestGenModule_Valid runs generated modules on both engines.
	cfg := wazero.NewRuntimeConfigInterpreter()
	if *fuzzCompiler {
		cfg = wazero.NewRuntimeConfigCompiler()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRaw(t, data)
		checkGenerated(t, cfg, genModule(data))
	})
}

// checkRaw instruments arbitrary bytes.
func checkRaw(t *testing.T, data []byte) {
	out, err := Instrument(data, Options{})
	if err != nil {
		return
	}
	checkStats(t, data, out)
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(api.CoreFeaturesV2))
	defer r.Close(ctx)
	if _, err := r.CompileModule(ctx, data); err != nil {
		return
	}
	if _, err := r.CompileModule(ctx, out); err != nil {
		t.Fatalf("wazero accepts the input but not the output: %v", err)
	}
}

// checkGenerated runs a generated module plain and metered twice.
func checkGenerated(t *testing.T, cfg wazero.RuntimeConfig, g *genResult) {
	t.Helper()
	metered, err := Instrument(g.wasm, Options{})
	if err != nil {
		t.Fatalf("instrument a generated module: %v", err)
	}
	ctx := context.Background()
	type instance struct {
		r    wazero.Runtime
		mod  api.Module
		host *fuelHost
	}
	var is []instance
	for _, quantum := range []int64{0, g.quantum, 1 << 40} {
		r := wazero.NewRuntimeWithConfig(ctx, cfg)
		defer r.Close(ctx)
		wasm := g.wasm
		var h *fuelHost
		if quantum > 0 {
			h = &fuelHost{quantum: quantum}
			if err := h.instantiate(ctx, r); err != nil {
				t.Fatal(err)
			}
			wasm = metered
		}
		mod, err := r.Instantiate(ctx, wasm)
		if err != nil {
			t.Fatalf("instantiate (metered: %v): %v", quantum > 0, err)
		}
		is = append(is, instance{r, mod, h})
	}
	for _, c := range g.calls {
		var results [3]string
		var used [3]int64
		for k, in := range is {
			if _, err := in.mod.ExportedFunction("reset").Call(ctx); err != nil {
				t.Fatal(err)
			}
			if in.host != nil {
				in.host.start(in.mod)
			}
			res, err := in.mod.ExportedFunction(c.fn).Call(ctx, c.args...)
			if err != nil {
				msg, _, _ := strings.Cut(err.Error(), "\n")
				results[k] = "error: " + msg
			} else {
				results[k] = fmt.Sprint(res)
			}
			if in.host != nil {
				used[k] = in.host.used()
				// The stack counter is back where it was (the generated
				// modules do not throw).
				if got := int64(in.mod.ExportedGlobal(StackGlobalName).Get()); err == nil && got != DefaultMaxStack {
					t.Fatalf("%s%v: stack counter %d after the call, want %d\n%s", c.fn, c.args, got, DefaultMaxStack, g.describe())
				}
			}
		}
		if results[0] != results[1] || results[0] != results[2] {
			t.Fatalf("%s%v: plain %s, metered (quantum %d) %s, metered (huge quantum) %s\n%s",
				c.fn, c.args, results[0], g.quantum, results[1], results[2], g.describe())
		}
		if used[1] != used[2] || used[1] <= 0 {
			t.Fatalf("%s%v: fuel used %d with quantum %d, %d with a huge one", c.fn, c.args, used[1], g.quantum, used[2])
		}
	}
	for _, name := range []string{"g32", "g64"} {
		want := is[0].mod.ExportedGlobal(name).Get()
		for _, in := range is[1:] {
			if got := in.mod.ExportedGlobal(name).Get(); got != want {
				t.Fatalf("global %s: plain %d, metered %d", name, want, got)
			}
		}
	}
	want, _ := is[0].mod.Memory().Read(0, is[0].mod.Memory().Size())
	for _, in := range is[1:] {
		got, _ := in.mod.Memory().Read(0, in.mod.Memory().Size())
		if !bytes.Equal(want, got) {
			t.Fatalf("memory differs after the calls")
		}
	}
}

// TestGenModule_Valid checks the generator itself: its modules validate
// (wasm-validate), before and after instrumentation.
func TestGenModule_Valid(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		data := make([]byte, 64+i*32)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		g := genModule(data)
		validate(t, g.wasm)
		validate(t, instrument(t, g.wasm))
		checkGenerated(t, wazero.NewRuntimeConfigCompiler(), g)
		checkGenerated(t, wazero.NewRuntimeConfigInterpreter(), g)
	}
}

// genResult is a generated module and the calls to make.
type genResult struct {
	wasm    []byte
	calls   []genCall
	quantum int64
}

type genCall struct {
	fn   string
	args []uint64
}

func (g *genResult) describe() string {
	return fmt.Sprintf("module (%d bytes): %x", len(g.wasm), g.wasm)
}

// gen draws decisions from the fuzz input; past its end, every draw is 0,
// which makes the smallest choices, so generation always ends.
type gen struct {
	data  []byte
	pos   int
	funcs []genSig
	types []genSig
}

type genSig struct {
	params []byte
	result byte // 0: none
}

func (s genSig) key() string { return string(s.params) + "/" + string([]byte{s.result}) }

func (g *gen) byte() byte {
	if g.pos >= len(g.data) {
		return 0
	}
	b := g.data[g.pos]
	g.pos++
	return b
}

func (g *gen) intn(n int) int { return int(g.byte()) % n }

func (g *gen) left() int { return len(g.data) - g.pos }

func (g *gen) u64() uint64 {
	var v uint64
	for range 8 {
		v = v<<8 | uint64(g.byte())
	}
	return v
}

func (g *gen) valtype() byte {
	if g.intn(2) == 0 {
		return typeI32
	}
	return typeI64
}

func (g *gen) typeIndex(s genSig) uint32 {
	for i, t := range g.types {
		if t.key() == s.key() {
			return uint32(i)
		}
	}
	g.types = append(g.types, s)
	return uint32(len(g.types) - 1)
}

// Globals of generated modules.
const (
	genG32    = 0
	genG64    = 1
	genBudget = 2 // loop iterations and calls left: 0 ends every loop and call
)

// genModule builds a valid module from data.
func genModule(data []byte) *genResult {
	g := &gen{data: data}
	n := 1 + g.intn(5)
	for range n {
		var s genSig
		for range g.intn(4) {
			s.params = append(s.params, g.valtype())
		}
		if r := g.intn(3); r > 0 {
			s.result = []byte{0, typeI32, typeI64}[r]
		}
		g.funcs = append(g.funcs, s)
	}
	bodies := make([][]byte, n)
	// Generate the last functions first: function i calls only j > i, so
	// there is no recursion.
	for i := n - 1; i >= 0; i-- {
		bodies[i] = g.function(i)
	}
	res := &genResult{quantum: 1 << g.intn(24)}
	for i, s := range g.funcs {
		c := genCall{fn: fmt.Sprintf("f%d", i)}
		for _, p := range s.params {
			v := g.u64()
			if p == typeI32 {
				v = uint64(uint32(v))
			}
			c.args = append(c.args, v)
		}
		res.calls = append(res.calls, c)
	}

	// reset: budget = 2000.
	resetType := g.typeIndex(genSig{})
	reset := []byte{0, 0x41}
	reset = appendS64(reset, 2000)
	reset = append(reset, 0x24, genBudget, 0x0b)

	var typeSec, funcSec, exportSec, codeSec []byte
	funcSec = appendU32(funcSec, uint32(n+1))
	codeSec = appendU32(codeSec, uint32(n+1))
	for i, s := range g.funcs {
		funcSec = appendU32(funcSec, g.typeIndex(s))
		codeSec = appendU32(codeSec, uint32(len(bodies[i])))
		codeSec = append(codeSec, bodies[i]...)
	}
	funcSec = appendU32(funcSec, resetType)
	codeSec = appendU32(codeSec, uint32(len(reset)))
	codeSec = append(codeSec, reset...)
	typeSec = appendU32(typeSec, uint32(len(g.types)))
	for _, s := range g.types {
		typeSec = append(typeSec, 0x60)
		typeSec = appendU32(typeSec, uint32(len(s.params)))
		typeSec = append(typeSec, s.params...)
		if s.result != 0 {
			typeSec = append(typeSec, 1, s.result)
		} else {
			typeSec = append(typeSec, 0)
		}
	}
	exportSec = appendU32(exportSec, uint32(n+4))
	for i := range n {
		exportSec = append(appendName(exportSec, fmt.Sprintf("f%d", i)), 0x00)
		exportSec = appendU32(exportSec, uint32(i))
	}
	exportSec = append(appendName(exportSec, "reset"), 0x00)
	exportSec = appendU32(exportSec, uint32(n))
	exportSec = append(appendName(exportSec, "memory"), 0x02, 0)
	exportSec = append(appendName(exportSec, "g32"), 0x03, genG32)
	exportSec = append(appendName(exportSec, "g64"), 0x03, genG64)
	globalSec := []byte{3,
		typeI32, 1, 0x41, 0, 0x0b,
		typeI64, 1, 0x42, 0, 0x0b,
		typeI32, 1, 0x41, 0, 0x0b,
	}
	// A table holding every function at its own index, for call_indirect.
	elemSec := []byte{1, 0, 0x41, 0, 0x0b}
	elemSec = appendU32(elemSec, uint32(n))
	for i := range n {
		elemSec = appendU32(elemSec, uint32(i))
	}
	tableSec := []byte{1, typeFuncref, 0}
	tableSec = appendU32(tableSec, uint32(n))
	out := bytes.Clone(header)
	out = appendSection(out, secType, typeSec)
	out = appendSection(out, secFunction, funcSec)
	out = appendSection(out, secTable, tableSec)
	out = appendSection(out, secMemory, []byte{1, 1, 1, 2}) // 1 page, at most 2
	out = appendSection(out, secGlobal, globalSec)
	out = appendSection(out, secExport, exportSec)
	out = appendSection(out, secElement, elemSec)
	out = appendSection(out, secCode, codeSec)
	res.wasm = out
	return res
}

// fn is the function being generated.
type fn struct {
	g       *gen
	index   int
	locals  []byte // types of the params, then of the locals
	nparams int
	code    []byte
	budget  int // instructions left to generate
	counter map[uint32]bool
	// labels has the enclosing labels with no results, innermost last:
	// whether a break may target it (not a loop that does not check the
	// budget at its header).
	labels []bool
}

func (g *gen) function(i int) []byte {
	s := g.funcs[i]
	f := &fn{g: g, index: i, locals: bytes.Clone(s.params), nparams: len(s.params), budget: 20 + g.intn(200), counter: map[uint32]bool{}}
	// Every call takes one from the budget too, or returns at once: calls
	// from straight-line code could otherwise multiply exponentially.
	f.emit(0x23, genBudget, 0x45, 0x04, 0x40)
	switch s.result {
	case typeI32:
		f.emit(0x41, 0)
	case typeI64:
		f.emit(0x42, 0)
	}
	f.emit(0x0f, 0x0b)
	f.emit(0x23, genBudget, 0x41, 1, 0x6b, 0x24, genBudget)
	f.stmts(1+g.intn(8), 0)
	if s.result != 0 {
		f.expr(s.result, 0)
	}
	f.code = append(f.code, 0x0b)
	var b []byte
	extra := f.locals[f.nparams:]
	b = appendU32(b, uint32(len(extra)))
	for _, t := range extra {
		b = append(b, 1, t)
	}
	return append(b, f.code...)
}

func (f *fn) emit(b ...byte) { f.code = append(f.code, b...) }

func (f *fn) newLocal(t byte) uint32 {
	f.locals = append(f.locals, t)
	return uint32(len(f.locals) - 1)
}

// local returns a local of type t that is not a loop counter, creating
// one if there is none or by chance.
func (f *fn) local(t byte) uint32 {
	var cands []uint32
	for i, lt := range f.locals {
		if lt == t && !f.counter[uint32(i)] {
			cands = append(cands, uint32(i))
		}
	}
	if len(cands) == 0 || f.g.intn(4) == 0 {
		return f.newLocal(t)
	}
	return cands[f.g.intn(len(cands))]
}

func (f *fn) constant(t byte) {
	if t == typeI32 {
		f.emit(0x41)
		f.code = appendS64(f.code, int64(int32(uint32(f.g.u64()>>[]int{0, 28, 56}[f.g.intn(3)]))))
		return
	}
	f.emit(0x42)
	f.code = appendS64(f.code, int64(f.g.u64()>>[]int{0, 32, 60}[f.g.intn(3)]))
}

func (f *fn) leaf(t byte) {
	switch f.g.intn(3) {
	case 0:
		f.constant(t)
	case 1:
		f.emit(0x20)
		f.code = appendU32(f.code, f.local(t))
	default:
		f.emit(0x23, map[byte]byte{typeI32: genG32, typeI64: genG64}[t])
	}
}

// Opcodes by type: binary operations, comparisons, unary operations.
var (
	genBinops = map[byte][]byte{
		typeI32: {0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78},
		typeI64: {0x7c, 0x7d, 0x7e, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a},
	}
	genCompares = map[byte][]byte{
		typeI32: {0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f},
		typeI64: {0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a},
	}
	genUnops = map[byte][]byte{
		typeI32: {0x67, 0x68, 0x69, 0xc0, 0xc1},
		typeI64: {0x79, 0x7a, 0x7b, 0xc2, 0xc3, 0xc4},
	}
	genLoads = map[byte][]byte{
		typeI32: {0x28, 0x2c, 0x2d, 0x2e, 0x2f},
		typeI64: {0x29, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35},
	}
	genStores = map[byte][]byte{
		typeI32: {0x36, 0x3a, 0x3b},
		typeI64: {0x37, 0x3c, 0x3d, 0x3e},
	}
)

func (f *fn) pick(ops []byte) byte { return ops[f.g.intn(len(ops))] }

// address pushes an address where 16 bytes fit in the first page.
func (f *fn) address(depth int) {
	f.expr(typeI32, depth+1)
	f.emit(0x41)
	f.code = appendS64(f.code, 0xfff0)
	f.emit(0x71)
}

// callee picks a function after this one with result type t (0: any).
func (f *fn) callee(t byte) (int, bool) {
	var cands []int
	for j := f.index + 1; j < len(f.g.funcs); j++ {
		if t == 0 || f.g.funcs[j].result == t {
			cands = append(cands, j)
		}
	}
	if len(cands) == 0 {
		return 0, false
	}
	return cands[f.g.intn(len(cands))], true
}

func (f *fn) call(j int, depth int) {
	for _, p := range f.g.funcs[j].params {
		f.expr(p, depth+1)
	}
	if f.g.intn(3) == 0 {
		f.emit(0x41)
		f.code = appendS64(f.code, int64(j))
		f.emit(0x11)
		f.code = appendU32(f.code, f.g.typeIndex(f.g.funcs[j]))
		f.emit(0)
		return
	}
	f.emit(0x10)
	f.code = appendU32(f.code, uint32(j))
}

// expr pushes one value of type t.
func (f *fn) expr(t byte, depth int) {
	f.budget--
	if depth > 5 || f.budget <= 0 || f.g.left() == 0 {
		f.leaf(t)
		return
	}
	other := map[byte]byte{typeI32: typeI64, typeI64: typeI32}[t]
	switch f.g.intn(14) {
	case 0:
		f.leaf(t)
	case 1:
		f.expr(t, depth+1)
		f.expr(t, depth+1)
		f.emit(f.pick(genBinops[t]))
	case 2:
		if t != typeI32 {
			f.leaf(t)
			return
		}
		u := f.g.valtype()
		f.expr(u, depth+1)
		f.expr(u, depth+1)
		f.emit(f.pick(genCompares[u]))
	case 3:
		f.expr(t, depth+1)
		f.emit(f.pick(genUnops[t]))
	case 4:
		f.expr(other, depth+1)
		if t == typeI64 {
			f.emit([]byte{0xac, 0xad}[f.g.intn(2)]) // i64.extend_i32_s, _u
		} else {
			f.emit(0xa7) // i32.wrap_i64
		}
	case 5:
		f.address(depth)
		f.emit(f.pick(genLoads[t]), 0)
		f.code = appendU32(f.code, uint32(f.g.intn(9)))
	case 6:
		f.expr(t, depth+1)
		f.expr(t, depth+1)
		f.expr(typeI32, depth+1)
		if f.g.intn(2) == 0 {
			f.emit(0x1b)
		} else {
			f.emit(0x1c, 1, t)
		}
	case 7:
		f.expr(typeI32, depth+1)
		f.emit(0x04, t)
		f.expr(t, depth+1)
		f.emit(0x05)
		f.expr(t, depth+1)
		f.emit(0x0b)
	case 8:
		f.emit(0x02, t)
		f.expr(t, depth+1)
		f.expr(typeI32, depth+1)
		f.emit(0x0d, 0, 0x0b)
	case 9:
		j, ok := f.callee(t)
		if !ok {
			f.leaf(t)
			return
		}
		f.call(j, depth)
	case 10: // unsigned division and remainder by an odd number
		f.expr(t, depth+1)
		f.expr(t, depth+1)
		if t == typeI32 {
			f.emit(0x41, 1, 0x72, []byte{0x6e, 0x70}[f.g.intn(2)])
		} else {
			f.emit(0x42, 1, 0x84, []byte{0x80, 0x82}[f.g.intn(2)])
		}
	case 12: // a block with parameters (multi-value)
		f.expr(t, depth+1)
		f.expr(t, depth+1)
		f.emit(0x02)
		f.code = appendS64(f.code, int64(f.g.typeIndex(genSig{params: []byte{t, t}, result: t})))
		f.emit(f.pick(genBinops[t]), 0x0b)
	case 13: // through SIMD: splat, add a constant, extract a lane
		f.expr(t, depth+1)
		lane := byte(f.g.intn(2))
		if t == typeI32 {
			f.emit(0xfd, 0x11, 0xfd, 0x0c) // i32x4.splat, v128.const
			for range 16 {
				f.emit(f.g.byte())
			}
			f.emit(0xfd, 0xae, 0x01, 0xfd, 0x1b, lane*3) // i32x4.add, i32x4.extract_lane
		} else {
			f.emit(0xfd, 0x12, 0xfd, 0x0c) // i64x2.splat, v128.const
			for range 16 {
				f.emit(f.g.byte())
			}
			f.emit(0xfd, 0xce, 0x01, 0xfd, 0x1d, lane) // i64x2.add, i64x2.extract_lane
		}
	default:
		if t == typeI32 {
			f.emit(0x3f, 0) // memory.size
		} else {
			f.leaf(t)
		}
	}
}

func (f *fn) stmts(n int, depth int) {
	for range n {
		if f.budget <= 0 {
			return
		}
		f.stmt(depth)
	}
}

// stmt emits code that leaves the stack as it found it.
func (f *fn) stmt(depth int) {
	f.budget--
	if depth > 3 {
		f.expr(typeI32, depth)
		f.emit(0x1a)
		return
	}
	t := f.g.valtype()
	switch f.g.intn(16) {
	case 0:
		f.expr(t, depth)
		f.emit(0x21)
		f.code = appendU32(f.code, f.local(t))
	case 1:
		f.expr(t, depth)
		f.emit(0x24, map[byte]byte{typeI32: genG32, typeI64: genG64}[t])
	case 2:
		f.address(depth)
		f.expr(t, depth)
		f.emit(f.pick(genStores[t]), 0)
		f.code = appendU32(f.code, uint32(f.g.intn(9)))
	case 3:
		f.expr(typeI32, depth)
		f.emit(0x04, 0x40)
		f.labels = append(f.labels, true)
		f.stmts(1+f.g.intn(3), depth+1)
		if f.g.intn(2) == 0 {
			f.emit(0x05)
			f.stmts(1+f.g.intn(3), depth+1)
		}
		f.labels = f.labels[:len(f.labels)-1]
		f.emit(0x0b)
	case 4:
		f.emit(0x02, 0x40)
		f.labels = append(f.labels, true)
		f.stmts(1+f.g.intn(3), depth+1)
		f.expr(typeI32, depth+1)
		f.emit(0x0d, 0)
		f.stmts(1+f.g.intn(3), depth+1)
		f.labels = f.labels[:len(f.labels)-1]
		f.emit(0x0b)
	case 5, 6: // a loop of at most 8 iterations, and while the budget lasts
		c := f.newLocal(typeI32)
		f.counter[c] = true
		f.emit(0x41, byte(f.g.intn(8)), 0x21)
		f.code = appendU32(f.code, c)
		f.emit(0x02, 0x40, 0x03, 0x40)
		f.emit(0x23, genBudget, 0x45, 0x0d, 1)
		f.emit(0x23, genBudget, 0x41, 1, 0x6b, 0x24, genBudget)
		f.labels = append(f.labels, true, true)
		f.stmts(1+f.g.intn(4), depth+1)
		f.labels = f.labels[:len(f.labels)-2]
		f.emit(0x20)
		f.code = appendU32(f.code, c)
		f.emit(0x41, 1, 0x6b, 0x22)
		f.code = appendU32(f.code, c)
		f.emit(0x41, 0, 0x4a, 0x0d, 0, 0x0b, 0x0b)
	case 7:
		j, ok := f.callee(0)
		if !ok {
			f.expr(t, depth)
			f.emit(0x1a)
			return
		}
		f.call(j, depth)
		if f.g.funcs[j].result != 0 {
			f.emit(0x1a)
		}
	case 8: // bulk memory, within the first 40 KiB
		switch f.g.intn(3) {
		case 0:
			f.expr(typeI32, depth)
			f.emit(0x41)
			f.code = appendS64(f.code, 0x7fff)
			f.emit(0x71)
			f.expr(typeI32, depth)
			f.expr(typeI32, depth)
			f.emit(0x41)
			f.code = appendS64(f.code, 0x7ff)
			f.emit(0x71, 0xfc, 11, 0) // memory.fill
		case 1:
			for range 2 {
				f.expr(typeI32, depth)
				f.emit(0x41)
				f.code = appendS64(f.code, 0x7fff)
				f.emit(0x71)
			}
			f.expr(typeI32, depth)
			f.emit(0x41)
			f.code = appendS64(f.code, 0x7ff)
			f.emit(0x71, 0xfc, 10, 0, 0) // memory.copy
		default:
			f.emit(0x41, byte(f.g.intn(2)), 0x40, 0, 0x1a) // memory.grow, drop
		}
	case 9: // br_table to one of three nested blocks
		f.emit(0x02, 0x40, 0x02, 0x40, 0x02, 0x40)
		f.expr(typeI32, depth+1)
		f.emit(0x41, 3, 0x71, 0x0e, 3, 0, 1, 2, 2, 0x0b)
		f.labels = append(f.labels, true, true)
		f.stmts(1+f.g.intn(2), depth+1)
		f.labels = f.labels[:len(f.labels)-1]
		f.emit(0x0b)
		f.stmts(1+f.g.intn(2), depth+1)
		f.labels = f.labels[:len(f.labels)-1]
		f.emit(0x0b)
	case 10: // return, sometimes
		f.expr(typeI32, depth)
		f.emit(0x04, 0x40)
		if r := f.g.funcs[f.index].result; r != 0 {
			f.expr(r, depth+1)
		}
		f.emit(0x0f, 0x0b)
	case 11: // break out of (or back to) an enclosing block, loop or if
		var targets []uint32
		for i, ok := range f.labels {
			if ok {
				targets = append(targets, uint32(len(f.labels)-1-i))
			}
		}
		if len(targets) == 0 {
			return
		}
		l := targets[f.g.intn(len(targets))]
		if f.g.intn(3) == 0 {
			f.emit(0x0c)
		} else {
			f.expr(typeI32, depth)
			f.emit(0x0d)
		}
		f.code = appendU32(f.code, l)
	case 12: // a loop that no branch targets: it runs once
		f.emit(0x03, 0x40)
		f.labels = append(f.labels, false)
		f.stmts(1+f.g.intn(3), depth+1)
		f.labels = f.labels[:len(f.labels)-1]
		f.emit(0x0b)
	case 13: // ref.func into the table, where it already is
		j := f.g.intn(len(f.g.funcs))
		f.emit(0x41)
		f.code = appendS64(f.code, int64(j))
		f.emit(0xd2)
		f.code = appendU32(f.code, uint32(j))
		f.emit(0x26, 0)
	default:
		f.expr(t, depth)
		f.emit(0x1a)
	}
}

// checkStats checks the measures InstrumentStats returns for data, which
// Instrument turned into out: the same output, and each measure where it
// says it is.
func checkStats(t *testing.T, data, out []byte) {
	t.Helper()
	out2, st, err := InstrumentStats(data, Options{})
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("InstrumentStats differs from Instrument: %v", err)
	}
	at := func(what string, m Max, ops ...byte) {
		if m.Value == 0 {
			return
		}
		if m.Offset < 0 || m.Offset >= len(data) || (len(ops) > 0 && !bytes.Contains(ops, data[m.Offset:m.Offset+1])) {
			t.Fatalf("%s %v: not at one of the opcodes % x", what, m, ops)
		}
	}
	at("body", st.Body)
	at("locals", st.Locals)
	at("depth", st.Depth, 0x02, 0x03, 0x04, 0x06, 0x1f)
	at("br_table", st.BrTable, 0x0e)
	if st.Body.Value > uint64(len(data)) || st.BrTableTargets < st.BrTable.Value || st.DepthSquares < st.Depth.Value*st.Depth.Value {
		t.Fatalf("inconsistent measures: %+v", st)
	}
}
