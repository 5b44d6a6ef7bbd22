package gen

import (
	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/check"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/wasm"
)

// fn is the state of the code generation of one proc.
type fn struct {
	g      *gen
	proc   *check.Proc
	c      *wasm.Code
	labels int // open blocks, loops and ifs
	loops  []loopLabels
}

// loopLabels are the label depths (counted from the function's start) of
// the innermost loop's break and continue targets.
type loopLabels struct{ brk, cont int }

func (g *gen) procBody(p *check.Proc) ([]wasm.ValType, *wasm.Code) {
	f := &fn{g: g, proc: p, c: wasm.NewCode()}
	var locals []wasm.ValType
	for _, v := range p.Locals[len(p.Params):] {
		locals = append(locals, valType(v.Type))
	}
	f.stmts(p.Body)
	if p.Result != check.Unit {
		// The checker proved that control never gets here.
		f.c.Unreachable()
	}
	return locals, f.c
}

func (f *fn) open()  { f.labels++ }
func (f *fn) close() { f.labels--; f.c.End() }

// depth is the br immediate that reaches the label opened as the n-th.
func (f *fn) depth(n int) uint32 { return uint32(f.labels - 1 - n) }

func (f *fn) stmts(ss []check.Stmt) {
	for _, s := range ss {
		f.stmt(s)
	}
}

func (f *fn) stmt(s check.Stmt) {
	c := f.c
	switch s := s.(type) {
	case *check.SetStmt:
		f.expr(s.Value)
		c.LocalSet(uint32(s.Var.Index))
	case *check.ExprStmt:
		f.expr(s.X)
		if s.X.Type() != check.Unit {
			c.Drop()
		}
	case *check.ReturnStmt:
		if s.Value != nil {
			f.expr(s.Value)
		}
		c.Return()
	case *check.FailStmt:
		f.expr(s.Msg)
		c.GlobalSet(gErr)
		c.I32Const(1)
		c.GlobalSet(gFailed)
		f.returnZero()
	case *check.IfStmt:
		f.expr(s.Cond)
		c.If(wasm.BlockEmpty)
		f.open()
		f.stmts(s.Then)
		if s.Else != nil {
			c.Else()
			f.stmts(s.Else)
		}
		f.close()
	case *check.LoopStmt:
		// block $brk; loop $top; [cond; eqz; br_if $brk]; block $cont;
		// body; end; post; br $top; end; end
		c.Block(wasm.BlockEmpty)
		f.open()
		brk := f.labels - 1
		c.Loop(wasm.BlockEmpty)
		f.open()
		top := f.labels - 1
		if s.Cond != nil {
			f.expr(s.Cond)
			c.Op(wasm.I32Eqz)
			c.BrIf(f.depth(brk))
		}
		c.Block(wasm.BlockEmpty)
		f.open()
		f.loops = append(f.loops, loopLabels{brk: brk, cont: f.labels - 1})
		f.stmts(s.Body)
		f.close()
		f.loops[len(f.loops)-1].cont = -1 // no continue in post
		f.stmts(s.Post)
		f.loops = f.loops[:len(f.loops)-1]
		c.Br(f.depth(top))
		f.close()
		f.close()
	case *check.BranchStmt:
		l := f.loops[len(f.loops)-1]
		if s.Break {
			c.Br(f.depth(l.brk))
		} else {
			c.Br(f.depth(l.cont))
		}
	case *check.BlockStmt:
		f.stmts(s.Body)
	}
}

// returnZero returns the zero value of the proc's result.
func (f *fn) returnZero() {
	f.zero(f.proc.Result)
	f.c.Return()
}

func (f *fn) zero(t check.Type) {
	switch valType(t) {
	case wasm.I64:
		f.c.I64Const(0)
	case wasm.F64:
		f.c.F64Const(0)
	default:
		if t != check.Unit {
			f.c.I32Const(0)
		}
	}
}

// failCheck returns at once when the call just made failed.
func (f *fn) failCheck() {
	f.c.GlobalGet(gFailed)
	f.c.If(wasm.BlockEmpty)
	f.returnZero()
	f.c.End()
}

