package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	extism "github.com/extism/go-sdk"
	"github.com/hashicorp/go-hclog"
	hcplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
	"github.com/knqyf263/go-plugin/examples/helloworld/greeting"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// handler is the work of a call: the empty call or count vowels.
type handler int

const (
	emptyCall handler = iota
	countVowels
)

func (h handler) String() string {
	if h == emptyCall {
		return "empty"
	}
	return "count-vowels"
}

// caller makes one call of a handler opened on a system and returns its
// raw output, as the system's host API gives it.
type caller func(ctx context.Context, input []byte) ([]byte, error)

// system is one way of running the two handlers.
type system struct {
	name string
	// open prepares h (a plugin loaded, a process started, an instance
	// made) and returns how to call it; everything is freed by tb.Cleanup.
	open func(tb testing.TB, h handler) caller
	// vowels reads the count out of a count-vowels output.
	vowels func(out []byte) (int, error)
	// maxCalls, when not 0, is how many calls with a 1 MiB input one
	// opened handler takes before the benchmark opens a new one (with the
	// timer stopped): knqyf263/go-plugin's Go guests grow without bound
	// under them (docs/benchmarks.md).
	maxCalls int
}

// callSystems are the systems of BenchmarkCall and TestSameAnswer, raw
// wazero first (the baseline).
func callSystems() []system {
	systems := []system{{name: "wazero", open: openRawWazero, vowels: atoi}}
	for _, e := range engines {
		systems = append(systems, system{name: e.name, open: vitteSystem(e.config()), vowels: atoi})
	}
	return append(systems,
		system{name: "native", open: openNative, vowels: atoi},
		system{name: "extism", open: openExtism, vowels: extismVowels},
		system{name: "knqyf263", open: openKnqyf, vowels: atoi, maxCalls: 500},
		system{name: "hashicorp-netrpc", open: openHashicorp(hcplugin.ProtocolNetRPC), vowels: atoi},
		system{name: "hashicorp-grpc", open: openHashicorp(hcplugin.ProtocolGRPC), vowels: atoi},
	)
}

// engine is a configuration of this runtime that gets its own rows in
// BenchmarkCall, BenchmarkReady and BenchmarkMetering.
type engine struct {
	name   string // the system's name in the table
	config func() runtime.Config
}

// engines are this runtime's engines: wazero, the default.
//
// WASMTIME ROWS: a file built with the wasmtime tag (wasmtime_test.go)
// appends {"vitte-wasmtime", the config with the wasmtime engine} here.
var engines = []engine{{name: "vitte", config: runtime.NewConfig}}

// setupCache is a compilation cache for the peers' modules, so that
// opening a handler again (every benchmark run opens its own) does not
// compile a 2 MB Go guest again: what the call benchmarks measure starts
// after. Set by TestMain, on disk (wazero's in-memory cache forgets a
// module when the last runtime using it is closed).
var setupCache wazero.CompilationCache

func TestMain(m *testing.M) {
	// hashicorp/go-plugin logs through the standard logger.
	log.SetOutput(io.Discard)
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "vitte-bench-cache-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if setupCache, err = wazero.NewCompilationCacheWithDir(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer setupCache.Close(context.Background())
		return m.Run()
	}())
}

func atoi(out []byte) (int, error) { return strconv.Atoi(string(out)) }

// fixture is the path of a plugin folder of the main module's test data.
func fixture(name string) string { return filepath.Join("..", "testdata", "wasm", name) }

// peer is the path of a file built by bench/build-peers.sh.
func peer(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("VITTE_BENCH_PEERS")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			tb.Fatalf("peers directory: %v", err)
		}
		dir = filepath.Join(cache, "vitte", "bench-peers")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("peer %s: %v (build the peers first: bash bench/build-peers.sh)", name, err)
	}
	return p
}

