package pdk

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"
)

// These tests run the target-independent part of the kit on the host; the
// end-to-end behaviour in a wasm guest is tested by the _test files of
// package pdk_test, through the fixtures.

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func TestArena_alloc(t *testing.T) {
	var a arena
	for _, align := range []uintptr{1, 2, 4, 8, 16, 64} {
		for _, size := range []uintptr{1, 3, 5, 7, 8, 12, 13, 100, 4096, 1 << 20} {
			p := a.alloc(align, size)
			if p == 0 || p%align != 0 {
				t.Fatalf("alloc(%d, %d) = %#x, not aligned", align, size, p)
			}
			b := a.pins[p]
			if uintptr(len(b)) != size || addr(b) != p {
				t.Fatalf("alloc(%d, %d): pinned %d bytes at %#x", align, size, len(b), addr(b))
			}
			for _, c := range b {
				if c != 0 {
					t.Fatalf("alloc(%d, %d): block not zeroed", align, size)
				}
			}
		}
	}
	if n, _ := a.pinned(); n != 6*10 {
		t.Errorf("pinned %d blocks, want %d", n, 6*10)
	}
}

func TestArena_allocEmpty(t *testing.T) {
	var a arena
	for _, align := range []uintptr{1, 2, 4, 8} {
		if p := a.alloc(align, 0); p != zeroAddr() {
			t.Errorf("alloc(%d, 0) = %#x, want the zero block %#x", align, p, zeroAddr())
		}
	}
	if n, _ := a.pinned(); n != 0 {
		t.Errorf("empty allocations pinned %d blocks", n)
	}
	if p := a.alloc(64, 0); p == 0 || p%64 != 0 {
		t.Errorf("alloc(64, 0) = %#x, not aligned", p)
	}
}

func TestArena_allocBadAlign(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("alloc(3, 1) did not panic")
		}
	}()
	var a arena
	a.alloc(3, 1)
}

func TestArena_realloc(t *testing.T) {
	var a arena
	p := a.realloc(0, 0, 1, 4)
	copy(a.pins[p], "abcd")
	q := a.realloc(p, 4, 1, 8)
	if got := a.pins[q]; string(got) != "abcd\x00\x00\x00\x00" {
		t.Errorf("grown block = %q", got)
	}
	if _, ok := a.pins[p]; ok && p != q {
		t.Error("old block still pinned after realloc")
	}
	r := a.realloc(q, 8, 1, 2)
	if got := a.pins[r]; string(got) != "ab" {
		t.Errorf("shrunk block = %q", got)
	}
	if n, _ := a.pinned(); n != 1 {
		t.Errorf("pinned %d blocks, want 1", n)
	}
	if z := a.realloc(zeroAddr(), 0, 1, 3); len(a.pins[z]) != 3 {
		t.Error("realloc of the zero block did not allocate")
	}
}

func TestArena_reallocUnknown(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("realloc of an unknown pointer did not panic")
		}
	}()
	var a arena
	a.realloc(0x1234, 4, 1, 8)
}

func TestArena_take(t *testing.T) {
	var a arena
	p := a.alloc(1, 10)
	if _, ok := a.take(p, 11); ok {
		t.Error("take beyond the block succeeded")
	}
	b, ok := a.take(p, 6)
	if !ok || len(b) != 6 || cap(b) != 6 || addr(b) != p {
		t.Fatalf("take(p, 6) = %d bytes at %#x, %v", len(b), addr(b), ok)
	}
	if _, ok := a.take(p, 6); ok {
		t.Error("a block was taken twice")
	}
	if b, ok := a.take(0, 0); !ok || b != nil {
		t.Error("take(0, 0) should give no bytes")
	}
	if _, ok := a.take(0x1234, 1); ok {
		t.Error("take of an unknown pointer succeeded")
	}
}

func TestArena_forget(t *testing.T) {
	var a arena
	a.alloc(1, 10)
	a.alloc(4, 100)
	a.forget()
	if n, bytes := a.pinned(); n != 0 || bytes != 0 {
		t.Errorf("after forget: %d blocks, %d bytes pinned", n, bytes)
	}
}

func TestGuest_handle(t *testing.T) {
	var g guest
	in := g.alloc(1, 5)
	copy(g.pins[in], "hello")
	stale := g.alloc(1, 100) // left over by a call that failed halfway

	var seen []byte
	r, err := g.handle(in, 5, func(input []byte) ([]byte, error) {
		seen = input
		return bytes.ToUpper(input), nil
	})
	if err != nil || r.tag != 0 || r.size != 5 {
		t.Fatalf("handle = %+v, %v", r, err)
	}
	if string(seen) != "hello" || addr(seen) != in {
		t.Errorf("handler saw %q at %#x, want the input block %#x", seen, addr(seen), in)
	}
	if string(g.out) != "HELLO" || addr(g.out) != r.ptr {
		t.Errorf("result %q at %#x not kept for the host", g.out, r.ptr)
	}
	if _, ok := g.pins[stale]; ok {
		t.Error("stale block still pinned after a call")
	}
	if n, _ := g.pinned(); n != 0 {
		t.Errorf("%d blocks pinned after the call", n)
	}
	g.release()
	if g.out != nil {
		t.Error("release kept the result")
	}
}

