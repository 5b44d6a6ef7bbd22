package wazeroengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// The file system capability.
//
// Each mount of an instance is a rootFS: an experimentalsys.FS on top of an
// os.Root opened on the granted host directory, handed to wazero with
// sysfs.FSConfig.WithSysFSMount. Every operation goes through the os.Root,
// relative to it, so no path the guest can write reaches outside the
// directory: not an absolute path, not "..", not a symbolic link inside the
// directory that points out (os.Root refuses to follow it), not one the
// guest creates, not a hard link (both ends of os.Root.Link are resolved in
// the root), not a rename (likewise). wazero's own sysfs.DirFS joins paths
// to the host directory and lets the kernel follow symbolic links, so a
// link inside a mounted folder leads anywhere: it is not used.
//
// What the guest sees when it is refused: EACCES ("Permission denied" in
// wasi-libc's strerror and Go's syscall.Errno), for everything that reaches
// past the grant, as the manifest's "Grants" section asks (EACCES, ENOENT
// or ENOTCAPABLE; wazero's error set, experimentalsys.Errno, has no
// ENOTCAPABLE):
//
//   - a path that escapes its mount: "..", an absolute path, a symbolic link
//     pointing out (os.Root refuses to follow it), a symbolic link the guest
//     would create with an absolute target or one with ".." (see Symlink),
//     or would move, with such a target, to another directory;
//   - anything that would change a read-only mount: an open for writing,
//     creating, truncating or appending, and mkdir, rmdir, unlink, rename,
//     link, symlink, chmod, utimens, truncate, write.
//
// The denyFS at "/" (denyfs.go) answers EACCES too, and the wrapped WASI
// functions (wasifs.go) turn wazero's own EPERM for a lexical escape into
// EACCES, so the guest sees one errno whichever layer refused. The one
// exception is a rename or link between two granted mounts: EXDEV, since
// both sides are granted and the guest can copy instead. An EACCES the
// host's kernel answers (a file the host user cannot read) reaches the
// guest unchanged and is not audited: only the audit event tells the two
// apart.
//
// Each refusal also calls engine.InstanceConfig.Denied with the operation,
// the guest path and the rule, which the runtime records as an audit
// event. A path outside every mount reaches the denyFS mounted at "/"
// (denyfs.go), which refuses and reports it the same way. The refusals
// wazero makes before reaching any file system (a lexical "..", a rename
// or link between two mounts) are reported by the wrapped WASI functions
// (wasifs.go).

// mounts are the file systems of one instance. Its CloseNotify closes the
// roots, and forgets the instance in the engine's fsInstances, when wazero
// closes the instance.
type mounts struct {
	roots []*os.Root
	// names are the guest paths of the preopened directories, in
	// descriptor order from firstPreopen; closed marks those the guest
	// closed (see wrapFdClose).
	names  []string
	closed []atomic.Bool
	denied func(op, path, rule string)
	// call is the WASI path function in progress, for the mounts.
	call pathCall

	mu   sync.Mutex
	done bool
	reg  *fsInstances
	mod  api.Module
}

// openMounts opens the host directory of each mount as an os.Root and
// returns the wazero configuration that mounts them at their guest paths.
// With denyRoot, a denyFS is mounted at "/" after them, so that a path
// outside every mount reaches the host and is reported. With no mounts
// and no denyRoot it returns a nil config: the guest gets no preopened
// directory at all.
func openMounts(ms []engine.Mount, denied func(op, path, rule string), denyRoot bool) (wazero.FSConfig, *mounts, error) {
	if len(ms) == 0 && !denyRoot {
		return nil, nil, nil
	}
	set := &mounts{denied: denied}
	cfg := wazero.NewFSConfig()
	for _, m := range ms {
		fsys, err := newRootFS(m, denied)
		if err != nil {
			set.close()
			return nil, nil, err
		}
		fsys.call = &set.call
		set.roots = append(set.roots, fsys.root)
		// wazero replaces a mount at the same guest path, in place.
		if i := slices.Index(set.names, m.Guest); i >= 0 {
			set.names[i] = m.Guest
		} else {
			set.names = append(set.names, m.Guest)
		}
		cfg = cfg.(sysfs.FSConfig).WithSysFSMount(fsys, m.Guest)
	}
	if denyRoot {
		set.names = append(set.names, "/")
		cfg = cfg.(sysfs.FSConfig).WithSysFSMount(newDenyFS(denied, set.names[:len(set.names)-1]), "/")
	}
	set.closed = make([]atomic.Bool, len(set.names))
	return cfg, set, nil
}

