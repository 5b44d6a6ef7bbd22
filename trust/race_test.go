//go:build race

package trust_test

// raceEnabled reports whether the test binary was built with -race, under
// which scrypt with minisign's real costs takes minutes.
const raceEnabled = true
