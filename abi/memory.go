package abi

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Memory is a bounds-checked view of a guest's linear memory. Every method
// reports failure instead of panicking; the engines implement it.
//
// A slice returned by Read aliases guest memory and is invalidated by the
// next call into the guest (memory.grow may move it): copy it out before
// calling the guest again.
type Memory interface {
	// Size is the current size of the memory in bytes.
	Size() uint32
	// Read returns n bytes at offset, or false if they are not all inside
	// memory.
	Read(offset, n uint32) ([]byte, bool)
	// Write copies b to offset, or returns false if it does not fit.
	Write(offset uint32, b []byte) bool
}

// Allocator calls the guest's cabi_realloc export.
type Allocator interface {
	Realloc(ctx context.Context, oldPtr, oldSize, align, newSize uint32) (uint32, error)
}

// Errors of the ABI checks. The errors returned by this package wrap one of
// them and say where the problem is.
var (
	// ErrOutOfBounds: a pointer and length do not lie inside guest memory.
	ErrOutOfBounds = errors.New("out of bounds")
	// ErrMisaligned: a result area or allocation is not suitably aligned.
	ErrMisaligned = errors.New("misaligned pointer")
	// ErrInvalidUTF8: a string is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrBadTag: a result or option tag is neither 0 nor 1.
	ErrBadTag = errors.New("invalid tag")
	// ErrTooLarge: a result, payload or string is larger than the limit.
	ErrTooLarge = errors.New("too large")
	// ErrBadLevel: a log level outside the WIT enum.
	ErrBadLevel = errors.New("invalid log level")
)

// Area is a raw 12-byte result or option area read from guest memory.
type Area struct {
	Tag      byte
	Ptr, Len uint32
}

// ReadArea reads the 12-byte area at ptr, checking that it is 4-aligned and
// inside memory, and that its tag is 0 or 1.
func ReadArea(mem Memory, ptr uint32) (Area, error) {
	if ptr%Align != 0 {
		return Area{}, fmt.Errorf("result area at 0x%x: %w", ptr, ErrMisaligned)
	}
	b, ok := mem.Read(ptr, ResultSize)
	if !ok {
		return Area{}, fmt.Errorf("result area at 0x%x (12 bytes, memory is %d bytes): %w", ptr, mem.Size(), ErrOutOfBounds)
	}
	a := Area{Tag: b[0], Ptr: le32(b[4:]), Len: le32(b[8:])}
	if a.Tag > 1 {
		return Area{}, fmt.Errorf("result area at 0x%x: tag %d: %w", ptr, a.Tag, ErrBadTag)
	}
	return a, nil
}

// WriteArea writes a 12-byte area at ptr, checking alignment and bounds.
func WriteArea(mem Memory, ptr uint32, a Area) error {
	if ptr%Align != 0 {
		return fmt.Errorf("return area at 0x%x: %w", ptr, ErrMisaligned)
	}
	var b [ResultSize]byte
	b[0] = a.Tag
	put32(b[4:], a.Ptr)
	put32(b[8:], a.Len)
	if !mem.Write(ptr, b[:]) {
		return fmt.Errorf("return area at 0x%x (12 bytes, memory is %d bytes): %w", ptr, mem.Size(), ErrOutOfBounds)
	}
	return nil
}

// CheckReturnArea checks that a return pointer given to a host import can
// hold size bytes: 4-aligned and inside memory. Call it before doing the
// work the import asks for, so a bad pointer costs nothing.
func CheckReturnArea(mem Memory, ptr, size uint32) error {
	if ptr%Align != 0 {
		return fmt.Errorf("return area at 0x%x: %w", ptr, ErrMisaligned)
	}
	if _, ok := mem.Read(ptr, size); !ok {
		return fmt.Errorf("return area at 0x%x (%d bytes, memory is %d bytes): %w", ptr, size, mem.Size(), ErrOutOfBounds)
	}
	return nil
}

