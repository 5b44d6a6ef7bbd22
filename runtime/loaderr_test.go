package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// loadSentinels are the documented sentinels a failed load matches, exactly
// one each.
var loadSentinels = map[string]error{
	"ErrManifest": runtime.ErrManifest, "ErrModule": runtime.ErrModule, "ErrPackage": runtime.ErrPackage,
	"ErrGrants": runtime.ErrGrants, "ErrContract": runtime.ErrContract, "ErrPermission": runtime.ErrPermission,
	"ErrUntrusted": runtime.ErrUntrusted, "ErrClosed": runtime.ErrClosed, "ErrGuest": runtime.ErrGuest,
	"ErrTrap": runtime.ErrTrap, "ErrTimeout": runtime.ErrTimeout, "ErrFuel": runtime.ErrFuel,
	"ErrCanceled": runtime.ErrCanceled, "ErrNoHandler": runtime.ErrNoHandler,
}

// matched names the sentinels err matches.
func matched(err error) []string {
	var names []string
	for name, s := range loadSentinels {
		if errors.Is(err, s) {
			names = append(names, name)
		}
	}
	return names
}

// onLoad is a plugin module whose on-load runs body.
func onLoad(body []byte) wasmgen.Module {
	m := wasmgen.Plugin(handler("h", wasmgen.I32Const(512)), wasmgen.Func{Type: abi.TypeOnLoad, Body: body, Export: abi.ExportOnLoad})
	return m
}

