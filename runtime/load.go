package runtime

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
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
// hello.wasm: ...; it matches one sentinel (ErrManifest, ErrModule, ...:
// see the package documentation, "Errors").
func (r *Runtime) LoadWithConfig(ctx context.Context, path string, lc LoadConfig) (*Plugin, error) {
	if IsPackage(path) {
		pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
		if err != nil {
			return nil, withKind(ErrPackage, fmt.Errorf("load plugin from %s: %w", path, err))
		}
		if lc.verify == nil {
			return nil, fmt.Errorf("load plugin %q from %s: %w: no package verifier configured (see LoadConfig.WithPackageVerifier)", pkg.Manifest().Plugin.Name, path, ErrUntrusted)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, withKind(ErrPackage, fmt.Errorf("load plugin from %s: %w", path, err))
		}
		if err := lc.verify(pkg, "file://"+filepath.ToSlash(abs)); err != nil {
			// A verifier's refusal is ErrUntrusted, whatever it wraps.
			return nil, withKind(ErrUntrusted, fmt.Errorf("load plugin %q from %s: %w", pkg.Manifest().Plugin.Name, path, err))
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
		return nil, withKind(ErrManifest, fmt.Errorf("load plugin from %s: %w", dir, err))
	}
	defer root.Close()
	data, err := boundedfile.ReadIn(root, manifest.FileName, maxManifestSize)
	if err != nil {
		return nil, withKind(ErrManifest, fmt.Errorf("load plugin from %s: %w", dir, err))
	}
	m, err := manifest.Parse(path.Join(dir, manifest.FileName), data)
	if err != nil {
		return nil, withKind(ErrManifest, fmt.Errorf("load plugin from %s: %w", dir, err))
	}
	mod, err := boundedfile.ReadIn(root, m.Plugin.Module, maxModule)
	if err != nil {
		return nil, withKind(ErrModule, fmt.Errorf("load plugin %q: module %s: %w", m.Plugin.Name, m.Plugin.Module, err))
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
	// Limits are the limits the plugin gets: the manifest's, lowered to
	// the host's ceilings (and, for a loaded plugin, to its LoadConfig's).
	Limits Limits
	// Compiler is how the runtime compiles the module (see
	// CompileLimits), once its code has been read.
	Compiler Compiler
}

// readSource reads a plugin folder or a .vitplug package (its integrity is
// checked, not its signatures).
func (r *Runtime) readSource(path string) (*source, error) {
	if IsPackage(path) {
		pkg, err := vitplug.OpenFile(path, vitplug.Limits{})
		if err != nil {
			return nil, withKind(ErrPackage, fmt.Errorf("load plugin from %s: %w", path, err))
		}
		return &source{where: path, manifest: pkg.Manifest(), module: pkg.Module(), pkg: pkg}, nil
	}
	return readPluginDir(path, r.cfg.maxModuleSize)
}

// Inspect reads and checks the plugin at path (a folder or a package)
// without compiling or running
// it: the manifest, the module's ABI contract, the module's imports
// against the manifest's capability requests, and its code against the
// CompileLimits (which fills in Inspection.Compiler). It returns what it found
// even when it also returns an error, as far as it got.
func (r *Runtime) Inspect(path string) (*Inspection, error) {
	src, err := r.readSource(path)
	if err != nil {
		return nil, err
	}
	ins, mod, err := r.check(src)
	if err != nil || mod == nil {
		return ins, err
	}
	if _, _, err := r.prepare(src, ins); err != nil {
		return ins, err
	}
	return ins, nil
}

// prepare adds fuel metering to the module and checks its code against
// the CompileLimits, filling in ins.Compiler: it returns the module to
// compile and how.
func (r *Runtime) prepare(src *source, ins *Inspection) ([]byte, Compiler, error) {
	m := src.manifest
	wrap := func(err error) error {
		return fmt.Errorf("load plugin %q: module %s: %w", m.Plugin.Name, m.Plugin.Module, err)
	}
	// Metering stops a runaway guest at its deadline. See RATIONALE.md
	// "How is a runaway guest stopped?".
	metered, st, err := r.instrument(src.module)
	if err != nil {
		return nil, Compiler{}, withKind(ErrModule, wrap(fmt.Errorf("add metering: %w", err)))
	}
	// See RATIONALE.md "How is the work of compiling a module bounded?".
	c, err := r.plan(st)
	if err != nil {
		return nil, Compiler{}, withKind(ErrModule, wrap(err))
	}
	ins.Compiler = c
	return metered, c, nil
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
		Limits:       effectiveLimits(m.Limits, r.cfg, NewLoadConfig()).public(),
	}
	if err != nil {
		return ins, nil, withKind(ErrModule, err)
	}
	wrap := func(err error) error {
		return fmt.Errorf("load plugin %q: module %s: %w", m.Plugin.Name, m.Plugin.Module, err)
	}
	mod, err := wasmbin.Parse(src.module)
	if err != nil {
		return ins, nil, withKind(ErrModule, wrap(err))
	}
	ins.CustomSections = mod.Custom
	c, err := abi.CheckContract(mod.Imports, mod.Exports, r.wasiFunc)
	ins.Contract = c
	if err != nil {
		return ins, mod, withKind(ErrContract, wrap(err))
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
			problems = append(problems, withKind(ErrContract, fmt.Errorf("plugin.toml describes [exports.%s] but the module has no handler %q", name, name)))
		}
	}
	if len(problems) > 0 {
		return ins, mod, wrap(errors.Join(problems...))
	}
	return ins, mod, nil
}

