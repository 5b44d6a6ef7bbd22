package wazeroengine

import (
	"github.com/tetratelabs/wazero/experimental"
)

// limitAllocator backs a guest's linear memory and refuses to grow it past
// limit bytes, reporting each refusal. The module's own maximum is set just
// above the limit by the runtime, so that the refused growth reaches the
// allocator (where it can be reported) instead of being refused silently
// by the engine.
type limitAllocator struct {
	limit  uint64
	denied func(requested, limit uint64)
}

func (a limitAllocator) Allocate(capacity, max uint64) experimental.LinearMemory {
	return &linearMemory{limit: min(a.limit, max), capacity: capacity, denied: a.denied}
}

type linearMemory struct {
	buf      []byte
	limit    uint64
	capacity uint64
	denied   func(requested, limit uint64)
}

func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		if m.denied != nil {
			m.denied(size, m.limit)
		}
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	newCap := max(size, min(2*uint64(cap(m.buf)), m.limit), min(m.capacity, m.limit))
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *linearMemory) Free() { m.buf = nil }
