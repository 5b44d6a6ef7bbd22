package runtime

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// BenchmarkInstantiate measures a new instance of an already compiled
// plugin: instantiate, _initialize, on-load (vitte), against raw wazero
// instantiating the same compiled module and calling the same exports.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	dir := filepath.Join("..", "testdata", "wasm", "hello-c")
	b.Run("hello-c/vitte", func(b *testing.B) {
		rt, err := New(ctx, NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		p, err := rt.Load(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			inst, err := p.newInstance(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := inst.inst.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hello-c/wazero", func(b *testing.B) {
		src, err := readPluginDir(dir, DefaultMaxModuleSize)
		if err != nil {
			b.Fatal(err)
		}
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		wasi_snapshot_preview1.MustInstantiate(ctx, r)
		// Same stubs as the external benchmark: functions that do nothing.
		if err := stubImports(ctx, r); err != nil {
			b.Fatal(err)
		}
		cm, err := r.CompileModule(ctx, src.module)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := mod.ExportedFunction("on-load").Call(ctx); err != nil {
				b.Fatal(err)
			}
			mod.Close(ctx)
		}
	})
}

// stubImports provides the ABI's host imports as functions that do nothing.
func stubImports(ctx context.Context, r wazero.Runtime) error {
	i32 := api.ValueTypeI32
	nop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
	_, err := r.NewHostModuleBuilder("vitte:plugin/host@1.0.0").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export("log").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export("config-get").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32, i32}, nil).Export("call").
		Instantiate(ctx)
	return err
}