func TestLoad_ErrorSentinels(t *testing.T) {
	okResult := wasmgen.I32Const(512)
	plain := wasmgen.Plugin(handler("h", okResult)).Bytes()
	noMemory := wasmgen.Plugin(handler("h", okResult))
	noMemory.ExportMemory = ""
	noRealloc := wasmgen.Plugin(handler("h", okResult))
	noRealloc.Funcs[0].Export = ""
	unknownImport := wasmgen.Plugin(handler("h", okResult))
	unknownImport.Imports = []wasmgen.Import{{Module: "env", Name: "system", Type: abi.TypeHandler}}
	withHTTP := wasmgen.Plugin(handler("h", okResult))
	withHTTP.Imports = []wasmgen.Import{{Module: abi.HTTPModule, Name: abi.FuncRequest, Type: abi.TypeRequest}}
	bigMemory := wasmgen.Plugin(handler("h", okResult))
	bigMemory.MemoryMin = 2000
	// on-load returning an error result: tag 1, message "oops" at 600.
	guestErr := onLoad(wasmgen.I32Const(512))
	guestErr.Data = append([]byte{1, 0, 0, 0, 88, 2, 0, 0, 4, 0, 0, 0}, make([]byte, 76)...)
	guestErr.Data = append(guestErr.Data, "oops"...)
	guestErr.DataOffset = 512
	// A module importing WASI: both engines open its mounts at
	// instantiation (wasmtime serves WASI only to modules that import it).
	withWASI := wasmgen.Plugin(handler("h", okResult))
	withWASI.Imports = []wasmgen.Import{fdWriteImport}
	badTag := onLoad(wasmgen.I32Const(512))
	badTag.Data, badTag.DataOffset = []byte{7}, 512

	const fast = "\n[limits]\ntimeout = \"200ms\"\n"
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()

	type loader func(t *testing.T, rt *runtime.Runtime) error
	folder := func(manifest string, module []byte, lc runtime.LoadConfig) loader {
		return func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadWithConfig(ctx, writePlugin(t, manifest, module), lc)
			return err
		}
	}
	lc := runtime.NewLoadConfig()
	tests := []struct {
		name string
		cfg  func(runtime.Config) runtime.Config
		load loader
		is   error
		msg  string
	}{
		{name: "no such folder", is: runtime.ErrManifest, msg: "load plugin from ", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.Load(ctx, filepath.Join(t.TempDir(), "nope"))
			return err
		}},
		{name: "no plugin.toml", is: runtime.ErrManifest, msg: "plugin.toml", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.Load(ctx, t.TempDir())
			return err
		}},
		{name: "plugin.toml too large", is: runtime.ErrManifest, msg: "over the limit", load: folder(basicManifest+"#"+strings.Repeat("x", 1<<20)+"\n", plain, lc)},
		{name: "plugin.toml invalid", is: runtime.ErrManifest, msg: "plugin.toml", load: folder("[plugin]\nname = 1\n", plain, lc)},
		{name: "module missing", is: runtime.ErrModule, msg: `load plugin "made": module made.wasm: open`, load: folder(basicManifest, nil, lc)},
		{name: "module too large", cfg: func(c runtime.Config) runtime.Config { return c.WithMaxModuleSize(100) }, is: runtime.ErrModule, msg: "over the limit of 100 bytes", load: folder(basicManifest, plain, lc)},
		{name: "not wasm", is: runtime.ErrModule, msg: "not a WebAssembly module", load: folder(basicManifest, []byte("#!/bin/sh\n"), lc)},
		{name: "memory too big to start", is: runtime.ErrModule, msg: "module needs 2000 pages", load: folder(basicManifest, bigMemory.Bytes(), lc)},
		{name: "no memory export", is: runtime.ErrContract, msg: `export "memory" (memory): missing required export`, load: folder(basicManifest, noMemory.Bytes(), lc)},
		{name: "no cabi_realloc", is: runtime.ErrContract, msg: `export "cabi_realloc"`, load: folder(basicManifest, noRealloc.Bytes(), lc)},
		{name: "unknown import", is: runtime.ErrContract, msg: `"env"`, load: folder(basicManifest, unknownImport.Bytes(), lc)},
		{name: "described export missing", is: runtime.ErrContract, msg: `plugin.toml describes [exports.nope] but the module has no handler "nope"`, load: folder(basicManifest+"[exports.nope]\ndescription = \"x\"\n", plain, lc)},
		{name: "http without net", is: runtime.ErrPermission, msg: "requests no network access", load: folder(basicManifest, withHTTP.Bytes(), lc)},
		{name: "grant not absolute", is: runtime.ErrGrants, msg: "must be an absolute path", load: folder(basicManifest+"[capabilities]\nfs = [{ path = \"/data\", mode = \"ro\" }]\n", plain,
			lc.WithGrants(capabilities.NewGrants().WithDir("/data", "relative/dir", manifest.ReadOnly)))},
		{name: "granted folder missing", is: runtime.ErrGrants, msg: "mount /data", load: func(t *testing.T, rt *runtime.Runtime) error {
			g := capabilities.NewGrants().WithDir("/data", filepath.Join(t.TempDir(), "gone"), manifest.ReadOnly)
			return folder(basicManifest+"[capabilities]\nfs = [{ path = \"/data\", mode = \"ro\" }]\n", withWASI.Bytes(), lc.WithGrants(g))(t, rt)
		}},
		{name: "runtime closed", is: runtime.ErrClosed, msg: "runtime is closed", load: func(t *testing.T, rt *runtime.Runtime) error {
			require.NoError(t, rt.Close(ctx))
			return folder(basicManifest, plain, lc)(t, rt)
		}},
		{name: "package corrupt", is: runtime.ErrPackage, msg: "load plugin from ", load: func(t *testing.T, rt *runtime.Runtime) error {
			path := filepath.Join(t.TempDir(), "bad.vitplug")
			require.NoError(t, os.WriteFile(path, []byte("not a zip"), 0o644))
			_, err := rt.Load(ctx, path)
			return err
		}},
		{name: "package without verifier", is: runtime.ErrUntrusted, msg: "no package verifier configured", load: func(t *testing.T, rt *runtime.Runtime) error {
			path := filepath.Join(t.TempDir(), "hello-c.vitplug")
			_, err := vitplug.PackFile(fixture("hello-c"), path, vitplug.Limits{})
			require.NoError(t, err)
			_, err = rt.Load(ctx, path)
			return err
		}},
		{name: "package refused by verifier", is: runtime.ErrUntrusted, msg: "no signature by alice", load: func(t *testing.T, rt *runtime.Runtime) error {
			path := filepath.Join(t.TempDir(), "hello-c.vitplug")
			_, err := vitplug.PackFile(fixture("hello-c"), path, vitplug.Limits{})
			require.NoError(t, err)
			refuse := func(*vitplug.Package, string) error { return errors.New("no signature by alice") }
			_, err = rt.LoadWithConfig(ctx, path, lc.WithPackageVerifier(refuse))
			return err
		}},
		{name: "on-load error", is: runtime.ErrGuest, msg: "on-load: plugin error: oops", load: folder(basicManifest, guestErr.Bytes(), lc)},
		{name: "on-load bad result", is: runtime.ErrContract, msg: "tag 7", load: folder(basicManifest, badTag.Bytes(), lc)},
		{name: "on-load trap", is: runtime.ErrTrap, msg: "unreachable", load: folder(basicManifest, onLoad(wasmgen.Unreachable).Bytes(), lc)},
		{name: "on-load timeout", is: runtime.ErrTimeout, msg: "timed out", load: folder(basicManifest+fast, onLoad(wasmgen.Cat(wasmgen.Loop, wasmgen.I32Const(512))).Bytes(), lc)},
		{name: "on-load fuel", is: runtime.ErrFuel, msg: "limits.fuel", load: folder(basicManifest+"\n[limits]\nfuel = 1000\n", onLoad(wasmgen.Cat(wasmgen.Loop, wasmgen.I32Const(512))).Bytes(), lc)},
		{name: "canceled", is: runtime.ErrCanceled, msg: "canceled", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadWithConfig(canceled, writePlugin(t, basicManifest+fast, onLoad(wasmgen.Cat(wasmgen.Loop, wasmgen.I32Const(512))).Bytes()), lc)
			return err
		}},
		{name: "bytes: manifest invalid", is: runtime.ErrManifest, msg: "load plugin from memory: ", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadBytes(ctx, []byte("[plugin]\n"), plain, lc)
			return err
		}},
		{name: "bytes: manifest too large", is: runtime.ErrManifest, msg: "plugin.toml is 1048578 bytes, over the limit of 1048576 bytes", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadBytes(ctx, make([]byte, 1<<20+2), plain, lc)
			return err
		}},
		{name: "bytes: module too large", cfg: func(c runtime.Config) runtime.Config { return c.WithMaxModuleSize(100) }, is: runtime.ErrModule, msg: `load plugin "made": module made.wasm: made.wasm is`, load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadBytes(ctx, []byte(basicManifest), plain, lc)
			return err
		}},
		{name: "bytes: not wasm", is: runtime.ErrModule, msg: "not a WebAssembly module", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadBytes(ctx, []byte(basicManifest), []byte("MZ"), lc)
			return err
		}},
		{name: "bytes: kind python", is: runtime.ErrManifest, msg: `kind "python" loads from a folder or a package`, load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadBytes(ctx, []byte(strings.NewReplacer(`kind = "wasm"`, `kind = "python"`, "made.wasm", "made.py").Replace(basicManifest)), plain, lc)
			return err
		}},
		{name: "struct: nil", is: runtime.ErrManifest, msg: "no manifest", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadManifest(ctx, nil, plain, lc)
			return err
		}},
		{name: "struct: invalid", is: runtime.ErrManifest, msg: `load plugin "Bad Name" from memory: `, load: func(t *testing.T, rt *runtime.Runtime) error {
			m := madeManifest()
			m.Plugin.Name = "Bad Name"
			_, err := rt.LoadManifest(ctx, m, plain, lc)
			return err
		}},
		{name: "struct: http without net", is: runtime.ErrPermission, msg: "requests no network access", load: func(t *testing.T, rt *runtime.Runtime) error {
			_, err := rt.LoadManifest(ctx, madeManifest(), withHTTP.Bytes(), lc)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := runtime.NewConfig()
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			e := newRuntime(t, cfg)
			err := tt.load(t, e.rt)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.is)
			assert.Len(t, matched(err), 1, "%v matches %v", err, matched(err))
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

// fdWriteImport imports WASI's fd_write.
var fdWriteImport = wasmgen.Import{Module: abi.WASIModule, Name: "fd_write",
	Type: abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32, abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}}}

