package meter

import (
	"math"
)

// Opcodes the rewrite emits.
const (
	opUnreachable  = 0x00
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opEnd          = 0x0b
	opBr           = 0x0c
	opBrIf         = 0x0d
	opCall         = 0x10
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opI64Const     = 0x42
	opI64LtS       = 0x53
	opI64Add       = 0x7c
	opI64Sub       = 0x7d
	opI64Shl       = 0x86
	opI64ShrU      = 0x88
	opI64ExtendI32 = 0xad // i64.extend_i32_u
	opElse         = 0x05
	opDrop         = 0x1a
	opSelect       = 0x1b
	opI32Const     = 0x41
	opI32LeU       = 0x4d
	opRefAsNonNull = 0xd4
	opMisc         = 0xfc
	miscTableSize  = 16
	blockEmpty     = 0x40
)

func (m *module) code(r *reader) ([]byte, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	if n != len(m.funcTypes) {
		return nil, r.errf(ErrMalformed, "%d function bodies for %d functions", n, len(m.funcTypes))
	}
	m.sawCode = true
	m.stats.Functions = n
	out := appendU32(make([]byte, 0, len(r.b)+len(r.b)/3+64), uint32(n))
	var f funcRewriter
	for i := range n {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(r.b)-r.off) {
			return nil, r.errf(ErrMalformed, "function body of %d bytes runs past the end", size)
		}
		body := r.b[r.off : r.off+int(size)]
		br := reader{b: body, base: r.base + r.off, what: "code section", fn: int64(m.numFuncImports) + int64(i)}
		r.off += int(size)
		nb, err := f.rewrite(m, m.typeParams[m.funcTypes[i]], &br)
		if err != nil {
			return nil, err
		}
		fn := m.numFuncImports + uint32(i)
		m.stats.Body.update(uint64(size), fn, br.base)
		m.stats.Depth.update(uint64(f.stats.depth), fn, f.stats.depthOff)
		m.stats.DepthSquares += uint64(f.stats.depth) * uint64(f.stats.depth)
		out = appendU32(out, uint32(len(nb)))
		out = append(out, nb...)
	}
	return out, nil
}

type frameKind uint8

const (
	kindFunc frameKind = iota
	kindBlock
	kindLoop
	kindIf
	kindTry
	kindTryTable
)

// frame is a control frame of the analysis. cur is the cost of the arm
// being read; alt the cost of the most expensive finished arm (the then
// arm of an if, the catch arms of a try); body the cost of a try's body.
type frame struct {
	kind     frameKind
	inElse   bool
	inCatch  bool
	targeted bool // some branch goes to this frame's label
	region   int  // loops: index in regions
	loop     int  // the region of the innermost loop this frame is in (itself, for a loop); 0: none
	cur      int64
	alt      int64
	body     int64
}

// region is a function entry or a loop header where fuel is charged.
//
// A loop region whose block type has no parameters is also moved: its
// slow path, the call to out_of_fuel, goes outside the loop, so that no
// call sits in the loop body (an engine keeps a loop's values in
// registers only when no call can clobber them):
//
//	block bt            ;; exit: the loop's results
//	  loop              ;; re-entry after a refill
//	    block           ;; the slow path
//	      loop bt       ;; the original loop
//	        counter -= cost; br_if 1 (counter < 0)
//	        ...body, its branches past the loop renumbered (+3)
//	      end
//	      br 2          ;; normal exit, with the results
//	    end
//	    counter += cost; call out_of_fuel; br 0
//	  end
//	  unreachable
//	end
type region struct {
	cost  int64
	used  bool
	moved bool   // wrapped as above (decided when the loop ends)
	bt    [2]int // the loop's block type bytes [start, end) in the body; bt[0] < 0: a type index
	// parent is the region of the innermost loop around this one (0: none);
	// movedOut counts the moved loops from this one out, itself included
	// (set once every loop has ended; see labelPatch).
	parent   int
	movedOut int
}

type patchKind uint8

