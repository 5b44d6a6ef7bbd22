package pdk_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSoak_memoryFlat drives the go-stress fixture with thousands of 1 MiB
// calls and checks that the guest's linear memory stops growing after a
// warm-up. Go wasip1 guests built naively grow by about 2 MiB per 1 MiB call
// until they run out of memory; see the package documentation, "Memory".
//
// The host gives the guest wazero's default fake clock, the worst case: the
// GC CPU limiter engages after a few hundred calls and, without the kit's
// GC watch, the collection cycle running then never ends.
func TestSoak_memoryFlat(t *testing.T) {
	t.Parallel()
	const (
		calls  = 3000
		warmUp = 300
		steady = 1000
		size   = 1 << 20
		// slack is the growth allowed after the warm-up, in 64 KiB pages:
		// the watch lets a stuck cycle run until a heap goal (4 MiB here)
		// was allocated, with two 1 MiB blocks in flight.
		slack = 6 << 20 / 65536
	)
	loadStart := time.Now()
	h := newTestHost(t, "go-stress", compiler, nil)
	t.Logf("compile and instantiate: %v", time.Since(loadStart).Round(time.Millisecond))

	input := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range input {
		input[i] = byte(rng.Uint32())
	}
	// Outputs are compared in guest memory, and the reversed input is
	// computed once: the host side stays cheap, also under -race.
	reversed := slices.Clone(input)
	slices.Reverse(reversed)

	start := time.Now()
	var warmPages, steadyPages uint32
	for i := 1; i <= calls; i++ {
		binary.LittleEndian.PutUint64(input, uint64(i)) // every input differs
		binary.BigEndian.PutUint64(reversed[size-8:], uint64(i))
		// Every call leaves its 1 MiB input to the collector. Mostly echo
		// (no allocation in the handler), every eighth call one more
		// input-sized allocation for the output, and now and then a hash
		// (slow in wasm: about 40 ms per MiB).
		fn, want := "echo", input
		switch {
		case i%50 == 0:
			sum := sha256.Sum256(input)
			fn, want = "sha", []byte(hex.EncodeToString(sum[:]))
		case i%8 == 0:
			fn, want = "reverse", reversed
		}
		err := h.handleView(fn, input, func(out []byte, err error) {
			if err != nil {
				t.Fatalf("call %d: %s: error result %q", i, fn, err)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("call %d: %s returned a wrong output (%d bytes)", i, fn, len(out))
			}
		})
		if err != nil {
			t.Fatalf("call %d: %v (memory %d pages)", i, err, h.pages())
		}
		switch i {
		case warmUp:
			warmPages = h.pages()
		case steady:
			steadyPages = h.pages()
		}
		switch i {
		case 1, 10, 100, warmUp, steady, 2000, calls:
			t.Logf("call %4d: %4d pages (%.1f MiB)", i, h.pages(), float64(h.pages())/16)
		}
	}
	end := h.pages()
	t.Logf("%d calls of %d bytes in %v", calls, size, time.Since(start).Round(time.Millisecond))
	if end > warmPages+slack {
		t.Errorf("memory grew from %d pages at call %d to %d pages at call %d (slack %d)", warmPages, warmUp, end, calls, slack)
	}
	if end > steadyPages+16 {
		t.Errorf("memory kept growing: %d pages at call %d, %d at call %d", steadyPages, steady, end, calls)
	}
}