// register makes the mounts those of mod for the wrapped WASI functions,
// until the instance closes.
func (s *mounts) register(reg *fsInstances, mod api.Module) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.reg, s.mod = reg, mod
	reg.m.Store(mod, s)
}

// CloseNotify implements experimental.CloseNotifier.
func (s *mounts) CloseNotify(context.Context, uint32) { s.close() }

func (s *mounts) close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	for _, r := range s.roots {
		_ = r.Close()
	}
	if s.reg != nil {
		s.reg.m.Delete(s.mod)
		s.reg, s.mod = nil, nil
	}
}

// rootFS is one mount: a host directory confined by an os.Root.
type rootFS struct {
	experimentalsys.UnimplementedFS
	root     *os.Root
	mount    string // the guest path, "/data"
	readOnly bool
	denied   func(op, path, rule string)
	// call is the WASI path function in progress, shared by the mounts
	// of one instance (see resolve).
	call *pathCall
}

// pathCall is what the wrapped WASI path function in progress
// (wrapPathFunc, wasifs.go) saw of its call before wazero cleaned its
// paths. An instance runs one WASI function at a time.
type pathCall struct {
	// raw are the paths as the guest sent them, in the order of the
	// function's path parameters (wasiPathFuncs).
	raw []string
	// follow: path_link with LOOKUP_SYMLINK_FOLLOW.
	follow bool
}

// maxLinks is how many symbolic links resolve follows in one path, as
// Linux's MAXSYMLINKS; past it, ELOOP.
const maxLinks = 40

func newRootFS(m engine.Mount, denied func(op, path, rule string)) (*rootFS, error) {
	if !path.IsAbs(m.Guest) || path.Clean(m.Guest) != m.Guest || m.Guest == "/" {
		return nil, fmt.Errorf("mount %q: guest path must be absolute, clean and not /", m.Guest)
	}
	if !filepath.IsAbs(m.Host) {
		return nil, fmt.Errorf("mount %s: host directory %q is not absolute", m.Guest, m.Host)
	}
	root, err := os.OpenRoot(m.Host)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", m.Guest, err)
	}
	if denied == nil {
		denied = func(string, string, string) {}
	}
	return &rootFS{root: root, mount: m.Guest, readOnly: m.ReadOnly, denied: denied, call: &pathCall{}}, nil
}

// guestPath is p, a path relative to the mount, as the guest named it.
func (r *rootFS) guestPath(p string) string {
	p = strings.TrimPrefix(p, "./")
	if p == "" || p == "." {
		return r.mount
	}
	return r.mount + "/" + p
}

// deny reports a refusal and returns errno.
func (r *rootFS) deny(op, p, rule string, errno experimentalsys.Errno) experimentalsys.Errno {
	r.denied(op, r.guestPath(p), rule)
	return errno
}

func (r *rootFS) denyReadOnly(op, p string) experimentalsys.Errno {
	return r.deny(op, p, "read-only mount "+r.mount, experimentalsys.EACCES)
}

func (r *rootFS) denyEscape(op, p string) experimentalsys.Errno {
	return r.deny(op, p, "path escapes mount "+r.mount, experimentalsys.EACCES)
}

// escapes reports whether p leaves the mount lexically: an absolute path or
// one whose ".." climb above it. wazero cleans and refuses those before
// calling a mount; this keeps the mount safe on its own. Symbolic links are
// os.Root's to refuse.
func escapes(p string) bool {
	c := path.Clean(p)
	return path.IsAbs(c) || filepath.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../")
}

