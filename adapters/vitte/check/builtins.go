package check

import (
	"strings"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
)

// builtinKind tells how a built-in's arguments are checked.
type builtinKind int

const (
	// fixed: the parameters are listed in params.
	fixed builtinKind = iota
	// formatted: a format string and its values ("{}" placeholders), or a
	// single value of any printable type.
	formatted
	// toStr: one value of any printable type.
	toStr
)

type builtinSpec struct {
	kind   builtinKind
	b      Builtin // for fixed and formatted
	params []Type  // fixed
	result Type
	// fail: the built-in is fail: a statement ending the handler.
	fail bool
	// format: the built-in is format: it only builds the string.
	format bool
	sig    string // for messages
}

// builtins are the built-in procs, by name. The bang forms (println!) are
// the same procs.
var builtins = map[string]*builtinSpec{
	"print":      {kind: formatted, b: BPrint, result: Unit, sig: "print(s: str)"},
	"println":    {kind: formatted, b: BPrintln, result: Unit, sig: "println(s: str)"},
	"eprint":     {kind: formatted, b: BEprint, result: Unit, sig: "eprint(s: str)"},
	"eprintln":   {kind: formatted, b: BEprintln, result: Unit, sig: "eprintln(s: str)"},
	"log_trace":  {kind: formatted, b: BLogTrace, result: Unit, sig: "log_trace(s: str)"},
	"log_debug":  {kind: formatted, b: BLogDebug, result: Unit, sig: "log_debug(s: str)"},
	"log_info":   {kind: formatted, b: BLogInfo, result: Unit, sig: "log_info(s: str)"},
	"log_warn":   {kind: formatted, b: BLogWarn, result: Unit, sig: "log_warn(s: str)"},
	"log_error":  {kind: formatted, b: BLogError, result: Unit, sig: "log_error(s: str)"},
	"format":     {kind: formatted, result: Str, format: true, sig: "format(fmt: str, values...) -> str"},
	"fail":       {kind: formatted, result: Unit, fail: true, sig: "fail(message: str)"},
	"panic":      {kind: formatted, result: Unit, fail: true, sig: "panic(message: str)"},
	"config":     {kind: fixed, b: BConfig, params: []Type{Str}, result: Str, sig: "config(key: str) -> str"},
	"config_or":  {kind: fixed, b: BConfigOr, params: []Type{Str, Str}, result: Str, sig: "config_or(key: str, fallback: str) -> str"},
	"has_config": {kind: fixed, b: BHasConfig, params: []Type{Str}, result: Bool, sig: "has_config(key: str) -> bool"},
	"host_call":  {kind: fixed, b: BHostCall, params: []Type{Str, Str}, result: Str, sig: "host_call(name: str, payload: str) -> str"},
	"len":        {kind: fixed, b: BLen, params: []Type{Str}, result: I32, sig: "len(s: str) -> i32"},
	"byte_at":    {kind: fixed, b: BByteAt, params: []Type{Str, I32}, result: I32, sig: "byte_at(s: str, i: i32) -> i32"},
	"slice":      {kind: fixed, b: BSlice, params: []Type{Str, I32, I32}, result: Str, sig: "slice(s: str, from: i32, to: i32) -> str"},
	"from_byte":  {kind: fixed, b: BFromByte, params: []Type{I32}, result: Str, sig: "from_byte(b: i32) -> str"},
	"to_str":     {kind: toStr, result: Str, sig: "to_str(x) -> str"},
	"to_string":  {kind: toStr, result: Str, sig: "to_string(x) -> str"},
	"str":        {kind: toStr, result: Str, sig: "str(x) -> str"},
}

