package syntax

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func parse(t *testing.T, src string) (*File, []Diagnostic) {
	t.Helper()
	return ParseFile("t.vit", []byte(src))
}

// show renders an expression with explicit parentheses.
func show(x Expr) string {
	switch x := x.(type) {
	case *Ident:
		return x.Name
	case *IntLit:
		return x.Text
	case *FloatLit:
		return x.Text
	case *StringLit:
		return fmt.Sprintf("%q", x.Value)
	case *CharLit:
		return fmt.Sprintf("%q", x.Value)
	case *BoolLit:
		return fmt.Sprint(x.Value)
	case *UnaryExpr:
		return "(" + strings.Trim(x.Op.String(), "'") + " " + show(x.X) + ")"
	case *BinaryExpr:
		return "(" + show(x.X) + " " + strings.Trim(x.Op.String(), "'") + " " + show(x.Y) + ")"
	case *CastExpr:
		return "(" + show(x.X) + " as " + x.Type.Name + ")"
	case *ParenExpr:
		return show(x.X)
	case *IndexExpr:
		return show(x.X) + "[" + show(x.Index) + "]"
	case *CallExpr:
		var args []string
		for _, a := range x.Args {
			args = append(args, show(a))
		}
		bang := ""
		if x.Bang {
			bang = "!"
		}
		if x.Method {
			bang += "·"
		}
		return x.Fun.Name + bang + "(" + strings.Join(args, ", ") + ")"
	case *RangeExpr:
		return show(x.Lo) + ".." + show(x.Hi)
	}
	return fmt.Sprintf("%T", x)
}

func TestParse_expressions(t *testing.T) {
	tests := []struct{ with, expected string }{
		{"1 + 2 * 3", "(1 + (2 * 3))"},
		{"a - b - c", "((a - b) - c)"},
		{"a or b and not c", "(a or (b and (not c)))"},
		{"a || b && !c", "(a || (b && (! c)))"},
		{"a == b < c", "(a == (b < c))"},
		{"a & b | c ^ d", "((a & b) | (c ^ d))"},
		{"a << 1 + 2", "(a << (1 + 2))"},
		{"-x as i64 * 2", "(((- x) as i64) * 2)"},
		{"f(a, b + 1)(", ""},
		{"s[i + 1]", "s[(i + 1)]"},
		{"println!(\"{}\", x)", "println!(\"{}\", x)"},
		{"input.len().to_str()", "to_str·(len·(input))"},
		{"'a' + 1.5", "('a' + 1.5)"},
		{"(a + b) * c", "((a + b) * c)"},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			f, diags := parse(t, "proc f() {\n"+tc.with+"\n}")
			if tc.expected == "" {
				require.NotEmpty(t, diags)
				return
			}
			require.Empty(t, diags)
			body := f.Decls[0].(*ProcDecl).Body.Stmts
			require.Len(t, body, 1)
			require.Equal(t, tc.expected, show(body[0].(*ExprStmt).X))
		})
	}
}

// Both spellings of the language parse to the same statements.
func TestParse_spellings(t *testing.T) {
	current := `
space demo/app
use std/io
#[export("x")]
proc f(input: str) -> str {
    let mut n = 0
    set n = n + 1
    make m as i32 = 2
    if n > 1 and not false { give "a" } elif n == 1 or n < 0 { give "b" } else { give input }
    while n < 3 { set n = n + 1; continue }
    loop { break }
    for i in 0..3 { }
}
`
	older := `
#[export("x")]
fn f(input: &str) -> String {
    let mut n = 0;
    n += 1;
    let m: i32 = 2;
    if n > 1 && !false { return "a"; } else if n == 1 || n < 0 { return "b"; } else { return input; }
    while n < 3 { n = n + 1; continue; }
    loop { break; }
    for i in 0..3 { }
}
`
	fc, diags := parse(t, current)
	require.Empty(t, diags)
	fo, diags := parse(t, older)
	require.Empty(t, diags)
	pc := fc.Decls[len(fc.Decls)-1].(*ProcDecl)
	po := fo.Decls[len(fo.Decls)-1].(*ProcDecl)
	require.Equal(t, len(pc.Body.Stmts), len(po.Body.Stmts))
	for i := range pc.Body.Stmts {
		require.IsType(t, pc.Body.Stmts[i], po.Body.Stmts[i], "statement %d", i)
	}
	require.Equal(t, "str", pc.Result.Name)
	require.Equal(t, "String", po.Result.Name)
	require.Equal(t, "str", po.Params[0].Type.Name, "&str is str")
	require.Len(t, fc.Decls, 3) // space, use, proc
}

