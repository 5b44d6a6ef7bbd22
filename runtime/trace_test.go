package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// trapModule is a plugin whose handler h calls inner_fn, which calls an
// unnamed function, which calls leaf_fn, which traps.
func trapModule() []byte {
	call := func(idx byte) []byte { return wasmgen.Cat(wasmgen.LocalGet0, wasmgen.LocalGet1, []byte{0x10, idx}) }
	m := wasmgen.Plugin(
		wasmgen.Func{Type: abi.TypeHandler, Body: call(2), Export: "h", Name: "handle_h"},
		wasmgen.Func{Type: abi.TypeHandler, Body: call(3), Name: "inner_fn"},
		wasmgen.Func{Type: abi.TypeHandler, Body: call(4)},
		wasmgen.Func{Type: abi.TypeHandler, Body: wasmgen.Unreachable, Name: "leaf_fn"},
	)
	return m.Bytes()
}

// A trap says in which guest function it happened, and carries the guest's
// stack by the names of the module's name section, the same on each
// engine (the metering rewrites the module but keeps the names).
func TestTrap_FunctionNames(t *testing.T) {
	ctx := context.Background()
	dir := writePlugin(t, basicManifest, trapModule())
	for _, eng := range runtime.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			e := newRuntimeOn(t, eng, runtime.NewConfig())
			p, err := e.rt.Load(ctx, dir)
			require.NoError(t, err)
			defer p.Close(ctx)
			_, err = p.Call(ctx, "h", nil)
			require.ErrorIs(t, err, runtime.ErrTrap)
			assert.EqualError(t, err, `call plugin "made" function "h": trap: wasm error: unreachable in function leaf_fn`)
			var te *runtime.TrapError
			require.True(t, errors.As(err, &te))
			assert.Equal(t, "wasm error: unreachable", te.Message)
			assert.Equal(t, []runtime.Frame{{Function: "leaf_fn"}, {Function: ""}, {Function: "inner_fn"}, {Function: "handle_h"}}, te.Frames)
			assert.Equal(t, "leaf_fn\n?\ninner_fn\nhandle_h", te.Trace)
		})
	}
}

// A function name from the guest is cut to 256 bytes and its control
// characters replaced before it reaches an error message.
func TestTrap_HostileFunctionName(t *testing.T) {
	ctx := context.Background()
	name := "\x1b[31mred" + strings.Repeat("x", 1000)
	m := wasmgen.Plugin(wasmgen.Func{Type: abi.TypeHandler, Body: wasmgen.Unreachable, Export: "h", Name: name})
	e := newRuntime(t, runtime.NewConfig())
	p, err := e.rt.Load(ctx, writePlugin(t, basicManifest, m.Bytes()))
	require.NoError(t, err)
	defer p.Close(ctx)
	_, err = p.Call(ctx, "h", nil)
	var te *runtime.TrapError
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Frames, 1)
	want := "\uFFFD[31mred" + strings.Repeat("x", 256-len("\x1b[31mred"))
	assert.Equal(t, want, te.Frames[0].Function)
	assert.NotContains(t, err.Error(), "\x1b")
	assert.True(t, strings.HasSuffix(err.Error(), " in function "+want), err.Error())
}
