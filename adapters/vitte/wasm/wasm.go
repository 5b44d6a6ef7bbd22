// Package wasm encodes WebAssembly 1.0 binary modules: types, imports,
// functions, one memory, globals, exports, data and a name section. It is
// the last stage of the Vitte compiler and knows nothing of Vitte: the code
// generator (adapters/vitte/gen) builds a [Module] and calls [Module.Encode].
//
// The output is deterministic: the same Module always encodes to the same
// bytes. Instructions are written with a [Code] builder; besides the 1.0
// instruction set it emits only the non-trapping float-to-int conversions
// (i32.trunc_sat_f64_s, i64.trunc_sat_f64_s) of WebAssembly 2.0.
package wasm

import (
	"math"
)

// ValType is a value type.
type ValType byte

// Value types.
const (
	I32 ValType = 0x7f
	I64 ValType = 0x7e
	F32 ValType = 0x7d
	F64 ValType = 0x7c
)

// String returns the type's text-format name.
func (t ValType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return "invalid"
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

func (t FuncType) equal(u FuncType) bool {
	if len(t.Params) != len(u.Params) || len(t.Results) != len(u.Results) {
		return false
	}
	for i := range t.Params {
		if t.Params[i] != u.Params[i] {
			return false
		}
	}
	for i := range t.Results {
		if t.Results[i] != u.Results[i] {
			return false
		}
	}
	return true
}

// ExternKind is the kind of an export.
type ExternKind byte

// Export kinds.
const (
	KindFunc   ExternKind = 0x00
	KindMemory ExternKind = 0x02
	KindGlobal ExternKind = 0x03
)

// Import is a function import.
type Import struct {
	Module, Name string
	Type         FuncType
}

// Func is a function defined by the module.
type Func struct {
	// Name goes to the name section (trap backtraces show it).
	Name string
	Type FuncType
	// Locals are the locals after the parameters.
	Locals []ValType
	// Body is the code without the final end, which Encode adds.
	Body *Code
}

// Global is a global defined by the module, initialised with a constant.
type Global struct {
	Type    ValType
	Mutable bool
	// Init is the initial value's bits: an integer, or math.Float64bits for F64.
	Init uint64
}

// Export is an export.
type Export struct {
	Name  string
	Kind  ExternKind
	Index uint32
}

// Data is an active data segment of the memory.
type Data struct {
	Offset uint32
	Bytes  []byte
}

// Module is a module to encode. Function indices count the imports first,
// then Funcs, in order.
type Module struct {
	Imports []Import
	Funcs   []Func
	// MemoryMin is the initial size of the memory, in 64 KiB pages. The
	// module always defines one memory, without a maximum.
	MemoryMin uint32
	Globals   []Global
	Exports   []Export
	Data      []Data
	// ModuleName, when set, names the module in the name section.
	ModuleName string
}

// Encode returns the binary module.
func (m *Module) Encode() []byte {
	var types []FuncType
	typeIndex := func(t FuncType) uint32 {
		for i, u := range types {
			if u.equal(t) {
				return uint32(i)
			}
		}
		types = append(types, t)
		return uint32(len(types) - 1)
	}

	var imports []byte
	imports = U32(imports, uint32(len(m.Imports)))
	for _, im := range m.Imports {
		imports = Name(imports, im.Module)
		imports = Name(imports, im.Name)
		imports = append(imports, byte(KindFunc))
		imports = U32(imports, typeIndex(im.Type))
	}

	var funcs, code []byte
	funcs = U32(funcs, uint32(len(m.Funcs)))
	code = U32(code, uint32(len(m.Funcs)))
	for _, f := range m.Funcs {
		funcs = U32(funcs, typeIndex(f.Type))
		var body []byte
		body = encodeLocals(body, f.Locals)
		if f.Body != nil {
			body = append(body, f.Body.b...)
		}
		body = append(body, opEnd)
		code = U32(code, uint32(len(body)))
		code = append(code, body...)
	}

	var typeSec []byte
	typeSec = U32(typeSec, uint32(len(types)))
	for _, t := range types {
		typeSec = append(typeSec, 0x60)
		typeSec = U32(typeSec, uint32(len(t.Params)))
		for _, p := range t.Params {
			typeSec = append(typeSec, byte(p))
		}
		typeSec = U32(typeSec, uint32(len(t.Results)))
		for _, r := range t.Results {
			typeSec = append(typeSec, byte(r))
		}
	}

	var mem []byte
	mem = U32(mem, 1)
	mem = append(mem, 0x00)
	mem = U32(mem, m.MemoryMin)

	var globals []byte
	globals = U32(globals, uint32(len(m.Globals)))
	for _, g := range m.Globals {
		globals = append(globals, byte(g.Type))
		if g.Mutable {
			globals = append(globals, 0x01)
		} else {
			globals = append(globals, 0x00)
		}
		c := NewCode()
		switch g.Type {
		case I32:
			c.I32Const(int32(g.Init))
		case I64:
			c.I64Const(int64(g.Init))
		case F64:
			c.F64Const(math.Float64frombits(g.Init))
		case F32:
			c.b = append(c.b, 0x43)
			c.b = appendLE32(c.b, uint32(g.Init))
		}
		globals = append(globals, c.b...)
		globals = append(globals, opEnd)
	}

	var exports []byte
	exports = U32(exports, uint32(len(m.Exports)))
	for _, e := range m.Exports {
		exports = Name(exports, e.Name)
		exports = append(exports, byte(e.Kind))
		exports = U32(exports, e.Index)
	}

	var data []byte
	data = U32(data, uint32(len(m.Data)))
	for _, d := range m.Data {
		data = append(data, 0x00) // active, memory 0
		c := NewCode()
		c.I32Const(int32(d.Offset))
		data = append(data, c.b...)
		data = append(data, opEnd)
		data = U32(data, uint32(len(d.Bytes)))
		data = append(data, d.Bytes...)
	}

	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = section(out, 1, typeSec)
	if len(m.Imports) > 0 {
		out = section(out, 2, imports)
	}
	out = section(out, 3, funcs)
	out = section(out, 5, mem)
	if len(m.Globals) > 0 {
		out = section(out, 6, globals)
	}
	out = section(out, 7, exports)
	out = section(out, 10, code)
	if len(m.Data) > 0 {
		out = section(out, 11, data)
	}
	out = m.nameSection(out)
	return out
}

// encodeLocals writes the locals vector, grouping runs of one type.
func encodeLocals(b []byte, locals []ValType) []byte {
	type run struct {
		n uint32
		t ValType
	}
	var runs []run
	for _, l := range locals {
		if len(runs) > 0 && runs[len(runs)-1].t == l {
			runs[len(runs)-1].n++
			continue
		}
		runs = append(runs, run{1, l})
	}
	b = U32(b, uint32(len(runs)))
	for _, r := range runs {
		b = U32(b, r.n)
		b = append(b, byte(r.t))
	}
	return b
}

// nameSection appends the "name" custom section: the module name and the
// names of the imported and defined functions.
func (m *Module) nameSection(out []byte) []byte {
	var body []byte
	body = Name(body, "name")
	if m.ModuleName != "" {
		var sub []byte
		sub = Name(sub, m.ModuleName)
		body = append(body, 0)
		body = U32(body, uint32(len(sub)))
		body = append(body, sub...)
	}
	var sub []byte
	n := 0
	for _, im := range m.Imports {
		if im.Name != "" {
			n++
		}
	}
	for _, f := range m.Funcs {
		if f.Name != "" {
			n++
		}
	}
	sub = U32(sub, uint32(n))
	for i, im := range m.Imports {
		if im.Name != "" {
			sub = U32(sub, uint32(i))
			sub = Name(sub, im.Module+"."+im.Name)
		}
	}
	for i, f := range m.Funcs {
		if f.Name != "" {
			sub = U32(sub, uint32(len(m.Imports)+i))
			sub = Name(sub, f.Name)
		}
	}
	body = append(body, 1)
	body = U32(body, uint32(len(sub)))
	body = append(body, sub...)
	return section(out, 0, body)
}

func section(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = U32(out, uint32(len(body)))
	return append(out, body...)
}

// U32 appends v as unsigned LEB128.
func U32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// S64 appends v as signed LEB128.
func S64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Name appends a length-prefixed UTF-8 name.
func Name(b []byte, s string) []byte {
	b = U32(b, uint32(len(s)))
	return append(b, s...)
}

func appendLE32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendLE64(b []byte, v uint64) []byte {
	return appendLE32(appendLE32(b, uint32(v)), uint32(v>>32))
}
