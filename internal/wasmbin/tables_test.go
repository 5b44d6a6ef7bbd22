package wasmbin_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/wasmbin"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
)

// withTables returns a module whose table section has the given content
// (count included), and a table import of one funcref element first.
func withTables(section ...byte) []byte {
	imp := wasmgen.Name(wasmgen.Name([]byte{1}, "env"), "t")
	imp = append(imp, 0x01, 0x70, 0x00, 1)
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	b = append(wasmgen.U32(append(b, 2), uint32(len(imp))), imp...)
	return append(wasmgen.U32(append(b, 4), uint32(len(section))), section...)
}

func TestParse_Tables(t *testing.T) {
	m, err := wasmbin.Parse(withTables(3,
		0x70, 0x00, 10, // funcref, min 10
		0x6f, 0x01, 2, 5, // externref, min 2, max 5
		0x40, 0x00, 0x64, 0x00, 0x00, 3, 0xd2, 0x00, 0x0b, // (ref 0) min 3, initialised with ref.func 0
	))
	require.NoError(t, err)
	assert.Equal(t, []wasmbin.Limits{{Min: 1}, {Min: 10}, {Min: 2, Max: 5, HasMax: true}, {Min: 3}}, m.Tables)

	for _, tt := range []struct {
		name, err string
		in        []byte
	}{
		{"element type", "unknown table element type 0x7f", withTables(1, 0x7f, 0x00, 1)},
		{"shared", "shared table", withTables(1, 0x70, 0x03, 1, 1)},
		{"initialiser", "instruction 0x20 in a table initialiser", withTables(1, 0x40, 0x00, 0x70, 0x00, 1, 0x20, 0, 0x0b)},
		{"left over", "1 bytes left over", withTables(1, 0x70, 0x00, 1, 0x00)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasmbin.Parse(tt.in)
			require.ErrorIs(t, err, wasmbin.ErrMalformed)
			assert.Contains(t, err.Error(), "table section")
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestCheckTables(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tables []uint32
		err    string
	}{
		{"none", nil, ""},
		{"at the limits", []uint32{60, 40}, ""},
		{"too many", []uint32{1, 1, 1}, "module declares 3 tables, over the limit of 2: table limit"},
		{"too big", []uint32{101}, "module's tables need 101 elements to start, over the limit of 100 elements: table limit"},
		{"adding up", []uint32{60, 41}, "need 101 elements"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mod := wasmgen.Plugin()
			mod.Tables = tt.tables
			m, err := wasmbin.Parse(mod.Bytes())
			require.NoError(t, err)
			err = wasmbin.CheckTables(m, 2, 100)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, wasmbin.ErrTableLimit)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}
