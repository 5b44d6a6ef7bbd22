package meter

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// rank gives the order in which non-custom sections must appear.
var rank = [...]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6, secGlobal: 7,
	secExport: 8, secStart: 9, secElement: 10, secDataCount: 11, secCode: 12, secData: 13,
}

var header = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

func sectionName(id byte) string {
	names := []string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count", "tag"}
	if int(id) < len(names) {
		return names[id] + " section"
	}
	return fmt.Sprintf("section %d", id)
}

// droppedCustom reports whether a custom section refers to code offsets or
// function indices that the rewrite would make wrong.
func droppedCustom(name string) bool {
	for _, p := range []string{".debug_", "reloc.", "metadata.code."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	switch name {
	case "linking", "sourceMappingURL", "external_debug_info":
		return true
	}
	return false
}

// module holds what the rewrite needs to know while it walks the sections
// in order.
type module struct {
	in        []byte
	bulkShift uint
	noStack   bool // see Options.noStack

	typeParams     []uint32 // number of params of each type
	numTypes       uint32   // types of the input: the others are ours
	voidType       uint32   // index of the type () -> ()
	limitType      uint32   // index of the type (i32, i64) -> i32 of the limit import
	numFuncImports uint32
	numGlobals     uint32 // imported and defined, before ours
	funcTypes      []uint32
	numFuncs       uint32 // imported and defined, before ours
	sawCode        bool
	stats          Stats // see stats.go
	// memCaps holds, for each memory, the most pages memory.grow can ever
	// ask for and succeed: its declared maximum, or 65536 (4 GiB).
	memCaps []uint32
	// tables holds the element type of each table, as encoded.
	tableTypes [][]byte
}

// oof is the index of the out-of-fuel import, limit that of the limit
// import; fuel is the index of the fuel counter, stack of the stack
// counter.
func (m *module) oof() uint32   { return m.numFuncImports }
func (m *module) limit() uint32 { return m.numFuncImports + 1 }
func (m *module) fuel() uint32  { return m.numGlobals }
func (m *module) stack() uint32 { return m.numGlobals + 1 }

// numImports is how many functions Instrument imports.
const numImports = 2

// limitTypeBytes is the type of the limit import: (i32, i64) -> i32.
var limitTypeBytes = []byte{0x60, 2, typeI32, typeI64, 1, typeI32}

// funcIndex maps a function index of the input to the output.
func (m *module) funcIndex(r *reader, idx uint32) (uint32, error) {
	if idx >= m.numFuncs {
		return 0, r.errf(ErrMalformed, "function index %d out of range (%d functions)", idx, m.numFuncs)
	}
	if idx >= m.numFuncImports {
		return idx + numImports, nil
	}
	return idx, nil
}

func (m *module) instrument() ([]byte, error) {
	b := m.in
	if len(b) < 8 || !bytes.Equal(b[:4], header[:4]) {
		return nil, fmt.Errorf("not a WebAssembly module (no \\0asm header): %w", ErrMalformed)
	}
	if !bytes.Equal(b[4:8], header[4:]) {
		return nil, fmt.Errorf("unsupported binary version %x (want 1; components are not supported): %w", b[4:8], ErrUnsupported)
	}
	out := make([]byte, 0, len(b)+len(b)/4+256)
	out = append(out, header...)
	r := newReader(b, 0, "module")
	r.off = 8
	last := 0
	// pending lists the sections the module lacks but the rewrite needs,
	// in order; each is written before the first section ranked after it.
	added := map[byte]bool{}
	addMissing := func(upTo int) error {
		for _, id := range []byte{secType, secImport, secGlobal, secExport} {
			if rank[id] >= upTo || rank[id] <= last || added[id] {
				continue
			}
			added[id] = true
			content, err := m.newSection(id)
			if err != nil {
				return err
			}
			out = appendSection(out, id, content)
		}
		return nil
	}
	for !r.done() {
		secStart := r.off
		id, _ := r.byte()
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(b)-r.off) {
			r.off = secStart
			return nil, r.errf(ErrMalformed, "%s of %d bytes runs past the end of the module", sectionName(id), size)
		}
		content := b[r.off : r.off+int(size)]
		sr := newReader(content, r.off, sectionName(id))
		r.off += int(size)
		if id == secCustom {
			name, err := sr.name()
			if err != nil {
				return nil, err
			}
			if droppedCustom(name) {
				continue
			}
			if name == "name" {
				if nc, ok := m.nameSection(content[sr.off:]); ok {
					out = appendSection(out, secCustom, append(appendName(nil, "name"), nc...))
				}
				continue
			}
			out = appendSection(out, secCustom, content)
			continue
		}
		if int(id) >= len(rank) || rank[id] == 0 {
			r.off = secStart
			return nil, r.errf(ErrUnsupported, "unknown section id %d", id)
		}
		if rank[id] <= last {
			r.off = secStart
			return nil, r.errf(ErrMalformed, "%s out of order or repeated", sectionName(id))
		}
		if err := addMissing(rank[id]); err != nil {
			return nil, err
		}
		last = rank[id]
		nc, err := m.section(id, sr)
		if err != nil {
			return nil, err
		}
		if !sr.done() {
			return nil, sr.errf(ErrMalformed, "%d bytes left over at the end of the section", len(sr.b)-sr.off)
		}
		out = appendSection(out, id, nc)
	}
	if err := addMissing(math.MaxInt); err != nil {
		return nil, err
	}
	if !m.sawCode && len(m.funcTypes) > 0 {
		return nil, fmt.Errorf("%d functions declared but no code section: %w", len(m.funcTypes), ErrMalformed)
	}
	return out, nil
}

