package syntax_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte/syntax"
)

// FuzzParse checks that the lexer and parser never panic, always
// terminate, and locate every error inside the file.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../../../testdata/wasm/*vitte*/*.vit", "../testdata/errors/*.vit"} {
		m, _ := filepath.Glob(pattern)
		for _, name := range m {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{"", "fn", "((((", "\"", "/*", "'", "#[", "#![plugin(", "proc f() { if x { } else }", "<<< zone", "0x", "1e", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := syntax.ParseFile("fuzz.vit", src)
		if file == nil {
			t.Fatal("nil file")
		}
		lines := strings.Count(string(src), "\n") + 1
		for _, d := range diags {
			if d.Line < 1 || d.Line > lines || d.Col < 1 || d.Msg == "" {
				t.Fatalf("bad diagnostic %+v in a %d-line file", d, lines)
			}
			_ = d.Format()
		}
		if len(diags) > syntax.MaxErrors+1 {
			t.Fatalf("%d diagnostics, more than the limit", len(diags))
		}
	})
}
