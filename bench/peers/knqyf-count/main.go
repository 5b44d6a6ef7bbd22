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
		switch name[i] {
		case 'a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U':
			n++
		}
	}
	return &greeting.GreetReply{Message: strconv.Itoa(n)}, nil
}
