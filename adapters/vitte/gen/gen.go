// Package gen turns a checked Vitte program (adapters/vitte/check) into a
// WebAssembly module that follows the plugin ABI v1 (docs/spec/abi-v1.md).
//
// # Values
//
// bool and i32 are i32, i64 is i64, f64 is f64. A str is one i64 that packs
// a (ptr, len) pair of linear memory: ptr in the low 32 bits, len in the
// high 32. Strings are immutable: slicing shares bytes, concatenation
// allocates.
//
// # Memory
//
// String literals sit in one data segment from offset 16. The heap starts
// after them; cabi_realloc and every allocation of the program take from it
// with a bump allocator that grows the memory as needed and traps when it
// cannot. Nothing is freed one by one: cabi_post_<handler>, which the host
// calls once it has copied a handler's result out, resets the heap to its
// start, because no value outlives a call.
//
// # Errors
//
// fail(message) and a host_call that gets an error result set two globals
// (failed, and the message) and return the zero value; every call of a proc
// that may fail is followed by a check that returns at once when failed is
// set. The handler and on-load wrappers turn that into the err case of
// their result area.
package gen

import (
	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/check"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/wasm"
)

// dataBase is where string literals start; offsets below it are unused,
// so that no string ever lives at address 0.
const dataBase = 16

// Globals.
const (
	gHeap     = iota // mut i32: the next free byte
	gHeapBase        // i32: the start of the heap
	gFailed          // mut i32: 1 after fail or a failed host_call
	gErr             // mut i64: the error message (a str)
)

// Generate returns the binary module of p. name names the module in the
// name section. p must have been checked without errors.
func Generate(p *check.Program, name string) []byte {
	g := &gen{
		prog:    p,
		m:       &wasm.Module{ModuleName: name},
		procs:   map[*check.Proc]uint32{},
		helpers: map[string]uint32{},
		strs:    map[string]uint32{},
	}
	g.imports()
	return g.module()
}

type gen struct {
	prog  *check.Program
	m     *wasm.Module
	funcs []*wasm.Func
	procs map[*check.Proc]uint32
	// helpers are the runtime functions emitted on demand, by name.
	helpers map[string]uint32
	data    []byte
	strs    map[string]uint32

	fdWrite, log, configGet, call uint32
}

func i32s(n int) []wasm.ValType {
	out := make([]wasm.ValType, n)
	for i := range out {
		out[i] = wasm.I32
	}
	return out
}

func sig(results []wasm.ValType, params ...wasm.ValType) wasm.FuncType {
	return wasm.FuncType{Params: params, Results: results}
}

var (
	none  []wasm.ValType
	i32r  = []wasm.ValType{wasm.I32}
	i64r  = []wasm.ValType{wasm.I64}
	abiTy = func(t abi.FuncType) wasm.FuncType {
		var out wasm.FuncType
		for _, p := range t.Params {
			out.Params = append(out.Params, wasm.ValType(p))
		}
		for _, r := range t.Results {
			out.Results = append(out.Results, wasm.ValType(r))
		}
		return out
	}
)

// imports declares the host functions the program uses, and only those.
func (g *gen) imports() {
	u := g.prog.Uses
	add := func(module, name string, t wasm.FuncType) uint32 {
		g.m.Imports = append(g.m.Imports, wasm.Import{Module: module, Name: name, Type: t})
		return uint32(len(g.m.Imports) - 1)
	}
	if u[check.BPrint] || u[check.BPrintln] || u[check.BEprint] || u[check.BEprintln] {
		g.fdWrite = add(abi.WASIModule, "fd_write", sig(i32r, i32s(4)...))
	}
	if u[check.BLogTrace] || u[check.BLogDebug] || u[check.BLogInfo] || u[check.BLogWarn] || u[check.BLogError] {
		g.log = add(abi.HostModule, abi.FuncLog, abiTy(abi.TypeLog))
	}
	if u[check.BConfig] || u[check.BConfigOr] || u[check.BHasConfig] {
		g.configGet = add(abi.HostModule, abi.FuncConfigGet, abiTy(abi.TypeConfigGet))
	}
	if u[check.BHostCall] {
		g.call = add(abi.HostModule, abi.FuncCall, abiTy(abi.TypeCall))
	}
}

// newFunc reserves a function index; the body is set later.
func (g *gen) newFunc(name string, t wasm.FuncType) (uint32, *wasm.Func) {
	f := &wasm.Func{Name: name, Type: t}
	g.funcs = append(g.funcs, f)
	return uint32(len(g.m.Imports) + len(g.funcs) - 1), f
}

func (g *gen) export(name string, kind wasm.ExternKind, index uint32) {
	g.m.Exports = append(g.m.Exports, wasm.Export{Name: name, Kind: kind, Index: index})
}

func valType(t check.Type) wasm.ValType {
	switch t {
	case check.I64, check.Str:
		return wasm.I64
	case check.F64:
		return wasm.F64
	}
	return wasm.I32
}

func results(t check.Type) []wasm.ValType {
	if t == check.Unit || t == check.Invalid {
		return nil
	}
	return []wasm.ValType{valType(t)}
}

func procType(p *check.Proc) wasm.FuncType {
	var t wasm.FuncType
	for _, v := range p.Params {
		t.Params = append(t.Params, valType(v.Type))
	}
	t.Results = results(p.Result)
	return t
}

