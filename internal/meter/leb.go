package meter

import (
	"fmt"
	"unicode/utf8"
)

// reader reads a part of a module. Every read is bounds-checked; errors
// carry the absolute offset in the module.
type reader struct {
	b    []byte // the bytes being read; b[0] is at module offset base
	off  int
	base int
	what string // what is being read, for errors ("code section", ...)
	fn   int64  // in the code section, the function being read; else -1
}

func newReader(b []byte, base int, what string) *reader {
	return &reader{b: b, base: base, what: what, fn: -1}
}

func (r *reader) errf(err error, format string, args ...any) error {
	what := r.what
	if r.fn >= 0 {
		what = fmt.Sprintf("%s: function %d", what, r.fn)
	}
	return fmt.Errorf("%s at offset 0x%x: %s: %w", what, r.base+r.off, fmt.Sprintf(format, args...), err)
}

func (r *reader) done() bool { return r.off >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.errf(ErrMalformed, "unexpected end")
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) peek() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.errf(ErrMalformed, "unexpected end")
	}
	return r.b[r.off], nil
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) (uint64, error) {
	var v uint64
	var shift uint
	start := r.off
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits {
			r.off = start
			return 0, r.errf(ErrMalformed, "integer too long")
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if bits < 64 && v>>bits != 0 {
				r.off = start
				return 0, r.errf(ErrMalformed, "integer overflows %d bits", bits)
			}
			if bits == 64 && shift == 63 && c > 1 {
				r.off = start
				return 0, r.errf(ErrMalformed, "integer overflows 64 bits")
			}
			return v, nil
		}
		shift += 7
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// sleb reads a signed LEB128 of at most bits bits (33 for block and heap
// types) and returns its value.
func (r *reader) sleb(bits uint) (int64, error) {
	var v int64
	var shift uint
	start := r.off
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits {
			r.off = start
			return 0, r.errf(ErrMalformed, "integer too long")
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			// The value must fit in bits bits.
			if bits < 64 {
				lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
				if v < lo || v > hi {
					r.off = start
					return 0, r.errf(ErrMalformed, "integer overflows %d bits", bits)
				}
			}
			return v, nil
		}
	}
}

// skip advances by n bytes.
func (r *reader) skip(n int) error {
	if n < 0 || n > len(r.b)-r.off {
		return r.errf(ErrMalformed, "%d bytes run past the end", n)
	}
	r.off += n
	return nil
}

// count reads a vector length and checks it against the bytes left, each
// element taking at least min bytes.
func (r *reader) count(min int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(len(r.b)-r.off) {
		return 0, r.errf(ErrMalformed, "vector of %d elements runs past the end", n)
	}
	return int(n), nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return "", r.errf(ErrMalformed, "name of %d bytes runs past the end", n)
	}
	s := r.b[r.off : r.off+int(n)]
	if !utf8.Valid(s) {
		return "", r.errf(ErrMalformed, "name %q is not valid UTF-8", s)
	}
	r.off += int(n)
	return string(s), nil
}

// Value types and the reference type prefixes of typed function references.
const (
	typeI32       = 0x7f
	typeI64       = 0x7e
	typeF32       = 0x7d
	typeF64       = 0x7c
	typeV128      = 0x7b
	typeFuncref   = 0x70
	typeExternref = 0x6f
	typeExnref    = 0x69
	refNullable   = 0x63
	refNonNull    = 0x64
)

// heapType reads a heap type (after ref.null or a ref prefix).
func (r *reader) heapType() error {
	start := r.off
	ht, err := r.sleb(33)
	if err != nil {
		return err
	}
	switch {
	case ht >= 0: // a type index
		return nil
	case ht == -16, ht == -17, ht == -23: // func, extern, exn
		return nil
	}
	r.off = start
	return r.errf(ErrUnsupported, "heap type %d (GC heap types are not supported)", ht)
}

// valtype reads a value type.
func (r *reader) valtype() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case typeI32, typeI64, typeF32, typeF64, typeV128, typeFuncref, typeExternref, typeExnref:
		return nil
	case refNullable, refNonNull:
		return r.heapType()
	}
	r.off--
	return r.errf(ErrUnsupported, "value type 0x%02x", c)
}

// blockType reads a block type: empty, one value type or a type index.
func (r *reader) blockType() error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	switch c {
	case 0x40:
		r.off++
		return nil
	case typeI32, typeI64, typeF32, typeF64, typeV128, typeFuncref, typeExternref, typeExnref, refNullable, refNonNull:
		return r.valtype()
	}
	start := r.off
	idx, err := r.sleb(33)
	if err != nil {
		return err
	}
	if idx < 0 {
		r.off = start
		return r.errf(ErrUnsupported, "block type 0x%02x", c)
	}
	return nil
}

// limits reads table or memory limits and reports whether they are 64-bit.
func (r *reader) limits() (is64 bool, err error) {
	is64, _, _, err = r.limitsMax()
	return is64, err
}

// limitsMax reads limits and also returns the maximum, if there is one.
func (r *reader) limitsMax() (is64 bool, max uint64, hasMax bool, err error) {
	flags, err := r.byte()
	if err != nil {
		return false, 0, false, err
	}
	if flags > 7 {
		r.off--
		return false, 0, false, r.errf(ErrMalformed, "unknown limits flags 0x%02x", flags)
	}
	bits := uint(32)
	if flags&4 != 0 {
		bits = 64
	}
	if _, err := r.uleb(bits); err != nil {
		return false, 0, false, err
	}
	if flags&1 != 0 {
		if max, err = r.uleb(bits); err != nil {
			return false, 0, false, err
		}
	}
	return flags&4 != 0, max, flags&1 != 0, nil
}

func appendU32(b []byte, v uint32) []byte { return appendU64(b, uint64(v)) }

func appendU64(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

// appendSection appends a section with the given id and content.
func appendSection(b []byte, id byte, content []byte) []byte {
	b = append(b, id)
	b = appendU32(b, uint32(len(content)))
	return append(b, content...)
}
