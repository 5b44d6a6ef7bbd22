package wasmbin

import (
	"errors"
	"fmt"
)

// ErrMemoryLimit is wrapped when a module's memory cannot fit a limit.
var ErrMemoryLimit = errors.New("memory limit")

// LimitMemory returns a copy of the module b (parsed as m) whose defined
// memory may not grow past maxPages: its maximum becomes the smaller of its
// own maximum and maxPages. The guest then sees memory.grow fail at the
// limit, and the engine never allocates past it. A module that needs more
// than maxPages to start, that has no defined memory or several, or a shared
// or 64-bit memory, is refused.
func LimitMemory(b []byte, m *Module, maxPages uint32) ([]byte, error) {
	if err := CheckMemory(m, maxPages); err != nil {
		return nil, err
	}
	l := m.Memories[0]
	max := uint64(maxPages)
	if l.HasMax && l.Max < max {
		max = l.Max
	}
	if l.HasMax && l.Max == max {
		return b, nil // already within the limit
	}
	var body []byte
	body = appendU32(body, 1)
	body = append(body, 0x01)
	body = appendU32(body, uint32(l.Min))
	body = appendU32(body, uint32(max))
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:m.memHeader]...)
	out = append(out, secMemory)
	out = appendU32(out, uint32(len(body)))
	out = append(out, body...)
	out = append(out, b[m.memSection[1]:]...)
	return out, nil
}

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

func appendU32(b []byte, v uint32) []byte {
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
