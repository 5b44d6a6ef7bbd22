package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

const basicManifest = `[plugin]
name = "made"
version = "1.0.0"
kind = "wasm"
module = "made.wasm"
`

// writePlugin writes a plugin folder with the given manifest and module.
func writePlugin(t *testing.T, manifest string, module []byte) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(manifest), 0o644))
	if module != nil {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "made.wasm"), module, 0o644))
	}
	return dir
}

func handler(name string, body []byte) wasmgen.Func {
	return wasmgen.Func{Type: abi.TypeHandler, Body: body, Export: name}
}

func TestLoad_ModuleErrors(t *testing.T) {
	okResult := wasmgen.I32Const(512) // a zeroed area: tag 0, empty output
	noMemory := wasmgen.Plugin(handler("h", okResult))
	noMemory.ExportMemory = ""
	noRealloc := wasmgen.Plugin(handler("h", okResult))
	noRealloc.Funcs[0].Export = ""
	withHTTP := wasmgen.Plugin(handler("h", okResult))
	withHTTP.Imports = []wasmgen.Import{{Module: abi.HTTPModule, Name: abi.FuncRequest, Type: abi.TypeRequest}}
	bigMemory := wasmgen.Plugin(handler("h", okResult))
	bigMemory.MemoryMin = 2000 // 125 MiB to start, limit 64 MiB

	tests := []struct {
		name     string
		manifest string
		module   []byte
		is       error
		msg      string
	}{
		{"no memory", basicManifest, noMemory.Bytes(), abi.ErrMissingExport, `load plugin "made": module made.wasm: export "memory" (memory): missing required export`},
		{"no cabi_realloc", basicManifest, noRealloc.Bytes(), abi.ErrMissingExport, `export "cabi_realloc" (func (i32, i32, i32, i32) -> i32): missing required export`},
		{"http without net", basicManifest, withHTTP.Bytes(), runtime.ErrPermission, `module imports "vitte:plugin/http@1.0.0" but plugin.toml requests no network access ([capabilities].net)`},
		{"described export missing", basicManifest + "[exports.nope]\ndescription = \"x\"\n", wasmgen.Plugin(handler("h", okResult)).Bytes(), nil, `plugin.toml describes [exports.nope] but the module has no handler "nope"`},
		{"memory too big to start", basicManifest, bigMemory.Bytes(), nil, "module needs 2000 pages (131072000 bytes) of memory to start, over the limit of 1024 pages"},
		{"not wasm", basicManifest, []byte("#!/bin/sh\necho pwned\n"), nil, `load plugin "made": module made.wasm: not a WebAssembly module`},
		{"module missing", basicManifest, nil, os.ErrNotExist, `load plugin "made": module made.wasm: open`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRuntime(t, runtime.NewConfig())
			_, err := e.rt.Load(context.Background(), writePlugin(t, tt.manifest, tt.module))
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestLoad_HandcraftedPlugin(t *testing.T) {
	// A plugin written without any kit: its handler returns a zeroed area
	// (ok, empty output) at 512.
	mod := wasmgen.Plugin(handler("h", wasmgen.I32Const(512)))
	e := newRuntime(t, runtime.NewConfig())
	p, err := e.rt.Load(context.Background(), writePlugin(t, basicManifest, mod.Bytes()))
	require.NoError(t, err)
	defer p.Close(context.Background())
	assert.Equal(t, []string{"h"}, p.Handlers())
	out, err := p.Call(context.Background(), "h", []byte("input"))
	require.NoError(t, err)
	assert.Empty(t, out)
}

func TestLoad_FilesStayInsideTheFolder(t *testing.T) {
	outside := t.TempDir()
	mod := wasmgen.Plugin(handler("h", wasmgen.I32Const(512))).Bytes()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "made.wasm"), mod, 0o644))

	dir := writePlugin(t, basicManifest, nil)
	require.NoError(t, os.Symlink(filepath.Join(outside, "made.wasm"), filepath.Join(dir, "made.wasm")))
	e := newRuntime(t, runtime.NewConfig())
	_, err := e.rt.Load(context.Background(), dir)
	require.Error(t, err, "a module symlinked from outside the plugin folder is not read")
	assert.Contains(t, err.Error(), `load plugin "made": module made.wasm: `)

	dir2 := writePlugin(t, basicManifest, nil)
	require.NoError(t, os.Mkdir(filepath.Join(dir2, "made.wasm"), 0o755))
	_, err = e.rt.Load(context.Background(), dir2)
	assert.ErrorContains(t, err, "made.wasm is not a regular file")

	dir3 := writePlugin(t, basicManifest, mod)
	e2 := newRuntime(t, runtime.NewConfig().WithMaxModuleSize(100))
	_, err = e2.rt.Load(context.Background(), dir3)
	assert.ErrorContains(t, err, "over the limit of 100 bytes")
}

func TestLoadPackage(t *testing.T) {
	ctx := context.Background()
	pkgPath := filepath.Join(t.TempDir(), "hello-c.vitplug")
	_, err := vitplug.PackFile(fixture("hello-c"), pkgPath, vitplug.Limits{})
	require.NoError(t, err)
	e := newRuntime(t, runtime.NewConfig())

	_, err = e.rt.Load(ctx, pkgPath)
	assert.ErrorIs(t, err, runtime.ErrUntrusted, "no verifier, no package")

	var sawSource string
	refuse := func(pkg *vitplug.Package, source string) error {
		sawSource = source
		return fmt.Errorf("%w: not signed", runtime.ErrUntrusted)
	}
	_, err = e.rt.LoadWithConfig(ctx, pkgPath, runtime.NewLoadConfig().WithPackageVerifier(refuse))
	assert.ErrorIs(t, err, runtime.ErrUntrusted)
	assert.Equal(t, "file://"+filepath.ToSlash(pkgPath), sawSource)
	assert.Empty(t, e.stdout.String(), "nothing ran")

	accept := func(*vitplug.Package, string) error { return nil }
	p, err := e.rt.LoadWithConfig(ctx, pkgPath, runtime.NewLoadConfig().WithPackageVerifier(accept))
	require.NoError(t, err)
	defer p.Close(ctx)
	out, err := p.Call(ctx, "greet", []byte("package"))
	require.NoError(t, err)
	assert.Equal(t, "Hello, package!", string(out))
	assert.Equal(t, "hello-c: loaded\n", e.stdout.String())
}
