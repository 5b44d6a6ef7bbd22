package boundedfile

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// check runs the checks every table of this file shares: the data read, or
// the error's text and what it matches.
func check(t *testing.T, data []byte, err error, want, wantErr string, is error) {
	t.Helper()
	if wantErr != "" {
		require.EqualError(t, err, wantErr)
		require.Nil(t, data)
		if is != nil {
			require.ErrorIs(t, err, is)
		}
		return
	}
	require.NoError(t, err)
	require.Equal(t, want, string(data))
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	ten := file("ten", "0123456789")
	empty := file("empty", "")
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o700))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(ten, link))

	for _, tc := range []struct {
		name    string
		path    string
		max     int64
		want    string
		wantErr string
		is      error
	}{
		{name: "under the limit", path: ten, max: 11, want: "0123456789"},
		{name: "at the limit", path: ten, max: 10, want: "0123456789"},
		{name: "no limit", path: ten, max: math.MaxInt64, want: "0123456789"},
		{name: "over the limit", path: ten, max: 9, wantErr: ten + " is 10 bytes, over the limit of 9 bytes", is: ErrTooLarge},
		{name: "empty", path: empty, max: 0, want: ""},
		{name: "negative limit", path: empty, max: -1, wantErr: empty + " is 0 bytes, over the limit of -1 bytes", is: ErrTooLarge},
		{name: "folder", path: sub, max: 100, wantErr: sub + " is not a regular file (folder)", is: ErrNotRegular},
		{name: "symbolic link, followed", path: link, max: 10, want: "0123456789"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Read(tc.path, tc.max)
			check(t, data, err, tc.want, tc.wantErr, tc.is)
		})
	}

	// The error of os.OpenFile, as it is: callers test for a missing file.
	_, err := Read(filepath.Join(dir, "nope"), 10)
	require.ErrorIs(t, err, fs.ErrNotExist)
	var pathErr *fs.PathError
	require.ErrorAs(t, err, &pathErr)
	require.Equal(t, &fs.PathError{Op: "open", Path: filepath.Join(dir, "nope"), Err: pathErr.Err}, pathErr)
}

func TestReadIn(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "m.wasm"), []byte("0123456789"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	require.NoError(t, os.Symlink("m.wasm", filepath.Join(dir, "inside")))
	outside := filepath.Join(t.TempDir(), "outside")
	require.NoError(t, os.WriteFile(outside, []byte("secret"), 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "escape")))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })

	for _, tc := range []struct {
		name    string
		file    string
		max     int64
		want    string
		wantErr string
		is      error
	}{
		{name: "under the limit", file: "m.wasm", max: 100, want: "0123456789"},
		{name: "at the limit", file: "m.wasm", max: 10, want: "0123456789"},
		{name: "over the limit", file: "m.wasm", max: 9, wantErr: "m.wasm is 10 bytes, over the limit of 9 bytes", is: ErrTooLarge},
		{name: "folder", file: "sub", max: 100, wantErr: "sub is not a regular file (folder)", is: ErrNotRegular},
		{name: "symbolic link inside the root", file: "inside", max: 100, want: "0123456789"},
		{name: "symbolic link out of the root", file: "escape", max: 100, wantErr: "openat escape: path escapes from parent"},
		{name: "path out of the root", file: "../outside", max: 100, wantErr: "openat ../outside: path escapes from parent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ReadIn(root, tc.file, tc.max)
			check(t, data, err, tc.want, tc.wantErr, tc.is)
		})
	}
}

// staleFile is a file whose Stat was taken before the file changed, as when
// a file grows between Stat and the read.
type staleFile struct {
	fs.File
	fi fs.FileInfo
}

func (f staleFile) Stat() (fs.FileInfo, error) { return f.fi, nil }

// failingFile fails its reads after some bytes.
type failingFile struct {
	staleFile
	r io.Reader
}

func (f failingFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("input/output error")
	}
	return n, err
}

func TestReadAll_Changes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		before  string // the content when Stat is called
		after   string // the content when the file is read
		max     int64
		failing bool
		want    string
		wantErr string
		is      error
	}{
		{name: "grows, still under the limit", before: "0123", after: "012345678", max: 9, want: "012345678"},
		{name: "grows to the limit", before: "0123", after: "0123456789", max: 10, want: "0123456789"},
		{name: "grows over the limit", before: "0123", after: "0123456789", max: 9, wantErr: "grown is over the limit of 9 bytes", is: ErrTooLarge},
		{name: "grows far over the limit", before: "", after: strings.Repeat("x", 1<<20), max: 1000, wantErr: "grown is over the limit of 1000 bytes", is: ErrTooLarge},
		{name: "shrinks", before: "0123456789", after: "01", max: 10, want: "01"},
		{name: "read error", before: "0123", after: "0123", max: 10, failing: true, wantErr: "input/output error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "grown")
			require.NoError(t, os.WriteFile(path, []byte(tc.before), 0o600))
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			fi, err := f.Stat()
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, []byte(tc.after), 0o600))

			var file fs.File = staleFile{File: f, fi: fi}
			if tc.failing {
				file = failingFile{staleFile: staleFile{File: f, fi: fi}, r: f}
			}
			data, err := readAll(file, fi, "grown", tc.max)
			check(t, data, err, tc.want, tc.wantErr, tc.is)
			var tooLarge *TooLargeError
			if errors.As(err, &tooLarge) {
				assert.Equal(t, &TooLargeError{Name: "grown", Size: -1, Max: tc.max}, tooLarge)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	var err error = &TooLargeError{Name: "hello.wasm", Size: 9000000, Max: 8388608}
	assert.EqualError(t, err, "hello.wasm is 9000000 bytes, over the limit of 8388608 bytes")
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.NotErrorIs(t, err, ErrNotRegular)

	err = &NotRegularError{Name: "fifo", Mode: fs.ModeNamedPipe | 0o644}
	assert.EqualError(t, err, "fifo is not a regular file (named pipe)")
	assert.ErrorIs(t, err, ErrNotRegular)
	assert.NotErrorIs(t, err, ErrTooLarge)

	// Wrapped, as callers do.
	var notRegular *NotRegularError
	require.ErrorAs(t, errors.Join(errors.New("load"), err), &notRegular)
	assert.Equal(t, "fifo", notRegular.Name)
}

func TestTypeName(t *testing.T) {
	for _, tc := range []struct {
		mode fs.FileMode
		want string
	}{
		{0o644, "regular file"},
		{fs.ModeDir | 0o755, "folder"},
		{fs.ModeSymlink | 0o777, "symbolic link"},
		{fs.ModeNamedPipe, "named pipe"},
		{fs.ModeSocket, "socket"},
		{fs.ModeDevice, "device"},
		{fs.ModeDevice | fs.ModeCharDevice, "device"},
		{fs.ModeIrregular, "file of type ?---------"},
	} {
		assert.Equal(t, tc.want, TypeName(tc.mode), "%v", tc.mode)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ten")
	require.NoError(t, os.WriteFile(p, []byte("0123456789"), 0o600))
	f, fi, err := Open(p)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, int64(10), fi.Size())
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(b))

	_, _, err = Open(dir)
	require.ErrorIs(t, err, ErrNotRegular)
	assert.EqualError(t, err, dir+" is not a regular file (folder)")
	_, _, err = Open(filepath.Join(dir, "nope"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestReadStat(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pkg")
	require.NoError(t, os.WriteFile(p, []byte("0123456789"), 0o640))
	data, fi, err := ReadStat(p, 10)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(data))
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	_, fi, err = ReadStat(p, 9)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Nil(t, fi)
}