// madeManifest is basicManifest built in Go.
func madeManifest() *manifest.Manifest {
	return &manifest.Manifest{
		Plugin: manifest.Plugin{Name: "made", Version: "1.0.0", Kind: manifest.KindWasm, Module: "made.wasm"},
		Limits: manifest.DefaultLimits(),
	}
}

func TestLoad_ErrorSentinelsKeepTheirCauses(t *testing.T) {
	// The sentinel is added, not substituted: what the error wrapped is still
	// reachable.
	e := newRuntime(t, runtime.NewConfig())
	_, err := e.rt.Load(context.Background(), writePlugin(t, "[plugin]\nname = 1\n", nil))
	var me *manifest.Error
	require.ErrorAs(t, err, &me)
	assert.ErrorIs(t, err, runtime.ErrManifest)
	_, err = e.rt.Load(context.Background(), writePlugin(t, basicManifest, nil))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorIs(t, err, runtime.ErrModule)
	noRealloc := wasmgen.Plugin(handler("h", wasmgen.I32Const(512)))
	noRealloc.Funcs[0].Export = ""
	_, err = e.rt.Load(context.Background(), writePlugin(t, basicManifest, noRealloc.Bytes()))
	assert.ErrorIs(t, err, abi.ErrMissingExport)
	assert.ErrorIs(t, err, runtime.ErrContract)
	assert.Equal(t, fmt.Sprint(err), err.Error())
}

func TestCall_NewInstanceErrorSentinel(t *testing.T) {
	// A call that needs a new instance whose granted folder is gone fails
	// with ErrGrants, as Load would.
	ctx := context.Background()
	m := wasmgen.Plugin(handler("h", wasmgen.I32Const(512)), handler("trap", wasmgen.Unreachable))
	m.Imports = []wasmgen.Import{fdWriteImport}
	mod := m.Bytes()
	data := t.TempDir()
	e := newRuntime(t, runtime.NewConfig())
	p, err := e.rt.LoadWithConfig(ctx, writePlugin(t, basicManifest+"[capabilities]\nfs = [{ path = \"/data\", mode = \"ro\" }]\n", mod),
		runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithDir("/data", data, manifest.ReadOnly)))
	require.NoError(t, err)
	defer p.Close(ctx)
	require.NoError(t, os.Remove(data))
	_, err = p.Call(ctx, "trap", nil) // the instance is discarded
	require.ErrorIs(t, err, runtime.ErrTrap)
	_, err = p.Call(ctx, "h", nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, runtime.ErrGrants)
	assert.Len(t, matched(err), 1, "%v matches %v", err, matched(err))
	assert.ErrorContains(t, err, "new instance: mount /data")
}
