package gen

import (
	"github.com/vitte-lang/vitte-plugin/adapters/vitte/wasm"
)

// helper returns the index of the runtime function name, emitting it the
// first time it is needed.
func (g *gen) helper(name string) uint32 {
	if idx, ok := g.helpers[name]; ok {
		return idx
	}
	build, ok := helperBuilders[name]
	if !ok {
		panic("gen: unknown helper " + name) // a bug of this package
	}
	t, locals := build(g, nil)
	fname := "vitte." + name
	if name == "cabi_realloc" {
		fname = name
	}
	idx, f := g.newFunc(fname, t)
	g.helpers[name] = idx
	c := wasm.NewCode()
	build(g, c)
	f.Locals, f.Body = locals, c
	return idx
}

// A helperBuilder returns the helper's type and locals, and writes its body
// to c when c is not nil.
type helperBuilder func(g *gen, c *wasm.Code) (wasm.FuncType, []wasm.ValType)

var helperBuilders map[string]helperBuilder

func init() {
	helperBuilders = map[string]helperBuilder{
		"alloc":        (*gen).alloc,
		"cabi_realloc": (*gen).realloc,
		"cabi_post":    (*gen).post,
		"copy":         (*gen).copy,
		"concat":       (*gen).concat,
		"str_cmp":      (*gen).strCmp,
		"itoa":         (*gen).itoa,
		"byte_at":      (*gen).byteAt,
		"slice":        (*gen).slice,
		"from_byte":    (*gen).fromByte,
		"write":        (*gen).write,
		"log":          (*gen).logHelper,
		"config":       (*gen).config,
		"host_call":    (*gen).hostCall,
	}
}

// alloc(size i32, align i32) -> i32: a bump allocation from the heap,
// growing memory as needed; traps when memory cannot grow or the align is
// not a power of two.
func (g *gen) alloc(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i32r, wasm.I32, wasm.I32)
	locals := []wasm.ValType{wasm.I64, wasm.I64, wasm.I64} // 2: p, 3: end, 4: pages
	if c == nil {
		return t, locals
	}
	const size, al, p, end, pages = 0, 1, 2, 3, 4
	// An align of 0 is 1.
	c.LocalGet(al)
	c.Op(wasm.I32Eqz)
	c.If(wasm.BlockEmpty)
	c.I32Const(1)
	c.LocalSet(al)
	c.End()
	// align & (align - 1) != 0: not a power of two.
	c.LocalGet(al)
	c.LocalGet(al)
	c.I32Const(1)
	c.Op(wasm.I32Sub)
	c.Op(wasm.I32And)
	c.If(wasm.BlockEmpty)
	c.Unreachable()
	c.End()
	// p = (heap + align - 1) & -align, computed in 64 bits.
	c.GlobalGet(gHeap)
	c.Op(wasm.I64ExtendI32U)
	c.LocalGet(al)
	c.Op(wasm.I64ExtendI32U)
	c.Op(wasm.I64Add)
	c.I64Const(1)
	c.Op(wasm.I64Sub)
	c.I64Const(0)
	c.LocalGet(al)
	c.Op(wasm.I64ExtendI32U)
	c.Op(wasm.I64Sub)
	c.Op(wasm.I64And)
	c.LocalTee(p)
	// end = p + size; it must stay below 4 GiB.
	c.LocalGet(size)
	c.Op(wasm.I64ExtendI32U)
	c.Op(wasm.I64Add)
	c.LocalTee(end)
	c.I64Const(1 << 32)
	c.Op(wasm.I64GeU)
	c.If(wasm.BlockEmpty)
	c.Unreachable()
	c.End()
	// pages = (end + 0xffff) >> 16; grow when memory is smaller.
	c.LocalGet(end)
	c.I64Const(0xffff)
	c.Op(wasm.I64Add)
	c.I64Const(16)
	c.Op(wasm.I64ShrU)
	c.LocalTee(pages)
	c.MemorySize()
	c.Op(wasm.I64ExtendI32U)
	c.Op(wasm.I64GtU)
	c.If(wasm.BlockEmpty)
	c.LocalGet(pages)
	c.MemorySize()
	c.Op(wasm.I64ExtendI32U)
	c.Op(wasm.I64Sub)
	c.Op(wasm.I32WrapI64)
	c.MemoryGrow()
	c.I32Const(-1)
	c.Op(wasm.I32Eq)
	c.If(wasm.BlockEmpty)
	c.Unreachable()
	c.End()
	c.End()
	c.LocalGet(end)
	c.Op(wasm.I32WrapI64)
	c.GlobalSet(gHeap)
	c.LocalGet(p)
	c.Op(wasm.I32WrapI64)
	return t, locals
}

