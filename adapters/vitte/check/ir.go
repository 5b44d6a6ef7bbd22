package check

import "github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"

// Type is a Vitte type the compiler supports.
type Type uint8

// Types. Invalid marks an expression that already has an error, so that
// one mistake is reported once.
const (
	Invalid Type = iota
	Unit
	Bool
	I32
	I64
	F64
	Str
)

var typeNames = [...]string{Invalid: "invalid", Unit: "()", Bool: "bool", I32: "i32", I64: "i64", F64: "f64", Str: "str"}

// String returns the type's name in the language.
func (t Type) String() string { return typeNames[t] }

// IsInt reports whether t is i32 or i64.
func (t Type) IsInt() bool { return t == I32 || t == I64 }

// IsNumeric reports whether t is i32, i64 or f64.
func (t Type) IsNumeric() bool { return t == I32 || t == I64 || t == F64 }

// Program is a checked source file, ready for code generation.
type Program struct {
	// Procs holds every proc, in source order.
	Procs []*Proc
	// Plugin holds the manifest fields given by the plugin attributes; nil
	// when the file has no #[plugin] or #![plugin].
	Plugin *Plugin
	// OnLoad and OnUnload are the hooks, or nil.
	OnLoad, OnUnload *Proc
	// Exports are the handlers, in source order.
	Exports []*Export
	// Uses records the built-ins the program calls, so that the module
	// imports only what it needs.
	Uses map[Builtin]bool
}

// Plugin is what the plugin attributes say about the manifest.
type Plugin struct {
	At          syntax.Pos
	Name        string
	Version     string
	Description string
	License     string
	Homepage    string
	Authors     []string
	// Config holds #![config(key = "value")] defaults, in source order.
	Config []KeyValue
	// Host holds the host-call patterns of #![capabilities(host = [...])].
	Host []string
	// Limits holds #![limits(memory = "...", timeout = "...", output = "...")].
	Limits []KeyValue
	// KeyPos locates each manifest key given by an attribute
	// ("plugin.version", "config.greeting", "capabilities.host[0]"), so
	// that a manifest problem can point at the source.
	KeyPos map[string]syntax.Pos
}

// KeyValue is one key = "value" pair of an attribute.
type KeyValue struct {
	At         syntax.Pos
	Key, Value string
}

// Export is a handler: a proc exported under a name.
type Export struct {
	At          syntax.Pos
	Name        string
	Description string
	Proc        *Proc
}

// Proc is a checked procedure.
type Proc struct {
	Name   string
	At     syntax.Pos
	Params []*Var
	Result Type
	// Locals holds every variable of the proc, parameters first; a Var's
	// Index is its place here.
	Locals []*Var
	Body   []Stmt
	// MayFail reports whether the proc can end with an error: it calls
	// fail or host_call, or a proc that may fail.
	MayFail bool

	decl  *syntax.ProcDecl
	calls []*Proc
}

// Var is a local variable or parameter.
type Var struct {
	Name  string
	Type  Type
	Index int
}

// Stmt is a checked statement.
type Stmt interface{ stmt() }

// SetStmt stores a value in a variable (let, set, assignment).
type SetStmt struct {
	Var   *Var
	Value Expr
}

// ExprStmt evaluates an expression and drops its value.
type ExprStmt struct{ X Expr }

// ReturnStmt gives a value back (Value is nil in a proc without result).
type ReturnStmt struct{ Value Expr }

// FailStmt ends the current handler or hook with an error result.
type FailStmt struct{ Msg Expr }

// IfStmt runs Then or Else.
type IfStmt struct {
	Cond       Expr
	Then, Else []Stmt
}

// LoopStmt runs Body while Cond holds (forever when Cond is nil). Post runs
// after each iteration, continue included; a break in Post leaves the loop.
type LoopStmt struct {
	Cond Expr
	Body []Stmt
	Post []Stmt

	hasBreak bool
}

// BranchStmt is break or continue of the innermost loop.
type BranchStmt struct{ Break bool }

// BlockStmt is a nested block.
type BlockStmt struct{ Body []Stmt }

