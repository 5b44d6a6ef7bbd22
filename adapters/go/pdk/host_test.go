package pdk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// This file is a minimal host side of the plugin ABI v1
// (/work/shared/spec/abi-v1.md), written with raw wazero so that the kit can
// be tested end to end before the project's runtime exists. It implements
// the host interface (log, config-get, call) and the call sequence of a
// handler: cabi_realloc(0, 0, 1, len), write the input, call the handler,
// read the 12-byte result area, copy the output, call cabi_post_<name>.

const (
	hostModule = "vitte:plugin/host@1.0.0"
	httpModule = "vitte:plugin/http@1.0.0"
)

// fixture returns the path of a committed fixture module.
func fixture(name string) string {
	return filepath.Join("..", "..", "..", "testdata", "wasm", name, name+".wasm")
}

// engine is one of wazero's two engines.
type engine string

const (
	compiler    engine = "compiler"
	interpreter engine = "interpreter"
)

// runOnEachEngine runs a behaviour test on both engines, in parallel.
//
// Under -race, the compiler run of a fixture is skipped unless another test
// compiles the same fixture anyway (go-stress, for the soak test): compiling
// a Go module with an instrumented compiler takes 20 to 40 s, and the race
// detector sees nothing more in it than the interpreter run does.
func runOnEachEngine(t *testing.T, fixture string, test func(t *testing.T, e engine)) {
	for _, e := range []engine{compiler, interpreter} {
		t.Run(string(e), func(t *testing.T) {
			if e == compiler && raceEnabled && fixture != "go-stress" {
				t.Skipf("compiling %s under -race takes too long; run without -race", fixture)
			}
			t.Parallel()
			test(t, e)
		})
	}
}

// compilationCache is shared by every test in the package, so that each
// fixture is compiled once per test binary and engine (compiling a Go module
// takes seconds, and ten times longer under -race). compileMu serialises the
// compilations of one fixture, so that parallel tests wait for the first one
// and then hit the cache.
var (
	cacheOnce sync.Once
	cache     wazero.CompilationCache
	compileMu sync.Map // fixture name and engine -> *sync.Mutex
)

func compilationCache() wazero.CompilationCache {
	cacheOnce.Do(func() { cache = wazero.NewCompilationCache() })
	return cache
}

// testHost is one plugin instance with its own runtime.
type testHost struct {
	t      testing.TB
	ctx    context.Context
	rt     wazero.Runtime
	mod    api.Module
	stdout bytes.Buffer

	config map[string]string
	// hostCall answers the host interface's call import.
	hostCall func(name string, payload []byte) ([]byte, error)
	// httpDo answers the http interface's request import.
	httpDo func(req httpRequest) (httpResponse, error)
	logs   []string
}

type header struct{ name, value string }

type httpRequest struct {
	method, url string
	headers     []header
	body        []byte
}

type httpResponse struct {
	status  uint16
	headers []header
	body    []byte
}

// logLevels are the names of the ABI's host.level enum.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

