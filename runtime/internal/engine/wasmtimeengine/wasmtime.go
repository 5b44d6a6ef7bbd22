//go:build wasmtime

package wasmtimeengine

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	_ "github.com/bytecodealliance/wasmtime-go/v39" // links libwasmtime

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine/wazeroengine"
)

// Options configure the engine.
type Options struct {
	// HostFuncs are importable by every guest.
	HostFuncs []engine.HostFunc
	// Cache, when set, keeps compiled modules, serialized.
	Cache *Cache
}

type eng struct {
	engine *C.wasm_engine_t
	linker *C.wasmtime_linker_t
	cache  *Cache
	// funcs are the host functions, then the WASI functions; a function's
	// index is the env of its trampoline.
	funcs []hostFunc
	nHost int
	wasi  *wazeroengine.WASIHost
	types map[string]abi.FuncType // WASI

	mu     sync.Mutex
	closed bool
}

type hostFunc struct {
	name          string // module.name, for errors
	fn            func(context.Context, engine.Caller, []uint64) error
	params        []abi.ValueType
	nIn, nOut, nS int
}

// New creates an engine.
func New(ctx context.Context, opts Options) (engine.Engine, error) {
	wasi, err := wazeroengine.NewWASIHost(ctx)
	if err != nil {
		return nil, fmt.Errorf("WASI: %w", err)
	}
	e := &eng{engine: C.vitte_engine_new(), cache: opts.Cache, wasi: wasi, types: map[string]abi.FuncType{}}
	e.linker = C.wasmtime_linker_new(e.engine)
	define := func(module, name string, t abi.FuncType, fn func(context.Context, engine.Caller, []uint64) error) error {
		params, results := kinds(t.Params), kinds(t.Results)
		env := len(e.funcs)
		e.funcs = append(e.funcs, hostFunc{name: module + "." + name, fn: fn, params: t.Params, nIn: len(t.Params), nOut: len(t.Results), nS: max(len(t.Params), len(t.Results))})
		var pp, rp *C.uint8_t
		if len(params) > 0 {
			pp = (*C.uint8_t)(&params[0])
		}
		if len(results) > 0 {
			rp = (*C.uint8_t)(&results[0])
		}
		if err := errorOf(C.vitte_define(e.linker, cstr(module), C.size_t(len(module)), cstr(name), C.size_t(len(name)), pp, C.size_t(len(params)), rp, C.size_t(len(results)), C.uintptr_t(env))); err != nil {
			return fmt.Errorf("define %s.%s: %w", module, name, err)
		}
		return nil
	}
	for _, h := range opts.HostFuncs {
		if err := define(h.Module, h.Name, h.Type, h.Fn); err != nil {
			return nil, errors.Join(err, e.Close(ctx))
		}
	}
	e.nHost = len(e.funcs)
	for _, f := range wasi.Funcs() {
		e.types[f.Name] = f.Type
		if err := define("wasi_snapshot_preview1", f.Name, f.Type, nil); err != nil {
			return nil, errors.Join(err, e.Close(ctx))
		}
	}
	return e, nil
}

// kinds maps wasm value types to wasm_valkind_t.
func kinds(ts []abi.ValueType) []byte {
	out := make([]byte, len(ts))
	for i, t := range ts {
		switch t {
		case abi.I32:
			out[i] = 0
		case abi.I64:
			out[i] = 1
		case abi.F32:
			out[i] = 2
		case abi.F64:
			out[i] = 3
		}
	}
	return out
}

func (e *eng) WASIFunc(name string) (abi.FuncType, bool) {
	t, ok := e.types[name]
	return t, ok
}

func (e *eng) Close(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.linker != nil {
		C.wasmtime_linker_delete(e.linker)
	}
	// Stores hold the engine alive (wasmtime counts its references).
	C.wasm_engine_delete(e.engine)
	return e.wasi.Close(ctx)
}

