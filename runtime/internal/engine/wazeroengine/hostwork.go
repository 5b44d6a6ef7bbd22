package wazeroengine

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"

	"github.com/vitte-lang/vitte-plugin/internal/meter"
)

// The work of WASI functions, charged to the guest's fuel (see the host
// cost model in internal/meter's host.go and "How is the work of host
// functions metered?" in docs/RATIONALE.md).
//
// Every WASI function is wrapped: before it runs, the wrapper computes
// what its work costs from its arguments and passes it to the instance's
// InstanceConfig.Charge, which charges the call's fuel and checks its
// deadline and budget; an error stops the guest there (the wrapper panics
// with it, which wazero turns into the error of the guest call), before
// any work. The costs:
//
//   - every function: meter.HostCallFuel;
//   - each element of a vector the function goes through, one by one (an
//     iovec of fd_read, fd_write, fd_pread, fd_pwrite, sock_recv,
//     sock_send; a subscription of poll_oneoff; a directory entry that
//     fits in fd_readdir's buffer; a component of a path, which os.Root
//     resolves one at a time): meter.HostCallFuel more;
//   - the bytes the function is asked to handle (the iovecs' buffers and
//     the iovec array itself, fd_readdir's buffer, the paths,
//     path_readlink's buffer, fd_prestat_dir_name's buffer, the
//     subscriptions and events of poll_oneoff, the environment of
//     environ_get): one unit per meter.HostBytesPerFuel;
//   - random_get's bytes: meter.RandomByteFuel each.
//
// The sizes are the ones the guest asks for, read from its arguments as
// wazero reads them, so the cost is deterministic; arguments out of the
// guest's memory cost the call alone (wazero answers EFAULT without doing
// anything).
//
// A vector of more than maxIovecs iovecs is refused with EINVAL, as Linux
// refuses more than IOV_MAX: one call would otherwise make millions of
// writes without the deadline being looked at.

// maxIovecs is the most iovecs one read or write may pass: Linux's
// IOV_MAX.
const maxIovecs = 1024

// direntSize is the size of a WASI dirent header: fd_readdir's buffer holds
// at most one entry per direntSize bytes, plus one (wazero's bound).
const direntSize = 24

// workInstances finds the metering of the instance calling a WASI
// function.
//
// last caches the last instance found: a loop of WASI calls from one
// instance then costs an atomic load and a comparison rather than a
// lookup of the map, which took 15% of a call making 64 small fd_writes
// (BenchmarkHostCallRatio). It holds the module, which therefore cannot be
// reused for another instance while cached; forget clears it.
type workInstances struct {
	m    sync.Map // api.Module -> *instWork
	last atomic.Pointer[instWork]
}

// instWork is what the WASI functions of one instance charge to.
type instWork struct {
	mod      api.Module
	charge   func(ctx context.Context, fuel uint64) error
	envBytes uint64 // what environ_get writes
}

func (r *workInstances) lookup(mod api.Module) *instWork {
	if w := r.last.Load(); w != nil && w.mod == mod {
		return w
	}
	if v, ok := r.m.Load(mod); ok {
		w := v.(*instWork)
		r.last.Store(w)
		return w
	}
	return nil
}

// costFunc returns the fuel of a call with params, or a non-zero WASI
// errno refusing it without doing anything.
type costFunc func(mem api.Memory, params []uint64, w *instWork) (fuel uint64, errno uint64)

