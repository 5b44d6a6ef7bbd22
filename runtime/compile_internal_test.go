package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/meter"
)

// TestCompileLimits_Fixtures: every module of testdata/wasm, the Go
// programs of 3 MB included, is within the default CompileLimits and
// keeps wazero's optimizing compiler.
func TestCompileLimits_Fixtures(t *testing.T) {
	files, err := filepath.Glob("../testdata/wasm/*/*.wasm")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 10)
	l := DefaultCompileLimits().effective()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			wasm, err := os.ReadFile(f)
			require.NoError(t, err)
			_, st, err := meter.InstrumentStats(wasm, meter.Options{})
			require.NoError(t, err)
			reason, err := l.checkCode(st)
			require.NoError(t, err)
			assert.Empty(t, reason, "compiled, not interpreted")
			t.Logf("body %d, locals %d, depth %d (squares %d), br_table %d (%d in all)",
				st.Body.Value, st.Locals.Value, st.Depth.Value, st.DepthSquares, st.BrTable.Value, st.BrTableTargets)
		})
	}
}

func TestCompileLimits_Effective(t *testing.T) {
	l := CompileLimits{MaxNesting: 7, CompilerBrTableTargets: 9}.effective()
	want := DefaultCompileLimits()
	want.MaxNesting, want.CompilerBrTableTargets = 7, 9
	assert.Equal(t, want, l, "zero fields take their default")
	require.NoError(t, DefaultCompileLimits().validate())
	assert.ErrorContains(t, CompileLimits{MaxBrTable: 10, CompilerBrTable: 11}.effective().validate(), "CompileLimits.CompilerBrTable 11 is above MaxBrTable 10")
}

func TestStatsEncoding(t *testing.T) {
	st := meter.Stats{
		Functions:      3,
		Body:           meter.Max{Value: 1, Func: 2, Offset: 3},
		Locals:         meter.Max{Value: 4, Func: 5, Offset: 6},
		Depth:          meter.Max{Value: 7, Func: 8, Offset: 9},
		BrTable:        meter.Max{Value: 10, Func: 11, Offset: 12},
		BrTableTargets: 13,
		DepthSquares:   1 << 60,
	}
	b := encodeStats(st)
	require.Len(t, b, statsSize)
	assert.Equal(t, st, decodeStats(b))
}
