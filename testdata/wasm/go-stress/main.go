// Command go-stress is the Go kit's own test plugin (adapters/go/pdk tests).
//
// Its first handlers move large inputs and outputs for the memory soak test
// (soak_test.go), so that a kit which leaks, or lets garbage pile up, shows
// it within a few thousand calls. The others exercise the kit's edges:
// recovered panics, inputs kept across calls, http.request.
//
// Built by scripts/build-go-fixtures.sh into go-stress.wasm (committed).
//
//	echo      the input unchanged (no allocation in the handler)
//	sha       the hex SHA-256 of the input
//	reverse   the input reversed, in a new buffer (cabi_post_reverse exported)
//	panic     panics with the input as a string
//	remember  keeps the input buffer itself; returns nothing
//	recall    returns the last remembered input
//	fetch     POST <input> with two headers and the body "body"; returns
//	          "<status> <name>=<value>... <body>"
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/vitte-lang/vitte-plugin/adapters/go/pdk"
)

func main() {}

// echo returns its input: no allocation in the handler.
//
//go:wasmexport echo
func echo(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) { return in, nil })
}

// sha returns the hex SHA-256 of its input: a small result.
//
//go:wasmexport sha
func sha(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) {
		sum := sha256.Sum256(in)
		return []byte(hex.EncodeToString(sum[:])), nil
	})
}

// reverse returns its input reversed in a newly allocated buffer: one
// input-sized allocation per call, left to the garbage collector.
//
//go:wasmexport reverse
func reverse(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) {
		// Eight bytes at a time: a byte loop costs 10 ms per MiB in wasm.
		n := len(in)
		out := make([]byte, n)
		i := 0
		for ; i+8 <= n; i += 8 {
			binary.BigEndian.PutUint64(out[n-i-8:], binary.LittleEndian.Uint64(in[i:]))
		}
		for ; i < n; i++ {
			out[n-1-i] = in[i]
		}
		return out, nil
	})
}

//go:wasmexport cabi_post_reverse
func postReverse(ptr uint32) { pdk.Post(ptr) }

//go:wasmexport panic
func panicExport(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) { panic(string(in)) })
}

// remembered is an input kept after its call returned: the kit must never
// reuse or free it.
var remembered []byte

//go:wasmexport remember
func remember(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) {
		remembered = in
		return nil, nil
	})
}

//go:wasmexport recall
func recall(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func([]byte) ([]byte, error) { return remembered, nil })
}

//go:wasmexport fetch
func fetch(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(url []byte) ([]byte, error) {
		resp, err := pdk.HTTPRequest(&pdk.Request{
			Method:  "POST",
			URL:     string(url),
			Headers: []pdk.Header{{Name: "accept", Value: "text/plain"}, {Name: "x-empty", Value: ""}},
			Body:    []byte("body"),
		})
		if err != nil {
			return nil, err
		}
		out := strconv.AppendInt(nil, int64(resp.Status), 10)
		for _, h := range resp.Headers {
			out = append(append(append(append(out, ' '), h.Name...), '='), h.Value...)
		}
		return append(append(out, ' '), resp.Body...), nil
	})
}
