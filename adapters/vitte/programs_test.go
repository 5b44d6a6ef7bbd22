package vitte

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// progGen writes random well-typed programs, to exercise the code
// generator far more than byte mutations can.
type progGen struct {
	r     *rand.Rand
	b     strings.Builder
	vars  map[string][]string // by type
	procs []genProc
	n     int
	loops int
}

type genProc struct {
	name   string
	params []string // types
	result string
}

var genTypes = []string{"i32", "i64", "f64", "bool", "str"}

func (g *progGen) fresh() string { g.n++; return fmt.Sprintf("v%d", g.n) }

func (g *progGen) pick(xs []string) string { return xs[g.r.Intn(len(xs))] }

func (g *progGen) expr(t string, depth int) string {
	if depth > 3 || g.r.Intn(4) == 0 {
		if vs := g.vars[t]; len(vs) > 0 && g.r.Intn(2) == 0 {
			return g.pick(vs)
		}
		switch t {
		case "i32":
			return fmt.Sprint(g.r.Intn(200) - 100)
		case "i64":
			return fmt.Sprintf("%di64", g.r.Int63n(1<<40)-1<<39)
		case "f64":
			return fmt.Sprintf("%d.%d", g.r.Intn(100), g.r.Intn(10))
		case "bool":
			return g.pick([]string{"true", "false"})
		default:
			return g.pick([]string{`""`, `"a"`, `"héllo"`, `"\u{1F600}"`, `"x\ty"`})
		}
	}
	d := depth + 1
	switch t {
	case "i32":
		switch g.r.Intn(9) {
		case 0:
			return fmt.Sprintf("(%s %s %s)", g.expr("i32", d), g.pick([]string{"+", "-", "*", "&", "|", "^", "<<", ">>"}), g.expr("i32", d))
		case 1:
			return fmt.Sprintf("len(%s)", g.expr("str", d))
		case 2:
			return fmt.Sprintf("(%s as i32)", g.expr(g.pick([]string{"i64", "f64", "bool"}), d))
		case 3:
			return fmt.Sprintf("-%s", g.expr("i32", d))
		case 4:
			return fmt.Sprintf("!%s", g.expr("i32", d))
		case 5:
			return fmt.Sprintf("(%s %% 7 + 8)", g.expr("i32", d))
		case 6:
			return "'a'"
		}
	case "i64":
		switch g.r.Intn(5) {
		case 0:
			return fmt.Sprintf("(%s %s %s)", g.expr("i64", d), g.pick([]string{"+", "-", "*", "&", "|", "^"}), g.expr("i64", d))
		case 1:
			return fmt.Sprintf("(%s as i64)", g.expr(g.pick([]string{"i32", "f64", "bool"}), d))
		case 2:
			return fmt.Sprintf("(%s / 3i64)", g.expr("i64", d))
		}
	case "f64":
		switch g.r.Intn(4) {
		case 0:
			return fmt.Sprintf("(%s %s %s)", g.expr("f64", d), g.pick([]string{"+", "-", "*", "/"}), g.expr("f64", d))
		case 1:
			return fmt.Sprintf("(%s as f64)", g.expr(g.pick([]string{"i32", "i64", "bool"}), d))
		case 2:
			return fmt.Sprintf("-%s", g.expr("f64", d))
		}
	case "bool":
		switch g.r.Intn(5) {
		case 0:
			ct := g.pick([]string{"i32", "i64", "f64", "str"})
			return fmt.Sprintf("(%s %s %s)", g.expr(ct, d), g.pick([]string{"==", "!=", "<", "<=", ">", ">="}), g.expr(ct, d))
		case 1:
			return fmt.Sprintf("(%s %s %s)", g.expr("bool", d), g.pick([]string{"and", "or", "&&", "||", "==", "!="}), g.expr("bool", d))
		case 2:
			return fmt.Sprintf("not %s", g.expr("bool", d))
		case 3:
			return fmt.Sprintf("has_config(%s)", g.expr("str", d))
		}
	case "str":
		switch g.r.Intn(7) {
		case 0:
			return fmt.Sprintf("(%s + %s)", g.expr("str", d), g.expr("str", d))
		case 1:
			return fmt.Sprintf("to_str(%s)", g.expr(g.pick([]string{"i32", "i64", "bool", "str"}), d))
		case 2:
			return fmt.Sprintf("format!(\"<{}|{}>\", %s, %s)", g.expr("i32", d), g.expr("str", d))
		case 3:
			return fmt.Sprintf("config_or(%s, %s)", g.expr("str", d), g.expr("str", d))
		case 4:
			s := g.expr("str", d)
			return fmt.Sprintf("slice(%s, 0, 0)", s)
		case 5:
			return fmt.Sprintf("from_byte(%s & 127)", g.expr("i32", d))
		}
	}
	// A call of an earlier proc with this result.
	for _, p := range g.procs {
		if p.result == t && g.r.Intn(2) == 0 {
			var args []string
			for _, pt := range p.params {
				args = append(args, g.expr(pt, d))
			}
			return fmt.Sprintf("%s(%s)", p.name, strings.Join(args, ", "))
		}
	}
	return g.expr(t, 99)
}

