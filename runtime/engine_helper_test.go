package runtime_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// testEngine is the engine the tests run on: wasmtime when the tests are
// built with the wasmtime tag (go test -tags wasmtime ./runtime/...),
// wazero otherwise; VITTE_TEST_ENGINE overrides it.
func testEngine(t testing.TB) runtime.Engine {
	t.Helper()
	name := os.Getenv("VITTE_TEST_ENGINE")
	if name == "" {
		return runtime.Engines()[len(runtime.Engines())-1]
	}
	e, err := runtime.ParseEngine(name)
	require.NoError(t, err, "VITTE_TEST_ENGINE")
	return e
}
