package pdk

import (
	"errors"
	"fmt"
	"runtime/debug"
	"unsafe"
)

// This file holds the parts of the kit that do not depend on the wasm
// target: the allocator behind cabi_realloc, the pin table, and the
// bookkeeping of one handler call. guest_wasip1.go wires them to the ABI;
// guest_other.go stubs the ABI out so plugins also build (and unit-test) on
// the host.

// Level is the severity of a log message, as in the ABI's host.level enum.
type Level uint32

// The log levels, in the order of the ABI's enum.
const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

// String returns the level's name in the ABI: "trace", "debug", "info",
// "warn" or "error".
func (l Level) String() string {
	switch l {
	case LevelTrace:
		return "trace"
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	}
	return fmt.Sprintf("level(%d)", uint32(l))
}

// Header is one HTTP header field of a [Request] or [Response].
type Header struct {
	Name  string
	Value string
}

// Request is an outgoing HTTP request made with [HTTPRequest].
type Request struct {
	Method  string // "GET" if empty
	URL     string
	Headers []Header
	Body    []byte
}

// Response is the answer to a [Request].
type Response struct {
	Status  int
	Headers []Header
	Body    []byte
}

// HostError is the error returned by [HostCall] and [HTTPRequest] when the
// host answers with an error result (a denied capability, an unknown host
// function, a failed request, …).
//
// Its Error method returns the host's message verbatim, without any prefix,
// so that a plugin can pass it on unchanged.
type HostError struct {
	Message string
}

func (e *HostError) Error() string { return e.Message }

// ErrNoHost is returned by [HostCall] and [HTTPRequest] when the plugin is not
// running inside a vitte plugin host: built for the host (any GOOS but
// wasip1) to unit-test its logic.
var ErrNoHost = errors.New("pdk: not running inside a vitte plugin host")

// PanicError is what a handler or on-load function that panicked returns to
// the host: [Handle] and [OnLoad] recover the panic and turn it into an
// error result "panic: <value>", so the instance survives it.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack when it panicked
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// maxAlign is the largest alignment the Go allocator guarantees for a
// pointer-free object whose size is a multiple of it. Larger alignments are
// served by over-allocating.
const maxAlign = 8

// zeroBlock is where zero-size allocations and empty results point: a valid,
// 8-aligned, non-nil address that is never written.
var zeroBlock uint64

func zeroAddr() uintptr { return uintptr(unsafe.Pointer(&zeroBlock)) }

// arena hands out the memory behind cabi_realloc.
//
// Every block is an ordinary Go []byte. While the host owns it (between
// cabi_realloc and the moment the kit consumes it) the block is kept
// reachable in pins, keyed by its address, so the garbage collector can
// neither free nor reuse it. When the kit consumes a block it removes the pin
// and from then on the block is ordinary garbage-collected memory: an input
// that a handler keeps, or a string the host returned, stays valid for as
// long as Go code references it, and is freed by the collector afterwards.
type arena struct {
	pins map[uintptr][]byte
}

// alloc returns the address of a new zeroed block of size bytes aligned to
// align (a power of two) and pins it.
func (a *arena) alloc(align, size uintptr) uintptr {
	if align == 0 || align&(align-1) != 0 {
		panic(fmt.Sprintf("pdk: cabi_realloc: alignment %d is not a power of two", align))
	}
	if size == 0 {
		if align <= maxAlign {
			return zeroAddr()
		}
		size = 1 // an over-aligned empty block still needs an address of its own
	}
	var b []byte
	if align <= maxAlign {
		// Rounding the size up to a multiple of the alignment makes the Go
		// allocator (including its tiny allocator) align the block.
		b = make([]byte, (size+align-1)&^(align-1))
	}
	if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); b == nil || p&(align-1) != 0 {
		b = make([]byte, size+align-1)
		p = uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		b = b[(align-(p&(align-1)))&(align-1):]
	}
	b = b[:size:size]
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if a.pins == nil {
		a.pins = make(map[uintptr][]byte)
	}
	a.pins[p] = b
	return p
}