func (r *Runtime) load(ctx context.Context, src *source, lc LoadConfig) (lp *Plugin, lerr error) {
	if t := r.tel; t != nil {
		var end func(*Plugin, error)
		ctx, end = t.startLoad(ctx, src.manifest)
		defer func() { end(lp, lerr) }()
	}
	m := src.manifest
	if r.isClosed() {
		return nil, withKind(ErrClosed, fmt.Errorf("load plugin %q: %w", m.Plugin.Name, errRuntimeClosed))
	}
	ins, mod, err := r.check(src)
	if err != nil {
		return nil, err
	}
	lim := effectiveLimits(m.Limits, r.cfg, lc)
	ins.Limits = lim.public()
	wrap := func(step string, err error) error {
		return fmt.Errorf("load plugin %q: %s: %w", m.Plugin.Name, step, err)
	}
	// The engine enforces the limit as the memory grows, and reports each
	// refusal. See RATIONALE.md "How is the memory limit enforced?".
	if err := wasmbin.CheckMemory(mod, lim.memoryPages); err != nil {
		return nil, withKind(ErrModule, wrap("module "+m.Plugin.Module, err))
	}
	// The metering bounds table.grow by the same total (meterLimit).
	if err := wasmbin.CheckTables(mod, MaxTables, r.cfg.tableLimit()); err != nil {
		return nil, withKind(ErrModule, wrap("module "+m.Plugin.Module, err))
	}
	metered, how, err := r.prepare(src, ins)
	if err != nil {
		return nil, err
	}
	compiled, err := r.compile(ctx, metered, how)
	if err != nil {
		return nil, withKind(ErrModule, wrap("compile "+m.Plugin.Module, err))
	}
	if compiled, err = wrapPython(ctx, src, compiled, lim.output); err != nil {
		return nil, withKind(ErrModule, wrap("module "+m.Plugin.Module, err))
	}
	caps, err := capabilities.Resolve(m.Capabilities, lc.grants)
	if err != nil {
		return nil, errors.Join(withKind(ErrGrants, wrap("grants", err)), compiled.Close(ctx))
	}
	p := newPlugin(r, ins, compiled, lim, lc, caps)
	for _, w := range caps.MountWarnings() {
		p.logger.WarnContext(ctx, "overlapping mounts with different modes", slog.String("warning", w))
	}
	p.throws = mod.Tags > 0
	for _, d := range caps.Denied {
		kind, res, _ := strings.Cut(d, " ")
		p.audit(capabilities.Event{Kind: capabilities.Kind(kind), Resource: res, Op: "request", Rule: "requested in plugin.toml, not granted", Function: "load"})
	}
	if err := r.track(p); err != nil {
		return nil, errors.Join(withKind(ErrClosed, wrap("register", err)), compiled.Close(ctx))
	}
	// The first instance runs on-load now, so that a failing on-load fails
	// the load.
	inst, err := p.newInstance(ctx)
	if err != nil {
		r.untrack(p)
		return nil, errors.Join(withKind(instantiateKind(err), wrap("instantiate", err)), compiled.Close(ctx))
	}
	if err := p.pythonReady(inst); err != nil {
		r.untrack(p)
		return nil, errors.Join(withKind(ErrContract, wrap("handlers", err)), inst.unload(ctx), compiled.Close(ctx))
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
	lim := effectiveLimits(src.manifest.Limits, r.cfg, NewLoadConfig())
	if err := wasmbin.CheckMemory(mod, lim.memoryPages); err != nil {
		errs = append(errs, withKind(ErrModule, wrap("module "+src.manifest.Plugin.Module, err)))
	}
	if err := wasmbin.CheckTables(mod, MaxTables, r.cfg.tableLimit()); err != nil {
		errs = append(errs, withKind(ErrModule, wrap("module "+src.manifest.Plugin.Module, err)))
	}
	_, how, err := r.prepare(src, ins)
	if err != nil {
		return ins, errors.Join(append(errs, err)...) // not compiled: it could take minutes
	}
	compiled, cerr := r.compile(ctx, src.module, how)
	if cerr != nil {
		errs = append(errs, withKind(ErrModule, wrap("compile "+src.manifest.Plugin.Module, cerr)))
	} else {
		errs = append(errs, compiled.Close(ctx))
	}
	return ins, errors.Join(errs...)
}

// instrument adds fuel metering to a module, through the compilation
// cache when there is one, and returns the measures of its code.
func (r *Runtime) instrument(wasm []byte) ([]byte, meter.Stats, error) {
	if c, ok := r.cfg.cache.(*compilationCache); ok {
		return c.instrument(wasm)
	}
	return meter.InstrumentStats(wasm, meter.Options{})
}

// instantiateKind is the sentinel of a failure to create the first
// instance that matches none yet (guest errors, traps, timeouts already
// do): a granted host folder that cannot be opened is the grants', the
// rest (a data segment that does not fit, ...) the module's.
func instantiateKind(err error) error {
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return ErrGrants
	}
	return ErrModule
}

