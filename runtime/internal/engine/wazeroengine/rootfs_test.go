package wazeroengine

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

const secret = "TOP-SECRET"

// denial is one call of the Denied callback.
type denial struct{ op, path, rule string }

// fsTree builds, in a temporary directory:
//
//	secret.txt              TOP-SECRET, outside every mount
//	secretdir/inner.txt     TOP-SECRET, outside every mount
//	data/                   mounted at /data
//	  hello.txt             "hello"
//	  sub/nested.txt        "nested"
//	  link-file  -> ../secret.txt
//	  abs-link   -> <tmp>/secret.txt
//	  link-dir   -> ../secretdir
//	  inner-link -> hello.txt
//	  dangling   -> ../created.txt (does not exist)
//	ro/                     mounted at /ro
//	  ro.txt                "read only"
//	  sub/
type fsTree struct {
	tmp, data, ro string
}

func newFSTree(t *testing.T) fsTree {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need a privilege on Windows")
	}
	tmp := t.TempDir()
	tr := fsTree{tmp: tmp, data: filepath.Join(tmp, "data"), ro: filepath.Join(tmp, "ro")}
	write := func(p, s string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	}
	write(filepath.Join(tmp, "secret.txt"), secret)
	write(filepath.Join(tmp, "secretdir", "inner.txt"), secret)
	write(filepath.Join(tr.data, "hello.txt"), "hello")
	write(filepath.Join(tr.data, "sub", "nested.txt"), "nested")
	write(filepath.Join(tr.ro, "ro.txt"), "read only")
	require.NoError(t, os.Mkdir(filepath.Join(tr.ro, "sub"), 0o755))
	require.NoError(t, os.Symlink("../secret.txt", filepath.Join(tr.data, "link-file")))
	require.NoError(t, os.Symlink(filepath.Join(tmp, "secret.txt"), filepath.Join(tr.data, "abs-link")))
	require.NoError(t, os.Symlink("../secretdir", filepath.Join(tr.data, "link-dir")))
	require.NoError(t, os.Symlink("hello.txt", filepath.Join(tr.data, "inner-link")))
	require.NoError(t, os.Symlink("../created.txt", filepath.Join(tr.data, "dangling")))
	return tr
}

// mount returns a rootFS on host at guest, and the denials it reports.
func mount(t *testing.T, host, guest string, readOnly bool) (*rootFS, *[]denial) {
	t.Helper()
	var got []denial
	fsys, err := newRootFS(engine.Mount{Guest: guest, Host: host, ReadOnly: readOnly}, func(op, path, rule string) {
		got = append(got, denial{op, path, rule})
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = fsys.root.Close() })
	return fsys, &got
}

// readAll opens p read-only in fsys and returns its content.
func readAll(fsys *rootFS, p string) (string, experimentalsys.Errno) {
	f, errno := fsys.OpenFile(p, experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		return "", errno
	}
	defer f.Close()
	var out []byte
	buf := make([]byte, 64)
	for {
		n, errno := f.Read(buf)
		if errno != 0 {
			return string(out), errno
		}
		if n == 0 {
			return string(out), 0
		}
		out = append(out, buf[:n]...)
	}
}