func (f *fn) expr(e check.Expr) {
	c := f.c
	switch e := e.(type) {
	case *check.Const:
		switch e.T {
		case check.I64:
			c.I64Const(e.Int)
		case check.F64:
			c.F64Const(e.Float)
		case check.Str:
			c.I64Const(f.g.str(e.Str))
		default:
			c.I32Const(int32(e.Int))
		}
	case *check.LocalRef:
		c.LocalGet(uint32(e.Var.Index))
	case *check.Unary:
		f.unary(e)
	case *check.Binary:
		f.binary(e)
	case *check.Logical:
		f.expr(e.X)
		c.If(wasm.BlockI32)
		f.open()
		if e.And {
			f.expr(e.Y)
			c.Else()
			c.I32Const(0)
		} else {
			c.I32Const(1)
			c.Else()
			f.expr(e.Y)
		}
		f.close()
	case *check.Concat:
		f.expr(e.X)
		f.expr(e.Y)
		c.Call(f.g.helper("concat"))
	case *check.Convert:
		f.expr(e.X)
		convert(c, e.X.Type(), e.To)
	case *check.Call:
		for _, a := range e.Args {
			f.expr(a)
		}
		c.Call(f.g.procs[e.Proc])
		if e.Proc.MayFail {
			f.failCheck()
		}
	case *check.BuiltinCall:
		f.builtin(e)
	}
}

func (f *fn) unary(e *check.Unary) {
	c := f.c
	t := e.X.Type()
	switch e.Op {
	case check.Neg:
		switch t {
		case check.F64:
			f.expr(e.X)
			c.Op(wasm.F64Neg)
		case check.I64:
			c.I64Const(0)
			f.expr(e.X)
			c.Op(wasm.I64Sub)
		default:
			c.I32Const(0)
			f.expr(e.X)
			c.Op(wasm.I32Sub)
		}
	case check.Not:
		f.expr(e.X)
		c.Op(wasm.I32Eqz)
	case check.BitNot:
		f.expr(e.X)
		if t == check.I64 {
			c.I64Const(-1)
			c.Op(wasm.I64Xor)
		} else {
			c.I32Const(-1)
			c.Op(wasm.I32Xor)
		}
	}
}

// Opcodes of the binary operators by operand type.
var (
	i32Ops = map[check.BinaryOp]wasm.Op{
		check.Add: wasm.I32Add, check.Sub: wasm.I32Sub, check.Mul: wasm.I32Mul, check.Div: wasm.I32DivS,
		check.Rem: wasm.I32RemS, check.And: wasm.I32And, check.Or: wasm.I32Or, check.Xor: wasm.I32Xor,
		check.Shl: wasm.I32Shl, check.Shr: wasm.I32ShrS, check.Eq: wasm.I32Eq, check.Ne: wasm.I32Ne,
		check.Lt: wasm.I32LtS, check.Le: wasm.I32LeS, check.Gt: wasm.I32GtS, check.Ge: wasm.I32GeS,
	}
	i64Ops = map[check.BinaryOp]wasm.Op{
		check.Add: wasm.I64Add, check.Sub: wasm.I64Sub, check.Mul: wasm.I64Mul, check.Div: wasm.I64DivS,
		check.Rem: wasm.I64RemS, check.And: wasm.I64And, check.Or: wasm.I64Or, check.Xor: wasm.I64Xor,
		check.Shl: wasm.I64Shl, check.Shr: wasm.I64ShrS, check.Eq: wasm.I64Eq, check.Ne: wasm.I64Ne,
		check.Lt: wasm.I64LtS, check.Le: wasm.I64LeS, check.Gt: wasm.I64GtS, check.Ge: wasm.I64GeS,
	}
	f64Ops = map[check.BinaryOp]wasm.Op{
		check.Add: wasm.F64Add, check.Sub: wasm.F64Sub, check.Mul: wasm.F64Mul, check.Div: wasm.F64Div,
		check.Eq: wasm.F64Eq, check.Ne: wasm.F64Ne, check.Lt: wasm.F64Lt, check.Le: wasm.F64Le,
		check.Gt: wasm.F64Gt, check.Ge: wasm.F64Ge,
	}
)