const (
	patchCharge       patchKind = iota // at pos: charge region val (a loop header)
	patchFunc                          // [pos, end): a function index, val in the output
	patchBulk                          // at pos: charge a bulk operation of kind val
	patchLoopOpen                      // at pos (a loop opcode): the wrapper blocks of region val, if moved
	patchLoopClose                     // at pos (after its end): the slow path of region val, if moved
	patchLabel                         // [pos, end): branch label val, plus 3 for each moved loop it leaves (see labelPatch)
	patchCallPre                       // at pos (a call): charge the frame to the stack counter
	patchCallPost                      // at pos (after a call): give the frame back
	patchTailPre                       // at pos (a tail call): give the frame back, the callee replaces it
	patchTableGrow                     // at pos (table.grow val): ask the host, charge; c0: the reference local
	patchTableGrowEnd                  // at pos (after table.grow): -1 when the host refused
)

// Kinds of bulk operations: how the size operand is turned into fuel.
const (
	bulkBytes = iota // a length in bytes
	bulkPages        // memory.grow: a number of 64 KiB pages
	bulkElems        // a number of table elements: one unit each
)

type patch struct {
	pos, end int
	kind     patchKind
	val      uint32
	c0, c1   int // patchLabel: the innermost loop region the branch leaves, and the one it stays in; patchBulk: c0 the memory
}

// funcRewriter rewrites one function body at a time; its slices are
// reused from one body to the next.
type funcRewriter struct {
	m       *module
	frames  []frame
	regions []region
	patches []patch
	nlocals uint64
	frame   int64  // the estimated frame size in bytes (see FrameOverhead)
	calls   bool   // the function calls (or tail-calls) a function
	bulk    bool   // the function has bulk operations: one more local
	fuelLoc uint32 // an i64 local for the new counter
	bulkLoc uint32 // an i32 local for a bulk operation's size
	// stackLoc is an i64 local holding the stack counter at entry, in a
	// function that calls.
	stackLoc uint32
	// refTypes are the types of the reference locals table.grow needs
	// (its initial value is kept there while the host is asked), refLoc
	// the index of the first.
	refTypes [][]byte
	refLoc   uint32
	out      []byte // the new body; valid until the next rewrite
	stats    funcStats
}