// resolve returns the path the mount works on for p, the i-th path
// parameter of the WASI function in progress.
//
// wazero cleans a path lexically before calling a mount, so "sub/file/.."
// would reach it as "sub", and "sub/link/.." as "sub" whatever the link
// points to. When the guest's path has a "." or ".." after its first
// component, resolve walks it again, as the guest sent it, through the
// real tree, the way Linux resolves it: a ".." after a file is ENOTDIR,
// after a missing name ENOENT, after a symbolic link the parent of where
// the link leads. The result has no "." nor ".." and no link before its
// last component. The walk decides no access: os.Root resolves its result
// again, and refuses what leaves the root; a walk that climbs above the
// mount or follows a link pointing out is reported as an escape.
//
// With followFinal (path_link with LOOKUP_SYMLINK_FOLLOW) a final
// symbolic link is followed too.
func (r *rootFS) resolve(i int, op, p string, followFinal bool) (string, experimentalsys.Errno) {
	var raw string
	if i < len(r.call.raw) {
		raw = r.call.raw[i]
	}
	if !followFinal && !hasDots(raw) {
		return p, 0
	}
	full := p
	if raw != "" {
		// wazero hands a mount the cleaned path, after the name of the
		// directory it is relative to when that is not the mount's root.
		clean := path.Clean(raw)
		if strings.HasSuffix(raw, "/") {
			clean += "/"
		}
		if base, ok := strings.CutSuffix(p, clean); ok && (base == "" || strings.HasSuffix(base, "/")) {
			full = base + raw
		} else if !followFinal {
			return p, 0 // not the path the guest sent: leave it
		}
	}
	return r.walk(op, full, followFinal)
}

// hasDots reports whether p has a "." or ".." component after its first:
// one that wazero's cleaning removes along with what precedes it.
func hasDots(p string) bool {
	i := 0
	for c := range strings.SplitSeq(p, "/") {
		if c == ".." || c == "." && i > 0 {
			return true
		}
		if c != "" {
			i++
		}
	}
	return false
}

// walk resolves p in the root component by component (see resolve).
func (r *rootFS) walk(op, p string, followFinal bool) (string, experimentalsys.Errno) {
	parts := components(p)
	var dir []string // the components resolved so far: no link, no dot
	links := 0
	for len(parts) > 0 {
		c := parts[0]
		parts = parts[1:]
		last := len(parts) == 0
		switch {
		case c == ".":
			continue
		case c == "..":
			if len(dir) == 0 {
				return "", r.denyEscape(op, p)
			}
			dir = dir[:len(dir)-1]
			continue
		case last && !followFinal:
			dir = append(dir, c)
			continue
		}
		at := strings.Join(append(dir[:len(dir):len(dir)], c), "/")
		fi, err := r.root.Lstat(at)
		if err != nil {
			if last && errors.Is(err, fs.ErrNotExist) {
				dir = append(dir, c)
				continue
			}
			return "", r.errno(op, p, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return "", experimentalsys.ELOOP
			}
			target, err := r.root.Readlink(at)
			if err != nil {
				return "", r.errno(op, p, err)
			}
			target = filepath.ToSlash(target)
			if path.IsAbs(target) || filepath.IsAbs(target) || filepath.VolumeName(target) != "" {
				return "", r.denyEscape(op, p)
			}
			parts = append(components(target), parts...)
			continue
		}
		if !last && !fi.IsDir() {
			return "", experimentalsys.ENOTDIR
		}
		dir = append(dir, c)
	}
	out := strings.Join(dir, "/")
	if out == "" {
		out = "."
	}
	if strings.HasSuffix(p, "/") && out != "." {
		out += "/"
	}
	return out, 0
}

// components are the non-empty "/"-separated components of p.
func components(p string) []string {
	var parts []string
	for c := range strings.SplitSeq(p, "/") {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return parts
}

// errno maps an error of an os.Root method to an errno, reporting the
// escapes os.Root refused.
func (r *rootFS) errno(op, p string, err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	if isEscape(err) {
		return r.denyEscape(op, p)
	}
	return experimentalsys.UnwrapOSError(err)
}

// rootEscapeText is the text of os.Root's error for a path that leaves the
// root (os.errPathEscapes, unexported). TestRootFS_escapeText checks that it
// still matches.
const rootEscapeText = "path escapes from parent"

// isEscape reports whether err is os.Root refusing a path that leaves the
// root: a "..", an absolute path or a symbolic link pointing outside.
func isEscape(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(syscall.Errno); ok {
			return false
		}
		if e.Error() == rootEscapeText {
			return true
		}
	}
	return false
}

