package check

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
)

func checkSrc(t *testing.T, src string) (*Program, []string) {
	t.Helper()
	s := syntax.NewSource("t.vit", []byte(src))
	r := syntax.NewReporter(s)
	f := syntax.Parse(s, r)
	require.Zero(t, r.Len(), "syntax errors: %v", r.Diagnostics())
	p := Check(f, r)
	var errs []string
	for _, d := range r.Sorted() {
		errs = append(errs, d.Error())
	}
	return p, errs
}

func proc(p *Program, name string) *Proc {
	for _, q := range p.Procs {
		if q.Name == name {
			return q
		}
	}
	return nil
}

// given returns the expression that the first statement of proc f gives.
func given(t *testing.T, src string) Expr {
	t.Helper()
	p, errs := checkSrc(t, src)
	require.Empty(t, errs)
	body := proc(p, "f").Body
	return body[len(body)-1].(*ReturnStmt).Value
}

func TestCheck_literalTypes(t *testing.T) {
	tests := []struct {
		with     string
		expected Type
	}{
		{"proc f() -> i32 { give 1 }", I32},
		{"proc f() -> i64 { give 1 }", I64},
		{"proc f() -> int { give 3000000000 }", I64},
		{"proc f() -> f64 { give 1 }", F64},
		{"proc f(x: i64) -> bool { give 1 < x }", Bool},
		{"proc f(x: i64) -> i64 { give 1 + x }", I64},
		{"proc f(x: i64) -> i64 { give x * 2 + 1 }", I64},
		{"proc f() -> i64 { give 'a' }", I64},
		{"proc f() -> str { give \"a\" + \"b\" }", Str},
		{"proc f(x: f64) -> f64 { give -x }", F64},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			require.Equal(t, tc.expected, given(t, tc.with).Type())
		})
	}
}

func TestCheck_constantFolding(t *testing.T) {
	tests := []struct {
		with     string
		expected Const
	}{
		{`proc f() -> i32 { give 2 * 3 + 4 }`, Const{T: I32, Int: 10}},
		{`proc f() -> i32 { give 2147483647 + 1 }`, Const{T: I32, Int: -2147483648}},
		{`proc f() -> i32 { give -2147483648 }`, Const{T: I32, Int: -2147483648}},
		{`proc f() -> i64 { give 1 << 40 }`, Const{T: I64, Int: 1 << 40}},
		{`proc f() -> i32 { give !0 }`, Const{T: I32, Int: -1}},
		{`proc f() -> bool { give "a" < "b" and not false }`, Const{T: Bool, Int: 1}},
		{`proc f() -> str { give format!("{} + {} = {}", 1, 2, 1 + 2) }`, Const{T: Str, Str: "1 + 2 = 3"}},
		{`proc f() -> str { give to_str(-42) + str(true) }`, Const{T: Str, Str: "-42true"}},
		{`const A: i64 = 1000
const B = A * A
proc f() -> i64 { give B }`, Const{T: I64, Int: 1000000}},
		{`proc f() -> f64 { give 3 as f64 / 2.0 }`, Const{T: F64, Float: 1.5}},
		{`proc f() -> i32 { give 300000000000i64 as i32 }`, Const{T: I32, Int: -647710720}},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			k, ok := given(t, tc.with).(*Const)
			require.True(t, ok, "not folded")
			require.Equal(t, tc.expected, *k)
		})
	}
}

func TestCheck_plugin(t *testing.T) {
	p, errs := checkSrc(t, `
#![config(greeting = "Hello")]
#![capabilities(host = ["test.*", "studio.*"])]
#![limits(memory = "16MiB")]

#[plugin(name = "demo", version = "1.2.3", description = "d", license = "MIT", authors = "Ada")]
proc start() {
    log_info("start")
}

#[on_unload]
proc stop() {}

#[export]
proc greet(input: str) -> str { give config("greeting") + input }

#[export(name = "count-vowels", description = "counts")]
proc count(input: str) -> str { give host_call("test.x", input) }

#[export("noop")]
proc noop() {}
`)
	require.Empty(t, errs)
	pl := p.Plugin
	require.Equal(t, "demo", pl.Name)
	require.Equal(t, "1.2.3", pl.Version)
	require.Equal(t, []string{"Ada"}, pl.Authors)
	require.Equal(t, []string{"test.*", "studio.*"}, pl.Host)
	require.Equal(t, "start", p.OnLoad.Name)
	require.Equal(t, "stop", p.OnUnload.Name)
	var names []string
	for _, e := range p.Exports {
		names = append(names, e.Name+":"+e.Proc.Name)
	}
	require.Equal(t, []string{"greet:greet", "count-vowels:count", "noop:noop"}, names)
	require.True(t, p.Uses[BLogInfo] && p.Uses[BConfig] && p.Uses[BHostCall])
	require.False(t, p.Uses[BPrintln])
	require.True(t, proc(p, "count").MayFail)
	require.False(t, proc(p, "greet").MayFail)
}

