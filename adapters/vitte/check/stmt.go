package check

import (
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
)

// body checks the body of a proc.
func (c *checker) body(p *Proc) {
	d := p.decl
	c.proc, c.loops, c.direct = p, nil, false
	c.scopes = []map[string]*Var{{}}
	for _, v := range p.Params {
		if v.Name != "_" {
			c.scopes[0][v.Name] = v
		}
	}
	stmts := d.Body.Stmts
	if p.Result != Unit {
		markTail(stmts)
	}
	p.Body = c.block(stmts)
	if p.Result != Unit && p.Result != Invalid && !terminates(p.Body) && !c.partial {
		c.errorf(d.Body.Rbrace, "missing give at the end of proc %s: it returns %s", p.Name, p.Result)
	}
	p.MayFail = c.direct
	c.proc, c.scopes = nil, nil
}

// markTail turns the tail expressions of a proc with a result into gives:
// fn f() -> i32 { 1 } and the same in both branches of a final if/else.
func markTail(stmts []syntax.Stmt) {
	if len(stmts) == 0 {
		return
	}
	switch s := stmts[len(stmts)-1].(type) {
	case *syntax.ExprStmt:
		if call, ok := s.X.(*syntax.CallExpr); ok && builtins[call.Fun.Name] != nil && builtins[call.Fun.Name].fail {
			return // fail("...") ends the proc by itself
		}
		if s.Tail {
			stmts[len(stmts)-1] = &syntax.GiveStmt{Keyword: s.X.Pos(), Value: s.X}
		}
	case *syntax.IfStmt:
		for s != nil {
			markTail(s.Then.Stmts)
			switch e := s.Else.(type) {
			case *syntax.Block:
				markTail(e.Stmts)
				s = nil
			case *syntax.IfStmt:
				s = e
			default:
				s = nil
			}
		}
	case *syntax.Block:
		markTail(s.Stmts)
	}
}

// terminates reports whether control cannot reach the end of stmts.
func terminates(stmts []Stmt) bool {
	if len(stmts) == 0 {
		return false
	}
	switch s := stmts[len(stmts)-1].(type) {
	case *ReturnStmt, *FailStmt:
		return true
	case *IfStmt:
		return s.Else != nil && terminates(s.Then) && terminates(s.Else)
	case *LoopStmt:
		return s.Cond == nil && !s.hasBreak
	case *BlockStmt:
		return terminates(s.Body)
	}
	return false
}

func (c *checker) block(stmts []syntax.Stmt) []Stmt {
	c.scopes = append(c.scopes, map[string]*Var{})
	defer func() { c.scopes = c.scopes[:len(c.scopes)-1] }()
	var out []Stmt
	for _, s := range stmts {
		out = append(out, c.stmt(s)...)
	}
	return out
}

// declare adds a variable to the innermost scope; a new let of the same
// name shadows the old one.
func (c *checker) declare(name string, t Type) *Var {
	v := &Var{Name: name, Type: t, Index: len(c.proc.Locals)}
	c.proc.Locals = append(c.proc.Locals, v)
	if name != "_" {
		c.scopes[len(c.scopes)-1][name] = v
	}
	return v
}

// temp adds a hidden variable.
func (c *checker) temp(t Type) *Var {
	v := &Var{Name: "", Type: t, Index: len(c.proc.Locals)}
	c.proc.Locals = append(c.proc.Locals, v)
	return v
}

func (c *checker) cond(e syntax.Expr, what string) Expr {
	x := c.expr(e, Bool)
	if t := x.Type(); t != Bool && t != Invalid {
		hint := ""
		if t.IsNumeric() {
			hint = ": compare it, as in x != 0"
		} else if t == Str {
			hint = ": test its length, as in len(s) > 0"
		}
		c.errorf(e.Pos(), "the condition of %s must be a bool, found %s%s", what, t, hint)
		return bad
	}
	return x
}

