package wazeroengine

import (
	"github.com/tetratelabs/wazero/experimental"
)

// limitAllocator backs a guest's linear memory and refuses to grow it past
// limit bytes, reporting each refusal: memory.grow then fails in the guest,
// and the host never allocates past the limit. A module's own, lower
// maximum is enforced by wazero before the allocator is asked.
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