// newSection builds a section the module lacks.
func (m *module) newSection(id byte) ([]byte, error) {
	switch id {
	case secType:
		m.typeParams = []uint32{0, 2}
		m.voidType, m.limitType = 0, 1
		return append([]byte{2, 0x60, 0, 0}, limitTypeBytes...), nil
	case secImport:
		return m.appendImport(appendU32(nil, numImports)), nil
	case secGlobal:
		return m.appendGlobal(appendU32(nil, 2)), nil
	case secExport:
		return m.appendExport(appendU32(nil, 2)), nil
	}
	panic("unreachable")
}

func (m *module) appendImport(b []byte) []byte {
	b = appendName(b, ImportModule)
	b = appendName(b, ImportName)
	b = append(b, 0x00)
	b = appendU32(b, m.voidType)
	b = appendName(b, ImportModule)
	b = appendName(b, LimitName)
	b = append(b, 0x00)
	return appendU32(b, m.limitType)
}

// appendGlobal appends the counters: (global (mut i64) (i64.const 0)) for
// fuel, (global (mut i64) (i64.const DefaultMaxStack)) for the stack.
func (m *module) appendGlobal(b []byte) []byte {
	b = append(b, typeI64, 0x01, 0x42, 0x00, 0x0b, typeI64, 0x01, 0x42)
	return append(appendS64(b, DefaultMaxStack), 0x0b)
}

func (m *module) appendExport(b []byte) []byte {
	b = appendName(b, GlobalName)
	b = append(b, 0x03)
	b = appendU32(b, m.fuel())
	b = appendName(b, StackGlobalName)
	b = append(b, 0x03)
	return appendU32(b, m.stack())
}

// section rewrites one non-custom section and returns its new content.
func (m *module) section(id byte, r *reader) ([]byte, error) {
	switch id {
	case secType:
		return m.types(r)
	case secImport:
		return m.imports(r)
	case secFunction:
		return m.functions(r)
	case secTable:
		return m.tables(r)
	case secMemory:
		return m.memories(r)
	case secGlobal:
		return m.globals(r)
	case secExport:
		return m.exports(r)
	case secStart:
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		idx, err = m.funcIndex(r, idx)
		if err != nil {
			return nil, err
		}
		return appendU32(nil, idx), nil
	case secElement:
		return m.elements(r)
	case secCode:
		return m.code(r)
	case secData:
		return m.data(r)
	case secDataCount:
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		return r.b, nil
	case secTag:
		return m.tags(r)
	}
	panic("unreachable")
}