func TestRootFS_escapes(t *testing.T) {
	escape := "path escapes mount /data"
	tests := []struct {
		name     string
		with     func(tr fsTree, fsys *rootFS) experimentalsys.Errno
		expected experimentalsys.Errno
		denials  []denial
	}{
		{
			name: "open by absolute host path",
			with: func(tr fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := readAll(fsys, filepath.Join(tr.tmp, "secret.txt"))
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/<tmp>/secret.txt", escape}},
		},
		{
			name: "open by ..",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := readAll(fsys, "../secret.txt")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/../secret.txt", escape}},
		},
		{
			name: "open by sub/../..",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := readAll(fsys, "sub/../../secret.txt")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/sub/../../secret.txt", escape}},
		},
		{
			name: "open through a relative link to an outside file",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := readAll(fsys, "link-file")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/link-file", escape}},
		},
		{
			name: "open through an absolute link to an outside file",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := readAll(fsys, "abs-link")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/abs-link", escape}},
		},
		{
			name: "open through a link to an outside directory",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := readAll(fsys, "link-dir/inner.txt")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/link-dir/inner.txt", escape}},
		},
		{
			name: "list an outside directory through a link",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := fsys.OpenFile("link-dir", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/link-dir", escape}},
		},
		{
			name: "stat through a link",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := fsys.Stat("link-file")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"stat", "/data/link-file", escape}},
		},
		{
			name: "create through a link to an outside directory",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := fsys.OpenFile("link-dir/new.txt", experimentalsys.O_WRONLY|experimentalsys.O_CREAT, 0o644)
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/link-dir/new.txt", escape}},
		},
		{
			name: "create through a dangling link pointing out",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := fsys.OpenFile("dangling", experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_TRUNC, 0o644)
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/dangling", escape}},
		},
		{
			name: "exclusive create on a dangling link pointing out",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := fsys.OpenFile("dangling", experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_EXCL, 0o644)
				return errno
			},
			expected: experimentalsys.EEXIST, // never follows the link
		},
		{
			name: "mkdir through a link to an outside directory",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Mkdir("link-dir/new", 0o755)
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"mkdir", "/data/link-dir/new", escape}},
		},
		{
			name: "symlink to .. then open",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				if errno := fsys.Symlink("../secret.txt", "mine"); errno != 0 {
					return errno
				}
				_, errno := readAll(fsys, "mine")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"symlink", "/data/mine", "symlink target escapes mount /data"}},
		},
		{
			name: "symlink to an absolute path then open",
			with: func(tr fsTree, fsys *rootFS) experimentalsys.Errno {
				if errno := fsys.Symlink(filepath.Join(tr.tmp, "secret.txt"), "mine"); errno != 0 {
					return errno
				}
				_, errno := readAll(fsys, "mine")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"symlink", "/data/mine", "symlink target escapes mount /data"}},
		},
		{
			name: "symlink from a subdirectory climbing out",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Symlink("../../secret.txt", "sub/mine")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"symlink", "/data/sub/mine", "symlink target escapes mount /data"}},
		},
		{
			// Issue 18, finding 7: L3 -> sub/.. and L4 -> L3/.. stay inside
			// lexically; L4's real target is the mount's parent.
			name: "symlink chain L3 -> sub/.., L4 -> L3/..",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				if errno := fsys.Symlink("sub/..", "L3"); errno != 0 {
					return errno
				}
				return fsys.Symlink("L3/..", "L4")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"symlink", "/data/L3", "symlink target has .. in mount /data"}},
		},
		{
			name: "symlink L4 -> L3/.. through a link without ..",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				if errno := fsys.Symlink("sub", "L3"); errno != 0 {
					return errno
				}
				return fsys.Symlink("L3/..", "L4")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"symlink", "/data/L4", "symlink target has .. in mount /data"}},
		},
		{
			// Inside today, but renaming sub/a to a would make it climb out.
			name: "symlink with .. that stays inside",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				if errno := fsys.Mkdir("sub/a", 0o755); errno != 0 {
					return errno
				}
				return fsys.Symlink("../../hello.txt", "sub/a/up")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"symlink", "/data/sub/a/up", "symlink target has .. in mount /data"}},
		},
		{
			// A link with .. placed by the host: inside at sub/up, out at up.
			name: "rename a link with .. to another directory",
			with: func(tr fsTree, fsys *rootFS) experimentalsys.Errno {
				if err := os.Symlink("../hello.txt", filepath.Join(tr.data, "sub", "up")); err != nil {
					return experimentalsys.EIO
				}
				return fsys.Rename("sub/up", "up")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"rename", "/data/sub/up", "symlink target escapes mount /data"}},
		},
		{
			name: "hard link a link with .. into another directory",
			with: func(tr fsTree, fsys *rootFS) experimentalsys.Errno {
				if err := os.Symlink("../hello.txt", filepath.Join(tr.data, "sub", "up")); err != nil {
					return experimentalsys.EIO
				}
				return fsys.Link("sub/up", "up")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"link", "/data/sub/up", "symlink target escapes mount /data"}},
		},
		{
			name: "symlink through an outside link then open",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				// Lexically inside, so it is created; os.Root refuses to
				// follow it.
				if errno := fsys.Symlink("link-dir/inner.txt", "mine"); errno != 0 {
					return errno
				}
				_, errno := readAll(fsys, "mine")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"open", "/data/mine", escape}},
		},
		{
			name: "hard link of an outside file by ..",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Link("../secret.txt", "hard")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"link", "/data/../secret.txt", escape}},
		},
		{
			name: "hard link of an outside file through a link to its directory",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Link("link-dir/inner.txt", "hard")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"link", "/data/link-dir/inner.txt", escape}},
		},
		{
			name: "hard link of an outside link",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				// linkat does not follow the link: "hard" would be one
				// more name for a link leading out.
				return fsys.Link("link-file", "hard")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"link", "/data/link-file", "symlink target escapes mount /data"}},
		},
		{
			name: "rename an outside link within its directory",
			with: func(tr fsTree, fsys *rootFS) experimentalsys.Errno {
				if errno := fsys.Rename("link-file", "renamed"); errno != 0 {
					return errno
				}
				defer os.Rename(filepath.Join(tr.data, "renamed"), filepath.Join(tr.data, "link-file"))
				_, errno := readAll(fsys, "renamed")
				return errno
			},
			expected: experimentalsys.EACCES, // it still leads out, as before
			denials:  []denial{{"open", "/data/renamed", escape}},
		},
		{
			name: "hard link into an outside directory",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Link("hello.txt", "link-dir/hard")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"link", "/data/link-dir/hard", escape}},
		},
		{
			name: "rename out by ..",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Rename("hello.txt", "../out.txt")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"rename", "/data/../out.txt", escape}},
		},
		{
			name: "rename out through a link to an outside directory",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Rename("hello.txt", "link-dir/out.txt")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"rename", "/data/link-dir/out.txt", escape}},
		},
		{
			name: "rename an outside file in",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Rename("link-dir/inner.txt", "stolen.txt")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"rename", "/data/link-dir/inner.txt", escape}},
		},
		{
			name: "rename to another mount's guest path",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				// A mount only sees paths relative to itself; wazero
				// refuses a rename between two mounts with ENOSYS.
				return fsys.Rename("hello.txt", "/ro/hello.txt")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"rename", "/data//ro/hello.txt", escape}},
		},
		{
			name: "unlink an outside file through a link to its directory",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Unlink("link-dir/inner.txt")
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"unlink", "/data/link-dir/inner.txt", escape}},
		},
		{
			name: "chmod an outside file through a link",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Chmod("link-file", 0o777)
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"chmod", "/data/link-file", escape}},
		},
		{
			name: "utimens an outside file through a link",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				return fsys.Utimens("link-file", 0, 0)
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"utimens", "/data/link-file", escape}},
		},
		{
			name: "readlink by ..",
			with: func(_ fsTree, fsys *rootFS) experimentalsys.Errno {
				_, errno := fsys.Readlink("../data/link-file")
				return errno
			},
			expected: experimentalsys.EACCES,
			denials:  []denial{{"readlink", "/data/../data/link-file", escape}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newFSTree(t)
			fsys, got := mount(t, tr.data, "/data", false)
			assert.Equal(t, tc.expected, tc.with(tr, fsys))
			var want []denial
			for _, d := range tc.denials {
				d.path = strings.ReplaceAll(d.path, "<tmp>", tr.tmp)
				want = append(want, d)
			}
			assert.Equal(t, want, *got)

			// Nothing outside the mount changed, and the next operation
			// works.
			for _, p := range []string{"secret.txt", "secretdir/inner.txt"} {
				b, err := os.ReadFile(filepath.Join(tr.tmp, p))
				require.NoError(t, err)
				assert.Equal(t, secret, string(b))
				fi, err := os.Stat(filepath.Join(tr.tmp, p))
				require.NoError(t, err)
				assert.Equal(t, fs.FileMode(0o644), fi.Mode().Perm())
			}
			entries, err := os.ReadDir(filepath.Join(tr.tmp, "secretdir"))
			require.NoError(t, err)
			assert.Len(t, entries, 1, "nothing created in secretdir")
			for _, p := range []string{"out.txt", "created.txt"} {
				_, err = os.Lstat(filepath.Join(tr.tmp, p))
				assert.ErrorIs(t, err, fs.ErrNotExist, p)
			}
			s, errno := readAll(fsys, "hello.txt")
			assert.Zero(t, errno)
			assert.Equal(t, "hello", s)
		})
	}
}

