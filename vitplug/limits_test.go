package vitplug

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLimits_withDefaults(t *testing.T) {
	tests := []struct {
		name           string
		with, expected Limits
	}{
		{name: "zero", expected: Limits{MaxSize: DefaultMaxSize, MaxEntries: DefaultMaxEntries}},
		{name: "negative", with: Limits{MaxSize: -1, MaxEntries: -1}, expected: Limits{MaxSize: DefaultMaxSize, MaxEntries: DefaultMaxEntries}},
		{name: "lower", with: Limits{MaxSize: 1, MaxEntries: 2}, expected: Limits{MaxSize: 1, MaxEntries: 2}},
		{name: "past ZIP without ZIP64", with: Limits{MaxSize: 1 << 40, MaxEntries: 1 << 20}, expected: Limits{MaxSize: 2 << 30, MaxEntries: 65534}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.expected, tc.with.withDefaults())
		})
	}
}