func (f *fn) binary(e *check.Binary) {
	c := f.c
	f.expr(e.X)
	f.expr(e.Y)
	switch e.X.Type() {
	case check.Str:
		// str_cmp gives -1, 0 or 1; compare that with 0.
		c.Call(f.g.helper("str_cmp"))
		c.I32Const(0)
		c.Op(i32Ops[e.Op])
	case check.I64:
		c.Op(i64Ops[e.Op])
	case check.F64:
		c.Op(f64Ops[e.Op])
	default: // i32, bool
		c.Op(i32Ops[e.Op])
	}
}

// convert converts the value on the stack (as). Float to integer
// conversions saturate: NaN is 0, out-of-range values clamp.
func convert(c *wasm.Code, from, to check.Type) {
	switch to {
	case check.I32:
		switch from {
		case check.I64:
			c.Op(wasm.I32WrapI64)
		case check.F64:
			c.I32TruncSatF64S()
		}
	case check.I64:
		switch from {
		case check.I32:
			c.Op(wasm.I64ExtendI32S)
		case check.Bool:
			c.Op(wasm.I64ExtendI32U)
		case check.F64:
			c.I64TruncSatF64S()
		}
	case check.F64:
		switch from {
		case check.I32:
			c.Op(wasm.F64ConvertI32S)
		case check.Bool:
			c.Op(wasm.F64ConvertI32U)
		case check.I64:
			c.Op(wasm.F64ConvertI64S)
		}
	}
}

var logLevels = map[check.Builtin]abi.Level{
	check.BLogTrace: abi.LevelTrace, check.BLogDebug: abi.LevelDebug, check.BLogInfo: abi.LevelInfo,
	check.BLogWarn: abi.LevelWarn, check.BLogError: abi.LevelError,
}

func (f *fn) builtin(e *check.BuiltinCall) {
	c, g := f.c, f.g
	args := func() {
		for _, a := range e.Args {
			f.expr(a)
		}
	}
	switch e.B {
	case check.BPrint, check.BPrintln, check.BEprint, check.BEprintln:
		args()
		fd, nl := int32(1), int32(0)
		if e.B == check.BEprint || e.B == check.BEprintln {
			fd = 2
		}
		if e.B == check.BPrintln || e.B == check.BEprintln {
			nl = 1
		}
		c.I32Const(fd)
		c.I32Const(nl)
		c.Call(g.helper("write"))
	case check.BLogTrace, check.BLogDebug, check.BLogInfo, check.BLogWarn, check.BLogError:
		c.I32Const(int32(logLevels[e.B]))
		args()
		c.Call(g.helper("log"))
	case check.BConfig:
		args()
		c.I64Const(0)
		c.I32Const(0)
		c.Call(g.helper("config"))
	case check.BConfigOr:
		args()
		c.I32Const(0)
		c.Call(g.helper("config"))
	case check.BHasConfig:
		args()
		c.I64Const(0)
		c.I32Const(1)
		c.Call(g.helper("config"))
		c.Op(wasm.I32WrapI64)
	case check.BHostCall:
		args()
		c.Call(g.helper("host_call"))
		f.failCheck()
	case check.BLen:
		args()
		strLen(c)
	case check.BByteAt:
		args()
		c.Call(g.helper("byte_at"))
	case check.BSlice:
		args()
		c.Call(g.helper("slice"))
	case check.BFromByte:
		args()
		c.Call(g.helper("from_byte"))
	case check.BI32ToStr:
		args()
		c.Op(wasm.I64ExtendI32S)
		c.Call(g.helper("itoa"))
	case check.BI64ToStr:
		args()
		c.Call(g.helper("itoa"))
	case check.BBoolToStr:
		c.I64Const(g.str("true"))
		c.I64Const(g.str("false"))
		args()
		c.Select()
	}
}
