package wazeroengine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// WASIHost serves this package's WASI (wazero's functions, the os.Root
// mounts, the deny mount and the refusal reports of rootfs.go and
// wasifs.go) to the guests of another engine, so that a guest sees the
// same files, errnos, clocks and random bytes, and the auditor the same
// refusals, whichever engine runs it.
//
// Each guest instance gets a proxy: a small wazero module whose linear
// memory is the guest's own (its allocator hands wazero the guest memory's
// bytes, which must not move), and which exports, for each WASI function,
// a function that calls it. The other engine's WASI import calls the
// proxy's export: wazero's function then runs as if the proxy had called
// it, on the guest's memory.
type WASIHost struct {
	eng   *eng
	proxy wazero.CompiledModule
	funcs []WASIFunc
}

// WASIFunc is a WASI function a WASIHost provides.
type WASIFunc struct {
	Name string
	Type abi.FuncType
}

// NewWASIHost creates a WASI host.
func NewWASIHost(ctx context.Context) (*WASIHost, error) {
	e, err := New(ctx, Options{})
	if err != nil {
		return nil, err
	}
	h := &WASIHost{eng: e.(*eng)}
	for name, t := range h.eng.wasi {
		h.funcs = append(h.funcs, WASIFunc{Name: name, Type: t})
	}
	slices.SortFunc(h.funcs, func(a, b WASIFunc) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	m := wasmgen.Module{MemoryMax: 65536, HasMemoryMax: true, ExportMemory: "memory"}
	for i, f := range h.funcs {
		m.Imports = append(m.Imports, wasmgen.Import{Module: wasi_snapshot_preview1.ModuleName, Name: f.Name, Type: f.Type})
		var body []byte
		for p := range f.Type.Params {
			body = wasmgen.U32(append(body, 0x20), uint32(p)) // local.get p
		}
		body = wasmgen.U32(append(body, 0x10), uint32(i)) // call i
		m.Funcs = append(m.Funcs, wasmgen.Func{Type: f.Type, Body: body, Export: f.Name})
	}
	cm, err := h.eng.rt.CompileModule(ctx, m.Bytes())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("compile the WASI proxy: %w", err), e.Close(ctx))
	}
	h.proxy = cm
	return h, nil
}

// Funcs returns the WASI functions, sorted by name: the index of one is
// its index for WASIInstance.Call.
func (h *WASIHost) Funcs() []WASIFunc { return h.funcs }

// Close frees the host and every instance.
func (h *WASIHost) Close(ctx context.Context) error { return h.eng.Close(ctx) }

// FSImports reports whether a module importing these WASI functions can
// name a path (see fsImports): only then is the deny mount added.
func FSImports(wasiImports []string) bool {
	for _, name := range wasiImports {
		if _, ok := wasiPathFuncs[name]; ok || name == "fd_readdir" {
			return true
		}
	}
	return false
}

// GuestMemory gives the proxy the guest's memory: Bytes returns its current
// bytes, whose address must never change.
type GuestMemory interface {
	Bytes() []byte
}

// WASIInstance is the WASI of one guest instance. It is not safe for
// concurrent use.
type WASIInstance struct {
	inst  *instance
	mem   api.Memory
	guest GuestMemory
	funcs []api.Function
}

// Instantiate creates the WASI of one guest instance, configured by cfg
// (its MemoryLimit is not used: the guest's engine enforces it);
// fsImports is FSImports of the guest's imports.
func (h *WASIHost) Instantiate(ctx context.Context, cfg engine.InstanceConfig, guest GuestMemory, fsImports bool) (*WASIInstance, error) {
	cfg.MemoryLimit = 0
	ictx := experimental.WithMemoryAllocator(ctx, aliasAllocator{guest})
	ei, err := h.eng.instantiate(ictx, h.proxy, fsImports, cfg)
	if err != nil {
		return nil, err
	}
	inst := ei.(*instance)
	w := &WASIInstance{inst: inst, mem: inst.mod.Memory(), guest: guest}
	for _, f := range h.funcs {
		w.funcs = append(w.funcs, inst.mod.ExportedFunction(f.Name))
	}
	return w, nil
}

// Call runs WASI function i (an index in Funcs) with stack, after making
// the proxy's memory the guest's current memory.
func (w *WASIInstance) Call(ctx context.Context, i int, stack []uint64) error {
	if n := uint64(len(w.guest.Bytes())); n > uint64(w.mem.Size()) {
		if _, ok := w.mem.Grow(uint32((n - uint64(w.mem.Size())) / 65536)); !ok {
			return fmt.Errorf("WASI: follow the guest memory to %d bytes", n)
		}
	}
	if err := w.funcs[i].CallWithStack(ctx, stack); err != nil {
		return mapError(ctx, err)
	}
	return nil
}

// Close drops the instance, closing its mounts.
func (w *WASIInstance) Close(ctx context.Context) error { return w.inst.Close(ctx) }

// aliasAllocator makes a wazero memory over a guest memory of another
// engine.
type aliasAllocator struct{ guest GuestMemory }

func (a aliasAllocator) Allocate(uint64, uint64) experimental.LinearMemory { return aliasMemory(a) }

type aliasMemory struct{ guest GuestMemory }

// Reallocate returns the guest's bytes, up to size: wazero grows the proxy
// only to the guest's size (WASIInstance.Call).
func (m aliasMemory) Reallocate(size uint64) []byte {
	b := m.guest.Bytes()
	if size > uint64(len(b)) {
		return nil
	}
	return b[:size:size]
}

func (aliasMemory) Free() {}