// cabi_realloc(old, old_size, align, new_size) -> i32: shrinks in place,
// otherwise allocates and copies.
func (g *gen) realloc(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i32r, wasm.I32, wasm.I32, wasm.I32, wasm.I32)
	locals := []wasm.ValType{wasm.I32} // 4: new
	if c == nil {
		return t, locals
	}
	const old, oldSize, al, newSize, p = 0, 1, 2, 3, 4
	c.LocalGet(old)
	c.If(wasm.BlockEmpty)
	c.LocalGet(newSize)
	c.LocalGet(oldSize)
	c.Op(wasm.I32LeU)
	c.If(wasm.BlockEmpty)
	c.LocalGet(old)
	c.Return()
	c.End()
	c.End()
	c.LocalGet(newSize)
	c.LocalGet(al)
	c.Call(g.helper("alloc"))
	c.LocalSet(p)
	c.LocalGet(old)
	c.If(wasm.BlockEmpty)
	c.LocalGet(p)
	c.LocalGet(old)
	c.LocalGet(oldSize)
	c.Call(g.helper("copy"))
	c.End()
	c.LocalGet(p)
	return t, locals
}

// cabi_post(ptr i32): the host has copied a handler's result out; nothing
// allocated since the heap's start is alive any more.
func (g *gen) post(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(none, wasm.I32)
	if c == nil {
		return t, nil
	}
	c.GlobalGet(gHeapBase)
	c.GlobalSet(gHeap)
	return t, nil
}

// copy(dst, src, n): 8 bytes at a time, then byte by byte.
func (g *gen) copy(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(none, wasm.I32, wasm.I32, wasm.I32)
	if c == nil {
		return t, nil
	}
	const dst, src, n = 0, 1, 2
	step := func(width int32, load, store wasm.Op) {
		c.Block(wasm.BlockEmpty)
		c.Loop(wasm.BlockEmpty)
		c.LocalGet(n)
		c.I32Const(width)
		c.Op(wasm.I32LtU)
		c.BrIf(1)
		c.LocalGet(dst)
		c.LocalGet(src)
		c.Mem(load, 0, 0)
		c.Mem(store, 0, 0)
		for _, l := range []uint32{dst, src} {
			c.LocalGet(l)
			c.I32Const(width)
			c.Op(wasm.I32Add)
			c.LocalSet(l)
		}
		c.LocalGet(n)
		c.I32Const(width)
		c.Op(wasm.I32Sub)
		c.LocalSet(n)
		c.Br(0)
		c.End()
		c.End()
	}
	step(8, wasm.I64Load, wasm.I64Store)
	step(1, wasm.I32Load8U, wasm.I32Store8)
	return t, nil
}

// concat(a str, b str) -> str.
func (g *gen) concat(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i64r, wasm.I64, wasm.I64)
	locals := i32s(4) // 2: la, 3: lb, 4: total, 5: p
	if c == nil {
		return t, locals
	}
	const a, b, la, lb, total, p = 0, 1, 2, 3, 4, 5
	c.LocalGet(a)
	strLen(c)
	c.LocalTee(la)
	c.Op(wasm.I32Eqz)
	c.If(wasm.BlockEmpty)
	c.LocalGet(b)
	c.Return()
	c.End()
	c.LocalGet(b)
	strLen(c)
	c.LocalTee(lb)
	c.Op(wasm.I32Eqz)
	c.If(wasm.BlockEmpty)
	c.LocalGet(a)
	c.Return()
	c.End()
	c.LocalGet(la)
	c.LocalGet(lb)
	c.Op(wasm.I32Add)
	c.LocalTee(total)
	c.LocalGet(la)
	c.Op(wasm.I32LtU)
	c.If(wasm.BlockEmpty)
	c.Unreachable() // longer than 4 GiB
	c.End()
	c.LocalGet(total)
	c.I32Const(1)
	c.Call(g.helper("alloc"))
	c.LocalTee(p)
	c.LocalGet(a)
	strPtr(c)
	c.LocalGet(la)
	c.Call(g.helper("copy"))
	c.LocalGet(p)
	c.LocalGet(la)
	c.Op(wasm.I32Add)
	c.LocalGet(b)
	strPtr(c)
	c.LocalGet(lb)
	c.Call(g.helper("copy"))
	pack(c, func() { c.LocalGet(p) }, func() { c.LocalGet(total) })
	return t, locals
}