func (e *eng) Compile(ctx context.Context, wasm []byte) (engine.Module, error) {
	if e.cache != nil {
		if m, ok := e.cache.load(e, wasm); ok {
			return m, nil
		}
	}
	m, err := e.compile(wasm)
	if err != nil {
		return nil, err
	}
	if e.cache != nil {
		e.cache.store(wasm, m)
	}
	return m, nil
}

func (e *eng) compile(wasm []byte) (*module, error) {
	if len(wasm) == 0 {
		return nil, errors.New("invalid module: empty")
	}
	var m *C.wasmtime_module_t
	if err := errorOf(C.wasmtime_module_new(e.engine, (*C.uint8_t)(&wasm[0]), C.size_t(len(wasm)), &m)); err != nil {
		return nil, err
	}
	return e.newModule(m), nil
}

func (e *eng) newModule(m *C.wasmtime_module_t) *module {
	var imports C.wasm_importtype_vec_t
	C.wasmtime_module_imports(m, &imports)
	var wasi []string
	for _, it := range unsafe.Slice(imports.data, imports.size) {
		if name(C.wasm_importtype_module(it)) == "wasi_snapshot_preview1" {
			wasi = append(wasi, name(C.wasm_importtype_name(it)))
		}
	}
	C.wasm_importtype_vec_delete(&imports)
	return &module{e: e, m: m, wasi: len(wasi) > 0, fsImports: wazeroengine.FSImports(wasi)}
}

// cstr points at s's bytes, for a C call that copies them.
func cstr(s string) *C.char { return (*C.char)(unsafe.Pointer(unsafe.StringData(s))) }

func name(n *C.wasm_name_t) string {
	return C.GoStringN((*C.char)(unsafe.Pointer(n.data)), C.int(n.size))
}

type module struct {
	e         *eng
	m         *C.wasmtime_module_t
	wasi      bool // imports WASI
	fsImports bool // imports a WASI function that names a path

	mu     sync.Mutex
	closed bool
}

func (m *module) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		C.wasmtime_module_delete(m.m)
	}
	return nil
}

func (m *module) Instantiate(ctx context.Context, cfg engine.InstanceConfig) (engine.Instance, error) {
	s := &store{e: m.e, ctx: ctx, cfg: cfg, globals: map[string]*global{}, funcs: map[string]*function{}}
	s.handle = cgo.NewHandle(s)
	s.store = C.vitte_store_new(m.e.engine, C.uintptr_t(s.handle))
	s.cctx = C.wasmtime_store_context(s.store)
	s.cur = s.cctx
	s.io = (*C.vitte_call_io)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vitte_call_io{}))))
	var trap *C.wasm_trap_t
	var mem *C.vitte_memory
	s.creating = true
	err := errorOf(C.vitte_instantiate(m.e.linker, s.cctx, m.m, C.size_t(cfg.MemoryLimit), C.uintptr_t(s.handle), &s.inst, &trap, &mem))
	s.creating = false
	if trap != nil {
		if err == nil {
			err = s.trapError(trap)
		} else {
			C.wasm_trap_delete(trap)
		}
	}
	if s.err != nil { // a host function's, from the start function
		err = s.err
	}
	if err != nil {
		s.free()
		return nil, err
	}
	var ext C.wasmtime_extern_t
	if !bool(C.vitte_export(s.cctx, &s.inst, cstr("memory"), C.size_t(len("memory")), &ext)) || ext.kind != C.WASMTIME_EXTERN_MEMORY || mem == nil {
		s.free()
		return nil, errors.New("module has no memory")
	}
	if C.wasmtime_memory_data(s.cctx, (*C.wasmtime_memory_t)(unsafe.Pointer(&ext.of))) != mem.base {
		s.free()
		return nil, errors.New("the exported memory is not the module's first memory")
	}
	s.mem = memory{mem}
	if m.wasi {
		w, err := m.e.wasi.Instantiate(ctx, cfg, s.mem, m.fsImports)
		if err != nil {
			s.free()
			return nil, err
		}
		s.wasi = w
	}
	return s, nil
}