// Bytes copies len bytes at ptr out of guest memory. limit bounds len; what
// names the value in the error ("output", "message").
func Bytes(mem Memory, what string, ptr, n uint32, limit uint64) ([]byte, error) {
	if uint64(n) > limit {
		return nil, fmt.Errorf("%s of %d bytes exceeds the limit of %d bytes: %w", what, n, limit, ErrTooLarge)
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("%s at 0x%x, %d bytes (memory is %d bytes): %w", what, ptr, n, mem.Size(), ErrOutOfBounds)
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out, nil
}

// String copies a UTF-8 string out of guest memory, checking bounds, the
// limit and UTF-8.
func String(mem Memory, what string, ptr, n uint32, limit uint64) (string, error) {
	if uint64(n) > limit {
		return "", fmt.Errorf("%s of %d bytes exceeds the limit of %d bytes: %w", what, n, limit, ErrTooLarge)
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		return "", fmt.Errorf("%s at 0x%x, %d bytes (memory is %d bytes): %w", what, ptr, n, mem.Size(), ErrOutOfBounds)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%s at 0x%x: %w", what, ptr, ErrInvalidUTF8)
	}
	return string(b), nil
}

// Result is a lifted result<list<u8>, string>: either OK bytes or an error
// message from the guest.
type Result struct {
	OK    []byte
	Err   string
	IsErr bool
}

// LiftResult reads the result<list<u8>, string> area at ptr, as a handler
// returns it, and copies its payload out. The payload may not be larger than
// limit bytes.
func LiftResult(mem Memory, ptr uint32, limit uint64) (Result, error) {
	r, err := AppendResult(nil, mem, ptr, limit)
	if err == nil && !r.IsErr && r.OK == nil {
		r.OK = []byte{} // an empty output, not a missing one
	}
	return r, err
}

// AppendResult is LiftResult appending an OK payload to dst, and returning
// the extended slice as Result.OK, instead of copying it to a new slice.
func AppendResult(dst []byte, mem Memory, ptr uint32, limit uint64) (Result, error) {
	a, err := ReadArea(mem, ptr)
	if err != nil {
		return Result{}, err
	}
	if a.Tag == TagErr {
		s, err := String(mem, "error message", a.Ptr, a.Len, limit)
		if err != nil {
			return Result{}, err
		}
		return Result{Err: s, IsErr: true}, nil
	}
	if uint64(a.Len) > limit {
		return Result{}, fmt.Errorf("output of %d bytes exceeds the limit of %d bytes: %w", a.Len, limit, ErrTooLarge)
	}
	b, ok := mem.Read(a.Ptr, a.Len)
	if !ok {
		return Result{}, fmt.Errorf("output at 0x%x, %d bytes (memory is %d bytes): %w", a.Ptr, a.Len, mem.Size(), ErrOutOfBounds)
	}
	return Result{OK: append(dst, b...)}, nil
}

// LiftUnitResult reads the result<_, string> area at ptr (on-load's result).
// It returns the guest's error message and whether there was one.
func LiftUnitResult(mem Memory, ptr uint32, limit uint64) (msg string, isErr bool, err error) {
	a, err := ReadArea(mem, ptr)
	if err != nil {
		return "", false, err
	}
	if a.Tag == TagOK {
		return "", false, nil
	}
	s, err := String(mem, "error message", a.Ptr, a.Len, limit)
	if err != nil {
		return "", false, err
	}
	return s, true, nil
}

// Lower allocates len(b) bytes in guest memory through cabi_realloc with the
// given alignment, checks the pointer it returns and copies b there. An
// empty b is not allocated: Lower returns (0, 0).
func Lower(ctx context.Context, mem Memory, alloc Allocator, b []byte, align uint32) (ptr, n uint32, err error) {
	if len(b) == 0 {
		return 0, 0, nil
	}
	if uint64(len(b)) > uint64(^uint32(0)) {
		return 0, 0, fmt.Errorf("lower %d bytes: %w", len(b), ErrTooLarge)
	}
	n = uint32(len(b))
	ptr, err = alloc.Realloc(ctx, 0, 0, align, n)
	if err != nil {
		return 0, 0, fmt.Errorf("cabi_realloc(0, 0, %d, %d): %w", align, n, err)
	}
	if align > 1 && ptr%align != 0 {
		return 0, 0, fmt.Errorf("cabi_realloc(0, 0, %d, %d) returned 0x%x: %w", align, n, ptr, ErrMisaligned)
	}
	if !mem.Write(ptr, b) {
		return 0, 0, fmt.Errorf("cabi_realloc(0, 0, %d, %d) returned 0x%x (memory is %d bytes): %w", align, n, ptr, mem.Size(), ErrOutOfBounds)
	}
	return ptr, n, nil
}

// LowerResult writes a result<list<u8>, string> (or option<string>) to the
// return area at ret: the payload is allocated in guest memory, then the
// 12-byte area is written. The caller has checked ret with CheckReturnArea.
func LowerResult(ctx context.Context, mem Memory, alloc Allocator, ret uint32, tag byte, payload []byte) error {
	ptr, n, err := Lower(ctx, mem, alloc, payload, 1)
	if err != nil {
		return err
	}
	return WriteArea(mem, ret, Area{Tag: tag, Ptr: ptr, Len: n})
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
