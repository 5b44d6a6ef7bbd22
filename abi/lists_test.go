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

// tuple writes a tuple<string, string> descriptor at at.
func tuple(m mem, at, kp, kn, vp, vn uint32) {
	binary.LittleEndian.PutUint32(m[at:], kp)
	binary.LittleEndian.PutUint32(m[at+4:], kn)
	binary.LittleEndian.PutUint32(m[at+8:], vp)
	binary.LittleEndian.PutUint32(m[at+12:], vn)
}

// bump is an allocator handing out consecutive blocks of m from next.
type bump struct {
	next  uint32
	calls [][2]uint32 // align, size
}

func (b *bump) Realloc(_ context.Context, _, _, align, size uint32) (uint32, error) {
	b.calls = append(b.calls, [2]uint32{align, size})
	b.next = (b.next + align - 1) / align * align
	p := b.next
	b.next += size
	return p, nil
}

func TestPairs(t *testing.T) {
	m := make(mem, 256)
	copy(m[100:], "acceptxy/zé")
	tuple(m, 16, 100, 6, 106, 3) // accept: xy/
	tuple(m, 32, 109, 0, 109, 3) // "": zé
	tuple(m, 48, 0, 0, 256, 0)   // empty strings, up to the end of memory
	got, err := abi.Pairs(m, "headers", 16, 3, 8, 64)
	require.NoError(t, err)
	assert.Equal(t, []abi.Pair{{"accept", "xy/"}, {"", "zé"}, {"", ""}}, got)

	got, err = abi.Pairs(m, "headers", 0xffffffff, 0, 8, 64)
	require.NoError(t, err, "an empty list is not read")
	assert.Empty(t, got)

	got, err = abi.Pairs(m, "headers", 16, 1, 8, 64)
	require.NoError(t, err)
	m[100] = 'A'
	assert.Equal(t, "accept", got[0].Key, "the strings are copied out")
}

func TestPairs_Errors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m mem)
		ptr   uint32
		n     uint32
		err   string
		is    error
	}{
		{name: "too many", ptr: 16, n: 9, err: "headers: 9 entries exceed the limit of 8: too large", is: abi.ErrTooLarge},
		{name: "misaligned", ptr: 18, n: 1, err: "headers at 0x12: misaligned pointer", is: abi.ErrMisaligned},
		{name: "array out of bounds", ptr: 240, n: 2, err: "headers at 0xf0, 2 entries (memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{name: "array far out", ptr: 0xfffffff0, n: 1, err: "headers at 0xfffffff0, 1 entries (memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds},
		{
			name:  "name out of bounds",
			setup: func(m mem) { tuple(m, 16, 250, 10, 0, 0) },
			ptr:   16, n: 1,
			err: "headers[0] name at 0xfa, 10 bytes (memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds,
		},
		{
			name:  "value wraps",
			setup: func(m mem) { tuple(m, 16, 0, 0, 0xfffffffe, 4) },
			ptr:   16, n: 1,
			err: "headers[0] value at 0xfffffffe, 4 bytes (memory is 256 bytes): out of bounds", is: abi.ErrOutOfBounds,
		},
		{
			name:  "value invalid utf8",
			setup: func(m mem) { copy(m[100:], "k\xff"); tuple(m, 16, 100, 1, 0, 0); tuple(m, 32, 100, 1, 101, 1) },
			ptr:   16, n: 2,
			err: "headers[1] value at 0x65: invalid UTF-8", is: abi.ErrInvalidUTF8,
		},
		{
			name:  "too many bytes",
			setup: func(m mem) { tuple(m, 16, 100, 40, 100, 20); tuple(m, 32, 100, 10, 100, 10) },
			ptr:   16, n: 2,
			err: "headers: more than 64 bytes of names and values: too large", is: abi.ErrTooLarge,
		},
		{
			name:  "huge lengths do not overflow the total",
			setup: func(m mem) { tuple(m, 16, 0, 0xffffffff, 0, 0xffffffff) },
			ptr:   16, n: 1,
			err: "headers: more than 64 bytes of names and values: too large", is: abi.ErrTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := make(mem, 256)
			if tt.setup != nil {
				tt.setup(m)
			}
			_, err := abi.Pairs(m, "headers", tt.ptr, tt.n, 8, 64)
			require.EqualError(t, err, tt.err)
			assert.ErrorIs(t, err, tt.is)
		})
	}
}

