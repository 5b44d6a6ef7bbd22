// Command example is a small Go plugin that uses every part of the Go guest
// kit (package github.com/vitte-lang/vitte-plugin/adapters/go/pdk).
//
// Build it from the repository root (see adapters/go/README.md):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
//	    -o adapters/go/example/example.wasm ./adapters/go/example
//
// The handlers' logic is plain Go, so it is also unit-tested on the host
// (main_test.go): there the kit behaves as a host that grants nothing.
package main

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/vitte-lang/vitte-plugin/adapters/go/pdk"
)

// main is never called: a plugin is a WASI reactor (-buildmode=c-shared), and
// the host calls its exports. Package main still needs one.
func main() {}

// calls counts handler calls. Package state lives as long as the instance.
var calls int

// The exports: one shim per function, because go:wasmexport names are fixed
// at compile time. Each shim only hands over to the kit.

//go:wasmexport on-load
func onLoad() uint32 { return pdk.OnLoad(load) }

//go:wasmexport on-unload
func onUnload() { pdk.OnUnload(unload) }

//go:wasmexport greet
func greetExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Greet) }

// cabi_post_greet is optional: it lets the kit drop greet's result as soon as
// the host has copied it, instead of at the next call.
//
//go:wasmexport cabi_post_greet
func greetPost(ptr uint32) { pdk.Post(ptr) }

//go:wasmexport shout
func shoutExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Shout) }

//go:wasmexport version
func versionExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Version) }

//go:wasmexport status
func statusExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Status) }

// load runs once, after instantiation. An error here refuses the load.
func load() error {
	if g, ok := pdk.Config("greeting"); ok {
		pdk.Info("loaded, greeting is " + g)
	} else {
		pdk.Warn("loaded, no greeting configured: using Hello")
	}
	return nil
}

// unload runs once, before the instance is dropped.
func unload() {
	pdk.Logf(pdk.LevelInfo, "unloaded after %d calls", calls)
}

// Greet returns "<greeting>, <input>!".
func Greet(input []byte) ([]byte, error) {
	calls++
	if len(input) == 0 {
		return nil, errors.New("greet: empty name")
	}
	greeting, ok := pdk.Config("greeting")
	if !ok {
		greeting = "Hello"
	}
	return []byte(greeting + ", " + string(input) + "!"), nil
}

// Shout returns the input in ASCII upper case. The input buffer belongs to
// the handler, so it is converted in place and handed back without a copy.
func Shout(input []byte) ([]byte, error) {
	calls++
	for i, c := range input {
		if 'a' <= c && c <= 'z' {
			input[i] = c - 'a' + 'A'
		}
	}
	return input, nil
}

// Version asks the embedding application (host call "studio.version", which
// plugin.toml asks for in [capabilities].host).
func Version([]byte) ([]byte, error) {
	calls++
	v, err := pdk.HostCall("studio.version", nil)
	if err != nil {
		return nil, errors.New("version: " + err.Error())
	}
	return v, nil
}

// Status fetches https://api.example.com/status (granted by [capabilities].net)
// and returns "<status> <body>".
func Status([]byte) ([]byte, error) {
	calls++
	resp, err := pdk.HTTPRequest(&pdk.Request{
		Method:  "GET",
		URL:     "https://api.example.com/status",
		Headers: []pdk.Header{{Name: "accept", Value: "text/plain"}},
	})
	if err != nil {
		return nil, errors.New("status: " + err.Error())
	}
	for _, h := range resp.Headers {
		pdk.Debug("header " + h.Name + ": " + h.Value)
	}
	out := strconv.AppendInt(nil, int64(resp.Status), 10)
	return append(append(out, ' '), bytes.TrimSpace(resp.Body)...), nil
}