// newTestHost instantiates the fixture module and calls _initialize; it
// does not call on-load.
func newTestHost(t testing.TB, name string, e engine, config map[string]string) *testHost {
	t.Helper()
	wasm, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatalf("read fixture: %v (rebuild it with scripts/build-go-fixtures.sh)", err)
	}
	h := &testHost{t: t, ctx: context.Background(), config: config}
	h.hostCall = func(name string, payload []byte) ([]byte, error) {
		if name == "test.echo" {
			return payload, nil
		}
		return nil, fmt.Errorf("host function %q is not granted", name)
	}
	h.httpDo = func(req httpRequest) (httpResponse, error) {
		if !strings.HasPrefix(req.url, "https://example.com/") {
			return httpResponse{}, fmt.Errorf("net: %s is not granted", req.url)
		}
		var sent []string
		for _, hd := range req.headers {
			sent = append(sent, hd.name+":"+hd.value)
		}
		return httpResponse{
			status:  201,
			headers: []header{{"x-method", req.method}, {"x-sent", strings.Join(sent, ",")}, {"x-none", ""}},
			body:    append([]byte("got "), req.body...),
		}, nil
	}
	rc := wazero.NewRuntimeConfigCompiler()
	if e == interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	h.rt = wazero.NewRuntimeWithConfig(h.ctx, rc.WithCompilationCache(compilationCache()))
	t.Cleanup(func() { h.rt.Close(h.ctx) })

	wasi_snapshot_preview1.MustInstantiate(h.ctx, h.rt)
	_, err = h.rt.NewHostModuleBuilder(hostModule).
		NewFunctionBuilder().WithFunc(h.log).Export("log").
		NewFunctionBuilder().WithFunc(h.configGet).Export("config-get").
		NewFunctionBuilder().WithFunc(h.call).Export("call").
		Instantiate(h.ctx)
	if err != nil {
		t.Fatalf("instantiate host module: %v", err)
	}
	_, err = h.rt.NewHostModuleBuilder(httpModule).
		NewFunctionBuilder().WithFunc(h.request).Export("request").
		Instantiate(h.ctx)
	if err != nil {
		t.Fatalf("instantiate http module: %v", err)
	}
	mu, _ := compileMu.LoadOrStore(name+"/"+string(e), new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	compiled, err := h.rt.CompileModule(experimental.WithCompilationWorkers(h.ctx, goruntime.GOMAXPROCS(0)), wasm)
	mu.(*sync.Mutex).Unlock()
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	cfg := wazero.NewModuleConfig().WithName(name).WithStdout(&h.stdout).WithStderr(os.Stderr).
		WithEnv("GODEBUG", os.Getenv("GUEST_GODEBUG")).WithStartFunctions() // a reactor: _initialize is called below
	h.mod, err = h.rt.InstantiateModule(h.ctx, compiled, cfg)
	if err != nil {
		t.Fatalf("instantiate %s: %v", name, err)
	}
	if init := h.mod.ExportedFunction("_initialize"); init != nil {
		if _, err := init.Call(h.ctx); err != nil {
			t.Fatalf("%s: _initialize: %v", name, err)
		}
	}
	return h
}

// pages returns the size of the guest's memory in 64 KiB pages.
func (h *testHost) pages() uint32 { return h.mod.Memory().Size() / 65536 }

// read copies n bytes at ptr out of guest memory.
func (h *testHost) read(m api.Module, ptr, n uint32) ([]byte, error) {
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("(%#x, %d) is outside memory (%d bytes)", ptr, n, m.Memory().Size())
	}
	return bytes.Clone(b), nil
}

// alloc places b in guest memory through cabi_realloc.
func (h *testHost) alloc(ctx context.Context, m api.Module, align uint32, b []byte) (uint32, error) {
	res, err := m.ExportedFunction("cabi_realloc").Call(ctx, 0, 0, uint64(align), uint64(len(b)))
	if err != nil {
		return 0, fmt.Errorf("cabi_realloc: %w", err)
	}
	ptr := uint32(res[0])
	if ptr%align != 0 {
		return 0, fmt.Errorf("cabi_realloc returned %#x, not aligned to %d", ptr, align)
	}
	if !m.Memory().Write(ptr, b) {
		return 0, fmt.Errorf("cabi_realloc returned (%#x, %d), outside memory", ptr, len(b))
	}
	return ptr, nil
}

// writeResult writes a 12-byte result area (tag, ptr, len) at ret.
func writeArea(m api.Module, ret, tag, ptr, n uint32) {
	var a [12]byte
	a[0] = byte(tag)
	binary.LittleEndian.PutUint32(a[4:], ptr)
	binary.LittleEndian.PutUint32(a[8:], n)
	if ret%4 != 0 || !m.Memory().Write(ret, a[:]) {
		panic(fmt.Sprintf("return pointer %#x is misaligned or outside memory", ret))
	}
}

func (h *testHost) log(ctx context.Context, m api.Module, level, ptr, n uint32) {
	msg, err := h.read(m, ptr, n)
	if err != nil {
		panic(fmt.Sprintf("log: %v", err))
	}
	lv := fmt.Sprint(level)
	if int(level) < len(logLevels) {
		lv = logLevels[level]
	}
	h.logs = append(h.logs, lv+": "+string(msg))
}

