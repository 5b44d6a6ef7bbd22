package runtime

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/internal/boundedfile"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// Plugins of kind "python" run on one interpreter module, CPython 3.11
// built for wasm32-wasi by adapters/python/build.sh. The runtime loads that
// module in place of the plugin's own (its script is not WebAssembly), so
// the ABI checks, metering, compilation (and its cache), limits and
// capabilities are those of every other plugin. What differs is kept in
// this file:
//
//   - the module: the interpreter, found in Config.WithPythonDir's folder;
//   - two more read-only mounts: the plugin's files at /plugin, the
//     standard library at /python;
//   - the handlers: declared by the script (vitte_plugin.export), so known
//     only once it is imported. The interpreter exports one dispatch entry,
//     _vitte_py_call(index, ptr, len); pythonInstance maps each handler name
//     to its index, so that the rest of the runtime calls Func(name) as for
//     any module. See RATIONALE.md "How does a Python plugin declare its
//     handlers?".

// Exports of the interpreter module (adapters/python/shim/vitte_python.c).
// Their names start with "_", so ABI v1 never takes them for handlers.
const (
	pyExportInit = "_vitte_py_init" // (entry_ptr, entry_len) -> result<list<u8>, string>
	pyExportCall = "_vitte_py_call" // (index, ptr, len) -> result<list<u8>, string>
)

// WithPythonDir sets the folder of the interpreter that runs plugins of
// kind "python" (python.wasm and lib/python311.zip, as
// adapters/python/build.sh writes them). The default is
// python.DefaultDir(): $VITTE_PYTHON_DIR, or the user cache dir under a
// key of the build script.
func (c Config) WithPythonDir(dir string) Config {
	c.pythonDir = dir
	return c
}

// PythonInspection is what the runtime knows of a Python plugin without
// running it.
type PythonInspection struct {
	// Entry is the script imported at load ([plugin].module).
	Entry string
	// ScriptSize and ScriptSHA256 describe the entry script.
	ScriptSize   int
	ScriptSHA256 [32]byte
	// Interpreter is the folder of the interpreter module.
	Interpreter string
	// Build is what the interpreter was built from (CPython version,
	// Debian source package), from its "vitte:python" custom section.
	Build python.Info
}

// pySource is the Python side of a source.
type pySource struct {
	entry  string
	script []byte
	libDir string
	// dir is the plugin folder, mounted at /plugin; pkg the package whose
	// files are copied to a private folder instead.
	dir string
	pkg *vitplug.Package
}

// preparePython turns the source of a Python plugin into that of its
// interpreter module: src.module becomes the interpreter, the script goes
// to src.python. It does nothing for other kinds, or when already done.
func (r *Runtime) preparePython(src *source) (*PythonInspection, error) {
	m := src.manifest
	if m.Plugin.Kind != manifest.KindPython {
		return nil, nil
	}
	wrap := func(err error) error { return fmt.Errorf("load plugin %q: %w", m.Plugin.Name, err) }
	if src.python == nil {
		dir := r.cfg.pythonDir
		if dir == "" {
			d, err := python.DefaultDir()
			if err != nil {
				return nil, wrap(err)
			}
			dir = d
		}
		modPath, err := python.Find(dir)
		if err != nil {
			return nil, wrap(fmt.Errorf("kind %q: %w", m.Plugin.Kind, err))
		}
		mod, err := boundedfile.Read(modPath, r.cfg.maxModuleSize)
		if err != nil {
			return nil, wrap(fmt.Errorf("python interpreter: %w", err))
		}
		var files string
		if src.dir != "" {
			if files, err = filepath.Abs(src.dir); err != nil {
				return nil, wrap(err)
			}
		}
		if dir, err = filepath.Abs(dir); err != nil {
			return nil, wrap(err)
		}
		src.python = &pySource{entry: m.Plugin.Module, script: src.module, libDir: filepath.Join(dir, python.LibDir), dir: files, pkg: src.pkg}
		src.module = mod
	}
	pi := &PythonInspection{
		Entry: src.python.entry, ScriptSize: len(src.python.script), ScriptSHA256: sha256.Sum256(src.python.script),
		Interpreter: filepath.Dir(src.python.libDir),
	}
	info, err := python.ModuleInfo(src.module)
	if err != nil {
		return pi, wrap(fmt.Errorf("python interpreter: %w", err))
	}
	pi.Build = info
	return pi, nil
}