// store is one instance, in its own wasmtime store.
type store struct {
	e      *eng
	handle cgo.Handle
	store  *C.wasmtime_store_t
	cctx   *C.wasmtime_context_t
	cur    *C.wasmtime_context_t // the store's, or the calling host function's
	io     *C.vitte_call_io      // a call's trap and watched global, in C memory (not escaping)
	inst   C.wasmtime_instance_t
	mem    memory
	wasi   *wazeroengine.WASIInstance
	cfg    engine.InstanceConfig

	ctx     context.Context // of the call in progress
	err     error           // a host function's, ending the call
	stack   []uint64        // host functions' parameters and results
	globals map[string]*global
	funcs   map[string]*function
	closed  bool

	// watch is the first settable global asked for (the fuel counter of a
	// metered module): each call writes it first when a write is pending
	// (io.set) and reads it back after (io.value), so that between calls
	// (depth 0) io.value is its value, and reading and writing it costs no
	// C call. During a call (depth > 0), guest code and host functions
	// may change it: it is read and written through wasmtime.
	watch *global
	depth int // calls in progress: nested ones through host functions
	// creating is set while the instance is created: its exports cannot
	// be found yet (wasmtime aborts the process on an instance not yet
	// made), so no host function may run (a start function's call).
	creating bool
}

func (s *store) free() {
	if s.closed {
		return
	}
	s.closed = true
	for _, f := range s.funcs {
		if f != nil {
			C.free(unsafe.Pointer(f.raw))
			C.free(unsafe.Pointer(f.fn))
		}
	}
	for _, g := range s.globals {
		if g != nil {
			C.free(unsafe.Pointer(g.g))
		}
	}
	C.wasmtime_store_delete(s.store)
	C.free(unsafe.Pointer(s.io))
	s.handle.Delete()
}

func (s *store) Memory() abi.Memory { return s.mem }

func (s *store) Func(name string) engine.Func {
	if f, ok := s.funcs[name]; ok {
		if f == nil {
			return nil
		}
		return f
	}
	var ext C.wasmtime_extern_t
	if !C.vitte_export(s.cctx, &s.inst, cstr(name), C.size_t(len(name)), &ext) || ext.kind != C.WASMTIME_EXTERN_FUNC {
		s.funcs[name] = nil
		return nil
	}
	// In C memory: its private pointer field, in Go memory, fails cgo's
	// pointer checks.
	f := &function{s: s, fn: (*C.wasmtime_func_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.wasmtime_func_t{}))))}
	*f.fn = *(*C.wasmtime_func_t)(unsafe.Pointer(&ext.of))
	f.setType()
	s.funcs[name] = f
	return f
}

func (s *store) Global(name string) engine.Global {
	if g, ok := s.globals[name]; ok {
		if g == nil {
			return nil
		}
		return g
	}
	var ext C.wasmtime_extern_t
	var g *global
	if C.vitte_export(s.cctx, &s.inst, cstr(name), C.size_t(len(name)), &ext) && ext.kind == C.WASMTIME_EXTERN_GLOBAL {
		// In C memory: a Go pointer argument costs cgo a check per call.
		g = &global{s: s, g: (*C.wasmtime_global_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.wasmtime_global_t{}))))}
		*g.g = *(*C.wasmtime_global_t)(unsafe.Pointer(&ext.of))
		g.kind = C.vitte_global_kind(s.cctx, g.g)
		if s.watch == nil && s.depth == 0 && bool(C.vitte_global_settable(s.cctx, g.g, g.kind)) {
			s.watch = g
			s.io.watch = g.g
			s.io.kind = g.kind
			s.io.value = C.vitte_global_get(s.cctx, g.g)
		}
	}
	s.globals[name] = g
	if g == nil {
		return nil
	}
	return g
}

func (s *store) Close(ctx context.Context) error {
	if s.closed {
		return nil
	}
	var err error
	if s.wasi != nil {
		err = s.wasi.Close(ctx)
	}
	s.free()
	return err
}

// global is an exported mutable global; Set on an immutable one is
// ignored, as wazero's api.MutableGlobal is never one.
type global struct {
	s    *store
	g    *C.wasmtime_global_t
	kind C.uint8_t
}