func (f *funcRewriter) rewrite(m *module, nparams uint32, r *reader) ([]byte, error) {
	*f = funcRewriter{m: m, frames: f.frames[:0], regions: f.regions[:0], patches: f.patches[:0], refTypes: f.refTypes[:0], out: f.out[:0]}
	ngroups, err := r.count(2)
	if err != nil {
		return nil, err
	}
	f.nlocals = uint64(nparams)
	slots := uint64(nparams)
	for range ngroups {
		c, err := r.u32()
		if err != nil {
			return nil, err
		}
		t, err := r.peek()
		if err != nil {
			return nil, err
		}
		if err := r.valtype(); err != nil {
			return nil, err
		}
		f.nlocals += uint64(c)
		slots += uint64(c)
		if t == typeV128 {
			slots += uint64(c)
		}
	}
	f.m.stats.Locals.update(f.nlocals, uint32(r.fn), r.base)
	if f.nlocals+4 > math.MaxUint32 || ngroups+4 > math.MaxUint32 {
		return nil, r.errf(ErrUnsupported, "too many locals (%d) to add four", f.nlocals)
	}
	f.frame = FrameOverhead + FrameSlot*int64(slots)
	localsEnd := r.off
	if err := f.analyze(r); err != nil {
		return nil, err
	}
	// A loop's region comes after its parent's: one pass counts the moved
	// loops from each one out (see labelPatch).
	for i := 1; i < len(f.regions); i++ {
		reg := &f.regions[i]
		reg.movedOut = f.regions[reg.parent].movedOut
		if reg.moved {
			reg.movedOut++
		}
	}
	if f.nlocals+3+uint64(len(f.refTypes)) > math.MaxUint32 || uint64(ngroups)+3+uint64(len(f.refTypes)) > math.MaxUint32 {
		return nil, r.errf(ErrUnsupported, "too many locals (%d) to add %d", f.nlocals, 3+len(f.refTypes))
	}
	// A function that neither loops nor calls cannot run for long: its
	// entry pays without checking (the next check anywhere sees the debt),
	// and with no call in it the engine keeps its values in registers. See
	// the package documentation, "Design".
	loops := false
	for _, reg := range f.regions[1:] {
		loops = loops || reg.used
	}
	check := f.calls || loops
	entry := f.regions[0].cost
	// A check needs an i64 local; a bulk operation an i32 one too; a
	// function that calls one for the stack counter; table.grow one of
	// each type it grows.
	var buf [16]byte
	extra := buf[:0]
	groups := 0
	next := uint32(f.nlocals)
	add := func(t ...byte) uint32 {
		extra = append(extra, 1)
		extra = append(extra, t...)
		groups++
		next++
		return next - 1
	}
	if check && entry > 0 || loops || f.bulk {
		f.fuelLoc = add(typeI64)
	}
	if f.bulk {
		f.bulkLoc = add(typeI32)
	}
	stack := f.calls && !m.noStack
	if stack {
		f.stackLoc = add(typeI64)
	}
	f.refLoc = next
	for _, t := range f.refTypes {
		add(t...)
	}
	body := r.b
	out := appendU32(f.out, uint32(ngroups+groups))
	out = append(out, body[countLen(body):localsEnd]...)
	out = append(out, extra...)
	if stack {
		out = f.stackCheck(out)
	}
	if entry > 0 {
		out = f.charge(out, entry, check)
	}
	pos := localsEnd
	for _, p := range f.patches {
		out = append(out, body[pos:p.pos]...)
		pos = p.pos
		switch p.kind {
		case patchCharge:
			if reg := f.regions[p.val]; reg.moved {
				out = f.chargeLoop(out, reg.cost)
			} else if reg.used {
				out = f.charge(out, reg.cost, true)
			}
		case patchFunc:
			out = appendU32(out, p.val)
			pos = p.end
		case patchBulk:
			out = f.bulkCharge(out, int(p.val), p.c0)
		case patchCallPre:
			if !stack {
				continue
			}
			out = append(out, opLocalGet)
			out = appendU32(out, f.stackLoc)
			out = append(out, opI64Const)
			out = appendS64(out, f.frame)
			out = append(out, opI64Sub, opGlobalSet)
			out = appendU32(out, f.m.stack())
		case patchCallPost, patchTailPre:
			if !stack {
				continue
			}
			out = append(out, opLocalGet)
			out = appendU32(out, f.stackLoc)
			out = append(out, opGlobalSet)
			out = appendU32(out, f.m.stack())
		case patchTableGrow:
			out = f.tableGrow(out, p.val, p.c0)
		case patchTableGrowEnd:
			out = append(out, opElse, opI32Const, 0x7f, opEnd)
		case patchLoopOpen:
			if reg := f.regions[p.val]; reg.moved {
				out = append(out, opBlock)
				out = append(out, body[reg.bt[0]:reg.bt[1]]...)
				out = append(out, opLoop, blockEmpty, opBlock, blockEmpty)
			}
		case patchLoopClose:
			if reg := f.regions[p.val]; reg.moved {
				out = f.slowPath(out, reg.cost)
			}
		case patchLabel:
			add := 3 * uint32(f.regions[p.c0].movedOut-f.regions[p.c1].movedOut)
			if add > 0 {
				out = appendU32(out, p.val+add)
				pos = p.end
			}
		}
	}
	f.out = append(out, body[pos:]...)
	return f.out, nil
}

// charge appends: counter -= cost, and with check: if counter < 0 {
// out_of_fuel() }.
func (f *funcRewriter) charge(out []byte, cost int64, check bool) []byte {
	out = append(out, opGlobalGet)
	out = appendU32(out, f.m.fuel())
	out = append(out, opI64Const)
	out = appendS64(out, cost)
	out = append(out, opI64Sub)
	if !check {
		out = append(out, opGlobalSet)
		return appendU32(out, f.m.fuel())
	}
	return f.check(out)
}

// chargeLoop appends the charge at the header of a moved loop: counter -=
// cost; if it is negative, branch to the slow path (see region).
func (f *funcRewriter) chargeLoop(out []byte, cost int64) []byte {
	out = append(out, opGlobalGet)
	out = appendU32(out, f.m.fuel())
	out = append(out, opI64Const)
	out = appendS64(out, cost)
	out = append(out, opI64Sub, opLocalTee)
	out = appendU32(out, f.fuelLoc)
	out = append(out, opGlobalSet)
	out = appendU32(out, f.m.fuel())
	out = append(out, opLocalGet)
	out = appendU32(out, f.fuelLoc)
	return append(out, opI64Const, 0, opI64LtS, opBrIf, 1)
}