// writeFlags are the open flags that change a file.
const writeFlags = experimentalsys.O_WRONLY | experimentalsys.O_RDWR | experimentalsys.O_APPEND |
	experimentalsys.O_CREAT | experimentalsys.O_TRUNC

// OpenFile implements experimentalsys.FS.
func (r *rootFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if flag&writeFlags != 0 && r.readOnly {
		op := "write"
		if flag&experimentalsys.O_CREAT != 0 {
			op = "create"
		}
		return nil, r.denyReadOnly(op, p)
	}
	if escapes(p) {
		return nil, r.denyEscape("open", p)
	}
	p, errno := r.resolve(0, "open", p, false)
	if errno != 0 {
		return nil, errno
	}
	// os.Root follows a final symbolic link (inside the root) whatever the
	// flags: check for one when the guest asked not to follow it.
	if flag&experimentalsys.O_NOFOLLOW != 0 && flag&(experimentalsys.O_CREAT|experimentalsys.O_EXCL) != experimentalsys.O_CREAT|experimentalsys.O_EXCL {
		if fi, err := r.root.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, experimentalsys.ELOOP
		}
	}
	f, err := r.root.OpenFile(p, osOpenFlag(flag), perm)
	if err != nil {
		return nil, r.errno("open", p, err)
	}
	rf := &rootFile{fs: r, name: p, file: f, flag: flag}
	if flag&experimentalsys.O_DIRECTORY != 0 {
		if isDir, errno := rf.IsDir(); errno != 0 || !isDir {
			_ = f.Close()
			if errno == 0 {
				errno = experimentalsys.ENOTDIR
			}
			return nil, errno
		}
	}
	return rf, 0
}

// osOpenFlag converts the flags os.Root understands on every platform.
// O_DIRECTORY is checked after the open; O_NOFOLLOW before it; O_NONBLOCK,
// O_DSYNC and O_RSYNC are dropped (regular files and directories do not
// block).
func osOpenFlag(flag experimentalsys.Oflag) int {
	var f int
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		f = os.O_RDWR
	case experimentalsys.O_WRONLY:
		f = os.O_WRONLY
	default:
		f = os.O_RDONLY
	}
	if flag&experimentalsys.O_APPEND != 0 {
		f |= os.O_APPEND
	}
	if flag&experimentalsys.O_CREAT != 0 {
		f |= os.O_CREATE
	}
	if flag&experimentalsys.O_EXCL != 0 {
		f |= os.O_EXCL
	}
	if flag&experimentalsys.O_SYNC != 0 {
		f |= os.O_SYNC
	}
	if flag&experimentalsys.O_TRUNC != 0 {
		f |= os.O_TRUNC
	}
	return f
}

// Lstat implements experimentalsys.FS.
func (r *rootFS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	if escapes(p) {
		return sys.Stat_t{}, r.denyEscape("stat", p)
	}
	p, errno := r.resolve(0, "stat", p, false)
	if errno != 0 {
		return sys.Stat_t{}, errno
	}
	fi, err := r.root.Lstat(p)
	if err != nil {
		return sys.Stat_t{}, r.errno("stat", p, err)
	}
	return sys.NewStat_t(fi), 0
}

// Stat implements experimentalsys.FS.
func (r *rootFS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	if escapes(p) {
		return sys.Stat_t{}, r.denyEscape("stat", p)
	}
	p, errno := r.resolve(0, "stat", p, false)
	if errno != 0 {
		return sys.Stat_t{}, errno
	}
	fi, err := r.root.Stat(p)
	if err != nil {
		return sys.Stat_t{}, r.errno("stat", p, err)
	}
	return sys.NewStat_t(fi), 0
}

// Mkdir implements experimentalsys.FS.
func (r *rootFS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("mkdir", p)
	}
	if escapes(p) {
		return r.denyEscape("mkdir", p)
	}
	p, errno := r.resolve(0, "mkdir", p, false)
	if errno != 0 {
		return errno
	}
	errno = r.errno("mkdir", p, r.root.Mkdir(p, perm))
	if errno == experimentalsys.ENOTDIR {
		errno = experimentalsys.ENOENT // as wazero's DirFS
	}
	return errno
}

