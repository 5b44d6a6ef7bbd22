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

// The entry points and helpers documented in api.go, for a wasip1 guest.

//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	return uint32(state.realloc(uintptr(oldPtr), uintptr(oldSize), uintptr(align), uintptr(newSize)))
}

func doHandle(ptr, size uint32, fn func(input []byte) ([]byte, error)) uint32 {
	r, err := state.handle(uintptr(ptr), uintptr(size), fn)
	if p, ok := err.(*PanicError); ok {
		Log(LevelError, p.Error()+"\n"+string(p.Stack))
	}
	state.gc.afterCall(uintptr(size) + r.size)
	return writeResult(r)
}

func doOnLoad(fn func() error) uint32 {
	r, err := state.load(fn)
	if p, ok := err.(*PanicError); ok {
		Log(LevelError, p.Error()+"\n"+string(p.Stack))
	}
	state.gc.afterCall(r.size)
	return writeResult(r)
}

func doOnUnload(fn func()) {
	state.begin(0, 0)
	_, err := call(func([]byte) ([]byte, error) { fn(); return nil, nil }, nil)
	if p, ok := err.(*PanicError); ok {
		Log(LevelError, "on-unload: "+p.Error()+"\n"+string(p.Stack))
	}
}

func doPost(ptr uint32) {
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

func doLog(level Level, msg string) {
	hostLog(uint32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

func doConfig(key string) (value string, ok bool) {
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

func doHostCall(name string, payload []byte) ([]byte, error) {
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

func doHTTPRequest(req *Request) (*Response, error) {
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
