package check

import (
	"fmt"
	"math"
	"strconv"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
)

// bad is the value of an expression with an error.
var bad = &Const{T: Invalid}

// assignable checks that x can be used where a want is expected and
// returns it (or bad, after reporting the mismatch).
func (c *checker) assignable(x Expr, want Type, at syntax.Pos, format string, args ...any) Expr {
	got := x.Type()
	if got == want || got == Invalid || want == Invalid {
		return x
	}
	where := fmt.Sprintf(format, args...)
	switch {
	case got == Unit:
		c.errorf(at, "expected a %s value in %s, but this call gives no value", want, where)
	case got.IsNumeric() && want.IsNumeric():
		c.errorf(at, "mismatched types: expected %s in %s, found %s: convert with as %s", want, where, got, want)
	case want == Str && got != Str:
		c.errorf(at, "mismatched types: expected str in %s, found %s: convert with to_str(x)", where, got)
	default:
		c.errorf(at, "mismatched types: expected %s in %s, found %s", want, where, got)
	}
	return bad
}

// expr checks an expression. want is the type the context expects, or
// Invalid; integer literals take it (an unsuffixed literal is i32
// otherwise).
func (c *checker) expr(e syntax.Expr, want Type) Expr {
	switch e := e.(type) {
	case *syntax.BadExpr:
		return bad
	case *syntax.IntLit:
		return c.intLit(e, want, false)
	case *syntax.FloatLit:
		v, err := strconv.ParseFloat(e.Digits, 64)
		if err != nil && !math.IsInf(v, 0) {
			c.errorf(e.At, "invalid float literal %s", e.Text)
			return bad
		}
		if math.IsInf(v, 0) {
			c.errorf(e.At, "float literal %s is too large for f64", e.Text)
			return bad
		}
		return &Const{T: F64, Float: v}
	case *syntax.StringLit:
		return strConst(e.Value)
	case *syntax.CharLit:
		t := I32
		if want == I64 {
			t = I64
		}
		return &Const{T: t, Int: int64(e.Value)}
	case *syntax.BoolLit:
		if e.Value {
			return &Const{T: Bool, Int: 1}
		}
		return &Const{T: Bool}
	case *syntax.Ident:
		return c.ident(e)
	case *syntax.ParenExpr:
		return c.expr(e.X, want)
	case *syntax.UnaryExpr:
		return c.unary(e, want)
	case *syntax.BinaryExpr:
		return c.binary(e, want)
	case *syntax.CastExpr:
		return c.cast(e)
	case *syntax.CallExpr:
		return c.call(e, want)
	case *syntax.IndexExpr:
		s := c.expr(e.X, Str)
		i := c.expr(e.Index, I32)
		if s.Type() != Str && s.Type() != Invalid {
			c.errorf(e.X.Pos(), "cannot index a value of type %s: only strings can be indexed (s[i] is the byte at i)", s.Type())
			return bad
		}
		i = c.assignable(i, I32, e.Index.Pos(), "the index")
		if s.Type() == Invalid || i.Type() == Invalid {
			return bad
		}
		c.use(BByteAt)
		return &BuiltinCall{B: BByteAt, Args: []Expr{s, i}, T: I32}
	case *syntax.RangeExpr:
		c.errorf(e.OpPos, "a range a..b can only be the iterable of a for loop")
		return bad
	}
	c.errorf(e.Pos(), "unsupported expression")
	return bad
}

func (c *checker) intLit(e *syntax.IntLit, want Type, negated bool) Expr {
	u, err := strconv.ParseUint(e.Digits, 0, 64)
	if err != nil {
		return bad // reported by the lexer
	}
	t := I32
	switch e.Suffix {
	case "i32":
		t = I32
	case "i64", "int":
		t = I64
	case "":
		switch want {
		case I64, F64:
			t = want
		}
	}
	text := e.Text
	if negated {
		text = "-" + text
	}
	switch t {
	case F64:
		v := float64(u)
		if negated {
			v = -v
		}
		return &Const{T: F64, Float: v}
	case I32:
		limit := uint64(math.MaxInt32)
		if negated {
			limit++
		}
		if u > limit {
			hint := fmt.Sprintf(": write %si64 or use the type i64", text)
			if e.Suffix != "" {
				hint = ""
			}
			c.errorf(e.At, "integer literal %s overflows i32 (from -2147483648 to 2147483647)%s", text, hint)
			return bad
		}
	case I64:
		limit := uint64(math.MaxInt64)
		if negated {
			limit++
		}
		if u > limit {
			c.errorf(e.At, "integer literal %s overflows i64 (from -9223372036854775808 to 9223372036854775807)", text)
			return bad
		}
	}
	v := int64(u)
	if negated {
		v = -v
	}
	return &Const{T: t, Int: v}
}

