// Package wasmbin reads the parts of a WebAssembly binary module that the
// host needs before compiling it: types, imports, exports, memories and
// custom sections. Every byte is treated as hostile: reads are bounds-checked and the
// errors name the section and offset.
//
// It is not a validator: the engine validates the whole module when it
// compiles it.
package wasmbin

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/vitte-lang/vitte-plugin/abi"
)

// Section ids.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secTable    = 4
	secMemory   = 5
	secExport   = 7
	secTag      = 13
)

// PageSize is the size of a WebAssembly memory page.
const PageSize = 65536

var magic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed module")

// Limits are the limits of a memory, in pages.
type Limits struct {
	Min    uint64
	Max    uint64
	HasMax bool
	Shared bool
	Is64   bool
}

// Module is what Parse extracts from a binary module.
type Module struct {
	Types    []abi.FuncType
	Imports  []abi.Import
	Exports  []abi.Export
	Memories []Limits // defined (not imported) memories
	// Tables holds the limits of every table, imported then defined.
	Tables []Limits
	// Tags counts the exception tags, imported and defined: a module
	// without any cannot throw.
	Tags int
	// Custom lists the names of the custom sections, in order.
	Custom []string
	// FuncTypes holds the type index of each function, imports first.
	FuncTypes []uint32

	exportIndex []uint32
}

type reader struct {
	b   []byte
	off int
	sec string
}

func (r *reader) errf(format string, args ...any) error {
	return fmt.Errorf("%s section at offset %d: %s: %w", r.sec, r.off, fmt.Sprintf(format, args...), ErrMalformed)
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.errf("unexpected end")
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) uleb(bits uint) (uint64, error) {
	var v uint64
	var shift uint
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits {
			return 0, r.errf("integer too long")
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if bits < 64 && v>>bits != 0 {
				return 0, r.errf("integer overflows %d bits", bits)
			}
			return v, nil
		}
		shift += 7
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return "", r.errf("name of %d bytes runs past the end", n)
	}
	s := r.b[r.off : r.off+int(n)]
	if !utf8.Valid(s) {
		return "", r.errf("name %q is not valid UTF-8", s)
	}
	r.off += int(n)
	return string(s), nil
}

// count reads a vector length and checks it against the bytes left, each
// element taking at least min bytes.
func (r *reader) count(min int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(len(r.b)-r.off) {
		return 0, r.errf("vector of %d elements runs past the end", n)
	}
	return int(n), nil
}

func (r *reader) valtype() (abi.ValueType, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch v := abi.ValueType(c); v {
	case abi.I32, abi.I64, abi.F32, abi.F64, abi.V128, abi.FuncRef, abi.ExternRef:
		return v, nil
	}
	return 0, r.errf("unknown value type 0x%02x", c)
}

func (r *reader) limits(memory bool) (Limits, error) {
	flags, err := r.byte()
	if err != nil {
		return Limits{}, err
	}
	if flags > 7 || (!memory && flags > 1) {
		return Limits{}, r.errf("unknown limits flags 0x%02x", flags)
	}
	l := Limits{HasMax: flags&1 != 0, Shared: flags&2 != 0, Is64: flags&4 != 0}
	bits := uint(32)
	if l.Is64 {
		bits = 64
	}
	if l.Min, err = r.uleb(bits); err != nil {
		return Limits{}, err
	}
	if l.HasMax {
		if l.Max, err = r.uleb(bits); err != nil {
			return Limits{}, err
		}
	}
	return l, nil
}

