package meter

import (
	_ "embed"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

//go:embed testdata/limits.wasm
var limitsWasm []byte

// frame is the stack a function with that many parameter and local slots
// is charged.
func frameBytes(slots int64) int64 { return FrameOverhead + FrameSlot*slots }

const limitsFeatures = api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall

// TestInstrument_Stack checks that the call stack is bounded by the
// counter the host sets: a recursion of as many frames as fit runs, one
// more calls the limit callback with LimitStack, and the next call works.
func TestInstrument_Stack(t *testing.T) {
	metered := instrument(t, limitsWasm)
	validate(t, metered, "--enable-tail-call")
	tests := []struct {
		name  string
		fn    string
		limit int64
		fits  uint64 // the deepest call that fits; one more overflows
	}{
		// rec(n) takes n+1 frames of one parameter.
		{"recursion", "rec", 100 * frameBytes(1), 99},
		{"limit not a multiple of the frame", "rec", 100*frameBytes(1) + frameBytes(1) - 1, 99},
		// 1 parameter, 31 i64 locals, 2 v128 locals (2 slots each).
		{"big frames", "bigrec", 20 * frameBytes(1+31+4), 19},
		{"call_indirect", "indirect", 50 * frameBytes(1), 49},
		// The module's own initial value, for a host that sets nothing.
		{"default", "rec", 0, DefaultMaxStack/uint64(frameBytes(1)) - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, limitsFeatures, true, 1<<40)
			h.host.stackLimit = tt.limit
			mod := h.instantiate(t, metered)
			res, msg := h.call(mod, tt.fn, tt.fits)
			require.Empty(t, msg)
			assert.Equal(t, []uint64{tt.fits}, res)
			assert.Zero(t, h.host.overflows)

			_, msg = h.call(mod, tt.fn, tt.fits+1)
			assert.Contains(t, msg, errStackOverflow.Error())
			assert.Equal(t, 1, h.host.overflows, "the limit callback was called once")

			if tt.limit == 0 {
				return // the counter is now spent: only a host resets it
			}
			res, msg = h.call(mod, tt.fn, tt.fits)
			require.Empty(t, msg, "the next call works")
			assert.Equal(t, []uint64{tt.fits}, res)
		})
	}

	t.Run("tail calls reuse the frame", func(t *testing.T) {
		h := newHarness(t, limitsFeatures, true, 1<<40)
		h.host.stackLimit = 2 * frameBytes(1)
		mod := h.instantiate(t, metered)
		res, msg := h.call(mod, "tail", 100000)
		require.Empty(t, msg)
		assert.Equal(t, []uint64{7}, res)
		assert.Zero(t, h.host.overflows)
	})

	t.Run("the counter is back after a call", func(t *testing.T) {
		h := newHarness(t, limitsFeatures, true, 1<<40)
		const limit = 1000 * 72
		h.host.stackLimit = limit
		mod := h.instantiate(t, metered)
		_, msg := h.call(mod, "rec", 500)
		require.Empty(t, msg)
		assert.EqualValues(t, limit, mod.ExportedGlobal(StackGlobalName).Get())
	})
}

// catchModule throws from deep calls and catches the exception with
// try_table, then recurses:
//
//	(tag $x)
//	(func $rec (param $n i32) (result i32) ...)         ;; as in limits.wat
//	(func $throwdeep (param $n i32)
//	  (if (i32.eqz (local.get $n)) (then (throw $x)))
//	  (call $throwdeep (i32.sub (local.get $n) (i32.const 1))))
//	(func (export "catchrec") (param $k i32) (param $n i32) (param $m i32) (result i32)
//	  (block $done (loop $l
//	    (br_if $done (i32.eqz (local.get $k)))
//	    (block $c (try_table (catch $x $c) (call $throwdeep (local.get $n))))
//	    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
//	    (br $l)))
//	  (call $rec (local.get $m)))
func catchModule() []byte {
	return rawModule(
		1, vec([]byte{0x60, 1, 0x7f, 0}, []byte{0x60, 1, 0x7f, 1, 0x7f}, []byte{0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f}, []byte{0x60, 0, 0}),
		3, vec([]byte{1}, []byte{0}, []byte{2}),
		13, vec([]byte{0, 3}),
		7, vec(export("catchrec", 0, 2), export("rec", 0, 0)),
		10, vec(
			body([]byte{0}, 0x20, 0, 0x45, 0x04, 0x7f, 0x41, 0, 0x05, 0x20, 0, 0x41, 1, 0x6b, 0x10, 0, 0x41, 1, 0x6a, 0x0b, 0x0b),
			body([]byte{0}, 0x20, 0, 0x45, 0x04, 0x40, 0x08, 0, 0x0b, 0x20, 0, 0x41, 1, 0x6b, 0x10, 1, 0x0b),
			body([]byte{0},
				0x02, 0x40, 0x03, 0x40,
				0x20, 0, 0x45, 0x0d, 1,
				0x02, 0x40, 0x1f, 0x40, 1, 0x00, 0, 0, 0x20, 1, 0x10, 1, 0x0b, 0x0b,
				0x20, 0, 0x41, 1, 0x6b, 0x21, 0,
				0x0c, 0,
				0x0b, 0x0b,
				0x20, 2, 0x10, 0, 0x0b),
		),
	)
}