// slowPath appends what follows the end of a moved loop (see region): the
// normal exit, then the refill, which gives back the header's charge
// before re-entering the loop, so that the header is paid once.
func (f *funcRewriter) slowPath(out []byte, cost int64) []byte {
	out = append(out, opBr, 2, opEnd, opGlobalGet)
	out = appendU32(out, f.m.fuel())
	out = append(out, opI64Const)
	out = appendS64(out, cost)
	out = append(out, opI64Add, opGlobalSet)
	out = appendU32(out, f.m.fuel())
	out = append(out, opCall)
	out = appendU32(out, f.m.oof())
	return append(out, opBr, 0, opEnd, opUnreachable, opEnd)
}

// check appends, with the new counter on the stack: store it; if it is
// negative, call out_of_fuel.
func (f *funcRewriter) check(out []byte) []byte {
	out = append(out, opLocalTee)
	out = appendU32(out, f.fuelLoc)
	out = append(out, opGlobalSet)
	out = appendU32(out, f.m.fuel())
	out = append(out, opLocalGet)
	out = appendU32(out, f.fuelLoc)
	out = append(out, opI64Const, 0, opI64LtS, opIf, blockEmpty, opCall)
	out = appendU32(out, f.m.oof())
	return append(out, opEnd)
}

// stackCheck appends the check at the entry of a function that calls:
// keep the stack counter in stackLoc; if the function's frame does not
// fit in it, call the limit callback, then trap.
func (f *funcRewriter) stackCheck(out []byte) []byte {
	out = append(out, opGlobalGet)
	out = appendU32(out, f.m.stack())
	out = append(out, opLocalTee)
	out = appendU32(out, f.stackLoc)
	out = append(out, opI64Const)
	out = appendS64(out, f.frame)
	out = append(out, opI64LtS, opIf, blockEmpty, opI32Const, LimitStack, opI64Const)
	out = appendS64(out, f.frame)
	out = append(out, opCall)
	out = appendU32(out, f.m.limit())
	return append(out, opDrop, opUnreachable, opEnd)
}

// tableGrow appends what comes before table.grow t, with its operands
// (the initial value, the number of elements) on the stack: keep them in
// locals, ask the limit callback about the total of the tables' sizes
// after the growth, and if it agrees charge for the elements and put the
// operands back for table.grow; patchTableGrowEnd closes the if, with -1
// when it did not agree.
func (f *funcRewriter) tableGrow(out []byte, t uint32, ref int) []byte {
	out = append(out, opLocalSet)
	out = appendU32(out, f.bulkLoc)
	out = append(out, opLocalSet)
	out = appendU32(out, f.refLoc+uint32(ref))
	out = append(out, opI32Const, LimitTableGrow, opLocalGet)
	out = appendU32(out, f.bulkLoc)
	out = append(out, opI64ExtendI32)
	for i := range len(f.m.tableTypes) {
		out = append(out, opMisc, miscTableSize)
		out = appendU32(out, uint32(i))
		out = append(out, opI64ExtendI32, opI64Add)
	}
	out = append(out, opCall)
	out = appendU32(out, f.m.limit())
	out = append(out, opIf, typeI32, opLocalGet)
	out = appendU32(out, f.refLoc+uint32(ref))
	if f.m.tableTypes[t][0] == refNonNull {
		out = append(out, opRefAsNonNull)
	}
	out = append(out, opLocalGet)
	out = appendU32(out, f.bulkLoc)
	return f.bulkCharge(out, bulkElems, 0)
}

// bulkCharge appends, with the size operand (i32) on the stack: take it
// off, charge for it, check, put it back. mem is the memory of
// memory.grow.
func (f *funcRewriter) bulkCharge(out []byte, kind int, mem int) []byte {
	out = append(out, opLocalSet)
	out = appendU32(out, f.bulkLoc)
	out = append(out, opGlobalGet)
	out = appendU32(out, f.m.fuel())
	out = append(out, opLocalGet)
	out = appendU32(out, f.bulkLoc)
	out = append(out, opI64ExtendI32)
	shift := f.m.bulkShift
	switch kind {
	case bulkBytes:
		if shift > 0 {
			out = append(out, opI64Const)
			out = appendS64(out, int64(shift))
			out = append(out, opI64ShrU)
		}
	case bulkPages:
		if shift < 16 {
			out = append(out, opI64Const)
			out = appendS64(out, int64(16-shift))
			out = append(out, opI64Shl)
		}
		// A growth by more pages than the memory can ever have fails
		// without allocating: it costs nothing more than the instruction.
		out = append(out, opI64Const, 0, opLocalGet)
		out = appendU32(out, f.bulkLoc)
		out = append(out, opI32Const)
		out = appendS64(out, int64(f.m.memCaps[mem]))
		out = append(out, opI32LeU, opSelect)
	}
	out = append(out, opI64Sub)
	out = f.check(out)
	out = append(out, opLocalGet)
	return appendU32(out, f.bulkLoc)
}

