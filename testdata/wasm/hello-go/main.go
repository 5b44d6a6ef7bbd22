// Command hello-go is the reference Go plugin of the test suite: the same
// behaviour as hello-c (testdata/wasm/hello-c), written with the Go guest kit
// (adapters/go/pdk).
//
// Built by scripts/build-go-fixtures.sh into hello-go.wasm (committed):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
//	    -o testdata/wasm/hello-go/hello-go.wasm ./testdata/wasm/hello-go
//
//	on-load       prints "hello-go: loaded\n" on stdout, logs "on-load called" at info
//	on-unload     prints "hello-go: unloaded\n" on stdout
//	greet         "<greeting>, <input>!"; greeting from config-get, "Hello" if unset
//	echo          the input bytes unchanged (any size, 0 included)
//	fail          err "fail: <input>"
//	empty         ok, 0 bytes (call-overhead benchmarks)
//	call-host     host.call(name = input, payload = "ping"): the ok payload, or
//	              "error: <message>" as ok bytes
//	count-vowels  the decimal count of [aeiouAEIOU] in the input
package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/vitte-lang/vitte-plugin/adapters/go/pdk"
)

// main is not called in a reactor (-buildmode=c-shared), but package main
// needs one.
func main() {}

//go:wasmexport on-load
func onLoad() uint32 { return pdk.OnLoad(load) }

//go:wasmexport on-unload
func onUnload() { pdk.OnUnload(unload) }

//go:wasmexport greet
func greetExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, greet) }

//go:wasmexport echo
func echoExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, echo) }

//go:wasmexport fail
func failExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, fail) }

//go:wasmexport empty
func emptyExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, empty) }

//go:wasmexport call-host
func callHostExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, callHost) }

//go:wasmexport count-vowels
func countVowelsExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, countVowels) }

func load() error {
	fmt.Println("hello-go: loaded")
	pdk.Info("on-load called")
	return nil
}

func unload() {
	fmt.Println("hello-go: unloaded")
}

func greet(input []byte) ([]byte, error) {
	greeting, ok := pdk.Config("greeting")
	if !ok {
		greeting = "Hello"
	}
	out := make([]byte, 0, len(greeting)+len(", ")+len(input)+len("!"))
	out = append(out, greeting...)
	out = append(out, ", "...)
	out = append(out, input...)
	return append(out, '!'), nil
}

func echo(input []byte) ([]byte, error) { return input, nil }

func fail(input []byte) ([]byte, error) { return nil, errors.New("fail: " + string(input)) }

func empty([]byte) ([]byte, error) { return nil, nil }

func callHost(input []byte) ([]byte, error) {
	out, err := pdk.HostCall(string(input), []byte("ping"))
	if err != nil {
		return []byte("error: " + err.Error()), nil
	}
	return out, nil
}

func countVowels(input []byte) ([]byte, error) {
	n := 0
	for _, c := range input {
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U':
			n++
		}
	}
	return strconv.AppendInt(nil, int64(n), 10), nil
}
