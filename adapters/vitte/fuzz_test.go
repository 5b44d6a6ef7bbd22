package vitte

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
	"github.com/vitte-lang/vitte-plugin/internal/wasmbin"
)

// fuzzSeeds are the fixtures, the diagnostics tests and a few programs.
func fuzzSeeds(f *testing.F) {
	var files []string
	for _, pattern := range []string{
		"../../testdata/wasm/hello-vitte/*.vit",
		"../../testdata/wasm/vitte-*/*.vit",
		"testdata/errors/*.vit",
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"#![plugin(name = \"x\", version = \"1.0.0\")]\n#[export]\nproc run(input: str) -> str { give input }",
		"#[plugin(name = \"x\", version = \"1.0.0\")]\nfn on_load() { let mut i = 0; while i < 10 { i += 1; if i == 5 { continue } } }",
		"proc f(a: i32, b: i64) -> f64 { give (a as f64) * (b as f64) }\nproc g() -> bool { give not (1 < 2) or 3 != 4 }",
		"#[export(\"x-y\")]\nproc h(s: str) -> str { for c in s { if c == 'a' { fail(\"a: {}\", c) } } give format!(\"{}{}\", s, len(s)) }",
		"const A: i64 = 1 << 40\nproc f() -> i64 { give A >> 3 }",
		"proc f() -> str { let s = \"\\u{1F600}\"; give slice(s, 0, 2) + from_byte(65) }",
		"fn f(x: &str) -> String { x.to_string() }",
	} {
		f.Add([]byte(s))
	}
}

// FuzzCompile checks that the compiler never panics, that every error is
// located, and that every module it produces is valid WebAssembly and
// meets the ABI v1 contract.
func FuzzCompile(f *testing.F) {
	fuzzSeeds(f)
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	wasi := func(name string) (abi.FuncType, bool) {
		if name == "fd_write" {
			return abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32, abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}}, true
		}
		return abi.FuncType{}, false
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, diags := compile("fuzz.vit", src, false)
		if out == nil {
			if len(diags) == 0 {
				t.Fatal("compile failed without a diagnostic")
			}
			for _, d := range diags {
				if d.Line < 1 || d.Col < 1 || d.Msg == "" {
					t.Fatalf("bad diagnostic %+v", d)
				}
				if s := d.Format(); !strings.Contains(s, "^") {
					t.Fatalf("diagnostic without a caret: %q", s)
				}
			}
			return
		}
		if len(diags) != 0 {
			t.Fatalf("compile succeeded with diagnostics: %v", diags)
		}
		cm, err := rt.CompileModule(ctx, out.Module)
		if err != nil {
			t.Fatalf("invalid module: %v\nsource:\n%s", err, src)
		}
		cm.Close(ctx)
		mod, err := wasmbin.Parse(out.Module)
		if err != nil {
			t.Fatalf("module does not parse: %v", err)
		}
		if _, err := abi.CheckContract(mod.Imports, mod.Exports, wasi); err != nil {
			t.Fatalf("module breaks the ABI contract: %v\nsource:\n%s", err, src)
		}
	})
}

// TestCompile_hostileShapes compiles inputs shaped to exhaust a naive
// compiler: long operator chains, deep nesting, many arguments, long
// lines full of errors, long string folds. Each must end with a result or
// located errors, in bounded time and stack.
func TestCompile_hostileShapes(t *testing.T) {
	const n = 100000
	tests := []struct {
		name, with string
		ok         bool
	}{
		{name: "operator chain", with: "proc f() -> i32 { give " + strings.Repeat("1+", n) + "1 }"},
		{name: "string fold", with: "proc f() -> str { give " + strings.Repeat(`"`+strings.Repeat("a", 100)+`"+`, 1000) + `"" }`, ok: true},
		{name: "arguments", with: "proc f() { println!(\"\", " + strings.Repeat("1,", n) + "1) }"},
		{name: "elif chain", with: "proc f(x: i32) -> i32 { if x == 0 { give 0 } " + strings.Repeat("elif x == 1 { give 1 } ", 5000) + "give 2 }", ok: true},
		{name: "method chain", with: "proc f(s: str) -> str { give s" + strings.Repeat(".to_str()", n/10) + " }"},
		{name: "unary chain", with: "proc f() -> i32 { give " + strings.Repeat("-", n) + "1 }"},
		{name: "cast chain", with: "proc f() -> i32 { give 1" + strings.Repeat(" as i32", n/5) + " }"},
		{name: "parentheses", with: "proc f() { " + strings.Repeat("(", n) + "}"},
		{name: "blocks", with: "proc f() { " + strings.Repeat("{", n) + "}"},
		{name: "errors on one line", with: strings.Repeat("@", n)},
		{name: "syntax errors on one line", with: "proc f() { " + strings.Repeat(") ", n) + "}"},
		{name: "long line", with: "proc f() { let x = \"" + strings.Repeat("é", n) + " }"},
		{name: "too large", with: strings.Repeat(" ", MaxSourceSize+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, diags := compile("big.vit", []byte(tc.with), false)
			if tc.ok {
				if out == nil {
					t.Fatalf("does not compile: %v", diags[0])
				}
				ctx := context.Background()
				rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
				defer rt.Close(ctx)
				if _, err := rt.CompileModule(ctx, out.Module); err != nil {
					t.Fatalf("invalid module: %v", err)
				}
				return
			}
			if out != nil || len(diags) == 0 || len(diags) > syntax.MaxErrors+1 {
				t.Fatalf("expected 1 to %d diagnostics, got %d", syntax.MaxErrors+1, len(diags))
			}
		})
	}
}