func (g *global) Get() uint64 {
	if s := g.s; g == s.watch && s.depth == 0 {
		return uint64(s.io.value)
	}
	return uint64(C.vitte_global_get(g.s.cur, g.g))
}

func (g *global) Set(v uint64) {
	s := g.s
	if g == s.watch && s.depth == 0 {
		// Written by the next call, first (vitte_call).
		if g.kind == C.WASMTIME_I32 {
			v = uint64(uint32(v)) // as vitte_global_get reads it back
		}
		s.io.value = C.int64_t(v)
		s.io.set = 1
		return
	}
	if err := C.vitte_global_set(s.cur, g.g, g.kind, C.int64_t(v)); err != nil {
		C.wasmtime_error_delete(err)
	}
}

// function is an exported function, called through wasmtime's unchecked
// call: parameters and results in a buffer of raw values owned by the
// function, no type check, no allocation.
type function struct {
	s         *store
	fn        *C.wasmtime_func_t
	raw       *C.wasmtime_val_raw_t
	buf       []C.wasmtime_val_raw_t
	nIn, nOut int
	mask      []uint64 // of each result
}

func (f *function) setType() {
	t := exportType(f.s, f.fn)
	f.nIn, f.nOut = len(t.Params), len(t.Results)
	n := max(f.nIn, f.nOut, 1)
	f.raw = (*C.wasmtime_val_raw_t)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.wasmtime_val_raw_t{}))))
	f.buf = unsafe.Slice(f.raw, n)
	f.mask = make([]uint64, f.nOut)
	for i, r := range t.Results {
		f.mask[i] = mask(r)
	}
}

// exportType is the type of an exported function.
func exportType(s *store, fn *C.wasmtime_func_t) abi.FuncType {
	ft := C.wasmtime_func_type(s.cctx, fn)
	defer C.wasm_functype_delete(ft)
	conv := func(v *C.wasm_valtype_vec_t) []abi.ValueType {
		var out []abi.ValueType
		for _, vt := range unsafe.Slice(v.data, v.size) {
			switch C.wasm_valtype_kind(vt) {
			case 0:
				out = append(out, abi.I32)
			case 1:
				out = append(out, abi.I64)
			case 2:
				out = append(out, abi.F32)
			case 3:
				out = append(out, abi.F64)
			default:
				out = append(out, abi.ValueType(0))
			}
		}
		return out
	}
	return abi.FuncType{Params: conv(C.wasm_functype_params(ft)), Results: conv(C.wasm_functype_results(ft))}
}

// cptr passes a pointer to C memory as an integer, which cgo does not
// check (see vitte_call).
func cptr(p unsafe.Pointer) C.uintptr_t { return C.uintptr_t(uintptr(p)) }

func mask(t abi.ValueType) uint64 {
	if t == abi.I32 || t == abi.F32 {
		return 0xffff_ffff
	}
	return ^uint64(0)
}

func (f *function) Call(ctx context.Context, stack []uint64) error {
	s := f.s
	if s.closed {
		return errors.New("instance is closed")
	}
	for i := range f.nIn {
		*(*uint64)(unsafe.Pointer(&f.buf[i])) = stack[i]
	}
	prevCtx, prevErr := s.ctx, s.err
	s.ctx, s.err = ctx, nil
	s.depth++
	cerr := C.vitte_call(cptr(unsafe.Pointer(s.cur)), cptr(unsafe.Pointer(f.fn)), cptr(unsafe.Pointer(f.raw)), C.size_t(len(f.buf)), cptr(unsafe.Pointer(s.io)))
	s.depth--
	trap := s.io.trap
	herr := s.err
	s.ctx, s.err = prevCtx, prevErr
	if cerr != nil || trap != nil {
		if trap != nil && herr != nil {
			// A host function failed the call: its error, with the
			// guest's stack at the call, as wazero gives it.
			frames := trapFrames(trap)
			C.wasm_trap_delete(trap)
			if len(frames) > 0 {
				return &engine.TraceError{Err: herr, Frames: frames}
			}
			return herr
		}
		if cerr != nil {
			if herr != nil {
				var vec C.wasm_frame_vec_t
				C.wasmtime_error_wasm_trace(cerr, &vec)
				frames := framesOf(&vec)
				C.wasmtime_error_delete(cerr)
				if len(frames) > 0 {
					return &engine.TraceError{Err: herr, Frames: frames}
				}
				return herr
			}
			return errorOf(cerr)
		}
		return s.trapError(trap)
	}
	for i := range f.nOut {
		stack[i] = *(*uint64)(unsafe.Pointer(&f.buf[i])) & f.mask[i]
	}
	return nil
}

