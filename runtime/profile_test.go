package runtime_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// loopFunc is a function named name that counts n down to 0 in a loop,
// then returns an empty ok result.
func loopFunc(name string, n int32) wasmgen.Func {
	return wasmgen.Func{
		Type:   abi.TypeHandler,
		Locals: []abi.ValueType{abi.I32},
		Name:   name,
		Body: wasmgen.Cat(
			wasmgen.I32Const(n), []byte{0x21, 0x02}, // local.set 2
			[]byte{0x03, 0x40},                                                            // loop
			[]byte{0x20, 0x02}, wasmgen.I32Const(1), []byte{0x6b, 0x22, 0x02, 0x0d, 0x00}, // local.get 2; i32.sub 1; local.tee 2; br_if 0
			[]byte{0x0b},          // end
			wasmgen.I32Const(512), // a zeroed result area: ok, empty
		),
	}
}

// hotModule is a plugin whose handler h (handle_h) calls hot_fn, which
// loops ten times as long as cold_fn, which it calls next.
func hotModule() []byte {
	call := func(idx byte) []byte {
		return wasmgen.Cat(wasmgen.LocalGet0, wasmgen.LocalGet1, []byte{0x10, idx}, wasmgen.Drop)
	}
	m := wasmgen.Plugin(
		wasmgen.Func{Type: abi.TypeHandler, Body: wasmgen.Cat(call(2), call(3), wasmgen.I32Const(512)), Export: "h", Name: "handle_h"},
		loopFunc("hot_fn", 20_000_000),
		loopFunc("cold_fn", 2_000_000),
	)
	return m.Bytes()
}

// A profile samples the guest's stack each quantum of fuel, weighted by
// the fuel used: written in pprof's format, it shows the hot function
// under the handler, and its samples add up to the call's fuel, but for
// the part of a quantum after the last sample.
func TestProfile(t *testing.T) {
	ctx := context.Background()
	prof := runtime.NewProfile()
	e := newRuntimeOn(t, runtime.EngineWazero, runtime.NewConfig().WithProfile(prof))
	p, err := e.rt.Load(ctx, writePlugin(t, basicManifest, hotModule()))
	require.NoError(t, err)
	defer p.Close(ctx)
	_, err = p.Call(ctx, "h", nil)
	require.NoError(t, err)
	fuel := p.Stats().Fuel

	var buf bytes.Buffer
	n, err := prof.WriteTo(&buf)
	require.NoError(t, err)
	assert.EqualValues(t, buf.Len(), n)
	pp, err := profile.Parse(&buf)
	require.NoError(t, err)
	require.NoError(t, pp.CheckValid())
	require.Len(t, pp.SampleType, 2)
	assert.Equal(t, "fuel", pp.SampleType[1].Type)
	assert.Equal(t, "fuel", pp.DefaultSampleType)

	byLeaf := map[string]int64{}
	var total int64
	for _, s := range pp.Sample {
		var stack []string
		for _, l := range s.Location {
			stack = append(stack, l.Line[0].Function.Name)
			assert.Equal(t, "made", l.Line[0].Function.Filename)
		}
		require.Len(t, stack, 2, "leaf and handler: %v", stack)
		assert.Equal(t, "handle_h", stack[1])
		assert.Equal(t, []string{"made"}, s.Label["plugin"])
		assert.Equal(t, []string{"h"}, s.Label["handler"])
		byLeaf[stack[0]] += s.Value[1]
		total += s.Value[1]
	}
	t.Logf("fuel %d, sampled %d, by leaf %v, %d samples", fuel, total, byLeaf, len(pp.Sample))
	require.Contains(t, byLeaf, "hot_fn")
	require.Contains(t, byLeaf, "cold_fn")
	assert.Greater(t, byLeaf["hot_fn"], 5*byLeaf["cold_fn"], "hot_fn loops ten times as long: %v", byLeaf)
	assert.LessOrEqual(t, uint64(total), fuel)
	assert.Greater(t, uint64(total), fuel-(1<<20), "all the call's fuel but the last quantum's tail (call: %d)", fuel)
}

// Profiling needs the wazero engine: New refuses it on another.
func TestProfile_NeedsWazero(t *testing.T) {
	for _, eng := range runtime.Engines() {
		rt, err := runtime.New(context.Background(), runtime.NewConfig().WithEngine(eng).WithProfile(runtime.NewProfile()))
		if eng == runtime.EngineWazero {
			require.NoError(t, err)
			require.NoError(t, rt.Close(context.Background()))
			continue
		}
		require.ErrorIs(t, err, runtime.ErrEngineUnavailable)
		assert.ErrorContains(t, err, "profiling needs the wazero engine")
	}
}
