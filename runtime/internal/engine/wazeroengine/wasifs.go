package wazeroengine

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The WASI module, with the refusals wazero makes itself reported, and
// answered EACCES like the mounts' own (rootfs.go).
//
// wazero refuses two kinds of path operations before they reach a mount
// (imports/wasi_snapshot_preview1/fs.go):
//
//   - atPath cleans each path and answers EPERM when it is absolute or
//     climbs above the directory it is relative to ("../secret"), before
//     it looks at the descriptor;
//   - path_rename and path_link answer ENOSYS when the two paths are on
//     two different file systems (two mounts, or a mount and the denyFS).
//
// The module is built from wazero's own functions (their definitions in
// the compiled wasi_snapshot_preview1 module carry the Go implementation);
// the path functions are wrapped: each calls wazero's function first,
// unchanged, and only when it failed with one of those errnos looks at the
// paths, in guest memory (bounds-checked by api.Memory.Read), to tell
// whether wazero refused it there, the way wazero decides it:
//
//   - EPERM and a path that path.Clean + fs.ValidPath refuses, taken in the
//     order wazero checks them: atPath refused it before any file system was
//     called, so nothing was reported yet: report it, and answer EACCES.
//     Only that EPERM is remapped. Before atPath, the path functions
//     answer only EINVAL or EFAULT, or (path_symlink) what IsDir of the
//     directory answers, which for our files is never EPERM (a cached
//     fstat; the denyFS root's is constant); for two paths, wazero
//     returns on the first atPath that fails, so a path is looked at only
//     when the ones before it are lexically valid, as they were for
//     wazero. An EPERM with lexically valid paths did not come from atPath:
//     our file systems answer EACCES for every refusal of theirs, so it is
//     the host kernel's (say unlink in a sticky directory, or chmod of a
//     file the host user does not own), is not a refusal of the grant, was
//     not reported, and reaches the guest unchanged.
//   - ENOSYS from path_rename or path_link: neither rootFS nor denyFS ever
//     answers ENOSYS to Rename or Link, so it is wazero's "not the same
//     file system". The errno becomes EXDEV ("Cross-device link", what
//     rename(2) says for the same thing) between two mounts, which is not a
//     refusal past the grant (both sides are granted; the guest can copy),
//     or EACCES when one side is outside every mount, and the refusal is
//     reported.
//
// After the call, the decision to refuse stays wazero's (or the mount's); a
// wrapper only changes the errno of a refusal, never turns a refusal into
// a success, nor a success into a refusal.
//
// Before the call, a wrapper refuses what no mount can name the same way in
// every function (invalidPath: a NUL byte, invalid UTF-8), and keeps the
// paths as the guest sent them, with path_link's LOOKUP_SYMLINK_FOLLOW,
// for the mounts (pathCall, rootFS.resolve): wazero cleans "." and ".."
// lexically and ignores that flag. fd_prestat_get and fd_prestat_dir_name
// are wrapped to answer EBADF for stdin, stdout and stderr (wrapPrestat).
//
// To name the path in the report, an instance's preopened directories are
// known by descriptor (3, 4, ... in mount order, then the denyFS); fd_close
// is wrapped to forget one the guest closes. A path relative to any other
// directory descriptor (openat on an opened directory) is reported as
// "(fd N)/path".

// WASI errno values (WASI preview 1, wasi_snapshot_preview1.witx).
const (
	wasiEACCES = 2
	wasiEBADF  = 8
	wasiEILSEQ = 25
	wasiEINVAL = 28
	wasiENOSYS = 52
	wasiEPERM  = 63
	wasiEXDEV  = 75
)

// wasiLookupSymlinkFollow is the lookupflags bit of path_link's old_flags
// (and of the dirflags of the other path functions): follow a final
// symbolic link.
const wasiLookupSymlinkFollow = 1

// pathArg are the indices, among a function's parameters, of a directory
// descriptor and of the address and length of a path relative to it.
type pathArg struct{ fd, ptr, len int }

// wasiPathFunc describes a wrapped WASI function.
type wasiPathFunc struct {
	op string
	// paths are checked by wazero in this order.
	paths []pathArg
	// twoFS: ENOSYS means the paths are on two file systems.
	twoFS bool
	// target is a path that is not resolved (path_symlink's target): it
	// is only checked by invalidPath.
	target []pathArg
	// follow is the index of path_link's old_flags, which wazero ignores
	// (rootFS.Link honours it), or -1.
	follow int
}

// arg is the i-th of the paths, then of the targets.
func (pf *wasiPathFunc) arg(i int) pathArg {
	if i < len(pf.paths) {
		return pf.paths[i]
	}
	return pf.target[i-len(pf.paths)]
}