// str_cmp(a str, b str) -> i32: -1, 0 or 1, comparing bytes, then lengths.
func (g *gen) strCmp(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i32r, wasm.I64, wasm.I64)
	locals := i32s(5) // 2: la, 3: lb, 4: n, 5: i, 6: x (byte of a), reuse
	if c == nil {
		return t, locals
	}
	const a, b, la, lb, n, i, x = 0, 1, 2, 3, 4, 5, 6
	c.LocalGet(a)
	strLen(c)
	c.LocalSet(la)
	c.LocalGet(b)
	strLen(c)
	c.LocalSet(lb)
	// n = min(la, lb)
	c.LocalGet(la)
	c.LocalGet(lb)
	c.LocalGet(la)
	c.LocalGet(lb)
	c.Op(wasm.I32LtU)
	c.Select()
	c.LocalSet(n)
	c.Block(wasm.BlockEmpty)
	c.Loop(wasm.BlockEmpty)
	c.LocalGet(i)
	c.LocalGet(n)
	c.Op(wasm.I32GeU)
	c.BrIf(1)
	byteOf := func(s uint32) {
		c.LocalGet(s)
		strPtr(c)
		c.LocalGet(i)
		c.Op(wasm.I32Add)
		c.Mem(wasm.I32Load8U, 0, 0)
	}
	byteOf(a)
	c.LocalTee(x)
	byteOf(b)
	c.Op(wasm.I32Ne)
	c.If(wasm.BlockEmpty)
	c.I32Const(-1)
	c.I32Const(1)
	c.LocalGet(x)
	byteOf(b)
	c.Op(wasm.I32LtU)
	c.Select()
	c.Return()
	c.End()
	c.LocalGet(i)
	c.I32Const(1)
	c.Op(wasm.I32Add)
	c.LocalSet(i)
	c.Br(0)
	c.End()
	c.End()
	// Equal prefixes: the shorter string is smaller.
	c.LocalGet(la)
	c.LocalGet(lb)
	c.Op(wasm.I32LtU)
	c.If(wasm.BlockEmpty)
	c.I32Const(-1)
	c.Return()
	c.End()
	c.LocalGet(la)
	c.LocalGet(lb)
	c.Op(wasm.I32GtU)
	return t, locals
}