func TestRootFS_readOnly(t *testing.T) {
	rule := "read-only mount /ro"
	open := func(flag experimentalsys.Oflag) func(*rootFS) experimentalsys.Errno {
		return func(fsys *rootFS) experimentalsys.Errno {
			f, errno := fsys.OpenFile("ro.txt", flag, 0o644)
			if errno == 0 {
				f.Close()
			}
			return errno
		}
	}
	// onFile opens ro.txt read-only, which works, then calls fn on it.
	onFile := func(fn func(experimentalsys.File) experimentalsys.Errno) func(*rootFS) experimentalsys.Errno {
		return func(fsys *rootFS) experimentalsys.Errno {
			f, errno := fsys.OpenFile("ro.txt", experimentalsys.O_RDONLY, 0)
			if errno != 0 {
				return errno
			}
			defer f.Close()
			return fn(f)
		}
	}
	tests := []struct {
		name   string
		with   func(*rootFS) experimentalsys.Errno
		denial denial
	}{
		{"open write-only", open(experimentalsys.O_WRONLY), denial{"write", "/ro/ro.txt", rule}},
		{"open read-write", open(experimentalsys.O_RDWR), denial{"write", "/ro/ro.txt", rule}},
		{"open append", open(experimentalsys.O_APPEND), denial{"write", "/ro/ro.txt", rule}},
		{"open truncate", open(experimentalsys.O_TRUNC), denial{"write", "/ro/ro.txt", rule}},
		{"open create", open(experimentalsys.O_CREAT | experimentalsys.O_WRONLY), denial{"create", "/ro/ro.txt", rule}},
		{"create a new file", func(fsys *rootFS) experimentalsys.Errno {
			_, errno := fsys.OpenFile("new.txt", experimentalsys.O_CREAT|experimentalsys.O_EXCL|experimentalsys.O_RDWR, 0o644)
			return errno
		}, denial{"create", "/ro/new.txt", rule}},
		{"mkdir", func(fsys *rootFS) experimentalsys.Errno { return fsys.Mkdir("new", 0o755) }, denial{"mkdir", "/ro/new", rule}},
		{"rmdir", func(fsys *rootFS) experimentalsys.Errno { return fsys.Rmdir("sub") }, denial{"rmdir", "/ro/sub", rule}},
		{"unlink", func(fsys *rootFS) experimentalsys.Errno { return fsys.Unlink("ro.txt") }, denial{"unlink", "/ro/ro.txt", rule}},
		{"rename", func(fsys *rootFS) experimentalsys.Errno { return fsys.Rename("ro.txt", "moved.txt") }, denial{"rename", "/ro/ro.txt", rule}},
		{"chmod", func(fsys *rootFS) experimentalsys.Errno { return fsys.Chmod("ro.txt", 0o777) }, denial{"chmod", "/ro/ro.txt", rule}},
		{"utimens", func(fsys *rootFS) experimentalsys.Errno { return fsys.Utimens("ro.txt", 0, 0) }, denial{"utimens", "/ro/ro.txt", rule}},
		{"symlink", func(fsys *rootFS) experimentalsys.Errno { return fsys.Symlink("ro.txt", "l") }, denial{"symlink", "/ro/l", rule}},
		{"link", func(fsys *rootFS) experimentalsys.Errno { return fsys.Link("ro.txt", "l") }, denial{"link", "/ro/l", rule}},
		{"write", onFile(func(f experimentalsys.File) experimentalsys.Errno {
			_, errno := f.Write([]byte("x"))
			return errno
		}), denial{"write", "/ro/ro.txt", rule}},
		{"pwrite", onFile(func(f experimentalsys.File) experimentalsys.Errno {
			_, errno := f.Pwrite([]byte("x"), 0)
			return errno
		}), denial{"write", "/ro/ro.txt", rule}},
		{"truncate", onFile(func(f experimentalsys.File) experimentalsys.Errno { return f.Truncate(0) }), denial{"truncate", "/ro/ro.txt", rule}},
		{"file utimens", onFile(func(f experimentalsys.File) experimentalsys.Errno { return f.Utimens(0, 0) }), denial{"utimens", "/ro/ro.txt", rule}},
		{"set append", onFile(func(f experimentalsys.File) experimentalsys.Errno { return f.SetAppend(true) }), denial{"write", "/ro/ro.txt", rule}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newFSTree(t)
			before, err := os.Stat(filepath.Join(tr.ro, "ro.txt"))
			require.NoError(t, err)
			fsys, got := mount(t, tr.ro, "/ro", true)
			assert.Equal(t, experimentalsys.EACCES, tc.with(fsys))
			assert.Equal(t, []denial{tc.denial}, *got)

			after, err := os.Stat(filepath.Join(tr.ro, "ro.txt"))
			require.NoError(t, err)
			assert.Equal(t, before.Mode(), after.Mode())
			assert.Equal(t, before.ModTime(), after.ModTime())
			b, err := os.ReadFile(filepath.Join(tr.ro, "ro.txt"))
			require.NoError(t, err)
			assert.Equal(t, "read only", string(b))
			entries, err := os.ReadDir(tr.ro)
			require.NoError(t, err)
			assert.Len(t, entries, 2, "nothing created or removed")

			s, errno := readAll(fsys, "ro.txt")
			assert.Zero(t, errno, "reading a read-only mount works")
			assert.Equal(t, "read only", s)
		})
	}
}