// push opens a frame for the instruction that starts at start.
func (f *funcRewriter) push(k frameKind, start int) {
	f.frames = append(f.frames, frame{kind: k, loop: f.top().loop})
	if d := len(f.frames) - 1; d > f.stats.depth {
		f.stats.depth, f.stats.depthOff = d, start
	}
}

func (f *funcRewriter) top() *frame { return &f.frames[len(f.frames)-1] }

// target marks the frame a branch label refers to.
func (f *funcRewriter) target(r *reader, label uint32) error {
	if uint64(label) >= uint64(len(f.frames)) {
		return r.errf(ErrMalformed, "branch label %d out of range (depth %d)", label, len(f.frames))
	}
	f.frames[len(f.frames)-1-int(label)].targeted = true
	return nil
}

func (f *funcRewriter) label(r *reader) error {
	start := r.off
	l, err := r.u32()
	if err != nil {
		return err
	}
	if err := f.target(r, l); err != nil {
		return err
	}
	f.labelPatch(start, r.off, l)
	return nil
}

// labelPatch records the branch label l at [pos, end), with the loops the
// branch leaves: if some of them are moved, the label moves out by three
// for each (see region). The loops it leaves are those from the innermost
// one around the branch out to, not including, the innermost one around
// its target: the patch keeps both ends, and the rewrite counts the moved
// ones between them through region.movedOut, so that a branch costs the
// same however many loops it leaves (a br_table of many labels out of
// many nested loops would otherwise cost their product).
func (f *funcRewriter) labelPatch(pos, end int, l uint32) {
	inner := f.top().loop
	outer := f.frames[len(f.frames)-1-int(l)].loop
	if inner != outer {
		f.patches = append(f.patches, patch{pos: pos, end: end, kind: patchLabel, val: l, c0: inner, c1: outer})
	}
}

// pop ends the innermost frame and adds its cost to the enclosing one.
func (f *funcRewriter) pop() {
	fr := f.frames[len(f.frames)-1]
	f.frames = f.frames[:len(f.frames)-1]
	var c int64
	switch fr.kind {
	case kindBlock, kindTryTable:
		c = fr.cur
	case kindIf:
		c = max(fr.alt, fr.cur)
	case kindTry:
		c = fr.cur
		if fr.inCatch {
			c = fr.body + max(fr.alt, fr.cur)
		}
	case kindLoop:
		if fr.targeted {
			reg := &f.regions[fr.region]
			reg.cost, reg.used, reg.moved = fr.cur, true, reg.bt[0] >= 0
		} else {
			c = fr.cur
		}
	case kindFunc:
		f.regions[0] = region{cost: fr.cur, used: true}
	}
	if len(f.frames) > 0 {
		f.top().cur += c
	}
}

func (f *funcRewriter) funcPatch(r *reader) error {
	start := r.off
	idx, err := r.u32()
	if err != nil {
		return err
	}
	nidx, err := f.m.funcIndex(r, idx)
	if err != nil {
		return err
	}
	f.patches = append(f.patches, patch{pos: start, end: r.off, kind: patchFunc, val: nidx})
	f.calls = true
	return nil
}

func (f *funcRewriter) bulkPatch(pos int, kind int) {
	f.bulk = true
	f.patches = append(f.patches, patch{pos: pos, kind: patchBulk, val: uint32(kind)})
}

// callPatch records a call at [pos, r.off) (its opcode read): the stack
// counter is charged before it and restored after it; before a tail call
// it is restored only.
func (f *funcRewriter) callPatch(pos int, tail bool) {
	if tail {
		f.patches = append(f.patches, patch{pos: pos, kind: patchTailPre})
	} else {
		f.patches = append(f.patches, patch{pos: pos, kind: patchCallPre})
	}
	f.calls = true
}