func (c *checker) ident(e *syntax.Ident) Expr {
	if v := c.lookup(e.Name); v != nil {
		if v.Type == Invalid {
			return bad
		}
		return &LocalRef{Var: v}
	}
	if _, ok := c.consts[e.Name]; ok {
		k := c.resolveConst(e.Name)
		if k == nil {
			return bad
		}
		return k
	}
	if _, ok := c.procs[e.Name]; ok {
		c.errorf(e.NamePos, "proc %s is not a value: call it, as in %s(...)", e.Name, e.Name)
		return bad
	}
	if _, ok := builtins[e.Name]; ok {
		c.errorf(e.NamePos, "built-in %s is not a value: call it, as in %s(...)", e.Name, e.Name)
		return bad
	}
	if !c.partial {
		c.errorf(e.NamePos, "undefined name %s", e.Name)
	}
	return bad
}

func (c *checker) lookup(name string) *Var {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v, ok := c.scopes[i][name]; ok {
			return v
		}
	}
	return nil
}

// resolveConst checks a constant's value the first time it is needed.
func (c *checker) resolveConst(name string) *Const {
	k := c.consts[name]
	switch k.state {
	case 2:
		return k.value
	case 1:
		c.errorf(k.decl.Name.NamePos, "constant %s refers to itself", name)
		k.state = 2
		return nil
	}
	k.state = 1
	d := k.decl
	want := Invalid
	if d.Type != nil {
		want = c.typeOf(d.Type)
	}
	// A constant sees no local variable.
	saved := c.scopes
	c.scopes = nil
	x := c.expr(d.Value, want)
	c.scopes = saved
	if d.Type != nil {
		x = c.assignable(x, want, d.Value.Pos(), "the value of constant %s", name)
	}
	if k.state == 2 {
		return k.value
	}
	k.state = 2
	v, ok := x.(*Const)
	switch {
	case x.Type() == Invalid:
		return nil
	case !ok:
		c.errorf(d.Value.Pos(), "the value of constant %s must be known at compile time: use literals, other constants and operators", name)
		return nil
	case v.Type() == Unit:
		return nil
	}
	k.value = v
	return v
}

func (c *checker) unary(e *syntax.UnaryExpr, want Type) Expr {
	if e.Op == syntax.Minus {
		if lit, ok := unparen(e.X).(*syntax.IntLit); ok {
			return c.intLit(lit, want, true)
		}
	}
	x := c.expr(e.X, want)
	t := x.Type()
	if t == Invalid {
		return bad
	}
	k, isConst := x.(*Const)
	switch e.Op {
	case syntax.Minus:
		if !t.IsNumeric() {
			c.errorf(e.OpPos, "operator - needs a number, found %s", t)
			return bad
		}
		if isConst {
			switch t {
			case F64:
				return &Const{T: F64, Float: -k.Float}
			case I32:
				return &Const{T: I32, Int: int64(-int32(k.Int))}
			default:
				return &Const{T: I64, Int: -k.Int}
			}
		}
		return &Unary{Op: Neg, X: x}
	case syntax.KwNot:
		if t != Bool {
			c.errorf(e.OpPos, "operator not needs a bool, found %s: compare the value, as in x != 0", t)
			return bad
		}
	case syntax.Bang:
		if t.IsInt() {
			if isConst {
				if t == I32 {
					return &Const{T: I32, Int: int64(^int32(k.Int))}
				}
				return &Const{T: I64, Int: ^k.Int}
			}
			return &Unary{Op: BitNot, X: x}
		}
		if t != Bool {
			c.errorf(e.OpPos, "operator ! needs a bool or an integer, found %s", t)
			return bad
		}
	}
	if isConst {
		return &Const{T: Bool, Int: 1 - k.Int}
	}
	return &Unary{Op: Not, X: x}
}

var binaryOps = map[syntax.Kind]BinaryOp{
	syntax.Plus: Add, syntax.Minus: Sub, syntax.Star: Mul, syntax.Slash: Div, syntax.Percent: Rem,
	syntax.Amp: And, syntax.Pipe: Or, syntax.Caret: Xor, syntax.Shl: Shl, syntax.Shr: Shr,
	syntax.Eq: Eq, syntax.NotEq: Ne, syntax.Lt: Lt, syntax.LtEq: Le, syntax.Gt: Gt, syntax.GtEq: Ge,
}