// call checks a call of a built-in or a proc.
func (c *checker) call(e *syntax.CallExpr, want Type) Expr {
	name := e.Fun.Name
	if spec, ok := builtins[name]; ok {
		if spec.fail {
			c.errorf(e.Fun.NamePos, "%s ends the handler and gives no value: use it as a statement, %s(\"message\")", name, name)
			c.args(e, nil)
			return bad
		}
		return c.builtin(e, spec)
	}
	if e.Bang {
		c.errorf(e.Fun.NamePos, "unknown macro %s!: the macros are println!, print!, eprintln!, eprint!, format!, panic! and the built-ins (see docs/vitte.md)", name)
		c.args(e, nil)
		return bad
	}
	p, ok := c.procs[name]
	if !ok {
		if c.lookup(name) != nil {
			c.errorf(e.Fun.NamePos, "%s is a variable, not a proc: it cannot be called", name)
		} else if c.partial {
			// The proc may be one that did not parse.
		} else if hint := rustHints[name]; hint != "" {
			c.errorf(e.Fun.NamePos, "undefined proc %s: %s", name, hint)
		} else {
			c.errorf(e.Fun.NamePos, "undefined proc %s", name)
		}
		c.args(e, nil)
		return bad
	}
	args := c.args(e, p.Params)
	if len(e.Args) != len(p.Params) {
		c.errorf(e.Rparen, "%s arguments in call to %s: expected %d %s, found %d",
			tooFewOrMany(len(e.Args), len(p.Params)), name, len(p.Params), describeParams(p), len(e.Args))
		return bad
	}
	if args == nil {
		return bad
	}
	c.proc.calls = append(c.proc.calls, p)
	if p.Result == Invalid {
		return bad
	}
	return &Call{Proc: p, Args: args}
}

// rustHints point 2025-era habits at the built-ins.
var rustHints = map[string]string{
	"write":   "use print(s)",
	"writeln": "use println(s)",
	"len_of":  "use len(s)",
	"substr":  "use slice(s, from, to)",
	"chr":     "use from_byte(b)",
}

func tooFewOrMany(got, want int) string {
	if got < want {
		return "not enough"
	}
	return "too many"
}

// args checks the arguments of a call against params (nil: check each
// argument alone). It returns nil when an argument is invalid.
func (c *checker) args(e *syntax.CallExpr, params []*Var) []Expr {
	out := make([]Expr, 0, len(e.Args))
	ok := true
	for i, a := range e.Args {
		want := Invalid
		if i < len(params) {
			want = params[i].Type
		}
		x := c.expr(a, want)
		if i < len(params) {
			x = c.assignable(x, want, a.Pos(), "argument %d of %s", i+1, e.Fun.Name)
		}
		if x.Type() == Invalid {
			ok = false
		}
		out = append(out, x)
	}
	if !ok {
		return nil
	}
	return out
}

func (c *checker) builtin(e *syntax.CallExpr, spec *builtinSpec) Expr {
	name := e.Fun.Name
	switch spec.kind {
	case toStr:
		if len(e.Args) != 1 {
			c.errorf(e.Rparen, "%s takes one value, found %d arguments", name, len(e.Args))
			c.args(e, nil)
			return bad
		}
		x := c.expr(e.Args[0], Invalid)
		return c.toStr(x, e.Args[0].Pos())
	case formatted:
		msg := c.format(e)
		if msg == nil {
			return bad
		}
		if spec.format {
			return msg
		}
		c.use(spec.b)
		return &BuiltinCall{B: spec.b, Args: []Expr{msg}, T: Unit}
	}
	// fixed
	if len(e.Args) != len(spec.params) {
		c.errorf(e.Rparen, "%s arguments in call to %s: expected %d, found %d (%s)",
			tooFewOrMany(len(e.Args), len(spec.params)), name, len(spec.params), len(e.Args), spec.sig)
		c.args(e, nil)
		return bad
	}
	args := make([]Expr, len(e.Args))
	ok := true
	for i, a := range e.Args {
		x := c.expr(a, spec.params[i])
		x = c.assignable(x, spec.params[i], a.Pos(), "argument %d of %s", i+1, name)
		ok = ok && x.Type() != Invalid
		args[i] = x
	}
	if !ok {
		return bad
	}
	c.use(spec.b)
	if spec.b == BHostCall {
		c.direct = true
	}
	return &BuiltinCall{B: spec.b, Args: args, T: spec.result}
}

func (c *checker) use(b Builtin) { c.prog.Uses[b] = true }

// toStr converts a value to its text: decimal for integers, true/false,
// strings unchanged.
func (c *checker) toStr(x Expr, at syntax.Pos) Expr {
	var b Builtin
	switch x.Type() {
	case Str:
		return x
	case I32:
		b = BI32ToStr
	case I64:
		b = BI64ToStr
	case Bool:
		b = BBoolToStr
	case F64:
		c.errorf(at, "formatting an f64 is not supported yet: convert it first, as in x as i64")
		return bad
	case Unit:
		c.errorf(at, "this call gives no value to format")
		return bad
	default:
		return bad
	}
	if k, ok := x.(*Const); ok {
		switch b {
		case BBoolToStr:
			if k.Int != 0 {
				return strConst("true")
			}
			return strConst("false")
		default:
			return strConst(itoa(k.Int))
		}
	}
	c.use(b)
	return &BuiltinCall{B: b, Args: []Expr{x}, T: Str}
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	var buf [20]byte
	i := len(buf)
	for u > 0 {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		return "-" + string(buf[i:])
	}
	return string(buf[i:])
}