// refType returns the index in refTypes of a local able to hold an
// element of table t.
func (f *funcRewriter) refType(t uint32) int {
	lt := f.m.tableTypes[t]
	if lt[0] == refNonNull {
		lt = append([]byte{refNullable}, lt[1:]...)
	}
	for i, x := range f.refTypes {
		if string(x) == string(lt) {
			return i
		}
	}
	f.refTypes = append(f.refTypes, lt)
	return len(f.refTypes) - 1
}

func (r *reader) memarg() error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 { // multiple memories: a memory index follows
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	_, err = r.uleb(64)
	return err
}

func (r *reader) u32s(n int) error {
	for range n {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

// analyze walks the body once: it decodes every instruction, computes the
// cost of every region and records the patches.
func (f *funcRewriter) analyze(r *reader) error {
	f.frames = append(f.frames, frame{kind: kindFunc})
	f.regions = append(f.regions, region{})
	for len(f.frames) > 0 {
		start := r.off
		op, err := r.byte()
		if err != nil {
			return err
		}
		cost := int64(1)
		switch {
		case op == 0x00, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1, op == 0xd4:
			// unreachable, return, drop, select, ref.is_null, ref.as_non_null
		case op >= 0x45 && op <= 0xc4: // numeric instructions
		case op == 0x01: // nop
			cost = 0
		case op == 0x02: // block
			err = r.blockType()
			f.push(kindBlock, r.base+start)
			cost = 0
		case op == 0x03: // loop
			btStart := r.off
			if err = r.blockType(); err != nil {
				break
			}
			bt := [2]int{btStart, r.off}
			// Value types are 0x60-0x7f; a type index (which may have
			// parameters) is anything else but 0x40.
			if c := r.b[btStart]; c != blockEmpty && (c < 0x60 || c > 0x7f) {
				bt[0] = -1
			}
			parent := f.top().loop
			f.push(kindLoop, r.base+start)
			f.top().region, f.top().loop = len(f.regions), len(f.regions)
			f.patches = append(f.patches,
				patch{pos: start, kind: patchLoopOpen, val: uint32(len(f.regions))},
				patch{pos: r.off, kind: patchCharge, val: uint32(len(f.regions))})
			f.regions = append(f.regions, region{bt: bt, parent: parent})
			cost = 0
		case op == 0x04: // if
			if err = r.blockType(); err != nil {
				break
			}
			f.top().cur++
			f.push(kindIf, r.base+start)
			cost = 0
		case op == 0x05: // else
			t := f.top()
			if t.kind != kindIf || t.inElse {
				r.off = start
				return r.errf(ErrMalformed, "else outside an if")
			}
			t.alt, t.cur, t.inElse = t.cur, 0, true
			cost = 0
		case op == 0x06: // try (legacy exceptions)
			err = r.blockType()
			f.push(kindTry, r.base+start)
			cost = 0
		case op == 0x07, op == 0x19: // catch tag, catch_all
			if op == 0x07 {
				if _, err = r.u32(); err != nil {
					break
				}
			}
			t := f.top()
			if t.kind != kindTry {
				r.off = start
				return r.errf(ErrMalformed, "catch outside a try")
			}
			if !t.inCatch {
				t.body, t.inCatch = t.cur, true
			} else {
				t.alt = max(t.alt, t.cur)
			}
			t.cur = 0
			cost = 0
		case op == 0x18: // delegate
			var l uint32
			if l, err = r.u32(); err != nil {
				break
			}
			if t := f.top(); t.kind != kindTry || t.inCatch {
				r.off = start
				return r.errf(ErrMalformed, "delegate outside a try")
			}
			f.pop()
			if uint64(l) >= uint64(len(f.frames)) {
				return r.errf(ErrMalformed, "delegate label %d out of range", l)
			}
			f.labelPatch(start+1, r.off, l)
			cost = 0
		case op == 0x08: // throw
			_, err = r.u32()
		case op == 0x09: // rethrow
			var l uint32
			if l, err = r.u32(); err == nil && uint64(l) >= uint64(len(f.frames)) {
				err = r.errf(ErrMalformed, "rethrow label %d out of range", l)
			}
			if err == nil {
				f.labelPatch(start+1, r.off, l)
			}
		case op == 0x0a: // throw_ref
		case op == 0x0b: // end
			if t := f.top(); t.kind == kindLoop && t.targeted {
				f.patches = append(f.patches, patch{pos: r.off, kind: patchLoopClose, val: uint32(t.region)})
			}
			f.pop()
			cost = 0
		case op == 0x0c, op == 0x0d, op == 0xd5, op == 0xd6: // br, br_if, br_on_null, br_on_non_null
			err = f.label(r)
		case op == 0x0e: // br_table
			var n int
			if n, err = r.count(1); err != nil {
				break
			}
			f.m.stats.BrTable.update(uint64(n)+1, uint32(r.fn), r.base+start)
			f.m.stats.BrTableTargets += uint64(n) + 1
			for range n + 1 {
				if err = f.label(r); err != nil {
					break
				}
			}
		case op == 0x10, op == 0x12: // call, return_call
			f.callPatch(start, op == 0x12)
			if err = f.funcPatch(r); err == nil && op == 0x10 {
				f.patches = append(f.patches, patch{pos: r.off, kind: patchCallPost})
			}
		case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
			f.callPatch(start, op == 0x13)
			if err = r.u32s(2); err == nil && op == 0x11 {
				f.patches = append(f.patches, patch{pos: r.off, kind: patchCallPost})
			}
		case op == 0x14, op == 0x15: // call_ref, return_call_ref
			f.callPatch(start, op == 0x15)
			if _, err = r.u32(); err == nil && op == 0x14 {
				f.patches = append(f.patches, patch{pos: r.off, kind: patchCallPost})
			}
		case op == 0x1c: // select t*
			var n int
			if n, err = r.count(1); err != nil {
				break
			}
			for range n {
				if err = r.valtype(); err != nil {
					break
				}
			}
		case op == 0x1f: // try_table
			if err = r.blockType(); err != nil {
				break
			}
			var n int
			if n, err = r.count(2); err != nil {
				break
			}
			for range n {
				var kind byte
				if kind, err = r.byte(); err != nil {
					break
				}
				switch kind {
				case 0, 1: // catch, catch_ref: tag, label
					if _, err = r.u32(); err == nil {
						err = f.label(r)
					}
				case 2, 3: // catch_all, catch_all_ref: label
					err = f.label(r)
				default:
					r.off--
					err = r.errf(ErrMalformed, "try_table catch kind 0x%02x", kind)
				}
				if err != nil {
					break
				}
			}
			f.push(kindTryTable, r.base+start)
			cost = 0
		case op >= 0x20 && op <= 0x22: // local.get, local.set, local.tee
			var l uint32
			if l, err = r.u32(); err == nil && uint64(l) >= f.nlocals {
				err = r.errf(ErrMalformed, "local index %d out of range (%d locals)", l, f.nlocals)
			}
		case op == 0x23, op == 0x24: // global.get, global.set
			var g uint32
			if g, err = r.u32(); err == nil && g >= f.m.numGlobals {
				err = r.errf(ErrMalformed, "global index %d out of range (%d globals)", g, f.m.numGlobals)
			}
		case op == 0x25, op == 0x26: // table.get, table.set
			_, err = r.u32()
		case op >= 0x28 && op <= 0x3e: // loads and stores
			err = r.memarg()
		case op == 0x3f: // memory.size
			_, err = r.u32()
		case op == 0x40: // memory.grow
			var mem uint32
			if mem, err = r.u32(); err != nil {
				break
			}
			if uint64(mem) >= uint64(len(f.m.memCaps)) {
				r.off = start + 1
				return r.errf(ErrMalformed, "memory index %d out of range (%d memories)", mem, len(f.m.memCaps))
			}
			f.bulkPatch(start, bulkPages)
			f.patches[len(f.patches)-1].c0 = int(mem)
		case op == 0x41:
			_, err = r.sleb(32)
		case op == 0x42:
			_, err = r.sleb(64)
		case op == 0x43:
			err = r.skip(4)
		case op == 0x44:
			err = r.skip(8)
		case op == 0xd0: // ref.null
			err = r.heapType()
		case op == 0xd2: // ref.func: not a call
			calls := f.calls
			err = f.funcPatch(r)
			f.calls = calls
		case op == 0xfc:
			err = f.misc(r, start)
		case op == 0xfd:
			err = simd(r)
		case op == 0xfe:
			err = atomic(r)
		case op == 0xd3, op == 0xfb:
			r.off = start
			return r.errf(ErrUnsupported, "GC instruction 0x%02x", op)
		default:
			r.off = start
			return r.errf(ErrUnsupported, "unknown opcode 0x%02x", op)
		}
		if err != nil {
			return err
		}
		if len(f.frames) > 0 {
			f.top().cur += cost
		}
	}
	if !r.done() {
		return r.errf(ErrMalformed, "%d bytes after the end of the function", len(r.b)-r.off)
	}
	return nil
}

// misc decodes the 0xfc instructions: saturating truncations, bulk memory
// and table operations.
func (f *funcRewriter) misc(r *reader, start int) error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch sub {
	case 0, 1, 2, 3, 4, 5, 6, 7: // saturating truncations
		return nil
	case 8: // memory.init data mem
		f.bulkPatch(start, bulkBytes)
		return r.u32s(2)
	case 9, 13, 16: // data.drop, elem.drop, table.size
		return r.u32s(1)
	case 10: // memory.copy mem mem
		f.bulkPatch(start, bulkBytes)
		return r.u32s(2)
	case 11: // memory.fill mem
		f.bulkPatch(start, bulkBytes)
		return r.u32s(1)
	case 12, 14: // table.init elem table, table.copy table table
		f.bulkPatch(start, bulkElems)
		return r.u32s(2)
	case 15: // table.grow
		t, err := r.u32()
		if err != nil {
			return err
		}
		if uint64(t) >= uint64(len(f.m.tableTypes)) {
			return r.errf(ErrMalformed, "table index %d out of range (%d tables)", t, len(f.m.tableTypes))
		}
		f.bulk = true
		f.patches = append(f.patches,
			patch{pos: start, kind: patchTableGrow, val: t, c0: f.refType(t)},
			patch{pos: r.off, kind: patchTableGrowEnd})
		return nil
	case 17: // table.fill
		f.bulkPatch(start, bulkElems)
		return r.u32s(1)
	}
	r.off = start
	return r.errf(ErrUnsupported, "unknown opcode 0xfc %d", sub)
}

// simdReserved lists the opcodes of the SIMD space below 0x100 that no
// instruction uses.
var simdReserved = map[uint32]bool{
	0x9a: true, 0xa2: true, 0xa5: true, 0xa6: true, 0xaf: true, 0xb0: true, 0xb2: true, 0xb3: true,
	0xb4: true, 0xbb: true, 0xc2: true, 0xc5: true, 0xc6: true, 0xcf: true, 0xd0: true, 0xd2: true,
	0xd3: true, 0xd4: true, 0xe2: true, 0xee: true,
}

// simd decodes the 0xfd instructions (SIMD and relaxed SIMD).
func simd(r *reader) error {
	start := r.off - 1
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 0x0b, sub == 0x5c, sub == 0x5d: // loads, stores, load_zero
		return r.memarg()
	case sub == 0x0c, sub == 0x0d: // v128.const, i8x16.shuffle
		return r.skip(16)
	case sub >= 0x15 && sub <= 0x22: // extract and replace lane
		return r.skip(1)
	case sub >= 0x54 && sub <= 0x5b: // load and store lane
		if err := r.memarg(); err != nil {
			return err
		}
		return r.skip(1)
	case sub <= 0xff && !simdReserved[sub], sub >= 0x100 && sub <= 0x113:
		return nil
	}
	r.off = start
	return r.errf(ErrUnsupported, "unknown opcode 0xfd %d", sub)
}

// atomic decodes the 0xfe instructions (threads).
func atomic(r *reader) error {
	start := r.off - 1
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 0x02, sub >= 0x10 && sub <= 0x4e: // notify, wait, loads, stores, read-modify-write
		return r.memarg()
	case sub == 0x03: // atomic.fence
		c, err := r.byte()
		if err == nil && c != 0 {
			r.off--
			err = r.errf(ErrMalformed, "atomic.fence: reserved byte 0x%02x", c)
		}
		return err
	}
	r.off = start
	return r.errf(ErrUnsupported, "unknown opcode 0xfe %d", sub)
}
