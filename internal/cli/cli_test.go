package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/vitte-lang/vitte-plugin/internal/cli"
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
	cache := t.TempDir() // shared by the scripts, as by a user's commands
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", fixtures)
			env.Setenv("VITTE_CACHE_DIR", cache)
			return nil
		},
		// [wasmtime]: the binary has the wasmtime engine.
		Condition: func(cond string) (bool, error) {
			if cond == "wasmtime" {
				return slices.Contains(runtime.Engines(), runtime.EngineWasmtime), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}
