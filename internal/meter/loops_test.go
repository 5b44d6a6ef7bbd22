package meter

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero/api"
)

// loopsWat has loops whose slow path is moved out (see region): one with a
// result, nested ones left from the inner one with a value (br_if) and by
// br_table to either loop, and a loop with parameters (a type index: not
// moved).
const loopsWat = `(module
  (type $p (func (param i32) (result i32)))
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    (loop $l (result i32)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))
      (local.get $i)))
  (func (export "nested") (param $n i32) (result i32)
    (local $j i32) (local $acc i32)
    (block $out (result i32)
      (loop $outer
        (local.set $j (i32.const 0))
        (loop $inner
          (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
          (br_if $out (local.get $acc) (i32.ge_u (local.get $acc) (local.get $n)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_table $inner $outer (i32.ge_u (local.get $j) (i32.const 5)))))
      (i32.const -1)))
  (func (export "params") (param $n i32) (result i32)
    (local.get $n)
    (loop $l (type $p)
      (i32.sub (i32.const 1))
      (local.set $n)
      (br_if $l (local.get $n) (i32.gt_s (local.get $n) (i32.const 0)))
      (i32.const 100)
      (i32.add))))`

func TestInstrument_MovedLoops(t *testing.T) {
	tool, ok := wabt(t, "wat2wasm")
	if !ok {
		return
	}
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "loops.wat"), filepath.Join(dir, "loops.wasm")
	require.NoError(t, os.WriteFile(src, []byte(loopsWat), 0o644))
	out, err := exec.Command(tool, src, "-o", bin).CombinedOutput()
	require.NoError(t, err, "wat2wasm: %s", out)
	wasm, err := os.ReadFile(bin)
	require.NoError(t, err)
	metered := instrument(t, wasm)
	validate(t, metered)
	if w2w, ok := wabt(t, "wasm2wat"); ok {
		mbin := filepath.Join(dir, "metered.wasm")
		require.NoError(t, os.WriteFile(mbin, metered, 0o644))
		text, err := exec.Command(w2w, mbin).CombinedOutput()
		require.NoError(t, err, "wasm2wat: %s", text)
		// Each moved loop ends in an unreachable after its re-entry loop:
		// count's, and nested's two; params' loop has parameters and
		// keeps its check inside.
		assert.Equal(t, 3, strings.Count(string(text), "unreachable"), "%s", text)
	}

	cases := []callCase{
		{"count", []uint64{0}}, {"count", []uint64{1}}, {"count", []uint64{1000}},
		{"nested", []uint64{1}}, {"nested", []uint64{100}}, {"nested", []uint64{5000}},
		{"params", []uint64{1}}, {"params", []uint64{500}},
	}
	checkSame(t, api.CoreFeaturesV2, wasm, cases)
	// Small quanta take the slow path, and re-enter the loops, many times:
	// the results and the fuel used are the same.
	for _, c := range cases {
		var fuel []int64
		for _, q := range []int64{1, 2, 7, 1 << 40} {
			h := newHarness(t, api.CoreFeaturesV2, true, q)
			mod := h.instantiate(t, metered)
			plain := newHarness(t, api.CoreFeaturesV2, false, 0)
			want, _ := plain.call(plain.instantiate(t, wasm), c.fn, c.args...)
			got, msg := h.call(mod, c.fn, c.args...)
			require.Empty(t, msg, "%s%v quantum %d", c.fn, c.args, q)
			assert.Equal(t, want, got, "%s%v quantum %d", c.fn, c.args, q)
			fuel = append(fuel, h.host.used())
		}
		for _, f := range fuel[1:] {
			assert.Equal(t, fuel[0], f, "%s%v: the fuel does not depend on the quantum", c.fn, c.args)
		}
	}
}
