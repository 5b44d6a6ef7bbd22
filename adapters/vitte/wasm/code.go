package wasm

import "math"

// Opcodes used by the code generator.
const (
	opUnreachable = 0x00
	opBlock       = 0x02
	opLoop        = 0x03
	opIf          = 0x04
	opElse        = 0x05
	opEnd         = 0x0b
	opBr          = 0x0c
	opBrIf        = 0x0d
	opReturn      = 0x0f
	opCall        = 0x10
	opDrop        = 0x1a
	opSelect      = 0x1b
	opLocalGet    = 0x20
	opLocalSet    = 0x21
	opLocalTee    = 0x22
	opGlobalGet   = 0x23
	opGlobalSet   = 0x24
	opMemorySize  = 0x3f
	opMemoryGrow  = 0x40
	opI32Const    = 0x41
	opI64Const    = 0x42
	opF64Const    = 0x44
	opPrefixFC    = 0xfc
)

// Op is a plain instruction with no immediate.
type Op byte

// Instructions without immediates.
const (
	I32Eqz  Op = 0x45
	I32Eq   Op = 0x46
	I32Ne   Op = 0x47
	I32LtS  Op = 0x48
	I32LtU  Op = 0x49
	I32GtS  Op = 0x4a
	I32GtU  Op = 0x4b
	I32LeS  Op = 0x4c
	I32LeU  Op = 0x4d
	I32GeS  Op = 0x4e
	I32GeU  Op = 0x4f
	I64Eqz  Op = 0x50
	I64Eq   Op = 0x51
	I64Ne   Op = 0x52
	I64LtS  Op = 0x53
	I64LtU  Op = 0x54
	I64GtS  Op = 0x55
	I64GtU  Op = 0x56
	I64LeS  Op = 0x57
	I64LeU  Op = 0x58
	I64GeS  Op = 0x59
	I64GeU  Op = 0x5a
	F64Eq   Op = 0x61
	F64Ne   Op = 0x62
	F64Lt   Op = 0x63
	F64Gt   Op = 0x64
	F64Le   Op = 0x65
	F64Ge   Op = 0x66
	I32Add  Op = 0x6a
	I32Sub  Op = 0x6b
	I32Mul  Op = 0x6c
	I32DivS Op = 0x6d
	I32DivU Op = 0x6e
	I32RemS Op = 0x6f
	I32RemU Op = 0x70
	I32And  Op = 0x71
	I32Or   Op = 0x72
	I32Xor  Op = 0x73
	I32Shl  Op = 0x74
	I32ShrS Op = 0x75
	I32ShrU Op = 0x76
	I64Add  Op = 0x7c
	I64Sub  Op = 0x7d
	I64Mul  Op = 0x7e
	I64DivS Op = 0x7f
	I64DivU Op = 0x80
	I64RemS Op = 0x81
	I64RemU Op = 0x82
	I64And  Op = 0x83
	I64Or   Op = 0x84
	I64Xor  Op = 0x85
	I64Shl  Op = 0x86
	I64ShrS Op = 0x87
	I64ShrU Op = 0x88
	F64Neg  Op = 0x9a
	F64Add  Op = 0xa0
	F64Sub  Op = 0xa1
	F64Mul  Op = 0xa2
	F64Div  Op = 0xa3

	I32WrapI64     Op = 0xa7
	I64ExtendI32S  Op = 0xac
	I64ExtendI32U  Op = 0xad
	F64ConvertI32S Op = 0xb7
	F64ConvertI32U Op = 0xb8
	F64ConvertI64S Op = 0xb9
)

// Memory access instructions.
const (
	I32Load   Op = 0x28
	I64Load   Op = 0x29
	I32Load8U Op = 0x2d
	I32Store  Op = 0x36
	I64Store  Op = 0x37
	I32Store8 Op = 0x3a
)

// BlockType is the type of a block, loop or if: empty or one result.
type BlockType byte

// Block types.
const (
	BlockEmpty BlockType = 0x40
	BlockI32   BlockType = BlockType(I32)
	BlockI64   BlockType = BlockType(I64)
	BlockF64   BlockType = BlockType(F64)
)

// Code builds a function body. The zero value is not usable: use NewCode.
type Code struct {
	b []byte
}