func TestParse_attributes(t *testing.T) {
	f, diags := parse(t, `#![plugin(name = "x", version = "1.0.0", authors = ["a", "b"], n = -3, b = true, i = ident)]
#[export("greet")]
#[inline]
proc f() {}
`)
	require.Empty(t, diags)
	require.Len(t, f.Attrs, 1)
	a := f.Attrs[0]
	require.True(t, a.Inner)
	require.Equal(t, "plugin", a.Name.Name)
	var got []string
	for _, arg := range a.Args {
		v := arg.Value
		s := v.Text
		if v.Kind == AttrList {
			s = fmt.Sprint(len(v.List))
		}
		got = append(got, fmt.Sprintf("%s=%d:%s", arg.Key.Name, v.Kind, s))
	}
	require.Equal(t, []string{"name=0:x", "version=0:1.0.0", "authors=4:2", "n=1:-3", "b=2:true", "i=3:ident"}, got)
	p := f.Decls[0].(*ProcDecl)
	require.Len(t, p.Attrs, 2)
	require.Nil(t, p.Attrs[0].Args[0].Key)
	require.Equal(t, "greet", p.Attrs[0].Args[0].Value.Text)
}

func TestParse_tail(t *testing.T) {
	f, diags := parse(t, "fn f() -> i32 { g(); 1 }\nfn g() -> i32 { 2; }\nfn h() -> i32 {\n  3\n}")
	require.Empty(t, diags)
	tail := func(i int) bool {
		stmts := f.Decls[i].(*ProcDecl).Body.Stmts
		return stmts[len(stmts)-1].(*ExprStmt).Tail
	}
	require.True(t, tail(0))
	require.False(t, tail(1), "an explicit ';' makes it a statement")
	require.True(t, tail(2), "a line end keeps it a tail expression")
}

func TestParse_elseOnNextLine(t *testing.T) {
	f, diags := parse(t, "proc f() {\n if a {\n }\n else {\n }\n if b { }\n otherwise { }\n}")
	require.Empty(t, diags)
	stmts := f.Decls[0].(*ProcDecl).Body.Stmts
	require.Len(t, stmts, 2)
	require.NotNil(t, stmts[0].(*IfStmt).Else)
	require.NotNil(t, stmts[1].(*IfStmt).Else)
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, with string
		expected   []string
	}{
		{name: "every error is reported", with: "proc f() {\n let = 1\n let y 2\n g(\n}\nproc h( { }\n",
			expected: []string{
				"t.vit:2:6: expected a variable name after let, found '='",
				"t.vit:3:8: expected '=' and an initial value for y, found number 2",
				"t.vit:5:1: expected an expression, found '}'",
				"t.vit:6:9: expected a parameter name, found '{'",
			}},
		{name: "one error per line", with: "proc f() { let x = ) ) ) }", expected: []string{"t.vit:1:20: expected an expression, found ')'"}},
		{name: "declaration expected", with: "x = 1\nproc f() {}", expected: []string{"t.vit:1:1: expected a declaration (proc, fn, const, use, space), found 'x'"}},
		{name: "unsupported declaration", with: "struct P { x: i32 }\nenum E { A }", expected: []string{
			"t.vit:1:1: structs are not supported by the plugin compiler yet (see docs/vitte.md)",
			"t.vit:2:1: enums are not supported by the plugin compiler yet (see docs/vitte.md)",
		}},
		{name: "dangling attribute", with: "#[export]", expected: []string{"t.vit:1:1: attribute #[export] must be followed by a proc, found end of file"}},
		{name: "nesting", with: "proc f() { let x = " + strings.Repeat("(", 300) + " }", expected: []string{"t.vit:1:219: nesting too deep: more than 200 levels of expressions or blocks"}},
		{name: "unclosed block", with: "proc f() {", expected: []string{"t.vit:1:10: block not closed: expected '}' to match this '{', found end of file"}},
		{name: "else alone", with: "proc f() { else { } }", expected: []string{"t.vit:1:12: 'else' without a preceding if"}},
		{name: "question mark", with: "proc f() { g()? }", expected: []string{"t.vit:1:15: the ? operator is not supported: errors propagate by themselves (see fail in docs/vitte.md)"}},
		{name: "generic", with: "proc f<T>() {}", expected: []string{"t.vit:1:7: generic procs are not supported by the plugin compiler yet"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := parse(t, tc.with)
			var got []string
			for _, d := range diags {
				got = append(got, d.Error())
			}
			require.Equal(t, tc.expected, got)
		})
	}
}
