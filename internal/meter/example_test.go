package meter_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
)

// The host side of the protocol with wazero: out_of_fuel refills the
// counter until the host decides to stop the guest (here after three
// refills; a runtime checks the call's context).
func ExampleInstrument() {
	// (func (export "spin") (loop (br 0)))
	wasm := wasmgen.Module{
		Funcs:    []wasmgen.Func{{Type: abi.FuncType{}, Body: wasmgen.Loop, Export: "spin"}},
		NoMemory: true,
	}.Bytes()
	metered, err := meter.Instrument(wasm, meter.Options{})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	const quantum = 1000
	refills := 0
	errStop := errors.New("out of time")
	outOfFuel := func(ctx context.Context, mod api.Module, _ []uint64) {
		if refills == 3 { // or: if err := ctx.Err(); err != nil
			panic(errStop) // a host function's panic traps the call
		}
		refills++
		fuel := mod.ExportedGlobal(meter.GlobalName).(api.MutableGlobal)
		fuel.Set(fuel.Get() + quantum)
	}
	// limit: a stack overflow traps; any table growth is allowed.
	limit := func(ctx context.Context, mod api.Module, stack []uint64) {
		if api.DecodeI32(stack[0]) == meter.LimitStack {
			panic(errors.New("stack overflow"))
		}
		stack[0] = 1
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	_, err = r.NewHostModuleBuilder(meter.ImportModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(outOfFuel), nil, nil).Export(meter.ImportName).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(limit), []api.ValueType{i32, i64}, []api.ValueType{i32}).Export(meter.LimitName).
		Instantiate(ctx)
	if err != nil {
		panic(err)
	}
	mod, err := r.Instantiate(ctx, metered)
	if err != nil {
		panic(err)
	}

	fuel := mod.ExportedGlobal(meter.GlobalName).(api.MutableGlobal)
	fuel.Set(quantum) // before every call
	_, err = mod.ExportedFunction("spin").Call(ctx)
	fmt.Println(errors.Is(err, errStop), refills)
	fmt.Println("fuel used:", meter.Used(quantum, uint64(refills), int64(fuel.Get())))
	// Output:
	// true 3
	// fuel used: 4000
}
