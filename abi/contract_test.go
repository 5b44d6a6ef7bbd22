package abi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
)

func fn(name string, t abi.FuncType) abi.Export {
	return abi.Export{Name: name, Kind: abi.KindFunc, Type: t}
}

var memExport = abi.Export{Name: "memory", Kind: abi.KindMemory}

func wasi(name string) (abi.FuncType, bool) {
	if name == "fd_write" {
		return abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32, abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}}, true
	}
	return abi.FuncType{}, false
}

func TestCheckContract(t *testing.T) {
	exports := []abi.Export{
		memExport,
		fn("cabi_realloc", abi.TypeRealloc),
		fn("_initialize", abi.TypeInitialize),
		fn("on-load", abi.TypeOnLoad),
		fn("on-unload", abi.TypeOnUnload),
		fn("greet", abi.TypeHandler),
		fn("echo", abi.TypeHandler),
		fn("cabi_post_greet", abi.TypePost),
		fn("_private", abi.TypeHandler),
		fn("__data_end", abi.TypeHandler),
		fn("helper", abi.FuncType{Params: []abi.ValueType{abi.I64}}),
	}
	imports := []abi.Import{
		{Module: abi.HostModule, Name: "log", Kind: abi.KindFunc, Type: abi.TypeLog},
		{Module: abi.WASIModule, Name: "fd_write", Kind: abi.KindFunc, Type: abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32, abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}}},
	}
	c, err := abi.CheckContract(imports, exports, wasi)
	require.NoError(t, err)
	assert.Equal(t, []string{"echo", "greet"}, c.Handlers)
	assert.Equal(t, map[string]bool{"greet": true}, c.Post)
	assert.True(t, c.Initialize && c.OnLoad && c.OnUnload)
	assert.Equal(t, []string{abi.HostModule, abi.WASIModule}, c.Interfaces)
	assert.Equal(t, []string{"helper"}, c.Ignored)
	assert.True(t, c.HasHandler("greet"))
	assert.False(t, c.HasHandler("_private"))
}

func TestCheckContract_Errors(t *testing.T) {
	base := []abi.Export{memExport, fn("cabi_realloc", abi.TypeRealloc)}
	tests := []struct {
		name    string
		imports []abi.Import
		exports []abi.Export
		err     string
		is      []error
	}{
		{name: "command", exports: append(base, fn("_start", abi.TypeInitialize)),
			err: `module exports "_start" but not "_initialize" (build it as a reactor, e.g. clang -mexec-model=reactor or go build -buildmode=c-shared): module is a WASI command, not a plugin`, is: []error{abi.ErrCommand}},
		{name: "no memory", exports: []abi.Export{fn("cabi_realloc", abi.TypeRealloc)},
			err: `export "memory" (memory): missing required export`, is: []error{abi.ErrMissingExport}},
		{name: "memory not a memory", exports: []abi.Export{fn("memory", abi.TypeInitialize), fn("cabi_realloc", abi.TypeRealloc)},
			err: `export "memory" is a func, want memory: export has the wrong type`, is: []error{abi.ErrExportType}},
		{name: "no realloc", exports: []abi.Export{memExport},
			err: `export "cabi_realloc" (func (i32, i32, i32, i32) -> i32): missing required export`, is: []error{abi.ErrMissingExport}},
		{name: "realloc wrong type", exports: []abi.Export{memExport, fn("cabi_realloc", abi.TypeHandler)},
			err: `export "cabi_realloc" is func (i32, i32) -> i32, want func (i32, i32, i32, i32) -> i32: export has the wrong type`, is: []error{abi.ErrExportType}},
		{name: "on-load wrong type", exports: append(base, fn("on-load", abi.TypeInitialize)),
			err: `export "on-load" is func () -> (), want func () -> i32: export has the wrong type`},
		{name: "post wrong type", exports: append(base, fn("cabi_post_x", abi.TypeHandler)),
			err: `export "cabi_post_x" is func (i32, i32) -> i32, want func (i32) -> (): export has the wrong type`},
		{name: "unknown import", exports: base, imports: []abi.Import{{Module: "env", Name: "launch_missiles", Kind: abi.KindFunc, Type: abi.FuncType{Params: []abi.ValueType{abi.I32}}}},
			err: `import "env"."launch_missiles" (func (i32) -> ()): import not provided by the host`, is: []error{abi.ErrUnknownImport}},
		{name: "unknown wasi", exports: base, imports: []abi.Import{{Module: abi.WASIModule, Name: "sock_open", Kind: abi.KindFunc}},
			err: `import "wasi_snapshot_preview1"."sock_open" (func () -> ()): import not provided by the host`, is: []error{abi.ErrUnknownImport}},
		{name: "imported memory", exports: base, imports: []abi.Import{{Module: "env", Name: "memory", Kind: abi.KindMemory}},
			err: `import "env"."memory" (memory): import not provided by the host`, is: []error{abi.ErrUnknownImport}},
		{name: "host import wrong type", exports: base, imports: []abi.Import{{Module: abi.HostModule, Name: "log", Kind: abi.KindFunc, Type: abi.TypeHandler}},
			err: `import "vitte:plugin/host@1.0.0"."log" is func (i32, i32) -> i32, the host provides func (i32, i32, i32) -> (): import has the wrong type`, is: []error{abi.ErrImportType}},
		{name: "all at once", exports: []abi.Export{fn("_start", abi.TypeInitialize)}, imports: []abi.Import{{Module: "env", Name: "f", Kind: abi.KindFunc}},
			err: "4 ABI problems:\n" +
				"\timport \"env\".\"f\" (func () -> ()): import not provided by the host\n" +
				"\tmodule exports \"_start\" but not \"_initialize\" (build it as a reactor, e.g. clang -mexec-model=reactor or go build -buildmode=c-shared): module is a WASI command, not a plugin\n" +
				"\texport \"memory\" (memory): missing required export\n" +
				"\texport \"cabi_realloc\" (func (i32, i32, i32, i32) -> i32): missing required export",
			is: []error{abi.ErrUnknownImport, abi.ErrCommand, abi.ErrMissingExport}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := abi.CheckContract(tt.imports, tt.exports, wasi)
			require.EqualError(t, err, tt.err)
			for _, is := range tt.is {
				assert.ErrorIs(t, err, is)
			}
		})
	}
}