// Chmod implements experimentalsys.FS.
func (r *rootFS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("chmod", p)
	}
	if escapes(p) {
		return r.denyEscape("chmod", p)
	}
	p, errno := r.resolve(0, "chmod", p, false)
	if errno != 0 {
		return errno
	}
	return r.errno("chmod", p, r.root.Chmod(p, perm))
}

// Rename implements experimentalsys.FS. Both paths are in this mount:
// wazero refuses a rename between two mounts (ENOSYS, which wrapPathFunc
// reports and turns into EXDEV) before calling it.
func (r *rootFS) Rename(from, to string) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("rename", from)
	}
	for _, p := range []string{from, to} {
		if escapes(p) {
			return r.denyEscape("rename", p)
		}
	}
	from, errno := r.resolve(0, "rename", from, false)
	if errno != 0 {
		return errno
	}
	to, errno = r.resolve(1, "rename", to, false)
	if errno != 0 {
		return errno
	}
	if from == to {
		return 0
	}
	if rule := r.movesLink(from, to, false); rule != "" {
		return r.deny("rename", from, rule, experimentalsys.EACCES)
	}
	err := r.root.Rename(from, to)
	if err != nil && isEscape(err) {
		// Name the side that escapes: the source is resolved like Lstat
		// (rename does not follow a final link).
		if _, lerr := r.root.Lstat(from); lerr == nil || !isEscape(lerr) {
			return r.denyEscape("rename", to)
		}
	}
	return noENOSYS(r.errno("rename", from, err))
}

// noENOSYS keeps ENOSYS, which the wrapped path_rename and path_link take
// for wazero's "two file systems" (wasifs.go), out of Rename and Link.
func noENOSYS(errno experimentalsys.Errno) experimentalsys.Errno {
	if errno == experimentalsys.ENOSYS {
		return experimentalsys.ENOTSUP
	}
	return errno
}

// Rmdir implements experimentalsys.FS.
func (r *rootFS) Rmdir(p string) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("rmdir", p)
	}
	if escapes(p) {
		return r.denyEscape("rmdir", p)
	}
	p, errno := r.resolve(0, "rmdir", p, false)
	if errno != 0 {
		return errno
	}
	fi, err := r.root.Lstat(p)
	if err != nil {
		return r.errno("rmdir", p, err)
	}
	if !fi.IsDir() {
		return experimentalsys.ENOTDIR
	}
	return r.errno("rmdir", p, r.root.Remove(p))
}

// Unlink implements experimentalsys.FS.
func (r *rootFS) Unlink(p string) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("unlink", p)
	}
	if escapes(p) {
		return r.denyEscape("unlink", p)
	}
	p, errno := r.resolve(0, "unlink", p, false)
	if errno != 0 {
		return errno
	}
	fi, err := r.root.Lstat(p)
	if err != nil {
		return r.errno("unlink", p, err)
	}
	if fi.IsDir() {
		return experimentalsys.EISDIR
	}
	return r.errno("unlink", p, r.root.Remove(p))
}

// Link implements experimentalsys.FS. os.Root resolves both paths in the
// root and does not follow a final symbolic link in oldPath, so a hard link
// can only name a file already inside the mount. With path_link's
// LOOKUP_SYMLINK_FOLLOW (linkat's AT_SYMLINK_FOLLOW) a final link in
// oldPath is followed, in the root, first: a link pointing out is refused
// as any path escaping the mount; without it, a link is hard-linked
// itself, unless its target is one the guest could not create (movesLink):
// no new name for a link leading out.
func (r *rootFS) Link(oldPath, newPath string) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("link", newPath)
	}
	for _, p := range []string{oldPath, newPath} {
		if escapes(p) {
			return r.denyEscape("link", p)
		}
	}
	oldPath, errno := r.resolve(0, "link", oldPath, r.call.follow)
	if errno != 0 {
		return errno
	}
	newPath, errno = r.resolve(1, "link", newPath, false)
	if errno != 0 {
		return errno
	}
	if rule := r.movesLink(oldPath, newPath, true); rule != "" {
		return r.deny("link", oldPath, rule, experimentalsys.EACCES)
	}
	err := r.root.Link(oldPath, newPath)
	if err != nil && isEscape(err) {
		if _, lerr := r.root.Lstat(oldPath); lerr != nil && isEscape(lerr) {
			return r.denyEscape("link", oldPath)
		}
		return r.denyEscape("link", newPath)
	}
	return noENOSYS(r.errno("link", newPath, err))
}

