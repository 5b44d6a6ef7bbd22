// Package boundedfile reads a whole file that must be a regular file of at
// most a given size: a plugin's manifest and module, a package, an index, a
// trust policy, a key. Such files may be hostile or simply wrong (a folder,
// a named pipe, a device, a file of gigabytes, one still growing), and each
// reader needs the same checks with errors that name the file and the
// limit:
//
//   - the file is opened without blocking, so that a named pipe is refused
//     instead of waiting for a writer;
//   - anything but a regular file is refused ([ErrNotRegular]);
//   - a size over the limit is refused from Stat, before any byte is read,
//     and again while reading, at most limit+1 bytes, for a file that grows
//     after Stat or whose Stat size is wrong ([ErrTooLarge]).
//
// Symbolic links are followed as the opening follows them: [Read] as
// [os.Open] does, [ReadIn] only inside the root. A caller that refuses
// them checks with Lstat first.
package boundedfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
)

var (
	// ErrNotRegular is matched (with errors.Is) by a [*NotRegularError].
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is matched (with errors.Is) by a [*TooLargeError].
	ErrTooLarge = errors.New("file too large")
)

// NotRegularError reports a file that is not a regular file: a folder, a
// named pipe, a device, a socket.
type NotRegularError struct {
	// Name is the file as the caller named it.
	Name string
	// Mode is the file's mode, as Stat reported it.
	Mode fs.FileMode
}

// Error returns, for example, "made.wasm is not a regular file (folder)".
func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is not a regular file (%s)", e.Name, TypeName(e.Mode))
}

// Is reports whether target is [ErrNotRegular].
func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// TooLargeError reports a file larger than its limit.
type TooLargeError struct {
	// Name is the file as the caller named it.
	Name string
	// Size is the file's size from Stat, or -1 when the file was found
	// over the limit only while reading it (it grew after Stat).
	Size int64
	// Max is the limit, in bytes.
	Max int64
}

// Error returns, for example, "hello.wasm is 9000000 bytes, over the limit
// of 8388608 bytes", or "hello.wasm is over the limit of 8388608 bytes"
// when the size is unknown.
func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s is over the limit of %d bytes", e.Name, e.Max)
	}
	return fmt.Sprintf("%s is %d bytes, over the limit of %d bytes", e.Name, e.Size, e.Max)
}

// Is reports whether target is [ErrTooLarge].
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Read reads the regular file at path whole, at most max bytes. Errors name
// the file by path: a failure to open it is the [*fs.PathError] of
// [os.OpenFile] (so errors.Is(err, fs.ErrNotExist) works), a file of
// another type a [*NotRegularError], a file over max bytes a
// [*TooLargeError]. A negative max refuses every file.
func Read(path string, max int64) ([]byte, error) {
	data, _, err := ReadStat(path, max)
	return data, err
}

// ReadStat is [Read], also returning the Stat of the file it read (for its
// mode, say), taken on the open file: no second lookup of path.
func ReadStat(path string, max int64) ([]byte, fs.FileInfo, error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := readAll(f, fi, path, max)
	if err != nil {
		return nil, nil, err
	}
	return data, fi, nil
}

// Open opens the regular file at path for reading, without blocking on a
// named pipe, for a caller that reads it in parts (through an
// [io.ReaderAt]) and so has no use for a size limit here. It returns the
// file and its Stat; a file of another type is a [*NotRegularError], and
// is closed.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := regular(f, path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ReadIn is [Read] for the file name inside root: no path leaves the root,
// and errors name the file by name, relative to the root.
func ReadIn(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := regular(f, name)
	if err != nil {
		return nil, err
	}
	return readAll(f, fi, name, max)
}

// regular returns the Stat of f, called name in errors, if it is a regular
// file.
func regular(f *os.File, name string) (fs.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Name: name, Mode: fi.Mode()}
	}
	return fi, nil
}

// readAll reads f, an open regular file of Stat fi, called name in errors,
// as Read says.
func readAll(f io.Reader, fi fs.FileInfo, name string, max int64) ([]byte, error) {
	size := fi.Size()
	if size > max {
		return nil, &TooLargeError{Name: name, Size: size, Max: max}
	}
	// Read one byte more than max, to see a file that has grown; the
	// buffer has room for the Stat size and that byte, so that a file that
	// has not changed is read without growing it.
	var r io.Reader = f
	if max < math.MaxInt64 {
		r = io.LimitReader(f, max+1)
	}
	data := make([]byte, 0, size+1)
	for {
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Name: name, Size: -1, Max: max}
	}
	return data, nil
}

// TypeName names the type of a file for an error message: "regular file",
// "folder", "symbolic link", "named pipe", "socket", "device", or "file of
// type" and the mode's letters.
func TypeName(mode fs.FileMode) string {
	switch t := mode.Type(); {
	case t == 0:
		return "regular file"
	case t&fs.ModeSymlink != 0:
		return "symbolic link"
	case t&fs.ModeDir != 0:
		return "folder"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeDevice != 0:
		return "device"
	default:
		return strings.TrimSpace("file of type " + t.String())
	}
}
