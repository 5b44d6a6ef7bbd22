package syntax

// Node is a node of the syntax tree.
type Node interface {
	// Pos is where the node starts; diagnostics about the node point there.
	Pos() Pos
}

// File is a parsed source file.
type File struct {
	// Attrs are the module-level attributes, #![name(...)].
	Attrs []*Attr
	Decls []Decl
	// EOF is the position of the end of the file.
	EOF Pos
}

// Decl is a top-level declaration.
type Decl interface {
	Node
	decl()
}

// Attr is an attribute: #[name], #[name(args)], or #![name(args)] when
// Inner.
type Attr struct {
	Hash  Pos
	Inner bool
	Name  *Ident
	// Parens reports whether the attribute has an argument list.
	Parens bool
	Args   []*AttrArg
}

// Pos returns the position of the '#'.
func (a *Attr) Pos() Pos { return a.Hash }

// AttrArg is one argument of an attribute: a value, or key = value.
type AttrArg struct {
	Key   *Ident // nil for a positional argument
	Value *AttrValue
}

// Pos returns the position of the key or, without one, of the value.
func (a *AttrArg) Pos() Pos {
	if a.Key != nil {
		return a.Key.NamePos
	}
	return a.Value.At
}

// AttrValueKind is the kind of an attribute value.
type AttrValueKind int

// Attribute value kinds.
const (
	AttrString AttrValueKind = iota
	AttrInt
	AttrBool
	AttrIdent
	AttrList
)

// AttrValue is a literal value in an attribute.
type AttrValue struct {
	At   Pos
	Kind AttrValueKind
	// Text is the string's value, the integer's digits, "true"/"false" or
	// the identifier.
	Text string
	List []*AttrValue
}

// Pos returns the position of the value.
func (v *AttrValue) Pos() Pos { return v.At }

// ProcDecl is a procedure: proc name(params) -> T { body }, or fn.
type ProcDecl struct {
	Attrs   []*Attr
	Keyword Pos
	Name    *Ident
	Params  []*Param
	Result  *TypeExpr // nil when the proc returns nothing
	Body    *Block
}

// Pos returns the position of the proc keyword.
func (d *ProcDecl) Pos() Pos { return d.Keyword }

// ConstDecl is const NAME: T = value.
type ConstDecl struct {
	Attrs   []*Attr
	Keyword Pos
	Name    *Ident
	Type    *TypeExpr // may be nil
	Value   Expr
}

// Pos returns the position of the const keyword.
func (d *ConstDecl) Pos() Pos { return d.Keyword }

// ModuleDecl is a space, use, pull or share declaration. The compiler
// accepts them and compiles one file.
type ModuleDecl struct {
	Keyword Pos
	Kind    Kind // KwSpace, KwUse, KwPull or KwShare
	Path    string
}

// Pos returns the position of the keyword.
func (d *ModuleDecl) Pos() Pos { return d.Keyword }

// BadDecl stands for a declaration that did not parse.
type BadDecl struct{ At Pos }

// Pos returns where the bad declaration starts.
func (d *BadDecl) Pos() Pos { return d.At }

func (*ProcDecl) decl()   {}
func (*ConstDecl) decl()  {}
func (*ModuleDecl) decl() {}
func (*BadDecl) decl()    {}

// Param is a parameter: [mut] name: T.
type Param struct {
	Name *Ident
	Type *TypeExpr
}

// Pos returns the position of the parameter's name.
func (p *Param) Pos() Pos { return p.Name.NamePos }

// TypeExpr is a type name, or () for no value.
type TypeExpr struct {
	At   Pos
	Name string // "()" for the unit type
}

// Pos returns the position of the type.
func (t *TypeExpr) Pos() Pos { return t.At }

// Block is { stmts }.
type Block struct {
	Lbrace, Rbrace Pos
	Stmts          []Stmt
}

// Pos returns the position of the '{'.
func (b *Block) Pos() Pos { return b.Lbrace }

// Stmt is a statement.
type Stmt interface {
	Node
	stmt()
}

// LetStmt is let [mut] name [: T] = value.
type LetStmt struct {
	Keyword Pos
	Mut     bool
	Name    *Ident
	Type    *TypeExpr // may be nil
	Value   Expr
}

// AssignStmt is set x = v, x = v or x op= v.
type AssignStmt struct {
	At     Pos  // of set, or of the target
	Op     Kind // Assign, PlusEq, MinusEq, ...
	OpPos  Pos
	Target Expr
	Value  Expr
}

// ExprStmt is an expression used as a statement.
type ExprStmt struct {
	X Expr
	// Tail reports whether the expression is the last of its block and not
	// followed by an explicit ';': in a proc with a result, it is the value
	// given back (2025-era style).
	Tail bool
}

// GiveStmt is give [value] or return [value].
type GiveStmt struct {
	Keyword Pos
	Value   Expr // nil without a value
}

// IfStmt is if cond { } [elif cond { } | else if ...] [else { }].
type IfStmt struct {
	Keyword Pos
	Cond    Expr
	Then    *Block
	Else    Stmt // nil, *Block or *IfStmt
}

// WhileStmt is while cond { }.
type WhileStmt struct {
	Keyword Pos
	Cond    Expr
	Body    *Block
}

// LoopStmt is loop { }.
type LoopStmt struct {
	Keyword Pos
	Body    *Block
}