var opText = map[syntax.Kind]string{
	syntax.Plus: "+", syntax.Minus: "-", syntax.Star: "*", syntax.Slash: "/", syntax.Percent: "%",
	syntax.Amp: "&", syntax.Pipe: "|", syntax.Caret: "^", syntax.Shl: "<<", syntax.Shr: ">>",
	syntax.Eq: "==", syntax.NotEq: "!=", syntax.Lt: "<", syntax.LtEq: "<=", syntax.Gt: ">", syntax.GtEq: ">=",
	syntax.KwAnd: "and", syntax.AndAnd: "&&", syntax.KwOr: "or", syntax.OrOr: "||",
}

// untyped reports whether x is an unsuffixed number literal, whose type
// comes from the other operand.
func untyped(x syntax.Expr) bool {
	switch x := unparen(x).(type) {
	case *syntax.IntLit:
		return x.Suffix == ""
	case *syntax.CharLit:
		return true
	case *syntax.UnaryExpr:
		return x.Op == syntax.Minus && untyped(x.X)
	}
	return false
}

func (c *checker) binary(e *syntax.BinaryExpr, want Type) Expr {
	op := opText[e.Op]
	switch e.Op {
	case syntax.KwAnd, syntax.AndAnd, syntax.KwOr, syntax.OrOr:
		x := c.expr(e.X, Bool)
		y := c.expr(e.Y, Bool)
		ok := true
		for _, side := range []struct {
			x  Expr
			at syntax.Pos
		}{{x, e.X.Pos()}, {y, e.Y.Pos()}} {
			if t := side.x.Type(); t != Bool && t != Invalid {
				c.errorf(side.at, "operator %s needs bool operands, found %s", op, t)
				ok = false
			}
		}
		if !ok || x.Type() == Invalid || y.Type() == Invalid {
			return bad
		}
		and := e.Op == syntax.KwAnd || e.Op == syntax.AndAnd
		if kx, isK := x.(*Const); isK {
			if and == (kx.Int != 0) {
				return y // true and y, false or y
			}
			return x
		}
		return &Logical{And: and, X: x, Y: y}
	}
	bop := binaryOps[e.Op]
	// An untyped literal takes the other operand's type.
	hint := Invalid
	if !bop.IsCompare() {
		hint = want
	}
	var x, y Expr
	if untyped(e.X) && !untyped(e.Y) {
		y = c.expr(e.Y, hint)
		x = c.expr(e.X, y.Type())
	} else {
		x = c.expr(e.X, hint)
		y = c.expr(e.Y, x.Type())
	}
	tx, ty := x.Type(), y.Type()
	if tx == Invalid || ty == Invalid {
		return bad
	}
	if tx != ty {
		switch {
		case tx == Str || ty == Str:
			c.errorf(e.OpPos, "mismatched types: %s %s %s: convert the other side with to_str(x)", tx, op, ty)
		case tx.IsNumeric() && ty.IsNumeric():
			c.errorf(e.OpPos, "mismatched types: %s %s %s: convert one side with as, as in x as %s", tx, op, ty, widest(tx, ty))
		default:
			c.errorf(e.OpPos, "mismatched types: %s %s %s", tx, op, ty)
		}
		return bad
	}
	t := tx
	switch bop {
	case Add:
		if t == Str {
			return concat(x, y)
		}
		fallthrough
	case Sub, Mul, Div:
		if !t.IsNumeric() {
			c.errorf(e.OpPos, "operator %s is not defined on %s", op, t)
			return bad
		}
	case Rem, And, Or, Xor, Shl, Shr:
		if !t.IsInt() {
			c.errorf(e.OpPos, "operator %s is not defined on %s: it needs integers", op, t)
			return bad
		}
	case Eq, Ne:
		if t == Unit {
			c.errorf(e.OpPos, "operator %s: these calls give no value to compare", op)
			return bad
		}
	case Lt, Le, Gt, Ge:
		if t == Bool || t == Unit {
			c.errorf(e.OpPos, "operator %s is not defined on %s", op, t)
			return bad
		}
	}
	if (bop == Div || bop == Rem) && t.IsInt() {
		if ky, ok := y.(*Const); ok && ky.Int == 0 {
			c.errorf(e.Y.Pos(), "division by zero")
			return bad
		}
	}
	if k := fold(bop, x, y); k != nil {
		return k
	}
	return &Binary{Op: bop, X: x, Y: y}
}

func widest(a, b Type) Type {
	if a == F64 || b == F64 {
		return F64
	}
	return I64
}

