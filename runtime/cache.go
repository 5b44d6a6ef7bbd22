package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine/wazeroengine"
)

// CompilationCache keeps compiled modules so that loading the same module
// again, in this runtime or another one sharing the cache, skips the
// compilation (the bulk of a cold load) and the metering rewrite. Create
// one with NewCompilationCache or NewDiskCompilationCache; share it with
// Config.WithCompilationCache.
//
// The 64 modules whose last plugin closed most recently stay compiled in
// memory, so that closing a plugin and loading it again (a reload, an
// unload and load) does not compile it again; Close releases them.
//
// # Notes
//
// It is an interface for decoupling, not for third-party implementations.
type CompilationCache interface {
	// Close frees the cache. Runtimes using it must be closed first.
	Close(ctx context.Context) error
	sealed()
}

// maxMetered bounds how many metered modules a cache keeps in memory.
const maxMetered = 64

type compilationCache struct {
	c   *wazeroengine.Cache
	dir string // metered modules on disk; "" in memory only

	mu      sync.Mutex
	metered map[[sha256.Size]byte][]byte
	others  map[Engine]any // the caches of the other engines, made on first use
}

// engineCache returns the cache of engine e, made by mk(dir) the first
// time (dir is "" for a cache in memory).
func (c *compilationCache) engineCache(e Engine, mk func(dir string) (any, error)) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.others[e]; ok {
		return v, nil
	}
	v, err := mk(c.dir)
	if err != nil {
		return nil, fmt.Errorf("compilation cache %s: %w", c.dir, err)
	}
	if c.others == nil {
		c.others = map[Engine]any{}
	}
	c.others[e] = v
	return v, nil
}

func (c *compilationCache) Close(ctx context.Context) error { return c.c.Close(ctx) }
func (c *compilationCache) sealed()                         {}

// NewCompilationCache returns a cache held in memory.
func NewCompilationCache() CompilationCache {
	return &compilationCache{c: wazeroengine.NewCache(), metered: map[[sha256.Size]byte][]byte{}}
}

// NewDiskCompilationCache returns a cache kept in dir, created 0700 if
// missing, shared safely by concurrent processes. Entries are keyed by the
// module's content and the versions of the engine and of the metering.
//
// Whoever can write to dir can change the code plugins run as: it is
// refused if other users may write to it. DefaultCacheDir is the usual
// place.
func NewDiskCompilationCache(dir string) (CompilationCache, error) {
	fail := func(err error) (CompilationCache, error) {
		return nil, fmt.Errorf("compilation cache %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fail(err)
	}
	if !fi.IsDir() {
		return fail(errors.New("not a directory"))
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fail(fmt.Errorf("other users may write to it (mode %s): make it 0700", fi.Mode().Perm()))
	}
	c, err := wazeroengine.NewDiskCache(filepath.Join(dir, "wazero"))
	if err != nil {
		return fail(err)
	}
	return &compilationCache{c: c, dir: dir, metered: map[[sha256.Size]byte][]byte{}}, nil
}

// DefaultCacheDir returns the compilation cache folder of the current
// user: "vitte/compiled" in os.UserCacheDir (~/.cache/vitte/compiled on
// Linux), next to the other caches of the vitte command.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("compilation cache: %w", err)
	}
	return filepath.Join(d, "vitte", "compiled"), nil
}

// WithCompilationCache makes the runtime keep compiled modules in c
// (default: none; each Load compiles).
func (c Config) WithCompilationCache(cache CompilationCache) Config {
	c.cache = cache
	return c
}

// instrument returns wasm with fuel metering added, from the cache when it
// has it. A cache entry on disk is the metered module after the SHA-256 of
// its bytes: one that does not match is ignored and rewritten.
func (c *compilationCache) instrument(wasm []byte) ([]byte, error) {
	h := sha256.New()
	h.Write([]byte(meter.Version))
	h.Write([]byte{0})
	h.Write(wasm)
	var key [sha256.Size]byte
	h.Sum(key[:0])

	c.mu.Lock()
	out, ok := c.metered[key]
	c.mu.Unlock()
	if ok {
		return out, nil
	}
	var path string
	if c.dir != "" {
		path = filepath.Join(c.dir, "metered", hex.EncodeToString(key[:])+".wasm")
		if out, ok := readMetered(path, maxMeteredSize(len(wasm))); ok {
			c.remember(key, out)
			return out, nil
		}
	}
	out, err := meter.Instrument(wasm, meter.Options{})
	if err != nil {
		return nil, err
	}
	c.remember(key, out)
	if path != "" {
		writeMetered(path, out) // best effort: a cache that cannot be written is still correct
	}
	return out, nil
}

func (c *compilationCache) remember(key [sha256.Size]byte, out []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.metered) >= maxMetered {
		clear(c.metered)
	}
	c.metered[key] = out
}

// maxMeteredSize bounds a cache entry for a module of n bytes: metering
// adds a few dozen bytes per function and loop, so even a module of tiny
// loops stays far below it. A larger entry is ignored, never read whole.
func maxMeteredSize(n int) int64 { return 16*int64(n) + 1<<20 }

func readMetered(path string, max int64) ([]byte, bool) {
	b, err := boundedfile.Read(path, sha256.Size+max)
	if err != nil || len(b) < sha256.Size {
		return nil, false
	}
	sum := sha256.Sum256(b[sha256.Size:])
	if !bytes.Equal(sum[:], b[:sha256.Size]) {
		return nil, false
	}
	return b[sha256.Size:], true
}

// writeMetered writes the entry to a temporary file, then renames it into
// place, so that concurrent processes see a whole entry or none.
func writeMetered(path string, out []byte) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return
	}
	sum := sha256.Sum256(out)
	_, err = f.Write(sum[:])
	if err == nil {
		_, err = f.Write(out)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
}
