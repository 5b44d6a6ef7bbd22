package wazeroengine

import (
	"io"
	"io/fs"
	"slices"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// ruleOutside is the rule of a refusal of a path under no granted mount.
const ruleOutside = "outside every granted mount"

// outsideRule is the rule refusing guestPath, an absolute path the denyFS
// at "/" was asked for: ruleOutside, unless it is under one of the granted
// mounts (a guest naming /data/x relative to "/" instead of /data's own
// descriptor, which wasi-libc and Go never do). That one is refused too:
// a mount is reached only through its own preopened descriptor, so that
// one os.Root and its mode decide every access to it.
func outsideRule(mounts []string, guestPath string) string {
	under := ""
	for _, m := range mounts {
		if m != "/" && len(m) > len(under) && (guestPath == m || strings.HasPrefix(guestPath, m+"/")) {
			under = m
		}
	}
	if under == "" {
		return ruleOutside
	}
	return "under mount " + under + ", named through the / preopen"
}

// denyFS is mounted at the guest's "/", under the granted mounts, when the
// guest can name paths at all (see fsImports). Without it a path outside
// every mount never reaches the host: wasi-libc finds no preopened
// directory for it and fails in the guest (ENOTCAPABLE), Go's syscall
// package sends it with the descriptor -1 (wazero: EBADF). With it, the
// guest's longest-prefix match (wasi-libc's __wasilibc_find_relpath, Go's
// syscall.preparePath) still sends /data/... to the /data mount and
// everything else here, where it is refused with EACCES and reported.
//
// The only thing that succeeds is opening its root "." for reading: wazero
// opens it itself (lazily, for fd_prestat_get, which both wasi-libc and Go
// call at start-up) and would panic on an error other than ENOENT, and
// ENOENT would make fd_prestat_get fail with EBADF, which ends the guest's
// scan of its preopened directories. The directory is empty, and listing
// it is refused (and reported) too: the guest cannot tell which host it
// runs on, nor anything else.
type denyFS struct {
	experimentalsys.UnimplementedFS
	denied func(op, path, rule string)
	mounts []string // the guest paths of the granted mounts
}

func newDenyFS(denied func(op, path, rule string), mounts []string) *denyFS {
	if denied == nil {
		denied = func(string, string, string) {}
	}
	return &denyFS{denied: denied, mounts: slices.Clone(mounts)}
}

// deny reports a refusal of p, relative to "/", and returns EACCES. wazero
// joins a path relative to a directory opened in the root to its name with
// a "/", and the root's name is "": "/etc/passwd".
func (d *denyFS) deny(op, p string) experimentalsys.Errno {
	p = strings.TrimLeft(strings.TrimPrefix(p, "./"), "/")
	if p == "." {
		p = ""
	}
	d.denied(op, "/"+p, outsideRule(d.mounts, "/"+p))
	return experimentalsys.EACCES
}

// OpenFile implements experimentalsys.FS.
func (d *denyFS) OpenFile(p string, flag experimentalsys.Oflag, _ fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if (p == "." || p == "./") && flag&writeFlags == 0 {
		return &emptyDir{fs: d}, 0
	}
	return nil, d.deny("open", p)
}

// Lstat implements experimentalsys.FS.
func (d *denyFS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	return sys.Stat_t{}, d.deny("stat", p)
}

// Stat implements experimentalsys.FS.
func (d *denyFS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	return sys.Stat_t{}, d.deny("stat", p)
}

// Readlink implements experimentalsys.FS.
func (d *denyFS) Readlink(p string) (string, experimentalsys.Errno) {
	return "", d.deny("readlink", p)
}

// Mkdir implements experimentalsys.FS.
func (d *denyFS) Mkdir(p string, _ fs.FileMode) experimentalsys.Errno { return d.deny("mkdir", p) }

// Chmod implements experimentalsys.FS.
func (d *denyFS) Chmod(p string, _ fs.FileMode) experimentalsys.Errno { return d.deny("chmod", p) }

// Rename implements experimentalsys.FS. Both paths are outside every
// mount; a rename between here and a mount never reaches a file system
// (see wrapWASI).
func (d *denyFS) Rename(from, _ string) experimentalsys.Errno { return d.deny("rename", from) }

// Rmdir implements experimentalsys.FS.
func (d *denyFS) Rmdir(p string) experimentalsys.Errno { return d.deny("rmdir", p) }

// Unlink implements experimentalsys.FS.
func (d *denyFS) Unlink(p string) experimentalsys.Errno { return d.deny("unlink", p) }

// Link implements experimentalsys.FS.
func (d *denyFS) Link(oldPath, _ string) experimentalsys.Errno { return d.deny("link", oldPath) }

// Symlink implements experimentalsys.FS.
func (d *denyFS) Symlink(_, link string) experimentalsys.Errno { return d.deny("symlink", link) }

// Utimens implements experimentalsys.FS.
func (d *denyFS) Utimens(p string, _, _ int64) experimentalsys.Errno {
	return d.deny("utimens", p)
}

// emptyDir is the root of a denyFS: a directory with nothing in it, whose
// listing is refused.
type emptyDir struct {
	experimentalsys.DirFile
	fs     *denyFS
	closed bool
}

// Dev implements experimentalsys.File.
func (e *emptyDir) Dev() (uint64, experimentalsys.Errno) { return 0, e.check() }

// Ino implements experimentalsys.File.
func (e *emptyDir) Ino() (sys.Inode, experimentalsys.Errno) { return 0, e.check() }

// Stat implements experimentalsys.File.
func (e *emptyDir) Stat() (sys.Stat_t, experimentalsys.Errno) {
	if errno := e.check(); errno != 0 {
		return sys.Stat_t{}, errno
	}
	return sys.Stat_t{Mode: fs.ModeDir | 0o555, Nlink: 1}, 0
}

// Seek implements experimentalsys.File: only a rewind, as on any directory.
func (e *emptyDir) Seek(offset fileOffset, whence int) (int64, experimentalsys.Errno) {
	if errno := e.check(); errno != 0 {
		return 0, errno
	}
	if offset != 0 || whence != io.SeekStart {
		return 0, experimentalsys.EISDIR
	}
	return 0, 0
}

// Readdir implements experimentalsys.File.
func (e *emptyDir) Readdir(int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if errno := e.check(); errno != 0 {
		return nil, errno
	}
	return nil, e.fs.deny("readdir", ".")
}

// Sync implements experimentalsys.File.
func (e *emptyDir) Sync() experimentalsys.Errno { return e.check() }

// Datasync implements experimentalsys.File.
func (e *emptyDir) Datasync() experimentalsys.Errno { return e.check() }

// Utimens implements experimentalsys.File. wazero's fd_filestat_set_times
// retries by path, on the denyFS, only after EPERM or ENOSYS; EACCES is
// final, so the refusal is reported once.
func (e *emptyDir) Utimens(int64, int64) experimentalsys.Errno {
	if errno := e.check(); errno != 0 {
		return errno
	}
	return e.fs.deny("utimens", ".")
}

// Close implements experimentalsys.File.
func (e *emptyDir) Close() experimentalsys.Errno {
	e.closed = true
	return 0
}

func (e *emptyDir) check() experimentalsys.Errno {
	if e.closed {
		return experimentalsys.EBADF
	}
	return 0
}

// Interface guards
var (
	_ experimentalsys.FS   = (*denyFS)(nil)
	_ experimentalsys.File = (*emptyDir)(nil)
)
