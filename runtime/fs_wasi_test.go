package runtime_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The file system seen from a guest calling WASI directly, with the bytes
// and flags neither wasi-libc nor Go's syscall package would send: NUL
// bytes and invalid UTF-8 in paths, the descriptors of stdin, stdout and
// stderr, the "/" preopen for a granted path, path_link's
// LOOKUP_SYMLINK_FOLLOW. On both engines (go test -tags wasmtime runs
// these on wasmtime).

// WASI errnos (wasi_snapshot_preview1.witx).
const (
	errnoSuccess = 0
	errnoACCES   = 2
	errnoBADF    = 8
	errnoEXIST   = 20
	errnoILSEQ   = 25
	errnoINVAL   = 28
	errnoNOENT   = 44
	errnoNOTDIR  = 54
)

// wasiProbeManifest asks for /data only: /data is descriptor 3, the
// refusing "/" descriptor 4.
const wasiProbeManifest = basicManifest + `
[capabilities]
fs = [ { path = "/data", mode = "rw" } ]
`

// wasiProbe is a plugin whose handlers each call one WASI function with the
// handler's input as the path (or, for prestat, its first byte as the
// descriptor), and return the errno as 4 little-endian bytes.
func wasiProbe() []byte {
	i32, i64 := abi.I32, abi.I64
	ret := []abi.ValueType{i32}
	ft := func(ps ...abi.ValueType) abi.FuncType { return abi.FuncType{Params: ps, Results: ret} }
	imports := []wasmgen.Import{
		{Module: abi.WASIModule, Name: "fd_prestat_get", Type: ft(i32, i32)},
		{Module: abi.WASIModule, Name: "path_open", Type: ft(i32, i32, i32, i32, i32, i64, i64, i32, i32)},
		{Module: abi.WASIModule, Name: "path_filestat_get", Type: ft(i32, i32, i32, i32, i32)},
		{Module: abi.WASIModule, Name: "path_link", Type: ft(i32, i32, i32, i32, i32, i32, i32)},
		{Module: abi.WASIModule, Name: "path_symlink", Type: ft(i32, i32, i32, i32, i32)},
		{Module: abi.WASIModule, Name: "path_create_directory", Type: ft(i32, i32, i32)},
	}
	const (
		callPrestat = iota
		callOpen
		callStat
		callLink
		callSymlink
		callMkdir
	)
	ptr, n := []byte{0x20, 0}, []byte{0x20, 1}
	c := wasmgen.I32Const
	i64zero := []byte{0x42, 0}
	call := func(i int) []byte { return []byte{0x10, byte(i)} }
	// The result: errno stored at 600, the area at 512 says (ok, 600, 4).
	h := func(name string, body ...[]byte) wasmgen.Func {
		return handler(name, wasmgen.Cat(c(600), wasmgen.Cat(body...), []byte{0x36, 0x02, 0x00}, c(512)))
	}
	// Paths in the data: "hard" at 800.
	const hard, hardLen = 800, 4
	m := wasmgen.Plugin(
		h("prestat", ptr, []byte{0x2d, 0x00, 0x00}, c(700), call(callPrestat)), // i32.load8_u
		h("open", c(3), c(1), ptr, n, c(0), i64zero, i64zero, c(0), c(700), call(callOpen)),
		h("open-root", c(4), c(1), ptr, n, c(0), i64zero, i64zero, c(0), c(700), call(callOpen)),
		h("stat", c(3), c(1), ptr, n, c(704), call(callStat)),
		h("link", c(3), c(0), ptr, n, c(3), c(hard), c(hardLen), call(callLink)),
		h("link-follow", c(3), c(1), ptr, n, c(3), c(hard), c(hardLen), call(callLink)),
		h("symlink", ptr, n, c(3), c(hard), c(hardLen), call(callSymlink)),
		h("mkdir", c(3), ptr, n, call(callMkdir)),
	)
	m.Imports = imports // function indices 0-5; cabi_realloc and the handlers follow
	data := make([]byte, hard+hardLen-512)
	binary.LittleEndian.PutUint32(data[4:], 600)
	binary.LittleEndian.PutUint32(data[8:], 4)
	copy(data[hard-512:], "hard")
	m.Data, m.DataOffset = data, 512
	return m.Bytes()
}

