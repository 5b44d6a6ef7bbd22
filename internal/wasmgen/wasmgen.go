// Package wasmgen builds small WebAssembly modules: a few functions with
// hand-written bodies, imports, a memory and exports. It exists so that
// tests of malformed or contract-breaking modules need no toolchain; the
// wasmtime engine also builds its WASI proxy module with it
// (wazeroengine.NewWASIHost), so what it emits must stay valid.
package wasmgen

import "github.com/vitte-lang/vitte-plugin/abi"

// Func is a function defined by the module.
type Func struct {
	Type abi.FuncType
	// Locals are extra locals after the parameters.
	Locals []abi.ValueType
	// LocalGroups, when set, declares the locals instead, as (count, type)
	// groups the way the binary format does: a few bytes can declare
	// millions of locals.
	LocalGroups []LocalGroup
	// Body is the code, without the final 0x0b (end), which is added.
	Body []byte
	// Export names the function, if it is exported.
	Export string
	// Name, when set, names the function in the module's "name" section
	// (what engines show in stack traces).
	Name string
}

// LocalGroup declares Count locals of type Type.
type LocalGroup struct {
	Count uint32
	Type  abi.ValueType
}

// Import is a function import.
type Import struct {
	Module, Name string
	Type         abi.FuncType
}

// Module describes a module to build.
type Module struct {
	Imports []Import
	Funcs   []Func
	// Memory, when MemoryMin or MemoryMax is set or ExportMemory is true,
	// defines one memory.
	MemoryMin, MemoryMax uint32
	HasMemoryMax         bool
	NoMemory             bool
	ExportMemory         string // export name of the memory; "" = not exported
	// Data is copied into memory at DataOffset.
	Data       []byte
	DataOffset uint32
	// ExtraExports adds raw exports (name, kind, index).
	ExtraExports []RawExport
	// Tables defines funcref tables of these minimum sizes, without a
	// maximum.
	Tables []uint32
}

// RawExport is an export given by kind and index.
type RawExport struct {
	Name  string
	Kind  abi.ExternKind
	Index uint32
}