// trapMessages are wazero's messages for the same traps: a trap reads the
// same on both engines.
var trapMessages = map[C.uint8_t]string{
	0:  "stack overflow",
	1:  "out of bounds memory access",
	2:  "unaligned atomic",
	3:  "invalid table access",
	4:  "invalid table access",
	5:  "indirect call type mismatch",
	6:  "integer overflow",
	7:  "integer divide by zero",
	8:  "invalid conversion to integer",
	9:  "unreachable",
	14: "null reference",
}

// trapError turns a trap into the engine's error, and deletes it. The
// message reads as wazero's for the same trap; the guest's stack comes
// from the trap's frames (an *engine.TraceError), not from the message,
// whose backtrace is wasmtime's own text.
func (s *store) trapError(trap *C.wasm_trap_t) error {
	var msg C.wasm_name_t
	C.wasm_trap_message(trap, &msg)
	text := strings.TrimRight(name(&msg), "\x00")
	C.wasm_byte_vec_delete(&msg)
	var code C.uint8_t
	known := bool(C.wasmtime_trap_code(trap, &code))
	frames := trapFrames(trap)
	C.wasm_trap_delete(trap)
	m, ok := trapMessages[code]
	if !known || !ok {
		// A trap of a host function's (vitte_host_trap) or one this
		// engine does not name: its stack all the same.
		if len(frames) > 0 {
			return &engine.TraceError{Err: errors.New(text), Frames: frames}
		}
		return errors.New(text)
	}
	trace := strings.ReplaceAll(text, "\n", "\n\t")
	if code == 0 { // wazero's has no prefix
		return &engine.StackOverflowError{Err: fmt.Errorf("%s\nwasm stack trace:\n\t%s", m, trace)}
	}
	err := fmt.Errorf("wasm error: %s\nwasm stack trace:\n\t%s", m, trace)
	if len(frames) == 0 {
		return err
	}
	return &engine.TraceError{Err: err, Frames: frames}
}

// maxFrames is the most frames of a trap kept (wazero keeps 30).
const maxFrames = 30

// trapFrames returns the guest's stack at a trap, innermost first.
func trapFrames(trap *C.wasm_trap_t) []engine.Frame {
	var vec C.wasm_frame_vec_t
	C.wasm_trap_trace(trap, &vec)
	return framesOf(&vec)
}

// framesOf returns the frames of vec, innermost first, and deletes vec.
func framesOf(vec *C.wasm_frame_vec_t) []engine.Frame {
	defer C.wasm_frame_vec_delete(vec)
	if vec.size == 0 || vec.data == nil {
		return nil
	}
	n := min(int(vec.size), maxFrames)
	frames := make([]engine.Frame, n)
	for i, f := range unsafe.Slice(vec.data, int(vec.size))[:n] {
		if fn := C.wasmtime_frame_func_name(f); fn != nil {
			frames[i].Function = name(fn)
		}
	}
	return frames
}

// errorOf turns a wasmtime error into a Go error, and deletes it.
func errorOf(err *C.wasmtime_error_t) error {
	if err == nil {
		return nil
	}
	var msg C.wasm_name_t
	C.wasmtime_error_message(err, &msg)
	text := name(&msg)
	C.wasm_byte_vec_delete(&msg)
	C.wasmtime_error_delete(err)
	return errors.New(text)
}