// Symlink implements experimentalsys.FS. os.Root would create any link and
// refuse to follow an escaping one later; the mount refuses to create it,
// so that no link leading out of the granted directory is left there for
// other host programs to follow. A target is refused when it is absolute
// or has a ".." component anywhere (see targetRule): where a ".." leads
// depends on the tree around the link, which the guest can change after
// the check (rename the directory holding the link, replace a link the
// target goes through), so no check of the target against today's tree
// would keep it inside tomorrow. A target without ".." only ever descends
// from the link's directory, through links that themselves descend.
func (r *rootFS) Symlink(target, link string) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("symlink", link)
	}
	if escapes(link) {
		return r.denyEscape("symlink", link)
	}
	if target == "" {
		return experimentalsys.EINVAL
	}
	link, errno := r.resolve(0, "symlink", link, false)
	if errno != 0 {
		return errno
	}
	if rule := r.targetRule(target, link); rule != "" {
		return r.deny("symlink", link, rule, experimentalsys.EACCES)
	}
	return r.errno("symlink", link, r.root.Symlink(target, link))
}

// targetRule is the rule refusing a symbolic link at link to target in
// this mount, or "" for a target the guest may create: relative, without
// "..". A target leaving the mount even lexically "escapes" it.
func (r *rootFS) targetRule(target, link string) string {
	if path.IsAbs(target) || filepath.IsAbs(target) || filepath.VolumeName(target) != "" ||
		escapes(path.Join(path.Dir(link), filepath.ToSlash(target))) {
		return "symlink target escapes mount " + r.mount
	}
	for c := range strings.FieldsFuncSeq(target, isSeparator) {
		if c == ".." {
			return "symlink target has .. in mount " + r.mount
		}
	}
	return ""
}

// isSeparator reports whether c separates the components of a link target
// on this host ("/", and "\\" on Windows).
func isSeparator(c rune) bool { return c == '/' || c == filepath.Separator }

// movesLink reports the rule refusing to rename (or, with link, to
// hard-link) the entry at from to to: a symbolic link whose target the
// guest could not create (absolute, or with ".."). A hard link is a new
// name for such a link, wherever it is; a rename into another directory
// makes its target lead somewhere else. Renamed within its directory, a
// link keeps its meaning.
func (r *rootFS) movesLink(from, to string, link bool) string {
	if !link && path.Dir(path.Clean(from)) == path.Dir(path.Clean(to)) {
		return ""
	}
	fi, err := r.root.Lstat(from)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return ""
	}
	target, err := r.root.Readlink(from)
	if err != nil {
		return ""
	}
	return r.targetRule(target, to)
}

// Readlink implements experimentalsys.FS.
func (r *rootFS) Readlink(p string) (string, experimentalsys.Errno) {
	if escapes(p) {
		return "", r.denyEscape("readlink", p)
	}
	p, errno := r.resolve(0, "readlink", p, false)
	if errno != 0 {
		return "", errno
	}
	dst, err := r.root.Readlink(p)
	if err != nil {
		return "", r.errno("readlink", p, err)
	}
	return filepath.ToSlash(dst), 0
}

// Utimens implements experimentalsys.FS.
func (r *rootFS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	if r.readOnly {
		return r.denyReadOnly("utimens", p)
	}
	if escapes(p) {
		return r.denyEscape("utimens", p)
	}
	p, errno := r.resolve(0, "utimens", p, false)
	if errno != 0 {
		return errno
	}
	return r.errno("utimens", p, r.root.Chtimes(p, toTime(atim), toTime(mtim)))
}