func (m *module) types(r *reader) ([]byte, error) {
	n, err := r.count(3)
	if err != nil {
		return nil, err
	}
	void := -1
	for i := range n {
		form, err := r.byte()
		if err != nil {
			return nil, err
		}
		if form != 0x60 {
			r.off--
			return nil, r.errf(ErrUnsupported, "type form 0x%02x (GC types are not supported)", form)
		}
		var np, nr int
		for _, dst := range []*int{&np, &nr} {
			c, err := r.count(1)
			if err != nil {
				return nil, err
			}
			*dst = c
			for range c {
				if err := r.valtype(); err != nil {
					return nil, err
				}
			}
		}
		if np == 0 && nr == 0 && void < 0 {
			void = i
		}
		m.typeParams = append(m.typeParams, uint32(np))
	}
	m.numTypes = uint32(n)
	if n >= math.MaxUint32-2 {
		return nil, r.errf(ErrUnsupported, "too many types to add two")
	}
	added := uint32(1)
	out := make([]byte, 0, len(r.b)+16)
	if void >= 0 {
		m.voidType = uint32(void)
	} else {
		m.voidType = uint32(n)
		m.typeParams = append(m.typeParams, 0)
		added++
	}
	m.limitType = uint32(n) + added - 1
	m.typeParams = append(m.typeParams, 2)
	out = appendU32(out, uint32(n)+added)
	out = append(out, r.b[countLen(r.b):]...)
	if void < 0 {
		out = append(out, 0x60, 0, 0)
	}
	return append(out, limitTypeBytes...), nil
}

// countLen returns the length of the LEB128 at the start of b, which the
// caller has already decoded.
func countLen(b []byte) int {
	for i, c := range b {
		if c&0x80 == 0 {
			return i + 1
		}
	}
	return len(b)
}

func (m *module) checkTypeIndex(r *reader, t uint32) error {
	if t >= m.numTypes {
		return r.errf(ErrMalformed, "type index %d out of range", t)
	}
	return nil
}

// refType reads the element type of a table.
func (r *reader) refType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case typeFuncref, typeExternref, typeExnref:
		return nil
	case refNullable, refNonNull:
		return r.heapType()
	}
	r.off--
	return r.errf(ErrUnsupported, "reference type 0x%02x", c)
}

func (m *module) tableType(r *reader) error {
	start := r.off
	if err := r.refType(); err != nil {
		return err
	}
	m.tableTypes = append(m.tableTypes, r.b[start:r.off])
	is64, err := r.limits()
	if err != nil {
		return err
	}
	if is64 {
		return r.errf(ErrUnsupported, "64-bit table")
	}
	return nil
}

func (m *module) memType(r *reader) error {
	is64, max, hasMax, err := r.limitsMax()
	if err != nil {
		return err
	}
	if is64 {
		return r.errf(ErrUnsupported, "64-bit memory")
	}
	limit := uint32(maxPages)
	if hasMax && max < maxPages {
		limit = uint32(max)
	}
	m.memCaps = append(m.memCaps, limit)
	return nil
}

// maxPages is the most pages a 32-bit memory can have: 4 GiB.
const maxPages = 65536

