package abi_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
)

// mem is a Memory over a byte slice.
type mem []byte

func (m mem) Size() uint32 { return uint32(len(m)) }

func (m mem) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m)) {
		return nil, false
	}
	return m[off : off+n], true
}

func (m mem) Write(off uint32, b []byte) bool {
	if uint64(off)+uint64(len(b)) > uint64(len(m)) {
		return false
	}
	copy(m[off:], b)
	return true
}

func area(m mem, at uint32, tag byte, ptr, n uint32) {
	m[at] = tag
	binary.LittleEndian.PutUint32(m[at+4:], ptr)
	binary.LittleEndian.PutUint32(m[at+8:], n)
}

func TestLiftResult(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m mem) uint32
		limit uint64
		want  abi.Result
		err   string
		is    error
	}{
		{name: "ok", setup: func(m mem) uint32 { copy(m[100:], "hello"); area(m, 16, 0, 100, 5); return 16 }, want: abi.Result{OK: []byte("hello")}},
		{name: "ok empty", setup: func(m mem) uint32 { area(m, 16, 0, 0, 0); return 16 }, want: abi.Result{OK: []byte{}}},
		{name: "err", setup: func(m mem) uint32 { copy(m[100:], "boom"); area(m, 16, 1, 100, 4); return 16 }, want: abi.Result{Err: "boom", IsErr: true}},
		{name: "misaligned", setup: func(m mem) uint32 { return 17 }, err: "result area at 0x11: misaligned pointer", is: abi.ErrMisaligned},
		{name: "area out of bounds", setup: func(m mem) uint32 { return 0xfffffff0 }, err: "result area at 0xfffffff0 (12 bytes, memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{name: "area straddles end", setup: func(m mem) uint32 { return 248 }, err: "result area at 0xf8 (12 bytes, memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{name: "bad tag", setup: func(m mem) uint32 { area(m, 16, 2, 0, 0); return 16 }, err: "result area at 0x10: tag 2: invalid tag", is: abi.ErrBadTag},
		{name: "payload out of bounds", setup: func(m mem) uint32 { area(m, 16, 0, 250, 10); return 16 }, err: "output at 0xfa, 10 bytes (memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{name: "payload wraps", setup: func(m mem) uint32 { area(m, 16, 0, 8, 0xffffffff); return 16 }, limit: 1 << 40, err: "output at 0x8, 4294967295 bytes (memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{name: "payload over limit", setup: func(m mem) uint32 { area(m, 16, 0, 0, 200); return 16 }, limit: 100, err: "output of 200 bytes exceeds the limit of 100 bytes: too large", is: abi.ErrTooLarge},
		{name: "err invalid utf8", setup: func(m mem) uint32 { copy(m[100:], "\xff\xfe"); area(m, 16, 1, 100, 2); return 16 }, err: "error message at 0x64: invalid UTF-8", is: abi.ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := make(mem, 256)
			ptr := tt.setup(m)
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			got, err := abi.LiftResult(m, ptr, limit)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				assert.ErrorIs(t, err, tt.is)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLiftResult_Copies(t *testing.T) {
	m := make(mem, 64)
	copy(m[32:], "abc")
	area(m, 0, 0, 32, 3)
	r, err := abi.LiftResult(m, 0, 100)
	require.NoError(t, err)
	m[32] = 'X'
	assert.Equal(t, "abc", string(r.OK), "lifted bytes must not alias guest memory")
}

func TestLiftUnitResult(t *testing.T) {
	m := make(mem, 64)
	area(m, 0, 0, 0, 0)
	msg, isErr, err := abi.LiftUnitResult(m, 0, 100)
	require.NoError(t, err)
	assert.False(t, isErr)
	assert.Empty(t, msg)
	copy(m[32:], "no db")
	area(m, 0, 1, 32, 5)
	msg, isErr, err = abi.LiftUnitResult(m, 0, 100)
	require.NoError(t, err)
	assert.True(t, isErr)
	assert.Equal(t, "no db", msg)
}

type allocFunc func(old, oldSize, align, size uint32) (uint32, error)

func (f allocFunc) Realloc(_ context.Context, o, os, a, n uint32) (uint32, error) {
	return f(o, os, a, n)
}

func TestLower(t *testing.T) {
	tests := []struct {
		name  string
		alloc allocFunc
		align uint32
		err   string
		is    error
	}{
		{name: "ok", alloc: func(_, _, _, _ uint32) (uint32, error) { return 40, nil }, align: 4},
		{name: "out of bounds", alloc: func(_, _, _, _ uint32) (uint32, error) { return 0xfffffff0, nil }, align: 1,
			err: "cabi_realloc(0, 0, 1, 5) returned 0xfffffff0 (memory is 64 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{name: "straddles", alloc: func(_, _, _, _ uint32) (uint32, error) { return 62, nil }, align: 1,
			err: "cabi_realloc(0, 0, 1, 5) returned 0x3e (memory is 64 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{name: "misaligned", alloc: func(_, _, _, _ uint32) (uint32, error) { return 41, nil }, align: 4,
			err: "cabi_realloc(0, 0, 4, 5) returned 0x29: misaligned pointer", is: abi.ErrMisaligned},
		{name: "trap", alloc: func(_, _, _, _ uint32) (uint32, error) { return 0, errors.New("unreachable") }, align: 1,
			err: "cabi_realloc(0, 0, 1, 5): unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := make(mem, 64)
			ptr, n, err := abi.Lower(context.Background(), m, tt.alloc, []byte("hello"), tt.align)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				if tt.is != nil {
					assert.ErrorIs(t, err, tt.is)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, uint32(5), n)
			assert.Equal(t, "hello", string(m[ptr:ptr+n]))
		})
	}
}

func TestLower_Empty(t *testing.T) {
	called := false
	ptr, n, err := abi.Lower(context.Background(), make(mem, 8), allocFunc(func(_, _, _, _ uint32) (uint32, error) {
		called = true
		return 0, nil
	}), nil, 1)
	require.NoError(t, err)
	assert.Zero(t, ptr)
	assert.Zero(t, n)
	assert.False(t, called, "nothing to allocate for an empty value")
}

func TestCheckReturnArea(t *testing.T) {
	m := make(mem, 64)
	require.NoError(t, abi.CheckReturnArea(m, 40, 24))
	require.EqualError(t, abi.CheckReturnArea(m, 41, 12), "return area at 0x29: misaligned pointer")
	require.EqualError(t, abi.CheckReturnArea(m, 44, 24), "return area at 0x2c (24 bytes, memory is 64 bytes): out of bounds")
}

func TestLevel(t *testing.T) {
	assert.Equal(t, "warn", abi.LevelWarn.String())
	assert.Equal(t, "level(9)", abi.Level(9).String())
	assert.True(t, abi.LevelError.Valid())
	assert.False(t, abi.Level(5).Valid())
}

func FuzzLiftResult(f *testing.F) {
	f.Add(make([]byte, 64), uint32(0), uint64(100))
	f.Add([]byte("\x00\x00\x00\x00\x10\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00abcd"), uint32(0), uint64(100))
	f.Fuzz(func(t *testing.T, b []byte, ptr uint32, limit uint64) {
		r, err := abi.LiftResult(mem(b), ptr, limit)
		if err != nil {
			return
		}
		require.Zero(t, ptr%4)
		if r.IsErr {
			require.LessOrEqual(t, uint64(len(r.Err)), limit)
		} else {
			require.LessOrEqual(t, uint64(len(r.OK)), limit)
		}
	})
}