// wasiPathFuncs are the WASI functions that resolve a path with atPath.
// TestWASIPathFuncs checks the indices against wazero's parameter names.
var wasiPathFuncs = map[string]wasiPathFunc{
	"path_create_directory":   {op: "mkdir", paths: []pathArg{{0, 1, 2}}, follow: -1},
	"path_filestat_get":       {op: "stat", paths: []pathArg{{0, 2, 3}}, follow: -1},
	"path_filestat_set_times": {op: "utimens", paths: []pathArg{{0, 2, 3}}, follow: -1},
	"path_link":               {op: "link", paths: []pathArg{{0, 2, 3}, {4, 5, 6}}, twoFS: true, follow: 1},
	"path_open":               {op: "open", paths: []pathArg{{0, 2, 3}}, follow: -1},
	"path_readlink":           {op: "readlink", paths: []pathArg{{0, 1, 2}}, follow: -1},
	"path_remove_directory":   {op: "rmdir", paths: []pathArg{{0, 1, 2}}, follow: -1},
	"path_rename":             {op: "rename", paths: []pathArg{{0, 1, 2}, {3, 4, 5}}, twoFS: true, follow: -1},
	// The target is not resolved; the link path is.
	"path_symlink":     {op: "symlink", paths: []pathArg{{2, 3, 4}}, target: []pathArg{{2, 0, 1}}, follow: -1},
	"path_unlink_file": {op: "unlink", paths: []pathArg{{0, 1, 2}}, follow: -1},
}

// fsInstances finds the mounts of the instance calling a WASI function.
type fsInstances struct{ m sync.Map } // api.Module -> *mounts

func (r *fsInstances) lookup(mod api.Module) *mounts {
	if v, ok := r.m.Load(mod); ok {
		return v.(*mounts)
	}
	return nil
}

// newWASI compiles wazero's wasi_snapshot_preview1 module and builds, from
// its functions, the one instantiated in rt, with the path functions and
// fd_close wrapped, and every function metered (hostwork.go). It returns the compiled module of the functions
// exported.
func newWASI(ctx context.Context, rt wazero.Runtime, reg *fsInstances, work *workInstances) (wazero.CompiledModule, error) {
	orig, err := wasi_snapshot_preview1.NewBuilder(rt).Compile(ctx)
	if err != nil {
		return nil, err
	}
	defer orig.Close(ctx)
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	for name, def := range orig.ExportedFunctions() {
		fn, ok := def.GoFunction().(api.GoModuleFunction)
		if !ok {
			return nil, fmt.Errorf("WASI function %s: no Go implementation", name)
		}
		if pf, ok := wasiPathFuncs[name]; ok {
			fn = wrapPathFunc(fn, pf, reg)
		} else if name == "fd_close" {
			fn = wrapFdClose(fn, reg)
		} else if name == "fd_prestat_get" || name == "fd_prestat_dir_name" {
			fn = wrapPrestat(fn)
		}
		fn = wrapWork(name, fn, work) // outermost: charged before anything is done
		b.NewFunctionBuilder().
			WithGoModuleFunction(fn, def.ParamTypes(), def.ResultTypes()).
			WithName(name).
			WithParameterNames(def.ParamNames()...).
			WithResultNames(def.ResultNames()...).
			Export(name)
	}
	cm, err := b.Compile(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig()); err != nil {
		return nil, err
	}
	return cm, nil
}

// lexicallyRefused is wazero's atPath test: a path that, cleaned, is
// absolute or climbs above its directory.
func lexicallyRefused(p string) bool { return !fs.ValidPath(path.Clean(p)) }

func wrapPathFunc(orig api.GoModuleFunction, pf wasiPathFunc, reg *fsInstances) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		// wazero writes the errno over the first parameter.
		var params [9]uint64
		copy(params[:], stack)
		// s is nil only before the instance is registered (a start
		// section calling WASI) or after it closed: a refusal is still
		// one, answered EACCES, but cannot be named nor reported.
		s := reg.lookup(mod)
		// The paths as the guest sent them, before wazero cleans them;
		// reading stops at the first one out of bounds, for which wazero
		// answers EFAULT.
		var raw []string
		if mem := mod.Memory(); mem != nil {
			for i := range len(pf.paths) + len(pf.target) {
				a := pf.arg(i)
				b, ok := mem.Read(uint32(params[a.ptr]), uint32(params[a.len]))
				if !ok {
					break
				}
				p := string(b)
				if rule, errno := invalidPath(p); errno != 0 {
					stack[0] = errno
					if s != nil {
						if len(raw) == len(pf.paths) {
							// path_symlink's target: name the link.
							rule, p = "symlink target: "+rule, raw[0]
						}
						s.report(pf.op, s.guestPath(int32(params[a.fd]), printable(p)), rule)
					}
					return
				}
				raw = append(raw, p)
			}
			raw = raw[:min(len(raw), len(pf.paths))]
		}
		if s != nil {
			s.call = pathCall{raw: raw, follow: pf.follow >= 0 && uint32(params[pf.follow])&wasiLookupSymlinkFollow != 0}
			defer func() { s.call = pathCall{} }()
		}
		orig.Call(ctx, mod, stack)
		switch stack[0] {
		case wasiEPERM:
		case wasiENOSYS:
			if !pf.twoFS {
				return
			}
		default:
			return
		}
		paths := make([]string, 0, len(pf.paths))
		for i, a := range pf.paths {
			if i >= len(raw) {
				return // wazero answered EFAULT for this one
			}
			p := raw[i]
			if stack[0] == wasiEPERM && lexicallyRefused(p) {
				// atPath's EPERM: a path past its directory.
				stack[0] = wasiEACCES
				if s == nil {
					return
				}
				fd := int32(params[a.fd])
				rule := "path escapes its directory"
				if name, ok := s.preopen(fd); ok {
					if name == "/" {
						rule = ruleOutside
					} else {
						rule = "path escapes mount " + name
					}
				}
				s.report(pf.op, s.guestPath(fd, p), rule)
				return
			}
			paths = append(paths, p)
		}
		if stack[0] != wasiENOSYS || len(paths) != 2 || s == nil {
			// An EPERM with valid paths is not ours (see above); an
			// ENOSYS with no mounts known is left as wazero answered.
			return
		}
		oldFD, newFD := int32(params[pf.paths[0].fd]), int32(params[pf.paths[1].fd])
		oldName, _ := s.preopen(oldFD)
		newName, _ := s.preopen(newFD)
		switch {
		case newName == "/":
			p := s.guestPath(newFD, paths[1])
			s.report(pf.op, p, outsideRule(s.names, p))
			stack[0] = wasiEACCES
		case oldName == "/":
			p := s.guestPath(oldFD, paths[0])
			s.report(pf.op, p, outsideRule(s.names, p))
			stack[0] = wasiEACCES
		default:
			s.report(pf.op, s.guestPath(oldFD, paths[0]),
				"across mounts "+s.dirName(oldFD)+" and "+s.dirName(newFD))
			stack[0] = wasiEXDEV
		}
	})
}