// wrapPython wraps the compiled interpreter of a Python plugin so that its
// instances mount the plugin's files and the standard library, start the
// script on load and dispatch handlers by name. Other modules are
// returned as they are.
// On error, compiled is closed.
func wrapPython(ctx context.Context, src *source, compiled engine.Module, outputLimit uint64) (engine.Module, error) {
	ps := src.python
	if ps == nil {
		return compiled, nil
	}
	pm := &pythonModule{Module: compiled, entry: ps.entry, libDir: ps.libDir, files: ps.dir, limit: outputLimit}
	if ps.pkg != nil {
		dir, err := extractPackageFiles(ps.pkg, ps.entry)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("python: %w", err), compiled.Close(ctx))
		}
		pm.files, pm.tmp = dir, dir
	}
	return pm, nil
}

// extractPackageFiles copies a package's entry script and files/ to a new
// private folder, for the /plugin mount.
func extractPackageFiles(pkg *vitplug.Package, entry string) (string, error) {
	dir, err := os.MkdirTemp("", "vitte-py-")
	if err != nil {
		return "", fmt.Errorf("extract the package's files: %w", err)
	}
	for _, name := range pkg.Files() {
		if name != entry && !strings.HasPrefix(name, vitplug.FilesDir) {
			continue
		}
		b, _ := pkg.File(name)
		dst := filepath.Join(dir, filepath.FromSlash(path.Clean(name)))
		if !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			return "", errors.Join(fmt.Errorf("extract the package's files: %q leaves the folder", name), os.RemoveAll(dir))
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return "", errors.Join(fmt.Errorf("extract the package's files: %w", err), os.RemoveAll(dir))
		}
		if err := os.WriteFile(dst, b, 0o400); err != nil {
			return "", errors.Join(fmt.Errorf("extract the package's files: %w", err), os.RemoveAll(dir))
		}
	}
	return dir, nil
}

// pythonModule is the compiled interpreter of one Python plugin.
type pythonModule struct {
	engine.Module
	entry  string
	libDir string // mounted at /python
	files  string // mounted at /plugin
	tmp    string // a folder to remove on Close
	limit  uint64 // the plugin's output limit, for the handler list
}

// checkMounts refuses granted mounts that would hide the interpreter's.
func checkPythonMounts(ms []engine.Mount) error {
	for _, m := range ms {
		for _, own := range []string{python.GuestLib, python.GuestPlugin} {
			if m.Guest == own || strings.HasPrefix(own, m.Guest+"/") || strings.HasPrefix(m.Guest, own+"/") || m.Guest == "/" {
				return fmt.Errorf("python: the file system grant %s overlaps the interpreter's mount %s", m.Guest, own)
			}
		}
	}
	return nil
}

func (m *pythonModule) Instantiate(ctx context.Context, cfg engine.InstanceConfig) (engine.Instance, error) {
	if err := checkPythonMounts(cfg.Mounts); err != nil {
		return nil, err
	}
	cfg.Mounts = append(slices.Clip(cfg.Mounts),
		engine.Mount{Guest: python.GuestLib, Host: m.libDir, ReadOnly: true},
		engine.Mount{Guest: python.GuestPlugin, Host: m.files, ReadOnly: true})
	inst, err := m.Module.Instantiate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &pythonInstance{Instance: inst, m: m}, nil
}

func (m *pythonModule) Close(ctx context.Context) error {
	err := m.Module.Close(ctx)
	if m.tmp != "" {
		err = errors.Join(err, os.RemoveAll(m.tmp))
	}
	return err
}

// pythonInstance is an instance of the interpreter running one script.
// Func("on-load") starts the script; Func(handler) dispatches to it.
type pythonInstance struct {
	engine.Instance
	m        *pythonModule
	handlers []string // in the script's declaration order, after on-load
}

func (i *pythonInstance) Func(name string) engine.Func {
	switch {
	case name == abi.ExportOnLoad:
		return pyStart{i}
	case name == abi.ExportOnUnload || name == abi.ExportRealloc || name == abi.ExportInitialize ||
		strings.HasPrefix(name, "_") || strings.HasPrefix(name, "cabi_"):
		return i.Instance.Func(name)
	}
	// Resolved at the first call: the runtime looks its handlers up when
	// it creates the instance, before on-load has run the script.
	return &pyHandler{i: i, name: name, idx: -1}
}

