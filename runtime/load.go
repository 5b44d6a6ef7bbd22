package runtime

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/internal/meter"
	"github.com/vitte-lang/vitte-plugin/internal/wasmbin"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Load loads the plugin at path, with the default LoadConfig. See
// LoadWithConfig.
func (r *Runtime) Load(ctx context.Context, path string) (*Plugin, error) {
	return r.LoadWithConfig(ctx, path, NewLoadConfig())
}

// LoadPackage loads a plugin from an opened .vitplug package. The package's
// integrity was checked when it was opened; its signatures are the
// caller's to check (trust policy) before calling this.
func (r *Runtime) LoadPackage(ctx context.Context, pkg *vitplug.Package, lc LoadConfig) (*Plugin, error) {
	return r.load(ctx, &source{where: pkg.ContentID(), manifest: pkg.Manifest(), module: pkg.Module(), pkg: pkg}, lc)
}

// IsPackage reports whether path names a .vitplug package file rather than
// a plugin folder.
func IsPackage(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && strings.HasSuffix(path, ".vitplug")
}

// LoadWithConfig loads the plugin at path: a plugin folder (a plugin under
// development: plugin.toml and its module, loaded without a signature) or a
// .vitplug package (which must pass the LoadConfig's package verifier,
// see LoadConfig.WithPackageVerifier; without one, packages are refused).
// The steps, each undone if a later one fails:
//
//  1. read and validate plugin.toml (manifest v1);
//  2. read the module named by [plugin].module, inside the folder (no path
//     or symbolic link leads out of it) or the package;
//  3. check the module against ABI v1: exports, imports, and imports
//     against the capabilities the manifest requests;
//  4. compile it, with the memory limit written into the module;
//  5. instantiate it, run _initialize, then on-load.
//
// An error names the plugin and the step: load plugin "hello": module
// hello.wasm: ...
func (r *Runtime) LoadWithConfig(ctx context.Context, path string, lc LoadConfig) (*Plugin, error) {
	if IsPackage(path) {
		pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
		if err != nil {
			return nil, fmt.Errorf("load plugin from %s: %w", path, err)
		}
		if lc.verify == nil {
			return nil, fmt.Errorf("load plugin %q from %s: %w: no package verifier configured (see LoadConfig.WithPackageVerifier)", pkg.Manifest().Plugin.Name, path, ErrUntrusted)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("load plugin from %s: %w", path, err)
		}
		if err := lc.verify(pkg, "file://"+filepath.ToSlash(abs)); err != nil {
			return nil, fmt.Errorf("load plugin %q from %s: %w", pkg.Manifest().Plugin.Name, path, err)
		}
		return r.LoadPackage(ctx, pkg, lc)
	}
	src, err := readPluginDir(path, r.cfg.maxModuleSize)
	if err != nil {
		return nil, err
	}
	return r.load(ctx, src, lc)
}

// source is a plugin's manifest and module bytes, wherever they came from.
type source struct {
	where    string // the folder or file, for messages
	manifest *manifest.Manifest
	module   []byte
	dir      string           // the plugin folder, if loaded from one
	pkg      *vitplug.Package // the package, if loaded from one
	python   *pySource        // kind "python": the script (see python.go)
}

func readPluginDir(dir string, maxModule int64) (*source, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("load plugin from %s: %w", dir, err)
	}
	defer root.Close()
	data, err := boundedfile.ReadIn(root, manifest.FileName, maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("load plugin from %s: %w", dir, err)
	}
	m, err := manifest.Parse(path.Join(dir, manifest.FileName), data)
	if err != nil {
		return nil, fmt.Errorf("load plugin from %s: %w", dir, err)
	}
	mod, err := boundedfile.ReadIn(root, m.Plugin.Module, maxModule)
	if err != nil {
		return nil, fmt.Errorf("load plugin %q: module %s: %w", m.Plugin.Name, m.Plugin.Module, err)
	}
	return &source{where: dir, manifest: m, module: mod, dir: dir}, nil
}

