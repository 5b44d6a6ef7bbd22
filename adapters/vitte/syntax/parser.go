package syntax

import "strings"

// maxDepth bounds the nesting of expressions and blocks, so that hostile
// input cannot exhaust the stack.
const maxDepth = 200

// maxChain bounds the operators, conversions, calls or arguments chained
// in one expression: each makes the tree one level deeper for the stages
// after the parser.
const maxChain = 10000

// Parse parses a source file. Syntax errors go to r; the parser recovers
// from each one (it skips to the end of the statement or declaration) and
// goes on, so that every error in the file is reported. The tree it
// returns is always usable: parts that did not parse are Bad nodes.
func Parse(src *Source, r *Reporter) *File {
	p := &parser{toks: Lex(src, r), r: r}
	p.tok = p.toks[0]
	return p.file()
}

// ParseFile is Parse with a fresh Reporter: it returns the tree and every
// diagnostic, sorted by position.
func ParseFile(name string, src []byte) (*File, []Diagnostic) {
	s := NewSource(name, src)
	r := NewReporter(s)
	f := Parse(s, r)
	return f, r.Sorted()
}

type parser struct {
	toks  []Token
	i     int
	tok   Token
	r     *Reporter
	depth int
	// fatal is set when parsing gave up (nesting too deep): no error
	// follows.
	fatal bool
}

func (p *parser) next() {
	if p.i < len(p.toks)-1 {
		p.i++
	}
	p.tok = p.toks[p.i]
}

// reset moves back to token i.
func (p *parser) reset(i int) {
	p.i = i
	p.tok = p.toks[i]
}

func (p *parser) peek(n int) Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	if !p.fatal {
		p.r.syntaxErrorf(pos, format, args...)
	}
}

// errorExpected reports "expected what, found <token>" at the current token.
func (p *parser) errorExpected(what string) {
	p.errorf(p.tok.Pos, "expected %s, found %s", what, p.tok.describe())
}

func (p *parser) got(k Kind) bool {
	if p.tok.Kind == k {
		p.next()
		return true
	}
	return false
}

// expect consumes a token of kind k or reports "expected <k> <why>".
func (p *parser) expect(k Kind, why string) Pos {
	pos := p.tok.Pos
	if p.tok.Kind != k {
		what := k.String()
		if why != "" {
			what += " " + why
		}
		p.errorExpected(what)
		return pos
	}
	p.next()
	return pos
}

// chained counts one more link of a chain of operators; when the chain is
// too long, it reports an error and jumps to the end of the file.
func (p *parser) chained(n *int) bool {
	*n++
	if *n <= maxChain {
		return true
	}
	if !p.fatal {
		p.r.Errorf(p.tok.Pos, "expression too long: more than %d operators, calls or arguments in a row", maxChain)
	}
	p.fatal = true
	p.reset(len(p.toks) - 1)
	return false
}