// toTime converts a WASI timestamp; UTIME_OMIT becomes the zero time, which
// os.Root.Chtimes leaves unchanged.
func toTime(ns int64) time.Time {
	if ns == experimentalsys.UTIME_OMIT {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// rootFile is a file or directory opened in a rootFS.
type rootFile struct {
	fs     *rootFS
	name   string // relative to the root, as opened
	file   *os.File
	flag   experimentalsys.Oflag
	closed bool
	st     *cachedStat
}

// cachedStat holds what does not change while a file is open.
type cachedStat struct {
	dev   uint64
	ino   sys.Inode
	isDir bool
}

func (f *rootFile) cached() (*cachedStat, experimentalsys.Errno) {
	if f.st == nil {
		if _, errno := f.Stat(); errno != 0 {
			return nil, errno
		}
	}
	return f.st, 0
}

// Dev implements experimentalsys.File.
func (f *rootFile) Dev() (uint64, experimentalsys.Errno) {
	st, errno := f.cached()
	if errno != 0 {
		return 0, errno
	}
	return st.dev, 0
}

// Ino implements experimentalsys.File.
func (f *rootFile) Ino() (sys.Inode, experimentalsys.Errno) {
	st, errno := f.cached()
	if errno != 0 {
		return 0, errno
	}
	return st.ino, 0
}

// IsDir implements experimentalsys.File.
func (f *rootFile) IsDir() (bool, experimentalsys.Errno) {
	st, errno := f.cached()
	if errno != 0 {
		return false, errno
	}
	return st.isDir, 0
}

// IsAppend implements experimentalsys.File.
func (f *rootFile) IsAppend() bool { return f.flag&experimentalsys.O_APPEND != 0 }

// SetAppend implements experimentalsys.File. The append mode of an open
// file cannot change, so the file is opened again, through the root, and
// must still be the same file.
func (f *rootFile) SetAppend(enable bool) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if enable == f.IsAppend() {
		return 0
	}
	if isDir, errno := f.IsDir(); errno != 0 {
		return errno
	} else if isDir {
		return experimentalsys.EISDIR
	}
	flag := f.flag &^ (experimentalsys.O_CREAT | experimentalsys.O_TRUNC | experimentalsys.O_EXCL | experimentalsys.O_APPEND)
	if enable {
		if f.fs.readOnly {
			return f.fs.denyReadOnly("write", f.name)
		}
		flag |= experimentalsys.O_APPEND
	}
	off, err := f.file.Seek(0, io.SeekCurrent)
	if err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	nf, err := f.fs.root.OpenFile(f.name, osOpenFlag(flag), 0)
	if err != nil {
		return f.fs.errno("open", f.name, err)
	}
	fi1, err1 := f.file.Stat()
	fi2, err2 := nf.Stat()
	if err1 != nil || err2 != nil || !os.SameFile(fi1, fi2) {
		_ = nf.Close()
		return experimentalsys.ENOENT // renamed or replaced since it was opened
	}
	if _, err := nf.Seek(off, io.SeekStart); err != nil {
		_ = nf.Close()
		return experimentalsys.UnwrapOSError(err)
	}
	_ = f.file.Close()
	f.file, f.flag = nf, flag
	return 0
}

// Stat implements experimentalsys.File.
func (f *rootFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	if f.closed {
		return sys.Stat_t{}, experimentalsys.EBADF
	}
	fi, err := f.file.Stat()
	if err != nil {
		return sys.Stat_t{}, experimentalsys.UnwrapOSError(err)
	}
	st := sys.NewStat_t(fi)
	f.st = &cachedStat{dev: st.Dev, ino: st.Ino, isDir: fi.IsDir()}
	return st, 0
}

// fileErr turns an errno from an operation on a file into what WASI
// expects on a closed file or a directory.
func (f *rootFile) fileErr(errno experimentalsys.Errno) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if isDir, e := f.IsDir(); e == 0 && isDir {
		return experimentalsys.EISDIR
	}
	return errno
}

// Read implements experimentalsys.File.
func (f *rootFile) Read(buf []byte) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.file.Read(buf)
	if errno := experimentalsys.UnwrapOSError(err); errno != 0 {
		return n, f.fileErr(errno)
	}
	return n, 0
}

// Pread implements experimentalsys.File.
func (f *rootFile) Pread(buf []byte, off int64) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.file.ReadAt(buf, off)
	if errno := experimentalsys.UnwrapOSError(err); errno != 0 {
		return n, f.fileErr(errno)
	}
	return n, 0
}