// itoa(v i64) -> str: the decimal text of v.
func (g *gen) itoa(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i64r, wasm.I64)
	locals := []wasm.ValType{wasm.I64, wasm.I32, wasm.I32} // 1: u, 2: p, 3: i
	if c == nil {
		return t, locals
	}
	const v, u, p, i = 0, 1, 2, 3
	c.I32Const(20)
	c.I32Const(1)
	c.Call(g.helper("alloc"))
	c.LocalSet(p)
	c.I32Const(20)
	c.LocalSet(i)
	// u = |v| as unsigned (MinInt64 stays 1<<63).
	c.I64Const(0)
	c.LocalGet(v)
	c.Op(wasm.I64Sub)
	c.LocalGet(v)
	c.LocalGet(v)
	c.I64Const(0)
	c.Op(wasm.I64LtS)
	c.Select()
	c.LocalSet(u)
	c.Loop(wasm.BlockEmpty)
	c.LocalGet(i)
	c.I32Const(1)
	c.Op(wasm.I32Sub)
	c.LocalSet(i)
	c.LocalGet(p)
	c.LocalGet(i)
	c.Op(wasm.I32Add)
	c.LocalGet(u)
	c.I64Const(10)
	c.Op(wasm.I64RemU)
	c.Op(wasm.I32WrapI64)
	c.I32Const('0')
	c.Op(wasm.I32Add)
	c.Mem(wasm.I32Store8, 0, 0)
	c.LocalGet(u)
	c.I64Const(10)
	c.Op(wasm.I64DivU)
	c.LocalTee(u)
	c.I64Const(0)
	c.Op(wasm.I64Ne)
	c.BrIf(0)
	c.End()
	c.LocalGet(v)
	c.I64Const(0)
	c.Op(wasm.I64LtS)
	c.If(wasm.BlockEmpty)
	c.LocalGet(i)
	c.I32Const(1)
	c.Op(wasm.I32Sub)
	c.LocalTee(i)
	c.LocalGet(p)
	c.Op(wasm.I32Add)
	c.I32Const('-')
	c.Mem(wasm.I32Store8, 0, 0)
	c.End()
	pack(c, func() {
		c.LocalGet(p)
		c.LocalGet(i)
		c.Op(wasm.I32Add)
	}, func() {
		c.I32Const(20)
		c.LocalGet(i)
		c.Op(wasm.I32Sub)
	})
	return t, locals
}

// byte_at(s str, i i32) -> i32: traps when i is out of range.
func (g *gen) byteAt(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i32r, wasm.I64, wasm.I32)
	if c == nil {
		return t, nil
	}
	c.LocalGet(1)
	c.LocalGet(0)
	strLen(c)
	c.Op(wasm.I32GeU)
	c.If(wasm.BlockEmpty)
	c.Unreachable()
	c.End()
	c.LocalGet(0)
	strPtr(c)
	c.LocalGet(1)
	c.Op(wasm.I32Add)
	c.Mem(wasm.I32Load8U, 0, 0)
	return t, nil
}

// slice(s str, from i32, to i32) -> str: shares s's bytes; traps unless
// 0 <= from <= to <= len(s).
func (g *gen) slice(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i64r, wasm.I64, wasm.I32, wasm.I32)
	if c == nil {
		return t, nil
	}
	const s, from, to = 0, 1, 2
	c.LocalGet(from)
	c.LocalGet(to)
	c.Op(wasm.I32GtU)
	c.LocalGet(to)
	c.LocalGet(s)
	strLen(c)
	c.Op(wasm.I32GtU)
	c.Op(wasm.I32Or)
	c.If(wasm.BlockEmpty)
	c.Unreachable()
	c.End()
	pack(c, func() {
		c.LocalGet(s)
		strPtr(c)
		c.LocalGet(from)
		c.Op(wasm.I32Add)
	}, func() {
		c.LocalGet(to)
		c.LocalGet(from)
		c.Op(wasm.I32Sub)
	})
	return t, nil
}

// from_byte(b i32) -> str: a one-byte string; traps unless 0 <= b <= 255.
func (g *gen) fromByte(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i64r, wasm.I32)
	locals := []wasm.ValType{wasm.I32} // 1: p
	if c == nil {
		return t, locals
	}
	c.LocalGet(0)
	c.I32Const(255)
	c.Op(wasm.I32GtU)
	c.If(wasm.BlockEmpty)
	c.Unreachable()
	c.End()
	c.I32Const(1)
	c.I32Const(1)
	c.Call(g.helper("alloc"))
	c.LocalTee(1)
	c.LocalGet(0)
	c.Mem(wasm.I32Store8, 0, 0)
	pack(c, func() { c.LocalGet(1) }, func() { c.I32Const(1) })
	return t, locals
}

