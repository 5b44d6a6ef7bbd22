package meter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// fuelHost is the host side of the metering protocol, as a test would
// write it: out_of_fuel counts the refill, asks stop whether to go on, and
// adds the quantum.
type fuelHost struct {
	quantum int64
	refills uint64
	global  api.MutableGlobal // the counter of the instance being called
	// stop, when set, is asked at every refill; an error stops the guest.
	stop func(ctx context.Context) error
	// stackLimit, when not zero, is what start sets the stack counter to.
	stackLimit int64
	overflows  int     // calls of limit for a stack overflow
	maxTable   int64   // see limit
	tableAsks  []int64 // the totals limit was asked about
}

// errStopped is what a fuelHost's stop returns in tests.
var errStopped = errors.New("stopped by the host")

func (h *fuelHost) outOfFuel(ctx context.Context, mod api.Module, _ []uint64) {
	h.refills++
	if h.stop != nil {
		if err := h.stop(ctx); err != nil {
			panic(err)
		}
	}
	g := fuelGlobal(mod)
	g.Set(g.Get() + uint64(h.quantum))
}

// start sets the counter of mod to the quantum before a call.
func (h *fuelHost) start(mod api.Module) {
	if h.global == nil {
		h.global = fuelGlobal(mod)
	}
	h.refills = 0
	h.global.Set(uint64(h.quantum))
	if h.stackLimit != 0 {
		mod.ExportedGlobal(StackGlobalName).(api.MutableGlobal).Set(uint64(h.stackLimit))
	}
}

// used is the fuel used since start.
func (h *fuelHost) used() int64 {
	return Used(h.quantum, h.refills, int64(h.global.Get()))
}

func fuelGlobal(mod api.Module) api.MutableGlobal {
	return mod.ExportedGlobal(GlobalName).(api.MutableGlobal)
}

// errStackOverflow is what a fuelHost's limit callback stops a guest
// with when its stack is exhausted.
var errStackOverflow = errors.New("stack overflow (test host)")

// limit is the limit callback: a stack overflow stops the guest; table
// growth is allowed up to maxTable elements in all (0: any).
func (h *fuelHost) limit(_ context.Context, _ api.Module, stack []uint64) {
	kind, value := api.DecodeI32(stack[0]), int64(stack[1])
	switch kind {
	case LimitStack:
		h.overflows++
		panic(errStackOverflow)
	case LimitTableGrow:
		h.tableAsks = append(h.tableAsks, value)
		stack[0] = 1
		if h.maxTable > 0 && value > h.maxTable {
			stack[0] = 0
		}
		return
	}
	panic(fmt.Sprintf("limit: unknown kind %d", kind))
}

// instantiate registers the host module vitte:meter.
func (h *fuelHost) instantiate(ctx context.Context, r wazero.Runtime) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	_, err := r.NewHostModuleBuilder(ImportModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(h.outOfFuel), nil, nil).Export(ImportName).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(h.limit), []api.ValueType{i32, i64}, []api.ValueType{i32}).Export(LimitName).
		Instantiate(ctx)
	return err
}

// stubPluginHost provides the imports of the plugin fixtures: WASI, and the
// vitte:plugin/host@1.0.0 and vitte:plugin/http@1.0.0 functions as no-ops.
func stubPluginHost(ctx context.Context, r wazero.Runtime) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return err
	}
	i32 := api.ValueTypeI32
	nop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
	_, err := r.NewHostModuleBuilder("vitte:plugin/host@1.0.0").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export("log").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export("config-get").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32, i32}, nil).Export("call").
		Instantiate(ctx)
	if err != nil {
		return err
	}
	_, err = r.NewHostModuleBuilder("vitte:plugin/http@1.0.0").
		NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32, i32, i32, i32, i32, i32}, nil).Export("request").
		Instantiate(ctx)
	return err
}

// fixture reads testdata/wasm/<dir>/<file> at the repository's root.
func fixture(tb testing.TB, dir, file string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wasm", dir, file))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// plugin is an instance of a plugin fixture, called the way the runtime
// calls it: input through cabi_realloc, handler, 12-byte result area.
type plugin struct {
	mod     api.Module
	realloc api.Function
	stack   []uint64
	fns     map[string]api.Function
}

func newPlugin(ctx context.Context, r wazero.Runtime, wasm []byte) (*plugin, error) {
	mod, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		return nil, err
	}
	return &plugin{mod: mod, realloc: mod.ExportedFunction("cabi_realloc"), stack: make([]uint64, 4), fns: map[string]api.Function{}}, nil
}

func (p *plugin) fn(name string) api.Function {
	f, ok := p.fns[name]
	if !ok {
		f = p.mod.ExportedFunction(name)
		p.fns[name] = f
	}
	return f
}

// call calls handler name with input and returns the tag (0 ok, 1 error)
// and the payload. A missing function is an error.
func (p *plugin) call(ctx context.Context, name string, input []byte) (byte, []byte, error) {
	fn := p.fn(name)
	if fn == nil {
		return 0, nil, fmt.Errorf("no function %q", name)
	}
	var ptr uint32
	if len(input) > 0 {
		p.stack[0], p.stack[1], p.stack[2], p.stack[3] = 0, 0, 1, uint64(len(input))
		if err := p.realloc.CallWithStack(ctx, p.stack); err != nil {
			return 0, nil, err
		}
		ptr = uint32(p.stack[0])
		if !p.mod.Memory().Write(ptr, input) {
			return 0, nil, errors.New("input out of memory")
		}
	}
	p.stack[0], p.stack[1] = uint64(ptr), uint64(len(input))
	if err := fn.CallWithStack(ctx, p.stack); err != nil {
		return 0, nil, err
	}
	ret := uint32(p.stack[0])
	area, ok := p.mod.Memory().Read(ret, 12)
	if !ok {
		return 0, nil, errors.New("result area out of memory")
	}
	tag := area[0]
	out, ok := p.mod.Memory().Read(binary.LittleEndian.Uint32(area[4:]), binary.LittleEndian.Uint32(area[8:]))
	if !ok {
		return 0, nil, errors.New("result out of memory")
	}
	out = append([]byte(nil), out...)
	if post := p.fn("cabi_post_" + name); post != nil {
		p.stack[0] = uint64(ret)
		if err := post.CallWithStack(ctx, p.stack); err != nil {
			return 0, nil, err
		}
	}
	return tag, out, nil
}