// fileOffset is int64. Seek's parameter has this name so that go vet's
// stdmethods check, which wants io.Seeker's (int64, int) (int64, error),
// leaves alone a method that must have wazero's signature instead.
type fileOffset = int64

// Seek implements experimentalsys.File. On a directory, seeking to 0
// rewinds it (os.File drops its read buffer).
func (f *rootFile) Seek(offset fileOffset, whence int) (int64, experimentalsys.Errno) {
	if f.closed {
		return 0, experimentalsys.EBADF
	}
	if uint(whence) > io.SeekEnd {
		return 0, experimentalsys.EINVAL
	}
	isDir, errno := f.IsDir()
	if errno != 0 {
		return 0, errno
	}
	if isDir && (offset != 0 || whence != io.SeekStart) {
		return 0, experimentalsys.EISDIR
	}
	n, err := f.file.Seek(offset, whence)
	return n, experimentalsys.UnwrapOSError(err)
}

// Readdir implements experimentalsys.File. os.File.Readdir stats each entry
// relative to the directory's descriptor (fstatat) for a file opened in a
// Root, never by host path.
func (f *rootFile) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if f.closed {
		return nil, experimentalsys.EBADF
	}
	if isDir, errno := f.IsDir(); errno != 0 {
		return nil, errno
	} else if !isDir {
		return nil, experimentalsys.EBADF
	}
	fis, err := f.file.Readdir(n)
	if errno := experimentalsys.UnwrapOSError(err); errno != 0 {
		if errno == experimentalsys.EINVAL || errno == experimentalsys.ENOTDIR {
			errno = experimentalsys.EBADF
		}
		return nil, errno
	}
	dirents := make([]experimentalsys.Dirent, 0, len(fis))
	for _, fi := range fis {
		dirents = append(dirents, experimentalsys.Dirent{Name: fi.Name(), Ino: sys.NewStat_t(fi).Ino, Type: fi.Mode().Type()})
	}
	return dirents, 0
}

// Write implements experimentalsys.File.
func (f *rootFile) Write(buf []byte) (int, experimentalsys.Errno) {
	if f.fs.readOnly {
		return 0, f.fs.denyReadOnly("write", f.name)
	}
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.file.Write(buf)
	if errno := experimentalsys.UnwrapOSError(err); errno != 0 {
		return n, f.fileErr(errno)
	}
	return n, 0
}

// Pwrite implements experimentalsys.File.
func (f *rootFile) Pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	if f.fs.readOnly {
		return 0, f.fs.denyReadOnly("write", f.name)
	}
	if len(buf) == 0 {
		return 0, 0
	}
	n, err := f.file.WriteAt(buf, off)
	if errno := experimentalsys.UnwrapOSError(err); errno != 0 {
		return n, f.fileErr(errno)
	}
	return n, 0
}

// Truncate implements experimentalsys.File.
func (f *rootFile) Truncate(size int64) experimentalsys.Errno {
	if f.fs.readOnly {
		return f.fs.denyReadOnly("truncate", f.name)
	}
	if size < 0 {
		return experimentalsys.EINVAL
	}
	if errno := experimentalsys.UnwrapOSError(f.file.Truncate(size)); errno != 0 {
		return f.fileErr(errno)
	}
	return 0
}

// Sync implements experimentalsys.File.
func (f *rootFile) Sync() experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return experimentalsys.UnwrapOSError(f.file.Sync())
}

// Datasync implements experimentalsys.File.
func (f *rootFile) Datasync() experimentalsys.Errno { return f.Sync() }

// Utimens implements experimentalsys.File. os.File cannot set times, so
// they are set through the root by the name the file was opened with.
func (f *rootFile) Utimens(atim, mtim int64) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return f.fs.Utimens(f.name, atim, mtim)
}

// Close implements experimentalsys.File.
func (f *rootFile) Close() experimentalsys.Errno {
	if f.closed {
		return 0
	}
	f.closed = true
	return experimentalsys.UnwrapOSError(f.file.Close())
}

// Interface guards
var (
	_ experimentalsys.FS   = (*rootFS)(nil)
	_ experimentalsys.File = (*rootFile)(nil)
)
