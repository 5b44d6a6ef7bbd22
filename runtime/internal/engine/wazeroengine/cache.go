package wazeroengine

import (
	"os"

	"github.com/tetratelabs/wazero"
)

// Cache is wazero's compilation cache.
type Cache = wazero.CompilationCache

// NewCache returns an in-memory compilation cache.
func NewCache() Cache { return wazero.NewCompilationCache() }

// NewDiskCache returns a compilation cache kept in dir, which is created
// with mode 0700 if missing.
func NewDiskCache(dir string) (Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return wazero.NewCompilationCacheWithDir(dir)
}