// Inspection is what the runtime finds in a plugin without running it.
type Inspection struct {
	Manifest *manifest.Manifest
	Contract *abi.Contract
	// ModuleSize and ModuleSHA256 describe the module file as read.
	ModuleSize   int
	ModuleSHA256 [32]byte
	// CustomSections lists the module's custom section names.
	CustomSections []string
	// Python is set for plugins of kind "python", whose module is the
	// interpreter (see PythonInspection).
	Python *PythonInspection
}

// readSource reads a plugin folder or a .vitplug package (its integrity is
// checked, not its signatures).
func (r *Runtime) readSource(path string) (*source, error) {
	if IsPackage(path) {
		pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
		if err != nil {
			return nil, fmt.Errorf("load plugin from %s: %w", path, err)
		}
		return &source{where: path, manifest: pkg.Manifest(), module: pkg.Module(), pkg: pkg}, nil
	}
	return readPluginDir(path, r.cfg.maxModuleSize)
}

// Inspect reads and checks the plugin at path (a folder or a package)
// without compiling or running
// it: the manifest, the module's ABI contract, and the module's imports
// against the manifest's capability requests. It returns what it found
// even when it also returns an error, as far as it got.
func (r *Runtime) Inspect(path string) (*Inspection, error) {
	src, err := r.readSource(path)
	if err != nil {
		return nil, err
	}
	ins, _, err := r.check(src)
	return ins, err
}

// check parses the module and checks it against the ABI and the manifest.
func (r *Runtime) check(src *source) (*Inspection, *wasmbin.Module, error) {
	m := src.manifest
	py, err := r.preparePython(src) // kind "python": src.module becomes the interpreter
	ins := &Inspection{
		Manifest:     m,
		ModuleSize:   len(src.module),
		ModuleSHA256: sha256.Sum256(src.module),
		Python:       py,
	}
	if err != nil {
		return ins, nil, err
	}
	wrap := func(err error) error {
		return fmt.Errorf("load plugin %q: module %s: %w", m.Plugin.Name, m.Plugin.Module, err)
	}
	mod, err := wasmbin.Parse(src.module)
	if err != nil {
		return ins, nil, wrap(err)
	}
	ins.CustomSections = mod.Custom
	c, err := abi.CheckContract(mod.Imports, mod.Exports, r.wasiFunc)
	ins.Contract = c
	if err != nil {
		return ins, mod, wrap(err)
	}
	var problems []error
	if src.python != nil {
		// One interpreter for every script: it imports http.request
		// whatever the script does, and the script declares its handlers
		// when it runs (pythonReady checks them).
		return ins, mod, nil
	}
	if c.ImportsFrom(abi.HTTPModule) && len(m.Capabilities.Net) == 0 {
		problems = append(problems, fmt.Errorf("module imports %q but plugin.toml requests no network access ([capabilities].net): %w", abi.HTTPModule, ErrPermission))
	}
	for name := range m.Exports {
		if !c.HasHandler(name) {
			problems = append(problems, fmt.Errorf("plugin.toml describes [exports.%s] but the module has no handler %q", name, name))
		}
	}
	if len(problems) > 0 {
		return ins, mod, wrap(errors.Join(problems...))
	}
	return ins, mod, nil
}