// write(s str, fd i32, newline i32): WASI fd_write of s, then "\n" when
// newline is 1, in one call.
func (g *gen) write(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(none, wasm.I64, wasm.I32, wasm.I32)
	locals := []wasm.ValType{wasm.I32} // 3: iovecs
	if c == nil {
		return t, locals
	}
	const s, fd, nl, iov = 0, 1, 2, 3
	newline := g.str("\n")
	c.I32Const(20)
	c.I32Const(4)
	c.Call(g.helper("alloc"))
	c.LocalSet(iov)
	store := func(off uint32, v func()) {
		c.LocalGet(iov)
		v()
		c.Mem(wasm.I32Store, 2, off)
	}
	store(0, func() { c.LocalGet(s); strPtr(c) })
	store(4, func() { c.LocalGet(s); strLen(c) })
	store(8, func() { c.I32Const(int32(newline)) })
	store(12, func() { c.I32Const(1) })
	c.LocalGet(fd)
	c.LocalGet(iov)
	c.I32Const(1)
	c.LocalGet(nl)
	c.Op(wasm.I32Add)
	c.LocalGet(iov)
	c.I32Const(16)
	c.Op(wasm.I32Add)
	c.Call(g.fdWrite)
	c.Drop()
	return t, locals
}

// log(level i32, s str): host log.
func (g *gen) logHelper(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(none, wasm.I32, wasm.I64)
	if c == nil {
		return t, nil
	}
	c.LocalGet(0)
	c.LocalGet(1)
	strPtr(c)
	c.LocalGet(1)
	strLen(c)
	c.Call(g.log)
	return t, nil
}

// config(key str, fallback str, mode i32) -> i64: host config-get into a
// fresh area. Mode 0 gives the value, or fallback when the key is unset
// (config, config_or); mode 1 gives 1 when the key is set and 0 otherwise
// (has_config).
func (g *gen) config(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i64r, wasm.I64, wasm.I64, wasm.I32)
	locals := []wasm.ValType{wasm.I32} // 3: area
	if c == nil {
		return t, locals
	}
	const key, fallback, mode, area = 0, 1, 2, 3
	c.I32Const(12)
	c.I32Const(4)
	c.Call(g.helper("alloc"))
	c.LocalSet(area)
	c.LocalGet(key)
	strPtr(c)
	c.LocalGet(key)
	strLen(c)
	c.LocalGet(area)
	c.Call(g.configGet)
	c.LocalGet(mode)
	c.If(wasm.BlockEmpty)
	c.LocalGet(area)
	c.Mem(wasm.I32Load8U, 0, 0)
	c.Op(wasm.I64ExtendI32U)
	c.Return()
	c.End()
	c.LocalGet(area)
	c.Mem(wasm.I32Load8U, 0, 0)
	c.Op(wasm.I32Eqz)
	c.If(wasm.BlockEmpty)
	c.LocalGet(fallback)
	c.Return()
	c.End()
	pack(c, func() {
		c.LocalGet(area)
		c.Mem(wasm.I32Load, 2, 4)
	}, func() {
		c.LocalGet(area)
		c.Mem(wasm.I32Load, 2, 8)
	})
	return t, locals
}

// host_call(name str, payload str) -> str: host call; an err result sets
// failed and the message and gives "".
func (g *gen) hostCall(c *wasm.Code) (wasm.FuncType, []wasm.ValType) {
	t := sig(i64r, wasm.I64, wasm.I64)
	locals := []wasm.ValType{wasm.I32, wasm.I64} // 2: area, 3: value
	if c == nil {
		return t, locals
	}
	const name, payload, area, value = 0, 1, 2, 3
	c.I32Const(12)
	c.I32Const(4)
	c.Call(g.helper("alloc"))
	c.LocalSet(area)
	c.LocalGet(name)
	strPtr(c)
	c.LocalGet(name)
	strLen(c)
	c.LocalGet(payload)
	strPtr(c)
	c.LocalGet(payload)
	strLen(c)
	c.LocalGet(area)
	c.Call(g.call)
	pack(c, func() {
		c.LocalGet(area)
		c.Mem(wasm.I32Load, 2, 4)
	}, func() {
		c.LocalGet(area)
		c.Mem(wasm.I32Load, 2, 8)
	})
	c.LocalSet(value)
	c.LocalGet(area)
	c.Mem(wasm.I32Load8U, 0, 0)
	c.If(wasm.BlockEmpty)
	c.LocalGet(value)
	c.GlobalSet(gErr)
	c.I32Const(1)
	c.GlobalSet(gFailed)
	c.I64Const(0)
	c.Return()
	c.End()
	c.LocalGet(value)
	return t, locals
}