func strConst(s string) *Const { return &Const{T: Str, Str: s} }

// format checks the arguments of a printing built-in and builds the
// string: format!("{} + {} = {}", a, b, a + b) becomes a concatenation of
// pieces and to_str of each value. The first argument is a format string
// in the bang form (println!) or when values follow it; println(x) prints
// x as is, whatever its type. With no argument, the string is empty.
func (c *checker) format(e *syntax.CallExpr) Expr {
	if len(e.Args) == 0 {
		return strConst("")
	}
	lit, isLit := unparen(e.Args[0]).(*syntax.StringLit)
	if !isLit || !e.Bang && len(e.Args) == 1 {
		// println(s) prints s as is; only println!(...) and calls with
		// several arguments read a format string.
		if len(e.Args) > 1 {
			c.errorf(e.Args[0].Pos(), "the first argument of %s with several arguments must be a format string literal, as in %s(\"{} {}\", a, b)", e.Fun.Name, e.Fun.Name)
			c.args(e, nil)
			return nil
		}
		x := c.expr(e.Args[0], Invalid)
		s := c.toStr(x, e.Args[0].Pos())
		if s.Type() == Invalid {
			return nil
		}
		return s
	}
	pieces, holes, err := splitFormat(lit.Value)
	if err != "" {
		c.errorf(lit.At, "format string of %s: %s", e.Fun.Name, err)
		c.args(e, nil)
		return nil
	}
	values := e.Args[1:]
	if holes != len(values) {
		if holes == 0 && len(values) > 0 {
			c.errorf(values[0].Pos(), "%s got %d value(s) but its format string has no {} placeholder for them", e.Fun.Name, len(values))
		} else {
			c.errorf(lit.At, "format string of %s has %d {} placeholder(s) but %d value(s) follow", e.Fun.Name, holes, len(values))
		}
		c.args(e, nil)
		return nil
	}
	var out Expr = strConst(pieces[0])
	ok := true
	for i, v := range values {
		x := c.toStr(c.expr(v, Invalid), v.Pos())
		if x.Type() == Invalid {
			ok = false
			continue
		}
		out = concat(out, x)
		out = concat(out, strConst(pieces[i+1]))
	}
	if !ok {
		return nil
	}
	return out
}

// maxFolded bounds the strings that constant folding builds: a chain of
// long literals is joined at run time, not in quadratic time here.
const maxFolded = 4096

// concat joins two strings, folding constants and dropping empty ones.
func concat(x, y Expr) Expr {
	kx, okx := x.(*Const)
	ky, oky := y.(*Const)
	switch {
	case okx && oky && len(kx.Str)+len(ky.Str) <= maxFolded:
		return strConst(kx.Str + ky.Str)
	case okx && kx.Str == "":
		return y
	case oky && ky.Str == "":
		return x
	}
	return &Concat{X: x, Y: y}
}

// splitFormat splits a format string at its {} placeholders; {{ and }}
// stand for braces. {:?} is a placeholder too.
func splitFormat(s string) (pieces []string, holes int, err string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			switch {
			case strings.HasPrefix(s[i:], "{{"):
				b.WriteByte('{')
				i++
			case strings.HasPrefix(s[i:], "{}"):
				pieces = append(pieces, b.String())
				b.Reset()
				holes++
				i++
			case strings.HasPrefix(s[i:], "{:?}"):
				pieces = append(pieces, b.String())
				b.Reset()
				holes++
				i += 3
			default:
				return nil, 0, "only {} placeholders are supported (write {{ for a brace)"
			}
		case '}':
			if !strings.HasPrefix(s[i:], "}}") {
				return nil, 0, "unmatched '}' (write }} for a brace)"
			}
			b.WriteByte('}')
			i++
		default:
			b.WriteByte(s[i])
		}
	}
	return append(pieces, b.String()), holes, ""
}

func unparen(x syntax.Expr) syntax.Expr {
	for {
		p, ok := x.(*syntax.ParenExpr)
		if !ok {
			return x
		}
		x = p.X
	}
}