// Bytes encodes the module.
func (m Module) Bytes() []byte {
	var types []abi.FuncType
	typeIndex := func(t abi.FuncType) uint32 {
		for i, x := range types {
			if x.Equal(t) {
				return uint32(i)
			}
		}
		types = append(types, t)
		return uint32(len(types) - 1)
	}
	var imports, funcs, exports, code, data []byte
	nexports := 0
	imports = U32(imports, uint32(len(m.Imports)))
	for _, im := range m.Imports {
		imports = Name(imports, im.Module)
		imports = Name(imports, im.Name)
		imports = append(imports, 0x00)
		imports = U32(imports, typeIndex(im.Type))
	}
	funcs = U32(funcs, uint32(len(m.Funcs)))
	code = U32(code, uint32(len(m.Funcs)))
	for i, f := range m.Funcs {
		funcs = U32(funcs, typeIndex(f.Type))
		var body []byte
		if f.LocalGroups != nil {
			body = U32(body, uint32(len(f.LocalGroups)))
			for _, g := range f.LocalGroups {
				body = U32(body, g.Count)
				body = append(body, byte(g.Type))
			}
		} else {
			body = U32(body, uint32(len(f.Locals)))
			for _, l := range f.Locals {
				body = U32(body, 1)
				body = append(body, byte(l))
			}
		}
		body = append(body, f.Body...)
		body = append(body, 0x0b)
		code = U32(code, uint32(len(body)))
		code = append(code, body...)
		if f.Export != "" {
			exports = Name(exports, f.Export)
			exports = append(exports, 0x00)
			exports = U32(exports, uint32(len(m.Imports)+i))
			nexports++
		}
	}
	if m.ExportMemory != "" && !m.NoMemory {
		exports = Name(exports, m.ExportMemory)
		exports = append(exports, 0x02, 0x00)
		nexports++
	}
	for _, e := range m.ExtraExports {
		exports = Name(exports, e.Name)
		exports = append(exports, byte(e.Kind))
		exports = U32(exports, e.Index)
		nexports++
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
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = section(out, 1, typeSec)
	if len(m.Imports) > 0 {
		out = section(out, 2, imports)
	}
	out = section(out, 3, funcs)
	if len(m.Tables) > 0 {
		tables := U32(nil, uint32(len(m.Tables)))
		for _, min := range m.Tables {
			tables = U32(append(tables, 0x70, 0x00), min)
		}
		out = section(out, 4, tables)
	}
	if !m.NoMemory {
		var mem []byte
		mem = U32(mem, 1)
		if m.HasMemoryMax {
			mem = append(mem, 0x01)
			mem = U32(mem, m.MemoryMin)
			mem = U32(mem, m.MemoryMax)
		} else {
			mem = append(mem, 0x00)
			mem = U32(mem, m.MemoryMin)
		}
		out = section(out, 5, mem)
	}
	var exp []byte
	exp = U32(exp, uint32(nexports))
	exp = append(exp, exports...)
	out = section(out, 7, exp)
	out = section(out, 10, code)
	if len(m.Data) > 0 {
		data = U32(data, 1)
		data = append(data, 0x00, 0x41)
		data = S32(data, int32(m.DataOffset))
		data = append(data, 0x0b)
		data = U32(data, uint32(len(m.Data)))
		data = append(data, m.Data...)
		out = section(out, 11, data)
	}
	var names []byte
	nnames := 0
	for i, f := range m.Funcs {
		if f.Name != "" {
			names = U32(names, uint32(len(m.Imports)+i))
			names = Name(names, f.Name)
			nnames++
		}
	}
	if nnames > 0 {
		fnames := U32(nil, uint32(nnames))
		fnames = append(fnames, names...)
		custom := Name(nil, "name")
		custom = append(custom, 1) // subsection 1: function names
		custom = U32(custom, uint32(len(fnames)))
		custom = append(custom, fnames...)
		out = section(out, 0, custom)
	}
	return out
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

// S32 appends v as signed LEB128.
func S32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Name appends a length-prefixed name.
func Name(b []byte, s string) []byte {
	b = U32(b, uint32(len(s)))
	return append(b, s...)
}

// I32Const returns the instruction i32.const v.
func I32Const(v int32) []byte { return S32([]byte{0x41}, v) }

// Instructions used by tests.
var (
	LocalGet0   = []byte{0x20, 0x00}
	LocalGet1   = []byte{0x20, 0x01}
	Unreachable = []byte{0x00}
	Drop        = []byte{0x1a}
	// Loop is an infinite loop: loop br 0 end.
	Loop = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b}
)

// Cat concatenates instruction sequences.
func Cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Plugin returns a minimal valid plugin module: memory (1 page) exported,
// a bump-allocator cabi_realloc with its heap from offset 1024, and the
// given handlers.
func Plugin(handlers ...Func) Module {
	// cabi_realloc: global-free bump allocator using memory[0..4] as the
	// heap pointer: p = load(0); if p == 0 { p = 1024 }; p = align(p);
	// store(0, p + new_size); return p
	realloc := Func{
		Type:   abi.TypeRealloc,
		Locals: []abi.ValueType{abi.I32},
		Body: Cat(
			// local4 = i32.load(0)
			I32Const(0), []byte{0x28, 0x02, 0x00}, []byte{0x21, 0x04},
			// if local4 == 0 { local4 = 1024 }
			[]byte{0x20, 0x04, 0x45, 0x04, 0x40}, I32Const(1024), []byte{0x21, 0x04, 0x0b},
			// local4 = (local4 + 7) & ~7
			[]byte{0x20, 0x04}, I32Const(7), []byte{0x6a}, I32Const(-8), []byte{0x71, 0x21, 0x04},
			// i32.store(0, local4 + new_size)
			I32Const(0), []byte{0x20, 0x04, 0x20, 0x03, 0x6a, 0x36, 0x02, 0x00},
			[]byte{0x20, 0x04},
		),
		Export: abi.ExportRealloc,
	}
	return Module{Funcs: append([]Func{realloc}, handlers...), MemoryMin: 1, ExportMemory: abi.ExportMemory}
}
