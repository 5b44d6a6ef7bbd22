//go:build wasmtime

package bench

import "github.com/vitte-lang/vitte-plugin/runtime"

// With -tags wasmtime (BENCH_TAGS=wasmtime bash bench/run.sh), this
// runtime on its wasmtime engine gets rows in BenchmarkCall, BenchmarkReady
// and BenchmarkMetering, next to the wazero ones.
func init() {
	engines = append(engines, engine{name: "vitte-wasmtime", config: func() runtime.Config {
		return runtime.NewConfig().WithEngine(runtime.EngineWasmtime)
	}})
}
