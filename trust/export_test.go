package trust

// SetTestScrypt makes the keys this package encrypts cheap to open, for
// tests, until the returned function restores the real costs.
func SetTestScrypt() (restore func()) {
	old := testOnlyScrypt
	testOnlyScrypt = scryptParams{ops: 1 << 15, mem: 1 << 22}
	return func() { testOnlyScrypt = old }
}
