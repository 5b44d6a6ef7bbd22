//go:build wasip1

// Command knqyf-count is the count-vowels guest of the knqyf263/go-plugin
// rows of the benchmarks: a Go wasip1 module implementing the Greeter
// service of go-plugin's own helloworld example (its generated code, so no
// protoc is needed), whose Greet returns the decimal count of [aeiouAEIOU]
// in the request's name.
//
// bench/build-peers.sh builds it into the peers' cache directory:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o knqyf-count.wasm ./peers/knqyf-count
package main

import (
	"context"
	"strconv"

	"github.com/knqyf263/go-plugin/examples/helloworld/greeting"
)

func main() {}

func init() { greeting.RegisterGreeter(counter{}) }

type counter struct{}

func (counter) Greet(_ context.Context, req *greeting.GreetRequest) (*greeting.GreetReply, error) {
	name := req.GetName()
	n := 0
	for i := 0; i < len(name); i++ {
		n += int(vowel[name[i]])
	}
	return &greeting.GreetReply{Message: strconv.Itoa(n)}, nil
}

// vowel is 1 at the vowels [aeiouAEIOU]: a lookup with no branch on the
// data, the way every guest in the benchmark counts (testdata/wasm/hello-c).
var vowel = [256]byte{'a': 1, 'e': 1, 'i': 1, 'o': 1, 'u': 1, 'A': 1, 'E': 1, 'I': 1, 'O': 1, 'U': 1}
