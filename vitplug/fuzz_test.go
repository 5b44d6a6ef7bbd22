package vitplug_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// FuzzOpen checks that Open never panics, that what it refuses is explained
// by exactly one sentinel and printable text, and that what it accepts
// writes back to an archive that opens to the same content.
func FuzzOpen(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(specDir, "*.vitplug"))
	require.NoError(f, err)
	interop, err := filepath.Glob("testdata/interop/*.vitplug")
	require.NoError(f, err)
	for _, file := range append(files, interop...) {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := vitplug.Limits{MaxSize: 8 << 20, MaxEntries: 1000}
		p, err := vitplug.Open(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			require.Nil(t, p)
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			require.Equal(t, 1, n, "%v wraps %d sentinels", err, n)
			text := err.Error()
			require.True(t, utf8.ValidString(text), "error text is not UTF-8: %q", text)
			for _, r := range text {
				require.False(t, r < 0x20 && r != '\n' || r == 0x7f, "error text has control characters: %q", text)
			}
			var ee *vitplug.EntryError
			if errors.As(err, &ee) {
				require.LessOrEqual(t, len(ee.Entry), 1<<16)
			}
			return
		}
		checkPackage(t, p)
	})
}

// FuzzOpenEntries builds well-formed ZIP archives around fuzzed entries,
// so that the fuzzer reaches the checks past the ZIP structure: names,
// types, methods, sizes, CHECKSUMS, the manifest. The properties are those
// of FuzzOpen.
func FuzzOpenEntries(f *testing.F) {
	f.Add(minimalManifest, "files/a.txt", []byte("a"), uint16(8), uint16(0), uint32(0o100644), int64(-1), true, "")
	f.Add(minimalManifest, "files/", []byte(nil), uint16(0), uint16(0), uint32(0o40755), int64(-1), true, "")
	f.Add(minimalManifest, "_vitte/signatures/"+keyID1+".minisig", []byte(sig1), uint16(8), uint16(0), uint32(0o100644), int64(-1), true, "")
	f.Add(minimalManifest, "files/link", []byte("/etc"), uint16(0), uint16(0), uint32(0o120777), int64(-1), true, "")
	f.Add(minimalManifest, "files/x", make([]byte, 1000), uint16(8), uint16(0), uint32(0o100644), int64(64<<20), true, "")
	f.Add(minimalManifest, "files/x", []byte("xyz"), uint16(8), uint16(1), uint32(0o100644), int64(1), false, "0000000000000000000000000000000000000000000000000000000000000000  files/x\n")
	f.Fuzz(func(t *testing.T, manifestText, name string, data []byte, method, flags uint16, mode uint32, usize int64, computeSums bool, sums string) {
		e := zent{name: name, data: data, store: method == 0, header: func(fh *zip.FileHeader) {
			if method != 0 && method != 8 {
				fh.Method = method
			}
			fh.Flags = flags &^ 0x8 // CreateRaw writes no data descriptor
			fh.ExternalAttrs = mode << 16
			if usize >= 0 {
				fh.UncompressedSize64 = uint64(usize) & 0xffffffff
			}
		}}
		if strings.HasSuffix(name, "/") {
			e.data, e.store = nil, true
		}
		es := []zent{file("plugin.toml", manifestText), {name: "hello.wasm", data: wasmHeader}, e}
		if computeSums {
			sums = checksums(es)
		}
		z := buildZip(t, append(es, file("_vitte/CHECKSUMS", sums))...)
		lim := vitplug.Limits{MaxSize: 8 << 20, MaxEntries: 1000}
		p, err := vitplug.Open(bytes.NewReader(z), int64(len(z)), lim)
		if err != nil {
			require.Nil(t, p)
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			require.Equal(t, 1, n, "%v wraps %d sentinels", err, n)
			require.True(t, utf8.ValidString(err.Error()))
			return
		}
		checkPackage(t, p)
	})
}
