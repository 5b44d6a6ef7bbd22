// Command fs-probe-go is fs-probe (testdata/wasm/fs-probe) written in Go with
// the Go guest kit (adapters/go/pdk): the same handlers, through Go's os
// package on wasip1 instead of wasi-libc. Every handler returns ok bytes,
// "ok: ..." or "error: <errno text>", for runtime/fs_test.go.
//
// Built by scripts/build-go-fixtures.sh into fs-probe-go.wasm (committed):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false \
//	    -o testdata/wasm/fs-probe-go/fs-probe-go.wasm ./testdata/wasm/fs-probe-go
//
//	read     input: path              "ok: <content>"
//	write    input: "path\ncontent"   creates or truncates: "ok: wrote <n> bytes"
//	append   input: "path\ncontent"   "ok: wrote <n> bytes"
//	list     input: directory         "ok: <names, sorted, space-separated>"
//	stat     input: path              "ok: <file|dir|link|other> <size>" (follows links)
//	lstat    input: path              the same, without following a final link
//	symlink  input: "target\nlink"    "ok"
//	link     input: "old\nnew"        a hard link: "ok"
//	readlink input: path              "ok: <target>"
//	rename   input: "from\nto"        "ok"
//	unlink   input: path              "ok"
//	mkdir    input: path              "ok"
//	rmdir    input: path              "ok"
//	utimes   input: path              sets both times to now: "ok"
//	truncate input: path              truncate to 0 bytes: "ok"
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/vitte-lang/vitte-plugin/adapters/go/pdk"
)

// main is not called in a reactor (-buildmode=c-shared), but package main
// needs one.
func main() {}

//go:wasmexport read
func readExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(read)) }

//go:wasmexport write
func writeExport(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, probe(writeFile(os.O_WRONLY|os.O_CREATE|os.O_TRUNC)))
}

//go:wasmexport append
func appendExport(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, probe(writeFile(os.O_WRONLY|os.O_CREATE|os.O_APPEND)))
}

//go:wasmexport list
func listExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(list)) }

//go:wasmexport stat
func statExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(statWith(os.Stat))) }

//go:wasmexport lstat
func lstatExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(statWith(os.Lstat))) }

//go:wasmexport symlink
func symlinkExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(two(os.Symlink))) }

//go:wasmexport link
func linkExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(two(os.Link))) }

//go:wasmexport readlink
func readlinkExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(readlink)) }

//go:wasmexport rename
func renameExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(two(os.Rename))) }

//go:wasmexport unlink
func unlinkExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(one(syscall.Unlink))) }

//go:wasmexport mkdir
func mkdirExport(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, probe(one(func(p string) error { return os.Mkdir(p, 0o755) })))
}

//go:wasmexport rmdir
func rmdirExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, probe(one(syscall.Rmdir))) }

//go:wasmexport utimes
func utimesExport(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, probe(one(func(p string) error {
		now := time.Now()
		return os.Chtimes(p, now, now)
	})))
}

//go:wasmexport truncate
func truncateExport(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, probe(one(func(p string) error { return os.Truncate(p, 0) })))
}

// probe turns fn's error into ok bytes "error: <errno text>", so that the
// host sees what the guest saw.
func probe(fn func(in string) (string, error)) func([]byte) ([]byte, error) {
	return func(input []byte) ([]byte, error) {
		out, err := fn(string(input))
		if err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				return []byte("error: " + errno.Error()), nil
			}
			return []byte("error: " + err.Error()), nil
		}
		return []byte(out), nil
	}
}

func one(fn func(string) error) func(string) (string, error) {
	return func(in string) (string, error) {
		if err := fn(in); err != nil {
			return "", err
		}
		return "ok", nil
	}
}

func two(fn func(a, b string) error) func(string) (string, error) {
	return func(in string) (string, error) {
		a, b, _ := strings.Cut(in, "\n")
		if err := fn(a, b); err != nil {
			return "", err
		}
		return "ok", nil
	}
}

func read(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return "ok: " + string(b), nil
}

func writeFile(flag int) func(string) (string, error) {
	return func(in string) (string, error) {
		path, content, _ := strings.Cut(in, "\n")
		f, err := os.OpenFile(path, flag, 0o644)
		if err != nil {
			return "", err
		}
		n, err := f.WriteString(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("ok: wrote %d bytes", n), nil
	}
}

func list(path string) (string, error) {
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return "", err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return strings.TrimSuffix("ok: "+strings.Join(names, " "), " "), nil
}

func statWith(stat func(string) (fs.FileInfo, error)) func(string) (string, error) {
	return func(path string) (string, error) {
		fi, err := stat(path)
		if err != nil {
			return "", err
		}
		kind := "other"
		switch {
		case fi.Mode().IsRegular():
			kind = "file"
		case fi.IsDir():
			kind = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			kind = "link"
		}
		return fmt.Sprintf("ok: %s %d", kind, fi.Size()), nil
	}
}

func readlink(path string) (string, error) {
	target, err := os.Readlink(path)
	if err != nil {
		return "", err
	}
	return "ok: " + target, nil
}