// realloc implements cabi_realloc(old, oldSize, align, newSize).
func (a *arena) realloc(old, oldSize, align, newSize uintptr) uintptr {
	if old == 0 {
		return a.alloc(align, newSize)
	}
	var ob []byte
	if old != zeroAddr() {
		var ok bool
		ob, ok = a.pins[old]
		if !ok {
			panic(fmt.Sprintf("pdk: cabi_realloc: %#x was not allocated by cabi_realloc or was already consumed", old))
		}
	}
	p := a.alloc(align, newSize)
	if newSize > 0 {
		copy(a.pins[p], ob[:min(oldSize, uintptr(len(ob)))])
	}
	delete(a.pins, old)
	return p
}

// take consumes the pinned block at ptr: it removes the pin and returns the
// block's first size bytes, which from now on live as long as Go references
// them. ok is false if ptr is not a pinned block at least size bytes long.
func (a *arena) take(ptr, size uintptr) (b []byte, ok bool) {
	if size == 0 {
		if ptr != 0 && ptr != zeroAddr() {
			delete(a.pins, ptr)
		}
		return nil, true
	}
	b, ok = a.pins[ptr]
	if !ok || uintptr(len(b)) < size {
		return nil, false
	}
	delete(a.pins, ptr)
	return b[:size:size], true
}

// forget drops every pin. The host never keeps a block across calls: each
// one it allocates is consumed within the same call (the input by the
// handler, returned strings by the import wrapper), so a pin still present
// at the start of a new call is a leftover of a call that failed halfway.
func (a *arena) forget() {
	clear(a.pins)
}

// pinned reports the number of pinned blocks and their total size.
func (a *arena) pinned() (n int, bytes int) {
	for _, b := range a.pins {
		n++
		bytes += cap(b)
	}
	return n, bytes
}

// result is a result<list<u8>, string> or result<_, string> before it is
// written to the 12-byte result area.
type result struct {
	tag  uint32 // 0 ok, 1 err
	ptr  uintptr
	size uintptr
}

// guest is the kit's state: the arena and the last result, which must stay
// valid until the host has copied it (cabi_post_<name> or the next call).
type guest struct {
	arena
	out []byte // the bytes of the last result, kept alive until released
	gc  gcWatch
}

// begin starts a call from the host: it releases the previous result and
// takes the input block. No previous block can be needed once the host calls
// the guest again.
func (g *guest) begin(ptr, size uintptr) (input []byte, ok bool) {
	g.out = nil
	input, ok = g.take(ptr, size)
	g.forget()
	return input, ok
}

// ok records a successful result with the given bytes.
func (g *guest) ok(out []byte) result {
	g.out = out
	if len(out) == 0 {
		return result{tag: 0, ptr: zeroAddr()}
	}
	return result{tag: 0, ptr: uintptr(unsafe.Pointer(unsafe.SliceData(out))), size: uintptr(len(out))}
}

// fail records an error result with the given message.
func (g *guest) fail(msg string) result {
	if msg == "" {
		g.out = nil
		return result{tag: 1, ptr: zeroAddr()}
	}
	b := []byte(msg)
	g.out = b
	return result{tag: 1, ptr: uintptr(unsafe.Pointer(unsafe.SliceData(b))), size: uintptr(len(b))}
}

// release forgets the last result: the host has copied it.
func (g *guest) release() { g.out = nil }

// call runs a handler, turning a panic into a *PanicError.
func call(fn func([]byte) ([]byte, error), input []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn(input)
}

// handle runs one handler call: ptr and size are the input block the host
// allocated through cabi_realloc.
func (g *guest) handle(ptr, size uintptr, fn func([]byte) ([]byte, error)) (result, error) {
	input, ok := g.begin(ptr, size)
	if !ok {
		return g.fail(fmt.Sprintf("pdk: input (%#x, %d) was not allocated through cabi_realloc", ptr, size)), nil
	}
	out, err := call(fn, input)
	if err != nil {
		return g.fail(err.Error()), err
	}
	return g.ok(out), nil
}

// load runs an on-load function.
func (g *guest) load(fn func() error) (result, error) {
	g.begin(0, 0)
	_, err := call(func([]byte) ([]byte, error) { return nil, fn() }, nil)
	if err != nil {
		return g.fail(err.Error()), err
	}
	return g.ok(nil), nil
}

// Interface guards
var (
	_ error = (*HostError)(nil)
	_ error = (*PanicError)(nil)
)