func (h *testHost) configGet(ctx context.Context, m api.Module, keyPtr, keyLen, ret uint32) {
	key, err := h.read(m, keyPtr, keyLen)
	if err != nil {
		panic(fmt.Sprintf("config-get: %v", err))
	}
	v, ok := h.config[string(key)]
	if !ok {
		writeArea(m, ret, 0, 0, 0)
		return
	}
	p, err := h.alloc(ctx, m, 1, []byte(v))
	if err != nil {
		panic(fmt.Sprintf("config-get: %v", err))
	}
	writeArea(m, ret, 1, p, uint32(len(v)))
}

func (h *testHost) call(ctx context.Context, m api.Module, namePtr, nameLen, payloadPtr, payloadLen, ret uint32) {
	name, err := h.read(m, namePtr, nameLen)
	if err == nil {
		var payload []byte
		if payload, err = h.read(m, payloadPtr, payloadLen); err == nil {
			var out []byte
			tag := uint32(0)
			if out, err = h.hostCall(string(name), payload); err != nil {
				tag, out = 1, []byte(err.Error())
			}
			var p uint32
			if p, err = h.alloc(ctx, m, 1, out); err == nil {
				writeArea(m, ret, tag, p, uint32(len(out)))
				return
			}
		}
	}
	panic(fmt.Sprintf("call: %v", err))
}

func (h *testHost) request(ctx context.Context, m api.Module,
	methodPtr, methodLen, urlPtr, urlLen, headersPtr, headersLen, bodyPtr, bodyLen, ret uint32) {
	if err := h.doRequest(ctx, m, methodPtr, methodLen, urlPtr, urlLen, headersPtr, headersLen, bodyPtr, bodyLen, ret); err != nil {
		panic(fmt.Sprintf("request: %v", err))
	}
}

func (h *testHost) doRequest(ctx context.Context, m api.Module,
	methodPtr, methodLen, urlPtr, urlLen, headersPtr, headersLen, bodyPtr, bodyLen, ret uint32) error {
	var req httpRequest
	method, err := h.read(m, methodPtr, methodLen)
	if err != nil {
		return err
	}
	url, err := h.read(m, urlPtr, urlLen)
	if err != nil {
		return err
	}
	req.method, req.url = string(method), string(url)
	if headersLen > 0 && headersPtr%4 != 0 {
		return fmt.Errorf("headers %#x are not 4-aligned", headersPtr)
	}
	list, err := h.read(m, headersPtr, 16*headersLen)
	if err != nil {
		return err
	}
	for i := uint32(0); i < headersLen; i++ {
		e := list[16*i:]
		name, err := h.read(m, binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:]))
		if err != nil {
			return err
		}
		value, err := h.read(m, binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:]))
		if err != nil {
			return err
		}
		req.headers = append(req.headers, header{string(name), string(value)})
	}
	if req.body, err = h.read(m, bodyPtr, bodyLen); err != nil {
		return err
	}

	var area [24]byte
	resp, rerr := h.httpDo(req)
	if rerr != nil {
		msg := rerr.Error()
		p, err := h.alloc(ctx, m, 1, []byte(msg))
		if err != nil {
			return err
		}
		area[0] = 1
		binary.LittleEndian.PutUint32(area[4:], p)
		binary.LittleEndian.PutUint32(area[8:], uint32(len(msg)))
	} else {
		list := make([]byte, 16*len(resp.headers))
		for i, hd := range resp.headers {
			np, err := h.alloc(ctx, m, 1, []byte(hd.name))
			if err != nil {
				return err
			}
			vp, err := h.alloc(ctx, m, 1, []byte(hd.value))
			if err != nil {
				return err
			}
			binary.LittleEndian.PutUint32(list[16*i:], np)
			binary.LittleEndian.PutUint32(list[16*i+4:], uint32(len(hd.name)))
			binary.LittleEndian.PutUint32(list[16*i+8:], vp)
			binary.LittleEndian.PutUint32(list[16*i+12:], uint32(len(hd.value)))
		}
		lp, err := h.alloc(ctx, m, 4, list)
		if err != nil {
			return err
		}
		bp, err := h.alloc(ctx, m, 1, resp.body)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint16(area[4:], resp.status)
		binary.LittleEndian.PutUint32(area[8:], lp)
		binary.LittleEndian.PutUint32(area[12:], uint32(len(resp.headers)))
		binary.LittleEndian.PutUint32(area[16:], bp)
		binary.LittleEndian.PutUint32(area[20:], uint32(len(resp.body)))
	}
	if ret%4 != 0 || !m.Memory().Write(ret, area[:]) {
		return fmt.Errorf("return pointer %#x is misaligned or outside memory", ret)
	}
	return nil
}