func (m *module) imports(r *reader) ([]byte, error) {
	n, err := r.count(4)
	if err != nil {
		return nil, err
	}
	if n >= math.MaxUint32-numImports {
		return nil, r.errf(ErrUnsupported, "too many imports to add two")
	}
	for range n {
		mod, err := r.name()
		if err != nil {
			return nil, err
		}
		field, err := r.name()
		if err != nil {
			return nil, err
		}
		if mod == ImportModule {
			return nil, r.errf(ErrReservedName, "the module already imports %q.%q (instrumented twice?)", mod, field)
		}
		kind, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch kind {
		case 0x00:
			t, err := r.u32()
			if err != nil {
				return nil, err
			}
			if err := m.checkTypeIndex(r, t); err != nil {
				return nil, err
			}
			m.numFuncImports++
		case 0x01:
			err = m.tableType(r)
		case 0x02:
			err = m.memType(r)
		case 0x03:
			if err = r.valtype(); err == nil {
				_, err = r.byte()
			}
			m.numGlobals++
		case 0x04:
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			r.off--
			return nil, r.errf(ErrMalformed, "import %q.%q: unknown import kind 0x%02x", mod, field, kind)
		}
		if err != nil {
			return nil, err
		}
	}
	m.numFuncs = m.numFuncImports
	out := appendU32(make([]byte, 0, len(r.b)+48), uint32(n+numImports))
	out = append(out, r.b[countLen(r.b):]...)
	return m.appendImport(out), nil
}

func (m *module) functions(r *reader) ([]byte, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	m.numFuncs = m.numFuncImports
	for range n {
		t, err := r.u32()
		if err != nil {
			return nil, err
		}
		if err := m.checkTypeIndex(r, t); err != nil {
			return nil, err
		}
		m.funcTypes = append(m.funcTypes, t)
	}
	if uint64(m.numFuncImports)+uint64(n) >= math.MaxUint32-numImports {
		return nil, r.errf(ErrUnsupported, "too many functions to add two")
	}
	m.numFuncs = m.numFuncImports + uint32(n)
	return r.b, nil
}

