//go:build wasip1

package pdk

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"
)

// state is the kit's only state. A wasm instance runs one call at a time on
// one thread, so it needs no lock.
var state guest

// resultArea is the 12-byte, 4-aligned area that handlers and on-load return
// a pointer to. It is a package variable, so its address never changes.
var resultArea [3]uint32

// importArea is where the host writes the results of imports: 12 bytes for
// config-get and call, 24 for http.request.
var importArea [6]uint32

func areaAddr(a *[3]uint32) uint32 { return uint32(uintptr(unsafe.Pointer(a))) }

func writeResult(r result) uint32 {
	resultArea = [3]uint32{r.tag, uint32(r.ptr), uint32(r.size)}
	return areaAddr(&resultArea)
}

//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	return uint32(state.realloc(uintptr(oldPtr), uintptr(oldSize), uintptr(align), uintptr(newSize)))
}

// Handle runs fn as the handler of one call and returns the pointer to its
// result area. Call it, and nothing else, from the exported shim of each
// handler:
//
//	//go:wasmexport greet
//	func greet(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Greet) }
//
// The input passed to fn is the block the host allocated through
// cabi_realloc; fn owns it and may keep or modify it. The bytes fn returns
// must not be modified afterwards: they stay reachable until the host has
// copied them (see [Post]). An error becomes the error result err.Error();
// a panic in fn is recovered and becomes the error result "panic: <value>",
// with the stack logged at [LevelError].
func Handle(ptr, size uint32, fn func(input []byte) ([]byte, error)) uint32 {
	r, err := state.handle(uintptr(ptr), uintptr(size), fn)
	if p, ok := err.(*PanicError); ok {
		Log(LevelError, p.Error()+"\n"+string(p.Stack))
	}
	state.gc.afterCall(uintptr(size) + r.size)
	return writeResult(r)
}

// OnLoad runs fn as the plugin's on-load function and returns the pointer to
// its result area. Call it from the on-load shim:
//
//	//go:wasmexport on-load
//	func onLoad() uint32 { return pdk.OnLoad(Load) }
//
// An error returned by fn (or a panic, as in [Handle]) makes the host refuse
// to load the plugin, with err.Error() as the reason.
func OnLoad(fn func() error) uint32 {
	r, err := state.load(fn)
	if p, ok := err.(*PanicError); ok {
		Log(LevelError, p.Error()+"\n"+string(p.Stack))
	}
	state.gc.afterCall(r.size)
	return writeResult(r)
}

// OnUnload runs fn as the plugin's on-unload function. Call it from the
// on-unload shim:
//
//	//go:wasmexport on-unload
//	func onUnload() { pdk.OnUnload(Unload) }
//
// A panic in fn is recovered and logged at [LevelError].
func OnUnload(fn func()) {
	state.begin(0, 0)
	_, err := call(func([]byte) ([]byte, error) { fn(); return nil, nil }, nil)
	if p, ok := err.(*PanicError); ok {
		Log(LevelError, "on-unload: "+p.Error()+"\n"+string(p.Stack))
	}
}

// Post releases the result of the last call. Exporting it as
// cabi_post_<name> is optional: without it the kit releases a result when
// the host next calls into the plugin, which is also correct; with it, a large
// result is released as soon as the host has copied it.
//
//	//go:wasmexport cabi_post_greet
//	func postGreet(ptr uint32) { pdk.Post(ptr) }
func Post(ptr uint32) {
	_ = ptr // the kit keeps one result at a time; ptr is always resultArea
	state.release()
}

//go:wasmimport vitte:plugin/host@1.0.0 log
//go:noescape
func hostLog(level uint32, msg unsafe.Pointer, msgLen uint32)

//go:wasmimport vitte:plugin/host@1.0.0 config-get
//go:noescape
func hostConfigGet(key unsafe.Pointer, keyLen uint32, ret unsafe.Pointer)

//go:wasmimport vitte:plugin/host@1.0.0 call
//go:noescape
func hostCall(name unsafe.Pointer, nameLen uint32, payload unsafe.Pointer, payloadLen uint32, ret unsafe.Pointer)

//go:wasmimport vitte:plugin/http@1.0.0 request
//go:noescape
func httpRequest(method unsafe.Pointer, methodLen uint32, url unsafe.Pointer, urlLen uint32,
	headers unsafe.Pointer, headersLen uint32, body unsafe.Pointer, bodyLen uint32, ret unsafe.Pointer)

