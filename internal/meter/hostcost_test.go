package meter

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHostFuel(t *testing.T) {
	tests := []struct {
		n, host, random uint64
	}{
		{0, HostCallFuel, HostCallFuel},
		{1, HostCallFuel + 1, HostCallFuel + 1},
		{16, HostCallFuel + 1, HostCallFuel + 16},
		{17, HostCallFuel + 2, HostCallFuel + 17},
		{1 << 20, HostCallFuel + 1<<16, HostCallFuel + 1<<20},
		{math.MaxUint64, HostCallFuel + math.MaxUint64/16 + 1, math.MaxUint64},
		{math.MaxUint64 - 100, HostCallFuel + (math.MaxUint64-100)/16 + 1, math.MaxUint64},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.host, HostFuel(tt.n), "HostFuel(%d)", tt.n)
		assert.Equal(t, tt.random, RandomFuel(tt.n), "RandomFuel(%d)", tt.n)
	}
	assert.Equal(t, uint64(math.MaxUint64), saturatingAdd(math.MaxUint64-1, 2))
}