func TestCheck_mayFail(t *testing.T) {
	p, errs := checkSrc(t, `
proc a() -> i32 { fail("no") }
proc b() -> i32 { give a() + 1 }
proc c() -> i32 { give b() }
proc d() -> i32 { give 1 }
proc e() -> i32 { give e() }
`)
	require.Empty(t, errs)
	for name, want := range map[string]bool{"a": true, "b": true, "c": true, "d": false, "e": false} {
		require.Equal(t, want, proc(p, name).MayFail, name)
	}
}

func TestCheck_lowering(t *testing.T) {
	p, errs := checkSrc(t, `
proc f(s: str) -> i32 {
    let mut n = 0
    for c in s { n += c }
    for i in 0..=3 { n -= i }
    n <<= 1
    give n
}`)
	require.Empty(t, errs)
	body := proc(p, "f").Body
	// n = 0; sv = s; i = 0; loop; end = 3; i = 0; loop; n = n << 1; give
	var kinds []string
	for _, s := range body {
		kinds = append(kinds, strings.TrimPrefix(strings.TrimPrefix(typeName(s), "*check."), ""))
	}
	require.Equal(t, []string{"SetStmt", "SetStmt", "SetStmt", "LoopStmt", "SetStmt", "SetStmt", "LoopStmt", "SetStmt", "ReturnStmt"}, kinds)
	inclusive := body[6].(*LoopStmt)
	require.Len(t, inclusive.Post, 2, "an inclusive range stops before it increments past its end")
}

func typeName(s Stmt) string {
	switch s.(type) {
	case *SetStmt:
		return "SetStmt"
	case *LoopStmt:
		return "LoopStmt"
	case *ReturnStmt:
		return "ReturnStmt"
	}
	return "other"
}

func TestCheck_Errors(t *testing.T) {
	tests := []struct {
		name, with string
		expected   string
	}{
		{name: "mismatch", with: `proc f() -> i32 { give "a" }`, expected: "t.vit:1:24: mismatched types: expected i32 in the value given by f, found str"},
		{name: "poisoned once", with: `proc f() { let x = y; let z = x + 1; let w = x * "a" }`, expected: "t.vit:1:20: undefined name y"},
		{name: "typed let keeps its type", with: `proc f() { let x: i32 = "a"; let z: str = x }`, expected: "t.vit:1:25: mismatched types: expected i32 in the value of x, found str\nt.vit:1:43: mismatched types: expected str in the value of z, found i32: convert with to_str(x)"},
		{name: "self-referential constant", with: "const A: i32 = A + 1", expected: "t.vit:1:7: constant A refers to itself"},
		{name: "constant needs a constant value", with: "const A = len(\"x\")", expected: "t.vit:1:11: the value of constant A must be known at compile time: use literals, other constants and operators"},
		{name: "assignment to a constant", with: "const A = 1\nproc f() { set A = 2 }", expected: "t.vit:2:16: cannot assign to constant A"},
		{name: "string index assignment", with: "proc f(s: str) { s[0] = 1 }", expected: "t.vit:1:18: cannot assign to a byte of a string: strings are immutable, build a new one with slice and +"},
		{name: "range types", with: "proc f() { for i in 0..\"a\" { } }", expected: "t.vit:1:22: a range needs two integers of one type, found i32..str"},
		{name: "iterate over an int", with: "proc f() { for i in 5 { } }", expected: "t.vit:1:21: cannot iterate over a i32: for works on a range a..b or on the bytes of a str"},
		{name: "unknown macro", with: "proc f() { vec!(1) }", expected: "t.vit:1:12: unknown macro vec!: the macros are println!, print!, eprintln!, eprint!, format!, panic! and the built-ins (see docs/vitte.md)"},
		{name: "built-in arity", with: "proc f() -> str { give slice(\"a\", 1) }", expected: "t.vit:1:36: not enough arguments in call to slice: expected 3, found 2 (slice(s: str, from: i32, to: i32) -> str)"},
		{name: "no f64 formatting", with: "proc f() -> str { give to_str(1.5) }", expected: "t.vit:1:31: formatting an f64 is not supported yet: convert it first, as in x as i64"},
		{name: "no give in a unit proc", with: "proc f() { give 1 }", expected: "t.vit:1:17: proc f has no result, but give has a value of type i32: declare it with -> i32"},
		{name: "infinite loop needs no give", with: "proc f() -> i32 { loop { } }", expected: ""},
		{name: "if else both give", with: "proc f(b: bool) -> i32 { if b { give 1 } else { give 2 } }", expected: ""},
		{name: "tail if else", with: "fn f(b: bool) -> i32 { if b { 1 } else { 2 } }", expected: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := checkSrc(t, tc.with)
			require.Equal(t, tc.expected, strings.Join(errs, "\n"))
		})
	}
}
