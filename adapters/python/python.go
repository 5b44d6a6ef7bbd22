// Package python finds, describes and builds the CPython interpreter module
// that runs plugins of kind "python" (see docs/python.md).
//
// The interpreter is not committed: build.sh in this folder builds it from
// Debian's source package of CPython 3.11.2 into the user cache dir, under a
// key derived from the build inputs embedded here, so that a changed
// script never runs against stale binaries. The runtime (runtime/python.go)
// finds it with [Find]; `vitte plugin runtime install python` runs [Build].
package python

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The build inputs: everything build.sh reads from this folder.
//
//go:embed build.sh Setup.local mkzip.py all:lib all:shim
var inputs embed.FS

// Versions of what build.sh builds.
const (
	CPythonVersion = "3.11.2"
	SourcePackage  = "python3.11 3.11.2-6+deb12u8"
)

// Names inside an interpreter folder.
const (
	ModuleFile = "python.wasm"
	LibDir     = "lib"               // mounted read-only at GuestLib
	StdlibZip  = "lib/python311.zip" // the standard library and vitte_plugin
	// SectionName is the custom section of python.wasm that records what
	// it was built from: "key=value" lines.
	SectionName = "vitte:python"
)

// Guest paths of a Python plugin's instance.
const (
	GuestLib    = "/python" // the interpreter's lib folder, read-only
	GuestPlugin = "/plugin" // the plugin's files, read-only
)

// EnvDir overrides where the interpreter is looked for and built.
const EnvDir = "VITTE_PYTHON_DIR"

// Key returns the key of the build inputs: the first 16 hex digits of the
// SHA-256 over "<path>\x00<size>\x00<content>" of each input file, in
// sorted path order (build.sh computes the same).
func Key() string {
	var files []string
	err := fs.WalkDir(inputs, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		panic("adapters/python: walk the embedded inputs: " + err.Error())
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := inputs.ReadFile(f)
		if err != nil {
			panic("adapters/python: read the embedded inputs: " + err.Error())
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// DefaultDir returns the folder of the interpreter for these build inputs:
// $VITTE_PYTHON_DIR when set, else <user cache dir>/vitte/python/<Key()>.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("python interpreter: %w (set $%s)", err, EnvDir)
	}
	return filepath.Join(c, "vitte", "python", Key()), nil
}

// ErrNotBuilt is returned by [Find] when the interpreter folder lacks the
// module or the standard library.
var ErrNotBuilt = errors.New("the Python interpreter is not built")

// InstallHint is the one command that builds the interpreter.
const InstallHint = "vitte plugin runtime install python (or: go run ./cmd/vitte plugin runtime install python; task python)"

// Find checks that dir holds a built interpreter and returns the path of
// its module.
func Find(dir string) (string, error) {
	for _, f := range []string{ModuleFile, StdlibZip} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%w in %s (no %s): run %s", ErrNotBuilt, dir, f, InstallHint)
		}
	}
	return filepath.Join(dir, ModuleFile), nil
}

// Build runs the embedded build.sh to build the interpreter into dir
// (nothing happens when it is already there). It needs bash, apt-get and,
// when a Debian package is missing, root. The script's progress goes to
// out.
func Build(ctx context.Context, dir string, out io.Writer) error {
	work, err := os.MkdirTemp("", "vitte-python-build-")
	if err != nil {
		return fmt.Errorf("build the Python interpreter: %w", err)
	}
	defer os.RemoveAll(work)
	err = fs.WalkDir(inputs, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(work, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := inputs.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("build the Python interpreter: extract build.sh: %w", err)
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(work, "build.sh"))
	cmd.Env = append(os.Environ(), EnvDir+"="+dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the Python interpreter into %s: build.sh: %w", dir, err)
	}
	if _, err := Find(dir); err != nil {
		return fmt.Errorf("build the Python interpreter: %w", err)
	}
	return nil
}

// Info is what the "vitte:python" custom section of an interpreter module
// records, in its order.
type Info []KV

// KV is one key=value line of Info.
type KV struct{ Key, Value string }

// Get returns the value of key, or "".
func (in Info) Get(key string) string {
	for _, kv := range in {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// maxInfo bounds the section: a few short lines.
const maxInfo = 4 << 10

// ParseInfo parses the content of the "vitte:python" custom section:
// at most 4 KiB of UTF-8 "key=value" lines, keys non-empty.
func ParseInfo(b []byte) (Info, error) {
	if len(b) > maxInfo {
		return nil, fmt.Errorf("section %s: %d bytes, over %d", SectionName, len(b), maxInfo)
	}
	var in Info
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || !isPrintable(line) {
			return nil, fmt.Errorf("section %s: line %d: %s is not a key=value line", SectionName, n, strconv.Quote(line))
		}
		in = append(in, KV{k, v})
	}
	return in, sc.Err()
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r == 0xfffd || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// ModuleInfo returns the content of the "vitte:python" custom section of
// an interpreter module. A module without one is an error: it is not an
// interpreter built by build.sh.
func ModuleInfo(module []byte) (Info, error) {
	b, ok, err := customSection(module, SectionName)
	if err != nil {
		return nil, fmt.Errorf("python interpreter: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("python interpreter: no custom section %q: not a module built by adapters/python/build.sh", SectionName)
	}
	return ParseInfo(b)
}

// customSection finds the first custom section called name in a module,
// walking the section headers only.
func customSection(m []byte, name string) ([]byte, bool, error) {
	if len(m) < 8 || string(m[:8]) != "\x00asm\x01\x00\x00\x00" {
		return nil, false, errors.New("not a WebAssembly module (version 1)")
	}
	off := 8
	for off < len(m) {
		id := m[off]
		size, n, err := uleb32(m[off+1:])
		if err != nil {
			return nil, false, fmt.Errorf("section at offset %d: %w", off, err)
		}
		start := off + 1 + n
		if uint64(size) > uint64(len(m)-start) {
			return nil, false, fmt.Errorf("section at offset %d: size %d past the end", off, size)
		}
		body := m[start : start+int(size)]
		if id == 0 {
			l, k, err := uleb32(body)
			if err != nil || uint64(l) > uint64(len(body)-k) {
				return nil, false, fmt.Errorf("custom section at offset %d: bad name", off)
			}
			if string(body[k:k+int(l)]) == name {
				return body[k+int(l):], true, nil
			}
		}
		off = start + int(size)
	}
	return nil, false, nil
}

func uleb32(b []byte) (uint32, int, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("truncated LEB128")
		}
		v |= uint32(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if i == 4 && b[i] > 0x0f {
				return 0, 0, errors.New("LEB128 overflows 32 bits")
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("LEB128 longer than 5 bytes")
}
