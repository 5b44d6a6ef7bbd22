package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
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
	metered map[[sha256.Size]byte]meteredModule
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
	return &compilationCache{c: wazeroengine.NewCache(), metered: map[[sha256.Size]byte]meteredModule{}}
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
	return &compilationCache{c: c, dir: dir, metered: map[[sha256.Size]byte]meteredModule{}}, nil
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

// meteredModule is a metered module and the measures of the code it was
// made from.
type meteredModule struct {
	wasm  []byte
	stats meter.Stats
}

// meteredFormat names the layout of a cache entry on disk; it is hashed
// into the entry's name.
const meteredFormat = "stats/1"

// instrument returns wasm with fuel metering added, and the measures of
// its code, from the cache when it has them. A cache entry on disk is the
// SHA-256 of the rest, the measures (statsSize bytes), then the metered
// module: one that does not match is ignored and rewritten.
func (c *compilationCache) instrument(wasm []byte) ([]byte, meter.Stats, error) {
	h := sha256.New()
	h.Write([]byte(meter.Version))
	h.Write([]byte{0})
	h.Write([]byte(meteredFormat))
	h.Write([]byte{0})
	h.Write(wasm)
	var key [sha256.Size]byte
	h.Sum(key[:0])

	c.mu.Lock()
	mm, ok := c.metered[key]
	c.mu.Unlock()
	if ok {
		return mm.wasm, mm.stats, nil
	}
	var path string
	if c.dir != "" {
		path = filepath.Join(c.dir, "metered", hex.EncodeToString(key[:])+".wasm")
		if b, ok := readMetered(path, statsSize+maxMeteredSize(len(wasm))); ok && len(b) >= statsSize {
			mm := meteredModule{wasm: b[statsSize:], stats: decodeStats(b[:statsSize])}
			c.remember(key, mm)
			return mm.wasm, mm.stats, nil
		}
	}
	out, st, err := meter.InstrumentStats(wasm, meter.Options{})
	if err != nil {
		return nil, meter.Stats{}, err
	}
	c.remember(key, meteredModule{wasm: out, stats: st})
	if path != "" {
		writeMetered(path, append(encodeStats(st), out...)) // best effort: a cache that cannot be written is still correct
	}
	return out, st, nil
}

// statsSize is the size of meter.Stats encoded: 15 uint64.
const statsSize = 15 * 8

func encodeStats(st meter.Stats) []byte {
	b := make([]byte, 0, statsSize)
	b = binary.BigEndian.AppendUint64(b, uint64(st.Functions))
	for _, m := range []meter.Max{st.Body, st.Locals, st.Depth, st.BrTable} {
		b = binary.BigEndian.AppendUint64(b, m.Value)
		b = binary.BigEndian.AppendUint64(b, uint64(m.Func))
		b = binary.BigEndian.AppendUint64(b, uint64(m.Offset))
	}
	b = binary.BigEndian.AppendUint64(b, st.BrTableTargets)
	return binary.BigEndian.AppendUint64(b, st.DepthSquares)
}

// decodeStats decodes statsSize bytes of encodeStats, from an entry whose
// SHA-256 matched.
func decodeStats(b []byte) meter.Stats {
	next := func() uint64 {
		v := binary.BigEndian.Uint64(b)
		b = b[8:]
		return v
	}
	var st meter.Stats
	st.Functions = int(next())
	for _, m := range []*meter.Max{&st.Body, &st.Locals, &st.Depth, &st.BrTable} {
		m.Value, m.Func, m.Offset = next(), uint32(next()), int(next())
	}
	st.BrTableTargets = next()
	st.DepthSquares = next()
	return st
}

func (c *compilationCache) remember(key [sha256.Size]byte, out meteredModule) {
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
