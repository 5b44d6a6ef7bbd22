//go:build !race

package pdk_test

// raceEnabled reports whether the test binary was built with -race.
const raceEnabled = false