func (r *Runtime) load(ctx context.Context, src *source, lc LoadConfig) (*Plugin, error) {
	m := src.manifest
	if r.isClosed() {
		return nil, fmt.Errorf("load plugin %q: %w", m.Plugin.Name, errRuntimeClosed)
	}
	ins, mod, err := r.check(src)
	if err != nil {
		return nil, err
	}
	lim := effectiveLimits(m.Limits, r.cfg)
	wrap := func(step string, err error) error {
		return fmt.Errorf("load plugin %q: %s: %w", m.Plugin.Name, step, err)
	}
	// The engine enforces the limit as the memory grows, and reports each
	// refusal. See RATIONALE.md "How is the memory limit enforced?".
	if err := wasmbin.CheckMemory(mod, lim.memoryPages); err != nil {
		return nil, wrap("module "+m.Plugin.Module, err)
	}
	// The metering bounds table.grow by the same total (meterLimit).
	if err := wasmbin.CheckTables(mod, MaxTables, r.cfg.tableLimit()); err != nil {
		return nil, wrap("module "+m.Plugin.Module, err)
	}
	// Metering stops a runaway guest at its deadline. See RATIONALE.md
	// "How is a runaway guest stopped?".
	metered, err := r.instrument(src.module)
	if err != nil {
		return nil, wrap("module "+m.Plugin.Module, fmt.Errorf("add metering: %w", err))
	}
	compiled, err := r.engine.Compile(ctx, metered)
	if err != nil {
		return nil, wrap("compile "+m.Plugin.Module, err)
	}
	if compiled, err = wrapPython(ctx, src, compiled, lim.output); err != nil {
		return nil, wrap("module "+m.Plugin.Module, err)
	}
	caps, err := capabilities.Resolve(m.Capabilities, lc.grants)
	if err != nil {
		return nil, errors.Join(wrap("grants", err), compiled.Close(ctx))
	}
	p := newPlugin(r, ins, compiled, lim, lc, caps)
	p.throws = mod.Tags > 0
	for _, d := range caps.Denied {
		kind, res, _ := strings.Cut(d, " ")
		p.audit(capabilities.Event{Kind: capabilities.Kind(kind), Resource: res, Op: "request", Rule: "requested in plugin.toml, not granted", Function: "load"})
	}
	if err := r.track(p); err != nil {
		return nil, errors.Join(wrap("register", err), compiled.Close(ctx))
	}
	// The first instance runs on-load now, so that a failing on-load fails
	// the load.
	inst, err := p.newInstance(ctx)
	if err != nil {
		r.untrack(p)
		return nil, errors.Join(wrap("instantiate", err), compiled.Close(ctx))
	}
	if err := p.pythonReady(inst); err != nil {
		r.untrack(p)
		return nil, errors.Join(wrap("handlers", err), inst.unload(ctx), compiled.Close(ctx))
	}
	p.pool.put(inst)
	p.pool.fill()
	return p, nil
}

// Verify checks the plugin at path (a folder or a package) as Load would, without running it: the
// manifest, the module's ABI contract and imports against the capability
// requests, the memory limit, and the module's validity (it is compiled,
// then freed). It returns what it found, and an error listing every
// problem.
func (r *Runtime) Verify(ctx context.Context, path string) (*Inspection, error) {
	src, err := r.readSource(path)
	if err != nil {
		return nil, err
	}
	ins, mod, err := r.check(src)
	if mod == nil {
		return ins, err // not even parseable: nothing more to check
	}
	errs := []error{err}
	wrap := func(step string, err error) error {
		return fmt.Errorf("load plugin %q: %s: %w", src.manifest.Plugin.Name, step, err)
	}
	lim := effectiveLimits(src.manifest.Limits, r.cfg)
	if err := wasmbin.CheckMemory(mod, lim.memoryPages); err != nil {
		errs = append(errs, wrap("module "+src.manifest.Plugin.Module, err))
	}
	if err := wasmbin.CheckTables(mod, MaxTables, r.cfg.tableLimit()); err != nil {
		errs = append(errs, wrap("module "+src.manifest.Plugin.Module, err))
	}
	compiled, cerr := r.engine.Compile(ctx, src.module)
	if cerr != nil {
		errs = append(errs, wrap("compile "+src.manifest.Plugin.Module, cerr))
	} else {
		errs = append(errs, compiled.Close(ctx))
	}
	return ins, errors.Join(errs...)
}

// instrument adds fuel metering to a module, through the compilation
// cache when there is one.
func (r *Runtime) instrument(wasm []byte) ([]byte, error) {
	if c, ok := r.cfg.cache.(*compilationCache); ok {
		return c.instrument(wasm)
	}
	return meter.Instrument(wasm, meter.Options{})
}