// NewCode returns an empty body.
func NewCode() *Code { return &Code{} }

// Bytes returns the instructions written so far.
func (c *Code) Bytes() []byte { return c.b }

// Len returns the number of bytes written so far.
func (c *Code) Len() int { return len(c.b) }

// Op writes a plain instruction.
func (c *Code) Op(op Op) { c.b = append(c.b, byte(op)) }

// Ops writes plain instructions.
func (c *Code) Ops(ops ...Op) {
	for _, op := range ops {
		c.b = append(c.b, byte(op))
	}
}

// I32Const writes i32.const v.
func (c *Code) I32Const(v int32) {
	c.b = append(c.b, opI32Const)
	c.b = S64(c.b, int64(v))
}

// I64Const writes i64.const v.
func (c *Code) I64Const(v int64) {
	c.b = append(c.b, opI64Const)
	c.b = S64(c.b, v)
}

// F64Const writes f64.const v.
func (c *Code) F64Const(v float64) {
	c.b = append(c.b, opF64Const)
	c.b = appendLE64(c.b, math.Float64bits(v))
}

// LocalGet writes local.get i.
func (c *Code) LocalGet(i uint32) { c.idx(opLocalGet, i) }

// LocalSet writes local.set i.
func (c *Code) LocalSet(i uint32) { c.idx(opLocalSet, i) }

// LocalTee writes local.tee i.
func (c *Code) LocalTee(i uint32) { c.idx(opLocalTee, i) }

// GlobalGet writes global.get i.
func (c *Code) GlobalGet(i uint32) { c.idx(opGlobalGet, i) }

// GlobalSet writes global.set i.
func (c *Code) GlobalSet(i uint32) { c.idx(opGlobalSet, i) }

// Call writes call f.
func (c *Code) Call(f uint32) { c.idx(opCall, f) }

// Br writes br depth.
func (c *Code) Br(depth uint32) { c.idx(opBr, depth) }

// BrIf writes br_if depth.
func (c *Code) BrIf(depth uint32) { c.idx(opBrIf, depth) }

func (c *Code) idx(op byte, i uint32) {
	c.b = append(c.b, op)
	c.b = U32(c.b, i)
}

// Block opens a block.
func (c *Code) Block(t BlockType) { c.b = append(c.b, opBlock, byte(t)) }

// Loop opens a loop.
func (c *Code) Loop(t BlockType) { c.b = append(c.b, opLoop, byte(t)) }

// If opens an if.
func (c *Code) If(t BlockType) { c.b = append(c.b, opIf, byte(t)) }

// Else starts the else arm of an if.
func (c *Code) Else() { c.b = append(c.b, opElse) }

// End closes a block, loop or if.
func (c *Code) End() { c.b = append(c.b, opEnd) }

// Return writes return.
func (c *Code) Return() { c.b = append(c.b, opReturn) }

// Unreachable writes unreachable (a trap).
func (c *Code) Unreachable() { c.b = append(c.b, opUnreachable) }

// Drop writes drop.
func (c *Code) Drop() { c.b = append(c.b, opDrop) }

// Select writes select.
func (c *Code) Select() { c.b = append(c.b, opSelect) }

// MemorySize writes memory.size (in pages).
func (c *Code) MemorySize() { c.b = append(c.b, opMemorySize, 0x00) }

// MemoryGrow writes memory.grow: pops a page count, pushes the old size
// or -1.
func (c *Code) MemoryGrow() { c.b = append(c.b, opMemoryGrow, 0x00) }

// Mem writes a load or store with the given alignment (log2) and offset.
func (c *Code) Mem(op Op, alignLog2, offset uint32) {
	c.b = append(c.b, byte(op))
	c.b = U32(c.b, alignLog2)
	c.b = U32(c.b, offset)
}

// I32TruncSatF64S writes i32.trunc_sat_f64_s (saturating, never traps).
func (c *Code) I32TruncSatF64S() { c.b = append(c.b, opPrefixFC, 0x02) }

// I64TruncSatF64S writes i64.trunc_sat_f64_s (saturating, never traps).
func (c *Code) I64TruncSatF64S() { c.b = append(c.b, opPrefixFC, 0x06) }