func (g *progGen) stmts(indent string, depth int, result string) {
	n := 1 + g.r.Intn(4)
	for i := 0; i < n; i++ {
		switch k := g.r.Intn(10); {
		case k < 3 || depth > 2:
			t := g.pick(genTypes)
			v := g.fresh()
			fmt.Fprintf(&g.b, "%slet mut %s: %s = %s\n", indent, v, t, g.expr(t, 0))
			g.vars[t] = append(g.vars[t], v)
		case k == 3:
			t := g.pick(genTypes)
			if vs := g.vars[t]; len(vs) > 0 {
				fmt.Fprintf(&g.b, "%sset %s = %s\n", indent, g.pick(vs), g.expr(t, 0))
			}
		case k == 4:
			fmt.Fprintf(&g.b, "%sif %s {\n", indent, g.expr("bool", 0))
			g.block(indent+"    ", depth+1, result)
			fmt.Fprintf(&g.b, "%s} elif %s {\n", indent, g.expr("bool", 0))
			g.block(indent+"    ", depth+1, result)
			fmt.Fprintf(&g.b, "%s} else {\n", indent)
			g.block(indent+"    ", depth+1, result)
			fmt.Fprintf(&g.b, "%s}\n", indent)
		case k == 5:
			g.loops++
			i := g.fresh()
			fmt.Fprintf(&g.b, "%sfor %s in 0..%d {\n", indent, i, g.r.Intn(5))
			saved := g.vars["i32"]
			g.vars["i32"] = append(saved[:len(saved):len(saved)], i)
			g.block(indent+"    ", depth+1, result)
			g.vars["i32"] = saved
			fmt.Fprintf(&g.b, "%s    if %s { continue }\n%s    if %s { break }\n", indent, g.expr("bool", 2), indent, g.expr("bool", 2))
			fmt.Fprintf(&g.b, "%s}\n", indent)
			g.loops--
		case k == 6:
			c := g.fresh()
			fmt.Fprintf(&g.b, "%slet mut %s = 0\n%swhile %s < 3 {\n%s    set %s = %s + 1\n", indent, c, indent, c, indent, c, c)
			g.loops++
			g.block(indent+"    ", depth+1, result)
			g.loops--
			fmt.Fprintf(&g.b, "%s}\n", indent)
		case k == 7:
			fmt.Fprintf(&g.b, "%slog_debug(%s)\n", indent, g.expr("str", 0))
		case k == 8 && depth > 0:
			if g.r.Intn(4) == 0 {
				fmt.Fprintf(&g.b, "%sfail(%s)\n", indent, g.expr("str", 0))
			} else if result == "" {
				fmt.Fprintf(&g.b, "%sgive\n", indent)
			} else {
				fmt.Fprintf(&g.b, "%sgive %s\n", indent, g.expr(result, 0))
			}
			return // nothing may follow in this block
		default:
			fmt.Fprintf(&g.b, "%sprint(%s)\n", indent, g.expr(g.pick(genTypes[:2]), 0))
		}
	}
}