func TestGuest_handleResults(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		fn       func([]byte) ([]byte, error)
		wantTag  uint32
		wantOut  string
		wantErr  error
		wantZero bool // an empty result points at the zero block
	}{
		{name: "ok", fn: func(in []byte) ([]byte, error) { return in, nil }, wantOut: "in"},
		{name: "ok empty", fn: func([]byte) ([]byte, error) { return nil, nil }, wantZero: true},
		{name: "err", fn: func([]byte) ([]byte, error) { return []byte("ignored"), boom }, wantTag: 1, wantOut: "boom", wantErr: boom},
		{name: "err empty", fn: func([]byte) ([]byte, error) { return nil, errors.New("") }, wantTag: 1, wantZero: true},
		{name: "panic", fn: func([]byte) ([]byte, error) { panic("oops") }, wantTag: 1, wantOut: "panic: oops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var g guest
			in := g.alloc(1, 2)
			copy(g.pins[in], "in")
			r, err := g.handle(in, 2, tc.fn)
			if r.tag != tc.wantTag || string(g.out) != tc.wantOut || uintptr(len(tc.wantOut)) != r.size {
				t.Errorf("handle = %+v (%q), want tag %d and %q", r, g.out, tc.wantTag, tc.wantOut)
			}
			if tc.wantZero != (r.ptr == zeroAddr()) {
				t.Errorf("result pointer %#x, zero block %#x", r.ptr, zeroAddr())
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			var p *PanicError
			if tc.name == "panic" && (!errors.As(err, &p) || p.Value != "oops" || len(p.Stack) == 0) {
				t.Errorf("panic error = %#v", err)
			}
		})
	}
}

func TestGuest_handleForeignInput(t *testing.T) {
	var g guest
	r, err := g.handle(0x1234, 3, func([]byte) ([]byte, error) {
		t.Error("handler called with an input not allocated through cabi_realloc")
		return nil, nil
	})
	if err != nil || r.tag != 1 || !bytes.Contains(g.out, []byte("not allocated through cabi_realloc")) {
		t.Errorf("handle = %+v %q, %v", r, g.out, err)
	}
}

func TestGuest_load(t *testing.T) {
	var g guest
	if r, err := g.load(func() error { return nil }); err != nil || r.tag != 0 {
		t.Errorf("load ok = %+v, %v", r, err)
	}
	r, err := g.load(func() error { return errors.New("no config") })
	if err == nil || r.tag != 1 || string(g.out) != "no config" {
		t.Errorf("load err = %+v %q, %v", r, g.out, err)
	}
}

func TestGCWatch_rateLimit(t *testing.T) {
	var w gcWatch
	for i := 1; i < checkCalls; i++ {
		w.afterCall(1)
		if w.calls != i {
			t.Fatalf("after %d small calls the watch checked (calls = %d)", i, w.calls)
		}
	}
	w.afterCall(1)
	if w.calls != 0 || w.samples == nil {
		t.Errorf("the watch did not check after %d calls", checkCalls)
	}
	w.afterCall(checkBytes)
	if w.calls != 0 || w.bytes != 0 {
		t.Errorf("the watch did not check after a call of %d bytes", checkBytes)
	}
}

func TestGCWatch_stuck(t *testing.T) {
	const goal = 4 << 20
	var w gcWatch
	steps := []struct {
		cycles, allocs uint64
		want           bool
	}{
		{cycles: 1, allocs: 1 << 20},                // a cycle completed: new baseline
		{cycles: 1, allocs: 3 << 20},                // 2 MiB since: fine
		{cycles: 2, allocs: 9 << 20},                // another cycle: new baseline
		{cycles: 2, allocs: 13 << 20},               // exactly the goal since: fine
		{cycles: 2, allocs: 13<<20 + 1, want: true}, // past the goal without a cycle: stuck
		{cycles: 3, allocs: 14 << 20},               // the forced cycle completed
		{cycles: 3, allocs: 15 << 20},
	}
	for i, s := range steps {
		if got := w.stuck(s.cycles, s.allocs, goal); got != s.want {
			t.Errorf("step %d: stuck(%d cycles, %d bytes) = %v, want %v", i, s.cycles, s.allocs, got, s.want)
		}
	}
}

func TestGCWatch_afterCall(t *testing.T) {
	var w gcWatch
	w.afterCall(checkBytes)
	// Pretend that more than a heap goal was allocated since the last cycle
	// completed (the baseline is ahead of the counter, so the unsigned
	// difference is huge).
	var allocs uint64
	w.cycles, allocs, _ = w.read()
	w.allocs = allocs + 1<<40
	if cycles, _, _ := w.read(); cycles != w.cycles {
		t.Skip("a collection completed concurrently")
	}
	if !w.afterCall(checkBytes) || w.forced != 1 {
		t.Fatalf("the watch did not force a collection (forced = %d)", w.forced)
	}
}

func TestLevel_String(t *testing.T) {
	for l, want := range []string{"trace", "debug", "info", "warn", "error"} {
		if got := Level(l).String(); got != want {
			t.Errorf("Level(%d) = %q, want %q", l, got, want)
		}
	}
	if got := Level(9).String(); got != "level(9)" {
		t.Errorf("Level(9) = %q", got)
	}
}