// Log sends msg to the host's log at the given level. Logging is always
// granted; the host may rate-limit it.
func Log(level Level, msg string) {
	hostLog(uint32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

// Config returns the value of the configuration key: the manifest's [config]
// default, overridden by the user. ok is false if the key is not set.
func Config(key string) (value string, ok bool) {
	importArea = [6]uint32{}
	hostConfigGet(unsafe.Pointer(unsafe.StringData(key)), uint32(len(key)), unsafe.Pointer(&importArea))
	switch tag := importArea[0] & 0xff; tag {
	case 0:
		return "", false
	case 1:
		s, err := state.takeString(importArea[1], importArea[2])
		if err != nil {
			panic("pdk: config-get: " + err.Error())
		}
		return s, true
	default:
		panic(fmt.Sprintf("pdk: config-get: host returned option tag %d", tag))
	}
}

// HostCall calls the function name provided by the embedding application
// with payload, and returns its answer. The manifest must ask for name in
// [capabilities].host; a denied or unknown name returns a *[HostError].
func HostCall(name string, payload []byte) ([]byte, error) {
	importArea = [6]uint32{}
	hostCall(unsafe.Pointer(unsafe.StringData(name)), uint32(len(name)),
		unsafe.Pointer(unsafe.SliceData(payload)), uint32(len(payload)), unsafe.Pointer(&importArea))
	switch tag := importArea[0] & 0xff; tag {
	case 0:
		b, err := state.takeBytes(importArea[1], importArea[2], 1)
		if err != nil {
			return nil, fmt.Errorf("pdk: call %q: %w", name, err)
		}
		return b, nil
	case 1:
		s, err := state.takeString(importArea[1], importArea[2])
		if err != nil {
			return nil, fmt.Errorf("pdk: call %q: %w", name, err)
		}
		return nil, &HostError{Message: s}
	default:
		return nil, fmt.Errorf("pdk: call %q: host returned result tag %d", name, tag)
	}
}

// HTTPRequest sends req through the host and returns the response. The
// manifest must ask for the destination in [capabilities].net; a denied
// destination or a failed request returns a *[HostError].
//
// Only a plugin that calls HTTPRequest imports vitte:plugin/http@1.0.0 (the
// linker drops unused imports), so plugins without network access need no
// net capability.
func HTTPRequest(req *Request) (*Response, error) {
	method := req.Method
	if method == "" {
		method = "GET"
	}
	// list<tuple<string, string>>: 16 bytes per header, 4-aligned. The
	// strings are referenced from req, which stays alive until the call
	// returns.
	var hdrs []uint32
	if len(req.Headers) > 0 {
		hdrs = make([]uint32, 0, 4*len(req.Headers))
		for _, h := range req.Headers {
			hdrs = append(hdrs,
				uint32(uintptr(unsafe.Pointer(unsafe.StringData(h.Name)))), uint32(len(h.Name)),
				uint32(uintptr(unsafe.Pointer(unsafe.StringData(h.Value)))), uint32(len(h.Value)))
		}
	}
	importArea = [6]uint32{}
	httpRequest(unsafe.Pointer(unsafe.StringData(method)), uint32(len(method)),
		unsafe.Pointer(unsafe.StringData(req.URL)), uint32(len(req.URL)),
		unsafe.Pointer(unsafe.SliceData(hdrs)), uint32(len(req.Headers)),
		unsafe.Pointer(unsafe.SliceData(req.Body)), uint32(len(req.Body)),
		unsafe.Pointer(&importArea))
	runtime.KeepAlive(req)
	runtime.KeepAlive(hdrs)
	area := importArea
	switch tag := area[0] & 0xff; tag {
	case 0:
		resp := &Response{Status: int(area[1] & 0xffff)}
		var err error
		if resp.Headers, err = state.takeHeaders(area[2], area[3]); err != nil {
			return nil, fmt.Errorf("pdk: http request %s %s: %w", method, req.URL, err)
		}
		if resp.Body, err = state.takeBytes(area[4], area[5], 1); err != nil {
			return nil, fmt.Errorf("pdk: http request %s %s: %w", method, req.URL, err)
		}
		return resp, nil
	case 1:
		s, err := state.takeString(area[1], area[2])
		if err != nil {
			return nil, fmt.Errorf("pdk: http request %s %s: %w", method, req.URL, err)
		}
		return nil, &HostError{Message: s}
	default:
		return nil, fmt.Errorf("pdk: http request %s %s: host returned result tag %d", method, req.URL, tag)
	}
}

// takeBytes takes ownership of a list the host allocated through
// cabi_realloc.
func (g *guest) takeBytes(ptr, n, elemSize uint32) ([]byte, error) {
	size := uintptr(n) * uintptr(elemSize)
	b, ok := g.take(uintptr(ptr), size)
	if !ok {
		return nil, fmt.Errorf("host returned (%#x, %d), which was not allocated through cabi_realloc", ptr, n)
	}
	return b, nil
}

// takeString takes ownership of a string the host allocated through
// cabi_realloc, without copying it.
func (g *guest) takeString(ptr, n uint32) (string, error) {
	b, err := g.takeBytes(ptr, n, 1)
	if err != nil || len(b) == 0 {
		return "", err
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// takeHeaders takes ownership of a list<tuple<string, string>>.
func (g *guest) takeHeaders(ptr, n uint32) ([]Header, error) {
	b, err := g.takeBytes(ptr, n, 16)
	if err != nil || n == 0 {
		return nil, err
	}
	hs := make([]Header, n)
	for i := range hs {
		e := b[16*i:]
		if hs[i].Name, err = g.takeString(binary.LittleEndian.Uint32(e[0:]), binary.LittleEndian.Uint32(e[4:])); err != nil {
			return nil, err
		}
		if hs[i].Value, err = g.takeString(binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])); err != nil {
			return nil, err
		}
	}
	return hs, nil
}