//export vitteHostCall
func vitteHostCall(env, handle C.uintptr_t, cctx *C.wasmtime_context_t, args *C.wasmtime_val_raw_t, n C.size_t) *C.wasm_trap_t {
	s := cgo.Handle(handle).Value().(*store)
	h := &s.e.funcs[env]
	if s.creating {
		s.err = fmt.Errorf("the module's start function called %s: the wasmtime engine runs no host function before the instance exists (build the module as a reactor, its initialisation in _initialize)", h.name)
		return C.vitte_host_trap()
	}
	prev := s.cur
	s.cur = cctx
	defer func() { s.cur = prev }()
	stack := s.stack
	if cap(stack) < h.nS {
		stack = make([]uint64, h.nS)
		s.stack = stack
	}
	stack = stack[:h.nS]
	raw := unsafe.Slice(args, n)
	for i, t := range h.params {
		stack[i] = *(*uint64)(unsafe.Pointer(&raw[i])) & mask(t)
	}
	err := s.callHost(h, int(env), stack)
	if err != nil {
		s.err = err
		return C.vitte_host_trap()
	}
	for i := range h.nOut {
		*(*uint64)(unsafe.Pointer(&raw[i])) = stack[i]
	}
	return nil
}

// callHost runs host function env. A panic becomes its error, as on
// wazero: a Go panic must not unwind through wasmtime's frames.
func (s *store) callHost(h *hostFunc, env int, stack []uint64) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// wazero's message, without its "(recovered by wazero)".
			if e, ok := v.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", v)
			}
		}
	}()
	if env >= s.e.nHost {
		return s.callWASI(env-s.e.nHost, stack)
	}
	return h.fn(s.ctx, caller{s}, stack)
}

func (s *store) callWASI(i int, stack []uint64) error {
	if s.wasi == nil {
		return errors.New("WASI called while the instance is created (a start function): not supported by the wasmtime engine")
	}
	// Host functions may reuse s.stack through a nested call: WASI calls
	// none, so stack stays ours.
	return s.wasi.Call(s.ctx, i, stack)
}

//export vitteMemoryDenied
func vitteMemoryDenied(handle C.uintptr_t, requested, limit C.size_t) {
	if handle == 0 {
		return
	}
	s := cgo.Handle(handle).Value().(*store)
	if s.cfg.MemoryDenied != nil {
		s.cfg.MemoryDenied(uint64(requested), uint64(limit))
	}
}

type caller struct{ s *store }

func (c caller) Memory() abi.Memory               { return c.s.mem }
func (c caller) Global(name string) engine.Global { return c.s.Global(name) }

// memory is a guest's linear memory; its base never moves, its size is
// read from C memory, without a call.
type memory struct{ m *C.vitte_memory }

func (m memory) Bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(m.m.base)), int(m.m.size))
}

func (m memory) Size() uint32 { return uint32(min(uint64(m.m.size), 1<<32-1)) }

func (m memory) Read(offset, n uint32) ([]byte, bool) {
	if uint64(offset)+uint64(n) > uint64(m.m.size) {
		return nil, false
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(m.m.base), offset)), n), true
}

func (m memory) Write(offset uint32, b []byte) bool {
	if uint64(offset)+uint64(len(b)) > uint64(m.m.size) {
		return false
	}
	copy(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(m.m.base), offset)), len(b)), b)
	return true
}

// Interface guards
var (
	_ engine.Engine   = (*eng)(nil)
	_ engine.Module   = (*module)(nil)
	_ engine.Instance = (*store)(nil)
	_ engine.Func     = (*function)(nil)
	_ abi.Memory      = memory{}
)

// callLoop calls f, an exported function without parameters, n times from
// C: what a call costs without cgo's part, for BenchmarkFuncCall.
func callLoop(f engine.Func, n int) {
	fn := f.(*function)
	C.vitte_call_loop(fn.s.cur, fn.fn, fn.raw, C.size_t(len(fn.buf)), C.size_t(n))
}

// cgoNop is an empty cgo call, for BenchmarkFuncCall.
func cgoNop() { C.vitte_nop() }