// block writes statements in a new scope.
func (g *progGen) block(indent string, depth int, result string) {
	saved := map[string][]string{}
	for k, v := range g.vars {
		saved[k] = v
	}
	g.stmts(indent, depth, result)
	g.vars = saved
}

// program returns a random plugin with helper procs and a handler run.
func randomProgram(seed int64) string {
	g := &progGen{r: rand.New(rand.NewSource(seed))}
	g.b.WriteString("#![plugin(name = \"gen\", version = \"0.1.0\")]\n#![config(k = \"v\")]\n\n")
	for i := 0; i < 1+g.r.Intn(4); i++ {
		p := genProc{name: fmt.Sprintf("p%d", i), result: g.pick(genTypes)}
		g.vars = map[string][]string{}
		var params []string
		for j := 0; j < g.r.Intn(4); j++ {
			t := g.pick(genTypes)
			name := fmt.Sprintf("a%d", j)
			p.params = append(p.params, t)
			params = append(params, name+": "+t)
			g.vars[t] = append(g.vars[t], name)
		}
		fmt.Fprintf(&g.b, "proc %s(%s) -> %s {\n", p.name, strings.Join(params, ", "), p.result)
		g.stmts("    ", 0, p.result)
		fmt.Fprintf(&g.b, "    give %s\n}\n\n", g.expr(p.result, 0))
		g.procs = append(g.procs, p)
	}
	g.vars = map[string][]string{"str": {"input"}}
	g.b.WriteString("#[export]\nproc run(input: str) -> str {\n")
	g.stmts("    ", 0, "str")
	fmt.Fprintf(&g.b, "    give %s\n}\n", g.expr("str", 0))
	return g.b.String()
}

// TestRandomPrograms compiles random well-typed programs, loads them and
// runs their handler: every one must compile to a module that loads, and a
// call must give an output, an error result or a trap, never hurt the
// host.
func TestRandomPrograms(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 20
	}
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithMaxTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	outcomes := map[string]int{}
	for seed := int64(0); seed < int64(n); seed++ {
		src := randomProgram(seed)
		out, err := Compile("gen.vit", []byte(src))
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, src)
		}
		dir := filepath.Join(t.TempDir(), "gen")
		if err := WriteDir(dir, out); err != nil {
			t.Fatal(err)
		}
		p, err := rt.Load(ctx, dir)
		if err != nil {
			t.Fatalf("seed %d: load: %v\n%s", seed, err, src)
		}
		_, err = p.Call(ctx, "run", []byte("some input"))
		switch {
		case err == nil:
			outcomes["ok"]++
		case strings.Contains(err.Error(), "plugin error"):
			outcomes["error result"]++
		case strings.Contains(err.Error(), "trap"):
			outcomes["trap"]++
		default:
			t.Fatalf("seed %d: %v\n%s", seed, err, src)
		}
		p.Close(ctx)
	}
	t.Logf("%d programs: %v", n, outcomes)
	if outcomes["ok"] == 0 {
		t.Fatal("no program ran to the end")
	}
}

// TestRandomPrograms_seeds writes random programs to
// testdata/fuzz/FuzzCompile when VITTE_WRITE_SEEDS is set.
func TestRandomPrograms_seeds(t *testing.T) {
	if os.Getenv("VITTE_WRITE_SEEDS") == "" {
		t.Skip("set VITTE_WRITE_SEEDS=1 to write seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzCompile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for seed := int64(0); seed < 20; seed++ {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", randomProgram(1000+seed))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("random-%02d", seed)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