func TestLowerResponse(t *testing.T) {
	ctx := context.Background()
	m := make(mem, 512)
	a := &bump{next: 64}
	headers := []abi.Pair{{"content-type", "text/plain"}, {"x-empty", ""}}
	require.NoError(t, abi.LowerResponse(ctx, m, a, 8, abi.Response{Status: 418, Headers: headers, Body: []byte("body")}))

	assert.Equal(t, byte(abi.TagOK), m[8])
	assert.Equal(t, uint16(418), binary.LittleEndian.Uint16(m[12:]))
	hp, hn := binary.LittleEndian.Uint32(m[16:]), binary.LittleEndian.Uint32(m[20:])
	bp, bn := binary.LittleEndian.Uint32(m[24:]), binary.LittleEndian.Uint32(m[28:])
	assert.Zero(t, hp%4, "the tuple array is 4-aligned")
	assert.Equal(t, uint32(2), hn)
	got, err := abi.Pairs(m, "headers", hp, hn, 8, 1<<10)
	require.NoError(t, err)
	assert.Equal(t, headers, got)
	assert.Equal(t, "body", string(m[bp:bp+bn]))
	// Three strings (the empty value is not allocated), the array with
	// align 4, then the body.
	assert.Equal(t, [][2]uint32{{1, 12}, {1, 10}, {1, 7}, {4, 32}, {1, 4}}, a.calls)

}

func TestLowerResponse_NoContent(t *testing.T) {
	m := make(mem, 128)
	for i := range m {
		m[i] = 0xaa
	}
	require.NoError(t, abi.LowerResponse(context.Background(), m, &bump{next: 64}, 8, abi.Response{Status: 204}))
	want := make([]byte, 24)
	want[4], want[5] = 204, 0
	assert.Equal(t, want, []byte(m[8:32]))
}

func TestLowerResponseError(t *testing.T) {
	m := make(mem, 128)
	for i := range m {
		m[i] = 0xaa
	}
	require.NoError(t, abi.LowerResponseError(context.Background(), m, &bump{next: 64}, 8, "refused"))
	want := make([]byte, 24)
	want[0] = abi.TagErr
	binary.LittleEndian.PutUint32(want[4:], 64)
	binary.LittleEndian.PutUint32(want[8:], 7)
	assert.Equal(t, want, []byte(m[8:32]))
	assert.Equal(t, "refused", string(m[64:71]))
}

func TestLowerResponse_Errors(t *testing.T) {
	ctx := context.Background()
	headers := []abi.Pair{{"a", "b"}}
	t.Run("misaligned array", func(t *testing.T) {
		alloc := allocFunc(func(_, _, align, size uint32) (uint32, error) {
			if align == 4 {
				return 65, nil
			}
			return 100, nil
		})
		err := abi.LowerResponse(ctx, make(mem, 256), alloc, 8, abi.Response{Headers: headers})
		require.EqualError(t, err, "cabi_realloc(0, 0, 4, 16) returned 0x41: misaligned pointer")
		assert.ErrorIs(t, err, abi.ErrMisaligned)
	})
	t.Run("string out of bounds", func(t *testing.T) {
		alloc := allocFunc(func(_, _, _, _ uint32) (uint32, error) { return 0xfffffff0, nil })
		err := abi.LowerResponse(ctx, make(mem, 256), alloc, 8, abi.Response{Headers: headers})
		assert.ErrorIs(t, err, abi.ErrOutOfBounds)
	})
	t.Run("realloc fails", func(t *testing.T) {
		boom := errors.New("boom")
		alloc := allocFunc(func(_, _, _, _ uint32) (uint32, error) { return 0, boom })
		err := abi.LowerResponse(ctx, make(mem, 256), alloc, 8, abi.Response{Body: []byte("x")})
		assert.ErrorIs(t, err, boom)
	})
	t.Run("return area", func(t *testing.T) {
		err := abi.LowerResponseError(ctx, make(mem, 256), &bump{next: 64}, 6, "x")
		assert.ErrorIs(t, err, abi.ErrMisaligned)
		err = abi.LowerResponseError(ctx, make(mem, 256), &bump{next: 64}, 240, "x")
		require.EqualError(t, err, "return area at 0xf0 (24 bytes, memory is 256 bytes): out of bounds")
	})
}

func FuzzPairs(f *testing.F) {
	f.Add([]byte{}, uint32(0), uint32(0))
	seed := make([]byte, 64)
	binary.LittleEndian.PutUint32(seed[0:], 32)
	binary.LittleEndian.PutUint32(seed[4:], 3)
	copy(seed[32:], "abc")
	f.Add(seed, uint32(0), uint32(1))
	f.Fuzz(func(t *testing.T, m []byte, ptr, n uint32) {
		got, err := abi.Pairs(mem(m), "headers", ptr, n, 16, 1<<10)
		if err != nil {
			if got != nil {
				t.Fatalf("pairs and an error: %v", err)
			}
			return
		}
		if uint32(len(got)) != n && !(n == 0 && got == nil) {
			t.Fatalf("got %d pairs, want %d", len(got), n)
		}
	})
}
