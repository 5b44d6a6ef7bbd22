package cli_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/internal/cli"
	"github.com/vitte-lang/vitte-plugin/internal/ocitest"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"vitte": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script. $FIXTURES
// is the repository's testdata/wasm.
func TestScripts(t *testing.T) {
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "testdata", "wasm"))
	if err != nil {
		t.Fatal(err)
	}
	pythonDir, err := python.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	// Shared by the scripts, as by a user's commands, and with the
	// runtime package's Python tests (pyCache): compiling the Python
	// interpreter takes seconds, minutes under -race.
	cache := filepath.Join(os.TempDir(), "vitte-test-compilation-cache")
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", fixtures)
			env.Setenv("VITTE_CACHE_DIR", cache)
			// The blob cache of pulled packages stays in $WORK.
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv(python.EnvDir, pythonDir)
			return nil
		},
		// [docker-registry]: a registry binary to test against; [wasmtime]:
		// the binary has the wasmtime engine; [python]: the Python
		// interpreter is built (always true in CI, where a missing one must
		// fail the script).
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "docker-registry":
				_, err := ocitest.Binary()
				return err == nil || os.Getenv("CI") == "true", nil
			case "python":
				_, err := python.Find(pythonDir)
				return err == nil || os.Getenv("CI") == "true", nil
			case "wasmtime":
				return slices.Contains(runtime.Engines(), runtime.EngineWasmtime), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"registry": cmdRegistry,
			"pprof":    cmdPprof,
		},
	})
}

// cmdRegistry is the script command "registry NAME [USER:PASSWORD]": it
// starts a real docker-registry (internal/ocitest) on 127.0.0.1 for the
// rest of the script, with htpasswd authentication when a user is given,
// and sets $NAME to its host:port. Without the binary it fails: scripts
// start with "[!docker-registry] skip", a condition that is true when the
// binary is there, and always in CI (CI=true), so that CI runs them.
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: registry NAME [USER:PASSWORD]")
	}
	if _, err := ocitest.Binary(); err != nil {
		ts.Fatalf("%v: scripts that need it start with [!docker-registry] skip, which does not skip in CI (CI=true)", err)
	}
	var opts ocitest.Options
	if len(args) == 2 {
		u, p, ok := strings.Cut(args[1], ":")
		if !ok {
			ts.Fatalf("want USER:PASSWORD, got %q", args[1])
		}
		opts.Users = map[string]string{u: p}
	}
	r, err := ocitest.Start(ts.MkAbs(".registry-"+args[0]), opts)
	ts.Check(err)
	ts.Defer(func() { r.Close() })
	ts.Setenv(args[0], r.Host)
}

// cmdPprof parses the pprof profile file and prints "hot <leaf> <- <caller>
// ..." for the stack with the most fuel and "handler <name>" for each
// handler its samples are labelled with.
func cmdPprof(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pprof file")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	p, err := profile.Parse(f)
	ts.Check(err)
	ts.Check(p.CheckValid())
	var hot *profile.Sample
	handlers := map[string]bool{}
	for _, s := range p.Sample {
		if hot == nil || s.Value[1] > hot.Value[1] {
			hot = s
		}
		for _, h := range s.Label["handler"] {
			handlers[h] = true
		}
	}
	if hot == nil {
		ts.Fatalf("%s: no samples", args[0])
	}
	var stack []string
	for _, l := range hot.Location {
		stack = append(stack, l.Line[0].Function.Name)
	}
	fmt.Fprintf(ts.Stdout(), "hot %s\n", strings.Join(stack, " <- "))
	for _, h := range slices.Sorted(maps.Keys(handlers)) {
		fmt.Fprintf(ts.Stdout(), "handler %s\n", h)
	}
}