// Limits returns the limits the plugin runs with, and which of its
// manifest's limits were lowered, by what.
func (p *Plugin) Limits() Limits { return p.limits.public() }

// LoadBytes loads a plugin from memory, for embedders that keep no plugin
// folder: manifestTOML is its plugin.toml, module the module its
// [plugin].module names. It is checked as a folder is (the manifest's and
// the module's sizes, the manifest, the ABI contract, the capabilities, the
// limits) and fails with the same errors; the plugin gets no files of its
// own folder, so kind "python" is refused. The slices may be reused once
// LoadBytes returns.
func (r *Runtime) LoadBytes(ctx context.Context, manifestTOML, module []byte, lc LoadConfig) (*Plugin, error) {
	const where = "memory"
	if len(manifestTOML) > maxManifestSize {
		return nil, withKind(ErrManifest, fmt.Errorf("load plugin from %s: %w", where,
			&boundedfile.TooLargeError{Name: manifest.FileName, Size: int64(len(manifestTOML)), Max: maxManifestSize}))
	}
	m, err := manifest.Parse(manifest.FileName, manifestTOML)
	if err != nil {
		return nil, withKind(ErrManifest, fmt.Errorf("load plugin from %s: %w", where, err))
	}
	return r.loadMemory(ctx, m, module, lc)
}

// LoadManifest is LoadBytes with the manifest built in Go rather than
// parsed; it is validated as Parse validates a file (see
// manifest.Manifest.Validate). m must not be changed after the call.
func (r *Runtime) LoadManifest(ctx context.Context, m *manifest.Manifest, module []byte, lc LoadConfig) (*Plugin, error) {
	if m == nil {
		return nil, withKind(ErrManifest, errors.New("load plugin from memory: no manifest"))
	}
	if err := m.Validate(); err != nil {
		return nil, withKind(ErrManifest, fmt.Errorf("load plugin %q from memory: %w", m.Plugin.Name, err))
	}
	if m.Plugin.ABI == "" {
		mc := *m
		mc.Plugin.ABI = manifest.ABI
		m = &mc
	}
	return r.loadMemory(ctx, m, module, lc)
}

func (r *Runtime) loadMemory(ctx context.Context, m *manifest.Manifest, module []byte, lc LoadConfig) (*Plugin, error) {
	if m.Plugin.Kind == manifest.KindPython {
		return nil, withKind(ErrManifest, fmt.Errorf("load plugin %q from memory: kind %q loads from a folder or a package, with its script", m.Plugin.Name, m.Plugin.Kind))
	}
	if int64(len(module)) > r.cfg.maxModuleSize {
		return nil, withKind(ErrModule, fmt.Errorf("load plugin %q: module %s: %w", m.Plugin.Name, m.Plugin.Module,
			&boundedfile.TooLargeError{Name: m.Plugin.Module, Size: int64(len(module)), Max: r.cfg.maxModuleSize}))
	}
	return r.load(ctx, &source{where: "memory", manifest: m, module: slices.Clone(module)}, lc)
}