// errResult is an err result returned by the guest.
type errResult string

func (e errResult) Error() string { return string(e) }

// resultView reads a 12-byte result<list<u8>, string> area and returns a
// view of the output in guest memory, valid until the next call into the
// guest.
func (h *testHost) resultView(fn string, ret uint32) ([]byte, error) {
	if ret%4 != 0 {
		return nil, fmt.Errorf("%s: result pointer %#x is not 4-aligned", fn, ret)
	}
	area, ok := h.mod.Memory().Read(ret, 12)
	if !ok {
		return nil, fmt.Errorf("%s: result area %#x is outside memory", fn, ret)
	}
	tag := area[0]
	ptr, n := binary.LittleEndian.Uint32(area[4:]), binary.LittleEndian.Uint32(area[8:])
	out, ok := h.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("%s: result (%#x, %d) is outside memory", fn, ptr, n)
	}
	switch tag {
	case 0:
		return out, nil
	case 1:
		return nil, errResult(out)
	}
	return nil, fmt.Errorf("%s: result tag %d", fn, tag)
}

// post calls cabi_post_<fn> if the guest exports it.
func (h *testHost) post(fn string, ret uint32) error {
	if post := h.mod.ExportedFunction("cabi_post_" + fn); post != nil {
		if _, err := post.Call(h.ctx, uint64(ret)); err != nil {
			return fmt.Errorf("cabi_post_%s: %w", fn, err)
		}
	}
	return nil
}

// handleView calls the handler fn with input and passes check a view of its
// output in guest memory (or an errResult) before calling cabi_post_<fn>:
// the soak test compares outputs in place rather than copying them out.
func (h *testHost) handleView(fn string, input []byte, check func(out []byte, err error)) error {
	f := h.mod.ExportedFunction(fn)
	if f == nil {
		return fmt.Errorf("%s: no such export", fn)
	}
	ptr, err := h.alloc(h.ctx, h.mod, 1, input)
	if err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	res, err := f.Call(h.ctx, uint64(ptr), uint64(len(input)))
	if err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	out, err := h.resultView(fn, uint32(res[0]))
	var errRes errResult
	if err != nil && !errors.As(err, &errRes) {
		return err
	}
	check(out, err)
	return h.post(fn, uint32(res[0]))
}

// handle calls the handler fn with input and returns a copy of its output.
// An err result is an errResult.
func (h *testHost) handle(fn string, input []byte) (out []byte, err error) {
	var res error
	err = h.handleView(fn, input, func(o []byte, e error) {
		out, res = bytes.Clone(o), e
		if e != nil {
			res = errResult(strings.Clone(string(e.(errResult))))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, res
}

// onLoad calls on-load, whose result is a result<_, string>.
func (h *testHost) onLoad() error {
	f := h.mod.ExportedFunction("on-load")
	if f == nil {
		return nil
	}
	res, err := f.Call(h.ctx)
	if err != nil {
		return fmt.Errorf("on-load: %w", err)
	}
	ret := uint32(res[0])
	area, err := h.read(h.mod, ret, 12)
	if err != nil || ret%4 != 0 {
		return fmt.Errorf("on-load: bad result area %#x", ret)
	}
	switch area[0] {
	case 0:
		return nil
	case 1:
		msg, err := h.read(h.mod, binary.LittleEndian.Uint32(area[4:]), binary.LittleEndian.Uint32(area[8:]))
		if err != nil {
			return fmt.Errorf("on-load: %w", err)
		}
		return errResult(msg)
	}
	return fmt.Errorf("on-load: result tag %d", area[0])
}

// onUnload calls on-unload.
func (h *testHost) onUnload() error {
	if f := h.mod.ExportedFunction("on-unload"); f != nil {
		if _, err := f.Call(h.ctx); err != nil {
			return fmt.Errorf("on-unload: %w", err)
		}
	}
	return nil
}

// isErrResult reports whether err is an err result with the given message.
func isErrResult(err error, msg string) bool {
	var e errResult
	return errors.As(err, &e) && string(e) == msg
}
