//go:build !wasmtime

package runtime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

func TestWithEngine_NotBuilt(t *testing.T) {
	assert.Equal(t, []runtime.Engine{runtime.EngineWazero}, runtime.Engines())
	_, err := runtime.New(context.Background(), runtime.NewConfig().WithEngine(runtime.EngineWasmtime))
	assert.ErrorIs(t, err, runtime.ErrEngineUnavailable)
	assert.ErrorContains(t, err, "rebuild with -tags wasmtime")
}
