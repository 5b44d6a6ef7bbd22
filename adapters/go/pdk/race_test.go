//go:build race

package pdk_test

// raceEnabled reports whether the test binary was built with -race. wazero's
// compiler, itself instrumented, then takes ten times longer to compile a Go
// module (20 to 40 s), so compilations that add no coverage are skipped.
const raceEnabled = true