func (g *gen) module() []byte {
	// User procs first, in source order.
	for _, p := range g.prog.Procs {
		idx, _ := g.newFunc(p.Name, procType(p))
		g.procs[p] = idx
	}
	for i, p := range g.prog.Procs {
		g.funcs[i].Locals, g.funcs[i].Body = g.procBody(p)
	}

	g.export(abi.ExportMemory, wasm.KindMemory, 0)
	g.export(abi.ExportRealloc, wasm.KindFunc, g.helper("cabi_realloc"))
	initIdx, initF := g.newFunc(abi.ExportInitialize, wasm.FuncType{})
	initF.Body = wasm.NewCode()
	g.export(abi.ExportInitialize, wasm.KindFunc, initIdx)
	if p := g.prog.OnLoad; p != nil {
		g.export(abi.ExportOnLoad, wasm.KindFunc, g.onLoad(p))
	}
	if p := g.prog.OnUnload; p != nil {
		g.export(abi.ExportOnUnload, wasm.KindFunc, g.procs[p])
	}
	var post uint32
	if len(g.prog.Exports) > 0 {
		post = g.helper("cabi_post")
	}
	for _, e := range g.prog.Exports {
		g.export(e.Name, wasm.KindFunc, g.handler(e))
	}
	for _, e := range g.prog.Exports {
		g.export(abi.ExportPostPrefix+e.Name, wasm.KindFunc, post)
	}

	heapBase := align(dataBase+uint32(len(g.data)), 8)
	g.m.Globals = []wasm.Global{
		gHeap:     {Type: wasm.I32, Mutable: true, Init: uint64(heapBase)},
		gHeapBase: {Type: wasm.I32, Init: uint64(heapBase)},
		gFailed:   {Type: wasm.I32, Mutable: true},
		gErr:      {Type: wasm.I64, Mutable: true},
	}
	g.m.MemoryMin = max(1, (heapBase+0xffff)/0x10000)
	if len(g.data) > 0 {
		g.m.Data = []wasm.Data{{Offset: dataBase, Bytes: g.data}}
	}
	for _, f := range g.funcs {
		g.m.Funcs = append(g.m.Funcs, *f)
	}
	return g.m.Encode()
}

func align(v, a uint32) uint32 { return (v + a - 1) &^ (a - 1) }

// str returns the packed i64 of a string literal, interned in the data
// segment.
func (g *gen) str(s string) int64 {
	if s == "" {
		return 0
	}
	off, ok := g.strs[s]
	if !ok {
		off = dataBase + uint32(len(g.data))
		g.data = append(g.data, s...)
		g.strs[s] = off
	}
	return int64(uint64(off) | uint64(len(s))<<32)
}

// handler builds the export of a handler: (ptr, len) -> result area.
func (g *gen) handler(e *check.Export) uint32 {
	idx, f := g.newFunc("handler:"+e.Name, abiTy(abi.TypeHandler))
	f.Locals = []wasm.ValType{wasm.I64, wasm.I32} // 2: result, 3: area
	c := wasm.NewCode()
	c.I32Const(0)
	c.GlobalSet(gFailed)
	p := e.Proc
	if len(p.Params) == 1 {
		pack(c, func() { c.LocalGet(0) }, func() { c.LocalGet(1) })
	}
	c.Call(g.procs[p])
	if p.Result == check.Str {
		c.LocalSet(2)
	}
	g.resultArea(c, 3, func() { c.LocalGet(2) })
	c.LocalGet(3)
	f.Body = c
	return idx
}

// onLoad builds the on-load export: () -> result<_, string> area.
func (g *gen) onLoad(p *check.Proc) uint32 {
	idx, f := g.newFunc(abi.ExportOnLoad, abiTy(abi.TypeOnLoad))
	f.Locals = []wasm.ValType{wasm.I32} // 0: area
	c := wasm.NewCode()
	c.I32Const(0)
	c.GlobalSet(gFailed)
	c.Call(g.procs[p])
	g.resultArea(c, 0, func() { c.I64Const(0) })
	c.LocalGet(0)
	f.Body = c
	return idx
}

// resultArea allocates a 12-byte result area into local area and fills
// it: err with the failure message, or ok with the string ok pushes.
func (g *gen) resultArea(c *wasm.Code, area uint32, ok func()) {
	c.I32Const(abi.ResultSize)
	c.I32Const(abi.Align)
	c.Call(g.helper("alloc"))
	c.LocalSet(area)
	c.GlobalGet(gFailed)
	c.If(wasm.BlockEmpty)
	writeArea(c, area, abi.TagErr, func() { c.GlobalGet(gErr) })
	c.Else()
	writeArea(c, area, abi.TagOK, ok)
	c.End()
}

func writeArea(c *wasm.Code, area uint32, tag int32, s func()) {
	c.LocalGet(area)
	c.I32Const(tag)
	c.Mem(wasm.I32Store8, 0, 0)
	c.LocalGet(area)
	s()
	c.Op(wasm.I32WrapI64)
	c.Mem(wasm.I32Store, 2, 4)
	c.LocalGet(area)
	s()
	c.I64Const(32)
	c.Op(wasm.I64ShrU)
	c.Op(wasm.I32WrapI64)
	c.Mem(wasm.I32Store, 2, 8)
}

// pack pushes the str of the i32 pointer and length that ptr and n push.
func pack(c *wasm.Code, ptr, n func()) {
	ptr()
	c.Op(wasm.I64ExtendI32U)
	n()
	c.Op(wasm.I64ExtendI32U)
	c.I64Const(32)
	c.Op(wasm.I64Shl)
	c.Op(wasm.I64Or)
}

// strPtr and strLen turn the str on the stack into its pointer or length.
func strPtr(c *wasm.Code) { c.Op(wasm.I32WrapI64) }

func strLen(c *wasm.Code) {
	c.I64Const(32)
	c.Op(wasm.I64ShrU)
	c.Op(wasm.I32WrapI64)
}