// names reads every entry of the directory p.
func names(t *testing.T, fsys *rootFS, p string) []string {
	t.Helper()
	f, errno := fsys.OpenFile(p, experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	require.Zero(t, errno)
	defer f.Close()
	var out []string
	for {
		ds, errno := f.Readdir(2)
		require.Zero(t, errno)
		for _, d := range ds {
			out = append(out, d.Name)
		}
		if len(ds) < 2 {
			break
		}
	}
	sort.Strings(out)
	return out
}

func TestRootFS_allowed(t *testing.T) {
	tr := newFSTree(t)
	fsys, got := mount(t, tr.data, "/data", false)
	host := func(p string) string { return filepath.Join(tr.data, p) }

	s, errno := readAll(fsys, "sub/nested.txt")
	require.Zero(t, errno)
	assert.Equal(t, "nested", s)
	s, errno = readAll(fsys, "inner-link")
	require.Zero(t, errno)
	assert.Equal(t, "hello", s, "a link inside the mount is followed")

	// write: create, write, pwrite, append, truncate
	f, errno := fsys.OpenFile("new.txt", experimentalsys.O_CREAT|experimentalsys.O_EXCL|experimentalsys.O_WRONLY, 0o600)
	require.Zero(t, errno)
	n, errno := f.Write([]byte("hello world"))
	require.Zero(t, errno)
	assert.Equal(t, 11, n)
	_, errno = f.Pwrite([]byte("W"), 6)
	require.Zero(t, errno)
	require.Zero(t, f.SetAppend(true))
	assert.True(t, f.IsAppend())
	_, errno = f.Write([]byte("!"))
	require.Zero(t, errno)
	require.Zero(t, f.Sync())
	require.Zero(t, f.Close())
	b, err := os.ReadFile(host("new.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello World!", string(b))
	_, errno = fsys.OpenFile("new.txt", experimentalsys.O_CREAT|experimentalsys.O_EXCL|experimentalsys.O_WRONLY, 0o600)
	assert.Equal(t, experimentalsys.EEXIST, errno)
	f, errno = fsys.OpenFile("new.txt", experimentalsys.O_RDWR, 0)
	require.Zero(t, errno)
	require.Zero(t, f.Truncate(5))
	buf := make([]byte, 3)
	n, errno = f.Pread(buf, 1)
	require.Zero(t, errno)
	assert.Equal(t, "ell", string(buf[:n]))
	off, errno := f.Seek(2, io.SeekStart)
	require.Zero(t, errno)
	assert.Equal(t, int64(2), off)
	n, errno = f.Read(buf)
	require.Zero(t, errno)
	assert.Equal(t, "llo", string(buf[:n]))
	st, errno := f.Stat()
	require.Zero(t, errno)
	assert.Equal(t, int64(5), st.Size)
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	require.Zero(t, f.Utimens(experimentalsys.UTIME_OMIT, mtime.UnixNano()))
	require.Zero(t, f.Close())
	assert.Equal(t, experimentalsys.EBADF, f.Truncate(0), "closed")
	fi, err := os.Stat(host("new.txt"))
	require.NoError(t, err)
	assert.True(t, fi.ModTime().Equal(mtime))

	// stat
	st, errno = fsys.Stat("hello.txt")
	require.Zero(t, errno)
	assert.Equal(t, int64(5), st.Size)
	st, errno = fsys.Lstat("link-file")
	require.Zero(t, errno, "the link itself is inside the mount")
	assert.Equal(t, fs.ModeSymlink, st.Mode.Type())
	target, errno := fsys.Readlink("inner-link")
	require.Zero(t, errno)
	assert.Equal(t, "hello.txt", target)
	_, errno = fsys.Stat("missing")
	assert.Equal(t, experimentalsys.ENOENT, errno)

	// mkdir, rename, link, symlink, chmod, utimens, unlink, rmdir
	require.Zero(t, fsys.Mkdir("dir", 0o755))
	assert.Equal(t, experimentalsys.EEXIST, fsys.Mkdir("dir", 0o755))
	assert.Equal(t, experimentalsys.ENOENT, fsys.Mkdir("missing/dir", 0o755))
	require.Zero(t, fsys.Rename("new.txt", "dir/moved.txt"))
	require.Zero(t, fsys.Link("dir/moved.txt", "hard.txt"))
	require.Zero(t, fsys.Symlink("moved.txt", "dir/soft"))
	require.Zero(t, fsys.Symlink("soft", "dir/up")) // a link to a link
	s, errno = readAll(fsys, "dir/up")
	require.Zero(t, errno)
	assert.Equal(t, "hello", s)
	s, errno = readAll(fsys, "dir/soft")
	require.Zero(t, errno)
	assert.Equal(t, "hello", s)
	_, errno = fsys.OpenFile("dir/soft", experimentalsys.O_RDONLY|experimentalsys.O_NOFOLLOW, 0)
	assert.Equal(t, experimentalsys.ELOOP, errno)
	_, errno = fsys.OpenFile("hello.txt", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	assert.Equal(t, experimentalsys.ENOTDIR, errno)
	require.Zero(t, fsys.Chmod("hard.txt", 0o640))
	require.Zero(t, fsys.Utimens("hard.txt", mtime.UnixNano(), experimentalsys.UTIME_OMIT))
	fi, err = os.Stat(host("dir/moved.txt"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm())
	assert.Equal(t, experimentalsys.EISDIR, fsys.Unlink("dir"))
	assert.Equal(t, experimentalsys.ENOTDIR, fsys.Rmdir("hard.txt"))
	assert.Equal(t, experimentalsys.ENOTEMPTY, fsys.Rmdir("dir"))
	assert.Equal(t, []string{"moved.txt", "soft", "up"}, names(t, fsys, "dir"))
	require.Zero(t, fsys.Unlink("dir/moved.txt"))
	require.Zero(t, fsys.Unlink("dir/soft"))
	require.Zero(t, fsys.Unlink("dir/up"))
	require.Zero(t, fsys.Rmdir("dir"))

	// readdir, with a rewind that sees a new entry
	want := []string{"abs-link", "dangling", "hard.txt", "hello.txt", "inner-link", "link-dir", "link-file", "sub"}
	assert.Equal(t, want, names(t, fsys, "."))
	d, errno := fsys.OpenFile(".", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	require.Zero(t, errno)
	defer d.Close()
	isDir, errno := d.IsDir()
	require.Zero(t, errno)
	assert.True(t, isDir)
	ds, errno := d.Readdir(100)
	require.Zero(t, errno)
	assert.Len(t, ds, len(want))
	require.NoError(t, os.WriteFile(host("later.txt"), nil, 0o644))
	_, errno = d.Seek(0, io.SeekStart)
	require.Zero(t, errno)
	ds, errno = d.Readdir(100)
	require.Zero(t, errno)
	assert.Len(t, ds, len(want)+1)
	for _, e := range ds {
		if e.Name == "sub" {
			assert.True(t, e.IsDir())
		}
		assert.NotZero(t, e.Ino, e.Name)
	}
	_, errno = d.Seek(1, io.SeekStart)
	assert.Equal(t, experimentalsys.EISDIR, errno)
	_, errno = d.Write([]byte("x"))
	assert.Equal(t, experimentalsys.EISDIR, errno)

	assert.Empty(t, *got, "nothing was denied")
}

func TestRootFS_escapeText(t *testing.T) {
	// rootEscapeText must be the text of os.Root's escape error, or escapes
	// would not be reported (they would still fail, as EIO).
	r, err := os.OpenRoot(t.TempDir())
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Open("../x")
	require.Error(t, err)
	assert.True(t, isEscape(err), "%v", err)
	_, err = r.Open("missing")
	assert.False(t, isEscape(err), "%v", err)
}

func TestOpenMounts(t *testing.T) {
	cfg, set, err := openMounts(nil, nil, false)
	require.NoError(t, err)
	assert.Nil(t, cfg, "no mounts, no file imports: no preopened directory at all")
	set.close() // a nil set closes fine

	cfg, set, err = openMounts(nil, nil, true)
	require.NoError(t, err)
	assert.NotNil(t, cfg, "no mounts: only the denyFS")
	assert.Equal(t, []string{"/"}, set.names)
	set.close()

	dir := t.TempDir()
	cfg, set, err = openMounts([]engine.Mount{{Guest: "/a", Host: dir}, {Guest: "/b", Host: dir, ReadOnly: true}}, nil, true)
	require.NoError(t, err)
	assert.NotNil(t, cfg)
	require.Len(t, set.roots, 2)
	assert.Equal(t, []string{"/a", "/b", "/"}, set.names, "preopens 3, 4, 5: the denyFS last")
	set.CloseNotify(t.Context(), 0)
	set.close()
	_, err = set.roots[0].Stat(".")
	assert.Error(t, err, "closed")
}

func TestOpenMounts_Errors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		with     engine.Mount
		expected string
	}{
		{"relative guest", engine.Mount{Guest: "data", Host: dir}, `mount "data": guest path must be absolute, clean and not /`},
		{"unclean guest", engine.Mount{Guest: "/data/..", Host: dir}, `mount "/data/..": guest path must be absolute, clean and not /`},
		{"root guest", engine.Mount{Guest: "/", Host: dir}, `mount "/": guest path must be absolute, clean and not /`},
		{"relative host", engine.Mount{Guest: "/data", Host: "data"}, `mount /data: host directory "data" is not absolute`},
		{"missing host", engine.Mount{Guest: "/data", Host: filepath.Join(dir, "missing")}, "mount /data: open " + filepath.Join(dir, "missing") + ": no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := openMounts([]engine.Mount{{Guest: "/ok", Host: dir}, tc.with}, nil, true)
			assert.EqualError(t, err, tc.expected)
		})
	}
}