// fold computes a binary operation on two constants, with the wrapping
// arithmetic of the target. It returns nil when an operand is not a
// constant (or the operation would trap, like MinInt / -1).
func fold(op BinaryOp, x, y Expr) *Const {
	kx, ok1 := x.(*Const)
	ky, ok2 := y.(*Const)
	if !ok1 || !ok2 {
		return nil
	}
	b := func(v bool) *Const {
		if v {
			return &Const{T: Bool, Int: 1}
		}
		return &Const{T: Bool}
	}
	switch t := kx.T; t {
	case Str:
		switch op {
		case Eq:
			return b(kx.Str == ky.Str)
		case Ne:
			return b(kx.Str != ky.Str)
		case Lt:
			return b(kx.Str < ky.Str)
		case Le:
			return b(kx.Str <= ky.Str)
		case Gt:
			return b(kx.Str > ky.Str)
		case Ge:
			return b(kx.Str >= ky.Str)
		}
	case F64:
		a, c := kx.Float, ky.Float
		switch op {
		case Add:
			return &Const{T: F64, Float: a + c}
		case Sub:
			return &Const{T: F64, Float: a - c}
		case Mul:
			return &Const{T: F64, Float: a * c}
		case Div:
			return &Const{T: F64, Float: a / c}
		case Eq:
			return b(a == c)
		case Ne:
			return b(a != c)
		case Lt:
			return b(a < c)
		case Le:
			return b(a <= c)
		case Gt:
			return b(a > c)
		case Ge:
			return b(a >= c)
		}
	case Bool:
		switch op {
		case Eq:
			return b(kx.Int == ky.Int)
		case Ne:
			return b(kx.Int != ky.Int)
		}
	case I32, I64:
		a, c := kx.Int, ky.Int
		bits := 64
		if t == I32 {
			bits = 32
		}
		wrap := func(v int64) *Const {
			if t == I32 {
				v = int64(int32(v))
			}
			return &Const{T: t, Int: v}
		}
		min := int64(math.MinInt64)
		if t == I32 {
			min = math.MinInt32
		}
		switch op {
		case Add:
			return wrap(a + c)
		case Sub:
			return wrap(a - c)
		case Mul:
			return wrap(a * c)
		case Div, Rem:
			if c == 0 || a == min && c == -1 {
				return nil
			}
			if op == Div {
				return wrap(a / c)
			}
			return wrap(a % c)
		case And:
			return wrap(a & c)
		case Or:
			return wrap(a | c)
		case Xor:
			return wrap(a ^ c)
		case Shl:
			return wrap(a << (uint64(c) % uint64(bits)))
		case Shr:
			if t == I32 {
				return wrap(int64(int32(a) >> (uint64(c) % 32)))
			}
			return wrap(a >> (uint64(c) % 64))
		case Eq:
			return b(a == c)
		case Ne:
			return b(a != c)
		case Lt:
			return b(a < c)
		case Le:
			return b(a <= c)
		case Gt:
			return b(a > c)
		case Ge:
			return b(a >= c)
		}
	}
	return nil
}

func (c *checker) cast(e *syntax.CastExpr) Expr {
	to := c.typeOf(e.Type)
	// Only a bare integer literal takes the target type (3000000000 as
	// i64); anything else is typed on its own, then converted.
	hint := Invalid
	if untyped(e.X) && to.IsInt() {
		hint = to
	}
	x := c.expr(e.X, hint)
	from := x.Type()
	if from == Invalid || to == Invalid {
		return bad
	}
	if from == to {
		return x
	}
	switch {
	case from == Str:
		c.errorf(e.AsAt, "cannot convert str to %s with as: strings are not numbers", to)
		return bad
	case to == Str:
		c.errorf(e.AsAt, "cannot convert %s to str with as: use to_str(x)", from)
		return bad
	case to == Bool:
		c.errorf(e.AsAt, "cannot convert %s to bool with as: compare it, as in x != 0", from)
		return bad
	case from == Unit || to == Unit:
		c.errorf(e.AsAt, "cannot convert %s to %s", from, to)
		return bad
	}
	if k, ok := x.(*Const); ok {
		switch {
		case to == F64 && from != F64:
			return &Const{T: F64, Float: float64(k.Int)}
		case to == I32 && from != F64:
			return &Const{T: I32, Int: int64(int32(k.Int))}
		case to == I64 && from != F64:
			return &Const{T: I64, Int: k.Int}
		}
	}
	return &Convert{X: x, To: to}
}