// vitteSystem runs hello-c's handlers through this runtime, configured by
// cfg.
func vitteSystem(cfg runtime.Config) func(tb testing.TB, h handler) caller {
	return func(tb testing.TB, h handler) caller {
		ctx := context.Background()
		rt, err := runtime.New(ctx, cfg.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { rt.Close(ctx) })
		p, err := rt.Load(ctx, fixture("hello-c"))
		if err != nil {
			tb.Fatal(err)
		}
		name := h.String()
		return func(ctx context.Context, input []byte) ([]byte, error) {
			return p.Call(ctx, name, input)
		}
	}
}

// openRawWazero runs hello-c's handlers on wazero directly: the same
// module and export, the ABI done by hand, no checks, no limits, host
// imports that do nothing.
func openRawWazero(tb testing.TB, h handler) caller {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { r.Close(ctx) })
	mod := rawInstance(tb, ctx, r, fixture("hello-c")+"/hello-c.wasm")
	return rawCaller(mod, h.String())
}

// rawInstance compiles and instantiates a plugin module on r with stub host
// imports, running _initialize.
func rawInstance(tb testing.TB, ctx context.Context, r wazero.Runtime, path string) api.Module {
	tb.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := stubHost(ctx, r); err != nil {
		tb.Fatal(err)
	}
	mod, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStdout(io.Discard).WithStartFunctions("_initialize"))
	if err != nil {
		tb.Fatal(err)
	}
	return mod
}

// stubHost instantiates WASI and the plugin host module, whose functions do
// nothing.
func stubHost(ctx context.Context, r wazero.Runtime) error {
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
	return err
}

// rawCaller calls a handler of the plugin ABI v1 by hand: input through
// cabi_realloc, the 12-byte result area read, the output copied out,
// cabi_post_<name>.
func rawCaller(mod api.Module, name string) caller {
	realloc, fn := mod.ExportedFunction("cabi_realloc"), mod.ExportedFunction(name)
	post := mod.ExportedFunction("cabi_post_" + name)
	mem := mod.Memory()
	stack := make([]uint64, 4)
	return func(ctx context.Context, input []byte) ([]byte, error) {
		var ptr uint32
		if len(input) > 0 {
			stack[0], stack[1], stack[2], stack[3] = 0, 0, 1, uint64(len(input))
			if err := realloc.CallWithStack(ctx, stack); err != nil {
				return nil, err
			}
			ptr = uint32(stack[0])
			mem.Write(ptr, input)
		}
		stack[0], stack[1] = uint64(ptr), uint64(len(input))
		if err := fn.CallWithStack(ctx, stack); err != nil {
			return nil, err
		}
		ret := uint32(stack[0])
		area, _ := mem.Read(ret, 12)
		if area[0] != 0 {
			return nil, fmt.Errorf("%s: error result", name)
		}
		out, _ := mem.Read(binary.LittleEndian.Uint32(area[4:]), binary.LittleEndian.Uint32(area[8:]))
		out = bytes.Clone(out)
		if post != nil {
			stack[0] = uint64(ret)
			if err := post.CallWithStack(ctx, stack); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// openNative runs the handlers as Go functions: the input copied in (a
// plugin gets its own copy), the output returned.
func openNative(_ testing.TB, h handler) caller {
	if h == emptyCall {
		return func(_ context.Context, input []byte) ([]byte, error) {
			in := bytes.Clone(input)
			_ = in
			return []byte{}, nil
		}
	}
	return func(_ context.Context, input []byte) ([]byte, error) {
		return nativeCountVowels(bytes.Clone(input)), nil
	}
}

//go:noinline
func nativeCountVowels(input []byte) []byte {
	return strconv.AppendInt(nil, int64(vowelsIn(input)), 10)
}

func vowelsIn(input []byte) int {
	n := 0
	for _, c := range input {
		n += int(vowel[c])
	}
	return n
}

// extismWasm is the path of one of Extism's own test plugins, copied from
// its Go SDK's module by bench/build-peers.sh: count_vowels.wasm (Rust,
// its PDK) and noop.wasm (its noop benchmark, export run_test).
func extismWasm(tb testing.TB, h handler) (path, fn string) {
	if h == emptyCall {
		return peer(tb, "extism/noop.wasm"), "run_test"
	}
	return peer(tb, "extism/count_vowels.wasm"), "count_vowels"
}

func openExtism(tb testing.TB, h handler) caller {
	ctx := context.Background()
	path, fn := extismWasm(tb, h)
	p, err := extism.NewPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmFile{Path: path}}},
		extism.PluginConfig{EnableWasi: true, RuntimeConfig: wazero.NewRuntimeConfig().WithCompilationCache(setupCache)}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close(ctx) })
	return func(ctx context.Context, input []byte) ([]byte, error) {
		rc, out, err := p.CallWithContext(ctx, fn, input)
		if err != nil {
			return nil, err
		}
		if rc != 0 {
			return nil, fmt.Errorf("extism %s: exit code %d", fn, rc)
		}
		return out, nil
	}
}