func (c *checker) stmt(s syntax.Stmt) []Stmt {
	switch s := s.(type) {
	case *syntax.BadStmt:
		return nil
	case *syntax.LetStmt:
		want := Invalid
		if s.Type != nil {
			want = c.typeOf(s.Type)
			if want == Unit {
				c.errorf(s.Type.At, "variable %s cannot have the type ()", s.Name.Name)
				want = Invalid
			}
		}
		x := c.expr(s.Value, want)
		t := want
		if s.Type != nil {
			x = c.assignable(x, want, s.Value.Pos(), "the value of %s", s.Name.Name)
		} else {
			t = x.Type()
			if t == Unit {
				c.errorf(s.Value.Pos(), "this call gives no value to store in %s", s.Name.Name)
				t = Invalid
			}
		}
		// A variable declared with a type keeps it even when its value is
		// wrong, so that its uses are still checked.
		v := c.declare(s.Name.Name, t)
		if t == Invalid || x.Type() == Invalid {
			return nil
		}
		return []Stmt{&SetStmt{Var: v, Value: x}}
	case *syntax.AssignStmt:
		return c.assign(s)
	case *syntax.ExprStmt:
		return c.exprStmt(s)
	case *syntax.GiveStmt:
		return c.give(s)
	case *syntax.IfStmt:
		return []Stmt{c.ifStmt(s)}
	case *syntax.WhileStmt:
		cond := c.cond(s.Cond, "while")
		loop := &LoopStmt{Cond: cond}
		if k, ok := cond.(*Const); ok && k.Int != 0 {
			loop.Cond = nil // while true is loop
		}
		c.loops = append(c.loops, loop)
		loop.Body = c.block(s.Body.Stmts)
		c.loops = c.loops[:len(c.loops)-1]
		return []Stmt{loop}
	case *syntax.LoopStmt:
		loop := &LoopStmt{}
		c.loops = append(c.loops, loop)
		loop.Body = c.block(s.Body.Stmts)
		c.loops = c.loops[:len(c.loops)-1]
		return []Stmt{loop}
	case *syntax.ForStmt:
		return c.forStmt(s)
	case *syntax.BranchStmt:
		if len(c.loops) == 0 {
			c.errorf(s.Keyword, "%s outside a loop", s.Tok)
			return nil
		}
		brk := s.Tok == syntax.KwBreak
		if brk {
			c.loops[len(c.loops)-1].hasBreak = true
		}
		return []Stmt{&BranchStmt{Break: brk}}
	case *syntax.Block:
		return []Stmt{&BlockStmt{Body: c.block(s.Stmts)}}
	}
	return nil
}

func (c *checker) exprStmt(s *syntax.ExprStmt) []Stmt {
	call, isCall := s.X.(*syntax.CallExpr)
	if isCall {
		if spec, ok := builtins[call.Fun.Name]; ok && spec.fail {
			msg := c.format(call)
			c.direct = true
			if msg == nil {
				return nil
			}
			return []Stmt{&FailStmt{Msg: msg}}
		}
		x := c.expr(s.X, Invalid)
		if x.Type() == Invalid {
			return nil
		}
		if _, isConst := x.(*Const); isConst {
			return nil // format!("x") or to_str(1) alone: nothing to do
		}
		return []Stmt{&ExprStmt{X: x}}
	}
	x := c.expr(s.X, Invalid)
	if x.Type() != Invalid && !c.partial {
		c.errorf(s.X.Pos(), "this value of type %s is computed but not used: store it with let, or give it", x.Type())
	}
	return nil
}

func (c *checker) give(s *syntax.GiveStmt) []Stmt {
	p := c.proc
	if s.Value == nil {
		if p.Result != Unit && p.Result != Invalid {
			c.errorf(s.Keyword, "missing value after give: proc %s returns %s", p.Name, p.Result)
		}
		return []Stmt{&ReturnStmt{}}
	}
	x := c.expr(s.Value, p.Result)
	if p.Result == Unit {
		if x.Type() != Invalid && x.Type() != Unit {
			c.errorf(s.Value.Pos(), "proc %s has no result, but give has a value of type %s: declare it with -> %s", p.Name, x.Type(), x.Type())
		}
		if x.Type() == Unit {
			// give f() in a proc without result: call, then return.
			return []Stmt{&ExprStmt{X: x}, &ReturnStmt{}}
		}
		return []Stmt{&ReturnStmt{}}
	}
	x = c.assignable(x, p.Result, s.Value.Pos(), "the value given by %s", p.Name)
	if x.Type() == Invalid {
		return []Stmt{&ReturnStmt{Value: zero(p.Result)}}
	}
	return []Stmt{&ReturnStmt{Value: x}}
}

// zero is the zero value of a type.
func zero(t Type) Expr {
	if t == F64 {
		return &Const{T: F64}
	}
	return &Const{T: t}
}

func (c *checker) ifStmt(s *syntax.IfStmt) *IfStmt {
	out := &IfStmt{Cond: c.cond(s.Cond, "if")}
	out.Then = c.block(s.Then.Stmts)
	switch e := s.Else.(type) {
	case *syntax.Block:
		out.Else = c.block(e.Stmts)
		if out.Else == nil {
			out.Else = []Stmt{}
		}
	case *syntax.IfStmt:
		out.Else = []Stmt{c.ifStmt(e)}
	}
	return out
}

var compoundOps = map[syntax.Kind]syntax.Kind{
	syntax.PlusEq: syntax.Plus, syntax.MinusEq: syntax.Minus, syntax.StarEq: syntax.Star,
	syntax.SlashEq: syntax.Slash, syntax.PercentEq: syntax.Percent, syntax.AmpEq: syntax.Amp,
	syntax.PipeEq: syntax.Pipe, syntax.CaretEq: syntax.Caret, syntax.ShlEq: syntax.Shl, syntax.ShrEq: syntax.Shr,
}

