//go:build wasmtime

package wasmtimeengine

/*
#include "shim.h"
*/
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
)

// Cache keeps compiled modules, serialized by wasmtime, keyed by the
// SHA-256 of the module: in memory, and in a directory when it has one.
// wasmtime checks, when it reads one back, that it was made by the same
// wasmtime version and configuration, and refuses it otherwise; the module
// is then compiled again and the entry replaced.
//
// A serialized module is machine code that wasmtime loads as is: the
// directory must be the user's own (it is created 0700), like wazero's
// cache.
//
// Memory holds at most MaxInMemory modules: when full, it is emptied
// before the next one is kept (the directory, when there is one, still has
// them all).
type Cache struct {
	dir string

	mu  sync.Mutex
	max int
	mem map[string][]byte
}

// MaxInMemory is how many serialized modules a Cache keeps in memory.
const MaxInMemory = 64

// NewCache returns a cache in memory, and in dir unless it is empty.
func NewCache(dir string) (*Cache, error) {
	if dir != "" {
		dir = filepath.Join(dir, "wasmtime-39.0.1")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	return &Cache{dir: dir, max: MaxInMemory, mem: map[string][]byte{}}, nil
}

func (c *Cache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.mem[key]
	return b, ok
}

func (c *Cache) put(key string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mem[key]; !ok && len(c.mem) >= c.max {
		clear(c.mem)
	}
	c.mem[key] = b
}

func (c *Cache) inMemory() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mem)
}

// maxSerialized bounds a cache entry read for a module of n bytes: machine
// code a few times the size of the module, and wasmtime's metadata. A
// larger entry, or one that is not a regular file, is ignored.
func maxSerialized(n int) int64 { return 32*int64(n) + 64<<20 }

func cacheKey(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:])
}

func (c *Cache) load(e *eng, wasm []byte) (*module, bool) {
	key := cacheKey(wasm)
	var b []byte
	if v, ok := c.get(key); ok {
		b = v
	} else if c.dir != "" {
		var err error
		if b, err = boundedfile.Read(filepath.Join(c.dir, key), maxSerialized(len(wasm))); err != nil {
			return nil, false
		}
	}
	if len(b) == 0 {
		return nil, false
	}
	var m *C.wasmtime_module_t
	if err := errorOf(C.wasmtime_module_deserialize(e.engine, (*C.uint8_t)(&b[0]), C.size_t(len(b)), &m)); err != nil {
		return nil, false
	}
	c.put(key, b)
	return e.newModule(m), true
}

// store keeps m's serialization; a failure to write only costs a compilation
// next time.
func (c *Cache) store(wasm []byte, m *module) {
	var vec C.wasm_byte_vec_t
	if err := errorOf(C.wasmtime_module_serialize(m.m, &vec)); err != nil {
		return
	}
	b := C.GoBytes(unsafe.Pointer(vec.data), C.int(vec.size))
	C.wasm_byte_vec_delete(&vec)
	key := cacheKey(wasm)
	c.put(key, b)
	if c.dir == "" {
		return
	}
	f, err := os.CreateTemp(c.dir, key+".tmp*")
	if err != nil {
		return
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(c.dir, key))
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
}
