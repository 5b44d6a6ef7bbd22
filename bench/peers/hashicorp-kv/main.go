// Command hashicorp-kv is the plugin process of the hashicorp/go-plugin
// rows of the benchmarks: it serves the KV interface of go-plugin's own gRPC
// example (examples/grpc/shared), over net/rpc or gRPC,
// with the two handlers of the benchmark in place of a key-value store.
// Its argument is the protocol, netrpc or grpc (go-plugin serves one per
// process, chosen by the type of the plugins it serves). The handlers:
//
//	Put(key, value)  the empty call: does nothing, returns no error
//	Get(key)         count vowels: the decimal count of [aeiouAEIOU] in key
//
// bench/build-peers.sh builds it into the peers' cache directory.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
)

type kv struct{}

func (kv) Put(string, []byte) error { return nil }

func (kv) Get(key string) ([]byte, error) {
	n := 0
	for i := 0; i < len(key); i++ {
		n += int(vowel[key[i]])
	}
	return strconv.AppendInt(nil, int64(n), 10), nil
}

func main() {
	cfg := &plugin.ServeConfig{HandshakeConfig: shared.Handshake}
	switch proto := strings.Join(os.Args[1:], " "); proto {
	case "netrpc":
		cfg.Plugins = plugin.PluginSet{shared.PluginNetRPC: &shared.KVPlugin{Impl: kv{}}}
	case "grpc":
		cfg.Plugins = plugin.PluginSet{shared.PluginGRPC: &shared.KVGRPCPlugin{Impl: kv{}}}
		cfg.GRPCServer = plugin.DefaultGRPCServer
	default:
		fmt.Fprintf(os.Stderr, "usage: hashicorp-kv netrpc|grpc (not %q)\n", proto)
		os.Exit(2)
	}
	plugin.Serve(cfg)
}

// vowel is 1 at the vowels [aeiouAEIOU]: a lookup with no branch on the
// data, the way every guest in the benchmark counts (testdata/wasm/hello-c).
var vowel = [256]byte{'a': 1, 'e': 1, 'i': 1, 'o': 1, 'u': 1, 'A': 1, 'E': 1, 'I': 1, 'O': 1, 'U': 1}