func (m *module) tables(r *reader) ([]byte, error) {
	n, err := r.count(3)
	if err != nil {
		return nil, err
	}
	out := appendU32(make([]byte, 0, len(r.b)), uint32(n))
	for range n {
		start := r.off
		c, err := r.peek()
		if err != nil {
			return nil, err
		}
		if c != 0x40 {
			if err := m.tableType(r); err != nil {
				return nil, err
			}
			out = append(out, r.b[start:r.off]...)
			continue
		}
		// 0x40 0x00 tabletype expr: a table with an initialiser.
		r.off++
		if c, err := r.byte(); err != nil {
			return nil, err
		} else if c != 0 {
			r.off--
			return nil, r.errf(ErrMalformed, "table with initialiser: reserved byte 0x%02x", c)
		}
		if err := m.tableType(r); err != nil {
			return nil, err
		}
		out = append(out, r.b[start:r.off]...)
		if out, err = m.constExpr(r, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *module) memories(r *reader) ([]byte, error) {
	n, err := r.count(2)
	if err != nil {
		return nil, err
	}
	for range n {
		if err := m.memType(r); err != nil {
			return nil, err
		}
	}
	return r.b, nil
}

func (m *module) tags(r *reader) ([]byte, error) {
	n, err := r.count(2)
	if err != nil {
		return nil, err
	}
	for range n {
		if _, err := r.byte(); err != nil {
			return nil, err
		}
		t, err := r.u32()
		if err != nil {
			return nil, err
		}
		if err := m.checkTypeIndex(r, t); err != nil {
			return nil, err
		}
	}
	return r.b, nil
}

func (m *module) globals(r *reader) ([]byte, error) {
	n, err := r.count(3)
	if err != nil {
		return nil, err
	}
	if uint64(m.numGlobals)+uint64(n) >= math.MaxUint32-2 {
		return nil, r.errf(ErrUnsupported, "too many globals to add two")
	}
	out := appendU32(make([]byte, 0, len(r.b)+24), uint32(n+2))
	for range n {
		start := r.off
		if err := r.valtype(); err != nil {
			return nil, err
		}
		if _, err := r.byte(); err != nil {
			return nil, err
		}
		out = append(out, r.b[start:r.off]...)
		// A global's initialiser may only read the globals before it.
		m.numGlobals++
		if out, err = m.constExprGlobals(r, out, m.numGlobals-1); err != nil {
			return nil, err
		}
	}
	return m.appendGlobal(out), nil
}

func (m *module) exports(r *reader) ([]byte, error) {
	n, err := r.count(3)
	if err != nil {
		return nil, err
	}
	if n >= math.MaxUint32-2 {
		return nil, r.errf(ErrUnsupported, "too many exports to add two")
	}
	out := appendU32(make([]byte, 0, len(r.b)+48), uint32(n+2))
	for range n {
		start := r.off
		name, err := r.name()
		if err != nil {
			return nil, err
		}
		if name == GlobalName || name == StackGlobalName {
			r.off = start
			return nil, r.errf(ErrReservedName, "the module already exports %q (instrumented twice?)", name)
		}
		kind, err := r.byte()
		if err != nil {
			return nil, err
		}
		if kind > 4 {
			r.off--
			return nil, r.errf(ErrMalformed, "export %q: unknown export kind 0x%02x", name, kind)
		}
		out = append(out, r.b[start:r.off]...)
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		switch kind {
		case 0x00:
			if idx, err = m.funcIndex(r, idx); err != nil {
				return nil, err
			}
		case 0x03:
			if idx >= m.numGlobals {
				return nil, r.errf(ErrMalformed, "export %q: global index %d out of range", name, idx)
			}
		}
		out = appendU32(out, idx)
	}
	return m.appendExport(out), nil
}

// elements rewrites the element section: every form, function indices and
// expressions.
func (m *module) elements(r *reader) ([]byte, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	out := appendU32(make([]byte, 0, len(r.b)+16), uint32(n))
	for range n {
		start := r.off
		flags, err := r.u32()
		if err != nil {
			return nil, err
		}
		if flags > 7 {
			r.off = start
			return nil, r.errf(ErrMalformed, "element segment flags %d", flags)
		}
		out = appendU32(out, flags)
		active, explicitTable, exprs := flags&1 == 0, flags&2 != 0, flags&4 != 0
		if active && explicitTable {
			idx, err := r.u32()
			if err != nil {
				return nil, err
			}
			out = appendU32(out, idx)
		}
		if active {
			if out, err = m.constExpr(r, out); err != nil {
				return nil, err
			}
		}
		// Forms 0 and 4 have no element kind or type: funcref is implied.
		if flags != 0 && flags != 4 {
			s := r.off
			if exprs {
				err = r.refType()
			} else {
				var kind byte
				if kind, err = r.byte(); err == nil && kind != 0 {
					r.off--
					err = r.errf(ErrMalformed, "element kind 0x%02x", kind)
				}
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r.b[s:r.off]...)
		}
		k, err := r.count(1)
		if err != nil {
			return nil, err
		}
		out = appendU32(out, uint32(k))
		for range k {
			if exprs {
				if out, err = m.constExpr(r, out); err != nil {
					return nil, err
				}
				continue
			}
			idx, err := r.u32()
			if err != nil {
				return nil, err
			}
			if idx, err = m.funcIndex(r, idx); err != nil {
				return nil, err
			}
			out = appendU32(out, idx)
		}
	}
	return out, nil
}

func (m *module) data(r *reader) ([]byte, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	var scratch []byte
	for range n {
		flags, err := r.u32()
		if err != nil {
			return nil, err
		}
		switch flags {
		case 0, 2:
			if flags == 2 {
				if _, err := r.u32(); err != nil {
					return nil, err
				}
			}
			// Checked, not rewritten: an offset cannot hold a function
			// reference.
			if scratch, err = m.constExpr(r, scratch[:0]); err != nil {
				return nil, err
			}
		case 1:
		default:
			r.off--
			return nil, r.errf(ErrMalformed, "data segment flags %d", flags)
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if err := r.skip(int(size)); err != nil {
			return nil, err
		}
	}
	return r.b, nil
}

// constExpr copies a constant expression, renumbering ref.func.
func (m *module) constExpr(r *reader, out []byte) ([]byte, error) {
	return m.constExprGlobals(r, out, m.numGlobals)
}

// constExprGlobals copies a constant expression that may read the first
// nglobals globals.
func (m *module) constExprGlobals(r *reader, out []byte, nglobals uint32) ([]byte, error) {
	for {
		start := r.off
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x0b: // end
			return append(out, op), nil
		case 0x41: // i32.const
			_, err = r.sleb(32)
		case 0x42: // i64.const
			_, err = r.sleb(64)
		case 0x43: // f32.const
			err = r.skip(4)
		case 0x44: // f64.const
			err = r.skip(8)
		case 0x23: // global.get
			var g uint32
			if g, err = r.u32(); err == nil && g >= nglobals {
				err = r.errf(ErrMalformed, "constant expression: global index %d out of range", g)
			}
		case 0xd0: // ref.null
			err = r.heapType()
		case 0xd2: // ref.func
			var f uint32
			if f, err = r.u32(); err == nil {
				f, err = m.funcIndex(r, f)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, op)
			out = appendU32(out, f)
			continue
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constants: i32/i64 add, sub, mul
		case 0xfd: // v128.const
			var sub uint32
			if sub, err = r.u32(); err == nil {
				if sub != 12 {
					r.off = start
					return nil, r.errf(ErrUnsupported, "instruction 0xfd %d in a constant expression", sub)
				}
				err = r.skip(16)
			}
		default:
			r.off = start
			return nil, r.errf(ErrUnsupported, "instruction 0x%02x in a constant expression", op)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r.b[start:r.off]...)
	}
}

// nameSection renumbers the functions of a "name" section's content (after
// its name). It reports false when the content does not decode; the
// section is then dropped.
func (m *module) nameSection(b []byte) ([]byte, bool) {
	r := newReader(b, 0, "name section")
	out := make([]byte, 0, len(b)+32)
	for !r.done() {
		id, _ := r.byte()
		size, err := r.u32()
		if err != nil || uint64(size) > uint64(len(b)-r.off) {
			return nil, false
		}
		sub := newReader(b[r.off:r.off+int(size)], 0, "name subsection")
		r.off += int(size)
		var content []byte
		switch id {
		case 1: // function names
			content, err = m.nameMap(sub)
		case 2, 3: // local names, label names: indirect maps by function
			content, err = m.indirectNameMap(sub)
		default:
			content = sub.b
			sub.off = len(sub.b)
		}
		if err != nil || !sub.done() {
			return nil, false
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(content)))
		out = append(out, content...)
	}
	return out, true
}

// nameMap renumbers the function names and names the out-of-fuel import.
func (m *module) nameMap(r *reader) ([]byte, error) {
	n, err := r.count(2)
	if err != nil {
		return nil, err
	}
	out := appendU32(nil, uint32(n+numImports))
	added := false
	prev := int64(-1)
	for range n {
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		if int64(idx) <= prev {
			return nil, r.errf(ErrMalformed, "function names out of order")
		}
		prev = int64(idx)
		name, err := r.name()
		if err != nil {
			return nil, err
		}
		nidx, err := m.funcIndex(r, idx)
		if err != nil {
			return nil, err
		}
		if !added && nidx > m.oof() {
			out = m.appendImportNames(out)
			added = true
		}
		out = appendU32(out, nidx)
		out = appendName(out, name)
	}
	if !added {
		out = m.appendImportNames(out)
	}
	return out, nil
}

// appendImportNames appends the name map entries of the imports.
func (m *module) appendImportNames(out []byte) []byte {
	out = appendU32(out, m.oof())
	out = appendName(out, ImportModule+"."+ImportName)
	out = appendU32(out, m.limit())
	return appendName(out, ImportModule+"."+LimitName)
}

func (m *module) indirectNameMap(r *reader) ([]byte, error) {
	n, err := r.count(2)
	if err != nil {
		return nil, err
	}
	out := appendU32(nil, uint32(n))
	for range n {
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		if idx, err = m.funcIndex(r, idx); err != nil {
			return nil, err
		}
		out = appendU32(out, idx)
		start := r.off
		k, err := r.count(2)
		if err != nil {
			return nil, err
		}
		for range k {
			if _, err := r.u32(); err != nil {
				return nil, err
			}
			if _, err := r.name(); err != nil {
				return nil, err
			}
		}
		out = append(out, r.b[start:r.off]...)
	}
	return out, nil
}
