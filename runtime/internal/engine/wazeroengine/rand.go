package wazeroengine

import "crypto/rand"

// randReader gives guests the host's cryptographic randomness through WASI
// random_get.
type randReader struct{}

func (randReader) Read(p []byte) (int, error) { return rand.Read(p) }
