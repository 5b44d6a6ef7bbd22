//go:build !wasip1

package pdk

import (
	"fmt"
	"os"
)

// The entry points and helpers documented in api.go, outside a wasip1 guest,
// so that plugins also build (and unit-test) on the host: the helpers behave
// as in a host that grants nothing, and the entry points, which only the host
// can call, panic.

const notWasm = "pdk: %s called outside a wasip1 guest: build the plugin with GOOS=wasip1 GOARCH=wasm"

func doHandle(ptr, size uint32, fn func(input []byte) ([]byte, error)) uint32 {
	panic(fmt.Sprintf(notWasm, "Handle"))
}

func doOnLoad(fn func() error) uint32 { panic(fmt.Sprintf(notWasm, "OnLoad")) }

func doOnUnload(fn func()) { panic(fmt.Sprintf(notWasm, "OnUnload")) }

func doPost(ptr uint32) { panic(fmt.Sprintf(notWasm, "Post")) }

func doLog(level Level, msg string) { fmt.Fprintf(os.Stderr, "pdk: %s: %s\n", level, msg) }

func doConfig(key string) (value string, ok bool) { return "", false }

func doHostCall(name string, payload []byte) ([]byte, error) { return nil, ErrNoHost }

func doHTTPRequest(req *Request) (*Response, error) { return nil, ErrNoHost }
