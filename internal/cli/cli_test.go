package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/internal/cli"
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
			env.Setenv(python.EnvDir, pythonDir)
			return nil
		},
		// [python]: the Python interpreter is built (always true in CI,
		// CI=true, where a missing one must fail the script).
		Condition: func(cond string) (bool, error) {
			if cond != "python" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := python.Find(pythonDir)
			return err == nil || os.Getenv("CI") == "true", nil
		},
	})
}