// wasiCosts are the costs past meter.HostCallFuel, by function; the
// functions not listed cost meter.HostCallFuel alone (a clock, a seek, a
// stat of an open file: work of a fixed size).
var wasiCosts = func() map[string]costFunc {
	vec := func(mem api.Memory, p []uint64, _ *instWork) (uint64, uint64) {
		return iovecs(mem, uint32(p[1]), uint32(p[2])) // fd (or socket), iovs, iovs_len, ...
	}
	m := map[string]costFunc{
		"fd_read":   vec,
		"fd_write":  vec,
		"fd_pread":  vec,
		"fd_pwrite": vec,
		"sock_recv": vec,
		"sock_send": vec,
		"random_get": func(_ api.Memory, p []uint64, _ *instWork) (uint64, uint64) {
			return meter.RandomFuel(uint64(uint32(p[1]))), 0
		},
		"fd_readdir": func(_ api.Memory, p []uint64, _ *instWork) (uint64, uint64) {
			n := uint64(uint32(p[2]))
			return add(meter.HostFuel(n), elements(n/direntSize+1)), 0
		},
		"fd_prestat_dir_name": func(_ api.Memory, p []uint64, _ *instWork) (uint64, uint64) {
			return meter.HostFuel(uint64(uint32(p[2]))), 0
		},
		"poll_oneoff": func(_ api.Memory, p []uint64, _ *instWork) (uint64, uint64) {
			const subscription, event = 48, 32
			n := uint64(uint32(p[2]))
			return add(meter.HostFuel(n*(subscription+event)), elements(n)), 0
		},
		"environ_get": func(_ api.Memory, _ []uint64, w *instWork) (uint64, uint64) {
			return meter.HostFuel(w.envBytes), 0
		},
	}
	for name, pf := range wasiPathFuncs {
		args := pf.paths
		var extra pathArg // a second byte range: symlink's target, readlink's buffer
		switch name {
		case "path_symlink":
			extra = pathArg{ptr: 0, len: 1}
		case "path_readlink":
			extra = pathArg{ptr: 3, len: 4}
		}
		m[name] = func(mem api.Memory, p []uint64, _ *instWork) (uint64, uint64) {
			var n, parts uint64
			for _, a := range args {
				b, ok := mem.Read(uint32(p[a.ptr]), uint32(p[a.len]))
				if !ok {
					return meter.HostCallFuel, 0 // EFAULT
				}
				n += uint64(len(b))
				parts += uint64(bytes.Count(b, []byte{'/'})) + 1
			}
			if extra.len != 0 {
				n += uint64(uint32(p[extra.len]))
			}
			return add(meter.HostFuel(n), elements(parts)), 0
		}
	}
	return m
}()

// iovecs is the cost of a read or write through the iovec array at iovs
// of count entries, read as wazero reads it (count<<3 wraps as in wazero).
func iovecs(mem api.Memory, iovs, count uint32) (uint64, uint64) {
	if count > maxIovecs {
		return meter.HostCallFuel, wasiEINVAL
	}
	stop := count << 3
	b, ok := mem.Read(iovs, stop)
	if !ok {
		return meter.HostCallFuel, 0 // EFAULT
	}
	n := uint64(stop)
	for i := uint32(0); i < stop; i += 8 {
		n += uint64(binary.LittleEndian.Uint32(b[i+4:]))
	}
	return add(meter.HostFuel(n), elements(uint64(count))), 0
}

// elements is the fuel of going through n elements, one by one.
func elements(n uint64) uint64 {
	if n > ^uint64(0)/meter.HostCallFuel {
		return ^uint64(0)
	}
	return n * meter.HostCallFuel
}

func add(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// wrapWork charges a WASI function's work before running it.
func wrapWork(name string, orig api.GoModuleFunction, reg *workInstances) api.GoModuleFunction {
	cost := wasiCosts[name]
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		w := reg.lookup(mod)
		if w == nil {
			// Not metered: an engine without Charge, or a module not
			// registered yet (no start function runs: instantiate).
			orig.Call(ctx, mod, stack)
			return
		}
		fuel, errno := uint64(meter.HostCallFuel), uint64(0)
		if cost != nil {
			if mem := mod.Memory(); mem != nil {
				fuel, errno = cost(mem, stack, w)
			}
		}
		if err := w.charge(ctx, fuel); err != nil {
			// wazero recovers the panic and returns the error, wrapped, from
			// the guest call that reached this function.
			panic(err)
		}
		if errno != 0 {
			stack[0] = errno
			return
		}
		orig.Call(ctx, mod, stack)
	})
}

// registerWork makes the WASI functions called by mod charge to charge.
func (r *workInstances) register(mod api.Module, charge func(context.Context, uint64) error, env []string) {
	if charge == nil {
		return
	}
	w := &instWork{mod: mod, charge: charge}
	for _, kv := range env {
		w.envBytes += uint64(len(kv)) + 1 + 4 // the string, its NUL, its pointer
	}
	r.m.Store(mod, w)
}

func (r *workInstances) forget(mod api.Module) {
	v, ok := r.m.LoadAndDelete(mod)
	if ok {
		r.last.CompareAndSwap(v.(*instWork), nil)
	}
}
