package wasmbin_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmbin"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
)

func sample() []byte {
	m := wasmgen.Plugin(wasmgen.Func{Type: abi.TypeHandler, Body: wasmgen.I32Const(0), Export: "greet"})
	m.Imports = []wasmgen.Import{{Module: abi.HostModule, Name: abi.FuncLog, Type: abi.TypeLog}}
	m.HasMemoryMax, m.MemoryMax = true, 100
	return m.Bytes()
}

func TestParse(t *testing.T) {
	m, err := wasmbin.Parse(sample())
	require.NoError(t, err)
	require.Len(t, m.Imports, 1)
	assert.Equal(t, abi.Import{Module: abi.HostModule, Name: abi.FuncLog, Kind: abi.KindFunc, Type: abi.TypeLog}, m.Imports[0])
	require.Len(t, m.Exports, 3)
	byName := map[string]abi.Export{}
	for _, e := range m.Exports {
		byName[e.Name] = e
	}
	assert.Equal(t, abi.TypeRealloc, byName[abi.ExportRealloc].Type)
	assert.Equal(t, abi.TypeHandler, byName["greet"].Type)
	assert.Equal(t, abi.KindMemory, byName["memory"].Kind)
	assert.Equal(t, []wasmbin.Limits{{Min: 1, Max: 100, HasMax: true}}, m.Memories)
}

func TestParse_Errors(t *testing.T) {
	good := sample()
	tests := []struct {
		name, in, err string
	}{
		{"empty", "", "not a WebAssembly module (no \\0asm header): malformed module"},
		{"text", "(module)", "not a WebAssembly module (no \\0asm header): malformed module"},
		{"component", "\x00asm\x0d\x00\x01\x00", "unsupported binary version 0d000100 (want 1; components are not supported): malformed module"},
		{"truncated", string(good[:len(good)-3]), "code section at offset 112: section of 51 bytes runs past the end of the module: malformed module"},
		{"huge vector", "\x00asm\x01\x00\x00\x00\x01\x05\xff\xff\xff\xff\x0f", "type section at offset 15: vector of 4294967295 elements runs past the end: malformed module"},
		{"bad valtype", "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x01\x42", "type section at offset 14: unknown value type 0x42: malformed module"},
		{"long leb", "\x00asm\x01\x00\x00\x00\x01\x80\x80\x80\x80\x80\x80\x01", "type section at offset 15: integer too long: malformed module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasmbin.Parse([]byte(tt.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, wasmbin.ErrMalformed)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestCheckMemory(t *testing.T) {
	tests := []struct {
		name     string
		min      uint32
		noMemory bool
		limit    uint32
		err      string
	}{
		{name: "fits", min: 1, limit: 16},
		{name: "exactly", min: 16, limit: 16},
		{name: "min over limit", min: 17, limit: 16, err: "module needs 17 pages (1114112 bytes) of memory to start, over the limit of 16 pages (1048576 bytes): memory limit"},
		{name: "no memory", noMemory: true, limit: 16, err: "module defines no memory: memory limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod := wasmgen.Plugin()
			mod.MemoryMin, mod.NoMemory = tt.min, tt.noMemory
			m, err := wasmbin.Parse(mod.Bytes())
			require.NoError(t, err)
			err = wasmbin.CheckMemory(m, tt.limit)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				assert.ErrorIs(t, err, wasmbin.ErrMemoryLimit)
				return
			}
			require.NoError(t, err)
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample())
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wasmbin.Parse(b)
		if err != nil {
			require.ErrorIs(t, err, wasmbin.ErrMalformed)
			return
		}
		if wasmbin.CheckMemory(m, 16) == nil {
			require.Len(t, m.Memories, 1)
			require.LessOrEqual(t, m.Memories[0].Min, uint64(16))
		}
	})
}
