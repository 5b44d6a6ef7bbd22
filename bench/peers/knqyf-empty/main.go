//go:build wasip1

// Command knqyf-empty is the empty-call guest of the knqyf263/go-plugin
// rows of the benchmarks: the Greeter service of go-plugin's helloworld
// example, whose Greet ignores the request and returns an empty reply.
//
// bench/build-peers.sh builds it into the peers' cache directory.
package main

import (
	"context"

	"github.com/knqyf263/go-plugin/examples/helloworld/greeting"
)

func main() {}

func init() { greeting.RegisterGreeter(empty{}) }

type empty struct{}

func (empty) Greet(context.Context, *greeting.GreetRequest) (*greeting.GreetReply, error) {
	return &greeting.GreetReply{}, nil
}
