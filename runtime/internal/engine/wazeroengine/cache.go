package wazeroengine

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"sync"

	"github.com/tetratelabs/wazero"
)

// MaxPinned is how many compiled modules a Cache keeps alive after every
// plugin using them has been closed.
const MaxPinned = 64

// Cache is wazero's compilation cache, plus a reference to each of the
// MaxPinned modules whose users closed them most recently.
//
// wazero counts the users of a compiled module and drops it from memory
// when the last one closes, so without the reference a plugin closed and
// loaded again (a reload, or a CLI session's unload and load) would be
// compiled again even with an in-memory cache. The reference kept is the
// one the closing user held: keeping costs no compilation.
type Cache struct {
	wazero.CompilationCache
	max int

	mu     sync.Mutex
	closed bool
	order  *list.List // of *pin, most recent first
	pinned map[[sha256.Size]byte]*list.Element
}

type pin struct {
	key [sha256.Size]byte
	cm  wazero.CompiledModule
	rt  wazero.Runtime // that compiled cm
}

// NewCache returns an in-memory compilation cache.
func NewCache() *Cache { return newCache(wazero.NewCompilationCache(), MaxPinned) }

// NewDiskCache returns a compilation cache kept in dir, which is created
// with mode 0700 if missing.
func NewDiskCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, err
	}
	return newCache(c, MaxPinned), nil
}

func newCache(c wazero.CompilationCache, max int) *Cache {
	return &Cache{CompilationCache: c, max: max, order: list.New(), pinned: map[[sha256.Size]byte]*list.Element{}}
}

// keep takes over cm, the reference to a compiled module that its user is
// closing, so that the module stays compiled for the next user: wazero
// would otherwise drop it from memory with its last reference. key is the
// SHA-256 of the module, rt the runtime that compiled it (only that
// runtime may take it back: see take). cm is closed instead when the
// module is kept already, or the cache is closed; keeping it may release
// the least recently kept one. A kept module holds on to its runtime's
// struct, which a closed runtime has emptied.
func (c *Cache) keep(ctx context.Context, key [sha256.Size]byte, rt wazero.Runtime, cm wazero.CompiledModule) error {
	c.mu.Lock()
	if e, ok := c.pinned[key]; ok || c.closed {
		if ok {
			c.order.MoveToFront(e)
		}
		c.mu.Unlock()
		return cm.Close(ctx)
	}
	c.pinned[key] = c.order.PushFront(&pin{key: key, cm: cm, rt: rt})
	var evicted []wazero.CompiledModule
	for c.order.Len() > c.max {
		p := c.order.Remove(c.order.Back()).(*pin)
		delete(c.pinned, p.key)
		evicted = append(evicted, p.cm)
	}
	c.mu.Unlock()
	var errs []error
	for _, cm := range evicted {
		errs = append(errs, cm.Close(ctx))
	}
	return errors.Join(errs...)
}

// take returns the module kept under key, when rt compiled it, and stops
// keeping it: the caller owns the reference. A module compiled by another
// runtime is not handed out (wazero's compiled modules carry type ids of
// the runtime that compiled them); that runtime's Compile of the same bytes
// still finds it compiled, after decoding and validating them.
func (c *Cache) take(key [sha256.Size]byte, rt wazero.Runtime) (wazero.CompiledModule, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pinned[key]
	if !ok || e.Value.(*pin).rt != rt {
		return nil, false
	}
	c.order.Remove(e)
	delete(c.pinned, key)
	return e.Value.(*pin).cm, true
}

// pins returns how many modules the cache keeps alive.
func (c *Cache) pins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Close releases the modules the cache keeps alive, then wazero's cache.
// Engines using it must be closed first.
func (c *Cache) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	var errs []error
	for e := c.order.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*pin).cm.Close(ctx))
	}
	c.order.Init()
	clear(c.pinned)
	c.mu.Unlock()
	return errors.Join(append(errs, c.CompilationCache.Close(ctx))...)
}
