// Package pdk is the Go guest kit for vitte plugins: it implements the guest
// side of the plugin ABI v1 (docs/spec/abi-v1.md) for Go code compiled to a
// WASI preview 1 reactor with //go:wasmexport.
//
// A plugin is a package main with one small exported shim per function. The
// kit provides the rest: the cabi_realloc allocator the host writes inputs
// through, the result areas, the host imports (log, config-get, call,
// http.request) and memory management that stays flat over long runs.
//
// # Writing a plugin
//
//	package main
//
//	import (
//		"errors"
//
//		"github.com/vitte-lang/vitte-plugin/adapters/go/pdk"
//	)
//
//	func main() {} // never called: the plugin is a reactor
//
//	//go:wasmexport on-load
//	func onLoad() uint32 { return pdk.OnLoad(Load) }
//
//	//go:wasmexport on-unload
//	func onUnload() { pdk.OnUnload(func() { pdk.Info("bye") }) }
//
//	//go:wasmexport greet
//	func greet(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Greet) }
//
//	//go:wasmexport cabi_post_greet
//	func greetPost(ptr uint32) { pdk.Post(ptr) } // optional
//
//	// Load runs once after instantiation; an error refuses the load.
//	func Load() error {
//		pdk.Info("loaded")
//		return nil
//	}
//
//	// Greet is a handler: input bytes in, output bytes or an error out.
//	func Greet(input []byte) ([]byte, error) {
//		if len(input) == 0 {
//			return nil, errors.New("greet: empty name")
//		}
//		greeting, ok := pdk.Config("greeting")
//		if !ok {
//			greeting = "Hello"
//		}
//		return []byte(greeting + ", " + string(input) + "!"), nil
//	}
//
// and next to it a plugin.toml (docs/spec/manifest-v1.md):
//
//	[plugin]
//	name    = "greeter"
//	version = "0.1.0"
//	kind    = "go"
//	module  = "greeter.wasm"
//
//	[config]
//	greeting = "Hello"
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o greeter.wasm .
//
// -buildmode=c-shared is required: it makes a reactor, which exports
// _initialize. Without it Go builds a WASI command (exporting _start), which
// the host refuses.
//
// adapters/go/example is a complete plugin that also calls the host and
// makes an HTTP request; testdata/wasm/hello-go is the test suite's
// reference plugin.
//
// # Export names
//
// //go:wasmexport takes the export name verbatim, so names that are not Go
// identifiers work: "on-load", "on-unload", "count-vowels" (checked with Go
// 1.26; wasmexport exists since Go 1.24). Two exports with the same name are
// a compile error ("symbol greet redeclared"). The kit itself exports
// cabi_realloc; a plugin must not. Every other exported function of type
// func(uint32, uint32) uint32 is a handler for the host, so helper exports
// must not have that type.
//
// # Memory
//
// The host allocates a handler's input, and every string or list an import
// returns, through the kit's cabi_realloc. Each block is an ordinary Go
// []byte, kept reachable in a pin table (keyed by address) from the moment
// the host asks for it until the kit hands it over; from then on it is
// garbage-collected memory like any other:
//
//   - The input passed to a handler is the handler's. It may modify it,
//     return it (an echo costs no copy) or keep it after returning.
//   - The bytes a handler returns (and an error's message) stay reachable
//     until the host has copied them: until cabi_post_<name>, if the plugin
//     exports it with [Post], or else until the next call into the plugin.
//     Do not modify them after returning.
//   - What [Config], [HostCall] and [HTTPRequest] return belongs to the
//     caller, without a copy.
//
// Go's collector needs special care inside wasm exports. A wasip1 reactor
// runs Go code only while the host is inside an export, on one goroutine that
// is never preempted, so the background mark workers of a collection cycle
// never run; the cycle is finished by allocation assists alone. When the
// runtime's GC CPU limiter switches assists off (GC using over half of the
// CPU time: quickly with allocation-heavy calls, at once with a host that
// gives the guest a fake clock, as wazero does by default), the cycle never
// ends, every new allocation is kept, and memory grows by about everything the
// plugin allocates, until the instance runs out of memory (about 2 MiB per
// 1 MiB call, a crash after some 2,000 calls). The kit watches for this after
// calls: when more than a heap goal was allocated since the last completed
// cycle it calls runtime.GC, which parks the export until the background
// workers have finished. The check is rate-limited (every 16 calls, or after
// 256 KiB of input and output) and costs nothing measurable; a healthy
// collector never triggers it. The soak test (soak_test.go) runs 3,000 calls
// of 1 MiB on testdata/wasm/go-stress under wazero's fake clock: the guest's
// memory is 9 MiB at call 300 and 13 MiB from call 1,000 to call 3,000 (the
// watch lets a stuck cycle run for one heap goal, 4 MiB, before forcing it),
// where without the watch it grows by about 1.3 MiB per call once the limiter
// engages (3.6 GiB at call 3,000).
//
// One case stays with the plugin: a single call that itself allocates many
// times its live heap (a loop building and dropping large buffers) can grow
// memory within that call, because the watch runs between calls. Reuse
// buffers in such loops, or call runtime.GC in them.
//
// # Limits
//
//   - One call at a time: the host never calls a plugin concurrently, and the
//     kit keeps its state in package variables without locks.
//   - Goroutines the plugin starts run only while an export is blocked (on a
//     channel, a sleep, runtime.GC), never between calls.
//   - A Go plugin is about 2.7 MB of wasm, and its runtime needs about 5 MiB
//     of linear memory before the first call; calls of 1 MiB settle around
//     13 MiB. The default [limits] memory of 64 MiB is plenty for such calls;
//     budget about three times the largest input plus output.
//   - A panic in a handler or in on-load is recovered and becomes the error
//     result "panic: <value>" (see [PanicError]), with the stack logged at
//     [LevelError]; the instance keeps serving. Fatal runtime errors (out of
//     memory, deadlock) are not recoverable: the host sees a trap and drops the
//     instance.
//   - Imports appear only when used: the linker drops unused
//     //go:wasmimport functions, so a plugin that never calls [HTTPRequest]
//     does not import vitte:plugin/http@1.0.0 and needs no net capability.
//
// # Testing on the host
//
// The kit also builds for the host (any GOOS but wasip1), so a plugin's
// handler functions can be unit-tested with go test: there the kit behaves
// as a host that grants nothing ([Config] reports every key unset,
// [HostCall] and [HTTPRequest] return [ErrNoHost], [Log] writes to standard
// error), and the entry points ([Handle], [OnLoad], [OnUnload], [Post]) panic.
package pdk