func (*SetStmt) stmt()    {}
func (*ExprStmt) stmt()   {}
func (*ReturnStmt) stmt() {}
func (*FailStmt) stmt()   {}
func (*IfStmt) stmt()     {}
func (*LoopStmt) stmt()   {}
func (*BranchStmt) stmt() {}
func (*BlockStmt) stmt()  {}

// Expr is a checked, typed expression.
type Expr interface{ Type() Type }

// Const is a constant: Int holds integers and booleans (0 or 1), Float an
// f64, Str a string.
type Const struct {
	T     Type
	Int   int64
	Float float64
	Str   string
}

// LocalRef reads a variable.
type LocalRef struct{ Var *Var }

// UnaryOp is a unary operator.
type UnaryOp int

// Unary operators.
const (
	Neg    UnaryOp = iota // -x
	Not                   // not x, !x on bool
	BitNot                // !x on an integer
)

// Unary applies a unary operator.
type Unary struct {
	Op UnaryOp
	X  Expr
}

// BinaryOp is a binary operator.
type BinaryOp int

// Binary operators. Both operands have the same type.
const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
	Rem
	And // bitwise
	Or  // bitwise
	Xor
	Shl
	Shr
	Eq
	Ne
	Lt
	Le
	Gt
	Ge
)

// IsCompare reports whether op compares and gives a bool.
func (op BinaryOp) IsCompare() bool { return op >= Eq }

// Binary applies a binary operator to operands of one type (strings: only
// comparisons; Concat joins them).
type Binary struct {
	Op   BinaryOp
	X, Y Expr
}

// Logical is a short-circuit and/or.
type Logical struct {
	And  bool
	X, Y Expr
}

// Concat joins two strings.
type Concat struct{ X, Y Expr }

// Convert converts a number or bool to another numeric type (as).
type Convert struct {
	X  Expr
	To Type
}

// Call calls a proc.
type Call struct {
	Proc *Proc
	Args []Expr
}

// BuiltinCall calls a built-in.
type BuiltinCall struct {
	B    Builtin
	Args []Expr
	T    Type
}

func (e *Const) Type() Type    { return e.T }
func (e *LocalRef) Type() Type { return e.Var.Type }
func (e *Unary) Type() Type {
	if e.Op == Not {
		return Bool
	}
	return e.X.Type()
}
func (e *Binary) Type() Type {
	if e.Op.IsCompare() {
		return Bool
	}
	return e.X.Type()
}
func (e *Logical) Type() Type     { return Bool }
func (e *Concat) Type() Type      { return Str }
func (e *Convert) Type() Type     { return e.To }
func (e *Call) Type() Type        { return e.Proc.Result }
func (e *BuiltinCall) Type() Type { return e.T }

// Builtin is a built-in procedure.
type Builtin int

// Built-ins. The comment gives the Vitte signature.
const (
	BPrint     Builtin = iota // print(s: str): WASI stdout
	BPrintln                  // println(s: str)
	BEprint                   // eprint(s: str): WASI stderr
	BEprintln                 // eprintln(s: str)
	BLogTrace                 // log_trace(s: str): host log
	BLogDebug                 // log_debug(s: str)
	BLogInfo                  // log_info(s: str)
	BLogWarn                  // log_warn(s: str)
	BLogError                 // log_error(s: str)
	BConfig                   // config(key: str) -> str: "" when unset
	BConfigOr                 // config_or(key: str, fallback: str) -> str
	BHasConfig                // has_config(key: str) -> bool
	BHostCall                 // host_call(name: str, payload: str) -> str; an error result fails the caller
	BLen                      // len(s: str) -> i32
	BByteAt                   // byte_at(s: str, i: i32) -> i32; s[i]
	BSlice                    // slice(s: str, from: i32, to: i32) -> str
	BFromByte                 // from_byte(b: i32) -> str
	BI32ToStr                 // to_str(i32) -> str
	BI64ToStr                 // to_str(i64) -> str
	BBoolToStr                // to_str(bool) -> str
	numBuiltins
)