// enter counts one level of nesting. When the input nests too deeply, it
// reports an error and jumps to the end of the file.
func (p *parser) enter() bool {
	p.depth++
	if p.depth > maxDepth {
		if !p.fatal {
			p.r.Errorf(p.tok.Pos, "nesting too deep: more than %d levels of expressions or blocks", maxDepth)
		}
		p.fatal = true
		p.reset(len(p.toks) - 1)
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

// skipSemis skips statement terminators.
func (p *parser) skipSemis() {
	for p.tok.Kind == Semi {
		p.next()
	}
}

func (p *parser) file() *File {
	f := &File{}
	for {
		p.skipSemis()
		if p.tok.Kind == EOF {
			break
		}
		start := p.i
		var attrs []*Attr
		for p.tok.Kind == Hash {
			a := p.attr()
			if a.Inner {
				if len(attrs) > 0 {
					p.r.Errorf(a.Hash, "module attribute #![%s] must come before the item attributes that precede it", a.Name.Name)
				}
				f.Attrs = append(f.Attrs, a)
			} else {
				attrs = append(attrs, a)
			}
			p.skipSemis()
		}
		if d := p.decl(attrs); d != nil {
			f.Decls = append(f.Decls, d)
		}
		if p.i == start {
			p.next() // always make progress
		}
	}
	f.EOF = p.tok.Pos
	return f
}

// unsupportedDecls are declarations of the Vitte language that plugins
// cannot use yet.
var unsupportedDecls = map[string]string{
	"entry": "entry blocks", "form": "form types", "pick": "pick types", "type": "type declarations",
	"struct": "structs", "enum": "enums", "trait": "traits", "impl": "impl blocks", "macro": "macros",
	"make": "global make declarations", "mod": "modules", "module": "module declarations", "static": "statics",
}

func (p *parser) decl(attrs []*Attr) Decl {
	if p.tok.Kind == KwPub {
		p.next()
	}
	switch p.tok.Kind {
	case KwProc, KwFn:
		return p.proc(attrs)
	case KwConst:
		return p.constDecl(attrs)
	case KwSpace, KwUse, KwPull, KwShare:
		d := p.moduleDecl()
		if len(attrs) > 0 {
			p.r.Errorf(attrs[0].Hash, "attribute #[%s] must be followed by a proc", attrs[0].Name.Name)
		}
		return d
	case EOF:
		if len(attrs) > 0 {
			p.r.Errorf(attrs[len(attrs)-1].Hash, "attribute #[%s] must be followed by a proc, found end of file", attrs[len(attrs)-1].Name.Name)
		}
		return nil
	case KwLet:
		p.errorf(p.tok.Pos, "global variables are not supported: declare the variable inside a proc, or use const")
	case Name:
		if what, ok := unsupportedDecls[p.tok.Text]; ok {
			p.errorf(p.tok.Pos, "%s are not supported by the plugin compiler yet (see docs/vitte.md)", what)
			break
		}
		fallthrough
	default:
		p.errorExpected("a declaration (proc, fn, const, use, space)")
	}
	at := p.tok.Pos
	p.syncDecl()
	return &BadDecl{At: at}
}

// syncDecl skips to the next token that can start a declaration, skipping
// whole blocks.
func (p *parser) syncDecl() {
	first := true
	for {
		switch p.tok.Kind {
		case EOF:
			return
		case KwProc, KwFn, KwConst, KwSpace, KwUse, KwPull, KwShare, KwPub:
			if !first {
				return
			}
		case Hash:
			if !first {
				return
			}
		case Name:
			if !first && unsupportedDecls[p.tok.Text] != "" && p.i > 0 && p.toks[p.i-1].Kind == Semi {
				return
			}
		case LBrace:
			p.skipBalanced()
			first = false
			continue
		}
		first = false
		p.next()
	}
}

// skipBalanced skips from an opening bracket to past its match.
func (p *parser) skipBalanced() {
	depth := 0
	for p.tok.Kind != EOF {
		switch p.tok.Kind {
		case LBrace, LParen, LBrack:
			depth++
		case RBrace, RParen, RBrack:
			depth--
		}
		p.next()
		if depth <= 0 {
			return
		}
	}
}

func (p *parser) ident(what string) *Ident {
	if p.tok.Kind != Name {
		if p.tok.Kind.IsKeyword() {
			p.errorf(p.tok.Pos, "expected %s, found keyword %s", what, p.tok.Kind)
		} else {
			p.errorExpected(what)
		}
		return &Ident{NamePos: p.tok.Pos, Name: "_"}
	}
	id := &Ident{NamePos: p.tok.Pos, Name: p.tok.Text}
	p.next()
	return id
}

// attr parses #[name], #[name(args)] and #![name(args)].
func (p *parser) attr() *Attr {
	a := &Attr{Hash: p.tok.Pos}
	p.next()
	a.Inner = p.got(Bang)
	p.expect(LBrack, "after '#' to start an attribute")
	a.Name = p.ident("an attribute name")
	if p.got(LParen) {
		a.Parens = true
		for p.tok.Kind != RParen && p.tok.Kind != EOF && p.tok.Kind != RBrack {
			arg := &AttrArg{}
			if p.tok.Kind == Name && p.peek(1).Kind == Assign {
				arg.Key = p.ident("")
				p.next()
			}
			arg.Value = p.attrValue()
			a.Args = append(a.Args, arg)
			if !p.got(Comma) {
				break
			}
		}
		if p.tok.Kind != RParen {
			p.errorExpected("')' to close the attribute's arguments")
			p.syncAttr()
			return a
		}
		p.next()
	}
	if p.tok.Kind != RBrack {
		p.errorExpected("']' to close the attribute")
		p.syncAttr()
		return a
	}
	p.next()
	return a
}

// syncAttr skips to the end of a broken attribute.
func (p *parser) syncAttr() {
	for p.tok.Kind != EOF {
		switch p.tok.Kind {
		case RBrack:
			p.next()
			return
		case Semi, KwProc, KwFn, Hash, LBrace:
			return
		}
		p.next()
	}
}

func (p *parser) attrValue() *AttrValue {
	v := &AttrValue{At: p.tok.Pos}
	switch p.tok.Kind {
	case String:
		v.Kind, v.Text = AttrString, p.tok.Value
	case Int:
		v.Kind, v.Text = AttrInt, p.tok.Value
	case Minus:
		p.next()
		if p.tok.Kind != Int {
			p.errorExpected("a number after '-'")
			return v
		}
		v.Kind, v.Text = AttrInt, "-"+p.tok.Value
	case KwTrue, KwFalse:
		v.Kind, v.Text = AttrBool, p.tok.Text
	case Name:
		v.Kind, v.Text = AttrIdent, p.tok.Text
	case LBrack:
		v.Kind = AttrList
		p.next()
		for p.tok.Kind != RBrack && p.tok.Kind != EOF && p.tok.Kind != RParen {
			before := p.i
			v.List = append(v.List, p.attrValue())
			if p.i == before || !p.got(Comma) {
				break
			}
		}
		if p.tok.Kind != RBrack {
			p.errorExpected("']' to close the list")
			return v
		}
	default:
		p.errorExpected("an attribute value (a string, number, true, false or [list])")
		return v
	}
	p.next()
	return v
}

func (p *parser) moduleDecl() *ModuleDecl {
	d := &ModuleDecl{Keyword: p.tok.Pos, Kind: p.tok.Kind}
	p.next()
	var b strings.Builder
	for p.tok.Kind != Semi && p.tok.Kind != EOF {
		switch p.tok.Kind {
		case Name, Dot, Slash, ColonCol, Star, Comma, LBrace, RBrace, KwAs:
			if p.tok.Kind == LBrace && d.Kind == KwShare {
				break
			}
			b.WriteString(p.tok.Text)
			if p.tok.Kind == KwAs || p.tok.Kind == Comma {
				b.WriteByte(' ')
			}
			p.next()
			continue
		}
		if p.tok.Kind.IsKeyword() && p.tok.Kind != KwProc && p.tok.Kind != KwFn {
			b.WriteString(p.tok.Text)
			p.next()
			continue
		}
		break
	}
	d.Path = b.String()
	if d.Path == "" {
		p.errorExpected("a module path after " + d.Kind.String())
	}
	if p.tok.Kind != Semi && p.tok.Kind != EOF {
		p.errorExpected("a line end after the module path")
		p.syncDecl()
	}
	return d
}

func (p *parser) constDecl(attrs []*Attr) Decl {
	d := &ConstDecl{Attrs: attrs, Keyword: p.tok.Pos}
	p.next()
	d.Name = p.ident("a constant name")
	if p.got(Colon) {
		d.Type = p.typeExpr()
	}
	if p.tok.Kind != Assign {
		p.errorExpected("'=' and a value for the constant")
		p.syncDecl()
		d.Value = &BadExpr{At: p.tok.Pos}
		return d
	}
	p.next()
	d.Value = p.expr()
	if p.tok.Kind != Semi && p.tok.Kind != EOF {
		p.errorExpected("a line end or ';' after the constant")
		p.syncDecl()
	}
	return d
}

func (p *parser) proc(attrs []*Attr) Decl {
	d := &ProcDecl{Attrs: attrs, Keyword: p.tok.Pos}
	kw := p.tok.Text
	p.next()
	d.Name = p.ident("a name after " + kw)
	if p.tok.Kind == Lt || p.tok.Kind == LBrack {
		p.errorf(p.tok.Pos, "generic procs are not supported by the plugin compiler yet")
		for p.tok.Kind != LParen && p.tok.Kind != LBrace && p.tok.Kind != EOF {
			p.next()
		}
	}
	if p.tok.Kind != LParen {
		p.errorExpected("'(' to start the parameters of " + d.Name.Name)
		p.syncDecl()
		return &BadDecl{At: d.Keyword}
	}
	p.next()
	for p.tok.Kind != RParen && p.tok.Kind != EOF {
		before := p.i
		p.got(KwMut)
		param := &Param{Name: p.ident("a parameter name")}
		if p.tok.Kind != Colon {
			p.errorExpected("':' and a type after parameter " + param.Name.Name)
		} else {
			p.next()
			param.Type = p.typeExpr()
		}
		if param.Type == nil {
			param.Type = &TypeExpr{At: param.Name.NamePos, Name: "?"}
		}
		d.Params = append(d.Params, param)
		if p.got(Comma) {
			continue
		}
		if p.tok.Kind != RParen {
			p.errorExpected("',' or ')' in the parameters of " + d.Name.Name)
			for p.tok.Kind != RParen && p.tok.Kind != LBrace && p.tok.Kind != EOF && p.tok.Kind != Semi {
				p.next()
			}
		}
		if p.i == before {
			break
		}
	}
	if !p.got(RParen) {
		if p.tok.Kind != LBrace && p.tok.Kind != Arrow {
			p.errorExpected("')' to close the parameters of " + d.Name.Name)
			p.syncDecl()
			return &BadDecl{At: d.Keyword}
		}
	}
	if p.got(Arrow) {
		d.Result = p.typeExpr()
	} else if p.tok.Kind == Colon {
		p.errorf(p.tok.Pos, "expected '->' before the result type of %s, found ':'", d.Name.Name)
		p.next()
		d.Result = p.typeExpr()
	}
	if p.tok.Kind != LBrace {
		p.errorExpected("'{' to start the body of " + d.Name.Name)
		p.syncDecl()
		return &BadDecl{At: d.Keyword}
	}
	d.Body = p.block()
	return d
}

// typeExpr parses a type: a name, (), or &T (the & is dropped: 2025-era
// code writes &str).
func (p *parser) typeExpr() *TypeExpr {
	at := p.tok.Pos
	for p.tok.Kind == Amp || p.tok.Kind == AndAnd {
		p.next()
		p.got(KwMut)
	}
	switch p.tok.Kind {
	case Name:
		t := &TypeExpr{At: at, Name: p.tok.Text}
		p.next()
		if p.tok.Kind == Lt || p.tok.Kind == LBrack || p.tok.Kind == ColonCol {
			p.errorf(p.tok.Pos, "generic and qualified types are not supported by the plugin compiler yet: use i32, i64, f64, bool or str")
			for p.tok.Kind != Gt && p.tok.Kind != RBrack && p.tok.Kind != EOF && p.tok.Kind != LBrace && p.tok.Kind != Semi {
				p.next()
			}
			p.got(Gt)
			p.got(RBrack)
		}
		return t
	case LParen:
		if p.peek(1).Kind == RParen {
			p.next()
			p.next()
			return &TypeExpr{At: at, Name: "()"}
		}
	case LBrack:
		p.errorf(p.tok.Pos, "slice and list types are not supported by the plugin compiler yet: use i32, i64, f64, bool or str")
		p.skipBalanced()
		return &TypeExpr{At: at, Name: "?"}
	}
	p.errorExpected("a type (i32, i64, int, f64, bool, str)")
	return &TypeExpr{At: at, Name: "?"}
}

func (p *parser) block() *Block {
	b := &Block{Lbrace: p.tok.Pos}
	if !p.enter() {
		b.Rbrace = p.tok.Pos
		return b
	}
	defer p.leave()
	p.expect(LBrace, "")
	explicit := false
	for {
		p.skipSemis()
		if p.tok.Kind == RBrace || p.tok.Kind == EOF {
			break
		}
		start := p.i
		s := p.stmt()
		b.Stmts = append(b.Stmts, s)
		explicit = false
		switch s.(type) {
		case *IfStmt, *WhileStmt, *LoopStmt, *ForStmt, *Block:
			explicit = p.tok.Kind == Semi && !p.tok.Implicit
		default:
			switch {
			case p.tok.Kind == Semi:
				explicit = !p.tok.Implicit
				p.next()
			case p.tok.Kind == RBrace || p.tok.Kind == EOF:
			default:
				p.errorExpected("';' or a line end after the statement")
				p.syncStmt()
			}
		}
		if p.i == start {
			p.next()
		}
	}
	if n := len(b.Stmts); n > 0 && !explicit {
		if es, ok := b.Stmts[n-1].(*ExprStmt); ok {
			es.Tail = true
		}
	}
	b.Rbrace = p.tok.Pos
	if p.tok.Kind != RBrace {
		if p.fatal {
			return b
		}
		p.r.Errorf(b.Lbrace, "block not closed: expected '}' to match this '{', found end of file")
		return b
	}
	p.next()
	return b
}

// syncStmt skips to the end of the current statement: a ';' or line end
// (not consumed), or the '}' of the enclosing block, skipping nested
// brackets.
func (p *parser) syncStmt() {
	for {
		switch p.tok.Kind {
		case EOF, RBrace, Semi:
			return
		case LBrace, LParen, LBrack:
			p.skipBalanced()
			continue
		}
		p.next()
	}
}

func (p *parser) stmt() Stmt {
	switch p.tok.Kind {
	case KwLet:
		s := &LetStmt{Keyword: p.tok.Pos}
		p.next()
		s.Mut = p.got(KwMut)
		s.Name = p.ident("a variable name after let")
		if p.got(Colon) {
			s.Type = p.typeExpr()
		}
		if p.tok.Kind != Assign {
			p.errorExpected("'=' and an initial value for " + s.Name.Name)
			s.Value = &BadExpr{At: p.tok.Pos}
			p.syncStmt()
			return s
		}
		p.next()
		s.Value = p.expr()
		return s
	case Name:
		// make x [as T] = v (current Vitte) is let x [: T] = v.
		if p.tok.Text == "make" && p.peek(1).Kind == Name && (p.peek(2).Kind == KwAs || p.peek(2).Kind == Assign) {
			s := &LetStmt{Keyword: p.tok.Pos}
			p.next()
			s.Name = p.ident("a variable name after make")
			if p.got(KwAs) {
				s.Type = p.typeExpr()
			}
			if p.tok.Kind != Assign {
				p.errorExpected("'=' and an initial value for " + s.Name.Name)
				s.Value = &BadExpr{At: p.tok.Pos}
				p.syncStmt()
				return s
			}
			p.next()
			s.Value = p.expr()
			return s
		}
	case KwSet:
		at := p.tok.Pos
		p.next()
		target := p.expr()
		if !isAssignOp(p.tok.Kind) {
			p.errorExpected("'=' after set " + exprText(target))
			p.syncStmt()
			return &BadStmt{At: at}
		}
		return p.assign(at, target)
	case KwGive, KwReturn:
		s := &GiveStmt{Keyword: p.tok.Pos}
		p.next()
		if p.tok.Kind != Semi && p.tok.Kind != RBrace && p.tok.Kind != EOF {
			s.Value = p.expr()
		}
		return s
	case KwIf:
		return p.ifStmt()
	case KwElif, KwElse, KwOtherwise:
		p.errorf(p.tok.Pos, "%s without a preceding if", p.tok.Kind)
		at := p.tok.Pos
		p.syncStmt()
		return &BadStmt{At: at}
	case KwWhile:
		s := &WhileStmt{Keyword: p.tok.Pos}
		p.next()
		s.Cond = p.expr()
		s.Body = p.body("while")
		return s
	case KwLoop:
		s := &LoopStmt{Keyword: p.tok.Pos}
		p.next()
		s.Body = p.body("loop")
		return s
	case KwFor:
		s := &ForStmt{Keyword: p.tok.Pos}
		p.next()
		s.Var = p.ident("a variable name after for")
		if p.tok.Kind != KwIn {
			p.errorExpected("'in' after for " + s.Var.Name)
			s.Iter = &BadExpr{At: p.tok.Pos}
		} else {
			p.next()
			s.Iter = p.expr()
			if p.tok.Kind == DotDot || p.tok.Kind == DotDotEq {
				r := &RangeExpr{Lo: s.Iter, OpPos: p.tok.Pos, Inclusive: p.tok.Kind == DotDotEq}
				p.next()
				r.Hi = p.expr()
				s.Iter = r
			}
		}
		s.Body = p.body("for")
		return s
	case KwBreak, KwContinue:
		s := &BranchStmt{Keyword: p.tok.Pos, Tok: p.tok.Kind}
		p.next()
		return s
	case LBrace:
		return p.block()
	}
	x := p.expr()
	if isAssignOp(p.tok.Kind) {
		return p.assign(x.Pos(), x)
	}
	return &ExprStmt{X: x}
}

// body parses the block of a while, loop or for.
func (p *parser) body(what string) *Block {
	if p.tok.Kind != LBrace {
		p.errorExpected("'{' to start the body of the " + what)
		at := p.tok.Pos
		p.syncStmt()
		return &Block{Lbrace: at, Rbrace: at}
	}
	return p.block()
}

func isAssignOp(k Kind) bool {
	switch k {
	case Assign, PlusEq, MinusEq, StarEq, SlashEq, PercentEq, AmpEq, PipeEq, CaretEq, ShlEq, ShrEq:
		return true
	}
	return false
}

func (p *parser) assign(at Pos, target Expr) Stmt {
	s := &AssignStmt{At: at, Op: p.tok.Kind, OpPos: p.tok.Pos, Target: target}
	p.next()
	s.Value = p.expr()
	return s
}

func (p *parser) ifStmt() *IfStmt {
	s := &IfStmt{Keyword: p.tok.Pos}
	p.next()
	s.Cond = p.expr()
	s.Then = p.body("if")
	// An else may follow on the next line: look past line ends.
	save := p.i
	for p.tok.Kind == Semi && p.tok.Implicit {
		p.next()
	}
	switch p.tok.Kind {
	case KwElif:
		s.Else = p.ifStmt()
	case KwElse, KwOtherwise:
		p.next()
		if p.tok.Kind == KwIf {
			s.Else = p.ifStmt()
		} else {
			s.Else = p.body("else")
		}
	default:
		p.reset(save)
	}
	return s
}

// Binary operator precedences: higher binds tighter.
func precedence(k Kind) int {
	switch k {
	case KwOr, OrOr:
		return 1
	case KwAnd, AndAnd:
		return 2
	case Pipe:
		return 3
	case Caret:
		return 4
	case Amp:
		return 5
	case Eq, NotEq:
		return 6
	case Lt, LtEq, Gt, GtEq:
		return 7
	case Shl, Shr:
		return 8
	case Plus, Minus:
		return 9
	case Star, Slash, Percent:
		return 10
	}
	return 0
}

func (p *parser) expr() Expr { return p.binary(1) }

func (p *parser) binary(prec int) Expr {
	x := p.cast()
	n := 0
	for p.chained(&n) {
		op := p.tok.Kind
		q := precedence(op)
		if q < prec || q == 0 {
			return x
		}
		pos := p.tok.Pos
		p.next()
		y := p.binary(q + 1)
		x = &BinaryExpr{X: x, OpPos: pos, Op: op, Y: y}
	}
	return x
}

// cast parses unary { as T }: as binds tighter than binary operators and
// looser than unary ones (-x as i64 is (-x) as i64).
func (p *parser) cast() Expr {
	x := p.unary()
	n := 0
	for p.tok.Kind == KwAs && p.chained(&n) {
		at := p.tok.Pos
		p.next()
		x = &CastExpr{X: x, AsAt: at, Type: p.typeExpr()}
	}
	return x
}

func (p *parser) unary() Expr {
	switch p.tok.Kind {
	case Minus, Bang, KwNot:
		op, pos := p.tok.Kind, p.tok.Pos
		p.next()
		if !p.enter() {
			return &BadExpr{At: pos}
		}
		x := p.unary()
		p.leave()
		return &UnaryExpr{OpPos: pos, Op: op, X: x}
	case Amp, Star:
		p.errorf(p.tok.Pos, "references and pointers are not supported by the plugin compiler: values are passed by value")
		p.next()
		return p.unary()
	}
	return p.postfix()
}

func (p *parser) postfix() Expr {
	x := p.primary()
	n := 0
	for p.chained(&n) {
		switch p.tok.Kind {
		case LParen:
			id, ok := x.(*Ident)
			if !ok {
				p.errorf(p.tok.Pos, "only a proc name can be called: %s is not a name", exprText(x))
				p.skipBalanced()
				x = &BadExpr{At: x.Pos()}
				continue
			}
			x = p.call(id, false, nil)
		case Bang:
			id, ok := x.(*Ident)
			if !ok || p.tok.Spaced || p.peek(1).Kind != LParen {
				if ok && !p.tok.Spaced && (p.peek(1).Kind == LBrack || p.peek(1).Kind == LBrace) {
					p.errorf(p.tok.Pos, "macro %s! takes its arguments in parentheses, as in %s!(...)", id.Name, id.Name)
					p.next()
					p.skipBalanced()
					x = &BadExpr{At: id.NamePos}
					continue
				}
				return x
			}
			p.next()
			x = p.call(id, true, nil)
		case LBrack:
			if !p.enter() {
				return x
			}
			e := &IndexExpr{X: x, Lbrack: p.tok.Pos}
			p.next()
			e.Index = p.expr()
			p.leave()
			if p.tok.Kind != RBrack {
				p.errorExpected("']' to close the index")
				p.syncClose(RBrack)
			} else {
				p.next()
			}
			x = e
		case Dot:
			p.next()
			name := p.ident("a method name after '.'")
			if p.tok.Kind != LParen {
				p.errorf(name.NamePos, "field access %s.%s is not supported: call a method, as in %s.%s()", exprText(x), name.Name, exprText(x), name.Name)
				x = &BadExpr{At: x.Pos()}
				continue
			}
			x = p.call(name, false, x)
		case Question:
			p.errorf(p.tok.Pos, "the ? operator is not supported: errors propagate by themselves (see fail in docs/vitte.md)")
			p.next()
		default:
			return x
		}
	}
	return x
}

// call parses the arguments of a call; the current token is '('.
func (p *parser) call(fun *Ident, bang bool, recv Expr) Expr {
	c := &CallExpr{Fun: fun, Bang: bang, Lparen: p.tok.Pos}
	if recv != nil {
		c.Method = true
		c.Args = append(c.Args, recv)
	}
	if !p.enter() {
		return &BadExpr{At: fun.NamePos}
	}
	defer p.leave()
	p.next()
	n := 0
	for p.tok.Kind != RParen && p.tok.Kind != EOF && p.chained(&n) {
		before := p.i
		c.Args = append(c.Args, p.expr())
		if p.got(Comma) {
			continue
		}
		if p.tok.Kind != RParen || p.i == before {
			break
		}
	}
	c.Rparen = p.tok.Pos
	if p.tok.Kind != RParen {
		p.errorExpected("',' or ')' to close the call to " + fun.Name)
		p.syncClose(RParen)
		return c
	}
	p.next()
	return c
}

// syncClose skips to past the closing bracket k, or stops at the end of
// the statement.
func (p *parser) syncClose(k Kind) {
	for {
		switch p.tok.Kind {
		case EOF, RBrace, Semi:
			return
		case k:
			p.next()
			return
		case LParen, LBrack, LBrace:
			p.skipBalanced()
			continue
		}
		p.next()
	}
}

func (p *parser) primary() Expr {
	t := p.tok
	switch t.Kind {
	case Name:
		p.next()
		return &Ident{NamePos: t.Pos, Name: t.Text}
	case Int:
		p.next()
		return &IntLit{At: t.Pos, Text: t.Text, Digits: t.Value, Suffix: t.Suffix}
	case Float:
		p.next()
		return &FloatLit{At: t.Pos, Text: t.Text, Digits: t.Value}
	case String:
		p.next()
		return &StringLit{At: t.Pos, Value: t.Value}
	case Char:
		p.next()
		var r rune
		for _, c := range t.Value {
			r = c
			break
		}
		return &CharLit{At: t.Pos, Value: r}
	case KwTrue, KwFalse:
		p.next()
		return &BoolLit{At: t.Pos, Value: t.Kind == KwTrue}
	case LParen:
		if p.peek(1).Kind == RParen {
			p.errorf(t.Pos, "() is not a value: a proc without a result gives nothing")
			p.next()
			p.next()
			return &BadExpr{At: t.Pos}
		}
		if !p.enter() {
			return &BadExpr{At: t.Pos}
		}
		p.next()
		x := p.expr()
		p.leave()
		if p.tok.Kind != RParen {
			p.errorExpected("')' to close the parenthesis")
			p.syncClose(RParen)
		} else {
			p.next()
		}
		return &ParenExpr{Lparen: t.Pos, X: x}
	case KwIf:
		p.errorf(t.Pos, "if is a statement, not an expression: assign the value in each branch")
		p.next()
		return &BadExpr{At: t.Pos}
	case LBrack:
		p.errorf(t.Pos, "list literals are not supported by the plugin compiler yet")
		p.skipBalanced()
		return &BadExpr{At: t.Pos}
	}
	p.errorExpected("an expression")
	// Consume the token unless it can end or resume the statement.
	switch t.Kind {
	case EOF, Semi, RBrace, RParen, RBrack, Comma, LBrace:
	default:
		if !t.Kind.IsKeyword() || t.Kind == KwAs || t.Kind == KwIn || t.Kind == KwAnd || t.Kind == KwOr {
			p.next()
		}
	}
	return &BadExpr{At: t.Pos}
}

// exprText renders a short form of x for messages.
func exprText(x Expr) string {
	switch x := x.(type) {
	case *Ident:
		return x.Name
	case *CallExpr:
		return x.Fun.Name + "(...)"
	case *IndexExpr:
		return exprText(x.X) + "[...]"
	case *ParenExpr:
		return "(" + exprText(x.X) + ")"
	case *StringLit:
		return "a string"
	case *IntLit:
		return x.Text
	}
	return "the expression"
}
