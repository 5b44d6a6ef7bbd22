// Package bench compares this runtime with other Go plugin systems on the
// same work, in one run: a count-vowels handler and an empty call with
// 0 B, 1 KiB and 1 MiB inputs, time to ready (cold and warm), scaling over
// goroutines, and the cost of stopping runaway guests. Everything is in the
// tests: bench_test.go has the correctness test (every system returns the
// same vowel count) and the benchmarks; bash bench/run.sh builds the peers'
// guests and plugin processes, runs it all and prints the table
// (docs/benchmarks.md).
//
// It is its own module so that the peers' dependencies (Extism,
// knqyf263/go-plugin, hashicorp/go-plugin, gRPC) stay out of the
// runtime's go.mod.
package bench
