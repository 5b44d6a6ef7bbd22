//go:build !wasip1

package pdk

import (
	"fmt"
	"os"
)

// This file lets plugins build on the host (GOOS other than wasip1), so that
// their logic can be unit-tested with go test: the helpers behave as in a
// host that grants nothing, and the entry points, which only the host can
// call, panic.

const notWasm = "pdk: %s called outside a wasip1 guest: build the plugin with GOOS=wasip1 GOARCH=wasm"

// Handle runs fn as the handler of one call. Outside a wasip1 guest it
// panics: call the handler function directly in tests.
func Handle(ptr, size uint32, fn func(input []byte) ([]byte, error)) uint32 {
	panic(fmt.Sprintf(notWasm, "Handle"))
}

// OnLoad runs fn as the plugin's on-load function. Outside a wasip1 guest it
// panics.
func OnLoad(fn func() error) uint32 { panic(fmt.Sprintf(notWasm, "OnLoad")) }

// OnUnload runs fn as the plugin's on-unload function. Outside a wasip1 guest
// it panics.
func OnUnload(fn func()) { panic(fmt.Sprintf(notWasm, "OnUnload")) }

// Post releases the result of the last call. Outside a wasip1 guest it
// panics.
func Post(ptr uint32) { panic(fmt.Sprintf(notWasm, "Post")) }

// Log writes "pdk: <level>: <msg>" to standard error outside a wasip1 guest.
func Log(level Level, msg string) { fmt.Fprintf(os.Stderr, "pdk: %s: %s\n", level, msg) }

// Config reports every key as unset outside a wasip1 guest.
func Config(key string) (value string, ok bool) { return "", false }

// HostCall returns [ErrNoHost] outside a wasip1 guest.
func HostCall(name string, payload []byte) ([]byte, error) { return nil, ErrNoHost }

// HTTPRequest returns [ErrNoHost] outside a wasip1 guest.
func HTTPRequest(req *Request) (*Response, error) { return nil, ErrNoHost }