func (c *checker) assign(s *syntax.AssignStmt) []Stmt {
	id, ok := unparen(s.Target).(*syntax.Ident)
	if !ok {
		if _, isIndex := unparen(s.Target).(*syntax.IndexExpr); isIndex {
			c.errorf(s.Target.Pos(), "cannot assign to a byte of a string: strings are immutable, build a new one with slice and +")
		} else {
			c.errorf(s.Target.Pos(), "cannot assign to this expression: expected a variable name")
		}
		c.expr(s.Value, Invalid)
		return nil
	}
	v := c.lookup(id.Name)
	if v == nil {
		switch {
		case c.consts[id.Name] != nil:
			c.errorf(id.NamePos, "cannot assign to constant %s", id.Name)
		case c.procs[id.Name] != nil:
			c.errorf(id.NamePos, "cannot assign to proc %s", id.Name)
		case c.partial:
		default:
			c.errorf(id.NamePos, "undefined name %s: declare it first with let %s = ...", id.Name, id.Name)
		}
		c.expr(s.Value, Invalid)
		return nil
	}
	var x Expr
	if op, compound := compoundOps[s.Op]; compound {
		x = c.binary(&syntax.BinaryExpr{X: id, OpPos: s.OpPos, Op: op, Y: s.Value}, v.Type)
	} else {
		x = c.expr(s.Value, v.Type)
	}
	x = c.assignable(x, v.Type, s.Value.Pos(), "the assignment to %s", id.Name)
	if x.Type() == Invalid || v.Type == Invalid {
		return nil
	}
	return []Stmt{&SetStmt{Var: v, Value: x}}
}

func one(t Type) Expr { return &Const{T: t, Int: 1} }

// forStmt lowers for x in a..b, for x in a..=b and for b in s (the bytes
// of a string) to loops.
func (c *checker) forStmt(s *syntax.ForStmt) []Stmt {
	c.scopes = append(c.scopes, map[string]*Var{})
	defer func() { c.scopes = c.scopes[:len(c.scopes)-1] }()
	var pre []Stmt
	loop := &LoopStmt{}
	var v *Var
	var first []Stmt
	if r, ok := s.Iter.(*syntax.RangeExpr); ok {
		var lo, hi Expr
		if untyped(r.Lo) && !untyped(r.Hi) {
			hi = c.expr(r.Hi, Invalid)
			lo = c.expr(r.Lo, hi.Type())
		} else {
			lo = c.expr(r.Lo, Invalid)
			hi = c.expr(r.Hi, lo.Type())
		}
		t := lo.Type()
		switch {
		case lo.Type() == Invalid || hi.Type() == Invalid:
			t = Invalid
		case !lo.Type().IsInt() || lo.Type() != hi.Type():
			c.errorf(r.OpPos, "a range needs two integers of one type, found %s..%s", lo.Type(), hi.Type())
			t = Invalid
		}
		// A hidden counter drives the loop, and the variable takes its
		// value at the start of each iteration: assigning the variable in
		// the body does not change the iteration.
		end, idx := c.temp(t), c.temp(t)
		v = c.declare(s.Var.Name, t)
		if t != Invalid {
			pre = []Stmt{&SetStmt{Var: end, Value: hi}, &SetStmt{Var: idx, Value: lo}}
			first = []Stmt{&SetStmt{Var: v, Value: &LocalRef{Var: idx}}}
			op := Lt
			if r.Inclusive {
				op = Le
				// Stop before incrementing past the end: the end may be the
				// largest integer.
				loop.Post = append(loop.Post, &IfStmt{
					Cond: &Binary{Op: Eq, X: &LocalRef{Var: idx}, Y: &LocalRef{Var: end}},
					Then: []Stmt{&BranchStmt{Break: true}},
				})
			}
			loop.Cond = &Binary{Op: op, X: &LocalRef{Var: idx}, Y: &LocalRef{Var: end}}
			loop.Post = append(loop.Post, &SetStmt{Var: idx, Value: &Binary{Op: Add, X: &LocalRef{Var: idx}, Y: one(t)}})
		}
	} else {
		x := c.expr(s.Iter, Invalid)
		t := Invalid
		switch x.Type() {
		case Invalid:
		case Str:
			t = I32
		default:
			c.errorf(s.Iter.Pos(), "cannot iterate over a %s: for works on a range a..b or on the bytes of a str", x.Type())
		}
		sv := c.temp(Str)
		i := c.temp(I32)
		v = c.declare(s.Var.Name, t)
		if t != Invalid {
			c.use(BLen)
			c.use(BByteAt)
			pre = []Stmt{&SetStmt{Var: sv, Value: x}, &SetStmt{Var: i, Value: &Const{T: I32}}}
			loop.Cond = &Binary{Op: Lt, X: &LocalRef{Var: i}, Y: &BuiltinCall{B: BLen, Args: []Expr{&LocalRef{Var: sv}}, T: I32}}
			first = []Stmt{&SetStmt{Var: v, Value: &BuiltinCall{B: BByteAt, Args: []Expr{&LocalRef{Var: sv}, &LocalRef{Var: i}}, T: I32}}}
			loop.Post = []Stmt{&SetStmt{Var: i, Value: &Binary{Op: Add, X: &LocalRef{Var: i}, Y: one(I32)}}}
		}
	}
	c.loops = append(c.loops, loop)
	body := c.block(s.Body.Stmts)
	c.loops = c.loops[:len(c.loops)-1]
	if v.Type == Invalid {
		return nil
	}
	loop.Body = append(first, body...)
	return append(pre, loop)
}
