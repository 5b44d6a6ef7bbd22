package wasmbin

import (
	"errors"
	"fmt"
)

// ErrMemoryLimit is wrapped when a module's memory cannot fit a limit.
var ErrMemoryLimit = errors.New("memory limit")

// CheckMemory checks that the module defines exactly one memory, neither
// shared nor 64-bit, that can start within maxPages.
func CheckMemory(m *Module, maxPages uint32) error {
	switch {
	case len(m.Memories) == 0:
		return fmt.Errorf("module defines no memory: %w", ErrMemoryLimit)
	case len(m.Memories) > 1:
		return fmt.Errorf("module defines %d memories, only one is supported: %w", len(m.Memories), ErrMemoryLimit)
	}
	l := m.Memories[0]
	if l.Shared || l.Is64 {
		return fmt.Errorf("shared and 64-bit memories are not supported: %w", ErrMemoryLimit)
	}
	if l.Min > uint64(maxPages) {
		return fmt.Errorf("module needs %d pages (%d bytes) of memory to start, over the limit of %d pages (%d bytes): %w",
			l.Min, l.Min*PageSize, maxPages, uint64(maxPages)*PageSize, ErrMemoryLimit)
	}
	return nil
}