// Parse decodes the sections the host needs. Other sections are skipped.
func Parse(b []byte) (*Module, error) {
	if len(b) < len(magic) || !bytes.Equal(b[:4], magic[:4]) {
		return nil, fmt.Errorf("not a WebAssembly module (no \\0asm header): %w", ErrMalformed)
	}
	if !bytes.Equal(b[4:8], magic[4:]) {
		return nil, fmt.Errorf("unsupported binary version %x (want 1; components are not supported): %w", b[4:8], ErrMalformed)
	}
	m := &Module{}
	r := &reader{b: b, off: 8, sec: "header"}
	var funcs []uint32
	for r.off < len(b) {
		id, _ := r.byte()
		r.sec = sectionName(id)
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(b)-r.off) {
			return nil, r.errf("section of %d bytes runs past the end of the module", size)
		}
		end := r.off + int(size)
		sr := &reader{b: b[:end], off: r.off, sec: r.sec}
		switch id {
		case secCustom:
			name, err := sr.name()
			if err != nil {
				return nil, err
			}
			m.Custom = append(m.Custom, name)
		case secType:
			err = m.parseTypes(sr)
		case secImport:
			err = m.parseImports(sr)
		case secFunction:
			funcs, err = parseFuncs(sr)
		case secTable:
			err = m.parseTables(sr)
		case secTag:
			var n uint32
			n, err = sr.u32()
			m.Tags += int(n)
		case secMemory:
			err = m.parseMemories(sr)
		case secExport:
			err = m.parseExports(sr)
		}
		if err != nil {
			return nil, err
		}
		if id != secCustom && sr.off != end && (id == secType || id == secImport || id == secFunction || id == secTable || id == secMemory || id == secExport) {
			return nil, sr.errf("%d bytes left over at the end of the section", end-sr.off)
		}
		r.off = end
	}
	m.FuncTypes = append(m.FuncTypes, funcs...)
	for i := range m.Exports {
		ex := &m.Exports[i]
		if ex.Kind != abi.KindFunc {
			continue
		}
		idx := m.exportIndex[i]
		if uint64(idx) >= uint64(len(m.FuncTypes)) {
			return nil, fmt.Errorf("export %q: function index %d out of range: %w", ex.Name, idx, ErrMalformed)
		}
		t := m.FuncTypes[idx]
		if uint64(t) >= uint64(len(m.Types)) {
			return nil, fmt.Errorf("export %q: type index %d out of range: %w", ex.Name, t, ErrMalformed)
		}
		ex.Type = m.Types[t]
	}
	return m, nil
}

func sectionName(id byte) string {
	names := []string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count", "tag"}
	if int(id) < len(names) {
		return names[id]
	}
	return fmt.Sprintf("unknown (id %d)", id)
}

func (m *Module) parseTypes(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	for range n {
		form, err := r.byte()
		if err != nil {
			return err
		}
		if form != 0x60 {
			return r.errf("type form 0x%02x is not a function type (GC types are not supported)", form)
		}
		var ft abi.FuncType
		for _, dst := range []*[]abi.ValueType{&ft.Params, &ft.Results} {
			k, err := r.count(1)
			if err != nil {
				return err
			}
			for range k {
				v, err := r.valtype()
				if err != nil {
					return err
				}
				*dst = append(*dst, v)
			}
		}
		m.Types = append(m.Types, ft)
	}
	return nil
}

func (m *Module) parseImports(r *reader) error {
	n, err := r.count(4)
	if err != nil {
		return err
	}
	for range n {
		var im abi.Import
		if im.Module, err = r.name(); err != nil {
			return err
		}
		if im.Name, err = r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		im.Kind = abi.ExternKind(kind)
		switch im.Kind {
		case abi.KindFunc:
			t, err := r.u32()
			if err != nil {
				return err
			}
			if uint64(t) >= uint64(len(m.Types)) {
				return r.errf("import %q.%q: type index %d out of range", im.Module, im.Name, t)
			}
			im.Type = m.Types[t]
			m.FuncTypes = append(m.FuncTypes, t)
		case abi.KindTable:
			if err := m.parseTable(r); err != nil {
				return err
			}
		case abi.KindMemory:
			if _, err := r.limits(true); err != nil {
				return err
			}
		case abi.KindGlobal:
			if _, err := r.valtype(); err != nil {
				return err
			}
			if _, err := r.byte(); err != nil {
				return err
			}
		case abi.KindTag:
			m.Tags++
			if _, err := r.byte(); err != nil {
				return err
			}
			if _, err := r.u32(); err != nil {
				return err
			}
		default:
			return r.errf("import %q.%q: unknown import kind 0x%02x", im.Module, im.Name, kind)
		}
		m.Imports = append(m.Imports, im)
	}
	return nil
}

func parseFuncs(r *reader) ([]uint32, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	out := make([]uint32, 0, n)
	for range n {
		t, err := r.u32()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (m *Module) parseMemories(r *reader) error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	for range n {
		l, err := r.limits(true)
		if err != nil {
			return err
		}
		m.Memories = append(m.Memories, l)
	}
	return nil
}

func (m *Module) parseExports(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for range n {
		var ex abi.Export
		if ex.Name, err = r.name(); err != nil {
			return err
		}
		if seen[ex.Name] {
			return r.errf("duplicate export %q", ex.Name)
		}
		seen[ex.Name] = true
		kind, err := r.byte()
		if err != nil {
			return err
		}
		if kind > byte(abi.KindTag) {
			return r.errf("export %q: unknown export kind 0x%02x", ex.Name, kind)
		}
		ex.Kind = abi.ExternKind(kind)
		idx, err := r.u32()
		if err != nil {
			return err
		}
		m.Exports = append(m.Exports, ex)
		m.exportIndex = append(m.exportIndex, idx)
	}
	return nil
}
