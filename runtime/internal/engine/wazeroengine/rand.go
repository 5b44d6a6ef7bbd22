package wazeroengine

import (
	"crypto/rand"
	mrand "math/rand/v2"

	"github.com/tetratelabs/wazero"
)

// randReader gives guests the host's cryptographic randomness through WASI
// random_get.
type randReader struct{}

func (randReader) Read(p []byte) (int, error) { return rand.Read(p) }

// fixedEpoch is the wall-clock time deterministic instances see:
// 2000-01-01T00:00:00Z.
const fixedEpoch = 946684800

// deterministic gives an instance fixed clocks and a random source seeded
// with seed: the wall clock stays at fixedEpoch, the monotonic clock
// advances by 1 ms at each reading, and random_get yields the same bytes
// for the same seed.
func deterministic(mc wazero.ModuleConfig, seed int64) wazero.ModuleConfig {
	var mono int64
	src := mrand.NewChaCha8(seedBytes(seed))
	return mc.
		WithWalltime(func() (int64, int32) { return fixedEpoch, 0 }, 1).
		WithNanotime(func() int64 { mono += 1_000_000; return mono }, 1).
		WithRandSource(chachaReader{src})
}

func seedBytes(seed int64) (b [32]byte) {
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
	}
	return b
}

type chachaReader struct{ c *mrand.ChaCha8 }

func (r chachaReader) Read(p []byte) (int, error) { return r.c.Read(p) }