// TestInstrument_StackAfterThrow checks that exceptions thrown from deep
// calls and caught do not leave the stack counter short: the frames the
// throw unwound are given back.
func TestInstrument_StackAfterThrow(t *testing.T) {
	features := api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling
	wasm := catchModule()
	checkSame(t, features, wasm, []callCase{{"catchrec", []uint64{3, 5, 5}}, {"rec", []uint64{10}}})
	metered := instrument(t, wasm)
	// catchrec's frame (3 parameters) and 50 of rec's or throwdeep's.
	limit := frameBytes(3) + 50*frameBytes(1)
	for _, tt := range []struct {
		k, n, m  uint64
		overflow bool
	}{
		{0, 0, 49, false},
		{0, 0, 50, true},
		{5, 40, 49, false}, // 5 catches of a throw from 41 frames deep
		{5, 49, 49, false},
		{5, 50, 0, true}, // throwdeep(50) takes 51 frames
	} {
		h := newHarness(t, features, true, 1<<40)
		h.host.stackLimit = limit
		mod := h.instantiate(t, metered)
		res, msg := h.call(mod, "catchrec", tt.k, tt.n, tt.m)
		if tt.overflow {
			assert.Contains(t, msg, errStackOverflow.Error(), "catchrec%v", tt)
			continue
		}
		require.Empty(t, msg, "catchrec%v", tt)
		assert.Equal(t, []uint64{tt.m}, res)
	}
}

// TestInstrument_TableGrow checks that table.grow asks the limit callback
// about the total size of the tables after the growth, grows only when it
// agrees, and costs fuel only then.
func TestInstrument_TableGrow(t *testing.T) {
	metered := instrument(t, limitsWasm)
	h := newHarness(t, limitsFeatures, true, 1<<40)
	h.host.maxTable = 100
	mod := h.instantiate(t, metered)
	call := func(fn string, arg ...uint64) (int32, int64) {
		t.Helper()
		res, msg := h.call(mod, fn, arg...)
		require.Empty(t, msg)
		return int32(res[0]), h.host.used()
	}
	size, _ := call("tsize")
	require.EqualValues(t, 1, size)
	old, fuel := call("tgrow", 50)
	assert.EqualValues(t, 1, old)
	assert.GreaterOrEqual(t, fuel, int64(50), "the elements are paid for")
	old, _ = call("tgrow", 60)
	assert.EqualValues(t, -1, old, "past the limit")
	old, _ = call("egrow", 49)
	assert.EqualValues(t, 0, old, "up to the limit, in another table")
	old, _ = call("egrow", 1)
	assert.EqualValues(t, -1, old)
	old, fuel = call("tgrow", 100_000_000)
	assert.EqualValues(t, -1, old)
	assert.Less(t, fuel, int64(100), "a refused growth costs no more than its instructions")
	old, _ = call("tgrow", math.MaxUint32)
	assert.EqualValues(t, -1, old)
	size, _ = call("tsize")
	assert.EqualValues(t, 100, size, "nothing grew past the limit")
	assert.Equal(t, []int64{51, 111, 100, 101, 100_000_100, 100 + math.MaxUint32}, h.host.tableAsks)
}

// TestInstrument_HopelessGrow checks that a memory.grow that can never
// succeed (more pages than 4 GiB, or than the memory's maximum) fails at
// once and costs nothing more than its instructions, while one that may
// succeed pays for every page it asks for.
func TestInstrument_HopelessGrow(t *testing.T) {
	// (memory 1 10) (func (export "growcapped") (param i32) (result i32)
	// (memory.grow (local.get 0)))
	capped := rawModule(
		1, vec([]byte{0x60, 1, 0x7f, 1, 0x7f}),
		3, vec([]byte{0}),
		5, vec([]byte{1, 1, 10}),
		7, vec(export("growcapped", 0, 0)),
		10, vec(body([]byte{0}, 0x20, 0, 0x40, 0, 0x0b)),
	)
	h, hc := newHarness(t, limitsFeatures, true, 1<<40), newHarness(t, limitsFeatures, true, 1<<40)
	mod, cmod := h.instantiate(t, instrument(t, limitsWasm)), hc.instantiate(t, instrument(t, capped))
	const perPage = 65536 / DefaultBulkBytesPerFuel
	for _, tt := range []struct {
		fn         string
		pages      uint64
		want       int32
		minF, maxF int64 // the fuel the call may use
	}{
		{"grow", math.MaxUint32, -1, 1, 100},
		{"grow", 65537, -1, 1, 100},
		{"grow", 65536, -1, 65536 * perPage, 65536*perPage + 100}, // may not succeed here, but could elsewhere
		{"grow", 1, 1, perPage, perPage + 100},
		{"growcapped", 11, -1, 1, 100}, // over the memory's maximum of 10 pages
		{"growcapped", 10, -1, 10 * perPage, 10*perPage + 100},
		{"growcapped", 9, 1, 9 * perPage, 9*perPage + 100},
	} {
		h, m := h, mod
		if tt.fn == "growcapped" {
			h, m = hc, cmod
		}
		res, msg := h.call(m, tt.fn, tt.pages)
		require.Empty(t, msg, "%s(%d)", tt.fn, tt.pages)
		assert.Equal(t, tt.want, int32(res[0]), "%s(%d)", tt.fn, tt.pages)
		used := h.host.used()
		assert.GreaterOrEqual(t, used, tt.minF, "%s(%d): fuel", tt.fn, tt.pages)
		assert.LessOrEqual(t, used, tt.maxF, "%s(%d): fuel", tt.fn, tt.pages)
	}
}