// loadWASIProbe loads wasiProbe on the host tree of fs_test.go with /data
// granted read-write.
func loadWASIProbe(t *testing.T) *fsHost {
	t.Helper()
	tmp := loadFSProbeTree(t)
	h := &fsHost{tmp: tmp, data: filepath.Join(tmp, "data"), ro: filepath.Join(tmp, "ro"), audit: &fsAudit{}}
	h.rt = newRuntime(t, runtime.NewConfig().WithAuditor(h.audit.record)).rt
	p, err := h.rt.LoadWithConfig(context.Background(), writePlugin(t, wasiProbeManifest, wasiProbe()),
		runtime.NewLoadConfig().WithGrants(capabilities.NewGrants().WithDir("/data", h.data, manifest.ReadWrite)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	h.p = p
	return h
}

func TestFS_RawWASI(t *testing.T) {
	h := loadWASIProbe(t)
	tests := []struct {
		name, fn, in string
		errno        uint32
		event        *capabilities.Event
	}{
		// fd_prestat_get: 0-2 are no preopened directories.
		{"prestat of stdin", "prestat", "\x00", errnoBADF, nil},
		{"prestat of stdout", "prestat", "\x01", errnoBADF, nil},
		{"prestat of stderr", "prestat", "\x02", errnoBADF, nil},
		{"prestat of /data", "prestat", "\x03", errnoSuccess, nil},
		{"prestat of /", "prestat", "\x04", errnoSuccess, nil},
		{"prestat past the preopens", "prestat", "\x05", errnoBADF, nil},
		// NUL: EINVAL from every path function, audited.
		{"open with NUL", "open", "hello.txt\x00x", errnoINVAL, fsEvent("open", `/data/hello.txt\x00x`, "path has a NUL byte")},
		{"open with a trailing NUL", "open", "hello.txt\x00", errnoINVAL, fsEvent("open", `/data/hello.txt\x00`, "path has a NUL byte")},
		{"stat with NUL", "stat", "\x00", errnoINVAL, fsEvent("stat", `/data/\x00`, "path has a NUL byte")},
		{"mkdir with NUL", "mkdir", "new\x00dir", errnoINVAL, fsEvent("mkdir", `/data/new\x00dir`, "path has a NUL byte")},
		{"open / with NUL", "open-root", "etc/passwd\x00", errnoINVAL, fsEvent("open", `/etc/passwd\x00`, "path has a NUL byte")},
		{"symlink to a target with NUL", "symlink", "hello.txt\x00", errnoINVAL, fsEvent("symlink", "/data/hard", "symlink target: path has a NUL byte")},
		// Not UTF-8: EILSEQ, audited as such (it was "path escapes mount").
		{"open not UTF-8", "open", "caf\xe9", errnoILSEQ, fsEvent("open", `/data/caf\xe9`, "path is not valid UTF-8")},
		{"stat not UTF-8", "stat", "\xff/..", errnoILSEQ, fsEvent("stat", `/data/\xff/..`, "path is not valid UTF-8")},
		{"mkdir not UTF-8", "mkdir", "\xc3", errnoILSEQ, fsEvent("mkdir", `/data/\xc3`, "path is not valid UTF-8")},
		{"symlink to a target not UTF-8", "symlink", "\xfe", errnoILSEQ, fsEvent("symlink", "/data/hard", "symlink target: path is not valid UTF-8")},
		// A granted path named through the "/" preopen.
		{"granted file through /", "open-root", "data/hello.txt", errnoACCES, fsEvent("open", "/data/hello.txt", "under mount /data, named through the / preopen")},
		{"granted mount through /", "open-root", "data", errnoACCES, fsEvent("open", "/data", "under mount /data, named through the / preopen")},
		{"a path next to the mount through /", "open-root", "database", errnoACCES, fsEvent("open", "/database", ruleOutside)},
		// ".." after a file, a missing name, a link.
		{"dot-dot after a file", "open", "hello.txt/..", errnoNOTDIR, nil},
		{"dot after a file", "stat", "hello.txt/.", errnoNOTDIR, nil},
		{"dot-dot after a missing name", "open", "nope/../hello.txt", errnoNOENT, nil},
		{"dot-dot after a link pointing out", "open", "dir-out/../hello.txt", errnoACCES, fsEvent("open", "/data/dir-out/../hello.txt", ruleEscapesData)},
		{"dot-dot after a directory", "open", "./././hello.txt/../hello.txt/..", errnoNOTDIR, nil},
		// path_link: the link itself, or its target with
		// LOOKUP_SYMLINK_FOLLOW; never a new outward link.
		{"hard link of a link pointing out, following it", "link-follow", "link-out", errnoACCES, fsEvent("link", "/data/link-out", ruleEscapesData)},
		{"hard link of a directory link pointing out, following it", "link-follow", "dir-out", errnoACCES, fsEvent("link", "/data/dir-out", ruleEscapesData)},
		{"hard link of a missing name, following it", "link-follow", "nope", errnoNOENT, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.audit.take()
			defer func() {
				_ = os.Remove(filepath.Join(h.data, "hard"))
				h.checkUntouched(t)
			}()
			out := h.call(t, tc.fn, tc.in)
			require.Len(t, out, 4)
			assert.Equal(t, tc.errno, binary.LittleEndian.Uint32([]byte(out)))
			var seen []capabilities.Event
			for _, ev := range h.audit.take() {
				assert.Equal(t, capabilities.KindFS, ev.Kind)
				assert.Equal(t, tc.fn, ev.Function)
				assert.False(t, ev.Allowed)
				seen = append(seen, capabilities.Event{Op: ev.Op, Resource: ev.Resource, Rule: ev.Rule})
			}
			if tc.event == nil {
				assert.Empty(t, seen)
			} else {
				assert.Equal(t, []capabilities.Event{*tc.event}, seen)
			}
			assert.Equal(t, []byte{errnoSuccess, 0, 0, 0}, []byte(h.call(t, "stat", "hello.txt")), "the next call works")
		})
	}
}

// TestFS_RawWASI_LinkFollow: with LOOKUP_SYMLINK_FOLLOW path_link links the
// file a link leads to, as linkat(AT_SYMLINK_FOLLOW); without it, the link
// itself.
func TestFS_RawWASI_LinkFollow(t *testing.T) {
	h := loadWASIProbe(t)
	require.NoError(t, os.Symlink("hello.txt", filepath.Join(h.data, "inner")))
	t.Cleanup(func() { _ = os.Remove(filepath.Join(h.data, "inner")) })
	errno := func(fn, in string) uint32 { return binary.LittleEndian.Uint32([]byte(h.call(t, fn, in))) }

	require.Equal(t, uint32(errnoSuccess), errno("link-follow", "inner"))
	fi, err := os.Lstat(filepath.Join(h.data, "hard"))
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular(), "the file, not the link")
	orig, err := os.Stat(filepath.Join(h.data, "hello.txt"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(orig, fi))
	assert.Equal(t, uint32(errnoEXIST), errno("link-follow", "inner"))
	require.NoError(t, os.Remove(filepath.Join(h.data, "hard")))

	require.Equal(t, uint32(errnoSuccess), errno("link", "inner"))
	fi, err = os.Lstat(filepath.Join(h.data, "hard"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, fi.Mode().Type(), "the link itself")
	require.NoError(t, os.Remove(filepath.Join(h.data, "hard")))
	assert.Empty(t, h.audit.take())
	h.checkUntouched(t)
}

// TestFS_RawWASI_DotDotThroughLink: a ".." after a link inside the mount is
// the parent of where the link leads, as on Linux, not the link's own
// directory (what wazero's lexical cleaning gave); a ".." that climbs above
// the mount lexically is refused before any mount sees it, even when the
// real resolution would stay inside (a known limit, docs/security.md).
func TestFS_RawWASI_DotDotThroughLink(t *testing.T) {
	h := loadWASIProbe(t)
	require.NoError(t, os.MkdirAll(filepath.Join(h.data, "a", "b"), 0o755))
	require.NoError(t, os.Symlink("a/b", filepath.Join(h.data, "l")))
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(h.data, "l"))
		_ = os.RemoveAll(filepath.Join(h.data, "a"))
	})
	errno := func(fn, in string) uint32 { return binary.LittleEndian.Uint32([]byte(h.call(t, fn, in))) }
	assert.Equal(t, uint32(errnoSuccess), errno("stat", "l/../b"), "a/b")
	assert.Equal(t, uint32(errnoNOENT), errno("stat", "l/../hello.txt"), "a/hello.txt")
	assert.Equal(t, uint32(errnoSuccess), errno("mkdir", "l/../c"))
	fi, err := os.Stat(filepath.Join(h.data, "a", "c"))
	require.NoError(t, err, "created in a, not in the mount's root")
	assert.True(t, fi.IsDir())
	assert.Empty(t, h.audit.take())

	assert.Equal(t, uint32(errnoACCES), errno("stat", "l/../.."))
	var seen []capabilities.Event
	for _, ev := range h.audit.take() {
		seen = append(seen, capabilities.Event{Op: ev.Op, Resource: ev.Resource, Rule: ev.Rule})
	}
	assert.Equal(t, []capabilities.Event{*fsEvent("stat", "/data/l/../..", ruleEscapesData)}, seen)
	h.checkUntouched(t)
}
