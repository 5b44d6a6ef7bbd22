package abi

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// Pair is a lifted tuple<string, string>: an HTTP header, for instance.
type Pair struct {
	Key, Value string
}

// Pairs copies a list<tuple<string, string>> out of guest memory: n tuples
// of TupleSize bytes at ptr, which must be 4-aligned, each holding two
// UTF-8 strings. It refuses more than maxCount tuples and more than
// maxBytes of string bytes in all; what names the list in errors
// ("headers").
func Pairs(mem Memory, what string, ptr, n uint32, maxCount uint32, maxBytes uint64) ([]Pair, error) {
	if n == 0 {
		return nil, nil
	}
	if n > maxCount {
		return nil, fmt.Errorf("%s: %d entries exceed the limit of %d: %w", what, n, maxCount, ErrTooLarge)
	}
	if ptr%Align != 0 {
		return nil, fmt.Errorf("%s at 0x%x: %w", what, ptr, ErrMisaligned)
	}
	size := uint64(n) * TupleSize
	if size > uint64(^uint32(0)) {
		return nil, fmt.Errorf("%s at 0x%x, %d entries (memory is %d bytes): %w", what, ptr, n, mem.Size(), ErrOutOfBounds)
	}
	raw, ok := mem.Read(ptr, uint32(size))
	if !ok {
		return nil, fmt.Errorf("%s at 0x%x, %d entries (memory is %d bytes): %w", what, ptr, n, mem.Size(), ErrOutOfBounds)
	}
	// Copy the descriptors out first: the strings are read from the same
	// memory, and a view is only valid until the next call into the guest.
	desc := make([]uint32, 0, 4*n)
	for i := uint32(0); i < 4*n; i++ {
		desc = append(desc, le32(raw[4*i:]))
	}
	out := make([]Pair, n)
	var total uint64
	for i := range out {
		kp, kn, vp, vn := desc[4*i], desc[4*i+1], desc[4*i+2], desc[4*i+3]
		total += uint64(kn) + uint64(vn)
		if total > maxBytes {
			return nil, fmt.Errorf("%s: more than %d bytes of names and values: %w", what, maxBytes, ErrTooLarge)
		}
		k, err := pairString(mem, what, i, "name", kp, kn)
		if err != nil {
			return nil, err
		}
		v, err := pairString(mem, what, i, "value", vp, vn)
		if err != nil {
			return nil, err
		}
		out[i] = Pair{Key: k, Value: v}
	}
	return out, nil
}

// pairString copies one string of a tuple out, checking bounds and UTF-8.
func pairString(mem Memory, what string, i int, part string, ptr, n uint32) (string, error) {
	b, ok := mem.Read(ptr, n)
	if !ok {
		return "", fmt.Errorf("%s[%d] %s at 0x%x, %d bytes (memory is %d bytes): %w", what, i, part, ptr, n, mem.Size(), ErrOutOfBounds)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%s[%d] %s at 0x%x: %w", what, i, part, ptr, ErrInvalidUTF8)
	}
	return string(b), nil
}

// LowerPairs places a list<tuple<string, string>> in guest memory through
// cabi_realloc: each string is its own allocation (align 1, so the guest
// can free it), then the array of tuples (align 4). It returns the list's
// (ptr, len); an empty list is (0, 0). Every pointer cabi_realloc returns
// is checked ([Lower]).
func LowerPairs(ctx context.Context, mem Memory, alloc Allocator, pairs []Pair) (ptr, n uint32, err error) {
	if len(pairs) == 0 {
		return 0, 0, nil
	}
	if uint64(len(pairs))*TupleSize > uint64(^uint32(0)) {
		return 0, 0, fmt.Errorf("lower %d pairs: %w", len(pairs), ErrTooLarge)
	}
	arr := make([]byte, len(pairs)*TupleSize)
	for i, p := range pairs {
		kp, kn, err := Lower(ctx, mem, alloc, []byte(p.Key), 1)
		if err != nil {
			return 0, 0, err
		}
		vp, vn, err := Lower(ctx, mem, alloc, []byte(p.Value), 1)
		if err != nil {
			return 0, 0, err
		}
		e := arr[i*TupleSize:]
		put32(e[0:], kp)
		put32(e[4:], kn)
		put32(e[8:], vp)
		put32(e[12:], vn)
	}
	ptr, _, err = Lower(ctx, mem, alloc, arr, Align)
	if err != nil {
		return 0, 0, err
	}
	return ptr, uint32(len(pairs)), nil
}

// Response is an http.response to lower into guest memory.
type Response struct {
	Status  uint16
	Headers []Pair
	Body    []byte
}

// LowerResponse writes result<response, string> as ok to the 24-byte
// return area at ret: headers and body are allocated in guest memory, then
// the area is written (tag 0, status at 4, headers at 8 and 12, body at 16
// and 20). The caller has checked ret with CheckReturnArea(mem, ret,
// ResponseResultSize).
func LowerResponse(ctx context.Context, mem Memory, alloc Allocator, ret uint32, r Response) error {
	hp, hn, err := LowerPairs(ctx, mem, alloc, r.Headers)
	if err != nil {
		return err
	}
	bp, bn, err := Lower(ctx, mem, alloc, r.Body, 1)
	if err != nil {
		return err
	}
	var b [ResponseResultSize]byte
	b[0] = TagOK
	b[4], b[5] = byte(r.Status), byte(r.Status>>8)
	put32(b[8:], hp)
	put32(b[12:], hn)
	put32(b[16:], bp)
	put32(b[20:], bn)
	return writeResponseArea(mem, ret, b)
}

// LowerResponseError writes result<response, string> as err, with the
// message msg, to the 24-byte return area at ret. The caller has checked
// ret with CheckReturnArea(mem, ret, ResponseResultSize).
func LowerResponseError(ctx context.Context, mem Memory, alloc Allocator, ret uint32, msg string) error {
	p, n, err := Lower(ctx, mem, alloc, []byte(msg), 1)
	if err != nil {
		return err
	}
	var b [ResponseResultSize]byte
	b[0] = TagErr
	put32(b[4:], p)
	put32(b[8:], n)
	return writeResponseArea(mem, ret, b)
}

func writeResponseArea(mem Memory, ret uint32, b [ResponseResultSize]byte) error {
	if ret%Align != 0 {
		return fmt.Errorf("return area at 0x%x: %w", ret, ErrMisaligned)
	}
	if !mem.Write(ret, b[:]) {
		return fmt.Errorf("return area at 0x%x (%d bytes, memory is %d bytes): %w", ret, ResponseResultSize, mem.Size(), ErrOutOfBounds)
	}
	return nil
}