// invalidPath is the rule and errno refusing a path no mount can name: one
// with a NUL byte (EINVAL, as Linux's system calls, which end a path at
// its first NUL, and wasmtime's WASI), or not UTF-8 (EILSEQ, as
// wasmtime's WASI, which takes paths as strings). wazero would answer
// ENOENT, EINVAL or EPERM depending on the file system; refused here
// first, every path function answers the same.
func invalidPath(p string) (string, uint64) {
	switch {
	case strings.IndexByte(p, 0) >= 0:
		return "path has a NUL byte", wasiEINVAL
	case !utf8.ValidString(p):
		return "path is not valid UTF-8", wasiEILSEQ
	}
	return "", 0
}

// printable is p with the bytes an audit record cannot show escaped.
func printable(p string) string {
	q := strconv.Quote(p)
	return q[1 : len(q)-1]
}

// wrapPrestat makes fd_prestat_get and fd_prestat_dir_name answer EBADF
// for stdin, stdout and stderr, which are no preopened directories: wazero
// marks them preopened and answers them with an empty name, which a guest
// scanning its preopens from 0 would take for a directory.
func wrapPrestat(orig api.GoModuleFunction) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		if fd := int32(stack[0]); fd >= 0 && fd < firstPreopen {
			stack[0] = wasiEBADF
			return
		}
		orig.Call(ctx, mod, stack)
	})
}

func wrapFdClose(orig api.GoModuleFunction, reg *fsInstances) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		fd := int32(stack[0])
		orig.Call(ctx, mod, stack)
		if stack[0] == 0 && fd >= firstPreopen {
			if s := reg.lookup(mod); s != nil {
				s.closePreopen(fd)
			}
		}
	})
}

// firstPreopen is the descriptor of the first preopened directory, after
// stdin, stdout and stderr.
const firstPreopen = 3

// preopen returns the guest path of the preopened directory fd, unless the
// guest closed it.
func (s *mounts) preopen(fd int32) (string, bool) {
	i := int(fd) - firstPreopen
	if i < 0 || i >= len(s.names) || s.closed[i].Load() {
		return "", false
	}
	return s.names[i], true
}

func (s *mounts) closePreopen(fd int32) {
	if i := int(fd) - firstPreopen; i >= 0 && i < len(s.names) {
		s.closed[i].Store(true)
	}
}

// dirName names the directory of fd: its guest path for a preopened one.
func (s *mounts) dirName(fd int32) string {
	if name, ok := s.preopen(fd); ok {
		return name
	}
	return fmt.Sprintf("(fd %d)", fd)
}

// guestPath is p, relative to the directory fd, as the guest sent it.
func (s *mounts) guestPath(fd int32, p string) string {
	dir := s.dirName(fd)
	p = strings.TrimPrefix(p, "./")
	switch {
	case p == "" || p == ".":
		return dir
	case dir == "/":
		return "/" + p
	}
	return dir + "/" + p
}

func (s *mounts) report(op, p, rule string) {
	if s.denied != nil {
		s.denied(op, p, rule)
	}
}

// fsImports reports whether a module imports a WASI function that takes a
// path, or lists a directory: only then can the guest reach for a file, and
// only then is the denyFS mounted.
func fsImports(cm wazero.CompiledModule) bool {
	for _, def := range cm.ImportedFunctions() {
		module, name, _ := def.Import()
		if module != wasi_snapshot_preview1.ModuleName {
			continue
		}
		if _, ok := wasiPathFuncs[name]; ok || name == "fd_readdir" {
			return true
		}
	}
	return false
}