// Realloc calls the interpreter's cabi_realloc (abi.Allocator), to pass
// the entry script's name.
func (i *pythonInstance) Realloc(ctx context.Context, oldPtr, oldSize, align, newSize uint32) (uint32, error) {
	stack := []uint64{uint64(oldPtr), uint64(oldSize), uint64(align), uint64(newSize)}
	if err := i.Instance.Func(abi.ExportRealloc).Call(ctx, stack); err != nil {
		return 0, err
	}
	return uint32(stack[0]), nil
}

// pyStart is the on-load of a Python plugin: _vitte_py_init(entry)
// initialises the interpreter, imports the script and runs its on_load,
// and answers the handler names. Its result has the layout of on-load's
// result<_, string>, which the runtime lifts as usual.
type pyStart struct{ i *pythonInstance }

func (s pyStart) Call(ctx context.Context, stack []uint64) error {
	i := s.i
	ptr, n, err := abi.Lower(ctx, i.Memory(), i, []byte(i.m.entry), 1)
	if err != nil {
		return fmt.Errorf("python: pass the entry script's name: %w", err)
	}
	st := []uint64{uint64(ptr), uint64(n)}
	if err := i.Instance.Func(pyExportInit).Call(ctx, st); err != nil {
		return err
	}
	res, err := abi.LiftResult(i.Memory(), uint32(st[0]), i.m.limit)
	if err != nil {
		return fmt.Errorf("%w: python: %s: %w", ErrContract, pyExportInit, err)
	}
	if !res.IsErr {
		names, err := parseHandlerNames(res.OK)
		if err != nil {
			return fmt.Errorf("%w: python: %w", ErrContract, err)
		}
		i.handlers = names
	}
	stack[0] = st[0]
	return nil
}

// parseHandlerNames splits the handler list of _vitte_py_init: names one
// per line, each a valid export name and not reserved, no duplicates.
func parseHandlerNames(b []byte) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	names := strings.Split(string(b), "\n")
	for k, n := range names {
		if n == "" || len(n) > 1024 || n == abi.ExportOnLoad || n == abi.ExportOnUnload || strings.HasPrefix(n, "_") || strings.HasPrefix(n, "cabi_") {
			return nil, fmt.Errorf("handler name %q is empty, too long or reserved", n)
		}
		if slices.Contains(names[:k], n) {
			return nil, fmt.Errorf("handler %q declared twice", n)
		}
	}
	return names, nil
}

// pyHandler calls the handler name through _vitte_py_call, by its index
// in the names this instance's script declared.
type pyHandler struct {
	i     *pythonInstance
	name  string
	idx   int // -1 until the first call
	call  engine.Func
	stack [3]uint64 // here, not on the Go stack: it would escape
}

func (h *pyHandler) Call(ctx context.Context, stack []uint64) error {
	if h.idx < 0 {
		h.idx = slices.Index(h.i.handlers, h.name)
		h.call = h.i.Instance.Func(pyExportCall)
	}
	if h.idx < 0 || h.call == nil {
		// A handler of the plugin that this instance's script did not
		// declare (its handlers depend on something that changed): the
		// call fails and the instance is discarded.
		return fmt.Errorf("%w: python: this instance of the script declared no handler %q", ErrContract, h.name)
	}
	h.stack = [3]uint64{uint64(h.idx), stack[0], stack[1]}
	if err := h.call.Call(ctx, h.stack[:]); err != nil {
		return err
	}
	stack[0] = h.stack[0]
	return nil
}

// pythonReady completes the load of a Python plugin once its first
// instance ran the script: the handlers it declared become the plugin's,
// and every [exports] entry of plugin.toml must be one of them.
func (p *Plugin) pythonReady(inst *instance) error {
	pi, ok := inst.inst.(*pythonInstance)
	if !ok {
		return nil
	}
	c := *p.ins.Contract
	c.Handlers = slices.Sorted(slices.Values(pi.handlers))
	p.ins.Contract = &c
	// What newPlugin and newInstance derived from the contract before the
	// script ran (the plugin is not published yet: no call runs).
	p.names = append([]string(nil), c.Handlers...)
	p.indexHandlers()
	inst.funcs = make([]engine.Func, len(c.Handlers))
	inst.posts = make([]engine.Func, len(c.Handlers))
	for k, name := range c.Handlers {
		inst.funcs[k] = inst.inst.Func(name)
	}
	var errs []error
	for name := range p.ins.Manifest.Exports {
		if !slices.Contains(c.Handlers, name) {
			errs = append(errs, fmt.Errorf("plugin.toml describes [exports.%s] but %s declares no handler %q (vitte_plugin.export)", name, p.ins.Python.Entry, name))
		}
	}
	return errors.Join(errs...)
}