// extismVowels reads Extism's count_vowels output,
// {"count":N,"total":T,"vowels":"aeiouAEIOU"}.
func extismVowels(out []byte) (int, error) {
	var v struct {
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return 0, err
	}
	if v.Count == nil {
		return 0, fmt.Errorf("no count in %q", out)
	}
	return *v.Count, nil
}

// openKnqyf runs the Greeter guests of bench/peers/knqyf-* (Go, wasip1) on
// knqyf263/go-plugin's generated host code.
func openKnqyf(tb testing.TB, h handler) caller {
	ctx := context.Background()
	name := "knqyf-count.wasm"
	if h == emptyCall {
		name = "knqyf-empty.wasm"
	}
	path := peer(tb, name)
	gp, err := greeting.NewGreeterPlugin(ctx, greeting.WazeroRuntime(func(ctx context.Context) (wazero.Runtime, error) {
		// greeting.DefaultWazeroRuntime, with the setup cache.
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(setupCache))
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
			return nil, err
		}
		return r, nil
	}))
	if err != nil {
		tb.Fatal(err)
	}
	g, err := gp.Load(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { g.Close(ctx) })
	return func(ctx context.Context, input []byte) ([]byte, error) {
		reply, err := g.Greet(ctx, &greeting.GreetRequest{Name: string(input)})
		if err != nil {
			return nil, err
		}
		return []byte(reply.GetMessage()), nil
	}
}

// openHashicorp starts bench/peers/hashicorp-kv as a go-plugin process
// speaking proto: the empty call is KV.Put("", input), count vowels is
// KV.Get(input).
func openHashicorp(proto hcplugin.Protocol) func(tb testing.TB, h handler) caller {
	return func(tb testing.TB, h handler) caller {
		kv, kill := startHashicorp(tb, proto)
		tb.Cleanup(kill)
		if h == emptyCall {
			return func(_ context.Context, input []byte) ([]byte, error) {
				return []byte{}, kv.Put("", input)
			}
		}
		return func(_ context.Context, input []byte) ([]byte, error) {
			return kv.Get(string(input))
		}
	}
}

func startHashicorp(tb testing.TB, proto hcplugin.Protocol) (shared.KV, func()) {
	tb.Helper()
	client := hcplugin.NewClient(&hcplugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          shared.PluginMap,
		Cmd:              exec.Command(peer(tb, "hashicorp-kv"), string(proto)),
		AllowedProtocols: []hcplugin.Protocol{proto},
		Logger:           hclog.NewNullLogger(),
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		tb.Fatal(err)
	}
	name := shared.PluginNetRPC
	if proto == hcplugin.ProtocolGRPC {
		name = shared.PluginGRPC
	}
	raw, err := rpc.Dispense(name)
	if err != nil {
		client.Kill()
		tb.Fatal(err)
	}
	// Closing the connection before killing the process keeps yamux from
	// logging a broken pipe on stderr, in the middle of go test's output.
	return raw.(shared.KV), func() {
		rpc.Close()
		client.Kill()
	}
}

// vowel is 1 at the vowels [aeiouAEIOU]: a lookup with no branch on the
// data, the way every guest in the benchmark counts (testdata/wasm/hello-c).
var vowel = [256]byte{'a': 1, 'e': 1, 'i': 1, 'o': 1, 'u': 1, 'A': 1, 'E': 1, 'I': 1, 'O': 1, 'U': 1}