// ForStmt is for name in iter { }; iter is a RangeExpr or a string.
type ForStmt struct {
	Keyword Pos
	Var     *Ident
	Iter    Expr
	Body    *Block
}

// BranchStmt is break or continue.
type BranchStmt struct {
	Keyword Pos
	Tok     Kind // KwBreak or KwContinue
}

// BadStmt stands for a statement that did not parse.
type BadStmt struct{ At Pos }

func (s *LetStmt) Pos() Pos    { return s.Keyword }
func (s *AssignStmt) Pos() Pos { return s.At }
func (s *ExprStmt) Pos() Pos   { return s.X.Pos() }
func (s *GiveStmt) Pos() Pos   { return s.Keyword }
func (s *IfStmt) Pos() Pos     { return s.Keyword }
func (s *WhileStmt) Pos() Pos  { return s.Keyword }
func (s *LoopStmt) Pos() Pos   { return s.Keyword }
func (s *ForStmt) Pos() Pos    { return s.Keyword }
func (s *BranchStmt) Pos() Pos { return s.Keyword }
func (s *BadStmt) Pos() Pos    { return s.At }

func (*LetStmt) stmt()    {}
func (*AssignStmt) stmt() {}
func (*ExprStmt) stmt()   {}
func (*GiveStmt) stmt()   {}
func (*IfStmt) stmt()     {}
func (*WhileStmt) stmt()  {}
func (*LoopStmt) stmt()   {}
func (*ForStmt) stmt()    {}
func (*BranchStmt) stmt() {}
func (*BadStmt) stmt()    {}
func (*Block) stmt()      {}

// Expr is an expression.
type Expr interface {
	Node
	expr()
}

// Ident is a name.
type Ident struct {
	NamePos Pos
	Name    string
}

// IntLit is an integer literal.
type IntLit struct {
	At     Pos
	Text   string // as written
	Digits string // without underscores or suffix, with its 0x/0b/0o prefix
	Suffix string // "", "i32", "i64" or "int"
}

// FloatLit is a float literal.
type FloatLit struct {
	At     Pos
	Text   string
	Digits string
}

// StringLit is a string literal.
type StringLit struct {
	At    Pos
	Value string // decoded
}

// CharLit is a character literal: its value is the code point.
type CharLit struct {
	At    Pos
	Value rune
}

// BoolLit is true or false.
type BoolLit struct {
	At    Pos
	Value bool
}

// UnaryExpr is op x: - x, not x, ! x.
type UnaryExpr struct {
	OpPos Pos
	Op    Kind // Minus, KwNot or Bang
	X     Expr
}

// BinaryExpr is x op y.
type BinaryExpr struct {
	X     Expr
	OpPos Pos
	Op    Kind
	Y     Expr
}

// CallExpr is f(args), f!(args) or recv.f(args).
type CallExpr struct {
	Fun    *Ident
	Bang   bool // f!(...)
	Method bool // recv.f(...): Args[0] is the receiver
	Lparen Pos
	Args   []Expr
	Rparen Pos
}

// IndexExpr is x[i].
type IndexExpr struct {
	X      Expr
	Lbrack Pos
	Index  Expr
}

// CastExpr is x as T.
type CastExpr struct {
	X    Expr
	AsAt Pos
	Type *TypeExpr
}

// ParenExpr is (x).
type ParenExpr struct {
	Lparen Pos
	X      Expr
}

// RangeExpr is lo..hi or lo..=hi, only as the iterable of a for.
type RangeExpr struct {
	Lo        Expr
	OpPos     Pos
	Inclusive bool
	Hi        Expr
}

// BadExpr stands for an expression that did not parse.
type BadExpr struct{ At Pos }

func (e *Ident) Pos() Pos      { return e.NamePos }
func (e *IntLit) Pos() Pos     { return e.At }
func (e *FloatLit) Pos() Pos   { return e.At }
func (e *StringLit) Pos() Pos  { return e.At }
func (e *CharLit) Pos() Pos    { return e.At }
func (e *BoolLit) Pos() Pos    { return e.At }
func (e *UnaryExpr) Pos() Pos  { return e.OpPos }
func (e *BinaryExpr) Pos() Pos { return e.X.Pos() }
func (e *CallExpr) Pos() Pos {
	if e.Method && len(e.Args) > 0 {
		return e.Args[0].Pos()
	}
	return e.Fun.NamePos
}
func (e *IndexExpr) Pos() Pos { return e.X.Pos() }
func (e *CastExpr) Pos() Pos  { return e.X.Pos() }
func (e *ParenExpr) Pos() Pos { return e.Lparen }
func (e *RangeExpr) Pos() Pos { return e.Lo.Pos() }
func (e *BadExpr) Pos() Pos   { return e.At }

func (*Ident) expr()      {}
func (*IntLit) expr()     {}
func (*FloatLit) expr()   {}
func (*StringLit) expr()  {}
func (*CharLit) expr()    {}
func (*BoolLit) expr()    {}
func (*UnaryExpr) expr()  {}
func (*BinaryExpr) expr() {}
func (*CallExpr) expr()   {}
func (*IndexExpr) expr()  {}
func (*CastExpr) expr()   {}
func (*ParenExpr) expr()  {}
func (*RangeExpr) expr()  {}
func (*BadExpr) expr()    {}
