// Package abi implements the host side of the plugin ABI v1
// (docs/spec/abi-v1.md): the names and core types of the imports and exports
// a plugin module may have, the memory layouts of results, options and
// strings, and every check the host must make on a value that comes out of
// guest memory.
//
// The package is a leaf: it imports no other package of this module, so the
// engines, the runtime and outside tools can all depend on it. It never
// touches a guest's memory directly; it works through the [Memory] interface,
// whose implementations are bounds-checked.
//
// # Lifting and lowering
//
// "Lifting" reads a value that the guest laid out in its memory (a handler's
// result area, a string passed to a host import) and checks it: the area is
// in bounds and 4-aligned, the tag is 0 or 1, every (ptr, len) pair lies
// inside memory, strings are valid UTF-8 and sizes stay under the plugin's
// limit. Lifted bytes are always copied out of guest memory.
//
// "Lowering" places a host value in guest memory: the host asks the guest's
// cabi_realloc for space ([Allocator]), checks the pointer it gets back, and
// copies the bytes in.
package abi
